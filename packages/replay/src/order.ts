/**
 * The sorter between reading and replaying: a streaming merge with a bounded reorder window.
 *
 * Order: timestamp, then CPU, then input order — and each CPU's records stay in input order
 * whatever their timestamps say. The buffer is kept sorted; a record is placed after every
 * buffered record that sorts before it, but never before a buffered record of its own CPU.
 * Text traces are already merged by the kernel's iterator, so nearly every record goes to
 * the end after one comparison. At most `window` records wait; when one more arrives the
 * first is replayed. A record that arrives after the replay has already moved past its
 * timestamp is replayed in arrival order and reported as late (the caller treats its CPU as
 * uncertain).
 */
export interface Ordered {
  ts: bigint;
  /** -1 for records that belong to no CPU (they sort before CPU 0 at equal timestamps). */
  cpu: number;
}

export class ReorderBuffer<T> {
  // parallel arrays: the sorter never reads its records, only the keys it was given
  private items: T[] = [];
  private tss: bigint[] = [];
  private cpus: number[] = [];
  private head = 0;
  private lastTs: bigint | undefined;
  /** Records replayed after a later timestamp had already been replayed. */
  late = 0;

  constructor(private readonly window: number, private readonly emit: (x: T, late: boolean) => void) {
    if (!(window >= 1)) throw new RangeError('reorder window must be at least 1');
  }

  push(x: T, ts: bigint, cpu: number): void {
    const n = this.items.length;
    if (n === this.head || ts > this.tss[n - 1]! || (ts === this.tss[n - 1]! && cpu >= this.cpus[n - 1]!)) {
      this.items.push(x);
      this.tss.push(ts);
      this.cpus.push(cpu);
    } else {
      // walk back past the records that sort after x, stopping at one of x's own CPU
      let j = n - 1;
      while (j >= this.head && this.cpus[j] !== cpu && (ts < this.tss[j]! || (ts === this.tss[j]! && cpu < this.cpus[j]!))) j--;
      this.items.splice(j + 1, 0, x);
      this.tss.splice(j + 1, 0, ts);
      this.cpus.splice(j + 1, 0, cpu);
    }
    if (this.items.length - this.head > this.window) this.popOne();
  }

  /** Replay everything still waiting (end of input). */
  drain(): void {
    while (this.items.length > this.head) this.popOne();
  }

  private popOne(): void {
    const h = this.head++;
    const x = this.items[h]!;
    const ts = this.tss[h]!;
    this.items[h] = undefined as T;
    if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.tss = this.tss.slice(this.head);
      this.cpus = this.cpus.slice(this.head);
      this.head = 0;
    }
    const late = this.lastTs !== undefined && ts < this.lastTs;
    if (late) this.late++;
    else this.lastTs = ts;
    this.emit(x, late);
  }
}
