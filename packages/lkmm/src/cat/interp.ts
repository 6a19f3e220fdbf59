/**
 * The cat interpreter. A model (prelude + bell + cat, includes expanded) is compiled once
 * into a list of top-level statements whose names are resolved to slots; a candidate
 * execution fills the native slots (po, rf, R, W, ...) and runs the statements.
 *
 * Staging. Every slot has a level: 0 for what depends only on the threads' events (po,
 * addr, the event sets), 1 for what depends on the candidate's reads-from and final writes,
 * and one more level per `with x from S` statement (the model enumerates x itself). A
 * statement's level is the highest level of the slots it reads. When only level L changed
 * (a new rf, a new co), the statements below L keep their values and their checks stay
 * passed, so only the rest is evaluated again. A check that fails at level 0 rejects every
 * rf of those events at once: that is the early pruning, and it needs no knowledge of the
 * model's meaning.
 */
import { InputError } from '@kreplay/core';
import { Space, diffBits, equalBits, interBits, isEmptyBits, unionBits, type Bits } from '../rel.js';
import type { Bind, CatFile, Cond, Expr, Formal, Pos, Stmt, TestKind, TestMode, VariantCond } from './ast.js';
import { EMPTY, UNV, elements, makeVset, typeName, valueKey, type Locals, type Value } from './values.js';

/** A model error found while running (a type error, an unbound name): the model file is at fault. */
export class CatError extends Error {
  constructor(
    message: string,
    readonly pos: Pos | null,
  ) {
    super(message);
    this.name = 'CatError';
  }
}

class Unbound extends CatError {}

type Code = (G: Value[], L: Locals | null) => Value;

interface CLet {
  t: 'let';
  slots: number[];
  rec: boolean;
  /** One per binding; a tuple binding fills several slots. */
  binds: Array<{ slots: number[]; tuple: boolean; code: Code; isFun: boolean }>;
  refs: number[];
  pos: Pos;
}
interface CTest {
  t: 'test';
  mode: TestMode;
  neg: boolean;
  kind: TestKind;
  name: string | null;
  code: Code;
  refs: number[];
  pos: Pos;
}
interface CWith {
  t: 'with';
  slot: number;
  code: Code;
  refs: number[];
  stage: number;
  pos: Pos;
}
type CStmt = CLet | CTest | CWith;

export interface ModelSource {
  /** Reads an included file by name (lock.cat, cross.cat, ...). */
  include(name: string, from: Pos): CatFile;
}

export interface CompiledModel {
  title: string | null;
  stmts: CStmt[];
  slotNames: string[];
  /** Native names the model reads, slot by name. */
  natives: Map<string, number>;
  /** Annotation tags declared by `instructions` statements (each gives a native set). */
  annotations: string[];
  /** Number of `with` stages. */
  stages: number;
  /** Flag names in statement order. */
  flags: string[];
}

/** The native names every model may read, besides the annotation sets. */
export const NATIVE_NAMES = [
  'po',
  'rf',
  'loc',
  'int',
  'ext',
  'id',
  'rmw',
  'addr',
  'data',
  'ctrl',
  'amo',
  'M',
  'R',
  'W',
  'IW',
  'FW',
  'F',
  'B',
  'RMW',
  'LK',
  'LKR',
  'LKW',
  'UL',
  'LF',
  'RL',
  'RU',
  '_evts',
];

export const PRIMITIVES = [
  'domain',
  'range',
  'different-values',
  'same-values',
  'classes-loc',
  'partition',
  'linearisations',
  'cross',
  'map',
  'fromto',
  'coherence-orders',
];

export function capitalize(tag: string): string {
  return tag.length === 0 ? tag : tag[0]!.toUpperCase() + tag.slice(1);
}

/** Compiles prelude + files into one statement list. `variants` answers `if "name"` statements. */
export function compileModel(files: CatFile[], source: ModelSource, variants: (name: string) => boolean): CompiledModel {
  const c = new Compiler(source, variants);
  let title: string | null = null;
  for (const f of files) {
    if (f.title && title === null && !f.file.endsWith('stdlib.cat')) title = f.title;
    c.stmts(f.stmts, [f.file]);
  }
  return c.finish(title);
}

class Compiler {
  private readonly slotNames: string[] = [];
  private readonly scope = new Map<string, number>();
  private readonly natives = new Map<string, number>();
  private readonly out: CStmt[] = [];
  private readonly annotations = new Set<string>();
  private readonly enums = new Map<string, string[]>();
  private stage = LEVEL_FINAL;
  private readonly flags: string[] = [];
  /** Slots a statement reads, collected while compiling it. */
  private refs = new Set<number>();

  constructor(
    private readonly source: ModelSource,
    private readonly variants: (name: string) => boolean,
  ) {
    for (const n of [...NATIVE_NAMES, ...PRIMITIVES]) this.native(n);
  }

  private native(name: string): number {
    let s = this.natives.get(name);
    if (s === undefined) {
      s = this.slotNames.length;
      this.slotNames.push(name);
      this.natives.set(name, s);
      this.scope.set(name, s);
    }
    return s;
  }

  private newSlot(name: string): number {
    const s = this.slotNames.length;
    this.slotNames.push(name);
    return s;
  }

  finish(title: string | null): CompiledModel {
    return {
      title,
      stmts: this.out,
      slotNames: this.slotNames,
      natives: this.natives,
      annotations: [...this.annotations].sort(),
      stages: this.stage,
      flags: this.flags,
    };
  }

  stmts(list: Stmt[], including: string[]): void {
    for (const s of list) this.stmt(s, including);
  }

  private stmt(s: Stmt, including: string[]): void {
    switch (s.t) {
      case 'include': {
        if (including.includes(s.file)) throw new InputError(`${s.file} includes itself`, { file: s.pos.file, line: s.pos.line });
        const f = this.source.include(s.file, s.pos);
        this.stmts(f.stmts, [...including, s.file]);
        return;
      }
      case 'ifvariant':
        this.stmts(this.variant(s.v) ? s.then : s.else, including);
        return;
      case 'show':
        return;
      case 'enum': {
        this.enums.set(s.name, s.tags);
        const slot = this.newSlot(s.name);
        const v = makeVset(s.tags.map((name) => ({ k: 'tag', name }) as Value));
        this.out.push({ t: 'let', slots: [slot], rec: false, binds: [{ slots: [slot], tuple: false, code: () => v, isFun: false }], refs: [], pos: s.pos });
        this.scope.set(s.name, slot);
        return;
      }
      case 'instructions':
        for (const a of s.args) this.collectAnnotations(a);
        return;
      case 'let':
        this.let(s.binds, s.rec, s.pos);
        return;
      case 'test': {
        this.refs = new Set();
        const code = this.expr(s.e, new Set());
        const refs = [...this.refs];
        if (s.mode === 'flag') this.flags.push(s.name ?? '(unnamed flag)');
        this.out.push({ t: 'test', mode: s.mode, neg: s.neg, kind: s.kind, name: s.name, code, refs, pos: s.pos });
        return;
      }
      case 'with': {
        this.refs = new Set();
        const code = this.expr(s.e, new Set());
        const refs = [...this.refs];
        const slot = this.newSlot(s.name);
        this.stage++;
        this.out.push({ t: 'with', slot, code, refs, stage: this.stage, pos: s.pos });
        this.scope.set(s.name, slot);
        return;
      }
    }
  }

  private variant(v: VariantCond): boolean {
    switch (v.t) {
      case 'name':
        return this.variants(v.name);
      case 'not':
        return !this.variant(v.v);
      case 'and':
        return this.variant(v.a) && this.variant(v.b);
      case 'or':
        return this.variant(v.a) || this.variant(v.b);
    }
  }

  private collectAnnotations(e: Expr): void {
    if (e.t === 'tag') this.annotations.add(e.name);
    else if (e.t === 'set') for (const i of e.items) this.collectAnnotations(i);
    else if (e.t === 'var') for (const t of this.enums.get(e.name) ?? []) this.annotations.add(t);
    else if (e.t === 'op2') {
      this.collectAnnotations(e.a);
      this.collectAnnotations(e.b);
    }
    for (const t of this.annotations) this.native(capitalize(t));
  }

  private let(binds: Bind[], rec: boolean, pos: Pos): void {
    this.refs = new Set();
    const slotsOf = binds.map((b) => b.names.map((n) => this.newSlot(n ?? '_')));
    if (rec) binds.forEach((b, i) => b.names.forEach((n, j) => n !== null && this.scope.set(n, slotsOf[i]![j]!)));
    const compiled = binds.map((b, i) => ({ slots: slotsOf[i]!, tuple: b.tuple, code: this.expr(b.e, new Set()), isFun: b.e.t === 'fun' }));
    if (!rec) binds.forEach((b, i) => b.names.forEach((n, j) => n !== null && this.scope.set(n, slotsOf[i]![j]!)));
    const own = new Set(slotsOf.flat());
    const refs = [...this.refs].filter((r) => !own.has(r));
    this.out.push({ t: 'let', slots: slotsOf.flat(), rec, binds: compiled, refs, pos });
  }

  /** Compiles an expression; `locals` are the names bound inside the statement. */
  private expr(e: Expr, locals: Set<string>): Code {
    switch (e.t) {
      case 'var': {
        const name = e.name;
        if (locals.has(name)) {
          return (_G, L) => {
            for (let l = L; l; l = l.up) if (l.name === name) return l.v;
            throw new CatError(`internal: local ${name} lost`, e.pos);
          };
        }
        const slot = this.scope.get(name);
        if (slot === undefined) {
          return () => {
            throw new Unbound(`unbound name ${name}`, e.pos);
          };
        }
        this.refs.add(slot);
        return (G) => {
          const v = G[slot];
          if (v === undefined) throw new Unbound(`name ${name} has no value here`, e.pos);
          return v;
        };
      }
      case 'tag': {
        const v: Value = { k: 'tag', name: e.name };
        return () => v;
      }
      case 'empty':
        return () => EMPTY;
      case 'unv':
        return () => UNV;
      case 'set': {
        const items = e.items.map((i) => this.expr(i, locals));
        return (G, L) =>
          explicitSet(
            items.map((c) => c(G, L)),
            G,
            e.pos,
          );
      }
      case 'tuple': {
        const items = e.items.map((i) => this.expr(i, locals));
        return (G, L) => ({ k: 'tuple', items: items.map((c) => c(G, L)) });
      }
      case 'op1': {
        const a = this.expr(e.e, locals);
        const op = e.op;
        return (G, L) => op1(op, a(G, L), G, e.pos);
      }
      case 'op2': {
        const a = this.expr(e.a, locals);
        const b = this.expr(e.b, locals);
        const op = e.op;
        return (G, L) => op2(op, a(G, L), b(G, L), G, e.pos);
      }
      case 'app': {
        const f = this.expr(e.f, locals);
        const arg = this.expr(e.arg, locals);
        return (G, L) => apply(f(G, L), arg(G, L), G, e.pos);
      }
      case 'fun': {
        const inner = new Set(locals);
        for (const p of e.params) if (p !== null) inner.add(p);
        const body = this.expr(e.body, inner);
        const { params, tuple, name } = e;
        return (_G, L) => ({ k: 'clo', params, tuple, env: L, name, code: body });
      }
      case 'let': {
        const inner = new Set(locals);
        for (const b of e.binds) for (const n of b.names) if (n !== null) inner.add(n);
        const codes = e.binds.map((b) => this.expr(b.e, e.rec ? inner : locals));
        const body = this.expr(e.body, inner);
        const binds = e.binds;
        if (!e.rec) {
          return (G, L) => {
            let env = L;
            const vals = codes.map((c) => c(G, L));
            binds.forEach((b, i) => {
              env = bindPattern(b.names, b.tuple, vals[i]!, env, b.pos);
            });
            return body(G, env);
          };
        }
        return (G, L) => body(G, fixLocal(binds, codes, G, L, e.pos));
      }
      case 'try': {
        const a = this.expr(e.e, locals);
        const alt = this.expr(e.alt, locals);
        return (G, L) => {
          try {
            return a(G, L);
          } catch (err) {
            if (err instanceof CatError) return alt(G, L);
            throw err;
          }
        };
      }
      case 'if': {
        const cond = this.cond(e.cond, locals);
        const a = this.expr(e.then, locals);
        const b = this.expr(e.else, locals);
        return (G, L) => (cond(G, L) ? a(G, L) : b(G, L));
      }
      case 'match': {
        const scrut = this.expr(e.e, locals);
        const clauses = e.clauses.map(([tag, x]) => [tag, this.expr(x, locals)] as const);
        const dflt = e.dflt ? this.expr(e.dflt, locals) : null;
        return (G, L) => {
          const v = scrut(G, L);
          if (v.k !== 'tag') throw new CatError(`match on a ${typeName(v)}, expected a tag`, e.pos);
          for (const [tag, c] of clauses) if (tag === v.name) return c(G, L);
          if (dflt) return dflt(G, L);
          throw new CatError(`no match clause for '${v.name}`, e.pos);
        };
      }
      case 'matchset': {
        const scrut = this.expr(e.e, locals);
        const ifEmpty = this.expr(e.ifEmpty, locals);
        const inner = new Set(locals);
        if (e.elt !== null) inner.add(e.elt);
        if (e.rest !== null) inner.add(e.rest);
        const body = this.expr(e.body, inner);
        return (G, L) => {
          const v = scrut(G, L);
          const split = splitSet(v, G, e.pos);
          if (!split) return ifEmpty(G, L);
          let env = L;
          if (e.elt !== null) env = { name: e.elt, v: split[0], up: env };
          if (e.rest !== null) env = { name: e.rest, v: split[1], up: env };
          return body(G, env);
        };
      }
    }
  }

  private cond(c: Cond, locals: Set<string>): (G: Value[], L: Locals | null) => boolean {
    if (c.t === 'variant') {
      const b = this.variant(c.v);
      return () => b;
    }
    const a = this.expr(c.a, locals);
    const b = this.expr(c.b, locals);
    if (c.t === 'eq') return (G, L) => valueKey(normalize(a(G, L), G)) === valueKey(normalize(b(G, L), G));
    if (c.t === 'subset') {
      return (G, L) => {
        const x = normalize(a(G, L), G);
        const y = normalize(b(G, L), G);
        return valueKey(op2('diff', x, y, G, null)) === valueKey(emptyLike(x, G));
      };
    }
    return (G, L) => {
      const x = a(G, L);
      const s = b(G, L);
      const items = elements(s);
      if (items) {
        const k = valueKey(x);
        for (const i of items) if (valueKey(i) === k) return true;
        return false;
      }
      if (s.k === 'set' && x.k === 'event') return space(G).has(s.b, x.i);
      if (s.k === 'rel' && x.k === 'pair') return space(G).hasPair(s.b, x.a, x.b);
      throw new CatError(`"in" needs a set, found a ${typeName(s)}`, null);
    };
  }
}

// ---------------------------------------------------------------------------------------
// Runtime helpers. The space of the current execution travels in a hidden slot of G.

const SPACE = Symbol('space');
type WithSpace = Value[] & { [SPACE]?: Space };

export function attachSpace(G: Value[], sp: Space): void {
  (G as WithSpace)[SPACE] = sp;
}

function space(G: Value[]): Space {
  const sp = (G as WithSpace)[SPACE];
  if (!sp) throw new CatError('internal: no event space', null);
  return sp;
}

function asSet(v: Value, G: Value[], pos: Pos | null, what: string): Bits {
  if (v.k === 'set') return v.b;
  if (v.k === 'empty') return space(G).emptySet();
  if (v.k === 'unv') return space(G).fullSet();
  throw new CatError(`${what} needs an event set, found a ${typeName(v)}`, pos);
}

function asRel(v: Value, G: Value[], pos: Pos | null, what: string): Bits {
  if (v.k === 'rel') return v.b;
  if (v.k === 'empty') return space(G).emptyRel();
  if (v.k === 'unv') return space(G).fullRel();
  throw new CatError(`${what} needs a relation, found a ${typeName(v)}`, pos);
}

function normalize(v: Value, G: Value[]): Value {
  if (v.k === 'gen') return makeVset(v.items());
  void G;
  return v;
}

function emptyLike(v: Value, G: Value[]): Value {
  if (v.k === 'set') return { k: 'set', b: space(G).emptySet() };
  if (v.k === 'rel') return { k: 'rel', b: space(G).emptyRel() };
  if (v.k === 'vset') return { k: 'vset', items: [] };
  return EMPTY;
}

function explicitSet(items: Value[], G: Value[], pos: Pos): Value {
  if (items.length === 0) return EMPTY;
  if (items.every((v) => v.k === 'event')) return { k: 'set', b: space(G).setOf(items.map((v) => (v as { i: number }).i)) };
  if (items.every((v) => v.k === 'pair')) return { k: 'rel', b: space(G).relOf(items.map((v) => [(v as { a: number }).a, (v as { b: number }).b] as const)) };
  if (items.some((v) => v.k === 'event' || v.k === 'pair')) throw new CatError('a set mixes events with other values', pos);
  return makeVset(items);
}

function op1(op: string, v: Value, G: Value[], pos: Pos): Value {
  const sp = space(G);
  switch (op) {
    case 'toid':
      if (v.k === 'empty') return EMPTY;
      return { k: 'rel', b: sp.toId(asSet(v, G, pos, '[...]')) };
    case 'comp':
      if (v.k === 'set') return { k: 'set', b: sp.setComplement(v.b) };
      if (v.k === 'rel') return { k: 'rel', b: sp.relComplement(v.b) };
      if (v.k === 'empty') return UNV;
      if (v.k === 'unv') return EMPTY;
      throw new CatError(`~ needs a set or a relation, found a ${typeName(v)}`, pos);
    case 'star':
      return { k: 'rel', b: sp.star(asRel(v, G, pos, '*')) };
    case 'plus':
      if (v.k === 'empty') return EMPTY;
      return { k: 'rel', b: sp.plus(asRel(v, G, pos, '+')) };
    case 'opt':
      return { k: 'rel', b: sp.opt(asRel(v, G, pos, '?')) };
    case 'inv':
      if (v.k === 'empty') return EMPTY;
      return { k: 'rel', b: sp.inverse(asRel(v, G, pos, '^-1')) };
  }
  throw new CatError(`unknown operator ${op}`, pos);
}

function setAlgebra(op: 'union' | 'inter' | 'diff', a: Value, b: Value, G: Value[], pos: Pos | null): Value {
  const f = op === 'union' ? unionBits : op === 'inter' ? interBits : diffBits;
  // the polymorphic constants take the kind of the other side
  if (a.k === 'empty' && b.k === 'empty') return EMPTY;
  if (a.k === 'empty') return op === 'union' ? b : op === 'inter' ? EMPTY : EMPTY;
  if (b.k === 'empty') return op === 'union' ? a : op === 'inter' ? EMPTY : a;
  if (a.k === 'gen' || b.k === 'gen') return setAlgebra(op, normalize(a, G), normalize(b, G), G, pos);
  if (a.k === 'vset' || b.k === 'vset') {
    if (a.k !== 'vset' || b.k !== 'vset') throw new CatError(`${op} of a ${typeName(a)} and a ${typeName(b)}`, pos);
    const bk = new Set(b.items.map(valueKey));
    if (op === 'union') return makeVset([...a.items, ...b.items]);
    return makeVset(a.items.filter((x) => bk.has(valueKey(x)) === (op === 'inter')));
  }
  const kind = a.k === 'unv' ? b.k : a.k;
  if (kind === 'unv') return op === 'diff' ? EMPTY : UNV;
  if (kind === 'set') return { k: 'set', b: f(asSet(a, G, pos, op), asSet(b, G, pos, op)) };
  if (kind === 'rel') return { k: 'rel', b: f(asRel(a, G, pos, op), asRel(b, G, pos, op)) };
  throw new CatError(`${op} of a ${typeName(a)} and a ${typeName(b)}`, pos);
}

function op2(op: string, a: Value, b: Value, G: Value[], pos: Pos | null): Value {
  const sp = space(G);
  switch (op) {
    case 'union':
    case 'inter':
    case 'diff':
      return setAlgebra(op, a, b, G, pos);
    case 'seq':
      if (a.k === 'empty' || b.k === 'empty') return EMPTY;
      return { k: 'rel', b: sp.seq(asRel(a, G, pos, ';'), asRel(b, G, pos, ';')) };
    case 'cart':
      return { k: 'rel', b: sp.cartesian(asSet(a, G, pos, '*'), asSet(b, G, pos, '*')) };
    case 'add':
      return addElement(a, b, G, pos);
  }
  throw new CatError(`unknown operator ${op}`, pos);
}

function addElement(x: Value, s: Value, G: Value[], pos: Pos | null): Value {
  const sp = space(G);
  if (x.k === 'event' && (s.k === 'set' || s.k === 'empty')) {
    const b = s.k === 'set' ? s.b.slice() : sp.emptySet();
    b[x.i >>> 5]! |= 1 << (x.i & 31);
    return { k: 'set', b };
  }
  if (x.k === 'pair' && (s.k === 'rel' || s.k === 'empty')) {
    const b = s.k === 'rel' ? s.b.slice() : sp.emptyRel();
    b[x.a * sp.w + (x.b >>> 5)]! |= 1 << (x.b & 31);
    return { k: 'rel', b };
  }
  const items = elements(s);
  if (items) return makeVset([x, ...items]);
  throw new CatError(`++ adds to a set, found a ${typeName(s)}`, pos);
}

/** Splits a non-empty set into one element and the rest (for `match S with x ++ S' -> ...`). */
function splitSet(v: Value, G: Value[], pos: Pos): [Value, Value] | null {
  const sp = space(G);
  if (v.k === 'set') {
    const m = sp.members(v.b);
    if (m.length === 0) return null;
    const rest = v.b.slice();
    rest[m[0]! >>> 5]! &= ~(1 << (m[0]! & 31));
    return [
      { k: 'event', i: m[0]! },
      { k: 'set', b: rest },
    ];
  }
  if (v.k === 'rel') {
    const p = sp.pairs(v.b);
    if (p.length === 0) return null;
    const rest = v.b.slice();
    const [a, b] = p[0]!;
    rest[a * sp.w + (b >>> 5)]! &= ~(1 << (b & 31));
    return [
      { k: 'pair', a, b },
      { k: 'rel', b: rest },
    ];
  }
  const items = elements(v);
  if (items) {
    const arr = [...items];
    if (arr.length === 0) return null;
    return [arr[0]!, { k: 'vset', items: arr.slice(1) }];
  }
  throw new CatError(`set match on a ${typeName(v)}`, pos);
}

function bindPattern(names: Formal[], tuple: boolean, v: Value, env: Locals | null, pos: Pos): Locals | null {
  if (!tuple) return names[0] === null ? env : { name: names[0]!, v, up: env };
  if (v.k !== 'tuple' || v.items.length !== names.length) {
    if (names.length === 1) return names[0] === null ? env : { name: names[0]!, v, up: env };
    throw new CatError(`expected a tuple of ${names.length}, found a ${typeName(v)}`, pos);
  }
  let out = env;
  names.forEach((n, i) => {
    if (n !== null) out = { name: n, v: v.items[i]!, up: out };
  });
  return out;
}

function apply(f: Value, arg: Value, G: Value[], pos: Pos): Value {
  if (f.k === 'prim') {
    try {
      return f.fn(arg);
    } catch (e) {
      if (e instanceof CatError && e.pos === null) throw new CatError(e.message, pos);
      throw e;
    }
  }
  if (f.k !== 'clo') throw new CatError(`applying a ${typeName(f)}, not a function`, pos);
  const env = bindPattern(f.params, f.tuple && f.params.length !== 1, arg, f.env, pos);
  return f.code(G, env);
}

/** Local `let rec`: functions tie the knot; relations and sets iterate from empty as herd7 does. */
function fixLocal(binds: Bind[], codes: Code[], G: Value[], L: Locals | null, pos: Pos): Locals | null {
  if (binds.every((b) => b.e.t === 'fun')) {
    // closures that see each other: mutable cells behind the Locals chain
    const cells: Array<{ name: string; v: Value; up: Locals | null }> = [];
    let env = L;
    for (const b of binds) {
      const cell = { name: b.names[0]!, v: EMPTY, up: env };
      cells.push(cell);
      env = cell;
    }
    codes.forEach((c, i) => {
      cells[i]!.v = c(G, env);
    });
    return env;
  }
  let vals: Value[] = binds.map(() => EMPTY);
  const envOf = (vs: Value[]): Locals | null => {
    let env = L;
    binds.forEach((b, i) => {
      env = bindPattern(b.names, b.tuple, vs[i]!, env, b.pos);
    });
    return env;
  };
  for (let round = 0; round < 100000; round++) {
    // sequential update: each binding sees the ones already recomputed this round
    const next = vals.slice();
    for (let i = 0; i < binds.length; i++) next[i] = codes[i]!(G, envOf(next));
    const stable = next.every((w, i) => includedIn(w, vals[i]!, G));
    vals = next;
    if (stable) return envOf(vals);
  }
  throw new CatError('recursive definition does not reach a fixpoint', pos);
}

/** Equal sets or relations (other values: only the same object). */
function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true;
  if ((a.k === 'set' && b.k === 'set') || (a.k === 'rel' && b.k === 'rel')) return equalBits(a.b, b.b);
  return (a.k === 'empty' && b.k === 'empty') || (a.k === 'unv' && b.k === 'unv') || (a.k === 'tag' && b.k === 'tag' && a.name === b.name);
}

/** herd7's stabilisation test: the new value is included in the old one. */
function includedIn(w: Value, v: Value, G: Value[]): boolean {
  if (w.k === 'empty' || v.k === 'unv') return true;
  if (v.k === 'empty') {
    if (w.k === 'set' || w.k === 'rel') return isEmptyBits(w.b);
    if (w.k === 'vset') return w.items.length === 0;
    return false;
  }
  if ((w.k === 'set' && v.k === 'set') || (w.k === 'rel' && v.k === 'rel')) return isEmptyBits(diffBits(w.b, v.b));
  if (w.k === 'unv' && (v.k === 'set' || v.k === 'rel')) return v.k === 'set' ? equalBits(v.b, space(G).fullSet()) : equalBits(v.b, space(G).fullRel());
  if (w.k === 'vset' && v.k === 'vset') {
    const vk = new Set(v.items.map(valueKey));
    return w.items.every((x) => vk.has(valueKey(x)));
  }
  throw new CatError(`illegal recursion on a ${typeName(w)}`, null);
}

// ---------------------------------------------------------------------------------------
// Running a compiled model on one candidate.

export interface RunHooks {
  /** Called for each execution that passes every check, with the raised flags. */
  accept(G: Value[], flags: string[]): void;
  /** Called for each value a `with` statement tries (a place to stop a long run). */
  tick?(): void;
}

/** Levels of the native names: 0 static, 1 reads-from, 2 final writes; `with` stages follow. */
export const LEVEL_STATIC = 0;
export const LEVEL_RF = 1;
export const LEVEL_FINAL = 2;

/** run() result when no check failed. */
export const PASSED = Number.POSITIVE_INFINITY;

/**
 * One model run over one set of events. Statements are re-evaluated only when something
 * at or below their level changed since they were last evaluated (a clock per level), so
 * the static part is evaluated once, the rf part once per rf, and so on.
 */
export class ModelRun {
  readonly G: Value[];
  private readonly level: number[];
  private readonly stmtLevel: number[];
  private readonly flagOn: boolean[];
  private readonly computedAt: number[];
  /** The values a statement read when it was last evaluated (to skip it when none changed). */
  private readonly lastIn: Array<Value[] | null>;
  /** For each level L: the last tick at which any level <= L changed. */
  private readonly changedUpTo: number[];
  private tick = 1;

  constructor(
    readonly model: CompiledModel,
    sp: Space,
    nativeLevels: Map<string, number>,
  ) {
    this.G = new Array<Value>(model.slotNames.length);
    attachSpace(this.G, sp);
    this.level = new Array<number>(model.slotNames.length).fill(0);
    for (const [name, slot] of model.natives) this.level[slot] = nativeLevels.get(name) ?? LEVEL_STATIC;
    this.stmtLevel = model.stmts.map((s) => {
      const l = s.refs.reduce((m, r) => Math.max(m, this.level[r]!), 0);
      if (s.t === 'let') for (const slot of s.slots) this.level[slot] = l;
      if (s.t === 'with') this.level[s.slot] = s.stage;
      return l;
    });
    this.flagOn = new Array<boolean>(model.stmts.length).fill(false);
    this.computedAt = new Array<number>(model.stmts.length).fill(0);
    this.lastIn = new Array<Value[] | null>(model.stmts.length).fill(null);
    this.changedUpTo = new Array<number>(model.stages + 1).fill(1);
  }

  /** Sets a native value; an equal value keeps the old object, so what reads it need not be evaluated again. */
  setNative(name: string, v: Value): void {
    const slot = this.model.natives.get(name);
    if (slot === undefined) return;
    const old = this.G[slot];
    if (old === undefined || !sameValue(old, v)) this.G[slot] = v;
  }

  /** Records that the values at `level` changed (a new rf, new final writes, a new `with` choice). */
  bump(level: number): void {
    this.tick++;
    for (let l = level; l < this.changedUpTo.length; l++) this.changedUpTo[l] = this.tick;
  }

  /** Evaluates the static statements; false when one of their checks fails (no candidate can pass). */
  prepare(): boolean {
    const { stmts } = this.model;
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i]!;
      if (s.t === 'with' || this.stmtLevel[i]! !== LEVEL_STATIC) continue;
      const ok = this.evalStmt(i, s);
      if (!ok) return false;
    }
    return true;
  }

  /**
   * Evaluates, from statement `from`, what changed since it was last evaluated, calling
   * hooks.accept for each execution that passes every check. Returns PASSED, or the level
   * of the check that failed: nothing can pass until a value at or below it changes.
   */
  run(hooks: RunHooks, from = 0): number {
    const { stmts } = this.model;
    const G = this.G;
    for (let i = from; i < stmts.length; i++) {
      const s = stmts[i]!;
      if (s.t === 'with') {
        const set = this.guard(() => s.code(G, null), s.pos);
        const items = elements(set);
        if (!items) throw new CatError(`with ${this.model.slotNames[s.slot]} from: needs a set, found a ${typeName(set)}`, s.pos);
        for (const v of items) {
          hooks.tick?.();
          G[s.slot] = v;
          this.bump(s.stage);
          const r = this.run(hooks, i + 1);
          if (r < s.stage) return r;
        }
        return PASSED;
      }
      const level = this.stmtLevel[i]!;
      if (this.computedAt[i]! >= this.changedUpTo[level]!) {
        if (s.t === 'test' && s.mode !== 'flag' && !this.flagOn[i]) return level;
        continue;
      }
      if (!this.evalStmt(i, s)) return level;
    }
    const flags: string[] = [];
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i]!;
      if (s.t === 'test' && s.mode === 'flag' && this.flagOn[i]) flags.push(s.name ?? '(unnamed flag)');
    }
    hooks.accept(G, flags);
    return PASSED;
  }

  /** Evaluates a let or a test; false when a check fails. flagOn holds a test's last result. */
  private evalStmt(i: number, s: CLet | CTest): boolean {
    this.computedAt[i] = this.tick;
    const G = this.G;
    const last = this.lastIn[i];
    const refs = s.refs;
    if (last) {
      // nothing it reads changed (equal values keep their objects): the result stands
      let same = true;
      for (let k = 0; k < refs.length; k++) {
        if (G[refs[k]!] !== last[k]) {
          same = false;
          break;
        }
      }
      if (same) return s.t === 'let' || s.mode === 'flag' || this.flagOn[i]!;
    }
    const inputs = refs.map((r) => G[r]!);
    if (s.t === 'let') {
      const old = s.slots.map((slot) => G[slot]);
      this.evalLet(s);
      s.slots.forEach((slot, k) => {
        const o = old[k];
        if (o !== undefined && sameValue(o, G[slot]!)) G[slot] = o;
      });
      this.lastIn[i] = inputs;
      return true;
    }
    const ok = this.test(s);
    this.flagOn[i] = ok;
    this.lastIn[i] = inputs;
    return s.mode === 'flag' || ok;
  }

  private guard<T>(f: () => T, pos: Pos): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof CatError && e.pos === null) throw new CatError(e.message, pos);
      throw e;
    }
  }

  private evalLet(s: CLet): void {
    const G = this.G;
    if (!s.rec) {
      for (const b of s.binds) {
        const v = this.guard(() => b.code(G, null), s.pos);
        this.assign(b.slots, b.tuple, v, s.pos);
      }
      return;
    }
    if (s.binds.every((b) => b.isFun)) {
      for (const b of s.binds) G[b.slots[0]!] = EMPTY;
      for (const b of s.binds) G[b.slots[0]!] = b.code(G, null);
      return;
    }
    for (const slot of s.slots) G[slot] = EMPTY;
    for (let round = 0; round < 100000; round++) {
      const old = s.slots.map((slot) => G[slot]!);
      for (const b of s.binds)
        this.assign(
          b.slots,
          b.tuple,
          this.guard(() => b.code(G, null), s.pos),
          s.pos,
        );
      if (s.slots.every((slot, k) => includedIn(G[slot]!, old[k]!, G))) return;
    }
    throw new CatError('recursive definition does not reach a fixpoint', s.pos);
  }

  private assign(slots: number[], tuple: boolean, v: Value, pos: Pos): void {
    if (!tuple) {
      this.G[slots[0]!] = v;
      return;
    }
    if (v.k !== 'tuple' || v.items.length !== slots.length) throw new CatError(`expected a tuple of ${slots.length}`, pos);
    slots.forEach((slot, k) => {
      this.G[slot] = v.items[k]!;
    });
  }

  private test(s: CTest): boolean {
    const v = this.guard(() => s.code(this.G, null), s.pos);
    const sp = space(this.G);
    let holds: boolean;
    if (v.k === 'empty') holds = true;
    else if (s.kind === 'empty') {
      if (v.k === 'set' || v.k === 'rel') holds = isEmptyBits(v.b);
      else {
        const items = elements(v);
        if (!items) throw new CatError(`empty needs a set or a relation, found a ${typeName(v)}`, s.pos);
        holds = [...items].length === 0;
      }
    } else {
      const r = asRel(v, this.G, s.pos, s.kind);
      holds = s.kind === 'acyclic' ? sp.acyclic(r) : sp.irreflexive(r);
    }
    return s.neg ? !holds : holds;
  }
}

export { apply as applyValue };
