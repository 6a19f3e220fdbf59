/**
 * `perf script` sample lines without the `[cpu]` column — what `perf record -g -p PID` and
 * `perf record -g cmd` print by default (perf shows the CPU only for system-wide or
 * per-CPU recordings), and simpleperf's tab-separated form:
 *
 *   dd 29776 666709.771979:   10101010 cpu-clock:
 *   simple-terminat     9/9     198791.127353: cpu-clock:
 *   go  6157  1224.147545:     250000 cpu-clock:uhH:
 *   java 19983 cycles:                                  (-F comm,pid,event: no time)
 *   Gecko\t25122 115539.936601:\t\t1000000 task-clock:u:
 *
 * `comm pid[/tid] [time:] [period] event:`. The comm may hold spaces; the pid is the last
 * all-digit word before the time (or, without a time, before the event). A line is only
 * taken when the word after the pid is a time or an event name ending in `:`, so ftrace
 * lines, latency lines and callchain frames never match.
 */
import { stringInterner } from './intern.js';
import type { LineHead } from './line-head.js';
import { lastTimestamp, scanTimestamp } from './timestamp.js';

const comms = stringInterner(64);

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `1234` or `1234/5678` in s[a, b): [pid, tid] or undefined. */
function pidTid(s: string, a: number, b: number): [number, number | undefined] | undefined {
  let i = a;
  while (i < b && isDigit(s.charCodeAt(i))) i++;
  if (i === a || i - a > 10) return undefined;
  const first = Number(s.slice(a, i));
  if (i === b) return [first, undefined];
  if (s.charCodeAt(i) !== 47) return undefined;
  const j = i + 1;
  i = j;
  while (i < b && isDigit(s.charCodeAt(i))) i++;
  if (i === j || i !== b || i - j > 10) return undefined;
  return [first, Number(s.slice(j, b))];
}

/** An event word `name:` / `sys:name:` / `cycles:uppp:` in s[a, b) (the colon included). */
function isEventWord(s: string, a: number, b: number): boolean {
  if (b - a < 2 || s.charCodeAt(b - 1) !== 58) return false;
  const c0 = s.charCodeAt(a);
  if (!((c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90) || c0 === 95)) return false;
  for (let i = a + 1; i < b - 1; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === 45 || c === 46 || c === 58;
    if (!ok) return false;
  }
  return true;
}

/** The result object (reused by the next call, as scanHead's is). */
const head: LineHead = { layout: 'perf', comm: '', pid: 0, tgid: undefined, cpu: -1, flags: undefined, ts: 0n, tsForm: 'usec', rest: 0 };

/** Words of s[start, end) as [start, end) pairs, at most `max` of them. */
function words(s: string, start: number, end: number, max: number): number[] {
  const out: number[] = [];
  let i = start;
  while (i < end && out.length < max * 2) {
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (i >= end) break;
    const a = i;
    while (i < end && !isSpace(s.charCodeAt(i))) i++;
    out.push(a, i);
  }
  return out;
}

/**
 * Scan a perf sample line without a `[cpu]` column. `hasTime` false means the line has no
 * time: the caller gives it the last time seen. `cpu` is -1 (unknown). Undefined when the
 * line is not one.
 */
export function scanPerfHeadNoCpu(s: string, start = 0, end = s.length): (LineHead & { hasTime: boolean }) | undefined {
  const w = words(s, start, end, 24);
  const n = w.length / 2;
  if (n < 3) return undefined;
  // the first time word `digits.digits:` after at least comm and pid
  for (let k = 2; k < n; k++) {
    const a = w[2 * k]!,
      b = w[2 * k + 1]!;
    if (s.charCodeAt(b - 1) !== 58 || !isDigit(s.charCodeAt(a))) continue;
    if (!scanTimestamp(s, a, b - 1) || lastTimestamp.form === 'counter') continue;
    const ts = lastTimestamp.ts;
    const form = lastTimestamp.form;
    const p = pidTid(s, w[2 * k - 2]!, w[2 * k - 1]!);
    if (!p) return undefined;
    // after the time: [period] event:
    let e = k + 1;
    if (e < n && isDigit(s.charCodeAt(w[2 * e]!)) && pidTid(s, w[2 * e]!, w[2 * e + 1]!)?.[1] === undefined) e++;
    if (e >= n || !isEventWord(s, w[2 * e]!, w[2 * e + 1]!)) return undefined;
    return fill(s, w[0]!, w[2 * k - 3]!, p, ts, form, w[2 * (k + 1)]!, true);
  }
  // no time: `comm pid event:` (never a comment: `# trace ... for PID 1182 only:`)
  if (s.charCodeAt(w[0]!) === 35) return undefined;
  for (let k = 1; k + 1 < n; k++) {
    const p = pidTid(s, w[2 * k]!, w[2 * k + 1]!);
    if (!p || !isEventWord(s, w[2 * k + 2]!, w[2 * k + 3]!)) continue;
    return fill(s, w[0]!, w[2 * k - 1]!, p, 0n, 'none', w[2 * k + 2]!, false);
  }
  return undefined;
}

function fill(
  s: string,
  commStart: number,
  commEnd: number,
  p: [number, number | undefined],
  ts: bigint,
  form: LineHead['tsForm'],
  rest: number,
  hasTime: boolean,
): LineHead & { hasTime: boolean } {
  // perf `pid/tid`: the task is the tid; the pid is the thread group
  head.comm = comms.get(s, commStart, commEnd);
  head.pid = p[1] ?? p[0];
  head.tgid = p[1] === undefined ? undefined : p[0];
  head.ts = ts;
  head.tsForm = form;
  head.rest = rest;
  return Object.assign(head, { hasTime });
}
