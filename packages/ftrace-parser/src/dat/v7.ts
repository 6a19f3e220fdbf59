/**
 * trace.dat version 7: sections behind 16-byte headers (id, flags, description string id,
 * size), compressed when flag 1 is set, found through chained options sections
 * (Documentation/trace-cmd/trace-cmd.dat.v7.5.txt).
 */
import { ByteReader } from './bytes.js';
import { Builder, DatFormatError, OPT, parseCmdlines, section, TRUNCATED_HINT, type DatFile } from './metadata.js';
import type { FileSource } from './source.js';

/** Largest uncompressed metadata section believed (kallsyms of a big kernel is ~20 MB). */
const MAX_SECTION = 1 << 30;

async function readSection(
  src: FileSource,
  b: Builder,
  at: number,
  what: string,
  file: Pick<DatFile, 'decompress'>,
): Promise<{ id: number; flags: number; body: ByteReader }> {
  return section(what, async () => {
    const h = new ByteReader(await src.readAt(at, 16), b.little, 0, at);
    const id = h.u16();
    const flags = h.u16();
    h.u32(); // description string id
    const size = h.u64();
    let body = await src.readAt(at + 16, size);
    let base = at + 16;
    if (flags & 1) {
      if (!file.decompress) throw new DatFormatError(`the ${what} section is compressed but the file names no compression algorithm`, at, TRUNCATED_HINT);
      const cr = new ByteReader(body, b.little, 0, base);
      const csize = cr.u32();
      const usize = cr.u32();
      const data = cr.bytes(csize);
      if (usize > MAX_SECTION)
        throw new DatFormatError(`the ${what} section claims ${usize} bytes uncompressed, more than any trace.dat section holds`, at, TRUNCATED_HINT);
      try {
        body = file.decompress(data, usize);
      } catch (e) {
        throw new DatFormatError(`the ${what} section does not decompress: ${(e as Error).message}`, at, TRUNCATED_HINT);
      }
      if (body.length !== usize)
        throw new DatFormatError(`the ${what} section decompresses to ${body.length} bytes, its header says ${usize}`, at, TRUNCATED_HINT);
      base = -1;
    }
    return { id, flags, body: new ByteReader(body, b.little, 0, base < 0 ? at : base) };
  });
}

export async function readV7(src: FileSource, b: Builder, firstOptions: number, file: Pick<DatFile, 'decompress'>): Promise<void> {
  const sections = new Map<number, number>();
  const seen = new Set<number>();
  let next = firstOptions;
  while (next !== 0) {
    if (seen.has(next)) throw new DatFormatError('the options sections loop back on themselves', next, TRUNCATED_HINT);
    seen.add(next);
    const { id, body } = await readSection(src, b, next, 'options', file);
    if (id !== OPT.DONE) throw new DatFormatError(`expected an options section at offset ${next}, found section id ${id}`, next, TRUNCATED_HINT);
    next = 0;
    await section('options', () => {
      while (body.remaining > 0) {
        const at = body.offset;
        const oid = body.u16();
        const size = body.u32();
        const data = body.bytes(size);
        if (oid === OPT.DONE) {
          next = new ByteReader(data, b.little).u64();
          break;
        }
        if (oid >= OPT.HEADER_INFO && oid <= OPT.CMDLINES) sections.set(oid, new ByteReader(data, b.little).u64());
        else b.option(oid, data, true, at);
      }
    });
  }
  const at = (id: number): number | undefined => sections.get(id);
  const header = at(OPT.HEADER_INFO);
  if (header === undefined) throw new DatFormatError('the file has no header info section', undefined, TRUNCATED_HINT);
  const info = (await readSection(src, b, header, 'header info', file)).body;
  await section('header info', () => b.headerInfo(info));
  const ftrace = at(OPT.FTRACE_EVENTS);
  if (ftrace !== undefined) {
    const { body } = await readSection(src, b, ftrace, 'ftrace event formats', file);
    await section('ftrace event formats', () => b.ftraceEvents(body));
  }
  const events = at(OPT.EVENT_FORMATS);
  if (events !== undefined) {
    const { body } = await readSection(src, b, events, 'event formats', file);
    await section('event formats', () => b.eventFormats(body));
  }
  const ks = at(OPT.KALLSYMS);
  if (ks !== undefined) {
    const { body } = await readSection(src, b, ks, 'kallsyms', file);
    b.kallsymsData = await section('kallsyms', () => body.bytes(body.u32()));
  }
  const pk = at(OPT.PRINTK);
  if (pk !== undefined) {
    const { body } = await readSection(src, b, pk, 'printk formats', file);
    b.printk = await section('printk formats', () => body.bytes(body.u32()).toString('utf8'));
  }
  const cl = at(OPT.CMDLINES);
  if (cl !== undefined) {
    const { body } = await readSection(src, b, cl, 'saved cmdlines', file);
    parseCmdlines(await section('saved cmdlines', () => body.bytes(body.u64()).toString('utf8')), b.cmdlines, b.meta);
  }
  // each BUFFER's flyrecord section header says whether its CPU data is compressed
  for (const buf of b.buffers) {
    const off = buf.sectionOffset;
    if (off === undefined) continue;
    const h = await section('buffer section header', async () => new ByteReader(await src.readAt(off, 16), b.little, 0, off));
    h.u16();
    const flags = h.u16();
    buf.compressed = (flags & 1) !== 0;
    if (buf.latency)
      throw new DatFormatError(
        `buffer "${buf.name}" holds a latency-tracer text trace, not ring-buffer data`,
        off,
        'run `trace-cmd report` on it and give kreplay the text',
      );
  }
  // the top instance first, as trace-cmd reports it
  b.buffers.sort((x, y) => (x.name === '' ? -1 : y.name === '' ? 1 : 0));
}
