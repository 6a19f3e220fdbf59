/**
 * Parser of C litmus tests as herd7 and the kernel's tools/memory-model read them:
 *
 *   C name
 *   (* comments, e.g. "Result: Never" *)
 *   { x=1; int *p = &y; 0:r1=0; }
 *   P0(int *x, int *y) { int r0; r0 = READ_ONCE(*x); ... }
 *   ...
 *   locations [x; 0:r1;]      (optional)
 *   filter (...)              (optional)
 *   exists (0:r0=1 /\ x=2)    (or ~exists, forall)
 *
 * Errors carry file:line and a hint. Kernel macros (READ_ONCE, spin_lock, ...) are not
 * interpreted here: they are calls, expanded later with the model's linux-kernel.def.
 */
import { InputError, inputExcerpt } from '@kreplay/core';
import type { BinOp, CExpr, CStmt, CondKind, Condition, Expectation, InitItem, InitValue, LitmusTest, Param, Prop, StateRef, Thread } from './ast.js';
import { skipOcamlComment } from '../text.js';
import { lexC, parseIntLiteral, type Token } from './lexer.js';

const TYPE_WORDS = new Set([
  'int',
  'intptr_t',
  'uintptr_t',
  'long',
  'unsigned',
  'signed',
  'char',
  'short',
  'bool',
  'size_t',
  'u8',
  'u16',
  'u32',
  'u64',
  's8',
  's16',
  's32',
  's64',
  'int8_t',
  'uint8_t',
  'int16_t',
  'uint16_t',
  'int32_t',
  'uint32_t',
  'int64_t',
  'uint64_t',
  'atomic_t',
  'atomic_long_t',
  'spinlock_t',
  'struct',
  'const',
  'volatile',
  '_Atomic',
  'void',
]);

export const PARSE_HINT = 'see docs/memory-model.md for the C litmus syntax kreplay reads';

/**
 * How deep expressions, statements and conditions may nest (an `if` and its block are two
 * levels). Kernel tests nest a few levels, derived ones (derive.ts) one `if` per read; without
 * a bound a crafted test of ten thousand `(` overflowed the stack (an internal error, exit 70)
 * instead of being refused as input. 400 stays well inside the stack: 536 nested ifs, 1464
 * parentheses or 976 condition parentheses overflowed it (2026-12-04).
 */
export const MAX_NESTING = 400;

class TokStream {
  i = 0;
  private depth = 0;
  constructor(
    readonly toks: Token[],
    readonly file: string,
  ) {}

  /** Run one level of a recursive rule, refusing input nested deeper than MAX_NESTING. */
  nest<T>(f: () => T): T {
    if (this.depth >= MAX_NESTING)
      this.fail(`nested more than ${MAX_NESTING} levels deep`, 'litmus tests are short straight-line code; write the expression or condition out flat');
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  /** An integer literal's value; one a double cannot hold exactly is refused, not rounded. */
  int(tok: Token): number {
    const v = parseIntLiteral(tok.v);
    if (!Number.isSafeInteger(v))
      this.fail(
        `the integer ${tok.v} is too large to check exactly (at most ${Number.MAX_SAFE_INTEGER})`,
        'use a smaller value: the outcome only needs values to be distinct',
        tok,
      );
    return v;
  }

  peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  is(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.k !== 'eof' && t.v === v && (t.k === 'punct' || t.k === 'id');
  }

  isId(k = 0): boolean {
    return this.peek(k).k === 'id';
  }

  fail(msg: string, hint = PARSE_HINT, tok = this.peek()): never {
    throw new InputError(`${msg} (found ${tok.k === 'eof' ? 'end of input' : JSON.stringify(tok.v)})`, { file: this.file, line: tok.line, hint });
  }

  expect(v: string, hint?: string): Token {
    if (!this.is(v)) this.fail(`expected "${v}"`, hint);
    return this.next();
  }

  id(what: string): Token {
    if (!this.isId()) this.fail(`expected ${what}`);
    return this.next();
  }
}

// ---------------------------------------------------------------------------------------
// C expressions and statements

const BIN_PREC: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '^': 4,
  '&': 5,
  '==': 6,
  '!=': 6,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};

const OP_ARGS = new Set(['+', '-', '&', '|', '^', '*', '/']);

export class CParser {
  constructor(private readonly s: TokStream) {}

  isTypeStart(k = 0): boolean {
    const t = this.s.peek(k);
    return t.k === 'id' && TYPE_WORDS.has(t.v);
  }

  /** A type: words, `struct name`, then stars. Returns its text. */
  type(): string {
    const words: string[] = [];
    while (this.isTypeStart()) {
      const w = this.s.next().v;
      words.push(w);
      if (w === 'struct') words.push(this.s.id('a struct name').v);
    }
    // a typedef name the list does not know, directly before the declared name
    if (words.length === 0 && this.s.isId() && /_t$/.test(this.s.peek().v)) words.push(this.s.next().v);
    let stars = '';
    while (this.s.is('*')) {
      this.s.next();
      stars += '*';
    }
    return `${words.join(' ')}${stars ? ` ${stars}` : ''}`;
  }

  expr(minPrec = 1): CExpr {
    let left = this.unary();
    for (;;) {
      const t = this.s.peek();
      const prec = t.k === 'punct' ? BIN_PREC[t.v] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.s.next();
      const right = this.expr(prec + 1);
      left = { t: 'bin', op: t.v as BinOp, a: left, b: right, line: t.line };
    }
  }

  private unary(): CExpr {
    return this.s.nest(() => this.unaryAt());
  }

  private unaryAt(): CExpr {
    const t = this.s.peek();
    if (t.k === 'punct') {
      switch (t.v) {
        case '*':
          this.s.next();
          return { t: 'deref', e: this.unary(), line: t.line };
        case '!':
          this.s.next();
          return { t: 'not', e: this.unary(), line: t.line };
        case '-':
          this.s.next();
          if (this.s.peek().k === 'num') return { t: 'num', v: -this.s.int(this.s.next()), line: t.line };
          return { t: 'neg', e: this.unary(), line: t.line };
        case '~':
          this.s.next();
          return { t: 'bitnot', e: this.unary(), line: t.line };
        case '&':
          this.s.fail(
            'taking an address (&) in thread code is not supported',
            'pass the location as a parameter (P0(int *x)) and use x; initialise pointers in the init block ({ int *p = &x; })',
          );
          break;
        case '(':
          if (this.isTypeStart(1)) {
            // a cast: the value is unchanged
            this.s.next();
            this.type();
            this.s.expect(')');
            return this.unary();
          }
          break;
        default:
          break;
      }
    }
    return this.primary();
  }

  private primary(): CExpr {
    const t = this.s.next();
    if (t.k === 'num') return { t: 'num', v: this.s.int(t), line: t.line };
    if (t.k === 'punct' && t.v === '(') {
      const e = this.expr();
      this.s.expect(')');
      return e;
    }
    if (t.k === 'id') {
      let annots: string[] | null = null;
      if (this.s.is('{') && t.v.startsWith('__')) {
        this.s.next();
        annots = [];
        while (!this.s.is('}')) {
          let a = this.s.id('an annotation').v;
          while (this.s.is('-')) {
            this.s.next();
            a += `-${this.s.id('an annotation').v}`;
          }
          annots.push(a);
          if (this.s.is(',')) this.s.next();
          else if (!this.s.is('}')) this.s.fail('expected , or } in an annotation list');
        }
        this.s.next();
        if (!this.s.is('(')) return { t: 'call', name: t.v, annots, args: [], line: t.line };
      }
      if (this.s.is('(')) {
        this.s.next();
        const args: CExpr[] = [];
        if (!this.s.is(')')) {
          args.push(this.arg());
          while (this.s.is(',')) {
            this.s.next();
            args.push(this.arg());
          }
        }
        this.s.expect(')', "a call's arguments end with )");
        return { t: 'call', name: t.v, annots, args, line: t.line };
      }
      if (annots) return { t: 'call', name: t.v, annots, args: [], line: t.line };
      return { t: 'name', name: t.v, line: t.line };
    }
    this.s.i--;
    return this.s.fail('expected an expression');
  }

  private arg(): CExpr {
    const t = this.s.peek();
    if (t.k === 'punct' && OP_ARGS.has(t.v) && (this.s.is(',', 1) || this.s.is(')', 1))) {
      this.s.next();
      return { t: 'opArg', op: t.v, line: t.line };
    }
    if (t.k === 'punct' && t.v === '&' && this.s.is('~', 1) && (this.s.is(',', 2) || this.s.is(')', 2))) {
      this.s.next();
      this.s.next();
      return { t: 'opArg', op: '&~', line: t.line };
    }
    return this.expr();
  }

  stmt(): CStmt {
    return this.s.nest(() => this.stmtAt());
  }

  private stmtAt(): CStmt {
    const t = this.s.peek();
    if (t.k === 'punct' && t.v === '{') {
      this.s.next();
      const body: CStmt[] = [];
      while (!this.s.is('}')) {
        if (this.s.peek().k === 'eof') this.s.fail('missing } at the end of a block');
        body.push(this.stmt());
      }
      this.s.next();
      return { t: 'block', body, line: t.line };
    }
    if (t.k === 'punct' && t.v === ';') {
      this.s.next();
      return { t: 'block', body: [], line: t.line };
    }
    if (t.k === 'id' && t.v === 'if') {
      this.s.next();
      this.s.expect('(', 'write if (condition) ...');
      const cond = this.expr();
      this.s.expect(')', 'the condition of an if ends with )');
      const then = this.stmt();
      let els: CStmt | null = null;
      if (this.s.is('else')) {
        this.s.next();
        els = this.stmt();
      }
      return { t: 'if', cond, then, else: els, line: t.line };
    }
    if (t.k === 'id' && t.v === 'while') {
      this.s.next();
      this.s.expect('(');
      const cond = this.expr();
      this.s.expect(')');
      return { t: 'while', cond, body: this.stmt(), line: t.line };
    }
    if (t.k === 'id' && (t.v === 'for' || t.v === 'do' || t.v === 'switch' || t.v === 'goto' || t.v === 'return' || t.v === 'break' || t.v === 'continue')) {
      this.s.fail(`"${t.v}" is not supported in litmus thread code`, 'litmus threads are straight-line code with if/else; see docs/memory-model.md');
    }
    if (this.isTypeStart() || (t.k === 'id' && /_t$/.test(t.v) && this.s.isId(1))) {
      const type = this.type();
      const name = this.s.id('a variable name after the type').v;
      let init: CExpr | null = null;
      if (this.s.is('=')) {
        this.s.next();
        init = this.expr();
      }
      if (this.s.is(',')) this.s.fail('declare one variable per declaration', 'write int r0; int r1; (herd7 accepts one name per declaration)');
      this.s.expect(';', 'a declaration ends with ;');
      return { t: 'decl', name, type, init, line: t.line };
    }
    const e = this.expr();
    if (this.s.is('=')) {
      this.s.next();
      const rhs = this.expr();
      this.s.expect(';', 'a statement ends with ;');
      if (e.t === 'name') return { t: 'assign', name: e.name, e: rhs, line: t.line };
      if (e.t === 'deref') return { t: 'store', target: e.e, e: rhs, line: t.line };
      return this.s.fail('the left of = must be a local variable or *pointer', PARSE_HINT, t);
    }
    this.s.expect(';', 'a statement ends with ;');
    return { t: 'expr', e, line: t.line };
  }
}

// ---------------------------------------------------------------------------------------
// Whole test

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Skips whitespace and C comments from `i`; returns the new offset. */
function skipBlankAndCComments(text: string, i: number): number {
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else return i;
  }
}

/** The offset just after the `}` matching the `{` at `open` (C comments skipped). */
function matchBrace(text: string, open: number, file: string): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    const c = text[i]!;
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  throw new InputError('missing } to close this block', { file, line: lineAt(text, open), hint: 'every { needs its }' });
}

export function findExpectation(text: string): Expectation | null {
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const m = /^[( ]\* Result: (\S+)/.exec(lines[k]!);
    if (m) return { outcome: m[1]!, datarace: /^[( ]\* Result: .* DATARACE/.test(lines[k]!), line: k + 1 };
  }
  return null;
}

export function parseLitmus(text: string, file: string): LitmusTest {
  const header = /^\s*(\S+)(?:[ \t]+([^\n]*?))?\s*$/m.exec(text);
  if (!header || !text.trim()) throw new InputError('empty file, expected a litmus test ("C name" on the first line)', { file, line: 1, hint: PARSE_HINT });
  const firstLine = lineAt(text, header.index + header[0].length - header[0].trimStart().length);
  if (header[1] !== 'C') {
    // an architecture's test names its architecture (X86, AArch64, PPC, LISA…) and then the test; anything else is not a litmus test
    const arch = header[2] !== undefined && /^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(header[1]!);
    throw new InputError(
      arch
        ? `this is a ${header[1]} litmus test; kreplay checks C tests against the Linux-kernel memory model`
        : `not a litmus test: it starts with ${inputExcerpt(header[1]!, 24)}, not "C name"`,
      {
        file,
        line: firstLine,
        hint: 'C litmus tests start with "C name" (see the kernel\'s tools/memory-model/litmus-tests/)',
      },
    );
  }
  // herd7 drops a .litmus suffix from the name
  const name = (header[2] ?? '').split(/\s+/)[0]!.replace(/\.litmus$/, '');
  if (!name) throw new InputError('the test has no name', { file, line: firstLine, hint: 'the first line is "C name"' });

  // the init block: the first { after the header, OCaml comments skipped
  const afterHeader = header.index + header[0].length;
  const open = findInitBlock(text, afterHeader, file, firstLine);
  const close = matchBrace(text, open, file) - 1;
  const initToks = lexC(text.slice(0, close), file, { ocamlComments: true, line: lineAt(text, open + 1), offset: open + 1 });
  const init = parseInit(new TokStream(initToks, file));
  let offset = close + 1;

  // the threads
  const threads: Thread[] = [];
  for (;;) {
    const at = skipBlankAndCComments(text, offset);
    const m = /^(?:void\s+)?P(\d+)\s*\(/.exec(text.slice(at, at + 64));
    if (!m) {
      offset = at;
      break;
    }
    const braceAt = text.indexOf('{', at);
    if (braceAt < 0) throw new InputError(`P${m[1]} has no body`, { file, line: lineAt(text, at), hint: 'write P0(int *x) { ... }' });
    const end = matchBrace(text, braceAt, file);
    threads.push(parseThread(text.slice(0, end), at, file));
    offset = end;
  }
  if (threads.length === 0) {
    throw new InputError('no thread (P0(...) { ... }) after the initial state', { file, line: lineAt(text, offset), hint: PARSE_HINT });
  }
  threads.forEach((t, k) => {
    if (t.id !== k)
      throw new InputError(`threads must be P0, P1, ... in order; found P${t.id} where P${k} was expected`, {
        file,
        line: t.line,
        hint: 'number the threads from P0 without gaps',
      });
  });

  // locations, filter, condition
  const tail = new TokStream(lexC(text, file, { ocamlComments: true, line: lineAt(text, offset), offset }), file);
  const locations: StateRef[] = [];
  let filter: Prop | null = null;
  let condition: Condition | null = null;
  while (tail.peek().k !== 'eof') {
    const t = tail.peek();
    if (condition && t.k === 'punct' && t.v === ';') {
      tail.next(); // herd7 accepts a ; after the condition
      continue;
    }
    if (condition) tail.fail('unexpected text after the final condition', 'the condition (exists/~exists/forall) comes last');
    if (t.k === 'id' && t.v === 'locations') {
      tail.next();
      tail.expect('[');
      while (!tail.is(']')) {
        locations.push(stateRef(tail));
        if (tail.is(';')) tail.next();
        else if (!tail.is(']')) tail.fail('expected ; or ] in locations [...]');
      }
      tail.next();
    } else if (t.k === 'id' && t.v === 'filter') {
      tail.next();
      filter = prop(tail);
    } else if (t.k === 'id' && (t.v === 'exists' || t.v === 'forall')) {
      tail.next();
      condition = { kind: t.v as CondKind, prop: prop(tail), line: t.line };
    } else if (t.k === 'punct' && t.v === '~' && tail.is('exists', 1)) {
      tail.next();
      tail.next();
      condition = { kind: 'not exists', prop: prop(tail), line: t.line };
    } else if (t.k === 'punct' && t.v === ';') {
      tail.next();
    } else {
      tail.fail('expected locations, filter, exists, ~exists or forall after the threads', 'the test ends with a condition such as exists (0:r0=1 /\\ 1:r0=0)');
    }
  }
  // no condition: herd7 takes forall (true)
  condition ??= { kind: 'forall', prop: { t: 'true' }, line: tail.peek().line };
  return { file, name, init, threads, locations, filter, condition, expectation: findExpectation(text), text };
}

function findInitBlock(text: string, from: number, file: string, line: number): number {
  let i = from;
  while (i < text.length) {
    if (text.startsWith('(*', i)) {
      i = skipOcamlComment(text, i)?.end ?? text.length;
      continue;
    }
    if (text[i] === '{') return i;
    i++;
  }
  throw new InputError('no initial state block { ... }', { file, line, hint: 'after the name comes { x=0; ... } (it may be empty: {})' });
}

function parseThread(text: string, at: number, file: string): Thread {
  const toks = lexC(text, file, { ocamlComments: false, line: lineAt(text, at), offset: at });
  const s = new TokStream(toks, file);
  const c = new CParser(s);
  if (s.is('void')) s.next();
  const pt = s.id('Pn');
  const id = Number(pt.v.slice(1));
  s.expect('(');
  const params: Param[] = [];
  while (!s.is(')')) {
    const type = c.type();
    const name = s.id('a parameter name').v;
    if (!type.includes('*')) s.fail(`parameter ${name} is not a pointer`, 'thread parameters point at shared locations: P0(int *x, spinlock_t *s)');
    params.push({ type, name });
    if (s.is(',')) s.next();
    else if (!s.is(')')) s.fail('expected , or ) in the parameter list');
  }
  s.next();
  s.expect('{');
  const body: CStmt[] = [];
  while (!s.is('}')) {
    if (s.peek().k === 'eof') s.fail(`P${id} is not closed by }`);
    body.push(c.stmt());
  }
  return { id, params, body, line: pt.line };
}

function stateRef(s: TokStream): StateRef {
  const t = s.peek();
  if (t.k === 'num' && s.is(':', 1)) {
    // `0x:r1` or `1u:r1` lexes as a number too: read as NaN it passed the thread check and the checker failed on it
    if (!/^\d+$/.test(t.v)) s.fail('expected a thread number before ":"', 'write the register as P:name with P a thread number in decimal, e.g. 0:r1', t);
    s.next();
    s.next();
    return { thread: Number(t.v), name: s.id('a register name after P:').v };
  }
  if (t.k === 'id') {
    s.next();
    if (s.is('[')) s.fail('array locations are not supported', 'use one location per variable');
    return { thread: null, name: t.v };
  }
  if (t.k === 'punct' && t.v === '*') s.fail('*x in a condition is not supported', 'name the location (x=1) or the register (0:r1=1)');
  return s.fail('expected a location (x) or a register (0:r1)');
}

function value(s: TokStream): InitValue {
  return s.nest(() => valueAt(s));
}

function valueAt(s: TokStream): InitValue {
  const t = s.next();
  if (t.k === 'num') return { t: 'int', v: s.int(t) };
  if (t.k === 'punct' && t.v === '-' && s.peek().k === 'num') return { t: 'int', v: -s.int(s.next()) };
  if (t.k === 'punct' && t.v === '&' && s.isId()) return { t: 'addr', name: s.next().v };
  if (t.k === 'id') {
    if (t.v === 'ATOMIC_INIT' && s.is('(')) {
      s.next();
      const v = value(s);
      s.expect(')');
      return v;
    }
    return { t: 'addr', name: t.v };
  }
  s.i--;
  return s.fail('expected a value (an integer or a location name)');
}

function parseInit(s: TokStream): InitItem[] {
  const items: InitItem[] = [];
  const c = new CParser(s);
  while (s.peek().k !== 'eof') {
    if (s.is(';')) {
      s.next();
      continue;
    }
    const line = s.peek().line;
    let type: string | null = null;
    const startsRef = (s.peek().k === 'num' && s.is(':', 1)) || (s.isId() && (s.is('=', 1) || s.is(';', 1) || s.peek(1).k === 'eof'));
    if (!startsRef) type = c.type().trim() || null;
    const ref = stateRef(s);
    let v: InitValue | null = null;
    if (s.is('=')) {
      s.next();
      v = value(s);
    }
    items.push({ name: ref.name, thread: ref.thread, type, value: v, line });
    if (!s.is(';') && s.peek().k !== 'eof') s.fail('expected ; between initial values', 'write { x=1; y=2; }');
  }
  return items;
}

// conditions: ~ binds tightest, then /\, then \/, then =>
function prop(s: TokStream): Prop {
  return s.nest(() => propAt(s));
}

function propAt(s: TokStream): Prop {
  const a = propOr(s);
  if (s.is('=>')) {
    s.next();
    return { t: 'implies', a, b: prop(s) };
  }
  return a;
}

function propOr(s: TokStream): Prop {
  let a = propAnd(s);
  while (s.is('\\/')) {
    s.next();
    a = { t: 'or', a, b: propAnd(s) };
  }
  return a;
}

function propAnd(s: TokStream): Prop {
  let a = propAtom(s);
  while (s.is('/\\')) {
    s.next();
    a = { t: 'and', a, b: propAtom(s) };
  }
  return a;
}

function propAtom(s: TokStream): Prop {
  return s.nest(() => propAtomAt(s));
}

function propAtomAt(s: TokStream): Prop {
  if (s.is('~') || s.is('not')) {
    s.next();
    return { t: 'not', p: propAtom(s) };
  }
  if (s.is('(')) {
    s.next();
    const p = prop(s);
    s.expect(')', 'close the parenthesis in the condition');
    return p;
  }
  if (s.is('true')) {
    s.next();
    return { t: 'true' };
  }
  if (s.is('false')) {
    s.next();
    return { t: 'false' };
  }
  const ref = stateRef(s);
  if (s.is('!=')) {
    s.next();
    return { t: 'ne', ref, value: value(s) };
  }
  s.expect('=', 'a condition compares: x=1, 0:r0=0, 0:r1=1:r2');
  if (s.peek().k === 'num' && s.is(':', 1)) return { t: 'eqref', a: ref, b: stateRef(s) };
  return { t: 'eq', ref, value: value(s) };
}

export { TokStream };
