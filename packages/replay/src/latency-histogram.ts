/**
 * Entry→return latencies in bounded memory: a log-linear histogram (16 sub-buckets per
 * power of two, so any percentile read back is within 1/16 ≈ 6 % of the true value) plus
 * exact count, sum, min and max. The diff computes p50/p90/p99 from it with `percentile`.
 */
export interface LatencyHistogram {
  count: number;
  /** Sum of all samples, ns. */
  sumNs: number;
  minNs: number;
  maxNs: number;
  /** `[lower bound ns, samples]`, ascending; a bucket holds values from its bound up to the next one. */
  buckets: Array<[number, number]>;
}

const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;

function bucketOf(v: number): number {
  if (v < SUB) return v;
  let e: number;
  if (v < 0x80000000) e = 31 - Math.clz32(v);
  else {
    e = Math.floor(Math.log2(v));
    if (2 ** e > v)
      e--; // log2 rounds up just below a power of two
    else if (2 ** (e + 1) <= v) e++;
  }
  // below 2^31 a shift is the exact floor of the division (and skips a float power)
  const sub = (v < 0x80000000 ? v >> (e - SUB_BITS) : Math.floor(v / 2 ** (e - SUB_BITS))) - SUB;
  return (e - SUB_BITS + 1) * SUB + sub;
}

function lowerBound(b: number): number {
  if (b < SUB) return b;
  const e = Math.floor(b / SUB) + SUB_BITS - 1;
  const sub = b % SUB;
  return (SUB + sub) * 2 ** (e - SUB_BITS);
}

/** Raw samples kept per recorder (a deterministic reservoir beyond this). */
export const MAX_SAMPLES = 10000;

/**
 * Accumulates samples; `toJSON` gives the histogram, `samples()` up to MAX_SAMPLES raw
 * values (all of them while there are fewer; beyond, a uniform reservoir drawn with a
 * fixed-seed generator, so the same trace always keeps the same samples).
 */
export class LatencyRecorder {
  /** Samples by bucket index (bucketOf: below 1,000 for any latency under 2^64 ns; a hole where none fell). */
  private readonly counts: number[] = [];
  private readonly kept: number[] = [];
  /**
   * The generator's state as an int32 (its bits; `next` returns them unsigned). Kept unsigned,
   * it was above 2^30 most of the time: a heap number, so each draw read a boxed double and
   * `draw % count` was a float modulo (a C call); as an int32 it is a small integer or an
   * untagged word and the modulo an integer division. The same bits, so the same samples.
   */
  private rng = 0x9e3779b9 | 0;
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  add(ns: bigint): void {
    this.addNs(ns < 0n ? 0 : Number(ns));
  }

  /**
   * The span from `begin` to `end` (clamped at 0): one bigint subtraction and one conversion.
   * Converting both timestamps and subtracting the numbers (session 7) was the slower way:
   * `Number(bigint)` is a call of ~10–15 ns, and a subtraction whose bigint dies at once costs
   * less than the second conversion (docs/replay.md, session 10).
   */
  addSpan(begin: bigint, end: bigint): void {
    this.add(end - begin);
  }

  private addNs(v: number): void {
    const b = bucketOf(v);
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.count++;
    if (this.kept.length < MAX_SAMPLES) {
      this.kept.push(v);
    } else {
      const j = this.next() % this.count;
      if (j < MAX_SAMPLES) this.kept[j] = v;
    }
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** xorshift32: deterministic, good enough for reservoir sampling. */
  private next(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return x >>> 0;
  }

  /** Raw samples, ns, in the order kept. */
  samples(): number[] {
    return [...this.kept];
  }

  toJSON(): LatencyHistogram {
    const buckets: Array<[number, number]> = [];
    this.counts.forEach((n, b) => buckets.push([lowerBound(b), n])); // ascending: an array's indexes are visited in order, holes skipped
    return { count: this.count, sumNs: this.sum, minNs: this.count ? this.min : 0, maxNs: this.max, buckets };
  }
}

/** The p-th percentile (0..100) of a histogram, ns; the bucket's lower bound clamped to [min, max]. */
export function percentile(h: LatencyHistogram, p: number): number | undefined {
  if (h.count === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * h.count));
  let seen = 0;
  for (const [bound, n] of h.buckets) {
    seen += n;
    if (seen >= rank) return Math.min(h.maxNs, Math.max(h.minNs, bound));
  }
  return h.maxNs;
}
