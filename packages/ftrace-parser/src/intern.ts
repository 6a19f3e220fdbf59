/**
 * String interning for the hot path. A trace repeats a few dozen comms, flag columns,
 * event names and field names millions of times; handing out one shared string for each
 * avoids a slice per occurrence (less garbage, less memory held by consumers) and keeps
 * field keys internalized, so decoded `fields` objects share hidden classes.
 */
export class Interner {
  /** Strings by length; each bucket is scanned with startsWith, most recent first. */
  private readonly buckets = new Map<number, string[]>();

  constructor(private readonly perLength = 64) {}

  /** s[start, end) as a shared string. */
  get(s: string, start: number, end: number): string {
    const len = end - start;
    let bucket = this.buckets.get(len);
    if (bucket === undefined) this.buckets.set(len, (bucket = []));
    for (let k = 0; k < bucket.length; k++) {
      const cand = bucket[k]!;
      if (s.startsWith(cand, start)) {
        if (k > 0) {
          // move towards the front: the next lookup of it is cheaper
          bucket[k] = bucket[k - 1]!;
          bucket[k - 1] = cand;
        }
        return cand;
      }
    }
    const str = s.slice(start, end);
    if (bucket.length < this.perLength) bucket.push(str);
    return str;
  }
}

/** Process-wide interners for names that are the kernel's (event, field names). */
export const names = new Interner(128);
