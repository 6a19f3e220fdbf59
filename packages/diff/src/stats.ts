/**
 * Latency statistics: percentiles and a two-sided Mann-Whitney U test.
 *
 * The test is exact arithmetic over ranks with the normal approximation (tie-corrected,
 * with continuity correction), so it needs no random numbers and the same samples always
 * give the same verdict. Below MIN_SAMPLES per side the normal approximation is poor and a
 * few samples cannot show a latency change anyway, so the verdict is `too-few-samples`.
 */

/** Fewer samples than this on either side: the runs are too short to tell. */
export const MIN_SAMPLES = 20;
/** Two-sided p-value below which a latency difference is called significant. */
export const ALPHA = 0.01;

export interface Distribution {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Nearest-rank percentile (p in 0..100) of ascending-sorted samples. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function sortNumbers(xs: readonly number[]): number[] {
  return Array.from(Float64Array.from(xs).sort());
}

export function distribution(samples: readonly number[]): Distribution {
  const s = sortNumbers(samples);
  let sum = 0;
  for (const x of s) sum += x;
  return {
    n: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : null,
    mean: s.length ? sum / s.length : null,
  };
}

export type Verdict = 'too-few-samples' | 'significant' | 'not-significant';

export interface Significance {
  verdict: Verdict;
  /** Two-sided p-value of the Mann-Whitney U test (absent when too few samples). */
  p?: number;
  /** Common-language effect size: P(patched sample > base sample), 0.5 = no shift. */
  effect?: number;
  /** The decision in one sentence, with the numbers behind it. */
  note: string;
}

/** Standard normal upper tail, P(Z > z), by the Abramowitz–Stegun 7.1.26 erfc approximation. */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Mann-Whitney U test of base vs patched samples; deterministic. */
export function mannWhitney(base: readonly number[], patched: readonly number[]): Significance {
  const n1 = base.length;
  const n2 = patched.length;
  if (n1 < MIN_SAMPLES || n2 < MIN_SAMPLES) {
    return {
      verdict: 'too-few-samples',
      note: `too few samples to tell (base n=${n1}, patched n=${n2}; at least ${MIN_SAMPLES} per side needed)`,
    };
  }
  // Rank the pooled samples; ties get their average rank.
  const pooled: Array<[number, 0 | 1]> = [];
  for (const x of base) pooled.push([x, 0]);
  for (const x of patched) pooled.push([x, 1]);
  pooled.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const N = n1 + n2;
  let rankSum2 = 0;
  let tieTerm = 0;
  for (let i = 0; i < N; ) {
    let j = i;
    while (j + 1 < N && pooled[j + 1]![0] === pooled[i]![0]) j++;
    const avg = (i + j + 2) / 2;
    const t = j - i + 1;
    if (t > 1) tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (pooled[k]![1] === 1) rankSum2 += avg;
    i = j + 1;
  }
  const u2 = rankSum2 - (n2 * (n2 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  const effect = u2 / (n1 * n2);
  if (variance <= 0) {
    return { verdict: 'not-significant', p: 1, effect, note: 'all samples equal on both sides' };
  }
  const z = (Math.abs(u2 - mu) - 0.5) / Math.sqrt(variance);
  const p = Math.min(1, 2 * normalUpperTail(Math.max(0, z)));
  const pText = p < 0.0001 ? '<0.0001' : p.toFixed(4);
  const shift = effect > 0.5 ? 'slower' : 'faster';
  return p < ALPHA
    ? { verdict: 'significant', p, effect, note: `patched is ${shift} (Mann-Whitney U, p=${pText} < ${ALPHA}, n=${n1}/${n2})` }
    : { verdict: 'not-significant', p, effect, note: `no significant difference (Mann-Whitney U, p=${pText} ≥ ${ALPHA}, n=${n1}/${n2})` };
}
