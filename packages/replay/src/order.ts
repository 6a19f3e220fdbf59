/**
 * The sorter between reading and replaying: a streaming k-way merge of per-CPU FIFO queues
 * with a bounded reorder window.
 *
 * Order: timestamp, then CPU, then input order. Each CPU's records stay in input order
 * whatever their timestamps say (a CPU's queue is FIFO and only its head competes), so
 * per-CPU order is never broken. Text traces are already merged by the kernel's iterator,
 * so the window only has to absorb small disorder (trace-cmd's per-CPU streams, clock
 * jitter). At most `window` records wait; when one more arrives, the smallest head is
 * replayed. A record that arrives after the replay has already moved past its timestamp is
 * replayed in arrival order and reported as late (the caller treats its CPU as uncertain).
 */
export interface Ordered {
  ts: bigint;
  /** -1 for records that belong to no CPU (they sort before CPU 0 at equal timestamps). */
  cpu: number;
}

class Fifo<T> {
  items: T[] = [];
  head = 0;
  cpu = 0;
  get size(): number { return this.items.length - this.head; }
  push(x: T): void { this.items.push(x); }
  peek(): T { return this.items[this.head]!; }
  shift(): T {
    const x = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

export class ReorderBuffer<T> {
  /** By CPU + 1 (CPU -1: records of no particular CPU). */
  private readonly queues: Array<Fifo<T> | undefined> = [];
  /** Non-empty queues, scanned for the smallest head (a trace has few CPUs). */
  private active: Fifo<T>[] = [];
  private size = 0;
  private lastTs: bigint | undefined;
  /** Records replayed after a later timestamp had already been replayed. */
  late = 0;

  /** `tsOf`/`cpuOf` read a record's timestamp and CPU (defaults: its `ts` and `cpu`). */
  constructor(
    private readonly window: number,
    private readonly emit: (x: T, late: boolean) => void,
    private readonly tsOf: (x: T) => bigint = (x) => (x as Ordered).ts,
    private readonly cpuOf: (x: T) => number = (x) => (x as Ordered).cpu,
  ) {
    if (!(window >= 1)) throw new RangeError('reorder window must be at least 1');
  }

  push(x: T): void {
    const cpu = this.cpuOf(x);
    let q = this.queues[cpu + 1];
    if (!q) { q = new Fifo<T>(); q.cpu = cpu; this.queues[cpu + 1] = q; }
    if (q.size === 0) this.active.push(q);
    q.push(x);
    if (++this.size > this.window) this.popOne();
  }

  /** Replay everything still waiting (end of input). */
  drain(): void {
    while (this.size > 0) this.popOne();
  }

  private popOne(): void {
    const act = this.active;
    const tsOf = this.tsOf;
    let bi = 0;
    let best = act[0]!;
    let bestTs = tsOf(best.peek());
    for (let i = 1; i < act.length; i++) {
      const q = act[i]!;
      const ts = tsOf(q.peek());
      if (ts < bestTs || (ts === bestTs && q.cpu < best.cpu)) { best = q; bestTs = ts; bi = i; }
    }
    const x = best.shift();
    if (best.size === 0) { act[bi] = act[act.length - 1]!; act.pop(); }
    this.size--;
    const late = this.lastTs !== undefined && bestTs < this.lastTs;
    if (late) this.late++;
    else this.lastTs = bestTs;
    this.emit(x, late);
  }
}
