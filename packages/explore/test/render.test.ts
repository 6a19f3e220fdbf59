import { describe, expect, it } from '@jest/globals';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { type TraceRecord } from '@kreplay/core';
import type { MmOp } from '@kreplay/core';
import { counterexample, explore, exploreJson, formatExploreText } from '../src/index.js';
import { abba, lockOrderCheck, toyMachine, trueLivelock, type ToySpec } from './toy.js';

const file = { dev: '8:1', ino: 0x2an };
const add: MmOp = { kind: 'cache_add', file, index: 1, pfn: 0x3n, order: 0 };
const map: MmOp = { kind: 'pte_map', file, index: 1, pfn: 0x3n, address: 0x10000n };
const del: MmOp = { kind: 'cache_delete', file, index: 1, pfn: 0x3n, order: 0 };

/** A toy race whose steps emit the MmOps a traced kernel would show. */
const racy = (): ToySpec => ({
  names: ['fault', 'odirect'],
  threads: [
    [{ op: 'store', v: 'pte', val: 1, emit: map }],
    [
      { op: 'store', v: 'cache', val: 1, emit: add },
      { op: 'store', v: 'cache', val: 0, emit: del },
      { op: 'load', v: 'pte', r: 'p' },
    ],
  ],
  vars: { pte: 0, cache: 0 },
  final: (v) => (v['pte'] === 1 && v['cache'] === 0 ? [{ rule: 'orphan-page-mapped', message: 'PTE maps a page no longer cached' }] : []),
});

const header = { scenario: 'toy race', flavor: 'toy' };

describe('counterexample renderings', () => {
  it('writes the ftrace text trace of docs/trace-format.md', async () => {
    const m = toyMachine(racy());
    const r = await explore(m);
    const ce = counterexample(m, r.violations[0]!, header);
    expect(r.violations[0]!.schedule).toEqual([0, 1, 1, 1]);
    const lines = ce.ftrace.split('\n');
    expect(lines.slice(0, 6)).toEqual([
      '# tracer: nop',
      '#',
      '# kreplay: explore format=1 scenario="toy race" flavor=toy schedule=0,1,1,1 rule=orphan-page-mapped',
      '#',
      '# entries-in-buffer/entries-written: 4/4   #P:2',
      '#',
    ]);
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual([
      '           fault-101     [000] .....     1.000001: tracing_mark_write: kreplay:pte_map dev=8:1 ino=2a index=1 pfn=0x3 addr=0x10000',
      '         odirect-102     [001] .....     1.000002: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x3 ofs=4096 order=0',
      '         odirect-102     [001] .....     1.000003: mm_filemap_delete_from_page_cache: dev 8:1 ino 2a pfn=0x3 ofs=4096 order=0',
      '         odirect-102     [001] .....     1.000004: tracing_mark_write: kreplay:step label="p = pte"',
      '',
    ]);
  });

  it('writes a trace the ftrace parser reads back event for event', async () => {
    const m = toyMachine(racy());
    const r = await explore(m);
    const ce = counterexample(m, r.violations[0]!, header);
    const events = parseTraceString(ce.ftrace).filter((x: TraceRecord) => x.type === 'event');
    expect(events).toHaveLength(4);
    expect(parseTraceString(ce.ftrace).filter((x: TraceRecord) => x.type === 'gap')).toEqual([]);
    expect(events.map((e) => (e as { event: string }).event)).toEqual([
      'print',
      'mm_filemap_add_to_page_cache',
      'mm_filemap_delete_from_page_cache',
      'print', // trace_marker writes are ftrace's print event
    ]);
    expect(events.map((e) => (e as { pid: number }).pid)).toEqual([101, 102, 102, 102]);
  });

  it('draws one track per thread, one slice per step, the violation and lock hand-offs in Perfetto JSON', async () => {
    const m = toyMachine(lockOrderCheck());
    const r = await explore(m);
    const ce = counterexample(m, r.violations[0]!, header);
    const t = JSON.parse(ce.perfetto) as { traceEvents: Record<string, unknown>[] };
    const ev = t.traceEvents;
    expect(ev.filter((e) => e['name'] === 'thread_name').map((e) => e['tid'])).toEqual([101, 102]);
    const slices = ev.filter((e) => e['ph'] === 'X');
    expect(slices).toHaveLength(6); // 2 steps of the counterexample, then the run finished
    expect(ev.filter((e) => e['ph'] === 'i').map((e) => e['name'])).toEqual(['stale-after-invalidate']);
    const flows = ev.filter((e) => e['ph'] === 's' || e['ph'] === 'f');
    // t1 takes L first and hands it to t0 when it unlocks.
    expect(flows.map((e) => [e['ph'], e['tid']])).toEqual([
      ['s', 102],
      ['f', 101],
    ]);
    expect(flows[0]!['id']).toBe(flows[1]!['id']);
  });

  it('prints the interleaving table with one column per thread and the state change beside it', async () => {
    const m = toyMachine(racy());
    const r = await explore(m);
    const text = formatExploreText(m, r, header);
    const lines = text.split('\n');
    expect(lines[0]).toBe('violation: toy race on toy: orphan-page-mapped');
    expect(lines[1]).toMatch(/^end states \d+ · states \d+ \(\d+ distinct\) · max depth \d+ · [\d.]+ ms · \d+k? states\/s$/);
    expect(text).toContain(
      [
        '# | fault (T0) | odirect (T1) | effect',
        '--+------------+--------------+----------',
        '1 | pte = …    |              | pte 0→1',
        '2 |            | cache = …    | cache 0→1',
        '3 |            | cache = …    | cache 1→0',
        '4 |            | p = pte      | p=1',
      ].join('\n'),
    );
    expect(text).toContain('at the end: orphan-page-mapped: PTE maps a page no longer cached');
  });

  it('marks a livelock cycle and a deadlock in the table', async () => {
    const m = toyMachine(trueLivelock());
    const text = formatExploreText(m, await explore(m), header);
    expect(text).toContain('(steps marked ↻ repeat forever)');
    const d = toyMachine(abba());
    expect(formatExploreText(d, await explore(d), header)).toContain('then: deadlock: every live thread is blocked');
  });

  it('puts each violation with its schedule and steps in the JSON object', async () => {
    const m = toyMachine(racy());
    const j = exploreJson(m, await explore(m), header);
    expect(j).toMatchObject({ verdict: 'violation', scenario: 'toy race', flavor: 'toy', exhaustive: true });
    const v = (j['violations'] as Record<string, unknown>[])[0]!;
    expect(v).toMatchObject({ rule: 'orphan-page-mapped', schedule: [0, 1, 1, 1], at: 'final' });
    expect((v['steps'] as unknown[]).length).toBe(4);
    expect(Object.keys(j['stats'] as object)).toEqual(expect.arrayContaining(['executions', 'states', 'distinctStates', 'timeMs', 'statesPerSec']));
  });
});
