/**
 * Return values counted per function (`stats.returns`), once per traced return. The counts
 * of the function counted last are kept at hand (a trace's returns come from a few
 * functions, mostly one after another), and each value's count is a box found with one
 * lookup, where a Map of Maps of numbers took three: the function's, the count's read, its
 * write.
 */
export class ReturnCounts {
  private readonly byFn = new Map<string, Map<number, { n: number }>>();
  private lastFn: string | undefined;
  private last: Map<number, { n: number }> | undefined;

  add(fn: string, ret: number): void {
    let m = fn === this.lastFn ? this.last : this.byFn.get(fn);
    if (m === undefined) {
      m = new Map();
      this.byFn.set(fn, m);
    }
    this.lastFn = fn;
    this.last = m;
    const c = m.get(ret);
    if (c === undefined) m.set(ret, { n: 1 });
    else c.n++;
  }

  /** The functions with a return counted, in the order first counted. */
  functions(): string[] {
    return [...this.byFn.keys()];
  }

  /** `fn`'s return values and their counts, in the order first counted. */
  counts(fn: string): Array<[number, number]> {
    return [...(this.byFn.get(fn) ?? [])].map(([ret, c]) => [ret, c.n]);
  }
}
