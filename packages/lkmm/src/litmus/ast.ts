/** A C litmus test as written (before the kernel's macros are expanded). */

export interface Where {
  file: string;
  line: number;
}

export type BinOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>' | '==' | '!=' | '<' | '>' | '<=' | '>=' | '&&' | '||';

export type CExpr =
  | { t: 'num'; v: number; line: number }
  | { t: 'name'; name: string; line: number }
  /** `*e`: the object e points to (a plain access when read or written). */
  | { t: 'deref'; e: CExpr; line: number }
  | { t: 'bin'; op: BinOp; a: CExpr; b: CExpr; line: number }
  | { t: 'not'; e: CExpr; line: number }
  | { t: 'neg'; e: CExpr; line: number }
  | { t: 'bitnot'; e: CExpr; line: number }
  /** A call: a kernel macro (from the .def), or one of herd7's primitives (`__load{once}`...). */
  | { t: 'call'; name: string; annots: string[] | null; args: CExpr[]; line: number }
  /** An operator passed as a macro argument (`__atomic_op(X,+,V)`). */
  | { t: 'opArg'; op: string; line: number };

export type CStmt =
  | { t: 'decl'; name: string; type: string; init: CExpr | null; line: number }
  | { t: 'assign'; name: string; e: CExpr; line: number }
  | { t: 'store'; target: CExpr; e: CExpr; line: number }
  | { t: 'expr'; e: CExpr; line: number }
  | { t: 'if'; cond: CExpr; then: CStmt; else: CStmt | null; line: number }
  | { t: 'block'; body: CStmt[]; line: number }
  | { t: 'while'; cond: CExpr; body: CStmt; line: number };

export interface Param {
  type: string;
  name: string;
}

export interface Thread {
  /** The n of Pn. */
  id: number;
  params: Param[];
  body: CStmt[];
  line: number;
}

/** An initial value: an integer or the address of a location. */
export type InitValue = { t: 'int'; v: number } | { t: 'addr'; name: string };

export interface InitItem {
  /** A global location, or a register (`thread` set). */
  name: string;
  thread: number | null;
  type: string | null;
  value: InitValue | null;
  line: number;
}

/** Something a condition can name: a global location, or a thread's register. */
export interface StateRef {
  name: string;
  thread: number | null;
}

export type Prop =
  | { t: 'true' }
  | { t: 'false' }
  | { t: 'not'; p: Prop }
  | { t: 'and'; a: Prop; b: Prop }
  | { t: 'or'; a: Prop; b: Prop }
  | { t: 'implies'; a: Prop; b: Prop }
  | { t: 'eq'; ref: StateRef; value: InitValue }
  | { t: 'eqref'; a: StateRef; b: StateRef }
  | { t: 'ne'; ref: StateRef; value: InitValue };

export type CondKind = 'exists' | 'not exists' | 'forall';

export interface Condition {
  kind: CondKind;
  prop: Prop;
  line: number;
}

/** What the test's `Result:` comment predicts (the kernel's judgelitmus.sh reads it). */
export interface Expectation {
  outcome: string;
  datarace: boolean;
  line: number;
}

export interface LitmusTest {
  file: string;
  name: string;
  init: InitItem[];
  threads: Thread[];
  locations: StateRef[];
  filter: Prop | null;
  condition: Condition;
  expectation: Expectation | null;
  /** The whole text (for hashing, reporting). */
  text: string;
}
