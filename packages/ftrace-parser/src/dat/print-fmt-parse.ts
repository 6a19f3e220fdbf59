/**
 * An event's `print fmt` (`"fmt", arg, arg`) parsed the way libtraceevent parses it, so
 * that `--pretty` prints what `trace-cmd report` prints — including where libtraceevent
 * gives up. An argument is a small C expression: `REC->field`, numbers, strings, casts,
 * unary and binary operators, `?:`, `x[i]`, and the tracepoint helpers (`__print_flags`,
 * `__print_symbolic`, `__get_str`, `__print_hex`, `__print_array`, `__get_bitmask`,
 * `__get_dynamic_array[_len]`, `sizeof`, `__builtin_expect`). Any other function makes the
 * event "failed": trace-cmd then prints `[FAILED TO PARSE]` and the raw fields, and its raw
 * view (`-R`) stops matching fields to conversions; `FAILED` reproduces both.
 *
 * libtraceevent's expression parser has its own precedence rules, and this parser keeps
 * them (the printed values depend on them): an operator applies to the whole expression
 * on its left only if it binds more loosely than the operator before it, so operators of
 * equal precedence group to the right (`a - b - c` is `a - (b - c)`); a parenthesised right
 * operand holding a looser operator is rotated (`a * (b + c)` becomes `(a * b) + c`); the
 * else-branch of `?:` is a single operand (`c ? a : b + 1` is `(c ? a : b) + 1`); and the
 * only unary operators are `~ ! + -`.
 */
import type { EventFormat, FormatField } from './format.js';

export type Node =
  | { k: 'empty' }
  | { k: 'atom'; text: string }
  | { k: 'field'; name: string; f: FormatField | undefined }
  | { k: 'cast'; type: string; item: Node }
  | { k: 'op'; op: string; left: Node | undefined; right: Node | undefined; prio: number }
  | { k: 'flags'; value: Node; delim: string | undefined; syms: FlagSym[] }
  | { k: 'symbols'; value: Node; syms: FlagSym[] }
  | { k: 'hex' | 'hexstr'; field: Node; size: Node }
  | { k: 'intarray'; field: Node; count: Node; elSize: Node }
  | { k: 'str' | 'bitmask' | 'cpumask' | 'dynarray' | 'dynlen'; name: string; f: FormatField | undefined }
  | { k: 'func'; name: string; args: Node[] }
  | { k: 'bstring'; text: string };

export interface FlagSym {
  value: string;
  str: string;
}

/** One piece of the parsed format: literal text, or a conversion with its argument. */
export type Segment = { t: 'text'; text: string } | { t: 'digit' | 'pointer' | 'string'; spec: string; ls: number; arg: Node; lenArg: Node | undefined };

export class FmtFailure extends Error {}

type TokType = 'item' | 'dquote' | 'squote' | 'op' | 'delim' | 'none';

interface Tok {
  type: TokType;
  text: string;
}

function isAlnum(c: string): boolean {
  return /[A-Za-z0-9_]/.test(c);
}

/** libtraceevent's tokens: items, quoted strings (escapes kept), ops, the delimiters `( ) ,`. */
class Lexer {
  private i = 0;
  constructor(private readonly s: string) {}

  next(): Tok {
    const s = this.s;
    while (this.i < s.length && /\s/.test(s[this.i]!)) this.i++;
    if (this.i >= s.length) return { type: 'none', text: '' };
    const c = s[this.i]!;
    if (isAlnum(c)) {
      const start = this.i;
      while (this.i < s.length && isAlnum(s[this.i]!)) this.i++;
      return { type: 'item', text: s.slice(start, this.i) };
    }
    if (c === '"' || c === "'") {
      let text = '';
      for (;;) {
        this.i++;
        let prevBackslash = false;
        while (this.i < s.length) {
          const d = s[this.i]!;
          if (d === c && !prevBackslash) break;
          text += d;
          prevBackslash = d === '\\' && !prevBackslash;
          this.i++;
        }
        this.i++; // the closing quote
        if (c !== '"') break;
        // adjacent "strings" are one
        let j = this.i;
        while (j < s.length && /\s/.test(s[j]!)) j++;
        if (s[j] !== '"') break;
        this.i = j;
      }
      return { type: c === '"' ? 'dquote' : 'squote', text };
    }
    this.i++;
    if (c === '(' || c === ')' || c === ',') return { type: 'delim', text: c };
    const d = s[this.i];
    let op = c;
    if (c === '-' && d === '>') op = '->';
    else if ('-+|&<>'.includes(c) && d === c) op = c + c;
    else if ((c === '<' || c === '>' || c === '!' || c === '=') && d === '=') op = `${c}=`;
    this.i += op.length - 1;
    return { type: 'op', text: op };
  }
}

/** libtraceevent's operator precedences (lower binds tighter). */
function prioOf(op: string): number {
  switch (op) {
    case '~':
    case '!':
      return 4;
    case '*':
    case '/':
    case '%':
      return 6;
    case '+':
    case '-':
      return 7;
    case '<<':
    case '>>':
      return 8;
    case '<':
    case '>':
    case '<=':
    case '>=':
      return 9;
    case '==':
    case '!=':
      return 10;
    case '&':
      return 11;
    case '^':
      return 12;
    case '|':
      return 13;
    case '&&':
      return 14;
    case '||':
      return 15;
    case '?':
      return 16;
    default:
      return -1;
  }
}

const BINARY = new Set(['>>', '<<', '&', '|', '&&', '||', '-', '+', '*', '^', '/', '%', '<', '>', '<=', '>=', '==', '!=']);

/** Helpers trace-cmd's plugins register; with plugins loaded (`-R`) they parse. */
export const PLUGIN_FUNCTIONS = new Set([
  '__le16_to_cpup',
  'jbd2_dev_to_name',
  'jiffies_to_msecs',
  'is_writable_pte',
  'scsi_trace_parse_cdb',
  'xen_hypercall_name',
]);

/** Make `n` hold `m` (libtraceevent rewrites argument nodes in place). */
function become(n: Node, m: Node): void {
  for (const k of Object.keys(n)) delete (n as Record<string, unknown>)[k];
  Object.assign(n, m);
}

const fresh = (): Node => ({ k: 'empty' });

class Parser {
  private readonly lx: Lexer;

  constructor(
    text: string,
    private readonly fmt: EventFormat,
    private readonly plugins: boolean,
    private readonly longSize: number,
  ) {
    this.lx = new Lexer(text);
  }

  tok(): Tok {
    return this.lx.next();
  }

  private fail(why: string): never {
    throw new FmtFailure(why);
  }

  private expect(t: Tok, type: TokType, text?: string): void {
    if (t.type !== type || (text !== undefined && t.text !== text)) this.fail(`expected ${text ?? type}, found "${t.text}"`);
  }

  private field(name: string): FormatField | undefined {
    return this.fmt.fields.find((f) => f.name === name) ?? this.fmt.common.find((f) => f.name === name);
  }

  /** One operand into `n`; returns the token after it. */
  arg(n: Node): Tok {
    return this.argToken(n, this.tok());
  }

  private argToken(n: Node, t: Tok): Tok {
    switch (t.type) {
      case 'item': {
        if (t.text === 'REC') return this.entry(n);
        let atom = t.text;
        let u = this.tok();
        if (u.type === 'delim' && u.text === '(') return this.func(n, atom);
        // atoms can be several words: `unsigned long`
        while (u.type === 'item') {
          atom += ` ${u.text}`;
          u = this.tok();
        }
        become(n, { k: 'atom', text: atom });
        return u;
      }
      case 'dquote':
      case 'squote':
        become(n, { k: 'atom', text: t.text });
        return this.tok();
      case 'delim':
        if (t.text === '(') return this.paren(n);
        return this.fail(`unexpected "${t.text}"`);
      case 'op':
        become(n, { k: 'op', op: t.text, left: undefined, right: undefined, prio: 0 });
        return this.op(n, t);
      default:
        return this.fail('the print fmt ends inside an argument');
    }
  }

  /** `REC->name` (the `REC` already read), or `(REC)->name`. */
  private entry(n: Node): Tok {
    const t = this.tok();
    if (t.type === 'delim' && t.text === ')') return { type: 'item', text: ')' };
    this.expect(t, 'op', '->');
    const name = this.tok();
    this.expect(name, 'item');
    become(n, { k: 'field', name: name.text, f: this.field(name.text) });
    return this.tok();
  }

  private paren(n: Node): Tok {
    let t = this.arg(n);
    if (t.type === 'op') t = this.op(n, t);
    if (t.type === 'item' && t.text === ')') return this.entry(n); // `(REC)->`
    this.expect(t, 'delim', ')');
    t = this.tok();
    if (t.type === 'item' || t.type === 'dquote' || t.type === 'squote' || (t.type === 'delim' && t.text === '(')) {
      // `(type) operand`: a cast
      if (n.k !== 'atom') this.fail('a cast whose type is not a name');
      const item = fresh();
      become(n, { k: 'cast', type: n.text, item });
      return this.argToken(item, t);
    }
    return t;
  }

  /** Apply the operator `t` to `n` (in place); returns the token after what it consumed. */
  op(n: Node, t: Tok): Tok {
    let right: Node | undefined;
    let next: Tok;
    if (n.k === 'op' && n.left === undefined) {
      // a unary operator
      if (!['~', '!', '+', '-'].includes(t.text)) this.fail(`bad op token ${t.text}`);
      n.left = { k: 'empty' };
      right = fresh();
      n.right = right;
      next = this.arg(right);
    } else if (t.text === '?') {
      const cond: Node = { ...n } as Node;
      become(n, { k: 'op', op: '?', left: cond, right: undefined, prio: 0 });
      const then = fresh();
      const otherwise = fresh();
      let u = this.arg(then);
      while (u.type === 'op' && u.text !== ':') u = this.op(then, u);
      this.expect(u, 'op', ':');
      next = this.arg(otherwise);
      (n as Extract<Node, { k: 'op' }>).right = { k: 'op', op: ':', left: then, right: otherwise, prio: 0 };
    } else if (BINARY.has(t.text)) {
      const left: Node = { ...n } as Node;
      const prio = prioOf(t.text);
      become(n, { k: 'op', op: t.text, left, right: undefined, prio });
      let u = this.tok();
      if (t.text === '*' && u.type === 'delim' && u.text === ')') {
        // `(void *)`: a pointer type, not a multiplication
        if (left.k !== 'atom') this.fail('bad pointer type');
        become(n, { k: 'atom', text: `${left.text} *` });
        return u;
      }
      right = fresh();
      u = this.argToken(right, u);
      const on = n as Extract<Node, { k: 'op' }>;
      if (right.k === 'op' && prio < prioOf(right.op)) {
        // rotate: `a * (b + c)` becomes `(a * b) + c`
        on.right = right.left;
        const mine: Node = { ...on };
        become(n, { ...right });
        become(right, mine);
        (n as Extract<Node, { k: 'op' }>).left = right;
      } else on.right = right;
      next = u;
    } else if (t.text === '[') {
      const left: Node = { ...n } as Node;
      const index = fresh();
      become(n, { k: 'op', op: '[', left, right: index, prio: 0 });
      const u = this.arg(index);
      this.expect(u, 'op', ']');
      next = this.tok();
      right = undefined;
    } else return this.fail(`unknown op '${t.text}'`);
    if (next.type === 'op' && next.text !== ':') {
      const p = prioOf(next.text);
      const whole = n as Extract<Node, { k: 'op' }>;
      if (p > whole.prio || right === undefined) return this.op(n, next);
      return this.op(right, next);
    }
    return next;
  }

  /** An operand and its operators up to the delimiter `d`. */
  private until(d: string): Node {
    const n = fresh();
    let t = this.arg(n);
    if (t.type === 'op') t = this.op(n, t);
    this.expect(t, 'delim', d);
    return n;
  }

  /** A name in `helper(name)`. */
  private nameArg(): string {
    const t = this.tok();
    this.expect(t, 'item');
    this.expect(this.tok(), 'delim', ')');
    return t.text;
  }

  private func(n: Node, name: string): Tok {
    switch (name) {
      case '__print_flags':
      case '__print_symbolic': {
        const value = fresh();
        let t = this.arg(value);
        while (t.type === 'op') t = this.op(value, t);
        this.expect(t, 'delim', ',');
        let delim: string | undefined;
        if (name === '__print_flags') {
          t = this.tok();
          if (t.type === 'item' || t.type === 'dquote' || t.type === 'squote') {
            delim = t.text;
            t = this.tok();
          }
          this.expect(t, 'delim', ',');
        }
        const syms: FlagSym[] = [];
        t = this.symbols(syms);
        this.expect(t, 'delim', ')');
        become(n, name === '__print_flags' ? { k: 'flags', value, delim, syms } : { k: 'symbols', value, syms });
        return this.tok();
      }
      case '__print_hex':
      case '__print_hex_str': {
        const field = this.until(',');
        const size = this.until(')');
        become(n, { k: name === '__print_hex' ? 'hex' : 'hexstr', field, size });
        return this.tok();
      }
      case '__print_array': {
        const field = this.until(',');
        const count = this.until(',');
        const elSize = this.until(')');
        become(n, { k: 'intarray', field, count, elSize });
        return this.tok();
      }
      case '__get_str':
      case '__get_rel_str':
      case '__get_bitmask':
      case '__get_rel_bitmask':
      case '__get_cpumask':
      case '__get_rel_cpumask':
      case '__get_dynamic_array_len':
      case '__get_rel_dynamic_array_len': {
        const f = this.nameArg();
        const k = name.includes('str') ? 'str' : name.includes('bitmask') ? 'bitmask' : name.includes('cpumask') ? 'cpumask' : 'dynlen';
        become(n, { k, name: f, f: this.field(f) });
        return this.tok();
      }
      case '__get_dynamic_array':
      case '__get_rel_dynamic_array':
      case '__get_sockaddr':
      case '__get_sockaddr_rel': {
        const f = this.nameArg();
        become(n, { k: 'dynarray', name: f, f: this.field(f) });
        const t = this.tok();
        if (t.type !== 'op' || t.text !== '[') return t;
        // an index is read and dropped, as libtraceevent does
        const index = fresh();
        this.expect(this.arg(index), 'op', ']');
        return this.tok();
      }
      case '__builtin_expect': {
        const value = fresh();
        let t = this.arg(value);
        if (t.type === 'op') t = this.op(value, t);
        this.expect(t, 'delim', ',');
        this.until(')');
        become(n, value);
        return this.tok();
      }
      case 'sizeof':
        return this.sizeOf(n);
      default: {
        if (!this.plugins || !PLUGIN_FUNCTIONS.has(name)) this.fail(`function ${name} not defined`);
        const args: Node[] = [];
        for (;;) {
          const a = fresh();
          let t = this.arg(a);
          if (t.type === 'op') t = this.op(a, t);
          args.push(a);
          if (t.type === 'delim' && t.text === ')') break;
          this.expect(t, 'delim', ',');
        }
        become(n, { k: 'func', name, args });
        return this.tok();
      }
    }
  }

  /** `{ value, "string" }, ...` of __print_flags / __print_symbolic. */
  private symbols(out: FlagSym[]): Tok {
    let t: Tok;
    do {
      t = this.tok();
      if (t.type !== 'op' || t.text !== '{') return t;
      const v = fresh();
      let u = this.arg(v);
      if (u.type === 'op') u = this.op(v, u);
      this.expect(u, 'delim', ',');
      const s = fresh();
      u = this.arg(s);
      this.expect(u, 'op', '}');
      out.push({ value: constText(v), str: constText(s) });
      t = this.tok();
    } while (t.type === 'delim' && t.text === ',');
    return t;
  }

  /** `sizeof(int)`, `sizeof(unsigned long)`, `sizeof(REC->field)`. */
  private sizeOf(n: Node): Tok {
    let t = this.tok();
    let size: number | undefined;
    if (t.type === 'item' && t.text === 'REC') {
      const f = fresh();
      t = this.entry(f);
      if (f.k !== 'field' || !f.f) this.fail('sizeof an unknown field');
      size = f.f.size;
    } else {
      const words: string[] = [];
      while (t.type === 'item') {
        words.push(t.text);
        t = this.tok();
      }
      const type = words.filter((w) => w !== 'unsigned' && w !== 'signed').join(' ');
      size =
        type === 'int' || type === '' ? 4 : type === 'long' ? this.longSize : type === 'long long' ? 8 : type === 'short' ? 2 : type === 'char' ? 1 : undefined;
      if (size === undefined) this.fail(`sizeof(${words.join(' ')})`);
    }
    this.expect(t, 'delim', ')');
    become(n, { k: 'atom', text: String(size) });
    return this.tok();
  }
}

/** A constant operand of a flag/symbol table, as libtraceevent's arg_eval reduces it. */
function constText(n: Node): string {
  switch (n.k) {
    case 'atom':
      return n.text;
    case 'cast':
      return constText(n.item);
    case 'op': {
      if (n.left === undefined || n.right === undefined) throw new FmtFailure('a bad constant');
      const l = n.left.k === 'empty' ? 0n : cNumber(constText(n.left));
      const r = cNumber(constText(n.right));
      return String(constOp(n.op, l, r));
    }
    default:
      throw new FmtFailure('a flag or symbol value that is not a constant');
  }
}

/** strtoull(text, NULL, 0): decimal, 0x hex or 0 octal prefix; suffixes and junk end it. */
export function cNumber(text: string): bigint {
  const t = text.trim();
  const neg = t.startsWith('-');
  const u = neg || t.startsWith('+') ? t.slice(1) : t;
  let m = /^0[xX]([0-9a-fA-F]+)/.exec(u);
  let v = 0n;
  if (m) v = BigInt(`0x${m[1]}`);
  else if ((m = /^0([0-7]*)/.exec(u))) v = m[1] ? BigInt(`0o${m[1]}`) : 0n;
  else if ((m = /^[0-9]+/.exec(u))) v = BigInt(m[0]);
  return BigInt.asUintN(64, neg ? -v : v);
}

/** One binary operator on unsigned 64-bit values, as libtraceevent evaluates it. */
export function constOp(op: string, l: bigint, r: bigint): bigint {
  const u = (x: bigint): bigint => BigInt.asUintN(64, x);
  switch (op) {
    case '!':
      return r === 0n ? 1n : 0n;
    case '~':
      return u(~r);
    case '+':
      return u(l + r);
    case '-':
      return u(l - r);
    case '*':
      return u(l * r);
    case '/':
      return r === 0n ? 0n : l / r;
    case '%':
      return r === 0n ? 0n : l % r;
    case '<<':
      return u(l << (r & 63n));
    case '>>':
      return l >> (r & 63n);
    case '&':
      return l & r;
    case '|':
      return l | r;
    case '&&':
      return l !== 0n && r !== 0n ? 1n : 0n;
    case '||':
      return l !== 0n || r !== 0n ? 1n : 0n;
    case '<':
      return l < r ? 1n : 0n;
    case '>':
      return l > r ? 1n : 0n;
    case '<=':
      return l <= r ? 1n : 0n;
    case '>=':
      return l >= r ? 1n : 0n;
    case '==':
      return l === r ? 1n : 0n;
    case '!=':
      return l !== r ? 1n : 0n;
    default:
      return 0n; // libtraceevent has no `^` in its evaluator: "unknown op", 0
  }
}

export interface ParsedPrintFmt {
  /** The format string, escapes as written. */
  format: string;
  args: Node[];
  /** Why libtraceevent would mark the event failed; undefined when it parses. */
  failed: string | undefined;
  /** The format cut into text and conversions (undefined when failed). */
  segments: Segment[] | undefined;
}

/** Parse an event's `print fmt` (the text after `print fmt: `). */
export function parsePrintFmt(fmt: EventFormat, opts: { plugins: boolean; longSize: number }): ParsedPrintFmt {
  // as bytes (one character per byte), like the payload strings it is printed with
  const p = new Parser(Buffer.from(fmt.printFmt, 'utf8').toString('latin1'), fmt, opts.plugins, opts.longSize);
  let format = '';
  const args: Node[] = [];
  try {
    const t0 = p.tok();
    if (t0.type !== 'dquote') throw new FmtFailure('the print fmt does not start with a string');
    format = t0.text;
    let t = p.tok();
    if (t.type !== 'none') {
      if (t.type !== 'delim' || t.text !== ',') throw new FmtFailure(`expected "," after the format, found "${t.text}"`);
      for (;;) {
        const n = fresh();
        t = p.arg(n);
        if (t.type === 'op') t = p.op(n, t);
        args.push(n);
        if (t.type === 'none') break;
        if (t.type !== 'delim' || t.text !== ',') throw new FmtFailure(`expected "," between arguments, found "${t.text}"`);
      }
    }
    return { format, args, failed: undefined, segments: segmentsOf(format, args) };
  } catch (e) {
    if (!(e instanceof FmtFailure)) throw e;
    return { format, args, failed: e.message, segments: undefined };
  }
}

/** `\\n`, `\\t`, `\\r`, `\\\\` and any other `\\x` → x, as libtraceevent reads format text. */
function unescape(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = text[++i];
    out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
  }
  return out;
}

/**
 * The format cut into text and conversions, each conversion taking the next argument
 * (`*` takes one more as its width). When the arguments run out this throws FmtFailure,
 * or, given `lenient`, calls it and goes on as libtraceevent does for trace_printk
 * formats: the conversion's `%` and modifiers are dropped and its letter is read as text.
 */
export function segmentsOf(format: string, args: readonly Node[], lenient?: () => void): Segment[] {
  const segs: Segment[] = [];
  let ai = 0;
  let lit = '';
  const flushText = (): void => {
    if (lit !== '') segs.push({ t: 'text', text: unescape(lit) });
    lit = '';
  };
  for (let i = 0; i < format.length;) {
    const c = format[i]!;
    if (c === '\\') {
      lit += format.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c !== '%') {
      lit += c;
      i++;
      continue;
    }
    if (format[i + 1] === '%') {
      lit += '%';
      i += 2;
      continue;
    }
    flushText();
    const start = i;
    let ls = 0;
    let lenArg: Node | undefined;
    let j = i + 1;
    let done = false;
    for (; j < format.length && !done; j++) {
      const d = format[j]!;
      if (d === '#' || d === '.' || d === '-' || (d >= '0' && d <= '9')) continue;
      if (d === 'h') {
        ls--;
        continue;
      }
      if (d === 'l') {
        ls++;
        continue;
      }
      if (d === 'L') {
        ls = 2;
        continue;
      }
      if (d === 'z' || d === 'Z') {
        ls = 1;
        continue;
      }
      const missing = (why: string): void => {
        if (!lenient) throw new FmtFailure(why);
        lenient();
        done = true;
        j--; // the letter is read again, as text
      };
      if (d === '*') {
        if (ai >= args.length || lenArg) {
          missing(lenArg ? 'argument already matched' : 'no argument match');
          continue;
        }
        lenArg = args[ai++];
        continue;
      }
      if (d === 'p' || 'duixXo'.includes(d) || d === 's') {
        if (ai >= args.length) {
          missing('no argument match');
          continue;
        }
        let end = j + 1;
        if (d === 'p') end += pointerExtension(format, j + 1);
        const spec = format.slice(start, end);
        if (d !== 's' && d !== 'p' && (ls < -2 || ls > 2)) throw new FmtFailure(`bad count (${ls})`);
        segs.push({ t: d === 'p' ? 'pointer' : d === 's' ? 'string' : 'digit', spec, ls, arg: args[ai++]!, lenArg });
        j = end - 1;
      } else {
        // a conversion libtraceevent does not know prints as `>c<`
        segs.push({ t: 'text', text: `>${d}<` });
      }
      done = true;
    }
    i = j;
  }
  flushText();
  return segs;
}

/** How many characters after `%p` belong to the conversion (`%pS`, `%pMR`, `%pI4`, ...). */
function pointerExtension(f: string, at: number): number {
  const c = f[at];
  switch (c) {
    case 'F':
    case 'S':
    case 'f':
    case 's':
      return 1;
    case 'M':
    case 'm':
      return f[at + 1] === 'R' || f[at + 1] === 'F' ? 2 : 1;
    case 'I':
    case 'i': {
      // `I4[hnbl]`, `I6[c]`, `IS[pfs]*[hnbl][c]`
      const v = f[at + 1];
      if (v !== 'S' && v !== '4' && v !== '6') return 1;
      let n = 2;
      let k = at + 2;
      if (v === 'S')
        while (f[k] === 'p' || f[k] === 'f' || f[k] === 's') {
          n++;
          k++;
        }
      if (v !== '6' && 'hnlb'.includes(f[k] ?? '-')) {
        n++;
        k++;
      }
      if (v !== '4' && f[k] === 'c') n++;
      return n;
    }
    case 'U':
      return 'bBlL'.includes(f[at + 1] ?? '') ? 2 : 1;
    case 'h':
      return 'CDN'.includes(f[at + 1] ?? '') ? 2 : 1;
    default:
      return 0;
  }
}
