import { describe, expect, it } from '@jest/globals';
import { byCountingRise } from '../../../test-support/fisher.js';
import {
  distribution,
  fixedChance,
  histogramOf as h,
  newChance,
  mannWhitney,
  riseChance,
  mergeHistograms,
  MIN_SAMPLES,
  percentileOf,
} from '../src/significance.js';

describe('latency statistics', () => {
  it('pooling runs adds their histograms up', () => {
    const m = mergeHistograms([h([1, 2, 2]), h([2, 9])]);
    expect(m).toEqual({
      count: 5,
      sumNs: 16,
      minNs: 1,
      maxNs: 9,
      buckets: [
        [1, 1],
        [2, 3],
        [9, 1],
      ],
    });
  });

  it('nearest-rank percentiles', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOf(h(s), 50)).toBe(50);
    expect(percentileOf(h(s), 99)).toBe(99);
    expect(percentileOf(h([]), 50)).toBeNull();
    expect(distribution(h([5, 1, 3]))).toMatchObject({ n: 3, p50: 3, max: 5 });
  });

  it('says the runs are too short below the sample threshold', () => {
    const s = mannWhitney(h([1, 2, 3]), h(Array.from({ length: 100 }, () => 9)));
    expect(s.verdict).toBe('too-few-samples');
    expect(s.note).toContain(`${MIN_SAMPLES}`);
  });

  it('calls identical distributions not significant and a clear shift significant', () => {
    const a = Array.from({ length: 40 }, (_, i) => 100 + (i % 10));
    expect(mannWhitney(h(a), h([...a].reverse())).verdict).toBe('not-significant');
    const b = a.map((x) => x + 50);
    const s = mannWhitney(h(a), h(b));
    expect(s.verdict).toBe('significant');
    expect(s.effect).toBe(1);
    expect(s.note).toContain('slower');
  });

  it('matches the textbook normal approximation (n=20 vs 20, shifted by 5 of 20 ranks)', () => {
    // base 1..20, patched 6..25: U = 20*20 - 15*15/2 ... computed by hand: ranks tie-free
    const base = Array.from({ length: 20 }, (_, i) => i + 1);
    const patched = Array.from({ length: 20 }, (_, i) => i + 6.5);
    const s = mannWhitney(h(base), h(patched));
    // U2 = 20*20 - (number of (b,p) pairs with b > p) = 400 - 105 = 295; mu = 200; sigma = sqrt(400*41/12) = 36.97
    // z = (95 - 0.5) / 36.97 = 2.556 → p ≈ 0.0106
    expect(s.p).toBeCloseTo(0.0106, 3);
    expect(s.verdict).toBe('not-significant');
  });
});

describe("a fixed finding's chance (Fisher's exact test on runs)", () => {
  /** The naive oracle: every way the k runs that show it could sit among the n + m runs, counted. */
  function byCounting(k: number, n: number, m: number): number {
    let all = 0;
    let noneOnPatched = 0;
    for (let mask = 0; mask < 1 << (n + m); mask++) {
      let bits = 0;
      for (let x = mask; x; x &= x - 1) bits++;
      if (bits !== k) continue;
      all++;
      // runs 0..n-1 are the base side's
      if (mask >> n === 0) noneOnPatched++;
    }
    return noneOnPatched / all;
  }

  it('is the share of the ways the runs that show it could fall that leave every patched run without it', () => {
    for (let n = 1; n <= 6; n++) for (let m = 1; m <= 6; m++) for (let k = 1; k <= n; k++) expect(fixedChance(k, n, m)).toBeCloseTo(byCounting(k, n, m), 12);
  });

  it('one run a side cannot show a fix; five a side whose base runs all show it can', () => {
    expect(fixedChance(1, 1, 1)).toBe(0.5);
    expect(fixedChance(1, 3, 1)).toBe(0.75);
    expect(fixedChance(3, 3, 1)).toBe(0.25);
    expect(fixedChance(5, 5, 5)).toBeCloseTo(1 / 252, 15);
    expect(fixedChance(5, 5, 5)).toBeLessThan(0.01);
    expect(fixedChance(4, 4, 4)).toBeGreaterThan(0.01);
  });

  it('is the same test for a new finding, the sides swapped: k of m patched runs, none of n base runs that could show it', () => {
    // runs 0..m-1 are the patched side's here: every way leaves the base runs without it
    for (let m = 1; m <= 6; m++) for (let n = 1; n <= 6; n++) for (let k = 1; k <= m; k++) expect(newChance(k, m, n)).toBeCloseTo(byCounting(k, m, n), 12);
    expect(newChance(1, 1, 1)).toBe(0.5);
    expect(newChance(5, 5, 5)).toBeCloseTo(1 / 252, 15);
    // no base run could have shown it: nothing tells the sides apart
    expect(newChance(3, 5, 0)).toBe(1);
  });
});

describe("an unchanged finding's rise (Fisher's exact test on runs, 2026-12-07, session 41)", () => {
  it('is the share of the ways the runs that show it could fall that put at least as many on the patched side', () => {
    for (let n = 1; n <= 5; n++)
      for (let m = 1; m <= 5; m++)
        for (let kb = 0; kb <= n; kb++) for (let kp = 1; kp <= m; kp++) expect(riseChance(kb, n, kp, m)).toBeCloseTo(byCountingRise(kb, n, kp, m), 12);
  });

  it('is newChance when the base never showed it; 1 of 10 against 10 of 10 is 11 / 184,756; 3 runs a side never go below 0.05', () => {
    expect(riseChance(0, 5, 5, 5)).toBeCloseTo(newChance(5, 5, 5), 15);
    expect(riseChance(1, 10, 10, 10)).toBeCloseTo(11 / 184_756, 15);
    expect(riseChance(1, 3, 3, 3)).toBeCloseTo(0.2, 12);
    expect(riseChance(2, 10, 2, 10)).toBeCloseTo(byCountingTen(), 12);
    function byCountingTen(): number {
      // P(X >= 2) for 4 showing runs among 20, 10 of them patched: 1 - P(0) - P(1)
      const c = (n: number, k: number): number => (k === 0 ? 1 : (c(n - 1, k - 1) * n) / k);
      return 1 - (c(10, 4) + c(10, 1) * c(10, 3)) / c(20, 4);
    }
  });
});
