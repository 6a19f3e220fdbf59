/**
 * The `livelock` rule, judged on the explored state graph (DESIGN.md): a reachable state
 * from which some thread can no longer reach its end under any schedule. A thread t is
 * livelocked at node c when c lies on a cycle and no path from c leads to a state where t
 * has finished (reverse reachability from those states). A cycle an adversarial scheduler
 * could repeat forever while t can still finish is therefore not a livelock. Stuck states
 * with no cycle at all end in deadlocks, which the `deadlock` rule reports.
 */
import type { Machine } from '@kreplay/core';
import type { EdgeRows } from './graph.js';

/** What livelock is judged on: a state graph's nodes (numbered in discovery order), their paths and edges. */
export interface LiveGraph {
  readonly size: number;
  readonly threadCount: number;
  rows(): EdgeRows;
  depthOf(id: number): number;
  finishedOf(id: number): number;
  path(id: number): number[];
}
import { threadLabel } from './ends.js';
import type { Schedule, Sighting } from './types.js';

/** Strongly connected components (iterative Tarjan); returns the component id of each node. */
export function sccs(g: LiveGraph, rows: EdgeRows = g.rows()): { comp: Int32Array; cyclic: Uint8Array } {
  const n = g.size;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const cyclic = new Uint8Array(n);
  const stack: number[] = [];
  const work: number[] = []; // pairs: node, next edge position
  let counter = 0;
  let comps = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    work.push(root, 0);
    while (work.length > 0) {
      const v = work[work.length - 2]!;
      let e = work[work.length - 1]!;
      if (e === 0 && index[v] === -1) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = 1;
      }
      const end = rows.start[v + 1]! - rows.start[v]!;
      let descended = false;
      while (e < end) {
        const w = rows.to[rows.start[v]! + e]!;
        e += 1;
        if (w === v) cyclic[v] = 1;
        if (index[w] === -1) {
          work[work.length - 1] = e;
          work.push(w, 0);
          descended = true;
          break;
        }
        if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
      }
      if (descended) continue;
      work.length -= 2;
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp[w] = comps;
          members.push(w);
        } while (w !== v);
        if (members.length > 1) for (const m of members) cyclic[m] = 1;
        comps++;
      }
      if (work.length > 0) {
        const parent = work[work.length - 2]!;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
    }
  }
  return { comp, cyclic };
}

/** The shortest cycle from c back to c inside its component, as the threads that step. */
function shortestCycle(rows: EdgeRows, comp: Int32Array, c: number): Schedule {
  const prev = new Map<number, [number, number]>();
  const queue = [c];
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi]!;
    for (let e = rows.start[v]!; e < rows.start[v + 1]!; e++) {
      const t = rows.thread[e]!;
      const w = rows.to[e]!;
      if (comp[w] !== comp[c]) continue;
      if (w === c) {
        const cyc = [t];
        for (let x = v; x !== c; x = prev.get(x)![0]) cyc.push(prev.get(x)![1]);
        return cyc.reverse();
      }
      if (!prev.has(w)) {
        prev.set(w, [v, t]);
        queue.push(w);
      }
    }
  }
  return [];
}

export interface LivelockSearch {
  /**
   * Confirms that thread t really cannot finish from node (a reduced exploration may have
   * pruned the path that finishes it). Returns 'limit' when it could not tell.
   */
  confirm?: (node: number, thread: number) => boolean | 'limit';
  maxConfirmations?: number;
}

export function findLivelocks<S>(g: LiveGraph, machine: Machine<S>, search: LivelockSearch = {}): { sightings: Sighting[]; limited: boolean } {
  const sightings: Sighting[] = [];
  let limited = false;
  const n = g.size;
  const rows = g.rows();
  const { comp, cyclic } = sccs(g, rows);
  if (!cyclic.includes(1)) return { sightings, limited };

  const inStart = new Int32Array(n + 1);
  for (let e = 0; e < rows.to.length; e++) inStart[rows.to[e]! + 1]!++;
  for (let v = 0; v < n; v++) inStart[v + 1]! += inStart[v]!;
  const fill = inStart.slice(0, n);
  const preds = new Int32Array(inStart[n]!);
  for (let v = 0; v < n; v++) for (let e = rows.start[v]!; e < rows.start[v + 1]!; e++) preds[fill[rows.to[e]!]!++] = v;

  // reverse reachability per thread, into arrays reused across threads (no growth per node)
  const canFinish = new Uint8Array(n);
  const queue = new Int32Array(n);
  for (let t = 0; t < g.threadCount; t++) {
    canFinish.fill(0);
    let tail = 0;
    for (let v = 0; v < n; v++) if (g.finishedOf(v) & (1 << t)) {
      canFinish[v] = 1;
      queue[tail++] = v;
    }
    for (let qi = 0; qi < tail; qi++) {
      const w = queue[qi]!;
      for (let i = inStart[w]!, e = inStart[w + 1]!; i < e; i++) {
        const v = preds[i]!;
        if (!canFinish[v]) {
          canFinish[v] = 1;
          queue[tail++] = v;
        }
      }
    }
    const cands: number[] = [];
    for (let v = 0; v < n; v++) if (cyclic[v] && !canFinish[v]) cands.push(v);
    // the least deep first (then the least id); without confirmations only that one is looked at
    const before = (a: number, b: number) => g.depthOf(a) - g.depthOf(b) || a - b;
    if (search.confirm) cands.sort(before);
    else if (cands.length > 1) cands[0] = cands.reduce((m, v) => (before(v, m) < 0 ? v : m));
    let tries = 0;
    for (const c of cands) {
      if (search.confirm) {
        if (tries++ >= (search.maxConfirmations ?? 64)) {
          limited = true;
          break;
        }
        const ok = search.confirm(c, t);
        if (ok === 'limit') limited = true;
        if (ok !== true) continue;
      }
      const cycle = shortestCycle(rows, comp, c);
      sightings.push({
        violation: {
          rule: 'livelock',
          message:
            `${threadLabel(machine as Machine<unknown>, t)} can no longer reach its end under any schedule, whatever the other threads do; ` +
            `the run is stuck in a ${cycle.length}-step cycle (${describeCycle(machine as Machine<unknown>, cycle)})`,
        },
        schedule: g.path(c),
        cycle,
        threads: [t],
        at: 'graph',
      });
      break;
    }
  }
  return { sightings, limited };
}

function describeCycle(machine: Machine<unknown>, cycle: Schedule): string {
  const who = [...new Set(cycle)].sort((a, b) => a - b).map((t) => machine.threads[t]?.name ?? `T${t}`);
  return `steps of ${who.join(', ')}`;
}
