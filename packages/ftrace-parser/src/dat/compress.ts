/**
 * Decompression of trace.dat v7 sections and CPU-data chunks. zlib comes from node:zlib;
 * zstd from fzstd (pure JS, no native build; node 20's zlib has no zstd). See
 * docs/trace-dat.md for why.
 */
import { inflateSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';

export type Decompressor = (data: Buffer, size: number) => Buffer;

export const SUPPORTED_COMPRESSION = ['none', 'zlib', 'zstd'];

/** The decompressor for the file header's algorithm name, or undefined when unsupported. */
export function decompressorFor(name: string): Decompressor | undefined {
  switch (name) {
    case 'zlib':
      return (data, size) => inflateSync(data, { maxOutputLength: Math.max(size, 1) });
    case 'zstd':
      return (data, size) => {
        const out = zstdDecompress(data, new Uint8Array(size));
        return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      };
    default:
      return undefined;
  }
}
