import { describe, expect, it } from '@jest/globals';
import type { Finding } from '@kreplay/core';
import { diffRuns } from '../src/diff.js';
import { emptyCounts } from '../src/metrics.js';
import { parseThreshold } from '../src/thresholds.js';
import { histogramOf } from '../src/significance.js';
import { workloadCounters } from '../src/meta.js';
import type { RunData } from '../src/types.js';
import { runFromReplay, type ReplayLike } from '../src/run.js';
import { runData } from '../../../test-support/run-data.js';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    rule: 'mapped-page-removed',
    severity: 'error',
    certainty: 'certain',
    message: 'page left the cache while mapped',
    ts: 1_000_000n,
    cpu: 0,
    pid: 10,
    events: [{ line: 12, source: 't.txt', ts: 1_000_000n, cpu: 0, pid: 10, comm: 'dio', summary: 'delete' }],
    explanation: 'dio-10 removed it while fault-11 had it mapped',
    file: '8:0/c',
    index: 3,
    ...over,
  };
}

const run = (source: string, findings: Finding[], over: Partial<RunData> = {}): RunData =>
  runData(source, findings, { stats: { events: 100, ops: 50, gaps: 0, unknown: 0 }, ...over });

/** A replay result as diff reads it: these findings, and stats (the findings it counted and did not keep, ...). */
const replayed = (findings: Finding[], stats: Partial<ReplayLike['stats']> = {}): ReplayLike => ({
  verdict: { status: findings.length ? 'findings' : 'clean', inconclusive: [], unusableEvents: 0, gaps: 0, unjudged: [] },
  findings,
  stats: { events: 100, ops: 50, gaps: 0, byOp: {}, ...stats } as ReplayLike['stats'],
});

describe('diffRuns: findings', () => {
  it('a finding only the patched side has is new and a regression', () => {
    const d = diffRuns([run('a', [])], [run('b', [finding()])]);
    expect(d.findings.new.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 3']);
    expect(d.regression).toBe(true);
    expect(d.reasons[0]).toContain('mapped-page-removed');
  });

  it('a finding only the base side has is fixed, not a regression', () => {
    const d = diffRuns([run('a', [finding()])], [run('b', [])]);
    expect(d.findings.fixed).toHaveLength(1);
    expect(d.findings.new).toHaveLength(0);
    expect(d.regression).toBe(false);
  });

  it('a base finding whose rule no patched run could judge is not fixed: it is unjudged', () => {
    // The patched traces show no PTE changes (no PTE probe fired): they could not have shown the race.
    const blind = { unjudged: [{ rule: 'mapped-page-removed', reason: 'the trace shows no PTE changes' }] };
    const other = finding({ rule: 'stale-data', index: 4 });
    const d = diffRuns([run('a', [finding(), other])], [run('b', [], blind)]);
    expect(d.findings.fixed.map((e) => e.rule)).toEqual(['stale-data']);
    expect(d.findings.unjudged?.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 3']);
    // one patched run that could judge it and did not see it: fixed, as any finding absent there
    const judgedOnce = diffRuns([run('a', [finding()])], [run('b1', [], blind), run('b2', [])]);
    expect(judgedOnce.findings.fixed).toHaveLength(1);
    expect(judgedOnce.findings.unjudged).toBeUndefined();
    // a patched finding of a rule the base could not judge is still new
    const fresh = diffRuns([run('a', [], blind)], [run('b', [finding()])]);
    expect(fresh.findings.new).toHaveLength(1);
  });

  it('a base finding absent from patched runs whose traces have holes is not fixed: it is unjudged', () => {
    // The events that raise it may be among those the patched trace lost (or could not use).
    const gappy = { stats: { events: 100, ops: 50, gaps: 1, unknown: 0 } };
    const unusable = { unusableEvents: 2 };
    for (const holes of [gappy, unusable]) {
      const d = diffRuns([run('a', [finding()])], [run('b', [], holes)]);
      expect(d.findings.fixed).toEqual([]);
      expect(d.findings.unjudged?.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 3']);
    }
    // one patched run without holes that judged the rule and did not see it: fixed, as before
    const once = diffRuns([run('a', [finding()])], [run('b1', [], gappy), run('b2', [])]);
    expect(once.findings.fixed).toHaveLength(1);
    expect(once.findings.unjudged).toBeUndefined();
    // one run with holes, the other blind to the rule: neither could have shown it
    const blind = { unjudged: [{ rule: 'mapped-page-removed', reason: 'the trace shows no PTE changes' }] };
    expect(diffRuns([run('a', [finding()])], [run('b1', [], gappy), run('b2', [], blind)]).findings.fixed).toEqual([]);
  });

  it('a base finding absent from the findings a patched replay kept, past its cap per rule, is not fixed', () => {
    // replay keeps 10000 findings per rule and counts the rest: the base's race on index 4 may be
    // among the patched run's uncounted ones (it was, in the trace this stands for)
    const base = runFromReplay(replayed([finding(), finding({ index: 4 }), finding({ rule: 'stale-data' })]), 'a');
    const capped = runFromReplay(replayed([finding(), finding()], { findingsDropped: 1, findingsDroppedByRule: { 'mapped-page-removed': 1 } }), 'b');
    const d = diffRuns([base], [capped]);
    expect(d.findings.fixed.map((e) => e.key)).toEqual(['stale-data 8:0/c 3']);
    expect(d.findings.unjudged?.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 4']);
    expect(d.findings.unchanged.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 3']);
    // a new finding may be among them too: not a pass
    expect(d.patched.unjudged).toEqual({
      'mapped-page-removed': 'b: the replay counted 1 more mapped-page-removed finding than the 2 it kept, so which pages it was on is not known',
    });
    // another patched run that kept all it found does not make it fixed: the first may hold it
    expect(diffRuns([base], [capped, runFromReplay(replayed([finding()]), 'c')]).findings.fixed.map((e) => e.rule)).toEqual(['stale-data']);
    // a replay JSON that counts findings it did not keep and does not say of which rules: any rule's
    const older = runFromReplay(replayed([finding()], { findingsDropped: 3 }), 'old');
    expect(diffRuns([base], [older]).findings.fixed).toEqual([]);
    expect(older.unjudged?.find((u) => u.rule === 'stale-data')?.reason).toBe(
      'the replay counted 3 findings it did not keep, and does not say of which rules, so which pages they were on is not known',
    );
    // nothing dropped: as before
    expect(diffRuns([base], [runFromReplay(replayed([finding()], { findingsDropped: 0 }), 'b')]).findings.fixed).toHaveLength(2);
  });

  it('a patched finding absent from the findings a base replay kept, past its cap per rule, is not new', () => {
    // the same replays as above, the sides swapped: the base kept 2 (10000 in kreplay replay) of 3
    // mapped-page-removed findings, so its race on index 4 may be among the one it only counted
    const capped = runFromReplay(replayed([finding(), finding()], { findingsDropped: 1, findingsDroppedByRule: { 'mapped-page-removed': 1 } }), 'a');
    const patched = runFromReplay(replayed([finding(), finding({ index: 4 }), finding({ rule: 'stale-data', index: 4 })]), 'b');
    const d = diffRuns([capped], [patched]);
    expect(d.findings.maybeNew?.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 4']);
    // a rule the base dropped nothing of: what it kept is all it found, so still new (a regression)
    expect(d.findings.new.map((e) => e.key)).toEqual(['stale-data 8:0/c 4']);
    expect(d.findings.unchanged.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 3']);
    expect(d.verdict).toBe('regression');
    expect(d.reasons).toEqual(['new error stale-data on 8:0/c index 4 (1× in 1 patched run)']);
    expect(d.base.notKept).toEqual({
      'mapped-page-removed': 'a: the replay counted 1 more mapped-page-removed finding than the 2 it kept, so which pages it was on is not known',
    });
    expect(d.patched.notKept).toBeUndefined();
    // without the stale-data race it is no regression (the finding may be the base's), and the verdict has no reason
    const only = diffRuns([capped], [runFromReplay(replayed([finding({ index: 4 })]), 'b')]);
    expect(only.verdict).toBe('no-regression');
    expect(only.findings.new).toEqual([]);
    expect(only.findings.maybeNew).toHaveLength(1);
    // another base run that kept all it found does not make it new: the first may hold it
    const two = diffRuns([capped, runFromReplay(replayed([finding()]), 'c')], [runFromReplay(replayed([finding({ index: 4 })]), 'b')]);
    expect(two.findings.new).toEqual([]);
    expect(two.findings.maybeNew?.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 4']);
    // nothing dropped, or another rule's findings dropped: the base kept and lacks it, so it is new
    for (const stats of [{ findingsDropped: 0 }, { findingsDropped: 5, findingsDroppedByRule: { 'stale-data': 5 } }]) {
      const whole = diffRuns([runFromReplay(replayed([finding(), finding()], stats), 'a')], [runFromReplay(replayed([finding({ index: 4 })]), 'b')]);
      expect(whole.findings.new.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 4']);
      expect(whole.findings.maybeNew).toBeUndefined();
      expect(whole.verdict).toBe('regression');
    }
    // gaps and unjudged rules on the base side still leave it new: only findings counted past the cap were certainly raised
    const blind = {
      unjudged: [{ rule: 'mapped-page-removed', reason: 'the trace shows no PTE changes' }],
      stats: { events: 100, ops: 50, gaps: 2, unknown: 0 },
    };
    expect(diffRuns([run('a', [], blind)], [run('b', [finding({ index: 4 })])]).findings.new).toHaveLength(1);
  });

  it('a finding class is certain when any occurrence of it is, and shows a certain one', () => {
    // the first race on the page behind lost events (uncertain), a later one certain: it certainly happened
    const unsure = finding({ certainty: 'uncertain', explanation: 'Uncertain: the ring buffer lost 3 events', ts: 1n });
    const sure = finding({ ts: 2n });
    const d = diffRuns([run('a', [])], [run('b', [unsure, sure])]);
    expect(d.findings.new[0]).toMatchObject({ certainty: 'certain', patched: 2, example: { ts: 2n } });
    // across runs, and for the base side's classes too
    const across = diffRuns([run('a1', [unsure]), run('a2', [sure])], [run('b', [])]);
    expect(across.findings.fixed[0]).toMatchObject({ certainty: 'certain', base: 2, baseRuns: 2, exampleRun: 'a2' });
    // only uncertain occurrences: uncertain, the first shown
    expect(diffRuns([run('a', [])], [run('b', [unsure, { ...unsure, ts: 3n }])]).findings.new[0]).toMatchObject({
      certainty: 'uncertain',
      example: { ts: 1n },
    });
  });

  it('the findings threshold counts the findings a replay counted and did not keep', () => {
    const replayed = (kept: number, dropped: number): ReplayLike => ({
      verdict: { status: 'findings', inconclusive: [], unusableEvents: 0, gaps: 0, unjudged: [] },
      findings: Array.from({ length: kept }, () => finding()),
      stats: {
        events: 100,
        ops: 50,
        gaps: 0,
        byOp: {},
        findingsDropped: dropped,
        ...(dropped ? { findingsDroppedByRule: { 'mapped-page-removed': dropped } } : {}),
      } as ReplayLike['stats'],
    });
    // both replays kept their cap (2 here, 10000 in kreplay replay); the patched one counted 2 more
    const d = diffRuns([runFromReplay(replayed(2, 0), 'a')], [runFromReplay(replayed(2, 2), 'b')], { thresholds: [parseThreshold('findings=50')] });
    expect(d.thresholds[0]).toMatchObject({ base: 2, patched: 4, exceeded: true });
    expect(d.verdict).toBe('regression');
  });

  it("a rule neither side's workload exercised is no side's shortfall; one only the patched side never showed is", () => {
    // replay's `unexercised`: the trace never shows an invalidate returning 0 (a truncate workload, or a probe that did not fire)
    const none = { unjudged: [{ rule: 'stale-after-invalidate', reason: 'no invalidate_inode_pages2_range call returned 0 in the trace', unexercised: true }] };
    const both = diffRuns([run('a', [], none)], [run('b', [], none)]);
    expect(both.patched.unjudged).toBeUndefined();
    expect(both.base.unjudged).toBeUndefined();
    // the base invalidated and the patched side never did: the patched side could not have shown the race
    const stale = finding({ rule: 'stale-after-invalidate' });
    const only = diffRuns([run('a', [stale])], [run('b', [], none)]);
    expect(Object.keys(only.patched.unjudged ?? {})).toEqual(['stale-after-invalidate']);
    expect(only.findings.fixed).toEqual([]);
    expect(only.findings.unjudged?.map((e) => e.rule)).toEqual(['stale-after-invalidate']);
    // a rule the traces are blind to (no PTE probe) stays a shortfall even when both sides are blind
    const blind = { unjudged: [{ rule: 'mapped-page-removed', reason: 'the trace shows no PTE changes' }] };
    expect(Object.keys(diffRuns([run('a', [], blind)], [run('b', [], blind)]).patched.unjudged ?? {})).toEqual(['mapped-page-removed']);
  });

  it('with no patched run left to compare, no base finding reads as fixed', () => {
    const empty = run('b', [], { stats: { events: 0, ops: 0, gaps: 0, unknown: 0 }, inconclusive: ['the trace holds no events'] });
    const d = diffRuns([run('a', [finding()])], [empty]);
    expect(d.verdict).toBe('inconclusive');
    expect(d.findings.fixed).toEqual([]);
    expect(d.findings.unjudged?.map((e) => e.rule)).toEqual(['mapped-page-removed']);
  });

  it('matches by rule and (file, index), ignoring timestamps, pids and cpus', () => {
    const d = diffRuns([run('a', [finding({ ts: 5n, pid: 1, cpu: 1 })])], [run('b', [finding({ ts: 99_999n, pid: 77, cpu: 0 })])]);
    expect(d.findings.unchanged).toHaveLength(1);
    expect(d.regression).toBe(false);
  });

  it("the workload's test file matches across kernels that number the disk differently", () => {
    const d = diffRuns(
      [run('a', [finding({ file: '254:0/c' })], { testFile: '254:0/c' })],
      [run('b', [finding({ file: '253:0/d' })], { testFile: '253:0/d' })],
    );
    expect(d.findings.unchanged.map((e) => e.key)).toEqual(['mapped-page-removed test-file 3']);
    // Another file on that disk stays itself.
    expect(
      diffRuns([run('a', [finding({ file: '254:0/e' })], { testFile: '254:0/c' })], [run('b', [finding({ file: '253:0/e' })], { testFile: '253:0/d' })])
        .findings.new,
    ).toHaveLength(1);
  });

  it('a different index or rule is a different finding', () => {
    const d = diffRuns([run('a', [finding()])], [run('b', [finding({ index: 4 }), finding({ rule: 'orphan-page-mapped' })])]);
    expect(d.findings.new.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 4', 'orphan-page-mapped 8:0/c 3']);
    expect(d.findings.fixed.map((e) => e.key)).toEqual(['mapped-page-removed 8:0/c 3']);
  });

  it('--fail-on decides which new findings are a regression', () => {
    const warn = finding({ rule: 'trace-inconsistent', severity: 'warning' });
    expect(diffRuns([run('a', [])], [run('b', [warn])]).regression).toBe(false);
    expect(diffRuns([run('a', [])], [run('b', [warn])], { failOn: 'warning' }).regression).toBe(true);
    expect(diffRuns([run('a', [])], [run('b', [finding()])], { failOn: 'never' }).regression).toBe(false);
  });

  it('several runs per side aggregate: present in any base run means not new', () => {
    const d = diffRuns([run('a1', []), run('a2', [finding(), finding()])], [run('b1', [finding()]), run('b2', [])]);
    expect(d.findings.unchanged).toHaveLength(1);
    expect(d.findings.unchanged[0]).toMatchObject({ base: 2, baseRuns: 1, patched: 1, patchedRuns: 1 });
    expect(d.base.runs).toEqual(['a1', 'a2']);
    expect(d.base.durationNs).toBe(2e9);
  });
});

describe('diffRuns: the pages the patched traces showed', () => {
  /** A complete pages-seen set: these ranges per file. */
  const seen = (files: Record<string, Array<[number, number]>>): Partial<RunData> => ({ pagesSeen: { complete: true, files } });

  it('a base finding on a page no patched trace showed is unjudged, not fixed', () => {
    // the patched run judged the rule, had no holes, and showed only index 5 of the file
    const d = diffRuns([run('a', [finding({ index: 0 })])], [run('b', [], seen({ '8:0/c': [[5, 5]] }))]);
    expect(d.findings.fixed).toEqual([]);
    expect(d.findings.unjudged?.map((e) => [e.key, e.reason])).toEqual([
      ['mapped-page-removed 8:0/c 0', 'not fixed: not seen in patched, whose traces never show 8:0/c index 0'],
    ]);
    expect(d.warnings).toEqual([]);
  });

  it('is fixed counting only the patched runs that showed its page (control), and its chance counts only those', () => {
    const base = [1, 2, 3, 4, 5].map((i) => run(`a${i}`, [finding({ index: 0 })]));
    const showed = (i: number) => run(`b${i}`, [], seen({ '8:0/c': [[0, 2]] }));
    const elsewhere = (i: number) => run(`c${i}`, [], seen({ '8:0/c': [[5, 5]], '8:0/d': [[0, 0]] }));
    // five runs that showed index 0: p = 1/252, fixed
    const d = diffRuns(base, [1, 2, 3, 4, 5].map(showed));
    expect(d.findings.fixed.map((e) => [e.key, e.chance?.patchedRuns, e.chance?.significant])).toEqual([['mapped-page-removed 8:0/c 0', 5, true]]);
    // one that showed it beside four that did not: fixed on one run, which could be chance
    const thin = diffRuns(base, [showed(1), ...[2, 3, 4, 5].map(elsewhere)]);
    expect(thin.findings.fixed.map((e) => [e.chance?.patchedRuns, e.chance?.significant])).toEqual([[1, false]]);
  });

  it("the workload's test file is matched under the patched run's own dev/ino", () => {
    const base = [run('a', [finding({ file: '254:0/c', index: 0 })], { testFile: '254:0/c' })];
    const there = diffRuns(base, [run('b', [], { testFile: '253:0/d', ...seen({ '253:0/d': [[0, 0]] }) })]);
    expect(there.findings.fixed.map((e) => e.key)).toEqual(['mapped-page-removed test-file 0']);
    const notThere = diffRuns(base, [run('b', [], { testFile: '253:0/d', ...seen({ '254:0/c': [[0, 0]] }) })]);
    expect(notThere.findings.unjudged?.map((e) => e.reason)).toEqual(['not fixed: not seen in patched, whose traces never show 254:0/c index 0']);
  });

  it('a patched run that does not say which pages it showed, or whose set overflowed, may have shown any page: fixed, with a warning', () => {
    const d = diffRuns([run('a', [finding({ index: 0 })])], [run('b', [])]);
    expect(d.findings.fixed).toHaveLength(1);
    expect(d.warnings).toEqual([expect.stringMatching(/^patched run b: it does not say which pages its trace showed .*counts as having shown every page/)]);
    const full = diffRuns([run('a', [finding({ index: 0 })])], [run('b', [], { pagesSeen: { complete: false, files: {} } })]);
    expect(full.findings.fixed).toHaveLength(1);
    expect(full.warnings).toEqual([expect.stringMatching(/^patched run b: its trace showed more pages than replay records/)]);
  });
});

// A patched finding absent from one base run read NEW, worded as the patch's race, though one base
// run's silence is as likely as not when the race is the base's too. A new entry now carries the
// chance of the base's silence (Fisher's exact test on runs), counting only the base runs that could
// have shown it, as fixed counts only the patched runs that could; the gate is unchanged.
describe("diffRuns: a new finding's chance", () => {
  const seen = (files: Record<string, Array<[number, number]>>): Partial<RunData> => ({ pagesSeen: { complete: true, files } });
  const page0 = seen({ '8:0/c': [[0, 0]] });
  const five = (name: string, over: Partial<RunData>, findings: Finding[] = []) => [1, 2, 3, 4, 5].map((i) => run(`${name}${i}`, findings, over));

  it('one run a side: p = 1/2, not significant, and still a regression', () => {
    const d = diffRuns([run('a', [], page0)], [run('b', [finding({ index: 0 })], page0)]);
    expect(d.findings.new.map((e) => e.chance)).toEqual([{ baseRuns: 1, patchedRuns: 1, p: 0.5, significant: false }]);
    expect(d.regression).toBe(true);
    expect(d.warnings).toEqual([]);
  });

  it('five runs a side, in every patched run and no base run: p = 1/252, significant; in one patched run of five: p = 1/2', () => {
    const d = diffRuns(five('a', page0), five('b', page0, [finding({ index: 0 })]));
    expect(d.findings.new).toHaveLength(1);
    expect(d.findings.new[0]!.chance).toEqual({ baseRuns: 5, patchedRuns: 5, p: expect.any(Number), significant: true });
    expect(d.findings.new[0]!.chance!.p).toBeCloseTo(1 / 252, 15);
    const once = diffRuns(five('a', page0), [run('b0', [finding({ index: 0 })], page0), ...five('b', page0).slice(1)]);
    expect(once.findings.new[0]!.chance).toEqual({ baseRuns: 5, patchedRuns: 5, p: 0.5, significant: false });
  });

  it('base runs that could not have shown it are not counted: unjudged rule, holes, a page never shown', () => {
    const patched = five('b', page0, [finding({ index: 0 })]);
    const unjudged = { ...page0, unjudged: [{ rule: 'mapped-page-removed', reason: 'no PTE probe fired' }] };
    const gappy = { ...page0, stats: { events: 100, ops: 50, gaps: 1, unknown: 0 } };
    const elsewhere = seen({ '8:0/c': [[5, 5]] });
    // four of the five base runs could not show it: p = C(5,5)/C(6,5) = 1/6
    const d = diffRuns([run('a1', [], page0), run('a2', [], unjudged), run('a3', [], gappy), run('a4', [], elsewhere), run('a5', [], unjudged)], patched);
    expect(d.findings.new[0]!.chance).toEqual({ baseRuns: 1, patchedRuns: 5, p: 1 / 6, significant: false });
    expect(d.regression).toBe(true);
    // none could: p = 1, and why
    const none = diffRuns([run('a1', [], unjudged), run('a2', [], gappy), run('a3', [], elsewhere)], patched);
    expect(none.findings.new[0]!.chance).toEqual({
      baseRuns: 0,
      patchedRuns: 5,
      p: 1,
      significant: false,
      unseen:
        'the base side could not judge mapped-page-removed; the base traces have gaps or unusable events, where its events may be; the base traces never show 8:0/c index 0',
    });
    expect(none.regression).toBe(true);
  });

  it('a base run that does not say which pages it showed may have shown any page: counted, with a warning', () => {
    const d = diffRuns([run('a', [])], [run('b', [finding({ index: 0 })], page0)]);
    expect(d.findings.new[0]!.chance?.baseRuns).toBe(1);
    expect(d.warnings).toEqual([expect.stringMatching(/^base run a: it does not say which pages its trace showed .*a patched finding it lacks may read new/)]);
  });
});

describe('diffRuns: findings that name no page', () => {
  const noFile = (over: Partial<Finding> = {}) => {
    const f = finding({ rule: 'stale-data', index: 7, ...over });
    delete f.file;
    return f;
  };

  it('a patched finding that names no file, beside a base one of its rule, is not unchanged: not judged new', () => {
    const d = diffRuns([run('a', [noFile()])], [run('b', [noFile()])]);
    expect(d.findings.unchanged).toEqual([]);
    expect(d.findings.maybeNew?.map((e) => [e.key, e.reason])).toEqual([
      [
        'stale-data - 7',
        'not judged new: both sides raised stale-data on index 7 of a file the trace does not name, so whether it is the same page cannot be told',
      ],
    ]);
    expect(d.regression).toBe(false);
  });

  it('a patched finding a base finding that names no file may be is not new; one on another index is', () => {
    const d = diffRuns([run('a', [noFile()])], [run('b', [finding({ rule: 'stale-data', index: 7 }), finding({ rule: 'stale-data', index: 8 })])]);
    expect(d.findings.maybeNew?.map((e) => [e.key, e.reason])).toEqual([
      ['stale-data 8:0/c 7', 'not judged new: the base side raised stale-data on a page it does not name, which may be this one'],
    ]);
    expect(d.findings.new.map((e) => e.key)).toEqual(['stale-data 8:0/c 8']);
    // and the base one is not fixed: the patched finding on index 7 may be it
    expect(d.findings.unjudged?.map((e) => [e.key, e.reason])).toEqual([
      ['stale-data - 7', 'not fixed: it is on index 7 of a file the trace does not name, and the patched side raised stale-data on a page that may be it'],
    ]);
  });

  it('a base finding that names no file is fixed only by a patched run that judged its rule, showed its index, and raised no such finding', () => {
    const d = diffRuns([run('a', [noFile()])], [run('b', [], { pagesSeen: { complete: true, files: { '8:0/c': [[7, 7]] } } })]);
    expect(d.findings.fixed.map((e) => e.key)).toEqual(['stale-data - 7']);
    const elsewhere = diffRuns([run('a', [noFile()])], [run('b', [], { pagesSeen: { complete: true, files: { '8:0/c': [[0, 6]] } } })]);
    expect(elsewhere.findings.unjudged?.map((e) => e.reason)).toEqual([
      'not fixed: not seen in patched, whose traces never show index 7 of a file the trace does not name',
    ]);
  });
});

describe('diffRuns: behaviour and thresholds', () => {
  const counts = (o: Record<string, number>) => ({ ...emptyCounts(), ...o });

  it('compares rates per second of trace', () => {
    const d = diffRuns(
      [run('a', [], { counts: counts({ faults: 100 }), durationNs: 2e9 })],
      [run('b', [], { counts: counts({ faults: 100 }), durationNs: 1e9 })],
    );
    const row = d.behaviour.find((r) => r.name === 'faults')!;
    expect(row.base.perSec).toBe(50);
    expect(row.patched.perSec).toBe(100);
    expect(row.changePct).toBe(100);
  });

  // Session 40: without a trace span the sides' summed counts were compared, so more base runs hid
  // a per-run increase, and a base run without a span added counts but no time to its side's rate.
  it('without a trace span on a side, counts per run compare, not summed counts or a rate inflated by spanless runs', () => {
    const thresholds = [parseThreshold('faults=50')];
    // five base runs of 100 faults, one patched run of 300: summed 500 → 300 read -40%, held
    const five = Array.from({ length: 5 }, (_, i) => run(`a${i}`, [], { counts: counts({ faults: 100 }), durationNs: 0 }));
    const d = diffRuns(five, [run('b', [], { counts: counts({ faults: 300 }), durationNs: 0 })], { thresholds });
    expect(d.behaviour.find((r) => r.name === 'faults')!.changePct).toBe(200);
    expect(d.thresholds[0]).toMatchObject({ base: 100, patched: 300, exceeded: true, note: 'count per run (a trace span unknown)' });
    // one base run with a 1 s span and one without: their 200 faults over 1 s read 200/s against the patched 200/s, held
    const mixed = diffRuns(
      [run('a1', [], { counts: counts({ faults: 100 }), durationNs: 1e9 }), run('a2', [], { counts: counts({ faults: 100 }), durationNs: 0 })],
      [run('b', [], { counts: counts({ faults: 200 }), durationNs: 1e9 })],
      { thresholds },
    );
    expect(mixed.behaviour.find((r) => r.name === 'faults')!.base.perSec).toBeNull();
    expect(mixed.thresholds[0]).toMatchObject({ base: 100, patched: 200, changePct: 100, exceeded: true });
  });

  it('a metric beyond --max-regression is a regression; within it is not', () => {
    const base = [run('a', [], { counts: counts({ invalidate_ebusy: 10 }) })];
    const patched = [run('b', [], { counts: counts({ invalidate_ebusy: 12 }) })];
    expect(diffRuns(base, patched, { thresholds: [parseThreshold('invalidate_ebusy=10')] }).regression).toBe(true);
    expect(diffRuns(base, patched, { thresholds: [parseThreshold('invalidate_ebusy=25%')] }).regression).toBe(false);
  });

  it('growth from zero exceeds any threshold', () => {
    const d = diffRuns([run('a', [])], [run('b', [], { counts: counts({ fault_retries: 1 }) })], { thresholds: [parseThreshold('fault_retries=1000')] });
    expect(d.thresholds[0]!.exceeded).toBe(true);
  });

  it('latency thresholds are judged only when the difference is significant', () => {
    const few = diffRuns([run('a', [], { latency: { fault: histogramOf([100, 110]) } })], [run('b', [], { latency: { fault: histogramOf([900, 1000]) } })], {
      thresholds: [parseThreshold('fault.p50=10')],
    });
    expect(few.latency[0]!.significance.verdict).toBe('too-few-samples');
    expect(few.regression).toBe(false);
    expect(few.thresholds[0]!.note).toContain('too few samples');
    const slow = Array.from({ length: 50 }, (_, i) => 1000 + i);
    const fast = Array.from({ length: 50 }, (_, i) => 100 + i);
    const many = diffRuns([run('a', [], { latency: { fault: histogramOf(fast) } })], [run('b', [], { latency: { fault: histogramOf(slow) } })], {
      thresholds: [parseThreshold('fault.p50=10')],
    });
    expect(many.latency[0]!.significance.verdict).toBe('significant');
    expect(many.regression).toBe(true);
  });

  it('with several runs per side a latency shift counts only when every run agrees', () => {
    const lat = (from: number) => ({ latency: { fault: histogramOf(Array.from({ length: 40 }, (_, i) => from + i)) } });
    const agree = diffRuns([run('a1', [], lat(100)), run('a2', [], lat(110))], [run('b1', [], lat(200)), run('b2', [], lat(190))]);
    expect(agree.latency[0]!.significance.verdict).toBe('significant');
    expect(agree.latency[0]!.significance.note).toContain('every run agrees');
    // Pooled, patched looks slower; but one patched run is as fast as the base runs.
    const disagree = diffRuns([run('a1', [], lat(100)), run('a2', [], lat(110))], [run('b1', [], lat(105)), run('b2', [], lat(400))]);
    expect(disagree.latency[0]!.significance.verdict).toBe('not-significant');
    expect(disagree.latency[0]!.significance.note).toMatch(/runs disagree/);
  });

  it('workload counters from meta.json sit side by side and can carry a threshold', () => {
    const d = diffRuns([run('a', [], { workload: { mismatches: 0, writes: 100 } })], [run('b', [], { workload: { mismatches: 3, writes: 100 } })], {
      thresholds: [parseThreshold('workload.mismatches=0')],
    });
    expect(d.workload).toEqual([
      { name: 'mismatches', base: [0], patched: [3] },
      { name: 'writes', base: [100], patched: [100] },
    ]);
    expect(d.regression).toBe(true);
  });

  it('a workload counter a side lacks is not judged, never held', () => {
    // The patched workload did not print the counter (killed first, another version): its value is unknown.
    const thresholds = [parseThreshold('workload.mismatches=0')];
    const d = diffRuns([run('a', [], { workload: { mismatches: 0 } })], [run('b', [], { workload: { writes: 100 } })], { thresholds });
    expect(d.thresholds[0]).toMatchObject({ exceeded: false, judged: false });
    expect(d.thresholds[0]!.note).toBe('no number for workload counter "mismatches" in the meta.json of 1 of 1 patched run');
    // One patched run of two without it: the mean of the other could hide its value.
    const some = diffRuns(
      [run('a', [], { workload: { mismatches: 0 } })],
      [run('b1', [], { workload: { mismatches: 0 } }), run('b2', [], { workload: { mismatches: 'n/a' } })],
      { thresholds },
    );
    expect(some.thresholds[0]).toMatchObject({ judged: false });
    expect(some.thresholds[0]!.note).toContain('1 of 2 patched runs');
    // Both sides have it on every run: judged as before.
    const both = diffRuns([run('a', [], { workload: { mismatches: 0 } })], [run('b', [], { workload: { mismatches: 0 } })], { thresholds });
    expect(both.thresholds[0]).toMatchObject({ exceeded: false, judged: true });
  });

  it('counts what the kernel log reported during each capture', () => {
    const quiet = workloadCounters({ workload: { result: { mismatches: 0 } }, kernelLog: { file: 'kernel.log', findings: [] } });
    const loud = workloadCounters({
      workload: { result: { mismatches: 0 } },
      kernelLog: { file: 'kernel.log', findings: [{ kind: 'bad-page-cache', text: 'BUG: Bad page cache in process kr-fault pfn:29c9' }] },
    });
    expect(loud).toEqual({ 'mismatches': 0, 'kernel_log_lines': 1, 'kernel_log.bad-page-cache': 1 });
    const d = diffRuns([run('a', [], { workload: quiet })], [run('b', [], { workload: loud })], {
      thresholds: [parseThreshold('workload.kernel_log_lines=0')],
    });
    expect(d.workload).toContainEqual({ name: 'kernel_log.bad-page-cache', base: [0], patched: [1] });
    expect(d.regression).toBe(true);
  });

  // Session 40: a patched run whose workload failed was left out of every threshold, its kernel
  // log with it: a WARN in the very run the bug killed read `ok … held`, exit 0.
  it('counts the kernel log of a run left out for its failed workload: the kernel printed it whatever became of the workload', () => {
    const log = (n: number) =>
      workloadCounters({
        workload: { result: {} },
        kernelLog: { file: 'kernel.log', findings: Array.from({ length: n }, () => ({ kind: 'warning', text: 'WARNING: at mm/filemap.c' })) },
      });
    const failed = { inconclusive: ['its workload exited with code 139 (meta.json), so the run did not do what it was meant to'] };
    const thresholds = [parseThreshold('workload.kernel_log_lines=0'), parseThreshold('workload.kernel_log.warning=0')];
    const d = diffRuns([run('a', [], { workload: log(0) })], [run('b1', [], { workload: log(0) }), run('b2', [], { workload: log(2), ...failed })], {
      thresholds,
    });
    expect(d.verdict).toBe('regression');
    expect(d.thresholds.map((t) => [t.metric, t.base, t.patched, t.exceeded, t.judged])).toEqual([
      ['workload.kernel_log_lines', 0, 1, true, true],
      ['workload.kernel_log.warning', 0, 1, true, true],
    ]);
    expect(d.thresholds[0]!.note).toBe(
      'mean per run, with the kernel log of 1 patched run left out (a failed workload or nothing traced: what the kernel printed still counts)',
    );
    // the workload's own counters of such a run do not count: it did not finish its work
    const mism = diffRuns(
      [run('a', [], { workload: { mismatches: 0 } })],
      [run('b1', [], { workload: { mismatches: 0 } }), run('b2', [], { workload: { mismatches: 5 }, ...failed })],
      {
        thresholds: [parseThreshold('workload.mismatches=0')],
      },
    );
    expect(mism.thresholds[0]).toMatchObject({ patched: 0, exceeded: false, note: 'mean per run' });
    // a left-out base run's kernel log counts too: the base kernel printed it
    const both = diffRuns([run('a1', [], { workload: log(0) }), run('a2', [], { workload: log(2), ...failed })], [run('b', [], { workload: log(1) })], {
      thresholds,
    });
    expect(both.thresholds[0]).toMatchObject({ base: 1, patched: 1, exceeded: false });
  });

  it('rejects an unknown metric or a malformed threshold with an input error', () => {
    expect(() => parseThreshold('nonsense=5')).toThrow(/unknown metric/);
    expect(() => parseThreshold('faults')).toThrow(/cannot read/);
  });
});

// A finding in 1 of 10 base runs and in 10 of 10 patched runs read UNCHANGED, exit 0: the diff said
// nothing of how often. An unchanged entry now carries the chance of the patched side's larger share
// (Fisher's exact test on runs, over the base runs that showed it or could have); a significant rise
// at --fail-on is a regression (2026-12-07, session 41).
describe("diffRuns: an unchanged finding's rise", () => {
  const page3 = { pagesSeen: { complete: true, files: { '8:0/c': [[3, 3]] as Array<[number, number]> } } };
  const runs = (name: string, showing: number, total: number, over: Partial<RunData> = page3) =>
    Array.from({ length: total }, (_, i) => run(`${name}${i + 1}`, i < showing ? [finding()] : [], over));

  it('1 of 10 base runs against 10 of 10 patched: a significant rise, a regression, said in the reasons', () => {
    const d = diffRuns(runs('a', 1, 10), runs('b', 10, 10));
    expect(d.findings.unchanged).toHaveLength(1);
    expect(d.findings.unchanged[0]!.rise).toEqual({
      baseRuns: 10,
      baseShowing: 1,
      patchedRuns: 10,
      patchedShowing: 10,
      p: expect.any(Number),
      significant: true,
    });
    expect(d.findings.unchanged[0]!.rise!.p).toBeCloseTo(11 / 184_756, 15);
    expect(d.regression).toBe(true);
    expect(d.reasons).toEqual([
      "more often: error mapped-page-removed on 8:0/c index 3 in 10 of 10 patched runs against 1 of 10 base runs that could show it (p = 6.0e-5, Fisher's exact test on runs): the patch makes it likelier",
    ]);
  });

  it('below --fail-on, or not significant, or not more often: unchanged as before, no regression', () => {
    expect(diffRuns(runs('a', 1, 10), runs('b', 10, 10), { failOn: 'never' }).regression).toBe(false);
    // 3 runs a side (the shipped pairs): 1 of 3 against 3 of 3 is p = 0.2
    const three = diffRuns(runs('a', 1, 3), runs('b', 3, 3));
    expect(three.findings.unchanged[0]!.rise).toMatchObject({ p: expect.closeTo(0.2, 12), significant: false });
    expect(three.regression).toBe(false);
    const same = diffRuns(runs('a', 5, 10), runs('b', 5, 10));
    expect(same.findings.unchanged[0]!.rise).toBeUndefined();
    expect(same.regression).toBe(false);
  });

  it('counts base runs that could not have shown it only where they did show it', () => {
    // nine base runs whose traces have gaps, the tenth showed it: 1 of 1 against 10 of 10 is no rise
    const gappy = { ...page3, stats: { events: 100, ops: 50, gaps: 1, unknown: 0 } };
    const d = diffRuns([run('a1', [finding()], gappy), ...runs('a', 0, 9, gappy)], runs('b', 10, 10));
    expect(d.findings.unchanged[0]!.rise).toBeUndefined();
    expect(d.regression).toBe(false);
  });
});
