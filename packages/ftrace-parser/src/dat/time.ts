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

/**
 * The function that turns a ring-buffer timestamp into trace-cmd's (timestamp_calc,
 * trace-input.c:1794-1817): the TSC2NSEC conversion when its multiplier is not 0, then the
 * OFFSET/DATE offset, modulo 2^64. Undefined when the timestamps are kept as they are.
 */
export function timestampMapper(tsc: Tsc2Nsec, offset: bigint): ((ts: Ts) => Ts) | undefined {
  if (tsc.mult === 0 && offset === 0n) return undefined;
  const { mult, shift } = tsc;
  const narrow = (t: bigint): Ts => (t < BigInt(SAFE) ? Number(t) : t);
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
