/**
 * Replay of Linux 6.12 traces (kernel-configs/probes/linux-6.12.yaml): large folios cover
 * 2^order pages, rmap probes map `nr` pages of a folio at once, tail pages take their index
 * from their folio, and without meta.json the trace's own events choose the adapter.
 */
import { describe, expect, it } from '@jest/globals';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { compareKernels, EVIDENCE_WINDOW, KernelEvidence, replay, type ReplayOptions } from '@kreplay/replay';

const VM = 0xffffea0000000000n;
const page = (pfn: number) => `0x${(VM + BigInt(pfn) * 64n).toString(16)}`;

function line(task: string, cpu: number, ts: string, body: string): string {
  return `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${ts.padStart(12)}: ${body}`;
}
async function run(lines: string[], opts: ReplayOptions = {}) {
  const text = ['# tracer: nop', '#', '#', ...lines].join('\n') + '\n';
  return replay(parseTraceString(text, { source: 't.txt' }), { source: 't.txt', vmemmapBase: VM, kernel: 'linux-6.12', ...opts });
}

const add = (pfn: number, idx: number, order = 0) => `mm_filemap_add_to_page_cache: dev 254:0 ino c pfn=0x${pfn.toString(16)} ofs=${idx * 4096} order=${order}`;
const del = (pfn: number, idx: number, order = 0) =>
  `mm_filemap_delete_from_page_cache: dev 254:0 ino c pfn=0x${pfn.toString(16)} ofs=${idx * 4096} order=${order}`;
/** folio_add_file_rmap_ptes(folio, page, nr, vma) with the shipped map's positional arguments, plus folio->index. */
const rmapAdd = (folio: number, pfn: number, nr: number, index?: number) =>
  `p_folio_add_file_rmap_ptes_0: (folio_add_file_rmap_ptes+0x4/0xe0) arg1=${page(folio)} arg2=${page(pfn)} arg3=${nr}${index === undefined ? '' : ` index=${index} ino=12 dev=266338304`}`;
const rmapDel = (folio: number, pfn: number, nr: number) =>
  `p_folio_remove_rmap_ptes_0: (folio_remove_rmap_ptes+0x4/0xe0) arg1=${page(folio)} arg2=${page(pfn)} arg3=${nr}`;

describe('linux-6.12: large folios and batched rmaps', () => {
  it('a folio of order n is 2^n pages: every mapped page of it removed is a finding at its own index', async () => {
    const r = await run([
      line('r-1', 0, '1.000001', add(0x100, 4, 2)),
      line('m-2', 0, '1.000002', rmapAdd(0x100, 0x101, 2)), // pages 0x101, 0x102 (indexes 5, 6)
      line('d-3', 1, '1.000003', del(0x100, 4, 2)),
    ]);
    expect(r.findings.map((f) => [f.rule, f.index])).toEqual([
      ['mapped-page-removed', 5],
      ['mapped-page-removed', 6],
    ]);
    expect(r.stats.byOp).toMatchObject({ cache_add: 1, cache_delete: 1, pte_map: 1 });
  });

  it('a batched zap unmaps all nr pages: the folio then leaves the cache cleanly', async () => {
    const r = await run([
      line('r-1', 0, '1.000001', add(0x200, 8, 3)),
      line('m-2', 0, '1.000002', rmapAdd(0x200, 0x200, 8)),
      line('m-2', 0, '1.000003', rmapDel(0x200, 0x200, 8)),
      line('d-3', 1, '1.000004', del(0x200, 8, 3)),
    ]);
    expect(r.findings).toEqual([]);
    expect(r.stats.pages).toBe(8);
  });

  it('a tail page takes its index from its folio (folio->index + page − folio), so it is not an orphan', async () => {
    const r = await run([
      line('r-1', 0, '1.000001', add(0x300, 4, 2)),
      line('m-2', 0, '1.000002', rmapAdd(0x300, 0x302, 1, 4)), // page 0x302 is index 6; the probe read folio->index 4
      line('m-2', 0, '1.000003', rmapDel(0x300, 0x302, 1)),
    ]);
    expect(r.findings).toEqual([]);
    expect(r.stats.unusableEvents).toEqual({});
  });

  it("the same PTE op naming a page of another slot is an orphan: the index is the page's, checked", async () => {
    const r = await run([
      line('r-1', 0, '1.000001', add(0x300, 4, 2)),
      line('m-2', 0, '1.000002', rmapAdd(0x300, 0x302, 1, 8)), // folio->index 8: page 0x302 would be index 10
    ]);
    expect(r.findings.map((f) => f.rule)).toEqual(['orphan-page-mapped']);
    expect(r.findings[0]!.message).toContain('at index 10, which the page cache does not hold it for');
  });

  it('refuses impossible folios as unusable events, with the reason', async () => {
    const r = await run([
      line('r-1', 0, '1.000001', add(0x400, 0, 19)),
      line('r-1', 0, '1.000002', add(0x400, 2, 2)), // index 2 is not a multiple of 4
      line('r-1', 0, '1.000003', add(0x402, 4, 2)), // pfn 0x402 neither
      line('m-2', 0, '1.000004', rmapAdd(0x400, 0x300, 1)), // the page is not in its folio
      line('m-2', 0, '1.000005', rmapAdd(0x400, 0x400, 0)),
    ]);
    expect(r.stats.unusableEvents).toEqual({
      'mm_filemap_add_to_page_cache: index 2 is not aligned to its order-2 folio': 1,
      'mm_filemap_add_to_page_cache: order 19 is not a folio order (0..18)': 1,
      'mm_filemap_add_to_page_cache: pfn 0x402 is not aligned to its order-2 folio': 1,
      'p_folio_add_file_rmap_ptes_0: nr=0 is not a page count': 1,
      'p_folio_add_file_rmap_ptes_0: page pfn 0x300 is not in its folio at pfn 0x400': 1,
    });
    expect(r.stats.ops).toBe(0);
  });

  it('mm_filemap_fault opens a fault the filemap_fault kretprobe closes; a SIGBUS return without it is adopted', async () => {
    const r = await run([
      line('f-1', 0, '1.000001', 'mm_filemap_fault: dev=254:0 ino=c ofs=8192'),
      line('f-1', 0, '1.000004', 'r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) arg1=0x200'),
      line('f-1', 0, '1.000005', 'r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) arg1=0x2'),
    ]);
    expect(r.stats.byOp).toMatchObject({ fault_begin: 1, fault_end: 2 });
    expect(r.stats.latency.fault.count).toBe(1);
    expect(r.stats.adopted.calls).toBe(1);
    expect(r.stats.returns.filemap_fault).toEqual({ '0x2': 1, '0x200': 1 });
  });

  it('mapping_try_invalidate nested in invalidate_mapping_pages is one call, timed once', async () => {
    const r = await run([
      line('d-1', 0, '1.000001', 'p_invalidate_mapping_pages_0: (invalidate_mapping_pages+0x4/0x20) arg1=0x1 arg2=0x0 arg3=0xffffffffffffffff'),
      line('d-1', 0, '1.000002', 'p_mapping_try_invalidate_0: (mapping_try_invalidate+0x4/0x1a0) arg1=0x1 arg2=0x0 arg3=0xffffffffffffffff'),
      line('d-1', 0, '1.000003', 'r_mapping_try_invalidate_0: (invalidate_mapping_pages+0x1a/0x20 <- mapping_try_invalidate) arg1=0x3'),
      line('d-1', 0, '1.000004', 'r_invalidate_mapping_pages_0: (generic_fadvise+0x1c0/0x2a0 <- invalidate_mapping_pages) arg1=0x3'),
    ]);
    expect(r.stats.byOp).toMatchObject({ invalidate_begin: 2, invalidate_end: 2 });
    expect(r.stats.latency.invalidate.count).toBe(1);
    expect(r.stats.unusableEvents).toEqual({});
  });
});

describe("--kernel auto without meta.json: the trace's own events choose", () => {
  const auto = { kernel: 'auto' } as const;
  it('6.12 by its rmap kprobes or its fault tracepoint', async () => {
    const r = await run([line('r-1', 0, '1.000001', add(0x10, 0)), line('m-2', 0, '1.000002', rmapAdd(0x10, 0x10, 1))], auto);
    expect(r.trace.kernel).toBe('linux-6.12');
    expect(r.trace.kernelReason).toMatch(/^trace evidence: p_folio_add_file_rmap_ptes_0 \(kprobe on folio_add_file_rmap_ptes\) \(known to linux-6\.12\)/);
    // the records held while choosing are replayed too
    expect(r.stats.byOp).toMatchObject({ cache_add: 1, pte_map: 1 });
    const f = await run([line('f-1', 0, '1.000001', 'mm_filemap_fault: dev=254:0 ino=c ofs=0')], auto);
    expect(f.trace.kernel).toBe('linux-6.12');
  });

  it('6.1 by page_add_file_rmap', async () => {
    const r = await run(
      [
        line('r-1', 0, '1.000001', add(0x10, 0)),
        line('m-2', 0, '1.000002', `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page(0x10)} arg2=0x1 arg3=0x0`),
      ],
      auto,
    );
    expect([r.trace.kernel, r.trace.kernelReason]).toEqual([
      'linux-6.1',
      'trace evidence: p_page_add_file_rmap_0 (kprobe on page_add_file_rmap) (known to linux-6.1)',
    ]);
    expect(r.stats.byOp.pte_map).toBe(1);
  });

  it('the default when no event tells them apart, and a warning when a later event contradicts the choice', async () => {
    const none = await run([line('r-1', 0, '1.000001', add(0x10, 0))], auto);
    expect([none.trace.kernel, none.trace.kernelReason]).toEqual(['linux-6.1', 'default (no meta.json; no event tells the kernels apart)']);
    // the first telling event chooses; a later one only another map knows is pointed out
    const both = await run(
      [
        line('f-1', 0, '1.000001', 'mm_filemap_fault: dev=254:0 ino=c ofs=0'),
        line('m-2', 0, '1.000002', `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page(0x10)}`),
      ],
      auto,
    );
    expect(both.trace.kernel).toBe('linux-6.12');
    expect(both.warnings.join('\n')).toContain(
      "1 p_page_add_file_rmap_0 events mean nothing to linux-6.12's probe map (chosen by trace evidence: mm_filemap_fault (known to linux-6.12)) but are known to linux-6.1's: if that is the traced kernel, pass --kernel linux-6.1",
    );
    // the PTE it left out may be the one a rule needed: a hole, not a clean run (0 gaps before)
    expect(both.verdict.gaps).toBe(1);
    expect(both.warnings).toContain(
      "1 event another shipped probe map knows was left out of the replay with linux-6.12's: replay counts one gap, every finding is uncertain and finding nothing is not a clean run",
    );
  });

  it('events past the evidence window that only another map knows are a hole: a removal of a page they mapped is not clean', async () => {
    // EVIDENCE_WINDOW events none of which tells the kernels apart: the default, linux-6.1, is chosen
    const lines = Array.from({ length: EVIDENCE_WINDOW }, (_, i) => line('r-1', 0, `1.${String(i + 1).padStart(6, '0')}`, add(0x1000 + i, 100 + i)));
    // then a 6.1 mapping of another page (PTE changes are seen), and 6.12's mapping of page 0x10, removed while mapped
    lines.push(
      line('m-2', 1, '2.000001', `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page(0x1000)} arg2=0x1 arg3=0x0`),
      line('r-1', 0, '2.000002', add(0x10, 0)),
      line('m-2', 1, '2.000003', rmapAdd(0x10, 0x10, 1)),
      line('r-1', 0, '2.000004', del(0x10, 0)),
    );
    const r = await run(lines, { kernel: 'auto', traceClock: 'mono' }); // a clock that orders CPUs: the PTE rules are judged
    expect(r.trace.kernelReason).toBe('default (no meta.json; no event tells the kernels apart)');
    expect(r.findings).toEqual([]);
    // before: 0 gaps, the PTE rules judged: "clean" over the mapping it never replayed
    expect(r.verdict.gaps).toBe(1);
    expect(r.verdict.unjudged?.some((u) => u.rule === 'mapped-page-removed')).not.toBe(true);
    expect(r.warnings.join('\n')).toContain("1 event another shipped probe map knows was left out of the replay with linux-6.1's");
  });

  it("meta.json's release still wins over the evidence", async () => {
    const r = await run([line('m-2', 0, '1.000002', rmapAdd(0x10, 0x10, 1))], { ...auto, meta: { kernel: { release: '6.1.0-56-amd64' } } });
    expect(r.trace.kernel).toBe('linux-6.1');
  });
});

describe('KernelEvidence', () => {
  const map = (...keys: string[]) => ({ structPageSize: 64, probes: Object.fromEntries(keys.map((k) => [k, { op: 'marker' as never, args: {} }])) });
  it('narrows among several maps, event by event, and says when the events fit none', () => {
    const ev = new KernelEvidence(
      new Map([
        ['linux-6.1', map('common', 'old_only')],
        ['linux-6.12', map('common', 'new_a', 'new_b')],
        ['linux-6.9', map('common', 'new_a')],
      ]),
    );
    ev.see('common', undefined);
    expect(ev.done).toBe(false);
    ev.see('new_a', undefined); // 6.9 and 6.12 left
    expect(ev.done).toBe(false);
    expect(ev.choose('linux-6.1')).toEqual({ kernel: 'linux-6.9', reason: 'trace evidence: new_a (known to linux-6.9, linux-6.12)' });
    ev.see('old_only', undefined);
    expect(ev.done).toBe(true);
    expect(ev.choose('linux-6.1').warning).toMatch(/fit no single shipped probe map \(new_a .*; then old_only, known only to linux-6.1\)/);
  });

  it('orders kernels by version, not as strings', () => {
    expect(['linux-6.12', 'linux-6.9', 'linux-6.1', 'linux-2.6.15'].sort(compareKernels)).toEqual(['linux-2.6.15', 'linux-6.1', 'linux-6.9', 'linux-6.12']);
  });
});
