/**
 * Trace timestamps → exact integer nanoseconds, never through a float.
 * `123.456789` (kernel default, usec) → 123456789000n; `123.456789012` (trace-cmd -t,
 * perf --ns) → 123456789012n; a bare integer (`counter`, `uptime`, `x86-tsc` clocks) is
 * kept as the raw counter value.
 */

/** How the timestamps of a trace are printed. */
export type TimestampForm = 'usec' | 'nsec' | 'counter' | 'other';

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];
/** Seconds below this times 1e9 plus a fraction stay below 2^53: exact as a number. */
const SAFE_SECONDS = 9007199;

export interface ParsedTimestamp {
  ts: bigint;
  form: TimestampForm;
}

/** Parse s[start, end) as a timestamp; undefined if it is not one. */
export function parseTimestamp(s: string, start: number, end: number): ParsedTimestamp | undefined {
  if (end <= start || end - start > 40) return undefined;
  let dot = -1;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (dot >= 0) return undefined;
      dot = i;
    } else if (c < 48 || c > 57) return undefined;
  }
  if (dot < 0) {
    const text = s.slice(start, end);
    return { ts: end - start <= 15 ? BigInt(parseInt(text, 10)) : BigInt(text), form: 'counter' };
  }
  const fracLen = end - dot - 1;
  if (dot === start || fracLen === 0 || fracLen > 9) return undefined;
  const secText = s.slice(start, dot);
  const frac = parseInt(s.slice(dot + 1, end), 10) * POW10[9 - fracLen]!;
  const form: TimestampForm = fracLen === 6 ? 'usec' : fracLen === 9 ? 'nsec' : 'other';
  if (dot - start <= 7) {
    const sec = parseInt(secText, 10);
    if (sec < SAFE_SECONDS) return { ts: BigInt(sec * 1e9 + frac), form };
  }
  return { ts: BigInt(secText) * 1_000_000_000n + BigInt(frac), form };
}

/** Format exact nanoseconds the way the kernel prints them (`sec.usec`), for messages. */
export function formatTimestamp(ts: bigint, form: TimestampForm = 'usec'): string {
  if (form === 'counter') return ts.toString();
  const sec = ts / 1_000_000_000n;
  const ns = ts % 1_000_000_000n;
  if (form === 'nsec') return `${sec}.${ns.toString().padStart(9, '0')}`;
  return `${sec}.${(ns / 1000n).toString().padStart(6, '0')}`;
}
