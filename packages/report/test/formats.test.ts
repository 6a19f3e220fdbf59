/**
 * The output formats as pure functions of a ReplayResult: escaping, fail-on, and the
 * shapes CI systems parse.
 */
import { describe, expect, it } from '@jest/globals';
import { parseTraceString } from '@kreplay/ftrace-parser';
import type { Finding } from '@kreplay/core';
import { replay, type ReplayResult } from '@kreplay/replay';
import { escapeData, escapeProperty, failing, renderReplay, REPLAY_FORMATS, seconds } from '@kreplay/report';
import { runData } from '../../../test-support/run-data.js';

async function result(): Promise<ReplayResult> {
  const text = [
    '# tracer: nop',
    '#',
    '   reader-1    [000] .....   1.000001: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x5 ofs=0 order=0',
    '   reader-1    [000] .....   1.000002: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x6 ofs=0 order=0',
  ].join('\n');
  return replay(parseTraceString(text, { source: 'a<b>&"c".txt' }), { source: 'a<b>&"c".txt' });
}

function withFinding(r: ReplayResult, f: Partial<Finding>): ReplayResult {
  return { ...r, findings: [{ ...r.findings[0]!, ...f }] };
}

describe('report formats', () => {
  it('every format renders the same result deterministically', async () => {
    const r = await result();
    for (const format of REPLAY_FORMATS) {
      expect(renderReplay(r, format, { timing: false })).toBe(renderReplay(r, format, { timing: false }));
    }
  });

  it('the verdict and the count of unusable events are in every format, not only a trailing warning', async () => {
    // the second add's order is unreadable: a known event replay cannot use
    const text = [
      '# tracer: nop',
      '#',
      '   reader-1    [000] .....   1.000001: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x5 ofs=0 order=0',
      '   reader-1    [000] .....   1.000002: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x6 ofs=0 order=0 extra',
    ].join('\n');
    const r = await replay(parseTraceString(text, { source: 't.txt' }), { source: 't.txt' });
    expect(r.verdict).toMatchObject({ status: 'clean', unusableEvents: 1 });
    const out = (format: (typeof REPLAY_FORMATS)[number]) => renderReplay({ ...r, warnings: [] }, format, { timing: false });
    expect(out('text')).toMatch(
      /1 unusable event — no findings in what the trace shows — it has holes \(gaps, lost or unusable events\), so this is not a clean run/,
    );
    expect(JSON.parse(out('json')).verdict).toMatchObject({ status: 'clean', unusableEvents: 1 });
    expect(JSON.parse(out('sarif')).runs[0].properties.verdict).toMatchObject({ status: 'clean', unusableEvents: 1 });
    expect(out('junit')).toContain('<property name="unusableEvents" value="1"/>');
    // what people read never says clean for a trace with holes (the JSON's status keeps its contract)
    expect(out('github')).toMatch(
      /::notice .*: no findings in what the trace shows, but it has 1 unusable event: not a clean run(; not judged: [^:]+)?: .*1 unusable events/,
    );
    expect(out('github')).not.toMatch(/: clean:/);
    expect(out('ktap')).toContain('# verdict no findings in what the trace shows, but it has 1 unusable event: not a clean run');
    expect(out('ktap')).not.toMatch(/verdict clean/);
  });

  it('a trace whose rules could not all be judged is not called clean where people read the verdict', async () => {
    // pages leave the cache and no PTE probe ever fired: the PTE rules cannot be judged
    const text = [
      '# tracer: nop',
      '#',
      '   reader-1    [000] .....   1.000001: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x5 ofs=0 order=0',
      '   reader-1    [000] .....   1.000002: mm_filemap_delete_from_page_cache: dev 8:1 ino 2a pfn=0x5 ofs=0 order=0',
    ].join('\n');
    const r = await replay(parseTraceString(text, { source: 't.txt' }), { source: 't.txt' });
    expect(r.verdict.status).toBe('clean');
    expect(r.verdict.unjudged?.map((u) => u.rule)).toContain('mapped-page-removed');
    const out = (format: (typeof REPLAY_FORMATS)[number]) => renderReplay({ ...r, warnings: [] }, format, { timing: false });
    expect(out('github')).toMatch(/::notice .*t\.txt: no findings; not judged: mapped-page-removed, .*: 2 events/);
    expect(out('ktap')).toMatch(/# verdict no findings; not judged: mapped-page-removed/);
    expect(out('github')).not.toMatch(/: clean:/);
  });

  it('a trace with findings says its holes and unjudged rules in SARIF and the GitHub notice, which have no status per rule', async () => {
    // a finding (two pfns at one index: trace-inconsistent), a lost-events record, no PTE probe
    const text = [
      '# tracer: nop',
      '#',
      '   reader-1    [000] .....   1.000001: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x5 ofs=0 order=0',
      'CPU:0 [LOST 3 EVENTS]',
      '   reader-1    [000] .....   1.000002: mm_filemap_add_to_page_cache: dev 8:1 ino 2a pfn=0x6 ofs=0 order=0',
      '   reader-1    [000] .....   1.000003: mm_filemap_delete_from_page_cache: dev 8:1 ino 2a pfn=0x6 ofs=0 order=0',
    ].join('\n');
    const r = await replay(parseTraceString(text, { source: 't.txt' }), { source: 't.txt' });
    expect(r.verdict).toMatchObject({ status: 'findings', gaps: 1 });
    expect(r.verdict.unjudged?.map((u) => u.rule)).toContain('mapped-page-removed');
    const out = (format: (typeof REPLAY_FORMATS)[number]) => renderReplay({ ...r, warnings: [] }, format, { timing: false });
    // the rules that found nothing are not a pass (KTAP: DONE each) ...
    expect(out('ktap')).toMatch(/ok 1 mapped-page-removed # SKIP done: not judged/);
    // ... and a code-scanning service reads a rule without results as one without alerts: the
    // invocation says why there are none (before 2026-12-06 only a clean status had this warning)
    const inv = JSON.parse(out('sarif')).runs[0].invocations[0];
    expect(inv.executionSuccessful).toBe(true);
    expect(inv.toolExecutionNotifications).toEqual([
      { level: 'warning', message: { text: expect.stringMatching(/^findings; the trace has 1 gap \(3 events lost\); not judged: .*mapped-page-removed/) } },
    ]);
    expect(out('github')).toMatch(
      /::notice title=kreplay replay::t\.txt: findings; the trace has 1 gap \(3 events lost\); not judged: .*mapped-page-removed.*: \d+ events/,
    );
  });

  it('junit and sarif stay well-formed whatever the explanation holds', async () => {
    const r = withFinding(await result(), { rule: 'orphan-page-mapped', severity: 'error', message: 'a < b & "c"', explanation: 'x]]>y\u0001z' });
    const xml = renderReplay(r, 'junit');
    expect(xml).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(xml).not.toContain(']]>y');
    // eslint-disable-next-line no-control-regex -- no character XML 1.0 forbids
    expect(xml).not.toMatch(/[\u0000-\u0008]/);
    expect(xml).toContain('<failure ');
    const sarif = JSON.parse(renderReplay(r, 'sarif'));
    expect(sarif.runs[0].results[0].message.text).toContain('a < b & "c"');
  });

  it('github annotations escape what the runner would split on', () => {
    expect(escapeData('50% done\nnext')).toBe('50%25 done%0Anext');
    expect(escapeProperty('a:b,c')).toBe('a%3Ab%2Cc');
  });

  it('fail-on: warnings fail only at --fail-on warning, nothing at never', async () => {
    const r = await result();
    expect(r.findings.map((f) => f.severity)).toEqual(['warning']);
    expect(failing(r.findings, 'error')).toBe(false);
    expect(failing(r.findings, 'warning')).toBe(true);
    expect(failing(r.findings, 'never')).toBe(false);
    const xml = renderReplay(r, 'junit', { failOn: 'error' });
    expect(xml).toContain('failures="0"');
    expect(renderReplay(r, 'junit', { failOn: 'warning' })).toContain('failures="1"');
  });

  it('a finding on lines that print no CPU names the task, never "CPU -1", in every format; the JSON keeps cpu -1', async () => {
    // `perf script` of `perf record -p PID` prints no [cpu] column: the reader gives such lines CPU -1
    const VM = 0xffffea0000000000n;
    const page = `0x${(VM + 0x10n * 64n).toString(16)}`;
    const text = [
      `          reader 10 1.000001: filemap:mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x10 ofs=0 order=0`,
      `          mapper 11 1.000002: probe:p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page} arg2=0xffff888003b00000 arg3=0x0`,
      `         dropper 12 1.000003: filemap:mm_filemap_delete_from_page_cache: dev 8:16 ino 2a pfn=0x10 ofs=0 order=0`,
    ].join('\n');
    const r = await replay(parseTraceString(`${text}\n`, { source: 't.txt' }), {
      source: 't.txt',
      kernel: 'linux-6.1',
      vmemmapBase: VM,
      perfLostEventsShown: true,
      traceClock: 'mono',
    });
    expect(r.findings.map((f) => [f.rule, f.cpu])).toEqual([['mapped-page-removed', -1]]);
    for (const format of REPLAY_FORMATS) {
      const out = renderReplay(r, format, { timing: false });
      expect([format, out]).not.toEqual([format, expect.stringMatching(/CPUs? -1|\[-?0*-1\]|\[0-1\]/)]);
      expect([format, out]).toEqual([format, expect.stringContaining('dropper-12 (no CPU printed)')]);
    }
    expect(renderReplay(r, 'text', { timing: false })).toContain('at 1.000003, dropper-12 (no CPU printed), page 8:16/2a index 0');
    expect(renderReplay(r, 'text', { timing: false })).toContain('t.txt:2  1.000002  no CPU printed  mapper-11  p_page_add_file_rmap_0');
    expect(JSON.parse(renderReplay(r, 'json', { timing: false })).findings[0].cpu).toBe(-1);
  });

  it('prints timestamps as ftrace does, with nanoseconds only when they matter', () => {
    expect(seconds(100000122000n)).toBe('100.000122');
    expect(seconds(100000122345n)).toBe('100.000122345');
  });
});

describe('the diff JUnit', () => {
  it('carries control characters from a trace as visible escapes, as the replay JUnit does (one XML escaper)', async () => {
    const { diffRuns } = await import('@kreplay/diff');
    const { diffToJunit } = await import('../src/reports.js');
    const f = {
      rule: 'mapped-page-removed' as const,
      severity: 'error' as const,
      certainty: 'certain' as const,
      message: 'comm "a\u0001b" <x> & y',
      ts: 1n,
      cpu: 0,
      pid: 10,
      events: [],
      explanation: 'bell \u0007',
      file: '8:0/c',
      index: 3,
    };
    const run = (findings: (typeof f)[]) => runData('s', findings);
    const xml = diffToJunit(diffRuns([run([])], [run([f])]));
    expect(xml).toContain('comm &quot;a\\x01b&quot; &lt;x&gt; &amp; y');
    expect(xml).toContain('bell \\x07');
    // eslint-disable-next-line no-control-regex -- no character XML 1.0 forbids
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });

  it('counts a threshold nothing could judge among the skipped, as its testcase says', async () => {
    const { diffRuns, parseThreshold } = await import('@kreplay/diff');
    const { diffToJunit } = await import('../src/reports.js');
    const run = () => runData('s');
    // no workload counter on either side: the threshold is not judged
    const d = diffRuns([run()], [run()], { thresholds: [parseThreshold('workload.mismatches=0')] });
    expect(d.thresholds[0]).toMatchObject({ judged: false });
    const xml = diffToJunit(d);
    expect(xml).toMatch(/<skipped message="not judged: /);
    expect(xml).toMatch(/<testsuite [^>]* skipped="1"/);
  });
});

describe('the diff verdict in every format', () => {
  it("an inconclusive diff says so in text, json, junit, sarif and github, with each side's unusable events", async () => {
    const { diffRuns } = await import('@kreplay/diff');
    const { diffToGithub, diffToJson, diffToJunit, diffToSarif, diffToText } = await import('../src/reports.js');
    const run = (source: string, events: number, unusableEvents: number) =>
      runData(source, [], { unusableEvents, stats: { events, ops: events, gaps: 0, unknown: 0 }, inconclusive: events ? [] : ['the trace holds no events'] });
    const d = diffRuns([run('b', 5, 2)], [run('p', 0, 0)]);
    expect(d.verdict).toBe('inconclusive');
    expect(diffToText(d)).toContain('INCONCLUSIVE');
    expect(JSON.parse(diffToJson(d))).toMatchObject({ verdict: 'inconclusive', base: { unusableEvents: 2 } });
    expect(diffToJunit(d)).toMatch(/name="verdict" value="inconclusive"[\s\S]*name="baseUnusableEvents" value="2"/);
    expect(JSON.parse(diffToSarif(d)).runs[0].properties).toMatchObject({ verdict: 'inconclusive', baseUnusableEvents: 2 });
    expect(diffToGithub(d)).toMatch(/inconclusive/i);
  });
});

describe('a finding both sides show, the patched side significantly more often (2026-12-07, session 41)', () => {
  /** Ten runs a side, the stale-data finding in 1 base run and in `showing` patched runs (10: p = 6.0e-5). */
  const rising = async (opts: { failOn?: 'never' } = {}) => {
    const { diffRuns } = await import('@kreplay/diff');
    const f: Finding = {
      rule: 'stale-data',
      severity: 'error',
      certainty: 'certain',
      message: 'read returned stale data',
      ts: 1n,
      cpu: 0,
      pid: 10,
      events: [],
      explanation: 'x',
      file: '8:0/c',
      index: 3,
    };
    const run = (source: string, findings: Finding[]) => runData(source, findings, { pagesSeen: { complete: true, files: { '8:0/c': [[3, 3]] } } });
    const side = (name: string, showing: number) => Array.from({ length: 10 }, (_, i) => run(`${name}${i}`, i < showing ? [f] : []));
    return diffRuns(side('b', 1), side('p', 10), opts);
  };

  it('is a regression in every format: text, json, junit, sarif, github, ktap and the report', async () => {
    const { diffToGithub, diffToJson, diffToJunit, diffToSarif, diffToText } = await import('../src/reports.js');
    const { diffTests } = await import('../src/kernel-ci/runs.js');
    const { formatKtap } = await import('../src/kernel-ci/ktap.js');
    const { reportToText } = await import('../src/report-text.js');
    const d = await rising();
    const said = /more often.*10 of 10 patched runs against 1 of 10 base runs that could show it \(p = 6\.0e-5/;
    expect(d.verdict).toBe('regression');
    expect(diffToText(d)).toMatch(/^REGRESSION \(1 reason\):\n {2}- more often: error stale-data on 8:0\/c index 3 in 10 of 10/m);
    expect(diffToText(d)).toMatch(/UNCHANGED error {3}stale-data on 8:0\/c index 3 .*\n {12}more often in patched: /);
    expect(JSON.parse(diffToJson(d)).findings.unchanged[0].rise).toMatchObject({
      baseRuns: 10,
      baseShowing: 1,
      patchedRuns: 10,
      patchedShowing: 10,
      significant: true,
    });
    expect(diffToJunit(d)).toMatch(/failures="1"[\s\S]*<failure type="stale-data" message="more often in patched \(certain\): error stale-data/);
    expect(JSON.parse(diffToSarif(d)).runs[0].results[0].message.text).toMatch(/^in both, more often in patched \(/);
    expect(diffToGithub(d)).toMatch(/^::error title=kreplay diff more often in patched%3A stale-data/m);
    const ktap = formatKtap(diffTests(d));
    expect(ktap).toMatch(/not ok \d+ stale-data/);
    expect(ktap).toMatch(said);
    expect(reportToText({ title: 't', runs: [], diff: d })).toMatch(said);
    // below --fail-on: said, not failed
    const quiet = await rising({ failOn: 'never' });
    expect(quiet.verdict).toBe('no-regression');
    expect(diffToText(quiet)).toMatch(said);
    expect(diffToJunit(quiet)).toContain('failures="0"');
  });

  // session 42: the counts said "0 new, 0 fixed, 1 unchanged" under REGRESSION, in every format
  it('the finding counts say why a diff with 0 new findings is a regression, in every format that says them', async () => {
    const { diffToGithub, diffToJunit, diffToText } = await import('../src/reports.js');
    const { diffTests } = await import('../src/kernel-ci/runs.js');
    const { formatKtap } = await import('../src/kernel-ci/ktap.js');
    const { reportToText } = await import('../src/report-text.js');
    const { findingCounts } = await import('../src/finding-counts.js');
    const d = await rising();
    expect(d.verdict).toBe('regression');
    expect(findingCounts(d)).toEqual({ new: 0, fixed: 0, unchanged: 1, risen: 1 });
    const counts = '0 new, 0 fixed, 1 unchanged (1 of them significantly more often in the patched runs)';
    expect(diffToText(d)).toContain(`Findings: ${counts}`);
    expect(formatKtap(diffTests(d))).toContain(`# findings: ${counts}`);
    expect(diffToJunit(d)).toContain(counts);
    expect(diffToGithub(d)).toContain(`::notice title=kreplay diff::REGRESSION: ${counts}`);
    expect(reportToText({ title: 't', runs: [], diff: d })).toContain(
      `kreplay: REGRESSION: ${counts}; races: 0 new, 0 fixed, 1 unchanged (seen 11 times; 1 of them significantly more often in the patched runs)`,
    );
    // below --fail-on the rise fails nothing, and the counts keep their words
    expect(findingCounts(await rising({ failOn: 'never' }))).toEqual({ new: 0, fixed: 0, unchanged: 1 });
  });
});
