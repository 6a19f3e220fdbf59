/**
 * Seeded random exploration for scenarios too large to exhaust: PCT (Burckhardt et al.,
 * ASPLOS 2010, "probabilistic concurrency testing"). Each run gives the threads distinct
 * random priorities and picks d-1 random change points; the highest-priority enabled thread
 * always runs, and at the i-th change point the running thread drops to priority i, below
 * every initial one. A thread that brings the run back to a state already on its path is
 * spinning: it drops below everyone (as a yield would), so spin loops do not eat the run.
 * Run r uses SplitMix32 stream (seed, r): the same seed always gives the same runs, and a
 * shard i/n runs exactly the runs r ≡ i (mod n) of them.
 */
import type { Machine } from '@kreplay/core';
import type { RunContext } from './context.js';
import { deadlockSighting } from './deadlock.js';
import { DEFAULT_MAX_DEPTH, StateGraph } from './graph.js';
import { SplitMix32 } from './prng.js';
import type { ExploreOptions } from './types.js';

export async function exploreRandom<S>(machine: Machine<S>, opts: ExploreOptions, ctx: RunContext): Promise<StateGraph> {
  const graph = StateGraph.forMachine(machine as Machine<unknown>);
  const T = graph.threadCount;
  ctx.distinct = () => graph.size;
  const seed = opts.seed ?? 0;
  const runs = opts.runs ?? 100;
  const d = Math.max(1, opts.pctDepth ?? 3);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  // PCT's change points fall in [1, k], k the expected run length: measured once on a
  // deterministic run, so that every run (and every shard) draws from the same range.
  const k = Math.max(8 * T, probeLength(machine, Math.min(maxDepth, 2000)));
  ctx.incomplete.add('random');

  const shard = opts.shard ?? { index: 0, count: 1 };
  for (let run = 0; run < runs && ctx.stopped === null; run++) {
    if (run % shard.count !== shard.index) continue;
    if (ctx.yieldDue) await ctx.pause();
    const rng = SplitMix32.forStream(seed, run);
    const prio = Array.from({ length: T }, (_, t) => d + t);
    for (let i = T - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [prio[i], prio[j]] = [prio[j]!, prio[i]!];
    }
    const change = new Map<number, number>();
    for (let i = 1; i < d; i++) change.set(1 + rng.below(k), d - i);
    let lowest = 0;

    let s = machine.initial();
    let key = machine.key(s);
    let node = graph.node(key, 0, -1, -1).id;
    ctx.visit(0);
    const onPath = new Set<string>([key]);
    const schedule: number[] = [];
    for (;;) {
      const next = Array.from({ length: T }, (_, t) => machine.next(s, t));
      let finished = 0;
      let pick = -1;
      next.forEach((n, t) => {
        if (!n) finished |= 1 << t;
        else if (n.enabled && (pick < 0 || prio[t]! > prio[pick]!)) pick = t;
      });
      graph.finished[node] = finished;
      if (finished === (1 << T) - 1) {
        ctx.book.addAll(machine.final?.(s) ?? [], [...schedule], 'final');
        opts.onEnd?.(key, 'terminal');
        break;
      }
      if (pick < 0) {
        ctx.book.add(deadlockSighting(machine, next, [...schedule]));
        opts.onEnd?.(key, 'deadlock');
        break;
      }
      if (schedule.length >= maxDepth) {
        ctx.incomplete.add('max-depth');
        break;
      }
      const r = machine.step(s, pick);
      schedule.push(pick);
      s = r.state;
      key = machine.key(s);
      node = graph.node(key, 0, node, pick).id;
      if (!ctx.visit(schedule.length)) break;
      if (r.violations.length > 0) ctx.book.addAll(r.violations, [...schedule], 'step');
      const low = change.get(schedule.length);
      if (low !== undefined) prio[pick] = low;
      if (onPath.has(key)) prio[pick] = --lowest;
      else onPath.add(key);
    }
    ctx.endExecution();
  }
  return graph;
}

/** Length of one run that keeps running the same thread while it can (lowest id otherwise). */
function probeLength<S>(machine: Machine<S>, maxDepth: number): number {
  let s = machine.initial();
  const seen = new Set<string>([machine.key(s)]);
  let last = 0;
  for (let n = 0; n < maxDepth; n++) {
    const T = machine.threads.length;
    let t = machine.next(s, last)?.enabled ? last : -1;
    for (let u = 0; u < T && t < 0; u++) if (machine.next(s, u)?.enabled) t = u;
    if (t < 0) return n;
    s = machine.step(s, t).state;
    last = t;
    const key = machine.key(s);
    if (seen.has(key)) {
      // a spin: let the next thread run, as the PCT runs themselves do
      last = (t + 1) % T;
    }
    seen.add(key);
  }
  return maxDepth;
}
