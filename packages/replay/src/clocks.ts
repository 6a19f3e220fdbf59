/**
 * Trace clocks and the order they give events of different CPUs. The kernel's own words
 * (Documentation/trace/ftrace.rst, "trace_clock", 6.1.192 lines 465-510): `local`, the default,
 * "may not be in sync across CPUs"; `global` "is in sync with all CPUs"; `counter` is an atomic
 * counter "in sync with all CPUs"; `mono`, `mono_raw`, `boot` and `tai` read the timekeeping
 * clocksource, which the kernel keeps one for the whole machine; `uptime` is jiffies. `perf` is
 * trace_clock(), local_clock(), which "will allow at most ~1 jiffy of jitter between CPUs"
 * (kernel/trace/trace_clock.c:49-60, 6.1.192; the table is trace.c:1557-1568), and `x86-tsc`
 * is each CPU's own time-stamp counter read raw.
 *
 * On a per-CPU clock two events of different CPUs print an order that need not be the order
 * they ran: how far apart the CPUs' clocks are is not in the trace. Replay then either takes a
 * bound from the user (`--clock-skew N`: events of different CPUs at most N apart are
 * searched in the orders such clocks allow, as ties are) or calls every finding that involves two CPUs
 * uncertain and the rules that judge across CPUs not judged.
 *
 * A trace that does not name its clock (tracefs `trace` text without meta.json, `trace-cmd
 * report` text, `perf script` output without perf's clock header) gets the same treatment: the
 * default of every tool that writes one is a per-CPU clock — tracefs's trace_clock and
 * `trace-cmd record` use `local`, and `perf record` without `-k` stamps samples with
 * perf_clock(), which is local_clock() (kernel/events/core.c) — so its order across CPUs is
 * not known. The user may name it (`--trace-clock`): the trace's own record wins, then
 * meta.json, then the flag, and a flag that contradicts either is an input error.
 */
import { InputError } from '@kreplay/core';

/** The clocks of the kernel's trace_clocks table (kernel/trace/trace.c, 6.1.192; `x86-tsc` is x86's ARCH_TRACE_CLOCKS). */
export const TRACE_CLOCK_NAMES = ['local', 'global', 'counter', 'uptime', 'perf', 'mono', 'mono_raw', 'boot', 'tai', 'x86-tsc'] as const;

/** Clocks that keep one time across CPUs: every other one (and a name kreplay does not know) orders no two CPUs' events. */
const ORDERED_CLOCKS: ReadonlySet<string> = new Set(['global', 'counter', 'uptime', 'mono', 'mono_raw', 'boot', 'tai']);

/** Where replay learnt the trace clock: the trace's own record (a trace.dat, perf's header), meta.json, `--trace-clock`, or nowhere. */
export type ClockFrom = 'recorded' | 'meta' | 'flag' | 'unknown';

/** Whether a trace clock gives events of different CPUs no order (undefined: the trace does not name it, and the tools' defaults are per CPU). */
export function clockIsPerCpu(clock: string | undefined): boolean {
  return clock === undefined || !ORDERED_CLOCKS.has(clock);
}

/** Why the trace's clock leaves the order of different CPUs' events open. */
export function perCpuClockReason(clock: string | undefined): string {
  if (clock === undefined)
    return "the trace does not name its trace clock; tracefs's, trace-cmd's and perf's default is per CPU (trace_clock `local`; perf record's perf_clock() is local_clock()) and need not agree across CPUs";
  if ((TRACE_CLOCK_NAMES as readonly string[]).includes(clock))
    return `the trace clock \`${clock}\` is kept per CPU and need not agree across CPUs (the kernel's Documentation/trace/ftrace.rst)`;
  return `the trace clock \`${clock}\` is not one kreplay knows to keep one time across CPUs`;
}

/** What to do about a per-CPU clock the trace names. */
export const PER_CPU_CLOCK_HINT =
  "capture with a clock that keeps one time across CPUs (trace-cmd record -C mono or -C global; tracefs trace_clock; kreplay capture uses mono), or pass --clock-skew N if you know the CPUs' clocks agree within N (the trace's own timestamp units: nanoseconds, but cycles on x86-tsc when the file has no TSC2NSEC conversion, and counts on counter)";

/** What to do about a trace that does not name its clock. */
export const UNNAMED_CLOCK_HINT =
  "if you know the clock the trace was recorded with, pass --trace-clock NAME (cat /sys/kernel/tracing/trace_clock shows it in brackets; mono, global, boot, ... keep one time across CPUs); or pass --clock-skew N if you know the CPUs' clocks agree within N; or capture with kreplay capture, a trace.dat, or `perf record -k mono` printed with `perf script --header`, which record their clock";

/** The hint for a clock that orders no two CPUs' events. */
export function perCpuClockHint(clock: string | undefined): string {
  return clock === undefined ? UNNAMED_CLOCK_HINT : PER_CPU_CLOCK_HINT;
}

/** A clock name the user gave (`--trace-clock`, a ci config's `replay.traceClock`), checked against the kernel's table. */
export function checkTraceClock(name: string, what = '--trace-clock'): string {
  if ((TRACE_CLOCK_NAMES as readonly string[]).includes(name)) return name;
  throw new InputError(`${what} ${JSON.stringify(name)} is not a trace clock the kernel has`, {
    hint: `give one of ${TRACE_CLOCK_NAMES.join(', ')} (the names of /sys/kernel/tracing/trace_clock)`,
  });
}

/**
 * perf's clock names (`perf script --header` prints `# clockid: NAME (ID)` when `perf record -k`
 * chose one: tools/perf/util/header.c print_clock_data; the names are clockid_name()'s, the
 * first match in tools/perf/util/clockid.c's table) as the trace clock that reads the same
 * time. CLOCK_REALTIME has none (it can be set back, so it need not order events), nor an id
 * perf's table does not know (`(not found)`): their names are kept, and order nothing.
 */
export function perfClockidName(name: string): string {
  const n = name.toLowerCase();
  return PERF_CLOCKIDS[n] ?? `perf clockid ${name}`;
}

const PERF_CLOCKIDS: Record<string, string> = {
  monotonic: 'mono',
  mono: 'mono',
  monotonic_raw: 'mono_raw',
  raw: 'mono_raw',
  boottime: 'boot',
  boot: 'boot',
  tai: 'tai',
};
