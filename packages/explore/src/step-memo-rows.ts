/**
 * Step memoization (step-memo.ts) for the one-thread exhaustive search, whose visited set keeps
 * states as rows (state-table.ts): a state's shared words are numbered once, by the visited set,
 * and the memo's key takes that number from it (no second interning). A step whose successor
 * leaves the other threads as they were is recorded as two numbers — the successor's shared
 * number and thread t's new word — and a reused step gives its successor as a row (those two and
 * this state's other thread words), which the visited set finds by T + 1 numbers: no word of the
 * successor is copied or hashed.
 *
 * The search asks a state's readiness and its steps by numbers alone first (`readiness`, `known`):
 * a thread's readiness is a function of the shared number and its word (StepMemo's promise), and
 * what its step reads of the other threads a function of their words, so both are kept by those
 * numbers; a state whose every step is known that way is never decoded.
 *
 * With `verify`, every hit is run as well and compared, as in step-memo.ts, and every readiness and
 * reading of other threads kept is asked again and compared.
 */

import type { Machine, StepOutcome } from '@kreplay/core';
import { THREAD_DONE, THREAD_ENABLED, WordTable } from '@kreplay/core';
import { readinessOf } from './ends.js';
import { IntVec } from './graph.js';
import type { StateTable } from './state-table.js';
import { KeyTable, MemoBase, NOTHING, RUN } from './step-memo.js';
import { PlaceMemo } from './step-memo-places.js';

/** `known`: the step is not known by numbers alone; decode the state and ask `step`. */
export const NOT_KNOWN = -2;

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
  /** Thread t's readiness (THREAD_*) by (shared number, t's word, t), and by (0, t's word, t) where it is a function of the word alone (`StepMemo.ownReadiness`). */
  private readonly ready = new KeyTable();
  private readonly ownReady = new KeyTable();
  /** What a step reads of thread u (`StepMemo.readsOf`) by (0, u's word, u): the number of those words in `readsIds`. */
  private readonly readsAt = new KeyTable();
  private readonly readsIds = new WordTable();
  /**
   * What thread t's step reads of the others, by the others' `readsIds` numbers alone: a chain from
   * node 0 per t, one link (node, the next other thread's number, t) → the next node per other
   * thread in order; the last node's `othersAt` is the `others` number + 1 (0: not yet known).
   * Keys of numbers only: no run of words is hashed where the others' words were met before.
   */
  private readonly othersBy = new KeyTable();
  private readonly othersAt = new IntVec(1 << 8);
  /** The state being expanded: what thread t's step reads of the others, numbered, + 1 at [t] (0: not yet known). */
  private readonly othersOf: Int32Array;
  private key = new Int32Array(64);

  constructor(
    machine: Machine<S>,
    private readonly table: StateTable,
    verify: boolean,
    maxWords: number,
  ) {
    super(machine, verify, maxWords);
    this.T = table.threads;
    this.threads = new Int32Array(this.T);
    this.othersOf = new Int32Array(this.T);
    this.row = new Int32Array(this.T + 1);
    this.places = this.memo.places && new PlaceMemo(this.memo.places, table.shared);
    this.othersAt.push(0); // node 0: every chain's start
  }

  /** The search expands the state `id` of its visited set now. */
  expanding(id: number): void {
    const rows = this.table.rowData;
    const base = id * (this.T + 1);
    this.sharedId = rows[base]!;
    this.othersOf.fill(0);
    if (this.sharedId < 0) return;
    for (let u = 0; u < this.T; u++) this.threads[u] = rows[base + 1 + u]!;
  }

  protected threadWord(t: number): number {
    return this.threads[t]!;
  }

  /**
   * Thread t's readiness (THREAD_*) in the state being expanded: kept by its word (where it is a
   * function of the word alone) or by (shared number, its word, t), else asked of the machine on
   * `state()` (the state decoded) and kept.
   */
  readiness(machine: Machine<S>, t: number, state: () => S): number {
    const b = this.threads[t]!;
    const shared = this.sharedId;
    let r = -1;
    if (shared < 0) return readinessOf(machine, state(), t);
    if (this.ownReady.find(0, b, t)) r = this.ownReady.value();
    else if (this.ready.find(shared, b, t)) r = this.ready.value();
    else if (this.stepKnown(t)) r = THREAD_ENABLED;
    if (r >= 0) {
      if (this.verify && readinessOf(machine, state(), t) !== r) {
        throw new Error(`step memoization: thread ${t}'s readiness differs from the one kept under its words (Machine.stepMemo's promise is broken)`);
      }
      return r;
    }
    const s = state();
    r = readinessOf(machine, s, t);
    if (this.full) return r;
    const own = this.memo.ownReadiness?.(s, t) === true;
    const table = own ? this.ownReady : this.ready;
    table.find(own ? 0 : shared, b, t);
    table.put(own ? 0 : shared, b, t, r);
    return r;
  }

  /** `readyMasks` (ends.ts) of the state being expanded, by `readiness`: the state decoded (`state()`) only for a readiness not kept. */
  readyMasks(machine: Machine<S>, state: () => S): { finished: number; enabled: number } {
    let finished = 0;
    let enabled = 0;
    for (let t = 0; t < this.T; t++) {
      const r = this.readiness(machine, t, state);
      if (r === THREAD_DONE) finished |= 1 << t;
      else if (r === THREAD_ENABLED) enabled |= 1 << t;
    }
    return { finished, enabled };
  }

  /**
   * Thread t's step from the state being expanded when its key is known by numbers alone (the
   * coarse key, or a finer one): -1, its successor in `row` and its violations in `found`. Else
   * NOT_KNOWN: the caller decodes the state and asks `step`. Never with `verify`, which runs every hit.
   */
  known(t: number): number {
    if (this.sharedId < 0 || this.verify) return NOT_KNOWN;
    const o = this.othersKnown(t);
    if (o < 0) return NOT_KNOWN;
    const b = this.threads[t]!;
    const c = t | (o << 5);
    if (!this.keys.find(this.sharedId, b, c)) {
      // as `step` asks them: the finer keys, while the memo records
      const pm = this.places;
      if (this.full || pm === undefined || !pm.prepare(this.sharedId)) return NOT_KNOWN;
      const h = pm.head(b, c);
      if (!this.placesHit(pm, h, t)) return NOT_KNOWN;
      this.steps++;
      this.keys.put(this.sharedId, b, c, this.recorded);
      return -1;
    }
    const v = this.keys.value();
    if (v === RUN) return NOT_KNOWN;
    this.steps++;
    this.hits++;
    this.found = this.violations.get(v) ?? NOTHING;
    this.fill(v, t);
    return -1;
  }

  /**
   * Whether thread t's step from the state being expanded has a key the memo knows (coarse, or
   * finer while it records): then t is enabled, for a key is kept only for a step that ran from a
   * state that agrees with this one on everything the step read, its `block` included.
   */
  private stepKnown(t: number): boolean {
    const o = this.othersKnown(t);
    if (o < 0) return false;
    const b = this.threads[t]!;
    const c = t | (o << 5);
    if (this.keys.find(this.sharedId, b, c)) return true;
    const pm = this.places;
    return !this.full && pm !== undefined && pm.prepare(this.sharedId) && pm.find(pm.head(b, c)) >= 0;
  }

  /** What thread t's step reads of the others in the state being expanded, numbered, from their words (`readsOf` kept by word); -1 when a word's is not known. */
  private othersKnown(t: number): number {
    const known = this.othersOf[t]!;
    if (known > 0) return known - 1;
    if (this.memo.readsOf === undefined) return -1;
    let node = 0;
    for (let u = 0; u < this.T; u++) {
      if (u === t) continue;
      if (!this.readsAt.find(0, this.threads[u]!, u)) return -1;
      const rid = this.readsAt.value();
      if (this.othersBy.find(node, rid, t)) {
        node = this.othersBy.value();
        continue;
      }
      const next = this.othersAt.push(0);
      this.othersBy.put(node, rid, t, next);
      node = next;
    }
    let id = this.othersAt.a[node]! - 1;
    if (id < 0) {
      id = this.others.number(this.key, this.concatOthers(t));
      this.othersAt.a[node] = id + 1;
    }
    this.othersOf[t] = id + 1;
    return id;
  }

  /** The words of what thread t's step reads of the others into `key` (the other threads' `readsIds` entries, in order); their count. */
  private concatOthers(t: number): number {
    let kn = 0;
    for (let u = 0; u < this.T; u++) {
      if (u === t) continue;
      this.readsAt.find(0, this.threads[u]!, u);
      const rid = this.readsAt.value();
      const need = kn + this.readsIds.bytesOf(rid);
      if (need > this.key.length) {
        const more = new Int32Array(2 * need);
        more.set(this.key);
        this.key = more;
      }
      kn += this.readsIds.wordsOf(rid, this.key.subarray(kn));
    }
    return kn;
  }

  /** What thread t's step reads of the others, from the decoded state; every other thread's `readsOf` kept by its word. */
  protected override otherReadsOf(s: S, t: number): number {
    const id = super.otherReadsOf(s, t);
    const readsOf = this.memo.readsOf;
    if (this.sharedId < 0 || readsOf === undefined) return id;
    for (let u = 0; u < this.T; u++) {
      if (u === t || this.readsAt.find(0, this.threads[u]!, u)) continue;
      let n = readsOf(s, u, this.key, 0);
      if (n > this.key.length) {
        this.key = new Int32Array(2 * n);
        n = readsOf(s, u, this.key, 0);
      }
      const rid = this.readsIds.add(this.key, n);
      this.readsAt.find(0, this.threads[u]!, u);
      this.readsAt.put(0, this.threads[u]!, u, rid < 0 ? ~rid : rid);
    }
    this.othersOf[t] = 0;
    const o = this.othersKnown(t);
    if (o !== id)
      throw new Error(
        `step memoization: what thread ${t}'s step reads of the others differs from the other threads' readsOf (Machine.stepMemo's promise is broken)`,
      );
    return id;
  }

  /** A hit: its successor as a row in `row` (-1 returned). */
  protected reuse(v: number, s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number): number {
    this.fill(v, t);
    if (this.verify) this.check(s, t, advance, encode);
    return -1;
  }

  /** Value v's successor, for thread t of the state being expanded, as a row in `row`. */
  private fill(v: number, t: number): void {
    const row = this.row;
    row[0] = this.values.a[2 * v]!;
    for (let u = 0; u < this.T; u++) row[1 + u] = this.threads[u]!;
    row[1 + t] = this.values.a[2 * v + 1]!;
  }

  /**
   * The finer keys' entry for thread t's step from the state being expanded (head `h`), if one
   * agrees with it: its successor in `row`, its violations in `found`, and it is recorded for the
   * coarse key too (`recorded`).
   */
  private placesHit(pm: PlaceMemo<S>, h: number, t: number): boolean {
    const v = pm.find(h);
    if (v < 0) return false;
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
    return true;
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
    if (this.placesHit(pm, h, t)) {
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
