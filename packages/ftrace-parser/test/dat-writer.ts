/**
 * A small trace.dat v6 writer for tests: event formats, kallsyms, saved cmdlines, options
 * and hand-built ring-buffer pages (time extends, absolute timestamps, padding, missed
 * events). It writes what trace-cmd's Documentation/trace-cmd/trace-cmd.dat.v6.5.txt
 * describes — little-endian with 8-byte longs unless told otherwise (`Layout`: a big-endian
 * machine, a 32-bit kernel) — so `trace-cmd report` reads its output too.
 */

const PAGE = 4096;

/** The recording machine: byte order and the kernel's long (the page's commit word). */
export interface Layout {
  big: boolean;
  long: 4 | 8;
}
const LE64: Layout = { big: false, long: 8 };

/** `events/header_page` of a kernel whose long is `long` bytes: the data follow the commit word. */
export function headerPage(long: 4 | 8): string {
  const data = 8 + long;
  return (
    '\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n' +
    `\tfield: local_t commit;\toffset:8;\tsize:${long};\tsigned:1;\n` +
    '\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n' +
    `\tfield: char data;\toffset:${data};\tsize:${PAGE - data};\tsigned:0;\n`
  );
}

export const HEADER_PAGE = headerPage(8);

export const HEADER_EVENT =
  '# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n' +
  '\tpadding     : type == 29\n\ttime_extend : type == 30\n\ttime_stamp : type == 31\n\tdata max type_len  == 28\n';

const COMMON =
  '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n' +
  '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n' +
  '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n' +
  '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n';

/** A format file: `fields` are `[decl, offset, size, signed]`. */
export function formatText(name: string, id: number, fields: [string, number, number, 0 | 1][], printFmt: string): string {
  const body = fields.map(([decl, off, size, signed]) => `\tfield:${decl};\toffset:${off};\tsize:${size};\tsigned:${signed};\n`).join('');
  return `name: ${name}\nID: ${id}\nformat:\n${COMMON}${body}\nprint fmt: ${printFmt}\n`;
}

/** One event's payload: the common header, then `body` (the event's own fields). */
export function payload(id: number, pid: number, body: Buffer, flags = 0, preempt = 0, big = false): Buffer {
  const h = Buffer.alloc(8);
  if (big) h.writeUInt16BE(id, 0);
  else h.writeUInt16LE(id, 0);
  h.writeUInt8(flags, 2);
  h.writeUInt8(preempt, 3);
  if (big) h.writeInt32BE(pid, 4);
  else h.writeInt32LE(pid, 4);
  return Buffer.concat([h, body]);
}

export function u64(v: bigint | number, big = false): Buffer {
  const b = Buffer.alloc(8);
  if (big) b.writeBigUInt64BE(BigInt(v));
  else b.writeBigUInt64LE(BigInt(v));
  return b;
}

export function u32(v: number, big = false): Buffer {
  const b = Buffer.alloc(4);
  if (big) b.writeUInt32BE(v >>> 0);
  else b.writeUInt32LE(v >>> 0);
  return b;
}

/** A kernel long of `layout`. */
function long(v: bigint | number, layout: Layout): Buffer {
  return layout.long === 8 ? u64(v, layout.big) : u32(Number(v), layout.big);
}

/** Builds one ring-buffer page event by event. */
export class PageBuilder {
  private readonly parts: Buffer[] = [];
  private used = 0;

  constructor(
    readonly timestamp: bigint,
    readonly layout: Layout = LE64,
  ) {}

  /** The 32-bit event header: the kernel's bit field puts type_len in the low bits on little-endian machines, the high bits on big-endian ones. */
  private header(typeLen: number, delta: number): Buffer {
    const d = delta & 0x7ffffff;
    return this.layout.big ? u32((typeLen << 27) | d, true) : u32((d << 5) | typeLen);
  }

  private word(v: number): Buffer {
    return u32(v, this.layout.big);
  }

  private push(b: Buffer): this {
    this.parts.push(b);
    this.used += b.length;
    return this;
  }

  /** A data event `delta` ns after the previous one (delta < 2^27). */
  event(delta: number, data: Buffer): this {
    const len = (data.length + 3) & ~3;
    const padded = Buffer.concat([data, Buffer.alloc(len - data.length)]);
    if (len <= 28 * 4 && len > 0) return this.push(Buffer.concat([this.header(len / 4, delta), padded]));
    return this.push(Buffer.concat([this.header(0, delta), this.word(len + 4), padded]));
  }

  /** A time extend: the next delta is `delta` (≥ 2^27) ns. */
  extend(delta: bigint): this {
    return this.push(Buffer.concat([this.header(30, Number(delta & 0x7ffffffn)), this.word(Number(delta >> 27n))]));
  }

  /** An absolute timestamp. */
  absolute(ts: bigint): this {
    return this.push(Buffer.concat([this.header(31, Number(ts & 0x7ffffffn)), this.word(Number((ts >> 27n) & 0xffffffffn))]));
  }

  /** A discarded event turned into padding (`len` bytes of body). */
  padding(delta: number, len: number): this {
    return this.push(Buffer.concat([this.header(29, delta), this.word(len), Buffer.alloc(len - 4)]));
  }

  /** The page; `missed` sets RB_MISSED_EVENTS (and stores the count when given). */
  build(opts: { missed?: number | true; commit?: number } = {}): Buffer {
    const page = Buffer.alloc(PAGE);
    const { big, long: size } = this.layout;
    const dataOffset = 8 + size;
    u64(this.timestamp, big).copy(page, 0);
    Buffer.concat(this.parts).copy(page, dataOffset);
    let commit = opts.commit ?? this.used;
    if (opts.missed !== undefined) {
      commit |= 0x80000000;
      if (opts.missed !== true) {
        commit |= 0x40000000;
        long(opts.missed, this.layout).copy(page, dataOffset + this.used);
      }
    }
    if (size === 8 && !big) {
      page.writeUInt32LE(commit >>> 0, 8);
      page.writeUInt32LE(opts.missed !== undefined ? 0xffffffff : 0, 12);
    } else long(commit >>> 0, this.layout).copy(page, 8);
    return page;
  }
}

export interface DatSpec {
  ftrace?: string[];
  systems: Record<string, string[]>;
  kallsyms?: string;
  printk?: string;
  cmdlines?: string;
  /** Extra options (id, data), written before the TRACECLOCK option. */
  options?: [number, Buffer][];
  clock?: string;
  /** Pages per CPU. */
  cpus: Buffer[][];
  /** Instance buffers (`trace-cmd record -B name`): pages per CPU, as many CPUs as the top. */
  instances?: { name: string; cpus: Buffer[][] }[];
  /** The recording machine (default little-endian, 8-byte longs); pages and payloads must be built for it. */
  layout?: Layout;
}

/** A complete v6 trace.dat. */
export function writeDatV6(spec: DatSpec): Buffer {
  const layout = spec.layout ?? LE64;
  const w64 = (v: bigint | number): Buffer => u64(v, layout.big);
  const w32 = (v: number): Buffer => u32(v, layout.big);
  const sized8 = (text: string): Buffer => {
    const b = Buffer.from(text);
    return Buffer.concat([w64(b.length), b]);
  };
  const sized4 = (text: string): Buffer => {
    const b = Buffer.from(text);
    return Buffer.concat([w32(b.length), b]);
  };
  const parts: Buffer[] = [];
  const head = Buffer.alloc(10 + 2 + 1 + 1 + 4);
  Buffer.from([0x17, 0x08, 0x44]).copy(head, 0);
  head.write('tracing', 3, 'latin1');
  head.write('6\0', 10, 'latin1');
  head.writeUInt8(layout.big ? 1 : 0, 12);
  head.writeUInt8(layout.long, 13);
  w32(PAGE).copy(head, 14);
  parts.push(head);
  parts.push(Buffer.from('header_page\0'), sized8(headerPage(layout.long)), Buffer.from('header_event\0'), sized8(HEADER_EVENT));
  const ftrace = spec.ftrace ?? [];
  parts.push(w32(ftrace.length), ...ftrace.map(sized8));
  const systems = Object.entries(spec.systems);
  parts.push(w32(systems.length));
  for (const [name, formats] of systems) parts.push(Buffer.from(`${name}\0`), w32(formats.length), ...formats.map(sized8));
  parts.push(sized4(spec.kallsyms ?? ''), sized4(spec.printk ?? ''), sized8(spec.cmdlines ?? ''));
  parts.push(w32(spec.cpus.length), Buffer.from('options  \0'));
  const clock = Buffer.from(`${spec.clock ?? '[local] global counter'}\n\0`);
  const instances = spec.instances ?? [];
  // BUFFER options point at each instance's own `flyrecord` block, written after the top's data
  const bufferOptions = instances.map((inst) => Buffer.concat([w64(0), Buffer.from(`${inst.name}\0`)]));
  for (const [id, data] of [...(spec.options ?? []), ...bufferOptions.map((b) => [3, b] as [number, Buffer]), [4, clock] as [number, Buffer]]) {
    const idb = Buffer.alloc(2);
    if (layout.big) idb.writeUInt16BE(id);
    else idb.writeUInt16LE(id);
    parts.push(idb, w32(data.length), data);
  }
  parts.push(Buffer.alloc(2), Buffer.from('flyrecord\0'));
  const table = (cpus: Buffer[][], from: number): { table: Buffer; end: number } => {
    let at = from;
    const rows: Buffer[] = [];
    for (const pages of cpus) {
      const size = pages.length * PAGE;
      rows.push(w64(size > 0 ? at : 0), w64(size));
      at += size;
    }
    return { table: Buffer.concat(rows), end: at };
  };
  const pageUp = (n: number): number => Math.ceil(n / PAGE) * PAGE;
  const headerLength = parts.reduce((n, b) => n + b.length, 0) + spec.cpus.length * 16;
  const top = table(spec.cpus, pageUp(headerLength));
  parts.push(top.table);
  const tail: Buffer[] = [];
  let end = top.end;
  instances.forEach((inst, i) => {
    w64(end).copy(bufferOptions[i]!, 0);
    const blockLength = 10 + inst.cpus.length * 16;
    const t = table(inst.cpus, pageUp(end + blockLength));
    const block = Buffer.concat([Buffer.from('flyrecord\0'), t.table]);
    tail.push(block, Buffer.alloc(pageUp(end + blockLength) - end - blockLength), ...inst.cpus.flat());
    end = t.end;
  });
  const meta = Buffer.concat(parts);
  const pad = Buffer.alloc(pageUp(meta.length) - meta.length);
  return Buffer.concat([meta, pad, ...spec.cpus.flat(), ...tail]);
}
