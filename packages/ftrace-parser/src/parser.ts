/**
 * The line-by-line state machine shared by every text reader: it detects each line's
 * kind (event line in ftrace or perf layout, function_graph line, header comment, gap
 * line, trace-cmd preamble, continuation line) and turns lines into records.
 *
 * Continuation lines (` => frame`, perf's tab-indented callchain, the later lines of a
 * multi-line trace marker) belong to the event before them, so the last event is held
 * until the next line that is not a continuation. Gap lines (`CPU:N [LOST M EVENTS]`) are
 * printed by the kernel right before the first event after the loss, so they take that
 * event's timestamp when it is on the same CPU.
 */
import { InputError } from '@kreplay/core/errors';
import { KREPLAY_MARKER_PREFIX } from '@kreplay/core/records';
import { decodeEvent, type DecodedEvent, type FieldsWanted } from './events.js';
import { graphEvent, isGraphRule, looksLikeGraphLine, scanGraphLine, type GraphHead } from './funcgraph.js';
import { scanLatencyLine } from './latency.js';
import { notACpu, scanHead, type LineHead } from './line-head.js';
import { scanPerfHeadNoCpu } from './perf-head.js';
import type { TimestampForm } from './timestamp.js';
import type { Fields, Gap, TraceEvent, TraceMeta, TraceRecord } from '@kreplay/core';
import { decodeFields, decodeValue } from './values.js';

export type TraceFormat = 'auto' | 'ftrace' | 'perf';

export interface LineParserOptions {
  source: string;
  format?: TraceFormat;
  strict?: boolean;
  /** false: leave event fields empty (counting passes); a FieldsWanted: only for the events it wants. Everything else is unchanged. */
  fields?: boolean | FieldsWanted;
}

/** The most a single trace_marker write carries (TRACE_MARKER_MAX_SIZE, and a margin for the prefix). */
const TRACE_MARKER_MAX = 4096 + 64;

/** Gap lines held for the next event's timestamp at most; beyond that they go out without one. */
const MAX_HELD = 1024;

/** Longest input text kept in a Gap's `text`. */
export const GAP_TEXT_MAX = 200;

const LOST = /^CPU:(\d+) \[(?:LOST (\d+) EVENTS|LOST EVENTS|(\d+) EVENTS DROPPED|EVENTS DROPPED)\]\s*$/;
const DROPPED = /^\[(\d+) EVENTS DROPPED\]\s*$/;
/**
 * `perf script --show-lost-events`: the record the kernel writes into a perf ring buffer when
 * it has room again after dropping records (kernel/events/ring_buffer.c perf_output_begin,
 * 6.1: `if (unlikely(have_lost))` writes a PERF_RECORD_LOST with the count and the sample id of
 * the moment it is written), printed after that id's `comm pid [cpu] time:` as ` lost N`
 * (tools/perf/util/event.c perf_event__fprintf_lost); `PERF_RECORD_LOST_SAMPLES` is the count of
 * samples the kernel discarded.
 */
const PERF_LOST = /(?:^|\s)PERF_RECORD_LOST(?:_SAMPLES)?(?: lost (\d+))?\s*$/;
const BUFFER_STARTED = /^#{5} CPU (\d+) buffer started #{4}\s*$/;
/** A perf callchain frame: an address, then the symbol (`  ffffffff810a1b2c native_safe_halt ([kernel.kallsyms])`). */
const CALLCHAIN_FRAME = /^\s+[0-9a-fA-F]+\s+\S/;
/** An unindented perf frame: `ffffffff8103d0ca native_write_msr_safe ([kernel.kallsyms])`. */
const BARE_FRAME = /^[0-9a-fA-F]{4,16}\s+\S.*\(.*\)\s*$/;
/**
 * perf's header (`perf script --header`) names the clock `perf record -k` chose: `# clockid:
 * monotonic (1)` (tools/perf/util/header.c print_clock_data; without -k it prints `# reference
 * time disabled`, and the samples carry perf_clock(), local_clock()).
 */
const PERF_CLOCKID = /^clockid: (\S.*?) \((\d+)\)\s*$/;
const ENTRIES = /^#\s*entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)\s+#P:(\d+)/;

export function cutText(text: string): string {
  return text.length > GAP_TEXT_MAX ? `${text.slice(0, GAP_TEXT_MAX)}…` : text;
}

export class TraceLineParser {
  readonly source: string;
  private readonly format: TraceFormat;
  private readonly strict: boolean;
  private readonly payload: boolean | FieldsWanted;
  /** The last event, held for its continuation lines. */
  private pending: TraceEvent | undefined;
  private pendingIsMarker = false;
  /** The pending event is a perf sample (its callchain frames may follow unindented). */
  private pendingIsPerf = false;
  /** Whether a `perf script` line was met (its first one is preceded by a `layout` meta record). */
  private perfSeen = false;
  /** Characters of the pending marker's message so far. */
  private markerChars = 0;
  /** Gap lines waiting for the event they precede. */
  private held: Gap[] = [];
  /** Timestamp of the last event (function_graph lines without abstime take it). */
  private lastTs = 0n;
  /** Task last seen running on each CPU (function_graph without funcgraph-proc). */
  private readonly graphTask = new Map<number, { comm: string; pid: number }>();
  /** Timestamp form of the first event: `usec`, `nsec`, `counter`. */
  tsForm: TimestampForm | undefined;
  /**
   * The ring-buffer entries the `entries-in-buffer/entries-written` header lines count (summed
   * over concatenated traces), the first such line, and the entries the file holds: events and
   * lines that did not parse (each was one entry). A tracefs `trace` file stops tracing while it
   * is read (kernel/trace/trace.c __tracing_open: tracing_stop_tr), so the two agree unless
   * the file was cut or lines were removed (`missingEntries`).
   */
  private entriesCounted = 0;
  private entriesLine = 0;
  private entriesHeld = 0;
  private tracer: string | undefined;
  private graphSeen = false;
  /**
   * The header said the ring buffer overwrote entries (entries-written above entries-in-buffer:
   * kernel/trace/trace.c get_total_cpu_entries adds the overruns): then each CPU's first entry
   * but the trace's first follows a `##### CPU N buffer started ####` line (test_cpu_buff_start),
   * unless trace_options has noannotate. The CPUs met since that header, those it marked, and
   * the header's line and overrun count.
   */
  private overrun: { line: number; by: number; seen: Set<number>; marked: Set<number> } | undefined;

  constructor(opts: LineParserOptions) {
    this.source = opts.source;
    this.format = opts.format ?? 'auto';
    this.strict = opts.strict ?? false;
    this.payload = opts.fields ?? true;
  }

  /**
   * Parse one line (without its newline; a trailing CR is tolerated). `unterminated` marks
   * a last line that had no newline: if it does not parse it is a truncated record.
   */
  line(text: string, lineNo: number, out: TraceRecord[], unterminated = false): void {
    this.lineAt(text, 0, text.length, lineNo, out, unterminated);
  }

  /**
   * Parse the line s[start, end) without cutting it out of s first: the common event line
   * is scanned in place (no per-line string); anything else takes the general path.
   */
  lineAt(s: string, start: number, end: number, lineNo: number, out: TraceRecord[], unterminated = false): void {
    if (end > start && s.charCodeAt(end - 1) === 13) end--;
    if (end === start) return;
    const c0 = s.charCodeAt(start);
    if (c0 === 32 && !unterminated) {
      let i = start + 1;
      while (i < end && s.charCodeAt(i) === 32) i++;
      const c = s.charCodeAt(i);
      if (i < end && c !== 61 && (c < 48 || c > 57)) {
        // `   comm-pid [cpu] ...`: not a stack frame (` => `), not a function_graph line (` 0) `)
        const head = scanHead(s, i, end);
        if (typeof head !== 'string' && (this.format === 'auto' || head.layout === this.format)) {
          const ev = decodeEvent(s, head.rest, this.payload, end);
          if (typeof ev !== 'string') {
            this.tsForm ??= head.tsForm;
            const rec = this.makeEvent(head.ts, head.cpu, head.pid, head.tgid, head.comm, head.flags, ev, lineNo);
            return this.emitEvent(rec, ev, out, head.layout === 'perf');
          }
        }
      }
    }
    this.slowLine(start === 0 && end === s.length ? s : s.slice(start, end), lineNo, out, unterminated);
  }

  /** Every kind of line, checked in order (a cut-out line without its CR). */
  private slowLine(text: string, lineNo: number, out: TraceRecord[], unterminated: boolean): void {
    const c0 = text.charCodeAt(0);
    if (c0 === 35) return this.comment(text, lineNo, out);
    if (c0 === 9) {
      // an event line indented with a tab (trace-cmd/kernelshark-era text) is an event; any
      // other tab-led line after an event is one of perf's callchain frames
      const head = scanHead(text);
      if (typeof head !== 'string') return this.headEvent(text, head, lineNo, out, unterminated);
      return this.callchainFrame(text, lineNo, out);
    }
    if (c0 === 32) {
      // cheap checks for the continuation and function_graph lines before the event scanner
      let i = 1;
      while (i < text.length && text.charCodeAt(i) === 32) i++;
      if (i === text.length) return;
      if (text.charCodeAt(i) === 61 && text.charCodeAt(i + 1) === 62 && (i + 2 === text.length || text.charCodeAt(i + 2) === 32)) {
        return this.stackFrame(text, i, lineNo, out);
      }
    }
    if (c0 === 67 && text.startsWith('CPU')) {
      if (this.cpuLine(text, lineNo, out)) return;
    } else if (c0 === 91) {
      const m = DROPPED.exec(text);
      if (m) return this.gap(out, { kind: 'events-dropped', lost: Number(m[1]), line: lineNo, reason: `trace-cmd dropped ${m[1]} events` });
    } else if ((c0 === 118 || c0 === 99) && this.preamble(text, lineNo, out)) return;

    const head = scanHead(text);
    if (typeof head !== 'string') return this.headEvent(text, head, lineNo, out, unterminated);
    if (this.format !== 'ftrace') {
      // perf script without the [cpu] column (perf record -p PID / perf record cmd)
      const p = scanPerfHeadNoCpu(text);
      if (!p && this.perfLost(text, undefined, undefined, lineNo, out)) return;
      if (p) {
        const ev = decodeEvent(text, p.rest, this.payload);
        if (typeof ev !== 'string') {
          const ts = p.hasTime ? p.ts : this.lastTs;
          this.tsForm ??= p.tsForm;
          const rec = this.makeEvent(ts, -1, p.pid, p.tgid, p.comm, undefined, ev, lineNo);
          return this.emitEvent(rec, ev, out, true);
        }
      }
    }
    if (this.format !== 'perf') {
      const lat = scanLatencyLine(text);
      if (lat) {
        const ev = decodeEvent(text, lat.rest, this.payload);
        if (typeof ev === 'string') return this.unparseable(text, lineNo, out, ev, unterminated);
        this.tsForm ??= lat.unit === 'usec' ? 'latency' : lat.unit === 'absolute' ? 'usec' : lat.unit;
        const rec = this.makeEvent(lat.ts, lat.cpu, lat.pid, undefined, lat.comm, lat.flags, ev, lineNo);
        return this.emitEvent(rec, ev, out);
      }
    }
    if (this.format !== 'perf' && (isGraphRule(text) || looksLikeGraphLine(text))) {
      if (isGraphRule(text)) return;
      const g = scanGraphLine(text);
      if (typeof g === 'string') return this.unparseable(text, lineNo, out, g, unterminated);
      return this.graphEvent(g, text, lineNo, out, unterminated);
    }
    if (this.pending && !this.pendingIsMarker && ((c0 === 32 && CALLCHAIN_FRAME.test(text)) || (this.pendingIsPerf && BARE_FRAME.test(text)))) {
      // perf callchain frames indented with spaces (simpleperf, older perf, pasted output), or
      // not indented at all (old perf script): an address, a symbol, the object in parentheses
      return this.callchainFrame(text, lineNo, out);
    }
    if (this.pendingIsMarker && this.pending && !unterminated && !text.includes('\u0000') && !text.includes('\ufffd')) {
      // the next line of a multi-line trace marker, as long as the message still fits what
      // one trace_marker write can hold (so a marker never swallows the rest of a bad file)
      this.markerChars += text.length + 1;
      if (this.markerChars <= TRACE_MARKER_MAX) {
        const f = this.pending.fields;
        if (typeof f.buf === 'string') f.buf = `${f.buf}\n${text}`;
        return;
      }
      this.pendingIsMarker = false;
    }
    this.unparseable(text, lineNo, out, head, unterminated);
  }

  /** An event line whose context columns scanned (`head`); its event part decides. */
  private headEvent(text: string, head: LineHead, lineNo: number, out: TraceRecord[], unterminated: boolean): void {
    if (this.format !== 'auto' && head.layout !== this.format) {
      return this.unparseable(text, lineNo, out, `a ${head.layout} line, but --format ${this.format} was given`, unterminated);
    }
    const ev = decodeEvent(text, head.rest, this.payload);
    if (typeof ev === 'string') {
      if (head.layout === 'perf' && this.perfLost(text, head.cpu, head.ts, lineNo, out)) return;
      return this.unparseable(text, lineNo, out, ev, unterminated);
    }
    this.tsForm ??= head.tsForm;
    const rec = this.makeEvent(head.ts, head.cpu, head.pid, head.tgid, head.comm, head.flags, ev, lineNo);
    return this.emitEvent(rec, ev, out, head.layout === 'perf');
  }

  /**
   * A `PERF_RECORD_LOST lost N` line (PERF_LOST): the kernel dropped records of that CPU's buffer
   * after its previous record and before this line's time, so the gap is on that CPU, at this
   * line's own time; not, as a line no reader understood, on no CPU after the previous line
   * printed (perf script prints records merged by time, so that line may be another CPU's,
   * later than the lost ones). A line that prints no CPU names no buffer: the losses may be
   * anywhere before it.
   */
  private perfLost(text: string, cpu: number | undefined, ts: bigint | undefined, lineNo: number, out: TraceRecord[]): boolean {
    const m = PERF_LOST.exec(text);
    if (!m) return false;
    const lost = m[1] !== undefined ? Number(m[1]) : undefined;
    const on = cpu !== undefined && cpu >= 0 ? cpu : undefined;
    this.flushPending(out);
    const where = on !== undefined ? `on CPU ${on}` : 'on a CPU the line does not name';
    const gap: Gap = {
      type: 'gap',
      kind: 'lost-events',
      cpu: on,
      lost,
      line: lineNo,
      source: this.source,
      reason: `perf lost ${lost ?? 'an unknown number of'} events ${where} (PERF_RECORD_LOST)`,
    };
    if (on !== undefined && ts !== undefined) gap.ts = ts;
    out.push(gap);
    return true;
  }

  /** End of input: flush what is held; say if the header counted entries the file does not hold. */
  end(out: TraceRecord[]): void {
    this.flushPending(out);
    this.flushHeld(out, undefined);
    this.missingEntries(out);
  }

  /**
   * Fewer entries than the header counted: events were cut off or removed (a file cut short, a
   * `grep -v`), and nothing says where. One gap with no CPU and no place, kind
   * `missing-entries`, at the header line. Only for tracers whose every entry prints as one
   * line (nop, function: events, `<stack trace>`, markers): function_graph folds an entry and
   * its return into one line.
   */
  private missingEntries(out: TraceRecord[]): void {
    const missing = this.entriesCounted - this.entriesHeld;
    if (missing <= 0 || this.graphSeen || (this.tracer !== undefined && this.tracer !== 'nop' && this.tracer !== 'function')) return;
    out.push({
      type: 'gap',
      kind: 'missing-entries',
      cpu: undefined,
      lost: missing,
      ts: undefined,
      line: this.entriesLine,
      source: this.source,
      reason: `the header at line ${this.entriesLine} counts ${this.entriesCounted} entries in the ring buffer, but the file holds ${this.entriesHeld}: ${missing} were cut off or removed, and nothing says where they were`,
    });
  }

  private makeEvent(
    ts: bigint,
    cpu: number,
    pid: number,
    tgid: number | undefined,
    comm: string,
    flags: string | undefined,
    ev: DecodedEvent,
    lineNo: number,
  ): TraceEvent {
    // One object shape for every event (absent keys are undefined, which JSON omits).
    const rec: TraceEvent = {
      type: 'event',
      ts,
      cpu,
      pid,
      tgid,
      comm,
      flags,
      event: ev.event,
      system: ev.system,
      fields: ev.fields,
      probe: ev.probe,
      stack: undefined,
      line: lineNo,
      source: this.source,
    };
    if (ev.stackHeader) rec.stack = [];
    return rec;
  }

  private emitEvent(rec: TraceEvent, ev: DecodedEvent, out: TraceRecord[], perf = false): void {
    if (perf && !this.perfSeen) {
      // readers must know: perf script prints the events perf lost only with --show-lost-events
      this.perfSeen = true;
      out.push({ type: 'meta', key: 'layout', value: 'perf script', line: rec.line, source: this.source });
    }
    this.pendingIsPerf = perf;
    if (this.overrun && !this.overrun.seen.has(rec.cpu)) this.unmarkedStart(rec, out);
    this.entriesHeld++;
    if (this.pending) out.push(this.pending);
    if (this.held.length > 0) this.flushHeld(out, rec);
    this.pending = rec;
    // kreplay's own markers are one line each: the capture workload's (`kreplay: mismatch …`,
    // one write: packages/capture/c/kr.h kr_marker) and the explorer's (`kreplay:<op> …`, line
    // breaks escaped), so a line after one is not part of it: a line that does not parse stays
    // a gap, and the marker keeps its own keys only
    // (known from the line, so a pass that decodes no fields groups lines as one that does)
    this.pendingIsMarker = (ev.event === 'print' || ev.event === 'bprint' || ev.event === 'bputs') && ev.kreplayMarker !== true;
    if (this.pendingIsMarker) this.markerChars = typeof ev.fields.buf === 'string' ? ev.fields.buf.length : 0;
    this.lastTs = rec.ts;
  }

  /**
   * The first event of a CPU after a header that counted overruns: without the kernel's
   * `buffer started` line (noannotate), nothing else says that this CPU's earlier events may
   * have been overwritten, so a gap of that kind stands in for the line. The trace's first
   * event gets none (the kernel marks none: whatever it lost came before everything shown).
   */
  private unmarkedStart(rec: TraceEvent, out: TraceRecord[]): void {
    const o = this.overrun!;
    const first = o.seen.size === 0;
    o.seen.add(rec.cpu);
    if (first || o.marked.has(rec.cpu)) return;
    this.gap(out, {
      kind: 'buffer-started',
      cpu: rec.cpu,
      line: rec.line,
      reason: `CPU ${rec.cpu}'s earlier events may have been overwritten: the header at line ${o.line} counts ${o.by} entries the ring buffer overwrote, and no "buffer started" line says where (trace_options noannotate)`,
    });
  }

  private flushPending(out: TraceRecord[]): void {
    if (this.pending) out.push(this.pending);
    this.pending = undefined;
    this.pendingIsMarker = false;
  }

  private flushHeld(out: TraceRecord[], next: TraceEvent | undefined): void {
    for (const g of this.held) {
      if (next && (g.cpu === undefined || g.cpu === next.cpu)) g.ts = next.ts;
      out.push(g);
    }
    this.held = [];
  }

  /** A gap line: held until the event it precedes. */
  private gap(out: TraceRecord[], g: Omit<Gap, 'type' | 'source'>): void {
    this.flushPending(out);
    const gap: Gap = { type: 'gap', kind: g.kind, cpu: g.cpu, lost: g.lost, ts: undefined, line: g.line, source: this.source, reason: g.reason };
    this.held.push(gap);
    if (this.held.length > MAX_HELD) this.flushHeld(out, undefined);
  }

  private meta(out: TraceRecord[], key: string, value: string | number, line: number): void {
    this.flushPending(out);
    this.flushHeld(out, undefined);
    const m: TraceMeta = { type: 'meta', key, value, line, source: this.source };
    out.push(m);
  }

  private unparseable(text: string, lineNo: number, out: TraceRecord[], why: string, unterminated: boolean): void {
    let reason = why;
    if (text.includes('\u0000')) reason = `${why} (the line holds NUL bytes)`;
    else if (text.includes('\ufffd')) reason = `${why} (the line is not valid UTF-8)`;
    // an unterminated last line that starts like a record was cut mid-record
    const cut = unterminated && (/\[\d+\]/.test(text) || /^\s*\S.*-\d+\s*$/.test(text) || looksLikeGraphLine(text));
    const kind = cut ? 'truncated' : 'unparseable';
    if (cut) reason = `the input ends in the middle of a record: ${reason}`;
    if (this.strict) {
      throw new InputError(`${kind === 'truncated' ? '' : 'unparseable line: '}${reason}: "${cutText(text)}"`, {
        file: this.source,
        line: lineNo,
        hint: 'drop --strict to record such lines as gaps and read on, or pass --format if the detection is wrong',
      });
    }
    this.flushPending(out);
    this.flushHeld(out, undefined);
    this.entriesHeld++;
    out.push({ type: 'gap', kind, line: lineNo, source: this.source, reason, text: cutText(text) });
  }

  /** A line cut because it exceeded the line length limit (reported, never buffered whole). */
  overlong(text: string, length: number, lineNo: number, out: TraceRecord[]): void {
    this.unparseable(text, lineNo, out, `line of ${length} characters is longer than the limit and was cut`, false);
  }

  private comment(text: string, lineNo: number, out: TraceRecord[]): void {
    if (text.startsWith('#####')) {
      const m = BUFFER_STARTED.exec(text);
      if (m) {
        const cpu = Number(m[1]);
        const bad = notACpu(cpu, m[1]);
        if (bad) return this.unparseable(text, lineNo, out, bad, false);
        this.overrun?.marked.add(cpu);
        return this.gap(out, {
          kind: 'buffer-started',
          cpu,
          line: lineNo,
          reason: `CPU ${cpu}'s ring buffer wrapped: its events before this point were overwritten`,
        });
      }
    }
    const body = text.replace(/^#\s*/, '');
    if (body.startsWith('tracer:')) {
      this.tracer = body.slice(7).trim();
      return this.meta(out, 'tracer', this.tracer, lineNo);
    }
    if (body.startsWith('kreplay:')) {
      const rest = body.slice(8).trim();
      const sp = rest.indexOf(' ');
      const kind = sp < 0 ? rest : rest.slice(0, sp);
      this.meta(out, 'kreplay', kind, lineNo);
      const fields: Fields = {};
      decodeFields(rest, fields, sp < 0 ? rest.length : sp);
      for (const [k, v] of Object.entries(fields)) {
        this.meta(out, `kreplay.${k}`, typeof v === 'number' || typeof v === 'string' ? v : String(v), lineNo);
      }
      return;
    }
    const ck = PERF_CLOCKID.exec(body);
    if (ck) return this.meta(out, 'perf-clockid', ck[1]!, lineNo);
    const e = ENTRIES.exec(text);
    if (e) {
      if (this.entriesCounted === 0) this.entriesLine = lineNo;
      this.entriesCounted += Number(e[1]);
      const by = Number(e[2]) - Number(e[1]);
      this.overrun = by > 0 ? { line: lineNo, by, seen: new Set(), marked: new Set() } : undefined;
      this.meta(out, 'entries-in-buffer', Number(e[1]), lineNo);
      this.meta(out, 'entries-written', Number(e[2]), lineNo);
      this.meta(out, 'cpus', Number(e[3]), lineNo);
    }
    // other header lines (column legends) carry nothing
  }

  /** `CPU:N [LOST M EVENTS]`, `CPU N is empty`, `CPU0 data recorded at offset=...` */
  private cpuLine(text: string, lineNo: number, out: TraceRecord[]): boolean {
    const m = LOST.exec(text);
    if (m) {
      const cpu = Number(m[1]);
      const bad = notACpu(cpu, m[1]);
      if (bad) {
        this.unparseable(text, lineNo, out, bad, false);
        return true;
      }
      if (text.includes('DROPPED')) {
        const lost = m[3] !== undefined ? Number(m[3]) : undefined;
        this.gap(out, { kind: 'events-dropped', cpu, lost, line: lineNo, reason: `trace-cmd dropped ${lost ?? 'an unknown number of'} events on CPU ${cpu}` });
      } else {
        const lost = m[2] !== undefined ? Number(m[2]) : undefined;
        this.gap(out, { kind: 'lost-events', cpu, lost, line: lineNo, reason: `the ring buffer lost ${lost ?? 'an unknown number of'} events on CPU ${cpu}` });
      }
      return true;
    }
    const empty = /^CPU\s*(\d+) is empty\s*$/.exec(text);
    if (empty) {
      this.meta(out, 'cpu-empty', Number(empty[1]), lineNo);
      return true;
    }
    const data = /^CPU\s*(\d+) data recorded at offset=(0x[0-9a-f]+)/i.exec(text);
    if (data) return true;
    return false;
  }

  /** trace-cmd report preamble: `version = 6`, `cpus=4`. */
  private preamble(text: string, lineNo: number, out: TraceRecord[]): boolean {
    const v = /^version = (\S+)\s*$/.exec(text);
    if (v) {
      this.meta(out, 'trace-cmd.version', decodeValue(v[1]!) as number | string, lineNo);
      return true;
    }
    const c = /^cpus=(\d+)\s*$/.exec(text);
    if (c) {
      this.meta(out, 'cpus', Number(c[1]), lineNo);
      return true;
    }
    return false;
  }

  private stackFrame(text: string, i: number, lineNo: number, out: TraceRecord[]): void {
    if (!this.pending) return this.unparseable(text, lineNo, out, 'a stack frame with no event before it', false);
    const frame = text.startsWith('=> ', i) ? text.slice(i + 3).trim() : text.slice(i).trim();
    (this.pending.stack ??= []).push(frame);
    this.pendingIsMarker = false;
  }

  private callchainFrame(text: string, lineNo: number, out: TraceRecord[]): void {
    const frame = text.trim();
    if (frame === '') return;
    if (!this.pending) return this.unparseable(text, lineNo, out, 'a callchain frame with no event before it', false);
    (this.pending.stack ??= []).push(frame);
    this.pendingIsMarker = false;
  }

  private graphEvent(g: GraphHead, text: string, lineNo: number, out: TraceRecord[], unterminated: boolean): void {
    const ts = g.ts ?? this.lastTs;
    if (g.tsForm) this.tsForm ??= g.tsForm;
    let task = g.comm !== undefined ? { comm: g.comm, pid: g.pid! } : this.graphTask.get(g.cpu);
    const l = g.line;
    let ev: DecodedEvent;
    if (l.kind === 'comment') {
      const inner = decodeEvent(l.text, 0, this.payload);
      ev =
        typeof inner === 'string' || inner.event === 'function'
          ? {
              event: 'bputs',
              system: 'ftrace',
              fields: this.payload !== false ? { buf: l.text } : {},
              probe: undefined,
              stackHeader: undefined,
              kreplayMarker: l.text.startsWith(KREPLAY_MARKER_PREFIX),
            }
          : inner;
    } else {
      if (l.kind === 'switch') {
        task = { comm: l.nextComm, pid: l.nextPid };
        this.graphTask.set(g.cpu, task);
      }
      ev = graphEvent(l);
    }
    if (unterminated && l.kind === 'entry' && !text.trimEnd().endsWith('{')) {
      return this.unparseable(text, lineNo, out, 'a cut function_graph line', true);
    }
    if (task && g.comm !== undefined) this.graphTask.set(g.cpu, task);
    const rec = this.makeEvent(ts, g.cpu, task?.pid ?? -1, undefined, task?.comm ?? '<...>', g.flags, ev, lineNo);
    this.graphSeen = true;
    this.emitEvent(rec, ev, out);
    if (g.ts === undefined) this.lastTs = ts;
  }
}
