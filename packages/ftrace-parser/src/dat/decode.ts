/**
 * Ring-buffer event payload → TraceEvent, with the same fields the text parser produces
 * for the same event (events.ts): the filemap tracepoints as their `print fmt` shows them
 * (`dev`, `ino`, `pfn`, `ofs`, `index`, `order`), kprobe and kretprobe arguments by the
 * names in their format files with the probe site from the file's kallsyms, trace markers
 * (`ip`, `buf`), function-tracer `ip`/`parent_ip` as symbols. Every other event gets its
 * raw format fields (print fmt is not evaluated).
 */
import type { FieldValue, Fields, ProbeSite, TraceEvent } from '@kreplay/core';
import type { DatFile } from './container.js';
import { PayloadReader, rawFields, type EventFormat, type FormatField } from './format.js';
import { formatSym, formatSymOffset, type Kallsyms } from './kallsyms.js';
import type { ByteSink } from './byte-sink.js';
import { EventPrinter, type FmtContext } from './print-fmt.js';
import { PrintkFormats, TepSymbols } from './tep-symbols.js';
import type { Ts } from './ring-buffer.js';
import type { FieldPlan, FieldsWanted } from '../events.js';
import { fieldsBuilder } from '../layout.js';

const PAGE_SHIFT = 12n;
const MINORBITS = 20;
const U64 = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function narrow(b: bigint): number | bigint {
  return b <= MAX_SAFE ? Number(b) : b;
}

function big(v: unknown): bigint {
  return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;
}

/** How a kernel prints its trace flags (trace_print_lat_fmt()). */
export interface FlagStyle {
  /** 5 columns since 5.13 (the migrate-disable count), 4 before. */
  columns: 4 | 5;
  /** Bit 0x02 is NEED_RESCHED_LAZY since 6.13; before, TRACE_FLAG_IRQS_NOSUPPORT (`X`). */
  lazy: boolean;
}

/** Trace flags as the kernel's trace_print_lat_fmt() prints them. */
export function latencyFlags(flags: number, preempt: number, style: FlagStyle = { columns: 5, lazy: true }): string {
  const IRQS_OFF = 0x01,
    HARDIRQ = 0x08,
    NEED_RESCHED = 0x04;
  const SOFTIRQ = 0x10,
    PREEMPT_RESCHED = 0x20,
    NMI = 0x40,
    BH_OFF = 0x80;
  const RESCHED_LAZY = style.lazy ? 0x02 : 0;
  const noSupport = !style.lazy && flags & 0x02;
  const irqsOff = flags & IRQS_OFF ? (flags & BH_OFF ? 'D' : 'd') : flags & BH_OFF ? 'b' : noSupport ? 'X' : '.';
  const need = (flags & NEED_RESCHED) !== 0;
  const lazy = (flags & RESCHED_LAZY) !== 0;
  const pre = (flags & PREEMPT_RESCHED) !== 0;
  const resched = need && lazy && pre ? 'B' : need && pre ? 'N' : lazy && pre ? 'L' : need && lazy ? 'b' : need ? 'n' : pre ? 'p' : lazy ? 'l' : '.';
  const nmi = flags & NMI,
    hard = flags & HARDIRQ,
    soft = flags & SOFTIRQ;
  const irq = nmi && hard ? 'Z' : nmi ? 'z' : hard && soft ? 'H' : hard ? 'h' : soft ? 's' : '.';
  const depth = preempt & 0xf ? (preempt & 0xf).toString(16) : '.';
  const migrate = preempt & 0xf0 ? (preempt >> 4).toString(16) : '.';
  return style.columns === 4 ? `${irqsOff}${resched}${irq}${depth}` : `${irqsOff}${resched}${irq}${depth}${migrate}`;
}

/** The flag style of the kernel the file's uname names (the newest when it names none). */
function flagStyle(file: DatFile): FlagStyle {
  const uname = file.meta.find(([k]) => k === 'uname')?.[1];
  const m = typeof uname === 'string' ? /\s(\d+)\.(\d+)/.exec(uname) : null;
  if (!m) return { columns: 5, lazy: true };
  const version = Number(m[1]) * 1000 + Number(m[2]);
  return { columns: version < 5013 ? 4 : 5, lazy: version >= 6013 };
}

type Decoded = { fields: Fields; probe?: ProbeSite };

/** The fields of every event whose payload is not decoded (shared, frozen), as the text parser does. */
const NO_FIELDS: Fields = Object.freeze({}) as Fields;
const NO_DECODED: Decoded = Object.freeze({ fields: NO_FIELDS }) as Decoded;
type Compiled = (r: PayloadReader) => Decoded;

function field(fmt: EventFormat, name: string): FormatField | undefined {
  return fmt.fields.find((f) => f.name === name);
}

/** The names a plan keeps, or undefined: every field. */
type Keep = ReadonlySet<string> | undefined;

const kept = (keep: Keep, name: string): boolean => keep === undefined || keep.has(name);

/** `major:minor` of a kernel dev_t, the last one's string reused (a trace names a few devices, one mostly). */
function devStrings(): (sdev: unknown) => string {
  let last: unknown;
  let text = '';
  return (sdev) => {
    if (sdev === last && text !== '') return text;
    const d = Number(sdev);
    last = sdev;
    text = `${d >>> MINORBITS}:${d & ((1 << MINORBITS) - 1)}`;
    return text;
  };
}

/** Page indexes below this make byte offsets (index × 4096) exact as numbers. */
const INDEX_EXACT = 2 ** 41;

/**
 * `(index << PAGE_SHIFT) & U64` narrowed, as the kernel's print fmt computes `ofs`: plain
 * arithmetic while the product is exact (every page cache below 8 PiB), bigints beyond.
 */
export function offsetOf(index: FieldValue): number | bigint {
  if (typeof index === 'number' && index >= 0 && index < INDEX_EXACT && Number.isInteger(index)) return index * 4096;
  return narrow((big(index) << PAGE_SHIFT) & U64);
}

/** `ofs` as a page index (the text parser's `index` of these tracepoints). */
function indexOf(ofs: number | bigint): number | bigint {
  return typeof ofs === 'bigint' ? ofs >> PAGE_SHIFT : Math.floor(ofs / 4096);
}

/**
 * A fields object of `names` (in that order) from values computed per name: one object
 * literal of exactly those keys (fieldsBuilder), where an object grown key by key outgrew
 * its in-object slots and took a second allocation for the rest.
 */
function literalOf(names: readonly string[], value: (name: string) => (r: PayloadReader) => FieldValue): (r: PayloadReader) => Fields {
  const reads = names.map(value);
  const values = new Array<FieldValue>(names.length).fill(0);
  const n = names.length;
  const make = fieldsBuilder([...names]) ?? ((v: FieldValue[]): Fields => Object.fromEntries(names.map((name, k) => [name, v[k]!])));
  return (r) => {
    for (let k = 0; k < n; k++) values[k] = reads[k]!(r);
    return make(values);
  };
}

/** `dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u` (6.x) / `... pfn=%lu ofs=%lu` (5.x); only the fields `keep` names. */
function compileFilemapPage(fmt: EventFormat, keep: Keep): Compiled | undefined {
  const pfn = field(fmt, 'pfn'),
    ino = field(fmt, 'i_ino'),
    index = field(fmt, 'index'),
    dev = field(fmt, 's_dev');
  const order = field(fmt, 'order');
  if (!pfn || !ino || !index || !dev) return undefined;
  const devString = devStrings();
  const names = ['dev', 'ino', 'pfn', 'ofs', 'index', ...(order ? ['order'] : [])].filter((n) => kept(keep, n));
  // `index` is computed from `ofs` as the text parser computes it from the printed ofs
  let ofs: number | bigint = 0;
  const build = literalOf(names, (n) => {
    switch (n) {
      case 'dev':
        return (r) => devString(r.value(dev));
      case 'ino':
        return (r) => r.value(ino);
      case 'pfn':
        return (r) => r.value(pfn);
      case 'ofs':
        return (r) => (ofs = offsetOf(r.value(index)));
      case 'index':
        return names.includes('ofs') ? () => indexOf(ofs) : (r) => indexOf(offsetOf(r.value(index)));
      default:
        return (r) => r.value(order!);
    }
  });
  return (r) => ({ fields: build(r) });
}

/** `dev %d:%d ino %lx ofs=%lu max_ofs=%lu` (mm_filemap_get_pages / map_pages, 6.1); only the fields `keep` names. */
function compileFilemapRange(fmt: EventFormat, keep: Keep): Compiled | undefined {
  const ino = field(fmt, 'i_ino'),
    dev = field(fmt, 's_dev'),
    index = field(fmt, 'index'),
    last = field(fmt, 'last_index');
  if (!ino || !dev || !index || !last) return undefined;
  const devString = devStrings();
  const wDev = kept(keep, 'dev'),
    wIno = kept(keep, 'ino'),
    wOfs = kept(keep, 'ofs'),
    wIndex = kept(keep, 'index'),
    wMax = kept(keep, 'max_ofs');
  return (r) => {
    const fields: Fields = {};
    if (wDev) fields.dev = devString(r.value(dev));
    if (wIno) fields.ino = r.value(ino);
    if (wOfs || wIndex) {
      const ofs = offsetOf(r.value(index));
      if (wOfs) fields.ofs = ofs;
      if (wIndex) fields.index = indexOf(ofs);
    }
    if (wMax) fields.max_ofs = narrow((((big(r.value(last)) + 1n) << PAGE_SHIFT) - 1n) & U64);
    return { fields };
  };
}

/** Return sites a kretprobe's decoder remembers (a function returns to a few callers; past this, it starts over). */
const SITES_KEPT = 1024;

/**
 * A probe's arguments as its fields object: built as one object literal per format (one hidden
 * class, no property-by-property growth through keyed stores, which were a megamorphic store
 * per argument of every event), as the text parser's layouts build theirs (layout.ts).
 */
function compileArgs(args: FormatField[]): (r: PayloadReader) => Fields {
  const make = fieldsBuilder(args.map((a) => a.name));
  if (make === undefined || new Set(args.map((a) => a.name)).size !== args.length) {
    return (r) => {
      const fields: Fields = {};
      for (const a of args) fields[a.name] = r.value(a);
      return fields;
    };
  }
  const values = new Array<FieldValue>(args.length).fill(0);
  const n = args.length;
  return (r) => {
    for (let k = 0; k < n; k++) values[k] = r.value(args[k]!);
    return make(values);
  };
}

/**
 * kprobe: `(sym+0xoff/0xsize) name=value ...` — site from __probe_ip, args by their names
 * (those `keep` names; `'none'`: no fields at all, the site alone).
 */
function compileKprobe(fmt: EventFormat, ks: Kallsyms, keep: Keep | 'none'): Compiled | undefined {
  const ip = field(fmt, '__probe_ip');
  const func = field(fmt, '__probe_func');
  const ret = field(fmt, '__probe_ret_ip');
  const args = keep === 'none' ? [] : fmt.fields.filter((f) => !f.name.startsWith('__probe_') && kept(keep, f.name));
  const argFields = keep === 'none' ? () => NO_FIELDS : compileArgs(args);
  // A probe's site is shared, frozen, by the events that name it, as the text parser shares
  // it (events.ts, decodeProbeSite): a kprobe hits one address, a kretprobe returns to a few
  // callers — one object per site, not one per event.
  if (ip) {
    let lastAddr: bigint | undefined;
    let lastProbe: ProbeSite | undefined;
    return (r) => {
      const addr = big(r.value(ip));
      if (addr !== lastAddr || !lastProbe) {
        const hit = ks.lookup(addr);
        lastProbe = Object.freeze(hit ? { kind: 'kprobe', func: hit.name, offset: hit.offset, size: hit.size } : { kind: 'kprobe', func: fmt.name });
        lastAddr = addr;
      }
      return { fields: argFields(r), probe: lastProbe };
    };
  }
  if (func && ret) {
    let lastFunc: bigint | undefined;
    const byCaller = new Map<bigint, ProbeSite>();
    return (r) => {
      const f = big(r.value(func));
      const at = big(r.value(ret));
      if (f !== lastFunc || byCaller.size >= SITES_KEPT) {
        byCaller.clear();
        lastFunc = f;
      }
      let probe = byCaller.get(at);
      if (!probe) {
        probe = Object.freeze({ kind: 'kretprobe', func: ks.lookup(f)?.name ?? fmt.name.replace(/__return$/, ''), caller: formatSymOffset(ks, at) } as const);
        byCaller.set(at, probe);
      }
      return { fields: argFields(r), probe };
    };
  }
  return undefined;
}

function compileFtrace(fmt: EventFormat, ks: Kallsyms, printer: () => EventPrinter, printk: PrintkFormats): Compiled | undefined {
  const ip = field(fmt, 'ip');
  if (fmt.name === 'bprint') {
    // trace_printk: the format by its address, its arguments from the binary buffer
    if (!ip) return undefined;
    return (r) => {
      const m = printer().bprintMessage(r);
      let text = m.message;
      if (text.endsWith('\n')) text = text.slice(0, -1);
      return { fields: { ip: formatSym(ks, big(r.value(ip))), fmt: m.fmt, buf: text } };
    };
  }
  if (fmt.name === 'bputs') {
    // trace_puts: a pointer to a constant string in the printk formats
    const str = field(fmt, 'str');
    if (!ip || !str) return undefined;
    return (r) => {
      const addr = big(r.value(str));
      let text = printk.get(addr) ?? null;
      if (text?.endsWith('\\n')) text = text.slice(0, -2);
      return { fields: { ip: formatSym(ks, big(r.value(ip))), str: text } };
    };
  }
  if (fmt.name === 'print') {
    const buf = field(fmt, 'buf');
    if (!ip || !buf) return undefined;
    return (r) => {
      let text = r.value(buf) as string;
      if (text.endsWith('\n')) text = text.slice(0, -1);
      return { fields: { ip: formatSym(ks, big(r.value(ip))), buf: text } };
    };
  }
  if (fmt.name === 'function') {
    const parent = field(fmt, 'parent_ip');
    if (!ip || !parent) return undefined;
    return (r) => ({ fields: { ip: formatSym(ks, big(r.value(ip))), parent_ip: formatSym(ks, big(r.value(parent))) } });
  }
  return undefined;
}

const isProbeFormat = (fmt: EventFormat): boolean => fmt.fields.some((f) => f.name.startsWith('__probe_'));

/** Every non-common field of `fmt` that `keep` names, decoded raw. */
function compileRaw(fmt: EventFormat, keep: Keep): Compiled {
  const only = keep === undefined ? fmt : { ...fmt, fields: fmt.fields.filter((f) => keep.has(f.name)) };
  return (r) => ({ fields: rawFields(only, r) });
}

/**
 * How events of `fmt` decode into the text parser's fields: every one, or (`keep`) those it
 * names, in the same order with the same values. The ftrace events (markers, trace_printk,
 * the function tracer) always get all of theirs.
 */
function compile(fmt: EventFormat, ks: Kallsyms, printer: () => EventPrinter, printk: PrintkFormats, keep: Keep = undefined): Compiled {
  let c: Compiled | undefined;
  if (fmt.system === 'filemap' && fmt.printFmt.startsWith('"dev %d:%d ino %lx')) {
    c = /max_ofs=/.test(fmt.printFmt) ? compileFilemapRange(fmt, keep) : compileFilemapPage(fmt, keep);
  } else if (isProbeFormat(fmt)) {
    c = compileKprobe(fmt, ks, keep);
  } else if (fmt.system === 'ftrace') {
    c = compileFtrace(fmt, ks, printer, printk);
  }
  return c ?? compileRaw(fmt, keep);
}

/** Turns payloads into TraceEvents for one file. */
export class EventDecoder {
  private readonly compiled = new Map<number, Compiled>();
  private readonly r: PayloadReader;
  private readonly typeAt: number;
  private readonly flagsAt: number;
  private readonly preemptAt: number;
  private readonly pidAt: number;
  /** latencyFlags() of every (common_flags, common_preempt_count) pair seen. */
  private readonly flagStrings: string[] = new Array<string>(1 << 16);
  private readonly flagStyle: FlagStyle;
  /** Timestamps printed as raw counts (DatFile.rawTimestamps). */
  private readonly rawTs: boolean;
  /** Raw format fields for every event instead of text-parser fields. */
  raw = false;
  /** Which events get their fields decoded (ParseOptions.fields). */
  fields: boolean | FieldsWanted = true;
  /** Which of a wanted event's fields are decoded (ParseOptions.fieldPlan; undefined: all). */
  plan: FieldPlan | undefined;
  private readonly printers = new Map<number, EventPrinter>();
  private fmtContext?: FmtContext;
  /** `comm-pid [cpu] ` and `: name: ` of the raw view, as bytes, built once each. */
  private readonly heads = new Map<number, Buffer>();
  /** By event id (ids are small numbers): the printer and name bytes of each format. */
  private readonly entries: ({ printer: EventPrinter; name: Buffer } | undefined)[] = [];
  /** The last line's task and CPU and its `comm-pid [cpu] ` bytes (most lines repeat them). */
  private lastPid = NaN;
  private lastCpu = NaN;
  private lastHead: Buffer | undefined;

  constructor(
    private readonly file: DatFile,
    private readonly source: string,
  ) {
    this.r = new PayloadReader(file.littleEndian);
    const common = file.formats.first()?.common ?? [];
    const at = (name: string, dflt: number): number => common.find((f) => f.name === name)?.offset ?? dflt;
    this.typeAt = at('common_type', 0);
    this.flagsAt = at('common_flags', 2);
    this.preemptAt = at('common_preempt_count', 3);
    this.pidAt = at('common_pid', 4);
    this.flagStyle = flagStyle(file);
    this.rawTs = file.rawTimestamps;
  }

  format(id: number): EventFormat | undefined {
    return this.file.formats.get(id);
  }

  /** The event id of a payload, or undefined when it is too short to hold one. */
  eventId(page: Buffer, start: number, end: number): number | undefined {
    this.r.set(page, start, end);
    return this.r.int(this.typeAt, 2, false) as number | undefined;
  }

  /** Each pid's thread group (ParseOptions.tgids: the kernel's saved_tgids); a trace.dat holds none. */
  tgids: ReadonlyMap<number, number> | undefined;

  comm(pid: number): string {
    if (pid === 0) return '<idle>';
    return this.file.cmdlines.get(pid) ?? '<...>';
  }

  /** Decode a payload whose format is `fmt` (see eventId). */
  decode(fmt: EventFormat, cpu: number, ts: bigint, page: Buffer, start: number, end: number): TraceEvent {
    const r = this.r;
    r.set(page, start, end);
    const pid = (r.int(this.pidAt, 4, true) as number | undefined) ?? -1;
    const key = (((r.int(this.flagsAt, 1, false) as number | undefined) ?? 0) << 8) | ((r.int(this.preemptAt, 1, false) as number | undefined) ?? 0);
    const flags = (this.flagStrings[key] ??= latencyFlags(key >> 8, key & 0xff, this.flagStyle));
    let c = this.compiled.get(fmt.id);
    if (!c) {
      c = this.compileFor(fmt);
      this.compiled.set(fmt.id, c);
    }
    const d = c(r);
    // a probe's event as one literal too (probe last, as when it was added after): adding it
    // to the other literal took a second allocation for the key past its in-object slots
    const probe = d.probe;
    const ev: TraceEvent = probe
      ? {
          type: 'event',
          ts,
          cpu,
          pid,
          comm: this.comm(pid),
          flags,
          event: fmt.name,
          system: fmt.system,
          fields: d.fields,
          line: 0,
          source: this.source,
          probe,
        }
      : { type: 'event', ts, cpu, pid, comm: this.comm(pid), flags, event: fmt.name, system: fmt.system, fields: d.fields, line: 0, source: this.source };
    // a trace.dat holds no thread groups: the kernel's saved_tgids gives them when the caller has
    // it (ParseOptions.tgids); set after, so the events of a trace without one keep their shape
    if (this.tgids !== undefined) ev.tgid = this.tgids.get(pid);
    return ev;
  }

  /**
   * How events of `fmt` decode: raw format fields, the text parser's fields (all, or those
   * the field plan keeps), or — when the caller wants no fields (`fields: false`, or a
   * FieldsWanted that declines the event) — none, still with the probe site of a probe.
   * The predicate and the plan are asked at the format's first event (with its probe site);
   * what they answer then replaces this format's decoder.
   */
  private compileFor(fmt: EventFormat): Compiled {
    const full = this.fullFor(fmt, undefined);
    const want = this.fields;
    const plan = this.plan;
    if (want === true && plan === undefined) return full;
    if (want === false) return this.declined(fmt, full, false);
    return (rr) => {
      const d = full(rr);
      if (want !== true && !want(fmt.name, d.probe)) {
        this.compiled.set(fmt.id, this.declined(fmt, full, true));
        return { fields: NO_FIELDS, probe: d.probe };
      }
      const planned = this.planned(fmt, d, full);
      this.compiled.set(fmt.id, planned);
      return planned === full ? d : planned(rr); // the first event as every later one
    };
  }

  /** The decoder of every field of `fmt` (or of those `keep` names). */
  private fullFor(fmt: EventFormat, keep: Keep): Compiled {
    return this.raw ? compileRaw(fmt, keep) : compile(fmt, this.file.kallsyms, () => this.printer(fmt), this.context().printk, keep);
  }

  /**
   * A wanted format's decoder under the field plan, from its first event `first`: the fields
   * the plan keeps, or `full` when it keeps them all (or there is no plan).
   */
  private planned(fmt: EventFormat, first: Decoded, full: Compiled): Compiled {
    if (this.plan === undefined) return full;
    const names = Object.keys(first.fields);
    const keep = new Set(this.plan(fmt.name, first.probe, names));
    return names.every((n) => keep.has(n)) ? full : this.fullFor(fmt, keep);
  }

  /**
   * A declined format's decoder: no payload decoded but a probe's site. The ftrace events a
   * FieldsWanted declines (`asked`) are still decoded whole and their fields dropped, as
   * before: decoding a trace_printk's arguments can fail, and a payload that fails is a gap,
   * which must not depend on which events a consumer reads.
   */
  private declined(fmt: EventFormat, full: Compiled, asked: boolean): Compiled {
    if (asked && fmt.system === 'ftrace' && !this.raw) return (rr) => ({ fields: NO_FIELDS, probe: full(rr).probe });
    if (this.raw || !isProbeFormat(fmt)) return () => NO_DECODED;
    return compileKprobe(fmt, this.file.kallsyms, 'none') ?? (() => NO_DECODED);
  }

  /** What the text views need to know about the file (built on first use). */
  private context(): FmtContext {
    return (this.fmtContext ??= {
      symbols: new TepSymbols(this.file.kallsyms.data),
      printk: new PrintkFormats(this.file.printk),
      longSize: this.file.longSize,
      little: this.file.littleEndian,
    });
  }

  private printer(fmt: EventFormat): EventPrinter {
    let p = this.printers.get(fmt.id);
    if (!p) {
      p = new EventPrinter(fmt, this.context());
      this.printers.set(fmt.id, p);
    }
    return p;
  }

  /**
   * The event as one `trace-cmd report -R -t` line (or, `rendered`, one `trace-cmd report
   * -N -t` line: the print fmt evaluated), newline included, written into `out`:
   * `%16s-%-5d [%03d] %5llu.%09llu: name: ` (name padded to 20; raw counts `[%03d]%12llu:`
   * when trace-cmd prints those, DatFile.rawTimestamps) and the payload; like
   * trace-cmd, a newline ending the payload (a trace marker's) is dropped.
   */
  renderLine(fmt: EventFormat, cpu: number, ts: Ts, page: Buffer, start: number, end: number, out: ByteSink, rendered = false): void {
    const r = this.r;
    r.set(page, start, end);
    const pid = (r.int(this.pidAt, 4, true) as number | undefined) ?? -1;
    let head: Buffer;
    if (pid === this.lastPid && cpu === this.lastCpu) head = this.lastHead!;
    else {
      const key = pid * 4096 + cpu;
      let h = this.heads.get(key);
      if (!h) {
        h = Buffer.from(`${this.comm(pid).padStart(16)}-${String(pid).padEnd(5)} [${String(cpu).padStart(3, '0')}] `, 'utf8');
        if (this.heads.size < 100_000) this.heads.set(key, h);
      }
      head = h;
      this.lastPid = pid;
      this.lastCpu = cpu;
      this.lastHead = h;
    }
    if (this.rawTs) {
      // `%12llu:` straight after `[cpu]` (tracecmd/trace-read.c:167-173): the head without its space
      out.copy(head, 0, head.length - 1);
      if (typeof ts === 'number' && ts >= 0) out.counter(ts);
      else out.text(ts.toString().padStart(12));
    } else {
      out.copy(head, 0, head.length);
      if (typeof ts === 'number' && ts >= 0) out.timestamp(ts);
      else {
        const t = ts.toString().padStart(10, '0');
        out.text(`${t.slice(0, -9).padStart(5)}.${t.slice(-9)}`);
      }
    }
    const entry = this.entry(fmt);
    out.copy(entry.name, 0, entry.name.length);
    if (rendered) entry.printer.writePretty(out, r);
    else entry.printer.renderRaw(out, r);
    if (out.buf[out.len - 1] === 10) out.len--;
    out.byte(10);
  }

  /** The printer and the `: name: ` bytes of a format (looked up once per event, by id). */
  private entry(fmt: EventFormat): { printer: EventPrinter; name: Buffer } {
    let e = this.entries[fmt.id];
    if (!e) {
      const name = Buffer.from(`: ${fmt.name}: ${fmt.name.length < 20 ? ' '.repeat(20 - fmt.name.length) : ''}`, 'utf8');
      e = { printer: this.printer(fmt), name };
      this.entries[fmt.id] = e;
    }
    return e;
  }
}
