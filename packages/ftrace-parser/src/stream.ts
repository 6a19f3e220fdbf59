/**
 * Streaming front end: bytes or strings in, records out, with bounded memory. Input is
 * split into lines (LF or CRLF; invalid UTF-8 becomes U+FFFD and is reported on lines that
 * fail to parse); a line longer than MAX_LINE characters is never buffered whole — it is cut,
 * skipped to its end and reported as a gap. Records come out in input order, in batches.
 */
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '@kreplay/core/errors';
import { TraceLineParser, cutText, type TraceFormat } from './parser.js';
import type { TimestampForm } from './timestamp.js';
import type { FieldPlan, FieldsWanted } from './events.js';
import type { TraceRecord } from '@kreplay/core';

export interface ParseOptions {
  /** `auto` (default) detects every line's layout; `ftrace`/`perf` accept only that one. */
  format?: 'auto' | 'ftrace' | 'perf';
  /** Label put in every record's `source` (a file name; `-` for stdin). */
  source?: string;
  /** Unparseable lines and truncated records throw an InputError instead of becoming gaps. */
  strict?: boolean;
  /**
   * false: leave every event's `fields` empty (payloads are not decoded). For passes that
   * only count events (`kreplay parse --stats`); which lines parse, event names, systems,
   * probe sites, gaps and metadata are exactly the same. Default true. A FieldsWanted
   * predicate decodes the payloads of the events it accepts only (asked once per event
   * name, with its probe site): for consumers that use a few events of many.
   */
  fields?: boolean | FieldsWanted;
  /**
   * trace.dat only: of each wanted event's fields, the ones decoded (the others are left
   * out). For a consumer that reads a few fields of each event (replay); text traces and
   * callers without it get every field.
   */
  fieldPlan?: FieldPlan;
  /** trace.dat only: which ring buffer to read, "" for the top instance (default: the top one, else the first). */
  buffer?: string;
  /**
   * trace.dat only: each pid's thread group (the kernel's saved_tgids, core readSavedTgids), which
   * a trace.dat does not hold: an event of a pid listed gets its `tgid`, as a text trace's `(tgid)`
   * column gives it. Text traces name their own (or none), and ignore it.
   */
  tgids?: ReadonlyMap<number, number>;
  signal?: AbortSignal;
  /** Called after each chunk with the bytes read so far (of the file as stored, compressed or not). */
  onProgress?: (bytesRead: number, totalBytes?: number) => void;
  /** Called once at the end with the totals (for statistics). */
  onDone?: (totals: ParseTotals) => void;
}

export interface ParseTotals {
  /** Input lines. */
  lines: number;
  /** Bytes of text parsed (after decompression). */
  bytes: number;
  /** How timestamps are printed (`usec`, `nsec`, `counter`), from the first event. */
  tsForm?: TimestampForm;
}

/** Input characters per batch of records (small batches: records die young, GC stays cheap). */
const BATCH = 1 << 16;

/** Longest line kept; longer lines are cut and reported (bounded memory). */
export const MAX_LINE = 1 << 20;

const TRACE_DAT_MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

export function isTraceDatMagic(b: Uint8Array): boolean {
  return b.length >= TRACE_DAT_MAGIC.length && TRACE_DAT_MAGIC.every((x, i) => b[i] === x);
}

export function isGzipMagic(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Reject input that is plainly not a text trace, with a message that says what it looks like. */
export function sniffBinary(b: Uint8Array, source: string): void {
  if (isTraceDatMagic(b)) {
    throw new InputError('this looks like a trace.dat (trace-cmd binary), not a text trace', {
      file: source,
      hint: 'give kreplay the file by name so it can read trace.dat itself, or convert it with `trace-cmd report -t -R > trace.txt`',
    });
  }
  if (isGzipMagic(b)) {
    throw new InputError('this is gzip-compressed data', {
      file: source,
      hint: 'give the file by name (kreplay decompresses it), or pipe it through `gunzip -c`',
    });
  }
  const n = Math.min(b.length, 4096);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 9 || (c > 13 && c < 32)) control++;
  }
  if (n >= 16 && control * 10 > n) {
    const elf = b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
    throw new InputError(
      `this looks like a binary file${elf ? ' (an ELF executable)' : ''}, not a text trace: ${Math.round((control * 100) / n)}% of its first ${n} bytes are control characters`,
      {
        file: source,
        hint: 'kreplay reads ftrace text (/sys/kernel/tracing/trace, trace_pipe), `trace-cmd report` and `perf script` output, and trace.dat files',
      },
    );
  }
}

/** Parse a stream of bytes or strings; yields records in input order, in batches. */
export async function* parseTraceBatches(
  input: NodeJS.ReadableStream | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  opts: ParseOptions = {},
  totalBytes?: number,
  bytesRead?: () => number,
): AsyncGenerator<TraceRecord[]> {
  const source = opts.source ?? '-';
  const parser = new TraceLineParser({ source, format: opts.format as TraceFormat, strict: opts.strict, fields: opts.fields });
  const decoder = new StringDecoder('utf8');
  let utf8Pending = false;
  let carry = '';
  let lineNo = 0;
  let bytes = 0;
  let first = true;
  /** A line over MAX_LINE being skipped: its head, its length so far, its number. */
  let skipping: { head: string; length: number; line: number } | undefined;

  /** Parse the lines of text[from, to); a line without its newline yet is carried over. */
  const feed = (text: string, from: number, to: number, out: TraceRecord[]): void => {
    let start = from;
    if (skipping) {
      const nl = text.indexOf('\n', from);
      if (nl < 0 || nl >= to) {
        skipping.length += to - from;
        return;
      }
      skipping.length += nl - from;
      parser.overlong(skipping.head, skipping.length, skipping.line, out);
      skipping = undefined;
      start = nl + 1;
    }
    if (carry.length > 0) {
      const nl = text.indexOf('\n', start);
      if (nl < 0 || nl >= to) {
        carry += text.slice(start, to);
        if (carry.length > MAX_LINE) {
          skipping = { head: cutText(carry), length: carry.length, line: ++lineNo };
          carry = '';
        }
        return;
      }
      parser.line(carry + text.slice(start, nl), ++lineNo, out);
      carry = '';
      start = nl + 1;
    }
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0 || nl >= to) break;
      parser.lineAt(text, start, nl, ++lineNo, out);
      start = nl + 1;
    }
    if (start < to) carry = text.slice(start, to);
    if (carry.length > MAX_LINE) {
      skipping = { head: cutText(carry), length: carry.length, line: ++lineNo };
      carry = '';
    }
  };

  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    opts.signal?.throwIfAborted();
    let text: string;
    if (typeof chunk === 'string') {
      if (first) sniffBinary(Buffer.from(chunk.slice(0, 4096), 'latin1'), source);
      text = chunk;
    } else {
      if (first) sniffBinary(chunk, source);
      // plain ASCII (nearly every trace) skips UTF-8 decoding, unless the decoder still
      // holds the start of a character cut at the end of the previous chunk
      const buf = chunk instanceof Buffer ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (!utf8Pending && isAscii(buf)) text = buf.toString('latin1');
      else {
        text = decoder.write(buf);
        utf8Pending = buf.length > 0 && buf[buf.length - 1]! >= 0x80;
      }
    }
    bytes += chunk.length;
    first = false;
    // records go out in batches of about BATCH characters of input, so they die young
    for (let from = 0; from < text.length;) {
      let to = text.length;
      if (to - from > BATCH) {
        const nl = text.indexOf('\n', from + BATCH);
        if (nl >= 0) to = nl + 1;
      }
      const out: TraceRecord[] = [];
      feed(text, from, to, out);
      if (out.length > 0) yield out;
      from = to;
    }
    opts.onProgress?.(bytesRead ? bytesRead() : bytes, totalBytes);
  }
  const out: TraceRecord[] = [];
  const tail = decoder.end();
  if (tail) feed(tail, 0, tail.length, out);
  if (skipping) parser.overlong(skipping.head, skipping.length, skipping.line, out);
  if (carry.length > 0) parser.line(carry, ++lineNo, out, true);
  parser.end(out);
  opts.onDone?.({ lines: lineNo, bytes, tsForm: parser.tsForm });
  if (out.length > 0) yield out;
}

/** Flatten batches into a per-record async iterable (no per-record generator overhead). */
export function flatten(batches: AsyncIterator<TraceRecord[]>): AsyncIterable<TraceRecord> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<TraceRecord> {
      let batch: TraceRecord[] = [];
      let i = 0;
      return {
        async next(): Promise<IteratorResult<TraceRecord>> {
          while (i >= batch.length) {
            const r = await batches.next();
            if (r.done) return { done: true, value: undefined };
            batch = r.value;
            i = 0;
          }
          return { done: false, value: batch[i++]! };
        },
        async return(): Promise<IteratorResult<TraceRecord>> {
          await batches.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Parse a stream (bytes or strings) of ftrace/perf text; records in input order. */
export function parseTrace(input: NodeJS.ReadableStream | AsyncIterable<Uint8Array | string>, opts: ParseOptions = {}): AsyncIterable<TraceRecord> {
  return flatten(parseTraceBatches(input, opts));
}

/** Parse a whole trace held in a string. */
export function parseTraceString(text: string, opts: ParseOptions = {}): TraceRecord[] {
  const source = opts.source ?? '<string>';
  sniffBinary(Buffer.from(text.slice(0, 4096), 'latin1'), source);
  const parser = new TraceLineParser({ source, format: opts.format as TraceFormat, strict: opts.strict, fields: opts.fields });
  const out: TraceRecord[] = [];
  let start = 0;
  let lineNo = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    if (nl - start > MAX_LINE) parser.overlong(cutText(text.slice(start, start + MAX_LINE)), nl - start, ++lineNo, out);
    else parser.lineAt(text, start, nl, ++lineNo, out);
    start = nl + 1;
  }
  if (start < text.length) parser.line(text.slice(start), ++lineNo, out, true);
  parser.end(out);
  opts.onDone?.({ lines: lineNo, bytes: text.length, tsForm: parser.tsForm });
  return out;
}
