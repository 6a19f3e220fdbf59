/**
 * Hole punching as ext4 does it on 6.12 (fallocate(FALLOC_FL_PUNCH_HOLE)): ext4_fallocate
 * takes filemap_invalidate_lock (fs/ext4/extents.c:4821) around ext4_punch_hole
 * (fs/ext4/inode.c:4015), which empties the page cache over the range
 * (ext4_truncate_page_cache_block_range → truncate_pagecache_range, fs/ext4/inode.c:3970,
 * mm/truncate.c:843-866: unmap_mapping_range without even_cows, then
 * truncate_inode_pages_range) and then removes the range's blocks from the extent tree
 * (ext4_es_remove_extent + ext4_ext_remove_space, fs/ext4/inode.c:4095-4101). A page that a
 * read or fault filled from those blocks in between holds data the file no longer has (rule
 * stale-data); the invalidate_lock, taken shared by every path that adds pages
 * (730633f0b7f9), is what keeps them out.
 *
 * 730633f0b7f9's read side is the builder's option `readInvalidateLock`: without it
 * filemap_create_folio and filemap_update_page add and read folios without the lock, as
 * 5.14's filemap_read did (ext4's faults were already serialised by its own i_mmap_sem,
 * which 730633f0b7f9 turned into the invalidate_lock, so the fault keeps the lock).
 */
import type { Ctx } from '../../ctx.js';
import { staleAfterPunch } from '../../invariants.js';
import { ArgError, acquire, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE, type Locals } from '../../state.js';
import type { Env } from '../../env.js';
import { fileArg, readIoAcc, dropInvalidateLock, takeInvalidateLock, withinFile } from '../../kernel/lib.js';
import { callUnmap } from '../../kernel/unmap.js';
import { inodeLock, inodeUnlock } from '../../kernel/pagecache.js';
import { marked } from '../../kernel/marks.js';
import { rwsemLock } from '../../kernel/marks6.js';
import { V612, iSizePlain612 } from '../../kernel/marks612.js';
import { filemapRead61 } from '../linux-6.1/read.js';
import { truncateLocals } from './truncate.js';

const ilockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

/** punch_hole: `{ file, offset, length }` in bytes, page aligned. */
export function punchArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  for (const k of Object.keys(args))
    if (!['file', 'offset', 'length'].includes(k)) throw new ArgError(k, `unknown argument ${k} (this program takes: file, offset, length)`);
  const num = (k: string) => {
    const v = args[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v % PAGE_SIZE !== 0)
      throw new ArgError(k, `argument ${k} must be a multiple of ${PAGE_SIZE} bytes`);
    return v;
  };
  const offset = num('offset');
  const length = num('length');
  if (length === 0) throw new ArgError('length', 'length must be at least one page');
  withinFile('length', offset + length);
  return { file: fileArg(args, env), offset, length, first: offset / PAGE_SIZE, last: (offset + length) / PAGE_SIZE - 1 };
}

/** Pages cached in [first, last]. */
function cachedIn(c: Ctx): number[] {
  const out: number[] = [];
  for (let ix = c.num('first'); ix <= c.num('last'); ix++) {
    const pfn = c.lookup(c.num('file'), ix);
    if (pfn !== NONE && !out.includes(pfn)) out.push(pfn);
  }
  return out;
}

/** Uptodate pages cached in [first, last]: read from the blocks being freed. */
function staleIn(c: Ctx): number[] {
  const out: number[] = [];
  for (let ix = c.num('first'); ix <= c.num('last'); ix++) {
    const pfn = c.lookup(c.num('file'), ix);
    if (pfn !== NONE && c.testFlag(pfn, 'uptodate') && !out.includes(pfn)) out.push(pfn);
  }
  return out;
}

/** Where each step of a hole punch is, per filesystem. */
const PUNCH_WHERE = {
  ext4: {
    fn: 'ext4_punch_hole',
    file: 'fs/ext4/inode.c',
    inode: ['ext4_fallocate: inode_lock(inode); inode_dio_wait(inode); file_modified(file)', 'fs/ext4/extents.c:4799-4809 ext4_fallocate()'],
    ilock: ['ext4_fallocate: filemap_invalidate_lock(mapping); ext4_break_layouts(inode)', 'fs/ext4/extents.c:4821-4823 ext4_fallocate()'],
    unmap: [
      'ext4_truncate_page_cache_block_range() → truncate_pagecache_range(): unmap_mapping_range(mapping, unmap_start, 1 + unmap_end - unmap_start, 0)',
      'mm/truncate.c:843-863 truncate_pagecache_range()',
    ],
    blocks: [
      "ext4_es_remove_extent(inode, start_lblk, hole_len); ext4_ext_remove_space(inode, start_lblk, end_lblk - 1): the range's blocks are freed",
      'fs/ext4/inode.c:4095-4101 ext4_punch_hole()',
    ],
    unlock: [
      'ext4_fallocate: out_invalidate_lock: filemap_invalidate_unlock(mapping); out_inode_lock: inode_unlock(inode)',
      'fs/ext4/extents.c:4838-4841 ext4_fallocate()',
    ],
  },
  xfs: {
    fn: 'xfs_free_file_space',
    file: 'fs/xfs/xfs_bmap_util.c',
    inode: [
      'xfs_file_fallocate: xfs_ilock(ip, XFS_IOLOCK_EXCL | XFS_MMAPLOCK_EXCL): down_write(&VFS_I(ip)->i_rwsem) /* XFS_IOLOCK */',
      'fs/xfs/xfs_file.c:1093 xfs_file_fallocate(), fs/xfs/xfs_inode.c:147-149 xfs_ilock()',
    ],
    ilock: [
      'xfs_ilock(): down_write(&VFS_I(ip)->i_mapping->invalidate_lock) /* XFS_MMAPLOCK */; xfs_break_layouts(); inode_dio_wait(inode)',
      'fs/xfs/xfs_inode.c:155-157 xfs_ilock(), fs/xfs/xfs_file.c:1094-1105 xfs_file_fallocate()',
    ],
    unmap: [
      'xfs_free_file_space → xfs_flush_unmap_range(): truncate_pagecache_range(): unmap_mapping_range(mapping, unmap_start, 1 + unmap_end - unmap_start, 0)',
      'fs/xfs/xfs_bmap_util.c:807-828 xfs_flush_unmap_range()',
    ],
    blocks: [
      "while (!done) xfs_unmap_extent(ip, startoffset_fsb, endoffset_fsb - startoffset_fsb, &done): the range's blocks are freed",
      'fs/xfs/xfs_bmap_util.c:870-880 xfs_free_file_space()',
    ],
    unlock: [
      'xfs_file_fallocate: out_unlock: xfs_iunlock(ip, iolock): up_write(invalidate_lock); up_write(i_rwsem)',
      'fs/xfs/xfs_file.c:1138-1139 xfs_file_fallocate()',
    ],
  },
} as const;

/** ext4_punch_hole: `if (offset >= inode->i_size ...) return 0` (fs/ext4/inode.c:4037). */
const pastEof = (c: Ctx) => c.num('offset') >= c.map(c.num('file')).isize;

/** The hole punch of `fs` (ext4: ext4_fallocate → ext4_punch_hole; xfs: xfs_file_fallocate → xfs_free_file_space). */
function punchHole612(fs: keyof typeof PUNCH_WHERE): Proc {
  const W = PUNCH_WHERE[fs];
  return {
    fn: W.fn,
    where: W.file,
    entry: 'inode',
    steps: {
      inode: marked(
        inodeLock(
          W.inode[0],
          () => false,
          (c) => c.goto('ilock'),
          W.inode[1],
        ),
        (_c, a) => rwsemLock(a, `${W.inode[1]} ${V612}: down_write(&inode->i_rwsem)`),
      ),
      ilock: {
        label: W.ilock[0],
        where: W.ilock[1],
        acc: (c) => [acquire(ilockLoc(c))],
        block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, ilockLoc(c)),
        run: (c) => {
          const file = c.num('file');
          takeInvalidateLock(c, file, false);
          c.goto('unmap');
        },
      },
      unmap: {
        label: (c) =>
          fs === 'ext4'
            ? `if (offset >= inode->i_size) return 0; if (end > inode->i_size) end = round_up(inode->i_size, PAGE_SIZE) (fs/ext4/inode.c:4037-4045); ${pastEof(c) ? 'return 0' : W.unmap[0]}`
            : W.unmap[0],
        where: W.unmap[1],
        // ext4_punch_hole's plain reads of i_size, under the inode lock that every i_size writer here holds
        ...(fs === 'ext4'
          ? {
              acc: (c: Ctx) => [
                iSizePlain612(
                  c,
                  r(`${c.M(c.num('file'))}.i_size`),
                  c.num('file'),
                  `fs/ext4/inode.c ext4_punch_hole() ${V612}: if (offset >= inode->i_size || offset >= max_end) (fs/ext4/inode.c:4037)`,
                ),
              ],
            }
          : {}),
        run: (c) => {
          if (fs === 'ext4') {
            if (pastEof(c)) {
              c.effect('offset >= i_size: nothing to punch');
              c.goto('unlock_none');
              return;
            }
            const last = Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE) - 1;
            if (last < c.num('last')) {
              c.set('last', last);
              c.set('length', (last + 1) * PAGE_SIZE - c.num('offset'));
            }
          }
          c.op({ kind: 'truncate_begin', fn: 'truncate_inode_pages_range', file: c.fileRef(c.num('file')), start: c.num('first'), end: c.num('last') });
          callUnmap(c, 'unmap_mapping_pages', c.num('file'), c.num('first'), c.num('last'), false, 'pages');
        },
      },
      pages: {
        label: 'truncate_inode_pages_range(mapping, lstart, lend)',
        where: 'mm/truncate.c:864 truncate_pagecache_range()',
        run: (c) =>
          c.call('truncate_inode_pages_range', 'lookup1', truncateLocals(c.num('file'), c.num('offset'), c.num('offset') + c.num('length') - 1), 'blocks'),
      },
      blocks: {
        label: W.blocks[0],
        where: W.blocks[1],
        acc: (c) => [r(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.disk`), ...cachedIn(c).map((p) => r(`${c.P(p)}.flags.uptodate`))],
        run: (c) => {
          c.effect(`${c.M(c.num('file'))}[${c.num('first')}..${c.num('last')}] blocks freed`);
          c.judge(staleAfterPunch(c.env, c.state, c.num('file'), c.num('first'), c.num('last'), staleIn(c)));
          c.goto('unlock');
        },
      },
      unlock: unlockStep(W.unlock, true),
      // ext4_punch_hole returned 0 before truncate_pagecache_range: no truncate_inode_pages_range ran
      unlock_none: unlockStep(W.unlock, false),
    },
  };
}

/** The punch returns: the invalidate_lock and the inode lock go (`op`: the truncate_inode_pages_range it ran ends). */
function unlockStep(w: readonly [string, string], op: boolean): StepDef {
  return {
    label: w[0],
    where: w[1],
    acc: (c) => [release(ilockLoc(c)), release(`${c.M(c.num('file'))}.inode_lock`)],
    run: (c) => {
      const file = c.num('file');
      dropInvalidateLock(c, file, false);
      inodeUnlock(c);
      if (op) c.op({ kind: 'truncate_end', fn: 'truncate_inode_pages_range', file: c.fileRef(file), ret: 0 });
      c.ret(0);
    },
  };
}

export const ext4PunchHole612 = punchHole612('ext4');
export const xfsFreeFileSpace612 = punchHole612('xfs');

/** vfs_fallocate(FALLOC_FL_PUNCH_HOLE) → file->f_op->fallocate: the file's filesystem decides. */
export const vfsFallocate612: Proc = {
  fn: 'vfs_fallocate',
  where: 'fs/open.c',
  entry: 'fallocate',
  steps: {
    fallocate: {
      label: 'ret = file->f_op->fallocate(file, mode, offset, len)',
      where: 'fs/open.c:333 vfs_fallocate()',
      run: (c) => {
        const fs = c.env.files[c.num('file')]!.fs;
        if (fs !== 'ext4' && fs !== 'xfs') {
          c.effect(`no hole punch modelled for ${fs}: -EOPNOTSUPP`);
          c.ret(-95);
          return;
        }
        c.call(fs === 'ext4' ? 'ext4_punch_hole' : 'xfs_free_file_space', 'inode', c.l, 'done');
      },
    },
    done: { label: 'return ret', where: 'fs/open.c:333 vfs_fallocate()', run: (c) => c.ret(c.num('rv')) },
  },
};

/**
 * filemap_read without 730633f0b7f9's invalidate_lock (5.14's read path): filemap_create_page
 * adds and reads the folio, filemap_update_page locks and reads it, neither under the lock.
 */
export function filemapReadNoInvalidateLock(): Proc {
  const s = filemapRead61.steps;
  const create: StepDef = {
    label: 'filemap_create_page(): page = page_cache_alloc(mapping); add_to_page_cache_lru(page, mapping, index) /* 5.14: no invalidate_lock */',
    where: 'mm/filemap.c filemap_create_page() (before 730633f0b7f9)',
    acc: (c) => [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), w('alloc')],
    run: (c) => {
      const file = c.num('file');
      const index = c.num('index');
      if (c.lookup(file, index) !== NONE) {
        c.effect('-EEXIST: retry the lookup');
        c.goto('get');
        return;
      }
      const pfn = c.allocPage();
      c.addToCache(file, index, pfn);
      c.set('pfn', pfn);
      c.goto('readio');
    },
  };
  const readio: StepDef = {
    label: 'filemap_read_page(): I/O done, SetPageUptodate(); unlock_page()',
    where: 'mm/filemap.c filemap_read_page() (before 730633f0b7f9)',
    acc: (c) => [w(`${c.P(c.num('pfn'))}.flags.uptodate`), ...readIoAcc(c, c.num('pfn'), c.num('file')), release(`lock:${c.P(c.num('pfn'))}`)],
    run: (c) => {
      const pfn = c.num('pfn');
      c.setFlag(pfn, 'uptodate', true);
      c.unlockPage(pfn);
      c.goto('copy');
    },
  };
  const update: StepDef = {
    label: 'filemap_update_page() /* 5.14: no invalidate_lock */',
    where: 'mm/filemap.c filemap_update_page() (before 730633f0b7f9)',
    run: (c) => c.goto('update_lock'),
  };
  const updateLock: StepDef = {
    label: 'lock_page(page); if (!page->mapping) goto truncated; if (filemap_range_uptodate()) goto unlock',
    where: 'mm/filemap.c filemap_update_page() (before 730633f0b7f9)',
    acc: (c) => [
      acquire(`lock:${c.P(c.num('pfn'))}`),
      r(`${c.P(c.num('pfn'))}.mapping`),
      r(`${c.P(c.num('pfn'))}.flags.uptodate`),
      w(`${c.P(c.num('pfn'))}.refcount`),
    ],
    block: (c) => c.pageLockHeld(c.num('pfn')),
    run: (c) => {
      const pfn = c.num('pfn');
      c.lockPage(pfn);
      const p = c.page(pfn);
      if (p.mapping === NONE) {
        c.unlockPage(pfn);
        c.ref(pfn, -1);
        c.goto('get');
        return;
      }
      if (c.testFlag(pfn, 'uptodate')) {
        c.unlockPage(pfn);
        c.goto('copy');
        return;
      }
      c.goto('readio');
    },
  };
  return { ...filemapRead61, steps: { ...s, create, readio, update, update_lock: updateLock } };
}
