/**
 * Trace statistics (`kreplay parse --stats`): one object, printed as text or JSON by the CLI.
 */
import type { ParseTotals } from './stream.js';
import type { Gap, GapKind, TraceRecord } from '@kreplay/core';

export interface TraceStats {
  source: string;
  lines: number;
  bytes: number;
  events: number;
  gaps: number;
  unparseable: number;
  truncated: number;
  /** Events the ring buffer / trace-cmd reported lost (where the count is printed). */
  lostEvents: number;
  gapsByKind: Partial<Record<GapKind, number>>;
  /** Event name (as `system:event` when the system is known) → count, keys sorted. */
  byEvent: Record<string, number>;
  /** CPU → events, keys in numeric order. */
  byCpu: Record<string, number>;
  /** Earliest and latest event timestamp (ns, or counter ticks). */
  firstTs: bigint | null;
  lastTs: bigint | null;
  spanNs: bigint | null;
  /** How timestamps are printed: `usec`, `nsec` (exact ns) or `counter` (raw clock ticks). */
  clock: string;
  /** `# tracer:` from the header, if any. */
  tracer?: string;
  meta: Record<string, string | number>;
  /** The first unparseable/truncated gaps, for showing to the user. */
  firstProblems: Gap[];
  /** Parse rate, when the caller measured the elapsed time. */
  rate?: { seconds: number; mbPerSec: number; eventsPerSec: number; linesPerSec: number };
}

const MAX_PROBLEMS = 5;

/** Accumulates statistics record by record (or batch by batch). */
export class TraceStatsCollector {
  private events = 0;
  private gaps = 0;
  private unparseable = 0;
  private truncated = 0;
  private lost = 0;
  private readonly gapsByKind: Partial<Record<GapKind, number>> = {};
  private readonly byEvent = new Map<string, Map<string, { n: number }>>();
  private readonly byCpu = new Map<number, { n: number }>();
  private first: bigint | null = null;
  private last: bigint | null = null;
  private readonly meta: Record<string, string | number> = {};
  private readonly problems: Gap[] = [];

  constructor(private readonly source: string) {}

  add(r: TraceRecord): void {
    if (r.type === 'event') {
      this.events++;
      // counted per event name, then per system, so no key string is built per event
      let bySystem = this.byEvent.get(r.event);
      if (bySystem === undefined) this.byEvent.set(r.event, (bySystem = new Map()));
      const sys = r.system ?? '';
      const counter = bySystem.get(sys);
      if (counter === undefined) bySystem.set(sys, { n: 1 });
      else counter.n++;
      const perCpu = this.byCpu.get(r.cpu);
      if (perCpu === undefined) this.byCpu.set(r.cpu, { n: 1 });
      else perCpu.n++;
      const ts = r.ts;
      if (this.first === null || ts < this.first) this.first = ts;
      if (this.last === null || ts > this.last) this.last = ts;
    } else if (r.type === 'gap') {
      this.gaps++;
      this.gapsByKind[r.kind] = (this.gapsByKind[r.kind] ?? 0) + 1;
      if (r.lost !== undefined) this.lost += r.lost;
      if (r.kind === 'unparseable' || r.kind === 'truncated') {
        if (r.kind === 'unparseable') this.unparseable++;
        else this.truncated++;
        if (this.problems.length < MAX_PROBLEMS) this.problems.push(r);
      }
    } else if (!(r.key in this.meta)) {
      this.meta[r.key] = r.value;
    } else if (PER_CPU_META.has(r.key)) {
      this.meta[r.key] = metaValue(this.meta[r.key], r.key, r.value);
    }
  }

  addBatch(batch: readonly TraceRecord[]): void {
    for (const r of batch) this.add(r);
  }

  finish(totals: Partial<ParseTotals> = {}, seconds?: number): TraceStats {
    const byEvent: Record<string, number> = {};
    const flat = new Map<string, number>();
    for (const [event, bySystem] of this.byEvent) {
      for (const [sys, { n }] of bySystem) {
        const key = sys === '' ? event : `${sys}:${event}`;
        flat.set(key, (flat.get(key) ?? 0) + n);
      }
    }
    for (const k of [...flat.keys()].sort()) byEvent[k] = flat.get(k)!;
    const byCpu: Record<string, number> = {};
    for (const k of [...this.byCpu.keys()].sort((a, b) => a - b)) byCpu[String(k)] = this.byCpu.get(k)!.n;
    const lines = totals.lines ?? 0;
    const bytes = totals.bytes ?? 0;
    const stats: TraceStats = {
      source: this.source,
      lines,
      bytes,
      events: this.events,
      gaps: this.gaps,
      unparseable: this.unparseable,
      truncated: this.truncated,
      lostEvents: this.lost,
      gapsByKind: this.gapsByKind,
      byEvent,
      byCpu,
      firstTs: this.first,
      lastTs: this.last,
      spanNs: this.first === null || this.last === null ? null : this.last - this.first,
      clock: totals.tsForm ?? 'unknown',
      meta: this.meta,
      firstProblems: this.problems,
    };
    const tracer = this.meta.tracer;
    if (typeof tracer === 'string') stats.tracer = tracer;
    if (seconds !== undefined && seconds > 0) {
      stats.rate = {
        seconds: Math.round(seconds * 1000) / 1000,
        mbPerSec: Math.round((bytes / 1e6 / seconds) * 10) / 10,
        eventsPerSec: Math.round(this.events / seconds),
        linesPerSec: Math.round(lines / seconds),
      };
    }
    return stats;
  }
}

/** Header keys a reader reports once per CPU: a trace.dat's `cpustat`, each CPU's tracefs `stats` text (dat/metadata.ts). */
const PER_CPU_META: ReadonlySet<string> = new Set(['cpustat']);

/**
 * A header key's value once `value` is read after `prev`: a per-CPU key (PER_CPU_META) keeps every
 * CPU's text, joined in the order read (each ends with its newline, as `trace-cmd report --stat`
 * prints them one after another); any other key takes `value`. One rule for parse's statistics and
 * replay's header, where one CPU's text was kept and the others dropped.
 */
export function metaValue(prev: string | number | undefined, key: string, value: string | number): string | number {
  return PER_CPU_META.has(key) && typeof prev === 'string' && typeof value === 'string' ? prev + value : value;
}

/** Statistics of a record stream (totals from ParseOptions.onDone fill `lines`/`bytes`/`clock`). */
export async function summarize(
  records: AsyncIterable<TraceRecord> | Iterable<TraceRecord>,
  opts: { source?: string; totals?: Partial<ParseTotals>; seconds?: number } = {},
): Promise<TraceStats> {
  const c = new TraceStatsCollector(opts.source ?? '-');
  for await (const r of records) c.add(r);
  return c.finish(opts.totals, opts.seconds);
}

function group(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatTs(ts: bigint, clock: string): string {
  if (clock === 'counter') return ts.toString();
  const s = ts / 1_000_000_000n;
  const ns = ts % 1_000_000_000n;
  return `${s}.${ns.toString().padStart(9, '0')}`;
}

/** Human-readable statistics (what `kreplay parse --stats` prints without --json). */
export function formatStats(st: TraceStats): string {
  const out: string[] = [];
  const cpus = Object.keys(st.byCpu).length;
  out.push(`${st.source}: ${group(st.lines)} lines, ${group(st.events)} events on ${cpus} CPU${cpus === 1 ? '' : 's'}, ${group(st.gaps)} gaps`);
  if (st.tracer) out.push(`tracer: ${st.tracer}`);
  // the clock the timestamps were taken on, as the file names it (a trace.dat's record, perf's
  // `# clockid:` header); replay's certainty depends on it (docs/replay.md, "Trace clocks")
  const traceClock = st.meta.clock ?? st.meta['perf-clockid'];
  out.push(
    traceClock !== undefined
      ? `trace clock: ${traceClock}`
      : 'trace clock: not named in the file (tracefs, trace-cmd and perf default to one per CPU; replay takes it from meta.json or --trace-clock)',
  );
  if (st.firstTs !== null && st.lastTs !== null) {
    const span = st.clock === 'counter' ? `${st.spanNs} ticks` : `${formatTs(st.spanNs ?? 0n, st.clock)} s`;
    out.push(`time: ${formatTs(st.firstTs, st.clock)} .. ${formatTs(st.lastTs, st.clock)} (${span}), timestamps ${st.clock}`);
  }
  const kinds = Object.entries(st.gapsByKind);
  if (kinds.length > 0) {
    out.push(`gaps: ${kinds.map(([k, n]) => `${k} ${group(n ?? 0)}`).join(', ')}${st.lostEvents ? ` (${group(st.lostEvents)} events reported lost)` : ''}`);
  }
  const names = Object.keys(st.byEvent);
  if (names.length > 0) {
    const w = Math.max(...names.map((k) => k.length));
    out.push('events:');
    for (const k of names) out.push(`  ${k.padEnd(w)}  ${group(st.byEvent[k]!).padStart(12)}`);
    out.push('per CPU:');
    for (const [cpu, n] of Object.entries(st.byCpu)) out.push(`  ${cpu.padStart(4)}  ${group(n).padStart(12)}`);
  }
  if (st.rate) {
    out.push(`parsed in ${st.rate.seconds.toFixed(3)} s: ${st.rate.mbPerSec} MB/s, ${group(st.rate.eventsPerSec)} events/s`);
  }
  return `${out.join('\n')}\n`;
}
