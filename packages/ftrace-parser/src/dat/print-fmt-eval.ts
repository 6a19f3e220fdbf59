/**
 * The print-fmt evaluator: an event's payload read the way libtraceevent reads a record
 * (Eval), each conversion's text (print_parse_data, print_str_arg, print_arg_pointer) and
 * a field's raw form (print_field_raw), by walking the parsed argument trees per record.
 * The rendered view runs compiled plans instead (print-fmt-compile.ts); this walk is what
 * trace_printk records (whose arguments change per record) and the raw view's uncommon
 * conversions use, and the oracle the compiled plans are tested against.
 */
import { printfInt, printfString } from './cprintf.js';
import type { FormatField, PayloadReader } from './format.js';
import { cNumber, constOp, type Node, type Segment } from './print-fmt-parse.js';
import type { PrintkFormats, TepSymbols } from './tep-symbols.js';
/** What rendering needs to know about the file. */
export interface FmtContext {
  symbols: TepSymbols;
  printk: PrintkFormats;
  /** The recording kernel's long size (4 or 8). */
  longSize: number;
  little: boolean;
}

export const U64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** libtraceevent's element size of an array field (`type_size` of a dynamic array's type, else size / length). */
export function tepTypeSize(type: string): number {
  switch (type) {
    case 'u8':
    case 's8':
    case 'char':
      return 1;
    case 'u16':
    case 's16':
      return 2;
    case 'u32':
    case 's32':
      return 4;
    case 'u64':
    case 's64':
      return 8;
    default:
      return 0;
  }
}

/** A cast applied to a value (libtraceevent's eval_type_str: casts mask, they never sign-extend). */
export function castValue(val: bigint, type: string, pointer: boolean): bigint {
  let t = type;
  if (t.length < 2) return val;
  if (pointer) {
    if (!t.endsWith('*')) return val;
    t = t.slice(0, -2);
  }
  if (t.endsWith('*') || t.startsWith('struct')) return val;
  switch (t) {
    case 'u8':
    case 's8':
      return val & 0xffn;
    case 'u16':
    case 's16':
      return val & 0xffffn;
    case 'u32':
    case 's32':
      return val & 0xffffffffn;
    case 'u64':
    case 's64':
      return val;
    default:
  }
  if (t.startsWith('unsigned ')) t = t.slice(9);
  if (t === 'char') return val & 0xffn;
  if (t === 'short') return val & 0xffffn;
  if (t === 'int') return val & 0xffffffffn;
  return val;
}

/** Reads the payload the way libtraceevent reads a record. */
export class Eval {
  constructor(
    private readonly ctx: FmtContext,
    readonly r: PayloadReader,
  ) {}

  get size(): number {
    return this.r.end - this.r.start;
  }

  /** An unsigned number of `size` bytes at payload offset `off` (0 past the payload, or for odd sizes). */
  num(off: number, size: number): bigint {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return 0n;
    if (off < 0 || off + size > this.size) return 0n;
    const v = this.r.int(off, size, false);
    return v === undefined ? 0n : BigInt(v);
  }

  /** `__data_loc` / `__rel_loc`: [offset, length] in the payload, clamped like libtraceevent. */
  loc(f: FormatField): [number, number] {
    if (f.offset + f.size > this.size) return [0, 0];
    const v = Number(this.num(f.offset, f.size));
    const o = v & 0xffff;
    let l = f.size === 2 ? this.size - o : (v >>> 16) & 0xffff;
    let off = o > this.size ? 0 : o;
    if (o + l > this.size) l = 0;
    if (f.relative) off += f.offset + f.size;
    return [off, l];
  }

  /** Bytes [off, off + len) of the payload, cut at the payload's end. */
  bytes(off: number, len: number): Buffer {
    const a = this.r.start + Math.max(0, off);
    const b = Math.min(this.r.end, a + Math.max(0, len));
    return this.r.data.subarray(a, Math.max(a, b));
  }

  /** `len` bytes at payload offset `off`, read on past the payload into the page (zeros past the buffer). */
  beyond(off: number, len: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, len));
    const a = this.r.start + off;
    for (let i = 0; i < len; i++) {
      const k = a + i;
      out[i] = k >= 0 && k < this.r.data.length ? this.r.data[k]! : 0;
    }
    return out;
  }

  /** A C string at payload offset `off`, at most `len` bytes, up to its NUL. */
  cstr(off: number, len: number): string {
    const b = this.bytes(off, len);
    const z = b.indexOf(0);
    return b.toString('latin1', 0, z < 0 ? b.length : z);
  }

  /** eval_num_arg: the value of an argument as an unsigned 64-bit number. */
  value(n: Node): bigint {
    switch (n.k) {
      case 'atom':
        return cNumber(n.text);
      case 'field':
        return n.f ? this.num(n.f.offset, n.f.size) : 0n;
      case 'cast':
        return castValue(this.value(n.item), n.type, false);
      case 'op':
        return this.op(n);
      case 'dynlen':
        return n.f ? BigInt(this.loc(n.f)[1]) : 0n;
      default:
        return 0n;
    }
  }

  private op(n: Extract<Node, { k: 'op' }>): bigint {
    if (n.op === '[') {
      const index = this.value(n.right!);
      let l = n.left!;
      let cast: Extract<Node, { k: 'cast' }> | undefined;
      while (l.k === 'cast') {
        cast ??= l;
        l = l.item;
      }
      let off: number;
      let size = this.ctx.longSize;
      if (l.k === 'dynarray' && l.f) {
        off = this.loc(l.f)[0] + Number(index);
        const es = tepTypeSize(l.f.type);
        if (es) size = es;
      } else if (l.k === 'field' && l.f) {
        const es = l.f.array ? (l.f.kind === 'array' ? l.f.elemSize : 1) : l.f.size;
        size = es;
        off = l.f.offset + Number(index) * es;
      } else return 0n;
      const v = this.num(off, size);
      return cast ? castValue(v, cast.type, true) : v;
    }
    if (n.op === '?') {
      const c = this.value(n.left!);
      const branches = n.right as Extract<Node, { k: 'op' }>;
      return this.value(c !== 0n ? branches.left! : branches.right!);
    }
    const left = n.left === undefined ? 0n : this.value(n.left);
    const right = n.right === undefined ? 0n : this.value(n.right);
    return constOp(n.op, left, right);
  }

  /** A pointer value `%ps`/`%pS` prints: the symbol (`+0xoff` for S/F), or the address. */
  symbol(val: bigint, withOffset: boolean): string {
    const hit = this.ctx.symbols.lookup(val);
    if (hit) return withOffset ? `${hit.name}+0x${hit.offset.toString(16)}` : hit.name;
    return `0x${val.toString(16)}`;
  }
}

/** Narrow `val` to what a conversion with length `ls` reads: char/short/int/long/long long, signed for d/i. */
export function narrow(val: bigint, ls: number, signed: boolean): bigint {
  const bits = ls <= -2 ? 8 : ls === -1 ? 16 : ls === 0 ? 32 : 64;
  return signed ? BigInt.asIntN(bits, val) : BigInt.asUintN(bits, val);
}

/** print_bitmask_to_seq: hex, most significant byte first, a comma every 32 bits. */
function bitmaskText(b: Buffer, little: boolean): string {
  const size = b.length;
  const nrBits = size * 8;
  let strSize = ((nrBits + 3) >> 2) + Math.floor((nrBits - 1) / 32);
  if (size === 0) strSize = 0;
  const out = new Array<string>(strSize).fill('');
  let len = 0;
  for (let i = strSize - 2; i >= 0; i -= 2) {
    const index = little ? len : size - (len + 1);
    const hex = b[index]!.toString(16).padStart(2, '0');
    out[i] = hex[0]!;
    out[i + 1] = hex[1]!;
    len++;
    if (!(len & 3) && i > 0) {
      i--;
      out[i] = ',';
    }
  }
  return out.join('');
}

/** print_cpumask_to_seq: the set bits as ranges (`0-3,5`). */
function cpumaskText(b: Buffer, little: boolean): string {
  const bits: boolean[] = [];
  for (let i = 0; i < b.length; i++) {
    const byte = b[little ? i : b.length - (i + 1)]!;
    for (let k = 0; k < 8; k++) bits.push(((byte >> k) & 1) === 1);
  }
  const parts: string[] = [];
  for (let i = 0; i < bits.length; i++) {
    if (!bits[i]) continue;
    let j = i;
    while (j + 1 < bits.length && bits[j + 1]) j++;
    parts.push(j > i ? `${i}-${j}` : `${i}`);
    i = j;
  }
  return parts.join(',');
}

/** A field's value in libtraceevent's raw form (print_field_raw). */
export function rawField(f: FormatField, e: Eval): string {
  if (f.array) {
    let off = f.offset;
    let len = f.size;
    if (f.kind === 'dynamic') [off, len] = e.loc(f);
    const b = e.bytes(off, len);
    // printable up to its NUL within its length: printed as a C string (to the NUL, even past the length)
    if (/char|u8|s8/.test(f.type) && printable(b)) return e.cstr(off, e.size - off);
    // libtraceevent prints the declared length even when the record is shorter (a
    // kernel_stack with fewer frames): the bytes that follow the record in the page
    const raw = e.beyond(off, len);
    const bytes: string[] = [];
    for (let i = 0; i < len; i++) bytes.push(raw[i]!.toString(16).padStart(2, '0'));
    return `ARRAY[${bytes.join(', ')}]`;
  }
  const val = e.num(f.offset, f.size);
  const isLong = f.type.includes('long');
  if (f.type.includes('*')) return `0x${val.toString(16)}`;
  if (f.signed) {
    switch (f.size) {
      case 4:
        return isLong ? `0x${BigInt.asUintN(32, val).toString(16)}` : BigInt.asIntN(32, val).toString();
      case 2:
        return BigInt.asIntN(16, val).toString().padStart(2);
      case 1:
        return BigInt.asIntN(8, val).toString();
      default:
        return BigInt.asIntN(64, val).toString();
    }
  }
  return isLong ? `0x${val.toString(16)}` : val.toString();
}

/** libtraceevent's is_printable_array(): isprint() or isspace() up to the NUL (C locale). */
function printable(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0) return true;
    if ((c < 32 && !(c >= 9 && c <= 13)) || c >= 127) return false;
  }
  return true;
}

/** The text one conversion prints (print_parse_data). */
export function conversion(seg: Extract<Segment, { t: 'digit' | 'pointer' | 'string' }>, e: Eval, ctx: FmtContext): string {
  const lenArg = seg.lenArg ? Number(BigInt.asIntN(32, e.value(seg.lenArg))) : undefined;
  switch (seg.t) {
    case 'digit': {
      const conv = seg.spec[seg.spec.length - 1]!;
      return printfInt(seg.spec, narrow(e.value(seg.arg), seg.ls, conv === 'd' || conv === 'i'), lenArg);
    }
    case 'pointer':
      return pointer(seg.spec, seg.arg, e);
    case 'string':
      return str(seg.spec, seg.arg, e, ctx, lenArg);
  }
}

export function uncast(n: Node): Node {
  let a = n;
  while (a.k === 'cast') a = a.item;
  return a;
}

/** print_arg_pointer. */
export function pointer(spec: string, arg: Node, e: Eval): string {
  if (arg.k === 'bstring') return arg.text;
  const ext = spec[spec.indexOf('p') + 1];
  switch (ext) {
    case 'F':
    case 'f':
    case 'S':
    case 's':
      return e.symbol(e.value(arg), ext === 'F' || ext === 'S');
    case 'M':
    case 'm': {
      const a = uncast(arg);
      if (a.k !== 'field' || !a.f) return `ARG TYPE NOT FIELD BUT ${a.k}`;
      const b = e.bytes(a.f.offset, 6);
      const hex = [...b].map((x) => x.toString(16).padStart(2, '0'));
      if (spec.includes('R')) hex.reverse();
      return hex.join(ext === 'M' ? ':' : '');
    }
    case 'h': {
      const a = uncast(arg);
      if (a.k !== 'field' || !a.f) return '';
      const sep = spec.endsWith('C') ? ':' : spec.endsWith('D') ? '-' : spec.endsWith('N') ? '' : ' ';
      return [...e.bytes(a.f.offset, a.f.size)].map((x) => x.toString(16).padStart(2, '0')).join(sep);
    }
    default: {
      const v = e.value(arg);
      return v === 0n ? '(nil)' : `0x${v.toString(16)}`;
    }
  }
}

/**
 * The length of a hex dump or `__print_array` as the record gives it, bounded: no record
 * is longer than a ring-buffer page, and libtraceevent reads on past the record for any
 * length (into whatever memory follows); a corrupt length of billions must not hang the
 * reader or exhaust its memory, so past 64 KiB the dump stops.
 */
const MAX_DUMP = 1 << 16;
function dumpLength(v: bigint): number {
  return v > BigInt(MAX_DUMP) ? MAX_DUMP : Number(v);
}

/** print_str_arg: what a `%s` prints for an argument. */
export function str(spec: string, n: Node, e: Eval, ctx: FmtContext, lenArg: number | undefined): string {
  switch (n.k) {
    case 'atom':
    case 'bstring':
      return printfString(spec, n.text, lenArg);
    case 'field': {
      const f = n.f;
      if (!f) return '';
      const len = f.size || e.size - f.offset;
      if (!f.array && f.size === ctx.longSize) {
        // a pointer: the string the file's printk formats hold for it
        const addr = e.num(f.offset, f.size);
        return ctx.printk.get(addr) ?? addr.toString(16);
      }
      return printfString(spec, e.cstr(f.offset, len), lenArg);
    }
    case 'flags': {
      let val = e.value(n.value);
      let out = '';
      let printed = false;
      for (const sym of n.syms) {
        const fval = BigInt.asIntN(64, cNumber(sym.value));
        if (val === 0n && fval < 0n) {
          out += printfString(spec, sym.str, lenArg);
          break;
        }
        const fv = U64(fval);
        if (fval > 0n && (val & fv) === fv) {
          if (printed && n.delim !== undefined) out += n.delim;
          out += printfString(spec, sym.str, lenArg);
          printed = true;
          val &= ~fv;
        }
      }
      if (val !== 0n) {
        if (printed && n.delim !== undefined) out += n.delim;
        out += `0x${val.toString(16)}`;
      }
      return out;
    }
    case 'symbols': {
      const val = e.value(n.value);
      for (const sym of n.syms) if (U64(cNumber(sym.value)) === val) return printfString(spec, sym.str, lenArg);
      return `0x${val.toString(16)}`;
    }
    case 'hex':
    case 'hexstr': {
      const at = arrayStart(n.field, e);
      if (at === undefined) return '';
      const len = dumpLength(e.value(n.size));
      const b = e.bytes(at, len);
      const parts: string[] = [];
      for (let i = 0; i < len; i++) parts.push((i < b.length ? b[i]! : 0).toString(16).padStart(2, '0'));
      return parts.join(n.k === 'hex' ? ' ' : '');
    }
    case 'intarray': {
      const at = arrayStart(n.field, e);
      if (at === undefined) return '';
      const count = dumpLength(e.value(n.count));
      let el = Number(e.value(n.elSize));
      const parts: string[] = [];
      let off = at;
      for (let i = 0; i < count; i++) {
        if (el === 1 || el === 2 || el === 4 || el === 8) parts.push(e.num(off, el).toString());
        else {
          parts.push(`BAD SIZE:${el} 0x${e.num(off, 1).toString(16)}`);
          el = 1;
        }
        off += el;
      }
      return parts.join(' ');
    }
    case 'str': {
      if (!n.f) return '';
      const [off, len] = e.loc(n.f);
      if (!len) return '';
      return printfString(spec, e.cstr(off, e.size - off), lenArg);
    }
    case 'bitmask':
    case 'cpumask': {
      if (!n.f) return '';
      const [off, len] = e.loc(n.f);
      const b = e.bytes(off, len);
      return printfString(spec, n.k === 'bitmask' ? bitmaskText(b, ctx.little) : cpumaskText(b, ctx.little), lenArg);
    }
    case 'op': {
      if (n.op !== '?') return '';
      const branches = n.right as Extract<Node, { k: 'op' }>;
      return str(spec, e.value(n.left!) !== 0n ? branches.left! : branches.right!, e, ctx, lenArg);
    }
    default:
      return '';
  }
}

/** Where the array a hex dump or `__print_array` reads starts. */
function arrayStart(n: Node, e: Eval): number | undefined {
  if (n.k === 'dynarray') return n.f ? e.loc(n.f)[0] : undefined;
  if (n.k === 'field') return n.f?.offset;
  return undefined;
}
