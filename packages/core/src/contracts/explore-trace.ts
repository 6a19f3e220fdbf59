/**
 * The explorer-trace contract (docs/trace-format.md, "Explorer traces"): the one home of
 * what an explorer trace says and how. The explorer's writer (packages/explore
 * render/ftrace.ts), replay's reader (packages/replay adapters/explore.ts) and
 * `kreplay explore --schedule` all go through it; a round-trip test holds them together
 * (packages/replay/test/explore-trace.test.ts).
 *
 * - The file is an ordinary nop-tracer ftrace text trace: thread t of the scenario is task
 *   `<name>-<101+t>` on CPU t, the k-th step of the schedule is at 1.000000 s + k µs.
 * - The header line `# kreplay: explore format=1 scenario=… flavor=… schedule=…` names the
 *   format version, the scenario and flavor, and the schedule of the counterexample
 *   (`cycle=` for a livelock, `then=` for the steps that finish the run after it, `rule=`).
 *   A header without `format=` is format 1 (the explorer wrote it before the field existed).
 * - Page-cache insertions and removals are the kernel's own 6.1 filemap tracepoints
 *   (their format belongs to the kernel: replay reads them with the linux-6.1 probe map).
 * - Every other MmOp is a marker `tracing_mark_write: kreplay:<op> key=value …`, its keys
 *   and their printing in MARKER_KEYS / MARKER_OPS below.
 */
import { InputError, type InputErrorOptions } from '../errors.js';
import type { MmOp } from '../mmop.js';
import { PROBE_OPS, type FIELD_CONVERSIONS, type PROBE_ARG_TARGETS } from '../probe-map.js';
import { KREPLAY_MARKER_PREFIX } from '../records.js';

/** The format this kreplay writes, and the newest it reads. */
export const EXPLORE_TRACE_FORMAT = 1;

/** The header line's tag: `# kreplay: explore …`. */
export const EXPLORE_HEADER_TAG = 'kreplay: explore';

const HINT_NEWER =
  'this trace was written by a newer kreplay: read it with that version, or re-render the counterexample with this one (kreplay explore --trace-out)';

// ---------------------------------------------------------------- key=value

/**
 * `key=value`, double-quoting a value that is empty or holds white space, `"`, `=` or `\`
 * (inside quotes `\` and `"` are escaped with `\`, a newline is `\n`, a carriage return `\r`,
 * so a value never breaks the trace line).
 */
export function encodePair(key: string, value: string | number | bigint): string {
  const s = String(value);
  if (s !== '' && !/[\s"=\\]/.test(s)) return `${key}=${s}`;
  return `${key}="${s.replace(/[\\"\n\r]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`))}"`;
}

/** The first key `pairs` names a second time, undefined when each is named once. */
export function repeatedKey(pairs: ReadonlyArray<readonly [string, string]>): string | undefined {
  const seen = new Set<string>();
  for (const [k] of pairs) {
    if (seen.has(k)) return k;
    seen.add(k);
  }
  return undefined;
}

/** `a=1 b="x y" c=0x2` → pairs in order; quoted values unescaped (encodePair's inverse). */
export function decodePairs(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = /([A-Za-z_][\w]*)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push([m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c)) : m[2]!]);
  }
  return out;
}

// ---------------------------------------------------------------- markers

/** The event every marker is (`trace_marker` writes). */
export const MARKER_EVENT = 'tracing_mark_write';
/** What a marker's text starts with. */
export const MARKER_PREFIX = KREPLAY_MARKER_PREFIX;

type Target = (typeof PROBE_ARG_TARGETS)[number];
type Conversion = (typeof FIELD_CONVERSIONS)[number];

/**
 * Every marker key: the MmOp field it fills (a probe-map target) and the probe-map conversion
 * that reads it — `dev` as `major:minor` decimal, `ino` as hex digits without `0x` (as the
 * filemap tracepoints print it), `pfn` and `addr` as 0x-hex, the rest decimal.
 */
export const MARKER_KEYS = {
  dev: { target: 'dev', as: 'kdev' },
  ino: { target: 'ino', as: 'hex' },
  index: { target: 'index', as: 'number' },
  pfn: { target: 'pfn', as: 'number' },
  addr: { target: 'address', as: 'number' },
  start: { target: 'start', as: 'number' },
  end: { target: 'end', as: 'number' },
  size: { target: 'size', as: 'number' },
  ret: { target: 'ret', as: 'number' },
  mapcount: { target: 'mapcount', as: 'number' },
} as const satisfies Record<string, { target: Target; as: Conversion }>;
export type MarkerKey = keyof typeof MARKER_KEYS;

/** The ops written as markers (the filemap tracepoints carry cache_add and cache_delete). */
export type MarkerOpKind = Exclude<MmOp['kind'], 'cache_add' | 'cache_delete' | 'marker' | 'task_exit'>;

/**
 * The keys the writer puts on each marker, in order (`fn` first where the op names its kernel
 * function). A key whose value the op lacks is left out. Format 1 does not write `mapcount`
 * on pte_map/pte_unmap (the replay engine counts PTEs itself), nor `pfn` on unmap_range.
 */
export const MARKER_OPS: Record<MarkerOpKind, readonly (MarkerKey | 'fn')[]> = {
  fault_begin: ['dev', 'ino', 'index', 'addr'],
  fault_end: ['dev', 'ino', 'index', 'ret'],
  pte_map: ['dev', 'ino', 'index', 'pfn', 'addr'],
  pte_unmap: ['dev', 'ino', 'index', 'pfn', 'addr'],
  invalidate_begin: ['fn', 'dev', 'ino', 'start', 'end'],
  invalidate_end: ['fn', 'dev', 'ino', 'ret'],
  truncate_begin: ['fn', 'dev', 'ino', 'size', 'start', 'end'],
  truncate_end: ['fn', 'dev', 'ino', 'ret'],
  unmap_range: ['fn', 'dev', 'ino', 'start', 'end'],
  isize_set: ['dev', 'ino', 'size'],
  page_lock: ['pfn'],
  page_unlock: ['pfn'],
};

/** One trace event: its name and the text after `name: `. */
export interface EventText {
  name: string;
  body: string;
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

/** The printed value of one marker key of `op`, undefined when the op has none. */
function markerValue(op: MmOp, key: MarkerKey | 'fn'): string | number | bigint | undefined {
  const o = op as unknown as Partial<Record<string, unknown>> & { file?: { dev: string; ino: bigint } };
  switch (key) {
    case 'fn':
      return o['fn'] as string | undefined;
    case 'dev':
      return o.file?.dev;
    case 'ino':
      return o.file?.ino.toString(16);
    case 'pfn':
      return o['pfn'] === undefined ? undefined : hex(o['pfn'] as bigint);
    case 'addr':
      return o['address'] === undefined ? undefined : hex(o['address'] as bigint);
    default:
      return o[MARKER_KEYS[key].target] as number | bigint | undefined;
  }
}

/** `kreplay:step label="…"`: a model step with no kernel event (kept for reading; replay does not change state for it). */
export function stepMarker(label: string): EventText {
  return { name: MARKER_EVENT, body: `${MARKER_PREFIX}step ${encodePair('label', label)}` };
}

/** The event a trace shows for one MmOp. */
export function encodeOpEvent(op: MmOp): EventText {
  switch (op.kind) {
    case 'cache_add':
    case 'cache_delete':
      // include/trace/events/filemap.h (6.1): "dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u"
      return {
        name: op.kind === 'cache_add' ? 'mm_filemap_add_to_page_cache' : 'mm_filemap_delete_from_page_cache',
        body: `dev ${op.file.dev} ino ${op.file.ino.toString(16)} pfn=${hex(op.pfn)} ofs=${op.index * 4096} order=${op.order}`,
      };
    case 'marker':
      return stepMarker(op.text);
    case 'task_exit':
      // the model's threads do not exit: no flavor makes this op, and the format has no marker for it
      throw new Error('a task_exit op has no explorer-trace form');
    default: {
      const parts = [`${MARKER_PREFIX}${op.kind}`];
      for (const key of MARKER_OPS[op.kind]) {
        const v = markerValue(op, key);
        if (v !== undefined) parts.push(encodePair(key, v));
      }
      return { name: MARKER_EVENT, body: parts.join(' ') };
    }
  }
}

/** A marker as read back: a step's label, or an op with its values still as printed. */
export type DecodedMarker =
  | { op: 'step'; label: string }
  | {
      op: (typeof PROBE_OPS)[number];
      fn?: string;
      /** Known keys in order, each with the MmOp field it fills and the conversion that reads it; unknown keys are skipped. */
      values: Array<{ key: MarkerKey; target: Target; as: Conversion; raw: string }>;
    };

const OPS = new Set<string>(PROBE_OPS);

/**
 * A marker's text (`kreplay:pte_map dev=8:1 ino=2a …`) read back: null when it is not a
 * kreplay marker, a string saying why when it names no op kreplay knows, holds a line
 * break (the writer escapes them, so the text after one is not the marker's: read, its
 * `key=value`s would add to the marker's or override them) or names a key twice (the writer
 * names each once; which of two values is meant cannot be told). Any op of the probe-map
 * vocabulary is accepted (a hand-written `kreplay:cache_add` too), with any key.
 */
export function decodeMarker(text: string): DecodedMarker | string | null {
  const t = text.trim();
  if (!t.startsWith(MARKER_PREFIX)) return null;
  if (/[\n\r]/.test(t)) return 'a kreplay marker is one line, but this one holds a line break (its writer escapes them as \\n)';
  const sp = t.indexOf(' ');
  const op = t.slice(MARKER_PREFIX.length, sp < 0 ? t.length : sp);
  const rest = sp < 0 ? '' : t.slice(sp + 1);
  const pairs = decodePairs(rest);
  const twice = repeatedKey(pairs);
  if (twice !== undefined) return `a kreplay marker names each key once, but this one names ${twice}= twice (which value is meant cannot be told)`;
  if (op === 'step') return { op, label: pairs.find(([k]) => k === 'label')?.[1] ?? rest };
  if (!OPS.has(op)) return `unknown kreplay op "${op}"`;
  const out: DecodedMarker = { op: op as (typeof PROBE_OPS)[number], values: [] };
  for (const [k, raw] of pairs) {
    if (k === 'fn') {
      out.fn = raw;
      continue;
    }
    if (!Object.hasOwn(MARKER_KEYS, k)) continue;
    const key = k as MarkerKey;
    out.values.push({ key, target: MARKER_KEYS[key].target, as: MARKER_KEYS[key].as, raw });
  }
  return out;
}

// ---------------------------------------------------------------- header

/** What the `# kreplay: explore` header line says. */
export interface ExploreTraceHeader {
  format: number;
  scenario: string;
  flavor: string;
  /** Thread ids of the counterexample's steps. */
  schedule: number[];
  /** livelock: the steps repeated forever after `schedule`. */
  cycle?: number[];
  /** The steps run after the counterexample to finish the run (not part of it). */
  then?: number[];
  rule?: string;
}

/** The header line, without its newline: `# kreplay: explore format=1 scenario=… …`. */
export function encodeExploreHeader(h: Omit<ExploreTraceHeader, 'format'>): string {
  const parts = [`format=${EXPLORE_TRACE_FORMAT}`, encodePair('scenario', h.scenario), encodePair('flavor', h.flavor), `schedule=${h.schedule.join(',')}`];
  if (h.cycle && h.cycle.length > 0) parts.push(`cycle=${h.cycle.join(',')}`);
  if (h.then && h.then.length > 0) parts.push(`then=${h.then.join(',')}`);
  if (h.rule !== undefined) parts.push(encodePair('rule', h.rule));
  return `# ${EXPLORE_HEADER_TAG} ${parts.join(' ')}`;
}

/** Where a header came from, for errors. */
type HeaderSource = Pick<InputErrorOptions, 'file' | 'line'>;

/**
 * The format version a header names: 1 when it names none (traces written before the field);
 * an InputError for a version this kreplay does not read (a newer one, or not a version at all).
 * Takes the value as the ftrace reader's metadata holds it (`kreplay.format`) or as printed.
 */
export function exploreTraceFormat(value: unknown, where: HeaderSource = {}): number {
  if (value === undefined) return EXPLORE_TRACE_FORMAT;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`the explorer trace's format=${text} is not a format version`, {
      ...where,
      hint: `an explorer trace's header reads "# ${EXPLORE_HEADER_TAG} format=${EXPLORE_TRACE_FORMAT} …" (docs/trace-format.md)`,
    });
  }
  if (n > EXPLORE_TRACE_FORMAT) {
    throw new InputError(`explorer trace format ${n} is newer than this kreplay reads (format ${EXPLORE_TRACE_FORMAT})`, { ...where, hint: HINT_NEWER });
  }
  return n;
}

/** True for a line that is an explorer-trace header (`# kreplay: explore …`). */
export function isExploreHeader(line: string): boolean {
  return /^#\s*kreplay:\s*explore(\s|$)/.test(line);
}

/** Read a header line (isExploreHeader); its format is checked first, then every key it must have. */
export function decodeExploreHeader(line: string, where: HeaderSource = {}): ExploreTraceHeader {
  const body = line.replace(/^#\s*kreplay:\s*explore/, '');
  const list = decodePairs(body);
  const pairs = new Map(list);
  const format = exploreTraceFormat(pairs.get('format'), where);
  const bad = (key: string, why: string): never => {
    throw new InputError(`the explorer trace header's ${key} ${why}`, {
      ...where,
      hint: 'the header is written by kreplay explore --trace-out (docs/trace-format.md); restore it from the original trace',
    });
  };
  const twice = repeatedKey(list);
  if (twice !== undefined) bad(twice, 'is given twice (which value is meant cannot be told)');
  const text = (key: string): string => pairs.get(key) ?? bad(key, 'is missing');
  const threads = (key: string): number[] | undefined => {
    const v = pairs.get(key);
    if (v === undefined) return undefined;
    if (!/^(\d+(,\d+)*)?$/.test(v)) bad(key, `"${v}" is not a comma-separated list of thread ids`);
    return v === '' ? [] : v.split(',').map(Number);
  };
  const h: ExploreTraceHeader = { format, scenario: text('scenario'), flavor: text('flavor'), schedule: threads('schedule') ?? bad('schedule', 'is missing') };
  const cycle = threads('cycle');
  const then = threads('then');
  if (cycle) h.cycle = cycle;
  if (then) h.then = then;
  if (pairs.has('rule')) h.rule = pairs.get('rule')!;
  return h;
}

// ---------------------------------------------------------------- the file

const HEADER_TAIL = [
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
];

/** One event of the trace: the thread (from 0) whose step `step` (from 1) shows it. */
export interface ExploreTraceEvent {
  thread: number;
  step: number;
  event: EventText;
}

/** `    1.000007` for step 7. */
function stepTimestamp(k: number): string {
  const us = 1_000_000 + k;
  return `${String(Math.floor(us / 1_000_000)).padStart(5)}.${String(us % 1_000_000).padStart(6, '0')}`;
}

/**
 * The whole trace file: the nop tracer's header with the explore header line in it, then one
 * line per event (`<comm>-<101+t> [00t] ..... <ts>: <name>: <body>`, comm the thread's name
 * cut to 15 characters as the kernel cuts it).
 */
export function encodeExploreTrace(header: Omit<ExploreTraceHeader, 'format'>, threadNames: readonly string[], events: readonly ExploreTraceEvent[]): string {
  const body = events.map(({ thread, step, event }) => {
    const comm = threadNames[thread]!.slice(0, 15);
    return `${comm.padStart(16)}-${String(101 + thread).padEnd(7)} [${String(thread).padStart(3, '0')}] ..... ${stepTimestamp(step)}: ${event.name}: ${event.body}`;
  });
  const lines = ['# tracer: nop', '#', encodeExploreHeader(header), '#'];
  lines.push(`# entries-in-buffer/entries-written: ${body.length}/${body.length}   #P:${threadNames.length}`, '#');
  lines.push(...HEADER_TAIL, ...body);
  return `${lines.join('\n')}\n`;
}
