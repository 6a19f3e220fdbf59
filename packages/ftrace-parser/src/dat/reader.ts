/**
 * readTraceDat: trace.dat → TraceRecords. Metadata first (TraceMeta), then every CPU's
 * ring-buffer pages decoded a block at a time and merged by timestamp (ties: lower CPU
 * first, as trace-cmd report orders them), with bounded memory per CPU. Lost events,
 * corrupt pages and a truncated tail become Gaps; a broken container is an InputError.
 */
import { InputError } from '@kreplay/core';
import type { ParseOptions } from '../stream.js';
import type { Gap, TraceEvent, TraceMeta, TraceRecord } from '@kreplay/core';
import { DatFormatError, readContainer, type DatBuffer, type DatFile } from './container.js';
import { CpuStream, type DatRecord, type RawLine } from './cpu-stream.js';
import { EventDecoder } from './decode.js';
import { PageDecoder } from './ring-buffer.js';
import { FileSource } from './source.js';

export type { DatRecord, RawLine } from './cpu-stream.js';

export interface DatOptions extends ParseOptions {
  /** Which ring buffer to read: "" is the top instance (default: the top one, else the first). */
  buffer?: string;
  /** Every event's raw format fields instead of the text parser's decoded fields. */
  rawFields?: boolean;
}

function toInputError(e: unknown, path: string): unknown {
  if (e instanceof DatFormatError) {
    return new InputError(`${e.message}${e.offset !== undefined ? ` (at byte ${e.offset})` : ''}`, { file: path, hint: e.hint ?? 'check that this is a complete trace-cmd trace.dat', cause: e });
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new InputError('no such file', { file: path, hint: 'check the path' });
  if (code === 'EACCES' || code === 'EPERM') return new InputError('permission denied', { file: path, hint: 'make the file readable' });
  if (code === 'EISDIR') return new InputError('this is a directory, not a trace', { file: path, hint: 'give the trace.dat file itself' });
  return e;
}

/** The merged record batches of a trace.dat (see readTraceDat). */
/** The merged record batches of a trace.dat (see readTraceDat). */
export function readTraceDatBatches(path: string, opts: DatOptions = {}): AsyncGenerator<TraceRecord[]> {
  return readDat(path, opts, false) as AsyncGenerator<TraceRecord[]>;
}

/**
 * Metadata, then events merged by timestamp: as TraceEvents, or with `lines` as rendered
 * `trace-cmd report -R -t` lines (RawLine); `onFile` sees the container first.
 */
export async function* readDat(path: string, opts: DatOptions, lines: boolean, onFile?: (f: DatFile) => void): AsyncGenerator<DatRecord[]> {
  let src: FileSource;
  try {
    src = await FileSource.open(path);
  } catch (e) {
    throw toInputError(e, path);
  }
  try {
    let file: DatFile;
    try {
      file = await readContainer(src, path);
    } catch (e) {
      throw toInputError(e, path);
    }
    onFile?.(file);
    const source = opts.source ?? path;
    let n = 0;
    const meta: TraceRecord[] = file.meta.map(([key, value]): TraceMeta => ({ type: 'meta', key, value, line: ++n, source }));
    const buffer = pickBuffer(file, opts.buffer);
    for (const other of file.buffers) {
      if (other !== buffer) meta.push({ type: 'meta', key: 'buffer-not-read', value: `instance "${other.name}" (${other.cpus.length} CPUs); read it with the buffer option`, line: ++n, source });
    }
    if (buffer && buffer.name !== '') meta.push({ type: 'meta', key: 'buffer', value: buffer.name, line: ++n, source });
    yield meta;
    if (!buffer) return;
    const decoder = new EventDecoder(file, source);
    decoder.raw = opts.rawFields === true;
    const pageSize = buffer.pageSize || file.pageSize;
    const pages = new PageDecoder(file.pageHeader, file.littleEndian, pageSize);
    let bytesRead = 0;
    const progress = (k: number): void => {
      bytesRead += k;
      opts.onProgress?.(bytesRead, file.fileSize);
    };
    const streams = buffer.cpus
      .filter((cd) => cd.size > 0)
      .map((cd) => new CpuStream(cd.cpu, cd, src, file, buffer, pages, decoder, pageSize, { ...opts, source }, progress, lines));
    await Promise.all(streams.map((s) => s.fill()));
    let live = streams.filter((s) => s.batch.length > 0);
    let out: DatRecord[] = [];
    while (live.length > 0) {
      // the stream with the oldest head; ties go to the lower CPU (streams are in CPU order)
      let best = live[0]!;
      for (let k = 1; k < live.length; k++) if (live[k]!.headTs < best.headTs) best = live[k]!;
      // the next-oldest head among the others, and the lowest CPU holding it
      let second: bigint | undefined;
      let secondCpu = 0;
      for (const s of live) {
        if (s === best) continue;
        const t = s.headTs;
        if (second === undefined || t < second || (t === second && s.cpu < secondCpu)) {
          second = t;
          secondCpu = s.cpu;
        }
      }
      const yieldsTie = best.cpu < secondCpu;
      // take from it while it stays older than every other head
      const batch = best.batch;
      let i = best.i;
      for (;;) {
        const rec = batch[i++]!;
        rec.line = ++n;
        out.push(rec);
        if (i >= batch.length || second === undefined) {
          if (i >= batch.length) break;
          continue;
        }
        const t = (batch[i] as TraceEvent | Gap | RawLine).ts!;
        if (t > second || (t === second && !yieldsTie)) break;
      }
      best.i = i;
      if (out.length >= 4096) {
        yield out;
        out = [];
      }
      if (best.i >= best.batch.length) {
        await best.fill();
        if (best.batch.length === 0) live = live.filter((s) => s !== best);
      }
    }
    if (out.length > 0) yield out;
    const counter = file.clock === 'counter' || file.clock === 'x86-tsc';
    opts.onDone?.({ lines: n, bytes: file.fileSize, tsForm: counter ? 'counter' : 'nsec' });
  } finally {
    await src.close();
  }
}

function pickBuffer(file: DatFile, name: string | undefined): DatBuffer | undefined {
  if (name !== undefined) {
    const b = file.buffers.find((x) => x.name === name);
    if (!b) {
      throw new InputError(`the file has no ring buffer named "${name}"`, { file: file.path, hint: `its buffers are: ${file.buffers.map((x) => `"${x.name}"`).join(', ') || 'none'}` });
    }
    return b;
  }
  return file.buffers.find((x) => x.name === '' && x.cpus.some((c) => c.size > 0)) ?? file.buffers.find((x) => x.cpus.some((c) => c.size > 0)) ?? file.buffers[0];
}
