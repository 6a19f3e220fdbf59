/**
 * The explorer's front door: run a strategy over a Machine, judge liveness on the state
 * graph it explored, and return one ExploreResult. Knows threads, steps and accesses —
 * nothing about pages or kernels.
 *
 * Verdict: `violation` when any rule broke; `clean` only when the exploration was
 * exhaustive (every interleaving up to equivalence, no bound, cap or timeout cut anything);
 * `incomplete` otherwise (random mode is always incomplete when nothing is found).
 */
import type { Machine } from '@kreplay/core';
import { InputError } from '@kreplay/core';
import { RunContext } from './context.js';
import { canFinishFrom, stateAfter } from './confirm.js';
import { exploreDpor } from './dpor.js';
import { exploreExhaustive } from './exhaustive.js';
import { findLivelocks } from './liveness.js';
import { exploreRandom } from './random.js';
import type { ExploreOptions, ExploreResult, Incompleteness } from './types.js';

const CONFIRM_MAX_STATES = 200_000;

export async function explore<S>(machine: Machine<S>, opts: ExploreOptions = {}): Promise<ExploreResult> {
  // Exhaustive state-graph search by default (states are small, schedules come out shortest);
  // a preemption bound only makes sense for DPOR.
  const strategy = opts.strategy ?? (opts.preemptionBound !== undefined ? 'dpor' : 'exhaustive');
  if (strategy !== 'dpor' && opts.preemptionBound !== undefined) {
    throw new InputError(`a preemption bound applies to the dpor strategy, not to ${strategy === 'random' ? 'random walks' : 'the exhaustive state-graph search'}`, {
      hint: 'drop the preemption bound, or use --strategy dpor',
    });
  }
  const ctx = new RunContext(opts);
  ctx.checkBudget();
  const graph =
    strategy === 'dpor' ? await exploreDpor(machine, opts, ctx)
    : strategy === 'exhaustive' ? await exploreExhaustive(machine, opts, ctx)
    : await exploreRandom(machine, opts, ctx);

  // Liveness (livelock) needs a cycle. The full graph of a finished exhaustive search is judged
  // as it is. DPOR's graph is reduced (a pruned path could make a thread look stuck), so when
  // DPOR closed any cycle the full state graph is built to judge it (and its shortest schedules
  // replace DPOR's where shorter). Graphs cut by a cap or sampled at random are judged with
  // confirmation: a candidate is reported only when an unreduced search from it shows the
  // thread cannot finish.
  const outOfTime = ctx.stopped === 'timeout' || ctx.stopped === 'aborted';
  if (!outOfTime) {
    let judged = graph;
    let full = strategy === 'exhaustive' && ctx.incomplete.size === 0;
    if (strategy === 'dpor' && ctx.cycles > 0 && ctx.incomplete.size === 0) {
      const sub = new RunContext({ maxStates: opts.maxStates, timeoutMs: opts.timeoutMs, signal: opts.signal });
      const whole = await exploreExhaustive(machine, { maxStates: opts.maxStates, maxDepth: opts.maxDepth }, sub);
      judged = whole;
      ctx.distinct = () => Math.max(graph.size, whole.size);
      ctx.states += sub.states;
      for (const s of sub.book.sightings()) ctx.book.add(s);
      for (const r of sub.incomplete) ctx.incomplete.add(r);
      full = sub.incomplete.size === 0;
    }
    const max = opts.maxStates ?? CONFIRM_MAX_STATES;
    const confirm = (node: number, t: number): boolean | 'limit' => {
      const can = canFinishFrom(machine, stateAfter(machine, judged.path(node)), t, max);
      return can === 'limit' ? 'limit' : !can;
    };
    const { sightings, limited } = findLivelocks(judged, machine, full ? {} : { confirm });
    for (const s of sightings) ctx.book.add(s);
    if (limited) ctx.incomplete.add('max-states');
  }

  const violations = ctx.book.list();
  const incomplete = sortedReasons(ctx.incomplete);
  const exhaustive = strategy !== 'random' && incomplete.length === 0;
  const result: ExploreResult = {
    verdict: violations.length > 0 ? 'violation' : exhaustive ? 'clean' : 'incomplete',
    strategy,
    exhaustive,
    incomplete,
    violations,
    stats: ctx.stats(),
  };
  if (strategy === 'random') {
    result.seed = opts.seed ?? 0;
    result.runs = opts.runs ?? 100;
    if (opts.shard) result.shard = opts.shard;
  }
  return result;
}

const ORDER: Incompleteness[] = ['preemption-bound', 'max-executions', 'max-depth', 'max-states', 'timeout', 'aborted', 'random'];

function sortedReasons(set: Set<Incompleteness>): Incompleteness[] {
  return ORDER.filter((r) => set.has(r));
}
