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
import { deadlockSighting } from './deadlock.js';
import { DEFAULT_MAX_DEPTH, StateGraph } from './graph.js';
import type { ExploreOptions } from './types.js';

export async function exploreExhaustive<S>(machine: Machine<S>, opts: ExploreOptions, ctx: RunContext): Promise<StateGraph> {
  const graph = StateGraph.forMachine(machine as Machine<unknown>);
  const T = graph.threadCount;
  ctx.distinct = () => graph.size;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxStates = opts.maxStates ?? 2_000_000;
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
    const next = Array.from({ length: T }, (_, t) => machine.next(s, t));
    let finished = 0;
    let enabled = 0;
    next.forEach((n, t) => {
      if (!n) finished |= 1 << t;
      else if (n.enabled) enabled |= 1 << t;
    });
    graph.finished[id] = finished;
    if (finished === (1 << T) - 1) {
      ctx.book.addAll(machine.final?.(s) ?? [], graph.path(id), 'final');
      opts.onEnd?.(machine.key(s), 'terminal');
      ctx.executions++;
      continue;
    }
    if (enabled === 0) {
      ctx.book.add(deadlockSighting(machine, next, graph.path(id)));
      opts.onEnd?.(machine.key(s), 'deadlock');
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
