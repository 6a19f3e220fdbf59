/**
 * One CPU's ring-buffer pages, read a block at a time so memory stays bounded whatever the
 * file size: up to BLOCK_PAGES pages of raw data, or one compressed chunk (v7: a u32 chunk
 * count, then per chunk u32 compressed size, u32 uncompressed size, data).
 */
import { ByteReader, ShortRead } from './bytes.js';
import type { CpuData, DatFile } from './container.js';
import type { FileSource } from './source.js';

/** Pages read at once (1 MiB of 4 KiB pages): few reads, bounded memory (two blocks per CPU). */
const BLOCK_PAGES = 64;
/** Largest uncompressed CPU-data chunk believed. */
const MAX_CHUNK = 1 << 28;
/** Bytes of compressed CPU data read at once. */
const WINDOW = 1 << 20;

export type CpuBlock =
  | { kind: 'pages'; data: Buffer; /** file offset of the block, or -1 inside a compressed chunk */ fileOffset: number; chunk?: number }
  | { kind: 'truncated'; reason: string };

export async function* cpuBlocks(src: FileSource, file: DatFile, cd: CpuData, compressed: boolean, pageSize: number): AsyncGenerator<CpuBlock> {
  if (cd.size === 0) return;
  if (!compressed) {
    const end = cd.offset + cd.size;
    const avail = Math.min(end, src.size);
    const block = pageSize * BLOCK_PAGES;
    // two buffers in turn: a block is decoded completely before the read after the next
    // one starts (one block is read ahead), and nothing decoded refers to its bytes
    const bufs = [Buffer.allocUnsafe(Math.min(block, cd.size)), Buffer.allocUnsafe(Math.min(block, cd.size))];
    let k = 0;
    for (let pos = cd.offset; pos < avail; pos += block) {
      const n = Math.min(block, avail - pos);
      const whole = n - (n % pageSize);
      k ^= 1;
      if (whole > 0) yield { kind: 'pages', data: await src.readAt(pos, whole, bufs[k]), fileOffset: pos };
      if (whole < n) {
        yield { kind: 'truncated', reason: `CPU ${cd.cpu}'s data ends in the middle of a page at byte ${pos + n}` };
        return;
      }
    }
    if (avail < end) yield { kind: 'truncated', reason: `CPU ${cd.cpu}'s data should run to byte ${end} but the file ends at byte ${src.size}` };
    return;
  }
  const decompress = file.decompress!;
  // compressed chunks are small (trace-cmd writes ~10 pages each): read the stream through a
  // window so that every chunk does not cost two reads
  const end = Math.min(cd.offset + cd.size, src.size);
  let win: Buffer = Buffer.alloc(0);
  let winAt = 0;
  const bytes = async (pos: number, n: number): Promise<Buffer> => {
    if (pos < winAt || pos + n > winAt + win.length) {
      win = await src.readUpTo(pos, Math.max(n, Math.min(WINDOW, end - pos)));
      winAt = pos;
      if (win.length < n) throw new ShortRead(pos, n, pos + win.length);
    }
    return win.subarray(pos - winAt, pos - winAt + n);
  };
  let pos = cd.offset;
  let count: number;
  try {
    count = new ByteReader(await bytes(pos, 4), file.littleEndian).u32();
  } catch (e) {
    if (e instanceof ShortRead) {
      yield { kind: 'truncated', reason: `CPU ${cd.cpu}'s compressed data starts past the end of the file (byte ${pos})` };
      return;
    }
    throw e;
  }
  pos += 4;
  for (let chunk = 0; chunk < count; chunk++) {
    let data: Buffer;
    let usize: number;
    try {
      const h = new ByteReader(await bytes(pos, 8), file.littleEndian);
      const csize = h.u32();
      usize = h.u32();
      data = await bytes(pos + 8, csize);
      pos += 8 + csize;
    } catch (e) {
      if (e instanceof ShortRead) {
        yield { kind: 'truncated', reason: `CPU ${cd.cpu}'s compressed chunk ${chunk + 1} of ${count} is cut off by the end of the file` };
        return;
      }
      throw e;
    }
    if (usize > MAX_CHUNK) {
      yield {
        kind: 'truncated',
        reason: `CPU ${cd.cpu}'s compressed chunk ${chunk + 1} of ${count} claims ${usize} bytes uncompressed (trace-cmd writes chunks of a few pages)`,
      };
      return;
    }
    let pages: Buffer;
    try {
      pages = decompress(data, usize);
    } catch (e) {
      yield { kind: 'truncated', reason: `CPU ${cd.cpu}'s compressed chunk ${chunk + 1} of ${count} does not decompress (${(e as Error).message})` };
      return;
    }
    const whole = pages.length - (pages.length % pageSize);
    if (whole > 0) yield { kind: 'pages', data: whole === pages.length ? pages : pages.subarray(0, whole), fileOffset: -1, chunk };
    if (pages.length !== usize || whole !== pages.length) {
      yield {
        kind: 'truncated',
        reason: `CPU ${cd.cpu}'s compressed chunk ${chunk + 1} of ${count} holds ${pages.length} bytes, not the ${usize} (whole ${pageSize}-byte pages) its header says`,
      };
      return;
    }
  }
}
