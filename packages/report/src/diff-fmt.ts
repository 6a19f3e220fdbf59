/** Number formatting shared by the diff formats (fixed precision so output is byte-stable). */
import type { DiffResult, FindingEntry } from '@kreplay/diff';

/** The diff's verdict in one word, as every format prints it. */
export function verdictWord(d: Pick<DiffResult, 'verdict'>): string {
  return d.verdict === 'inconclusive' ? 'INCONCLUSIVE' : d.verdict === 'regression' ? 'REGRESSION' : 'no regression';
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
