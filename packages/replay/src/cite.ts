/**
 * How findings name things: tasks as `comm-pid`, events by input line, pages by pfn and
 * page-cache identity. Every event an explanation mentions is also cited.
 */
import { onCpu, type FieldValue, type TraceEvent } from '@kreplay/core';
import type { CitedEvent } from '@kreplay/core';
import type { PageRec } from './shadow.js';

export const task = (ev: TraceEvent): string => `${ev.comm}-${ev.pid}`;
/** `comm-pid on CPU n`, or `comm-pid (no CPU printed)` for a line that prints none. */
export const who = (ev: TraceEvent): string => `${task(ev)}${onCpu(ev.cpu)}`;
export const at = (ev: TraceEvent): string => `line ${ev.line}`;
export const hex = (b: bigint | number): string => `0x${b.toString(16)}`;

const HEX_FIELDS = new Set(['pfn', 'page', 'mapping', 'address', 'addr', 'ip', 'ino', 'arg1', 'arg2', 'arg3', 'arg4']);
const SUMMARY_FIELDS = 6;

function show(name: string, v: FieldValue): string {
  if ((typeof v === 'number' || typeof v === 'bigint') && HEX_FIELDS.has(name) && v >= 0) return hex(v);
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  return Array.isArray(v) ? `[${v.map((x) => String(x)).join(',')}]` : String(v);
}

/**
 * The event in a few words, from its decoded fields: `mm_filemap_delete_from_page_cache
 * dev=0:5 ino=0x2a pfn=0x3 ...`. Not what the trace printed (a kprobe's `ino=12` and a
 * tracepoint's `ino c` are one number): addresses and inode numbers are written with `0x`
 * so none reads as another base. Reports quote the line itself where replay could read it
 * again (CitedEvent.text, verbatim.ts); this is for the rest (stdin).
 */
export function summarize(ev: TraceEvent): string {
  if (typeof ev.fields.buf === 'string') return ev.fields.buf.trim();
  const name = ev.probe ? `${ev.event} (${ev.probe.kind === 'kretprobe' ? 'return of ' : ''}${ev.probe.func})` : ev.event;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(ev.fields)) {
    if (k === 'index' && 'ofs' in ev.fields) continue;
    parts.push(`${k}=${show(k, v)}`);
    if (parts.length >= SUMMARY_FIELDS) break;
  }
  return parts.length ? `${name} ${parts.join(' ')}` : name;
}

/**
 * Of an event's field names (in order), those `summarize` can print: the first
 * SUMMARY_FIELDS it does not skip, `ofs` (its presence hides `index`) and `buf` (a marker's
 * whole summary). A decoder that leaves the other fields out changes no summary.
 */
export function summaryFields(names: readonly string[]): string[] {
  const out: string[] = names.filter((k) => k === 'buf' || k === 'ofs');
  let shown = 0;
  for (const k of names) {
    if (shown >= SUMMARY_FIELDS) break;
    if (k === 'index' && names.includes('ofs')) continue;
    out.push(k);
    shown++;
  }
  return out;
}

export function cite(ev: TraceEvent): CitedEvent {
  return { line: ev.line, source: ev.source, ts: ev.ts, cpu: ev.cpu, pid: ev.pid, comm: ev.comm, summary: flat(summarize(ev)) };
}

/** What `flat` read last: a use of the read, so that no compiler drops it as dead code. */
let flattened = 0;

/**
 * `s` itself, made flat in V8's heap. A string built by `+` or a template literal is a tree
 * of the pieces it was joined from (a cons string: a node per join, each piece kept); reading
 * a character flattens it in place — one flat copy, and the nodes and pieces become garbage.
 * A finding is kept to the end of the replay: unflattened, the few dozen small objects of
 * its message and explanation each outlived two young-generation collections (copied, then
 * promoted) — on a trace whose findings reach maxFindings, more time than building them took
 * (docs/replay.md, session 11). The string's value is unchanged.
 */
export function flat(s: string): string {
  flattened = s.length === 0 ? flattened : s.charCodeAt(0);
  return s;
}

/** The last character code `flat` read (tests: nothing else reads it). */
export function lastFlattened(): number {
  return flattened;
}

/** `pfn 0x3 (ino 0x2a on 0:5, index 0)`; `index unknown` when the trace has named only its file. */
export function pageText(rec: PageRec): string {
  if (!rec.file) return `pfn ${hex(rec.pfn)}`;
  return `pfn ${hex(rec.pfn)} (ino ${hex(rec.file.ref.ino)} on ${rec.file.ref.dev}, index ${rec.index ?? 'unknown'})`;
}

/** ` during invalidate_inode_pages2_range (entered at line 12)`, or nothing. */
export function during(call: TraceEvent | undefined, fn: string | undefined): string {
  if (!call) return '';
  return ` during ${fn ?? call.probe?.func ?? call.event} (entered at ${at(call)})`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
