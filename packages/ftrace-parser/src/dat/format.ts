/**
 * Event format descriptions (`events/<system>/<event>/format`, as trace.dat stores them)
 * and decoding an event's payload by them: every scalar, fixed array, `char[]` string and
 * `__data_loc`/`__rel_loc` dynamic field.
 */
import type { FieldValue, Fields } from '@kreplay/core';
import { MAX_SAFE_HI, s64From, u64From } from './bytes.js';

export type FieldKind = 'int' | 'string' | 'array' | 'dynamic';

export interface FormatField {
  name: string;
  /** The C type as declared, without the name or array brackets. */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  kind: FieldKind;
  /** `__rel_loc`: the dynamic offset counts from the end of this field. */
  relative: boolean;
  /** Element size for arrays and dynamic arrays; 0 for strings. */
  elemSize: number;
  /**
   * Declared with brackets (`char comm[16]`, `u64 args[6]`, `__data_loc char[] name`): what
   * libtraceevent calls an array. A `char buf;` of size 0 (old ftrace:print formats) is a
   * string to the end of the payload, but not an array.
   */
  array: boolean;
}

export interface EventFormat {
  id: number;
  name: string;
  system: string;
  /** Fields starting with `common_`. */
  common: FormatField[];
  /** The event's own fields, in format order. */
  fields: FormatField[];
  printFmt: string;
}

/** Element size of a C scalar type name (`long` is the kernel's long). */
function scalarSize(type: string, longSize: number): number {
  const t = type.replace(/\b(const|volatile|unsigned|signed|__user)\b/g, ' ').trim();
  if (t.endsWith('*')) return longSize;
  if (/^(char|u8|s8|__u8|__s8|bool|_Bool)$/.test(t)) return 1;
  if (/^(short|u16|s16|__u16|__s16|__le16|__be16)$/.test(t)) return 2;
  if (/^(int|u32|s32|__u32|__s32|__le32|__be32|pid_t|dev_t|gfp_t|uid_t|gid_t)$/.test(t) || t === '') return 4;
  if (/^(long long|u64|s64|__u64|__s64|__le64|__be64|loff_t|sector_t)$/.test(t)) return 8;
  if (/^(long|size_t|ssize_t)$/.test(t)) return longSize;
  return 0;
}

function isCharType(type: string): boolean {
  return /(^|\s)(unsigned\s+|signed\s+)?char$/.test(type.replace(/\b(const|volatile)\b/g, '').trim());
}

/** One `field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;` line. */
function parseField(line: string, longSize: number): FormatField | undefined {
  const m = /^\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*(?:signed:(\d+);)?/.exec(line);
  if (!m) return undefined;
  let decl = m[1]!.trim();
  const offset = Number(m[2]);
  const size = Number(m[3]);
  const signed = m[4] === '1';
  let dynamic = false;
  let relative = false;
  if (decl.startsWith('__data_loc ')) {
    dynamic = true;
    decl = decl.slice(11);
  } else if (decl.startsWith('__rel_loc ')) {
    dynamic = true;
    relative = true;
    decl = decl.slice(10);
  }
  // `TYPE NAME`, `TYPE NAME[LEN]`, and for dynamic fields `TYPE[] NAME`
  const nm = /([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$/.exec(decl);
  if (!nm) return undefined;
  const name = nm[1]!;
  const bracket = nm[2];
  let type = decl.slice(0, nm.index).trim();
  const typeArray = type.endsWith('[]');
  if (typeArray) type = type.slice(0, -2).trim();
  const char = isCharType(type);
  let kind: FieldKind = 'int';
  let elemSize = 0;
  if (dynamic) {
    kind = 'dynamic';
    elemSize = char ? 0 : scalarSize(type, longSize) || 1;
  } else if (bracket !== undefined) {
    if (char) kind = 'string';
    else {
      kind = 'array';
      const len = Number(bracket.slice(1, -1));
      elemSize = len > 0 ? size / len : scalarSize(type, longSize) || 1;
    }
  } else if (char && size === 0) {
    // `field:char buf; offset:16; size:0;` (ftrace:print before 4.x kernels wrote `char buf[]`)
    kind = 'string';
  }
  return { name, type, offset, size, signed, kind, relative, elemSize, array: dynamic || bracket !== undefined || typeArray };
}

/** Parse one format file. `system` comes from where the file sits (the format has no system). */
export function parseEventFormat(text: string, system: string, longSize: number): EventFormat {
  const nameMatch = /^name:\s*(\S+)/m.exec(text);
  const idMatch = /^ID:\s*(\d+)/m.exec(text);
  if (!nameMatch || !idMatch) throw new Error('an event format without a name or ID line');
  const common: FormatField[] = [];
  const fields: FormatField[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('field:')) continue;
    const f = parseField(line, longSize);
    if (!f) throw new Error(`an unreadable field line in event ${nameMatch[1]}: ${line.trim()}`);
    (f.name.startsWith('common_') ? common : fields).push(f);
  }
  const pf = /^print fmt:\s*(.*)$/m.exec(text);
  return { id: Number(idMatch[1]), name: nameMatch[1]!, system, common, fields, printFmt: pf ? pf[1]! : '' };
}

/**
 * Slots of PayloadReader's cache of u64 bigints. A trace names the same kernel pointers over
 * and over (a `struct page *` at its add, maps, unmaps and removal; a probe's own address on
 * every hit), and a u64 past 2^53 costs four bigint allocations to build: a hit costs two
 * comparisons. Bigints are immutable values, so handing out one object twice is safe.
 */
const BIG_SLOTS = 4096;

/** Reads scalars out of one event's payload (`data[start, end)`). */
export class PayloadReader {
  data: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  /** The u64s past 2^53 read last, direct-mapped by their low word (see BIG_SLOTS). */
  private readonly bigLo = new Array<number>(BIG_SLOTS).fill(-1);
  private readonly bigHi = new Array<number>(BIG_SLOTS).fill(-1);
  private readonly bigVal = new Array<bigint>(BIG_SLOTS).fill(0n);
  constructor(readonly little: boolean) {}

  /** u64From(lo, hi), the same bigint object as last time for a value past 2^53 seen lately. */
  private u64(lo: number, hi: number): number | bigint {
    if (hi < MAX_SAFE_HI) return u64From(lo, hi);
    // pointers are 8- to 64-byte aligned: the slot comes from the bits above that
    const slot = ((lo >>> 6) ^ (lo >>> 18)) & (BIG_SLOTS - 1);
    if (this.bigLo[slot] === lo && this.bigHi[slot] === hi) return this.bigVal[slot]!;
    const v = u64From(lo, hi);
    this.bigLo[slot] = lo;
    this.bigHi[slot] = hi;
    this.bigVal[slot] = v as bigint;
    return v;
  }

  set(data: Buffer, start: number, end: number): void {
    this.data = data;
    this.start = start;
    this.end = end;
  }

  /** Integer of `size` bytes at payload offset `off`; undefined past the payload's end. */
  int(off: number, size: number, signed: boolean): number | bigint | undefined {
    const p = this.start + off;
    if (off < 0 || p + size > this.end) return undefined;
    const d = this.data;
    switch (size) {
      case 1:
        return signed ? d.readInt8(p) : d[p]!;
      case 2:
        return this.little ? (signed ? d.readInt16LE(p) : d.readUInt16LE(p)) : signed ? d.readInt16BE(p) : d.readUInt16BE(p);
      case 4:
        return this.little ? (signed ? d.readInt32LE(p) : d.readUInt32LE(p)) : signed ? d.readInt32BE(p) : d.readUInt32BE(p);
      case 8: {
        const lo = this.little ? d.readUInt32LE(p) : d.readUInt32BE(p + 4);
        const hi = this.little ? d.readUInt32LE(p + 4) : d.readUInt32BE(p);
        return signed ? s64From(lo, hi) : this.u64(lo, hi);
      }
      default:
        return undefined;
    }
  }

  /** A C string in payload bytes [off, off+len): up to the first NUL. */
  str(off: number, len: number): string {
    const p = this.start + off;
    const stop = Math.min(p + len, this.end);
    if (p >= stop) return '';
    let z = this.data.indexOf(0, p);
    if (z < 0 || z > stop) z = stop;
    return this.data.toString('utf8', p, z);
  }

  /** `__data_loc`/`__rel_loc` word of a field: [payload offset, length]. */
  loc(f: FormatField): [number, number] | undefined {
    const w = this.int(f.offset, 4, false) as number | undefined;
    if (w === undefined) return undefined;
    const at = (w & 0xffff) + (f.relative ? f.offset + f.size : 0);
    return [at, w >>> 16];
  }

  value(f: FormatField): FieldValue {
    switch (f.kind) {
      case 'int': {
        const v = this.int(f.offset, f.size, f.signed);
        return v === undefined ? null : v;
      }
      case 'string':
        // `char buf[]` (size 0) runs to the end of the payload
        return this.str(f.offset, f.size === 0 ? this.end - this.start - f.offset : f.size);
      case 'array':
        return this.array(f.offset, f.size === 0 ? this.end - this.start - f.offset : f.size, f.elemSize, f.signed);
      case 'dynamic': {
        const loc = this.loc(f);
        if (!loc) return null;
        return f.elemSize === 0 ? this.str(loc[0], loc[1]) : this.array(loc[0], loc[1], f.elemSize, f.signed);
      }
    }
  }

  private array(off: number, len: number, elem: number, signed: boolean): FieldValue[] {
    const out: FieldValue[] = [];
    if (elem <= 0) return out;
    for (let o = off; o + elem <= off + len; o += elem) {
      const v = this.int(o, elem, signed);
      if (v === undefined) break;
      out.push(v);
    }
    return out;
  }
}

/** Every non-common field of `fmt`, decoded raw (the `--pretty`-less default for unknown events). */
export function rawFields(fmt: EventFormat, r: PayloadReader, into: Fields = {}): Fields {
  for (const f of fmt.fields) into[f.name] = r.value(f);
  return into;
}
