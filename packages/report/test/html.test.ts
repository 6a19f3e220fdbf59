import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { TraceEvent } from '@kreplay/core';
import type { CitedEvent, Finding, MmOp } from '@kreplay/core';
import { diffRuns, emptyCounts, type RunData } from '@kreplay/diff';
import { html, isHtml, trusted } from '../src/html/html.js';
import { reportToHtml, type ReportModel } from '../src/html/report.js';
import { PerfettoWriter } from '../src/perfetto.js';
import { raceSections, TaskColours } from '../src/race-groups.js';
import { reportToText } from '../src/report-text.js';

const ev = (ts: bigint, pid: number, line: number): TraceEvent => ({
  type: 'event',
  ts,
  cpu: pid % 2,
  pid,
  comm: `t${pid}`,
  event: 'x',
  fields: {},
  line,
  source: 't.txt',
});
const file = { dev: '8:0', ino: 12n };

function perfetto(ops: MmOp[], findings: Finding[] = []): { traceEvents: Array<Record<string, unknown>> } {
  let text = '';
  const w = new PerfettoWriter((s) => {
    text += s;
  });
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
    const f: Finding = {
      rule: 'orphan-page-mapped',
      severity: 'error',
      certainty: 'uncertain',
      message: 'm',
      ts: 5_000n,
      cpu: 0,
      pid: 1,
      events: [],
      explanation: 'e',
    };
    const e = perfetto([], [f]).traceEvents;
    expect(e.find((x) => x.s === 'g')).toMatchObject({ name: 'error: orphan-page-mapped', pid: 0, ts: 5, args: { certainty: 'uncertain' } });
  });
});

describe('the HTML report', () => {
  it('escapes what the trace says and needs nothing from the network', () => {
    const f: Finding = {
      rule: 'bug-on',
      severity: 'error',
      certainty: 'certain',
      message: '<script>alert(1)</script>',
      ts: 0n,
      cpu: 0,
      pid: 1,
      events: [],
      explanation: 'a & b',
    };
    const run = { source: 'x', findings: [f], durationNs: 0, counts: emptyCounts(), latency: {}, stats: { events: 1, ops: 1, gaps: 0, unknown: 0 } };
    const html = reportToHtml({ title: 'T <1>', runs: [{ label: 'x', run, classes: [{ key: 'k', finding: f, count: 1 }] }] });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a &amp; b');
    expect(html).toContain('<title>T &lt;1&gt;</title>');
  });

  it('leaves no empty line where there is no triage section, nor after a triage section without runs', () => {
    const run = { source: 'x', findings: [], durationNs: 0, counts: emptyCounts(), latency: {}, stats: { events: 1, ops: 1, gaps: 0, unknown: 0 } };
    const replay = reportToHtml({ title: 't', runs: [{ label: 'x', run, classes: [] }] });
    expect(replay).toMatch(/<p class="muted">kreplay report: 1 input\(s\)\.<\/p>\n<section id="summary">/);
    // no diff table and no behaviour table here: no blank lines for them either (a <pre> keeps its own)
    const main = (h: string): string => h.slice(h.indexOf('<main>')).replace(/<pre[^]*?<\/pre>/g, '<pre/>');
    expect(main(replay)).not.toContain('\n\n');
    const triage = reportToHtml({ title: 't', runs: [], triage: [{ source: 'mail.txt', splats: [] }] });
    expect(main(triage)).not.toContain('\n\n');
    expect(triage).toMatch(/<p class="muted">kreplay report: 0 input\(s\)\.<\/p>\n<section id="triage">/);
    expect(triage).toMatch(/<\/section>\n<\/main>/);
  });

  // The per-run table's verdict column was blank for every run that was not inconclusive: one with
  // 2 gaps and nothing found read like a clean run beside it.
  it("says each run's verdict in words in the inputs table, as the text report does", () => {
    const f: Finding = { rule: 'stale-data', severity: 'error', certainty: 'uncertain', message: 'm', ts: 1n, cpu: 0, pid: 1, events: [], explanation: 'e' };
    const base = { source: 'x', findings: [], durationNs: 0, counts: emptyCounts(), latency: {} };
    const runs: RunData[] = [
      { ...base, source: 'clean', stats: { events: 9, ops: 9, gaps: 0, unknown: 0 } },
      { ...base, source: 'gappy', stats: { events: 9, ops: 9, gaps: 2, unknown: 0 }, unusableEvents: 1 },
      { ...base, source: 'blind', stats: { events: 9, ops: 9, gaps: 0, unknown: 0 }, unjudged: [{ rule: 'orphan-page-mapped', reason: 'no PTE probe fired' }] },
      { ...base, source: 'found', findings: [f], stats: { events: 9, ops: 9, gaps: 1, unknown: 0 } },
      { ...base, source: 'empty', stats: { events: 0, ops: 0, gaps: 0, unknown: 0 }, inconclusive: ['the trace holds no events'] },
    ];
    const page = reportToHtml({ title: 't', runs: runs.map((run) => ({ label: run.source, run, classes: [] })) });
    const verdicts = [...page.matchAll(/<tr><td>—<\/td><td>(\w+)<\/td>(?:<td[^>]*>[^<]*<\/td>){6}<td>(.*?)<\/td><\/tr>/g)].map((x) => [x[1], x[2]]);
    expect(verdicts).toEqual([
      ['clean', 'clean'],
      ['gappy', 'no findings in what the trace shows, but it has 2 gaps and 1 unusable event: not a clean run'],
      ['blind', 'no findings; not judged: orphan-page-mapped'],
      ['found', '1 finding; the trace has 1 gap'],
      ['empty', '<b>inconclusive</b> <span class="muted">the trace holds no events</span>'],
    ]);
    // the text report says the same holes and rules of each run
    const text = reportToText({ title: 't', runs: runs.map((run) => ({ label: run.source, run, classes: [] })) });
    expect(text).toContain('gappy: 9 events over 0ns, 2 gaps, 1 unusable event');
    expect(text).toContain('blind: 9 events over 0ns, 0 gaps; not judged: orphan-page-mapped');
  });
});

describe('the triage section', () => {
  it('shows a reproducer that caught nothing in amber, not in the green of a clean verdict (it says nothing about the kernel)', () => {
    const view = (summary: string) => reportToHtml({ title: 't', runs: [], triage: [{ source: 'mail.txt', splats: [], repro: { summary, runs: [] } }] });
    expect(
      view('the race was not caught in 3 run(s) on 6.1: no replay reported mapped-page-removed — a run that misses it says nothing about the kernel'),
    ).toMatch(/<div class="verdict short">the race was not caught/);
    expect(view('the race was caught in 1 of 3 run(s) on 6.1 (mapped-page-removed in the replay)')).toMatch(/<div class="verdict bad">the race was caught/);
  });
});

describe('the html template (structural escaping)', () => {
  it('escapes every interpolated string; only html`` and trusted() markup passes through', () => {
    const evil = '<img src=x onerror="alert(1)">&\'';
    const cell = html`<td title="${evil}">${evil}</td>`;
    expect(isHtml(cell)).toBe(true);
    expect(cell.text).toBe(
      '<td title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;</td>',
    );
    // Nested markup is kept, lists are joined, nothing renders as nothing.
    expect(html`<tr>${[cell, evil]}${null}${undefined}${false}${3}${5n}</tr>`.text).toBe(
      `<tr>${cell.text}&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;35</tr>`,
    );
    // A string that looks like markup built elsewhere is still a string.
    const built = `<b>${evil}</b>`;
    expect(html`${built}`.text).not.toContain('<b>');
    expect(html`${trusted('<b>ok</b>')}`.text).toBe('<b>ok</b>');
    // Forged markup objects (without the module's private symbol) are escaped as strings.
    expect(html`${{ text: '<i>' } as unknown as string}`.text).not.toContain('<i>');
  });

  it('removes bidi controls and isolates right-to-left runs in every context', () => {
    const comm = '\u202Eabc\u05E9\u05DC\u05D5\u05DD\u2066x';
    expect(html`<p title="${comm}">${comm}</p>`.text).toBe('<p title="abc\u2068\u05E9\u05DC\u05D5\u05DD\u2069x">abc\u2068\u05E9\u05DC\u05D5\u05DD\u2069x</p>');
  });
});

const cited = (line: number, pid: number, comm: string, summary: string, ts: bigint): CitedEvent => ({
  line,
  source: 't.txt',
  ts,
  cpu: pid % 2,
  pid,
  comm,
  summary,
});
function finding(rule: Finding['rule'], index: number, pids: [number, string, string][], ts: bigint): Finding {
  return {
    rule,
    severity: 'error',
    certainty: 'certain',
    message: `m ${index}`,
    ts,
    cpu: 0,
    pid: pids[0]![0],
    events: pids.map(([pid, comm, fn], i) => cited(10 + i, pid, comm, `${fn} x=1`, ts + BigInt(i))),
    explanation: 'e',
    file: '8:0/c',
    index,
  };
}
const run = (source: string, findings: Finding[]): RunData => ({
  source,
  findings,
  durationNs: 1000,
  counts: emptyCounts(),
  latency: {},
  stats: { events: 10, ops: 10, gaps: 0, unknown: 0 },
});

describe('race groups', () => {
  const race = (i: number, pidBase: number, t: bigint) =>
    finding(
      'orphan-page-mapped',
      i,
      [
        [pidBase, 'kr-write', 'invalidate_inode_pages2_range'],
        [pidBase + 1, 'kr-fault', 'filemap_fault'],
      ],
      t,
    );

  it('one race on many pages, across runs with other pids, is one group listing the pages; other tasks or paths are another', () => {
    const p1 = run('p1', [race(0, 100, 1000n), race(1, 100, 2000n), race(2, 100, 3000n)]);
    const p2 = run('p2', [
      race(3, 200, 1000n),
      finding(
        'orphan-page-mapped',
        7,
        [
          [201, 'kr-fault', 'filemap_fault'],
          [200, 'kr-write', 'invalidate_inode_pages2_range'],
        ],
        5000n,
      ),
    ]);
    const other = run('p3', [
      finding(
        'orphan-page-mapped',
        9,
        [
          [300, 'kr-trunc', 'truncate_pagecache'],
          [301, 'kr-fault', 'filemap_fault'],
        ],
        100n,
      ),
    ]);
    const d = diffRuns([run('b', [])], [p1, p2, other]);
    const m: ReportModel = { title: 't', runs: [], diff: d };
    const [fresh, fixed, same] = raceSections(m);
    expect(fixed!.groups).toEqual([]);
    expect(same!.groups).toEqual([]);
    expect(fresh!.groups.map((g) => ({ id: g.id, roles: g.roles.map((r) => `${r.comm}@${r.fn}`), pages: g.members.map((x) => x.index) }))).toEqual([
      { id: 'finding-new-1', roles: ['kr-write@invalidate_inode_pages2_range', 'kr-fault@filemap_fault'], pages: [0, 1, 2, 3, 7] },
      { id: 'finding-new-2', roles: ['kr-trunc@truncate_pagecache', 'kr-fault@filemap_fault'], pages: [9] },
    ]);
    const text = reportToText(m);
    expect(text).toContain('pages:  8:0/c index 0-3, 7 (5 pages)');
    expect(text.match(/^ {2}\d+\. /gm)).toHaveLength(2);
    const page = reportToHtml(m);
    expect(page.match(/<article class="finding/g)).toHaveLength(2);
  });

  it('gives a task one colour across the report, telling same-named racers apart by pid', () => {
    const c = new TaskColours();
    const a = c.colour(1, 'kr-write', [
      { pid: 1, comm: 'kr-write' },
      { pid: 2, comm: 'kr-fault' },
    ]);
    const b = c.colour(2, 'kr-fault', [
      { pid: 1, comm: 'kr-write' },
      { pid: 2, comm: 'kr-fault' },
    ]);
    expect(
      c.colour(9, 'kr-fault', [
        { pid: 9, comm: 'kr-fault' },
        { pid: 8, comm: 'kr-write' },
      ]),
    ).toBe(b);
    expect(
      c.colour(8, 'kr-write', [
        { pid: 9, comm: 'kr-fault' },
        { pid: 8, comm: 'kr-write' },
      ]),
    ).toBe(a);
    const twins = [
      { pid: 5, comm: 'kr-fault' },
      { pid: 6, comm: 'kr-fault' },
    ];
    expect(c.colour(5, 'kr-fault', twins)).not.toBe(c.colour(6, 'kr-fault', twins));
    expect(c.colour(7, 'bystander', twins)).toBe('#a0a0a0');
  });

  it('never lets trace text become markup or carry bidi controls, whatever it holds (property)', () => {
    const hostile = fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '\u202E', '\u2066', '\u200F', 'a', ' ', '=', '/', '\u05E9', 'x') });
    fc.assert(
      fc.property(hostile, hostile, hostile, (comm, msg, label) => {
        const f = { ...race(0, 100, 1000n), message: `<x-evil>${msg}`, explanation: `<x-evil>${msg}` };
        f.events = f.events.map((e) => ({ ...e, comm: `<x-evil>${comm}`, summary: `<x-evil>${msg}` }));
        const r = run(`<x-evil>${label}`, [f]);
        const m: ReportModel = { title: `<x-evil>${label}`, runs: [{ label: `<x-evil>${label}`, run: r, classes: [{ key: 'k', finding: f, count: 1 }] }] };
        const out = reportToHtml(m);
        expect(out).not.toContain('<x-evil');
        expect(out).not.toMatch(/[\u202A-\u202E\u2066\u2067\u200E\u200F]/);
        expect(reportToText(m)).not.toMatch(/[\u202A-\u202E\u2066\u2067\u200E\u200F]/);
      }),
      { numRuns: 60 },
    );
  });
});
