/**
 * The events around each finding, for the report's per-CPU timelines: a second streaming
 * pass over the trace that keeps, per finding, the events in a time window around its
 * cited events (a bounded number before and after, cited events always), nothing else.
 */
import type { Finding, TraceEvent } from '@kreplay/core';
import { openTrace } from '@kreplay/ftrace-parser';
import type { FindingWindow, TimelineEvent } from '@kreplay/report';

export interface WindowOptions {
  /** Time kept before the first and after the last cited event, ns (default 200 µs). */
  marginNs?: bigint;
  /** Uncited events kept on each side of the finding (default 40). */
  perSide?: number;
  /** Findings that get a window (default 50; the rest are listed without a timeline). */
  maxFindings?: number;
  signal?: AbortSignal;
}

function eventName(ev: TraceEvent): { name: string; phase: TimelineEvent['phase'] } {
  if (ev.probe) return { name: ev.probe.kind === 'kretprobe' ? `${ev.probe.func} ret` : ev.probe.func, phase: ev.probe.kind === 'kretprobe' ? 'end' : 'begin' };
  // trace_marker lines: the explorer's `kreplay:<op> key=value ...` (docs/trace-format.md) and workload phase markers.
  const buf = ev.event === 'print' || ev.event === 'tracing_mark_write' ? ev.fields.buf : undefined;
  if (typeof buf === 'string') {
    const m = /^kreplay:(\w+)(?:.*\bfn=(\w+))?/.exec(buf);
    if (!m) return { name: 'marker', phase: 'point' };
    const span = /^(\w+)_(begin|end)$/.exec(m[1]!);
    if (span) return { name: `${m[2] ?? span[1]}${span[2] === 'end' ? ' ret' : ''}`, phase: span[2] === 'end' ? 'end' : 'begin' };
    return { name: m[1]!, phase: 'point' };
  }
  return { name: ev.event.replace(/^mm_filemap_/, ''), phase: 'point' };
}

function detailOf(ev: TraceEvent): string {
  const buf = ev.event === 'print' || ev.event === 'tracing_mark_write' ? ev.fields.buf : undefined;
  if (typeof buf === 'string') {
    const rest = buf.replace(/^kreplay:\w+\s*/, '');
    return rest.length > 90 ? `${rest.slice(0, 87)}...` : rest;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(ev.fields)) {
    parts.push(
      `${k}=${typeof v === 'bigint' ? `0x${v.toString(16)}` : typeof v === 'number' && Number.isInteger(v) && v > 4095 ? `0x${v.toString(16)}` : String(v)}`,
    );
  }
  const s = parts.join(' ');
  return s.length > 90 ? `${s.slice(0, 87)}...` : s;
}

interface Collector {
  finding: Finding;
  start: bigint;
  firstCited: bigint;
  end: bigint;
  citedLines: Map<string, number>;
  before: TimelineEvent[];
  after: TimelineEvent[];
  cited: TimelineEvent[];
  dropped: number;
}

/**
 * Windows for `findings` (index-aligned; undefined past maxFindings or for findings with no
 * cited event in this trace), read from the trace at `tracePath`.
 */
export async function collectWindows(tracePath: string, findings: readonly Finding[], opts: WindowOptions = {}): Promise<Array<FindingWindow | undefined>> {
  const margin = opts.marginNs ?? 200_000n;
  const perSide = opts.perSide ?? 40;
  const collectors: Array<Collector | undefined> = findings.map((f, i) => {
    if (i >= (opts.maxFindings ?? 50)) return undefined;
    const ts = f.events.map((e) => e.ts).filter((t) => t > 0n);
    if (ts.length === 0) ts.push(f.ts);
    const lo = ts.reduce((a, b) => (b < a ? b : a));
    const hi = ts.reduce((a, b) => (b > a ? b : a));
    const citedLines = new Map<string, number>();
    f.events.forEach((e, k) => citedLines.set(`${e.line}`, k + 1));
    return { finding: f, start: lo - margin, firstCited: lo, end: hi + margin, citedLines, before: [], after: [], cited: [], dropped: 0 };
  });
  const live = collectors.filter((c): c is Collector => c !== undefined);
  if (live.length === 0) return collectors.map(() => undefined);
  const minStart = live.reduce((a, c) => (c.start < a ? c.start : a), live[0]!.start);
  const maxEnd = live.reduce((a, c) => (c.end > a ? c.end : a), live[0]!.end);
  for await (const rec of openTrace(tracePath)) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    // Events, and the gaps that make a finding uncertain (lost events on a CPU).
    if (rec.type === 'meta' || rec.ts === undefined || rec.ts < minStart) continue;
    if (rec.type === 'gap' && rec.cpu === undefined) continue;
    if (rec.ts > maxEnd) break;
    let made: TimelineEvent | undefined;
    for (const c of live) {
      if (rec.ts < c.start || rec.ts > c.end) continue;
      if (!made) {
        if (rec.type === 'gap') {
          made = {
            ts: rec.ts,
            cpu: rec.cpu!,
            pid: -1,
            comm: '',
            name: rec.lost ? `lost ${rec.lost} events` : 'lost events',
            phase: 'gap',
            detail: rec.reason,
            line: rec.line,
            source: rec.source,
            cited: 0,
          };
        } else {
          const { name, phase } = eventName(rec);
          made = { ts: rec.ts, cpu: rec.cpu, pid: rec.pid, comm: rec.comm, name, phase, detail: detailOf(rec), line: rec.line, source: rec.source, cited: 0 };
        }
      }
      const k = rec.type === 'event' ? (c.citedLines.get(`${rec.line}`) ?? 0) : 0;
      if (k) c.cited.push({ ...made, cited: k });
      else if (made.phase === 'gap')
        c.cited.push(made); // always shown, like the cited events
      else if (rec.ts < c.firstCited) {
        c.before.push(made);
        if (c.before.length > perSide) {
          c.before.shift();
          c.dropped++;
        }
      } else if (c.after.length < perSide) c.after.push(made);
      else c.dropped++;
    }
  }
  return collectors.map((c) => {
    if (!c || c.cited.length === 0) return undefined;
    const events = [...c.before, ...c.cited, ...c.after].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.line - b.line));
    const racing: FindingWindow['racing'] = [];
    for (const e of c.finding.events) if (!racing.some((r) => r.pid === e.pid)) racing.push({ pid: e.pid, comm: e.comm });
    return { startTs: events[0]!.ts, endTs: events[events.length - 1]!.ts, events, racing, dropped: c.dropped };
  });
}
