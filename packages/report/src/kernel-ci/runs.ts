/**
 * Each result kreplay produces as the kernel-CI test tree (tests.ts): a replay, a diff, an
 * explorer run and a `kreplay ci` run. Pure functions of the result; nothing is recomputed.
 */
import { cpuName, metaWorkloadName, reachesFailOn, type FailOn, type Finding, type RuleId } from '@kreplay/core';
import { riseSaid, risenAtFailOn, type DiffResult, type FindingEntry } from '@kreplay/diff';
import type { ReplayResult } from '@kreplay/replay';
import { byChance, chanceSaid, diffVerdictSaid, maybeNewWhy, newChanceSaid, notFixedWhy, notJudgedFixedEntries } from '../diff-fmt.js';
import { findingCounts, findingCountsSaid, type FindingCounts } from '../finding-counts.js';
import { REPLAY_RULES } from '../junit.js';
import { findingWhere, groupShortfall, patchedNotPassed, plural, replayNotPassed, seconds, verdictSaid } from '../util.js';
import { lines, segment, testName, type TestNode, type TestRun } from './tests.js';
import { clockText } from '../text.js';
import { ciGroupCountsSaid, kernelFailureWords, type KernelFailures } from '../kernel-failed.js';

/** A finding as diagnostic lines: what, where, who, why, and the trace lines it rests on. */
function findingLines(f: Finding, prefix = ''): string[] {
  const page = f.file !== undefined ? `, page ${f.file}${f.index !== undefined ? ` index ${f.index}` : ''}` : '';
  return [
    `${prefix}${f.severity} ${f.rule} (${f.certainty}) at ${seconds(f.ts)}${findingWhere(f)}${page}: ${f.message}`,
    ...lines(f.explanation).map((l) => `  ${l}`),
    ...f.events.map((e) =>
      e.text !== undefined
        ? `  cited ${e.source}:${e.line} ${e.text.trim()}`
        : `  cited ${e.source}:${e.line} ${seconds(e.ts)} ${cpuName(e.cpu)} ${e.comm}-${e.pid} ${e.summary}`,
    ),
  ];
}

/** The rules a result's findings name, the replay rules first (each a subtest even without findings). */
function rulesOf(found: Iterable<RuleId>): RuleId[] {
  const extra = [...new Set(found)].filter((r) => !REPLAY_RULES.includes(r)).sort();
  return [...REPLAY_RULES, ...extra];
}

export interface ReplayTestOptions {
  failOn?: FailOn;
}

/**
 * A replay: one test for the traced kernel × the workload (or explorer scenario), one
 * subtest per replay rule — not ok when a finding of that rule reaches --fail-on.
 * A trace in which nothing was replayed as a page-cache operation is never a pass: it is
 * MISS (KTAP: SKIP) without subtests, because no rule was exercised.
 */
export function replayTests(r: ReplayResult, opts: ReplayTestOptions = {}): TestRun {
  const failOn = opts.failOn ?? 'error';
  const kernel = r.trace.release ?? r.trace.kernel;
  const scenario = typeof r.trace.header['scenario'] === 'string' ? r.trace.header['scenario'] : undefined;
  const workload = metaWorkloadName(r.meta) ?? scenario ?? 'trace';
  const s = r.stats;
  const diagnostics = [
    `trace ${r.trace.source}: ${plural(s.events, 'event')}, ${s.ops} replayed as page-cache operations, ${plural(s.gaps, 'gap')}${s.lostEvents ? ` (${s.lostEvents} events lost)` : ''}`,
    `adapter ${r.trace.kernel} (${r.trace.kernelReason})`,
    `trace clock: ${clockText(r.trace)}`,
    `verdict ${verdictSaid(r)}: ${r.verdict.certain} certain, ${r.verdict.uncertain} uncertain, ${plural(r.verdict.unusableEvents, 'unusable event')}, ${plural(r.verdict.tiedGroups, 'tied timestamp group')}`,
    ...r.verdict.inconclusive.map((w) => `inconclusive: ${w}`),
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  const files = r.trace.source === '-' ? [] : [r.trace.source];
  const top: TestNode = { name: testName(kernel, workload), diagnostics, files };
  if (s.ops === 0) {
    top.status = 'MISS';
    top.reason = `nothing replayed: ${plural(s.events, 'event')}, none a page-cache operation the adapter knows`;
  } else {
    // a rule not judged on this trace, or that found nothing in a trace with holes: DONE, not PASS
    const notPassed = replayNotPassed(r, failOn);
    top.children = rulesOf(r.findings.map((f) => f.rule)).map((rule) => {
      const mine = r.findings.filter((f) => f.rule === rule);
      const failed = mine.some((f) => reachesFailOn(f.severity, failOn));
      const why = failed ? undefined : notPassed(rule);
      return {
        name: rule,
        status: failed ? 'FAIL' : why ? 'DONE' : 'PASS',
        ...(why ? { reason: why } : {}),
        diagnostics: mine.flatMap((f) => findingLines(f)),
      } satisfies TestNode;
    });
    if (top.children.every((k) => k.status === 'DONE')) top.reason = top.children[0]!.reason;
  }
  return {
    tool: 'kreplay replay',
    key: `replay\0${r.trace.source}`,
    header: [`kreplay replay ${r.trace.source}: fail on ${failOn}`],
    builds: [{ key: `traced\0${kernel}`, label: kernel, role: 'traced' }],
    tests: [{ ...top, build: 0 }],
  };
}

/** `why`: what the diff said of this entry itself (`FindingEntry.reason`), a line of its own. */
function entryLines(state: string, e: FindingEntry, why?: string): string[] {
  return [
    `${state === 'fixed' && byChance(e) ? 'fixed?' : state}: ${e.rule}${e.file !== undefined ? ` page ${e.file}${e.index !== undefined ? ` index ${e.index}` : ''}` : e.index !== undefined ? ` index ${e.index}` : ''} (base ${e.base} in ${e.baseRuns} runs, patched ${e.patched} in ${e.patchedRuns} runs)`,
    ...(state === 'fixed'
      ? [`  ${chanceSaid(e)}`]
      : state === 'new'
        ? [`  ${newChanceSaid(e)}`]
        : state === 'unchanged' && e.rise?.significant
          ? [`  more often in patched: ${riseSaid(e)}`]
          : []),
    ...(why !== undefined ? [`  ${why}`] : []),
    ...findingLines(e.example, '  ').map((l) => `  ${l}`),
  ];
}

/** A metric value as a reader wants it: at most 3 decimals. */
const num = (n: number | null): string => (n === null ? 'n/a' : String(Number(n.toFixed(3))));

export interface DiffTestOptions {
  /** The workload (or group) the diff is about; default `diff`. */
  workload?: string;
  /** Files the test's output is in, the first its log (default: the patched side's runs). */
  files?: readonly string[];
}

/**
 * A diff: one test on the patched kernel for the workload, one subtest per rule (not ok
 * when a finding of it is new in patched, or shows in significantly more patched runs than base
 * runs, and reaches --fail-on) and one per threshold (not
 * ok when exceeded). New, fixed and unchanged findings are the rules' diagnostics. An
 * inconclusive diff is MISS, the test and every subtest.
 */
export function diffTests(d: DiffResult, opts: DiffTestOptions = {}): TestRun {
  const all = [...d.findings.new, ...d.findings.fixed, ...d.findings.unchanged, ...(d.findings.unjudged ?? []), ...(d.findings.maybeNew ?? [])];
  const holes = patchedNotPassed(d.patched, `no new finding at --fail-on ${d.failOn}`);
  const children: TestNode[] = rulesOf(all.map((e) => e.rule)).map((rule) => {
    const is = (e: FindingEntry) => e.rule === rule;
    // new at --fail-on, or the base's race made likelier by the patch (a significant rise): the regression's reasons
    const failing = [
      ...d.findings.new.filter((e) => reachesFailOn(e.severity, d.failOn)),
      ...d.findings.unchanged.filter((e) => risenAtFailOn(e, d.failOn)),
    ].filter(is);
    const unjudged = d.patched.unjudged?.[rule];
    // a finding at --fail-on the base side may have had among those it did not keep: were it new, this rule would fail
    const maybeNew = (d.findings.maybeNew ?? []).filter((e) => is(e) && reachesFailOn(e.severity, d.failOn));
    const notNew = maybeNew.length ? `${plural(maybeNew.length, 'finding')} ${[...new Set(maybeNew.map((e) => maybeNewWhy(d, e)))].join('; ')}` : undefined;
    // a base finding whose page the patched traces never show (or do not name): it may still be there
    const unseen = notJudgedFixedEntries(d).filter(is);
    const notFixed = unseen.length ? `${plural(unseen.length, 'base finding')} ${[...new Set(unseen.map(notFixedWhy))].join('; ')}` : undefined;
    const notJudged = [...(unjudged ? [`not judged on the patched side: ${unjudged}`] : []), ...(notNew ? [notNew] : []), ...(notFixed ? [notFixed] : [])].join(
      '; ',
    );
    const why = failing.length > 0 ? undefined : notJudged || holes;
    return {
      name: rule,
      status: failing.length > 0 ? 'FAIL' : why ? 'DONE' : 'PASS',
      ...(why ? { reason: why } : {}),
      diagnostics: [
        ...d.findings.new.filter(is).flatMap((e) => entryLines('new', e)),
        ...(d.findings.maybeNew ?? []).filter(is).flatMap((e) => entryLines('not judged new', e, e.reason)),
        ...d.findings.fixed.filter(is).flatMap((e) => entryLines('fixed', e)),
        ...d.findings.unchanged.filter(is).flatMap((e) => entryLines('unchanged', e)),
        ...(d.findings.unjudged ?? []).filter(is).flatMap((e) => entryLines('not judged on patched', e, e.reason)),
      ],
    };
  });
  for (const t of d.thresholds) {
    children.push({
      name: `threshold-${segment(t.metric)}`,
      // a metric nothing could compare (no samples or counter, too few samples) is measured, not held
      status: t.exceeded ? 'FAIL' : t.judged === false ? 'DONE' : 'PASS',
      ...(!t.exceeded && t.judged === false ? { reason: `not judged: ${t.note.replace(/^not judged: /, '')}` } : {}),
      diagnostics: [
        `${t.metric}: ${num(t.base)} -> ${num(t.patched)}${t.changePct !== null ? ` (${t.changePct >= 0 ? '+' : ''}${t.changePct.toFixed(1)}%)` : ''}, at most +${t.maxPct}%; ${t.note}`,
      ],
    });
  }
  const workload = opts.workload ?? 'diff';
  const side = (s: DiffResult['base']) =>
    `${s.label}: ${plural(s.runs.length, 'run')}, ${plural(s.events, 'event')}, ${s.ops} operations, ${plural(s.gaps, 'gap')}`;
  const top: TestNode = {
    name: testName(workload),
    diagnostics: [
      `base ${side(d.base)}`,
      `patched ${side(d.patched)}`,
      `findings: ${findingCountsSaid(findingCounts(d))}`,
      ...d.reasons.map((r) => `regression: ${r}`),
      ...d.warnings.map((w) => `warning: ${w}`),
    ],
    children,
    files: [...(opts.files ?? d.patched.runs)],
  };
  if (holes && d.verdict !== 'inconclusive' && !children.some((k) => k.status === 'FAIL')) top.reason = holes;
  if (d.verdict === 'inconclusive') {
    // no verdict is never a pass (as replay's MISS when nothing was replayed): not the
    // test, and not a rule or threshold of it, which nothing judged either
    top.status = 'MISS';
    top.reason = `inconclusive: ${d.inconclusive.join('; ')}`;
    for (const k of children) Object.assign(k, { status: 'MISS', reason: top.reason });
  }
  return {
    tool: 'kreplay diff',
    key: `diff\0${d.base.runs.join('\0')}\0${d.patched.runs.join('\0')}`,
    header: [`kreplay diff: ${d.base.label} vs ${d.patched.label}: ${diffVerdictSaid(d)} (fail on ${d.failOn})`],
    builds: [
      { key: `base\0${d.base.label}`, label: d.base.label, role: 'base' },
      { key: `patched\0${d.patched.label}`, label: d.patched.label, role: 'patched' },
    ],
    tests: [{ ...top, build: 1 }],
  };
}

/** What the kernel-CI formats read of an explorer run (`exploreJson`'s output has it). */
export interface ExploreSummary {
  verdict: 'violation' | 'clean' | 'incomplete';
  scenario: string;
  flavor: string;
  strategy: string;
  incomplete: readonly string[];
  violations: ReadonlyArray<{ rule: RuleId; message: string; schedule: readonly number[]; cycle?: readonly number[] }>;
  threads: ReadonlyArray<{ id: number; name: string; program: string }>;
  /** Interleavings of the kernel's code the model does not produce (the machine's `notSearched`): diagnostics beside any verdict. */
  notSearched?: readonly string[];
  stats: { executions: number; states: number; distinctStates: number };
  /**
   * What tells this run of the test from another on the same flavor and scenario — the model's
   * digest, the shard, the seed, the bounds — as a stable string: part of the KCIDB ids, which
   * KCIDB requires to name one test run (the shards of one search are n runs, not one).
   */
  run?: string;
}

/**
 * An explorer run: one test for the flavor × scenario, without subtests (the invariants
 * checked are the model's, not a fixed list). violation: FAIL with each violation and its
 * schedule as diagnostics; clean (every interleaving explored): PASS; incomplete: DONE
 * (KTAP: SKIP) — the search ran and found nothing, but did not cover every interleaving,
 * so it says nothing about the code.
 */
export function exploreTests(x: ExploreSummary): TestRun {
  const name = (id: number) => x.threads.find((t) => t.id === id)?.name ?? `T${id}`;
  const top: TestNode = {
    name: testName(x.flavor, x.scenario),
    diagnostics: [
      `${x.strategy} search: ${x.stats.executions} executions, ${x.stats.states} states (${x.stats.distinctStates} distinct)`,
      ...(x.notSearched ?? []).map((n) => `not in the model: ${n}`),
      ...x.violations.flatMap((v) => [
        `${v.rule}: ${v.message}`,
        `  schedule (${v.schedule.length} steps): ${v.schedule.map(name).join(' ')}${v.cycle ? ` then forever ${v.cycle.map(name).join(' ')}` : ''}`,
      ]),
    ],
    status: x.verdict === 'violation' ? 'FAIL' : x.verdict === 'clean' ? 'PASS' : 'DONE',
    ...(x.verdict === 'incomplete' ? { reason: `incomplete (${x.incomplete.join(', ')}): no violation found in the interleavings explored` } : {}),
  };
  return {
    tool: 'kreplay explore',
    key: `explore\0${x.flavor}\0${x.scenario}\0${x.strategy}${x.run !== undefined ? `\0${x.run}` : ''}`,
    header: [`kreplay explore ${x.scenario} on ${x.flavor}: ${x.verdict}`],
    builds: [{ key: `model\0${x.flavor}`, label: x.flavor, role: 'model' }],
    tests: [{ ...top, build: 0 }],
  };
}

/** What the kernel-CI formats read of a `kreplay ci` run (@kreplay/pipeline's CiResult). */
export interface CiSummary {
  base: string;
  patched: string;
  groups: ReadonlyArray<{
    name: string;
    verdict?: string;
    regression: boolean;
    reasons: readonly string[];
    inconclusive?: readonly string[];
    /** The patched side's holes: no regression over traces with gaps or unusable events is DONE, not PASS. */
    gaps?: { patched: number };
    unusableEvents?: { patched: number };
    /** Rules the patched side's traces could not judge: no regression then is DONE too. */
    unjudged?: readonly string[];
    /** `--max-regression` thresholds the diff could not compare: no regression then is DONE too. */
    thresholdsNotJudged?: readonly string[];
    /** Its diff's finding counts (summary.json's). */
    findings: FindingCounts;
    /** The sides whose kernel failed the workload's capture (absent when none): nothing was compared. */
    kernelFailed?: KernelFailures;
    /** Relative to the output folder. */
    files: readonly string[];
  }>;
}

/**
 * A `kreplay ci` run: one test per workload on the patched kernel, FAIL on a regression,
 * with the reasons as diagnostics and the group's reports as its files (the text diff as
 * `log_url`). The group's own diff.ktap / diff.kcidb.json hold the per-rule subtests.
 * A workload whose capture a kernel failed (session 42): the patched kernel alone, FAIL (its
 * regression); the base kernel, ERROR (the test could not be run: no verdict on the patch, which
 * KCIDB's MISS, "not run", would hide) — either with the kernel's words as diagnostics and
 * kernel-failure.txt as `log_url`.
 */
export function ciTests(c: CiSummary): TestRun {
  const first = (f: string) => f.endsWith('diff.txt') || f.endsWith('kernel-failure.txt');
  const order = (files: readonly string[]) => [...files].sort((a, b) => Number(!first(a)) - Number(!first(b)) || (a < b ? -1 : a > b ? 1 : 0));
  return {
    tool: 'kreplay ci',
    key: `ci\0${c.base}\0${c.patched}`,
    header: [`kreplay ci: ${c.base} vs ${c.patched}`],
    builds: [
      { key: `base\0${c.base}`, label: c.base, role: 'base' },
      { key: `patched\0${c.patched}`, label: c.patched, role: 'patched' },
    ],
    tests: c.groups.map((g) => {
      const shortfall = groupShortfall(g);
      const holes = shortfall && `no regression, but ${shortfall}: not a pass`;
      const status = g.regression ? 'FAIL' : g.kernelFailed?.base ? 'ERROR' : g.verdict === 'inconclusive' ? 'MISS' : holes ? 'DONE' : 'PASS';
      const reason =
        status === 'ERROR'
          ? 'the base kernel failed the workload: no verdict on the patch'
          : status === 'MISS'
            ? `inconclusive: ${(g.inconclusive ?? []).join('; ')}`
            : status === 'DONE'
              ? holes
              : undefined;
      return {
        build: 1,
        name: testName(g.name),
        status,
        ...(reason ? { reason } : {}),
        diagnostics: [
          `findings: ${ciGroupCountsSaid(g)}`,
          ...g.reasons.map((r) => `regression: ${r}`),
          ...(g.inconclusive ?? []).map((r) => `inconclusive: ${r}`),
          ...(g.kernelFailed ? kernelFailureWords(g.kernelFailed) : []),
        ],
        files: order(g.files),
      } satisfies TestNode & { build: number };
    }),
  };
}
