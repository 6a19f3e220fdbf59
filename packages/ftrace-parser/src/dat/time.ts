/**
 * A trace.dat's timestamps as trace-cmd 3.1.6 reports them: which form it prints them in
 * (nanoseconds as `secs.nsecs`, or raw counts), the TSC2NSEC conversion and the OFFSET and
 * DATE options' offset, all in trace-cmd's unsigned 64-bit arithmetic, so that an event's
 * `ts` and its `--pretty` line are what `trace-cmd report` shows for it.
 */
import type { Ts } from './ring-buffer.js';

const U64 = 1n << 64n;
const MASK64 = U64 - 1n;
const SAFE = 2 ** 53;

/** TSC2NSEC: nanoseconds = (cycles × mult) >> shift. */
export interface Tsc2Nsec {
  mult: number;
  shift: number;
}

/** The clocks trace-cmd prints as nanoseconds (lib/trace-cmd/trace-input.c:4285-4289; `mono` by its first 4 letters). */
function isNanosecondClock(clock: string): boolean {
  return ['local', 'global', 'uptime', 'perf', 'tsc2nsec', 'tai'].includes(clock) || clock.slice(0, 4) === 'mono';
}

/** C's isspace() in the "C" locale (what sscanf's %s stops at). */
const isSpace = (c: string): boolean => c === ' ' || (c >= '\t' && c <= '\r');

/**
 * The clock trace-cmd takes from a trace_clock text (tracecmd_parse_trace_clock and
 * extract_trace_clock, lib/trace-cmd/trace-input.c:4262-4305): the first space-separated
 * word that starts with `[`, its text up to the next bracket, up to the first white space.
 * `undefined` when no word starts with `[`; `null` when the first that does names nothing
 * (`[`, `[]`, `[ x`: trace-cmd then stops looking, its flag unchanged).
 */
export function traceCmdClock(text: string): string | null | undefined {
  for (const word of text.split(' ')) {
    if (word[0] !== '[') continue;
    const inner = /^[[\]]*([^[\]]*)/.exec(word)![1]!;
    let i = 0;
    while (i < inner.length && isSpace(inner[i]!)) i++;
    let j = i;
    while (j < inner.length && !isSpace(inner[j]!)) j++;
    return j > i ? inner.slice(i, j) : null;
  }
  return undefined;
}

/**
 * Whether trace-cmd prints a file's timestamps as nanoseconds (its TRACECMD_FL_IN_USECS
 * flag): set when a file is opened (trace-input.c:4624) and by a TSC2NSEC option
 * (trace-input.c:3887-3897); cleared when a trace_clock text (the TRACECLOCK option, or
 * v6's record after the CPU data table) names a clock not in its list and no TSC2NSEC
 * multiplier has been read yet (trace-input.c:4274-4289). Fed in file order.
 */
export class TimestampForm {
  nanoseconds = true;
  tsc: Tsc2Nsec = { mult: 0, shift: 0 };

  clockText(text: string): void {
    const clock = traceCmdClock(text);
    if (!clock || this.tsc.mult !== 0) return;
    if (!isNanosecondClock(clock)) this.nanoseconds = false;
  }

  tsc2nsec(mult: number, shift: number): void {
    this.tsc = { mult, shift };
    this.nanoseconds = true;
  }
}

/**
 * C's strtoll(text, NULL, 0), as trace-cmd reads the DATE and OFFSET options
 * (trace-input.c:3789, 3799): leading white space, a sign, `0x` hex / `0` octal / decimal,
 * the longest prefix that reads (0 when none does), clamped to the 64-bit range.
 */
export function strtoll(text: string): bigint {
  let i = 0;
  while (i < text.length && isSpace(text[i]!)) i++;
  let neg = false;
  if (text[i] === '+' || text[i] === '-') neg = text[i++] === '-';
  let base = 10;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X') && /[0-9a-fA-F]/.test(text[i + 2] ?? '')) {
    base = 16;
    i += 2;
  } else if (text[i] === '0') base = 8;
  let v = 0n;
  for (; i < text.length; i++) {
    const d = parseInt(text[i]!, 16);
    if (Number.isNaN(d) || d >= base) break;
    v = v * BigInt(base) + BigInt(d);
  }
  if (neg) v = -v;
  const max = (1n << 63n) - 1n;
  return v > max ? max : v < -max - 1n ? -max - 1n : v;
}

/** A 64-bit shift count as x86-64 applies it (the count's low 6 bits), as trace-cmd's build for it does. */
const count = (n: number): bigint => BigInt(((n % 64) + 64) % 64);

/**
 * (ts × mult) >> shift as trace-cmd's mul_u64_u32_shr computes it (trace-input.c:1707-1720):
 * the low and high 32-bit halves multiplied apart, the high part shifted left by
 * 32 − shift, all modulo 2^64. `mult` is the option's u32 as trace-cmd keeps it, in an
 * `int` (trace-input.c:153-157): one of 2^31 and more is sign-extended into the 64-bit
 * multiplier.
 */
export function mulU64U32Shr(ts: bigint, mult: number, shift: number): bigint {
  const m = BigInt.asUintN(64, BigInt(mult | 0));
  const al = ts & 0xffffffffn;
  const ah = (ts >> 32n) & 0xffffffffn;
  let ret = ((al * m) & MASK64) >> count(shift);
  if (ah !== 0n) ret += ((ah * m) << count(32 - shift)) & MASK64;
  return ret & MASK64;
}

/** One guest/host time-sync sample (trace-input.c:123-128): all signed 64-bit. */
export interface SyncSample {
  time: bigint;
  offset: bigint;
  scaling: bigint;
  fraction: bigint;
}

/** A guest file's TIME_SHIFT option: samples per CPU, sorted by time, equal times dropped. */
export interface HostSync {
  interpolate: boolean;
  cpus: SyncSample[][];
}

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
/** C's `/` on long longs: truncated toward zero (BigInt's `/` truncates too), modulo 2^64. */
const div = (a: bigint, b: bigint): bigint => s64(a / b);

/**
 * The TIME_SHIFT option as trace-cmd loads it (trace-input.c:3806-3831, tsync_cpu_offsets_load
 * 3263-3305): trace id (8), flags (4), CPU count (4), per CPU a sample count (4) and that many
 * times, offsets and scalings (8 each), then, when bytes remain, every CPU's fraction bits.
 * Undefined when the option is shorter than 16 bytes (trace-cmd skips it); `'short'` when the
 * samples run past its end (trace-cmd then refuses the file).
 */
export function parseTimeShift(data: Buffer, little: boolean): HostSync | 'short' | undefined {
  if (data.length < 16) return undefined;
  const u32 = (at: number): number => (little ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const i64 = (at: number): bigint => (little ? data.readBigInt64LE(at) : data.readBigInt64BE(at));
  const flags = u32(8);
  let at = 12;
  const need = (n: number): boolean => at + n <= data.length;
  if (!need(4)) return 'short';
  const cpuCount = u32(at) | 0;
  at += 4;
  const cpus: SyncSample[][] = [];
  for (let c = 0; c < cpuCount; c++) {
    if (!need(4)) return 'short';
    const n = u32(at) | 0;
    at += 4;
    if (n < 0 || !need(24 * n)) return 'short';
    const list: SyncSample[] = [];
    for (let k = 0; k < n; k++) list.push({ time: i64(at + 8 * k), offset: i64(at + 8 * (n + k)), scaling: i64(at + 8 * (2 * n + k)), fraction: 0n });
    at += 24 * n;
    cpus.push(list);
  }
  if (at < data.length) {
    for (const list of cpus) {
      if (!need(8 * list.length)) return 'short';
      list.forEach((smp, k) => (smp.fraction = i64(at + 8 * k)));
      at += 8 * list.length;
    }
  }
  for (let c = 0; c < cpus.length; c++) {
    // sorted by time (qsort: the order of equal times is not kept; the first of them stays)
    const sorted = [...cpus[c]!].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    cpus[c] = sorted.filter((smp, k) => k === 0 || smp.time !== sorted[k - 1]!.time);
  }
  return { interpolate: (flags & 1) !== 0, cpus };
}

/** timestamp_correction_calc (trace-input.c:1723-1744), in its 64-bit arithmetic. */
function correct(ts: bigint, interpolate: boolean, min: SyncSample, max: SyncSample): bigint {
  let tscor: bigint;
  if (interpolate) {
    const delta = s64(max.time - min.time);
    const offset = s64(s64(s64(ts) - min.time) * s64(max.offset - min.offset));
    tscor = s64(min.offset + div(s64(offset + div(delta, 2n)), delta));
  } else tscor = min.offset;
  const scaled = u64(ts * u64(min.scaling)) >> count(Number(min.fraction & 63n));
  return u64(scaled + tscor);
}

/** timestamp_host_sync (trace-input.c:1747-1792): a guest CPU's timestamp on the host's time line. */
export function hostSync(ts: bigint, cpu: number, sync: HostSync): bigint {
  const list = sync.cpus[cpu];
  if (list === undefined || list.length === 0) return ts;
  if (list.length === 1) return u64(ts + list[0]!.offset);
  if (list.length === 2) return correct(ts, sync.interpolate, list[0]!, list[1]!);
  const last = list.length - 1;
  // the sample times compare as unsigned, as C converts them against the unsigned ts
  if (ts <= u64(list[0]!.time)) return correct(ts, sync.interpolate, list[0]!, list[1]!);
  if (ts >= u64(list[last]!.time)) return correct(ts, sync.interpolate, list[last - 1]!, list[last]!);
  let min = 0;
  let max = last;
  let mid = (min + max) >> 1;
  while (min <= max) {
    const t = u64(list[mid]!.time);
    if (ts < t) max = mid - 1;
    else if (ts > t) min = mid + 1;
    else break;
    mid = (min + max) >> 1;
  }
  return correct(ts, sync.interpolate, list[mid]!, list[mid + 1]!);
}

/**
 * The function that turns CPU `cpu`'s ring-buffer timestamps into trace-cmd's
 * (timestamp_calc, trace-input.c:1794-1817): a guest file's host sync, then the TSC2NSEC
 * conversion when its multiplier is not 0, then the OFFSET/DATE offset, modulo 2^64.
 * Undefined when the timestamps are kept as they are.
 */
export function timestampMapper(tsc: Tsc2Nsec, offset: bigint, sync?: HostSync, cpu = 0): ((ts: Ts) => Ts) | undefined {
  const { mult, shift } = tsc;
  const narrow = (t: bigint): Ts => (t < BigInt(SAFE) ? Number(t) : t);
  if (sync !== undefined) {
    return (ts) => {
      let t = hostSync(u64(BigInt(ts)), cpu, sync);
      if (mult !== 0) t = mulU64U32Shr(t, mult, shift);
      return narrow(u64(t + offset));
    };
  }
  if (tsc.mult === 0 && offset === 0n) return undefined;
  if (mult === 0) {
    return (ts) => {
      if (typeof ts === 'number' && offset > -BigInt(SAFE) && offset < BigInt(SAFE)) {
        const t = ts + Number(offset);
        if (t >= 0 && t < SAFE) return t;
      }
      return narrow((BigInt(ts) + offset) & MASK64);
    };
  }
  return (ts) => narrow((mulU64U32Shr(BigInt(ts) & MASK64, mult, shift) + offset) & MASK64);
}
