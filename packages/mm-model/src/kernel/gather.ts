/**
 * The mmu_gather of an unmap. The 2.6 flavors use it too, with their own citations (`gather26`
 * in flavors/linux-2.6.15/index.ts: 2.6.23.17's zap_page_range → tlb_finish_mmu, the same
 * shape). The 6.x unmap (6.1.192 and 6.12.118 alike): unmap_mapping_range_tree() calls
 * zap_page_range_single() once per VMA (6.1.192 mm/memory.c:3546 → 1773-1796; 6.12.118
 * mm/memory.c:3779 → 1915-1937), which runs `tlb_gather_mmu(&tlb, …)`, zaps the VMA's range, and
 * ends with `tlb_finish_mmu(&tlb)`. zap_pte_range does not drop a zapped page's reference: it
 * queues the page in the gather (6.1: `__tlb_remove_page(tlb, page)`, mm/memory.c:1454 →
 * `__tlb_remove_page_size`, mm/mmu_gather.c:81-105; 6.12: `__tlb_remove_folio_pages(tlb, page,
 * nr, delay_rmap)`, mm/memory.c:1523 → mm/mmu_gather.c:165-211), and `tlb_finish_mmu` →
 * `tlb_flush_mmu` → `tlb_batch_pages_flush` → `free_pages_and_swap_cache` drops the references
 * after the PTE lock is released (6.1: `release_pages`' `folio_put_testzero`, mm/swap.c:1005;
 * 6.12: `folios_put_refs`' `folio_ref_sub_and_test(folio, nr_refs)`, mm/swap.c:968), one folio
 * at a time, in the order the pages were queued.
 *
 * What the model leaves out, and why:
 * - A full batch (`__tlb_remove_page` returning true: the gather's first batch holds
 *   MMU_GATHER_BUNDLE = 8 pages, include/asm-generic/tlb.h:244 (6.1.192) / :250 (6.12.118), and
 *   tlb_next_batch() then allocates more with GFP_NOWAIT; only a failed allocation or
 *   MAX_GATHER_BATCH_COUNT makes it full) forces the flush after the current page table's PTE
 *   lock instead. The scenarios zap a few pages: the model's batch never fills, and no
 *   allocation fails.
 * - A dirty PTE (`pte_dirty(ptent)`) sets `force_flush`: 6.1.192 flushes the TLB under the
 *   PTE lock and the gather's pages right after it (mm/memory.c:1442-1444, 1511-1513, 1521-1524), at the
 *   end of that page table rather than of the VMA; 6.12.118 also delays the rmap removal of a
 *   dirty PTE's folio (`tlb_delay_rmap`, include/asm-generic/tlb.h:280, CONFIG_SMP) to
 *   `tlb_flush_rmaps()` at the end of the table, still under the PTE lock (mm/memory.c:1495-1499,
 *   1517-1521, 1685-1689; mm/mmu_gather.c:83-92), then frees after the unlock (1697-1698). No
 *   6.x flavor sets a PTE's dirty bit (MmState.pted is the 2.6 flavors': a 6.x writable PTE is a
 *   dirty page, kernel/store.ts): the 6.x zaps see clean PTEs only, rmap removal at the PTE,
 *   references at tlb_finish_mmu.
 * - 6.1.192's zap_pte_range breaks out on need_resched() (mm/memory.c:1426-1427) and then
 *   frees only if it forced a flush: no change to where the references go.
 *
 * The gather is the zap's own (on its stack): the local `gather` holds its entries in order
 * as pairs `pfn, nr` (nr references of that folio, one entry).
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../ctx.js';
import { w, type StepDef } from '../program.js';
import { NONE } from '../state.js';

export const GATHER = 'gather';

export interface Gather {
  /** Kernel version the citations name. */
  version: string;
  /** tlb_finish_mmu in zap_page_range_single: `mm/memory.c:1795`. */
  finish: string;
  /** The function that ends the VMA's zap with tlb_finish_mmu: default `zap_page_range_single` (2.6: `zap_page_range`). */
  caller?: string;
  /** The call as the source writes it: default `tlb_finish_mmu(&tlb)` (2.6: `tlb_finish_mmu(tlb, address, end)`). */
  call?: string;
  /** The file tlb_finish_mmu is in: default `mm/mmu_gather.c` (2.6: `include/asm-generic/tlb.h`, an inline). */
  file?: string;
  /** What the flush calls per entry, in words, for the label: `release_pages(): folio_put_testzero(folio)`. */
  put: string;
  /** The LKMM mark of one entry's put of `nr` references (the refcount access given). */
  mark: (c: Ctx, a: Access, pfn: number, nr: number) => Access;
}

/** The tlb_finish_mmu call as the gather's source writes it. */
export function gatherCall(g: Gather): string {
  return g.call ?? 'tlb_finish_mmu(&tlb)';
}

/** What the zap step that ends a VMA's zap appends to its label: `; zap_page_range_single(): tlb_finish_mmu(&tlb)`. */
export function gatherFinishLabel(g: Gather): string {
  return `; ${g.caller ?? 'zap_page_range_single'}(): ${gatherCall(g)}`;
}

/** An empty gather (tlb_gather_mmu). */
export function gatherInit(c: Ctx): void {
  c.set(GATHER, []);
}

/** References queued and not yet put. */
export function gatherPending(c: Ctx): boolean {
  return c.list(GATHER).length > 0;
}

/**
 * Queue one reference of `pfn`. `merge`: this PTE continues the last entry's run of PTEs of the
 * same folio in one zap_present_ptes() batch (6.12.118 mm/memory.c:1569 folio_pte_batch →
 * one `__tlb_remove_folio_pages(tlb, page, nr, …)` entry of nr pages, put as nr references at once).
 */
export function gatherAdd(c: Ctx, pfn: number, merge: boolean): void {
  const g = c.list(GATHER);
  if (merge && g.length >= 2 && g[g.length - 2] === pfn) c.set(GATHER, [...g.slice(0, -1), g[g.length - 1]! + 1]);
  else c.set(GATHER, [...g, pfn, 1]);
}

/**
 * The zap's plan before its next PTE slot (`nextVma`: that slot's VMA, undefined for none): when
 * references are gathered and the VMA they came from is over, tlb_finish_mmu comes first — after
 * dropping the PTE lock `held` (NONE: none held). Undefined otherwise.
 */
export function finishPlan<R>(
  c: Ctx,
  reads: R,
  held: number,
  nextVma: number | undefined,
): { reads: R; cursor: { v: number; i: number }; done: false; finish: true; drop?: number } | undefined {
  if (!gatherPending(c) || nextVma === c.num('v')) return undefined;
  const cursor = { v: c.num('v'), i: c.num('i') };
  return held === NONE ? { reads, cursor, done: false, finish: true } : { reads, cursor, done: false, finish: true, drop: held };
}

/**
 * After a zap step: does tlb_finish_mmu come next? Only with references gathered, after a step
 * that cleared no PTE (a cleared one goes on to its rmap) and leaves no PTE lock held, when the
 * range's next PTE slot (`next`: its VMA, undefined for none) is in another VMA than the cursor's
 * (`finish`: the plan already says so).
 */
export function finishesVma(
  c: Ctx,
  p: { clear?: unknown; done: boolean; finish?: boolean },
  heldAfter: boolean,
  cursorVma: number,
  next: () => number | undefined,
): boolean {
  if (p.clear !== undefined || p.done || !gatherPending(c)) return false;
  if (p.finish) return true;
  if (heldAfter) return false;
  const v = next();
  return v === undefined || v !== cursorVma;
}

/**
 * tlb_finish_mmu(&tlb) at the end of zap_page_range_single: one step per gather entry (the
 * flush puts them one folio at a time), after the PTE lock; then continue at `then`.
 */
export function tlbFinishStep(g: Gather, self: string, then: string): StepDef {
  const head = (c: Ctx) => {
    const l = c.list(GATHER);
    return { pfn: l[0]!, nr: l[1]! };
  };
  return {
    label: (c) => {
      const { pfn, nr } = head(c);
      return `${gatherCall(g)} → tlb_flush_mmu() → free_pages_and_swap_cache(): ${g.put} of pfn ${pfn}${nr > 1 ? ` (${nr} references)` : ''}`;
    },
    where: `${g.file ?? 'mm/mmu_gather.c'} tlb_finish_mmu() ${g.version}, from ${g.finish}`,
    acc: (c) => {
      const { pfn, nr } = head(c);
      return [g.mark(c, w(`${c.P(pfn)}.refcount`), pfn, nr)];
    },
    run: (c) => {
      const [pfn, nr, ...rest] = c.list(GATHER);
      c.set(GATHER, rest);
      c.ref(pfn!, -nr!);
      c.goto(rest.length > 0 ? self : then);
    },
  };
}
