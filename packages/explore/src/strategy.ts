/**
 * The one interface every search strategy implements (shuttle's design: schedulers are
 * objects behind one trait — exhaustive, DPOR, random, replay — and the runner around them
 * is the same). A strategy decides which interleavings run; `explore()` owns everything
 * else: the budget, the book of violations, liveness on the state graph, the verdict.
 *
 * - `ExhaustiveSearch` (exhaustive.ts): breadth-first over the full state graph.
 * - `DporSearch` (dpor.ts): stateless DPOR with sleep sets.
 * - `RandomWalks` (random.ts): seeded PCT walks.
 * - `ScheduleReplay` (schedule-replay.ts): one recorded schedule, as it was recorded.
 */
import type { Machine } from '@kreplay/core';
import type { RunContext } from './context.js';
import type { StateGraph } from './graph.js';
import type { ExploreResult, Strategy } from './types.js';

/**
 * What the state graph a strategy returns stands for, which decides how livelock is judged on it:
 * - `full`: every reachable state and step, when nothing cut the search — judged as it is;
 * - `reduced`: a partial-order reduction — when the search closed a cycle, the full graph is
 *   built to judge it;
 * - `sampled`: some executions only — a livelock candidate is reported only when an
 *   unreduced search from it confirms that the thread cannot finish.
 */
export type GraphCoverage = 'full' | 'reduced' | 'sampled' | 'merged';

export interface SearchStrategy {
  /** The name the result carries (`ExploreResult.strategy`). */
  readonly name: Strategy;
  /**
   * True when a search that nothing cut (no bound, cap or timeout) has covered every
   * interleaving up to equivalence: only such a search can call a scenario clean.
   */
  readonly exhaustive: boolean;
  readonly coverage: GraphCoverage;
  /** `merged` coverage only: set by a search that turned out to hold the whole graph after all (a shard that never split), so livelock is judged on it as on a full one. */
  readonly wholeGraph?: boolean;
  /**
   * Run the machine's threads in the orders this strategy chooses. Every step's violations,
   * every end (final invariants, deadlock), the counters and the reasons the search is
   * incomplete go into `ctx`; the state graph of what ran is returned for liveness.
   */
  search<S>(machine: Machine<S>, ctx: RunContext): Promise<StateGraph>;
  /** Add what a reader needs to repeat the run (random: seed, runs, shard). */
  annotate?(result: ExploreResult): void;
}
