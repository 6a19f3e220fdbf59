/**
 * The latency format: what the irqsoff/preemptoff/wakeup tracers print, and any tracer
 * with `options/latency-format` set (kernel trace_print_lat_context, non-verbose):
 *
 *       bash-1517    0d...    0us : _raw_spin_lock_irqsave <-__lock_task_sighand
 *     <idle>-0       0dNh5.   12us+: sched_switch: prev_comm=swapper/0 ...
 *
 * `%8.8s-%-7d %3d` (comm cut to 8 characters, pid, cpu), the flags glued to the cpu, then the
 * time since the start of the trace in microseconds and a mark for the delta to the next
 * line (` %4lldus%c: `), or a bare counter (` %4lld: `) when the clock is not in ns. The
 * time is relative: a record's `ts` is that many µs in ns, on the trace's own time line.
 */
const LATENCY = /^ *(\S.{0,7}?)-(\d+) +(\d+)([^ ]{3,6}) +(\d+)(us.)?: /;

export interface LatencyHead {
  comm: string;
  pid: number;
  cpu: number;
  flags: string;
  ts: bigint;
  /** `us` when the time is in microseconds, `counter` for a bare count. */
  unit: 'usec' | 'counter';
  /** Index of the first character after `: `. */
  rest: number;
}

export function scanLatencyLine(s: string): LatencyHead | undefined {
  const m = LATENCY.exec(s);
  if (!m) return undefined;
  const t = BigInt(m[5]!);
  return {
    comm: m[1]!, pid: Number(m[2]), cpu: Number(m[3]), flags: m[4]!,
    ts: m[6] ? t * 1000n : t, unit: m[6] ? 'usec' : 'counter', rest: m[0].length,
  };
}
