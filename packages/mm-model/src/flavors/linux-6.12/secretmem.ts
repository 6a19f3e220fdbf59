/**
 * secretmem_fault (linux-6.12.117 mm/secretmem.c:110-175), the ->fault of a memfd_secret
 * mapping, followed by do_read_fault's finish_fault (secretmem has no ->map_pages, so there is
 * no fault-around). Under filemap_invalidate_lock_shared (126) — which two faulting tasks
 * share — a miss allocates a zeroed order-0 folio (132), removes its page from the kernel
 * direct map (set_direct_map_invalid_noflush, 144), marks it uptodate and adds it to the page
 * cache (filemap_add_folio, 151). The loser of two racing adds gets -EEXIST and must put the
 * page back into the direct map *before* dropping its last reference (6f86d0534fdd,
 * 161-162), then retries the lookup. Debian's per-inode accounting (secretmem_account_folio,
 * 137-141, 155) is not modelled. The option `restoreBeforePut` is that fix.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type StepDef } from '../../program.js';
import { NONE } from '../../state.js';
import { faultBegin, faultEnd, faultSite, pteAcc, dropInvalidateLock, takeInvalidateLock } from '../../kernel/lib.js';
import { findLockSteps } from './lock-folio.js';

export interface SecretmemOptions {
  /** 6f86d0534fdd: set_direct_map_default_noflush() before folio_put() on the -EEXIST path. */
  restoreBeforePut: boolean;
}

const ilockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;
const W = (where: string) => `mm/secretmem.c:${where} secretmem_fault()`;

/** Restore the direct map of the loser's page (it may already be freed: then the kernel writes a freed page's entry). */
function restore(c: Ctx): void {
  const np = c.num('np');
  if (c.state.pages[np] === undefined) c.effect(`set_direct_map_default_noflush(pfn${np}): the page is already back in the allocator`);
  else c.updPage(np, { nodirect: false });
}

/** The steps of secretmem_fault; they end in finish_fault (`fallback`) of the 6.12 fault procedure. */
export function secretmemSteps(o: SecretmemOptions): Record<string, StepDef> {
  return {
    sm_pte: {
      label: 'handle_pte_fault: pte_none → do_read_fault: no ->map_pages: __do_fault() → secretmem_fault()',
      where: 'mm/memory.c:5301-5318 do_read_fault()',
      acc: (c) => [pteAcc(c, 'read')],
      run: (c) => {
        faultBegin(c);
        const { vma, i } = faultSite(c);
        if (c.pte(vma.id, i) !== NONE) {
          faultEnd(c, 0);
          return;
        }
        c.goto('sm_isize');
      },
    },
    sm_isize: {
      label: 'if (((loff_t)vmf->pgoff << PAGE_SHIFT) >= i_size_read(inode)) return vmf_error(-EINVAL)',
      where: W('124-125'),
      acc: (c) => [r(`${c.M(c.num('file'))}.i_size`)],
      run: (c) => {
        if (c.num('index') * 4096 >= c.map(c.num('file')).isize) {
          faultEnd(c, 1);
          return;
        }
        c.goto('sm_ilock');
      },
    },
    sm_ilock: {
      label: 'filemap_invalidate_lock_shared(mapping)',
      where: W('126'),
      acc: (c) => [acquire(ilockLoc(c))],
      block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, ilockLoc(c), true),
      run: (c) => {
        const file = c.num('file');
        takeInvalidateLock(c, file, true);
        c.goto('sm_find');
      },
    },
    ...findLockSteps({
      find: 'sm_find',
      lock: 'sm_lock',
      next: 'sm_out',
      findLabel: 'retry: page = find_lock_page(mapping, offset) [lookup + folio_try_get]',
      findWhere: W('128-129'),
      lockCaller: 'find_lock_page',
      missAcc: () => [],
      miss: (c) => c.goto('sm_alloc'),
    }),
    sm_alloc: {
      label: 'folio = folio_alloc(gfp | __GFP_ZERO, 0); page = &folio->page',
      where: W('131-146'),
      acc: () => [w('alloc')],
      run: (c) => {
        c.set('np', c.allocPage());
        c.goto('sm_invalid');
      },
    },
    sm_invalid: {
      label: 'err = set_direct_map_invalid_noflush(page)',
      where: W('144'),
      acc: (c) => [w(`${c.P(c.num('np'))}.direct`)],
      run: (c) => {
        c.updPage(c.num('np'), { nodirect: true });
        c.goto('sm_add');
      },
    },
    sm_add: {
      label: '__folio_mark_uptodate(folio); err = filemap_add_folio(mapping, folio, offset, gfp)',
      where: W('150-151'),
      acc: (c) => {
        const P = c.P(c.num('np'));
        return [
          w(`${c.M(c.num('file'))}.tree`),
          w(`${c.M(c.num('file'))}.nrpages`),
          w(`${P}.flags.uptodate`),
          w(`${P}.mapping`),
          w(`${P}.refcount`),
          acquire(`lock:${P}`),
        ];
      },
      run: (c) => {
        const file = c.num('file');
        const np = c.num('np');
        c.setFlag(np, 'uptodate', true);
        if (c.lookup(file, c.num('index')) !== NONE) {
          c.effect('filemap_add_folio: -EEXIST (the other task added its page first)');
          c.goto(o.restoreBeforePut ? 'sm_restore' : 'sm_put');
          return;
        }
        c.addToCache(file, c.num('index'), np); // inserted locked; the allocation's reference is vmf->page's
        c.set('pfn', np);
        c.goto('sm_flush');
      },
    },
    sm_flush: {
      label: 'addr = page_address(page); flush_tlb_kernel_range(addr, addr + PAGE_SIZE)',
      where: W('170-171'),
      run: (c) => c.goto('sm_out'),
    },
    sm_restore: {
      label: o.restoreBeforePut ? 'set_direct_map_default_noflush(page)' : 'set_direct_map_default_noflush(page) /* after the put: too late */',
      where: o.restoreBeforePut ? W('161') : 'mm/secretmem.c secretmem_fault() (before 6f86d0534fdd)',
      acc: (c) => [w(`${c.P(c.num('np'))}.direct`)],
      run: (c) => {
        restore(c);
        c.goto(o.restoreBeforePut ? 'sm_put' : 'sm_retry');
      },
    },
    sm_put: {
      label: 'folio_put(folio)',
      where: o.restoreBeforePut ? W('162') : 'mm/secretmem.c secretmem_fault() (before 6f86d0534fdd)',
      acc: (c) => [w(`${c.P(c.num('np'))}.refcount`), w('alloc')],
      run: (c) => {
        c.ref(c.num('np'), -1);
        c.goto(o.restoreBeforePut ? 'sm_retry' : 'sm_restore');
      },
    },
    sm_retry: {
      label: 'if (err == -EEXIST) goto retry',
      where: W('163-164'),
      run: (c) => {
        c.set('np', NONE);
        c.goto('sm_find');
      },
    },
    sm_out: {
      label: 'vmf->page = page; ret = VM_FAULT_LOCKED; out: filemap_invalidate_unlock_shared(mapping); return ret',
      where: W('174-179'),
      acc: (c) => [release(ilockLoc(c))],
      run: (c) => {
        const file = c.num('file');
        dropInvalidateLock(c, file, true);
        c.goto('fallback');
      },
    },
  };
}
