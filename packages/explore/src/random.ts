/**
 * Seeded random exploration for scenarios too large to exhaust: PCT (Burckhardt et al.,
 * ASPLOS 2010, "probabilistic concurrency testing"). Each run gives the threads distinct
 * random priorities and picks d-1 random change points; the highest-priority enabled thread
 * always runs, and at the i-th change point the running thread drops to priority i, below
 * every initial one. A thread that brings the run back to a state already on its path is
 * spinning: it drops below everyone (as a yield would), so spin loops do not eat the run.
 * Run r (from 0) uses SplitMix32 stream (seed, r): the same seed always gives the same runs,
 * and shard i/n (1-based, core's one `--shard` convention) runs exactly the runs r ≡ i-1 (mod n).
 */
import { inShard, type Machine } from '@kreplay/core';
import type { RunContext } from './context.js';
import { judgeEnd, readyMasks, survey } from './ends.js';
import { DEFAULT_MAX_DEPTH, StateGraph } from './graph.js';
import { SplitMix32 } from './prng.js';
import type { SearchStrategy } from './strategy.js';
import type { ExploreOptions, ExploreResult } from './types.js';

export class RandomWalks implements SearchStrategy {
  readonly name = 'random' as const;
  readonly exhaustive = false;
  readonly coverage = 'sampled' as const;
  private readonly seed: number;
  private readonly runs: number;

  constructor(private readonly opts: Pick<ExploreOptions, 'seed' | 'runs' | 'pctDepth' | 'shard' | 'maxDepth' | 'onEnd'> = {}) {
    this.seed = opts.seed ?? 0;
    this.runs = opts.runs ?? 100;
  }

  async search<S>(machine: Machine<S>, ctx: RunContext): Promise<StateGraph> {
    const graph = StateGraph.forMachine(machine as Machine<unknown>);
    const T = graph.threadCount;
    ctx.distinct = () => graph.size;
    const d = Math.max(1, this.opts.pctDepth ?? 3);
    const maxDepth = this.opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    // PCT's change points fall in [1, k], k the expected run length: measured once on a
    // deterministic run, so that every run (and every shard) draws from the same range.
    const k = Math.max(8 * T, probeLength(machine, Math.min(maxDepth, 2000)));
    ctx.incomplete.add('random');

    for (let run = 0; run < this.runs && ctx.stopped === null; run++) {
      if (!inShard(run, this.opts.shard)) continue;
      if (ctx.yieldDue) await ctx.pause();
      const rng = SplitMix32.forStream(this.seed, run);
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
        const { finished, enabled } = readyMasks(machine, s);
        graph.setFinished(node, finished);
        if (enabled === 0 && judgeEnd(machine, ctx, s, survey(machine, s).next, finished, enabled, () => [...schedule], this.opts.onEnd)) break;
        if (schedule.length >= maxDepth) {
          ctx.incomplete.add('max-depth');
          break;
        }
        // the highest-priority enabled thread runs
        let pick = -1;
        for (let t = 0; t < T; t++) if (enabled & (1 << t) && (pick < 0 || prio[t]! > prio[pick]!)) pick = t;
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

  annotate(result: ExploreResult): void {
    result.seed = this.seed;
    result.runs = this.runs;
    if (this.opts.shard) result.shard = this.opts.shard;
  }
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
