/**
 * linux-2.6.15 truncate: vmtruncate (mm/memory.c) → i_size_write, unmap_mapping_range(even_cows),
 * truncate_inode_pages (mm/truncate.c: a trylock pass, then a lock_page pass that repeats until
 * nothing is left), truncate_complete_page. No page_mapped test: truncate relies on i_size and
 * the fault's truncate_count recheck. `unmapMapped` adds 2.6.23's "unmap a still-mapped page
 * under its lock" to both passes.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { END, PAGEVEC_SIZE_2_6, advance, cur, floorAcc, gangLookup, ilockLoc, lookupAcc, pagesFrom, putAll } from '../../kernel/lib.js';
import { callUnmap } from '../../kernel/unmap.js';
import { inodeUnlock, withInodeLock } from '../../kernel/pagecache.js';
import { coherentAcc } from '../../kernel/lib.js';
import {
  flagRead,
  flagWrite,
  gangLookupMarks,
  ghost,
  mappingRead,
  notOnThisPath,
  pageLockMark,
  pageUnlockMark,
  putPage,
  removeMarks,
  treeLock,
} from '../../kernel/marks.js';
import type { Access } from '@kreplay/core';
import { REMOVE_BUGS, removeBugs } from './invalidate.js';

const CITE_TIP = 'mm/truncate.c truncate_inode_pages_range() 2.6.15';

/** pagevec_lookup of truncate's passes, as the run below makes it (or not at all past `end`). */
function lookupMarks(c: Ctx, checkEnd: boolean): Access[] {
  const pv = gangLookup(c, c.num('file'), c.num('next'), END, PAGEVEC_SIZE_2_6);
  if (checkEnd && c.num('next') > c.num('end')) return lookupAcc(c, c.num('file'), pv).map((a) => notOnThisPath(a, 'next > end: no lookup'));
  // the model skips the get/put pair of a lookup whose first page is past `end`: left unmarked (smp_mb() in a derived test)
  if (!checkEnd && pv.length > 0 && c.page(pv[0]!).index > c.num('end')) return lookupAcc(c, c.num('file'), pv);
  return gangLookupMarks(c, c.num('file'), c.num('next'), END, pv, PAGEVEC_SIZE_2_6);
}

/** TestSetPageLocked/lock_page and the PageWriteback test after it, when the run takes the lock. */
function lockMarks(c: Ctx, a: Access[], takes: boolean, what: string): Access[] {
  if (!takes) return a.map((x) => notOnThisPath(x, 'the page is past end or locked'));
  return [pageLockMark(a[0]!, `${CITE_TIP}: ${what}`), flagRead(c, cur(c), 'writeback', `${CITE_TIP}: PageWriteback(page)`)];
}

/**
 * vmtruncate. `unmapAfter` (2.6.23): a second unmap_mapping_range after
 * truncate_inode_pages, for private pages COWed meanwhile.
 */
export function vmtruncate(opts: { unmapAfter: boolean; ilock: string }): Proc {
  const p: Proc = {
    fn: 'vmtruncate',
    where: 'mm/memory.c',
    entry: 'isize',
    steps: {
      isize: {
        label: (c) =>
          c.map(c.num('file')).isize < c.num('size')
            ? 'if (inode->i_size < offset) goto do_expand; i_size_write(inode, offset)'
            : 'i_size_write(inode, offset)',
        acc: (c) => [
          lk(r(`${c.M(c.num('file'))}.i_size`), 'plain-read', c.map(c.num('file')).isize, 'mm/memory.c vmtruncate() 2.6.15: if (inode->i_size < offset)'),
          // i_size_write() is a plain store on 64-bit SMP (include/linux/fs.h 2.6.15)
          lk(w(`${c.M(c.num('file'))}.i_size`), 'plain-write', c.num('size'), 'mm/memory.c vmtruncate() 2.6.15: i_size_write(inode, offset)'),
          ghost(
            w(`${c.M(c.num('file'))}.disk`),
            "the model's file data past the new EOF reads as zeros from here (readpage zero-fills past i_size): no kernel store",
          ),
        ],
        run: (c) => {
          const file = c.num('file');
          const size = c.num('size');
          const old = c.map(file).isize;
          c.op({ kind: 'truncate_begin', fn: 'vmtruncate', file: c.fileRef(file), size: BigInt(size), start: pagesFrom(size), end: END });
          c.updMap(file, { isize: size }, `i_size ${old}→${size}`);
          c.op({ kind: 'isize_set', file: c.fileRef(file), size: BigInt(size) });
          if (old < size) {
            c.goto('fstrunc');
            return;
          } // do_expand: nothing to unmap or drop
          // From the i_size write on, the bytes past EOF are zeros (readpage clamps to i_size).
          c.zeroRange(file, pagesFrom(size), END, false);
          callUnmap(c, 'unmap_mapping_range', file, pagesFrom(size), END, true, 'pages');
        },
      },
      pages: {
        label: 'truncate_inode_pages(mapping, offset)',
        run: (c) =>
          c.call(
            'truncate_inode_pages',
            'nrpages',
            {
              file: c.num('file'),
              start: pagesFrom(c.num('size')),
              end: END,
              next: 0,
              pvec: [],
              i: 0,
              pfn: NONE,
            },
            opts.unmapAfter ? 'unmap2' : 'fstrunc',
          ),
      },
      unmap2: {
        label: 'unmap_mapping_range(mapping, offset + PAGE_SIZE - 1, 0, 1)',
        run: (c) => callUnmap(c, 'unmap_mapping_range', c.num('file'), pagesFrom(c.num('size')), END, true, 'fstrunc'),
      },
      fstrunc: {
        // 2.6.23 mm/memory.c:2054-2055 out_truncate: the filesystem frees the blocks past EOF.
        label: 'out_truncate: if (inode->i_op && inode->i_op->truncate) inode->i_op->truncate(inode)',
        // the filesystem's truncate reads i_size (plain C) and frees the blocks past it (the block map: left unmarked)
        acc: (c) => [
          lk(
            r(`${c.M(c.num('file'))}.i_size`),
            'plain-read',
            c.map(c.num('file')).isize,
            'mm/memory.c vmtruncate() 2.6.15: inode->i_op->truncate(inode) reads inode->i_size',
          ),
          w(`${c.M(c.num('file'))}.disk`),
        ],
        run: (c) => {
          const file = c.num('file');
          c.freeBlocks(file, pagesFrom(c.map(file).isize), END);
          c.goto('done');
        },
      },
      done: {
        label: 'return 0; do_truncate: up/mutex_unlock(&inode->i_sem|i_mutex)',
        acc: (c) => [
          ghost(floorAcc(c, c.num('file')), 'the stale-data judgement: a read starting later must see this write'),
          release(ilockLoc(c, c.num('file'))),
          ...truncateReturnAcc(c).map((a) => ghost(a, "the mapped-beyond-eof judgement at truncate's return")),
        ],
        run: (c) => {
          const file = c.num('file');
          c.op({ kind: 'truncate_end', fn: 'vmtruncate', file: c.fileRef(file), ret: 0 });
          c.writesReturned();
          inodeUnlock(c);
          c.truncateReturned(file, 'truncate returned');
          c.ret(0);
        },
      },
    },
  };
  // do_truncate() (2.6.23.17 fs/open.c:217) holds the inode lock around notify_change → vmtruncate: folded into its first step.
  const isize = withInodeLock(
    opts.ilock === 'i_sem' ? 'do_truncate: down(&dentry->d_inode->i_sem)' : 'do_truncate: mutex_lock(&dentry->d_inode->i_mutex)',
    () => false,
    p.steps.isize!,
  );
  return { ...p, steps: { ...p.steps, isize } };
}

/** What judging mapped-beyond-eof at truncate's return reads: i_size and every PTE of the file. */
export function truncateReturnAcc(c: Ctx): ReturnType<typeof r>[] {
  return [r(`${c.M(c.num('file'))}.i_size`), w(`${c.M(c.num('file'))}.eof`), ...coherentAcc(c, c.num('file'), 0, END)];
}

/** `if (page_mapped(page)) unmap_mapping_range(mapping, index, PAGE_CACHE_SIZE, 0)` (2.6.23). */
function unmapIfMapped(then: string): StepDef {
  return {
    label: 'if (page_mapped(page)) unmap_mapping_range(mapping, page_index << PAGE_CACHE_SHIFT, PAGE_CACHE_SIZE, 0)',
    acc: (c) => [
      lk(
        r(`${c.P(c.num('pfn'))}.mapcount`),
        'atomic_read',
        c.page(c.num('pfn')).mapcount,
        'mm/truncate.c truncate_inode_pages_range() 2.6.23: page_mapped(page) is atomic_read(&page->_mapcount)',
      ),
    ],
    run: (c) => {
      const pfn = c.num('pfn');
      if (c.mapped(pfn)) {
        const ix = c.page(pfn).index;
        callUnmap(c, 'unmap_mapping_range', c.num('file'), ix, ix, false, then);
      } else c.goto(then);
    },
  };
}

function callComplete(c: Ctx, then: string): void {
  c.call('truncate_complete_page', 'mapping', { file: c.num('file'), pfn: c.num('pfn') }, then);
}

export function truncateInodePages(opts: { unmapMapped: boolean }): Proc {
  const steps: Record<string, StepDef> = {
    nrpages: {
      label: 'if (mapping->nrpages == 0) return',
      acc: (c) => [lk(r(`${c.M(c.num('file'))}.nrpages`), 'plain-read', c.map(c.num('file')).nrpages, `${CITE_TIP}: if (mapping->nrpages == 0) (plain C)`)],
      run: (c) => {
        if (c.map(c.num('file')).nrpages === 0) {
          c.ret(0);
          return;
        }
        c.set('next', c.num('start'));
        c.goto('lookup1');
      },
    },
    lookup1: {
      label: 'while (next <= end && pagevec_lookup(&pvec, mapping, next, PAGEVEC_SIZE))',
      acc: (c) => lookupMarks(c, true),
      run: (c) => {
        const pv = c.num('next') <= c.num('end') ? gangLookup(c, c.num('file'), c.num('next'), END, PAGEVEC_SIZE_2_6) : [];
        if (pv.length === 0) {
          c.set('next', c.num('start'));
          c.goto('lookup2');
          return;
        }
        for (const p of pv) c.ref(p, 1);
        c.set('pvec', pv);
        c.set('i', 0);
        c.goto('trylock1');
      },
    },
    trylock1: {
      label: 'if (TestSetPageLocked(page)) continue; if (PageWriteback(page)) { unlock_page(page); continue; }',
      acc: (c) =>
        lockMarks(
          c,
          [acquire(`lock:${c.P(cur(c))}`), r(`${c.P(cur(c))}.flags.writeback`)],
          c.page(cur(c)).index <= c.num('end') && c.page(cur(c)).locker === NONE,
          'TestSetPageLocked(page)',
        ),
      run: (c) => {
        const pfn = cur(c);
        const ix = c.page(pfn).index;
        if (ix > c.num('end')) {
          c.set('next', ix);
          c.goto('release1');
          return;
        }
        c.set('next', Math.max(c.num('next'), ix) + 1);
        c.set('pfn', pfn);
        if (c.page(pfn).locker !== NONE) {
          c.effect(`pfn${pfn} is locked: skipped`);
          advance(c, 'trylock1', 'release1');
          return;
        }
        c.lockPage(pfn);
        if (c.page(pfn).flags & PG.writeback) {
          c.unlockPage(pfn);
          advance(c, 'trylock1', 'release1');
          return;
        }
        if (opts.unmapMapped) c.goto('mapped1');
        else callComplete(c, 'unlock1');
      },
    },
    unlock1: {
      label: 'unlock_page(page)',
      acc: (c) => [pageUnlockMark(release(`lock:${c.P(c.num('pfn'))}`), CITE_TIP)],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        advance(c, 'trylock1', 'release1');
      },
    },
    release1: {
      label: 'pagevec_release(&pvec); cond_resched()',
      acc: (c) => c.list('pvec').map((p) => putPage(c, p, `${CITE_TIP}: pagevec_release()`)),
      run: (c) => {
        putAll(c, c.list('pvec'));
        c.set('pvec', []);
        if (c.num('next') <= c.num('end')) c.goto('lookup1');
        else {
          c.set('next', c.num('start'));
          c.goto('lookup2');
        }
      },
    },
    lookup2: {
      label: 'for (;;) { cond_resched(); if (!pagevec_lookup(&pvec, mapping, next, PAGEVEC_SIZE)) { if (next == start) break; next = start; continue; } }',
      acc: (c) => lookupMarks(c, false),
      run: (c) => {
        const pv = gangLookup(c, c.num('file'), c.num('next'), END, PAGEVEC_SIZE_2_6);
        if (pv.length === 0) {
          if (c.num('next') === c.num('start')) {
            c.ret(0);
            return;
          }
          c.set('next', c.num('start'));
          c.goto('lookup2');
          return;
        }
        if (c.page(pv[0]!).index > c.num('end')) {
          c.ret(0);
          return;
        } // pagevec_release of pages we never referenced
        for (const p of pv) c.ref(p, 1);
        c.set('pvec', pv);
        c.set('i', 0);
        c.goto('lock2');
      },
    },
    lock2: {
      label: 'lock_page(page); wait_on_page_writeback(page)',
      acc: (c) => lockMarks(c, [acquire(`lock:${c.P(cur(c))}`), r(`${c.P(cur(c))}.flags.writeback`)], c.page(cur(c)).index <= c.num('end'), 'lock_page(page)'),
      block: (c) => (c.page(cur(c)).index > c.num('end') ? undefined : c.pageLockHeld(cur(c))),
      run: (c) => {
        const pfn = cur(c);
        const ix = c.page(pfn).index;
        if (ix > c.num('end')) {
          c.goto('release2');
          return;
        }
        c.lockPage(pfn);
        c.set('pfn', pfn);
        c.set('next', Math.max(c.num('next'), ix) + 1);
        if (opts.unmapMapped) c.goto('mapped2');
        else callComplete(c, 'unlock2');
      },
    },
    unlock2: {
      label: 'unlock_page(page)',
      acc: (c) => [pageUnlockMark(release(`lock:${c.P(c.num('pfn'))}`), CITE_TIP)],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        advance(c, 'lock2', 'release2');
      },
    },
    release2: {
      label: 'pagevec_release(&pvec)',
      acc: (c) => c.list('pvec').map((p) => putPage(c, p, `${CITE_TIP}: pagevec_release()`)),
      run: (c) => {
        putAll(c, c.list('pvec'));
        c.set('pvec', []);
        c.goto('lookup2');
      },
    },
  };
  if (opts.unmapMapped) {
    steps.mapped1 = unmapIfMapped('complete1');
    steps.complete1 = { label: 'truncate_complete_page(mapping, page)', run: (c) => callComplete(c, 'unlock1') };
    steps.mapped2 = unmapIfMapped('complete2');
    steps.complete2 = { label: 'truncate_complete_page(mapping, page)', run: (c) => callComplete(c, 'unlock2') };
  }
  // each pass over a pagevec sets `page` before reading it; truncate_complete_page()'s return is never read
  const perPage = ['pfn', 'rv'];
  return {
    fn: 'truncate_inode_pages',
    where: 'mm/truncate.c',
    entry: 'nrpages',
    steps,
    dead: { trylock1: perPage, release1: perPage, lock2: perPage, release2: perPage },
  };
}

/**
 * truncate_complete_page. 2.6.15 clears the dirty bit (clear_page_dirty(): under tree_lock) and
 * PG_uptodate *before* remove_from_page_cache(); 2.6.23 (`v2623`: 2.6.23.17 mm/truncate.c:92-105)
 * calls cancel_dirty_page() (a bare TestClearPageDirty()), removes the page — whose
 * __remove_from_page_cache() ends with BUG_ON(page_mapped(page)), mm/filemap.c:123 — and only
 * then ClearPageUptodate().
 */
export function truncateCompletePageProc(o: { v2623: boolean }): Proc {
  const V = o.v2623 ? '2.6.23' : '2.6.15';
  const cite = `mm/truncate.c truncate_complete_page() ${V}`;
  const remove: StepDef = {
    label: o.v2623 ? 'remove_from_page_cache(page) [tree_lock]' : 'remove_from_page_cache(page) [tree_lock]; page_cache_release(page)',
    acc: (c) => [
      ghost(
        w(`${c.M(c.num('file'))}.tree_lock`),
        `mm/filemap.c remove_from_page_cache() ${V}: write_lock_irq(&mapping->tree_lock): the accesses under it carry it (under)`,
      ),
      ...removeMarks(
        c,
        c.num('pfn'),
        o.v2623 ? 'mm/filemap.c __remove_from_page_cache() 2.6.23: BUG_ON(page_mapped(page)) (2.6.23.17 mm/filemap.c:123)' : undefined,
      ),
      ...(o.v2623 ? [] : [putPage(c, c.num('pfn'), `${cite}: page_cache_release(page)`)]),
    ],
    run: (c) => {
      const pfn = c.num('pfn');
      c.removeFromCache(pfn);
      if (o.v2623) {
        if (!removeBugs(c, pfn)) c.goto('uptodate');
        return;
      }
      c.ref(pfn, -1);
      c.ret(0);
    },
  };
  const uptodate: StepDef = o.v2623
    ? {
        label: 'ClearPageUptodate(page); ClearPageMappedToDisk(page); page_cache_release(page)',
        acc: (c) => [
          flagWrite(c, c.num('pfn'), 'uptodate', false, `${cite}: ClearPageUptodate(page) (2.6.23.17 mm/truncate.c:102)`),
          putPage(c, c.num('pfn'), `${cite}: page_cache_release(page) (2.6.23.17 mm/truncate.c:104)`),
        ],
        run: (c) => {
          const pfn = c.num('pfn');
          c.setFlag(pfn, 'uptodate', false);
          c.ref(pfn, -1);
          c.ret(0);
        },
      }
    : {
        label: 'ClearPageUptodate(page); ClearPageMappedToDisk(page)',
        acc: (c) => [flagWrite(c, c.num('pfn'), 'uptodate', false, `${cite}: ClearPageUptodate(page)`)],
        run: (c) => {
          c.setFlag(c.num('pfn'), 'uptodate', false);
          c.goto('remove');
        },
      };
  return {
    fn: 'truncate_complete_page',
    where: 'mm/truncate.c',
    entry: 'mapping',
    ...(o.v2623 ? { bugs: REMOVE_BUGS } : {}),
    steps: {
      mapping: {
        label: o.v2623
          ? 'if (page->mapping != mapping) return; if (PagePrivate(page)) do_invalidatepage(page, 0); cancel_dirty_page(page, PAGE_CACHE_SIZE)'
          : 'if (page->mapping != mapping) return; if (PagePrivate(page)) do_invalidatepage(page, 0); clear_page_dirty(page)',
        acc: (c) => {
          const pfn = c.num('pfn');
          const a = [r(`${c.P(pfn)}.mapping`), w(`${c.P(pfn)}.flags.private`), w(`${c.P(pfn)}.flags.dirty`)];
          // do_invalidatepage() → try_to_release_page() → __clear_page_buffers() → page_cache_release(page)
          if (c.page(pfn).flags & PG.private) a.push(w(`${c.P(pfn)}.refcount`));
          if (c.page(pfn).mapping !== c.num('file'))
            return [mappingRead(c, pfn, `${cite}: if (page->mapping != mapping)`), ...a.slice(1).map((x) => notOnThisPath(x, 'the page left the mapping'))];
          // do_invalidatepage() on a page with buffers is the filesystem's: left unmarked
          if (c.page(pfn).flags & PG.private) return a;
          const dirty = c.page(pfn).flags & PG.dirty ? 1 : 0;
          return [
            mappingRead(c, pfn, `${cite}: if (page->mapping != mapping)`),
            flagRead(c, pfn, 'private', `${cite}: PagePrivate(page)`),
            o.v2623
              ? // cancel_dirty_page(): TestClearPageDirty() (fully ordered), no tree_lock (2.6.23.17 mm/truncate.c:70)
                lk(a[2]!, 'xchg', dirty, `${cite}: cancel_dirty_page() → TestClearPageDirty(page) (2.6.23.17 mm/truncate.c:70)`)
              : // clear_page_dirty() → test_clear_page_dirty(): write_lock_irqsave(&mapping->tree_lock); TestClearPageDirty() (fully ordered)
                lk(a[2]!, 'xchg', dirty, `${cite}: clear_page_dirty() → test_clear_page_dirty(): TestClearPageDirty() under tree_lock`, {
                  under: treeLock(c, c.num('file')),
                }),
          ];
        },
        run: (c) => {
          const pfn = c.num('pfn');
          if (c.page(pfn).mapping !== c.num('file')) {
            c.ret(0);
            return;
          }
          c.detachPrivate(pfn);
          c.updPage(pfn, { flags: c.page(pfn).flags & ~PG.dirty });
          c.goto(o.v2623 ? 'remove' : 'uptodate');
        },
      },
      uptodate,
      remove,
    },
  };
}

export const truncateCompletePage: Proc = truncateCompletePageProc({ v2623: false });
