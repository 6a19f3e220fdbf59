/**
 * One CPU's records: its ring-buffer pages read a block at a time (one more block read
 * ahead), decoded into TraceEvents — or rendered as report lines — with the page header's
 * lost events, corrupt pages and a truncated tail turned into Gaps.
 */
import { InputError } from '@kreplay/core';
import type { Gap, TraceEvent, TraceRecord } from '@kreplay/core';
import { ByteSink } from './byte-sink.js';
import { cpuBlocks, type CpuBlock } from './cpu-data.js';
import type { CpuData, DatBuffer, DatFile } from './container.js';
import type { EventDecoder } from './decode.js';
import type { DatOptions } from './reader.js';
import type { PageDecoder, PageSink } from './ring-buffer.js';
import type { FileSource } from './source.js';

/** An event already rendered as a `trace-cmd report -R -t` line: `sink.buf[start, end)`. */
export interface RawLine {
  type: 'line';
  ts: bigint;
  cpu: number;
  line: number;
  sink: ByteSink;
  start: number;
  end: number;
}

export type DatRecord = TraceRecord | RawLine;

/** Records decoded from one CPU's pages, refilled a block at a time. */
export class CpuStream implements PageSink {
  batch: DatRecord[] = [];
  /** Lines mode: events are rendered into this block's sink instead of decoded. */
  private sink?: ByteSink;
  i = 0;
  done = false;
  lastTs = 0n;
  private pendingGap?: Gap;
  private pageTs = 0n;
  private where = '';
  private readonly blocks: AsyncGenerator<CpuBlock>;
  private ahead?: Promise<IteratorResult<CpuBlock>>;

  constructor(
    readonly cpu: number,
    private readonly cd: CpuData,
    private readonly src: FileSource,
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
  }

  get headTs(): bigint {
    return (this.batch[this.i] as TraceEvent | Gap | RawLine).ts!;
  }

  /** Decode blocks until there is something to merge or the CPU's data ends. */
  async fill(): Promise<void> {
    this.batch = [];
    this.i = 0;
    if (this.lines) this.sink = new ByteSink(); // the previous block's lines stay with their records
    while (this.batch.length === 0 && !this.done) {
      this.opts.signal?.throwIfAborted();
      const r = await (this.ahead ?? this.blocks.next());
      this.ahead = undefined;
      if (r.done) {
        this.done = true;
        break;
      }
      // read the next block while this one is decoded (one block ahead per CPU)
      this.ahead = this.blocks.next();
      this.ahead.catch(() => undefined); // surfaces at the next fill; not unhandled if reading stops first
      const b = r.value;
      if (b.kind === 'truncated') {
        this.gap('truncated', b.reason, this.lastTs);
        continue;
      }
      this.progress(b.fileOffset >= 0 ? b.data.length : 0);
      for (let at = 0; at < b.data.length; at += this.pageSize) {
        this.where = b.fileOffset >= 0 ? `file offset ${b.fileOffset + at}` : `compressed chunk ${b.chunk! + 1}, page ${at / this.pageSize + 1}`;
        this.pageTs = 0n;
        this.pages.decode(b.data, at, this);
        if (this.pendingGap) {
          this.pendingGap.ts = this.pageTs;
          this.pendingGap = undefined;
        }
      }
    }
  }

  private gap(kind: Gap['kind'], reason: string, ts: bigint | undefined, lost?: number): Gap {
    if (this.opts.strict && kind !== 'lost-events') {
      throw new InputError(`CPU ${this.cpu}: ${reason}`, { file: this.file.path, hint: 'without --strict this becomes a gap in the trace and reading goes on' });
    }
    const g: Gap = { type: 'gap', kind, cpu: this.cpu, line: 0, source: this.source, reason };
    if (lost !== undefined) g.lost = lost;
    if (ts !== undefined) g.ts = ts;
    this.batch.push(g);
    return g;
  }

  private get source(): string {
    return this.opts.source ?? this.file.path;
  }

  event(ts: bigint, page: Buffer, start: number, end: number): void {
    const t = this.file.tsOffset === 0n ? ts : ts + this.file.tsOffset;
    if (this.pendingGap) {
      this.pendingGap.ts = t;
      this.pendingGap = undefined;
    }
    this.lastTs = t;
    const id = this.decoder.eventId(page, start, end);
    const fmt = id === undefined ? undefined : this.decoder.format(id);
    if (!fmt) {
      this.gap('unparseable', id === undefined ? `an event of ${end - start} bytes too short to hold an event id (${this.where})` : `event id ${id} has no format in the file (${this.where})`, t);
      return;
    }
    if (this.sink) {
      const at = this.sink.len;
      this.decoder.renderLine(fmt, this.cpu, t, page, start, end, this.sink);
      this.batch.push({ type: 'line', ts: t, cpu: this.cpu, line: 0, sink: this.sink, start: at, end: this.sink.len });
      return;
    }
    this.batch.push(this.decoder.decode(fmt, this.cpu, t, page, start, end));
  }

  missed(lost: number | undefined, pageTs: bigint): void {
    this.pageTs = this.file.tsOffset === 0n ? pageTs : pageTs + this.file.tsOffset;
    const reason = lost === undefined
      ? `the ring buffer lost events on CPU ${this.cpu} before this page (count not recorded)`
      : `the ring buffer lost ${lost} events on CPU ${this.cpu} before this page`;
    this.pendingGap = this.gap('lost-events', reason, undefined, lost);
  }

  bad(reason: string): void {
    this.gap('unparseable', `a corrupt ring-buffer page (${this.where}): ${reason}; the rest of the page is skipped`, this.lastTs);
  }
}
