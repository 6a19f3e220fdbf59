/**
 * A diff's finding counts: the numbers (`findingCounts`, what summary.json and the report JSON
 * record) and the one sentence every place that says them uses (`findingCountsSaid`): the text's
 * `Findings:` line, the GitHub notice, the HTML verdict, the report's mail line, `diff --out`'s
 * stderr line, `kreplay ci`'s progress line, summary.txt and its KTAP/KCIDB diagnostics.
 * Its words are the `Findings:` line's (docs/diff.md, "Findings: new, fixed, unchanged"):
 * `1 new (1 of them on too few runs to tell from chance), 2 fixed, 0 unchanged, 1 not judged on
 * the patched side, 1 not judged new`. Said from numbers, so ci merge's summaries (read back from
 * summary.json) say it as the run that wrote them did.
 */
import { risenAtFailOn, type DiffResult } from '@kreplay/diff';
import { byChance } from './diff-fmt.js';

/**
 * A diff's finding classes by state. `newByChance` / `fixedByChance`: new / fixed ones whose
 * absence from the other side could be chance (diff-fmt.ts `byChance`); `unjudged`: base findings
 * not judged on the patched side (`findings.unjudged`); `maybeNew`: patched findings not judged new
 * (`findings.maybeNew`); `risen`: unchanged ones the patch made significantly likelier at --fail-on
 * (`risenAtFailOn`: a regression though none is new; since session 42); each absent when none. Base findings the patched side could not judge are
 * neither fixed nor gone, and patched findings not judged new neither new nor unchanged, so they are
 * counted beside the others, never folded into them. The keys in this order: summary.json's bytes.
 */
export interface FindingCounts {
  new: number;
  newByChance?: number;
  fixed: number;
  fixedByChance?: number;
  unchanged: number;
  risen?: number;
  unjudged?: number;
  maybeNew?: number;
}

/** The counts of a diff result (the one count of each: ci's summary.json, the report JSON and every sentence read them). */
export function findingCounts(d: Pick<DiffResult, 'findings' | 'failOn'>): FindingCounts {
  const f = d.findings;
  const newByChance = f.new.filter(byChance).length;
  const fixedByChance = f.fixed.filter(byChance).length;
  const risen = f.unchanged.filter((e) => risenAtFailOn(e, d.failOn)).length;
  return {
    new: f.new.length,
    ...(newByChance ? { newByChance } : {}),
    fixed: f.fixed.length,
    ...(fixedByChance ? { fixedByChance } : {}),
    unchanged: f.unchanged.length,
    ...(risen ? { risen } : {}),
    ...(f.unjudged?.length ? { unjudged: f.unjudged.length } : {}),
    ...(f.maybeNew?.length ? { maybeNew: f.maybeNew.length } : {}),
  };
}

/** The states the sentence names, in its order. */
export type CountedState = 'new' | 'fixed' | 'unchanged' | 'unjudged' | 'maybeNew';

/**
 * `1 new (1 of them on too few runs to tell from chance), 2 fixed, 0 unchanged, 1 not judged on the
 * patched side, 1 not judged new`: new, fixed and unchanged always, the two not-judged kinds when
 * there are any; `1 unchanged (1 of them significantly more often in the patched runs)` when the
 * patch made one likelier at --fail-on (a regression with 0 new: the sentence says why). `more`: words to put in a state's parentheses, before its chance part (the
 * report's races: `1 new (seen 2 times; 1 of them …)`).
 */
export function findingCountsSaid(c: FindingCounts, more: Partial<Record<CountedState, string>> = {}): string {
  const said = (n: number, words: string, state: CountedState, byChance?: number, risen?: number) => {
    const parts = [
      more[state],
      byChance ? `${byChance} of them on too few runs to tell from chance` : undefined,
      risen ? `${risen} of them significantly more often in the patched runs` : undefined,
    ].filter((p) => p !== undefined);
    return `${n} ${words}${parts.length ? ` (${parts.join('; ')})` : ''}`;
  };
  return [
    said(c.new, 'new', 'new', c.newByChance),
    said(c.fixed, 'fixed', 'fixed', c.fixedByChance),
    said(c.unchanged, 'unchanged', 'unchanged', undefined, c.risen),
    ...(c.unjudged ? [said(c.unjudged, 'not judged on the patched side', 'unjudged')] : []),
    ...(c.maybeNew ? [said(c.maybeNew, 'not judged new', 'maybeNew')] : []),
  ].join(', ');
}
