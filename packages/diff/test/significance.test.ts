import { describe, expect, it } from '@jest/globals';
import { distribution, histogramOf as h, mannWhitney, mergeHistograms, MIN_SAMPLES, percentileOf } from '../src/significance.js';

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
