/**
 * linux-2.6.23 file fault (the fix mainline took, Nick Piggin 2007): __do_fault → filemap_fault.
 * The page is found *locked* (find_lock_page), its mapping and i_size rechecked under the page
 * lock, and it stays locked across pte_offset_map_lock, set_pte_at, page_add_file_rmap and the
 * PTE unlock; only then unlock_page. No truncate_count in the fault any more.
 *
 * A store's fault (local `write` = 1: FAULT_FLAG_WRITE on a VM_SHARED mapping; ext3 has no
 * ->page_mkwrite in 2.6.23, so page_mkwrite stays 0) follows 2.6.23.17 mm/memory.c:
 * set_pte_at of `maybe_mkwrite(pte_mkdirty(entry), vma)` (2438-2440: the PTE writable and
 * dirty), page_add_file_rmap then `dirty_page = page; get_page(dirty_page)` (2447-2451),
 * pte_unmap_unlock (2464), `out: unlock_page(vmf.page)` (2467), and only then
 * set_page_dirty_balance(dirty_page, page_mkwrite); put_page(dirty_page) (2471-2474): until that
 * last step the PTE is dirty, the page may be clean and holds the fault's extra reference.
 *
 * A store through a present, write-protected (clean) PTE takes do_wp_page (doWpPage2623,
 * below): handle_pte_fault (2594-2621) → do_wp_page's reuse of a shared page (1668-1719), then
 * wait_on_page_locked, set_page_dirty_balance and put_page after the PTE unlock (1778-1791).
 */
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { FAULT_OK, FAULT_SIGBUS, faultBegin, faultEnd, faultSite, pteAcc, ptlLoc } from '../../kernel/lib.js';
import { addToPageCache, lockPage, readpageIo, unlockFaultPage } from '../../kernel/pagecache.js';
import { addFileRmapAndUnlock, allocMark, handlePteFault, pteRead26, ptlBusy } from '../linux-2.6.15/fault.js';
import {
  flagRead,
  getPageLocked,
  mappingRead,
  marked,
  notOnThisPath,
  pageLockMark,
  pageUnlockMark,
  pteMark,
  putPage,
  slotRead,
  treeLock,
} from '../../kernel/marks.js';

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
      label: (c) =>
        c.opt('write') === 1
          ? 'page_table = pte_offset_map_lock(); if (likely(pte_same(*page_table, orig_pte))) { entry = maybe_mkwrite(pte_mkdirty(mk_pte(page, vma->vm_page_prot)), vma); set_pte_at(...) }'
          : 'page_table = pte_offset_map_lock(); if (likely(pte_same(*page_table, orig_pte))) set_pte_at(...)',
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
        // FAULT_FLAG_WRITE: `entry = maybe_mkwrite(pte_mkdirty(entry), vma)` (2.6.23.17 mm/memory.c:2438-2439)
        if (c.opt('write') === 1) c.setPteDirty(vma, i, true);
        c.goto('rmap');
      },
    },
    rmap: rmapDirtyPage(addFileRmapAndUnlock((c) => c.goto('unlock'))),
    unlock: marked(
      unlockFaultPage('out: unlock_page(vmf.page)', 'out: unlock_page(vmf.page); page_cache_release(vmf.page)', (c) =>
        c.opt('write') === 1 && !c.opt('backout') ? c.goto('dirty') : faultEnd(c, FAULT_OK),
      ),
      (c, a) =>
        a.lock === 'release'
          ? pageUnlockMark(a, 'mm/memory.c __do_fault() 2.6.23: unlock_page(vmf.page)')
          : putPage(c, c.num('pfn'), 'mm/memory.c __do_fault() 2.6.23: page_cache_release(vmf.page)'),
    ),
    // out_unlocked: `else if (dirty_page) { set_page_dirty_balance(dirty_page, page_mkwrite); put_page(dirty_page); }`
    dirty: setPageDirtyBalance(
      'out_unlocked: if (dirty_page) { set_page_dirty_balance(dirty_page, page_mkwrite); put_page(dirty_page); }',
      'mm/memory.c __do_fault()',
      '2471-2474',
    ),
  },
};

const MEM = 'mm/memory.c 2.6.23 (2.6.23.17';

/**
 * __do_fault's `if (flags & FAULT_FLAG_WRITE) { dirty_page = page; get_page(dirty_page); }` after
 * page_add_file_rmap and before pte_unmap_unlock (2.6.23.17 mm/memory.c:2447-2451, 2464).
 */
function rmapDirtyPage(base: StepDef): StepDef {
  const write = (c: Ctx) => c.opt('write') === 1;
  return {
    ...base,
    label: (c) =>
      write(c)
        ? 'page_add_file_rmap(page); dirty_page = page; get_page(dirty_page); pte_unmap_unlock(page_table, ptl)'
        : 'page_add_file_rmap(page); pte_unmap_unlock(page_table, ptl)',
    acc: (c) => {
      const a = base.acc!(c);
      if (!write(c)) return a;
      const pfn = c.num('pfn');
      // get_page() is atomic_inc(&page->_count), unordered (2.6.23.17 include/linux/mm.h get_page())
      const get = lk(w(`${c.P(pfn)}.refcount`), 'atomic_inc', c.page(pfn).refcount, `${MEM} mm/memory.c:2450): __do_fault(): get_page(dirty_page)`);
      return [...a.slice(0, -1), get, a[a.length - 1]!];
    },
    run: (c) => {
      if (write(c)) c.ref(c.num('pfn'), 1);
      base.run(c);
    },
  };
}

/**
 * set_page_dirty_balance(page, page_mkwrite) (2.6.23.17 mm/page-writeback.c:277-285) →
 * set_page_dirty (868-885): ext3's ordered aops have no ->set_page_dirty (fs/ext3/inode.c:1704-1716),
 * so __set_page_dirty_buffers (fs/buffer.c:738-758): page_mapping(page); with a mapping the
 * buffers dirtied under private_lock, then __set_page_dirty (687-711): TestSetPageDirty, the
 * radix-tree dirty tag under tree_lock (not modelled: writeback finds dirty pages by their flag);
 * without one (truncated meanwhile) a bare TestSetPageDirty. Either way PG_dirty is set.
 * balance_dirty_pages_ratelimited is not modelled (the model has no background writeback).
 * Then put_page(dirty_page): the fault's extra reference goes. `where`/`lines`: the caller's.
 */
function setPageDirtyBalance(label: string, where: string, lines: string): StepDef {
  return {
    label,
    where,
    acc: (c) => {
      const pfn = c.num('pfn');
      const fn = where.replace(/^mm\/memory\.c /, '');
      return [
        mappingRead(c, pfn, `mm/page-writeback.c set_page_dirty() 2.6.23: page_mapping(page) (2.6.23.17 mm/page-writeback.c:870; fs/buffer.c:740)`),
        lk(
          w(`${c.P(pfn)}.flags.dirty`),
          'xchg',
          c.page(pfn).flags & PG.dirty ? 1 : 0,
          `${MEM} mm/memory.c:${lines}): ${fn}: set_page_dirty_balance() → set_page_dirty() → __set_page_dirty_buffers(): TestSetPageDirty(page) (fs/buffer.c:693 or 743), test_and_set_bit(), fully ordered`,
        ),
        putPage(c, pfn, `${MEM} mm/memory.c:${lines}): ${fn}: put_page(dirty_page)`),
      ];
    },
    run: (c) => {
      const pfn = c.num('pfn');
      c.setFlag(pfn, 'dirty', true);
      c.ref(pfn, -1);
      faultEnd(c, FAULT_OK);
    },
  };
}

/**
 * A store through a present, write-protected PTE on 2.6.23 (kernel/store.ts `writeNotify`; local
 * `orig`: the pfn the CPU found mapped, clean). handle_pte_fault (2.6.23.17 mm/memory.c:2594-2621):
 * `entry = *pte`, present; `spin_lock(ptl); if (unlikely(!pte_same(*pte, entry))) goto unlock;`
 * write_access and `!pte_write(entry)` → do_wp_page (1645-1719): vm_normal_page, not PageAnon,
 * (VM_WRITE|VM_SHARED) without ->page_mkwrite: `dirty_page = old_page; get_page(dirty_page);
 * reuse = 1`; `entry = maybe_mkwrite(pte_mkdirty(pte_mkyoung(orig_pte)), vma);
 * ptep_set_access_flags()` (the PTE writable and dirty); `goto unlock: pte_unmap_unlock()`
 * (1778-1779). The lockless read, the locked section and the unlock are one step: under the PTE
 * lock nothing else happens, and the model's pte_same is "the PTE still maps `orig` and is
 * clean" (a dirty one is another entry). A PTE that changed (zapped, or made writable by
 * another thread's fault) returns 0 and the store's instruction walks again (in the kernel a
 * PTE found none at the lockless read goes to do_linear_fault at once; the store's retry gets
 * there with the same write fault).
 *
 * After the unlock (1780-1791): `wait_on_page_locked(dirty_page); set_page_dirty_balance(dirty_page,
 * page_mkwrite); put_page(dirty_page)`: two steps, since another thread may lock the page between
 * the wait and set_page_dirty.
 */
export const doWpPage2623: Proc = {
  fn: 'do_wp_page',
  where: 'mm/memory.c',
  entry: 'wp',
  steps: {
    wp: {
      label: (c) => {
        const { vma, i } = faultSite(c);
        const pfn = c.pte(vma.id, i);
        return pfn === c.num('orig') && !c.pteDirty(vma.id, i)
          ? 'handle_pte_fault: entry = *pte; spin_lock(ptl); pte_same; !pte_write(entry) → do_wp_page(): dirty_page = old_page; get_page(dirty_page); ptep_set_access_flags(maybe_mkwrite(pte_mkdirty(entry))); unlock: pte_unmap_unlock()'
          : 'handle_pte_fault: entry = *pte; the PTE changed since the CPU walked it: return (the instruction is retried)';
      },
      where: 'mm/memory.c do_wp_page()',
      acc: (c) => {
        const { vma, i } = faultSite(c);
        const pfn = c.pte(vma.id, i);
        const cite = `${MEM} mm/memory.c`;
        const read = pteMark(pteAcc(c, 'read'), pfn, `${cite}:2594, 2617): handle_pte_fault(): entry = *pte; pte_same(*pte, entry), plain C`);
        if (pfn === NONE) return [read];
        const a = [lk(acquire(ptlLoc(c)), 'spin_lock', 0, `${cite}:2616): handle_pte_fault(): spin_lock(ptl)`), read];
        if (pfn === c.num('orig') && !c.pteDirty(vma.id, i))
          a.push(
            mappingRead(c, pfn, `${cite}:1663): do_wp_page(): PageAnon(old_page) reads page->mapping`),
            lk(w(`${c.P(pfn)}.refcount`), 'atomic_inc', c.page(pfn).refcount, `${cite}:1705): do_wp_page(): get_page(dirty_page) is atomic_inc(), unordered`),
            pteMark(pteAcc(c, 'write'), pfn, `${cite}:1713): do_wp_page(): ptep_set_access_flags() → set_pte() (include/asm-x86_64/pgtable.h), plain C`),
          );
        a.push(lk(release(ptlLoc(c)), 'spin_unlock', 0, `${cite}:1779, 2640): pte_unmap_unlock()`));
        return a;
      },
      block: (c) => (c.pte(faultSite(c).vma.id, faultSite(c).i) === NONE ? undefined : ptlBusy(c)),
      run: (c) => {
        faultBegin(c);
        const { vma, i } = faultSite(c);
        const pfn = c.pte(vma.id, i);
        if (pfn !== c.num('orig') || c.pteDirty(vma.id, i)) {
          c.effect('the PTE changed: return, the store walks again');
          faultEnd(c, FAULT_OK);
          return;
        }
        c.set('pfn', pfn);
        c.ref(pfn, 1);
        c.setPteDirty(vma, i, true);
        c.goto('wait');
      },
    },
    wait: {
      label: 'unlock: if (dirty_page) wait_on_page_locked(dirty_page)',
      where: 'mm/memory.c do_wp_page()',
      acc: (c) => [flagRead(c, c.num('pfn'), 'locked', `${MEM} mm/memory.c:1789): do_wp_page(): wait_on_page_locked(dirty_page): PageLocked(page)`)],
      block: (c) => c.pageLockHeld(c.num('pfn')),
      run: (c) => c.goto('dirty'),
    },
    dirty: setPageDirtyBalance('set_page_dirty_balance(dirty_page, page_mkwrite); put_page(dirty_page)', 'mm/memory.c do_wp_page()', '1790-1791'),
  },
};
