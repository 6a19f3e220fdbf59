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
 * `trace-cmd report -l` prints the same columns with the absolute time (`1356.806298:`).
 */
const LATENCY = /^ *(\S.{0,7}?)-(\d+) +(\d+)([^ ]{3,6}) +(\d+)(?:(us.)|\.(\d{1,9})):? /;

export interface LatencyHead {
  comm: string;
  pid: number;
  cpu: number;
  flags: string;
  ts: bigint;
  /**
   * `usec`: µs since the trace's start; `counter`: a bare count; `absolute` / `nsec`: the
   * time of day `sec.usec` / `sec.nsec` that `trace-cmd report -l` prints.
   */
  unit: 'usec' | 'counter' | 'absolute' | 'nsec';
  /** Index of the first character after `: `. */
  rest: number;
}

export function scanLatencyLine(s: string): LatencyHead | undefined {
  const m = LATENCY.exec(s);
  if (!m) return undefined;
  const t = BigInt(m[5]!);
  let rest = m[0].length;
  while (rest < s.length && s.charCodeAt(rest) === 32) rest++;
  const head = { comm: m[1]!, pid: Number(m[2]), cpu: Number(m[3]), flags: m[4]!, rest };
  const frac = m[7];
  if (frac !== undefined) {
    // `trace-cmd report -l`: the same columns with the absolute time `1356.806298:`
    if (!m[0].endsWith(': ')) return undefined;
    return { ...head, ts: t * 1_000_000_000n + BigInt(frac.padEnd(9, '0')), unit: frac.length === 9 ? 'nsec' : 'absolute' };
  }
  if (!m[0].endsWith(': ')) return undefined;
  return { ...head, ts: m[6] ? t * 1000n : t, unit: m[6] ? 'usec' : 'counter' };
}
