/** Number formatting shared by the diff formats (fixed precision so output is byte-stable). */
import type { DiffResult, FindingEntry } from '@kreplay/diff';
import { reachesFailOn } from '@kreplay/core';
import { notJudgedFixedSaid, notJudgedNewSaid, patchedShortfall, traceHoles } from './util.js';

/**
 * The diff's verdict in words, as every format prints it. `shortfall` (util.ts
 * `patchedShortfall`): why no regression is still not a pass — then it says so, never a bare
 * "no regression".
 */
export function verdictWord(d: Pick<DiffResult, 'verdict'>, shortfall?: string): string {
  if (d.verdict === 'inconclusive') return 'INCONCLUSIVE';
  if (d.verdict === 'regression') return 'REGRESSION';
  return shortfall ? `no regression in what the traces show, but ${shortfall}: not a pass` : 'no regression';
}

/** What a diff judges against: its findings, thresholds, patched side's holes and the base side's findings not kept. */
type Judged = Pick<DiffResult, 'patched' | 'thresholds' | 'findings' | 'failOn'>;

/**
 * Patched findings at --fail-on that may be new (`findings.maybeNew`) and their rules (undefined
 * when none): were they new, the diff would be a regression, so it is not a pass. `unnamed`: the
 * rules of those not judged new because a page one side's traces do not name may be theirs
 * (absent when none); the others' base side did not keep every finding of their rule.
 */
export function notJudgedNew(
  d: Pick<DiffResult, 'findings' | 'failOn'>,
): { findings: number; rules: string[]; unnamed?: string[]; uncertain?: string[] } | undefined {
  const at = (d.findings.maybeNew ?? []).filter((e) => reachesFailOn(e.severity, d.failOn));
  const rulesOf = (es: FindingEntry[]) => [...new Set(es.map((e) => e.rule))];
  const unnamed = rulesOf(at.filter((e) => e.reason !== undefined && !uncertainOnBase(e)));
  const uncertain = rulesOf(at.filter(uncertainOnBase));
  return at.length
    ? { findings: at.length, rules: rulesOf(at), ...(unnamed.length ? { unnamed } : {}), ...(uncertain.length ? { uncertain } : {}) }
    : undefined;
}

const namesPage = (e: Pick<FindingEntry, 'file' | 'index'>) => e.file !== undefined && e.index !== undefined;

/**
 * A class both sides raised under one key that names no page (a `findings.maybeNew` entry with occurrences on both
 * sides; diff.ts `matchFindings`): whether the patched finding is the base's cannot be told,
 * so neither is it judged new nor the base's finding judged fixed or still there.
 */
export const raisedOnBothSides = (e: Pick<FindingEntry, 'base' | 'patched' | 'file' | 'index'>): boolean => e.base > 0 && e.patched > 0 && !namesPage(e);

/**
 * A class both sides raised on a page they name, whose every base occurrence is uncertain (a
 * `findings.maybeNew` entry; diff.ts `matchFindings`): the base may never have had it, so it is
 * not judged new — nor unchanged. The patched side has it, so its base finding is not in question.
 */
export const uncertainOnBase = (e: Pick<FindingEntry, 'base' | 'patched' | 'file' | 'index'>): boolean => e.base > 0 && e.patched > 0 && namesPage(e);

/**
 * Base findings the diff could not judge on the patched side and that nothing else keeps from a
 * pass: `findings.unjudged` with a `reason` (its page never shown there, or a patched finding may
 * be on it), and classes raised on both sides under a key that names no page below --fail-on (at
 * it, `notJudgedNew` already holds them).
 */
export function notJudgedFixedEntries(d: Pick<DiffResult, 'findings' | 'failOn'>): FindingEntry[] {
  return [
    ...(d.findings.unjudged ?? []).filter((e) => e.reason !== undefined),
    ...(d.findings.maybeNew ?? []).filter((e) => raisedOnBothSides(e) && !reachesFailOn(e.severity, d.failOn)),
  ];
}

/** Why a `notJudgedFixedEntries` entry is not fixed, as the base side's finding. */
export function notFixedWhy(e: Pick<FindingEntry, 'rule' | 'file' | 'index' | 'base' | 'patched' | 'reason'>): string | undefined {
  return raisedOnBothSides(e) ? `not fixed: the patched side raised ${e.rule}${where(e)} too, on a page that may or may not be this one` : e.reason;
}

/**
 * Base findings the diff said itself it could not judge on the patched side (`notJudgedFixedEntries`)
 * and their rules (undefined when none): the patched side may still have them, so no regression is
 * not a pass — whatever their severity, as for a rule the patched side could not judge (JUnit lists
 * every one as skipped).
 */
export function notJudgedFixed(d: Pick<DiffResult, 'findings' | 'failOn'>): { findings: number; rules: string[] } | undefined {
  const at = notJudgedFixedEntries(d);
  return at.length ? { findings: at.length, rules: [...new Set(at.map((e) => e.rule))] } : undefined;
}

/**
 * Why a diff's "no regression" is not a pass (undefined when nothing keeps it from one): its
 * patched side's holes, runs left out and unjudged rules, findings at --fail-on not judged new,
 * and thresholds it could not compare.
 */
export function diffShortfall(d: Judged): string | undefined {
  const notJudged = d.thresholds.filter((t) => !t.judged && !t.exceeded).map((t) => t.metric);
  const parts = [
    patchedShortfall(d.patched),
    notJudgedNewSaid(notJudgedNew(d)),
    notJudgedFixedSaid(notJudgedFixed(d)),
    ...(notJudged.length ? [`threshold(s) not judged: ${notJudged.join(', ')}`] : []),
  ].filter((p) => p !== undefined);
  return parts.length ? parts.join('; ') : undefined;
}

/** A diff's verdict in words, its patched side's holes, unjudged rules, findings not judged new and thresholds it could not compare said. */
export function diffVerdictSaid(d: Judged & Pick<DiffResult, 'verdict'>): string {
  return verdictWord(d, diffShortfall(d));
}

/**
 * Why a patched finding absent from the base side is not new: a base run counted more findings of
 * its rule than its replay kept, and it may be among those.
 */
export function maybeNewWhy(d: Pick<DiffResult, 'base'>, e: Pick<FindingEntry, 'rule' | 'reason'>): string {
  if (e.reason !== undefined) return e.reason;
  const why = d.base.notKept?.[e.rule];
  return `not judged new: the base side may have had it among the ${e.rule} findings its replay counted and did not keep${why ? ` (${why})` : ''}`;
}

/** ` (certain)` / ` (uncertain)`: a finding's certainty as the formats name it after its page. */
export function certaintySaid(e: Pick<FindingEntry, 'certainty'>): string {
  return ` (${e.certainty})`;
}

/**
 * Why a base finding absent from the patched side is not fixed: the patched side could not judge
 * its rule, or its traces have holes the events that raise it may have fallen into — or what the
 * diff said of the entry itself (`reason`: the patched traces never show its page, its page is
 * not named).
 */
export function unjudgedWhy(d: Pick<DiffResult, 'patched'>, e: Pick<FindingEntry, 'rule' | 'reason'>): string {
  if (e.reason !== undefined) return e.reason;
  if (d.patched.runs.length === 0) return 'not fixed: the patched side has no run to compare';
  const why = d.patched.unjudged?.[e.rule];
  const holes = traceHoles(d.patched.gaps, undefined, d.patched.unusableEvents);
  const judge = `the patched side could not judge ${e.rule}${why ? ` (${why})` : ''}`;
  if (!holes) return `not fixed: ${judge}`;
  return `not fixed: ${why ? `${judge}; ` : ''}not seen in patched, whose traces have ${holes}`;
}

/**
 * Whether a fixed or new entry's absence from the other side could be chance (too few runs to
 * tell: `FindingEntry.chance`): a fixed one is then not shown fixed, a new one not shown to be the
 * patch's (the base may have it too, unseen).
 */
export function byChance(e: Pick<FindingEntry, 'chance'>): boolean {
  return e.chance !== undefined && !e.chance.significant;
}

/** A p-value as the formats print it: two significant digits, exponent below 0.001 (byte-stable). */
function fmtP(p: number): string {
  return p >= 0.001 ? p.toPrecision(2) : p.toExponential(1);
}

/**
 * Why a fixed entry is fixed, in words: the runs that could have shown it and did not, against
 * the base runs that did (and in how many of them it was certain, when not in all), and whether
 * that could be chance (Fisher's exact test on runs, counting the certain ones).
 */
export function chanceSaid(e: Pick<FindingEntry, 'chance' | 'baseRuns'>): string {
  const c = e.chance;
  if (!c) return 'not seen in patched';
  const certain =
    c.certainBaseRuns === undefined
      ? ''
      : ` (certain in ${c.certainBaseRuns === 0 ? 'none' : c.certainBaseRuns} of them: an uncertain finding may never have happened)`;
  const runs = `not seen in the ${c.patchedRuns} patched run${c.patchedRuns === 1 ? '' : 's'} that could show it, against ${e.baseRuns} of ${c.baseRuns} base run${c.baseRuns === 1 ? '' : 's'}${certain}`;
  return c.significant
    ? `${runs} (p = ${fmtP(c.p)}, Fisher's exact test on runs)`
    : `${runs}: that could be chance (p = ${fmtP(c.p)}, Fisher's exact test on runs; p < 0.01 needs more runs a side), so not shown fixed`;
}

/**
 * What a new entry's chance says, in words: the patched runs it was seen in, against the base runs
 * that could have shown it and did not, and whether the base may have it too, unseen (Fisher's exact
 * test on runs) — or that no base run could have shown it, and why.
 */
export function newChanceSaid(e: Pick<FindingEntry, 'chance' | 'patchedRuns'>): string {
  const c = e.chance;
  if (!c) return `seen in ${e.patchedRuns} patched run${e.patchedRuns === 1 ? '' : 's'}`;
  const seen = `seen in ${e.patchedRuns} of ${c.patchedRuns} patched run${c.patchedRuns === 1 ? '' : 's'}`;
  if (c.baseRuns === 0)
    return `${seen}, but no base run could have shown it (${c.unseen ?? 'none judged its rule on its page'}): whether the patch introduced it cannot be told`;
  const runs = `${seen}, not in the ${c.baseRuns} base run${c.baseRuns === 1 ? '' : 's'} that could show it`;
  return c.significant
    ? `${runs} (p = ${fmtP(c.p)}, Fisher's exact test on runs)`
    : `${runs}: the base may have it too, unseen (p = ${fmtP(c.p)}, Fisher's exact test on runs; p < 0.01 needs more runs a side), so not shown to be the patch's`;
}

/** `FIXED`, or `FIXED?` when the patched side's silence could be chance. */
export function fixedTag(e: Pick<FindingEntry, 'chance'>): string {
  return byChance(e) ? 'FIXED?' : 'FIXED';
}

export function pad(s: string, width: number, right = false): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

export function fmtRate(perSec: number | null): string {
  return perSec === null ? '' : `(${perSec < 10 ? perSec.toFixed(2) : perSec.toFixed(0)}/s)`;
}

/** Percent change; `new` when the base was 0 and the patched side is not. */
export function fmtChange(pct: number | null, base = 0, patched = 0): string {
  if (pct === null) return patched > base ? 'new' : 'n/a';
  // Beyond +1000 % a factor reads better than a percentage.
  if (pct >= 1000) return `×${(1 + pct / 100).toFixed(0)}`;
  const s = pct.toFixed(1);
  return `${pct > 0 ? '+' : ''}${s === '-0.0' ? '0.0' : s}%`;
}

/** ` on 8:0/c index 3` for a finding class with page-cache identity. */
export function where(e: Pick<FindingEntry, 'file' | 'index'>): string {
  return `${e.file !== undefined ? ` on ${e.file}` : ''}${e.index !== undefined ? ` index ${e.index}` : ''}`;
}
