/**
 * The trace.dat container: the initial header, v6's linear layout and v7's sections and
 * options (trace-cmd's Documentation/trace-cmd/trace-cmd.dat.v6.5.txt / .v7.5.txt).
 * Reads every piece of metadata and locates each CPU's ring-buffer data; the events
 * themselves are read later, page by page (cpu-data.ts, ring-buffer.ts).
 */
import { ByteReader } from './bytes.js';
import { decompressorFor, SUPPORTED_COMPRESSION } from './compress.js';
import { Kallsyms } from './kallsyms.js';
import { Builder, DatFormatError, section, TRUNCATED_HINT, type DatFile } from './metadata.js';
import type { FileSource } from './source.js';
import { readV6 } from './v6.js';
import { readV7 } from './v7.js';

export { DatFormatError, OPT, type CpuData, type DatBuffer, type DatFile, type PageHeader } from './metadata.js';

export const DAT_MAGIC = Buffer.from([0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67]);

function compressionName(d: { name: string; version: string } | undefined): string {
  return d ? `${d.name} ${d.version}` : 'none';
}

/** Read and check the initial header and all metadata of a trace.dat. */
export async function readContainer(src: FileSource, path: string): Promise<DatFile> {
  const head = await section('initial header', () => src.readUpTo(0, 512));
  if (head.length < DAT_MAGIC.length || !head.subarray(0, DAT_MAGIC.length).equals(DAT_MAGIC)) {
    throw new DatFormatError('not a trace.dat file: the magic bytes 17 08 44 "tracing" are missing', 0, 'give kreplay a trace-cmd trace.dat, or a text trace');
  }
  const hr = new ByteReader(head, true, DAT_MAGIC.length);
  const versionText = await section('initial header', () => hr.cstring());
  const version = Number(versionText);
  if (version !== 6 && version !== 7) {
    throw new DatFormatError(
      `trace.dat version "${versionText}" is not supported (6 and 7 are)`,
      DAT_MAGIC.length,
      version < 6 ? 'convert it with `trace-cmd convert --file-version 6`' : 'convert it with `trace-cmd convert --file-version 7`',
    );
  }
  const endian = await section('initial header', () => hr.u8());
  const longSize = await section('initial header', () => hr.u8());
  if (endian > 1 || (longSize !== 4 && longSize !== 8))
    throw new DatFormatError(`bad initial header: endianness byte ${endian}, long size ${longSize}`, hr.offset);
  const little = endian === 0;
  const r = new ByteReader(head, little, hr.pos);
  const pageSize = await section('initial header', () => r.u32());
  if (pageSize < 64 || pageSize > 1 << 24) throw new DatFormatError(`bad initial header: page size ${pageSize}`, r.offset - 4);
  const b = new Builder(little, longSize);
  const file: Omit<DatFile, 'pageHeader' | 'kallsyms'> = {
    path,
    fileSize: src.size,
    version,
    littleEndian: little,
    longSize,
    pageSize,
    formats: b.formats,
    printk: '',
    cmdlines: b.cmdlines,
    buffers: b.buffers,
    tsOffset: 0n,
    tsc: b.tsForm.tsc,
    rawTimestamps: false,
    meta: b.meta,
  };
  b.meta.push(['trace.dat.version', version]);
  if (version === 6) await readV6(src, b, r.pos, file);
  else {
    const name = await section('initial header', () => r.cstring());
    const cver = await section('initial header', () => r.cstring());
    const firstOptions = await section('initial header', () => r.u64());
    if (name !== 'none') {
      const d = await decompressorFor(name);
      if (!d)
        throw new DatFormatError(
          `compression algorithm "${name}" is not supported (${SUPPORTED_COMPRESSION.join(', ')} are)`,
          hr.offset,
          `recompress it with \`trace-cmd convert --compression zstd\` (or none)`,
        );
      file.compression = { name, version: cver };
      file.decompress = d;
    }
    await readV7(src, b, firstOptions, file);
  }
  b.meta.push(['compression', compressionName(file.compression)]);
  if (!b.pageHeader) throw new DatFormatError('the file has no header_page section', undefined, TRUNCATED_HINT);
  if (b.clock) b.meta.push(['clock', b.clock]);
  if (b.cpuCount !== undefined) b.meta.push(['cpus', b.cpuCount]);
  return {
    ...file,
    pageHeader: b.pageHeader,
    kallsyms: new Kallsyms(b.kallsymsData),
    printk: b.printk,
    clock: b.clock ?? b.buffers[0]?.clock,
    tsOffset: b.tsOffset,
    tsc: b.tsForm.tsc,
    rawTimestamps: !b.tsForm.nanoseconds,
    hostSync: b.hostSync,
  };
}

/** v6: everything in a fixed order after the initial header. */
