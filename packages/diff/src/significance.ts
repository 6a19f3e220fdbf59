/**
 * Latency statistics: percentiles and a two-sided Mann-Whitney U test.
 *
 * The test is exact arithmetic over ranks with the normal approximation (tie-corrected,
 * with continuity correction), so it needs no random numbers and the same samples always
 * give the same verdict. Below MIN_SAMPLES per side the normal approximation is poor and a
 * few samples cannot show a latency change anyway, so the verdict is `too-few-samples`.
 */
import { percentile } from '@kreplay/replay';

/** Fewer samples than this on either side: the runs are too short to tell. */
export const MIN_SAMPLES = 20;
/** Two-sided p-value below which a latency difference is called significant. */
export const ALPHA = 0.01;

/**
 * Fisher's exact test, one-sided, for a finding seen in `k` of the `n` runs of one side and in
 * none of the `m` runs of the other that could have shown it: the probability that, were the runs'
 * labels shuffled (the patch changed nothing, each run as likely to show it), none of the k runs
 * that show it falls on the silent side — the hypergeometric C(n, k) / C(n + m, k). One run a side
 * gives 1/2 at best, whichever side is silent; 5 runs a side, each run of one side showing it, give
 * 1/252; with no run on the silent side (m = 0) it is 1: nothing tells the sides apart.
 */
export function absentChance(k: number, n: number, m: number): number {
  let p = 1;
  for (let i = 0; i < k; i++) p *= (n - i) / (n + m - i);
  return p;
}

/**
 * A base finding in `k` of the `n` base runs and in none of the `m` patched runs that could have
 * shown it (`absentChance`): a race a single patched run does not show is not yet shown fixed.
 */
export function fixedChance(k: number, n: number, m: number): number {
  return absentChance(k, n, m);
}

/**
 * A patched finding in `k` of the `m` patched runs and in none of the `n` base runs that could have
 * shown it (`absentChance` with the sides swapped): a race a single base run does not show may be
 * the base's too, unseen, so it is not yet shown to be the patch's.
 */
export function newChance(k: number, m: number, n: number): number {
  return absentChance(k, m, n);
}

/** ln C(n, k), summed term by term (runs number in the hundreds at most). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * Fisher's exact test, one-sided, for a finding both sides show but the patched side more often: in
 * `kb` of the `n` base runs that could show it and in `kp` of the `m` patched runs, the probability
 * that, were the runs' labels shuffled (the patch changed nothing, each run as likely to show it), at
 * least `kp` of the `kb + kp` runs showing it fall on the patched side — the hypergeometric upper
 * tail, sum over x >= kp of C(kb + kp, x) C(n + m - kb - kp, m - x) / C(n + m, m). With `kb` = 0 it
 * is `newChance(kp, m, n)`. 1 of 10 base runs against 10 of 10 patched runs: 11 / 184,756 = 6.0e-5;
 * 3 runs a side can never go below 0.05.
 */
export function riseChance(kb: number, n: number, kp: number, m: number): number {
  const total = n + m;
  const showing = kb + kp;
  const all = logChoose(total, m);
  let p = 0;
  for (let x = kp; x <= Math.min(showing, m); x++) {
    if (m - x > total - showing) continue;
    p += Math.exp(logChoose(showing, x) + logChoose(total - showing, m - x) - all);
  }
  return Math.min(1, p);
}

/** A p-value as the diff's words print it: two significant digits, or one in exponent form below 0.001. */
export function pSaid(p: number): string {
  return p >= 0.001 ? p.toPrecision(2) : p.toExponential(1);
}

/**
 * Latencies as replay records them (packages/replay/src/latency.ts `LatencyHistogram`):
 * exact count, sum, min and max, plus `[lower bound ns, samples]` buckets, ascending.
 */
export interface Histogram {
  count: number;
  sumNs: number;
  minNs: number;
  maxNs: number;
  buckets: Array<[number, number]>;
}

/** An exact histogram of samples (one bucket per distinct value). */
export function histogramOf(samples: readonly number[]): Histogram {
  const counts = new Map<number, number>();
  let sum = 0;
  for (const v of samples) {
    counts.set(v, (counts.get(v) ?? 0) + 1);
    sum += v;
  }
  const buckets = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  return {
    count: samples.length,
    sumNs: sum,
    minNs: buckets.length ? buckets[0]![0] : 0,
    maxNs: buckets.length ? buckets[buckets.length - 1]![0] : 0,
    buckets,
  };
}

/** Pool histograms of several runs (same bucket bounds add up). */
export function mergeHistograms(hs: readonly Histogram[]): Histogram {
  const counts = new Map<number, number>();
  let count = 0,
    sum = 0,
    min = Infinity,
    max = 0;
  for (const h of hs) {
    if (h.count === 0) continue;
    for (const [b, n] of h.buckets) counts.set(b, (counts.get(b) ?? 0) + n);
    count += h.count;
    sum += h.sumNs;
    min = Math.min(min, h.minNs);
    max = Math.max(max, h.maxNs);
  }
  return { count, sumNs: sum, minNs: count ? min : 0, maxNs: max, buckets: [...counts.entries()].sort((a, b) => a[0] - b[0]) };
}

export interface Distribution {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Nearest-rank percentile (p in 0..100), as replay computes it from its histograms. */
export function percentileOf(h: Histogram, p: number): number | null {
  return percentile(h, p) ?? null;
}

export function distribution(h: Histogram): Distribution {
  return {
    n: h.count,
    p50: percentileOf(h, 50),
    p90: percentileOf(h, 90),
    p99: percentileOf(h, 99),
    max: h.count ? h.maxNs : null,
    mean: h.count ? h.sumNs / h.count : null,
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

/**
 * Mann-Whitney U test of base vs patched latencies; deterministic. Samples in one histogram
 * bucket count as ties (so binning makes the test conservative, never bolder).
 */
export function mannWhitney(base: Histogram, patched: Histogram): Significance {
  const n1 = base.count;
  const n2 = patched.count;
  if (n1 < MIN_SAMPLES || n2 < MIN_SAMPLES) {
    return {
      verdict: 'too-few-samples',
      note: `too few samples to tell (base n=${n1}, patched n=${n2}; at least ${MIN_SAMPLES} per side needed)`,
    };
  }
  // Walk the union of bucket bounds in order; each bound is one tie group.
  const groups = new Map<number, [number, number]>();
  for (const [b, n] of base.buckets) groups.set(b, [(groups.get(b)?.[0] ?? 0) + n, groups.get(b)?.[1] ?? 0]);
  for (const [b, n] of patched.buckets) groups.set(b, [groups.get(b)?.[0] ?? 0, (groups.get(b)?.[1] ?? 0) + n]);
  const N = n1 + n2;
  let below = 0;
  let rankSum2 = 0;
  let tieTerm = 0;
  for (const [, [c1, c2]] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    const t = c1 + c2;
    rankSum2 += c2 * (below + (t + 1) / 2);
    if (t > 1) tieTerm += t * t * t - t;
    below += t;
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
  const pText = p < 0.0001 ? 'p<0.0001' : `p=${p.toFixed(4)}`;
  const shift = effect > 0.5 ? 'slower' : 'faster';
  return p < ALPHA
    ? { verdict: 'significant', p, effect, note: `patched is ${shift} (Mann-Whitney U, ${pText} < ${ALPHA}, n=${n1}/${n2})` }
    : { verdict: 'not-significant', p, effect, note: `no significant difference (Mann-Whitney U, ${pText} ≥ ${ALPHA}, n=${n1}/${n2})` };
}
