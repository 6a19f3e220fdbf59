/**
 * linux-2.6.23 file fault (the fix mainline took, Nick Piggin 2007): __do_fault → filemap_fault.
 * The page is found *locked* (find_lock_page), its mapping and i_size rechecked under the page
 * lock, and it stays locked across pte_offset_map_lock, set_pte_at, page_add_file_rmap and the
 * PTE unlock; only then unlock_page. No truncate_count in the fault any more.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { FAULT_OK, FAULT_SIGBUS, faultEnd, faultSite, pteAcc, ptlLoc } from '../../kernel/lib.js';
import { addToPageCache, lockPage, readpageIo, unlockFaultPage } from '../../kernel/pagecache.js';
import { addFileRmapAndUnlock, handlePteFault, ptlBusy } from '../linux-2.6.15/fault.js';

/** Under the page lock: uptodate → recheck i_size, else page_not_uptodate. */
function lockedPage(c: Ctx): void {
  c.goto((c.page(c.num('pfn')).flags & PG.uptodate) ? 'isize2' : 'readpage');
}

export const doFault2623: Proc = {
  fn: '__do_fault',
  where: 'mm/memory.c',
  entry: 'pte',
  steps: {
    pte: handlePteFault((c) => c.goto('isize')),
    isize: {
      label: 'filemap_fault: size = (i_size_read(inode) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT; if (vmf->pgoff >= size) goto outside_data_content',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [r(`${c.M(c.num('file'))}.i_size`)],
      run: (c) => {
        if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / 4096)) { faultEnd(c, FAULT_SIGBUS); return; }
        c.goto('find');
      },
    },
    find: {
      label: 'retry_find: page = find_lock_page(mapping, vmf->pgoff) [tree_lock: lookup, page_cache_get, TestSetPageLocked]',
      where: 'mm/filemap.c find_lock_page()',
      acc: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        const a = [r(`${c.M(c.num('file'))}.tree`)];
        if (pfn !== NONE) a.push(w(`${c.P(pfn)}.refcount`), acquire(`lock:${c.P(pfn)}`), r(`${c.P(pfn)}.flags.uptodate`));
        return a;
      },
      run: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        c.set('pfn', pfn);
        if (pfn === NONE) { c.goto('add'); return; }
        c.ref(pfn, 1);
        if (c.page(pfn).locker !== NONE) { c.goto('lock'); return; } // TestSetPageLocked failed: sleep in __lock_page
        c.lockPage(pfn);
        lockedPage(c);
      },
    },
    lock: lockPage('__lock_page(page); if (unlikely(page->mapping != mapping)) { unlock_page(page); page_cache_release(page); goto repeat; }',
      (c) => [r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.P(c.num('pfn'))}.flags.uptodate`), w(`${c.P(c.num('pfn'))}.refcount`)],
      (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).mapping !== c.num('file')) {
          c.effect(`pfn${pfn} was truncated/invalidated while we slept: repeat`);
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          c.goto('find');
          return;
        }
        lockedPage(c);
      }, 'mm/filemap.c find_lock_page()'),
    add: addToPageCache('readio', 'find', 'mm/filemap.c page_cache_read()'),
    readio: readpageIo('find', true),
    readpage: readpageIo('find', true, 'mm/filemap.c filemap_fault() page_not_uptodate: readpage'),
    isize2: {
      label: '/* Must recheck i_size under page lock */ if (unlikely(vmf->pgoff >= size)) { unlock_page(page); page_cache_release(page); goto outside_data_content; }',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [r(`${c.M(c.num('file'))}.i_size`), ...(c.num('index') >= Math.ceil(c.map(c.num('file')).isize / 4096)
        ? [release(`lock:${c.P(c.num('pfn'))}`), w(`${c.P(c.num('pfn'))}.refcount`)] : [])],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / 4096)) {
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          faultEnd(c, FAULT_SIGBUS);
          return;
        }
        c.goto('ptl');
      },
    },
    ptl: {
      label: 'page_table = pte_offset_map_lock(); if (likely(pte_same(*page_table, orig_pte))) set_pte_at(...)',
      acc: (c) => [acquire(ptlLoc(c)), pteAcc(c, 'read'), pteAcc(c, 'write')],
      block: ptlBusy,
      run: (c) => {
        const { vma, i, ptl } = faultSite(c);
        c.setPtl(ptl, c.tid);
        if (c.pte(vma.id, i) !== NONE) {
          c.effect('PTE changed under us: back out');
          c.setPtl(ptl, NONE);
          c.set('backout', 1);
          c.goto('unlock');
          return;
        }
        c.setPte(vma, i, c.num('pfn'));
        c.goto('rmap');
      },
    },
    rmap: addFileRmapAndUnlock((c) => c.goto('unlock')),
    unlock: unlockFaultPage('out: unlock_page(vmf.page)', 'out: unlock_page(vmf.page); page_cache_release(vmf.page)',
      (c) => faultEnd(c, FAULT_OK)),
  },
};
