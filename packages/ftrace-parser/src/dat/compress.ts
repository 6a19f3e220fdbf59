/**
 * Decompression of trace.dat v7 sections and CPU-data chunks. zlib comes from node:zlib;
 * zstd from zstddec (the reference zstd decoder built to WebAssembly: no native build,
 * 15-20× faster than a pure-JS decoder on trace pages; node 20's zlib has no zstd). See
 * docs/trace-dat.md for the choice.
 */
import { inflateSync } from 'node:zlib';
import type { ZSTDDecoder } from 'zstddec';

/** Decompress `data` into exactly `size` bytes; throws when the data is corrupt. */
export type Decompressor = (data: Buffer, size: number) => Buffer;

export const SUPPORTED_COMPRESSION = ['none', 'zlib', 'zstd'];

let zstd: ZSTDDecoder | undefined;

/** The decompressor for the file header's algorithm name, or undefined when unsupported. */
export async function decompressorFor(name: string): Promise<Decompressor | undefined> {
  switch (name) {
    case 'zlib':
      return (data, size) => inflateSync(data, { maxOutputLength: Math.max(size, 1) });
    case 'zstd': {
      if (!zstd) {
        // loaded on first use: most files are not zstd-compressed, and every start pays for a module
        const { ZSTDDecoder: Decoder } = await import('zstddec');
        const d = new Decoder();
        await d.init();
        zstd = d;
      }
      const dec = zstd;
      return (data, size) => {
        const out = dec.decode(data, size);
        // ZSTD_decompress reports errors as sizes near 2^32, which never match
        if (out.byteLength !== size) throw new Error(`zstd data decompresses to ${out.byteLength} bytes, not ${size}`);
        return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      };
    }
    default:
      return undefined;
  }
}
