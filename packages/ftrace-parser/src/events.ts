/**
 * The event part of a line, after `ts: `: the event name and its payload decoded into
 * fields. Exact decoders for what replay relies on (filemap tracepoints, kprobes and
 * kretprobes, trace markers, the function tracer); a generic `name=value` decoder for
 * everything else.
 */
import type { Fields, ProbeSite } from '@kreplay/core';
import { KREPLAY_MARKER_PREFIX } from '@kreplay/core/records';
import { decodeGraphPayload, graphEvent } from './funcgraph.js';
import { DirectInterner, names } from './intern.js';
import { decodeWithLayout, learnLayout, type PairLayout } from './layout.js';
import { decodeCtxWake, decodeHwlat, decodeSyscall, type SpecialEvent } from './special.js';
import { decodeFields, decodeHexDigits, decodeInteger, decodeIntegerRange, decodeValue, pairStartsAt, setField } from './values.js';

export interface DecodedEvent {
  event: string;
  system: string | undefined;
  fields: Fields;
  probe: ProbeSite | undefined;
  /** `<stack trace>` events: the frames follow on ` => ` lines. */
  stackHeader: boolean | undefined;
  /**
   * A trace marker kreplay wrote (its message starts `kreplay:`), which is one line: no line
   * after it is part of it. Known whether or not the fields were decoded.
   */
  kreplayMarker?: boolean;
}

const EXACT_SYSTEMS: Record<string, string> = {
  print: 'ftrace',
  function: 'ftrace',
  funcgraph_entry: 'ftrace',
  funcgraph_exit: 'ftrace',
  kernel_stack: 'ftrace',
  user_stack: 'ftrace',
  bprint: 'ftrace',
  bputs: 'ftrace',
  context_switch: 'ftrace',
  func_repeats: 'ftrace',
  raw_data: 'ftrace',
  sys_enter: 'raw_syscalls',
  sys_exit: 'raw_syscalls',
  cpu_idle: 'power',
  cpu_frequency: 'power',
  kmalloc: 'kmem',
  kfree: 'kmem',
  kmem_cache_alloc: 'kmem',
  kmem_cache_free: 'kmem',
  file_check_and_advance_wb_err: 'filemap',
  filemap_set_wb_err: 'filemap',
};

const PREFIX_SYSTEMS: [string, string][] = [
  ['mm_filemap_', 'filemap'],
  ['page_fault_', 'exceptions'],
  ['sched_', 'sched'],
  ['iomap_', 'iomap'],
  ['ext4_', 'ext4'],
  ['writeback_', 'writeback'],
  ['block_', 'block'],
  ['irq_', 'irq'],
  ['softirq_', 'irq'],
  ['timer_', 'timer'],
  ['hrtimer_', 'timer'],
  ['mm_page_', 'kmem'],
  ['mm_vmscan_', 'vmscan'],
  ['mm_lru_', 'pagemap'],
  ['workqueue_', 'workqueue'],
  ['sys_enter_', 'syscalls'],
  ['sys_exit_', 'syscalls'],
  ['rcu_', 'rcu'],
  ['signal_', 'signal'],
  ['task_', 'task'],
  ['mm_compaction_', 'compaction'],
];

function lookupSystem(event: string): string | undefined {
  const exact = EXACT_SYSTEMS[event];
  if (exact) return exact;
  for (const [prefix, system] of PREFIX_SYSTEMS) if (event.startsWith(prefix)) return system;
  return undefined;
}

/** How decodeEvent treats an event name. */
const enum Kind {
  Generic,
  MarkWrite,
  Print,
  Function,
  Graph,
  CtxWake,
  Syscall,
  Bprint,
}

interface EventInfo {
  name: string;
  kind: Kind;
  system: string | undefined;
  /** The probe site this event printed last (kprobe events print one site). */
  lastSite: { text: string; site: ProbeSite | undefined } | undefined;
  /** The `name=value` pairs its payload printed last (see layout.ts). */
  layout: PairLayout | undefined;
  /** Layouts learned so far (an event whose payload keeps changing stops being learned). */
  learned: number;
  /** The FieldsWanted predicate `want` was computed for. */
  wantFor: FieldsWanted | undefined;
  want: boolean;
}

/**
 * Which events get their payload decoded, asked once per event name (with the probe site
 * of its first line): consumers that use a few events skip the cost of the others. Events
 * it declines still parse, count and carry their name, system and probe site; their
 * `fields` are empty.
 */
export type FieldsWanted = (event: string, probe: ProbeSite | undefined) => boolean;

/**
 * Of a wanted event's fields (`names`: all of them, in order), the ones the caller reads. A
 * trace.dat's decoder then decodes only those, with the same names, values and order, and
 * skips the rest (the ftrace events — markers, trace_printk, the function tracer — keep all
 * theirs); the text parser decodes every field whatever it answers. Asked once per event
 * format, with the names and probe site of its first event.
 */
export type FieldPlan = (event: string, probe: ProbeSite | undefined, names: readonly string[]) => readonly string[];

/** Layouts learned per event at most (each costs a generic decode and a compiled builder). */
const MAX_LEARNED = 8;

function eventInfo(name: string): EventInfo {
  const kind =
    name === 'tracing_mark_write'
      ? Kind.MarkWrite
      : name === 'print'
        ? Kind.Print
        : name === 'bprint' || name === 'bputs'
          ? Kind.Bprint
          : name === 'function' || name === 'func_repeats'
            ? Kind.Function
            : name === 'funcgraph_entry' || name === 'funcgraph_exit'
              ? Kind.Graph
              : name === 'wakeup' || name === 'context_switch'
                ? Kind.CtxWake
                : name.startsWith('sys_enter_') || name.startsWith('sys_exit_')
                  ? Kind.Syscall
                  : Kind.Generic;
  return { name, kind, system: lookupSystem(name), lastSite: undefined, layout: undefined, learned: 0, wantFor: undefined, want: true };
}

/** Event names seen so far, each with its kind and system: one lookup per line. */
const eventNames = new DirectInterner<EventInfo>(eventInfo, 10);

/** The system a kernel event belongs to, for the events kreplay knows. */
export function systemOf(event: string): string | undefined {
  return eventNames.entry(event, 0, event.length).system;
}

const PAGE_SIZE = 4096;

function narrow(b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/**
 * filemap:mm_filemap_* — `dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u` (6.x, folios),
 * `dev %d:%d ino %lx page=%p pfn=0x%lx ofs=%lu` (5.x), `... page=%p pfn=%lu ofs=%lu` (4.x,
 * pfn decimal), `dev %d:%d ino %lx ofs=%lu max_ofs=%lu` (get_pages/map_pages, 6.10 and
 * earlier), and 6.11+'s `dev=%d:%d ino=%lx ofs=%lld` (mm_filemap_fault) and
 * `dev=%d:%d ino=%lx ofs=%lld-%lld` (mm_filemap_get_pages / mm_filemap_map_pages: the
 * first and the last byte of the page range), `filemap_set_wb_err`'s `dev=%d:%d ino=0x%lx …`.
 * `ino` is hex with or without 0x (the generic decoder would read `ino=12` as decimal), `page`
 * hex without 0x. Adds `index` = ofs / PAGE_SIZE, and for a range `last_ofs` and
 * `last_index`. Undefined if the payload is not one of these.
 */
export function decodeFilemap(s: string, start: number, n = s.length): Fields | undefined {
  if (!s.startsWith('dev', start)) return undefined;
  const sep = s.charCodeAt(start + 3);
  if (sep !== 32 && sep !== 61) return undefined; // `dev ` or `dev=`
  const eq = sep === 61;
  const i0 = start + 4;
  const sp = s.indexOf(' ', i0);
  if (sp < 0 || sp >= n) return undefined;
  const colon = s.indexOf(':', i0);
  if (colon <= i0 || colon >= sp - 1 || decodeIntegerRange(s, i0, colon) === undefined || decodeIntegerRange(s, colon + 1, sp) === undefined) return undefined;
  let i = sp + 1;
  if (!s.startsWith(eq ? 'ino=' : 'ino ', i) || i + 4 > n) return undefined;
  i += 4;
  let inoEnd = s.indexOf(' ', i);
  if (inoEnd < 0 || inoEnd > n) inoEnd = n;
  const ino = decodeHexDigits(s, s.startsWith('0x', i) ? i + 2 : i, inoEnd);
  if (ino === undefined) return undefined;
  const dev = s.slice(i0, sp);
  return filemap6(s, dev, ino, inoEnd, n) ?? filemapPairs(s, dev, ino, inoEnd, n);
}

/** The page index of a byte offset. */
function pageOf(ofs: number | bigint): number | bigint {
  return typeof ofs === 'bigint' ? narrow(ofs / BigInt(PAGE_SIZE)) : Math.floor(ofs / PAGE_SIZE);
}

/** Index of the next space in s[i, n), or n. */
function wordEnd(s: string, i: number, n: number): number {
  const j = s.indexOf(' ', i);
  return j < 0 || j > n ? n : j;
}

/**
 * The 5.16+ form ` pfn=0x%lx ofs=%lu[ order=%u]` after the inode, built as one object
 * literal (one shape for every such event); undefined for any other form.
 */
function filemap6(s: string, dev: string, ino: number | bigint, i: number, n: number): Fields | undefined {
  if (!s.startsWith(' pfn=0x', i)) return undefined;
  let e = wordEnd(s, i + 7, n);
  const pfn = decodeHexDigits(s, i + 7, e);
  if (pfn === undefined || !s.startsWith(' ofs=', e)) return undefined;
  i = e + 5;
  e = wordEnd(s, i, n);
  const ofs = decodeIntegerRange(s, i, e);
  if (ofs === undefined) return undefined;
  const index = typeof ofs === 'bigint' ? narrow(ofs / BigInt(PAGE_SIZE)) : Math.floor(ofs / PAGE_SIZE);
  if (e === n) return { dev, ino, pfn, ofs, index };
  if (!s.startsWith(' order=', e)) return undefined;
  i = e + 7;
  e = wordEnd(s, i, n);
  const order = decodeIntegerRange(s, i, e);
  if (order === undefined || e !== n) return undefined;
  return { dev, ino, pfn, ofs, index, order };
}

/** Every other form: `name=value` pairs after the inode (`page=` is hex without 0x). */
function filemapPairs(s: string, dev: string, ino: number | bigint, i: number, n: number): Fields | undefined {
  const fields: Fields = { dev, ino };
  while (i < n) {
    while (i < n && s.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const eq = s.indexOf('=', i);
    const end = wordEnd(s, i, n);
    if (eq < 0 || eq > end) return undefined;
    const name = names.get(s, i, eq);
    if (name === 'page') {
      const h = s.startsWith('0x', eq + 1) ? eq + 3 : eq + 1;
      // `page=(____ptrval____)` on hashed-pointer kernels
      fields.page = decodeHexDigits(s, h, end) ?? s.slice(eq + 1, end);
    } else {
      // `ofs=%lld-%lld`: a byte range (first and last byte)
      const dash = name === 'ofs' ? s.indexOf('-', eq + 2) : -1;
      const value = decodeIntegerRange(s, eq + 1, dash > 0 && dash < end ? dash : end);
      if (value === undefined) return undefined;
      setField(fields, name, value);
      if (name === 'ofs') fields.index = pageOf(value);
      if (dash > 0 && dash < end) {
        const last = decodeIntegerRange(s, dash + 1, end);
        if (last === undefined) return undefined;
        fields.last_ofs = last;
        fields.last_index = pageOf(last);
      }
    }
    i = end;
  }
  return fields;
}

/**
 * kprobe/kretprobe location `(filemap_fault+0x0/0x5a0)`, `(__do_fault+0x3c/0x140 <- filemap_fault)`,
 * or perf's `(ffffffff812a3b40)` / `(ffffffff8123 <- ffffffff8145)`. Returns the index after `)`.
 */
/** Probe sites by their printed text and event (`(filemap_fault+0x0/0x5a0)` repeats millions of times). */
const siteCache = new Map<string, Map<string, ProbeSite | null>>();

/** Index just past the `)` of the site the last decodeProbeSite call read. */
let siteEnd = 0;

/**
 * The probe site at s[start] (`(`), or undefined if it is not one. `info`, the event's
 * entry, remembers its last site: a kprobe prints the same site every time, so the common
 * case is one comparison.
 */
export function decodeProbeSite(s: string, start: number, event: string, end = s.length, info?: EventInfo): ProbeSite | undefined {
  const close = s.indexOf(')', start);
  if (close < 0 || close >= end) return undefined;
  siteEnd = close + 1;
  const last = info?.lastSite;
  if (last !== undefined && last.text.length === close - start - 1 && s.startsWith(last.text, start + 1)) return last.site;
  const inner = names.get(s, start + 1, close);
  let byEvent = siteCache.get(event);
  if (byEvent === undefined) {
    if (siteCache.size > 4096) siteCache.clear();
    siteCache.set(event, (byEvent = new Map()));
  }
  let site = byEvent.get(inner);
  if (site === undefined) {
    site = parseProbeSite(inner, event) ?? null;
    if (site) Object.freeze(site);
    if (byEvent.size < 1024) byEvent.set(inner, site);
  }
  if (info) info.lastSite = { text: inner, site: site ?? undefined };
  return site ?? undefined;
}

function parseProbeSite(inner: string, event: string): ProbeSite | undefined {
  const arrow = inner.indexOf(' <- ');
  if (arrow >= 0) {
    const func = inner.slice(arrow + 4).trim();
    const caller = inner.slice(0, arrow).trim();
    if (!func) return undefined;
    return { kind: 'kretprobe', func: symbolOrEventName(func, event), caller };
  }
  const plus = inner.indexOf('+');
  if (plus < 0) {
    // perf prints the bare address; the probe is named after its function
    if (!isAddress(inner)) {
      if (!/^[A-Za-z_][\w.]*$/.test(inner)) return undefined;
      return { kind: 'kprobe', func: inner };
    }
    const kind = event.endsWith('__return') ? 'kretprobe' : 'kprobe';
    return { kind, func: event.replace(/__return$/, '') };
  }
  const func = inner.slice(0, plus);
  const slash = inner.indexOf('/', plus);
  const offText = inner.slice(plus + 1, slash < 0 ? inner.length : slash);
  const offset = decodeInteger(offText);
  if (!func || offset === undefined) return undefined;
  const site: ProbeSite = { kind: 'kprobe', func, offset: Number(offset) };
  if (slash >= 0) {
    // a module symbol prints as `sym+0x0/0x80 [ext4]`
    const sp = inner.indexOf(' ', slash);
    const size = decodeInteger(inner.slice(slash + 1, sp < 0 ? inner.length : sp));
    if (size !== undefined) site.size = Number(size);
  }
  return site;
}

/**
 * perf prints probe sites as bare addresses (`ffffffff812a3b40`), not symbols: on 64-bit
 * kernels always 16 hex digits. A shorter all-hex word (`a000000a`, `dead`) is a symbol.
 */
function isAddress(s: string): boolean {
  return s.length >= 16 && decodeHexDigits(s) !== undefined;
}

function symbolOrEventName(func: string, event: string): string {
  return isAddress(func) ? event.replace(/__return$/, '') : func;
}

/**
 * Where a trace marker's message starts: after the ip symbol that `print: tracing_mark_write:
 * msg` (trace-cmd, perf) puts first, else at `start`.
 */
function markerBufStart(event: string, s: string, start: number, end: number): number {
  if (event !== 'print') return start;
  const colon = s.indexOf(': ', start);
  return colon > start && colon < end && !s.slice(start, colon).includes(' ') ? colon + 2 : start;
}

/** A trace marker: fields `ip` (the writer, `tracing_mark_write`) and `buf` (the message). */
export function decodeMarker(event: string, s: string, start: number, fields: Fields, end = s.length): void {
  const bufStart = markerBufStart(event, s, start, end);
  fields.ip = bufStart === start ? 'tracing_mark_write' : names.get(s, start, bufStart - 2);
  fields.buf = s.slice(bufStart, end);
}

/**
 * Function tracer: `func <-parent` with an optional `(repeats: N, last_ts: T)` tail
 * (func-repeats). Fields `ip`, `parent_ip` as the kernel names them, plus `repeats`, `last_ts`.
 */
export function decodeFunction(s: string, start: number, nameEnd: number, fields: Fields, n = s.length): void {
  fields.ip = s.slice(start, nameEnd);
  let i = nameEnd;
  while (i < n && s.charCodeAt(i) === 32) i++;
  if (i + 1 < n && s.startsWith('<-', i)) {
    i += s.startsWith('<--', i) ? 3 : 2; // trace-cmd prints `<--`
    while (i < n && s.charCodeAt(i) === 32) i++;
    let end = s.indexOf(' ', i);
    if (end < 0 || end > n) end = n;
    fields.parent_ip = s.slice(i, end);
    i = end;
  }
  const rep = i < n ? s.indexOf('(repeats:', i) : -1;
  if (rep >= 0 && rep < n) {
    const m = /^\(repeats:\s*(\d+)(?:,\s*last_ts:\s*([\d.]+))?\)/.exec(s.slice(rep, n));
    if (m) {
      fields.repeats = Number(m[1]);
      if (m[2]) fields.last_ts = m[2];
    }
  }
}

function isSymbolStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46;
}

function isEventNameChar(c: number): boolean {
  return c !== 58 && c !== 32 && c !== 9;
}

/** perf event modifiers (`:u`, `:k`, `:ppp`, `:uhH`, ...): tools/perf/util/parse-events.l. */
const PERF_MODIFIERS = /^[ukhIGHpPSDWebRr]+$/;

/** An event recognised by its printed shape (special.ts), as decodeEvent's result. */
function special(sp: SpecialEvent): DecodedEvent {
  return decoded(sp.event, sp.system, sp.fields);
}

/** Whether any fields are wanted for an event known only by name (slow paths). */
function wantsAny(opt: boolean | FieldsWanted, event: string): boolean {
  return typeof opt === 'boolean' ? opt : opt(event, undefined);
}

/** `name=value` pairs with every value kept as printed (symbols and bare hex addresses). */
function stringPairs(s: string, i: number, n: number): Fields {
  const fields: Fields = {};
  for (const word of s.slice(i, n).trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      fields.raw = s.slice(i, n);
      continue;
    }
    setField(fields, word.slice(0, eq), word.slice(eq + 1));
  }
  return fields;
}

/**
 * trace-cmd's rendering of syscall events: `sys_enter_ioctl: fd: 0x000000ff, cmd: 0x00005410`
 * (print fmt `"fd: 0x%08lx, ..."`) and `sys_exit_ioctl: 0x0`. Undefined for anything else.
 */
function syscallPayload(event: string, s: string, i: number, n: number): Fields | undefined {
  const text = s.slice(i, n).trim();
  if (event.startsWith('sys_exit_')) {
    const v = decodeValue(text);
    return typeof v === 'number' || typeof v === 'bigint' ? { ret: v } : undefined;
  }
  const fields: Fields = {};
  if (text === '') return fields;
  for (const part of text.split(', ')) {
    const colon = part.indexOf(': ');
    if (colon <= 0) return undefined;
    const v = decodeValue(part.slice(colon + 2));
    if (typeof v !== 'number' && typeof v !== 'bigint') return undefined;
    setField(fields, part.slice(0, colon), v);
  }
  return fields;
}

/** The fields of every event when payloads are not decoded (shared, frozen). */
const NO_FIELDS: Fields = Object.freeze({}) as Fields;

/** decodeEvent's result: one reused object (the hot path allocates no result per line). */
const result: DecodedEvent = { event: '', system: undefined, fields: {}, probe: undefined, stackHeader: undefined, kreplayMarker: undefined };

function decoded(event: string, system: string | undefined, fields: Fields, probe?: ProbeSite, stackHeader?: boolean, kreplayMarker?: boolean): DecodedEvent {
  result.event = event;
  result.system = system;
  result.fields = fields;
  result.probe = probe;
  result.stackHeader = stackHeader;
  result.kreplayMarker = kreplayMarker;
  return result;
}

/** Whether the marker whose event part starts at s[start] (as decodeMarker reads it) is one kreplay wrote. */
function isKreplayMarker(event: string, s: string, start: number, end: number): boolean {
  const at = markerBufStart(event, s, start, end);
  return end - at >= KREPLAY_MARKER_PREFIX.length && s.startsWith(KREPLAY_MARKER_PREFIX, at);
}

/**
 * Decode the event part of a line (`name: payload`, `sys:name: payload`, `func <-parent`,
 * `<stack trace>`), from index `start`. A string says why it is not an event. With
 * `fieldsOpt` false (or a FieldsWanted that declines the event) the fields are left empty
 * (for passes that only count events, or use a few): whether a line parses, its event
 * name, system and probe site are the same either way. The result object is reused by the
 * next call: copy what you keep.
 */
export function decodeEvent(s: string, start: number, fieldsOpt: boolean | FieldsWanted = true, end = s.length): DecodedEvent | string {
  const n = end;
  if (start >= n) return 'no event after the timestamp';
  if (s.charCodeAt(start) === 60) {
    if (s.startsWith('<stack trace>', start)) return decoded('kernel_stack', 'ftrace', {}, undefined, true);
    if (s.startsWith('<user stack trace>', start)) return decoded('user_stack', 'ftrace', {}, undefined, true);
  }
  let period: number | undefined;
  const d0 = s.charCodeAt(start);
  if (d0 >= 48 && d0 <= 57) {
    // perf script for sampled events prints the sample period first: `  250000 cpu-clock:`
    let j = start;
    while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const c = s.charCodeAt(j);
    if (j < n && (c === 32 || c === 9)) {
      period = Number(s.slice(start, j));
      while (j < n && (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 9)) j++;
      start = j;
    } else if (c === 58) {
      // the wakeup tracers' records: `   0:120:R   + [003]  2389: 94:R sleep`
      const sp = decodeCtxWake(s, start, n, wantsAny(fieldsOpt, 'wakeup'));
      if (sp) return special(sp);
    }
  } else if (d0 === 35) {
    // hwlat: `#1     inner/outer(us):   11/12    ts:1581527483.343962693 count:6`
    const sp = decodeHwlat(s, start, n, wantsAny(fieldsOpt, 'hwlat'));
    if (sp) return special(sp);
  } else if (d0 === 115 && s.startsWith('sys_', start)) {
    // syscalls: `sys_ioctl(fd: ff, cmd: 5410, arg: 7ffe0babe8fc)`, `sys_getpid()`, `sys_ioctl -> 0x0`
    const sp = decodeSyscall(s, start, n, fieldsOpt !== false);
    if (sp) {
      if (typeof fieldsOpt === 'function' && !fieldsOpt(sp.event, undefined)) sp.fields = NO_FIELDS;
      return special(sp);
    }
  }
  // scan the name, hashing it on the way for the event-name table
  let i = start;
  let h = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!isEventNameChar(c)) break;
    h = (h * 31 + c) | 0;
  }
  if (i === start) return 'no event name after the timestamp';
  let system: string | undefined;
  let nameStart = start;
  if (i < n && s.charCodeAt(i) === 58 && i + 1 < n && s.charCodeAt(i + 1) !== 32 && s.charCodeAt(i + 1) !== 9) {
    // perf `system:event:`, or an event with modifiers (`cycles:uppp:`, `cpu-clock:uhH:`)
    const colon = i;
    const h0 = h;
    nameStart = i + 1;
    h = 0;
    for (i = nameStart; i < n; i++) {
      const c = s.charCodeAt(i);
      if (!isEventNameChar(c)) break;
      h = (h * 31 + c) | 0;
    }
    if (i === nameStart) return 'no event name after the system';
    if (PERF_MODIFIERS.test(s.slice(nameStart, i))) {
      // the modifiers are part of the event's name as perf prints it
      h = h0;
      for (let k = colon; k < i; k++) h = (h * 31 + s.charCodeAt(k)) | 0;
      nameStart = start;
    } else system = names.get(s, start, colon);
  }
  if (i >= n || s.charCodeAt(i) !== 58) {
    // function tracer: `func <-parent`, or a bare `func` with print-parent off
    if (system !== undefined) return 'no ":" after the event name';
    let j = i;
    while (j < n && s.charCodeAt(j) === 32) j++;
    if (j < n && !s.startsWith('<-', j)) return 'no ":" after the event name';
    if (!isSymbolStart(s.charCodeAt(start))) return 'no event name after the timestamp';
    if (!wanted(fieldsOpt, FUNCTION_INFO, undefined)) return decoded('function', 'ftrace', NO_FIELDS);
    const fields: Fields = {};
    decodeFunction(s, start, i, fields, n);
    return decoded('function', 'ftrace', fields);
  }
  const info = eventNames.entryHashed(s, nameStart, i, h);
  const event = info.name;
  i++;
  const kind = info.kind;
  if (kind === Kind.MarkWrite || kind === Kind.Print) {
    // tracing_mark_write `": %s"`: the message starts after exactly one space and is kept verbatim
    if (kind === Kind.MarkWrite) {
      if (i < n && s.charCodeAt(i) === 32) i++;
    } else while (i < n && s.charCodeAt(i) === 32) i++;
    const ours = isKreplayMarker(event, s, i, n);
    if (!wanted(fieldsOpt, PRINT_INFO, undefined)) return decoded('print', 'ftrace', NO_FIELDS, undefined, undefined, ours);
    const fields: Fields = {};
    decodeMarker(event, s, i, fields, n);
    return decoded('print', 'ftrace', fields, undefined, undefined, ours);
  }
  if (kind === Kind.Bprint) {
    // trace_printk as trace-cmd prints it: `bprint: func: message` (`ip`, `buf` as for markers)
    while (i < n && s.charCodeAt(i) === 32) i++;
    const ours = isKreplayMarker('print', s, i, n);
    if (!wanted(fieldsOpt, info, undefined)) return decoded(event, 'ftrace', NO_FIELDS, undefined, undefined, ours);
    const fields: Fields = {};
    decodeMarker('print', s, i, fields, n);
    return decoded(event, 'ftrace', fields, undefined, undefined, ours);
  }
  while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  if (kind === Kind.Function) {
    // trace-cmd prints the function tracer's records as events; `-R` as `ip=... parent_ip=...`
    if (s.startsWith('ip=', i)) {
      if (!wanted(fieldsOpt, FUNCTION_INFO, undefined)) return decoded('function', 'ftrace', NO_FIELDS);
      return decoded('function', 'ftrace', stringPairs(s, i, n));
    }
    let end = i;
    while (end < n && s.charCodeAt(end) !== 32) end++;
    if (!wanted(fieldsOpt, FUNCTION_INFO, undefined)) return decoded('function', 'ftrace', NO_FIELDS);
    const fields: Fields = {};
    decodeFunction(s, i, end, fields, n);
    return decoded('function', 'ftrace', fields);
  }
  if (kind === Kind.Graph && !pairStartsAt(s, i, n)) {
    // `funcgraph_entry:   0.345 us |  func();`; `trace-cmd report -R` prints the raw
    // fields instead (`func=0xffffffff8107f6d0 depth=0`), decoded as pairs below
    const g = decodeGraphPayload(s.slice(i, n));
    if (typeof g === 'string') return g;
    if (g.kind !== 'comment') return graphEvent(g);
  }
  if (kind === Kind.CtxWake) {
    const sp = decodeCtxWake(s, i, n, wanted(fieldsOpt, info, undefined));
    if (sp) return special(sp);
  }
  if (i < n && s.charCodeAt(i) === 40) {
    const probe = decodeProbeSite(s, i, event, n, info);
    if (probe) {
      const sys = system ?? 'kprobes';
      if (!wanted(fieldsOpt, info, probe)) return decoded(event, sys, NO_FIELDS, probe);
      return decoded(event, sys, pairs(s, siteEnd, n, info, true), probe);
    }
  }
  const sys = system ?? info.system;
  if (!wanted(fieldsOpt, info, undefined)) return decoded(event, sys, NO_FIELDS);
  if (kind === Kind.Syscall && !pairStartsAt(s, i, n)) {
    const f = syscallPayload(event, s, i, n);
    if (f) return decoded(event, sys, f);
  }
  if (sys === 'filemap') {
    const fm = decodeFilemap(s, i, n);
    if (fm) return decoded(event, sys, fm);
  }
  if (period !== undefined) {
    const fields: Fields = { period };
    if (!decodeFields(s, fields, i, n)) fields.raw = s.slice(i, n);
    return decoded(event, sys, fields);
  }
  return decoded(event, sys, pairs(s, i, n, info, false));
}

/** Entries that only cache the FieldsWanted answer for the events named after their kind. */
const FUNCTION_INFO = eventInfo('function');
const PRINT_INFO = eventInfo('print');

/** Does the caller want this event's fields? Asked once per event name and predicate. */
function wanted(opt: boolean | FieldsWanted, info: EventInfo, probe: ProbeSite | undefined): boolean {
  if (typeof opt === 'boolean') return opt;
  if (info.wantFor !== opt) {
    info.want = opt(info.name, probe);
    info.wantFor = opt;
  }
  return info.want;
}

/**
 * The `name=value` payload s[i, n) of `info`'s event: through its learned layout when the
 * line matches it, else generically (and the layout learned from the result). Words that
 * are not pairs are kept whole in `raw` (trimmed after a probe site).
 */
function pairs(s: string, i: number, n: number, info: EventInfo, trimRaw: boolean): Fields {
  const layout = info.layout;
  if (layout !== undefined) {
    const f = decodeWithLayout(s, i, n, layout);
    if (f !== undefined) return f;
  }
  const fields: Fields = {};
  if (!decodeFields(s, fields, i, n)) {
    fields.raw = trimRaw ? s.slice(i, n).trim() : s.slice(i, n);
  } else if (info.learned < MAX_LEARNED) {
    const learnt = learnLayout(fields);
    if (learnt !== undefined) {
      info.layout = learnt;
      info.learned++;
    }
  }
  return fields;
}
