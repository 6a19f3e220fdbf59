/**
 * The zap's mmu_gather on 6.1 and 6.12 (kernel/gather.ts): a zapped page's reference is held
 * by the gather past the PTE unlock and put by tlb_finish_mmu at the end of the VMA's zap
 * (6.1.192 mm/memory.c:1454, 1513, 1795; 6.12.118 mm/memory.c:1523, 1689, 1935).
 */
import { describe, expect, test } from '@jest/globals';
import type { MmMachine, MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

/** Step thread 0 until `stop` says so after a step (at most 300 steps); the labels of the steps taken. */
function until(m: MmMachine, s: MmState, stop: (label: string, s: MmState) => boolean): { s: MmState; labels: string[] } {
  const labels: string[] = [];
  for (let k = 0; k < 300; k++) {
    const n = m.next(s, 0);
    if (!n || !n.enabled) break;
    s = m.step(s, 0).state;
    labels.push(n.label);
    if (stop(n.label, s)) break;
  }
  return { s, labels };
}

const page = (s: MmState, pfn: number) => s.pages[pfn]!;

/** One cached page at index 0 (pfn 1) mapped by process p (and by q with `twice`); a truncate to 0. */
const onePageMapped = (flavor: string, twice = false) => `
flavor: ${flavor}
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [{ index: 0, flags: [uptodate] }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 1, ptes: [0] }
${
  twice
    ? `  - name: q
    vmas:
      - { file: data, start: 0x20000, pages: 1, ptes: [0] }
`
    : ''
}threads:
  - { name: t, program: truncate, args: { file: data, size: 0 } }
`;

describe.each(['linux-6.1', 'linux-6.12'])('%s: the zap gathers the page reference', (flavor) => {
  test('between pte_unmap_unlock and tlb_finish_mmu the unmapped page still has the gather’s reference', async () => {
    const m = await machineOf(onePageMapped(flavor), flavor);
    const s0 = m.initial();
    expect(page(s0, 1).refcount).toBe(2); // the page cache's and the PTE's
    const { s, labels } = until(m, s0, (l) => l.includes('pte_unmap_unlock'));
    expect(labels.at(-1)).toContain('tlb_finish_mmu');
    expect(page(s, 1).mapcount).toBe(0);
    expect(s.ptl.every((o) => o === -1)).toBe(true);
    // the old model had put it with the rmap, under the PTE lock: 1 here
    expect(page(s, 1).refcount).toBe(2);
    const n = m.next(s, 0)!;
    expect(n.label).toMatch(/^tlb_finish_mmu\(&tlb\) → tlb_flush_mmu\(\) → free_pages_and_swap_cache\(\)/);
    expect(n.accesses.map((a) => `${a.mode} ${a.loc}`)).toEqual(['write pfn1.refcount']);
    expect(n.accesses[0]!.lkmm?.op).toBe('atomic_dec_return');
    const after = m.step(s, 0).state;
    expect(page(after, 1).refcount).toBe(1);
    expect(m.next(after, 0)!.label).toContain('i_mmap_unlock_read');
  });

  test('the rmap step removes the mapping and leaves the reference alone', async () => {
    const m = await machineOf(onePageMapped(flavor), flavor);
    const { s, labels } = until(m, m.initial(), (l) => l.includes('remove_rmap'));
    expect(labels.at(-1)).toMatch(/tlb_remove_(page|folio_pages)\(tlb, page/);
    expect(page(s, 1).mapcount).toBe(0);
    expect(page(s, 1).refcount).toBe(2);
  });
});

describe('linux-6.1: one gather per VMA (zap_page_range_single)', () => {
  test('the first VMA’s references are put before the second VMA is zapped', async () => {
    const m = await machineOf(onePageMapped('linux-6.1', true), 'linux-6.1');
    const { labels } = until(m, m.initial(), (l) => l.includes('i_mmap_unlock_read'));
    const zap = labels.slice(labels.findIndex((l) => l.startsWith('i_mmap_lock_read')));
    expect(zap.map((l) => l.replace(/\(0x[0-9a-f]+\)/, '(…)').replace(/ of pfn \d+$/, ''))).toEqual([
      'i_mmap_lock_read(mapping)',
      'pte_offset_map_lock(); zap_pte_range: ptep_get_and_clear(…)',
      'page_remove_rmap(page, vma, false); __tlb_remove_page(tlb, page)',
      'pte_unmap_unlock(); zap_page_range_single(): tlb_finish_mmu(&tlb)',
      'tlb_finish_mmu(&tlb) → tlb_flush_mmu() → free_pages_and_swap_cache(): release_pages(): folio_put_testzero(folio)',
      'pte_offset_map_lock(); zap_pte_range: ptep_get_and_clear(…)',
      'page_remove_rmap(page, vma, false); __tlb_remove_page(tlb, page)',
      'pte_unmap_unlock(); zap_page_range_single(): tlb_finish_mmu(&tlb)',
      'tlb_finish_mmu(&tlb) → tlb_flush_mmu() → free_pages_and_swap_cache(): release_pages(): folio_put_testzero(folio)',
      'i_mmap_unlock_read(mapping)',
    ]);
  });
});

describe('linux-6.12: a large folio’s PTE run is one gather entry', () => {
  test('four PTEs of an order-2 folio: four rmap removals, one folio_ref_sub_and_test of 4 after the unlock', async () => {
    const yaml = `
flavor: linux-6.12
files:
  - { name: data, fs: xfs, dev: "8:1", ino: 0x2a, size: 16384, pages: [{ index: 0, order: 2, flags: [uptodate] }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 4, ptes: [0, 1, 2, 3] }
threads:
  - { name: t, program: truncate, args: { file: data, size: 0 } }
`;
    const m = await machineOf(yaml, 'linux-6.12');
    const s0 = m.initial();
    const pfn = s0.pages.findIndex((p) => p !== undefined && p.index === 0);
    const ref0 = page(s0, pfn).refcount;
    const { s, labels } = until(m, s0, (l) => l.includes('pte_unmap_unlock'));
    expect(labels.filter((l) => l.includes('folio_remove_rmap_ptes'))).toHaveLength(4);
    expect(page(s, pfn).mapcount).toBe(0);
    expect(page(s, pfn).refcount).toBe(ref0);
    const n = m.next(s, 0)!;
    expect(n.label).toBe(
      `tlb_finish_mmu(&tlb) → tlb_flush_mmu() → free_pages_and_swap_cache(): folios_put_refs(): folio_ref_sub_and_test(folio, nr_refs) of pfn ${pfn} (4 references)`,
    );
    const after = m.step(s, 0).state;
    expect(page(after, pfn).refcount).toBe(ref0 - 4);
    expect(m.next(after, 0)!.label).toContain('i_mmap_unlock_read');
  });
});

describe.each(['linux-6.1', 'linux-6.12'])('%s: a refcount check racing the zap', (flavor) => {
  test('invalidate_mapping_pages between the PTE unlock and tlb_finish_mmu finds the gather’s reference and keeps the page', async () => {
    const yaml = `${onePageMapped(flavor)}  - { name: u, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }
`;
    const m = await machineOf(yaml, flavor);
    const { s } = until(m, m.initial(), (l) => l.includes('pte_unmap_unlock'));
    expect(page(s, 1).mapcount).toBe(0);
    let t = s;
    const labels: string[] = [];
    for (let k = 0; k < 100; k++) {
      const n = m.next(t, 1);
      if (!n || !n.enabled) break;
      labels.push(n.label);
      t = m.step(t, 1).state;
    }
    expect(t.threads[1]!.status).toBe('done');
    // mapping_evict_folio(): folio_ref_count(folio) > folio_nr_pages(folio) + folio_has_private(folio) + 1 —
    // the cache's, the lookup's and the gather's reference: 3 > 2, the folio stays (it was evicted when the zap
    // had put its reference with the rmap)
    expect(t.pages[1]?.mapping).toBe(0);
    expect(page(t, 1).refcount).toBe(2);
  });
});

describe.each(['linux-2.6.15', 'linux-2.6.15-seqschedlock', 'linux-2.6.23'])('%s: the zap gathers the page reference (SMP: not fast mode)', (flavor) => {
  test('tlb_remove_page queues the page; tlb_finish_mmu puts it after pte_unmap_unlock, under i_mmap_lock', async () => {
    const m = await machineOf(onePageMapped(flavor), flavor);
    const s0 = m.initial();
    expect(page(s0, 1).refcount).toBe(2); // the page cache's and the PTE's
    const r = until(m, s0, (l) => l.includes('remove_rmap'));
    expect(r.labels.at(-1)).toBe('page_remove_rmap(page); tlb_remove_page(tlb, page)');
    expect(page(r.s, 1).mapcount).toBe(0);
    // the old model put the reference here, under the PTE lock: 1
    expect(page(r.s, 1).refcount).toBe(2);
    const { s, labels } = until(m, r.s, (l) => l.includes('pte_unmap_unlock'));
    expect(labels.at(-1)).toContain('pte_unmap_unlock(); zap_page_range(): tlb_finish_mmu(tlb, address, end)');
    expect(s.ptl.every((o) => o === -1)).toBe(true);
    expect(page(s, 1).refcount).toBe(2);
    const n = m.next(s, 0)!;
    expect(n.label).toBe(
      'tlb_finish_mmu(tlb, address, end) → tlb_flush_mmu() → free_pages_and_swap_cache(): release_pages(): put_page_testzero(page) of pfn 1',
    );
    expect(n.accesses.map((a) => `${a.mode} ${a.loc}`)).toEqual(['write pfn1.refcount']);
    expect(n.accesses[0]!.lkmm?.op).toBe('atomic_dec_return');
    const after = m.step(s, 0).state;
    expect(page(after, 1).refcount).toBe(1);
    expect(m.next(after, 0)!.label).toContain('spin_unlock(&mapping->i_mmap_lock)');
  });
});

describe('linux-2.6.23: a refcount check racing the zap', () => {
  test('invalidate_mapping_pages between the PTE unlock and tlb_finish_mmu sees the gather’s reference: page_count != 2, busy', async () => {
    const yaml = `${onePageMapped('linux-2.6.23')}  - { name: u, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }
`;
    const m = await machineOf(yaml, 'linux-2.6.23');
    const { s } = until(m, m.initial(), (l) => l.includes('pte_unmap_unlock'));
    expect(page(s, 1).mapcount).toBe(0);
    const r = drive(m, s, 1);
    expect(r.s.threads[1]!.status).toBe('done');
    // invalidate_complete_page() → remove_mapping(): page_count(page) != 2 — the cache's, the pagevec lookup's and the
    // gather's reference: 3, the page stays (the old model had put the zap's reference with the rmap: 2, evicted)
    expect(r.effects).toContain('page_count 3 != 2: busy');
    expect(r.s.pages[1]?.mapping).toBe(0);
    expect(page(r.s, 1).refcount).toBe(2);
  });
});
