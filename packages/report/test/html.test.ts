import { describe, expect, it } from '@jest/globals';
import type { TraceEvent } from '@kreplay/core';
import type { Finding, MmOp } from '@kreplay/core';
import { emptyCounts } from '@kreplay/diff';
import { reportToHtml } from '../src/html/report.js';
import { PerfettoWriter } from '../src/perfetto.js';

const ev = (ts: bigint, pid: number, line: number): TraceEvent => ({
  type: 'event', ts, cpu: pid % 2, pid, comm: `t${pid}`, event: 'x', fields: {}, line, source: 't.txt',
});
const file = { dev: '8:0', ino: 12n };

function perfetto(ops: MmOp[], findings: Finding[] = []): { traceEvents: Array<Record<string, unknown>> } {
  let text = '';
  const w = new PerfettoWriter((s) => { text += s; });
  for (const op of ops) w.op(op);
  for (const f of findings) w.finding(f);
  w.end();
  return JSON.parse(text);
}

describe('Perfetto export', () => {
  it('writes a slice per entry/return pair, instants for page-cache events, exact microseconds', () => {
    const t = perfetto([
      { kind: 'fault_begin', file, index: 0, event: ev(1_000_000_123n, 7, 1) },
      { kind: 'cache_add', file, index: 0, pfn: 0x10n, order: 0, event: ev(1_000_000_500n, 7, 2) },
      { kind: 'fault_end', file, index: 0, ret: 0x200, event: ev(1_000_002_000n, 7, 3) },
    ]);
    const e = t.traceEvents;
    expect(e.filter((x) => x.ph === 'B')).toEqual([expect.objectContaining({ name: 'fault', tid: 7, ts: 1000000.123 })]);
    expect(e.filter((x) => x.ph === 'E')).toHaveLength(1);
    expect(e.find((x) => x.name === 'cache_add')).toMatchObject({ ph: 'i', s: 't', args: { file: '8:0/c', index: 0, pfn: '0x10', line: 't.txt:2' } });
    expect(e.find((x) => x.name === 'process_name' && x.pid === 7)).toMatchObject({ args: { name: 't7 (7)' } });
  });

  it('skips a return whose entry predates the trace and closes spans left open at the end', () => {
    const t = perfetto([
      { kind: 'invalidate_end', fn: 'invalidate_inode_pages2_range', ret: -16, event: ev(10_000n, 3, 1) },
      { kind: 'truncate_begin', fn: 'truncate_pagecache', event: ev(20_000n, 3, 2) },
    ]);
    const e = t.traceEvents;
    expect(e.filter((x) => x.ph === 'B').map((x) => x.name)).toEqual(['truncate_pagecache']);
    expect(e.filter((x) => x.ph === 'E')).toEqual([expect.objectContaining({ ts: 20, args: { note: 'still running when the trace ended' } })]);
  });

  it('puts findings on a global track', () => {
    const f: Finding = { rule: 'orphan-page-mapped', severity: 'error', certainty: 'uncertain', message: 'm', ts: 5_000n, cpu: 0, pid: 1, events: [], explanation: 'e' };
    const e = perfetto([], [f]).traceEvents;
    expect(e.find((x) => x.s === 'g')).toMatchObject({ name: 'error: orphan-page-mapped', pid: 0, ts: 5, args: { certainty: 'uncertain' } });
  });
});

describe('the HTML report', () => {
  it('escapes what the trace says and needs nothing from the network', () => {
    const f: Finding = { rule: 'bug-on', severity: 'error', certainty: 'certain', message: '<script>alert(1)</script>', ts: 0n, cpu: 0, pid: 1, events: [], explanation: 'a & b' };
    const run = { source: 'x', findings: [f], durationNs: 0, counts: emptyCounts(), latency: {}, stats: { events: 1, ops: 1, gaps: 0, unknown: 0 } };
    const html = reportToHtml({ title: 'T <1>', runs: [{ label: 'x', run, classes: [{ key: 'k', finding: f, count: 1 }] }] });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a &amp; b');
    expect(html).toContain('<title>T &lt;1&gt;</title>');
  });
});
