/**
 * Interned runs of 32-bit words: an open-addressing hash table of ids over one byte arena.
 * explore's visited set keys states by their words (`Machine.encode`) with it, and mm-model's
 * encoder numbers the parts of states with it (encode.ts). Words are kept packed (each word
 * zigzagged and written as LEB128: small numbers take one byte), ids are given in insertion
 * order, and nothing is allocated per entry: no string, no object — the garbage collector
 * never sees the table grow.
 *
 * The arena is a list of chunks that are never copied: an entry goes whole into one chunk, and
 * a full chunk is followed by a new one. (Doubling one buffer copied every byte again at each
 * growth, and a page the process touches for the first time costs a page fault, which on the
 * machines measured costs more than the copy: about 16 µs of CPU for each 4 KiB.) Only the first
 * chunk grows, from 64 KiB, so a small table stays small.
 */

import { EnvironmentError } from './errors.js';

const EMPTY = 0;
/** Entries `recent` keeps (a power of two): 32 KiB, which stays in the cache. */
const RECENT = 4096;
/** Bytes a chunk of the arena spans (log2), unless made smaller for a test. */
const CHUNK_BITS = 22;

export class WordTable {
  /** The arena's chunks: chunk c's bytes are at offsets c << chunkBits onwards (one entry longer than a chunk spans several). */
  private readonly chunks: Uint8Array[] = [];
  /** Bytes used of each chunk before the current one. */
  private readonly chunkUsed: number[] = [];
  /** The current chunk, its index, and the bytes used of it. */
  private arena: Uint8Array;
  private chunk = 0;
  private used = 0;
  /** Bytes used in the chunks before the current one. */
  private before = 0;
  /** Per id: where its bytes start (offset `chunk << chunkBits | byte`); they end where the next id's start, or at the end of its chunk's bytes. */
  private start: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private count = 0;

  /**
   * @param chunkBits log2 of the bytes a chunk spans (tests make it small to cross chunks).
   * @param maxBytes the offsets the table can address (tests make it small to reach it).
   */
  constructor(
    private readonly chunkBits = CHUNK_BITS,
    private readonly maxBytes = 2 ** 31,
  ) {
    this.arena = new Uint8Array(Math.min(1 << 16, 1 << chunkBits));
    this.chunks.push(this.arena);
  }
  /** Slot k is the pair [2k] = id + 1 (0: empty), [2k + 1] = the entry's hash; at most half the slots are used. */
  private slots = new Int32Array(2 * 2048);
  /** Slot k is [2k] = id + 1 (0: none), [2k + 1] = hash of the entry added or found last whose hash's low bits are k. */
  private readonly recent = new Int32Array(2 * RECENT);

  get size(): number {
    return this.count;
  }

  /** Bytes the packed entries take (the arena's used part). */
  get bytes(): number {
    return this.before + this.used;
  }

  /**
   * The id of the entry whose words are `words[from..to)`: a new id (the next one) when it was
   * not there, or `~id` (negative) when it was.
   *
   * The words are hashed as they are and compared with an entry's bytes by unpacking those: most
   * calls find their entry (a search meets most states again; mm-model's parts nearly always), and
   * only a new entry is packed. Before the table proper, `recent` is asked: the entry last added
   * or found with the same low hash bits. A search meets most states again within a thousand
   * states of adding them (breadth-first: siblings and cousins), and that entry's bytes are still
   * in the cache where a probe of the big table would miss.
   */
  add(words: Int32Array, to: number, from = 0): number {
    const n = to - from;
    const h = hashWords(words, from, to);
    const recent = this.recent;
    const r = 2 * (h & (RECENT - 1));
    const last = recent[r]!;
    if (last !== EMPTY && recent[r + 1] === h && this.same(last - 1, words, from, to)) return ~(last - 1);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let at = h & mask;
    for (; ; at = (at + 1) & mask) {
      const slot = slots[2 * at]!;
      if (slot === EMPTY) break;
      // the hash sits beside the id: a probe that does not match reads no other memory
      if (slots[2 * at + 1] === h && this.same(slot - 1, words, from, to)) {
        recent[r] = slot;
        recent[r + 1] = h;
        return ~(slot - 1);
      }
    }
    // packed, a word takes at most 5 bytes (room first: a table that cannot grow is left as it was)
    if (this.used + n * 5 > this.arena.length) this.makeRoom(n * 5);
    const id = this.count++;
    if (id === this.start.length) this.start = grownInt32(this.start, id + 1);
    this.start[id] = (this.chunk << this.chunkBits) + this.used;
    // pack: each word zigzagged, then LEB128
    const arena = this.arena;
    let len = this.used;
    for (let i = from; i < to; i++) {
      const w = words[i]!;
      let z = ((w << 1) ^ (w >> 31)) >>> 0;
      while (z >= 0x80) {
        arena[len++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      arena[len++] = z;
    }
    this.used = len;
    slots[2 * at] = id + 1;
    slots[2 * at + 1] = h;
    recent[r] = id + 1;
    recent[r + 1] = h;
    if (this.count * 4 > slots.length) this.rehash();
    return id;
  }

  /** The id of the entry whose words are `words[from..to)`, or -1 when there is none (nothing is added). */
  find(words: Int32Array, to: number, from = 0): number {
    const h = hashWords(words, from, to);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const slot = slots[2 * at]!;
      if (slot === EMPTY) return -1;
      if (slots[2 * at + 1] === h && this.same(slot - 1, words, from, to)) return slot - 1;
    }
  }

  /**
   * Room for `need` more bytes: the first chunk doubles up to a chunk's span; after that a new
   * chunk (bigger than the span when one entry needs it).
   */
  private makeRoom(need: number): void {
    const span = 1 << this.chunkBits;
    if (this.chunk === 0 && this.used + need <= span) {
      let cap = this.arena.length * 2;
      while (cap < this.used + need) cap *= 2;
      const a = new Uint8Array(cap);
      a.set(this.arena.subarray(0, this.used));
      this.arena = this.chunks[0] = a;
      return;
    }
    // a chunk longer than the span takes the offsets of the chunks after it too
    const next = this.chunk + Math.max(1, Math.ceil(this.arena.length / span));
    if ((next + Math.ceil(need / span)) * span > this.maxBytes) {
      // Offsets are 32-bit: the search outgrew what it can address, which is the machine's limit
      // (as a full disk is), not a bug; the CLI exits 3 with the hint.
      throw new EnvironmentError(
        `the state search outgrew its tables: ${this.count.toLocaleString('en-US')} entries in ${this.maxBytes / 2 ** 20} MiB of packed states (the scenario's states are too large or too many for one search)`,
        'cap it with --max-states N (the result is then incomplete, never clean), split it over jobs with --shard i/n, or explore a smaller scenario (fewer pages, shorter ranges)',
      );
    }
    this.chunkUsed[this.chunk] = this.used;
    this.before += this.used;
    this.chunk = next;
    this.arena = this.chunks[next] = new Uint8Array(Math.max(span, need));
    this.used = 0;
  }

  /** Where entry `id`'s bytes end in its chunk `c` (its start's offset is `c << chunkBits` plus the byte). */
  private endOf(id: number, c: number): number {
    if (id + 1 === this.count) return this.used;
    const next = this.start[id + 1]!;
    return next >>> this.chunkBits === c ? next - (c << this.chunkBits) : this.chunkUsed[c]!;
  }

  /** The words of entry `id` into `out` (which must hold at least `bytesOf(id)` words: a word takes one byte or more); returns their count. */
  wordsOf(id: number, out: Int32Array): number {
    const off = this.start[id]!;
    const c = off >>> this.chunkBits;
    const a = this.chunks[c]!;
    const e = this.endOf(id, c);
    let n = 0;
    for (let i = off - (c << this.chunkBits); i < e; i = cursor) out[n++] = unpack(a, i);
    return n;
  }

  /** Bytes entry `id`'s words take packed: a bound on their count. */
  bytesOf(id: number): number {
    const off = this.start[id]!;
    const c = off >>> this.chunkBits;
    return this.endOf(id, c) - (off - (c << this.chunkBits));
  }

  private rehash(): void {
    this.slots = rehashed(this.slots);
  }

  /** Whether entry `id` holds the words `words[from..to)` (its bytes unpacked one word at a time, up to the first that differs). */
  private same(id: number, words: Int32Array, from: number, to: number): boolean {
    const off = this.start[id]!;
    const c = off >>> this.chunkBits;
    const a = this.chunks[c]!;
    const e = this.endOf(id, c);
    let k = from;
    for (let i = off - (c << this.chunkBits); i < e; i = cursor, k++) if (k === to || unpack(a, i) !== words[k]) return false;
    return k === to;
  }
}

/** Where `unpack` stopped: the first byte after the word it read. */
let cursor = 0;

/** The word whose packed bytes (zigzag LEB128) start at `a[i]`; leaves `cursor` after them. */
function unpack(a: Uint8Array, i: number): number {
  let z = 0;
  let shift = 0;
  let b: number;
  do {
    b = a[i++]!;
    z |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  cursor = i;
  return (z >>> 1) ^ -(z & 1);
}

/**
 * Twice the slots of an open-addressing table whose slot k is [2k] = id + 1 (0: empty),
 * [2k + 1] = the entry's hash, every used one placed again (by its hash, kept in the slot).
 */
export function rehashed(old: Int32Array): Int32Array<ArrayBuffer> {
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
  return slots;
}

/** A copy of `a` at least `need` long (doubled until it is). */
export function grownInt32(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  let cap = a.length * 2;
  while (cap < need) cap *= 2;
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/** The hash `add` and `find` probe with. */
function hashWords(words: Int32Array, from: number, to: number): number {
  let h = 0x811c9dc5 ^ (to - from);
  for (let i = from; i < to; i++) {
    h = Math.imul(h ^ words[i]!, 0x01000193);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return h ^ (h >>> 13);
}
