/**
 * What a trace.dat's metadata says, gathered while the container is read (container.ts,
 * v6.ts, v7.ts): the types every other module uses, the option ids and their decoding, the
 * header page/event checks, saved cmdlines and the trace clock.
 */
import { ByteReader, ShortRead } from './bytes.js';
import type { Decompressor } from './compress.js';
import { parseEventFormat, type EventFormat } from './format.js';
import { notACpu } from '../line-head.js';
import type { Kallsyms } from './kallsyms.js';
import { parseTimeShift, strtoll, TimestampForm, traceCmdClock, type HostSync, type Tsc2Nsec } from './time.js';

/** Option ids (trace-cmd's enum tracecmd_file_options). */
export const OPT = {
  DONE: 0,
  DATE: 1,
  CPUSTAT: 2,
  BUFFER: 3,
  TRACECLOCK: 4,
  UNAME: 5,
  HOOK: 6,
  OFFSET: 7,
  CPUCOUNT: 8,
  VERSION: 9,
  PROCMAPS: 10,
  TRACEID: 11,
  TIME_SHIFT: 12,
  GUEST: 13,
  TSC2NSEC: 14,
  STRINGS: 15,
  HEADER_INFO: 16,
  FTRACE_EVENTS: 17,
  EVENT_FORMATS: 18,
  KALLSYMS: 19,
  PRINTK: 20,
  CMDLINES: 21,
  BUFFER_TEXT: 22,
  BTF_FILE: 23,
  LAST_BOOT_INFO: 24,
  MODULES_FILE: 25,
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
  formats: FormatTable;
  kallsyms: Kallsyms;
  printk: string;
  cmdlines: Map<number, string>;
  buffers: DatBuffer[];
  clock?: string;
  /** Added to every timestamp (OFFSET and DATE options), as trace-cmd report does. */
  tsOffset: bigint;
  /** The TSC2NSEC option's conversion (`mult` 0: none), applied before tsOffset as trace-cmd does. */
  tsc: Tsc2Nsec;
  /** trace-cmd report prints the timestamps as raw counts (`%12llu`), not `secs.nsecs` (see time.ts). */
  rawTimestamps: boolean;
  /** A guest's TIME_SHIFT samples: its timestamps moved onto the host's time line first, as trace-cmd does. */
  hostSync?: HostSync;
  /** Metadata for TraceMeta records, in file order. */
  meta: [string, string | number][];
  decompress?: Decompressor;
}

/**
 * The file's event formats by id, parsed on first use: a kernel's trace.dat carries a
 * format for every event it has (a thousand and more), a trace uses a few. A format whose
 * text cannot be read fails when its event is met (a gap for that event), not the file.
 */
export class FormatTable {
  private readonly texts = new Map<number, { text: string; system: string; at: number }>();
  private readonly parsed = new Map<number, EventFormat>();

  constructor(private readonly longSize: number) {}

  add(text: string, system: string, at: number): void {
    const id = /^ID:\s*(\d+)/m.exec(text);
    if (!id) throw new DatFormatError(`event format of system ${system}: an event format without an ID line`, at);
    this.texts.set(Number(id[1]), { text, system, at });
    this.parsed.delete(Number(id[1]));
  }

  get size(): number {
    return this.texts.size;
  }

  /** The format of event `id` (undefined when the file has none). */
  get(id: number): EventFormat | undefined {
    let f = this.parsed.get(id);
    if (f) return f;
    const t = this.texts.get(id);
    if (!t) return undefined;
    try {
      f = parseEventFormat(t.text, t.system, this.longSize);
    } catch (e) {
      throw new DatFormatError(`event format of system ${t.system}: ${(e as Error).message}`, t.at);
    }
    this.parsed.set(id, f);
    return f;
  }

  /** Every event id the file has a format for, in file order. */
  ids(): number[] {
    return [...this.texts.keys()];
  }

  /** The first format in the file (for the common fields every event shares). */
  first(): EventFormat | undefined {
    for (const id of this.texts.keys()) {
      try {
        return this.get(id);
      } catch {
        // an unreadable format: the next one has the same common fields
      }
    }
    return undefined;
  }
}

/** A problem with the file's structure; readTraceDat turns it into an InputError. */
export class DatFormatError extends Error {
  constructor(
    message: string,
    readonly offset?: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'DatFormatError';
  }
}

export const TRUNCATED_HINT = 'the file is truncated or corrupt; re-copy it, or re-record with `trace-cmd record`';

/** Wraps a section read so a short read names the section. */
export async function section<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ShortRead) throw new DatFormatError(`the ${what} ends early: ${e.message}`, e.at, TRUNCATED_HINT);
    throw e;
  }
}

export function parseHeaderPage(text: string): PageHeader {
  const commit = /field:\s*local_t commit;\s*offset:(\d+);\s*size:(\d+);/.exec(text);
  const data = /field:\s*char data;\s*offset:(\d+);/.exec(text);
  if (!commit || !data)
    throw new DatFormatError(
      'the header_page description has no commit or data field',
      undefined,
      'this trace.dat comes from a kernel whose ring-buffer layout kreplay does not know',
    );
  return { commitSize: Number(commit[2]), dataOffset: Number(data[1]) };
}

export function checkHeaderEvent(text: string): void {
  if (!/type_len\s*:\s*5 bits/.test(text) || !/time_delta\s*:\s*27 bits/.test(text)) {
    throw new DatFormatError(
      'the header_event description is not the 5-bit type_len / 27-bit time_delta layout',
      undefined,
      'this trace.dat comes from a kernel older than 2.6.31, which kreplay does not read',
    );
  }
}

/** One saved_cmdlines line as `sscanf(line, "%d %m[^\n]")` reads it: a decimal pid, white space or none, a comm starting with a non-space. */
const CMDLINE = /^[ \t\n\v\f\r]*([+-]?[0-9]+)(?![0-9])[ \t\n\v\f\r]*([^ \t\n\v\f\r][^]*)$/;
const LONG_MAX = (1n << 63n) - 1n;

/**
 * The saved cmdlines (`pid comm` lines) as libtraceevent's tep_parse_saved_cmdlines reads
 * them for trace-cmd: lines split at newlines (empty ones skipped), each read by the sscanf
 * above — so `77x` is pid 77 and `0x4d x` is pid 0 — the pid narrowed to an int as glibc does
 * (strtol, then the low 32 bits); the first comm of a pid kept (tep_register_comm refuses a
 * pid it has). The first line that does not read ends the parse, there as here; the lines
 * it leaves out are said in a `cmdlines-stopped` metadata record.
 */
export function parseCmdlines(text: string, into: Map<number, string>, meta: [string, string | number][]): void {
  const z = text.indexOf('\0');
  const lines = (z < 0 ? text : text.slice(0, z)).split('\n');
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    if (line === '') continue;
    const m = CMDLINE.exec(line);
    if (!m) {
      const left = lines.slice(k).filter((l) => l !== '').length;
      meta.push([
        'cmdlines-stopped',
        `saved cmdlines line ${k + 1} is not \`pid comm\` (${JSON.stringify(line.slice(0, 40))}): it and the ${left - 1} after it are not read, as trace-cmd does not read them`,
      ]);
      return;
    }
    let v = BigInt(m[1]!);
    if (v > LONG_MAX) v = LONG_MAX;
    else if (v < -LONG_MAX - 1n) v = -LONG_MAX - 1n;
    const pid = Number(BigInt.asIntN(32, v));
    if (!into.has(pid)) into.set(pid, m[2]!);
  }
}

/** Collects the metadata as the container is read. */
export class Builder {
  readonly formats: FormatTable;
  readonly cmdlines = new Map<number, string>();
  readonly meta: [string, string | number][] = [];
  readonly buffers: DatBuffer[] = [];
  kallsymsData: Buffer = Buffer.alloc(0);
  printk = '';
  pageHeader?: PageHeader;
  clock?: string;
  /** A TRACECLOCK option was read: v6 then keeps the clock after the CPU data table. */
  clockOption = false;
  tsOffset = 0n;
  /** How trace-cmd prints and converts the timestamps, as the options say. */
  readonly tsForm = new TimestampForm();
  /** The last TIME_SHIFT option's samples (trace-cmd keeps the last). */
  hostSync?: HostSync;
  cpuCount?: number;

  constructor(
    readonly little: boolean,
    readonly longSize: number,
  ) {
    this.formats = new FormatTable(longSize);
  }

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
    this.formats.add(text, system, at);
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

  /**
   * A trace_clock text (the TRACECLOCK option, or v6's record after the CPU data table) read
   * as trace-cmd reads it, up to its first NUL: the clock it names (none named: the one before
   * stays), and the form trace-cmd then prints timestamps in.
   */
  clockText(text: string): void {
    const t = text.split('\0', 1)[0]!;
    this.clock = traceCmdClock(t) ?? this.clock;
    this.tsForm.clockText(t);
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
        // microseconds, read as trace-cmd reads them (strtoll base 0, × 1000 in 64 bits:
        // trace-input.c:3778-3792)
        this.tsOffset = BigInt.asIntN(64, this.tsOffset + BigInt.asIntN(64, strtoll(str()) * 1000n));
        this.meta.push(['date-offset', str().trim()]);
        break;
      }
      case OPT.OFFSET:
        this.tsOffset = BigInt.asIntN(64, this.tsOffset + strtoll(str()));
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
        for (let i = 0; i < n; i++) {
          const at = r.offset;
          const cpu = r.u32();
          const bad = notACpu(cpu);
          if (bad) throw new DatFormatError(`buffer "${name}": ${bad}`, at);
          cpus.push({ cpu, offset: r.u64(), size: r.u64() });
        }
        this.buffers.push({ name, clock, pageSize, compressed: false, cpus, sectionOffset: offset });
        break;
      }
      case OPT.TRACECLOCK:
        this.clockOption = true;
        this.clockText(str());
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
        // trace-cmd skips an option shorter than 16 bytes and converts with mult and shift
        // (its offset is read but not applied: trace-input.c:1805-1811, 3887-3897)
        if (data.length < 16) {
          this.meta.push(['tsc2nsec', `ignored: ${data.length} bytes, fewer than the 16 trace-cmd reads`]);
          break;
        }
        const mult = r.u32();
        const shift = r.u32();
        const offset = r.u64Big();
        this.tsForm.tsc2nsec(mult, shift);
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
      case OPT.TIME_SHIFT: {
        const sync = parseTimeShift(data, this.little);
        if (sync === 'short') {
          this.meta.push([
            'time-shift',
            `the samples run past the option's ${data.length} bytes: trace-cmd 3.1.6 refuses this file; its guest timestamps are kept`,
          ]);
        } else if (sync !== undefined) {
          this.hostSync = sync;
          const n = sync.cpus.reduce((k, l) => k + l.length, 0);
          this.meta.push([
            'time-shift',
            `guest timestamps moved to the host's: ${sync.cpus.length} CPUs, ${n} samples${sync.interpolate ? ', interpolated' : ''}`,
          ]);
        }
        break;
      }
      case OPT.PROCMAPS:
      case OPT.STRINGS:
      case OPT.BTF_FILE:
      case OPT.MODULES_FILE:
        break; // understood, not needed for events
      default:
        if (!KNOWN_OPTIONS.has(id)) this.meta.push(['unknown-option', `id ${id} (${data.length} bytes) at offset ${at}, skipped`]);
    }
  }
}
