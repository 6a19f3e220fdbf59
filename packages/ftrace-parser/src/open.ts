/**
 * openTrace: the one entry point every command uses. A path or `-` (stdin); gzip is
 * detected by its magic bytes and decompressed on the fly; a trace.dat is handed to the
 * binary reader.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from './errors.js';
import { readTraceDatBatches } from './dat/index.js';
import { flatten, isGzipMagic, isTraceDatMagic, parseTraceBatches, type ParseOptions } from './stream.js';
import type { TraceRecord } from './types.js';

const CHUNK = 1 << 16;
/** Plain files are read 256 KiB at a time (records still go out per 64 KiB of text). */
const READ_CHUNK = 1 << 18;

async function readHead(path: string): Promise<{ head: Uint8Array; size: number }> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new InputError(`cannot open trace: ${what}`, { file: path, hint: 'give the path of a trace file, or - to read stdin', cause: e });
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new InputError('cannot open trace: is a directory', { file: path, hint: 'give the path of a trace file' });
    const buf = Buffer.alloc(16);
    const { bytesRead } = await fh.read(buf, 0, 16, 0);
    return { head: buf.subarray(0, bytesRead), size: st.size };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new InputError('cannot open trace: is a directory', { file: path, hint: 'give the path of a trace file' });
    throw e;
  } finally {
    await fh.close();
  }
}

/** stdin, gunzipped when it starts with the gzip magic. */
async function* stdinChunks(): AsyncGenerator<Uint8Array> {
  const it = process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done) return;
  const rest = { [Symbol.asyncIterator]: () => it };
  if (!isGzipMagic(first.value)) {
    yield first.value;
    yield* rest as AsyncIterable<Buffer>;
    return;
  }
  const gunzip = createGunzip();
  const raw = Readable.from((async function* () {
    yield first.value;
    yield* rest as AsyncIterable<Buffer>;
  })());
  yield* raw.pipe(gunzip) as AsyncIterable<Buffer>;
}

/**
 * The file's bytes in chunks, double-buffered: the next read is already under way while
 * the parser works on the current chunk (which it decodes to a string before asking for the
 * next, so each of the two buffers is free again when it is reused).
 */
async function* fileChunks(path: string, counter: { bytes: number }): AsyncGenerator<Uint8Array> {
  const fh = await fsp.open(path, 'r');
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
      yield current.subarray(0, bytesRead);
    }
  } finally {
    await pending?.catch(() => undefined);
    await fh.close();
  }
}

/** Batched form of openTrace (for consumers that want speed over convenience). */
export async function* openTraceBatches(path: string, opts: ParseOptions = {}): AsyncGenerator<TraceRecord[]> {
  const source = opts.source ?? path;
  const o = { ...opts, source };
  if (path === '-') {
    yield* parseTraceBatches(stdinChunks(), o);
    return;
  }
  const { head, size } = await readHead(path);
  if (isTraceDatMagic(head)) {
    yield* readTraceDatBatches(path, o);
    return;
  }
  if (!isGzipMagic(head)) {
    const counter = { bytes: 0 };
    yield* parseTraceBatches(fileChunks(path, counter), o, size, () => counter.bytes);
    return;
  }
  const file = createReadStream(path, { highWaterMark: CHUNK });
  const bytesRead = (): number => file.bytesRead;
  try {
    const gunzip = createGunzip({ chunkSize: CHUNK });
    file.on('error', (e) => gunzip.destroy(e));
    yield* parseTraceBatches(file.pipe(gunzip), o, size, bytesRead);
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('Z_')) {
      throw new InputError(`the gzip data is corrupt or cut: ${(e as Error).message}`, { file: path, hint: 'check the file with `gzip -t`', cause: e });
    }
    throw e;
  } finally {
    file.destroy();
  }
}

/**
 * Open a trace by path (`-` for stdin) and yield its records in input order. Text traces
 * (ftrace, trace_pipe, trace-cmd report, perf script), gzip-compressed or not, and trace.dat.
 */
export function openTrace(path: string, opts: ParseOptions = {}): AsyncIterable<TraceRecord> {
  return flatten(openTraceBatches(path, opts));
}
