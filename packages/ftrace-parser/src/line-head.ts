/**
 * The context columns in front of every event line, for both layouts kreplay reads:
 *
 *   ftrace / trace_pipe / trace-cmd report:   `  comm-pid  (tgid) [cpu] flags  ts: rest`
 *   perf script:                               `  comm  tid [cpu]  ts: rest`   (or `pid/tid`)
 *
 * A hand scanner, not a regex: it anchors on the `[cpu]` column, reads the task to its
 * left (pid digits after the last `-` for ftrace, after a space for perf, so comms with
 * spaces, dashes, colons, slashes and digits survive) and the optional flags column and the
 * timestamp to its right. The tgid column (`record-tgid`) and flags of any width are optional.
 */
import { parseTimestamp, type TimestampForm } from './timestamp.js';

export interface LineHead {
  layout: 'ftrace' | 'perf';
  comm: string;
  pid: number;
  tgid?: number;
  cpu: number;
  flags?: string;
  ts: bigint;
  tsForm: TimestampForm;
  /** Index of the first character after `ts:` and its spaces. */
  rest: number;
}

/** Why a line that looked like an event did not scan (for the Gap's reason). */
export type HeadFailure = string;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Find `[digits]` preceded by a space (or at column 0 of the right part); returns index of '['. */
function findCpuColumn(s: string): number {
  let from = 0;
  for (;;) {
    const b = s.indexOf('[', from);
    if (b < 0) return -1;
    let i = b + 1;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i > b + 1 && s.charCodeAt(i) === 93 && b > 0 && s.charCodeAt(b - 1) === 32) return b;
    from = b + 1;
  }
}

/** Scan the context columns of an event line; a string says why it is not one. */
export function scanHead(s: string): LineHead | HeadFailure {
  const b = findCpuColumn(s);
  if (b < 0) return 'no [cpu] column';
  const close = s.indexOf(']', b);
  const cpu = parseInt(s.slice(b + 1, close), 10);

  // ---- left: task (and tgid) ----
  let e = b - 1;
  while (e >= 0 && s.charCodeAt(e) === 32) e--;
  let tgid: number | undefined;
  if (e >= 0 && s.charCodeAt(e) === 41) {
    const open = s.lastIndexOf('(', e);
    if (open < 0) return 'unbalanced tgid column';
    const inner = s.slice(open + 1, e).trim();
    if (inner.length > 0 && isDigit(inner.charCodeAt(0))) {
      tgid = parseInt(inner, 10);
      if (String(tgid) !== inner) return `bad tgid "${inner}"`;
    } else if (!/^-+$/.test(inner)) return `bad tgid "${inner}"`;
    e = open - 1;
    while (e >= 0 && s.charCodeAt(e) === 32) e--;
  }
  const pidEnd = e + 1;
  while (e >= 0 && isDigit(s.charCodeAt(e))) e--;
  if (e + 1 === pidEnd) return 'no pid before the [cpu] column';
  const pid = parseInt(s.slice(e + 1, pidEnd), 10);
  let layout: 'ftrace' | 'perf';
  let commEnd: number;
  const sep = e >= 0 ? s.charCodeAt(e) : -1;
  let finalPid = pid;
  if (sep === 45) {
    layout = 'ftrace';
    commEnd = e;
  } else if (sep === 32 || sep === 47) {
    layout = 'perf';
    commEnd = e;
    if (sep === 47) {
      // perf `pid/tid`: the task is the tid; the pid is the thread group
      let p = e - 1;
      const pe = e;
      while (p >= 0 && isDigit(s.charCodeAt(p))) p--;
      if (p + 1 === pe) return 'bad pid/tid column';
      tgid = parseInt(s.slice(p + 1, pe), 10);
      commEnd = p;
    }
    while (commEnd > 0 && s.charCodeAt(commEnd - 1) === 32) commEnd--;
  } else return 'no comm-pid before the [cpu] column';
  let commStart = 0;
  while (commStart < commEnd && s.charCodeAt(commStart) === 32) commStart++;
  const comm = s.slice(commStart, commEnd);

  // ---- right: flags and timestamp ----
  let i = close + 1;
  const n = s.length;
  while (i < n && s.charCodeAt(i) === 32) i++;
  let tokEnd = s.indexOf(' ', i);
  if (tokEnd < 0) tokEnd = n;
  let flags: string | undefined;
  let ts = s.charCodeAt(tokEnd - 1) === 58 ? parseTimestamp(s, i, tokEnd - 1) : undefined;
  if (!ts) {
    flags = s.slice(i, tokEnd);
    i = tokEnd;
    while (i < n && s.charCodeAt(i) === 32) i++;
    tokEnd = s.indexOf(' ', i);
    if (tokEnd < 0) tokEnd = n;
    if (s.charCodeAt(tokEnd - 1) !== 58) return 'no "timestamp:" after the [cpu] column';
    ts = parseTimestamp(s, i, tokEnd - 1);
    if (!ts) return `bad timestamp "${s.slice(i, tokEnd - 1)}"`;
  }
  i = tokEnd;
  while (i < n && s.charCodeAt(i) === 32) i++;
  const head: LineHead = { layout, comm, pid: finalPid, cpu, ts: ts.ts, tsForm: ts.form, rest: i };
  if (tgid !== undefined) head.tgid = tgid;
  if (flags !== undefined) head.flags = flags;
  return head;
}
