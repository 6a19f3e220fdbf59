export * from './types.js';
export { replay, replayFile, replayFieldsWanted, DEFAULT_KERNEL, DEFAULT_REORDER_WINDOW, DEFAULT_MAX_FINDINGS } from './replay.js';
export { percentile, LatencyRecorder, type LatencyHistogram } from './latency.js';
export { mergeProbeMaps, shippedKernels, shippedMapPath, PROBE_MAP_DIR } from './probe-maps.js';
export * from './result-json.js';
export { ReorderBuffer } from './order.js';
export type { Adapter, Lifted } from './adapters/adapter.js';
export { ProbeMapAdapter } from './adapters/probe-adapter.js';
export { ExploreAdapter } from './adapters/explore.js';
