/**
 * String interning for the hot path. A trace repeats a few dozen comms, flag columns,
 * event names and field names millions of times; handing out one shared string for each
 * avoids a slice per occurrence (less garbage, less memory held by consumers) and keeps
 * field keys internalized, so decoded `fields` objects share hidden classes.
 */
/**
 * A copy of s[start, end) that does not keep s alive. V8 represents a slice of 13 or more
 * characters as a view into its parent; an interned name lives for the whole run, and must
 * not pin the 256 KiB chunk of input it was first seen in.
 */
export function detachedSlice(s: string, start: number, end: number): string {
  // a property key is V8's internalized copy: flat, shared, and compared by identity when
  // it is used as a key again (decoded fields objects)
  return Object.keys({ [s.slice(start, end)]: 0 })[0]!;
}

export class Interner<T extends { name: string } = { name: string }> {
  /** Entries by name length; each bucket is scanned with startsWith, most recent first. */
  private readonly buckets = new Map<number, T[]>();

  /** `make` builds the entry for a new name (the name is a fresh slice). */
  constructor(
    private readonly make: (name: string) => T,
    private readonly perLength = 64,
  ) {}

  /** The entry named s[start, end). */
  entry(s: string, start: number, end: number): T {
    const len = end - start;
    let bucket = this.buckets.get(len);
    if (bucket === undefined) this.buckets.set(len, (bucket = []));
    for (let k = 0; k < bucket.length; k++) {
      const cand = bucket[k]!;
      if (s.startsWith(cand.name, start)) {
        if (k > 0) {
          // move towards the front: the next lookup of it is cheaper
          bucket[k] = bucket[k - 1]!;
          bucket[k - 1] = cand;
        }
        return cand;
      }
    }
    const e = this.make(detachedSlice(s, start, end));
    if (bucket.length < this.perLength) bucket.push(e);
    return e;
  }

  /** s[start, end) as a shared string. */
  get(s: string, start: number, end: number): string {
    return this.entry(s, start, end).name;
  }
}

/** An interner of plain strings. */
export function stringInterner(perLength = 64): Interner {
  return new Interner((name) => ({ name }), perLength);
}

/**
 * A direct-mapped cache of entries by name: the slot is a hash of the characters, a hit is
 * confirmed character by character. No builtin calls on the hit path, so it beats
 * Interner for the short, few-valued columns of every line (flags, event names). A
 * collision only costs a fresh entry.
 */
export class DirectInterner<T extends { name: string }> {
  private readonly table: (T | undefined)[];
  private readonly mask: number;

  constructor(
    private readonly make: (name: string) => T,
    bits = 10,
  ) {
    this.mask = (1 << bits) - 1;
    this.table = new Array<T | undefined>(1 << bits).fill(undefined);
  }

  entry(s: string, start: number, end: number): T {
    let h = 0;
    for (let k = start; k < end; k++) h = (h * 31 + s.charCodeAt(k)) | 0;
    return this.entryHashed(s, start, end, h);
  }

  /** entry() when the caller already computed `h = (h * 31 + c) | 0` over the name's characters from 0. */
  entryHashed(s: string, start: number, end: number, hash: number): T {
    const len = end - start;
    const h = hash & this.mask;
    const cand = this.table[h];
    if (cand !== undefined) {
      const name = cand.name;
      if (name.length === len) {
        let k = 0;
        while (k < len && name.charCodeAt(k) === s.charCodeAt(start + k)) k++;
        if (k === len) return cand;
      }
    }
    const e = this.make(detachedSlice(s, start, end));
    this.table[h] = e;
    return e;
  }

  get(s: string, start: number, end: number): string {
    return this.entry(s, start, end).name;
  }
}

/** Process-wide interner for names that are the kernel's (field names, print ips). */
export const names = new DirectInterner((name: string) => ({ name }), 10);
