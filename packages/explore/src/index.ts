export * from './types.js';
export { CONFIRM_MAX_STATES, explore, exploreOnCores, searchStrategy, SINGLE_CORE_STATES } from './explore.js';
export { FREE_HANDOVER, handoverCost, HandoverRule, type HandoverCost } from './handover.js';
export { defaultWorkers, exploreParallel, type MachineSource } from './parallel.js';
export type { GraphCoverage, SearchStrategy } from './strategy.js';
export { DporSearch } from './dpor.js';
export { DEFAULT_MAX_STATES, ExhaustiveSearch } from './exhaustive.js';
export { RandomWalks } from './random.js';
export { ScheduleReplay } from './schedule-replay.js';
export { parseScheduleFile, type ScheduleFile } from './schedule-file.js';
export { compareSchedules } from './context.js';
export { dependent, LocTable, type Footprint } from './dependence.js';
export { SplitMix32 } from './prng.js';
export { runSchedule, type ScheduledStep } from './run-schedule.js';
export { renderTable } from './render/table.js';
export { renderFtrace, type FtraceHeader } from './render/ftrace.js';
export { renderPerfetto } from './render/perfetto.js';
export {
  counterexample,
  exploreJson,
  formatExploreText,
  formatStats,
  timingFree,
  violationJson,
  type Counterexample,
  type ExploreJsonOptions,
} from './render/result.js';
export { fingerprint, mergeShards, splitWidth, type ShardPart } from './shard.js';
export { StateGraph, IntVec, type EdgeRows } from './graph.js';
