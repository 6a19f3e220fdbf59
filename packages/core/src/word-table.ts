/**
 * Interned runs of 32-bit words: an open-addressing hash table of ids over one byte arena.
 * explore's visited set keys states by their words (`Machine.encode`) with it, and mm-model's
 * encoder numbers the parts of states with it (encode.ts). Words are kept packed (each word
 * zigzagged and written as LEB128: small numbers take one byte), ids are given in insertion
 * order, and nothing is allocated per entry: no string, no object — the garbage collector
 * never sees the table grow.
 */

const EMPTY = 0;

export class WordTable {
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  /** Per id: where its bytes start in the arena (they end where the next id's start). */
  private start: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private count = 0;
  /** Slot k is the pair [2k] = id + 1 (0: empty), [2k + 1] = the entry's hash; at most half the slots are used. */
  private slots = new Int32Array(2 * 2048);
  private packed = new Uint8Array(1024);

  get size(): number {
    return this.count;
  }

  /** Bytes the packed entries take (the arena's used part). */
  get bytes(): number {
    return this.used;
  }

  /**
   * The id of the entry whose words are `words[from..to)`: a new id (the next one) when it was
   * not there, or `~id` (negative) when it was.
   */
  add(words: Int32Array, to: number, from = 0): number {
    // pack (zigzag LEB128 into `packed`) and hash the words in one pass
    const n = to - from;
    if (this.packed.length < n * 5) this.packed = new Uint8Array(n * 5);
    const p = this.packed;
    let len = 0;
    let h = 0x811c9dc5 ^ n;
    for (let i = from; i < to; i++) {
      const w = words[i]!;
      h = Math.imul(h ^ w, 0x01000193);
      h ^= h >>> 13;
      let z = ((w << 1) ^ (w >> 31)) >>> 0;
      while (z >= 0x80) {
        p[len++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      p[len++] = z;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h ^= h >>> 13;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let at = h & mask;
    for (; ; at = (at + 1) & mask) {
      const slot = slots[2 * at]!;
      if (slot === EMPTY) break;
      // the hash sits beside the id: a probe that does not match reads no other memory
      if (slots[2 * at + 1] === h && this.same(slot - 1, len)) return ~(slot - 1);
    }
    const id = this.count++;
    if (id === this.start.length) this.start = grownInt32(this.start, id + 1);
    if (this.used + len > this.arena.length) {
      let cap = this.arena.length * 2;
      while (cap < this.used + len) cap *= 2;
      const a = new Uint8Array(cap);
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
    }
    this.start[id] = this.used;
    // a state is a few dozen bytes: a loop, not a subarray view and a set()
    const arena = this.arena;
    for (let i = 0, at = this.used; i < len; i++) arena[at + i] = p[i]!;
    this.used += len;
    slots[2 * at] = id + 1;
    slots[2 * at + 1] = h;
    if (this.count * 4 > slots.length) this.rehash();
    return id;
  }

  /** The words of entry `id` into `out` (which must hold at least `bytesOf(id)` words: a word takes one byte or more); returns their count. */
  wordsOf(id: number, out: Int32Array): number {
    const a = this.arena;
    const e = id + 1 < this.count ? this.start[id + 1]! : this.used;
    let n = 0;
    for (let i = this.start[id]!; i < e; ) {
      let z = 0;
      let shift = 0;
      let b: number;
      do {
        b = a[i++]!;
        z |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      out[n++] = (z >>> 1) ^ -(z & 1);
    }
    return n;
  }

  /** Bytes entry `id`'s words take packed: a bound on their count. */
  bytesOf(id: number): number {
    return (id + 1 < this.count ? this.start[id + 1]! : this.used) - this.start[id]!;
  }

  /** Twice the slots, every used one placed again (by its hash, kept in the slot). */
  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let k = 0; k < old.length; k += 2) {
      if (old[k] === EMPTY) continue;
      const h = old[k + 1]!;
      let at = h & mask;
      while (slots[2 * at] !== EMPTY) at = (at + 1) & mask;
      slots[2 * at] = old[k]!;
      slots[2 * at + 1] = h;
    }
    this.slots = slots;
  }

  private same(id: number, len: number): boolean {
    const s = this.start[id]!;
    const e = id + 1 < this.count ? this.start[id + 1]! : this.used;
    if (e - s !== len) return false;
    const a = this.arena;
    const p = this.packed;
    for (let i = 0; i < len; i++) if (a[s + i] !== p[i]) return false;
    return true;
  }
}

/** A copy of `a` at least `need` long (doubled until it is). */
export function grownInt32(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  let cap = a.length * 2;
  while (cap < need) cap *= 2;
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}
