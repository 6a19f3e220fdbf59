/**
 * One CPU's records: its ring-buffer pages read a block at a time (one more block read
 * ahead), decoded into TraceEvents — or, in lines mode, rendered as report lines — with
 * the page header's lost events, corrupt pages and a truncated tail turned into Gaps.
 *
 * Lines mode keeps no object per event: a block's lines are bytes in one sink, with two
 * parallel arrays (each line's timestamp and end offset) for the merge; a gap is a line of
 * its own (`CPU:1 [12 EVENTS DROPPED]`).
 */
import { InputError, isInputError } from '@kreplay/core/errors';
import type { Gap, TraceRecord } from '@kreplay/core';
import { ByteSink } from './byte-sink.js';
import { cpuBlocks, type CpuBlock } from './cpu-data.js';
import type { CpuData, DatBuffer, DatFile } from './container.js';
import type { EventDecoder } from './decode.js';
import type { DatOptions } from './reader.js';
import type { PageDecoder, PageSink, Ts } from './ring-buffer.js';
import type { FileSource } from './source.js';
import { timestampMapper } from './time.js';
/**
 * Pages decoded at a time in records mode (lines mode decodes a whole block: its lines are
 * bytes, not objects). Few, so that records die young: a record waits in its CPU's batch
 * until the merge reaches it, and records that outlive a scavenge are copied, then promoted
 * — with a whole block (64 pages, thousands of records per CPU) waiting, V8 even began to
 * allocate every record in the old generation (docs/replay.md, "Speed").
 */
export const DECODE_PAGES = 4;

/** Records (or lines) decoded from one CPU's pages, refilled a block at a time. */
export class CpuStream implements PageSink {
  /** Records mode: the block's records. */
  batch: TraceRecord[] = [];
  /** Lines mode: the block's lines, their timestamps and where each ends in `sink`. */
  sink = new ByteSink(0);
  lineTs: Ts[] = [];
  lineEnd: number[] = [];
  /** The next record (or line) to merge. */
  i = 0;
  done = false;
  lastTs: Ts = 0;
  private pendingGap?: Gap;
  /** Lines mode: the index of a lost-events line waiting for the next event's timestamp. */
  private pendingLine = -1;
  private pageTs: Ts = 0;
  private where = '';
  private readonly blocks: AsyncGenerator<CpuBlock>;
  private ahead?: Promise<IteratorResult<CpuBlock>>;
  /** Ring-buffer timestamp → trace-cmd's (host sync, TSC2NSEC, OFFSET/DATE); undefined: kept as they are. */
  private readonly time: ((ts: Ts) => Ts) | undefined;
  /** The block being decoded, and the offset of its next page. */
  private block?: Extract<CpuBlock, { kind: 'pages' }>;
  private pageAt = 0;

  constructor(
    readonly cpu: number,
    cd: CpuData,
    src: FileSource,
    private readonly file: DatFile,
    buffer: DatBuffer,
    private readonly pages: PageDecoder,
    private readonly decoder: EventDecoder,
    private readonly pageSize: number,
    private readonly opts: DatOptions,
    private readonly progress: (n: number) => void,
    private readonly lines: boolean,
  ) {
    this.blocks = cpuBlocks(src, file, cd, buffer.compressed, pageSize);
    this.time = timestampMapper(file.tsc, file.tsOffset, file.hostSync, cpu);
  }

  /** Records or lines left in the current block. */
  get left(): number {
    return (this.lines ? this.lineTs.length : this.batch.length) - this.i;
  }

  get headTs(): Ts {
    return this.lines ? this.lineTs[this.i]! : this.batch[this.i]!.type === 'meta' ? 0n : (this.batch[this.i] as { ts: bigint }).ts;
  }

  /** Decode blocks until there is something to merge or the CPU's data ends. */
  async fill(): Promise<void> {
    this.batch = [];
    this.i = 0;
    if (this.lines) {
      // every line of the previous block has been copied out: its sink is reused
      if (this.sink.buf.length === 0) this.sink = new ByteSink(1 << 16);
      this.sink.len = 0;
      this.lineTs.length = 0;
      this.lineEnd.length = 0;
    }
    while (this.left === 0 && !this.done) {
      const b = this.block;
      if (b && this.pageAt < b.data.length) {
        // the block's next pages: records mode decodes a few at a time, so that a record
        // lives from its decoding to its merge only while the other CPUs catch up with it
        const stop = this.lines ? b.data.length : Math.min(b.data.length, this.pageAt + (this.opts.decodePages ?? DECODE_PAGES) * this.pageSize);
        for (let at = this.pageAt; at < stop; at += this.pageSize) {
          this.where = b.fileOffset >= 0 ? `file offset ${b.fileOffset + at}` : `compressed chunk ${b.chunk! + 1}, page ${at / this.pageSize + 1}`;
          this.pageTs = 0;
          const n = this.pages.decode(b.data, at, this);
          if (n === 0 && this.lines) this.dropLostLine();
          this.settle(this.pageTs);
        }
        this.pageAt = stop;
        continue;
      }
      this.block = undefined;
      this.opts.signal?.throwIfAborted();
      const r = await (this.ahead ?? this.blocks.next());
      this.ahead = undefined;
      if (r.done) {
        this.done = true;
        break;
      }
      // read the next block while this one is decoded (one block ahead per CPU; cpuBlocks
      // reuses a block's buffer only for the read after that, which starts once every page
      // of this one has been decoded)
      this.ahead = this.blocks.next();
      this.ahead.catch(() => undefined); // surfaces at the next fill; not unhandled if reading stops first
      const next = r.value;
      if (next.kind === 'truncated') {
        this.gap('truncated', next.reason, this.lastTs);
        continue;
      }
      this.progress(next.fileOffset >= 0 ? next.data.length : 0);
      this.block = next;
      this.pageAt = 0;
    }
  }

  /** A lost-events gap waiting for a timestamp gets `ts` (the next event's, or its page's). */
  private settle(ts: Ts): void {
    if (this.pendingGap) {
      this.pendingGap.ts = BigInt(ts);
      this.pendingGap = undefined;
    }
    if (this.pendingLine >= 0) {
      this.lineTs[this.pendingLine] = ts;
      this.pendingLine = -1;
    }
  }

  /**
   * Lines mode: the lost-events line of a page that held no event is not printed. trace-cmd
   * reports lost events with the first record read from the page that says so
   * (lib/trace-cmd/trace-input.c:2492, kbuffer_missed_events), so a page without one shows
   * nothing. Records mode keeps the gap: the events were lost all the same.
   */
  private dropLostLine(): void {
    const k = this.pendingLine;
    if (k < 0 || k !== this.lineTs.length - 1) return;
    this.sink.len = k === 0 ? 0 : this.lineEnd[k - 1]!;
    this.lineTs.length = k;
    this.lineEnd.length = k;
    this.pendingLine = -1;
  }

  private gap(kind: Gap['kind'], reason: string, ts: Ts | undefined, lost?: number): void {
    if (this.opts.strict && kind !== 'lost-events') {
      throw new InputError(`CPU ${this.cpu}: ${reason}`, {
        file: this.file.path,
        hint: 'without --strict this becomes a gap in the trace and reading goes on',
      });
    }
    if (this.lines) {
      const text =
        kind === 'lost-events'
          ? lost === undefined
            ? `CPU:${this.cpu} [EVENTS DROPPED]\n`
            : `CPU:${this.cpu} [${lost} EVENTS DROPPED]\n`
          : `CPU:${this.cpu} [${kind}: ${reason}]\n`;
      this.sink.text(text);
      if (ts === undefined) this.pendingLine = this.lineTs.length;
      this.lineTs.push(ts ?? 0);
      this.lineEnd.push(this.sink.len);
      return;
    }
    const g: Gap = { type: 'gap', kind, cpu: this.cpu, line: 0, source: this.source, reason };
    if (lost !== undefined) g.lost = lost;
    if (ts !== undefined) g.ts = BigInt(ts);
    else this.pendingGap = g;
    this.batch.push(g);
  }

  private get source(): string {
    return this.opts.source ?? this.file.path;
  }

  event(ts: Ts, page: Buffer, start: number, end: number): void {
    const t = this.time === undefined ? ts : this.time(ts);
    this.settle(t);
    this.lastTs = t;
    const id = this.decoder.eventId(page, start, end);
    let fmt;
    try {
      fmt = id === undefined ? undefined : this.decoder.format(id);
    } catch (e) {
      this.gap('unparseable', `event id ${id}: ${(e as Error).message} (${this.where})`, t);
      return;
    }
    if (!fmt) {
      this.gap(
        'unparseable',
        id === undefined
          ? `an event of ${end - start} bytes too short to hold an event id (${this.where})`
          : `event id ${id} has no format in the file (${this.where})`,
        t,
      );
      return;
    }
    const sink = this.sink;
    const at = sink.len;
    try {
      if (this.lines) {
        this.decoder.renderLine(fmt, this.cpu, t, page, start, end, sink, this.opts.rendered === true);
        this.lineTs.push(t);
        this.lineEnd.push(sink.len);
      } else this.batch.push(this.decoder.decode(fmt, this.cpu, typeof t === 'bigint' ? t : BigInt(t), page, start, end));
    } catch (e) {
      if (isInputError(e)) throw e;
      // a payload this reader cannot decode must not end the file: it is a gap, said loudly
      if (this.lines) sink.len = at;
      this.gap(
        'unparseable',
        `event ${fmt.system}:${fmt.name} (id ${fmt.id}, ${end - start} bytes, ${this.where}) could not be decoded: ${(e as Error).message ?? String(e)} — a kreplay bug, please report it with the file`,
        t,
      );
    }
  }

  missed(lost: number | undefined, pageTs: Ts): void {
    this.pageTs = this.time === undefined ? pageTs : this.time(pageTs);
    const reason =
      lost === undefined
        ? `the ring buffer lost events on CPU ${this.cpu} before this page (count not recorded)`
        : `the ring buffer lost ${lost} events on CPU ${this.cpu} before this page`;
    this.gap('lost-events', reason, undefined, lost);
  }

  bad(reason: string): void {
    this.gap('unparseable', `a corrupt ring-buffer page (${this.where}): ${reason}; the rest of the page is skipped`, this.lastTs);
  }
}
