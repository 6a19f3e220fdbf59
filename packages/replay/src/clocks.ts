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
 */

/** Clocks that do not keep one time across CPUs. */
const PER_CPU_CLOCKS: ReadonlySet<string> = new Set(['local', 'perf', 'x86-tsc']);

/** Whether a trace clock gives events of different CPUs no order (an unknown clock, one the trace does not name, is taken as ordered: docs/replay.md, *Trace clocks*). */
export function clockIsPerCpu(clock: string | undefined): boolean {
  return clock !== undefined && PER_CPU_CLOCKS.has(clock);
}

/** Why a per-CPU clock leaves the order of different CPUs' events open. */
export function perCpuClockReason(clock: string): string {
  return `the trace clock \`${clock}\` is kept per CPU and need not agree across CPUs (the kernel's Documentation/trace/ftrace.rst)`;
}

/** What to do about it. */
export const PER_CPU_CLOCK_HINT =
  "capture with a clock that keeps one time across CPUs (trace-cmd record -C mono or -C global; tracefs trace_clock; kreplay capture uses mono), or pass --clock-skew N if you know the CPUs' clocks agree within N (the trace's own timestamp units: nanoseconds, but cycles on x86-tsc when the file has no TSC2NSEC conversion, and counts on counter)";
