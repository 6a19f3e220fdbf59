/**
 * The raw view of an event, as `trace-cmd report -R` prints it (libtraceevent's
 * print_selected_fields): ` name=value` for every field, where a field that a `print fmt`
 * conversion prints directly (`REC->name`, casts aside) is printed with that conversion
 * (and a `0x` that precedes it), searching the conversions from after the last one used;
 * every other field gets the default raw form. This is the `--pretty` fallback: print fmt
 * is not evaluated, but the fields read the way trace-cmd shows them.
 */
import type { EventFormat, FormatField, PayloadReader } from './format.js';
import type { ByteSink } from './byte-sink.js';
import type { Kallsyms } from './kallsyms.js';

/** A conversion as printf reads it: flags, width, precision, and the value's width in bits. */
interface Conv {
  conv: string;
  flags: string;
  width: number;
  prec?: number;
  bits: number;
  field?: string;
}

type Segment = { lit: string } | Conv;

/** `"fmt", arg, arg` → literal and conversion segments, each conversion with its argument. */
export function parsePrintFmt(printFmt: string): Segment[] {
  const m = /^\s*"((?:[^"\\]|\\.)*)"\s*(?:,(.*))?$/s.exec(printFmt);
  if (!m) return [];
  const fmt = m[1]!;
  const args = splitArgs(m[2] ?? '');
  const segs: Segment[] = [];
  let lit = '';
  let ai = 0;
  const flush = (): void => {
    if (lit) segs.push({ lit });
    lit = '';
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '\\') {
      const e = fmt[++i];
      lit += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
      continue;
    }
    if (c !== '%') {
      lit += c;
      continue;
    }
    if (fmt[i + 1] === '%') {
      lit += '%';
      i++;
      continue;
    }
    flush();
    let j = i + 1;
    let ls = 0;
    for (; j < fmt.length; j++) {
      const d = fmt[j]!;
      if (d === 'h') ls--;
      else if (d === 'l') ls++;
      else if (d === 'L') ls = 2;
      else if (d === 'z' || d === 'Z') ls = 1;
      else if (d === '*') ai++; // the length argument
      else if (!/[#.0-9+\- ]/.test(d)) break;
    }
    let conv = fmt[j] ?? '';
    if (conv === 'p' && /[FSfsMmIiUh]/.test(fmt[j + 1] ?? '')) conv += fmt[++j];
    const spec = fmt.slice(i, j + 1);
    i = j;
    if (!/^(p|[cduixXos])/.test(conv)) {
      segs.push({ lit: `>${conv}<` });
      continue;
    }
    const m = /^%([#0\-+ ]*)(\d*)(?:\.(\d+))?/.exec(spec)!;
    segs.push({
      conv, flags: m[1]!, width: Number(m[2] || 0), prec: m[3] === undefined ? undefined : Number(m[3]),
      bits: ls <= -2 ? 8 : ls === -1 ? 16 : ls === 0 ? 32 : 64, field: plainField(args[ai++]),
    });
  }
  flush();
  return segs;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (s.trim()) out.push(s.slice(start).trim());
  return out;
}

/** `REC->x`, `(type)REC->x`, `((type)(REC->x))` → `x`; anything else → undefined. */
function plainField(arg: string | undefined): string | undefined {
  let a = arg?.trim();
  while (a) {
    const f = /^REC->(\w+)$/.exec(a);
    if (f) return f[1];
    if (a.startsWith('(') && matchingParen(a, 0) === a.length - 1) {
      a = a.slice(1, -1).trim();
      continue;
    }
    const cast = /^\(\s*[A-Za-z_][\w\s]*\**\s*\)/.exec(a);
    if (cast) {
      a = a.slice(cast[0].length).trim();
      continue;
    }
    return undefined;
  }
  return undefined;
}

function matchingParen(s: string, at: number): number {
  let depth = 0;
  for (let i = at; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** C printf of one integer conversion (`%08lx`, `%-5d`, `%u`, `%c`) of the unsigned value `raw`. */
function printfInt(c: Conv, raw: number | bigint): string {
  const { conv, flags } = c;
  let body: string;
  if (typeof raw === 'number' && (c.bits === 64 || raw < 2 ** (c.bits - 1)) && conv !== 'c') {
    // the common case: a value that is the same signed or unsigned, no BigInt needed
    body = conv === 'x' ? raw.toString(16) : conv === 'X' ? raw.toString(16).toUpperCase() : conv === 'o' ? raw.toString(8) : String(raw);
  } else {
    const b = BigInt(raw);
    if (conv === 'c') body = String.fromCharCode(Number(BigInt.asUintN(8, b)));
    else if (conv === 'd' || conv === 'i') body = BigInt.asIntN(c.bits, b).toString();
    else {
      const u = BigInt.asUintN(c.bits, b);
      body = conv === 'x' ? u.toString(16) : conv === 'X' ? u.toString(16).toUpperCase() : conv === 'o' ? u.toString(8) : u.toString();
    }
  }
  if (flags === '' && c.width === 0 && c.prec === undefined) return body;
  if (flags.includes('#') && body !== '0' && (conv === 'x' || conv === 'X')) body = `0${conv}${body}`;
  if (c.prec !== undefined) {
    const neg = body.startsWith('-');
    const digits = neg ? body.slice(1) : body;
    body = (neg ? '-' : '') + digits.padStart(c.prec, '0');
  }
  if (flags.includes('+') && !body.startsWith('-') && (conv === 'd' || conv === 'i')) body = `+${body}`;
  if (body.length >= c.width) return body;
  if (flags.includes('-')) return body.padEnd(c.width);
  if (flags.includes('0') && c.prec === undefined) {
    const sign = /^[-+]/.test(body) ? body[0]! : '';
    return sign + body.slice(sign.length).padStart(c.width - sign.length, '0');
  }
  return body.padStart(c.width);
}

/** libtraceevent's is_printable_array(): isprint() or isspace() up to the NUL (C locale: ASCII only). */
function printableBytes(data: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = data[i]!;
    if ((c < 32 && !(c >= 9 && c <= 13)) || c >= 127) return false;
  }
  return true;
}

/** Where a string field's bytes are: [start, NUL or end) in the payload buffer. */
function stringSpan(f: FormatField, r: PayloadReader): [number, number] | undefined {
  let off = f.offset;
  let len = f.size;
  if (f.kind === 'dynamic') {
    const loc = r.loc(f);
    if (!loc) return undefined;
    [off, len] = loc;
  } else if (f.size === 0) len = r.end - r.start - f.offset;
  const p = r.start + off;
  const stop = Math.min(p + len, r.end);
  if (p >= stop) return [p, p];
  let z = r.data.indexOf(0, p);
  if (z < 0 || z > stop) z = stop;
  return [p, z];
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** Renders events of one format in the raw view; one per format, built once. */
export class RawRenderer {
  private readonly segs: Segment[];

  constructor(private readonly fmt: EventFormat, private readonly ks: Kallsyms, private readonly longSize: number) {
    this.segs = parsePrintFmt(fmt.printFmt);
  }

  private unsigned(f: FormatField, r: PayloadReader): bigint {
    const v = r.int(f.offset, f.size, false);
    return v === undefined ? 0n : BigInt(v);
  }

  /** libtraceevent's print_field_raw(). */
  private rawValue(f: FormatField, r: PayloadReader): string {
    const isLong = f.type.includes('long');
    if (f.kind !== 'int') {
      let off = f.offset;
      let len = f.size;
      if (f.kind === 'dynamic') {
        const loc = r.loc(f);
        if (!loc) return '';
        [off, len] = loc;
      } else if (f.size === 0) len = r.end - r.start - f.offset;
      if (/char|u8|s8/.test(f.type)) {
        const span = stringSpan(f, r);
        if (span && printableBytes(r.data, span[0], span[1])) return r.data.toString('utf8', span[0], span[1]);
      }
      const bytes: string[] = [];
      for (let i = 0; i < len; i++) bytes.push(((r.int(off + i, 1, false) as number | undefined) ?? 0).toString(16).padStart(2, '0'));
      return `ARRAY[${bytes.join(', ')}]`;
    }
    const v = r.int(f.offset, f.size, false) ?? 0;
    if (typeof v === 'number' && (!f.signed || v < 2 ** (f.size * 8 - 1))) {
      const hexed = f.type.includes('*') || (isLong && (!f.signed || f.size === 4));
      return hexed ? `0x${v.toString(16)}` : f.signed && f.size === 2 ? String(v).padStart(2) : String(v);
    }
    const val = BigInt(v);
    if (f.type.includes('*')) return hex(val);
    if (f.signed) {
      switch (f.size) {
        case 4: return isLong ? hex(BigInt.asUintN(32, val)) : BigInt.asIntN(32, val).toString();
        case 2: return BigInt.asIntN(16, val).toString().padStart(2);
        case 1: return BigInt.asIntN(8, val).toString();
        default: return BigInt.asIntN(64, val).toString();
      }
    }
    return isLong ? hex(val) : val.toString();
  }

  private convValue(seg: Conv, f: FormatField, r: PayloadReader): string {
    if (!seg.conv.startsWith('p')) return printfInt(seg, r.int(f.offset, f.size, false) ?? 0);
    const val = this.unsigned(f, r);
    {
      const ext = seg.conv[1];
      if (ext === 'S' || ext === 's' || ext === 'F' || ext === 'f') {
        const hit = this.ks.lookup(val);
        if (hit) return ext === 'S' || ext === 'F' ? `${hit.name}+0x${hit.offset.toString(16)}` : hit.name;
        return hex(this.longSize === 4 ? BigInt.asUintN(32, val) : val);
      }
      return hex(val);
    }
  }

  /**
   * Which conversion prints each field: libtraceevent searches the conversions cyclically
   * from after the last one used, so the answer depends only on the format — worked out
   * once here instead of per event.
   */
  private plan(): Step[] {
    const segs = this.segs;
    let cursor: number | undefined = segs.length > 0 ? 0 : undefined;
    return this.fmt.fields.map((f) => {
      const step: Step = { prefix: Buffer.from(` ${f.name}=`, 'utf8'), f, stringy: f.kind !== 'int' && /char|u8|s8/.test(f.type) };
      if (cursor === undefined || f.kind !== 'int') return step;
      let has0x = false;
      let found = -1;
      let i = cursor;
      do {
        const s = segs[i]!;
        if ('lit' in s) has0x = s.lit.length > 1 && s.lit.endsWith('0x');
        else if (s.field === f.name && s.conv !== 's') {
          found = i;
          break;
        } else has0x = false;
        i = i + 1 < segs.length ? i + 1 : 0;
      } while (i !== cursor);
      if (found < 0) return step;
      cursor = found + 1 < segs.length ? found + 1 : undefined;
      return { ...step, prefix: Buffer.from(` ${f.name}=${has0x ? '0x' : ''}`, 'utf8'), conv: segs[found] as Conv };
    });
  }

  private steps?: Step[];

  /** ` name=value` for every field of the event, written into `out` as bytes (common values skip string building). */
  renderTo(out: ByteSink, r: PayloadReader): void {
    this.steps ??= this.plan();
    for (const st of this.steps) {
      out.copy(st.prefix, 0, st.prefix.length);
      const f = st.f;
      if (st.conv) {
        const c = st.conv;
        if (c.flags === '' && c.width === 0 && c.prec === undefined && (c.conv === 'x' || c.conv === 'u' || c.conv === 'd' || c.conv === 'i')) {
          const v = r.int(f.offset, f.size, false) ?? 0;
          if (typeof v === 'number' && (c.bits === 64 || v < 2 ** (c.bits - 1))) {
            out.uint(v, c.conv === 'x' ? 16 : 10);
            continue;
          }
        }
        out.text(this.convValue(c, f, r));
      } else if (f.kind === 'int') {
        const v = r.int(f.offset, f.size, false) ?? 0;
        if (typeof v === 'number' && (!f.signed || v < 2 ** (f.size * 8 - 1)) && !(f.signed && f.size === 2 && v < 10)) {
          if (f.type.includes('*') || (f.type.includes('long') && (!f.signed || f.size === 4))) {
            out.byte(48);
            out.byte(120);
            out.uint(v, 16);
          } else out.uint(v, 10);
        } else out.text(this.rawValue(f, r));
      } else if (st.stringy) {
        const span = stringSpan(f, r);
        if (span && printableBytes(r.data, span[0], span[1])) out.copy(r.data, span[0], span[1]);
        else out.text(this.rawValue(f, r));
      } else out.text(this.rawValue(f, r));
    }
  }
}

interface Step {
  /** ` name=`, plus the `0x` the print fmt puts before the conversion. */
  prefix: Buffer;
  f: FormatField;
  stringy: boolean;
  conv?: Conv;
}
