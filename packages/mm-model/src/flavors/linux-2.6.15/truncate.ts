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
import { END, PAGEVEC_SIZE_2_6, advance, cur, floorAcc, gangLookup, ilockLoc, lookupAcc, pagesFrom, putAll, removeAcc } from '../../kernel/lib.js';
import { callUnmap } from '../../kernel/unmap.js';
import { inodeUnlock, withInodeLock } from '../../kernel/pagecache.js';
import { coherentAcc } from '../../kernel/lib.js';

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
        label: (c) => (c.map(c.num('file')).isize < c.num('size') ? 'if (inode->i_size < offset) goto do_expand; i_size_write(inode, offset)'
          : 'i_size_write(inode, offset)'),
        acc: (c) => [
          lk(r(`${c.M(c.num('file'))}.i_size`), 'plain-read', c.map(c.num('file')).isize, 'mm/memory.c vmtruncate() 2.6.15: if (inode->i_size < offset)'),
          // i_size_write() is a plain store on 64-bit SMP (include/linux/fs.h 2.6.15)
          lk(w(`${c.M(c.num('file'))}.i_size`), 'plain-write', c.num('size'), 'mm/memory.c vmtruncate() 2.6.15: i_size_write(inode, offset)'),
          w(`${c.M(c.num('file'))}.disk`),
        ],
        run: (c) => {
          const file = c.num('file'); const size = c.num('size');
          const old = c.map(file).isize;
          c.op({ kind: 'truncate_begin', fn: 'vmtruncate', file: c.fileRef(file), size: BigInt(size), start: pagesFrom(size), end: END });
          c.updMap(file, { isize: size }, `i_size ${old}→${size}`);
          c.op({ kind: 'isize_set', file: c.fileRef(file), size: BigInt(size) });
          if (old < size) { c.goto('fstrunc'); return; } // do_expand: nothing to unmap or drop
          // From the i_size write on, the bytes past EOF are zeros (readpage clamps to i_size).
          c.zeroRange(file, pagesFrom(size), END, false);
          callUnmap(c, 'unmap_mapping_range', file, pagesFrom(size), END, true, 'pages');
        },
      },
      pages: {
        label: 'truncate_inode_pages(mapping, offset)',
        run: (c) => c.call('truncate_inode_pages', 'nrpages', {
          file: c.num('file'), start: pagesFrom(c.num('size')), end: END, next: 0, pvec: [], i: 0, pfn: NONE,
        }, opts.unmapAfter ? 'unmap2' : 'fstrunc'),
      },
      unmap2: {
        label: 'unmap_mapping_range(mapping, offset + PAGE_SIZE - 1, 0, 1)',
        run: (c) => callUnmap(c, 'unmap_mapping_range', c.num('file'), pagesFrom(c.num('size')), END, true, 'fstrunc'),
      },
      fstrunc: {
        // 2.6.23 mm/memory.c:2054-2055 out_truncate: the filesystem frees the blocks past EOF.
        label: 'out_truncate: if (inode->i_op && inode->i_op->truncate) inode->i_op->truncate(inode)',
        acc: (c) => [r(`${c.M(c.num('file'))}.i_size`), w(`${c.M(c.num('file'))}.disk`)],
        run: (c) => {
          const file = c.num('file');
          c.freeBlocks(file, pagesFrom(c.map(file).isize), END);
          c.goto('done');
        },
      },
      done: {
        label: 'return 0; do_truncate: up/mutex_unlock(&inode->i_sem|i_mutex)',
        acc: (c) => [floorAcc(c, c.num('file')), release(ilockLoc(c, c.num('file'))), ...truncateReturnAcc(c)],
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
  const isize = withInodeLock(opts.ilock === 'i_sem' ? 'do_truncate: down(&dentry->d_inode->i_sem)' : 'do_truncate: mutex_lock(&dentry->d_inode->i_mutex)',
    () => false, p.steps.isize!);
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
    acc: (c) => [r(`${c.P(c.num('pfn'))}.mapcount`)],
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
      acc: (c) => [r(`${c.M(c.num('file'))}.nrpages`)],
      run: (c) => {
        if (c.map(c.num('file')).nrpages === 0) { c.ret(0); return; }
        c.set('next', c.num('start'));
        c.goto('lookup1');
      },
    },
    lookup1: {
      label: 'while (next <= end && pagevec_lookup(&pvec, mapping, next, PAGEVEC_SIZE))',
      acc: (c) => lookupAcc(c, c.num('file'), gangLookup(c, c.num('file'), c.num('next'), END, PAGEVEC_SIZE_2_6)),
      run: (c) => {
        const pv = c.num('next') <= c.num('end') ? gangLookup(c, c.num('file'), c.num('next'), END, PAGEVEC_SIZE_2_6) : [];
        if (pv.length === 0) { c.set('next', c.num('start')); c.goto('lookup2'); return; }
        for (const p of pv) c.ref(p, 1);
        c.set('pvec', pv); c.set('i', 0);
        c.goto('trylock1');
      },
    },
    trylock1: {
      label: 'if (TestSetPageLocked(page)) continue; if (PageWriteback(page)) { unlock_page(page); continue; }',
      acc: (c) => [acquire(`lock:${c.P(cur(c))}`), r(`${c.P(cur(c))}.flags.writeback`)],
      run: (c) => {
        const pfn = cur(c);
        const ix = c.page(pfn).index;
        if (ix > c.num('end')) { c.set('next', ix); c.goto('release1'); return; }
        c.set('next', Math.max(c.num('next'), ix) + 1);
        c.set('pfn', pfn);
        if (c.page(pfn).locker !== NONE) { c.effect(`pfn${pfn} is locked: skipped`); advance(c, 'trylock1', 'release1'); return; }
        c.lockPage(pfn);
        if (c.page(pfn).flags & PG.writeback) { c.unlockPage(pfn); advance(c, 'trylock1', 'release1'); return; }
        if (opts.unmapMapped) c.goto('mapped1');
        else callComplete(c, 'unlock1');
      },
    },
    unlock1: {
      label: 'unlock_page(page)',
      acc: (c) => [release(`lock:${c.P(c.num('pfn'))}`)],
      run: (c) => { c.unlockPage(c.num('pfn')); advance(c, 'trylock1', 'release1'); },
    },
    release1: {
      label: 'pagevec_release(&pvec); cond_resched()',
      acc: (c) => c.list('pvec').map((p) => w(`${c.P(p)}.refcount`)),
      run: (c) => {
        putAll(c, c.list('pvec'));
        c.set('pvec', []);
        if (c.num('next') <= c.num('end')) c.goto('lookup1');
        else { c.set('next', c.num('start')); c.goto('lookup2'); }
      },
    },
    lookup2: {
      label: 'for (;;) { cond_resched(); if (!pagevec_lookup(&pvec, mapping, next, PAGEVEC_SIZE)) { if (next == start) break; next = start; continue; } }',
      acc: (c) => lookupAcc(c, c.num('file'), gangLookup(c, c.num('file'), c.num('next'), END, PAGEVEC_SIZE_2_6)),
      run: (c) => {
        const pv = gangLookup(c, c.num('file'), c.num('next'), END, PAGEVEC_SIZE_2_6);
        if (pv.length === 0) {
          if (c.num('next') === c.num('start')) { c.ret(0); return; }
          c.set('next', c.num('start'));
          c.goto('lookup2');
          return;
        }
        if (c.page(pv[0]!).index > c.num('end')) { c.ret(0); return; } // pagevec_release of pages we never referenced
        for (const p of pv) c.ref(p, 1);
        c.set('pvec', pv); c.set('i', 0);
        c.goto('lock2');
      },
    },
    lock2: {
      label: 'lock_page(page); wait_on_page_writeback(page)',
      acc: (c) => [acquire(`lock:${c.P(cur(c))}`), r(`${c.P(cur(c))}.flags.writeback`)],
      block: (c) => (c.page(cur(c)).index > c.num('end') ? undefined : c.pageLockHeld(cur(c))),
      run: (c) => {
        const pfn = cur(c);
        const ix = c.page(pfn).index;
        if (ix > c.num('end')) { c.goto('release2'); return; }
        c.lockPage(pfn);
        c.set('pfn', pfn);
        c.set('next', Math.max(c.num('next'), ix) + 1);
        if (opts.unmapMapped) c.goto('mapped2');
        else callComplete(c, 'unlock2');
      },
    },
    unlock2: {
      label: 'unlock_page(page)',
      acc: (c) => [release(`lock:${c.P(c.num('pfn'))}`)],
      run: (c) => { c.unlockPage(c.num('pfn')); advance(c, 'lock2', 'release2'); },
    },
    release2: {
      label: 'pagevec_release(&pvec)',
      acc: (c) => c.list('pvec').map((p) => w(`${c.P(p)}.refcount`)),
      run: (c) => { putAll(c, c.list('pvec')); c.set('pvec', []); c.goto('lookup2'); },
    },
  };
  if (opts.unmapMapped) {
    steps.mapped1 = unmapIfMapped('complete1');
    steps.complete1 = { label: 'truncate_complete_page(mapping, page)', run: (c) => callComplete(c, 'unlock1') };
    steps.mapped2 = unmapIfMapped('complete2');
    steps.complete2 = { label: 'truncate_complete_page(mapping, page)', run: (c) => callComplete(c, 'unlock2') };
  }
  return { fn: 'truncate_inode_pages', where: 'mm/truncate.c', entry: 'nrpages', steps };
}

export const truncateCompletePage: Proc = {
  fn: 'truncate_complete_page',
  where: 'mm/truncate.c',
  entry: 'mapping',
  steps: {
    mapping: {
      label: 'if (page->mapping != mapping) return; if (PagePrivate(page)) do_invalidatepage(page, 0); clear_page_dirty(page)',
      acc: (c) => [r(`${c.P(c.num('pfn'))}.mapping`), w(`${c.P(c.num('pfn'))}.flags.private`), w(`${c.P(c.num('pfn'))}.flags.dirty`)],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).mapping !== c.num('file')) { c.ret(0); return; }
        c.updPage(pfn, { flags: c.page(pfn).flags & ~(PG.private | PG.dirty) });
        c.goto('uptodate');
      },
    },
    uptodate: {
      label: 'ClearPageUptodate(page); ClearPageMappedToDisk(page)',
      acc: (c) => [w(`${c.P(c.num('pfn'))}.flags.uptodate`)],
      run: (c) => { c.setFlag(c.num('pfn'), 'uptodate', false); c.goto('remove'); },
    },
    remove: {
      label: 'remove_from_page_cache(page) [tree_lock]; page_cache_release(page)',
      acc: (c) => [w(`${c.M(c.num('file'))}.tree_lock`), ...removeAcc(c, c.num('pfn')), w(`${c.P(c.num('pfn'))}.refcount`)],
      run: (c) => {
        const pfn = c.num('pfn');
        c.removeFromCache(pfn);
        c.ref(pfn, -1);
        c.ret(0);
      },
    },
  },
};
