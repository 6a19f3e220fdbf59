/**
 * The visited set of a search whose machine lays its states' words out as shared words then
 * one word per thread (`Machine.stepMemo.threadsAt`): a state is kept as a row of T + 1
 * numbers — its shared words' number in `shared` (a WordTable: each distinct run of shared
 * words is packed once, however many states hold it) and its T thread words. A step reused by
 * the step memo (step-memo.ts) gives its successor as such a row (the successor's shared
 * number, recorded once, and this state's thread words with the stepping thread's new one), and
 * the row is found here by T + 1 numbers: no copy and no hash of the full words.
 *
 * States whose words are not laid out so (`threadsAt` -1, or not T words after it) are kept as all their words in
 * `shared`, their row's first number being `~` that number (the rest 0): `threadsAt` is a
 * function of the words, so such a state never equals a laid-out one.
 *
 * The table also answers as core's WordTable does (`add`, `wordsOf`, `bytesOf`, `size`), by full
 * words: the parallel search's worker that takes over the one-thread search's visited set
 * (parallel.ts `handOver`) keeps adding to it so. Ids are given in insertion order.
 */
import { rehashed, WordTable } from '@kreplay/core';

const EMPTY = 0;

/** A visited set by words: core's WordTable, or a StateTable. */
export type VisitedSet = Pick<WordTable, 'add' | 'wordsOf' | 'bytesOf' | 'size' | 'bytes'>;

export class StateTable {
  /** The shared words of every state (and all the words of a state not laid out in threads), numbered. */
  readonly shared = new WordTable();
  /** Per id, its row of `width` numbers. */
  private rows: Int32Array<ArrayBuffer>;
  private count = 0;
  /** Slot k is [2k] = id + 1 (0: empty), [2k + 1] = the row's hash; at most half the slots are used. */
  private slots = new Int32Array(2 * 4096);
  /** Numbers per row: the shared number, then one word per thread. */
  readonly width: number;
  /** A row being put together (`add`). */
  private readonly row: Int32Array;
  private scratch = new Int32Array(256);

  constructor(
    readonly threads: number,
    private readonly threadsAt: (words: Int32Array, n: number) => number,
  ) {
    this.width = threads + 1;
    this.rows = new Int32Array(this.width * 1024);
    this.row = new Int32Array(this.width);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the table keeps: the packed shared words and the rows. */
  get bytes(): number {
    return this.shared.bytes + 4 * this.width * this.count;
  }

  /** The row of state `id`: its numbers are `rowData[id * width ..]` (read, not kept: the array is replaced as it grows). */
  get rowData(): Int32Array {
    return this.rows;
  }

  /** The state whose words are `words[from..to)` (as WordTable.add: a new id, or `~id` when it was there). */
  add(words: Int32Array, to: number, from = 0): number {
    if (from !== 0) {
      const n = to - from;
      if (n > this.scratch.length) this.scratch = new Int32Array(Math.max(n, 2 * this.scratch.length));
      for (let i = 0; i < n; i++) this.scratch[i] = words[from + i]!;
      words = this.scratch;
      to = n;
    }
    const row = this.row;
    const at = this.threadsAt(words, to);
    if (at < 0 || at !== to - this.threads) {
      const id = this.shared.add(words, to);
      row.fill(0);
      row[0] = ~(id < 0 ? ~id : id);
    } else {
      const id = this.shared.add(words, at);
      row[0] = id < 0 ? ~id : id;
      for (let u = 0; u < this.threads; u++) row[1 + u] = words[at + u]!;
    }
    return this.addRow(row);
  }

  /** The state whose row is `row[0..width)` (a new id, or `~id` when it was there). */
  addRow(row: Int32Array): number {
    const w = this.width;
    let h = Math.imul(row[0]! ^ 0x9e3779b9, 0x85ebca6b);
    for (let i = 1; i < w; i++) h = Math.imul(h ^ row[i]! ^ (h >>> 15), 0xc2b2ae35);
    h ^= h >>> 16;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let at = h & mask;
    for (; ; at = (at + 1) & mask) {
      const slot = slots[2 * at]!;
      if (slot === EMPTY) break;
      if (slots[2 * at + 1] === h && this.same(slot - 1, row)) return ~(slot - 1);
    }
    const id = this.count++;
    if ((id + 1) * w > this.rows.length) {
      const grown = new Int32Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    const rows = this.rows;
    for (let i = 0, base = id * w; i < w; i++) rows[base + i] = row[i]!;
    slots[2 * at] = id + 1;
    slots[2 * at + 1] = h;
    if (this.count * 4 > slots.length) this.slots = rehashed(slots);
    return id;
  }

  /** Whether state `id`'s row is `row`. */
  private same(id: number, row: Int32Array): boolean {
    const w = this.width;
    const rows = this.rows;
    for (let i = 0, base = id * w; i < w; i++) if (rows[base + i] !== row[i]) return false;
    return true;
  }

  /** The words of state `id` into `out` (which must hold `bytesOf(id)` words); returns their count. */
  wordsOf(id: number, out: Int32Array): number {
    const base = id * this.width;
    const s = this.rows[base]!;
    if (s < 0) return this.shared.wordsOf(~s, out);
    let n = this.shared.wordsOf(s, out);
    for (let u = 1; u <= this.threads; u++) out[n++] = this.rows[base + u]!;
    return n;
  }

  /** A bound on state `id`'s word count. */
  bytesOf(id: number): number {
    const s = this.rows[id * this.width]!;
    return s < 0 ? this.shared.bytesOf(~s) : this.shared.bytesOf(s) + this.threads;
  }
}
