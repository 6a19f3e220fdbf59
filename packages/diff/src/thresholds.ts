/**
 * `--max-regression name=pct`: how much worse a metric may get before the diff is a
 * regression. Metric names: a behaviour metric (`faults`, `invalidate_ebusy`, ...: compared
 * as rates per second of trace), a latency percentile (`fault.p99`, `invalidate.max`:
 * judged only when the latency test calls the difference significant), a workload counter
 * from meta.json (`workload.mismatches`: mean per run) or `findings` (occurrences per run).
 */
import { InputError } from '@kreplay/core';
import { METRIC_NAMES } from './metrics.js';
import { LATENCY_OPS, type LatencyOp } from './types.js';

export interface Threshold {
  metric: string;
  maxPct: number;
}

const PERCENTILES = ['p50', 'p90', 'p99', 'max'] as const;
export type PercentileName = (typeof PERCENTILES)[number];

/** Every metric name a threshold may use, except the open-ended `workload.<counter>`. */
export function thresholdMetricNames(): string[] {
  const names = ['findings', ...METRIC_NAMES];
  for (const op of LATENCY_OPS) for (const p of PERCENTILES) names.push(`${op}.${p}`);
  return names;
}

export type MetricRef =
  { kind: 'findings' } | { kind: 'behaviour'; name: string } | { kind: 'latency'; op: LatencyOp; pct: PercentileName } | { kind: 'workload'; name: string };

export function resolveMetric(metric: string): MetricRef | null {
  if (metric === 'findings') return { kind: 'findings' };
  if (METRIC_NAMES.includes(metric)) return { kind: 'behaviour', name: metric };
  const lat = /^(fault|invalidate|truncate)\.(p50|p90|p99|max)$/.exec(metric);
  if (lat) return { kind: 'latency', op: lat[1] as LatencyOp, pct: lat[2] as PercentileName };
  const wl = /^workload\.(.+)$/.exec(metric);
  if (wl) return { kind: 'workload', name: wl[1]! };
  return null;
}

/** Parse one `name=pct` (pct may end in `%`). Throws InputError (exit 2) on a bad spec. */
export function parseThreshold(spec: string, where = '--max-regression'): Threshold {
  const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(-?\d+(?:\.\d+)?)\s*%?\s*$/.exec(spec);
  if (!m) {
    throw new InputError(`${where}: cannot read "${spec}"`, {
      hint: 'write name=pct, e.g. --max-regression fault.p99=20 --max-regression invalidate_ebusy=0',
    });
  }
  const metric = m[1]!;
  if (!resolveMetric(metric)) {
    throw new InputError(`${where}: unknown metric "${metric}"`, {
      hint: `use one of: ${thresholdMetricNames().join(', ')}, or workload.<counter from meta.json>`,
    });
  }
  const maxPct = Number(m[2]);
  if (maxPct < 0) throw new InputError(`${where}: ${metric}=${m[2]} is negative`, { hint: 'give the largest allowed increase in percent, 0 or more' });
  return { metric, maxPct };
}
