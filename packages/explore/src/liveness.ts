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

/**
 * Strongly connected components (iterative Tarjan): the component id of each node, whether it
 * lies on a cycle, and per node the threads (bit t) that can still finish from it — that have
 * finished there or in a node it leads to. Tarjan completes a component only after every
 * component it leads to, so a component's threads are its members' finished ones and those of
 * the components its edges leave to, known by then: no reverse graph, no second pass.
 *
 * Its stacks are typed arrays of n entries (each node is on each at most once): a search's
 * graph has up to millions of nodes, and growing JS arrays that long, or memory touched for the
 * first time, cost more than the walk. A node visited and in no component yet is on the stack.
 */
export function sccs(g: LiveGraph, rows: EdgeRows = g.rows()): { comp: Int32Array; cyclic: Uint8Array; can: Int32Array } {
  const n = g.size;
  const { start, to } = rows;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const cyclic = new Uint8Array(n);
  const can = new Int32Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  // the depth-first walk: per level, the node and the position of its next edge
  const workNode = new Int32Array(n);
  const workEdge = new Int32Array(n);
  let counter = 0;
  let comps = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    workNode[0] = root;
    workEdge[0] = start[root]!;
    let wp = 1;
    while (wp > 0) {
      const v = workNode[wp - 1]!;
      let e = workEdge[wp - 1]!;
      if (index[v] === -1) {
        index[v] = low[v] = counter++;
        stack[sp++] = v;
      }
      const end = start[v + 1]!;
      let descended = false;
      while (e < end) {
        const w = to[e++]!;
        if (w === v) cyclic[v] = 1;
        if (index[w] === -1) {
          workEdge[wp - 1] = e;
          workNode[wp] = w;
          workEdge[wp] = start[w]!;
          wp++;
          descended = true;
          break;
        }
        if (comp[w] === -1) low[v] = Math.min(low[v]!, index[w]!);
      }
      if (descended) continue;
      wp--;
      if (low[v] === index[v]) {
        // the component is the stack from v up
        const top = sp;
        do sp--;
        while (stack[sp] !== v);
        for (let k = sp; k < top; k++) comp[stack[k]!] = comps;
        let bits = 0;
        for (let k = sp; k < top; k++) {
          const m = stack[k]!;
          bits |= g.finishedOf(m);
          for (let i = start[m]!, mEnd = start[m + 1]!; i < mEnd; i++) if (comp[to[i]!] !== comps) bits |= can[to[i]!]!;
        }
        for (let k = sp; k < top; k++) {
          can[stack[k]!] = bits;
          if (top - sp > 1) cyclic[stack[k]!] = 1;
        }
        comps++;
      }
      if (wp > 0) {
        const parent = workNode[wp - 1]!;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
    }
  }
  return { comp, cyclic, can };
}

/**
 * Whether the graph has no cycle (a self-loop is one): Kahn's walk, which takes a node once every
 * edge into it has been taken, takes every node exactly when there is none.
 */
export function acyclic(n: number, { start, to }: EdgeRows): boolean {
  const m = start[n]!;
  const into = new Int32Array(n);
  for (let e = 0; e < m; e++) into[to[e]!]!++;
  const queue = new Int32Array(n);
  let tail = 0;
  for (let v = 0; v < n; v++) if (into[v] === 0) queue[tail++] = v;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    for (let e = start[v]!, end = start[v + 1]!; e < end; e++) if (--into[to[e]!]! === 0) queue[tail++] = to[e]!;
  }
  return tail === n;
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
  // most graphs of a terminating model have no cycle at all, and proving that (Kahn) costs about
  // half of the components' walk: no cycle, no livelock
  if (acyclic(n, rows)) return { sightings, limited };
  const { comp, cyclic, can } = sccs(g, rows);
  if (!cyclic.includes(1)) return { sightings, limited };

  for (let t = 0; t < g.threadCount; t++) {
    // a daemon (ThreadInfo.daemon) serves the others and has no end to reach
    if (machine.threads[t]?.daemon === true) continue;
    const bit = 1 << t;
    const cands: number[] = [];
    for (let v = 0; v < n; v++) if (cyclic[v] && !(can[v]! & bit)) cands.push(v);
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
