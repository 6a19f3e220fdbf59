/**
 * Step memoization (step-memo.ts) for the one-thread exhaustive search, whose visited set keeps
 * states as rows (state-table.ts): a state's shared words are numbered once, by the visited set,
 * and the memo's key takes that number from it (no second interning). A step whose successor
 * leaves the other threads as they were is recorded as two numbers — the successor's shared
 * number and thread t's new word — and a reused step gives its successor as a row (those two and
 * this state's other thread words), which the visited set finds by T + 1 numbers: no word of the
 * successor is copied or hashed.
 *
 * With `verify`, every hit is run as well and compared, as in step-memo.ts.
 */
import type { Machine, StepOutcome } from '@kreplay/core';
import { IntVec } from './graph.js';
import type { StateTable } from './state-table.js';
import { MemoBase, NOTHING, RUN } from './step-memo.js';
import { PlaceMemo } from './step-memo-places.js';

export class StepMemoRows<S> extends MemoBase<S> {
  /** Per value v: the successor's shared number at [2v], thread t's new word at [2v + 1]. */
  private readonly values = new IntVec(1 << 12);
  private readonly T: number;
  /** The state being expanded: its thread words. */
  private readonly threads: Int32Array;
  /** The successor as a row (`step` returned -1). */
  readonly row: Int32Array;
  /** Finer keys, where the machine offers them (step-memo-places.ts). */
  private readonly places: PlaceMemo<S> | undefined;
  /** How many words `run` encoded last. */
  private lastN = 0;

  constructor(
    machine: Machine<S>,
    private readonly table: StateTable,
    verify: boolean,
    maxWords: number,
  ) {
    super(machine, verify, maxWords);
    this.T = table.threads;
    this.threads = new Int32Array(this.T);
    this.row = new Int32Array(this.T + 1);
    this.places = this.memo.places && new PlaceMemo(this.memo.places, table.shared);
  }

  /** The search expands the state `id` of its visited set now. */
  expanding(id: number): void {
    const rows = this.table.rowData;
    const base = id * (this.T + 1);
    this.sharedId = rows[base]!;
    if (this.sharedId < 0) return;
    for (let u = 0; u < this.T; u++) this.threads[u] = rows[base + 1 + u]!;
  }

  protected threadWord(t: number): number {
    return this.threads[t]!;
  }

  /** A hit: its successor as a row in `row` (-1 returned). */
  protected reuse(v: number, s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number): number {
    const row = this.row;
    row[0] = this.values.a[2 * v]!;
    for (let u = 0; u < this.T; u++) row[1 + u] = this.threads[u]!;
    row[1 + t] = this.values.a[2 * v + 1]!;
    if (this.verify) this.check(s, t, advance, encode);
    return -1;
  }

  /**
   * A key the coarse table does not know: asked of the finer keys (step-memo-places.ts). A hit
   * there gives the successor (its shared words numbered by the visited set) and is kept under
   * the coarse key too; a miss runs the step noting what it read and keeps it under both.
   */
  protected override miss(
    s: S,
    t: number,
    advance: (s: S, t: number) => StepOutcome<S>,
    encode: (s: S, out: Int32Array) => number,
    b: number,
    c: number,
  ): number {
    const pm = this.places;
    if (pm === undefined || !pm.prepare(this.sharedId)) return this.run(s, t, advance, encode, true);
    const h = pm.head(b, c);
    const v = pm.find(h);
    if (v >= 0) {
      const n = pm.reuse(v);
      const id = n < 0 ? this.sharedId : this.table.shared.add(pm.out, n);
      const row = this.row;
      row[0] = id < 0 ? ~id : id;
      for (let u = 0; u < this.T; u++) row[1 + u] = this.threads[u]!;
      row[1 + t] = pm.values.a[v]!;
      const coarse = pm.values.a[v + 1]!;
      this.found = coarse >= 0 ? (this.violations.get(coarse) ?? NOTHING) : NOTHING;
      this.hits++;
      this.recorded = RUN;
      if (this.recordedWords + 2 <= this.maxWords) {
        this.recordedWords += 2;
        this.recorded = this.values.push(row[0]!) >> 1;
        this.values.push(row[1 + t]!);
        if (this.found.length > 0) this.violations.set(this.recorded, this.found);
      } else this.full = true;
      if (this.verify) this.check(s, t, advance, encode);
      return -1;
    }
    const noted = pm.advanceNoting(s, t);
    const n = this.run(s, t, () => noted.outcome, encode, true);
    if (n >= 0 || this.recorded === RUN || noted.all) return n;
    const vat = this.lastN - this.T;
    const kept = pm.record(h, noted.reads, this.out, vat, this.row[1 + t]!, this.violations.has(this.recorded) ? this.recorded : -1);
    this.recordedWords += kept;
    if (this.recordedWords > this.maxWords) this.full = true;
    return n;
  }

  /**
   * Run the step; with `record`, keep what it gave (`recorded`). Its successor as a row in `row`
   * (-1 returned), or as words in `wordBuffer` (their count returned) when they are not laid out
   * in threads.
   */
  protected run(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number, record: boolean): number {
    const r = advance(s, t);
    const n = this.encodeInto(r.state, encode);
    this.lastN = n;
    this.found = r.violations;
    this.recorded = RUN;
    const T = this.T;
    const out = this.out;
    const vat = this.memo.threadsAt(out, n);
    if (vat < 0 || vat !== n - T) return n;
    const id = this.table.shared.add(out, vat);
    const row = this.row;
    row[0] = id < 0 ? ~id : id;
    for (let u = 0; u < T; u++) row[1 + u] = out[vat + u]!;
    if (!record) return -1;
    // a step that rewrote another thread is a function of the key too (the promise), so every
    // state with this key runs it
    for (let u = 0; u < T; u++) if (u !== t && row[1 + u] !== this.threads[u]) return -1;
    if (this.recordedWords + 2 > this.maxWords) {
      // the memo's memory is spent: this step and every key not yet known are run from now on
      this.full = true;
      return -1;
    }
    this.recordedWords += 2;
    this.recorded = this.values.push(row[0]!) >> 1;
    this.values.push(row[1 + t]!);
    if (r.violations.length > 0) this.violations.set(this.recorded, r.violations);
    return -1;
  }

  /** `verify`: the hit's successor (`row`) and violations must be what the step gives. */
  private check(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number): void {
    const shared = this.table.shared;
    const words = new Int32Array(shared.bytesOf(this.row[0]!) + this.T);
    let n = shared.wordsOf(this.row[0]!, words);
    for (let u = 0; u < this.T; u++) words[n++] = this.row[1 + u]!;
    this.compare(s, t, advance, encode, words.subarray(0, n));
  }
}
