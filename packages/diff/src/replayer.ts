/**
 * Trace inputs are replayed on the fly through @kreplay/replay, with the same choices
 * `kreplay replay` offers (adapter, probe map).
 */
import { loadProbeMap } from '@kreplay/core';
import { replayFile, type ReplayOptions } from '@kreplay/replay';
import type { TraceReplayer } from './run.js';

export interface ReplayerOptions {
  /** `auto`, `explore`, `linux-6.1`, ... */
  kernel?: string;
  /** `--probes FILE`. */
  probesFile?: string;
  /** `--perf-lost-events-shown`: perf script traces carry their lost events (ReplayOptions.perfLostEventsShown). */
  perfLostEventsShown?: boolean;
  /** `--clock-skew N` (ReplayOptions.clockSkew). */
  clockSkew?: bigint;
  /** `--trace-clock NAME` (ReplayOptions.traceClock). */
  traceClock?: string;
  signal?: AbortSignal;
}

/** Replay options shared by every trace of a diff, report or ci run. */
export async function replayOptions(o: ReplayerOptions): Promise<ReplayOptions> {
  const opts: ReplayOptions = { kernel: o.kernel ?? 'auto' };
  if (o.probesFile) {
    opts.probes = await loadProbeMap(o.probesFile);
    opts.probesSource = o.probesFile;
  }
  if (o.perfLostEventsShown) opts.perfLostEventsShown = true;
  if (o.clockSkew !== undefined) opts.clockSkew = o.clockSkew;
  if (o.traceClock !== undefined) opts.traceClock = o.traceClock;
  if (o.signal) opts.signal = o.signal;
  return opts;
}

export async function replayerFor(o: ReplayerOptions): Promise<TraceReplayer> {
  const opts = await replayOptions(o);
  return (tracePath) => replayFile(tracePath, opts);
}
