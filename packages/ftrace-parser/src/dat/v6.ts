/**
 * trace.dat version 6: everything in a fixed order after the initial header
 * (Documentation/trace-cmd/trace-cmd.dat.v6.5.txt) — header page/event, ftrace and event
 * formats, kallsyms, printk formats, saved cmdlines, the CPU count, options up to id 0,
 * then `flyrecord` and each CPU's offset and size. Instance buffers repeat the last part at
 * their BUFFER option's offset.
 */
import { ByteReader } from './bytes.js';
import {
  Builder,
  checkHeaderEvent,
  DatFormatError,
  OPT,
  parseCmdlines,
  parseHeaderPage,
  section,
  TRUNCATED_HINT,
  type CpuData,
  type DatBuffer,
  type DatFile,
} from './metadata.js';
import type { FileSource } from './source.js';

export async function readV6(src: FileSource, b: Builder, start: number, file: Pick<DatFile, 'pageSize'>): Promise<void> {
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
  b.kallsymsData = await blob('kallsyms', 4);
  b.printk = (await blob('printk formats', 4)).toString('utf8');
  parseCmdlines((await blob('saved cmdlines', 8)).toString('utf8'), b.cmdlines, b.meta);
  const cpus = await u32('CPU count');
  b.cpuCount ??= cpus;
  const afterOptions = await readV6Options(src, b, pos);
  pos = afterOptions.pos;
  const top = await readV6Flyrecord(src, b, pos, cpus, '', file.pageSize);
  if (b.clockOption) await readV6Clock(src, b, pos + cpus * 16);
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
  if (type === 'latency')
    throw new DatFormatError(
      'this trace.dat holds a latency-tracer text trace, not ring-buffer data',
      pos - 10,
      'run `trace-cmd report` on it and give kreplay the text',
    );
  if (type !== 'flyrecord') throw new DatFormatError(`expected "flyrecord" or "options", found "${type.slice(0, 12)}"`, pos - 10, TRUNCATED_HINT);
  return { pos, type };
}

/** The longest clock record read: tracefs's list of every clock is about 80 bytes. */
const MAX_CLOCK_RECORD = 4096;

/**
 * v6 with a TRACECLOCK option: `[clock]` (or tracefs's whole `trace_clock` line) as a
 * 64-bit size and text right after the top buffer's CPU data table. trace-cmd 2.x wrote the
 * option empty and the clock only here; trace-cmd 3.1.6 reads it in `init_data_v6`
 * (lib/trace-cmd/trace-input.c:4330-4341), and when it cannot, takes `local`. So do we, and
 * say so: `local` is kept per CPU, the cautious reading for ordering.
 */
async function readV6Clock(src: FileSource, b: Builder, at: number): Promise<void> {
  const lb = await src.readUpTo(at, 8);
  const size = lb.length === 8 ? new ByteReader(lb, b.little).u64() : -1;
  if (size >= 0 && size <= MAX_CLOCK_RECORD && at + 8 + size <= src.size) {
    // an empty record or one naming no clock leaves the option's, as trace-cmd's parse does
    b.clockText((await src.readAt(at + 8, size)).toString('latin1'));
    return;
  }
  b.clockText('[local]');
  b.meta.push(['clock-fallback', `the trace clock record at offset ${at} could not be read; taken as \`local\`, as trace-cmd does`]);
}

async function readV6Flyrecord(src: FileSource, b: Builder, pos: number, cpus: number, name: string, pageSize: number): Promise<DatBuffer> {
  const table = await section('CPU data table', () => src.readAt(pos, cpus * 16));
  const r = new ByteReader(table, b.little, 0, pos);
  const list: CpuData[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) list.push({ cpu, offset: r.u64(), size: r.u64() });
  return { name, pageSize, compressed: false, cpus: list };
}

/** v7: a section header, then its (possibly compressed) body. */
