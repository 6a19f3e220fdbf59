/**
 * Trace timestamps → exact integer nanoseconds, never through a float.
 * `123.456789` (kernel default, usec) → 123456789000n; `123.456789012` (trace-cmd -t,
 * perf --ns) → 123456789012n; a bare integer (`counter`, `uptime`, `x86-tsc` clocks) is
 * kept as the raw counter value.
 */

/**
 * How the timestamps of a trace are printed (`latency`: µs since the trace's start, latency
 * format; `none`: the lines carry no time, e.g. `perf script -F comm,pid,event`).
 */
export type TimestampForm = 'usec' | 'nsec' | 'counter' | 'latency' | 'other' | 'none';

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];
/** Seconds below this, times 1e9 plus a fraction, stay below 2^53: exact as a number. */
const SAFE_SECONDS = 9007199;

export interface ParsedTimestamp {
  ts: bigint;
  form: TimestampForm;
}

/** The result of the last scanTimestamp call (a reused object: the hot path allocates nothing else). */
export const lastTimestamp: ParsedTimestamp = { ts: 0n, form: 'usec' };

/**
 * Scan s[start, end) as a timestamp into `lastTimestamp`; false if it is not one.
 * Digits are accumulated by hand; one BigInt is made per timestamp.
 */
export function scanTimestamp(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len <= 0 || len > 40) return false;
  let sec = 0;
  let i = start;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    sec = sec * 10 + d;
  }
  const intDigits = i - start;
  if (i === end) {
    // a raw counter: exact as a number up to 15 digits
    if (intDigits === 0) return false;
    lastTimestamp.ts = intDigits <= 15 ? BigInt(sec) : BigInt(s.slice(start, end));
    lastTimestamp.form = 'counter';
    return true;
  }
  if (s.charCodeAt(i) !== 46 || intDigits === 0) return false;
  const dot = i;
  let frac = 0;
  for (i = dot + 1; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    frac = frac * 10 + d;
  }
  const fracLen = end - dot - 1;
  if (fracLen === 0 || fracLen > 9) return false;
  frac *= POW10[9 - fracLen]!;
  lastTimestamp.form = fracLen === 6 ? 'usec' : fracLen === 9 ? 'nsec' : 'other';
  lastTimestamp.ts = intDigits <= 7 && sec < SAFE_SECONDS ? BigInt(sec * 1e9 + frac) : BigInt(s.slice(start, dot)) * 1_000_000_000n + BigInt(frac);
  return true;
}

/** Parse s[start, end) as a timestamp; undefined if it is not one. */
export function parseTimestamp(s: string, start: number, end: number): ParsedTimestamp | undefined {
  return scanTimestamp(s, start, end) ? { ts: lastTimestamp.ts, form: lastTimestamp.form } : undefined;
}

/** Format exact nanoseconds the way the kernel prints them (`sec.usec`), for messages. */
export function formatTimestamp(ts: bigint, form: TimestampForm = 'usec'): string {
  if (form === 'counter') return ts.toString();
  const sec = ts / 1_000_000_000n;
  const ns = ts % 1_000_000_000n;
  if (form === 'nsec') return `${sec}.${ns.toString().padStart(9, '0')}`;
  return `${sec}.${(ns / 1000n).toString().padStart(6, '0')}`;
}
