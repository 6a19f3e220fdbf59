/**
 * Large folios as linux-6.12 keeps them (include/linux/mm_types.h:307-374, mm/rmap.c
 * __folio_add_rmap 1159-1205, __folio_remove_rmap 1530-1600), over the model's state: a folio
 * is one PageS at its head pfn whose cache slots and PTEs hold that pfn for every index it
 * covers. `mapcount` is folio_mapcount() (`_large_mapcount` + 1: one per PTE, one per PMD),
 * `pmap` each page's own `_mapcount` + 1 (PTE mappings only), `entire` `_entire_mapcount` + 1.
 * The PMD entries above the page tables live in `MmState.pmds` (NONE = pmd_none, PMD_TABLE, or
 * the pfn a huge PMD maps).
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { pteLoc, type Env, type VmaEnv } from '../../env.js';
import type { MmState } from '../../state.js';
import { NONE, PAGE_SIZE, PMD_TABLE, PTRS_PER_PTE, folioNr } from '../../state.js';
import { w } from '../../program.js';

/** HPAGE_PMD_ORDER on x86-64: a PMD maps 512 pages. */
export const HPAGE_PMD_ORDER = 9;
export const HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;

/** `pmd:mm1:0`: the PMD entry above page table `ptl` (Env.ptls), as an access location. */
export function pmdLoc(env: Env, ptl: number): string {
  return env.ptls[ptl]!.loc.replace(/^ptl:/, 'pmd:');
}

/** The initial PMD entries: a table wherever the scenario installed a PTE, else pmd_none. */
export function initialPmds(s: MmState, env: Env): MmState {
  const pmds = env.ptls.map(() => NONE);
  for (const v of env.vmas) {
    s.ptes[v.id]!.forEach((pfn, i) => {
      if (pfn !== NONE) pmds[v.ptl[i]!] = PMD_TABLE;
    });
  }
  return { ...s, pmds };
}

/**
 * thp_vma_suitable_order(vma, haddr, PMD_ORDER) (include/linux/huge_mm.h): the VMA covers
 * the whole PMD-aligned range around slot i and file offsets line up with it. Returns the
 * first VMA slot of that range, or NONE.
 */
export function pmdRange(vma: VmaEnv, i: number): number {
  const addr = vma.start + i * PAGE_SIZE;
  const haddr = addr - (addr % (PAGE_SIZE * PTRS_PER_PTE));
  if ((vma.start / PAGE_SIZE - vma.pgoff) % HPAGE_PMD_NR !== 0) return NONE;
  if (haddr < vma.start || haddr + PAGE_SIZE * HPAGE_PMD_NR > vma.start + vma.pages * PAGE_SIZE) return NONE;
  return (haddr - vma.start) / PAGE_SIZE;
}

/** The page's offset in its folio, for an index the folio covers. */
export function pageIdx(c: Ctx, pfn: number, index: number): number {
  return index - c.page(pfn).index;
}

/** folio_next_index(folio). */
export function folioNextIndex(c: Ctx, pfn: number): number {
  const p = c.page(pfn);
  return p.index + folioNr(p);
}

/**
 * set_pte_range(vmf, folio, page, nr, addr) for VMA slots i0 .. i0+nr-1 (mm/memory.c:5015-5047):
 * folio_add_file_rmap_ptes(folio, page, nr, vma) (5041) — `_large_mapcount += nr` and each
 * page's `_mapcount`++ (mm/rmap.c:1176-1184) — then set_ptes() (5043). The references the
 * PTEs hold are the caller's folio_ref_add. Pages past the folio's end (only a miscomputed nr
 * reaches them) are other memory: their PTEs map the folio's pfn in the model, and their own
 * `_mapcount`s, which the kernel corrupts, are not modelled.
 */
export function setPteRange(c: Ctx, vma: VmaEnv, i0: number, nr: number, pfn: number): void {
  const p = c.page(pfn);
  const pmap = p.pmap ? p.pmap.slice() : undefined;
  for (let k = 0; k < nr; k++) {
    c.addRmap(vma, i0 + k, pfn);
    const off = vma.pgoff + i0 + k - p.index;
    if (pmap && off >= 0 && off < pmap.length) pmap[off]! += 1;
  }
  if (pmap) c.updPage(pfn, { pmap });
  for (let k = 0; k < nr; k++) c.setPte(vma, i0 + k, pfn);
}

/** What set_pte_range writes and judges (mapcount, mapping, tree, PTEs). */
export function setPteRangeAcc(c: Ctx, vma: VmaEnv, i0: number, nr: number, pfn: number, file: number): Access[] {
  const a: Access[] = [w(`${c.P(pfn)}.mapcount`), { loc: `${c.P(pfn)}.mapping`, mode: 'read' }, { loc: `${c.M(file)}.tree`, mode: 'read' }];
  for (let k = 0; k < nr; k++) a.push(w(pteLoc(c.env, vma, i0 + k)));
  return a;
}

/** folio_remove_rmap_ptes for one PTE of `pfn` at file index `index`: `_large_mapcount`--, the page's `_mapcount`--. */
export function removeRmapPte(c: Ctx, pfn: number, index: number): number {
  const p = c.page(pfn);
  const patch: { mapcount: number; pmap?: number[] } = { mapcount: p.mapcount - 1 };
  if (p.pmap) {
    const off = index - p.index;
    if (off >= 0 && off < p.pmap.length) patch.pmap = p.pmap.map((n, k) => (k === off ? n - 1 : n));
  }
  c.updPage(pfn, patch);
  return p.mapcount - 1;
}
