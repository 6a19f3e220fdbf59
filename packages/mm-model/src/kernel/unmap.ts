/**
 * unmap_mapping_range() and its 6.x variants (unmap_mapping_pages, unmap_mapping_folio):
 * take the mapping's i_mmap lock, (2.6) bump truncate_count, then walk every VMA of the
 * file over the range and zap its PTEs one page table at a time under that table's ptl:
 * ptep_get_and_clear, then page_remove_rmap (a separate step: mapcount is read locklessly) and
 * tlb_remove_page into the zap's mmu_gather, whose references tlb_finish_mmu puts at the end of
 * each VMA's zap, after the PTE lock (kernel/gather.ts).
 */
import type { Access } from '@kreplay/core';
import { ModelBug, type Ctx } from '../ctx.js';
import { acquire, lk, r, release, w, type Proc } from '../program.js';
import { pteLoc, vmaAddress, type Env } from '../env.js';
import { NONE, PG, hex } from '../state.js';
import { rwsemLock, rwsemUnlock } from './marks6.js';
import { finishPlan, finishesVma, gatherAdd, gatherFinishLabel, gatherInit, tlbFinishStep, type Gather } from './gather.js';

export interface UnmapVariant {
  /** Procedure name and the kernel function the unmap_range op names. */
  fn: string;
  where: string;
  /** 2.6: `mapping->truncate_count++` under i_mmap_lock (with its restart-address skip). */
  truncateCount: boolean;
  /**
   * With truncateCount: 2.6.15's `smp_wmb()` before and `smp_mb()` after the increment (the
   * fault's sample/recheck pair needs them). 2.6.23 dropped both with the fault's
   * truncate_count (2.6.23.17 mm/memory.c:1989-1992): pass false. Default true.
   */
  truncateCountBarriers?: boolean;
  /** 2.6: zap_details.check_mapping: without even_cows, skip PTEs whose page->mapping is not this mapping. */
  checkMapping: boolean;
  /** 6.x: i_mmap_lock_read (shared) instead of the 2.6 spinlock. */
  shared: boolean;
  /**
   * The zap's mmu_gather (kernel/gather.ts): a zapped page's reference is queued and put by
   * tlb_finish_mmu after the PTE lock, at the end of each VMA's zap (2.6: zap_page_range, 6.1:
   * zap_page_range_single, once per VMA under the i_mmap lock).
   */
  gather: Gather;
}

/** Call an unmap procedure over file pages [first, last]; continue at `then`. */
export function callUnmap(c: Ctx, fn: string, file: number, first: number, last: number, evenCows: boolean, then: string): void {
  c.call(fn, 'lock', { file, first, last, evenCows: evenCows ? 1 : 0, v: 0, i: 0, held: NONE, pfn: NONE }, then);
}

interface Slot {
  v: number;
  i: number;
}

function nextSlot(env: Env, file: number, first: number, last: number, from: Slot): Slot | null {
  for (let v = from.v; v < env.vmas.length; v++) {
    const vma = env.vmas[v]!;
    if (vma.file !== file) continue;
    const lo = Math.max(v === from.v ? from.i : 0, first - vma.pgoff, 0);
    const hi = Math.min(vma.pages - 1, last - vma.pgoff);
    if (lo <= hi) return { v, i: lo };
  }
  return null;
}

/** What the zap step does from the current cursor: computed once for acc/block/run alike. */
interface ZapPlan {
  /** Page table to take first (not held yet). */
  take?: number;
  /** Page table to drop (the run of PTEs under it is done). */
  drop?: number;
  /** PTEs and page->mapping read while scanning (only when the accesses were asked for: `planWithReads`). */
  reads: Access[];
  /** The PTE to clear, if one was found. */
  clear?: { slot: Slot; pfn: number };
  /** Cursor after this step. */
  cursor: Slot;
  /** No PTE left anywhere in the range: release i_mmap_lock and return. */
  done: boolean;
  /** The VMA's zap is over with references gathered: (drop the PTE lock and) tlb_finish_mmu. */
  finish?: boolean;
}

function plan(c: Ctx, variant: UnmapVariant): ZapPlan {
  return c.memo('zap', () => makePlan(c, variant, false));
}

/** The plan with the reads it makes, marked: what `acc` asks for (a search's block/run/label need only the plan). */
function planWithReads(c: Ctx, variant: UnmapVariant): ZapPlan {
  return c.memo('zap+reads', () => makePlan(c, variant, true));
}

function makePlan(c: Ctx, variant: UnmapVariant, marked: boolean): ZapPlan {
  const file = c.num('file');
  const first = c.num('first');
  const last = c.num('last');
  const evenCows = c.num('evenCows') === 1;
  const held = c.num('held');
  const reads: Access[] = [];
  const slot = nextSlot(c.env, file, first, last, { v: c.num('v'), i: c.num('i') });
  // zap_page_range() (2.6) / zap_page_range_single() (6.1) of the VMA the gathered pages came from ends: tlb_finish_mmu
  const end = finishPlan(c, reads, held, slot?.v);
  if (end) return end;
  if (!slot) return held === NONE ? { reads, cursor: { v: 0, i: 0 }, done: true } : { drop: held, reads, cursor: { v: 0, i: 0 }, done: true };
  const vma = c.env.vmas[slot.v]!;
  const table = vma.ptl[slot.i]!;
  if (held !== NONE && held !== table) return { drop: held, reads, cursor: slot, done: false };
  const out: ZapPlan = { reads, cursor: slot, done: false };
  if (held === NONE) out.take = table;
  let i = slot.i;
  const hi = Math.min(vma.pages - 1, last - vma.pgoff);
  // zap_pte_range's `ptent = *pte` and (2.6) the details->check_mapping test of page->mapping are
  // plain C (2.6.23.17 mm/memory.c:644 and 659-660, 2.6.15 the same; 6.1.192 mm/memory.c:1420)
  const mark26 = (a: Access, v: number, what: string) =>
    lk(a, 'plain-read', v, `mm/memory.c zap_pte_range() ${variant.truncateCount ? '2.6.15' : '6.1.192 (mm/memory.c:1420)'}: ${what}`);
  for (; i <= hi && vma.ptl[i] === table; i++) {
    const pfn = c.pte(vma.id, i);
    if (marked) reads.push(mark26(r(pteLoc(c.env, vma, i)), pfn === NONE ? 0 : pfn, 'pte_t ptent = *pte'));
    if (pfn === NONE) continue;
    if (variant.checkMapping && !evenCows) {
      const m = c.page(pfn).mapping;
      if (marked) reads.push(mark26(r(`${c.P(pfn)}.mapping`), m === NONE ? 0 : m + 1, 'details->check_mapping != page->mapping'));
      if (c.page(pfn).mapping !== file) continue;
    }
    out.clear = { slot: { v: slot.v, i }, pfn };
    out.cursor = { v: slot.v, i: i + 1 };
    return out;
  }
  out.drop = table;
  out.cursor = { v: slot.v, i };
  return out;
}

function vmaZapped(c: Ctx, variant: UnmapVariant, p: ZapPlan): boolean {
  const heldAfter = p.drop === undefined && (p.take !== undefined || c.num('held') !== NONE);
  return finishesVma(c, p, heldAfter, p.cursor.v, () => nextSlot(c.env, c.num('file'), c.num('first'), c.num('last'), p.cursor)?.v);
}

export function unmapProc(variant: UnmapVariant): Proc {
  const immapLoc = (c: Ctx) => `${c.M(c.num('file'))}.i_mmap_lock`;
  return {
    fn: variant.fn,
    where: variant.where,
    entry: 'lock',
    // 2.6.15 and 2.6.23 mm/rmap.c page_remove_rmap(): a _mapcount below -1 is a BUG; 6.1.192's
    // page_remove_file_rmap (mm/rmap.c:1340-1376) has no such check (below: the model stops instead)
    ...(variant.truncateCount ? { bugs: { page_remove_rmap: 'BUG_ON(page_mapcount(page) < 0) (mm/rmap.c page_remove_rmap(), 2.6.15 and 2.6.23)' } } : {}),
    steps: {
      lock: {
        label: !variant.truncateCount
          ? 'i_mmap_lock_read(mapping)'
          : variant.truncateCountBarriers === false
            ? 'spin_lock(&mapping->i_mmap_lock); mapping->truncate_count++'
            : 'spin_lock(&mapping->i_mmap_lock); smp_wmb(); mapping->truncate_count++; smp_mb()',
        acc: (c) => {
          // 6.1: i_mmap_rwsem, an rw_semaphore: a spin lock in the LKMM (kernel/marks6.ts says why that over-orders)
          if (!variant.truncateCount)
            return [rwsemLock(acquire(immapLoc(c)), `mm/memory.c ${variant.fn}() 6.1.192: i_mmap_lock_read(mapping) (mm/memory.c:3580, 3610)`)];
          // mm/memory.c unmap_mapping_range() 2.6.15: spin_lock(); smp_wmb(); truncate_count++ (plain); smp_mb() (the label);
          // 2.6.23.17 mm/memory.c:1989-1992: spin_lock(); truncate_count++ (plain), no barrier
          const barriers = variant.truncateCountBarriers !== false;
          const cite = barriers ? 'mm/memory.c unmap_mapping_range() 2.6.15' : 'mm/memory.c unmap_mapping_range() 2.6.23 (2.6.23.17 mm/memory.c:1989-1992)';
          return [
            lk(acquire(immapLoc(c)), 'spin_lock', 0, `${cite}: spin_lock(&mapping->i_mmap_lock)`),
            lk(
              w(`${c.M(c.num('file'))}.truncate_count`),
              'plain-inc',
              c.map(c.num('file')).truncateCount,
              `${cite}: mapping->truncate_count++`,
              barriers ? { before: ['smp_wmb'], after: ['smp_mb'] } : {},
            ),
          ];
        },
        block: (c) => c.lockBusy(c.map(c.num('file')).immap, `${c.M(c.num('file'))}.i_mmap_lock`, variant.shared),
        run: (c) => {
          const file = c.num('file');
          const m = c.map(file);
          const patch: { immap: typeof m.immap; truncateCount?: number } = { immap: c.takeLock(m.immap, variant.shared) };
          if (variant.truncateCount) {
            let tc = m.truncateCount + 1;
            if ((tc & 4095) === 0) tc++; // is_restart_addr(): skip the values vm_truncate_count uses as restart marks
            patch.truncateCount = tc;
            c.updMap(file, patch, `truncate_count ${m.truncateCount}→${tc}`);
          } else c.updMap(file, patch);
          gatherInit(c);
          c.op({ kind: 'unmap_range', fn: variant.fn, file: c.fileRef(file), start: c.num('first'), end: c.num('last') });
          c.goto('zap');
        },
      },
      zap: {
        label: (c) => {
          const p = plan(c, variant);
          const finish = vmaZapped(c, variant, p) ? gatherFinishLabel(variant.gather) : '';
          if (p.finish) return `${p.drop !== undefined ? 'pte_unmap_unlock()' : 'zap_pte_range() done'}${finish}`;
          if (p.clear) {
            const v = c.env.vmas[p.clear.slot.v]!;
            return `${p.take !== undefined ? 'pte_offset_map_lock(); ' : ''}zap_pte_range: ptep_get_and_clear(${hex(vmaAddress(v, p.clear.slot.i))})`;
          }
          if (p.done)
            return `${p.drop !== undefined ? 'pte_unmap_unlock(); ' : ''}${variant.shared ? 'i_mmap_unlock_read(mapping)' : 'spin_unlock(&mapping->i_mmap_lock)'}`;
          return `${p.take !== undefined ? 'pte_offset_map_lock(); ' : ''}zap_pte_range: no mapped PTE left here; pte_unmap_unlock()${finish}`;
        },
        where: `mm/memory.c zap_pte_range()`,
        acc: (c) => {
          const p = planWithReads(c, variant);
          const a: Access[] = [];
          const cite = `${variant.where} unmap_mapping_range_vma()`;
          if (p.take !== undefined) a.push(lk(acquire(c.env.ptls[p.take]!.loc), 'spin_lock', 0, `${cite}: pte_offset_map_lock()`));
          a.push(...p.reads);
          if (p.clear) {
            const pte = w(pteLoc(c.env, c.env.vmas[p.clear.slot.v]!, p.clear.slot.i));
            // x86-64's ptep_get_and_clear is xchg(&ptep->pte, 0), fully ordered (include/asm-x86_64/pgtable.h 2.6.15;
            // 6.1.192 arch/x86/include/asm/pgtable_64.h:94 native_ptep_get_and_clear)
            a.push(
              lk(
                pte,
                'xchg',
                p.clear.pfn,
                `${cite}: zap_pte_range(): ptep_get_and_clear_full() → ptep_get_and_clear() is xchg() on x86-64 (${variant.truncateCount ? '2.6.23.17 mm/memory.c:671' : '6.1.192 mm/memory.c:1433'})`,
              ),
            );
          }
          if (p.drop !== undefined) a.push(lk(release(c.env.ptls[p.drop]!.loc), 'spin_unlock', 0, `${cite}: pte_unmap_unlock()`));
          if (p.done)
            a.push(
              variant.truncateCount
                ? lk(release(immapLoc(c)), 'spin_unlock', 0, `${cite}: spin_unlock(&mapping->i_mmap_lock)`)
                : rwsemUnlock(release(immapLoc(c)), `${cite}: i_mmap_unlock_read(mapping) (6.1.192 mm/memory.c:3584, 3614)`),
            );
          return a;
        },
        block: (c) => {
          const p = plan(c, variant);
          if (p.take === undefined) return undefined;
          const owner = c.ptlOwner(p.take);
          return owner === NONE ? undefined : `${c.env.ptls[p.take]!.loc}, held by ${c.who(owner)}`;
        },
        run: (c) => {
          const p = plan(c, variant);
          if (p.take !== undefined) c.setPtl(p.take, c.tid);
          // the entry ptep_get_and_clear() returned (ptent): is its dirty bit set? (read before the clear drops it)
          const dirty = p.clear !== undefined && c.pteDirty(p.clear.slot.v, p.clear.slot.i);
          if (p.clear) {
            c.setPte(c.env.vmas[p.clear.slot.v]!, p.clear.slot.i, NONE);
            c.set('pfn', p.clear.pfn);
          }
          if (p.drop !== undefined) c.setPtl(p.drop, NONE);
          c.set('held', p.drop !== undefined ? NONE : (p.take ?? c.num('held')));
          c.set('v', p.cursor.v);
          c.set('i', p.cursor.i);
          if (p.done) {
            const file = c.num('file');
            c.updMap(file, { immap: c.dropLock(c.map(file).immap, variant.shared) });
            c.ret(0);
          } else c.goto(p.clear ? (dirty ? 'dirty' : 'rmap') : vmaZapped(c, variant, p) ? 'finish' : 'zap');
        },
      },
      // zap_pte_range, after the clear and before page_remove_rmap: `if (pte_dirty(ptent)) set_page_dirty(page)`
      // (2.6.15 mm/memory.c, the same in 2.6.23.17 after ptep_get_and_clear_full at mm/memory.c:671; 6.1.192
      // mm/memory.c:1442-1444). Reached only when the zapped PTE was dirty: the step is the test's taken branch.
      // Only the 2.6 flavors' stores and write faults leave a PTE dirty (kernel/store.ts; 2.6.23's write faults install
      // it dirty and dirty the page only after the PTE unlock, flavors/linux-2.6.23/fault.ts), so on 6.x it is never reached.
      dirty: {
        label: 'if (pte_dirty(ptent)) set_page_dirty(page)',
        where: variant.truncateCount ? 'mm/memory.c zap_pte_range() → mm/page-writeback.c set_page_dirty()' : 'mm/memory.c zap_pte_range()',
        acc: (c) => {
          const pfn = c.num('pfn');
          // set_page_dirty(): ext3 (ordered) has no ->set_page_dirty, so __set_page_dirty_buffers() (fs/buffer.c 2.6.15): the
          // buffers dirtied under private_lock, then TestSetPageDirty() — test_and_set_bit(), fully ordered; the radix-tree
          // dirty tag it sets under tree_lock is not modelled (as test_clear_page_dirty()'s clear is not)
          return [
            lk(
              w(`${c.P(pfn)}.flags.dirty`),
              'xchg',
              c.page(pfn).flags & PG.dirty ? 1 : 0,
              !variant.truncateCount
                ? 'mm/memory.c zap_pte_range() 6.1.192: if (pte_dirty(ptent)) set_page_dirty(page) (mm/memory.c:1442-1444)'
                : variant.truncateCountBarriers === false
                  ? 'mm/memory.c zap_pte_range() 2.6.23 (2.6.23.17 mm/memory.c:682-683): if (pte_dirty(ptent)) set_page_dirty(page) → __set_page_dirty_buffers() → __set_page_dirty(): TestSetPageDirty(page) (fs/buffer.c:757, 693)'
                  : 'mm/memory.c zap_pte_range() 2.6.15: if (pte_dirty(ptent)) set_page_dirty(page) → __set_page_dirty_buffers(): TestSetPageDirty(page)',
            ),
          ];
        },
        run: (c) => {
          const pfn = c.num('pfn');
          c.setFlag(pfn, 'dirty', true);
          c.goto('rmap');
        },
      },
      finish: tlbFinishStep(variant.gather, 'finish', 'zap'),
      rmap: {
        label: variant.truncateCount
          ? 'page_remove_rmap(page); tlb_remove_page(tlb, page)'
          : 'page_remove_rmap(page, vma, false); __tlb_remove_page(tlb, page)',
        where: 'mm/rmap.c page_remove_rmap()',
        acc: (c) => {
          // page_remove_rmap's atomic_add_negative(-1, &page->_mapcount) is a fully ordered value-returning RMW
          // (2.6.15 and 2.6.23.17 mm/rmap.c page_remove_rmap(); 6.1.192 page_remove_file_rmap, mm/rmap.c:1370).
          // tlb_remove_page (2.6) / __tlb_remove_page (6.1, mm/memory.c:1454) only queues the page in the zap's own
          // gather: its reference is put by the `finish` step (tlb_finish_mmu, kernel/gather.ts), after the PTE lock
          const p = c.page(c.num('pfn'));
          return [
            lk(
              w(`${c.P(c.num('pfn'))}.mapcount`),
              'atomic_dec_return',
              p.mapcount,
              variant.truncateCount
                ? 'mm/rmap.c page_remove_rmap() 2.6.15: atomic_add_negative(-1, &page->_mapcount)'
                : 'mm/rmap.c page_remove_rmap() 6.1.192 → page_remove_file_rmap(): atomic_add_negative(-1, &page->_mapcount) (mm/rmap.c:1370), fully ordered',
            ),
          ];
        },
        run: (c) => {
          const pfn = c.num('pfn');
          const p = c.page(pfn);
          c.updPage(pfn, { mapcount: p.mapcount - 1 });
          gatherAdd(c, pfn, false);
          const v = c.env.vmas[c.num('v')]!;
          const i = c.num('i') - 1;
          c.op({
            kind: 'pte_unmap',
            pfn: BigInt(pfn),
            file: c.fileRef(v.file),
            index: v.pgoff + i,
            address: BigInt(vmaAddress(v, i)),
            mapcount: p.mapcount - 1,
          });
          if (p.mapcount - 1 < 0) {
            // 6.1.192 checks nothing here (page_remove_file_rmap, mm/rmap.c:1340-1376: _mapcount just goes below -1,
            // to be found, if ever, by the bad-page checks at free time): not a kernel BUG, so not the model's
            // bug-on either, but a state the model does not represent — the model is wrong if it gets here
            if (!variant.truncateCount) throw new ModelBug(`${variant.fn}: the mapcount of pfn ${hex(pfn)} went below 0 (more PTEs zapped than mapped)`);
            c.bug(`page_remove_rmap: BUG_ON(page_mapcount(page) < 0) for pfn ${hex(pfn)}`, { pfn });
            return;
          }
          c.goto('zap');
        },
      },
    },
  };
}
