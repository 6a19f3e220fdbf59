/**
 * Exhaustive exploration of the full state graph, breadth-first, with visited-state hashing
 * (Machine.key) to prune. Sound with caching by construction: a state's future does not
 * depend on how it was reached, and every enabled step of every distinct state is taken.
 * Breadth-first order makes every schedule it reports a shortest one (ties broken by thread
 * id). The reference the DPOR strategy is tested against, and the graph livelock is judged
 * on without any confirmation.
 */
import type { Machine } from '@kreplay/core';
import type { RunContext } from './context.js';
import { judgeEnd, survey } from './ends.js';
import { DEFAULT_MAX_DEPTH, StateGraph } from './graph.js';
import type { SearchStrategy } from './strategy.js';
import type { ExploreOptions } from './types.js';

/** Largest state graph the search keeps unless told otherwise. */
export const DEFAULT_MAX_STATES = 2_000_000;

export class ExhaustiveSearch implements SearchStrategy {
  readonly name = 'exhaustive' as const;
  readonly exhaustive = true;
  readonly coverage = 'full' as const;

  constructor(private readonly opts: Pick<ExploreOptions, 'maxDepth' | 'maxStates' | 'onEnd'> = {}) {}

  async search<S>(machine: Machine<S>, ctx: RunContext): Promise<StateGraph> {
    const graph = StateGraph.forMachine(machine as Machine<unknown>);
    const T = graph.threadCount;
    ctx.distinct = () => graph.size;
    const maxDepth = this.opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    const maxStates = this.opts.maxStates ?? DEFAULT_MAX_STATES;
    const frontier = new Map<number, S>();
    const s0 = machine.initial();
    const k0 = machine.key(s0);
    graph.node(k0, 0, -1, -1);
    ctx.visit(0);
    frontier.set(0, s0);
    const queue = [0];
    for (let qi = 0; qi < queue.length && ctx.stopped === null; qi++) {
      if (ctx.yieldDue) await ctx.pause();
      const id = queue[qi]!;
      const s = frontier.get(id)!;
      frontier.delete(id);
      const { next, finished, enabled } = survey(machine, s);
      graph.finished[id] = finished;
      if (judgeEnd(machine, ctx, s, next, finished, enabled, () => graph.path(id), this.opts.onEnd)) {
        ctx.executions++;
        continue;
      }
      const depth = graph.depth[id]!;
      if (depth >= maxDepth) {
        ctx.incomplete.add('max-depth');
        continue;
      }
      for (let t = 0; t < T; t++) {
        if (!(enabled & (1 << t))) continue;
        const r = machine.step(s, t);
        const key = machine.key(r.state);
        if (!ctx.visit(depth + 1)) break;
        if (r.violations.length > 0) ctx.book.addAll(r.violations, [...graph.path(id), t], 'step');
        const { id: child, fresh } = graph.node(key, 0, id, t);
        if (fresh) {
          if (graph.size > maxStates) {
            ctx.stop('max-states');
            break;
          }
          frontier.set(child, r.state);
          queue.push(child);
        }
      }
    }
    return graph;
  }
}
