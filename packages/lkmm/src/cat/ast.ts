/**
 * The abstract syntax of the cat language (the language of the kernel's linux-kernel.cat,
 * linux-kernel.bell and lock.cat). Only what a model file can say; meaning is in interp.ts.
 */
export interface Pos {
  file: string;
  line: number;
}

/** A formal parameter: a name, or `_` (null). */
export type Formal = string | null;

export type Op2 = 'union' | 'inter' | 'diff' | 'seq' | 'cart' | 'add';
export type Op1 = 'star' | 'plus' | 'opt' | 'inv' | 'comp' | 'toid';

export type Expr =
  | { t: 'var'; name: string; pos: Pos }
  | { t: 'tag'; name: string; pos: Pos }
  | { t: 'empty'; pos: Pos }
  | { t: 'unv'; pos: Pos }
  | { t: 'set'; items: Expr[]; pos: Pos }
  | { t: 'tuple'; items: Expr[]; pos: Pos }
  | { t: 'op1'; op: Op1; e: Expr; pos: Pos }
  | { t: 'op2'; op: Op2; a: Expr; b: Expr; pos: Pos }
  | { t: 'app'; f: Expr; arg: Expr; pos: Pos }
  | { t: 'fun'; params: Formal[]; tuple: boolean; body: Expr; name: string; pos: Pos }
  | { t: 'let'; rec: boolean; binds: Bind[]; body: Expr; pos: Pos }
  | { t: 'try'; e: Expr; alt: Expr; pos: Pos }
  | { t: 'if'; cond: Cond; then: Expr; else: Expr; pos: Pos }
  | { t: 'match'; e: Expr; clauses: Array<[string, Expr]>; dflt: Expr | null; pos: Pos }
  | { t: 'matchset'; e: Expr; ifEmpty: Expr; elt: Formal; rest: Formal; body: Expr; pos: Pos };

export type Cond = { t: 'eq'; a: Expr; b: Expr } | { t: 'subset'; a: Expr; b: Expr } | { t: 'in'; a: Expr; b: Expr } | { t: 'variant'; v: VariantCond };

export type VariantCond =
  { t: 'name'; name: string } | { t: 'not'; v: VariantCond } | { t: 'and'; a: VariantCond; b: VariantCond } | { t: 'or'; a: VariantCond; b: VariantCond };

/** `pat = expr`: a name, or a tuple of names. */
export interface Bind {
  names: Formal[];
  tuple: boolean;
  e: Expr;
  pos: Pos;
}

export type TestKind = 'acyclic' | 'irreflexive' | 'empty';
export type TestMode = 'check' | 'flag' | 'undefined' | 'assert';

export type Stmt =
  | { t: 'let'; rec: boolean; binds: Bind[]; pos: Pos }
  | { t: 'test'; mode: TestMode; neg: boolean; kind: TestKind; e: Expr; name: string | null; pos: Pos }
  | { t: 'with'; name: string; e: Expr; pos: Pos }
  | { t: 'include'; file: string; pos: Pos }
  | { t: 'enum'; name: string; tags: string[]; pos: Pos }
  | { t: 'instructions'; name: string; args: Expr[]; pos: Pos }
  | { t: 'show'; pos: Pos }
  | { t: 'ifvariant'; v: VariantCond; then: Stmt[]; else: Stmt[]; pos: Pos };

export interface CatFile {
  file: string;
  /** The model's title (the leading string), if any. */
  title: string | null;
  stmts: Stmt[];
}
