/**
 * The explorer's front door: run a search strategy (strategy.ts) over a Machine, judge
 * liveness on the state graph it explored, and return one ExploreResult. Knows threads,
 * steps and accesses — nothing about pages or kernels.
 *
 * Verdict: `violation` when any rule broke; `clean` only when the exploration was
 * exhaustive (every interleaving up to equivalence, no bound, cap or timeout cut anything);
 * `incomplete` otherwise (random walks and a replayed schedule are always incomplete when
 * nothing is found).
 */
import type { Machine } from '@kreplay/core';
import { InputError } from '@kreplay/core';
import { RunContext } from './context.js';
import { canFinishFrom, stateAfter } from './confirm.js';
import { DporSearch } from './dpor.js';
import { DEFAULT_MAX_STATES, ExhaustiveSearch } from './exhaustive.js';
import { exploreParallel, SearchWorkers, type MachineSource } from './parallel.js';
import { DEFAULT_MAX_DEPTH, type StateGraph } from './graph.js';
import { findLivelocks } from './liveness.js';
import { RandomWalks } from './random.js';
import { FREE_HANDOVER, handoverCost, HandoverRule } from './handover.js';
import type { SearchStrategy } from './strategy.js';
import type { ExploreOptions, ExploreResult, Incompleteness } from './types.js';

/** States the check of one possible livelock (a thread that may never finish) searches at most, unless `maxStates` is given. */
export const CONFIRM_MAX_STATES = 200_000;

/**
 * States the exhaustive search reaches on this thread before the workers take it over (at the
 * next level boundary: `--workers N`, N > 1). A search that ends below this stays on one
 * thread: two workers cost more CPU per state than one thread (docs/explore.md, "On every
 * core"), and below about this size they do not finish it sooner.
 */
export const SINGLE_CORE_STATES = 400_000;

/** States the search reaches before it starts the worker threads, which load the model while it goes on to SINGLE_CORE_STATES. */
export const WORKERS_START_STATES = 300_000;

/**
 * The exhaustive search on up to `workers` cores (parallel.ts): on this thread when the graph
 * turns out small (`handoverStates`, default SINGLE_CORE_STATES), when too few states seem to
 * remain for the workers to pay (handover.ts), workers ≤ 1 or the machine cannot send states as
 * words (`Machine.exchange`). A larger one is handed over at a level boundary: the worker
 * threads (built from `source`, started once the search passed `workersFromStates` and the
 * handover is near) and this thread as worker 0 take the visited states they own and the next
 * level's, and go on from there. The result is the same either way, node for node.
 */
export async function exploreOnCores<S>(machine: Machine<S>, source: MachineSource, workers: number, opts: ExploreOptions = {}): Promise<ExploreResult> {
  const asked = opts.strategy ?? (opts.preemptionBound !== undefined ? 'dpor' : 'exhaustive');
  // workers send states as words: a machine without `exchange` searches on this thread
  const words = machine.encode && machine.decode && machine.exchange;
  if (workers <= 1 || !words || asked !== 'exhaustive' || opts.shard !== undefined || opts.onEnd) return explore(machine, opts);
  const handAt = Math.max(1, opts.handoverStates ?? SINGLE_CORE_STATES);
  const startAt = Math.min(handAt, opts.workersFromStates ?? WORKERS_START_STATES);
  if ((opts.maxStates ?? DEFAULT_MAX_STATES) < handAt) return explore(machine, opts);
  // past handAt, when the level widths say the workers pay (handover.ts); handoverStates given
  // without a cost (tests, benches): at the first level boundary past it
  const rule = new HandoverRule(handAt, opts.handoverCost ?? (opts.handoverStates === undefined ? handoverCost(workers) : FREE_HANDOVER));
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  let pool: SearchWorkers | undefined;
  const strategy = new ExhaustiveSearch({
    ...opts,
    handover: (expanded, known) => {
      // the threads load the model while this thread searches on; this thread, whose model is
      // loaded and compiled by then, is worker 0. They start when the handover is near (never, on
      // a search that stays on this thread).
      const due = rule.due(expanded, known);
      if (!pool && known >= startAt && (due || rule.near(handAt - startAt)))
        pool = new SearchWorkers(source, workers, maxDepth, machine as Machine<unknown>, opts.memoSteps ?? true);
      return due;
    },
  });
  const ctx = new RunContext(opts);
  let graph: StateGraph;
  try {
    ctx.checkBudget();
    graph = await strategy.search(machine, ctx);
  } catch (e) {
    await pool?.stop();
    throw e;
  }
  if (strategy.handedOver === undefined) {
    await pool?.stop();
    return finish(machine, strategy, graph, ctx, opts);
  }
  // worker 0 goes on with the one-thread search's step memo (the others start their own); what it counted so far goes on into the result
  const { counts: memoSoFar, memo } = strategy.handOverMemo();
  return exploreParallel(pool!, workers, opts, { graph, ctx, from: strategy.handedOver, machine: machine as Machine<unknown>, memoSoFar, memo });
}

/**
 * The strategy `opts` asks for: a strategy object as it is, else by name — exhaustive by
 * default (states are small, schedules come out shortest), dpor when a preemption bound is
 * given (a bound only makes sense for DPOR).
 */
export function searchStrategy(opts: ExploreOptions = {}): SearchStrategy {
  const asked = opts.strategy ?? (opts.preemptionBound !== undefined ? 'dpor' : 'exhaustive');
  const name = typeof asked === 'string' ? asked : asked.name;
  if (name !== 'dpor' && opts.preemptionBound !== undefined) {
    const what = name === 'random' ? 'random walks' : name === 'schedule' ? 'a recorded schedule' : 'the exhaustive state-graph search';
    throw new InputError(`a preemption bound applies to the dpor strategy, not to ${what}`, {
      hint: 'drop the preemption bound, or use --strategy dpor',
    });
  }
  if (name === 'dpor' && opts.shard !== undefined) {
    throw new InputError('--shard splits the exhaustive search and random walks, not dpor', { hint: 'drop --shard, or use the exhaustive strategy' });
  }
  if (typeof asked !== 'string') return asked;
  switch (asked) {
    case 'dpor':
      return new DporSearch(opts);
    case 'exhaustive':
      return new ExhaustiveSearch(opts);
    case 'random':
      return new RandomWalks(opts);
  }
}

export async function explore<S>(machine: Machine<S>, opts: ExploreOptions = {}): Promise<ExploreResult> {
  const strategy = searchStrategy(opts);
  const ctx = new RunContext(opts);
  ctx.checkBudget();
  const graph = await strategy.search(machine, ctx);
  return finish(machine, strategy, graph, ctx, opts);
}

/** A search's result: liveness judged on its graph (unless it ran out of time), the verdict, the counters. */
async function finish<S>(machine: Machine<S>, strategy: SearchStrategy, graph: StateGraph, ctx: RunContext, opts: ExploreOptions): Promise<ExploreResult> {
  const outOfTime = ctx.stopped === 'timeout' || ctx.stopped === 'aborted';
  if (!outOfTime) {
    if (strategy.coverage !== 'merged') await judgeLiveness(machine, strategy, graph, ctx, opts);
    else if (strategy.wholeGraph) for (const s of findLivelocks(graph, machine).sightings) ctx.book.add(s);
  }

  const violations = ctx.book.list();
  const incomplete = sortedReasons(ctx.incomplete);
  const exhaustive = strategy.exhaustive && incomplete.length === 0;
  const result: ExploreResult = {
    verdict: violations.length > 0 ? 'violation' : exhaustive ? 'clean' : 'incomplete',
    strategy: strategy.name,
    exhaustive,
    incomplete,
    violations,
    stats: ctx.stats(),
  };
  strategy.annotate?.(result);
  return result;
}

/**
 * Liveness (livelock) needs a cycle. The full graph of a finished exhaustive search is judged
 * as it is. A reduced graph (DPOR) could make a thread look stuck on a pruned path, so when the
 * search closed any cycle the full state graph is built to judge it (and its shortest schedules
 * replace DPOR's where shorter). Graphs cut by a cap or sampled (random walks, a replayed
 * schedule) are judged with confirmation: a candidate is reported only when an unreduced search
 * from it shows the thread cannot finish.
 */
async function judgeLiveness<S>(machine: Machine<S>, strategy: SearchStrategy, graph: StateGraph, ctx: RunContext, opts: ExploreOptions): Promise<void> {
  let judged = graph;
  let full = strategy.coverage === 'full' && ctx.incomplete.size === 0;
  if (strategy.coverage === 'reduced' && ctx.cycles > 0 && ctx.incomplete.size === 0) {
    const sub = new RunContext({ maxStates: opts.maxStates, timeoutMs: opts.timeoutMs, signal: opts.signal });
    const whole = await new ExhaustiveSearch({ maxStates: opts.maxStates, maxDepth: opts.maxDepth }).search(machine, sub);
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

const ORDER: Incompleteness[] = ['preemption-bound', 'max-executions', 'max-depth', 'max-states', 'timeout', 'aborted', 'random', 'schedule', 'shard'];

function sortedReasons(set: Set<Incompleteness>): Incompleteness[] {
  return ORDER.filter((r) => set.has(r));
}
