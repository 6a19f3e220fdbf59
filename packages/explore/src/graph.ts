/**
 * The explored state graph: one node per distinct state (by Machine.key), one edge per
 * (state, thread) step taken. Liveness (livelock) is judged on it. Each node keeps the
 * shortest path found to it (parent pointer, thread, depth), so schedules to any state can
 * be rebuilt without keeping states.
 *
 * Storage is flat and typed (growable Int32Arrays, edges as per-node linked lists in three
 * parallel arrays): a search adds a node or an edge without allocating an object, which is
 * what keeps the garbage collector out of the exhaustive search's inner loop. A search that
 * adds all of a node's edges at once, nodes in id order (the breadth-first one: `openRow`),
 * has them stored as compressed rows as they come instead: two pushes per edge, none per node.
 */
import type { Machine } from '@kreplay/core';
import type { Schedule } from './types.js';
import { grownInt32, WordTable } from '@kreplay/core';
import { StateTable, type VisitedSet } from './state-table.js';

/** Longest schedule a strategy follows unless told otherwise (a guard against models that never stop). */
export const DEFAULT_MAX_DEPTH = 10_000;

/** A growable Int32Array: amortised O(1) push, indexed reads without bounds objects. */
export class IntVec {
  a: Int32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.a = new Int32Array(capacity);
  }

  push(v: number): number {
    if (this.length === this.a.length) this.a = grownInt32(this.a, this.length + 1);
    this.a[this.length] = v;
    return this.length++;
  }

  /** Append `src[0..n)`. */
  pushAll(src: Int32Array, n: number): void {
    if (this.length + n > this.a.length) this.a = grownInt32(this.a, this.length + n);
    // a loop, not a subarray view per call and a set(): the calls copy a state's few dozen words
    const a = this.a;
    for (let i = 0, at = this.length; i < n; i++) a[at + i] = src[i]!;
    this.length += n;
  }
}

/** A growable Int8Array: a thread id (at most 30 threads, -1 for none) takes a byte, not four. */
export class ThreadVec {
  a = new Int8Array(4096);
  length = 0;

  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Int8Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
}

/** Out-edges in compressed rows: node v's edges are `thread[i]`, `to[i]` for start[v] ≤ i < start[v+1], in the order they were added. */
export interface EdgeRows {
  start: Int32Array;
  thread: Int32Array | Int8Array;
  to: Int32Array;
}

export class StateGraph {
  private readonly ids = new Map<string, number>();
  private readonly parentV = new IntVec();
  private readonly viaV = new ThreadVec();
  private readonly depthV = new IntVec();
  private readonly finishedV = new IntVec();
  /** Per node: its first and last edge (-1: none). Per edge: thread, destination, next edge of the same node. */
  private readonly headV = new IntVec();
  private readonly tailV = new IntVec();
  private readonly eThread = new ThreadVec();
  private readonly eTo = new IntVec(4096);
  private readonly eNext = new IntVec(4096);
  /**
   * Row mode (`openRow`): the node whose edges are being added (-1 before the first), and per
   * node up to it where its row starts among the edges. Undefined: per-node linked lists.
   */
  private rowStart: IntVec | undefined;
  private rowNode = -1;

  constructor(readonly threadCount: number) {}

  /** An empty graph for a machine's threads (thread sets are bitmasks: at most 30 threads). */
  static forMachine(machine: Machine<unknown>): StateGraph {
    const n = machine.threads.length;
    if (n > 30) throw new RangeError(`the explorer handles at most 30 threads (this scenario has ${n})`);
    return new StateGraph(n);
  }

  /**
   * Key this graph's states by rows (state-table.ts: a shared words' number and one word per
   * thread), by the machine's `threadsAt`; before the first state is reached.
   */
  keyByRows(threadsAt: (words: Int32Array, n: number) => number): StateTable {
    if (this.words) throw new Error('StateGraph.keyByRows: states were reached already');
    const t = new StateTable(this.threadCount, threadsAt);
    this.words = t;
    return t;
  }

  get size(): number {
    return this.parentV.length;
  }

  get edgeCount(): number {
    return this.eTo.length;
  }

  idOf(key: string): number | undefined {
    return this.ids.get(key);
  }

  parentOf(id: number): number {
    return this.parentV.a[id]!;
  }

  viaOf(id: number): number {
    return this.viaV.a[id]!;
  }

  depthOf(id: number): number {
    return this.depthV.a[id]!;
  }

  /** Bit t set when thread t has finished in that state. */
  finishedOf(id: number): number {
    return this.finishedV.a[id]!;
  }

  setFinished(id: number, mask: number): void {
    this.finishedV.a[id] = mask;
  }

  /**
   * The node for `key`, reached from `from` by thread `thread` (from = -1 for the initial
   * state). Keeps the shortest path seen. Returns the id and whether the node is new.
   */
  node(key: string, finishedMask: number, from: number, thread: number): { id: number; fresh: boolean } {
    const r = this.reach(key, from, thread);
    if (r >= 0) {
      this.finishedV.a[r] = finishedMask;
      return { id: r, fresh: true };
    }
    return { id: ~r, fresh: false };
  }

  /**
   * `node` without the result object: the id of a new node, or `~id` (negative) of a known one.
   * Finished bits of a new node start at 0 (set them with `setFinished` when it is expanded).
   */
  reach(key: string, from: number, thread: number): number {
    const known = this.ids.get(key);
    if (known === undefined) {
      this.ids.set(key, this.parentV.length);
      return this.added(from, thread);
    }
    return this.again(known, from, thread);
  }

  /**
   * `reach` for a machine with `encode`: the state is its words `words[0..n)`. One graph keys
   * its states one way only (by key strings or by words).
   */
  reachWords(words: Int32Array, n: number, from: number, thread: number): number {
    this.words ??= new WordTable();
    const r = this.words.add(words, n);
    return r >= 0 ? this.added(from, thread) : this.again(~r, from, thread);
  }

  /** `reachWords` for a graph keyed by rows (`keyByRows`): the state is the row `row[0..T]`. */
  reachRow(row: Int32Array, from: number, thread: number): number {
    const r = (this.words as StateTable).addRow(row);
    return r >= 0 ? this.added(from, thread) : this.again(~r, from, thread);
  }

  private words: VisitedSet | undefined;

  /** The visited set of a graph keyed by words (`reachWords`): node id = the table's index. A search that takes over from this graph's keeps adding to it. */
  get wordTable(): VisitedSet | undefined {
    return this.words;
  }
  private out = new Int32Array(1024);

  /**
   * The words node `id` was reached with (`reachWords`) into `wordBuffer` (which the next call
   * overwrites, and may replace); returns their count. The graph must key its states by words.
   * (A count, not a view: a view is an object, and a search reads a million of them.)
   */
  readWords(id: number): number {
    const t = this.words!;
    const need = t.bytesOf(id);
    if (need > this.out.length) this.out = new Int32Array(Math.max(need, this.out.length * 2));
    return t.wordsOf(id, this.out);
  }

  /** Where `readWords` puts the words. */
  get wordBuffer(): Int32Array {
    return this.out;
  }

  /** Bytes the visited set keeps per state when states are keyed by words (0 with key strings). */
  get visitedBytes(): number {
    return this.words?.bytes ?? 0;
  }

  /**
   * Node `id`'s edges are added next, all of them and no other node's, and nodes are opened in
   * increasing id order (a node never opened has no edges): the edges are kept as compressed rows
   * as they come. A search that opens rows must open them before adding its first edge, and may
   * reach a node from no other node meanwhile; it takes each thread at most once per node (no
   * check for a repeated one here).
   */
  openRow(id: number): void {
    if (this.rowStart === undefined) {
      if (this.eTo.length > 0) throw new Error('StateGraph.openRow: edges were added as lists already');
      this.rowStart = new IntVec(Math.max(1024, this.parentV.a.length));
    }
    if (id <= this.rowNode) throw new Error(`StateGraph.openRow(${id}) after ${this.rowNode}: rows go in id order`);
    const starts = this.rowStart;
    // nodes skipped (not expanded) get empty rows
    while (starts.length <= id) starts.push(this.eTo.length);
    this.rowNode = id;
  }

  private added(from: number, thread: number): number {
    const id = this.parentV.length;
    this.parentV.push(from);
    this.viaV.push(thread);
    this.depthV.push(from < 0 ? 0 : this.depthV.a[from]! + 1);
    this.finishedV.push(0);
    if (this.rowStart === undefined) {
      this.headV.push(-1);
      this.tailV.push(-1);
    }
    if (from >= 0) this.edge(from, thread, id);
    return id;
  }

  private again(known: number, from: number, thread: number): number {
    if (from >= 0) {
      const d = this.depthV.a[from]! + 1;
      this.edge(from, thread, known);
      if (d < this.depthV.a[known]!) {
        this.parentV.a[known] = from;
        this.viaV.a[known] = thread;
        this.depthV.a[known] = d;
      }
    }
    return ~known;
  }

  private edge(from: number, thread: number, to: number): void {
    if (this.rowStart !== undefined) {
      if (from !== this.rowNode) throw new Error(`StateGraph: an edge from node ${from} while row ${this.rowNode} is open`);
      this.eTo.push(to);
      this.eThread.push(thread);
      return;
    }
    // At most one edge per thread (the model is deterministic): a short scan, no hashing.
    for (let e = this.headV.a[from]!; e >= 0; e = this.eNext.a[e]!) if (this.eThread.a[e] === thread) return;
    const e = this.eTo.push(to);
    this.eThread.push(thread);
    this.eNext.push(-1);
    const tail = this.tailV.a[from]!;
    if (tail < 0) this.headV.a[from] = e;
    else this.eNext.a[tail] = e;
    this.tailV.a[from] = e;
  }

  /** Every node's out-edges as compressed rows, in the order they were added (to read, not to change: they may be the graph's own storage). */
  rows(): EdgeRows {
    const n = this.size;
    if (this.rowStart !== undefined) {
      // the edges as they are (views: no copy of a few million words), the starts completed
      const m = this.edgeCount;
      const start = new Int32Array(n + 1);
      const opened = Math.min(this.rowStart.length, n);
      start.set(this.rowStart.a.subarray(0, opened));
      start.fill(m, opened);
      return { start, thread: this.eThread.a.subarray(0, m), to: this.eTo.a.subarray(0, m) };
    }
    const start = new Int32Array(n + 1);
    const thread = new Int8Array(this.edgeCount);
    const to = new Int32Array(this.edgeCount);
    let i = 0;
    for (let v = 0; v < n; v++) {
      start[v] = i;
      for (let e = this.headV.a[v]!; e >= 0; e = this.eNext.a[e]!) {
        thread[i] = this.eThread.a[e]!;
        to[i++] = this.eTo.a[e]!;
      }
    }
    start[n] = i;
    return { start, thread, to };
  }

  /** The shortest schedule found from the initial state to node `id`. */
  path(id: number): Schedule {
    const s: number[] = [];
    for (let n = id; this.parentV.a[n]! >= 0; n = this.parentV.a[n]!) s.push(this.viaV.a[n]!);
    return s.reverse();
  }
}

/** Sort each node's edges by thread (a node has at most one edge per thread, so rows are short: insertion sort). */
export function sortRowsByThread(start: Int32Array, thread: Int32Array, to: Int32Array): void {
  for (let v = 0; v + 1 < start.length; v++) {
    for (let i = start[v]! + 1; i < start[v + 1]!; i++) {
      const t = thread[i]!;
      const d = to[i]!;
      let j = i - 1;
      for (; j >= start[v]! && thread[j]! > t; j--) {
        thread[j + 1] = thread[j]!;
        to[j + 1] = to[j]!;
      }
      thread[j + 1] = t;
      to[j + 1] = d;
    }
  }
}

/**
 * A state graph put together from parts searched elsewhere (worker threads, shards), numbered
 * as the one-core breadth-first search numbers it: what livelock is judged on and schedules
 * are rebuilt from.
 */
export class RebuiltGraph {
  constructor(
    readonly threadCount: number,
    readonly size: number,
    private readonly parent: Int32Array,
    private readonly via: Int32Array,
    private readonly depth: Int32Array,
    private readonly finished: Int32Array,
    private readonly edgeRows: EdgeRows,
  ) {}

  rows(): EdgeRows {
    return this.edgeRows;
  }

  depthOf(id: number): number {
    return this.depth[id]!;
  }

  finishedOf(id: number): number {
    return this.finished[id]!;
  }

  path(id: number): Schedule {
    const s: number[] = [];
    for (let n = id; this.parent[n]! >= 0; n = this.parent[n]!) s.push(this.via[n]!);
    return s.reverse();
  }
}
