/**
 * linux-6.1 buffered write on ext4 (delalloc), whole pages: ext4_buffered_write_iter
 * (fs/ext4/file.c:270, 6.1.192) takes inode_lock (279) around generic_perform_write
 * (mm/filemap.c:3862-3896), which for each page runs ext4_da_write_begin
 * (fs/ext4/inode.c:2989: grab_cache_page_write_begin → __filemap_get_folio(FGP_LOCK |
 * FGP_WRITE | FGP_CREAT): find or create the page, lock it, retry if it was truncated;
 * wait_for_stable_page; __block_write_begin(ext4_da_get_block_prep): a delayed-allocation
 * reservation, no read for a whole-page write), copy_page_from_iter_atomic, and
 * ext4_da_write_end → generic_write_end (fs/buffer.c:2158-2173: block_write_end marks the
 * page uptodate and dirty; `if (pos + copied > inode->i_size) i_size_write()`; unlock_page;
 * put_page). The write's data is a new version of each page (data.ts); it has returned —
 * a read starting later must see it — when inode_unlock has run. No block is allocated
 * here: writeback allocates it (the model's writeback writes a page's data to its block,
 * allocating one for a hole).
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc, type Program, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE } from '../../state.js';
import { floorAcc, ilockLoc, pageRangeArgs } from '../../kernel/lib.js';
import { getFolioCreat, inodeLock, inodeUnlock } from '../../kernel/pagecache.js';
import { tagText } from '../../data.js';
import { ghost, marked, notOnThisPath } from '../../kernel/marks.js';
import { uptodateBit } from './read.js';
import { folioLock, folioMapping, folioPut, folioUnlock, iSizeWrite, rwsemLock, rwsemUnlock, speculativeGet } from '../../kernel/marks6.js';

// The LKMM marks of the buffered write (explore --memory-model lkmm; kernel/marks6.ts), 6.1.192.
const GF = 'mm/filemap.c __filemap_get_folio() 6.1.192';
const WE = 'fs/buffer.c generic_write_end() 6.1.192';
const isLoc = (a: Access, suffix: string) => a.loc.endsWith(suffix);

/**
 * __filemap_get_folio's lookup of a cached folio: mapping_get_entry (mm/filemap.c:1943, the
 * speculative get of mm/filemap.c:1881-1895). A miss allocates (never derived): unmarked.
 */
function hitMarked(step: StepDef): StepDef {
  const acc = step.acc!;
  return {
    ...step,
    acc: (c) => {
      const file = c.num('file');
      const index = c.num('index');
      const a = acc(c);
      if (c.lookup(file, index) === NONE) return a;
      return speculativeGet(
        c,
        file,
        index,
        a.find((x) => isLoc(x, '.refcount')),
        `${GF}: mapping_get_entry(mapping, index) (mm/filemap.c:1943, 1881-1895)`,
      );
    },
  };
}

/**
 * __filemap_get_folio(FGP_LOCK) on a cached folio (mm/filemap.c:1959-1967): folio_lock, then
 * `if (unlikely(folio->mapping != mapping))`; a truncated folio is unlocked and put in the
 * same step, which has no access of its own for the unlock: there the lock stays unmarked.
 */
function lockMarks(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  const truncated = c.page(pfn).mapping !== c.num('file');
  if (a.lock === 'acquire') return truncated ? a : folioLock(a, `${GF}: folio_lock(folio) (mm/filemap.c:1959)`);
  if (isLoc(a, '.mapping')) return folioMapping(c, a, pfn, `${GF}: if (unlikely(folio->mapping != mapping)) (mm/filemap.c:1963)`);
  return truncated ? folioPut(c, a, pfn, `${GF}: folio_put(folio) (mm/filemap.c:1965)`) : notOnThisPath(a, 'the folio is ours');
}

/**
 * The copy and block_write_end → __block_commit_write (fs/buffer.c:2064-2081): the contents
 * are unmarked (page contents, docs/memory-model.md); SetPageUptodate = folio_mark_uptodate:
 * smp_wmb(); set_bit (include/linux/page-flags.h:752-753); mark_buffer_dirty's
 * TestSetPageDirty (fs/buffer.c:1102), fully ordered, with __set_page_dirty's xarray dirty
 * tag the model folds into the flag, is left unmarked (smp_mb() in a derived test, no test
 * when shared); the file's disk here is the write's data generation (data.ts mintWrite), no
 * kernel access: ext4_da_get_block_prep only reserves.
 */
function copyMarks(c: Ctx, a: Access): Access {
  if (isLoc(a, '.flags.uptodate')) {
    return lk(
      a,
      'set_bit',
      uptodateBit(c),
      'fs/buffer.c __block_commit_write() 6.1.192: SetPageUptodate(page) (fs/buffer.c:2081) → folio_mark_uptodate(): smp_wmb(); set_bit(PG_uptodate) (include/linux/page-flags.h:752-753)',
      { before: ['smp_wmb'] },
    );
  }
  if (a.loc === `${c.M(c.num('file'))}.disk`)
    return ghost(
      a,
      "the write's data generation (data.ts), declared as its file's disk: __block_write_begin(ext4_da_get_block_prep) reserves, it writes no block",
    );
  return a;
}

/** generic_write_end (fs/buffer.c:2167-2173): `if (pos + copied > inode->i_size)` (plain C), i_size_write, unlock_page, put_page. */
function endMarks(c: Ctx, a: Access): Access {
  const file = c.num('file');
  const pfn = c.num('pfn');
  if (isLoc(a, '.i_size') && a.mode === 'read')
    return lk(
      a,
      'plain-read',
      c.map(file).isize,
      `${WE}: if (pos + copied > inode->i_size) (fs/buffer.c:2167; ext4_da_write_end's own test, fs/ext4/inode.c:3121, reads it too), plain C`,
    );
  if (isLoc(a, '.i_size')) return iSizeWrite(a, (c.num('index') + 1) * PAGE_SIZE, `${WE}: i_size_write(inode, pos + copied) (fs/buffer.c:2168)`);
  if (a.lock === 'release') return folioUnlock(a, `${WE}: unlock_page(page) (fs/buffer.c:2172) → folio_unlock()`);
  return folioPut(c, a, pfn, `${WE}: put_page(page) (fs/buffer.c:2173)`);
}

const EW = 'fs/ext4/file.c ext4_buffered_write_iter() 6.1.192';

export const ext4BufferedWrite61: Proc = {
  fn: 'ext4_buffered_write_iter',
  where: 'fs/ext4/file.c',
  entry: 'ilock',
  steps: {
    ilock: marked(
      inodeLock(
        'inode_lock(inode); inode_dio_wait(inode); ext4_write_checks()',
        () => false,
        (c) => c.goto('begin'),
      ),
      (_c, a) => rwsemLock(a, `${EW}: inode_lock(inode) (fs/ext4/file.c:279)`),
    ),
    // FGP_LOCK: a created folio stays locked (filemap_add_folio inserted it so); a found one is locked next
    begin: hitMarked(
      getFolioCreat(
        'generic_perform_write: ext4_da_write_begin(): page = grab_cache_page_write_begin(mapping, index) [__filemap_get_folio(FGP_LOCK|FGP_WRITE|FGP_CREAT)]',
        'lock',
        'copy',
      ),
    ),
    lock: marked(
      {
        label: 'folio_lock(folio); if (unlikely(folio->mapping != mapping)) { folio_unlock(folio); folio_put(folio); goto repeat; }',
        where: 'mm/filemap.c __filemap_get_folio()',
        acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`), r(`${c.P(c.num('pfn'))}.mapping`), w(`${c.P(c.num('pfn'))}.refcount`)],
        block: (c) => c.pageLockHeld(c.num('pfn')),
        run: (c) => {
          const pfn = c.num('pfn');
          c.lockPage(pfn);
          if (c.page(pfn).mapping !== c.num('file')) {
            c.effect(`pfn${pfn} got truncated: repeat`);
            c.unlockPage(pfn);
            c.ref(pfn, -1);
            c.set('pfn', NONE);
            c.goto('begin');
            return;
          }
          c.goto('copy');
        },
      },
      lockMarks,
    ),
    copy: marked(
      {
        label:
          'wait_for_stable_page(); __block_write_begin(page, pos, len, ext4_da_get_block_prep); copy_page_from_iter_atomic(); block_write_end(): SetPageUptodate(), mark_buffer_dirty → the page is dirty',
        where: 'mm/filemap.c generic_perform_write()',
        acc: (c) => {
          const P = c.P(c.num('pfn'));
          return [w(`${P}.data`), w(`${P}.flags.uptodate`), w(`${P}.flags.dirty`), w(`${c.M(c.num('file'))}.disk`)];
        },
        run: (c) => {
          const pfn = c.num('pfn');
          const tag = c.mintWrite(c.num('file'), c.num('index'));
          c.updPage(pfn, { data: tag });
          c.effect(`write() copies ${tagText(tag)} into pfn${pfn}`);
          c.setFlag(pfn, 'uptodate', true);
          c.setFlag(pfn, 'dirty', true);
          c.goto('end');
        },
      },
      copyMarks,
    ),
    end: marked(
      {
        label: 'generic_write_end(): if (pos + copied > inode->i_size) i_size_write(inode, pos + copied); unlock_page(page); put_page(page)',
        where: 'fs/buffer.c generic_write_end()',
        acc: (c) => [
          r(`${c.M(c.num('file'))}.i_size`),
          ...((c.num('index') + 1) * PAGE_SIZE > c.map(c.num('file')).isize ? [w(`${c.M(c.num('file'))}.i_size`)] : []),
          release(`lock:${c.P(c.num('pfn'))}`),
          w(`${c.P(c.num('pfn'))}.refcount`),
        ],
        run: (c) => {
          const file = c.num('file');
          const pfn = c.num('pfn');
          const pos = (c.num('index') + 1) * PAGE_SIZE;
          const old = c.map(file).isize;
          if (pos > old) {
            c.updMap(file, { isize: pos }, `i_size ${old}→${pos}`);
            c.op({ kind: 'isize_set', file: c.fileRef(file), size: BigInt(pos) });
          }
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          c.set('pfn', NONE);
          if (c.num('index') < c.num('last')) {
            c.set('index', c.num('index') + 1);
            c.goto('begin');
          } else c.goto('iunlock');
        },
      },
      endMarks,
    ),
    iunlock: {
      label: 'inode_unlock(inode); return written',
      acc: (c) => [
        ghost(floorAcc(c, c.num('file')), 'the stale-data judgement: a read starting later must see this write'),
        rwsemUnlock(release(ilockLoc(c, c.num('file'))), `${EW}: inode_unlock(inode) (fs/ext4/file.c:296)`),
      ],
      run: (c) => {
        c.writesReturned();
        inodeUnlock(c);
        c.ret(c.num('length'));
      },
    },
  },
};

export const writeProgram: Program = {
  proc: 'ext4_buffered_write_iter',
  description: 'a buffered write() of whole pages (args: file, offset, length in bytes, page aligned)',
  start: (a, env) => {
    const l = pageRangeArgs(a, env, 'writes');
    return { ...l, index: l.first!, pfn: NONE };
  },
};
