/**
 * The sorter between reading and replaying: a streaming merge with a bounded reorder window.
 *
 * Order: timestamp, then input order — and each CPU's records stay in input order whatever
 * their timestamps say. The buffer is kept sorted; a record is placed after every buffered
 * record that sorts before it, but never before a buffered record of its own CPU. Records
 * with one timestamp keep their input order: tracefs merges its per-CPU buffers by the
 * kernel's own clock, finer than the printed one. Which of them ran first the trace cannot
 * say, and replay does not assume it (ties.ts searches their orders). Text traces are
 * already merged by the kernel's iterator, so nearly every record goes to the end after
 * one comparison. At most `window` records wait; when one more arrives the first is
 * replayed. A record that arrives after the replay has already moved past its timestamp is
 * replayed in arrival order and reported as late (the caller treats its CPU as uncertain).
 */
/** What replay needs of a sorter: records in, replayed in order through the callback it was made with. */
export interface Sorter<T> {
  push(x: T, ts: bigint, cpu: number): void;
  /** Replay everything still waiting (end of input). */
  drain(): void;
  /** Records replayed after a later timestamp had already been replayed. */
  readonly late: number;
  /**
   * A run of records begins (replay calls it once per run, before the run's first push): a
   * sorter that keeps per-record state in a box of its own makes the box afresh here (InOrder).
   */
  fresh?(): void;
}

export interface Ordered {
  ts: bigint;
  /** -1 for records that belong to no CPU. */
  cpu: number;
}

export class ReorderBuffer<T> implements Sorter<T> {
  // a ring of parallel arrays (the sorter never reads its records, only the keys it was
  // given): slots are reused, so records only ever move when one arrives out of order
  private items: (T | undefined)[];
  private tss: bigint[];
  private cpus: number[];
  private mask: number;
  /** Physical slot of the first waiting record, and how many wait. */
  private head = 0;
  private count = 0;
  private lastTs: bigint | undefined;
  /** Records replayed after a later timestamp had already been replayed. */
  late = 0;

  constructor(
    private readonly window: number,
    private readonly emit: (x: T, late: boolean, ts: bigint) => void,
  ) {
    if (!(window >= 1)) throw new RangeError('reorder window must be at least 1');
    // window + 1 records wait at most; start small for huge windows and grow when full
    let cap = 16;
    while (cap < window + 2 && cap < 8192) cap *= 2;
    this.items = new Array<T | undefined>(cap).fill(undefined);
    this.tss = new Array<bigint>(cap).fill(0n);
    this.cpus = new Array<number>(cap).fill(0);
    this.mask = cap - 1;
  }

  push(x: T, ts: bigint, cpu: number): void {
    if (this.count === this.mask + 1) this.grow();
    const mask = this.mask;
    const n = this.count;
    const last = (this.head + n - 1) & mask;
    let at = (this.head + n) & mask;
    if (n > 0 && ts < this.tss[last]!) {
      // walk back past the records that sort after x, stopping at one of x's own CPU,
      // moving each one slot up
      let k = n - 1;
      for (; k >= 0; k--) {
        const j = (this.head + k) & mask;
        const tj = this.tss[j]!;
        const cj = this.cpus[j]!;
        if (cj === cpu || !(ts < tj)) break;
        this.items[at] = this.items[j];
        this.tss[at] = tj;
        this.cpus[at] = cj;
        at = j;
      }
    }
    this.items[at] = x;
    this.tss[at] = ts;
    this.cpus[at] = cpu;
    this.count = n + 1;
    if (this.count > this.window) this.popOne();
  }

  /** Replay everything still waiting (end of input). */
  drain(): void {
    while (this.count > 0) this.popOne();
  }

  private popOne(): void {
    const h = this.head;
    const x = this.items[h] as T;
    const ts = this.tss[h]!;
    this.items[h] = undefined;
    this.head = (h + 1) & this.mask;
    this.count--;
    const late = this.lastTs !== undefined && ts < this.lastTs;
    if (late) this.late++;
    else this.lastTs = ts;
    this.emit(x, late, ts);
  }

  /** Double the ring, its records first in order. */
  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const items = new Array<T | undefined>(cap).fill(undefined);
    const tss = new Array<bigint>(cap).fill(0n);
    const cpus = new Array<number>(cap).fill(0);
    for (let k = 0; k < this.count; k++) {
      const j = (this.head + k) & this.mask;
      items[k] = this.items[j];
      tss[k] = this.tss[j]!;
      cpus[k] = this.cpus[j]!;
    }
    this.items = items;
    this.tss = tss;
    this.cpus = cpus;
    this.mask = cap - 1;
    this.head = 0;
  }
}

/** InOrder met a record that ReorderBuffer would have moved: the input must be replayed again through ReorderBuffer. */
export class ReorderNeeded extends Error {
  constructor(
    readonly ts: bigint,
    readonly cpu: number,
  ) {
    super(`a record of CPU ${cpu} at ${ts} came after a later one of another CPU: the input is not in replay order`);
    this.name = 'ReorderNeeded';
  }
}

/**
 * ReorderBuffer's order without its window, for input that is already in that order (text
 * traces merged by the kernel's iterator, the trace.dat reader's k-way merge): each record is
 * replayed as it arrives, so none waits for `window` more (records that wait outlive young
 * collections). ReorderBuffer, whatever its window, appends a record behind the last one it
 * holds — the previous record pushed — when that one is of the same CPU or not later; while
 * every record is appended, the buffer is a queue and replays them in input order, with the
 * same `late` marks as here. The first record it would move instead (an earlier timestamp than
 * the previous record's, from another CPU) throws ReorderNeeded, before it is replayed.
 */
export class InOrder<T> implements Sorter<T> {
  late = 0;
  /**
   * The previous record pushed (`prev`, with `prevCpu`), and the last timestamp replayed in time
   * (as ReorderBuffer's): that is `prev` while `behind` is false — every record not late, the
   * common case — and `last` only after a late record. The timestamps are new bigints, one per
   * record; stored into the sorter itself, which outlives young collections, each store took a
   * write barrier's slow path (a remembered-set insertion). They live in a box made afresh per
   * run of records (`fresh`): a young object, whose stores need no remembered-set entry.
   */
  private ts: { prev: bigint | undefined; last: bigint | undefined } = { prev: undefined, last: undefined };
  private prevCpu = 0;
  private behind = false;

  constructor(private readonly emit: (x: T, late: boolean, ts: bigint) => void) {}

  fresh(): void {
    this.ts = { prev: this.ts.prev, last: this.ts.last };
  }

  push(x: T, ts: bigint, cpu: number): void {
    const box = this.ts;
    const prev = box.prev;
    if (prev !== undefined && ts < prev && cpu !== this.prevCpu) throw new ReorderNeeded(ts, cpu);
    const last = this.behind ? box.last : prev;
    const late = last !== undefined && ts < last;
    if (late) {
      this.late++;
      if (!this.behind) {
        box.last = prev;
        this.behind = true;
      }
    } else if (this.behind) this.behind = false;
    box.prev = ts;
    this.prevCpu = cpu;
    this.emit(x, late, ts);
  }

  drain(): void {}
}
