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
import { DirectInterner, stringInterner } from './intern.js';
import { lastTimestamp, scanTimestamp, type TimestampForm } from './timestamp.js';

const comms = stringInterner(256);
const flagColumns = new DirectInterner((name) => ({ name }), 8);

export interface LineHead {
  layout: 'ftrace' | 'perf';
  comm: string;
  pid: number;
  tgid: number | undefined;
  cpu: number;
  flags: string | undefined;
  ts: bigint;
  tsForm: TimestampForm;
  /** Index of the first character after `ts:` and its spaces. */
  rest: number;
}

/**
 * CPU numbers at or above this are not CPUs: no kernel has that many (NR_CPUS is at most 8192
 * in Linux 6.1: arch/x86/Kconfig:1006 NR_CPUS_RANGE_END with CPUMASK_OFFSTACK, and powerpc's;
 * arm64, ia64 and sparc64 4096), whatever the trace says. Replay keeps per-CPU state in arrays
 * indexed by CPU: one line naming CPU 2147483647 made a 10-line trace replay for 93 s.
 */
export const MAX_CPUS = 1 << 16;

/** Why a CPU number read from a trace is not a CPU (undefined when it is one); `text` is how the trace wrote it. */
export function notACpu(cpu: number, text: string = String(cpu)): string | undefined {
  return cpu < MAX_CPUS ? undefined : `CPU ${text.length > 24 ? `${text.slice(0, 24)}…` : text} is not a CPU: no kernel has more than 8192 (NR_CPUS)`;
}

/** Why a line that looked like an event did not scan (for the Gap's reason). */
export type HeadFailure = string;

/** Column separators: spaces, and the tabs simpleperf and pasted traces use. */
function isSp(c: number): boolean {
  return c === 32 || c === 9;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Find `[digits]` preceded by a space in s[start, end); returns the index of '[' or -1. */
function findCpuColumn(s: string, start: number, end: number): number {
  let from = start;
  for (;;) {
    const b = s.indexOf('[', from);
    if (b < 0 || b >= end) return -1;
    let i = b + 1;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i > b + 1 && i < end && s.charCodeAt(i) === 93 && b > start && isSp(s.charCodeAt(b - 1))) return b;
    from = b + 1;
  }
}

/** The comm last seen for each pid (most lines repeat one): reused without a new string. */
const commByPid = new Map<number, string>();

/** The result of the last scanHead call: one reused object, valid until the next call. */
const head: LineHead = { layout: 'ftrace', comm: '', pid: 0, tgid: undefined, cpu: 0, flags: undefined, ts: 0n, tsForm: 'usec', rest: 0 };

/**
 * Scan the context columns of an event line; a string says why it is not one. The returned
 * object is reused by the next call: copy what you keep.
 */
export function scanHead(s: string, start = 0, end = s.length): LineHead | HeadFailure {
  const b = findCpuColumn(s, start, end);
  if (b < 0) return 'no [cpu] column';
  let close = b + 1;
  let cpu = 0;
  for (let c = s.charCodeAt(close); c !== 93; c = s.charCodeAt(++close)) cpu = cpu * 10 + c - 48;
  if (cpu >= MAX_CPUS) return notACpu(cpu, s.slice(b + 1, close))!;

  // ---- left: task (and tgid) ----
  let e = b - 1;
  while (e >= start && isSp(s.charCodeAt(e))) e--;
  let tgid: number | undefined;
  if (e >= start && s.charCodeAt(e) === 41) {
    const open = s.lastIndexOf('(', e);
    if (open < start) return 'unbalanced tgid column';
    const inner = s.slice(open + 1, e).trim();
    if (inner.length > 0 && isDigit(inner.charCodeAt(0))) {
      tgid = parseInt(inner, 10);
      if (String(tgid) !== inner) return `bad tgid "${inner}"`;
    } else if (!/^-+$/.test(inner)) return `bad tgid "${inner}"`;
    e = open - 1;
    while (e >= start && isSp(s.charCodeAt(e))) e--;
  }
  const pidEnd = e + 1;
  let pid = 0;
  let scale = 1;
  for (let c = s.charCodeAt(e); e >= start && c >= 48 && c <= 57; c = s.charCodeAt(--e)) {
    pid += (c - 48) * scale;
    scale *= 10;
  }
  if (e + 1 === pidEnd) return 'no pid before the [cpu] column';
  let layout: 'ftrace' | 'perf';
  let commEnd = e;
  const sep = e >= start ? s.charCodeAt(e) : -1;
  if (sep === 45) {
    layout = 'ftrace';
  } else if (sep === 32 || sep === 9 || sep === 47) {
    layout = 'perf';
    if (sep === 47) {
      // perf `pid/tid`: the task is the tid; the pid is the thread group
      let p = e - 1;
      while (p >= start && isDigit(s.charCodeAt(p))) p--;
      if (p + 1 === e) return 'bad pid/tid column';
      tgid = parseInt(s.slice(p + 1, e), 10);
      commEnd = p;
    }
    while (commEnd > start && isSp(s.charCodeAt(commEnd - 1))) commEnd--;
  } else return 'no comm-pid before the [cpu] column';
  let commStart = start;
  while (commStart < commEnd && isSp(s.charCodeAt(commStart))) commStart++;

  // ---- right: flags and timestamp ----
  let i = close + 1;
  while (i < end && isSp(s.charCodeAt(i))) i++;
  // the first token is the flags column or the timestamp; hash it on the way
  let tokEnd = i;
  let h = 0;
  for (; tokEnd < end; tokEnd++) {
    const c = s.charCodeAt(tokEnd);
    if (c === 32 || c === 9) break;
    h = (h * 31 + c) | 0;
  }
  let flags: string | undefined;
  if (!(s.charCodeAt(tokEnd - 1) === 58 && scanTimestamp(s, i, tokEnd - 1))) {
    flags = flagColumns.entryHashed(s, i, tokEnd, h).name;
    i = tokEnd;
    while (i < end && isSp(s.charCodeAt(i))) i++;
    tokEnd = i;
    while (tokEnd < end && !isSp(s.charCodeAt(tokEnd))) tokEnd++;
    if (tokEnd === i || s.charCodeAt(tokEnd - 1) !== 58) return 'no "timestamp:" after the [cpu] column';
    if (!scanTimestamp(s, i, tokEnd - 1)) return `bad timestamp "${s.slice(i, tokEnd - 1)}"`;
  }
  i = tokEnd;
  while (i < end && isSp(s.charCodeAt(i))) i++;
  let comm = commByPid.get(pid);
  if (comm === undefined || comm.length !== commEnd - commStart || !s.startsWith(comm, commStart)) {
    comm = comms.get(s, commStart, commEnd);
    if (commByPid.size > 65536) commByPid.clear();
    commByPid.set(pid, comm);
  }
  head.layout = layout;
  head.comm = comm;
  head.pid = pid;
  head.tgid = tgid;
  head.cpu = cpu;
  head.flags = flags;
  head.ts = lastTimestamp.ts;
  head.tsForm = lastTimestamp.form;
  head.rest = i;
  return head;
}
