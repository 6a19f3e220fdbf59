/**
 * linux-6.1 hole punch as ext4 does it: fallocate(FALLOC_FL_PUNCH_HOLE) → ext4_punch_hole
 * (fs/ext4/inode.c:4026, 6.1.192): write back the range (4045), inode_lock (4051), nothing
 * past i_size (4054-4064: a hole at or past EOF is not punched, one that reaches past it ends
 * after the page holding i_size), filemap_invalidate_lock (4098), truncate_pagecache_range (4112; mm/truncate.c:869: unmap
 * the range without even_cows, then truncate_inode_pages_range), remove the blocks
 * (ext4_ext_remove_space, 4150: from here a read of the range gets zeros),
 * filemap_invalidate_unlock (4171), inode_unlock. Page-aligned ranges only.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc, type Program } from '../../program.js';
import { NONE, PAGE_SIZE } from '../../state.js';
import { floorAcc, ilockLoc, pageRangeArgs, dropInvalidateLock, takeInvalidateLock } from '../../kernel/lib.js';
import { callUnmap } from '../../kernel/unmap.js';
import { inodeLock, inodeUnlock } from '../../kernel/pagecache.js';
import { writebackStart } from '../../kernel/writeback.js';
import { writeback61 } from './writeback.js';
import { ghost, marked } from '../../kernel/marks.js';
import { iSizeRead, rwsemLock, rwsemUnlock } from '../../kernel/marks6.js';
import { markCleanWriteback } from './odirect.js';
import { partialLocals } from './truncate.js';

// The LKMM marks of the hole punch (explore --memory-model lkmm; kernel/marks6.ts), 6.1.192:
// the unmap and truncate_inode_pages_range are marked where they are defined; the blocks
// freed (the block map, M0.disk) stay unmarked.
const PH = 'fs/ext4/inode.c ext4_punch_hole() 6.1.192';

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

export const ext4PunchHole61: Proc = {
  fn: 'ext4_punch_hole',
  where: 'fs/ext4/inode.c',
  entry: 'wb',
  steps: {
    wb: marked(
      writebackStart(writeback61, 'filemap_write_and_wait_range(mapping, offset, offset + length - 1)', 'ilock', (c) => [c.num('first'), c.num('last')], {
        syncAll: true,
      }),
      (c, a) =>
        markCleanWriteback(
          c,
          a,
          c.num('file'),
          `${PH}: filemap_write_and_wait_range(mapping, offset, offset + length - 1) (fs/ext4/inode.c:4045) → __filemap_fdatawrite_range()`,
        ),
    ),
    // fs/ext4/inode.c:4051-4064 (6.1.192): under the inode lock, `if (offset >= inode->i_size)
    // goto out_mutex;` and a hole reaching past i_size ends after the page that holds i_size:
    // `length = inode->i_size + PAGE_SIZE - (inode->i_size & (PAGE_SIZE - 1)) - offset`. Every
    // i_size writer of the model holds the inode lock, so the value read here is the one the
    // lock was taken with: the reads go with the acquire.
    ilock: marked(
      inodeLock(
        'inode_lock(inode); if (offset >= inode->i_size) goto out_mutex; if (offset + length > inode->i_size) length = inode->i_size + PAGE_SIZE - (inode->i_size & (PAGE_SIZE - 1)) - offset',
        () => false,
        (c) => {
          const isize = c.map(c.num('file')).isize;
          if (c.num('offset') >= isize) {
            c.effect(`offset ${c.num('offset')} >= i_size ${isize}: nothing to punch`);
            c.goto('iunlock');
            return;
          }
          if (c.num('offset') + c.num('length') > isize) {
            const length = isize + PAGE_SIZE - (isize % PAGE_SIZE) - c.num('offset');
            c.set('length', length);
            c.set('last', (c.num('offset') + length) / PAGE_SIZE - 1);
          }
          c.goto('invlock');
        },
        undefined,
        (c) => [r(`${c.M(c.num('file'))}.i_size`)],
      ),
      (c, a) =>
        a.lock === 'acquire'
          ? rwsemLock(a, `${PH}: inode_lock(inode) (fs/ext4/inode.c:4051)`)
          : iSizeRead(c, a, c.num('file'), `${PH}: if (offset >= inode->i_size) (fs/ext4/inode.c:4054), plain C`),
    ),
    invlock: marked(
      {
        label: 'filemap_invalidate_lock(mapping)',
        acc: (c) => [acquire(invLockLoc(c))],
        block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, invLockLoc(c)),
        run: (c) => {
          const file = c.num('file');
          takeInvalidateLock(c, file, false);
          c.goto('unmap');
        },
      },
      (_c, a) => rwsemLock(a, `${PH}: filemap_invalidate_lock(mapping) (fs/ext4/inode.c:4098)`),
    ),
    unmap: {
      label: 'truncate_pagecache_range(): unmap_mapping_range(mapping, unmap_start, 1 + unmap_end - unmap_start, 0)',
      where: 'mm/truncate.c truncate_pagecache_range()',
      run: (c) => callUnmap(c, 'unmap_mapping_pages', c.num('file'), c.num('first'), c.num('last'), false, 'pages'),
    },
    pages: {
      label: 'truncate_pagecache_range(): truncate_inode_pages_range(mapping, lstart, lend)',
      where: 'mm/truncate.c truncate_pagecache_range()',
      run: (c) =>
        c.call(
          'truncate_inode_pages_range',
          'lookup1',
          {
            file: c.num('file'),
            start: c.num('first'),
            end: c.num('last'),
            index: c.num('first'),
            batch: [],
            j: 0,
            pfn: NONE,
            // the range is page aligned (4 KiB blocks): lstart = first_block_offset, lend = last_block_offset (fs/ext4/inode.c:4104-4105)
            ...partialLocals(c.num('first') * PAGE_SIZE, (c.num('last') + 1) * PAGE_SIZE - 1),
          },
          'remove',
        ),
    },
    remove: {
      label: 'ext4_ext_remove_space(inode, first_block, stop_block - 1): the blocks are freed, the range reads zeros',
      where: 'fs/ext4/extents.c ext4_ext_remove_space()',
      acc: (c) => [w(`${c.M(c.num('file'))}.disk`)],
      run: (c) => {
        c.zeroRange(c.num('file'), c.num('first'), c.num('last'), true);
        c.goto('invunlock');
      },
    },
    invunlock: marked(
      {
        label: 'filemap_invalidate_unlock(mapping)',
        acc: (c) => [release(invLockLoc(c))],
        run: (c) => {
          const file = c.num('file');
          dropInvalidateLock(c, file, false);
          c.goto('iunlock');
        },
      },
      (_c, a) => rwsemUnlock(a, `${PH}: filemap_invalidate_unlock(mapping) (fs/ext4/inode.c:4171)`),
    ),
    iunlock: {
      label: 'inode_unlock(inode); return 0',
      acc: (c) => [
        ghost(floorAcc(c, c.num('file')), 'the stale-data judgement: a read starting later must see the punch'),
        rwsemUnlock(release(ilockLoc(c, c.num('file'))), `${PH}: inode_unlock(inode) (fs/ext4/inode.c:4173)`),
      ],
      run: (c) => {
        c.writesReturned();
        inodeUnlock(c);
        c.ret(0);
      },
    },
  },
};

export const punchHoleProgram: Program = {
  proc: 'ext4_punch_hole',
  description: 'fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) of whole pages (args: file, offset, length in bytes, page aligned)',
  start: (a, env) => pageRangeArgs(a, env, 'punches'),
};
