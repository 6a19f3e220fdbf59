/**
 * An event's payload printed the way `trace-cmd report` prints it, from its parsed `print
 * fmt` (print-fmt-parse.ts):
 *
 * - the raw view (`-R`, libtraceevent's print_selected_fields): ` name=value` for every
 *   field, where a field that a conversion prints directly (`REC->name`, casts aside) is
 *   printed by that conversion (with a `0x` that precedes it), searching the conversions
 *   cyclically from after the last one used; every other field, and every field of an
 *   event whose print fmt libtraceevent cannot parse, in libtraceevent's raw form;
 * - the rendered view (default, without plugins: `-N`): the print fmt evaluated — the
 *   argument expressions on the payload's fields, `__print_flags`/`__print_symbolic`
 *   tables, strings, hex dumps, arrays, bitmasks, `%ps` symbols — or `[FAILED TO PARSE]`
 *   and the raw fields where libtraceevent gives up;
 * - `trace_printk` records (`ftrace:bprint`): the format found by its address in the
 *   file's printk formats and its arguments read from the binary buffer, as
 *   libtraceevent reads them.
 *
 * Text is handled as byte strings (one character per byte, latin1) from the payload to the
 * output, so bytes that are not UTF-8 come out as trace-cmd writes them.
 */
import type { ByteSink } from './byte-sink.js';
import type { EventFormat, FormatField, PayloadReader } from './format.js';
import { compileSegments, type Writer } from './print-fmt-compile.js';
import { conversion, Eval, rawField, uncast, type FmtContext } from './print-fmt-eval.js';
import { FmtFailure, parsePrintFmt, segmentsOf, type Node, type ParsedPrintFmt, type Segment } from './print-fmt-parse.js';

export type { FmtContext } from './print-fmt-eval.js';

/** A plan step of the raw view: the field, ` name=`, and the conversion that prints it (if one does). */
interface Step {
  f: FormatField;
  prefix: Buffer;
  seg?: Extract<Segment, { t: 'digit' | 'pointer' | 'string' }>;
  /** `%u`/`%x`/`%d`-like on the bare field: print the number directly when it needs no narrowing. */
  fast?: { base: 10 | 16; bits: number; below: number };
  /**
   * A scalar field no conversion prints: its raw form is the plain number (`0x` hex for
   * pointers and longs) for values below `below` (signed values below their sign bit,
   * and a signed short at least 10: libtraceevent prints those with `%2d`).
   */
  num?: { hex: boolean; below: number; min: number };
}

/** The field a conversion prints directly: its argument with the casts taken off. */
function directField(n: Node): FormatField | undefined {
  const a = uncast(n);
  return a.k === 'field' ? a.f : undefined;
}

/** Renders events of one format, in either view; built once per format. */
export class EventPrinter {
  private parsedRaw?: ParsedPrintFmt;
  private parsedPretty?: ParsedPrintFmt;
  private steps?: Step[];
  /** bprint: once a record's format lacks arguments, libtraceevent marks the event failed for good. */
  private bprintFailed = false;

  constructor(
    private readonly fmt: EventFormat,
    private readonly ctx: FmtContext,
  ) {}

  private get isBprint(): boolean {
    return this.fmt.system === 'ftrace' && this.fmt.name === 'bprint';
  }

  /** The raw view's plan (trace-cmd -R loads its plugins, whose helpers then parse). */
  private plan(): Step[] {
    const parsed = (this.parsedRaw ??= parsePrintFmt(this.fmt, { plugins: true, longSize: this.ctx.longSize }));
    const segs = this.isBprint || parsed.failed !== undefined ? [] : parsed.segments!;
    let cursor: number | undefined = segs.length > 0 ? 0 : undefined;
    return this.fmt.fields.map((f): Step => {
      const step: Step = { f, prefix: Buffer.from(` ${f.name}=`, 'utf8') };
      if (!f.array && [1, 2, 4, 8].includes(f.size)) {
        const hex = f.type.includes('*') || (f.type.includes('long') && (!f.signed || f.size === 4));
        step.num = { hex, below: f.signed ? 2 ** (f.size * 8 - 1) : 2 ** Math.min(f.size * 8, 53), min: f.signed && f.size === 2 ? 10 : 0 };
      }
      if (cursor === undefined || f.array) return step;
      let has0x = false;
      let i = cursor;
      do {
        const s = segs[i]!;
        if (s.t === 'text') has0x = s.text.length > 1 && s.text.endsWith('0x');
        else if (directField(s.arg) === f) {
          cursor = i + 1 < segs.length ? i + 1 : undefined;
          step.prefix = Buffer.from(` ${f.name}=${has0x ? '0x' : ''}`, 'utf8');
          step.seg = s;
          if (s.t === 'digit' && s.arg.k === 'field' && !s.lenArg && /^%(l{0,2})[uxd]$/.test(s.spec)) {
            const conv = s.spec[s.spec.length - 1]!;
            const bits = s.ls <= -2 ? 8 : s.ls === -1 ? 16 : s.ls === 0 ? 32 : 64;
            // a signed conversion prints the same digits as long as the value stays below the sign bit
            const b = conv === 'd' ? bits - 1 : bits;
            step.fast = { base: conv === 'x' ? 16 : 10, bits: b, below: 2 ** Math.min(b, 53) };
          }
          return step;
        } else has0x = false;
        i = i + 1 < segs.length ? i + 1 : 0;
      } while (i !== cursor);
      return step;
    });
  }

  /** The evaluator, kept for the payload reader it was made for (the decoder reuses one). */
  private ev?: Eval;

  private evalFor(r: PayloadReader): Eval {
    let e = this.ev;
    if (!e || e.r !== r) this.ev = e = new Eval(this.ctx, r);
    return e;
  }

  /** ` name=value` for every field (trace-cmd report -R), written into `out`. */
  renderRaw(out: ByteSink, r: PayloadReader): void {
    const steps = (this.steps ??= this.plan());
    const e = this.evalFor(r);
    const size = r.end - r.start;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k]!;
      out.copy(st.prefix, 0, st.prefix.length);
      const f = st.f;
      if (st.seg) {
        const fast = st.fast;
        if (fast && f.offset + f.size <= size) {
          const v = r.int(f.offset, f.size, false);
          if (typeof v === 'number' && (fast.bits >= 53 || v < fast.below)) {
            out.uint(v, fast.base);
            continue;
          }
        }
        out.latin1(conversion(st.seg, e, this.ctx));
        continue;
      }
      if (st.num !== undefined) {
        if (f.offset + f.size <= size) {
          const v = r.int(f.offset, f.size, false);
          if (typeof v === 'number' && v < st.num.below && v >= st.num.min) {
            if (st.num.hex) {
              out.byte(48);
              out.byte(120);
              out.uint(v, 16);
            } else out.uint(v, 10);
            continue;
          }
        }
      } else if (f.kind === 'string' || (f.kind === 'dynamic' && f.elemSize === 0)) {
        let off = f.offset;
        let len = f.size;
        if (f.kind === 'dynamic') [off, len] = e.loc(f);
        // printable up to its NUL within its length: copied as a C string (to the NUL, even
        // past the length), straight from the payload
        const data = r.data;
        const a = r.start + off;
        const lim = Math.min(a + len, r.end);
        let z = a;
        let ok = a <= r.end;
        for (; ok && z < lim; z++) {
          const c = data[z]!;
          if (c === 0) break;
          if ((c < 32 && !(c >= 9 && c <= 13)) || c >= 127) ok = false;
        }
        if (ok) {
          if (z === lim) while (z < r.end && data[z] !== 0) z++;
          out.copy(data, a, z);
          continue;
        }
      }
      out.latin1(rawField(f, e));
    }
  }

  /** The rendered view's compiled plan; null where it is renderPretty's (trace_printk, a failed print fmt). */
  private writers?: Writer[] | null;

  /** The rendered payload (renderPretty's text, byte for byte) written into `out` by the compiled plan. */
  writePretty(out: ByteSink, r: PayloadReader): void {
    let w = this.writers;
    if (w === undefined) {
      const parsed = this.isBprint ? undefined : (this.parsedPretty ??= parsePrintFmt(this.fmt, { plugins: false, longSize: this.ctx.longSize }));
      w = this.writers = parsed?.failed === undefined && parsed?.segments ? compileSegments(parsed.segments, this.ctx) : null;
    }
    if (w === null) {
      out.latin1(this.renderPretty(r));
      return;
    }
    const e = this.evalFor(r);
    for (let k = 0; k < w.length; k++) w[k]!(e, out);
  }

  /** The rendered payload (trace-cmd report -N), the print fmt evaluated by walking its trees. */
  renderPretty(r: PayloadReader): string {
    const e = new Eval(this.ctx, r);
    if (this.isBprint) return this.bprint(e, r);
    const parsed = (this.parsedPretty ??= parsePrintFmt(this.fmt, { plugins: false, longSize: this.ctx.longSize }));
    if (parsed.failed !== undefined) return this.failed(e);
    return this.print(parsed.segments!, e);
  }

  private print(segs: readonly Segment[], e: Eval): string {
    let out = '';
    for (const s of segs) out += s.t === 'text' ? s.text : conversion(s, e, this.ctx);
    return out;
  }

  /** `[FAILED TO PARSE]` and every field raw. */
  private failed(e: Eval): string {
    let out = '[FAILED TO PARSE]';
    for (const f of this.fmt.fields) out += ` ${f.name}=${rawField(f, e)}`;
    return out;
  }

  /** The trace_printk message of a bprint record: `%ps: ` and its format, evaluated. */
  private bprint(e: Eval, r: PayloadReader): string {
    if (this.bprintFailed) return this.failed(e);
    const { format, args } = bprintArgs(this.fmt, e, r, this.ctx);
    const segs = segmentsOf(format, args, () => {
      this.bprintFailed = true;
    });
    return this.print(segs, e);
  }

  /** The message of a bprint record (its format evaluated, without the `ip: ` prefix), and the format. */
  bprintMessage(r: PayloadReader): { fmt: string | null; message: string } {
    const e = new Eval(this.ctx, r);
    const { format, args, found } = bprintArgs(this.fmt, e, r, this.ctx);
    const segs = segmentsOf(format.slice(5), args.slice(1), () => undefined);
    const utf8 = (t: string): string => Buffer.from(t, 'latin1').toString('utf8');
    return { fmt: found ? utf8(format.slice(5)) : null, message: utf8(this.print(segs, e)) };
  }
}

/** get_bprint_format + make_bprint_args: the format by its address, the arguments from `buf`. */
function bprintArgs(fmt: EventFormat, e: Eval, r: PayloadReader, ctx: FmtContext): { format: string; args: Node[]; found: boolean } {
  const fmtField = fmt.fields.find((f) => f.name === 'fmt');
  const ipField = fmt.fields.find((f) => f.name === 'ip');
  const bufField = fmt.fields.find((f) => f.name === 'buf');
  const addr = fmtField ? e.num(fmtField.offset, fmtField.size) : 0n;
  const printk = ctx.printk.get(addr);
  const format = printk === undefined ? `%ps: (NO FORMAT FOUND at ${addr.toString(16)})\n` : `%ps: ${printk}`;
  const ip = ipField ? e.num(ipField.offset, ipField.size) : 0n;
  const args: Node[] = [{ k: 'atom', text: ip.toString() }];
  if (!bufField) return { format, args, found: printk !== undefined };
  const size = r.end - r.start;
  let p = bufField.offset;
  const push = (vsize: number): void => {
    p = (p + 3) & ~3; // the arguments are 4-byte aligned
    const v = p + vsize <= size ? e.num(p, vsize) : 0n;
    p += vsize;
    args.push({ k: 'atom', text: BigInt.asIntN(64, v).toString() });
  };
  const pushString = (): void => {
    const b = e.bytes(p, size - p);
    const z = b.indexOf(0);
    const end = z < 0 ? b.length : z;
    args.push({ k: 'bstring', text: b.toString('latin1', 0, end) });
    p += end + 1;
  };
  for (let i = 5; i < format.length && p < size; i++) {
    if (format[i] !== '%') continue;
    let ls = 0;
    for (;;) {
      const c = format[++i];
      if (c === undefined) break;
      if (c === '%') break;
      if (c === 'l') {
        ls++;
        continue;
      }
      if (c === 'L') {
        ls = 2;
        continue;
      }
      if ((c >= '0' && c <= '9') || c === '.' || c === '#') continue;
      if (c === 'z' || c === 'Z') {
        ls = 1;
        continue;
      }
      if (c === '*') {
        push(4);
        continue;
      }
      if (c === 'p') {
        ls = 1;
        const x = format[i + 1] ?? '';
        if (/[A-Za-z0-9]/.test(x)) {
          i++;
          const plain = x === 's' || x === 'S' || x === 'x' || ((x === 'f' || x === 'F') && format[i + 1] !== 'w');
          if (!plain) {
            // newer kernels store what a dereferencing %p points to as a string
            const first = p < size ? r.data[r.start + p]! : 0;
            if (first >= 32 && first < 127) {
              pushString();
              break;
            }
          }
        }
      }
      if (c === 'p' || 'duixXo'.includes(c)) {
        push(ls === 0 ? 4 : ls === 1 ? ctx.longSize : ls === 2 ? 8 : ls);
      } else if (c === 's') pushString();
      break; // any other character ends the conversion without an argument
    }
  }
  return { format, args, found: printk !== undefined };
}

export { FmtFailure };
