/**
 * linux-6.1 read fault on a shared file mapping: handle_pte_fault → do_read_fault, which
 * first tries fault-around (filemap_map_pages, map_pages.ts) and then __do_fault →
 * filemap_fault (mm/filemap.c) → finish_fault (mm/memory.c). filemap_fault returns the folio
 * locked, its mapping and i_size rechecked under the folio lock; finish_fault installs the
 * PTE under ptl (page_add_file_rmap, then set_pte_at) and the folio is unlocked afterwards.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc } from '../../program.js';
import { NONE, PAGE_SIZE, PG, PTRS_PER_PTE } from '../../state.js';
import type { VmaEnv } from '../../env.js';
import { FAULT_OK, FAULT_SIGBUS, faultEnd, faultSite, installAcc, pteAcc, ptlLoc, readIoAcc, dropInvalidateLock } from '../../kernel/lib.js';
import { getFolioCreat, invalidateLockShared, lockPage, unlockFaultPage } from '../../kernel/pagecache.js';
import { handlePteFault, ptlBusy } from '../linux-2.6.15/fault.js';
import { lk } from '../../program.js';
import { ghost, marked, notOnThisPath, pteMark } from '../../kernel/marks.js';
import { folioFlag, folioMapping, folioLock, folioPut, folioUnlock, iSizeRead, rwsemLock, rwsemUnlock, speculativeGet } from '../../kernel/marks6.js';
import type { Access } from '@kreplay/core';

const FF = 'mm/filemap.c filemap_fault() 6.1.192';

/** filemap_fault's folio lock and what it reads under it (lock_folio_maybe_drop_mmap, the mapping and uptodate tests), by the path the run takes. */
function lockMarks(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  const p = c.page(pfn);
  if (a.lock === 'acquire') return folioLock(a, `${FF}: lock_folio_maybe_drop_mmap() → folio_trylock()/__folio_lock_killable() (mm/filemap.c:3276)`);
  if (a.loc.endsWith('.mapping')) return folioMapping(c, a, pfn, `${FF}: if (unlikely(folio->mapping != mapping)) (mm/filemap.c:3280)`);
  // the other tests and drops happen only on the paths where the mapping is still ours
  if (p.mapping !== c.num('file'))
    return a.loc.endsWith('.refcount')
      ? folioPut(c, a, pfn, `${FF}: folio_put(folio) (mm/filemap.c:3282)`)
      : notOnThisPath(a, 'the folio was truncated: retry_find');
  if (a.loc.endsWith('.uptodate')) return folioFlag(c, a, pfn, 'uptodate', `${FF}: if (unlikely(!folio_test_uptodate(folio))) (mm/filemap.c:3291)`);
  const uptodate = (p.flags & PG.uptodate) !== 0;
  if (a.loc.endsWith('.refcount')) return uptodate ? notOnThisPath(a, 'the folio is uptodate: kept') : a; // not uptodate: unlock, put, retry (left unmarked)
  return uptodate
    ? rwsemUnlock(a, `${FF}: filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:3316)`)
    : notOnThisPath(a, 'the folio is not uptodate: the lock is kept for the read');
}

/** fault_around_bytes >> PAGE_SHIFT (the default 64 KiB). */
export const FAULT_AROUND_PAGES = 16;
/** filemap_map_pages mapped the faulting address: VM_FAULT_NOPAGE. */
export const VM_FAULT_NOPAGE = 1;

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

/**
 * do_fault_around() (mm/memory.c:4569-4600, 6.1.192): the window of file pages to try, clipped
 * to the VMA and the page table. Addresses are user virtual addresses, above 2^31 for a real
 * process: the masks are taken with whole-number arithmetic, not JavaScript's 32-bit `&`
 * (which cut `address & mask` to its low 32 bits and moved the window off the faulting page).
 */
export function faultAroundWindow(vma: VmaEnv, index: number, address: number): { start: number; end: number } {
  const nr = FAULT_AROUND_PAGES;
  const from = Math.max(address - (address % (nr * PAGE_SIZE)), vma.start); // max(address & mask, vm_start)
  const off = ((address - from) / PAGE_SIZE) % PTRS_PER_PTE;
  const start = index - off;
  let end = start - ((from / PAGE_SIZE) % PTRS_PER_PTE) + PTRS_PER_PTE - 1;
  end = Math.min(end, vma.pgoff + vma.pages - 1, start + nr - 1);
  return { start, end };
}

/** filemap_map_pages' entry locals for the fault-around window of (vma, index). */
export function mapPagesLocals(vma: VmaEnv, index: number) {
  const { start, end } = faultAroundWindow(vma, index, vma.start + (index - vma.pgoff) * PAGE_SIZE);
  return { vma: vma.id, file: vma.file, start, end, fidx: index, xi: start, pfn: NONE, held: NONE, ret: 0 };
}

/** handle_pte_fault's read of the PTE, a plain load. */
export const markOrigPte = (c: Ctx, a: Access): Access =>
  pteMark(a, c.pte(faultSite(c).vma.id, faultSite(c).i), 'mm/memory.c handle_pte_fault() 6.1.192: vmf->orig_pte = *vmf->pte (mm/memory.c:5008)');

/** retry_find: take invalidate_lock shared first if we do not hold it yet. */
function retryFind(c: Ctx): void {
  c.goto(c.num('ml') ? 'create' : 'ilock');
}

export const doReadFault61: Proc = {
  fn: 'do_read_fault',
  where: 'mm/memory.c',
  entry: 'pte',
  // do_fault_around's return value is tested at `around` only (mm/memory.c:4624-4628, 6.1.192)
  dead: { isize: ['rv'] },
  steps: {
    pte: handlePteFault((c) => {
      c.call('filemap_map_pages', 'next', mapPagesLocals(faultSite(c).vma, c.num('index')), 'around');
    }, markOrigPte),
    around: {
      label: 'if (should_fault_around(vmf)) { ret = do_fault_around(vmf); if (ret) return ret; }',
      run: (c) => {
        if (c.num('rv') === VM_FAULT_NOPAGE) {
          faultEnd(c, FAULT_OK);
          return;
        }
        c.goto('isize');
      },
    },
    isize: {
      label: 'filemap_fault: max_off = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE); if (index >= max_off) return VM_FAULT_SIGBUS',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [
        iSizeRead(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), `${FF}: max_idx = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE) (mm/filemap.c:3231)`),
      ],
      run: (c) => {
        if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) {
          faultEnd(c, FAULT_SIGBUS);
          return;
        }
        c.goto('get');
      },
    },
    get: {
      label: 'folio = filemap_get_folio(mapping, index) [RCU lookup, folio_try_get_rcu]',
      where: 'mm/filemap.c filemap_get_entry()',
      acc: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        return speculativeGet(
          c,
          c.num('file'),
          c.num('index'),
          pfn === NONE ? undefined : w(`${c.P(pfn)}.refcount`),
          `${FF}: filemap_get_folio() (mm/filemap.c:3238) → mapping_get_entry() (mm/filemap.c:1881-1895)`,
        );
      },
      run: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        c.set('pfn', pfn);
        if (pfn === NONE) {
          c.goto('ilock');
          return;
        }
        c.ref(pfn, 1);
        c.goto('uptodate');
      },
    },
    uptodate: {
      label: 'if (unlikely(!folio_test_uptodate(folio))) { filemap_invalidate_lock_shared(mapping); mapping_locked = true; }',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [
        folioFlag(
          c,
          r(`${c.P(c.num('pfn'))}.flags.uptodate`),
          c.num('pfn'),
          'uptodate',
          `${FF}: if (unlikely(!folio_test_uptodate(folio))) (mm/filemap.c:3246)`,
        ),
      ],
      run: (c) => c.goto(c.testFlag(c.num('pfn'), 'uptodate') ? 'lock' : 'ilock'),
    },
    ilock: {
      ...marked(
        invalidateLockShared('filemap_invalidate_lock_shared(mapping); mapping_locked = true', (c) => {
          c.set('ml', 1);
          c.goto(c.num('pfn') === NONE ? 'create' : 'lock');
        }),
        (_c, a) => rwsemLock(a, `${FF}: filemap_invalidate_lock_shared(mapping) (mm/filemap.c:3247, 3262)`),
      ),
      where: 'mm/filemap.c filemap_fault()',
    },
    create: getFolioCreat('retry_find: folio = __filemap_get_folio(mapping, index, FGP_CREAT|FGP_FOR_MMAP, gfp)', 'lock', 'create_unlock'),
    create_unlock: {
      label: '/* filemap_add_folio locks the page, and for mmap we expect an unlocked page */ folio_unlock(folio)',
      where: 'mm/filemap.c __filemap_get_folio()',
      acc: (c) => [release(`lock:${c.P(c.num('pfn'))}`)],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        c.goto('lock');
      },
    },
    lock: marked(
      lockPage(
        'folio_lock(folio); if (folio->mapping != mapping) { unlock; put; goto retry_find; }; if (!folio_test_uptodate(folio)) ...',
        (c) => [
          r(`${c.P(c.num('pfn'))}.mapping`),
          r(`${c.P(c.num('pfn'))}.flags.uptodate`),
          w(`${c.P(c.num('pfn'))}.refcount`),
          ...(c.num('ml') ? [release(invLockLoc(c))] : []),
        ],
        (c) => {
          const pfn = c.num('pfn');
          if (c.page(pfn).mapping !== c.num('file')) {
            c.effect(`pfn${pfn} got truncated: retry_find`);
            c.unlockPage(pfn);
            c.ref(pfn, -1);
            c.set('pfn', NONE);
            retryFind(c);
            return;
          }
          if (!(c.page(pfn).flags & PG.uptodate)) {
            if (!c.num('ml')) {
              c.unlockPage(pfn);
              c.ref(pfn, -1);
              c.set('pfn', NONE);
              c.goto('ilock');
              return;
            }
            c.goto('read');
            return;
          }
          if (c.num('ml')) {
            const file = c.num('file');
            dropInvalidateLock(c, file, true);
            c.set('ml', 0);
          }
          c.goto('isize2');
        },
        'mm/filemap.c filemap_fault()',
      ),
      lockMarks,
    ),
    // page_not_uptodate (mm/filemap.c:3332-3349, 6.1.192) → filemap_read_folio (2473-2504) in two
    // steps, as the kernel runs them in two contexts: `read` is the filler's submission and the
    // bio's completion (ext4_read_folio → ext4_mpage_readpages submits, mpage_end_io marks the
    // folio uptodate and unlocks it), `read_wait` is the faulting task waking in
    // folio_wait_locked_killable (2496) and going on: the uptodate test (2499), folio_put (3343)
    // and retry_find (3345-3346) with the invalidate_lock still held (it is dropped at 3316
    // under the folio lock, or at 3347 / 3360). Between the two, the folio is unlocked and
    // uptodate in the cache while the fault still holds its reference and the invalidate_lock:
    // other threads run there (lock it, truncate it, count its references). The submission and
    // the completion stay one step: from `lock` to the completion the folio is locked by the
    // fault and the model's state is the same before and after the submission (the data is
    // taken from the disk at the completion), so no other thread can tell them apart.
    read: {
      label:
        'page_not_uptodate: filemap_read_folio(file, read_folio, folio): folio_clear_error(folio); error = filler(file, folio) [submit_bio]; the I/O completes: folio_mark_uptodate(folio); folio_unlock(folio)',
      where: 'mm/filemap.c filemap_read_folio()',
      acc: (c) => [w(`${c.P(c.num('pfn'))}.flags.uptodate`), ...readIoAcc(c, c.num('pfn'), c.num('file')), release(`lock:${c.P(c.num('pfn'))}`)],
      run: (c) => {
        const pfn = c.num('pfn');
        c.setFlag(pfn, 'uptodate', true);
        c.unlockPage(pfn);
        c.goto('read_wait');
      },
    },
    read_wait: {
      label: (c) =>
        c.testFlag(c.num('pfn'), 'uptodate')
          ? 'filemap_read_folio: folio_wait_locked_killable(folio) returns; if (folio_test_uptodate(folio)) return 0; folio_put(folio); goto retry_find'
          : 'filemap_read_folio: folio_wait_locked_killable(folio) returns; !folio_test_uptodate(folio): return -EIO; folio_put(folio); filemap_invalidate_unlock_shared(mapping); return VM_FAULT_SIGBUS',
      where: 'mm/filemap.c filemap_read_folio(), filemap_fault()',
      acc: (c) => [
        folioFlag(
          c,
          r(`${c.P(c.num('pfn'))}.flags.uptodate`),
          c.num('pfn'),
          'uptodate',
          'mm/filemap.c filemap_read_folio() 6.1.192: if (folio_test_uptodate(folio)) (mm/filemap.c:2499)',
        ),
        folioPut(c, w(`${c.P(c.num('pfn'))}.refcount`), c.num('pfn'), `${FF}: folio_put(folio) (mm/filemap.c:3343)`),
        ...(c.testFlag(c.num('pfn'), 'uptodate')
          ? []
          : [rwsemUnlock(release(invLockLoc(c)), `${FF}: filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:3347)`)]),
      ],
      run: (c) => {
        const pfn = c.num('pfn');
        const uptodate = c.testFlag(pfn, 'uptodate');
        c.ref(pfn, -1);
        c.set('pfn', NONE);
        if (uptodate) {
          c.goto('create');
          return;
        }
        dropInvalidateLock(c, c.num('file'), true);
        c.set('ml', 0);
        faultEnd(c, FAULT_SIGBUS);
      },
    },
    isize2: {
      // mm/filemap.c:3321-3327 (6.1.192): /* Found the page and have a reference on it. We must recheck i_size under page lock. */
      label: 'max_off = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE); if (unlikely(index >= max_off)) { folio_unlock; folio_put; return VM_FAULT_SIGBUS; }',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [
        iSizeRead(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), `${FF}: max_idx = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE) (mm/filemap.c:3322)`),
        ...(c.num('index') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)
          ? [
              folioUnlock(release(`lock:${c.P(c.num('pfn'))}`), `${FF}: folio_unlock(folio) (mm/filemap.c:3324)`),
              folioPut(c, w(`${c.P(c.num('pfn'))}.refcount`), c.num('pfn'), `${FF}: folio_put(folio) (mm/filemap.c:3325)`),
            ]
          : []),
      ],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) {
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          faultEnd(c, FAULT_SIGBUS);
          return;
        }
        c.goto('ptl');
      },
    },
    ptl: {
      label: 'finish_fault: pte_offset_map_lock(); if (!vmf_pte_changed(vmf)) do_set_pte(): page_add_file_rmap(page)',
      where: 'mm/memory.c finish_fault()',
      acc: (c) => {
        const { vma, i } = faultSite(c);
        const FIN = 'mm/memory.c finish_fault() 6.1.192';
        const pte = c.pte(vma.id, i);
        const head = [
          lk(acquire(ptlLoc(c)), 'spin_lock', 0, `${FIN}: vmf->pte = pte_offset_map_lock() (mm/memory.c:4493)`),
          pteMark(pteAcc(c, 'read'), pte, `${FIN}: vmf_pte_changed(): !pte_none(*vmf->pte) (mm/memory.c:4433)`),
        ];
        if (pte !== NONE) return [...head, lk(release(ptlLoc(c)), 'spin_unlock', 0, `${FIN}: pte_unmap_unlock(vmf->pte, vmf->ptl)`)];
        const [mapcount, ...judged] = installAcc(c, c.num('pfn'), c.num('file'));
        return [
          ...head,
          lk(
            mapcount!,
            'atomic_inc_return',
            c.page(c.num('pfn')).mapcount,
            'mm/memory.c do_set_pte() 6.1.192: page_add_file_rmap() (mm/memory.c:4423): atomic_inc_and_test(&page->_mapcount) (mm/rmap.c:1329), fully ordered',
          ),
          ...judged.map((x) => ghost(x, 'the orphan-page-mapped judgement (page_add_file_rmap reads neither)')),
        ];
      },
      block: ptlBusy,
      run: (c) => {
        const { vma, i, ptl } = faultSite(c);
        c.setPtl(ptl, c.tid);
        if (c.pte(vma.id, i) !== NONE) {
          c.effect('PTE changed: VM_FAULT_NOPAGE');
          c.setPtl(ptl, NONE);
          c.set('backout', 1);
          c.goto('unlock');
          return;
        }
        c.addRmap(vma, i, c.num('pfn'));
        c.goto('setpte');
      },
    },
    setpte: {
      label: 'do_set_pte(): set_pte_at(vma->vm_mm, addr, vmf->pte, entry); pte_unmap_unlock(vmf->pte, vmf->ptl)',
      where: 'mm/memory.c do_set_pte()',
      acc: (c) => [
        lk(
          pteAcc(c, 'write'),
          'WRITE_ONCE',
          c.num('pfn'),
          'mm/memory.c do_set_pte() 6.1.192: set_pte_at() (mm/memory.c:4425) → native_set_pte(): WRITE_ONCE(*ptep, pte) (arch/x86/include/asm/pgtable_64.h:67)',
        ),
        lk(release(ptlLoc(c)), 'spin_unlock', 0, 'mm/memory.c finish_fault() 6.1.192: pte_unmap_unlock(vmf->pte, vmf->ptl)'),
      ],
      run: (c) => {
        const { vma, i, ptl } = faultSite(c);
        c.setPte(vma, i, c.num('pfn'));
        c.setPtl(ptl, NONE);
        c.goto('unlock');
      },
    },
    unlock: marked(
      unlockFaultPage('do_read_fault: unlock_page(vmf->page)', 'do_read_fault: unlock_page(vmf->page); put_page(vmf->page)', (c) => faultEnd(c, FAULT_OK)),
      (c, a) =>
        a.lock === 'release'
          ? folioUnlock(a, 'mm/memory.c do_read_fault() 6.1.192: unlock_page(vmf->page) (mm/memory.c:4635)')
          : folioPut(c, a, c.num('pfn'), 'mm/memory.c do_read_fault() 6.1.192: put_page(vmf->page) (mm/memory.c:4637)'),
    ),
  },
};
