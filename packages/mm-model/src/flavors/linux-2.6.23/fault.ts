/**
 * linux-2.6.23 file fault (the fix mainline took, Nick Piggin 2007): __do_fault → filemap_fault.
 * The page is found *locked* (find_lock_page), its mapping and i_size rechecked under the page
 * lock, and it stays locked across pte_offset_map_lock, set_pte_at, page_add_file_rmap and the
 * PTE unlock; only then unlock_page. No truncate_count in the fault any more.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { FAULT_OK, FAULT_SIGBUS, faultEnd, faultSite, pteAcc, ptlLoc } from '../../kernel/lib.js';
import { addToPageCache, lockPage, readpageIo, unlockFaultPage } from '../../kernel/pagecache.js';
import { addFileRmapAndUnlock, allocMark, handlePteFault, pteRead26, ptlBusy } from '../linux-2.6.15/fault.js';
import { flagRead, getPageLocked, marked, notOnThisPath, pageLockMark, pageUnlockMark, pteMark, putPage, slotRead, treeLock } from '../../kernel/marks.js';

const FAULT = 'mm/filemap.c filemap_fault() 2.6.23';
const isizeRead = (c: Ctx, line: number): ReturnType<typeof r> =>
  lk(
    r(`${c.M(c.num('file'))}.i_size`),
    'plain-read',
    c.map(c.num('file')).isize,
    `${FAULT}: i_size_read(inode) is a plain load on 64-bit (2.6.23.17 mm/filemap.c:${line})`,
  );

/** Under the page lock: uptodate → recheck i_size, else page_not_uptodate. */
function lockedPage(c: Ctx): void {
  c.goto(c.page(c.num('pfn')).flags & PG.uptodate ? 'isize2' : 'readpage');
}

export const doFault2623: Proc = {
  fn: '__do_fault',
  where: 'mm/memory.c',
  entry: 'pte',
  // retry_find: find_lock_page() sets the page again before anything reads it (mm/filemap.c filemap_fault() 2.6.23)
  dead: { find: ['pfn'] },
  steps: {
    pte: handlePteFault((c) => c.goto('isize'), pteRead26),
    isize: {
      label: 'filemap_fault: size = (i_size_read(inode) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT; if (vmf->pgoff >= size) goto outside_data_content',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [isizeRead(c, 1317)],
      run: (c) => {
        if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / 4096)) {
          faultEnd(c, FAULT_SIGBUS);
          return;
        }
        c.goto('find');
      },
    },
    find: {
      label: 'retry_find: page = find_lock_page(mapping, vmf->pgoff) [tree_lock: lookup, page_cache_get, TestSetPageLocked]',
      where: 'mm/filemap.c find_lock_page()',
      acc: (c) => {
        const file = c.num('file');
        const pfn = c.lookup(file, c.num('index'));
        // find_lock_page (2.6.23.17 mm/filemap.c:628-633): under read_lock_irq(&mapping->tree_lock):
        // radix_tree_lookup, page_cache_get, TestSetPageLocked; then filemap_fault's PageUptodate
        const cite = 'mm/filemap.c find_lock_page() 2.6.23 (2.6.23.17 mm/filemap.c:628-633)';
        const a = [slotRead(c, file, c.num('index'), `${cite}: radix_tree_lookup()`)];
        if (pfn === NONE) return a;
        if (c.page(pfn).locker !== NONE) {
          // TestSetPageLocked fails: __lock_page sleeps (left unmarked: smp_mb() in a derived test)
          return [...a, getPageLocked(c, file, pfn, `${cite}: page_cache_get(page)`), acquire(`lock:${c.P(pfn)}`), r(`${c.P(pfn)}.flags.uptodate`)];
        }
        const lock = pageLockMark(acquire(`lock:${c.P(pfn)}`), cite);
        return [
          ...a,
          getPageLocked(c, file, pfn, `${cite}: page_cache_get(page)`),
          { ...lock, lkmm: { ...lock.lkmm!, under: treeLock(c, file) } },
          flagRead(c, pfn, 'uptodate', `${FAULT}: PageUptodate(page) (2.6.23.17 mm/filemap.c:1388)`),
        ];
      },
      run: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        c.set('pfn', pfn);
        if (pfn === NONE) {
          c.goto('add');
          return;
        }
        c.ref(pfn, 1);
        if (c.page(pfn).locker !== NONE) {
          c.goto('lock');
          return;
        } // TestSetPageLocked failed: sleep in __lock_page
        c.lockPage(pfn);
        lockedPage(c);
      },
    },
    lock: lockPage(
      '__lock_page(page); if (unlikely(page->mapping != mapping)) { unlock_page(page); page_cache_release(page); goto repeat; }',
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
      },
      'mm/filemap.c find_lock_page()',
    ),
    add: marked(addToPageCache('readio', 'find', 'mm/filemap.c page_cache_read()'), (_c, a) => allocMark(a)),
    readio: readpageIo('find', true),
    readpage: readpageIo('find', true, 'mm/filemap.c filemap_fault() page_not_uptodate: readpage'),
    isize2: {
      label:
        '/* Must recheck i_size under page lock */ if (unlikely(vmf->pgoff >= size)) { unlock_page(page); page_cache_release(page); goto outside_data_content; }',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [
        isizeRead(c, 1392),
        ...(c.num('index') >= Math.ceil(c.map(c.num('file')).isize / 4096)
          ? [pageUnlockMark(release(`lock:${c.P(c.num('pfn'))}`), FAULT), putPage(c, c.num('pfn'), `${FAULT}: page_cache_release(page)`)]
          : []),
      ],
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
      acc: (c) => {
        // __do_fault (2.6.23.17 mm/memory.c:2422-2440): pte_offset_map_lock; pte_same(*page_table, orig_pte); set_pte_at: plain C
        const cite = 'mm/memory.c __do_fault() 2.6.23 (2.6.23.17 mm/memory.c:2422-2440)';
        const pte = c.pte(faultSite(c).vma.id, faultSite(c).i);
        return [
          lk(acquire(ptlLoc(c)), 'spin_lock', 0, `${cite}: pte_offset_map_lock()`),
          pteMark(pteAcc(c, 'read'), pte, `${cite}: pte_same(*page_table, orig_pte)`),
          pte === NONE ? pteMark(pteAcc(c, 'write'), c.num('pfn'), `${cite}: set_pte_at()`) : notOnThisPath(pteAcc(c, 'write'), 'the PTE changed: back out'),
        ];
      },
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
    unlock: marked(
      unlockFaultPage('out: unlock_page(vmf.page)', 'out: unlock_page(vmf.page); page_cache_release(vmf.page)', (c) => faultEnd(c, FAULT_OK)),
      (c, a) =>
        a.lock === 'release'
          ? pageUnlockMark(a, 'mm/memory.c __do_fault() 2.6.23: unlock_page(vmf.page)')
          : putPage(c, c.num('pfn'), 'mm/memory.c __do_fault() 2.6.23: page_cache_release(vmf.page)'),
    ),
  },
};
