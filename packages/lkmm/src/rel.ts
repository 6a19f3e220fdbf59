/**
 * Event sets and relations over the events 0..n-1 of one candidate execution, as bitsets.
 * A set is `w` 32-bit words; a relation is n rows of `w` words (row i = successors of i).
 * Every operation returns a fresh array: values flow through the cat interpreter and may be
 * shared between bindings, so nothing is ever mutated after it is returned.
 */
export type Bits = Uint32Array;

export class Space {
  readonly w: number;
  /** Mask of the valid bits in the last word of a row. */
  private readonly lastMask: number;

  constructor(readonly n: number) {
    this.w = Math.max(1, Math.ceil(n / 32));
    const rem = n % 32;
    this.lastMask = rem === 0 ? 0xffffffff : (1 << rem) - 1;
  }

  // ---- sets ----
  emptySet(): Bits {
    return new Uint32Array(this.w);
  }

  fullSet(): Bits {
    const s = new Uint32Array(this.w);
    if (this.n === 0) return s;
    s.fill(0xffffffff);
    s[this.w - 1] = this.lastMask;
    return s;
  }

  setOf(members: Iterable<number>): Bits {
    const s = this.emptySet();
    for (const i of members) s[i >>> 5]! |= 1 << (i & 31);
    return s;
  }

  has(s: Bits, i: number, offset = 0): boolean {
    return (s[offset + (i >>> 5)]! & (1 << (i & 31))) !== 0;
  }

  members(s: Bits, offset = 0): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.w; k++) {
      let word = s[offset + k]!;
      while (word !== 0) {
        const b = 31 - Math.clz32(word & -word);
        out.push(k * 32 + b);
        word &= word - 1;
      }
    }
    return out;
  }

  setComplement(s: Bits): Bits {
    const out = new Uint32Array(this.w);
    for (let k = 0; k < this.w; k++) out[k] = ~s[k]!;
    out[this.w - 1]! &= this.lastMask;
    return out;
  }

  // ---- relations ----
  emptyRel(): Bits {
    return new Uint32Array(this.n * this.w);
  }

  fullRel(): Bits {
    const r = this.emptyRel();
    const row = this.fullSet();
    for (let i = 0; i < this.n; i++) r.set(row, i * this.w);
    return r;
  }

  relOf(pairs: Iterable<readonly [number, number]>): Bits {
    const r = this.emptyRel();
    for (const [a, b] of pairs) r[a * this.w + (b >>> 5)]! |= 1 << (b & 31);
    return r;
  }

  hasPair(r: Bits, a: number, b: number): boolean {
    return (r[a * this.w + (b >>> 5)]! & (1 << (b & 31))) !== 0;
  }

  pairs(r: Bits): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.n; i++) for (const j of this.members(r, i * this.w)) out.push([i, j]);
    return out;
  }

  relComplement(r: Bits): Bits {
    const out = this.emptyRel();
    const w = this.w;
    for (let i = 0; i < this.n; i++) {
      for (let k = 0; k < w; k++) out[i * w + k] = ~r[i * w + k]!;
      out[i * w + w - 1]! &= this.lastMask;
    }
    return out;
  }

  /** [S]: the identity restricted to S. */
  toId(s: Bits): Bits {
    const r = this.emptyRel();
    for (const i of this.members(s)) r[i * this.w + (i >>> 5)]! |= 1 << (i & 31);
    return r;
  }

  cartesian(a: Bits, b: Bits): Bits {
    const r = this.emptyRel();
    for (const i of this.members(a)) r.set(b, i * this.w);
    return r;
  }

  seq(a: Bits, b: Bits): Bits {
    const n = this.n;
    const w = this.w;
    const out = this.emptyRel();
    if (w === 1) {
      for (let i = 0; i < n; i++) {
        let row = a[i]!;
        let acc = 0;
        while (row !== 0) {
          const j = 31 - Math.clz32(row & -row);
          acc |= b[j]!;
          row &= row - 1;
        }
        out[i] = acc;
      }
      return out;
    }
    for (let i = 0; i < n; i++) {
      const oi = i * w;
      for (let k = 0; k < w; k++) {
        let word = a[oi + k]!;
        while (word !== 0) {
          const j = k * 32 + 31 - Math.clz32(word & -word);
          const oj = j * w;
          for (let m = 0; m < w; m++) out[oi + m]! |= b[oj + m]!;
          word &= word - 1;
        }
      }
    }
    return out;
  }

  inverse(r: Bits): Bits {
    const out = this.emptyRel();
    const w = this.w;
    for (let i = 0; i < this.n; i++) {
      for (const j of this.members(r, i * w)) out[j * w + (i >>> 5)]! |= 1 << (i & 31);
    }
    return out;
  }

  /** r+ (Warshall, on a copy). */
  plus(r: Bits): Bits {
    const out = r.slice();
    const n = this.n;
    const w = this.w;
    for (let k = 0; k < n; k++) {
      const ok = k * w;
      const kw = k >>> 5;
      const kb = 1 << (k & 31);
      for (let i = 0; i < n; i++) {
        const oi = i * w;
        if ((out[oi + kw]! & kb) !== 0) for (let m = 0; m < w; m++) out[oi + m]! |= out[ok + m]!;
      }
    }
    return out;
  }

  /** r? over all n events. */
  opt(r: Bits): Bits {
    const out = r.slice();
    for (let i = 0; i < this.n; i++) out[i * this.w + (i >>> 5)]! |= 1 << (i & 31);
    return out;
  }

  star(r: Bits): Bits {
    return this.opt(this.plus(r));
  }

  domain(r: Bits): Bits {
    const s = this.emptySet();
    for (let i = 0; i < this.n; i++) {
      for (let k = 0; k < this.w; k++) {
        if (r[i * this.w + k] !== 0) {
          s[i >>> 5]! |= 1 << (i & 31);
          break;
        }
      }
    }
    return s;
  }

  range(r: Bits): Bits {
    const s = this.emptySet();
    for (let i = 0; i < this.n; i++) for (let k = 0; k < this.w; k++) s[k]! |= r[i * this.w + k]!;
    return s;
  }

  irreflexive(r: Bits): boolean {
    for (let i = 0; i < this.n; i++) if (this.hasPair(r, i, i)) return false;
    return true;
  }

  /** No cycle: depth-first search with colours, no closure needed. */
  acyclic(r: Bits): boolean {
    const n = this.n;
    const colour = new Uint8Array(n); // 0 new, 1 on stack, 2 done
    const stack: number[] = [];
    const iters: number[][] = [];
    for (let s = 0; s < n; s++) {
      if (colour[s] !== 0) continue;
      colour[s] = 1;
      stack.push(s);
      iters.push(this.members(r, s * this.w));
      while (stack.length > 0) {
        const succ = iters[iters.length - 1]!;
        const next = succ.pop();
        if (next === undefined) {
          colour[stack.pop()!] = 2;
          iters.pop();
          continue;
        }
        if (colour[next] === 1) return false;
        if (colour[next] === 0) {
          colour[next] = 1;
          stack.push(next);
          iters.push(this.members(r, next * this.w));
        }
      }
    }
    return true;
  }
}

export function isEmptyBits(b: Bits): boolean {
  for (let k = 0; k < b.length; k++) if (b[k] !== 0) return false;
  return true;
}

export function equalBits(a: Bits, b: Bits): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

export function unionBits(a: Bits, b: Bits): Bits {
  const out = a.slice();
  for (let k = 0; k < out.length; k++) out[k]! |= b[k]!;
  return out;
}

export function interBits(a: Bits, b: Bits): Bits {
  const out = a.slice();
  for (let k = 0; k < out.length; k++) out[k]! &= b[k]!;
  return out;
}

export function diffBits(a: Bits, b: Bits): Bits {
  const out = a.slice();
  for (let k = 0; k < out.length; k++) out[k]! &= ~b[k]!;
  return out;
}

/** Order-independent key of a bitset (for sets of relations). */
export function bitsKey(b: Bits): string {
  let s = '';
  for (let k = 0; k < b.length; k++) s += b[k]!.toString(36) + ',';
  return s;
}
