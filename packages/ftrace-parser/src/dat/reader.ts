/**
 * readTraceDat: trace.dat → TraceRecords. Metadata first (TraceMeta), then every CPU's
 * ring-buffer pages decoded a block at a time and merged by timestamp (ties: lower CPU
 * first, as trace-cmd report orders them), with bounded memory per CPU. Lost events,
 * corrupt pages and a truncated tail become Gaps; a broken container is an InputError.
 */
import { InputError } from '@kreplay/core/errors';
import type { ParseOptions } from '../stream.js';
import type { Gap, TraceEvent, TraceMeta, TraceRecord } from '@kreplay/core';
import { DatFormatError, readContainer, type DatBuffer, type DatFile } from './container.js';
import { CpuStream } from './cpu-stream.js';
import { EventDecoder } from './decode.js';
import { PageDecoder, type Ts } from './ring-buffer.js';
import { FileSource } from './source.js';

export interface DatOptions extends ParseOptions {
  /** Every event's raw format fields instead of the text parser's decoded fields. */
  rawFields?: boolean;
  /**
   * reportTraceDat: print each event's `print fmt` evaluated (`trace-cmd report -N -t`)
   * instead of its raw fields (`trace-cmd report -R -t`).
   */
  rendered?: boolean;
  /** Records mode: ring-buffer pages decoded at a time per CPU (default DECODE_PAGES; tests compare sizes). */
  decodePages?: number;
}

function toInputError(e: unknown, path: string): unknown {
  if (e instanceof DatFormatError) {
    return new InputError(`${e.message}${e.offset !== undefined ? ` (at byte ${e.offset})` : ''}`, {
      file: path,
      hint: e.hint ?? 'check that this is a complete trace-cmd trace.dat',
      cause: e,
    });
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new InputError('no such file', { file: path, hint: 'check the path' });
  if (code === 'EACCES' || code === 'EPERM') return new InputError('permission denied', { file: path, hint: 'make the file readable' });
  if (code === 'EISDIR') return new InputError('this is a directory, not a trace', { file: path, hint: 'give the trace.dat file itself' });
  return e;
}

/**
 * Records yielded at a time. A consumer (replay) reads each record soon after it was decoded
 * while the batch is small: with 4,096 (~1 MB of records, fields and timestamps) the first
 * ones had left the CPU's cache by the time the batch was handed out, and every record was
 * fetched again. 512 is about what a text trace's 64 KiB chunk holds (stream.ts).
 */
export const YIELD_RECORDS = 512;

/** The merged record batches of a trace.dat (see readTraceDat). */
export async function* readTraceDatBatches(path: string, opts: DatOptions = {}): AsyncGenerator<TraceRecord[]> {
  const session = await openSession(path, opts, false);
  try {
    let n = 0;
    for (const m of session.meta) m.line = ++n;
    yield session.meta;
    await Promise.all(session.streams.map((s) => s.fill()));
    const live = session.streams.filter((s) => s.left > 0);
    let out: TraceRecord[] = [];
    for (;;) {
      const pick = nextRun(live);
      if (!pick) break;
      const { best, limit, yieldsTie } = pick;
      // take from it while it stays older than every other head
      const batch = best.batch;
      let i = best.i;
      for (;;) {
        const rec = batch[i++]!;
        rec.line = ++n;
        out.push(rec);
        if (i >= batch.length) break;
        if (limit === undefined) continue;
        const t = (batch[i] as TraceEvent | Gap).ts!;
        if (t > limit || (t === limit && !yieldsTie)) break;
      }
      best.i = i;
      if (out.length >= YIELD_RECORDS) {
        yield out;
        out = [];
      }
      if (best.left === 0) await refill(live, best);
    }
    if (out.length > 0) yield out;
    session.done(n);
  } finally {
    await session.src.close();
  }
}

/**
 * The file rendered as `trace-cmd report -R -t` lines (`rendered`: `-N -t`), as chunks of
 * whole lines: `cpus=N`, then every CPU's lines merged by timestamp. No record object is
 * made per event: lines are copied from each CPU's block straight into the output.
 */
export async function* readDatLines(path: string, opts: DatOptions = {}): AsyncGenerator<Buffer> {
  const session = await openSession(path, opts, true);
  try {
    const cpus = session.file.meta.find(([k]) => k === 'cpus')?.[1];
    let out = Buffer.allocUnsafe(1 << 18);
    let len = out.write(`cpus=${cpus ?? 0}\n`, 0, 'latin1');
    await Promise.all(session.streams.map((s) => s.fill()));
    const live = session.streams.filter((s) => s.left > 0);
    let lines = 0;
    for (;;) {
      const pick = nextRun(live);
      if (!pick) break;
      const { best, limit, yieldsTie } = pick;
      const ts = best.lineTs;
      const ends = best.lineEnd;
      let i = best.i;
      const from = i === 0 ? 0 : ends[i - 1]!;
      // the run of lines older than every other head, copied in one piece
      for (;;) {
        i++;
        if (i >= ts.length || limit === undefined) {
          if (i >= ts.length) break;
          continue;
        }
        const t = ts[i]!;
        if (t > limit || (t === limit && !yieldsTie)) break;
      }
      const to = ends[i - 1]!;
      lines += i - best.i;
      best.i = i;
      if (len + (to - from) > out.length) {
        if (len > 0) yield out.subarray(0, len);
        out = Buffer.allocUnsafe(Math.max(1 << 18, to - from));
        len = 0;
      }
      const src = best.sink.buf;
      if (to - from < 512) {
        // most runs are a line or two (the CPUs interleave): a loop beats Buffer#copy's call
        for (let k = from; k < to; k++) out[len++] = src[k]!;
      } else len += src.copy(out, len, from, to);
      if (best.left === 0) await refill(live, best);
    }
    if (len > 0) yield out.subarray(0, len);
    session.done(lines);
  } finally {
    await session.src.close();
  }
}

/** An open trace.dat: its container, metadata records and one stream per CPU with data. */
interface Session {
  file: DatFile;
  src: FileSource;
  meta: TraceRecord[];
  streams: CpuStream[];
  /** Report the totals (onDone). */
  done(lines: number): void;
}

async function openSession(path: string, opts: DatOptions, lines: boolean): Promise<Session> {
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
    const source = opts.source ?? path;
    const meta: TraceRecord[] = file.meta.map(([key, value]): TraceMeta => ({ type: 'meta', key, value, line: 0, source }));
    const buffer = pickBuffer(file, opts.buffer);
    for (const other of file.buffers) {
      if (other !== buffer)
        meta.push({
          type: 'meta',
          key: 'buffer-not-read',
          value: `instance "${other.name}" (${other.cpus.length} CPUs)`,
          line: 0,
          source,
        });
    }
    if (buffer && buffer.name !== '') {
      meta.push({ type: 'meta', key: 'buffer', value: buffer.name, line: 0, source });
      // The file's trace clock is the top buffer's: trace-cmd writes the top instance's trace_clock
      // into the TRACECLOCK option and into every buffer's option alike (trace-cmd 3.4
      // lib/trace-cmd/trace-output.c get_clock, "the trace clock of the top instance"), while an
      // instance keeps a trace_clock of its own (`trace-cmd record -B NAME -C CLOCK` sets it per
      // instance, tracecmd/trace-record.c:6682-6701; a new instance's is `local`). So it does not
      // name the clock of the events read here: passed on as the top's, never as theirs.
      const i = meta.findIndex((r) => r.type === 'meta' && r.key === 'clock');
      if (i >= 0) meta.push({ ...(meta.splice(i, 1)[0] as TraceMeta), key: 'top-clock' });
    }
    let streams: CpuStream[] = [];
    if (buffer) {
      const decoder = new EventDecoder(file, source);
      decoder.raw = opts.rawFields === true;
      decoder.fields = opts.fields ?? true;
      decoder.plan = opts.fieldPlan;
      decoder.tgids = opts.tgids;
      const pageSize = buffer.pageSize || file.pageSize;
      const pages = new PageDecoder(file.pageHeader, file.littleEndian, pageSize);
      let bytesRead = 0;
      const progress = (k: number): void => {
        bytesRead += k;
        opts.onProgress?.(bytesRead, file.fileSize);
      };
      streams = buffer.cpus
        .filter((cd) => cd.size > 0)
        .map((cd) => new CpuStream(cd.cpu, cd, src, file, buffer, pages, decoder, pageSize, { ...opts, source }, progress, lines));
    }
    return {
      file,
      src,
      meta,
      streams,
      done: (n) => opts.onDone?.({ lines: n, bytes: file.fileSize, tsForm: file.rawTimestamps ? 'counter' : 'nsec' }),
    };
  } catch (e) {
    await src.close();
    throw e;
  }
}

/**
 * The stream whose head is oldest (ties: the lower CPU, as trace-cmd orders them), and the
 * head it may run up to: the next-oldest head among the others (`yieldsTie`: it may take
 * records at exactly that time too, being the lower CPU). Undefined when all are drained.
 */
function nextRun(live: CpuStream[]): { best: CpuStream; limit: Ts | undefined; yieldsTie: boolean } | undefined {
  if (live.length === 0) return undefined;
  let best = live[0]!;
  for (let k = 1; k < live.length; k++) if (live[k]!.headTs < best.headTs) best = live[k]!;
  let limit: Ts | undefined;
  let limitCpu = 0;
  for (const s of live) {
    if (s === best) continue;
    const t = s.headTs;
    if (limit === undefined || t < limit || (t === limit && s.cpu < limitCpu)) {
      limit = t;
      limitCpu = s.cpu;
    }
  }
  return { best, limit, yieldsTie: best.cpu < limitCpu };
}

/** Refill a drained stream; drop it from `live` when its data has ended. */
async function refill(live: CpuStream[], s: CpuStream): Promise<void> {
  await s.fill();
  if (s.left === 0) live.splice(live.indexOf(s), 1);
}

function pickBuffer(file: DatFile, name: string | undefined): DatBuffer | undefined {
  if (name !== undefined) {
    const b = file.buffers.find((x) => x.name === name);
    if (!b) {
      throw new InputError(`the file has no ring buffer named "${name}"`, {
        file: file.path,
        hint: `its buffers are: ${file.buffers.map((x) => `"${x.name}"`).join(', ') || 'none'}`,
      });
    }
    return b;
  }
  return (
    file.buffers.find((x) => x.name === '' && x.cpus.some((c) => c.size > 0)) ?? file.buffers.find((x) => x.cpus.some((c) => c.size > 0)) ?? file.buffers[0]
  );
}
