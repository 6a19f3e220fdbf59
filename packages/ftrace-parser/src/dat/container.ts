/**
 * The trace.dat container: the initial header, v6's linear layout and v7's sections and
 * options (trace-cmd's Documentation/trace-cmd/trace-cmd.dat.v6.5.txt / .v7.5.txt).
 * Reads every piece of metadata and locates each CPU's ring-buffer data; the events
 * themselves are read later, page by page (cpu-data.ts, ring-buffer.ts).
 */
import { ByteReader, ShortRead } from './bytes.js';
import { decompressorFor, SUPPORTED_COMPRESSION, type Decompressor } from './compress.js';
import { parseEventFormat, type EventFormat } from './format.js';
import { Kallsyms } from './kallsyms.js';
import type { FileSource } from './source.js';

export const DAT_MAGIC = Buffer.from([0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67]);

/** Option ids (trace-cmd's enum tracecmd_file_options). */
export const OPT = {
  DONE: 0, DATE: 1, CPUSTAT: 2, BUFFER: 3, TRACECLOCK: 4, UNAME: 5, HOOK: 6, OFFSET: 7,
  CPUCOUNT: 8, VERSION: 9, PROCMAPS: 10, TRACEID: 11, TIME_SHIFT: 12, GUEST: 13, TSC2NSEC: 14,
  STRINGS: 15, HEADER_INFO: 16, FTRACE_EVENTS: 17, EVENT_FORMATS: 18, KALLSYMS: 19, PRINTK: 20,
  CMDLINES: 21, BUFFER_TEXT: 22, BTF_FILE: 23, LAST_BOOT_INFO: 24, MODULES_FILE: 25,
} as const;
const KNOWN_OPTIONS = new Set<number>(Object.values(OPT));

/** Where one CPU's ring-buffer pages are. */
export interface CpuData {
  cpu: number;
  offset: number;
  size: number;
}

/** One ring buffer (the top instance is named ""). */
export interface DatBuffer {
  name: string;
  clock?: string;
  pageSize: number;
  /** CPU data stored as compressed chunks (v7). */
  compressed: boolean;
  cpus: CpuData[];
  /** A latency (text) buffer: the trace file as ASCII, which kreplay does not read here. */
  latency?: boolean;
  /** Where the buffer's flyrecord block (v6) or section (v7) starts. */
  sectionOffset?: number;
}

/** Ring-buffer page layout, from `events/header_page`. */
export interface PageHeader {
  /** Size of the `commit` word: the kernel's long. */
  commitSize: number;
  /** Offset of `data` in a page. */
  dataOffset: number;
}

export interface DatFile {
  path: string;
  fileSize: number;
  version: number;
  littleEndian: boolean;
  /** User-space long size of the recording machine (the header's byte). */
  longSize: number;
  pageSize: number;
  compression?: { name: string; version: string };
  pageHeader: PageHeader;
  formats: Map<number, EventFormat>;
  kallsyms: Kallsyms;
  printk: string;
  cmdlines: Map<number, string>;
  buffers: DatBuffer[];
  clock?: string;
  /** Added to every timestamp (OFFSET and DATE options), as trace-cmd report does. */
  tsOffset: bigint;
  /** Metadata for TraceMeta records, in file order. */
  meta: [string, string | number][];
  decompress?: Decompressor;
}

/** A problem with the file's structure; readTraceDat turns it into an InputError. */
export class DatFormatError extends Error {
  constructor(message: string, readonly offset?: number, readonly hint?: string) {
    super(message);
    this.name = 'DatFormatError';
  }
}

const TRUNCATED_HINT = 'the file is truncated or corrupt; re-copy it, or re-record with `trace-cmd record`';

/** Wraps a section read so a short read names the section. */
async function section<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ShortRead) throw new DatFormatError(`the ${what} ends early: ${e.message}`, e.at, TRUNCATED_HINT);
    throw e;
  }
}

function parseHeaderPage(text: string): PageHeader {
  const commit = /field:\s*local_t commit;\s*offset:(\d+);\s*size:(\d+);/.exec(text);
  const data = /field:\s*char data;\s*offset:(\d+);/.exec(text);
  if (!commit || !data) throw new DatFormatError('the header_page description has no commit or data field', undefined, 'this trace.dat comes from a kernel whose ring-buffer layout kreplay does not know');
  return { commitSize: Number(commit[2]), dataOffset: Number(data[1]) };
}

function checkHeaderEvent(text: string): void {
  if (!/type_len\s*:\s*5 bits/.test(text) || !/time_delta\s*:\s*27 bits/.test(text)) {
    throw new DatFormatError('the header_event description is not the 5-bit type_len / 27-bit time_delta layout', undefined, 'this trace.dat comes from a kernel older than 2.6.31, which kreplay does not read');
  }
}

function parseCmdlines(text: string, into: Map<number, string>): void {
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const pid = Number(line.slice(0, sp));
    if (Number.isInteger(pid)) into.set(pid, line.slice(sp + 1));
  }
}

/** `[local] global counter` → `local`. */
function selectedClock(text: string): string | undefined {
  const m = /\[([^\]]+)\]/.exec(text);
  return m ? m[1] : text.trim().split(/\s+/)[0] || undefined;
}

class Builder {
  readonly formats = new Map<number, EventFormat>();
  readonly cmdlines = new Map<number, string>();
  readonly meta: [string, string | number][] = [];
  readonly buffers: DatBuffer[] = [];
  kallsymsText = '';
  printk = '';
  pageHeader?: PageHeader;
  clock?: string;
  tsOffset = 0n;
  cpuCount?: number;

  constructor(readonly little: boolean, readonly longSize: number) {}

  /** v7 header info section: "header_page\0" size data "header_event\0" size data. */
  headerInfo(r: ByteReader): void {
    const tag1 = r.cstring();
    if (tag1 !== 'header_page') throw new DatFormatError(`expected "header_page", found "${tag1.slice(0, 20)}"`, r.offset);
    this.pageHeader = parseHeaderPage(r.bytes(r.u64()).toString('latin1'));
    const tag2 = r.cstring();
    if (tag2 !== 'header_event') throw new DatFormatError(`expected "header_event", found "${tag2.slice(0, 20)}"`, r.offset);
    checkHeaderEvent(r.bytes(r.u64()).toString('latin1'));
  }

  addFormat(text: string, system: string, at: number): void {
    let fmt: EventFormat;
    try {
      fmt = parseEventFormat(text, system, this.longSize);
    } catch (e) {
      throw new DatFormatError(`event format of system ${system}: ${(e as Error).message}`, at);
    }
    this.formats.set(fmt.id, fmt);
  }

  ftraceEvents(r: ByteReader): void {
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const at = r.offset;
      this.addFormat(r.bytes(r.u64()).toString('utf8'), 'ftrace', at);
    }
  }

  eventFormats(r: ByteReader): void {
    const systems = r.u32();
    for (let s = 0; s < systems; s++) {
      const system = r.cstring();
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const at = r.offset;
        this.addFormat(r.bytes(r.u64()).toString('utf8'), system, at);
      }
    }
  }

  /** One option; `v7` decides the BUFFER layout. Unknown ids are kept as metadata. */
  option(id: number, data: Buffer, v7: boolean, at: number): void {
    const r = new ByteReader(data, this.little, 0, at);
    const str = (): string => {
      const z = data.indexOf(0);
      return data.toString('utf8', 0, z < 0 ? data.length : z);
    };
    switch (id) {
      case OPT.DATE: {
        this.tsOffset += BigInt.asIntN(64, BigInt(str().trim() || '0')) * 1000n;
        this.meta.push(['date-offset', str().trim()]);
        break;
      }
      case OPT.OFFSET:
        this.tsOffset += BigInt.asIntN(64, BigInt(str().trim() || '0'));
        this.meta.push(['ts-offset', str().trim()]);
        break;
      case OPT.CPUSTAT:
        this.meta.push(['cpustat', str()]);
        break;
      case OPT.BUFFER:
      case OPT.BUFFER_TEXT: {
        const offset = r.u64();
        const name = r.cstring();
        if (!v7) {
          this.buffers.push({ name, pageSize: 0, compressed: false, cpus: [], sectionOffset: offset });
          break;
        }
        const clock = r.cstring();
        if (id === OPT.BUFFER_TEXT) {
          this.buffers.push({ name, clock, pageSize: 0, compressed: false, cpus: [], latency: true, sectionOffset: offset });
          break;
        }
        const pageSize = r.u32();
        const n = r.u32();
        const cpus: CpuData[] = [];
        for (let i = 0; i < n; i++) cpus.push({ cpu: r.u32(), offset: r.u64(), size: r.u64() });
        this.buffers.push({ name, clock, pageSize, compressed: false, cpus, sectionOffset: offset });
        break;
      }
      case OPT.TRACECLOCK:
        this.clock = selectedClock(str());
        break;
      case OPT.UNAME:
        this.meta.push(['uname', str()]);
        break;
      case OPT.VERSION:
        this.meta.push(['trace-cmd.version', str()]);
        break;
      case OPT.CPUCOUNT:
        this.cpuCount = r.u32();
        break;
      case OPT.TRACEID:
        this.meta.push(['trace-id', r.u64Big().toString()]);
        break;
      case OPT.TSC2NSEC: {
        const mult = r.u32();
        const shift = r.u32();
        const offset = r.u64Big();
        this.meta.push(['tsc2nsec', `mult=${mult} shift=${shift} offset=${offset}`]);
        break;
      }
      case OPT.HOOK:
        this.meta.push(['hook', str()]);
        break;
      case OPT.LAST_BOOT_INFO:
        this.meta.push(['last-boot-info', str()]);
        break;
      case OPT.GUEST:
        this.meta.push(['guest', r.cstring()]);
        break;
      case OPT.PROCMAPS:
      case OPT.TIME_SHIFT:
      case OPT.STRINGS:
      case OPT.BTF_FILE:
      case OPT.MODULES_FILE:
        break; // understood, not needed for events
      default:
        if (!KNOWN_OPTIONS.has(id)) this.meta.push(['unknown-option', `id ${id} (${data.length} bytes) at offset ${at}, skipped`]);
    }
  }
}

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
    throw new DatFormatError(`trace.dat version "${versionText}" is not supported (6 and 7 are)`, DAT_MAGIC.length, version < 6 ? 'convert it with `trace-cmd convert --file-version 6`' : 'convert it with `trace-cmd convert --file-version 7`');
  }
  const endian = await section('initial header', () => hr.u8());
  const longSize = await section('initial header', () => hr.u8());
  if (endian > 1 || (longSize !== 4 && longSize !== 8)) throw new DatFormatError(`bad initial header: endianness byte ${endian}, long size ${longSize}`, hr.offset);
  const little = endian === 0;
  const r = new ByteReader(head, little, hr.pos);
  const pageSize = await section('initial header', () => r.u32());
  if (pageSize < 64 || pageSize > 1 << 24) throw new DatFormatError(`bad initial header: page size ${pageSize}`, r.offset - 4);
  const b = new Builder(little, longSize);
  const file: Omit<DatFile, 'pageHeader' | 'kallsyms'> = {
    path, fileSize: src.size, version, littleEndian: little, longSize, pageSize, formats: b.formats,
    printk: '', cmdlines: b.cmdlines, buffers: b.buffers, tsOffset: 0n, meta: b.meta,
  };
  b.meta.push(['trace.dat.version', version]);
  if (version === 6) await readV6(src, b, r.pos, file);
  else {
    const name = await section('initial header', () => r.cstring());
    const cver = await section('initial header', () => r.cstring());
    const firstOptions = await section('initial header', () => r.u64());
    if (name !== 'none') {
      const d = await decompressorFor(name);
      if (!d) throw new DatFormatError(`compression algorithm "${name}" is not supported (${SUPPORTED_COMPRESSION.join(', ')} are)`, hr.offset, `recompress it with \`trace-cmd convert --compression zstd\` (or none)`);
      file.compression = { name, version: cver };
      file.decompress = d;
    }
    await readV7(src, b, firstOptions, file);
  }
  b.meta.push(['compression', compressionName(file.compression)]);
  if (!b.pageHeader) throw new DatFormatError('the file has no header_page section', undefined, TRUNCATED_HINT);
  if (b.clock) b.meta.push(['clock', b.clock]);
  if (b.cpuCount !== undefined) b.meta.push(['cpus', b.cpuCount]);
  return { ...file, pageHeader: b.pageHeader, kallsyms: new Kallsyms(b.kallsymsText), printk: b.printk, clock: b.clock ?? b.buffers[0]?.clock, tsOffset: b.tsOffset };
}

/** v6: everything in a fixed order after the initial header. */
async function readV6(src: FileSource, b: Builder, start: number, file: Pick<DatFile, 'pageSize'>): Promise<void> {
  let pos = start;
  /** Read a length-prefixed blob at pos (prefix of `lenSize` bytes). */
  const blob = async (what: string, lenSize: 4 | 8): Promise<Buffer> =>
    section(what, async () => {
      const lb = await src.readAt(pos, lenSize);
      const lr = new ByteReader(lb, b.little);
      const n = lenSize === 4 ? lr.u32() : lr.u64();
      const data = await src.readAt(pos + lenSize, n);
      pos += lenSize + n;
      return data;
    });
  const u32 = async (what: string): Promise<number> =>
    section(what, async () => {
      const v = new ByteReader(await src.readAt(pos, 4), b.little).u32();
      pos += 4;
      return v;
    });
  // "header_page\0" size data "header_event\0" size data
  for (const tag of ['header_page', 'header_event']) {
    const text = await section('header info', async () => {
      const t = await src.readAt(pos, tag.length + 1);
      if (t.toString('latin1') !== `${tag}\0`) throw new DatFormatError(`expected "${tag}" at offset ${pos}`, pos, TRUNCATED_HINT);
      pos += tag.length + 1;
      return (await blob('header info', 8)).toString('latin1');
    });
    if (tag === 'header_page') b.pageHeader = parseHeaderPage(text);
    else checkHeaderEvent(text);
  }
  const nFtrace = await u32('ftrace event formats');
  for (let i = 0; i < nFtrace; i++) {
    const at = pos;
    b.addFormat((await blob('ftrace event formats', 8)).toString('utf8'), 'ftrace', at);
  }
  const nSystems = await u32('event formats');
  for (let s = 0; s < nSystems; s++) {
    const system = await section('event formats', async () => {
      const nb = await src.readUpTo(pos, 256);
      const z = nb.indexOf(0);
      if (z < 0) throw new DatFormatError('an event system name without its NUL', pos, TRUNCATED_HINT);
      pos += z + 1;
      return nb.toString('utf8', 0, z);
    });
    const n = await u32('event formats');
    for (let i = 0; i < n; i++) {
      const at = pos;
      b.addFormat((await blob('event formats', 8)).toString('utf8'), system, at);
    }
  }
  b.kallsymsText = (await blob('kallsyms', 4)).toString('utf8');
  b.printk = (await blob('printk formats', 4)).toString('utf8');
  parseCmdlines((await blob('saved cmdlines', 8)).toString('utf8'), b.cmdlines);
  const cpus = await u32('CPU count');
  b.cpuCount ??= cpus;
  const afterOptions = await readV6Options(src, b, pos);
  pos = afterOptions.pos;
  const top = await readV6Flyrecord(src, b, pos, cpus, '', file.pageSize);
  b.buffers.unshift({ ...top, clock: b.clock });
  // instance buffers: their flyrecord blocks sit at the BUFFER options' offsets
  for (let i = 1; i < b.buffers.length; i++) {
    const inst = b.buffers[i]!;
    if (inst.sectionOffset === undefined) continue;
    const types = await readV6Options(src, b, inst.sectionOffset, true);
    const fr = await readV6Flyrecord(src, b, types.pos, cpus, inst.name, file.pageSize);
    b.buffers[i] = { ...fr, clock: b.clock };
  }
}

/** `options  \0` + options up to id 0, then the data type; returns the offset after the type. */
async function readV6Options(src: FileSource, b: Builder, at: number, noOptions = false): Promise<{ pos: number; type: string }> {
  let pos = at;
  const tag = async (): Promise<string> => {
    const t = await section('data type tag', () => src.readAt(pos, 10));
    pos += 10;
    return t.toString('latin1').replace(/[\0 ]+$/, '');
  };
  let type = await tag();
  if (type === 'options') {
    for (;;) {
      const idb = await section('options', () => src.readAt(pos, 2));
      const id = new ByteReader(idb, b.little).u16();
      pos += 2;
      if (id === OPT.DONE) break;
      const size = new ByteReader(await section('options', () => src.readAt(pos, 4)), b.little).u32();
      const data = await section('options', () => src.readAt(pos + 4, size));
      if (!noOptions) b.option(id, data, false, pos - 2);
      pos += 4 + size;
    }
    type = await tag();
  }
  if (type === 'latency') throw new DatFormatError('this trace.dat holds a latency-tracer text trace, not ring-buffer data', pos - 10, 'run `trace-cmd report` on it and give kreplay the text');
  if (type !== 'flyrecord') throw new DatFormatError(`expected "flyrecord" or "options", found "${type.slice(0, 12)}"`, pos - 10, TRUNCATED_HINT);
  return { pos, type };
}

async function readV6Flyrecord(src: FileSource, b: Builder, pos: number, cpus: number, name: string, pageSize: number): Promise<DatBuffer> {
  const table = await section('CPU data table', () => src.readAt(pos, cpus * 16));
  const r = new ByteReader(table, b.little, 0, pos);
  const list: CpuData[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) list.push({ cpu, offset: r.u64(), size: r.u64() });
  return { name, pageSize, compressed: false, cpus: list };
}

/** v7: a section header, then its (possibly compressed) body. */
async function readSection(src: FileSource, b: Builder, at: number, what: string, file: Pick<DatFile, 'decompress'>): Promise<{ id: number; flags: number; body: ByteReader }> {
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
      try {
        body = file.decompress(data, usize);
      } catch (e) {
        throw new DatFormatError(`the ${what} section does not decompress: ${(e as Error).message}`, at, TRUNCATED_HINT);
      }
      if (body.length !== usize) throw new DatFormatError(`the ${what} section decompresses to ${body.length} bytes, its header says ${usize}`, at, TRUNCATED_HINT);
      base = -1;
    }
    return { id, flags, body: new ByteReader(body, b.little, 0, base < 0 ? at : base) };
  });
}

async function readV7(src: FileSource, b: Builder, firstOptions: number, file: Pick<DatFile, 'decompress'>): Promise<void> {
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
    b.kallsymsText = await section('kallsyms', () => body.bytes(body.u32()).toString('utf8'));
  }
  const pk = at(OPT.PRINTK);
  if (pk !== undefined) {
    const { body } = await readSection(src, b, pk, 'printk formats', file);
    b.printk = await section('printk formats', () => body.bytes(body.u32()).toString('utf8'));
  }
  const cl = at(OPT.CMDLINES);
  if (cl !== undefined) {
    const { body } = await readSection(src, b, cl, 'saved cmdlines', file);
    parseCmdlines(await section('saved cmdlines', () => body.bytes(body.u64()).toString('utf8')), b.cmdlines);
  }
  // each BUFFER's flyrecord section header says whether its CPU data is compressed
  for (const buf of b.buffers) {
    const off = buf.sectionOffset;
    if (off === undefined) continue;
    const h = await section('buffer section header', async () => new ByteReader(await src.readAt(off, 16), b.little, 0, off));
    h.u16();
    const flags = h.u16();
    buf.compressed = (flags & 1) !== 0;
    if (buf.latency) throw new DatFormatError(`buffer "${buf.name}" holds a latency-tracer text trace, not ring-buffer data`, off, 'run `trace-cmd report` on it and give kreplay the text');
  }
  // the top instance first, as trace-cmd reports it
  b.buffers.sort((x, y) => (x.name === '' ? -1 : y.name === '' ? 1 : 0));
}
