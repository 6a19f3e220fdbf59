/**
 * The rendered view's plan: an event's parsed print fmt compiled once per format into
 * closures that write each record's text straight into the output bytes. The argument
 * trees are the evaluator's (print-fmt-eval.ts) and evaluate to the same values — every
 * operand is a pure function of the payload — but:
 *
 * - number atoms are read once (strtoull) instead of per record, and a subtree made of
 *   constants only (the kernel's `TASK_REPORT_MAX`-style masks) is folded to its value;
 * - a conversion of a bare field that needs no width, precision or flags prints the
 *   field's number without a bigint, and a `%s` of a string field copies the payload's
 *   bytes without making a JavaScript string;
 * - flag and symbol tables hold their values as numbers parsed once, and their texts
 *   as bytes.
 *
 * Anything else goes through the evaluator's own conversion, so the output is the
 * evaluator's, byte for byte (print-fmt-compile.test.ts checks it on random payloads).
 */
import type { ByteSink } from './byte-sink.js';
import { printfInt, printfString } from './cprintf.js';
import { castValue, conversion, Eval, narrow, pointer, str, tepTypeSize, U64, type FmtContext } from './print-fmt-eval.js';
import { cNumber, constOp, type Node, type Segment } from './print-fmt-parse.js';

/** Writes one record's text for one segment. */
export type Writer = (e: Eval, out: ByteSink) => void;

/** A compiled operand: its value per record, and the value itself when it is a constant. */
interface NumCode {
  run: (e: Eval) => bigint;
  constant?: bigint;
  /** The value as a number, where it is always below 2^32 (no BigInt made per record). */
  small?: (e: Eval) => number;
  /** The value modulo 2^32, as an unsigned number (all an AND with a small value needs). */
  low?: (e: Eval) => number;
}

type Conv = Extract<Segment, { t: 'digit' | 'pointer' | 'string' }>;

const TWO_32 = 2 ** 32;

function konst(c: bigint): NumCode {
  const lo = Number(c & 0xffffffffn);
  return { run: () => c, constant: c, small: c < BigInt(TWO_32) ? () => lo : undefined, low: () => lo };
}

/** eval_num_arg of `n`, compiled (Eval.value walks the same tree per record). */
export function compileNum(n: Node, ctx: FmtContext): NumCode {
  switch (n.k) {
    case 'atom':
      return konst(cNumber(n.text));
    case 'field': {
      const f = n.f;
      if (!f) return konst(0n);
      const { offset, size } = f;
      const code: NumCode = { run: (e) => e.num(offset, size) };
      if (size === 1 || size === 2 || size === 4) {
        // the whole field, or 0 when it runs past the record (as Eval.num)
        code.small = code.low = (e) => (offset + size <= e.size ? (e.r.int(offset, size, false) as number) : 0);
      } else if (size === 8) {
        const lowAt = ctx.little ? offset : offset + 4;
        code.low = (e) => (offset + 8 <= e.size ? (e.r.int(lowAt, 4, false) as number) : 0);
      }
      return code;
    }
    case 'cast': {
      const inner = compileNum(n.item, ctx);
      const type = n.type;
      if (inner.constant !== undefined) return konst(castValue(inner.constant, type, false));
      const run = inner.run;
      return { run: (e) => castValue(run(e), type, false) };
    }
    case 'op':
      return compileOp(n, ctx);
    case 'dynlen': {
      const f = n.f;
      if (!f) return konst(0n);
      return { run: (e) => BigInt(e.loc(f)[1]) };
    }
    default:
      return konst(0n);
  }
}

function compileOp(n: Extract<Node, { k: 'op' }>, ctx: FmtContext): NumCode {
  if (n.op === '[') return compileIndex(n, ctx);
  if (n.op === '?') {
    const c = compileNum(n.left!, ctx);
    const branches = n.right as Extract<Node, { k: 'op' }>;
    const a = compileNum(branches.left!, ctx);
    const b = compileNum(branches.right!, ctx);
    if (c.constant !== undefined) return c.constant !== 0n ? a : b;
    const cond = truth(c),
      then = a.run,
      otherwise = b.run;
    const code: NumCode = { run: (e) => (cond(e) ? then(e) : otherwise(e)) };
    if (a.small && b.small) {
      const x = a.small,
        y = b.small;
      code.small = (e) => (cond(e) ? x(e) : y(e));
    }
    return code;
  }
  const l = n.left === undefined ? konst(0n) : compileNum(n.left, ctx);
  const r = n.right === undefined ? konst(0n) : compileNum(n.right, ctx);
  const op = n.op;
  if (l.constant !== undefined && r.constant !== undefined) return konst(constOp(op, l.constant, r.constant));
  const left = l.run,
    right = r.run;
  if (op === '&') {
    const code: NumCode = { run: (e) => left(e) & right(e) };
    // below 2^32 when either side is: the other side's low 32 bits are all that count
    const exact = l.small && r.low ? [l.small, r.low] : r.small && l.low ? [r.small, l.low] : undefined;
    if (exact) {
      const [x, y] = exact as [(e: Eval) => number, (e: Eval) => number];
      code.small = code.low = (e) => (x(e) & y(e)) >>> 0;
    } else if (l.low && r.low) {
      const x = l.low,
        y = r.low;
      code.low = (e) => (x(e) & y(e)) >>> 0;
    }
    return code;
  }
  if (op === '|') {
    const code: NumCode = { run: (e) => left(e) | right(e) };
    if (l.low && r.low) {
      const x = l.low,
        y = r.low;
      code.low = (e) => (x(e) | y(e)) >>> 0;
      if (l.small && r.small) code.small = code.low;
    }
    return code;
  }
  return { run: (e) => constOp(op, left(e), right(e)) };
}

/** Whether the value is not zero (a condition), without a BigInt where the value is small. */
function truth(c: NumCode): (e: Eval) => boolean {
  const small = c.small;
  if (small) return (e) => small(e) !== 0;
  const run = c.run;
  return (e) => run(e) !== 0n;
}

/** `x[i]` (Eval's `[` case): an element of a dynamic array or of an array field. */
function compileIndex(n: Extract<Node, { k: 'op' }>, ctx: FmtContext): NumCode {
  const index = compileNum(n.right!, ctx).run;
  let l = n.left!;
  let cast: Extract<Node, { k: 'cast' }> | undefined;
  while (l.k === 'cast') {
    cast ??= l;
    l = l.item;
  }
  const castType = cast?.type;
  const elem = (v: bigint): bigint => (castType !== undefined ? castValue(v, castType, true) : v);
  if (l.k === 'dynarray' && l.f) {
    const f = l.f;
    const size = tepTypeSize(f.type) || ctx.longSize;
    return { run: (e) => elem(e.num(e.loc(f)[0] + Number(index(e)), size)) };
  }
  if (l.k === 'field' && l.f) {
    const f = l.f;
    const es = f.array ? (f.kind === 'array' ? f.elemSize : 1) : f.size;
    return { run: (e) => elem(e.num(f.offset + Number(index(e)) * es, es)) };
  }
  return konst(0n);
}

/** The segments of a parsed print fmt as writers (text as bytes, conversions compiled). */
export function compileSegments(segs: readonly Segment[], ctx: FmtContext): Writer[] {
  return segs.map((s): Writer => {
    if (s.t !== 'text') return compileConversion(s, ctx);
    const bytes = Buffer.from(s.text, 'latin1');
    return (_e, out) => out.copy(bytes, 0, bytes.length);
  });
}

function constText(text: string): Writer {
  const bytes = Buffer.from(text, 'latin1');
  return (_e, out) => out.copy(bytes, 0, bytes.length);
}

/** The evaluator's own conversion: the output of every case not compiled below. */
function generic(seg: Conv, ctx: FmtContext): Writer {
  return (e, out) => out.latin1(conversion(seg, e, ctx));
}

function compileConversion(seg: Conv, ctx: FmtContext): Writer {
  switch (seg.t) {
    case 'digit':
      return compileDigit(seg, ctx);
    case 'string':
      return seg.lenArg ? generic(seg, ctx) : (compileString(seg.spec, seg.arg, ctx) ?? generic(seg, ctx));
    case 'pointer':
      return compilePointer(seg, ctx);
  }
}

/** `%d %u %x` and their length modifiers, with no flag, width or precision. */
const PLAIN_INT = /^%[hlLzZ]*[diux]$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function compileDigit(seg: Conv, ctx: FmtContext): Writer {
  const spec = seg.spec;
  const conv = spec[spec.length - 1]!;
  const signed = conv === 'd' || conv === 'i';
  const ls = seg.ls;
  const value = compileNum(seg.arg, ctx);
  if (seg.lenArg || !PLAIN_INT.test(spec)) {
    const lenArg = seg.lenArg ? compileNum(seg.lenArg, ctx).run : undefined;
    const v = value.run;
    return (e, out) => out.latin1(printfInt(spec, narrow(v(e), ls, signed), lenArg ? Number(BigInt.asIntN(32, lenArg(e))) : undefined));
  }
  const base = conv === 'x' ? 16 : 10;
  if (value.constant !== undefined) return constText(printfInt(spec, narrow(value.constant, ls, signed)));
  const bits = ls <= -2 ? 8 : ls === -1 ? 16 : ls === 0 ? 32 : 64;
  const f = seg.arg.k === 'field' ? seg.arg.f : undefined;
  if (f && (f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8) && f.size * 8 <= bits) {
    // the field's bytes as a number: narrowing to `bits` keeps it (a signed conversion of
    // a field as wide as the conversion turns the top half negative); 0 past the payload
    const { offset, size } = f;
    const half = 2 ** (bits - 1);
    const full = 2 ** bits;
    const v = value.run;
    return (e, out) => {
      const x = offset + size <= e.size ? e.r.int(offset, size, false)! : 0;
      if (typeof x !== 'number') out.latin1(printfInt(spec, narrow(v(e), ls, signed), undefined));
      else if (!signed) out.uint(x, base);
      else out.int(bits <= 32 && x >= half ? x - full : x);
    };
  }
  if (value.small) {
    // a value below 2^32 narrowed to the conversion's width: the low bits, the top one a sign for d/i
    const small = value.small;
    const mask = bits >= 32 ? undefined : 2 ** bits - 1;
    const half = 2 ** (Math.min(bits, 32) - 1);
    const full = 2 ** Math.min(bits, 32);
    return (e, out) => {
      let x = small(e);
      if (mask !== undefined) x &= mask;
      if (!signed) out.uint(x, base);
      else out.int(bits <= 32 && x >= half ? x - full : x);
    };
  }
  const v = value.run;
  return (e, out) => {
    const x = narrow(v(e), ls, signed);
    if (x <= MAX_SAFE && x >= -MAX_SAFE) {
      if (signed) out.int(Number(x));
      else out.uint(Number(x), base);
    } else out.latin1(printfInt(spec, x, undefined));
  };
}

/** The C string at payload offset `off`, at most `len` bytes, up to its NUL, as bytes (Eval.cstr). */
function copyCstr(e: Eval, off: number, len: number, out: ByteSink): void {
  const r = e.r;
  const a = r.start + Math.max(0, off);
  const b = Math.max(a, Math.min(r.end, a + Math.max(0, len)));
  const d = r.data;
  let z = a;
  while (z < b && d[z] !== 0) z++;
  out.copy(d, a, z);
}

/** A `%s`-family conversion without a `*` argument (print_str_arg); undefined where the evaluator's is used. */
function compileString(spec: string, n: Node, ctx: FmtContext): Writer | undefined {
  const plain = spec === '%s';
  switch (n.k) {
    case 'atom':
    case 'bstring':
      return constText(printfString(spec, n.text));
    case 'field': {
      const f = n.f;
      if (!f) return constText('');
      if ((!f.array && f.size === ctx.longSize) || !plain) return undefined;
      const { offset, size } = f;
      return (e, out) => copyCstr(e, offset, size || e.size - offset, out);
    }
    case 'str': {
      const f = n.f;
      if (!f) return constText('');
      if (!plain) return undefined;
      return (e, out) => {
        const [off, len] = e.loc(f);
        if (len) copyCstr(e, off, e.size - off, out);
      };
    }
    case 'flags':
      return compileFlags(spec, n, ctx);
    case 'symbols':
      return compileSymbols(spec, n, ctx);
    case 'op': {
      if (n.op !== '?') return constText('');
      const cond = compileNum(n.left!, ctx);
      const branches = n.right as Extract<Node, { k: 'op' }>;
      const a = compileString(spec, branches.left!, ctx) ?? ((e: Eval, out: ByteSink) => out.latin1(str(spec, branches.left!, e, ctx, undefined)));
      const b = compileString(spec, branches.right!, ctx) ?? ((e: Eval, out: ByteSink) => out.latin1(str(spec, branches.right!, e, ctx, undefined)));
      if (cond.constant !== undefined) return cond.constant !== 0n ? a : b;
      const c = truth(cond);
      return (e, out) => (c(e) ? a(e, out) : b(e, out));
    }
    default:
      return undefined;
  }
}

/** `0x` and `n` in hex. */
function hex(out: ByteSink, n: number): void {
  out.byte(48);
  out.byte(120);
  out.uint(n, 16);
}

/** __print_flags: each set flag's name, `delim` between, leftover bits as hex (print_str_arg's PRINT_FLAGS). */
function compileFlags(spec: string, n: Extract<Node, { k: 'flags' }>, ctx: FmtContext): Writer {
  const code = compileNum(n.value, ctx);
  const value = code.run;
  const syms = n.syms.map((s) => {
    const fval = BigInt.asIntN(64, cNumber(s.value));
    return { fval, fv: U64(fval), n: Number(fval), text: Buffer.from(printfString(spec, s.str), 'latin1') };
  });
  const delim = n.delim === undefined ? undefined : Buffer.from(n.delim, 'latin1');
  const small = code.small;
  if (small && syms.every((sym) => sym.fval >= 0n && sym.fval < BigInt(TWO_32))) {
    // a value and flags below 2^32 (no negative "when zero" entry): the same loop on numbers
    return (e, out) => {
      let val = small(e);
      let printed = false;
      for (const sym of syms) {
        if (sym.n > 0 && (val & sym.n) >>> 0 === sym.n) {
          if (printed && delim) out.copy(delim, 0, delim.length);
          out.copy(sym.text, 0, sym.text.length);
          printed = true;
          val = (val & ~sym.n) >>> 0;
        }
      }
      if (val !== 0) {
        if (printed && delim) out.copy(delim, 0, delim.length);
        hex(out, val);
      }
    };
  }
  return (e, out) => {
    let val = value(e);
    let printed = false;
    for (const sym of syms) {
      if (val === 0n && sym.fval < 0n) {
        out.copy(sym.text, 0, sym.text.length);
        break;
      }
      if (sym.fval > 0n && (val & sym.fv) === sym.fv) {
        if (printed && delim) out.copy(delim, 0, delim.length);
        out.copy(sym.text, 0, sym.text.length);
        printed = true;
        val &= ~sym.fv;
      }
    }
    if (val !== 0n) {
      if (printed && delim) out.copy(delim, 0, delim.length);
      out.latin1(`0x${val.toString(16)}`);
    }
  };
}

/** __print_symbolic: the name of the first entry equal to the value, else the value as hex. */
function compileSymbols(spec: string, n: Extract<Node, { k: 'symbols' }>, ctx: FmtContext): Writer {
  const code = compileNum(n.value, ctx);
  const value = code.run;
  const syms = n.syms.map((s) => ({ v: U64(cNumber(s.value)), text: Buffer.from(printfString(spec, s.str), 'latin1') }));
  const small = code.small;
  if (small) {
    // a value below 2^32 can only equal an entry below 2^32
    const byNumber = syms.filter((sym) => sym.v < BigInt(TWO_32)).map((sym) => ({ v: Number(sym.v), text: sym.text }));
    return (e, out) => {
      const val = small(e);
      for (const sym of byNumber) {
        if (sym.v === val) {
          out.copy(sym.text, 0, sym.text.length);
          return;
        }
      }
      hex(out, val);
    };
  }
  return (e, out) => {
    const val = value(e);
    for (const sym of syms) {
      if (sym.v === val) {
        out.copy(sym.text, 0, sym.text.length);
        return;
      }
    }
    out.latin1(`0x${val.toString(16)}`);
  };
}

/** print_arg_pointer: `%ps`/`%pS` symbols and plain pointers compiled; MAC and hex dumps by the evaluator. */
function compilePointer(seg: Conv, ctx: FmtContext): Writer {
  const { spec, arg } = seg;
  if (arg.k === 'bstring') return constText(arg.text);
  const ext = spec[spec.indexOf('p') + 1];
  switch (ext) {
    case 'F':
    case 'f':
    case 'S':
    case 's': {
      const v = compileNum(arg, ctx).run;
      const withOffset = ext === 'F' || ext === 'S';
      return (e, out) => out.latin1(e.symbol(v(e), withOffset));
    }
    case 'M':
    case 'm':
    case 'h':
      return (e, out) => out.latin1(pointer(spec, arg, e));
    default: {
      const v = compileNum(arg, ctx).run;
      return (e, out) => {
        const x = v(e);
        if (x === 0n) out.latin1('(nil)');
        else {
          if (x <= MAX_SAFE) hex(out, Number(x));
          else out.latin1(`0x${x.toString(16)}`);
        }
      };
    }
  }
}
