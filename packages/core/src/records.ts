/**
 * The records every trace reader produces (ftrace text, trace_pipe, trace-cmd report,
 * perf script, trace.dat). Replay and everything after it only ever sees these.
 */

/** A decoded field value. Integers wider than 2^53 are bigint; never a float for an integer. */
export type FieldValue = number | bigint | string | boolean | null | FieldValue[];

export type Fields = Record<string, FieldValue>;

/**
 * How every trace marker of the capture workload begins (`kr_marker` in
 * packages/capture/c/kr.h writes `kreplay: <text>` in one write, so one line): the workload's
 * mismatch reports (`kreplay: mismatch …`) are read by it.
 */
export const WORKLOAD_MARKER_PREFIX = 'kreplay: ';

/**
 * How every trace marker kreplay writes begins: the capture workload's (`kreplay: …`, above) and
 * the explorer's (`kreplay:<op> key=value …`, whose values escape line breaks:
 * contracts/explore-trace.ts encodePair). Each is one line, so the parser never joins a line
 * after one to it: such a line that does not parse is a gap, as anywhere else, and never part
 * of the marker (whose keys it could otherwise add to or override).
 */
export const KREPLAY_MARKER_PREFIX = 'kreplay:';

/** kprobe / kretprobe location as printed in the event line. */
export interface ProbeSite {
  kind: 'kprobe' | 'kretprobe';
  /** Probed function: `filemap_fault` from `(filemap_fault+0x0/0x5a0)` or `(x <- filemap_fault)`. */
  func: string;
  /** kprobe: offset into func (`+0x0`). */
  offset?: number;
  /** kprobe: size of func (`/0x5a0`). */
  size?: number;
  /** kretprobe: the caller symbol (`__do_fault+0x3c/0x140`) as printed. */
  caller?: string;
}

export interface TraceEvent {
  type: 'event';
  /** Exact integer nanoseconds (or raw counter ticks for counter/x86-tsc clocks). */
  ts: bigint;
  /** The CPU the line prints; −1 for a line that prints none (`perf script` of `perf record -p PID`): see cpuName. */
  cpu: number;
  pid: number;
  tgid?: number;
  comm: string;
  /** irqs-off / need-resched / hardirq-softirq / preempt-depth / migrate columns, as printed. */
  flags?: string;
  /** Event name as the kernel names it: `mm_filemap_add_to_page_cache`, `p_filemap_fault_0`, `function`, `print`. */
  event: string;
  /** Event system when known: `filemap`, `exceptions`, `kprobes`, `ftrace`. */
  system?: string;
  fields: Fields;
  /** kprobe/kretprobe location, when the event is a probe. */
  probe?: ProbeSite;
  /** `<stack trace>` / ` => frame` / callchain lines attached to this event. */
  stack?: string[];
  /** 1-based line number of the event in its source (first line for multi-line events). */
  line: number;
  /** File name, or `-` for stdin, or a caller-chosen label. */
  source: string;
}

export type GapKind =
  | 'lost-events' // `CPU:N [LOST N EVENTS]` / `CPU:N [LOST EVENTS]` / ring-buffer missed events
  | 'events-dropped' // trace-cmd report `[N EVENTS DROPPED]`
  | 'buffer-started' // `##### CPU N buffer started ####`: earlier events on that CPU were overwritten
  | 'truncated' // the input ended in the middle of a record
  | 'missing-entries' // fewer entries than the `entries-in-buffer` header counts: cut off or removed, nowhere in particular
  | 'unparseable'; // a line no reader understood

/** A place where events may be missing. Replay across a gap on that CPU is uncertain. */
export interface Gap {
  type: 'gap';
  kind: GapKind;
  /** The CPU the gap is on; undefined when it could be any CPU. */
  cpu?: number;
  /** Number of events lost, when the trace says. */
  lost?: number;
  /** Timestamp of the gap, when known (the next event's on that CPU, or the line's own). */
  ts?: bigint;
  line: number;
  source: string;
  /** Why this is a gap, in words a user reads. */
  reason: string;
  /** The offending input line (cut to a sane length) for unparseable/truncated gaps. */
  text?: string;
}

/**
 * Non-event information found in the trace: tracer name, clock, trace-cmd preamble, ...; and
 * `layout: perf script` before a text trace's first `perf script` line (perf prints the events it
 * lost only with --show-lost-events: replay warns).
 */
export interface TraceMeta {
  type: 'meta';
  key: string;
  value: string | number;
  line: number;
  source: string;
}

export type TraceRecord = TraceEvent | Gap | TraceMeta;

/**
 * A CPU as people read it: `CPU 3`, or for a line that prints no CPU (cpu −1: `perf script` of
 * `perf record -p PID` or `perf record cmd` prints no `[cpu]` column) what is true instead — the
 * trace does not say which CPU, and the task is all it names. The JSON keeps the number.
 */
export function cpuName(cpu: number): string {
  return cpu >= 0 ? `CPU ${cpu}` : 'no CPU printed';
}

/** After a task's name: ` on CPU 3`, or ` (no CPU printed)`. */
export function onCpu(cpu: number): string {
  return cpu >= 0 ? ` on CPU ${cpu}` : ' (no CPU printed)';
}

/** A task with its CPU as ftrace prints them, `comm-pid [003]`; `comm-pid` alone for a line that prints no CPU. */
export function taskColumn(comm: string, pid: number, cpu: number): string {
  return cpu >= 0 ? `${comm}-${pid} [${String(cpu).padStart(3, '0')}]` : `${comm}-${pid}`;
}

/** CPUs listed (`CPUs 0, 1`, `CPU 1`), with lines that print no CPU (negative) named as such, not as a number. */
export function cpusName(cpus: Iterable<number>): string {
  const all = [...new Set(cpus)].sort((a, b) => a - b);
  const real = all.filter((c) => c >= 0);
  const printed = real.length ? `${real.length > 1 ? 'CPUs' : 'CPU'} ${real.join(', ')}` : '';
  if (real.length === all.length) return printed;
  return printed ? `${printed} and lines that print no CPU` : 'lines that print no CPU';
}
