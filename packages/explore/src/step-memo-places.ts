/**
 * Finer keys for step memoization in the one-thread search (step-memo-rows.ts), where the machine
 * offers them (`StepMemo.places`): a step the coarse key (the whole shared part, step-memo.ts)
 * does not know is looked up by the places of the shared part it read. Per head — thread t's word
 * and the number of t and what it reads of the other threads, the coarse key without the shared
 * part — the sets of places steps with that head read; per (head, set, the words at those places)
 * the step's result: thread t's new word, its violations, and the words of the places it changed. A state whose words agree with an entry at every place of its set gets the entry's
 * result (the promise in core's machine.ts `StepPlaces`): its own shared words with those places
 * replaced. Most shared parts of a search differ only in places a step does not look at (another
 * page's state, another VMA's PTEs, another block): docs/explore.md (session 30) has the counts.
 *
 * A step that depends on the whole shared part (`all`), that changed which places there are (an
 * array grew or shrank past a place, a root field came or went), that changed a place it did not
 * note, or that rewrote another thread, gets no entry: the coarse key has it. The one-thread search
 * and the workers (worker 0 goes on with the one-thread memo) ask these keys alike.
 */
import type { StepPlaces } from '@kreplay/core';
import { WordTable } from '@kreplay/core';
import { IntVec } from './graph.js';
import { KeyTable } from './step-memo.js';

/** A place the state being expanded does not have, in a key (a place's words are after their count, which is at least 1). */
const ABSENT = 0;

export class PlaceMemo<S> {
  /** (0, thread t's word, t and what it reads of the others) → head number (numbers only: no run of words hashed). */
  private readonly heads = new KeyTable();
  /** Per head: the numbers of the sets of places read under it, in the order met. */
  private readonly setsOf: (number[] | undefined)[] = [];
  private readonly sets = new WordTable();
  private readonly setNames: Int32Array[] = [];
  /** (head, set, the words at its places) → the entry's value (where it starts in `values`). */
  private readonly entries = new WordTable();
  private valueAt = new IntVec(1 << 12);
  /**
   * The values, each: thread t's new word, the coarse value whose violations it has (-1: none),
   * the number of places it changed, then per place its name, its word count and its words.
   */
  readonly values = new IntVec(1 << 14);
  private key = new Int32Array(1024);

  /** The state being expanded (`prepare`): its shared words, their places, and each place by name. */
  private sharedId = -1;
  private words = new Int32Array(256);
  private at = 0;
  private cut = new Int32Array(512);
  private count = -1;
  private readonly byName = new PlaceIndex();
  /**
   * The layout of the state being expanded — its places' names in order — and its number, which
   * changes when the names do (most states of a search have their neighbour's names): `byName`
   * and each set's positions (`posOf`) are made once per layout, not per state.
   */
  private names = new Int32Array(256);
  private layout = 0;
  /** Per set: the index of each of its places in the layout `posLayout` holds (-1: absent). */
  private readonly posOf: Int32Array[] = [];
  private readonly posLayout: number[] = [];
  /** The successor's places (`record`). */
  private cut2 = new Int32Array(512);
  /** The successor `reuse` built: its shared words. */
  out = new Int32Array(256);

  constructor(
    private readonly places: StepPlaces<S>,
    private readonly shared: WordTable,
  ) {}

  /** Thread t's step from s, noting the places it read and wrote (`StepPlaces.advanceNoting`). */
  advanceNoting(s: S, t: number): ReturnType<StepPlaces<S>['advanceNoting']> {
    return this.places.advanceNoting(s, t);
  }

  /** Words of the values so far (for the memo's cap). */
  get size(): number {
    return this.values.length + this.valueAt.length;
  }

  /** The state whose shared words are number `sharedId` is expanded: cut them (once per state). False when they cannot be cut. */
  prepare(sharedId: number): boolean {
    if (sharedId === this.sharedId) return this.count >= 0;
    this.sharedId = sharedId;
    const need = this.shared.bytesOf(sharedId);
    if (need > this.words.length) this.words = new Int32Array(Math.max(need, 2 * this.words.length));
    this.at = this.shared.wordsOf(sharedId, this.words);
    const before = this.count;
    this.count = this.cutInto(this.words, this.at, 'cut');
    if (this.count >= 0 && !this.sameNames(before)) {
      this.byName.fill(this.cut, this.count);
      if (this.count > this.names.length) this.names = new Int32Array(2 * this.count);
      for (let p = 0; p < this.count; p++) this.names[p] = this.cut[2 * p]!;
      this.layout++;
    }
    return this.count >= 0;
  }

  /** Whether the places just cut have the names, in order, of the layout before (`before` places). */
  private sameNames(before: number): boolean {
    if (before !== this.count) return false;
    for (let p = 0; p < before; p++) if (this.names[p] !== this.cut[2 * p]) return false;
    return true;
  }

  /** The index of each place of set `set` in the state being expanded (-1: it has no such place). */
  private positions(set: number): Int32Array {
    const pos = this.posOf[set];
    if (pos !== undefined && this.posLayout[set] === this.layout) return pos;
    const names = this.setNames[set]!;
    const made = pos ?? new Int32Array(names.length);
    for (let i = 0; i < names.length; i++) made[i] = this.byName.get(names[i]!);
    this.posOf[set] = made;
    this.posLayout[set] = this.layout;
    return made;
  }

  private cutInto(words: Int32Array, at: number, which: 'cut' | 'cut2'): number {
    for (;;) {
      const buf = this[which];
      const n = this.places.cut(words, at, buf);
      if (n >= 0 || buf.length > 4 * at + 8) return n;
      this[which] = new Int32Array(4 * at + 16);
    }
  }

  /** The head of (thread t's word `b`, `c`: t and what it reads of the others). */
  head(b: number, c: number): number {
    if (this.heads.find(0, b, c)) return this.heads.value();
    const h = this.setsOf.length;
    this.setsOf.push(undefined);
    this.heads.put(0, b, c, h);
    return h;
  }

  /** Whether place p has the same words in the state being expanded and in `next` (cut into `cut2`, its shared words end at `at`). */
  private samePlace(p: number, next: Int32Array, at: number): boolean {
    const from = this.cut[2 * p + 1]!;
    const to = this.endOf(p);
    const from2 = this.cut2[2 * p + 1]!;
    const to2 = p + 1 < this.count ? this.cut2[2 * p + 3]! : at;
    if (to - from !== to2 - from2) return false;
    for (let j = 0; j < to - from; j++) if (this.words[from + j] !== next[from2 + j]) return false;
    return true;
  }

  /** The key of (head, set) for the state being expanded into `key`; its length. */
  private keyOf(h: number, set: number): number {
    const pos = this.positions(set);
    const words = this.words;
    const cut = this.cut;
    // a place's words are at most all of the state's
    const need = 2 + pos.length + this.at;
    if (need > this.key.length) this.key = new Int32Array(2 * need);
    const key = this.key;
    key[0] = h;
    key[1] = set;
    let k = 2;
    for (let i = 0; i < pos.length; i++) {
      const p = pos[i]!;
      if (p < 0) {
        key[k++] = ABSENT;
        continue;
      }
      const from = cut[2 * p + 1]!;
      const to = this.endOf(p);
      key[k++] = to - from;
      for (let j = from; j < to; j++) key[k++] = words[j]!;
    }
    return k;
  }

  private endOf(p: number): number {
    return p + 1 < this.count ? this.cut[2 * p + 3]! : this.at;
  }

  /** The value of an entry of head `h` the state being expanded agrees with, or -1. */
  find(h: number): number {
    const sets = this.setsOf[h];
    if (sets === undefined) return -1;
    for (let i = 0; i < sets.length; i++) {
      const e = this.entries.find(this.key, this.keyOf(h, sets[i]!));
      if (e >= 0) return this.valueAt.a[e]!;
    }
    return -1;
  }

  /**
   * Value `v` given for the state being expanded: its successor's shared words in `out` (their
   * count returned), or -1 when they are the state's own (the step changed no place); thread t's
   * new word is `values.a[v]`.
   */
  reuse(v: number): number {
    const a = this.values.a;
    const nw = a[v + 2]!;
    if (nw === 0) return -1;
    const patched = this.patched(v, nw);
    if (patched >= 0) return patched;
    let need = this.at;
    for (let i = 0, q = v + 3; i < nw; i++, q += 2 + a[q + 1]!) need += a[q + 1]!;
    if (need > this.out.length) this.out = new Int32Array(2 * need);
    const out = this.out;
    const words = this.words;
    let k = 0;
    // places in order; the written ones (ascending by name, as the cut's order is not) looked up among the value's few
    for (let p = 0; p < this.count; p++) {
      const name = this.cut[2 * p]!;
      let q = v + 3;
      let i = 0;
      for (; i < nw && a[q]! !== name; i++) q += 2 + a[q + 1]!;
      if (i < nw) {
        const len = a[q + 1]!;
        for (let j = 0; j < len; j++) out[k++] = a[q + 2 + j]!;
      } else {
        const to = this.endOf(p);
        for (let j = this.cut[2 * p + 1]!; j < to; j++) out[k++] = words[j]!;
      }
    }
    return k;
  }

  /**
   * `reuse` where every place value `v` changed is a place of the state being expanded with as many
   * words: the state's own shared words with those places written over (their count returned). -1
   * otherwise (a place of another length, or one the state does not have): `reuse` puts the
   * successor together place by place.
   */
  private patched(v: number, nw: number): number {
    const a = this.values.a;
    // the places cover the shared words from the first (`cut`'s promise): else place by place
    if (this.cut[1] !== 0) return -1;
    for (let i = 0, q = v + 3; i < nw; i++, q += 2 + a[q + 1]!) {
      const p = this.byName.get(a[q]!);
      if (p < 0 || this.endOf(p) - this.cut[2 * p + 1]! !== a[q + 1]!) return -1;
    }
    const n = this.at;
    if (n > this.out.length) this.out = new Int32Array(2 * n);
    const out = this.out;
    const words = this.words;
    for (let j = 0; j < n; j++) out[j] = words[j]!;
    for (let i = 0, q = v + 3; i < nw; i++, q += 2 + a[q + 1]!) {
      const from = this.cut[2 * this.byName.get(a[q]!) + 1]!;
      const len = a[q + 1]!;
      for (let j = 0; j < len; j++) out[from + j] = a[q + 2 + j]!;
    }
    return n;
  }

  /**
   * Keep the step just run from the state being expanded: it read (or wrote) the places `reads`;
   * its successor's shared words are `next[0..at)`, thread t's new word `own`, its violations those
   * of coarse value `coarse` (-1: none). Returns the words kept (0: no entry — also when a place
   * not in `reads` changed, which the promise rules out: kept to the coarse key, as K3 keeps it).
   */
  record(h: number, reads: Int32Array, next: Int32Array, at: number, own: number, coarse: number): number {
    const n2 = this.cutInto(next, at, 'cut2');
    if (n2 !== this.count) return 0;
    const cut = this.cut;
    const cut2 = this.cut2;
    for (let p = 0; p < n2; p++) if (cut[2 * p] !== cut2[2 * p]) return 0;
    for (let p = 0; p < n2; p++) if (!this.samePlace(p, next, at) && !has(reads, cut[2 * p]!)) return 0;
    let s = this.sets.add(reads, reads.length);
    if (s < 0) s = ~s;
    else this.setNames[s] = reads.slice();
    const list = (this.setsOf[h] ??= []);
    if (!list.includes(s)) list.push(s);
    const values = this.values;
    const v = values.push(own);
    values.push(coarse);
    const countAt = values.push(0);
    let nw = 0;
    for (let p = 0; p < n2; p++) {
      if (this.samePlace(p, next, at)) continue;
      const from2 = cut2[2 * p + 1]!;
      const to2 = p + 1 < n2 ? cut2[2 * p + 3]! : at;
      values.push(cut[2 * p]!);
      values.push(to2 - from2);
      for (let j = from2; j < to2; j++) values.push(next[j]!);
      nw++;
    }
    values.a[countAt] = nw;
    const kn = this.keyOf(h, s);
    const e = this.entries.add(this.key, kn);
    const id = e < 0 ? ~e : e;
    while (this.valueAt.length <= id) this.valueAt.push(-1);
    this.valueAt.a[id] = v;
    return values.length - v + kn;
  }
}

/** Whether the ascending list has x. */
function has(list: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const y = list[mid]!;
    if (y === x) return true;
    if (y < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Place names (opaque numbers) → their index in a state's cut: open addressing, emptied per state by a stamp. */
class PlaceIndex {
  private keys = new Int32Array(256);
  private vals = new Int32Array(256);
  private stamps = new Int32Array(256);
  private stamp = 0;

  /** Index the `count` places of `cut` (name at [2i]). */
  fill(cut: Int32Array, count: number): void {
    if (4 * count > this.keys.length) {
      let cap = this.keys.length;
      while (cap < 4 * count) cap *= 2;
      this.keys = new Int32Array(cap);
      this.vals = new Int32Array(cap);
      this.stamps = new Int32Array(cap);
      this.stamp = 0;
    }
    this.stamp++;
    const mask = this.keys.length - 1;
    for (let i = 0; i < count; i++) {
      const name = cut[2 * i]!;
      let at = slotOf(name) & mask;
      while (this.stamps[at] === this.stamp) at = (at + 1) & mask;
      this.stamps[at] = this.stamp;
      this.keys[at] = name;
      this.vals[at] = i;
    }
  }

  /** The index of the place named `name`, or -1. */
  get(name: number): number {
    const mask = this.keys.length - 1;
    for (let at = slotOf(name) & mask; this.stamps[at] === this.stamp; at = (at + 1) & mask) if (this.keys[at] === name) return this.vals[at]!;
    return -1;
  }
}

function slotOf(name: number): number {
  const h = Math.imul(name ^ (name >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}
