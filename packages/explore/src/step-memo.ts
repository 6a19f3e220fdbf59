/**
 * Step memoization for the exhaustive search on each worker (worker.ts; the one-thread search's,
 * in a shard too, is step-memo-rows.ts, which shares its keys and its numbering of other threads' reads)
 * (`ExploreOptions.memoSteps`, on unless turned off; the CLI's `--no-step-memo`): thread t's step from a state is keyed by what it reads — the state's
 * shared words (interned once per state), thread t's word, t, and what the machine says the step
 * reads of the other threads (`Machine.stepMemo`) — and a step met again under a key is not run:
 * its successor is the words recorded the first time with this state's other threads put back, and
 * its violations the ones recorded. docs/explore.md (session 28) has what it was measured to save.
 *
 * With `verify`, every hit is run as well and compared, word for word and violation for violation:
 * a difference is a broken `stepMemo` promise and throws.
 */
import type { Machine, ModelViolation, StepMemo, StepOutcome } from '@kreplay/core';
import { WordTable } from '@kreplay/core';

export const NOTHING: readonly ModelViolation[] = Object.freeze([]);
/** The value of a key whose step changed another thread's words (or, in step-memo-rows.ts, whose successor is not laid out in threads): it is always run. */
export const RUN = -1;
/** The values' arena is chunks of 2^CHUNK_BITS words (never copied as it grows); a value is its chunk and offset. */
const CHUNK_BITS = 20;
/**
 * Words the arena holds at most (256 MiB); past them no step is recorded, and a step whose key is
 * not known is run (as without memoization: the answer is the same). linux-6.12's
 * odirect-vs-fault-multipage, 3.1 M states, records ~120 MiB.
 */
export const MEMO_MAX_WORDS = 64 << 20;

/**
 * The keys: (the shared words' number, thread t's word, t and the number of what it reads of the
 * other threads) → a value, in one open-addressing table of four words a slot (no arena, no
 * packing: a key is three numbers).
 */
export class KeyTable {
  private slots = new Int32Array(4 * 4096);
  private count = 0;
  /** The slot `find` stopped at. */
  at = 0;

  /** True when the key is there (its value is `value()`); else `at` is the empty slot it goes in (`put`). */
  find(a: number, b: number, c: number): boolean {
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae35);
    h = Math.imul(h ^ c ^ (h >>> 13), 0x27d4eb2f);
    h ^= h >>> 16;
    const slots = this.slots;
    const mask = (slots.length >> 2) - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = 4 * i;
      const a1 = slots[k]!;
      if (a1 === 0) {
        this.at = k;
        return false;
      }
      if (a1 === a + 1 && slots[k + 1] === b && slots[k + 2] === c) {
        this.at = k;
        return true;
      }
    }
  }

  value(): number {
    return this.slots[this.at + 3]!;
  }

  /** Put the key `find` did not find in the slot it stopped at. */
  put(a: number, b: number, c: number, value: number): void {
    const k = this.at;
    this.slots[k] = a + 1;
    this.slots[k + 1] = b;
    this.slots[k + 2] = c;
    this.slots[k + 3] = value;
    if (++this.count * 2 > this.slots.length >> 2) this.grow();
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    const slots = this.slots;
    for (let k = 0; k < old.length; k += 4) {
      if (old[k] === 0) continue;
      this.find(old[k]! - 1, old[k + 1]!, old[k + 2]!);
      const at = this.at;
      slots[at] = old[k]!;
      slots[at + 1] = old[k + 1]!;
      slots[at + 2] = old[k + 2]!;
      slots[at + 3] = old[k + 3]!;
    }
  }
}

/**
 * What the workers' memo and the one-thread search's (step-memo-rows.ts) share: the machine's
 * promise, the keys, the numbering of what steps read of other threads, the successor's words,
 * the counters and the cap.
 */
export abstract class MemoBase<S> {
  protected readonly memo: StepMemo<S>;
  protected readonly others: OtherReads<S>;
  protected readonly keys = new KeyTable();
  /** Per value with violations (by its number), the step's violations. */
  protected readonly violations = new Map<number, readonly ModelViolation[]>();
  /** The successor's words (a hit's, or the one `encode` wrote on a miss). */
  protected out = new Int32Array(1024);
  hits = 0;
  steps = 0;
  /** The words recorded so far, and whether the next would pass `maxWords`: then no new key is recorded. */
  protected recordedWords = 0;
  full = false;
  /** The violations of the step `step` answered last. */
  found: readonly ModelViolation[] = NOTHING;
  /** The value `run` recorded last, or RUN. */
  protected recorded = RUN;

  constructor(
    machine: Machine<S>,
    protected readonly verify: boolean,
    protected readonly maxWords: number,
  ) {
    this.memo = machine.stepMemo!;
    this.others = new OtherReads(this.memo);
  }

  /** The state being expanded: its shared words' number (-1: not laid out in threads, not memoized). */
  protected sharedId = -1;

  get wordBuffer(): Int32Array {
    return this.out;
  }

  /** Thread t's word in the state being expanded. */
  protected abstract threadWord(t: number): number;
  /** Run the step; with `record`, keep what it gave (`recorded`). */
  protected abstract run(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number, record: boolean): number;
  /** A hit: the step recorded as value `v` given for the state being expanded (its violations are in `found`). */
  protected abstract reuse(v: number, s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number): number;

  /**
   * Thread t's step from `s` (the state the search expands): its successor as `run` or `reuse`
   * give it, and its violations in `found`.
   */
  step(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number): number {
    this.steps++;
    if (this.sharedId < 0) return this.run(s, t, advance, encode, false);
    const keys = this.keys;
    const b = this.threadWord(t);
    const c = t | (this.otherReadsOf(s, t) << 5);
    if (!keys.find(this.sharedId, b, c)) {
      if (this.full) return this.run(s, t, advance, encode, false);
      const n = this.miss(s, t, advance, encode, b, c);
      keys.put(this.sharedId, b, c, this.recorded);
      return n;
    }
    const v = keys.value();
    if (v === RUN) return this.run(s, t, advance, encode, false);
    this.hits++;
    this.found = this.violations.get(v) ?? NOTHING;
    return this.reuse(v, s, t, advance, encode);
  }

  /** The number of what thread t's step from s reads of the other threads (`OtherReads`); step-memo-rows.ts keeps it by the other threads' words. */
  protected otherReadsOf(s: S, t: number): number {
    return this.others.of(s, t);
  }

  /** A key not known: run the step and keep what it gave (`recorded`); step-memo-rows.ts first asks its finer keys. */
  protected miss(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number, _b: number, _c: number): number {
    return this.run(s, t, advance, encode, true);
  }

  protected encodeInto(s: S, encode: (s: S, out: Int32Array) => number): number {
    let n = encode(s, this.out);
    if (n > this.out.length) {
      this.out = new Int32Array(Math.max(n, 2 * this.out.length));
      n = encode(s, this.out);
    }
    return n;
  }

  /** `verify`: the successor a hit gave (`words`) and its violations (`found`) must be what the step gives (which it leaves in `out`). */
  protected compare(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number, words: Int32Array): void {
    const found = this.found;
    const r = advance(s, t);
    const n = this.encodeInto(r.state, encode);
    let same = n === words.length;
    for (let i = 0; same && i < n; i++) if (this.out[i] !== words[i]) same = false;
    if (!same || JSON.stringify(r.violations) !== JSON.stringify(found)) {
      throw new Error(
        `step memoization: thread ${t}'s step gave ${same ? 'other violations' : 'another successor'} than the step recorded under its key (Machine.stepMemo's promise is broken)`,
      );
    }
  }
}

export class StepMemoTable<S> extends MemoBase<S> {
  /** The shared words (before the threads') of every state expanded, numbered. */
  private readonly shared = new WordTable();
  /** The successors' words, each after its count, in chunks. */
  private readonly chunks: Int32Array[] = [new Int32Array(1 << 16)];
  private chunk = 0;
  private used = 0;
  /** The state being expanded: its words, and where its threads' words begin (-1: not memoized). */
  private words = new Int32Array(256);
  private n = 0;
  private at = -1;

  constructor(machine: Machine<S>, verify: boolean, maxWords = MEMO_MAX_WORDS) {
    super(machine, verify, maxWords);
  }

  /** The search decoded the state it expands now from `words[0..n)`. */
  expanding(words: Int32Array, n: number): void {
    if (n > this.words.length) this.words = new Int32Array(Math.max(n, 2 * this.words.length));
    for (let i = 0; i < n; i++) this.words[i] = words[i]!;
    this.n = n;
    this.at = this.memo.threadsAt(this.words, n);
    this.sharedId = -1;
    if (this.at < 0) return;
    const id = this.shared.add(this.words, this.at);
    this.sharedId = id < 0 ? ~id : id;
  }

  protected threadWord(t: number): number {
    return this.words[this.at + t]!;
  }

  /** A hit: its successor's words in `wordBuffer` (the count returned). */
  protected reuse(v: number, s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number): number {
    const T = this.n - this.at;
    const values = this.chunks[v >>> CHUNK_BITS]!;
    const from = v & ((1 << CHUNK_BITS) - 1);
    const vn = values[from]!;
    if (vn > this.out.length) this.out = new Int32Array(Math.max(vn, 2 * this.out.length));
    const out = this.out;
    for (let i = 0; i < vn; i++) out[i] = values[from + 1 + i]!;
    // this state's other threads, which the step leaves as they are
    const vat = vn - T;
    for (let u = 0; u < T; u++) if (u !== t) out[vat + u] = this.words[this.at + u]!;
    if (this.verify) this.check(s, t, advance, encode, vn);
    return vn;
  }

  protected run(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number, record: boolean): number {
    const r = advance(s, t);
    const n = this.encodeInto(r.state, encode);
    this.found = r.violations;
    if (!record) return n;
    const T = this.n - this.at;
    const out = this.out;
    const vat = this.memo.threadsAt(out, n);
    let others = vat === n - T;
    for (let u = 0; others && u < T; u++) if (u !== t && out[vat + u] !== this.words[this.at + u]) others = false;
    if (!others) {
      // the step rewrote another thread (or its successor is not laid out in threads): a function
      // of the key too (the promise), so every state with this key runs it
      this.recorded = RUN;
      return n;
    }
    const size = 1 << CHUNK_BITS;
    if (n + 1 > size) throw new Error(`step memoization: a state of ${n} words`);
    if (this.recordedWords + n + 1 > this.maxWords) {
      // the memo's memory is spent: this step and every key not yet known are run from now on
      this.full = true;
      this.recorded = RUN;
      return n;
    }
    this.recordedWords += n + 1;
    if (this.used + n + 1 > this.chunks[this.chunk]!.length) {
      if (this.used + n + 1 <= size) {
        // the first chunk grows until it is a chunk's size (a small search stays small)
        const grown = new Int32Array(size);
        grown.set(this.chunks[this.chunk]!.subarray(0, this.used));
        this.chunks[this.chunk] = grown;
      } else {
        if (this.chunk + 1 >= 1 << (31 - CHUNK_BITS)) throw new Error('step memoization: more values than its chunks can number');
        this.chunks.push(new Int32Array(size));
        this.chunk++;
        this.used = 0;
      }
    }
    const values = this.chunks[this.chunk]!;
    const at = this.used;
    values[at] = n;
    for (let i = 0; i < n; i++) values[at + 1 + i] = out[i]!;
    this.used = at + n + 1;
    this.recorded = (this.chunk << CHUNK_BITS) | at;
    if (r.violations.length > 0) this.violations.set(this.recorded, r.violations);
    return n;
  }

  /** `verify`: the hit's successor (in `out[0..vn)`) and violations must be what the step gives. */
  private check(s: S, t: number, advance: (s: S, t: number) => StepOutcome<S>, encode: (s: S, out: Int32Array) => number, vn: number): void {
    const memo = this.out.slice(0, vn);
    const found = this.found;
    this.compare(s, t, advance, encode, memo);
    this.out.set(memo);
    this.found = found;
  }
}

/** What steps read of the other threads (`StepMemo.otherReads`), numbered. */
export class OtherReads<S> {
  private readonly table = new WordTable();
  private key = new Int32Array(256);

  constructor(private readonly memo: StepMemo<S>) {}

  /** The number of what thread t's step from s reads of the other threads (T < 32, so t and it fit one word with 5 bits for t). */
  of(s: S, t: number): number {
    let key = this.key;
    let kn = this.memo.otherReads(s, t, key, 0);
    if (kn > key.length) {
      this.key = key = new Int32Array(Math.max(kn, 2 * key.length));
      kn = this.memo.otherReads(s, t, key, 0);
    }
    return this.number(key, kn);
  }

  /** The number of `key[0..kn)`, words `otherReads` wrote. */
  number(key: Int32Array, kn: number): number {
    // most steps read what the step before read (nothing, mostly): compared before it is hashed
    const last = this.lastKey;
    let same = kn === this.lastN;
    for (let i = 0; same && i < kn; i++) if (key[i] !== last[i]) same = false;
    if (same) return this.lastId;
    const id = this.table.add(key, kn);
    if (id >= 1 << 26) throw new Error('step memoization: more than 2^26 distinct reads of other threads');
    if (kn > last.length) this.lastKey = new Int32Array(Math.max(kn, 2 * last.length));
    this.lastKey.set(key.subarray(0, kn));
    this.lastN = kn;
    this.lastId = id < 0 ? ~id : id;
    return this.lastId;
  }

  /** What `othersOf` numbered last, and its number. */
  private lastKey = new Int32Array(64);
  private lastN = -1;
  private lastId = -1;
}
