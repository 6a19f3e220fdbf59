/** A small seeded PRNG (SplitMix32): same seed, same sequence, on every platform. No Math.random. */
export class SplitMix32 {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Mix a seed (any safe integer) and a stream number into a 32-bit state. */
  static forStream(seed: number, stream: number): SplitMix32 {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const g = new SplitMix32(lo ^ Math.imul(hi, 0x85ebca6b) ^ Math.imul(stream + 1, 0x9e3779b9));
    g.next();
    return g;
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 2 ** 32) * n);
  }
}
