/**
 * Parser of the cat language, as herd7 reads it: `(* *)` comments (nested), `//` and `#`
 * line comments, names with `-` and `.` in them, the operator precedences of herd7's
 * grammar (lowest first): `|`, `++`, `;`, `\`, `&`, then `*` (cartesian and closure),
 * `+`, `?`, `~`, then `^-1`. Function application is juxtaposition.
 */
import { InputError } from '@kreplay/core';
import { skipOcamlComment } from '../text.js';
import type { Bind, CatFile, Cond, Expr, Formal, Op2, Pos, Stmt, TestKind, TestMode, VariantCond } from './ast.js';

type Tok =
  | { k: 'var'; v: string; line: number }
  | { k: 'tag'; v: string; line: number }
  | { k: 'str'; v: string; line: number }
  | { k: 'kw'; v: string; line: number }
  | { k: 'op'; v: string; line: number }
  | { k: 'eof'; v: ''; line: number };

const KEYWORDS = new Set([
  'let',
  'rec',
  'and',
  'when',
  'acyclic',
  'irreflexive',
  'show',
  'unshow',
  'empty',
  'subset',
  'as',
  'fun',
  'in',
  'undefined_unless',
  'flag',
  'assert',
  'include',
  'variant',
  'begin',
  'end',
  'procedure',
  'call',
  'enum',
  'debug',
  'match',
  'with',
  'forall',
  'from',
  'do',
  'try',
  'if',
  'then',
  'else',
  'catdep',
  'instructions',
  'default',
  'not',
]);

const NAME = /[_]?[A-Za-z][A-Za-z0-9_.-]*'?/y;

export function lexCat(text: string, file: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new InputError(msg, { file, line, hint: "this is a cat model file; check its syntax against herd7's cat language" });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if ((c === '/' && text[i + 1] === '/') || c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '(' && text[i + 1] === '*') {
      const skip = skipOcamlComment(text, i);
      if (!skip) throw new InputError('unterminated comment', { file, line, hint: 'close it with *)' });
      line += skip.newlines;
      i = skip.end;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      toks.push({ k: 'str', v: s, line });
      line += s.split('\n').length - 1;
      i = end + 1;
      continue;
    }
    if (c === "'") {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(text);
      if (!m) fail("a tag is 'name");
      toks.push({ k: 'tag', v: m![0], line });
      i = NAME.lastIndex;
      continue;
    }
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (m && m.index === i) {
      const v = m[0];
      toks.push(KEYWORDS.has(v) ? { k: 'kw', v, line } : { k: 'var', v, line });
      i = NAME.lastIndex;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '||' || two === '&&' || two === '++' || two === '-1' || two === '->') {
      toks.push({ k: 'op', v: two, line });
      i += 2;
      continue;
    }
    if ('(){}[]_0|&*~+^\\?=;,'.includes(c)) {
      toks.push({ k: 'op', v: c, line });
      i++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`);
  }
  toks.push({ k: 'eof', v: '', line });
  return toks;
}

/** Binary operators: precedence (higher binds tighter) and associativity, from herd7's grammar. */
const BINARY: Record<string, { prec: number; right: boolean; op: Op2 }> = {
  '|': { prec: 1, right: true, op: 'union' },
  '++': { prec: 2, right: true, op: 'add' },
  ';': { prec: 3, right: true, op: 'seq' },
  '\\': { prec: 4, right: false, op: 'diff' },
  '&': { prec: 5, right: true, op: 'inter' },
};
const CART_PREC = 6;

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly file: string,
  ) {}

  private peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private next(): Tok {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private pos(): Pos {
    return { file: this.file, line: this.peek().line };
  }

  private is(k: Tok['k'], v?: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.k === k && (v === undefined || t.v === v);
  }

  private fail(msg: string): never {
    const t = this.peek();
    throw new InputError(`${msg} (at ${t.k === 'eof' ? 'end of file' : JSON.stringify(t.v)})`, {
      file: this.file,
      line: t.line,
      hint: "this is a cat model file; check its syntax against herd7's cat language",
    });
  }

  private expect(k: Tok['k'], v?: string): Tok {
    if (!this.is(k, v)) this.fail(`expected ${v ?? k}`);
    return this.next();
  }

  private name(): string {
    return this.expect('var').v;
  }

  parseFile(): CatFile {
    let title: string | null = null;
    if (this.is('var') && (this.is('var', undefined, 1) || this.is('str', undefined, 1))) {
      this.next();
      title = this.next().v;
    } else if (this.is('str')) {
      title = this.next().v;
    } else if (this.is('var')) {
      title = this.next().v;
    }
    if (this.is('kw', 'catdep')) this.next();
    const stmts: Stmt[] = [];
    while (!this.is('eof')) stmts.push(this.stmt());
    return { file: this.file, title, stmts };
  }

  private stmts(until: string[]): Stmt[] {
    const out: Stmt[] = [];
    while (!until.some((u) => this.is('kw', u))) {
      if (this.is('eof')) this.fail(`expected ${until.join(' or ')}`);
      out.push(this.stmt());
    }
    return out;
  }

  private stmt(): Stmt {
    const pos = this.pos();
    const t = this.peek();
    if (t.k === 'kw') {
      switch (t.v) {
        case 'let': {
          this.next();
          const rec = this.is('kw', 'rec') ? (this.next(), true) : false;
          const binds = this.binds();
          if (this.is('kw', 'when')) this.fail('`let rec ... when` is not supported');
          if (this.is('kw', 'in')) this.next();
          return { t: 'let', rec, binds, pos };
        }
        case 'with': {
          this.next();
          const name = this.name();
          this.expect('kw', 'from');
          return { t: 'with', name, e: this.exp(), pos };
        }
        case 'include':
          this.next();
          return { t: 'include', file: this.expect('str').v, pos };
        case 'enum': {
          this.next();
          const name = this.name();
          this.expect('op', '=');
          if (this.is('op', '||')) this.next();
          const tags = [this.expect('tag').v];
          while (this.is('op', '||')) {
            this.next();
            tags.push(this.expect('tag').v);
          }
          return { t: 'enum', name, tags, pos };
        }
        case 'instructions':
        case 'default': {
          this.next();
          const name = this.name();
          this.expect('op', '[');
          const args: Expr[] = [];
          if (!this.is('op', ']')) {
            args.push(this.base(0));
            while (this.is('op', ',')) {
              this.next();
              args.push(this.base(0));
            }
          }
          this.expect('op', ']');
          return { t: 'instructions', name, args, pos };
        }
        case 'show':
        case 'unshow': {
          this.next();
          if (t.v === 'show' && !(this.is('var') && (this.is('op', ',', 1) || !this.is('kw', 'as', 1)))) {
            this.base(0);
            this.expect('kw', 'as');
            this.name();
            return { t: 'show', pos };
          }
          this.name();
          while (this.is('op', ',')) {
            this.next();
            this.name();
          }
          return { t: 'show', pos };
        }
        case 'if': {
          this.next();
          const v = this.variant();
          const then = this.stmts(['else', 'end']);
          let els: Stmt[] = [];
          if (this.is('kw', 'else')) {
            this.next();
            els = this.stmts(['end']);
          }
          this.expect('kw', 'end');
          return { t: 'ifvariant', v, then, else: els, pos };
        }
        case 'flag':
        case 'undefined_unless':
        case 'assert': {
          this.next();
          const mode: TestMode = t.v === 'flag' ? 'flag' : t.v === 'assert' ? 'assert' : 'undefined';
          return this.test(mode, pos);
        }
        case 'acyclic':
        case 'irreflexive':
        case 'empty':
          return this.test('check', pos);
        default:
          this.fail(`the cat statement "${t.v}" is not supported`);
      }
    }
    if (this.is('op', '~')) return this.test('check', pos);
    return this.fail('expected a cat statement (let, a test, with, include, ...)');
  }

  private test(mode: TestMode, pos: Pos): Stmt {
    let neg = false;
    if (this.is('op', '~')) {
      this.next();
      neg = true;
    }
    const kw = this.next();
    if (kw.k !== 'kw' || !['acyclic', 'irreflexive', 'empty'].includes(kw.v)) {
      this.i--;
      this.fail('expected acyclic, irreflexive or empty');
    }
    const e = this.exp();
    let name: string | null = null;
    if (this.is('kw', 'as')) {
      this.next();
      name = this.name();
    }
    return { t: 'test', mode, neg, kind: kw.v as TestKind, e, name, pos };
  }

  private variant(): VariantCond {
    let left = this.variantAtom();
    for (;;) {
      if (this.is('op', '&&')) {
        this.next();
        left = { t: 'and', a: left, b: this.variantAtom() };
      } else if (this.is('op', '||')) {
        this.next();
        left = { t: 'or', a: left, b: this.variantAtom() };
      } else return left;
    }
  }

  private variantAtom(): VariantCond {
    if (this.is('kw', 'not')) {
      this.next();
      return { t: 'not', v: this.variantAtom() };
    }
    if (this.is('op', '(')) {
      this.next();
      const v = this.variant();
      this.expect('op', ')');
      return v;
    }
    if (this.is('kw', 'variant')) this.next();
    return { t: 'name', name: this.expect('str').v };
  }

  private formal(): Formal {
    if (this.is('op', '_')) {
      this.next();
      return null;
    }
    return this.name();
  }

  private formals(): Formal[] {
    const out: Formal[] = [];
    if (this.is('op', ')')) return out;
    out.push(this.formal());
    while (this.is('op', ',')) {
      this.next();
      out.push(this.formal());
    }
    return out;
  }

  private binds(): Bind[] {
    const out = [this.bind()];
    while (this.is('kw', 'and')) {
      this.next();
      out.push(this.bind());
    }
    return out;
  }

  private bind(): Bind {
    const pos = this.pos();
    if (this.is('op', '(')) {
      this.next();
      const names = this.formals();
      this.expect('op', ')');
      this.expect('op', '=');
      return { names, tuple: true, e: this.exp(), pos };
    }
    if (this.is('var') && this.is('op', '(', 1)) {
      const name = this.name();
      this.next();
      const params = this.formals();
      this.expect('op', ')');
      this.expect('op', '=');
      const body = this.exp();
      return { names: [name], tuple: false, e: { t: 'fun', params, tuple: true, body, name, pos }, pos };
    }
    if (this.is('var') && (this.is('var', undefined, 1) || this.is('op', '_', 1))) {
      const name = this.name();
      const param = this.formal();
      this.expect('op', '=');
      const body = this.exp();
      return { names: [name], tuple: false, e: { t: 'fun', params: [param], tuple: false, body, name, pos }, pos };
    }
    const names = [this.formal()];
    while (this.is('op', ',')) {
      this.next();
      names.push(this.formal());
    }
    this.expect('op', '=');
    return { names, tuple: names.length > 1, e: this.exp(), pos };
  }

  /** exp: let-in, fun, try, if, match, or a base (or a bare tuple). */
  exp(): Expr {
    const pos = this.pos();
    if (this.is('kw', 'let')) {
      this.next();
      const rec = this.is('kw', 'rec') ? (this.next(), true) : false;
      const binds = this.binds();
      this.expect('kw', 'in');
      return { t: 'let', rec, binds, body: this.exp(), pos };
    }
    if (this.is('kw', 'fun')) {
      this.next();
      let params: Formal[];
      let tuple = false;
      if (this.is('op', '(')) {
        this.next();
        params = this.formals();
        this.expect('op', ')');
        tuple = true;
      } else params = [this.formal()];
      this.expect('op', '->');
      return { t: 'fun', params, tuple, body: this.exp(), name: '*fun*', pos };
    }
    if (this.is('kw', 'try')) {
      this.next();
      const e = this.exp();
      this.expect('kw', 'with');
      return { t: 'try', e, alt: this.exp(), pos };
    }
    if (this.is('kw', 'if')) {
      this.next();
      const cond = this.cond();
      this.expect('kw', 'then');
      const then = this.exp();
      this.expect('kw', 'else');
      return { t: 'if', cond, then, else: this.exp(), pos };
    }
    if (this.is('kw', 'match')) return this.match(pos);
    const first = this.base(0);
    if (!this.is('op', ',')) return first;
    const items = [first];
    while (this.is('op', ',')) {
      this.next();
      items.push(this.base(0));
    }
    return { t: 'tuple', items, pos };
  }

  private cond(): Cond {
    if (this.is('str') || this.is('kw', 'variant') || this.is('kw', 'not')) return { t: 'variant', v: this.variant() };
    const a = this.exp();
    if (this.is('op', '=')) {
      this.next();
      return { t: 'eq', a, b: this.exp() };
    }
    if (this.is('kw', 'subset')) {
      this.next();
      return { t: 'subset', a, b: this.exp() };
    }
    this.expect('kw', 'in');
    return { t: 'in', a, b: this.exp() };
  }

  private match(pos: Pos): Expr {
    this.next();
    const e = this.exp();
    this.expect('kw', 'with');
    if (this.is('op', '||')) this.next();
    // set matching: {} -> e || x ++ s -> e (either order)
    if (this.is('op', '{') || this.is('op', '++', 1)) {
      let ifEmpty: Expr | null = null;
      let elt: { x: Formal; rest: Formal; body: Expr } | null = null;
      for (let k = 0; k < 2; k++) {
        if (k === 1) this.expect('op', '||');
        if (this.is('op', '{')) {
          this.next();
          this.expect('op', '}');
          this.expect('op', '->');
          ifEmpty = this.exp();
        } else {
          const x = this.formal();
          this.expect('op', '++');
          const rest = this.formal();
          this.expect('op', '->');
          elt = { x, rest, body: this.exp() };
        }
      }
      this.expect('kw', 'end');
      if (!ifEmpty || !elt) this.fail('a set match needs a {} clause and an x ++ s clause');
      return { t: 'matchset', e, ifEmpty: ifEmpty!, elt: elt!.x, rest: elt!.rest, body: elt!.body, pos };
    }
    const clauses: Array<[string, Expr]> = [];
    let dflt: Expr | null = null;
    for (;;) {
      if (this.is('op', '_')) {
        this.next();
        this.expect('op', '->');
        dflt = this.exp();
        break;
      }
      const tag = this.expect('tag').v;
      this.expect('op', '->');
      clauses.push([tag, this.exp()]);
      if (!this.is('op', '||')) break;
      this.next();
    }
    this.expect('kw', 'end');
    return { t: 'match', e, clauses, dflt, pos };
  }

  private startsSimple(ahead = 0): boolean {
    const t = this.peek(ahead);
    if (t.k === 'tag') return true;
    if (t.k === 'kw') return t.v === 'begin';
    return t.k === 'op' && ['{', '_', '(', '[', '0'].includes(t.v);
  }

  private startsBase(ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.k === 'var' || this.startsSimple(ahead) || (t.k === 'op' && t.v === '~');
  }

  /** Precedence climbing over the binary operators. */
  base(minPrec: number): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.k !== 'op') return left;
      if (t.v === '*' && this.startsBase(1)) {
        if (CART_PREC < minPrec) return left;
        const pos = this.pos();
        this.next();
        const right = this.base(CART_PREC + 1);
        left = { t: 'op2', op: 'cart', a: left, b: right, pos };
        continue;
      }
      const b = BINARY[t.v];
      if (!b || b.prec < minPrec) return left;
      const pos = this.pos();
      this.next();
      const right = this.base(b.right ? b.prec : b.prec + 1);
      left = { t: 'op2', op: b.op, a: left, b: right, pos };
    }
  }

  /** Prefix `~`, then an application, then postfix `*`, `+`, `?`, `^-1`. */
  private unary(): Expr {
    const pos = this.pos();
    if (this.is('op', '~')) {
      this.next();
      return { t: 'op1', op: 'comp', e: this.unary(), pos };
    }
    let e = this.app();
    for (;;) {
      const p = this.pos();
      if (this.is('op', '*') && !this.startsBase(1)) {
        this.next();
        e = { t: 'op1', op: 'star', e, pos: p };
      } else if (this.is('op', '+')) {
        this.next();
        e = { t: 'op1', op: 'plus', e, pos: p };
      } else if (this.is('op', '?')) {
        this.next();
        e = { t: 'op1', op: 'opt', e, pos: p };
      } else if (this.is('op', '^')) {
        this.next();
        this.expect('op', '-1');
        e = { t: 'op1', op: 'inv', e, pos: p };
      } else return e;
    }
  }

  private app(): Expr {
    if (!this.is('var')) return this.simple();
    const pos = this.pos();
    let e: Expr = { t: 'var', name: this.next().v, pos };
    while (this.is('var') || this.startsSimple()) {
      const arg: Expr = this.is('var') ? { t: 'var', name: this.next().v, pos: this.pos() } : this.simple();
      e = { t: 'app', f: e, arg, pos };
    }
    return e;
  }

  private simple(): Expr {
    const pos = this.pos();
    const t = this.next();
    if (t.k === 'tag') return { t: 'tag', name: t.v, pos };
    if (t.k === 'kw' && t.v === 'begin') {
      const e = this.exp();
      this.expect('kw', 'end');
      return e;
    }
    if (t.k === 'op') {
      switch (t.v) {
        case '0':
          return { t: 'empty', pos };
        case '_':
          return { t: 'unv', pos };
        case '{': {
          const items: Expr[] = [];
          if (!this.is('op', '}')) {
            items.push(this.base(0));
            while (this.is('op', ',')) {
              this.next();
              items.push(this.base(0));
            }
          }
          this.expect('op', '}');
          return { t: 'set', items, pos };
        }
        case '(': {
          if (this.is('op', ')')) {
            this.next();
            return { t: 'tuple', items: [], pos };
          }
          const e = this.exp();
          this.expect('op', ')');
          return e;
        }
        case '[': {
          const e = this.exp();
          this.expect('op', ']');
          return { t: 'op1', op: 'toid', e, pos };
        }
        default:
          break;
      }
    }
    this.i--;
    return this.fail('expected an expression');
  }
}

export function parseCat(text: string, file: string): CatFile {
  return new Parser(lexCat(text, file), file).parseFile();
}
