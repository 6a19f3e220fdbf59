/**
 * `kreplay diff`'s verdict against a naive oracle written from docs/diff.md's rules, on random
 * small sets of base and patched runs (seeded: jest.setup.js), and every output format of the
 * same result against its JSON verdict, and `kreplay ci`'s summary of it (summary.txt, .ktap, .kcidb.json).
 *
 * The runs are built as replay results (what `kreplay replay --format json` writes and diff
 * reads back through `runFromReplay`): findings with rule, page and certainty, gaps, unusable
 * events, rules not judged (some of them `unexercised`), runs that saw nothing, workloads that
 * failed, meta.json's workload name, test file and counters, fault latencies, and thresholds.
 *
 * The oracle is independent of diff's code and as plain as the rules:
 * - a run counts unless its replay is inconclusive (no events, no page-cache operation, or a
 *   reason in its verdict) or its workload exited non-zero;
 * - findings match by rule, file (dev/ino) and index, the workload's test file under any device
 *   number (a run whose meta.json names no test file names it by its dev/ino); a finding may name
 *   no file, no index or neither, and two of one rule may be on one page when nothing both name
 *   differs: one key that names no page on both sides is `maybeNew` (and its base finding keeps the
 *   diff from a pass whatever its severity), a patched finding that may be on a base one's page is
 *   `maybeNew`, a base finding a patched one may be on is unjudged (and keeps it from a pass), and
 *   a page shown is one the finding may be on (any file, any index where it names none);
 *   new: in no counting base run, and no counting base run counted findings of its rule it did
 *   not keep (replay's cap per rule) — else not judged new (`maybeNew`); unchanged: on both
 *   sides, certain in some counting base run — else `maybeNew` (the base may never have had it); fixed: in no counting patched run while some counting patched run judged the rule,
 *   has no gap and no unusable event and showed the finding's page in the cache (or does not say
 *   which pages it showed, or its set is not complete), and no counting patched run counted
 *   findings of the rule it did not keep; unjudged otherwise; a fixed class's chance counts as
 *   showing it only the counting base runs where it was certain (as a new class's, counted);
 * - a new class's chance: with it in k of the m counting patched runs and in none of the n counting
 *   base runs that could have shown it (judged the rule, no gap, no unusable event, showed its page
 *   — the fixed rule with the sides swapped), the share of the ways k runs showing it could fall
 *   among the n + m that leave every one of the n without it (counted, not computed by formula);
 *   below 0.01 it is shown new, else it could be chance, and the counts every format prints say how
 *   many could; with n = 0 it is 1, and the diff says why no base run could show it;
 * - inconclusive when a side has no counting run or the counting runs of the two sides name
 *   different workloads (runs naming none left out; a side none of whose runs names one is
 *   not compared); else regression when a new finding
 *   reaches --fail-on or a threshold is exceeded (the findings threshold counting the findings
 *   not kept); else no regression;
 * - exit 2 / 1 / 0 for inconclusive / regression / no regression;
 * - a pass only when no regression, and the patched side has no gap, no unusable event, no run
 *   left out, no rule it could not judge (but rules no counting run of either side exercised; a
 *   rule some of its runs counted findings of past the cap is not judged), no finding at
 *   --fail-on not judged new, no base finding (of any severity, as for unjudged rules) unjudged
 *   only because no patched run that could show it showed its page, and every threshold was judged.
 */
import { describe, expect, it } from '@jest/globals';
import { byCountingRise } from '../../../test-support/fisher.js';
import fc from 'fast-check';
import { type Finding, type RuleId, type Severity } from '@kreplay/core';
import { diffRuns, parseThreshold, runFromReplay, type DiffResult, type ReplayLike, type RunData } from '@kreplay/diff';
import {
  ciTests,
  diffToGithub,
  diffVerdictSaid,
  diffToJunit,
  diffToKcidb,
  diffToKtap,
  diffToSarif,
  diffToText,
  reportToHtml,
  reportToJson,
  reportToText,
  formatKtap,
  kcidbJson,
} from '@kreplay/report';
import { ciGroupOf, ciSummaryText } from '@kreplay/pipeline';

const ENGINE_RULES: RuleId[] = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'trace-inconsistent'];
const SEVERITY: Record<string, Severity> = {
  'mapped-page-removed': 'error',
  'orphan-page-mapped': 'error',
  'stale-after-invalidate': 'error',
  'trace-inconsistent': 'warning',
};
// The same test file (ino 12 = 0xc) under two device numbers, and another file.
const FILES = ['254:0/c', '253:0/c', '8:0/d'];

interface GenFinding {
  rule: RuleId;
  /** Absent: the finding names no file (a PTE probe that fetched none, a mismatch marker of a run whose meta.json names no test file). */
  file?: string;
  /** Absent: the finding names no index. */
  index?: number;
  certain: boolean;
}

interface GenRun {
  events: number;
  ops: number;
  reasons: string[];
  gaps: number;
  unusable: number;
  unjudged: Array<{ rule: RuleId; unexercised: boolean }>;
  findings: GenFinding[];
  /** Rules of which the replay counted one finding past its cap and did not keep it. */
  dropped: RuleId[];
  workload?: string;
  exitCode?: number | null;
  testDev?: string;
  mismatches?: number;
  faults: number;
  spanNs: number;
  faultSamples: number[];
  /**
   * The pages (`file index`) its trace showed in the cache, besides its findings' own (replay's
   * `pagesSeen`); `complete: false` past replay's bound; absent in a replay JSON from before
   * session 33 (any page).
   */
  seen?: { complete: boolean; pages: string[] };
}

const PAGES = FILES.flatMap((file) => [0, 1, 2].map((index) => `${file} ${index}`));

// one finding in four names no file, one in four no index (one in sixteen neither)
const findingArb: fc.Arbitrary<GenFinding> = fc
  .record({
    rule: fc.constantFrom(...ENGINE_RULES),
    file: fc.option(fc.constantFrom(...FILES), { nil: undefined, freq: 4 }),
    index: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined, freq: 4 }),
    certain: fc.boolean(),
  })
  .map(({ file, index, ...f }) => ({ ...f, ...(file !== undefined ? { file } : {}), ...(index !== undefined ? { index } : {}) }));

const runArb: fc.Arbitrary<GenRun> = fc
  .record({
    events: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 50 }) }),
    ops: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 50 }) }),
    reasons: fc.oneof({ weight: 8, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.constant(['the trace holds no events']) }),
    gaps: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    unusable: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
    unjudged: fc.oneof(
      { weight: 3, arbitrary: fc.constant([] as Array<{ rule: RuleId; unexercised: boolean }>) },
      {
        weight: 1,
        arbitrary: fc.uniqueArray(fc.record({ rule: fc.constantFrom(...ENGINE_RULES.slice(0, 3)), unexercised: fc.boolean() }), {
          selector: (u) => u.rule,
          maxLength: 3,
        }),
      },
    ),
    findings: fc.array(findingArb, { maxLength: 4 }),
    dropped: fc.oneof({ weight: 5, arbitrary: fc.constant([] as RuleId[]) }, { weight: 1, arbitrary: fc.subarray(ENGINE_RULES, { minLength: 1 }) }),
    workload: fc.option(fc.oneof({ weight: 5, arbitrary: fc.constant('odirect-race') }, { weight: 1, arbitrary: fc.constant('truncate-racer') }), {
      nil: undefined,
      freq: 6,
    }),
    exitCode: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(139, null, undefined) }),
    testDev: fc.option(fc.constantFrom('254:0', '253:0'), { nil: undefined, freq: 4 }),
    mismatches: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 5 }),
    faults: fc.integer({ min: 0, max: 40 }),
    spanNs: fc.constantFrom(0, 1e9, 2e9),
    faultSamples: fc.array(fc.integer({ min: 1000, max: 5000 }), { maxLength: 5 }),
    seen: fc.option(
      fc.record({
        complete: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        // sometimes none at all: then only its findings' pages (a finding that names no page is on none of them)
        pages: fc.oneof({ weight: 5, arbitrary: fc.subarray(PAGES) }, { weight: 1, arbitrary: fc.constant([] as string[]) }),
      }),
      { nil: undefined, freq: 5 },
    ),
  })
  .map((r) => ({
    ...r,
    // an unexercised rule is one the trace never shows the trigger of: it has no finding of it
    findings: r.findings.filter((f) => !r.unjudged.some((u) => u.unexercised && u.rule === f.rule)),
    // and none past the cap; a replay that dropped findings of a rule kept some (the cap's worth)
    dropped: r.dropped.filter((rule) => !r.unjudged.some((u) => u.unexercised && u.rule === rule) && r.findings.some((f) => f.rule === rule)),
  }));

const histogram = (xs: number[]) => {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return {
    count: xs.length,
    sumNs: xs.reduce((a, b) => a + b, 0),
    minNs: Math.min(...xs),
    maxNs: Math.max(...xs),
    buckets: [...counts].sort((a, b) => a[0] - b[0]),
  };
};

function finding(f: GenFinding, i: number): Finding {
  const [dev] = (f.file ?? 'unnamed').split('/');
  return {
    rule: f.rule,
    severity: SEVERITY[f.rule]!,
    certainty: f.certain ? 'certain' : 'uncertain',
    message: `${f.rule} on ${f.file ?? 'a file not named'} index ${f.index ?? 'not named'}`,
    explanation: 'generated',
    ts: BigInt(1000 + i),
    cpu: i % 2,
    pid: 100 + i,
    ...(f.file !== undefined ? { file: f.file } : {}),
    ...(f.index !== undefined ? { index: f.index } : {}),
    events: [{ source: `trace-${dev}.txt`, line: i + 1, ts: BigInt(1000 + i), cpu: i % 2, pid: 100 + i, comm: 'w', summary: 'x' }],
  } as Finding;
}

/** The page a finding names (`file index`), when it names both. */
const namedPage = (f: GenFinding) => (f.file !== undefined && f.index !== undefined ? [`${f.file} ${f.index}`] : []);

/** A run's pages as replay writes them: its findings' named pages and the others, one-page ranges per file (replay merges neighbours; diff must not care). */
function pagesSeenOf(seen: NonNullable<GenRun['seen']>, findings: GenFinding[]) {
  const files: Record<string, Array<[number, number]>> = {};
  const all = [...new Set([...seen.pages, ...findings.flatMap(namedPage)])].sort();
  for (const page of all) {
    const [file, index] = page.split(' ') as [string, string];
    (files[file] ??= []).push([Number(index), Number(index)]);
  }
  for (const ranges of Object.values(files)) ranges.sort((a, b) => a[0] - b[0]);
  return { complete: seen.complete, files };
}

/** The replay result a run stands for, as diff reads it. */
function replayOf(r: GenRun): ReplayLike {
  const workload: Record<string, unknown> = {};
  if (r.workload !== undefined) workload.name = r.workload;
  if (r.exitCode !== undefined) workload.exitCode = r.exitCode;
  if (r.testDev !== undefined) workload.testFile = { dev: r.testDev, ino: 12 };
  if (r.mismatches !== undefined) workload.result = { mismatches: r.mismatches };
  return {
    verdict: {
      status: r.reasons.length ? 'inconclusive' : r.findings.length ? 'findings' : 'clean',
      inconclusive: r.reasons,
      unusableEvents: r.unusable,
      ...(r.unjudged.length
        ? { unjudged: r.unjudged.map((u) => ({ rule: u.rule, reason: `gen ${u.rule}`, ...(u.unexercised ? { unexercised: true } : {}) })) }
        : {}),
    },
    findings: r.findings.map(finding),
    stats: {
      events: r.events,
      ops: r.ops,
      gaps: r.gaps,
      byOp: { fault_begin: r.faults },
      ...(r.dropped.length ? { findingsDropped: r.dropped.length, findingsDroppedByRule: Object.fromEntries(r.dropped.map((rule) => [rule, 1])) } : {}),
      latency: r.faultSamples.length ? { fault: histogram(r.faultSamples) } : {},
    },
    trace: { firstTs: 0n, lastTs: BigInt(r.spanNs) },
    ...(Object.keys(workload).length ? { meta: { workload } } : {}),
    ...(r.faultSamples.length ? { latencyNs: { fault: r.faultSamples } } : {}),
    ...(r.seen ? { pagesSeen: pagesSeenOf(r.seen, r.findings) } : {}),
  } as ReplayLike;
}

// ---------------------------------------------------------------- the naive oracle

const counts = (r: GenRun) => r.reasons.length === 0 && r.events > 0 && r.ops > 0 && !(typeof r.exitCode === 'number' && r.exitCode !== 0);
/**
 * A finding is on the workload's test file when its run's meta.json names that file (dev, ino
 * 12 = 0xc), or when its run names none and the file (dev/ino) is one another run names so.
 */
const onTestFile = (file: string, r: GenRun, all: GenRun[]) =>
  r.testDev !== undefined ? file === `${r.testDev}/c` : all.some((o) => o.testDev !== undefined && file === `${o.testDev}/c`);

/** A finding class: its rule and the page its findings name — file `TEST` for the workload's test file, undefined where they name none. */
interface Cls {
  rule: RuleId;
  file?: string;
  index?: number;
}
const clsOf = (f: GenFinding, r: GenRun, all: GenRun[]): Cls => ({
  rule: f.rule,
  ...(f.file !== undefined ? { file: onTestFile(f.file, r, all) ? 'TEST' : f.file } : {}),
  ...(f.index !== undefined ? { index: f.index } : {}),
});
const keyOf = (c: Cls) => `${c.rule} ${c.file ?? '-'} ${c.index ?? '-'}`;
const namesItsPage = (c: Cls) => c.file !== undefined && c.index !== undefined;
/** Two classes may be on one page: one rule, and nothing both name differs (what one does not name could be anything). */
const mayBeOneFinding = (a: Cls, b: Cls) =>
  a.rule === b.rule &&
  (a.file === undefined || b.file === undefined || a.file === b.file) &&
  (a.index === undefined || b.index === undefined || a.index === b.index);
/**
 * Whether run r showed in the cache a page base class c may be on: any page when r does not say
 * which (no set, or not complete); else one of its pages whose file is c's — the test file as r
 * names it (or, when r names none, as any run does), any file when c names none — and whose index
 * is c's (any, when c names none).
 */
const showed = (r: GenRun, c: Cls, all: GenRun[]) => {
  if (!r.seen?.complete) return true;
  const pages = [...r.seen.pages, ...r.findings.flatMap(namedPage)].map((page) => page.split(' ') as [string, string]);
  const files =
    c.file === undefined
      ? pages.map(([file]) => file)
      : c.file !== 'TEST'
        ? [c.file]
        : r.testDev !== undefined
          ? [`${r.testDev}/c`]
          : all.flatMap((o) => (o.testDev !== undefined ? [`${o.testDev}/c`] : []));
  return pages.some(([file, index]) => files.includes(file) && (c.index === undefined || Number(index) === c.index));
};
const judges = (r: GenRun, rule: RuleId) => !r.unjudged.some((u) => u.rule === rule) && !r.dropped.includes(rule);
const reaches = (sev: Severity, failOn: string) => failOn !== 'never' && (sev === 'error' || (failOn === 'warning' && sev === 'warning'));

/** The share of the ways `k` runs showing a finding could fall among `shown + silent` runs that leave the `silent` ones without it. */
function byCounting(k: number, shown: number, silent: number): number {
  let all = 0;
  let none = 0;
  for (let mask = 0; mask < 1 << (shown + silent); mask++) {
    let bits = 0;
    for (let x = mask; x; x &= x - 1) bits++;
    if (bits !== k) continue;
    all++;
    // the low `silent` bits are the silent side's runs
    if ((mask & ((1 << silent) - 1)) === 0) none++;
  }
  return none / all;
}

interface Expected {
  status: Map<string, 'new' | 'fixed' | 'unchanged' | 'unjudged' | 'maybeNew'>;
  /** New classes: the base runs that could have shown it, the patched runs, and the chance of the base's silence. */
  newChance: Map<string, { baseRuns: number; patchedRuns: number; p: number }>;
  /** How new classes' chances came out here (the property checks the generator reaches each). */
  chance: Set<ChanceOutcome>;
  /**
   * Fixed classes: the patched runs Fisher's test counts (those that could show it and showed its
   * page), and the chance of their silence, counting as showing it only the base runs where it was certain.
   */
  showers: Map<string, { runs: number; p: number }>;
  /**
   * Unchanged classes a larger share of the patched runs show than of the base runs: the base runs
   * that showed it or could have, and the chance of the patched side's share (session 41).
   */
  rise: Map<string, { baseRuns: number; p: number }>;
  verdict: DiffResult['verdict'];
  exit: number;
  pass: boolean;
  thresholds: Map<string, { judged: boolean; exceeded: boolean }>;
  /** How findings that name no page came out here (the property checks the generator reaches each). */
  keyless: Set<KeylessOutcome>;
}

const KEYLESS_OUTCOMES = [
  'one key on both sides',
  'one key on both sides, all else a pass',
  'patched maybe a base one',
  'base maybe a patched one',
  'fixed',
  'never shown',
  'no page shown',
  'new',
  'in a pass',
] as const;
type KeylessOutcome = (typeof KEYLESS_OUTCOMES)[number];

const CHANCE_OUTCOMES = ['shown new', 'could be chance', 'some base runs could not show it', 'no base run could show it'] as const;
type ChanceOutcome = (typeof CHANCE_OUTCOMES)[number];

function grew(b: number, p: number, pct: number): boolean {
  return b === 0 ? p > 0 : ((p - b) / b) * 100 > pct;
}

function oracle(baseAll: GenRun[], patchedAll: GenRun[], failOn: string, thresholds: Array<[string, number]>): Expected {
  const base = baseAll.filter(counts);
  const patched = patchedAll.filter(counts);
  const all = [...base, ...patched];
  const inBase = new Map<string, Cls>();
  const inPatched = new Map<string, Cls>();
  // keys some counting base run raised certain: only those can be unchanged
  const certainInBase = new Set<string>();
  for (const r of base)
    for (const f of r.findings) {
      inBase.set(keyOf(clsOf(f, r, all)), clsOf(f, r, all));
      if (f.certain) certainInBase.add(keyOf(clsOf(f, r, all)));
    }
  for (const r of patched) for (const f of r.findings) inPatched.set(keyOf(clsOf(f, r, all)), clsOf(f, r, all));
  const status: Expected['status'] = new Map();
  const showers: Expected['showers'] = new Map();
  const newChance: Expected['newChance'] = new Map();
  const chance = new Set<ChanceOutcome>();
  // base classes the diff must say itself it could not judge (they keep it from a pass, whatever their severity)
  const notFixedSaid = new Set<string>();
  const keyless = new Set<KeylessOutcome>();
  const rise: Expected['rise'] = new Map();
  const showing = (rs: GenRun[], k: string) => rs.filter((r) => r.findings.some((f) => keyOf(clsOf(f, r, all)) === k));
  for (const [k, c] of inBase) {
    if (inPatched.has(k)) {
      // the same key on both sides is the same page only when it names the page, and the base had
      // it only if some base occurrence is certain (an uncertain one may never have happened)
      status.set(k, namesItsPage(c) && certainInBase.has(k) ? 'unchanged' : 'maybeNew');
      if (status.get(k) === 'unchanged') {
        // the base runs that showed it, or could have (no base run dropped its rule, and this one judged it, has no hole and showed its page)
        const could = base.some((b) => b.dropped.includes(c.rule))
          ? []
          : base.filter((b) => judges(b, c.rule) && b.gaps === 0 && b.unusable === 0 && showed(b, c, all));
        const kb = showing(base, k);
        const n = new Set([...could, ...kb]).size;
        const kp = showing(patched, k).length;
        if (kp * n > kb.length * patched.length) rise.set(k, { baseRuns: n, p: byCountingRise(kb.length, n, kp, patched.length) });
      }
      if (!namesItsPage(c)) {
        // and the base's finding is neither fixed nor shown still there: as when the patched one names its page
        notFixedSaid.add(k);
        keyless.add('one key on both sides');
      }
      continue;
    }
    if ([...inPatched.values()].some((o) => mayBeOneFinding(o, c))) {
      // a patched finding may be this one: not fixed
      status.set(k, 'unjudged');
      notFixedSaid.add(k);
      keyless.add('base maybe a patched one');
      continue;
    }
    const could = patched.filter((p) => judges(p, c.rule) && p.gaps === 0 && p.unusable === 0);
    const shown = could.filter((p) => showed(p, c, all));
    const fixed = shown.length > 0 && !patched.some((p) => p.dropped.includes(c.rule));
    status.set(k, fixed ? 'fixed' : 'unjudged');
    // not fixed only because no patched run that could show it showed its page: said of the finding itself
    if (!fixed && could.length > 0 && !patched.some((p) => p.dropped.includes(c.rule))) {
      notFixedSaid.add(k);
      if (!namesItsPage(c)) keyless.add(c.file === undefined && c.index === undefined ? 'no page shown' : 'never shown');
    }
    if (fixed) {
      // an uncertain base sighting may never have happened: only the certain ones count against the patched runs' silence
      const certainRuns = base.filter((r) => r.findings.some((f) => f.certain && keyOf(clsOf(f, r, all)) === k)).length;
      showers.set(k, { runs: shown.length, p: byCounting(certainRuns, base.length, shown.length) });
    }
    if (fixed && !namesItsPage(c)) keyless.add('fixed');
  }
  // new only when the base side cannot have had it: it kept every finding of the rule, and none of them may be this one
  for (const [k, c] of inPatched) {
    if (inBase.has(k)) continue;
    const maybeBase = [...inBase.values()].some((o) => mayBeOneFinding(o, c));
    status.set(k, base.some((b) => b.dropped.includes(c.rule)) || maybeBase ? 'maybeNew' : 'new');
    if (maybeBase) keyless.add('patched maybe a base one');
    if (status.get(k) === 'new' && !namesItsPage(c)) keyless.add('new');
    if (status.get(k) !== 'new') continue;
    const could = base.filter((b) => judges(b, c.rule) && b.gaps === 0 && b.unusable === 0 && showed(b, c, all));
    const runs = patched.filter((r) => r.findings.some((f) => keyOf(clsOf(f, r, all)) === k)).length;
    const p = byCounting(runs, patched.length, could.length);
    newChance.set(k, { baseRuns: could.length, patchedRuns: patched.length, p });
    chance.add(could.length === 0 ? 'no base run could show it' : p < 0.01 ? 'shown new' : 'could be chance');
    if (could.length > 0 && could.length < base.length) chance.add('some base runs could not show it');
  }

  let inconclusive = base.length === 0 || patched.length === 0;
  if (!inconclusive) {
    const names = (rs: GenRun[]) => [...new Set(rs.flatMap((r) => (r.workload === undefined ? [] : [r.workload])))].sort().join(',');
    if (names(base) && names(patched) && names(base) !== names(patched)) inconclusive = true;
  }

  const th: Expected['thresholds'] = new Map();
  for (const [metric, pct] of thresholds) {
    if (metric === 'findings') {
      const mean = (rs: GenRun[]) => rs.reduce((s, r) => s + r.findings.length + r.dropped.length, 0) / rs.length;
      th.set(metric, { judged: true, exceeded: base.length > 0 && patched.length > 0 && grew(mean(base), mean(patched), pct) });
    } else if (metric === 'faults') {
      // rates per second of trace when every run of both sides has a span; else counts per run
      const span = (rs: GenRun[]) => rs.reduce((s, r) => s + r.spanNs, 0);
      const sum = (rs: GenRun[]) => rs.reduce((s, r) => s + r.faults, 0);
      const rates = [...base, ...patched].every((r) => r.spanNs > 0);
      const b = rates ? sum(base) / (span(base) / 1e9) : sum(base) / base.length;
      const p = rates ? sum(patched) / (span(patched) / 1e9) : sum(patched) / patched.length;
      th.set(metric, { judged: true, exceeded: base.length > 0 && patched.length > 0 && grew(b, p, pct) });
    } else if (metric === 'workload.mismatches') {
      const all = [...base, ...patched];
      const judged = all.length > 0 && all.every((r) => r.mismatches !== undefined);
      const mean = (rs: GenRun[]) => rs.reduce((s, r) => s + r.mismatches!, 0) / rs.length;
      th.set(metric, { judged, exceeded: judged && base.length > 0 && patched.length > 0 && grew(mean(base), mean(patched), pct) });
    } else {
      // fault.p99: at most 15 samples a side here, too few to tell
      th.set(metric, { judged: false, exceeded: false });
    }
  }

  let regression = [...status].some(([k, s]) => s === 'new' && reaches(SEVERITY[inPatched.get(k)!.rule]!, failOn));
  // a race the base had too, in significantly more patched runs (never with 3 runs a side, but the rule holds)
  if ([...rise].some(([k, r]) => r.p < 0.01 && reaches(SEVERITY[inPatched.get(k)!.rule]!, failOn))) regression = true;
  if ([...th.values()].some((t) => t.exceeded)) regression = true;
  const verdict: DiffResult['verdict'] = inconclusive ? 'inconclusive' : regression ? 'regression' : 'no-regression';
  // a rule a run counted findings of past the cap is not judged there, whatever else it says of it
  const everywhereUnexercised = (rule: RuleId) =>
    [...base, ...patched].every((r) => r.unjudged.some((u) => u.rule === rule && u.unexercised) && !r.dropped.includes(rule));
  const blind = patched.some((r) => r.unjudged.some((u) => !everywhereUnexercised(u.rule)) || r.dropped.length > 0);
  const maybeNew = [...status].some(([k, s]) => s === 'maybeNew' && reaches(SEVERITY[inPatched.get(k)!.rule]!, failOn));
  const passBut =
    verdict === 'no-regression' &&
    patched.every((r) => r.gaps === 0 && r.unusable === 0) &&
    patched.length === patchedAll.length &&
    !blind &&
    !maybeNew &&
    [...th.values()].every((t) => t.judged);
  const pass = passBut && notFixedSaid.size === 0;
  // what only a base finding not judged on the patched side keeps from a pass: one key naming no page on both sides, below --fail-on
  if (passBut && notFixedSaid.size > 0 && [...notFixedSaid].every((k) => inPatched.has(k))) keyless.add('one key on both sides, all else a pass');
  if (pass && [...inBase.values(), ...inPatched.values()].some((c) => !namesItsPage(c))) keyless.add('in a pass');
  return {
    status,
    showers,
    rise,
    newChance,
    chance,
    verdict,
    exit: verdict === 'inconclusive' ? 2 : verdict === 'regression' ? 1 : 0,
    pass,
    thresholds: th,
    keyless,
  };
}

// ---------------------------------------------------------------- the real diff, and its formats

/** The exit code `kreplay diff` gives a result (packages/cli/src/commands/diff.ts). */
const exitOf = (d: DiffResult) => (d.verdict === 'inconclusive' ? 2 : d.regression ? 1 : 0);

const THRESHOLDS: Array<[string, number]> = [
  ['findings', 0],
  ['faults', 50],
  ['workload.mismatches', 0],
  ['fault.p99', 20],
];

/**
 * A run with nothing that keeps a diff from a pass by itself (it counts, has no hole, judged every
 * rule and kept every finding): without some of these, passes — and what findings that name no
 * page do to one — are rare among the cases.
 */
const quietRunArb: fc.Arbitrary<GenRun> = runArb.map((r) => ({
  ...r,
  events: Math.max(r.events, 1),
  ops: Math.max(r.ops, 1),
  reasons: [],
  gaps: 0,
  unusable: 0,
  unjudged: [],
  dropped: [],
  exitCode: 0,
}));

/**
 * A quiet run whose findings are of two rules (one error, one warning) and often name no file or
 * no index, and whose trace says which pages it showed (sometimes none): where findings that name
 * no page meet, are fixed or not, and make or keep a pass.
 */
const keylessRunArb: fc.Arbitrary<GenRun> = fc
  .tuple(
    quietRunArb,
    fc.array(
      fc.record({
        rule: fc.constantFrom<RuleId>('mapped-page-removed', 'trace-inconsistent'),
        // one file and two indexes: findings meet on a page (or a key) often
        file: fc.option(fc.constant('8:0/d'), { nil: undefined, freq: 2 }),
        index: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined, freq: 2 }),
        certain: fc.boolean(),
      }),
      { maxLength: 2 },
    ),
    fc.oneof(fc.subarray(['8:0/d 0', '8:0/d 1', '254:0/c 0']), fc.constant([] as string[])),
  )
  .map(([r, findings, pages]) => ({
    ...r,
    findings: findings.map(({ file, index, ...f }) => ({ ...f, ...(file !== undefined ? { file } : {}), ...(index !== undefined ? { index } : {}) })),
    seen: { complete: true, pages },
  }));

const caseOf = (run: fc.Arbitrary<GenRun>, thresholds: Array<[string, number]>) =>
  fc.record({
    base: fc.array(run, { minLength: 0, maxLength: 3 }),
    patched: fc.array(run, { minLength: 0, maxLength: 3 }),
    failOn: fc.constantFrom('error', 'warning', 'never'),
    thresholds: fc.subarray(thresholds),
  });
/**
 * Copies of one run a side, up to six a side (as `kreplay diff` is given several captures of one
 * kernel): the only cases with enough runs a side for a new finding to be shown new (p < 0.01 needs
 * five a side, each patched run showing it).
 */
const copiesArb = fc
  .record({
    base: fc.oneof(quietRunArb, keylessRunArb),
    patched: fc.oneof(quietRunArb, keylessRunArb),
    n: fc.integer({ min: 1, max: 6 }),
    m: fc.integer({ min: 1, max: 6 }),
    failOn: fc.constantFrom('error', 'warning', 'never'),
    thresholds: fc.subarray(THRESHOLDS.slice(0, 3)),
  })
  .map(({ base, patched, n, m, ...c }) => ({ ...c, base: Array.from({ length: n }, () => base), patched: Array.from({ length: m }, () => patched) }));

// the quiet cases leave out fault.p99, which is never judged on so few samples
const caseArb = fc.oneof(
  { weight: 3, arbitrary: caseOf(runArb, THRESHOLDS) },
  { weight: 1, arbitrary: caseOf(quietRunArb, THRESHOLDS.slice(0, 3)) },
  { weight: 1, arbitrary: caseOf(keylessRunArb, THRESHOLDS.slice(0, 3)) },
  { weight: 1, arbitrary: copiesArb },
);

function diffOf(c: { base: GenRun[]; patched: GenRun[]; failOn: string; thresholds: Array<[string, number]> }): DiffResult {
  const load = (rs: GenRun[], side: string): RunData[] => rs.map((r, i) => runFromReplay(replayOf(r), `${side}-${i + 1}.json`));
  return diffRuns(load(c.base, 'base'), load(c.patched, 'patched'), {
    failOn: c.failOn as 'error',
    thresholds: c.thresholds.map(([m, p]) => parseThreshold(`${m}=${p}`)),
  });
}

const NUM_RUNS = 400;
/** The first property is cheap (no formats): more cases reach the rarer ways findings that name no page come out. */
const NUM_RUNS_CLASSES = 2000;

describe('kreplay diff against the naive oracle of docs/diff.md', () => {
  it('every finding class, the verdict, the exit code and the thresholds agree', () => {
    const reached = new Map<KeylessOutcome, number>();
    const chanced = new Map<ChanceOutcome, number>();
    fc.assert(
      fc.property(caseArb, (c) => {
        const want = oracle(c.base, c.patched, c.failOn, c.thresholds);
        for (const o of want.keyless) reached.set(o, (reached.get(o) ?? 0) + 1);
        for (const o of want.chance) chanced.set(o, (chanced.get(o) ?? 0) + 1);
        const d = diffOf(c);
        const got = new Map<string, string>();
        for (const s of ['new', 'fixed', 'unchanged', 'unjudged', 'maybeNew'] as const)
          for (const e of d.findings[s] ?? []) got.set(e.key.replace(/ test-file /, ' TEST '), s);
        expect(Object.fromEntries([...got].sort())).toEqual(Object.fromEntries([...want.status].sort()));
        for (const e of d.findings.fixed) {
          const w = want.showers.get(e.key.replace(/ test-file /, ' TEST '))!;
          expect([e.key, e.chance?.patchedRuns, e.chance?.significant]).toEqual([e.key, w.runs, w.p < 0.01]);
          expect(e.chance!.p).toBeCloseTo(w.p, 12);
        }
        for (const e of d.findings.unchanged) {
          const w = want.rise.get(e.key.replace(/ test-file /, ' TEST '));
          expect([e.key, e.rise?.baseRuns, e.rise?.significant]).toEqual([e.key, w?.baseRuns, w === undefined ? undefined : w.p < 0.01]);
          if (w) expect(e.rise!.p).toBeCloseTo(w.p, 12);
        }
        for (const e of d.findings.new) {
          const w = want.newChance.get(e.key.replace(/ test-file /, ' TEST '))!;
          expect([e.key, e.chance?.baseRuns, e.chance?.patchedRuns, e.chance?.significant, e.chance?.unseen !== undefined]).toEqual([
            e.key,
            w.baseRuns,
            w.patchedRuns,
            w.p < 0.01,
            w.baseRuns === 0,
          ]);
          expect(e.chance!.p).toBeCloseTo(w.p, 12);
        }
        expect(d.verdict).toBe(want.verdict);
        expect(exitOf(d)).toBe(want.exit);
        // a pass, in the words every format prints (each format's own is the next property's)
        expect(diffVerdictSaid(d) === 'no regression').toBe(want.pass);
        if (want.verdict !== 'inconclusive')
          for (const t of d.thresholds)
            expect({ metric: t.metric, judged: t.judged, exceeded: t.exceeded }).toEqual({ metric: t.metric, ...want.thresholds.get(t.metric) });
      }),
      { numRuns: NUM_RUNS_CLASSES },
    );
    // the generator reaches every way a finding that names no page can come out (or this property says little of them)
    expect(KEYLESS_OUTCOMES.filter((o) => !reached.has(o))).toEqual([]);
    expect(CHANCE_OUTCOMES.filter((o) => !chanced.has(o))).toEqual([]);
    if (process.env.KREPLAY_ORACLE_STATS)
      console.log(Object.fromEntries([...KEYLESS_OUTCOMES.map((o) => [o, reached.get(o) ?? 0]), ...CHANCE_OUTCOMES.map((o) => [o, chanced.get(o) ?? 0])]));
  });

  it('no format presents as a pass what is not one, and each presents a pass as one', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { pass, newChance } = oracle(c.base, c.patched, c.failOn, c.thresholds);
        const d = diffOf(c);
        const v = d.verdict;
        const bare = 'no regression';
        // new classes whose base silence could be chance: each format says so of each, and counts them
        const thin = [...newChance.values()].filter((w) => w.p >= 0.01).length;
        const newSaid = `${newChance.size} new${thin ? ` (${thin} of them on too few runs to tell from chance)` : ''}, `;
        const chanceWords = (out: string) => out.split(/so not shown to be the patch|whether the patch introduced it cannot be told/).length - 1;

        const text = diffToText(d);
        const verdictLine = text.split('\n').find((l) => /^(no regression|REGRESSION|INCONCLUSIVE)/.test(l))!;
        expect(verdictLine.startsWith(`${bare} (`)).toBe(pass);
        if (v === 'no-regression' && !pass) expect(verdictLine).toContain('not a pass');
        expect(text).toContain(`\nFindings: ${newSaid}`);
        expect(chanceWords(text)).toBe(thin);

        const notice = diffToGithub(d)
          .split('\n')
          .find((l) => l.startsWith('::notice title=kreplay diff::'))!;
        expect(notice.startsWith(`::notice title=kreplay diff::${bare}:`)).toBe(pass);
        expect(notice).toContain(`: ${newSaid}`);
        expect(diffToGithub(d).split('title=kreplay diff new (the base may have it too)%3A').length - 1).toBe(thin);

        const mail = reportToText({ title: 't', runs: [], diff: d });
        expect(mail).toContain(pass ? `kreplay: ${bare}:` : v === 'no-regression' ? 'not a pass' : v === 'regression' ? 'REGRESSION' : 'INCONCLUSIVE');

        const data = reportToJson({ title: 't', runs: [], diff: d }).diff as { verdict: string; verdictSaid: string; regression: boolean };
        expect([data.verdict, data.regression]).toEqual([v, v === 'regression']);
        expect(data.verdictSaid === bare).toBe(pass);

        const page = reportToHtml({ title: 't', runs: [], diff: d });
        const cls = /<div class="verdict (\w+)">/.exec(page)![1];
        expect(cls).toBe(pass ? 'good' : v === 'no-regression' ? 'short' : 'bad');

        const ktapTop = diffToKtap(d, { workload: 'w' })
          .split('\n')
          .filter((l) => /^(not )?ok 1 /.test(l));
        expect(ktapTop).toHaveLength(1);
        const ktapPass = /^ok 1 [^#]*$/.test(ktapTop[0]!);
        expect(ktapPass).toBe(pass);
        if (v === 'regression') expect(ktapTop[0]).toMatch(/^not ok/);

        const kcidb = JSON.parse(diffToKcidb(d, { workload: 'w' })) as { tests: Array<{ path: string; status: string }> };
        const top = kcidb.tests.find((t) => t.path.split('.').length === 2)!;
        expect(top.status).toBe(pass ? 'PASS' : v === 'regression' ? 'FAIL' : v === 'inconclusive' ? 'MISS' : 'DONE');

        expect(chanceWords(diffToKtap(d, { workload: 'w' }))).toBe(thin);
        const junit = diffToJunit(d);
        expect(chanceWords(junit)).toBe(thin);
        const suite = /<testsuite [^>]*>/.exec(junit)![0];
        const attr = (n: string) => Number(new RegExp(` ${n}="(\\d+)"`).exec(suite)?.[1] ?? 0);
        if (pass) expect([attr('failures'), attr('errors'), attr('skipped')]).toEqual([0, 0, 0]);
        else if (v === 'regression') expect(attr('failures')).toBeGreaterThan(0);
        else if (v === 'inconclusive') expect(attr('errors')).toBeGreaterThan(0);
        else expect(attr('failures') + attr('errors') === 0 && attr('skipped') > 0).toBe(true);
        // and JUnit's counts are its testcases': failing, erring and skipped ones
        const cases = junit.split('<testcase ').slice(1);
        expect([attr('tests'), attr('failures'), attr('errors'), attr('skipped')]).toEqual([
          cases.length,
          cases.filter((x) => x.includes('<failure ')).length,
          cases.filter((x) => x.includes('<error ')).length,
          cases.filter((x) => x.includes('<skipped ')).length,
        ]);

        const sarif = JSON.parse(diffToSarif(d)) as {
          runs: Array<{
            invocations: Array<{ executionSuccessful: boolean; toolExecutionNotifications?: Array<{ level: string; message: { text: string } }> }>;
            results: Array<{ baselineState?: string }>;
          }>;
        };
        const invocation = sarif.runs[0]!.invocations[0]!;
        expect(invocation.executionSuccessful).toBe(v !== 'inconclusive');
        // no result, and nothing the run could not see said, only when it is a pass
        expect(v === 'no-regression' && invocation.toolExecutionNotifications === undefined).toBe(pass);
        if (v === 'no-regression' && !pass) expect(invocation.toolExecutionNotifications![0]!.message.text).toContain('not a pass');
        const states = sarif.runs[0]!.results.map((r) => r.baselineState ?? 'none');
        expect(states.filter((s) => s === 'absent')).toHaveLength(d.findings.fixed.length);
        expect(chanceWords(JSON.stringify(sarif))).toBe(thin);

        // a `kreplay ci` group of the same diff, as summary.ktap / summary.kcidb.json show it
        const g = ciGroupOf('w', d, []);
        const ci = ciTests({ base: 'b', patched: 'p', groups: [g] });
        const group = kcidbJson(ci).tests as Array<{ status: string }>;
        expect(group[0]!.status).toBe(pass ? 'PASS' : v === 'regression' ? 'FAIL' : v === 'inconclusive' ? 'MISS' : 'DONE');
        expect(/^ok 1 [^#]*$/m.test(formatKtap(ci))).toBe(pass);
        const summary = ciSummaryText({ output: 'o', base: 'b', patched: 'p', config: 'c', planned: ['w'], groups: [g], verdict: v, regression: d.regression });
        expect(summary.startsWith(`kreplay ci: ${bare} (`)).toBe(pass);
        expect(/^ {2}ok {9}w: /m.test(summary)).toBe(pass);
        expect(summary).toContain(`w: ${newSaid}`);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

/** A run of `n` events with nothing wrong in them, and what is said to differ. */
const quiet = (over: Partial<GenRun> = {}): GenRun => ({
  events: 10,
  ops: 10,
  reasons: [],
  gaps: 0,
  unusable: 0,
  unjudged: [],
  findings: [],
  dropped: [],
  faults: 0,
  spanNs: 1e9,
  faultSamples: [],
  ...over,
});

describe('what the oracle found (each failed before session 26)', () => {
  it('HTML: a threshold the diff could not compare keeps the verdict from green', () => {
    const d = diffOf({ base: [quiet()], patched: [quiet()], failOn: 'error', thresholds: [['fault.p99', 20]] });
    expect(d.thresholds[0]).toMatchObject({ judged: false, exceeded: false });
    const page = reportToHtml({ title: 't', runs: [], diff: d });
    expect(page).toContain('<div class="verdict short">No regression in what the traces show, but threshold(s) not judged: fault.p99: not a pass');
    expect(page).not.toContain('verdict good');
  });

  it('SARIF: no result over patched traces with a gap says so in its invocation', () => {
    const d = diffOf({ base: [quiet()], patched: [quiet({ gaps: 1 })], failOn: 'error', thresholds: [] });
    const sarif = JSON.parse(diffToSarif(d)) as { runs: Array<{ invocations: unknown[]; results: unknown[] }> };
    expect(sarif.runs[0]!.results).toEqual([]);
    expect(sarif.runs[0]!.invocations).toEqual([
      {
        executionSuccessful: true,
        toolExecutionNotifications: [
          { level: 'warning', message: { text: "no regression in what the traces show, but the patched side's traces have 1 gap: not a pass" } },
        ],
      },
    ]);
  });

  it('JUnit: a rule the patched side could not judge is a skipped test case, not a pass', () => {
    const d = diffOf({
      base: [quiet()],
      patched: [quiet({ unjudged: [{ rule: 'mapped-page-removed', unexercised: false }] })],
      failOn: 'error',
      thresholds: [],
    });
    const junit = diffToJunit(d);
    expect(junit).toMatch(/<testsuite [^>]* skipped="1">/);
    expect(junit).toContain(
      '<testcase classname="kreplay.diff" name="verdict: the patched side judged every rule">\n      <skipped message="no new finding at --fail-on error, but not judged on the patched side: mapped-page-removed: not a pass"/>',
    );
    // a rule neither side's traces exercised is not the patched side's shortfall
    const neither = diffOf({
      base: [quiet({ unjudged: [{ rule: 'mapped-page-removed', unexercised: true }] })],
      patched: [quiet({ unjudged: [{ rule: 'mapped-page-removed', unexercised: true }] })],
      failOn: 'error',
      thresholds: [],
    });
    expect(diffToJunit(neither)).not.toContain('skipped');
  });
  it('text: an uncertain finding is not said to have lost events nearby when none were lost', () => {
    // uncertain for another reason (tied timestamps, a per-CPU clock): the trace lost nothing
    const d = diffOf({
      base: [quiet()],
      patched: [quiet({ findings: [{ rule: 'orphan-page-mapped', file: '8:0/d', index: 1, certain: false }] })],
      failOn: 'error',
      thresholds: [],
    });
    expect(diffToText(d)).toContain('\n  NEW       error   orphan-page-mapped on 8:0/d index 1 (uncertain)\n');
  });

  it('report of runs without a diff: nothing found over holes or unjudged rules is not a clean run, nothing traced is inconclusive', () => {
    const said = (r: GenRun) => {
      const run = runFromReplay(replayOf(r), 'r.json');
      const m = { title: 't', runs: [{ label: 'r.json', run, classes: [] }] };
      return { text: reportToText(m).split('\n')[0], box: /<div class="verdict (\w+)">([^<]*)/.exec(reportToHtml(m))!.slice(1) };
    };
    expect(said(quiet())).toEqual({ text: 'kreplay: 0 findings in 0 races, 1 trace', box: ['good', '0 finding(s) in 1 trace(s)'] });
    // before: the same two lines as the clean run's, the box green
    const notClean = [
      'kreplay: 0 findings in 0 races, 1 trace, but 1 trace with holes or rules not judged: not a clean run',
      ['short', '0 finding(s) in 1 trace(s), but 1 trace(s) with holes or rules not judged: not a clean run'],
    ];
    for (const r of [quiet({ gaps: 1 }), quiet({ unusable: 2 }), quiet({ unjudged: [{ rule: 'mapped-page-removed', unexercised: false }] })])
      expect(said(r)).toEqual({ text: notClean[0], box: notClean[1] });
    // before: the text said nothing of a trace that saw nothing (the box already said INCONCLUSIVE)
    expect(said(quiet({ events: 0 })).text).toBe('kreplay: 0 findings in 0 races, 1 trace; 1 INCONCLUSIVE (nothing to judge)');
  });

  it('report --json: a diff says its verdict, not only that it is no regression', () => {
    // the patched side saw nothing: before, `diff` held `regression: false` and nothing else of it
    const d = diffOf({ base: [quiet()], patched: [quiet({ events: 0 })], failOn: 'error', thresholds: [] });
    const j = reportToJson({ title: 't', runs: [], diff: d }) as { diff: Record<string, unknown> };
    expect(j.diff).toMatchObject({ verdict: 'inconclusive', verdictSaid: 'INCONCLUSIVE', regression: false });
    expect(j.diff.inconclusive).toEqual([expect.stringMatching(/^the patched side has no run to compare/)]);
    const holes = reportToJson({ title: 't', runs: [], diff: diffOf({ base: [quiet()], patched: [quiet({ gaps: 2 })], failOn: 'error', thresholds: [] }) }) as {
      diff: Record<string, unknown>;
    };
    expect(holes.diff).toMatchObject({
      verdict: 'no-regression',
      verdictSaid: "no regression in what the traces show, but the patched side's traces have 2 gaps: not a pass",
    });
  });

  it('diff (session 33): a class raised on both sides under a key that names no page is no pass below --fail-on', () => {
    // the same key on both sides names no file: whether the patched finding is the base's cannot be told
    const unnamed: GenFinding = { rule: 'trace-inconsistent', index: 0, certain: true };
    const d = diffOf({ base: [quiet({ findings: [unnamed] })], patched: [quiet({ findings: [unnamed] })], failOn: 'error', thresholds: [] });
    expect(d.findings.maybeNew?.map((e) => e.key)).toEqual(['trace-inconsistent - 0']);
    // before: `no regression`, a pass, though the base finding is neither fixed nor shown still there —
    // as it is not a pass when the patched finding names its file (the base one is then `unjudged`)
    expect(
      diffToText(d)
        .split('\n')
        .find((l) => l.startsWith('no regression')),
    ).toBe(
      'no regression in what the traces show, but 1 base finding not judged on the patched side, whose traces never show its page or cannot name it (trace-inconsistent): not a pass (fail-on error)',
    );
    const named = diffOf({
      base: [quiet({ findings: [unnamed] })],
      patched: [quiet({ findings: [{ ...unnamed, file: '8:0/d' }] })],
      failOn: 'error',
      thresholds: [],
    });
    expect(named.findings.unjudged?.map((e) => e.key)).toEqual(['trace-inconsistent - 0']);
    expect(diffToText(named)).toContain('not a pass');
  });

  it('diff: the test file of one run is the same file in a run whose meta.json names none', () => {
    const seen: GenFinding = { rule: 'trace-inconsistent', file: '254:0/c', index: 0, certain: true };
    const d = diffOf({ base: [quiet({ testDev: '254:0', findings: [seen] })], patched: [quiet({ findings: [seen] })], failOn: 'error', thresholds: [] });
    // before: FIXED trace-inconsistent on the test file, and the same page NEW as 254:0/c
    expect(d.findings.fixed).toEqual([]);
    expect(d.findings.new).toEqual([]);
    expect(d.findings.unchanged.map((e) => e.key)).toEqual(['trace-inconsistent test-file 0']);
  });
});
