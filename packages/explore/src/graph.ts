/**
 * The explored state graph: one node per distinct state (by Machine.key), one edge per
 * (state, thread) step taken. Liveness (livelock) is judged on it. Each node keeps the
 * shortest path found to it (parent pointer, thread, depth), so schedules to any state can
 * be rebuilt without keeping states.
 */
import type { Machine } from '@kreplay/core';
import type { Schedule } from './types.js';

/** Longest schedule a strategy follows unless told otherwise (a guard against models that never stop). */
export const DEFAULT_MAX_DEPTH = 10_000;

export class StateGraph {
  private readonly ids = new Map<string, number>();
  readonly parent: number[] = [];
  readonly via: number[] = [];
  readonly depth: number[] = [];
  /** Bit t set when thread t has finished in that state. */
  readonly finished: number[] = [];
  /** Outgoing edges, flattened pairs [thread, dst, thread, dst, ...]. */
  readonly out: number[][] = [];

  constructor(readonly threadCount: number) {}

  /** An empty graph for a machine's threads (thread sets are bitmasks: at most 30 threads). */
  static forMachine(machine: Machine<unknown>): StateGraph {
    const n = machine.threads.length;
    if (n > 30) throw new RangeError(`the explorer handles at most 30 threads (this scenario has ${n})`);
    return new StateGraph(n);
  }

  get size(): number {
    return this.ids.size;
  }

  idOf(key: string): number | undefined {
    return this.ids.get(key);
  }

  /**
   * The node for `key`, reached from `from` by thread `thread` (from = -1 for the initial
   * state). Keeps the shortest path seen. Returns the id and whether the node is new.
   */
  node(key: string, finishedMask: number, from: number, thread: number): { id: number; fresh: boolean } {
    const d = from < 0 ? 0 : this.depth[from]! + 1;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
      this.parent.push(from);
      this.via.push(thread);
      this.depth.push(d);
      this.finished.push(finishedMask);
      this.out.push([]);
      if (from >= 0) this.edge(from, thread, id);
      return { id, fresh: true };
    }
    if (from >= 0) {
      this.edge(from, thread, id);
      if (d < this.depth[id]!) {
        this.parent[id] = from;
        this.via[id] = thread;
        this.depth[id] = d;
      }
    }
    return { id, fresh: false };
  }

  private edge(from: number, thread: number, to: number): void {
    const out = this.out[from]!;
    // At most one edge per thread (the model is deterministic): a short scan, no hashing.
    for (let e = 0; e < out.length; e += 2) if (out[e] === thread) return;
    out.push(thread, to);
  }

  /** The shortest schedule found from the initial state to node `id`. */
  path(id: number): Schedule {
    const s: number[] = [];
    for (let n = id; this.parent[n]! >= 0; n = this.parent[n]!) s.push(this.via[n]!);
    return s.reverse();
  }
}
