/** Small shared helpers of the output formats. */
import type { Finding, RuleId } from '@kreplay/core';
import type { FailOn } from '@kreplay/core';
import { escapedChar, LAYOUT_CONTROLS, onCpu } from '@kreplay/core';
import type { ReplayResult } from '@kreplay/replay';
import type { KcidbOptions } from './kernel-ci/kcidb.js';

export interface RenderOptions {
  /** Findings at or above this severity fail (JUnit failures; the CLI's exit code). */
  failOn?: FailOn;
  /** Include wall-clock figures (ms, events/s); without them the output is byte-identical run to run. */
  timing?: boolean;
  /** Text: append the replay statistics. */
  stats?: boolean;
  /** KCIDB: the CI system's name and where the files a test names are published. */
  kcidb?: KcidbOptions;
}

/** Nanoseconds as ftrace prints seconds: `100.000122` (µs) or `100.000122345` when ns matter. */
export function seconds(ns: bigint | undefined): string {
  if (ns === undefined) return '-';
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const s = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0');
  return `${neg ? '-' : ''}${s}.${frac.endsWith('000') ? frac.slice(0, 6) : frac}`;
}

export function task(f: { comm?: string; pid: number }): string {
  return f.comm ? `${f.comm}-${f.pid}` : `pid ${f.pid}`;
}

/** The task of the finding's own event (its first cited event with that pid). */
export function findingTask(f: Finding): string {
  const e = f.events.find((x) => x.pid === f.pid && x.ts === f.ts) ?? f.events.find((x) => x.pid === f.pid);
  return task({ comm: e?.comm, pid: f.pid });
}

/**
 * Where a finding happened, after its time: ` on CPU 1, fadvise-211`, or for a line that prints no
 * CPU `, fadvise-211 (no CPU printed)` — the task is what the trace names (the JSON's `cpu` is −1).
 */
export function findingWhere(f: Finding): string {
  return f.cpu >= 0 ? ` on CPU ${f.cpu}, ${findingTask(f)}` : `, ${findingTask(f)}${onCpu(f.cpu)}`;
}

/** The input line a finding is anchored at (its own event's line). */
export function findingLine(f: Finding): number | undefined {
  return (f.events.find((x) => x.pid === f.pid && x.ts === f.ts && x.cpu === f.cpu) ?? f.events[0])?.line;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * What a trace did not show, as `1 gap (500 events lost) and 2 unusable events` (`''` when nothing): lines read as gaps, events the ring buffer
 * lost, known events replay could not use. A rule that found nothing in such a trace may have
 * missed its finding in the hole, so it is not a pass (KCIDB DONE, KTAP SKIP, JUnit skipped), as an
 * explorer run that stopped early.
 */
export function traceHoles(gaps: number, lostEvents: number | undefined, unusableEvents: number): string {
  const holes = [
    ...(gaps ? [`${plural(gaps, 'gap')}${lostEvents ? ` (${lostEvents} events lost)` : ''}`] : []),
    ...(unusableEvents ? [plural(unusableEvents, 'unusable event')] : []),
  ];
  return holes.join(' and ');
}

/** Why a replay's rule with no finding at `failOn` is not a pass, rule by rule: not judged on this trace, or the trace has holes (undefined: it passes). */
export function replayNotPassed(r: ReplayResult, failOn: FailOn): (rule: RuleId) => string | undefined {
  const holes = r.verdict.status === 'inconclusive' ? '' : traceHoles(r.stats.gaps, r.stats.lostEvents, r.verdict.unusableEvents);
  const whole = holes ? `no finding at --fail-on ${failOn}, but the trace has ${holes}: not a pass` : undefined;
  return (rule) => {
    const why = r.verdict.status === 'inconclusive' ? [] : (r.verdict.unjudged ?? []).filter((u) => u.rule === rule).map((u) => u.reason);
    return why.length ? `not judged: ${why.join('; ')}` : whole;
  };
}

/**
 * The replay's verdict in words for a reader: `clean` only when the trace had no holes and every
 * rule was judged; a `clean` status over a trace with holes or unjudged rules says so instead (the
 * JSON's `verdict.status` stays `clean`, its contract; what people read must not).
 */
export function verdictSaid(r: ReplayResult): string {
  const v = r.verdict;
  if (v.status !== 'clean') return v.status;
  return cleanSaid(traceHoles(r.stats.gaps, r.stats.lostEvents, v.unusableEvents), v.unjudged ?? []);
}

/**
 * What keeps a replay that reached a verdict from passing the rules it found nothing for: the
 * trace's holes and the rules it could not judge, as `the trace has 1 gap (3 events lost); not
 * judged: stale-after-invalidate` (`''` when nothing, and for an inconclusive replay).
 */
export function replayShortfall(r: ReplayResult): string {
  if (r.verdict.status === 'inconclusive') return '';
  return shortfallParts(traceHoles(r.stats.gaps, r.stats.lostEvents, r.verdict.unusableEvents), r.verdict.unjudged ?? []).join('; ');
}

/** A run's holes and the rules it did not judge, one phrase each (`the trace has …`, `not judged: …`). */
function shortfallParts(holes: string, unjudgedRules: ReadonlyArray<{ rule: string }>): string[] {
  const unjudged = [...new Set(unjudgedRules.map((u) => u.rule))];
  return [...(holes ? [`the trace has ${holes}`] : []), ...(unjudged.length ? [`not judged: ${unjudged.join(', ')}`] : [])];
}

/**
 * `verdictSaid`, and for a replay with findings its holes and unjudged rules beside them: the
 * findings fail their rules, but a rule that found nothing there is not a pass either (the
 * formats without a status per rule — SARIF, GitHub annotations — say it here).
 */
export function replaySaid(r: ReplayResult): string {
  const short = r.verdict.status === 'findings' ? replayShortfall(r) : '';
  return short ? `findings; ${short}` : verdictSaid(r);
}

/** A run that found nothing and saw something: `clean`, or why it is not a clean run. */
function cleanSaid(holes: string, unjudgedRules: ReadonlyArray<{ rule: string }>): string {
  const unjudged = [...new Set(unjudgedRules.map((u) => u.rule))];
  if (!holes && unjudged.length === 0) return 'clean';
  return [
    ...(holes ? [`no findings in what the trace shows, but it has ${holes}: not a clean run`] : ['no findings']),
    ...(unjudged.length ? [`not judged: ${unjudged.join(', ')}`] : []),
  ].join('; ');
}

/**
 * One run of a report (a diff's side or a replay of its own) in words, as `verdictSaid` words a
 * replay: `inconclusive` with why; its findings, with the holes and unjudged rules beside
 * them (a rule not judged found nothing, whatever the others found); or `cleanSaid`.
 */
export function runVerdictSaid(r: {
  findings: readonly unknown[];
  stats: { gaps: number };
  unusableEvents?: number;
  unjudged?: ReadonlyArray<{ rule: string }>;
  inconclusive?: readonly string[];
}): string {
  if (r.inconclusive?.length) return `inconclusive: ${r.inconclusive.join('; ')}`;
  const holes = traceHoles(r.stats.gaps, undefined, r.unusableEvents ?? 0);
  if (!r.findings.length) return cleanSaid(holes, r.unjudged ?? []);
  return [plural(r.findings.length, 'finding'), ...shortfallParts(holes, r.unjudged ?? [])].join('; ');
}

/**
 * A report of runs without a diff: the runs that saw nothing (inconclusive), and those whose
 * traces have holes or rules replay could not judge (not a clean run when nothing was found).
 */
export function runsShortfall(
  runs: ReadonlyArray<{ stats: { gaps: number }; unusableEvents?: number; unjudged?: readonly unknown[]; inconclusive?: readonly string[] }>,
): {
  blind: number;
  unclean: number;
} {
  const blind = runs.filter((r) => r.inconclusive?.length).length;
  const unclean = runs.filter((r) => !r.inconclusive?.length && (r.stats.gaps > 0 || (r.unusableEvents ?? 0) > 0 || (r.unjudged?.length ?? 0) > 0)).length;
  return { blind, unclean };
}

/**
 * `runsShortfall` as the report's summary line words it, after the count of findings: the runs
 * that saw nothing, and — when nothing was found — those with holes or rules not judged (`''`
 * when neither): a report whose runs found nothing is not a clean run over those.
 */
export function runsShortfallSaid(runs: Parameters<typeof runsShortfall>[0], findings: number): string {
  const { blind, unclean } = runsShortfall(runs);
  return `${blind ? `; ${blind} INCONCLUSIVE (nothing to judge)` : ''}${unclean && !findings ? `, but ${plural(unclean, 'trace')} with holes or rules not judged: not a clean run` : ''}`;
}

/**
 * What a diff's patched side did not show, one phrase each (empty when nothing): holes in its
 * traces, and runs left out (a failed workload, nothing traced), which could have held the very
 * finding the other runs lack. Only the patched side counts: a base side's holes and left-out
 * runs can only make a finding look new, never hide one.
 */
interface PatchedSide {
  gaps: number;
  unusableEvents: number;
  /** A diff side's runs that counted and those that could not (SideInfo.runs, .inconclusiveRuns). */
  runs?: readonly unknown[];
  inconclusiveRuns?: readonly unknown[];
  /** The same as a count (a ci group's `patchedLeftOut`). */
  leftOut?: number;
}

function patchedHoles(p: PatchedSide): string[] {
  const holes = traceHoles(p.gaps, undefined, p.unusableEvents);
  // A side with no run left at all is inconclusive, said elsewhere: not a shortfall of a pass.
  const leftOut = p.leftOut ?? (p.runs?.length ? (p.inconclusiveRuns?.length ?? 0) : 0);
  return [
    ...(holes ? [`the patched side's traces have ${holes}`] : []),
    ...(leftOut ? [`${plural(leftOut, 'patched run')} left out (a failed workload or nothing traced)`] : []),
  ];
}

/**
 * Why `nothing` (no new finding, no regression) over a diff's patched side is not a pass: its
 * traces have holes, or runs of it were left out (undefined when neither).
 */
export function patchedNotPassed(patched: PatchedSide, nothing: string): string | undefined {
  const parts = patchedHoles(patched);
  return parts.length ? `${nothing}, but ${parts.join('; ')}: not a pass` : undefined;
}

/**
 * What keeps a diff's (or a ci group's) "no regression" from being a pass, for the sentences
 * people read: the patched side's holes, its runs left out and the rules its traces could not
 * judge (undefined when nothing does). As `patchedNotPassed`, only the patched side counts.
 */
export function patchedShortfall(p: PatchedSide & { unjudged?: Readonly<Record<string, string>> | readonly string[] }): string | undefined {
  const rules = p.unjudged === undefined ? [] : Array.isArray(p.unjudged) ? (p.unjudged as readonly string[]) : Object.keys(p.unjudged);
  const parts = [...patchedHoles(p), ...(rules.length ? [`not judged on the patched side: ${rules.join(', ')}`] : [])];
  return parts.length ? parts.join('; ') : undefined;
}

/**
 * Patched findings at --fail-on that may be new (the base side counted more findings of their
 * rules than its replay kept, one side's traces do not name their page, or the base side raised
 * them only uncertain): what keeps a diff without new findings from a pass, in its words
 * (`1 finding not judged new (the base side counted more mapped-page-removed findings than its
 * replay kept)`; undefined when none).
 */
export function notJudgedNewSaid(
  n: { findings: number; rules: readonly string[]; unnamed?: readonly string[]; uncertain?: readonly string[] } | undefined,
): string | undefined {
  if (!n?.findings) return undefined;
  const kept = n.rules.filter((r) => !n.unnamed?.includes(r) && !n.uncertain?.includes(r));
  const why = [
    ...(kept.length ? [`the base side counted more ${kept.join(', ')} findings than its replay kept`] : []),
    ...(n.unnamed?.length ? [`${n.unnamed.join(', ')} on a page one side's traces do not name`] : []),
    ...(n.uncertain?.length ? [`${n.uncertain.join(', ')} raised on the base side only uncertain`] : []),
  ];
  return `${plural(n.findings, 'finding')} not judged new (${why.join('; ')})`;
}

/**
 * Base findings whose page the patched traces never show, or that may be on a page one
 * side's traces do not name (`findings.unjudged` with a `reason`): neither fixed nor shown
 * still there, so no regression is not a pass; undefined when none.
 */
export function notJudgedFixedSaid(n: { findings: number; rules: readonly string[] } | undefined): string | undefined {
  if (!n?.findings) return undefined;
  return `${plural(n.findings, 'base finding')} not judged on the patched side, whose traces never show its page or cannot name it (${n.rules.join(', ')})`;
}

/**
 * `patchedShortfall` of a `kreplay ci` group (summary.json's per-group counts), the findings
 * at --fail-on not judged new, and the `--max-regression` thresholds its diff could not
 * compare: the group's summary test has no
 * threshold subtests to show them (its diff.ktap does), so they are said here.
 */
export function groupShortfall(g: {
  gaps?: { patched: number };
  unusableEvents?: { patched: number };
  unjudged?: readonly string[];
  patchedLeftOut?: number;
  notJudgedNew?: { findings: number; rules: readonly string[]; unnamed?: readonly string[]; uncertain?: readonly string[] };
  notJudgedFixed?: { findings: number; rules: readonly string[] };
  thresholdsNotJudged?: readonly string[];
}): string | undefined {
  const parts = [
    patchedShortfall({ gaps: g.gaps?.patched ?? 0, unusableEvents: g.unusableEvents?.patched ?? 0, unjudged: g.unjudged, leftOut: g.patchedLeftOut ?? 0 }),
    notJudgedNewSaid(g.notJudgedNew),
    notJudgedFixedSaid(g.notJudgedFixed),
    ...(g.thresholdsNotJudged?.length ? [`threshold(s) not judged: ${g.thresholdsNotJudged.join(', ')}`] : []),
  ].filter((p): p is string => p !== undefined);
  return parts.length ? parts.join('; ') : undefined;
}

const XML_UNSAFE = new RegExp(`[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f${LAYOUT_CONTROLS}]`, 'g');

export function escapeXml(s: string): string {
  return (
    s
      .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
      // characters XML 1.0 cannot carry at all, and DEL, the C1 controls and the layout
      // controls, which it may but a terminal or viewer showing the file acts on (U+009B is CSI)
      .replace(XML_UNSAFE, escapedChar)
  );
}
