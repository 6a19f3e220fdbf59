/**
 * The kernel's primitives, from the model's own linux-kernel.def: each macro there
 * (`READ_ONCE(X) __load{once}(X)`, `spin_lock(X) { __lock(X); }`, ...) is expanded, by
 * substituting its arguments as herd7 does, into herd7's built-in primitives
 * (`__load`, `__store`, `__fence`, `__xchg`, `__cmpxchg`, `__lock`, `__unlock`,
 * `__trylock`, `__islocked`, `__atomic_op`, `__atomic_op_return`, `__atomic_fetch_op`,
 * `__srcu`). A new primitive in a later kernel's .def is a data change; a call that is
 * neither in the .def nor built in is named in the error, never skipped.
 */
import { InputError } from '@kreplay/core';
import type { CExpr, CStmt } from './ast.js';
import { lexC } from './lexer.js';
import { CParser, TokStream } from './parse.js';

export interface Macro {
  name: string;
  params: string[];
  /** An expression macro has `expr`; a statement macro has `body`. */
  expr: CExpr | null;
  body: CStmt[] | null;
  line: number;
}

export type Macros = Map<string, Macro>;

export function parseDef(text: string, file: string): Macros {
  const s = new TokStream(lexC(text, file, { ocamlComments: false }), file);
  const c = new CParser(s);
  const out: Macros = new Map();
  while (s.peek().k !== 'eof') {
    const nameTok = s.id('a macro name');
    s.expect('(');
    const params: string[] = [];
    while (!s.is(')')) {
      params.push(s.id('a macro parameter').v);
      if (s.is(',')) s.next();
    }
    s.next();
    let m: Macro;
    if (s.is('{')) {
      const block = c.stmt();
      m = { name: nameTok.v, params, expr: null, body: block.t === 'block' ? block.body : [block], line: nameTok.line };
    } else {
      m = { name: nameTok.v, params, expr: c.expr(), body: null, line: nameTok.line };
    }
    out.set(m.name, m);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Core forms after expansion

export type AtomicOp = '+' | '-' | '&' | '|' | '^' | '&~';

export type KExpr =
  | { t: 'const'; v: number }
  | { t: 'reg'; name: string; line: number }
  | { t: 'load'; addr: KExpr; annots: string[]; line: number }
  | { t: 'op'; op: string; a: KExpr; b: KExpr; line: number }
  | { t: 'xchg'; loc: KExpr; v: KExpr; annots: string[]; line: number }
  | { t: 'cmpxchg'; loc: KExpr; old: KExpr; new: KExpr; annots: string[]; line: number }
  | { t: 'atomicRet'; loc: KExpr; op: AtomicOp; v: KExpr; fetch: boolean; annots: string[]; line: number }
  | { t: 'addUnless'; loc: KExpr; a: KExpr; u: KExpr; line: number }
  | { t: 'trylock'; loc: KExpr; line: number }
  | { t: 'islocked'; loc: KExpr; line: number }
  | { t: 'srcu'; loc: KExpr; annots: string[]; line: number };

export type KStmt =
  | { t: 'decl'; name: string; e: KExpr | null; line: number }
  | { t: 'assign'; name: string; e: KExpr; line: number }
  | { t: 'store'; addr: KExpr; v: KExpr; annots: string[]; line: number }
  | { t: 'fence'; annots: string[]; line: number }
  | { t: 'lock'; loc: KExpr; line: number }
  | { t: 'unlock'; loc: KExpr; line: number }
  | { t: 'atomicOp'; loc: KExpr; op: AtomicOp; v: KExpr; line: number }
  | { t: 'srcu'; loc: KExpr; v: KExpr | null; annots: string[]; line: number }
  | { t: 'eval'; e: KExpr; line: number }
  /** A block, or a statement macro's body: one statement to herd7 (it takes a program-order index). */
  | { t: 'seq'; body: KStmt[]; line: number }
  | { t: 'if'; cond: KExpr; then: KStmt; else: KStmt | null; line: number };

export class Expander {
  /** Inside a macro's body: the line of the test's call, which every node and error takes. */
  private site: number | null = null;

  constructor(
    private readonly macros: Macros,
    private readonly file: string,
    private readonly modelName: string,
  ) {}

  private fail(line: number, msg: string, hint: string): never {
    throw new InputError(msg, { file: this.file, line: this.site ?? line, hint });
  }

  private ln(line: number): number {
    return this.site ?? line;
  }

  /** Expands a macro's body with every line set to the call's. */
  private inMacro<T>(line: number, f: () => T): T {
    const outer = this.site;
    this.site ??= line;
    try {
      return f();
    } finally {
      this.site = outer;
    }
  }

  stmts(list: CStmt[], env: Map<string, CExpr> = new Map()): KStmt[] {
    const out: KStmt[] = [];
    for (const s of list) this.stmt(s, env, out);
    return out;
  }

  private stmt(s: CStmt, env: Map<string, CExpr>, out: KStmt[]): void {
    switch (s.t) {
      case 'block': {
        const body: KStmt[] = [];
        for (const x of s.body) this.stmt(x, env, body);
        out.push({ t: 'seq', body, line: this.ln(s.line) });
        return;
      }
      case 'decl':
        out.push({ t: 'decl', name: s.name, e: s.init ? this.expr(s.init, env) : null, line: this.ln(s.line) });
        return;
      case 'assign': {
        const target = env.get(s.name);
        if (target) {
          // a macro parameter on the left of =: herd7 turns *p = v into a store
          if (target.t === 'name') out.push({ t: 'assign', name: target.name, e: this.expr(s.e, env), line: this.ln(s.line) });
          else if (target.t === 'deref') out.push({ t: 'store', addr: this.expr(target.e, env), v: this.expr(s.e, env), annots: [], line: this.ln(s.line) });
          else this.fail(s.line, `bad left-hand side for macro parameter ${s.name}`, 'the argument must be a variable or *pointer');
          return;
        }
        out.push({ t: 'assign', name: s.name, e: this.expr(s.e, env), line: this.ln(s.line) });
        return;
      }
      case 'store':
        out.push({ t: 'store', addr: this.expr(s.target, env), v: this.expr(s.e, env), annots: [], line: this.ln(s.line) });
        return;
      case 'if':
        out.push({
          t: 'if',
          cond: this.expr(s.cond, env),
          then: this.one(s.then, env),
          else: s.else ? this.one(s.else, env) : null,
          line: this.ln(s.line),
        });
        return;
      case 'while':
        this.fail(
          s.line,
          'while loops are not supported',
          'herd7 unrolls loops a fixed number of times, kreplay does not; write the iterations out with if statements',
        );
        break;
      case 'expr':
        this.exprStmt(s.e, env, out, s.line);
        return;
    }
  }

  /** One statement as one statement (a macro call expands to a seq). */
  private one(s: CStmt, env: Map<string, CExpr>): KStmt {
    const out: KStmt[] = [];
    this.stmt(s, env, out);
    return out.length === 1 ? out[0]! : { t: 'seq', body: out, line: this.ln(s.line) };
  }

  private exprStmt(e: CExpr, env: Map<string, CExpr>, out: KStmt[], line: number): void {
    if (e.t === 'call') {
      const args = e.args;
      switch (e.name) {
        case '__store': {
          this.arity(e, 2);
          out.push({ t: 'store', addr: this.lvalue(args[0]!, env, e), v: this.expr(args[1]!, env), annots: e.annots ?? [], line: this.ln(line) });
          return;
        }
        case '__fence':
          out.push({ t: 'fence', annots: e.annots ?? [], line: this.ln(line) });
          return;
        case '__lock':
          this.arity(e, 1);
          out.push({ t: 'lock', loc: this.expr(args[0]!, env), line: this.ln(line) });
          return;
        case '__unlock':
          this.arity(e, 1);
          out.push({ t: 'unlock', loc: this.expr(args[0]!, env), line: this.ln(line) });
          return;
        case '__atomic_op': {
          this.arity(e, 3);
          out.push({ t: 'atomicOp', loc: this.expr(args[0]!, env), op: this.opArg(args[1]!, env, e), v: this.expr(args[2]!, env), line: this.ln(line) });
          return;
        }
        case '__srcu': {
          if (args.length !== 1 && args.length !== 2) this.arity(e, 2);
          out.push({ t: 'srcu', loc: this.expr(args[0]!, env), v: args[1] ? this.expr(args[1], env) : null, annots: e.annots ?? [], line: this.ln(line) });
          return;
        }
        default: {
          const m = this.macros.get(e.name);
          if (m?.body) {
            if (args.length !== m.params.length)
              this.fail(line, `${e.name} takes ${m.params.length} argument(s), found ${args.length}`, `see ${e.name} in the model's linux-kernel.def`);
            const frame = new Map<string, CExpr>();
            m.params.forEach((p, k) => frame.set(p, substitute(args[k]!, env)));
            const body: KStmt[] = [];
            this.inMacro(line, () => {
              for (const x of m.body!) this.stmt(x, frame, body);
            });
            out.push({ t: 'seq', body, line: this.ln(line) });
            return;
          }
        }
      }
    }
    out.push({ t: 'eval', e: this.expr(e, env), line: this.ln(line) });
  }

  private arity(e: Extract<CExpr, { t: 'call' }>, n: number): void {
    if (e.args.length !== n) this.fail(e.line, `${e.name} takes ${n} argument(s), found ${e.args.length}`, "this is one of herd7's primitives; check the call");
  }

  private opArg(e: CExpr, env: Map<string, CExpr>, call: Extract<CExpr, { t: 'call' }>): AtomicOp {
    const x = e.t === 'name' && env.has(e.name) ? env.get(e.name)! : e;
    if (x.t === 'opArg' && ['+', '-', '&', '|', '^', '&~'].includes(x.op)) return x.op as AtomicOp;
    return this.fail(call.line, `${call.name}: the second argument must be an operator (+, -, &, |, ^)`, 'e.g. __atomic_op(X,+,V)');
  }

  /** `*e` as the target of __load/__store: the address e. */
  private lvalue(e: CExpr, env: Map<string, CExpr>, call: Extract<CExpr, { t: 'call' }>): KExpr {
    // a macro's argument is the caller's expression: its names are the caller's, not the
    // macro's parameters (a thread may well have a register called X)
    const fromArg = e.t === 'name' && env.has(e.name);
    const x = fromArg ? env.get(e.name)! : e;
    if (x.t !== 'deref') {
      this.fail(
        call.line,
        `${call.name === '__load' ? 'a load' : 'a store'} needs a pointer dereference (*p) as its location`,
        'pass *p: READ_ONCE(*x), WRITE_ONCE(*x, 1); smp_load_acquire(x) and smp_store_release(x, 1) take the pointer itself',
      );
    }
    return this.expr((x as { e: CExpr }).e, fromArg ? new Map() : env);
  }

  expr(e: CExpr, env: Map<string, CExpr>): KExpr {
    switch (e.t) {
      case 'num':
        return { t: 'const', v: e.v };
      case 'name': {
        const a = env.get(e.name);
        if (a) return this.expr(a, new Map());
        return { t: 'reg', name: e.name, line: this.ln(e.line) };
      }
      case 'deref':
        return { t: 'load', addr: this.expr(e.e, env), annots: [], line: this.ln(e.line) };
      case 'bin':
        if ((e.op === '&&' || e.op === '||') && (hasEffects(e.a) || hasEffects(e.b))) {
          this.fail(
            e.line,
            `${e.op} with a memory access in an operand is not supported`,
            'herd7 has no short-circuit operators; read into a local variable first, then test it',
          );
        }
        return { t: 'op', op: e.op, a: this.expr(e.a, env), b: this.expr(e.b, env), line: this.ln(e.line) };
      case 'not':
        return { t: 'op', op: '==', a: this.expr(e.e, env), b: { t: 'const', v: 0 }, line: this.ln(e.line) };
      case 'neg':
        return { t: 'op', op: '-', a: { t: 'const', v: 0 }, b: this.expr(e.e, env), line: this.ln(e.line) };
      case 'bitnot':
        return { t: 'op', op: '^', a: this.expr(e.e, env), b: { t: 'const', v: -1 }, line: this.ln(e.line) };
      case 'opArg':
        return this.fail(e.line, `operator ${e.op} where a value was expected`, 'operators are arguments of __atomic_op only');
      case 'call':
        return this.call(e, env);
    }
  }

  private call(e: Extract<CExpr, { t: 'call' }>, env: Map<string, CExpr>): KExpr {
    const args = e.args;
    const annots = e.annots ?? [];
    switch (e.name) {
      case '__load':
        this.arity(e, 1);
        return { t: 'load', addr: this.lvalue(args[0]!, env, e), annots, line: this.ln(e.line) };
      case '__xchg':
        this.arity(e, 2);
        return { t: 'xchg', loc: this.expr(args[0]!, env), v: this.expr(args[1]!, env), annots, line: this.ln(e.line) };
      case '__cmpxchg':
        this.arity(e, 3);
        return { t: 'cmpxchg', loc: this.expr(args[0]!, env), old: this.expr(args[1]!, env), new: this.expr(args[2]!, env), annots, line: this.ln(e.line) };
      case '__atomic_op_return':
      case '__atomic_fetch_op':
        this.arity(e, 3);
        return {
          t: 'atomicRet',
          loc: this.expr(args[0]!, env),
          op: this.opArg(args[1]!, env, e),
          v: this.expr(args[2]!, env),
          fetch: e.name === '__atomic_fetch_op',
          annots,
          line: this.ln(e.line),
        };
      case '__atomic_add_unless':
        this.arity(e, 3);
        return { t: 'addUnless', loc: this.expr(args[0]!, env), a: this.expr(args[1]!, env), u: this.expr(args[2]!, env), line: this.ln(e.line) };
      case '__trylock':
        this.arity(e, 1);
        return { t: 'trylock', loc: this.expr(args[0]!, env), line: this.ln(e.line) };
      case '__islocked':
        this.arity(e, 1);
        return { t: 'islocked', loc: this.expr(args[0]!, env), line: this.ln(e.line) };
      case '__srcu':
        this.arity(e, 1);
        return { t: 'srcu', loc: this.expr(args[0]!, env), annots, line: this.ln(e.line) };
      default:
        break;
    }
    const m = this.macros.get(e.name);
    if (m?.expr) {
      if (args.length !== m.params.length)
        this.fail(e.line, `${e.name} takes ${m.params.length} argument(s), found ${args.length}`, `see ${e.name} in the model's linux-kernel.def`);
      const frame = new Map<string, CExpr>();
      m.params.forEach((p, k) => frame.set(p, substitute(args[k]!, env)));
      return this.inMacro(e.line, () => this.expr(m.expr!, frame));
    }
    if (m?.body) this.fail(e.line, `${e.name} does not return a value`, `call it as a statement: ${e.name}(...);`);
    // herd7 knows this one without a macro (its "legacy" atomic_add_unless)
    if (e.name === 'atomic_add_unless' && args.length === 3) {
      return { t: 'addUnless', loc: this.expr(args[0]!, env), a: this.expr(args[1]!, env), u: this.expr(args[2]!, env), line: this.ln(e.line) };
    }
    return this.fail(
      e.line,
      `unknown primitive ${e.name}: the ${this.modelName} memory model does not define it`,
      `kreplay reads the primitives from the model's linux-kernel.def; ${e.name} is not there (herd7 would say "Unknown macro ${e.name}")`,
    );
  }
}

/** Replaces macro parameters by the (already substituted) arguments. */
function substitute(e: CExpr, env: Map<string, CExpr>): CExpr {
  switch (e.t) {
    case 'name':
      return env.get(e.name) ?? e;
    case 'deref':
    case 'not':
    case 'neg':
    case 'bitnot':
      return { ...e, e: substitute(e.e, env) };
    case 'bin':
      return { ...e, a: substitute(e.a, env), b: substitute(e.b, env) };
    case 'call':
      return { ...e, args: e.args.map((a) => substitute(a, env)) };
    default:
      return e;
  }
}

function hasEffects(e: CExpr): boolean {
  switch (e.t) {
    case 'deref':
    case 'call':
      return true;
    case 'bin':
      return hasEffects(e.a) || hasEffects(e.b);
    case 'not':
    case 'neg':
    case 'bitnot':
      return hasEffects(e.e);
    default:
      return false;
  }
}
