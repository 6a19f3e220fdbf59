/**
 * The explorer's one result object. Every output format (text table, ftrace trace, Perfetto
 * JSON, `--json`) is a function of an ExploreResult plus the Machine it came from.
 */
import type { ModelViolation, RuleId, Shard } from '@kreplay/core';
import type { HandoverCost } from './handover.js';
import type { ShardPart } from './shard.js';
import type { SearchStrategy } from './strategy.js';

/** A schedule: the thread id that runs at each step, in order. */
export type Schedule = number[];

/** A strategy's name (strategy.ts): the built-in searches, and `schedule` for one recorded schedule replayed. */
export type Strategy = 'dpor' | 'exhaustive' | 'random' | 'schedule';

/** A schedule a run reported, to run again: its steps, then (a livelock) its cycle once. */
export interface RecordedSchedule {
  schedule: Schedule;
  cycle?: Schedule;
  /** The rule the schedule was recorded for, when its file says (a trace's `rule=`, the --json violation's `rule`). */
  rule?: string;
}

export type Verdict = 'violation' | 'clean' | 'incomplete';

/** One violated rule, with the shortest schedule found that breaks it. */
export interface FoundViolation {
  rule: RuleId;
  message: string;
  /** Steps from the initial state to (and including) the step that broke the rule. */
  schedule: Schedule;
  /** livelock only: the steps of the cycle the thread is stuck in, repeated forever after `schedule`. */
  cycle?: Schedule;
  /** livelock/deadlock: the thread(s) that can no longer finish. */
  threads?: number[];
  /** Where it was detected: after a step, in the final state, in a state (deadlock), or on the state graph (livelock). */
  at: 'step' | 'final' | 'state' | 'graph';
  file?: string;
  index?: number;
  pfn?: number;
}

export interface ExploreStats {
  /** Executions run (dpor, random), or end states (all finished, or deadlocked) of the state graph (exhaustive). */
  executions: number;
  /** Steps taken (each one produces a state, repeats included). */
  states: number;
  /** Distinct states by Machine.key. */
  distinctStates: number;
  timeMs: number;
  statesPerSec: number;
  /** Deepest schedule seen. */
  maxDepth: number;
  /** dpor: executions cut because they returned to a state already on the current path. */
  cycles: number;
  /** dpor: executions ended because every enabled thread was asleep (covered elsewhere). */
  sleepBlocked: number;
}

/** Why a run is incomplete (only when no violation was found, the verdict says `incomplete`). */
export type Incompleteness =
  | 'preemption-bound'
  | 'max-executions'
  | 'max-depth'
  | 'max-states'
  | 'timeout'
  | 'aborted'
  | 'random'
  /** One recorded schedule was run (`--schedule`), not every interleaving. */
  | 'schedule'
  /** One shard of a split exhaustive search (`--shard i/n`): the merge of every shard is the whole search. */
  | 'shard';

/**
 * The reasons a search is incomplete that are the partial search its command asked for: a
 * preemption or depth bound (a bounded question), random walks, one recorded schedule, one shard
 * of a split search (the merge judges the whole). Every other reason — a state cap, an execution
 * cap, a timeout, a signal, or one this kreplay does not know — stopped the search short of what
 * it was asked, so it reached no verdict: the CLI exits 2 for those, never 0, which CI reads as a
 * pass (docs/explore.md "Verdict and exit code").
 */
const ASKED_FOR: ReadonlySet<string> = new Set<Incompleteness>(['preemption-bound', 'max-depth', 'random', 'schedule', 'shard']);

/** The reasons among `incomplete` that cut a search short of its question (see ASKED_FOR), in their order. */
export function cutShort(incomplete: readonly string[]): string[] {
  return incomplete.filter((r) => !ASKED_FOR.has(r));
}

export interface ExploreResult {
  verdict: Verdict;
  strategy: Strategy;
  /** Whether every interleaving (up to equivalence) was explored. */
  exhaustive: boolean;
  incomplete: Incompleteness[];
  violations: FoundViolation[];
  stats: ExploreStats;
  /** random mode: the seed and runs used, so the run can be repeated. */
  seed?: number;
  runs?: number;
  /** 1-based, as core's `parseShard` reads it. */
  shard?: Shard;
  /** `schedule` strategy: the schedule that was run. */
  replayed?: RecordedSchedule;
  /** With `memoSteps` given: the steps the exhaustive search took, how many it reused rather than ran, and whether its memory ran out (it then recorded no more); on workers, the sum over their memos. */
  memo?: { steps: number; hits: number; full: boolean };
  /** A shard of the exhaustive search: what `mergeShards` needs beyond the result (shard.ts). */
  part?: ShardPart;
}

export interface ProgressInfo {
  /** Executions and states visited so far; left out on `--workers`, whose threads count them only in their final reports. */
  executions?: number;
  states?: number;
  distinctStates: number;
  elapsedMs: number;
}

export interface ExploreOptions {
  /**
   * exhaustive (default; dpor when a preemption bound is given): full state graph (BFS); dpor:
   * DPOR with sleep sets; random: PCT walks — or a strategy object (strategy.ts), such as a
   * ScheduleReplay of one recorded schedule.
   */
  strategy?: Exclude<Strategy, 'schedule'> | SearchStrategy;
  /** At most N preemptions (switching away from a thread that could continue) per schedule. */
  preemptionBound?: number;
  maxExecutions?: number;
  /** Longest schedule explored (guards against a model that never stops). Default 10000. */
  maxDepth?: number;
  /** Largest state graph kept (exhaustive strategy, livelock confirmation). Default DEFAULT_MAX_STATES (exhaustive.ts). */
  maxStates?: number;
  /** Wall-clock budget in milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  progress?: (p: ProgressInfo) => void;
  /** Random mode: seed and number of runs; PCT depth (priority change points + 1). */
  seed?: number;
  runs?: number;
  pctDepth?: number;
  /**
   * Random mode: run only shard i/n of the runs (1-based: run r, from 0, when r mod n = i-1), so CI fans one seed out over n jobs.
   * Exhaustive search: only shard i/n of the schedule tree (shard.ts); `mergeShards` combines the shards' results.
   */
  shard?: Shard;
  /**
   * What is searched, as a digest (mm-model's `modelIdentity`: the scenario's content and the
   * flavor's code): a shard of the exhaustive search carries it, and `mergeShards` refuses shards
   * whose digests differ — an edited scenario, another version of a flavor module of one name.
   */
  model?: string;
  /**
   * `--workers N` (explore.ts `exploreOnCores`), internal and for tests: the states the
   * one-thread search reaches before the workers take over (default SINGLE_CORE_STATES), and
   * before it starts their threads (default WORKERS_START_STATES, at most handoverStates), and
   * how many states a worker thread is handed per message (default parallel.ts HANDOVER_BATCH).
   * Past handoverStates the search is handed over once the states estimated to remain pay for
   * the handover's `handoverCost` (handover.ts; default `handoverCost(workers)`, or nothing —
   * at the first level boundary — when handoverStates is given).
   */
  handoverStates?: number;
  handoverCost?: HandoverCost;
  workersFromStates?: number;
  handoverBatch?: number;
  /**
   * Exhaustive search, on one thread, in each shard and on each worker (on by default; `false`, the CLI's
   * `--no-step-memo`, runs every step): reuse a thread's step across states that agree on what it reads (step-memo.ts,
   * `Machine.stepMemo`; a machine without it runs every step); `verify` also
   * runs every reused step and throws where it differs. Given by name, the result says how many
   * steps were reused (`ExploreResult.memo`).
   */
  memoSteps?: boolean | 'verify';
  /** Called for each end of an execution (tests use it to compare strategies). */
  onEnd?: (key: string, kind: 'terminal' | 'deadlock') => void;
}

/** A ModelViolation seen at a given schedule, before the per-rule shortest is kept. */
export interface Sighting {
  violation: ModelViolation;
  schedule: Schedule;
  at: FoundViolation['at'];
  cycle?: Schedule;
  threads?: number[];
}
