/**
 * function_graph tracer lines:
 *
 *   [  123.456789 |]  0) [ comm-pid  |] [lat |]  0.345 us    |    func();
 *    0)               |  filemap_fault() {
 *    0) + 12.345 us   |  } /* filemap_fault *\/
 *    0)               |  /* mm_filemap_add_to_page_cache: dev 0:5 ... *\/
 *    0)   ==========> |          (irq entry; `<==========` irq exit)
 *    1)   bash-1234    =>  <idle>-0          (context switch, between dashed rules)
 *
 * Columns are optional (funcgraph-abstime, -proc, -cpu, latency-format), the duration has
 * an overhead mark (`+ ! # * @ $`) and is in microseconds with 3 decimals.
 */
import type { DecodedEvent } from './events.js';
import { notACpu } from './line-head.js';
import { parseTimestamp, type TimestampForm } from './timestamp.js';
import type { Fields } from '@kreplay/core';
import { decodeValue } from './values.js';

export type GraphLine =
  | { kind: 'entry' | 'leaf' | 'exit'; func?: string; depth: number; durationNs?: number; retval?: string; caller?: string }
  | { kind: 'comment'; text: string; depth: number }
  | { kind: 'irq'; direction: 'enter' | 'exit' }
  | { kind: 'switch'; prevComm: string; prevPid: number; nextComm: string; nextPid: number };

export interface GraphHead {
  cpu: number;
  ts?: bigint;
  tsForm?: TimestampForm;
  comm?: string;
  pid?: number;
  flags?: string;
  line: GraphLine;
}

/** The return-address comment funcgraph-retaddr adds after an entry (print_graph_retaddr). */
const RETADDR = /\s*\/\*\s*<-(\S+)\s*\*\/\s*$/;
/** The relative time column of latency tracers with display-graph (print_graph_rel_time: `%9llu us |  `). */
const REL_TIME = /^\s*(\d+) us\s*$/;
const DURATION = /^\s*([+!#*@$])?\s*(\d+)(?:\.(\d{1,3}))?\s+us\s*$/;
const TASK = /^\s*(.*\S)-(\d+)\s*$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A dashed rule around a context switch (` ------------------------------------------`). */
export function isGraphRule(s: string): boolean {
  return /^\s*-{10,}\s*$/.test(s);
}

/** Does this line start like a function_graph line (`  0) ` or `  123.456 |   0) `)? */
export function looksLikeGraphLine(s: string): boolean {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) === 32) i++;
  const d = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i === d) return false;
  if (s.charCodeAt(i) === 41) return true;
  if (s.startsWith(' us', i))
    i += 3; // `       12 us |  0) ...` (latency tracers' relative time)
  else {
    if (s.charCodeAt(i) !== 46) return false;
    i++;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  }
  while (i < s.length && s.charCodeAt(i) === 32) i++;
  return s.charCodeAt(i) === 124;
}

function parseDurationNs(m: RegExpExecArray): number {
  const frac = m[3] ?? '';
  return Number(m[2]) * 1000 + (frac ? Number(frac.padEnd(3, '0')) : 0);
}

function parseTask(text: string): { comm: string; pid: number } | undefined {
  const m = TASK.exec(text);
  return m ? { comm: m[1]!, pid: Number(m[2]) } : undefined;
}

/**
 * The function column; `lead` is how many spaces the column before it leaves ahead of the
 * indentation: 2 after the duration's `|  `, 1 after `N) ` or `... | ` when
 * funcgraph-duration is off.
 */
function parseFunctionText(text: string, duration: RegExpExecArray | null, lead = 2): GraphLine | string {
  const line = parseFunctionBody(text, lead);
  if (duration && typeof line !== 'string' && (line.kind === 'entry' || line.kind === 'leaf' || line.kind === 'exit')) {
    line.durationNs = parseDurationNs(duration);
  }
  return line;
}

function parseFunctionBody(text: string, lead: number): GraphLine | string {
  let spaces = 0;
  while (spaces < text.length && text.charCodeAt(spaces) === 32) spaces++;
  const depth = Math.max(0, (spaces - lead) >> 1);
  const body = text.slice(spaces).trimEnd();
  if (body.startsWith('/*')) {
    const inner = body.slice(2, body.endsWith('*/') ? -2 : undefined).trim();
    return { kind: 'comment', text: inner, depth };
  }
  if (body.startsWith('}')) {
    const m = /^\}\s*(?:\/\*\s*([^\s=*]+)(?:\s*=\s*([^\s*]+))?\s*\*\/)?/.exec(body);
    const line: GraphLine = { kind: 'exit', depth };
    if (m?.[1]) line.func = m[1];
    if (m?.[2]) line.retval = m[2];
    return line;
  }
  const paren = body.indexOf('(');
  if (paren <= 0) return `unknown function_graph entry "${body}"`;
  const func = body.slice(0, paren);
  // funcgraph-retaddr (6.14+): `func() { /* <-caller+0x121/0x780 */`, `func(); /* <-caller+0x1c/0x40 */`
  let caller: string | undefined;
  let code = body;
  const ret = RETADDR.exec(body);
  if (ret) {
    caller = ret[1];
    code = body.slice(0, ret.index).trimEnd();
  }
  if (code.endsWith('{')) return caller === undefined ? { kind: 'entry', func, depth } : { kind: 'entry', func, depth, caller };
  if (code.includes(');')) {
    const line: GraphLine = { kind: 'leaf', func, depth };
    const r = /\/\*\s*=\s*([^\s*]+)\s*\*\//.exec(code);
    if (r) line.retval = r[1];
    if (caller !== undefined) line.caller = caller;
    return line;
  }
  return `unknown function_graph entry "${body}"`;
}

/** Scan a function_graph line; a string says why it does not scan. */
export function scanGraphLine(s: string): GraphHead | string {
  let rest = s;
  let ts: bigint | undefined;
  let tsForm: TimestampForm | undefined;
  const firstParen = rest.indexOf(')');
  const firstBar = rest.indexOf('|');
  if (firstBar >= 0 && (firstParen < 0 || firstBar < firstParen)) {
    const text = rest.slice(0, firstBar).trim();
    const rel = REL_TIME.exec(text);
    if (rel) {
      // µs since the trace's start (latency tracers): the latency format's time line
      ts = BigInt(rel[1]!) * 1000n;
      tsForm = 'latency';
    } else {
      const p = parseTimestamp(text, 0, text.length);
      if (!p) return `bad function_graph timestamp "${text}"`;
      ts = p.ts;
      tsForm = p.form;
    }
    rest = rest.slice(firstBar + 1);
  }
  const cp = rest.indexOf(')');
  const cpuText = rest.slice(0, cp).trim();
  if (cp < 0 || !/^\d+$/.test(cpuText)) return 'no "N)" cpu column';
  const bad = notACpu(Number(cpuText), cpuText);
  if (bad) return bad;
  const head: GraphHead = { cpu: Number(cpuText), line: { kind: 'irq', direction: 'enter' } };
  if (ts !== undefined) {
    head.ts = ts;
    head.tsForm = tsForm;
  }
  rest = rest.slice(cp + 1);
  const arrow = rest.indexOf('=>');
  if (arrow >= 0 && !rest.includes('|') && !rest.includes('==>')) {
    const prev = parseTask(rest.slice(0, arrow));
    const next = parseTask(rest.slice(arrow + 2));
    if (!prev || !next) return 'bad function_graph context switch';
    head.line = { kind: 'switch', prevComm: prev.comm, prevPid: prev.pid, nextComm: next.comm, nextPid: next.pid };
    head.comm = next.comm;
    head.pid = next.pid;
    return head;
  }
  for (;;) {
    const bar = rest.indexOf('|');
    if (bar < 0) {
      // nofuncgraph-duration: the function column follows the cpu (or task) column directly
      if (rest.trim() === '') return 'no function column';
      const line = parseFunctionText(rest, null, 1);
      if (typeof line === 'string') return line;
      head.line = line;
      return head;
    }
    const seg = rest.slice(0, bar);
    rest = rest.slice(bar + 1);
    if (seg.includes('==========>')) {
      head.line = { kind: 'irq', direction: 'enter' };
      return head;
    }
    if (seg.includes('<==========')) {
      head.line = { kind: 'irq', direction: 'exit' };
      return head;
    }
    const d = DURATION.exec(seg);
    if (d || seg.trim() === '') {
      const line = parseFunctionText(rest, d);
      if (typeof line === 'string') return line;
      head.line = line;
      return head;
    }
    const task = parseTask(seg);
    if (task && head.comm === undefined) {
      head.comm = task.comm;
      head.pid = task.pid;
    } else if (/^\s*[^\s|]{4,6}\s*$/.test(seg) && head.flags === undefined) {
      head.flags = seg.trim();
    } else return `unknown function_graph column "${seg.trim()}"`;
  }
}

/**
 * trace-cmd report prints function_graph records as events whose payload is the graph
 * columns: `funcgraph_entry:        7.076 us   |  __math_state_restore();`,
 * `funcgraph_exit:       + 11.065 us  |        }`.
 */
export function decodeGraphPayload(payload: string): GraphLine | string {
  const bar = payload.indexOf('|');
  if (bar < 0) return 'no "|" in the function_graph record';
  const seg = payload.slice(0, bar);
  const d = DURATION.exec(seg);
  if (!d && seg.trim() !== '') return `bad function_graph duration "${seg.trim()}"`;
  return parseFunctionText(payload.slice(bar + 1), d);
}

/** The event a function_graph line stands for (comments are decoded by the caller). */
export function graphEvent(l: Exclude<GraphLine, { kind: 'comment' }>): DecodedEvent {
  switch (l.kind) {
    case 'switch':
      return {
        event: 'context_switch',
        system: 'ftrace',
        fields: { prev_comm: l.prevComm, prev_pid: l.prevPid, next_comm: l.nextComm, next_pid: l.nextPid },
        probe: undefined,
        stackHeader: undefined,
      };
    case 'irq':
      return { event: 'funcgraph_irq', system: 'ftrace', fields: { direction: l.direction }, probe: undefined, stackHeader: undefined };
    default: {
      const fields: Fields = {};
      if (l.func !== undefined) fields.func = l.func;
      fields.depth = l.depth;
      if (l.durationNs !== undefined) fields.duration_ns = l.durationNs;
      if (l.retval !== undefined) fields.retval = decodeValue(l.retval);
      if (l.caller !== undefined) fields.caller = l.caller;
      if (l.kind === 'leaf') fields.leaf = true;
      return { event: l.kind === 'exit' ? 'funcgraph_exit' : 'funcgraph_entry', system: 'ftrace', fields, probe: undefined, stackHeader: undefined };
    }
  }
}
