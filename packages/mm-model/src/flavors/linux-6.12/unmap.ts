/**
 * linux-6.12 unmap_mapping_pages / unmap_mapping_folio (mm/memory.c:3788-3857): i_mmap_lock_read,
 * then for every VMA of the file over the range zap_page_range_single → zap_pmd_range: a huge
 * PMD (pmd_trans_huge) is removed whole — zap_huge_pmd, or __split_huge_pmd when the range
 * covers only part of it, which for a file folio clears the PMD too (mm/huge_memory.c
 * __split_huge_pmd_locked: "!vma_is_anonymous(vma)": pmdp_huge_clear_flush,
 * folio_remove_rmap_pmd, folio_put) — under the PMD lock, one step; otherwise zap_pte_range
 * under the page table's ptl: ptep_get_and_clear, then folio_remove_rmap_ptes (its own step:
 * the mapcount is read locklessly). unmap_mapping_folio covers the folio's index range; its
 * details.single_folio only steers PMD splitting (mm/memory.c:1722), and should_zap_folio()
 * (1439) zaps every file folio's PTE in the range. A zapped folio's reference goes to the zap's
 * mmu_gather and is put by tlb_finish_mmu after the PTE lock (kernel/gather.ts).
 */
import type { Access } from '@kreplay/core';
import { ModelBug, type Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc } from '../../program.js';
import { pteLoc, vmaAddress, type VmaEnv } from '../../env.js';
import { NONE, PMD_TABLE, folioNr, hex } from '../../state.js';
import { HPAGE_PMD_NR, pmdLoc, removeRmapPte } from './folio.js';
import { ghost, notOnThisPath } from '../../kernel/marks.js';
import { rwsemLock, rwsemUnlock } from '../../kernel/marks6.js';
import { finishPlan, finishesVma, gatherAdd, gatherFinishLabel, gatherInit, tlbFinishStep, type Gather } from '../../kernel/gather.js';
import { V612, folioPutRefs612, isLarge, pmdPlain612, pteGet612, pteOffsetMapLock612, rmapRemove612 } from '../../kernel/marks612.js';

const ZAP = `mm/memory.c zap_pte_range() ${V612}`;

/**
 * 6.12.118's mmu_gather (kernel/gather.ts): free_pages_and_swap_cache() → folios_put_refs() puts
 * each entry's references with one folio_ref_sub_and_test (mm/swap_state.c:315-336, mm/swap.c:968).
 * A large folio's put is not marked (its rmap and PTE-range accesses are not either: marks612.ts).
 */
const gather612: Gather = {
  version: V612,
  finish: 'mm/memory.c:1935 zap_page_range_single()',
  put: 'folios_put_refs(): folio_ref_sub_and_test(folio, nr_refs)',
  mark: (c, a, pfn, nr) =>
    isLarge(c, pfn) || nr !== 1
      ? a
      : folioPutRefs612(
          c,
          a,
          pfn,
          `mm/mmu_gather.c tlb_finish_mmu() ${V612} (mm/mmu_gather.c:498) → tlb_batch_pages_flush() → free_pages_and_swap_cache() (mm/swap_state.c:332-335)`,
        ),
};

/**
 * The zap step's accesses in the kernel's order, marked (mm/memory.c:1704-1740
 * zap_pmd_range, 1582-1689 zap_pte_range): the PMD tests (plain), then for a table
 * pte_offset_map_lock, a ptep_get per PTE up to the one cleared (get_and_clear_full_ptes →
 * ptep_get_and_clear_full → xchg, arch/x86/include/asm/pgtable_64.h:94), pte_unmap_unlock.
 * A PMD that is none is skipped (no lock, no PTE read); a huge one (a large folio) is not marked.
 */
function zapMarks(c: Ctx, p: Plan, a: Access[], fn: string): Access[] {
  if (p.huge || a.some((x) => x.loc.startsWith('pmd:') && x.mode === 'write')) return a;
  const out: Access[] = [];
  const lockFor = (ptl: number) => a.find((x) => x.lock === 'acquire' && x.loc === c.env.ptls[ptl]!.loc);
  const pmdRead = a.find((x) => x.loc.startsWith('pmd:') && x.mode === 'read');
  const pteReads = a.filter((x) => x.loc.startsWith('pte:') && x.mode === 'read');
  const pteClear = a.find((x) => x.loc.startsWith('pte:') && x.mode === 'write');
  const drop = a.find((x) => x.lock === 'release' && x.loc.startsWith('ptl:'));
  const immap = a.find((x) => x.lock === 'release' && !x.loc.startsWith('ptl:'));
  if (pmdRead) {
    const ptl = p.take ?? c.num('held');
    const pmd = ptl === NONE ? NONE : c.pmd(ptl);
    if (p.take !== undefined || c.num('held') === NONE) {
      out.push(
        pmdPlain612(pmdRead, pmd, `mm/memory.c zap_pmd_range() ${V612}: if (is_swap_pmd(*pmd) || pmd_trans_huge(*pmd) || pmd_devmap(*pmd)) (mm/memory.c:1714)`),
        pmdPlain612(pmdRead, pmd, `mm/memory.c zap_pmd_range() ${V612}: if (pmd_none(*pmd)) (mm/memory.c:1733)`),
      );
      if (pmd === NONE) {
        // zap_pmd_range skips a range without a table: the model's PTE lock and PTE reads there are no kernel accesses
        const why = 'pmd_none(*pmd): zap_pmd_range() skips the range (no PTE lock, no PTE read)';
        for (const x of a) if (x !== pmdRead && x !== immap) out.push(notOnThisPath(x, why));
        if (immap) out.push(rwsemUnlock(immap, `mm/memory.c ${fn}() ${V612}: i_mmap_unlock_read(mapping) (mm/memory.c:3817, 3847)`));
        return out;
      }
      const lock = p.take !== undefined ? lockFor(p.take) : undefined;
      if (lock) out.push(...pteOffsetMapLock612(pmdRead, lock, `${ZAP}: start_pte = pte = pte_offset_map_lock(mm, pmd, addr, &ptl) (mm/memory.c:1598)`));
    } else out.push(notOnThisPath(pmdRead, "zap_pte_range's loop reads no PMD (the PTE lock is held)"));
  }
  const vOf = (loc: string) => {
    for (const v of c.env.vmas) for (let i = 0; i < v.pages; i++) if (pteLoc(c.env, v, i) === loc) return { v, i };
    return undefined;
  };
  for (const x of pteReads) {
    const at = vOf(x.loc)!;
    out.push(pteGet612(x, c.pte(at.v.id, at.i), `${ZAP}: pte_t ptent = ptep_get(pte) (mm/memory.c:1605)`));
  }
  if (pteClear) {
    const at = vOf(pteClear.loc)!;
    const pfn = c.pte(at.v.id, at.i);
    out.push(
      isLarge(c, pfn)
        ? pteClear
        : lk(
            pteClear,
            'xchg',
            pfn,
            `mm/memory.c zap_present_folio_ptes() ${V612}: get_and_clear_full_ptes() (mm/memory.c:1494) → ptep_get_and_clear_full() (include/linux/pgtable.h:686) → native_ptep_get_and_clear(): xchg(&xp->pte, 0) (arch/x86/include/asm/pgtable_64.h:94)`,
          ),
    );
  }
  if (drop) out.push(lk(drop, 'spin_unlock', 0, `${ZAP}: pte_unmap_unlock(start_pte, ptl) (mm/memory.c:1689)`));
  if (immap) out.push(rwsemUnlock(immap, `mm/memory.c ${fn}() ${V612}: i_mmap_unlock_read(mapping) (mm/memory.c:3817, 3847)`));
  return out;
}

interface Slot {
  v: number;
  i: number;
}

interface Plan {
  take?: number;
  drop?: number;
  reads: Access[];
  clear?: { slot: Slot; pfn: number };
  /**
   * A huge PMD to zap whole: its page table id and the VMA slot where its range starts. `split`:
   * the zap covers only part of it (__split_huge_pmd, which puts the folio at once); else
   * zap_huge_pmd, which queues it in the gather.
   */
  huge?: { ptl: number; vma: VmaEnv; i0: number; pfn: number; split: boolean };
  cursor: Slot;
  done: boolean;
  /** The VMA's zap is over with references gathered: (drop the PTE lock and) tlb_finish_mmu. */
  finish?: boolean;
}

function nextSlot(c: Ctx, from: Slot): Slot | null {
  const file = c.num('file');
  const first = c.num('first');
  const last = c.num('last');
  for (let v = from.v; v < c.env.vmas.length; v++) {
    const vma = c.env.vmas[v]!;
    if (vma.file !== file) continue;
    const lo = Math.max(v === from.v ? from.i : 0, first - vma.pgoff, 0);
    const hi = Math.min(vma.pages - 1, last - vma.pgoff);
    if (lo <= hi) return { v, i: lo };
  }
  return null;
}

function plan(c: Ctx): Plan {
  return c.memo('zap612', () => {
    const held = c.num('held');
    const reads: Access[] = [];
    const slot = nextSlot(c, { v: c.num('v'), i: c.num('i') });
    // zap_page_range_single() of the VMA the gathered folios came from ends: tlb_finish_mmu
    const end = finishPlan(c, reads, held, slot?.v);
    if (end) return end;
    if (!slot) return held === NONE ? { reads, cursor: { v: 0, i: 0 }, done: true } : { drop: held, reads, cursor: { v: 0, i: 0 }, done: true };
    const vma = c.env.vmas[slot.v]!;
    const table = vma.ptl[slot.i]!;
    if (held !== NONE && held !== table) return { drop: held, reads, cursor: slot, done: false };
    reads.push(r(pmdLoc(c.env, table)));
    const pmd = c.pmd(table);
    if (pmd !== NONE && pmd !== PMD_TABLE) {
      // zap_pmd_range: pmd_trans_huge → zap_huge_pmd / __split_huge_pmd (the whole PMD goes either way)
      let i0 = slot.i;
      while (i0 > 0 && vma.ptl[i0 - 1] === table) i0--;
      let end = i0;
      while (end < vma.pages && vma.ptl[end] === table) end++;
      // zap_pmd_range: `if (next - addr != HPAGE_PMD_SIZE) __split_huge_pmd(...); else if (zap_huge_pmd(...))` (mm/memory.c:1714-1718)
      const split = c.num('first') - vma.pgoff > i0 || c.num('last') - vma.pgoff < i0 + HPAGE_PMD_NR - 1;
      return { reads, huge: { ptl: table, vma, i0, pfn: pmd, split }, cursor: { v: slot.v, i: end }, done: false };
    }
    const out: Plan = { reads, cursor: slot, done: false };
    if (held === NONE) out.take = table;
    const hi = Math.min(vma.pages - 1, c.num('last') - vma.pgoff);
    let i = slot.i;
    for (; i <= hi && vma.ptl[i] === table; i++) {
      reads.push(r(pteLoc(c.env, vma, i)));
      const pfn = c.pte(vma.id, i);
      if (pfn === NONE) continue;
      out.clear = { slot: { v: slot.v, i }, pfn };
      out.cursor = { v: slot.v, i: i + 1 };
      return out;
    }
    out.drop = table;
    out.cursor = { v: slot.v, i };
    return out;
  });
}

function vmaZapped(c: Ctx, p: Plan): boolean {
  const heldAfter = p.drop === undefined && (p.take !== undefined || c.num('held') !== NONE);
  return finishesVma(c, p, heldAfter, p.cursor.v, () => nextSlot(c, p.cursor)?.v);
}

export function unmapProc612(fn: 'unmap_mapping_pages' | 'unmap_mapping_folio'): Proc {
  const immapLoc = (c: Ctx) => `${c.M(c.num('file'))}.i_mmap_lock`;
  return {
    fn,
    where: 'mm/memory.c',
    entry: 'lock',
    // the folio of the PTE just cleared: `zap` sets it before `rmap` reads it (zap_present_folio_ptes, mm/memory.c:1494-1523, 6.12.117)
    dead: { zap: ['pfn'] },
    steps: {
      lock: {
        label:
          fn === 'unmap_mapping_folio'
            ? 'unmap_mapping_folio(): first_index = folio->index; last_index = folio_next_index(folio) - 1; i_mmap_lock_read(mapping)'
            : 'unmap_mapping_pages(): i_mmap_lock_read(mapping); unmap_mapping_range_tree()',
        where: fn === 'unmap_mapping_folio' ? 'mm/memory.c:3788-3809 unmap_mapping_folio()' : 'mm/memory.c:3823-3839 unmap_mapping_pages()',
        acc: (c) => [
          rwsemLock(
            acquire(immapLoc(c)),
            `mm/memory.c ${fn}() ${V612}: i_mmap_lock_read(mapping) (mm/memory.c:${fn === 'unmap_mapping_folio' ? 3813 : 3843}; include/linux/fs.h:560 down_read)`,
          ),
          ...(fn === 'unmap_mapping_folio'
            ? [
                ghost(
                  r(`${c.M(c.num('file'))}.tree`),
                  'the model finds the folio by its index; the kernel has the folio (folio->index, folio_next_index(folio))',
                ),
              ]
            : []),
        ],
        block: (c) => c.lockBusy(c.map(c.num('file')).immap, immapLoc(c), true),
        run: (c) => {
          const file = c.num('file');
          c.updMap(file, { immap: c.takeLock(c.map(file).immap, true) });
          gatherInit(c);
          if (fn === 'unmap_mapping_folio') {
            const pfn = c.lookup(file, c.num('first'));
            if (pfn !== NONE) {
              c.set('first', c.page(pfn).index);
              c.set('last', c.page(pfn).index + folioNr(c.page(pfn)) - 1);
            }
          }
          c.op({ kind: 'unmap_range', fn, file: c.fileRef(file), start: c.num('first'), end: c.num('last') });
          c.goto('zap');
        },
      },
      zap: {
        label: (c) => {
          const p = plan(c);
          const finish = vmaZapped(c, p) ? gatherFinishLabel(gather612) : '';
          if (p.finish) return `${p.drop !== undefined ? 'pte_unmap_unlock()' : 'zap_pte_range() done'}${finish}`;
          if (p.huge)
            return p.huge.split
              ? `zap_pmd_range: pmd_trans_huge(*pmd), part of it in the range → __split_huge_pmd(): pmd_lock(); pmdp_huge_clear_flush(); folio_remove_rmap_pmd(folio, page, vma); folio_put(folio); spin_unlock()${finish}`
              : `zap_pmd_range: pmd_trans_huge(*pmd) → zap_huge_pmd(): pmd_lock(); pmdp_huge_get_and_clear_full(); folio_remove_rmap_pmd(folio, page, vma); spin_unlock(); tlb_remove_page_size(tlb, &folio->page, HPAGE_PMD_SIZE)${finish}`;
          if (p.clear)
            return `${p.take !== undefined ? 'pte_offset_map_lock(); ' : ''}zap_pte_range: ptep_get_and_clear_full(${hex(vmaAddress(c.env.vmas[p.clear.slot.v]!, p.clear.slot.i))})`;
          if (p.done) return `${p.drop !== undefined ? 'pte_unmap_unlock(); ' : ''}i_mmap_unlock_read(mapping)`;
          return `${p.take !== undefined ? 'pte_offset_map_lock(); ' : ''}zap_pte_range: no mapped PTE left here; pte_unmap_unlock()${finish}`;
        },
        where: 'mm/memory.c:1582,1703 zap_pte_range() / zap_pmd_range()',
        acc: (c) => {
          const p = plan(c);
          const a: Access[] = [...p.reads];
          if (p.take !== undefined) a.push(acquire(c.env.ptls[p.take]!.loc));
          if (p.huge) {
            a.push(w(pmdLoc(c.env, p.huge.ptl)), w(`${c.P(p.huge.pfn)}.mapcount`));
            // __split_huge_pmd_locked's folio_put (mm/huge_memory.c:2762); zap_huge_pmd queues the folio instead (2159)
            if (p.huge.split) a.push(w(`${c.P(p.huge.pfn)}.refcount`));
            for (let k = 0; k < HPAGE_PMD_NR; k++) a.push(w(pteLoc(c.env, p.huge.vma, p.huge.i0 + k)));
          }
          if (p.clear) a.push(w(pteLoc(c.env, c.env.vmas[p.clear.slot.v]!, p.clear.slot.i)));
          if (p.drop !== undefined) a.push(release(c.env.ptls[p.drop]!.loc));
          if (p.done) a.push(release(immapLoc(c)));
          return zapMarks(c, p, a, fn);
        },
        block: (c) => {
          const p = plan(c);
          if (p.take === undefined) return undefined;
          const owner = c.ptlOwner(p.take);
          return owner === NONE ? undefined : `${c.env.ptls[p.take]!.loc}, held by ${c.who(owner)}`;
        },
        run: (c) => {
          const p = plan(c);
          if (p.take !== undefined) c.setPtl(p.take, c.tid);
          if (p.huge) {
            const { vma, i0, pfn, ptl } = p.huge;
            for (let k = 0; k < HPAGE_PMD_NR; k++) c.setPte(vma, i0 + k, NONE, true);
            c.setPmd(ptl, NONE);
            const pg = c.page(pfn);
            c.updPage(pfn, { mapcount: pg.mapcount - 1, entire: (pg.entire ?? 1) - 1 });
            c.op({
              kind: 'pte_unmap',
              pfn: BigInt(pfn),
              file: c.fileRef(vma.file),
              index: vma.pgoff + i0,
              address: BigInt(vmaAddress(vma, i0)),
              mapcount: pg.mapcount - 1,
            });
            if (p.huge.split) c.ref(pfn, -1);
            else gatherAdd(c, pfn, false);
          }
          if (p.clear) {
            c.setPte(c.env.vmas[p.clear.slot.v]!, p.clear.slot.i, NONE);
            c.set('pfn', p.clear.pfn);
            // the folio goes to the gather here, not in `rmap`, where it is known whether this PTE continues the
            // last one's run in the same page table (zap_present_ptes' folio_pte_batch, mm/memory.c:1569): one entry
            // of nr pages (__tlb_remove_folio_pages, 1523). The gather is the zap's own: no other thread sees it
            const run = p.take === undefined && p.clear.slot.v === c.num('v') && p.clear.slot.i === c.num('i');
            gatherAdd(c, p.clear.pfn, run);
          }
          if (p.drop !== undefined) c.setPtl(p.drop, NONE);
          c.set('held', p.drop !== undefined ? NONE : (p.take ?? c.num('held')));
          c.set('v', p.cursor.v);
          c.set('i', p.cursor.i);
          if (p.done) {
            const file = c.num('file');
            c.updMap(file, { immap: c.dropLock(c.map(file).immap, true) });
            c.ret(0);
          } else c.goto(p.clear ? 'rmap' : vmaZapped(c, p) ? 'finish' : 'zap');
        },
      },
      finish: tlbFinishStep(gather612, 'finish', 'zap'),
      rmap: {
        label: 'zap_present_folio_ptes(): folio_remove_rmap_ptes(folio, page, nr, vma); __tlb_remove_folio_pages(tlb, page, nr, delay_rmap)',
        where: 'mm/rmap.c:1613 folio_remove_rmap_ptes()',
        acc: (c) => {
          const pfn = c.num('pfn');
          // the folio's reference stays in the gather (__tlb_remove_folio_pages, mm/memory.c:1523) until tlb_finish_mmu: the `finish` step
          const a = w(`${c.P(pfn)}.mapcount`);
          if (isLarge(c, pfn)) return [a];
          return [rmapRemove612(c, a, pfn, `mm/memory.c zap_present_folio_ptes() ${V612}: folio_remove_rmap_ptes(folio, page, nr, vma) (mm/memory.c:1518)`)];
        },
        run: (c) => {
          const pfn = c.num('pfn');
          const v = c.env.vmas[c.num('v')]!;
          const i = c.num('i') - 1;
          const mc = removeRmapPte(c, pfn, v.pgoff + i);
          c.op({ kind: 'pte_unmap', pfn: BigInt(pfn), file: c.fileRef(v.file), index: v.pgoff + i, address: BigInt(vmaAddress(v, i)), mapcount: mc });
          // 6.12.118's __folio_remove_rmap (mm/rmap.c:1530-1600) has no BUG for a mapcount below 0 (only
          // CONFIG_DEBUG_VM warnings in __folio_rmap_sanity_checks, none about it): not a kernel BUG, so not the
          // model's bug-on, but a state the model does not represent — the model is wrong if it gets here
          if (mc < 0) throw new ModelBug(`__folio_remove_rmap: the mapcount of pfn ${hex(pfn)} went below 0 (more PTEs zapped than mapped)`);
          c.goto('zap');
        },
      },
    },
  };
}
