/**
 * The inputs replay takes besides the trace's lines — the vmemmap base, the struct page
 * size, probe maps, meta.json — and what replay says when they do not fit the trace.
 */
import { describe, expect, it } from '@jest/globals';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { isInputError, parseProbeMap, type MetaJson } from '@kreplay/core';
import { replay, type ReplayOptions } from '@kreplay/replay';

const VM = 0xffffea0000000000n;
const page = (pfn: number) => `0x${(VM + BigInt(pfn) * 64n).toString(16)}`;

function line(task: string, cpu: number, ts: string, body: string): string {
  return `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${ts.padStart(12)}: ${body}`;
}
async function run(lines: string[], opts: ReplayOptions = {}) {
  const text = ['# tracer: nop', '#', ...lines].join('\n') + '\n';
  return replay(parseTraceString(text, { source: 't.txt' }), { source: 't.txt', kernel: 'linux-6.1', vmemmapBase: VM, traceClock: 'mono', ...opts });
}

const add = (pfn: number) => `mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x${pfn.toString(16)} ofs=0 order=0`;
const del = (pfn: number) => `mm_filemap_delete_from_page_cache: dev 8:16 ino 2a pfn=0x${pfn.toString(16)} ofs=0 order=0`;
const rmapAdd = (pfn: number) => `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page(pfn)} arg2=0xffff888003b00000 arg3=0x0`;
/** A page mapped on CPU 0, then removed from the page cache on CPU 1: mapped-page-removed. */
const race = [line('reader-10', 0, '1.000001', add(0x10)), line('mapper-11', 0, '1.000002', rmapAdd(0x10)), line('dropper-12', 1, '1.000003', del(0x10))];

describe('vmemmap base and struct page size', () => {
  it('with the boot’s vmemmap base, the struct page pointers name the pages the tracepoints print', async () => {
    const r = await run(race);
    expect(r.findings.map((f) => f.rule)).toEqual(['mapped-page-removed']);
    // the rules that join PTEs to the page cache are judged; the trace has no invalidate, so that rule had nothing to judge
    expect(r.verdict.unjudged).toEqual([
      { rule: 'stale-after-invalidate', reason: 'no invalidate_inode_pages2_range call returned 0 in the trace', unexercised: true },
    ]);
  });

  it.each([
    ['another boot’s vmemmap base (KASLR moves it by GiBs)', { vmemmapBase: VM - (1n << 30n) }],
    ['a vmemmap base off by one struct page', { vmemmapBase: VM - 64n }],
  ])('%s is not a clean run: the rules that join PTEs to the page cache are unjudged', async (_what, opts) => {
    const r = await run(race, opts);
    expect(r.findings).toEqual([]);
    expect(r.verdict.unjudged?.map((u) => u.rule)).toEqual(['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data']);
    expect(r.verdict.unjudged?.[0]?.reason).toMatch(/struct page pointers .*vmemmap base 0x[0-9a-f]+ \(--vmemmap-base\).*not the traced boot's/);
    expect(r.warnings.join('\n')).toMatch(/--vmemmap-base/);
  });

  it('a struct page size that scales every pfn is not a clean run either', async () => {
    const r = await run(race, { probes: { structPageSize: 32, probes: {} } });
    expect(r.findings).toEqual([]);
    expect(r.verdict.unjudged?.map((u) => u.rule)).toContain('mapped-page-removed');
  });

  it('--probes saying structPageSize 64 overrides a meta.json that said otherwise', async () => {
    const meta = { kernel: { release: '6.1.0-56-amd64' }, probes: { structPageSize: 80, probes: {} } };
    const r = await run(race, { meta, probes: { structPageSize: 64, probes: {} } });
    expect(r.findings.map((f) => f.rule)).toEqual(['mapped-page-removed']);
  });

  it('one pfn both origins name is enough: pages mapped before the trace began stay judged as before', async () => {
    const r = await run([line('old-9', 0, '1.000000', rmapAdd(0x99)), ...race]);
    expect(r.findings.map((f) => f.rule)).toEqual(['mapped-page-removed']);
    expect(r.verdict.unjudged?.map((u) => u.rule)).toEqual(['stale-after-invalidate']);
  });
});

describe("meta.json's probes", () => {
  const rmap = { 'kprobe:page_add_file_rmap': { op: 'pte_unmap', args: { pfn: { field: ['page', 'arg1'], as: 'page' } } } };
  const meta = (probes: unknown): MetaJson => ({ kernel: { release: '6.1.0-56-amd64' }, probes });

  it('saying another op than the shipped map for one of its probes is refused, naming both', async () => {
    const e = await run(race, { kernel: 'auto', meta: meta(rmap), metaSource: 'run/meta.json' }).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({ file: 'run/meta.json' });
    expect((e as Error).message).toMatch(/kprobe:page_add_file_rmap is pte_unmap in meta.json, pte_map in the shipped map/);
  });

  it('saying another function than the shipped map (a fn defaults to the probed function) is refused', async () => {
    const inv = { 'kprobe:invalidate_mapping_pagevec': { op: 'invalidate_begin', args: { start: 'arg2', end: 'arg3' } } };
    const e = await run(race, { meta: meta(inv) }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(
      /invalidate_begin of invalidate_mapping_pagevec in meta.json, invalidate_begin of invalidate_mapping_pages in the shipped map/,
    );
  });

  it('--probes settles the probe: its meaning is used', async () => {
    const r = await run(race, {
      meta: meta(rmap),
      probes: { structPageSize: 64, probes: { 'kprobe:page_add_file_rmap': { op: 'pte_map', args: { pfn: { field: 'arg1', as: 'page' } } } } },
    });
    expect(r.findings.map((f) => f.rule)).toEqual(['mapped-page-removed']);
  });

  it('naming a probe, a function or a field with a line break is refused: replay prints those names inside its lines', async () => {
    // a meta.json is someone else's input; the warning "no PTE changes (kprobes on …)" printed this key's
    // second line as a line of its own, `::error::…` on a CI runner's log
    const spec = { op: 'pte_map', args: { pfn: { field: 'arg1', as: 'page' } } };
    for (const probes of [
      { 'kprobe:do_set_pte\n::error::x': spec },
      { 'kprobe:do_set_pte': { ...spec, fn: 'do_set_pte\n::error::x' } },
      { 'kprobe:do_set_pte': { ...spec, args: { pfn: { field: 'arg1\n::error::x', as: 'page' } } } },
    ]) {
      const e = await run(race, { meta: meta(probes), metaSource: 'run/meta.json' }).catch((x: unknown) => x);
      expect(isInputError(e)).toBe(true);
      expect((e as Error).message).toContain('one line (an event, function or field name holds no line break)');
    }
    expect(() => parseProbeMap('probes:\n  "kprobe:f\\nx": { op: pte_map }\n', 'p.yaml')).toThrow(/one line/);
  });

  it('agreeing with the shipped map, or naming probes it does not know, is read as before', async () => {
    const agree = {
      'kprobe:page_add_file_rmap': { op: 'pte_map', fn: 'anything', args: { pfn: { field: 'arg1', as: 'page' } } },
      'kprobe:invalidate_inode_pages2_range': { op: 'invalidate_begin', fn: 'invalidate_inode_pages2_range', args: {} },
      'my_rmap': { op: 'pte_unmap', args: {} },
    };
    const r = await run(race, { meta: meta(agree) });
    expect(r.findings.map((f) => f.rule)).toEqual(['mapped-page-removed']);
  });
});

describe('probe map conversions', () => {
  const map = (args: string) => () =>
    parseProbeMap(`probes:\n  kprobe:invalidate_inode_pages2_range:\n    op: invalidate_begin\n    args: { ${args} }\n`, 'm.yaml');

  it.each([
    ['ino: { field: ino, as: kdev }', /args\.ino\.as: ino is a number: kdev makes a string/],
    ['start: { field: arg2, as: string }', /args\.start\.as: start is a number: string makes a string/],
    ['dev: { field: dev, as: number }', /args\.dev\.as: dev is a device/],
  ])('%s is refused at its line: the value could never be used, and replay dropped it silently', (args, message) => {
    const e = (() => {
      try {
        map(args)();
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({ file: 'm.yaml', line: 4 });
    expect((e as Error).message).toMatch(message);
  });

  it('the conversions that fit their targets are read as before', () => {
    expect(map('dev: { field: dev, as: kdev }, ino: { field: ino, as: hex }, start: { field: arg2, as: bytes-to-index }, end: arg3')()).toBeDefined();
  });
});
