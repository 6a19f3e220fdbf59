/**
 * openTrace: the one entry point every command uses. A path or `-` (stdin); gzip is
 * detected by its magic bytes and decompressed on the fly; a trace.dat is handed to the
 * binary reader.
 */
import { promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError, readErrorWhy } from '@kreplay/core/errors';
import { readTraceDatBatches } from './dat/index.js';
import { flatten, isGzipMagic, isTraceDatMagic, parseTraceBatches, type ParseOptions } from './stream.js';
import { oneLine } from '@kreplay/core/escape';
import type { TraceRecord } from '@kreplay/core';

const CHUNK = 1 << 16;
/** Plain files are read 256 KiB at a time (records still go out per 64 KiB of text). */
const READ_CHUNK = 1 << 18;

/** Open a trace file, with the errors a user can fix as InputErrors. */
async function openFile(path: string): Promise<{ fh: fsp.FileHandle; size: number; seekable: boolean }> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    throw new InputError(`cannot open trace: ${readErrorWhy(e)}`, { file: path, hint: 'give the path of a trace file, or - to read stdin', cause: e });
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new InputError('cannot open trace: it is a folder', { file: path, hint: 'give the path of a trace file' });
    // pipes, FIFOs and files that report no size (tracefs `trace_pipe`, /proc) are read once,
    // front to back: peeking at them would consume what it read
    return { fh, size: st.size, seekable: st.isFile() && st.size > 0 };
  } catch (e) {
    await fh.close();
    if ((e as NodeJS.ErrnoException).code === 'EISDIR')
      throw new InputError('cannot open trace: is a directory', { file: path, hint: 'give the path of a trace file' });
    throw e;
  }
}

/** A byte stream, gunzipped when it starts with the gzip magic (stdin, pipes). */
async function* maybeGunzip(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest = { [Symbol.asyncIterator]: () => it };
  if (!isGzipMagic(first.value)) {
    yield first.value;
    yield* rest as AsyncIterable<Uint8Array>;
    return;
  }
  const raw = Readable.from(
    (async function* () {
      yield first.value;
      yield* rest as AsyncIterable<Uint8Array>;
    })(),
  );
  yield* raw.pipe(createGunzip()) as AsyncIterable<Buffer>;
}

/**
 * The file's bytes in chunks, double-buffered: the next read is already under way while
 * the parser works on the current chunk (which it decodes to a string before asking for the
 * next, so each of the two buffers is free again when it is reused).
 */
async function* fileChunks(fh: fsp.FileHandle, counter: { bytes: number }, copy = false): AsyncGenerator<Uint8Array> {
  const bufs = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  let k = 0;
  let pending: Promise<{ bytesRead: number }> | undefined = fh.read(bufs[0]!, 0, READ_CHUNK, null);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) return;
      counter.bytes += bytesRead;
      const current = bufs[k]!;
      k ^= 1;
      pending = fh.read(bufs[k]!, 0, READ_CHUNK, null);
      // a consumer that buffers chunks (a pipe into zlib) gets copies
      yield copy ? Buffer.from(current.subarray(0, bytesRead)) : current.subarray(0, bytesRead);
    }
  } finally {
    await pending?.catch(() => undefined);
  }
}

/** Batched form of openTrace (for consumers that want speed over convenience). */
export async function* openTraceBatches(path: string, opts: ParseOptions = {}): AsyncGenerator<TraceRecord[]> {
  const source = opts.source ?? oneLine(path);
  const o = { ...opts, source };
  if (path === '-') {
    yield* parseTraceBatches(maybeGunzip(process.stdin), o);
    return;
  }
  const { fh, size, seekable } = await openFile(path);
  try {
    if (!seekable) {
      yield* parseTraceBatches(maybeGunzip(fh.createReadStream({ highWaterMark: CHUNK, autoClose: false })), o);
      return;
    }
    const headBuf = Buffer.alloc(16);
    const { bytesRead: headLength } = await fh.read(headBuf, 0, 16, 0);
    const head = headBuf.subarray(0, headLength);
    if (isTraceDatMagic(head)) {
      yield* readTraceDatBatches(path, o);
      return;
    }
    const counter = { bytes: 0 };
    if (!isGzipMagic(head)) {
      yield* parseTraceBatches(fileChunks(fh, counter), o, size, () => counter.bytes);
      return;
    }
    try {
      const gunzip = createGunzip({ chunkSize: CHUNK });
      const compressed = Readable.from(fileChunks(fh, counter, true), { objectMode: false });
      compressed.on('error', (e) => gunzip.destroy(e));
      yield* parseTraceBatches(compressed.pipe(gunzip), o, size, () => counter.bytes);
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith('Z_')) {
        throw new InputError(`the gzip data is corrupt or cut: ${(e as Error).message}`, { file: path, hint: 'check the file with `gzip -t`', cause: e });
      }
      throw e;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Open a trace by path (`-` for stdin) and yield its records in input order. Text traces
 * (ftrace, trace_pipe, trace-cmd report, perf script), gzip-compressed or not, and trace.dat.
 */
export function openTrace(path: string, opts: ParseOptions = {}): AsyncIterable<TraceRecord> {
  return flatten(openTraceBatches(path, opts));
}
