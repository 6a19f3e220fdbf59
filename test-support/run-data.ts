/**
 * A run as `kreplay diff` reads it (@kreplay/diff's RunData), for tests that build sides by hand:
 * these findings, a second long, a trace of one event and one op with no gap; `over` replaces any field.
 */
import type { Finding } from '@kreplay/core';
import { emptyCounts, type RunData } from '@kreplay/diff';

export function runData(source: string, findings: Finding[] = [], over: Partial<RunData> = {}): RunData {
  return {
    source,
    findings,
    durationNs: 1e9,
    counts: emptyCounts(),
    latency: {},
    stats: { events: 1, ops: 1, gaps: 0, unknown: 0 },
    ...over,
  };
}
