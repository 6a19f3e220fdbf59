/**
 * linux-6.12 VM_FAULT_RETRY (6.12.118 line numbers). filemap_fault drops the fault lock where
 * 6.1's does, with the same code: lock_folio_maybe_drop_mmap (mm/filemap.c:3117-3135: a failed
 * folio_trylock, then `*fpin = maybe_unlock_mmap_for_io(vmf, *fpin)` and
 * __folio_lock_killable), `if (fpin) { folio_unlock(folio); goto out_retry; }` (3410-3413),
 * page_not_uptodate (3438-3441) and out_retry (3450-3463). maybe_unlock_mmap_for_io
 * (mm/internal.h) drops the lock only while fault_flag_allow_retry_first() holds (ALLOW_RETRY
 * set, FAULT_FLAG_TRIED clear: include/linux/mm.h:518-522); release_fault_lock()
 * (include/linux/mm.h:789-795) drops the per-VMA lock under FAULT_FLAG_VMA_LOCK, else the
 * mmap_lock. The steps are 6.1's (flavors/linux-6.1/retry.ts, withFaultRetry); what 6.12 adds is
 * where the fault runs (arch/x86/mm/fault.c, do_user_addr_fault):
 *
 * - a user fault tries first under the per-VMA lock (lock_vma_under_rcu, 1327; handle_mm_fault
 *   with FAULT_FLAG_VMA_LOCK, 1336), FAULT_FLAG_TRIED clear;
 * - on VM_FAULT_RETRY it sets FAULT_FLAG_TRIED only `if (fault & VM_FAULT_MAJOR)` (1345-1346)
 *   and faults again under the mmap_lock (lock_mmap: retry:, 1356-1359). VM_FAULT_MAJOR is
 *   filemap_fault's `ret = VM_FAULT_MAJOR` when filemap_get_folio found nothing (3339-3346);
 * - so a fault that found its folio cached runs its second try as a first try again: it may
 *   drop the mmap_lock and retry once more, and only that retry has FAULT_FLAG_TRIED
 *   (`if (unlikely(fault & VM_FAULT_RETRY)) { flags |= FAULT_FLAG_TRIED; goto retry; }`,
 *   1408-1412).
 *
 * Locals: `tried` (FAULT_FLAG_TRIED) and `fpin` as in 6.1; `vl`: 1 while the fault runs under
 * the per-VMA lock, 2 once that try's filemap_get_folio missed (VM_FAULT_MAJOR), 0 under the
 * mmap_lock. Nothing modelled takes a VMA or the mmap_lock for writing, so which of the two the
 * fault holds blocks no thread; it only decides whether the next try may drop it again.
 */
import type { Ctx } from '../../ctx.js';
import type { Proc, StepDef } from '../../program.js';
import { withFaultRetry } from '../linux-6.1/retry.js';
import { faultAroundFor, withStableUptodate } from '../linux-6.1/reduce.js';
import { handlePteFault } from '../linux-2.6.15/fault.js';
import { markPte612 } from './fault.js';
import { NONE, PG } from '../../state.js';
import { faultSite } from '../../kernel/lib.js';
import { mapPagesLocals612, nextEntry612 } from './map-pages.js';
import { V612, folioPut612 } from '../../kernel/marks612.js';
import { rwsemUnlock } from '../../kernel/marks6.js';

/** A fault's entry locals on 6.12: not tried, nothing pinned, under the per-VMA lock. */
export const RETRY_LOCALS_612 = { tried: 0, fpin: 0, vl: 1 } as const;

const FF = `mm/filemap.c filemap_fault() ${V612}`;
const text = (s: StepDef, c: Ctx) => (typeof s.label === 'string' ? s.label : s.label(c));

/** do_read_fault → do_fault_around → filemap_map_pages (mm/memory.c:5320-5324), as procedure `proc`. */
const faultAround = (proc: string) => (c: Ctx) => c.call(proc, 'begin', mapPagesLocals612(faultSite(c).vma, c.num('index')), 'around');

/**
 * `proc` (6.12's do_read_fault, its filemap_fault steps get, lock and read, and its PTE walk
 * `pte`) with 6.12's retry: out_retry retries under the mmap_lock, a first try again when the
 * per-VMA lock's try was not VM_FAULT_MAJOR; the retried fault walks the PTE again (`pte`'s
 * step, fault-around first).
 */
export function withFaultRetry612(proc: Proc, mapPages: string): Proc {
  const pte = proc.steps.pte!;
  const get = proc.steps.get!;
  const p = withFaultRetry(proc, faultAround(mapPages));
  const s = p.steps;
  const lock = s.lock!;
  const read = s.read!;
  const out = s.out_retry!;
  const steps: Record<string, StepDef> = {
    ...s,
    get: {
      ...get,
      run: (c) => {
        get.run(c);
        // filemap_fault: `ret = VM_FAULT_MAJOR` on a page cache miss (mm/filemap.c:3345)
        if (c.num('pfn') === NONE && c.num('vl') === 1) c.set('vl', 2);
      },
    },
    lock: {
      ...lock,
      where: 'mm/filemap.c:3117-3135 lock_folio_maybe_drop_mmap(), 3368-3415 filemap_fault()',
      run: (c) => {
        const pg = c.page(c.num('pfn'));
        const first = !c.num('tried') && !c.num('fpin');
        const found = !c.num('fpin') && !(first && pg.locker !== NONE) && pg.mapping === c.num('file') && (pg.flags & PG.uptodate) !== 0;
        lock.run(c);
        // past the last point that reads FAULT_FLAG_TRIED and the fault's lock kind (withFaultRetry clears
        // `tried` here): a retried fault is a fresh one from here
        if (found) c.set('vl', RETRY_LOCALS_612.vl);
      },
    },
    read: {
      ...read,
      where: 'mm/filemap.c:3431-3439 filemap_fault() page_not_uptodate, 2373-2388 filemap_read_folio()',
      // 6.12's read step is not LKMM-marked: keep it so (withFaultRetry marks it with 6.1.192's lines)
      acc: (c) => proc.steps.read!.acc!(c),
    },
    read_wait: {
      ...s.read_wait!,
      where: 'mm/filemap.c:2389-2396 filemap_read_folio(), 3440-3448 filemap_fault()',
    },
    out_retry: {
      ...out,
      label: (c) =>
        `${text(out, c)}; do_user_addr_fault(): ${
          c.num('vl') === 1
            ? 'the per-VMA lock try was not VM_FAULT_MAJOR: FAULT_FLAG_TRIED stays clear; lock_mmap: lock_mm_and_find_vma()'
            : c.num('vl') === 2
              ? 'if (fault & VM_FAULT_MAJOR) flags |= FAULT_FLAG_TRIED; lock_mmap: lock_mm_and_find_vma()'
              : 'flags |= FAULT_FLAG_TRIED; goto retry'
        }`,
      where: 'mm/filemap.c:3450-3463 filemap_fault(), arch/x86/mm/fault.c:1336-1359, 1408-1412 do_user_addr_fault()',
      acc: (c) =>
        out.acc!(c).map((a) =>
          a.loc.endsWith('.refcount')
            ? folioPut612(c, a, c.num('pfn'), `${FF}: out_retry: if (!IS_ERR(folio)) folio_put(folio) (mm/filemap.c:3456)`)
            : a.lock === 'release'
              ? rwsemUnlock(a, `${FF}: out_retry: if (mapping_locked) filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:3458)`)
              : a,
        ),
      run: (c) => {
        const vl = c.num('vl');
        out.run(c);
        if (vl === 1) c.set('tried', 0);
        c.set('vl', 0);
      },
    },
    again: {
      ...s.again!,
      label: (c) =>
        `VM_FAULT_RETRY: do_user_addr_fault(): ${c.num('tried') ? 'FAULT_FLAG_TRIED' : 'a first try again'}; lock_mm_and_find_vma() [mmap_read_lock]; handle_mm_fault() → handle_pte_fault(): pte_none → do_fault`,
      where: 'arch/x86/mm/fault.c:1356-1412 do_user_addr_fault()',
      acc: (c) => pte.acc!(c),
    },
  };
  return { ...p, steps };
}

/**
 * 6.1's sound reductions (flavors/linux-6.1/reduce.ts; docs/flavors.md, "State-space
 * reductions"), which hold on 6.12 for the same reasons:
 * - filemap_fault's lockless `if (unlikely(!folio_test_uptodate(folio)))` (mm/filemap.c:3334)
 *   and next_uptodate_folio's (3515) that read the flag set run with the step after them (the
 *   folio lock, the trylock): no 6.12 step clears PG_uptodate of a page (a split's tails and a
 *   migration's destination are new pages), and the tested folio is pinned by a reference;
 * - do_read_fault's `if (ret) return ret` after do_fault_around (mm/memory.c:5321-5323) runs
 *   with filemap_map_pages' return, and the walk's pte_unmap_unlock (mm/filemap.c:3708) with
 *   the step that leaves the window (faultAroundFor).
 * `mapPages` is 6.12's filemap_map_pages; `fault` (withFaultRetry612's, whose retry calls
 * `do_fault_around`) calls the reduced copy of it, `do_fault_around`, from `pte` too.
 */
export function reduceFault612(fault: Proc, mapPages: Proc): { fault: Proc; faultAround: Proc; mapPages: Proc } {
  const s = fault.steps;
  const pte = handlePteFault(faultAround('do_fault_around'), markPte612);
  const steps: Record<string, StepDef> = {
    ...s,
    pte: { ...pte, label: s.pte!.label, where: s.pte!.where! },
    uptodate: withStableUptodate(s.uptodate!, s.lock!),
  };
  const reduced = { ...fault, steps };
  const around = faultAroundFor(mapPages, reduced, nextEntry612, NONE);
  return {
    fault: reduced,
    faultAround: { ...around, steps: Object.fromEntries(Object.entries(around.steps).map(([pc, st]) => [pc, cite612(st)])) },
    mapPages: { ...mapPages, steps: { ...mapPages.steps, uptodate: withStableUptodate(mapPages.steps.uptodate!, mapPages.steps.trylock!) } },
  };
}

/** faultAroundFor's pte_unmap_unlock carries 6.1.192's line: 6.12.118's is mm/filemap.c:3708. */
function cite612(st: StepDef): StepDef {
  const acc = st.acc;
  if (!acc) return st;
  return {
    ...st,
    acc: (c) =>
      acc(c).map((a) =>
        a.lkmm?.cite.startsWith('mm/filemap.c filemap_map_pages() 6.1.192')
          ? { ...a, lkmm: { ...a.lkmm, cite: `mm/filemap.c filemap_map_pages() ${V612}: pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/filemap.c:3708)` } }
          : a,
      ),
  };
}
