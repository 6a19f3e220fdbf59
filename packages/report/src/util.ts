/** Small shared helpers of the output formats. */
import type { Finding } from '@kreplay/core';
import type { FailOn } from '@kreplay/core';
import type { KcidbOptions } from './kernel-ci/kcidb.js';

export interface RenderOptions {
  /** Findings at or above this severity fail (JUnit failures; the CLI's exit code). */
  failOn?: FailOn;
  /** Include wall-clock figures (ms, events/s); without them the output is byte-identical run to run. */
  timing?: boolean;
  /** Text: append the replay statistics. */
  stats?: boolean;
  /** KCIDB: the CI system's name and where the files a test names are published. */
  kcidb?: KcidbOptions;
}

/** Nanoseconds as ftrace prints seconds: `100.000122` (µs) or `100.000122345` when ns matter. */
export function seconds(ns: bigint | undefined): string {
  if (ns === undefined) return '-';
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const s = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0');
  return `${neg ? '-' : ''}${s}.${frac.endsWith('000') ? frac.slice(0, 6) : frac}`;
}

export function task(f: { comm?: string; pid: number }): string {
  return f.comm ? `${f.comm}-${f.pid}` : `pid ${f.pid}`;
}

/** The task of the finding's own event (its first cited event with that pid). */
export function findingTask(f: Finding): string {
  const e = f.events.find((x) => x.pid === f.pid && x.ts === f.ts) ?? f.events.find((x) => x.pid === f.pid);
  return task({ comm: e?.comm, pid: f.pid });
}

/** The input line a finding is anchored at (its own event's line). */
export function findingLine(f: Finding): number | undefined {
  return (f.events.find((x) => x.pid === f.pid && x.ts === f.ts && x.cpu === f.cpu) ?? f.events[0])?.line;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * What a trace did not show, as `1 gap (500 events lost) and 2 unusable events` (`''` when nothing): lines read as gaps, events the ring buffer
 * lost, known events replay could not use. A rule that found nothing in such a trace may have
 * missed its finding in the hole, so it is not a pass (KCIDB DONE, KTAP SKIP), as an explorer run
 * that stopped early.
 */
export function traceHoles(gaps: number, lostEvents: number | undefined, unusableEvents: number): string {
  const holes = [
    ...(gaps ? [`${plural(gaps, 'gap')}${lostEvents ? ` (${lostEvents} events lost)` : ''}`] : []),
    ...(unusableEvents ? [plural(unusableEvents, 'unusable event')] : []),
  ];
  return holes.join(' and ');
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[c]!))
    // characters XML 1.0 cannot carry at all
    // eslint-disable-next-line no-control-regex -- matching them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
