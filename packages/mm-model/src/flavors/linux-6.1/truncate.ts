/**
 * linux-6.1 truncate as ext4_setattr does it: filemap_invalidate_lock (exclusive) around
 * truncate_setsize → i_size_write + truncate_pagecache: unmap_mapping_range(even_cows),
 * truncate_inode_pages_range (find_lock_entries batches: truncate_cleanup_folio unmaps a
 * still-mapped folio, then delete_from_page_cache_batch; then the partial folios at lstart and
 * lend, each looked up and locked; then a lock-and-remove pass that repeats until nothing is
 * left), unmap_mapping_range again for private COWed pages.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE, PG, folioNr } from '../../state.js';
import {
  END,
  PAGEVEC_SIZE_6_1,
  floorAcc,
  gangLookup,
  ilockLoc,
  lookupAcc,
  pagesFrom,
  putAll,
  removeAcc,
  dropInvalidateLock,
  takeInvalidateLock,
} from '../../kernel/lib.js';
import { inodeLock, inodeUnlock } from '../../kernel/pagecache.js';
import { truncateReturnAcc } from '../linux-2.6.15/truncate.js';
import { callUnmap } from '../../kernel/unmap.js';
import { callFindLockEntries } from './invalidate.js';
import { folio, nextFolio, takeBatch } from '../../kernel/batch.js';
import { lockRecheckStep, type LockRecheckKernel } from '../../kernel/lock-folio.js';
import { ghost, marked } from '../../kernel/marks.js';
import {
  deleteMarks,
  flagTestOrStore,
  folioFlag,
  folioLock,
  folioMapped,
  folioMapping,
  folioPut,
  folioUnlock,
  iSizeRead,
  iSizeWrite,
  rwsemLock,
  rwsemUnlock,
  speculativeGet,
  xaFindMarks,
} from '../../kernel/marks6.js';

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;
const SETATTR = 'fs/ext4/inode.c ext4_setattr() 6.1.192';
const TIPR = 'mm/truncate.c truncate_inode_pages_range() 6.1.192';
const TCF = 'mm/truncate.c truncate_cleanup_folio() 6.1.192';
const TIPF = 'mm/truncate.c truncate_inode_partial_folio() 6.1.192';
const GF = 'mm/filemap.c __filemap_get_folio() 6.1.192';

/** do_truncate's inode_lock (i_rwsem) taken: an rw_semaphore, a spin lock in the LKMM (marks6.ts). */
const ilockMarked = (s: StepDef): StepDef =>
  marked(s, (_c, a) => (a.lock === 'acquire' ? rwsemLock(a, 'fs/open.c do_truncate() 6.1.192: inode_lock(dentry->d_inode)') : a));

export const truncateSetsize61: Proc = {
  fn: 'truncate_setsize',
  where: 'mm/truncate.c',
  entry: 'ilock',
  steps: {
    // fs/open.c do_truncate(): inode_lock(dentry->d_inode) around notify_change → ext4_setattr.
    ilock: ilockMarked(
      inodeLock(
        'do_truncate: inode_lock(dentry->d_inode)',
        () => false,
        (c) => c.goto('invlock'),
        'fs/open.c do_truncate()',
      ),
    ),
    invlock: {
      // fs/ext4/inode.c:5624 (6.1.192): `filemap_invalidate_lock(inode->i_mapping);` — taken
      // for every size change (after the `if (shrink)` block of 5610-5622 that waits for DIO).
      label: 'ext4_setattr: oldsize = inode->i_size; filemap_invalidate_lock(inode->i_mapping)',
      where: 'fs/ext4/inode.c ext4_setattr()',
      acc: (c) => [
        iSizeRead(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), `${SETATTR}: oldsize = inode->i_size (fs/ext4/inode.c:5580)`),
        rwsemLock(acquire(invLockLoc(c)), `${SETATTR}: filemap_invalidate_lock(inode->i_mapping) (fs/ext4/inode.c:5624)`),
      ],
      block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, invLockLoc(c)),
      run: (c) => {
        const file = c.num('file');
        c.set('oldsize', c.map(file).isize);
        takeInvalidateLock(c, file, false);
        c.goto('isize');
      },
    },
    isize: {
      // fs/ext4/inode.c:5676 i_size_write, 5695 truncate_pagecache (mm/truncate.c:761).
      label: 'i_size_write(inode, newsize); truncate_pagecache(): unmap_mapping_range(mapping, holebegin, 0, 1)',
      acc: (c) => [
        iSizeRead(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), `${SETATTR}: if (attr->ia_size == inode->i_size) (fs/ext4/inode.c:5595)`),
        iSizeWrite(w(`${c.M(c.num('file'))}.i_size`), c.num('size'), `${SETATTR}: i_size_write(inode, attr->ia_size) (fs/ext4/inode.c:5676)`),
        ghost(
          w(`${c.M(c.num('file'))}.disk`),
          "the model's file data past the new EOF reads as zeros from here (read_folio zero-fills past i_size): no kernel store",
        ),
      ],
      run: (c) => {
        const file = c.num('file');
        const size = c.num('size');
        const old = c.map(file).isize;
        c.op({ kind: 'truncate_begin', fn: 'truncate_pagecache', file: c.fileRef(file), size: BigInt(size), start: pagesFrom(size), end: END });
        c.updMap(file, { isize: size }, `i_size ${old}→${size}`);
        c.op({ kind: 'isize_set', file: c.fileRef(file), size: BigInt(size) });
        if (size < old) c.zeroRange(file, pagesFrom(size), END, false); // past EOF reads zeros from now on
        callUnmap(c, 'unmap_mapping_pages', file, pagesFrom(size), END, true, 'pages');
      },
    },
    pages: {
      label: 'truncate_inode_pages(mapping, newsize)',
      run: (c) =>
        c.call(
          'truncate_inode_pages_range',
          'lookup1',
          {
            file: c.num('file'),
            start: pagesFrom(c.num('size')),
            end: END,
            index: pagesFrom(c.num('size')),
            batch: [],
            j: 0,
            pfn: NONE,
            // truncate_inode_pages(mapping, lstart) is truncate_inode_pages_range(mapping, lstart, (loff_t)-1) (mm/truncate.c:476)
            ...partialLocals(c.num('size'), -1),
          },
          'unmap2',
        ),
    },
    unmap2: {
      label: 'unmap_mapping_range(mapping, holebegin, 0, 1)',
      run: (c) => callUnmap(c, 'unmap_mapping_pages', c.num('file'), pagesFrom(c.num('size')), END, true, 'fstrunc'),
    },
    fstrunc: {
      // fs/ext4/inode.c:5700-5701: `if (attr->ia_size <= oldsize) rc = ext4_truncate(inode);` — the blocks past EOF are freed.
      label: 'ext4_setattr: if (attr->ia_size <= oldsize) ext4_truncate(inode): free the blocks past EOF',
      where: 'fs/ext4/inode.c ext4_truncate()',
      // ext4_truncate reads i_size (plain C) and frees the blocks past it (the block map: left unmarked)
      acc: (c) => [
        iSizeRead(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), 'fs/ext4/inode.c ext4_truncate() 6.1.192: inode->i_size'),
        w(`${c.M(c.num('file'))}.disk`),
      ],
      run: (c) => {
        const file = c.num('file');
        if (c.num('size') <= c.num('oldsize')) c.freeBlocks(file, pagesFrom(c.map(file).isize), END);
        c.goto('done');
      },
    },
    done: {
      // fs/ext4/inode.c:5705-5706: out_mmap_sem: filemap_invalidate_unlock(inode->i_mapping).
      label: 'ext4_setattr: out_mmap_sem: filemap_invalidate_unlock(inode->i_mapping)',
      where: 'fs/ext4/inode.c ext4_setattr()',
      acc: (c) => [rwsemUnlock(release(invLockLoc(c)), `${SETATTR}: filemap_invalidate_unlock(inode->i_mapping) (fs/ext4/inode.c:5706)`)],
      run: (c) => {
        const file = c.num('file');
        dropInvalidateLock(c, file, false);
        c.goto('iunlock');
      },
    },
    iunlock: {
      label: 'do_truncate: inode_unlock(dentry->d_inode)',
      where: 'fs/open.c do_truncate()',
      acc: (c) => [
        ghost(floorAcc(c, c.num('file')), 'the stale-data judgement: a read starting later must see this write'),
        rwsemUnlock(release(ilockLoc(c, c.num('file'))), 'fs/open.c do_truncate() 6.1.192: inode_unlock(dentry->d_inode)'),
        ...truncateReturnAcc(c).map((a) => ghost(a, "the mapped-beyond-eof judgement at truncate's return")),
      ],
      run: (c) => {
        const file = c.num('file');
        c.op({ kind: 'truncate_end', fn: 'truncate_pagecache', file: c.fileRef(file), ret: 0 });
        c.writesReturned();
        inodeUnlock(c);
        c.truncateReturned(file, 'truncate returned');
        c.ret(0);
      },
    },
  },
};

/** truncate_cleanup_folio(): `if (folio_mapped(folio)) unmap_mapping_folio(folio)`. */
function cleanupMapped(next: string) {
  return {
    label: 'truncate_cleanup_folio(): if (folio_mapped(folio)) unmap_mapping_folio(folio)',
    acc: (c: Ctx) => [folioMapped(c, r(`${c.P(c.num('pfn'))}.mapcount`), c.num('pfn'), 'mm/truncate.c truncate_cleanup_folio() 6.1.192 (mm/truncate.c:174)')],
    run: (c: Ctx) => {
      const pfn = c.num('pfn');
      if (c.mapped(pfn)) {
        const ix = c.page(pfn).index;
        callUnmap(c, 'unmap_mapping_folio', c.num('file'), ix, ix, false, next);
      } else c.goto(next);
    },
  };
}

/** folio_invalidate() of private data, folio_cancel_dirty(). */
function cancelDirty(run: (c: Ctx) => void) {
  return {
    label: 'truncate_cleanup_folio(): if (folio_has_private(folio)) folio_invalidate(); folio_cancel_dirty(folio)',
    acc: (c: Ctx) => cancelAcc(c, c.num('pfn')),
    run: (c: Ctx) => {
      const pfn = c.num('pfn');
      c.detachPrivate(pfn);
      c.updPage(pfn, { flags: c.page(pfn).flags & ~PG.dirty });
      run(c);
    },
  };
}

/** truncate_cleanup_folio()'s folio_invalidate of private data and folio_cancel_dirty, marked. */
function cancelAcc(c: Ctx, pfn: number): Access[] {
  const cite = TCF;
  return [
    flagTestOrStore(c, w(`${c.P(pfn)}.flags.private`), pfn, 'private', `${cite}: if (folio_needs_release(folio)), a test of PG_private (mm/truncate.c:177)`),
    flagTestOrStore(
      c,
      w(`${c.P(pfn)}.flags.dirty`),
      pfn,
      'dirty',
      `${cite}: folio_cancel_dirty(): if (folio_test_dirty(folio)) (include/linux/pagemap.h:1125)`,
    ),
    // the whole folio invalidated: block_invalidate_folio() → filemap_release_folio() (fs/buffer.c:1526) →
    // try_to_free_buffers() → drop_buffers() → folio_detach_private() (fs/buffer.c:2809) → folio_put() (include/linux/pagemap.h:517)
    ...(c.page(pfn).flags & PG.private
      ? [folioPut(c, w(`${c.P(pfn)}.refcount`), pfn, `${cite}: folio_detach_private() (fs/buffer.c:2809) → folio_put()`)]
      : []),
  ];
}

/**
 * filemap_remove_folio(folio) under xa_lock, then filemap_free_folio's folio_put_refs; `earlier`:
 * the puts of this folio the step made before (truncate_cleanup_folio's, when it had buffers).
 */
function removeMarks(c: Ctx, pfn: number, earlier: number): Access[] {
  return [
    ghost(w(`${c.M(c.num('file'))}.tree_lock`), 'xa_lock_irq(&mapping->i_pages): the lock the stores below carry (under)'),
    ...deleteMarks(c, removeAcc(c, pfn), pfn, false),
    folioPut(
      c,
      w(`${c.P(pfn)}.refcount`),
      pfn,
      'mm/filemap.c filemap_remove_folio() 6.1.192: filemap_free_folio() → folio_put_refs() (mm/filemap.c:237)',
      earlier,
    ),
  ];
}

function lookup2(c: Ctx): number[] {
  return gangLookup(c, c.num('file'), c.num('index'), c.num('end'), PAGEVEC_SIZE_6_1);
}

/** truncate_inode_pages_range(mapping, lstart, lend)'s partial-folio locals (bytes; `lend` inclusive, -1 for "to EOF"). */
export function partialLocals(lstart: number, lend: number) {
  return { lstart, lend, phase: 1, same: 0 };
}

/** The caller's folio_unlock(folio); folio_put(folio) after truncate_inode_partial_folio (mm/truncate.c:410-411, 421-422). */
function partialDoneMarks(c: Ctx, earlier: number): Access[] {
  const pfn = c.num('pfn');
  const [unlock, put] = c.num('phase') === 1 ? [410, 411] : [421, 422];
  return [
    folioUnlock(release(`lock:${c.P(pfn)}`), `${TIPR}: folio_unlock(folio) (mm/truncate.c:${unlock})`),
    folioPut(c, w(`${c.P(pfn)}.refcount`), pfn, `${TIPR}: folio_put(folio) (mm/truncate.c:${put})`, earlier),
  ];
}

/** 6.1.192's partial-folio code (mm/truncate.c:401-422, 235-272; mm/filemap.c:1937-1967), marked. */
const PARTIAL_61: PartialFolioKernel = {
  where: 'mm/truncate.c:401-422 truncate_inode_pages_range()',
  getCite: (phase) =>
    `${TIPR}: folio = __filemap_get_folio(mapping, ${phase === 1 ? 'lstart' : 'lend'} >> PAGE_SHIFT, FGP_LOCK, 0) (mm/truncate.c:${phase === 1 ? 402 : 416}) → mapping_get_entry() (mm/filemap.c:1943, 1881-1895)`,
  getEntry: (c, file, index, a, cite) => speculativeGet(c, file, index, a[1], cite),
  lock: {
    where: 'mm/filemap.c:1952-1967 __filemap_get_folio()',
    lock: (a) => folioLock(a, `${GF}: folio_lock(folio) (mm/filemap.c:1959)`),
    mappingCite: `${GF}: if (unlikely(folio->mapping != mapping)) (mm/filemap.c:1963)`,
  },
  partialWhere: 'mm/truncate.c:235-272 truncate_inode_partial_folio()',
  wholeWhere: 'mm/truncate.c:189-194, 172-175 truncate_inode_folio()',
  removeWhere: 'mm/truncate.c:177-195 truncate_inode_folio()',
  acc: {
    partial: (c) => {
      const pfn = c.num('pfn');
      const P = c.P(pfn);
      const a = [folioFlag(c, r(`${P}.flags.writeback`), pfn, 'writeback', `${TIPF}: folio_wait_writeback(folio) (mm/truncate.c:250)`)];
      if (partialIsWhole(c)) return a;
      // folio_zero_range writes the page's contents (not marked; the model's data is per page and
      // unchanged); folio_invalidate(folio, offset, length) of a part keeps the buffers (fs/buffer.c:1521-1526)
      return [
        ...a,
        folioFlag(c, r(`${P}.flags.private`), pfn, 'private', `${TIPF}: if (folio_needs_release(folio)), a test of PG_private (mm/truncate.c:263)`),
        ...partialDoneMarks(c, 0),
      ];
    },
    whole: (c) => {
      const pfn = c.num('pfn');
      const P = c.P(pfn);
      const a = [
        folioMapping(c, r(`${P}.mapping`), pfn, 'mm/truncate.c truncate_inode_folio() 6.1.192: if (folio->mapping != mapping) (mm/truncate.c:191)'),
        folioMapped(c, r(`${P}.mapcount`), pfn, `${TCF} (mm/truncate.c:174)`),
      ];
      // the folio left the mapping: -EIO, then the caller's unlock and put (the lock held since plock's recheck: not reached)
      return c.page(pfn).mapping === c.num('file') ? a : [...a, ...partialDoneMarks(c, 0)];
    },
    wremove: (c) => {
      const pfn = c.num('pfn');
      const buffers = c.page(pfn).flags & PG.private ? 1 : 0;
      return [...cancelAcc(c, pfn), ...removeMarks(c, pfn, buffers), ...partialDoneMarks(c, buffers + 1)];
    },
  },
};

export const truncateInodePagesRange61: Proc = {
  fn: 'truncate_inode_pages_range',
  where: 'mm/truncate.c',
  entry: 'lookup1',
  // `rv` is find_lock_entries' batch (copied to `batch` by `got1`) or an unmap_mapping_folio's
  // return (void in C); `pfn` the folio of one iteration, set by `got1`/`cancel`/`lock2` before it
  // is read; `j` set for each batch by `got1` or find_get_entries' takeBatch (mm/truncate.c
  // 6.1.192, truncate_inode_pages_range). The partial folios' steps (`pget` on) set `pfn` before
  // reading it and read neither `rv` nor `j`; an unmap_mapping_folio's return is never read.
  // linux-6.12's truncate_inode_pages_range keeps these steps and table.
  dead: {
    cleanup: ['rv'],
    delete: ['pfn', 'j', 'rv'],
    lookup2: ['pfn', 'j', 'rv'],
    lock2: ['pfn'],
    remove2: ['rv'],
    pget: ['pfn', 'j', 'rv'],
    whole: ['rv'],
  },
  steps: {
    lookup1: {
      label: 'while (index < end && find_lock_entries(mapping, &index, end - 1, &fbatch, indices))',
      run: (c) => callFindLockEntries(c, c.num('index'), c.num('end'), 'got1'),
    },
    got1: {
      label: 'for (i = 0; i < folio_batch_count(&fbatch); i++) truncate_cleanup_folio(fbatch.folios[i])',
      run: (c) => {
        const b = c.list('rv');
        if (b.length === 0) {
          c.goto('pget');
          return;
        }
        c.set('batch', b);
        c.set('j', 0);
        c.set('index', c.page(b[b.length - 1]!).index + 1);
        c.set('pfn', b[0]!);
        c.goto('cleanup');
      },
    },
    cleanup: cleanupMapped('cancel'),
    cancel: cancelDirty((c) => {
      const j = c.num('j') + 1;
      c.set('j', j);
      if (j < c.list('batch').length) {
        c.set('pfn', c.list('batch')[j]!);
        c.goto('cleanup');
      } else c.goto('delete');
    }),
    delete: {
      label: 'delete_from_page_cache_batch(mapping, &fbatch) [xa_lock]; filemap_free_folio() each',
      // xa_lock_irq is carried by the slot store's `under`; the refcounts are filemap_free_folio's folio_put_refs, after the unlock
      acc: (c) => [
        ghost(w(`${c.M(c.num('file'))}.tree_lock`), 'xa_lock_irq(&mapping->i_pages): the lock the stores below carry (under)'),
        ...c.list('batch').flatMap((p) => deleteMarks(c, removeAcc(c, p), p, true)),
        ...c
          .list('batch')
          .map((p) => folioPut(c, w(`${c.P(p)}.refcount`), p, 'mm/filemap.c delete_from_page_cache_batch() 6.1.192: filemap_free_folio() → folio_put_refs()')),
      ],
      run: (c) => {
        for (const p of c.list('batch')) {
          if (c.page(p).mapping !== c.num('file')) continue;
          c.removeFromCache(p);
          c.ref(p, -1);
        }
        c.goto('unlockall');
      },
    },
    unlockall: {
      label: 'folio_unlock() each; folio_batch_release(&fbatch); cond_resched()',
      acc: (c) => [
        ...c.list('batch').map((p) => folioUnlock(release(`lock:${c.P(p)}`), `${TIPR}: folio_unlock(fbatch.folios[i]) (mm/truncate.c:396)`)),
        ...c.list('batch').map((p) => folioPut(c, w(`${c.P(p)}.refcount`), p, `${TIPR}: folio_batch_release(&fbatch) → release_pages() (mm/swap.c:1005)`)),
      ],
      run: (c) => {
        for (const p of c.list('batch')) c.unlockPage(p);
        putAll(c, c.list('batch'));
        c.set('batch', []);
        c.goto(c.num('index') < c.num('end') ? 'lookup1' : 'pget');
      },
    },
    lookup2: {
      label: 'cond_resched(); if (!find_get_entries(mapping, &index, end - 1, &fbatch, indices)) { if (index == start) break; index = start; continue; }',
      acc: (c) => {
        const b = lookup2(c);
        return xaFindMarks(
          c,
          c.num('file'),
          c.num('index'),
          c.num('end'),
          b,
          lookupAcc(c, c.num('file'), b).slice(1),
          `mm/filemap.c find_get_entries() → find_get_entry() 6.1.192 (mm/filemap.c:2030-2049), ${TIPR} (mm/truncate.c:428)`,
        );
      },
      run: (c) => {
        const b = lookup2(c);
        if (b.length === 0) {
          if (c.num('index') === c.num('start')) {
            c.ret(0);
            return;
          }
          c.set('index', c.num('start'));
          c.goto('lookup2');
          return;
        }
        takeBatch(c, b, 'lock2');
      },
    },
    lock2: {
      label: 'folio_lock(folio); folio_wait_writeback(folio); truncate_inode_folio(): if (folio->mapping != mapping) return -EIO',
      acc: (c) => {
        const pfn = folio(c);
        const P = c.P(pfn);
        return [
          folioLock(acquire(`lock:${P}`), `${TIPR}: folio_lock(folio) (mm/truncate.c:447)`),
          folioFlag(c, r(`${P}.flags.writeback`), pfn, 'writeback', `${TIPR}: folio_wait_writeback(folio) (mm/truncate.c:449)`),
          folioMapping(c, r(`${P}.mapping`), pfn, 'mm/truncate.c truncate_inode_folio() 6.1.192: if (folio->mapping != mapping) (mm/truncate.c:191)'),
        ];
      },
      block: (c) => c.pageLockHeld(folio(c)),
      run: (c) => {
        const pfn = folio(c);
        c.lockPage(pfn);
        c.set('pfn', pfn);
        if (c.page(pfn).mapping !== c.num('file')) {
          c.unlockPage(pfn);
          nextFolio(c, 'lock2', 'release2');
          return;
        }
        c.goto('mapped2');
      },
    },
    mapped2: cleanupMapped('cancel2'),
    cancel2: cancelDirty((c) => c.goto('remove2')),
    remove2: {
      label: 'filemap_remove_folio(folio) [xa_lock]; filemap_free_folio(); folio_unlock(folio)',
      acc: (c) => {
        const pfn = c.num('pfn');
        return [...removeMarks(c, pfn, 0), folioUnlock(release(`lock:${c.P(pfn)}`), `${TIPR}: folio_unlock(folio) (mm/truncate.c:451)`)];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        c.removeFromCache(pfn);
        c.ref(pfn, -1);
        c.unlockPage(pfn);
        nextFolio(c, 'lock2', 'release2');
      },
    },
    ...partialFolioSteps(PARTIAL_61),
    release2: {
      label: 'folio_batch_release(&fbatch)',
      acc: (c) =>
        c
          .list('batch')
          .map((p) => folioPut(c, w(`${c.P(p)}.refcount`), p, `${TIPR}: folio_batch_release(&fbatch) → release_pages() (mm/truncate.c:455, mm/swap.c:1005)`)),
      run: (c) => {
        putAll(c, c.list('batch'));
        c.set('batch', []);
        c.goto('lookup2');
      },
    },
  },
};

/**
 * truncate_inode_pages_range's partial folios, between its two passes (6.1.192 mm/truncate.c:401-422,
 * 6.12.118 mm/truncate.c:374-398; the same code for an order-0 folio): the folio holding `lstart`
 * is looked up and locked (__filemap_get_folio(FGP_LOCK), even when `lstart` is page aligned and
 * pass 1 left nothing there) and handed to truncate_inode_partial_folio, which removes it whole
 * (truncate_inode_folio) when the range covers it, else zeroes the part in the range
 * (folio_zero_range) and lets folio_invalidate drop what the filesystem keeps for it; then the
 * folio at `lend`, unless it was the same one. The model's page data is one version per page:
 * the zeroing of part of a page is an effect only (docs/flavors.md). Large folios (6.12's split
 * paths) are a layer on top: `split`.
 *
 * Locals (the caller sets them): `lstart`, `lend` (bytes, `lend` inclusive, -1 for "to EOF"),
 * `phase` (1: lstart's folio, 2: lend's), `same` (same_folio), `pfn`.
 */
export interface PartialFolioKernel {
  /** `mm/truncate.c:A-B truncate_inode_pages_range()`: the partial-folio block. */
  where: string;
  /** Citation of the two __filemap_get_folio calls (lstart's, lend's), with the lookup's lines. */
  getCite: (phase: number) => string;
  /** The lookup's marked accesses: the slot load and, for a folio, the reference (`acc`: [tree, refcount?]). */
  getEntry: (c: Ctx, file: number, index: number, acc: Access[], cite: string) => Access[];
  /** __filemap_get_folio(FGP_LOCK)'s folio_lock and recheck. */
  lock: LockRecheckKernel;
  /** Where truncate_inode_partial_folio and truncate_inode_folio are. */
  partialWhere: string;
  wholeWhere: string;
  removeWhere: string;
  /** The accesses of `partial`, `whole` and `wremove`, as this release marks them. */
  acc: { partial: (c: Ctx) => Access[]; whole: (c: Ctx) => Access[]; wremove: (c: Ctx) => Access[] };
  /** The step a large folio goes to once zeroed (6.12's split_folio); without it every folio is order-0. */
  split?: string;
}

/**
 * The partial folio is done: folio_unlock(folio); folio_put(folio); then the folio at `lend`
 * unless it was the same one, then pass 2 from `start`.
 */
export function partialDone(c: Ctx): void {
  const pfn = c.num('pfn');
  if (pfn !== NONE) {
    c.unlockPage(pfn);
    c.ref(pfn, -1);
    c.set('pfn', NONE);
  }
  if (c.num('phase') === 1 && !c.num('same')) {
    c.set('phase', 2);
    c.goto('pget');
    return;
  }
  c.set('index', c.num('start'));
  c.goto('lookup2');
}

/** What partialDone writes: the folio's lock and our reference on it. */
export function doneAcc(c: Ctx): Access[] {
  const pfn = c.num('pfn');
  return pfn === NONE ? [] : [release(`lock:${c.P(pfn)}`), w(`${c.P(pfn)}.refcount`)];
}

/** The index __filemap_get_folio looks up: lstart's page, then lend's ((pgoff_t)-1 for lend = -1: END). */
export function partialIndex(c: Ctx): number {
  if (c.num('phase') === 1) return Math.floor(c.num('lstart') / PAGE_SIZE);
  return c.num('lend') < 0 ? END : Math.floor(c.num('lend') / PAGE_SIZE);
}

/** truncate_inode_partial_folio's pos, size, offset and length (mm/truncate.c:237-248 6.1.192). */
export function folioPos(c: Ctx) {
  const p = c.page(c.num('pfn'));
  const pos = p.index * PAGE_SIZE;
  const size = folioNr(p) * PAGE_SIZE;
  const lstart = c.num('lstart');
  const lend = c.num('lend');
  const offset = pos < lstart ? lstart - pos : 0;
  const length = lend < 0 || pos + size <= lend ? size - offset : lend + 1 - pos - offset;
  return { pos, size, offset, length };
}

/** Does truncate_inode_partial_folio remove this folio whole (`length == folio_size(folio)`)? */
export const partialIsWhole = (c: Ctx): boolean => {
  const { length, size } = folioPos(c);
  return length === size;
};

/** The order-0 partial-folio steps: `pget`, `plock`, `partial`, `whole`, `wremove`. */
export function partialFolioSteps(k: PartialFolioKernel): Record<string, StepDef> {
  return {
    pget: {
      label: (c) =>
        c.num('phase') === 1
          ? 'same_folio = (lstart >> PAGE_SHIFT) == (lend >> PAGE_SHIFT); folio = __filemap_get_folio(mapping, lstart >> PAGE_SHIFT, FGP_LOCK, 0)'
          : 'if (!same_folio) folio = __filemap_get_folio(mapping, lend >> PAGE_SHIFT, FGP_LOCK, 0)',
      where: k.where,
      acc: (c) => {
        const pfn = partialIndex(c) >= END ? NONE : c.lookup(c.num('file'), partialIndex(c));
        const tree = r(`${c.M(c.num('file'))}.tree`);
        const a = pfn === NONE ? [tree] : [tree, w(`${c.P(pfn)}.refcount`)];
        return k.getEntry(c, c.num('file'), partialIndex(c), a, k.getCite(c.num('phase')));
      },
      run: (c) => {
        const ix = partialIndex(c);
        const pfn = ix >= END ? NONE : c.lookup(c.num('file'), ix);
        if (c.num('phase') === 1) {
          const lend = c.num('lend');
          // with lend = -1, (loff_t)-1 >> PAGE_SHIFT is -1 (never lstart's page), and -1 < folio_pos + folio_size
          c.set('same', lend >= 0 && Math.floor(c.num('lstart') / PAGE_SIZE) === Math.floor(lend / PAGE_SIZE) ? 1 : 0);
          if (pfn !== NONE) {
            const p = c.page(pfn);
            c.set('same', lend < (p.index + folioNr(p)) * PAGE_SIZE ? 1 : 0); // same_folio = lend < folio_pos(folio) + folio_size(folio) (lend -1: true)
          }
        }
        if (pfn === NONE) {
          c.set('pfn', NONE);
          partialDone(c);
          return;
        }
        c.ref(pfn, 1);
        c.set('pfn', pfn);
        c.goto('plock');
      },
    },
    plock: lockRecheckStep('', 'pget', 'partial', k.lock),
    partial: {
      label: (c) =>
        partialIsWhole(c)
          ? 'truncate_inode_partial_folio(): if (length == folio_size(folio)) { truncate_inode_folio(folio->mapping, folio); return true; }'
          : 'truncate_inode_partial_folio(): folio_zero_range(folio, offset, length); if (!folio_test_large(folio)) return true; try_folio_split_or_unmap(folio)',
      where: k.partialWhere,
      acc: k.acc.partial,
      run: (c) => {
        if (partialIsWhole(c)) {
          c.goto('whole');
          return;
        }
        const { offset, length } = folioPos(c);
        // the model's page data is one version per page: the zeroed part is not represented
        c.effect(`folio_zero_range(pfn${c.num('pfn')}, ${offset}, ${length})`);
        if (!c.page(c.num('pfn')).order || k.split === undefined) {
          partialDone(c);
          return;
        }
        c.goto(k.split);
      },
    },
    whole: {
      label:
        'truncate_inode_folio(): if (folio->mapping != mapping) return -EIO; truncate_cleanup_folio(): if (folio_mapped(folio)) unmap_mapping_folio(folio)',
      where: k.wholeWhere,
      acc: k.acc.whole,
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).mapping !== c.num('file')) {
          partialDone(c);
          return;
        }
        if (c.mapped(pfn)) callUnmap(c, 'unmap_mapping_folio', c.num('file'), c.page(pfn).index, c.page(pfn).index, false, 'wremove');
        else c.goto('wremove');
      },
    },
    wremove: {
      label: 'folio_invalidate(); folio_cancel_dirty(folio); filemap_remove_folio(folio)',
      where: k.removeWhere,
      acc: k.acc.wremove,
      run: (c) => {
        const pfn = c.num('pfn');
        c.detachPrivate(pfn);
        c.updPage(pfn, { flags: c.page(pfn).flags & ~PG.dirty });
        c.removeFromCache(pfn);
        c.ref(pfn, -1);
        partialDone(c);
      },
    },
  };
}
