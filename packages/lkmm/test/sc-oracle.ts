/**
 * A test oracle for `kreplay litmus --model sc`: an operational interpreter of C litmus tests
 * under sequential consistency, written apart from the checker. The threads run one memory
 * access at a time on one shared memory, each primitive atomic: a spin_lock blocks while the
 * lock is held (by anyone, its own thread included), a trylock fails exactly when it is held,
 * spin_is_locked says whether it is, cmpxchg / xchg / atomic_* / atomic_add_unless do what C
 * says in one step; fences and barrier() do nothing. Every complete interleaving is a final
 * state; a thread that never gets its lock is no execution (herd7's deadlock: no execution).
 *
 * It shares only the litmus parser and the .def macro expansion (litmus/kernel.ts) with the
 * checker: no event generation (sem.ts), no reads-from or coherence enumeration, no pruning
 * (coherence.ts), no cat. Its value is that independence.
 *
 * What the shipped models/sc/sc.cat allows, construct by construct (read it with lock.cat and
 * linux-kernel.bell): the oracle's default, `rcu: 'none'`, follows it — sc.cat has no RCU or
 * SRCU axiom, so rcu_read_lock/unlock, synchronize_rcu and synchronize_srcu order nothing, and
 * srcu_read_lock / srcu_read_unlock are the load and store of the srcu_struct that 6.12's
 * .def makes them. `rcu: 'grace-period'` is sequential consistency with RCU's guarantee (a
 * synchronize_rcu() returns only after every read-side critical section that had begun when it
 * was called has ended), for the comparison docs/memory-model.md reports.
 *
 * Execution counts (herd7's Positive/Negative): herd7 counts consistent candidate executions,
 * i.e. distinct (rf, co) pairs. Under SC two interleavings give the same rf and co exactly when
 * they differ by swapping adjacent accesses of different threads that are not to one location
 * with at least one write (Mazurkiewicz equivalence, a lock operation being an access to its
 * lock: lock, unlock and a trylock that succeeds write it, a failed trylock and spin_is_locked
 * read it). The search is a depth-first search with sleep sets, which reaches every complete
 * interleaving class exactly once, memoized on (state, sleep set): each class is counted once.
 *
 * Not supported, and said so (UnsupportedConstruct), never skipped: two accesses in one
 * statement that herd7 leaves unordered (both operands of an operator, a store's address and
 * value, a conditional RMW's operands), an access to a location the test does not name
 * (through address arithmetic: `x+1` is a value here, not a location), a lock location also
 * accessed as data, spin_unlock of a lock the thread does not hold, and, in grace-period mode,
 * synchronize_srcu.
 */
import { Expander, type KExpr, type KStmt, type Macros } from '../src/litmus/kernel.js';
import type { InitValue, LitmusTest, Prop, StateRef } from '../src/litmus/ast.js';
// the condition's refs and its truth on a final state: the checker's two helpers (neither is part of deciding executions)
import { evalProp, propRefs } from '../src/check.js';

export class UnsupportedConstruct extends Error {
  constructor(readonly construct: string) {
    super(`sc-oracle: unsupported: ${construct}`);
    this.name = 'UnsupportedConstruct';
  }
}

/** The search went past OracleOptions.maxStates. */
export class StateLimit extends Error {
  constructor(readonly maxStates: number) {
    super(`sc-oracle: more than ${maxStates} states`);
    this.name = 'StateLimit';
  }
}

export interface OracleOptions {
  /** 'none' (sc.cat: RCU orders nothing) or 'grace-period' (SC with RCU's grace-period guarantee). */
  rcu?: 'none' | 'grace-period';
  /** Give up (StateLimit) beyond this many memoized states. */
  maxStates?: number;
}

export interface OracleResult {
  /** Final states, each `0:r0=1; [x]=2;` (the refs herd7 displays, in its order), sorted. */
  states: string[];
  pos: number;
  neg: number;
  observation: 'Never' | 'Sometimes' | 'Always';
  ok: boolean;
  /** Memoized states visited. */
  explored: number;
}

type Val = number | string;

/** A value computed from registers only. */
type Expr = { t: 'c'; v: Val } | { t: 'reg'; r: number } | { t: 'op'; op: string; a: Expr; b: Expr };

type RmwOp = { k: 'xchg'; v: Expr } | { k: 'arith'; op: string; v: Expr };

type Instr =
  | { i: 'set'; dst: number; e: Expr }
  | { i: 'jz'; e: Expr; to: number }
  | { i: 'jmp'; to: number }
  | { i: 'load'; dst: number; addr: Expr }
  | { i: 'store'; addr: Expr; v: Expr }
  /** xchg and the atomic arithmetic: always writes; dst gets the old value (ret 'old') or the new one. */
  | { i: 'rmw'; dst: number | null; addr: Expr; op: RmwOp; ret: 'old' | 'new' }
  | { i: 'cmpxchg'; dst: number; addr: Expr; old: Expr; nw: Expr }
  | { i: 'addUnless'; dst: number; addr: Expr; a: Expr; u: Expr }
  | { i: 'lock'; addr: Expr }
  | { i: 'unlock'; addr: Expr }
  | { i: 'trylock'; dst: number; addr: Expr }
  | { i: 'islocked'; dst: number; addr: Expr }
  | { i: 'rcuLock' }
  | { i: 'rcuUnlock' }
  | { i: 'rcuSync' };

interface Program {
  code: Instr[];
  regNames: string[];
  regIndex: Map<string, number>;
  init: Val[];
}

const ACCESS_FREE = new Set(['set', 'jz', 'jmp']);

/** Compiles one thread's expanded statements to straight code over numbered registers. */
class Compiler {
  readonly code: Instr[] = [];
  readonly regNames: string[] = [];
  readonly regIndex = new Map<string, number>();
  private temps = 0;

  constructor(private readonly rcu: 'none' | 'grace-period') {}

  reg(name: string): number {
    let r = this.regIndex.get(name);
    if (r === undefined) {
      r = this.regNames.length;
      this.regNames.push(name);
      this.regIndex.set(name, r);
    }
    return r;
  }

  private temp(): number {
    return this.reg(`$t${this.temps++}`);
  }

  stmts(list: KStmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private stmt(s: KStmt): void {
    switch (s.t) {
      case 'decl':
        if (s.e) this.code.push({ i: 'set', dst: this.reg(s.name), e: this.expr(s.e) });
        return;
      case 'assign':
        this.code.push({ i: 'set', dst: this.reg(s.name), e: this.expr(s.e) });
        return;
      case 'seq':
        this.stmts(s.body);
        return;
      case 'eval':
        this.expr(s.e);
        return;
      case 'store': {
        this.noUnordered([s.addr, s.v], 'a store whose address and value both read memory');
        this.code.push({ i: 'store', addr: this.expr(s.addr), v: this.expr(s.v) });
        return;
      }
      case 'fence':
        // sc.cat: no fence orders anything, RCU's included; with grace periods RCU's three do
        if (this.rcu === 'none') return;
        if (s.annots.includes('rcu-lock')) this.code.push({ i: 'rcuLock' });
        else if (s.annots.includes('rcu-unlock')) this.code.push({ i: 'rcuUnlock' });
        else if (s.annots.includes('sync-rcu')) this.code.push({ i: 'rcuSync' });
        return;
      case 'lock':
        this.code.push({ i: 'lock', addr: this.expr(s.loc) });
        return;
      case 'unlock':
        this.code.push({ i: 'unlock', addr: this.expr(s.loc) });
        return;
      case 'atomicOp':
        // an access in the operand: one order suffices, as for xchg below
        this.code.push({ i: 'rmw', dst: null, addr: this.expr(s.loc), op: { k: 'arith', op: s.op, v: this.expr(s.v) }, ret: 'new' });
        return;
      case 'srcu':
        if (s.annots.length === 1 && s.annots[0] === 'sync-srcu') {
          // sc.cat has no SRCU axiom: synchronize_srcu() orders nothing
          if (this.rcu === 'grace-period') throw new UnsupportedConstruct('synchronize_srcu with grace periods (not modelled)');
          this.expr(s.loc);
          return;
        }
        throw new UnsupportedConstruct(`__srcu{${s.annots.join(',')}} as a statement (the sc model's .def makes srcu_read_unlock a store)`);
      case 'if': {
        const cond = this.expr(s.cond);
        const test: Expr = isComparison(s.cond) ? cond : { t: 'op', op: '!=', a: cond, b: { t: 'c', v: 0 } };
        const jz: Instr & { i: 'jz' } = { i: 'jz', e: test, to: -1 };
        this.code.push(jz);
        this.stmt(s.then);
        if (s.else) {
          const jmp: Instr & { i: 'jmp' } = { i: 'jmp', to: -1 };
          this.code.push(jmp);
          jz.to = this.code.length;
          this.stmt(s.else);
          jmp.to = this.code.length;
        } else jz.to = this.code.length;
        return;
      }
    }
  }

  /** At most one of `parts` may read memory: herd7 leaves their accesses unordered. */
  private noUnordered(parts: KExpr[], what: string): void {
    if (parts.filter(hasAccess).length > 1) throw new UnsupportedConstruct(what);
  }

  /** Emits the accesses of `e` (in the only order herd7 allows) and returns its value over registers. */
  expr(e: KExpr): Expr {
    switch (e.t) {
      case 'const':
        return { t: 'c', v: e.v };
      case 'reg':
        return { t: 'reg', r: this.reg(e.name) };
      case 'op':
        this.noUnordered([e.a, e.b], `two memory accesses in the operands of ${e.op}`);
        return { t: 'op', op: e.op, a: this.expr(e.a), b: this.expr(e.b) };
      case 'load': {
        const addr = this.expr(e.addr);
        const dst = this.temp();
        this.code.push({ i: 'load', dst, addr });
        return { t: 'reg', r: dst };
      }
      case 'xchg': {
        // the RMW's read and an access in its value are unordered, but the read can always
        // move to just before its write (nothing writes the location in between): one order
        this.noUnordered([e.loc, e.v], 'an xchg whose location and value both read memory');
        const addr = this.expr(e.loc);
        const v = this.expr(e.v);
        const dst = this.temp();
        this.code.push({ i: 'rmw', dst, addr, op: { k: 'xchg', v }, ret: 'old' });
        return { t: 'reg', r: dst };
      }
      case 'atomicRet': {
        this.noUnordered([e.loc, e.v], 'an atomic whose location and operand both read memory');
        const addr = this.expr(e.loc);
        const v = this.expr(e.v);
        const dst = this.temp();
        this.code.push({ i: 'rmw', dst, addr, op: { k: 'arith', op: e.op, v }, ret: e.fetch ? 'old' : 'new' });
        return { t: 'reg', r: dst };
      }
      case 'cmpxchg': {
        // a failed cmpxchg is a lone read, unordered with the accesses of its operands
        if (hasAccess(e.old) || hasAccess(e.new)) throw new UnsupportedConstruct('a cmpxchg whose operands read memory');
        const addr = this.expr(e.loc);
        const dst = this.temp();
        this.code.push({ i: 'cmpxchg', dst, addr, old: this.expr(e.old), nw: this.expr(e.new) });
        return { t: 'reg', r: dst };
      }
      case 'addUnless': {
        if (hasAccess(e.a) || hasAccess(e.u)) throw new UnsupportedConstruct('an atomic_add_unless whose operands read memory');
        const addr = this.expr(e.loc);
        const dst = this.temp();
        this.code.push({ i: 'addUnless', dst, addr, a: this.expr(e.a), u: this.expr(e.u) });
        return { t: 'reg', r: dst };
      }
      case 'trylock': {
        const addr = this.expr(e.loc);
        const dst = this.temp();
        this.code.push({ i: 'trylock', dst, addr });
        return { t: 'reg', r: dst };
      }
      case 'islocked': {
        const addr = this.expr(e.loc);
        const dst = this.temp();
        this.code.push({ i: 'islocked', dst, addr });
        return { t: 'reg', r: dst };
      }
      case 'srcu':
        throw new UnsupportedConstruct(`__srcu{${e.annots.join(',')}} as a value (the sc model's .def makes srcu_read_lock a load)`);
    }
  }
}

function hasAccess(e: KExpr): boolean {
  switch (e.t) {
    case 'const':
    case 'reg':
      return false;
    case 'op':
      return hasAccess(e.a) || hasAccess(e.b);
    default:
      return true;
  }
}

function isComparison(e: KExpr): boolean {
  return e.t === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(e.op);
}

function offset(addr: string, by: number): string {
  const m = /^(.*?)(?:\+(\d+))?$/.exec(addr)!;
  const off = Number(m[2] ?? 0) + by;
  if (off < 0) throw new UnsupportedConstruct(`an address before its location (${addr} ${by})`);
  return off === 0 ? m[1]! : `${m[1]!}+${off}`;
}

function applyOp(op: string, a: Val, b: Val): Val {
  if (op === '==') return a === b ? 1 : 0;
  if (op === '!=') return a !== b ? 1 : 0;
  // an address plus an integer names an offset into the location (herd7's `x+1`): a value only here
  if (typeof a === 'string' && typeof b === 'number' && (op === '+' || op === '-')) return offset(a, op === '+' ? b : -b);
  if (typeof a === 'number' && typeof b === 'string' && op === '+') return offset(b, a);
  if (typeof a !== 'number' || typeof b !== 'number') throw new UnsupportedConstruct(`arithmetic on an address (${String(a)} ${op} ${String(b)})`);
  const big = (f: (x: bigint, y: bigint) => bigint): number => Number(BigInt.asIntN(64, f(BigInt(a), BigInt(b))));
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new UnsupportedConstruct('division by zero');
      return Math.trunc(a / b);
    case '%':
      if (b === 0) throw new UnsupportedConstruct('division by zero');
      return a % b;
    case '&':
      return big((x, y) => x & y);
    case '|':
      return big((x, y) => x | y);
    case '^':
      return big((x, y) => x ^ y);
    case '&~':
      return big((x, y) => x & ~y);
    case '<<':
      return big((x, y) => x << y);
    case '>>':
      return big((x, y) => x >> y);
    case '<':
      return a < b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '&&':
      return a !== 0 && b !== 0 ? 1 : 0;
    case '||':
      return a !== 0 || b !== 0 ? 1 : 0;
  }
  throw new UnsupportedConstruct(`operator ${op}`);
}

function evalExpr(e: Expr, regs: Val[]): Val {
  switch (e.t) {
    case 'c':
      return e.v;
    case 'reg':
      return regs[e.r]!;
    case 'op':
      return applyOp(e.op, evalExpr(e.a, regs), evalExpr(e.b, regs));
  }
}

const initVal = (v: InitValue | null): Val => (!v ? 0 : v.t === 'int' ? v.v : v.name);

function propAddresses(p: Prop | null, out: string[] = []): string[] {
  if (!p) return out;
  if ((p.t === 'eq' || p.t === 'ne') && p.value.t === 'addr') out.push(p.value.name);
  if (p.t === 'not') propAddresses(p.p, out);
  if (p.t === 'and' || p.t === 'or' || p.t === 'implies') {
    propAddresses(p.a, out);
    propAddresses(p.b, out);
  }
  return out;
}

const refText = (r: StateRef): string => (r.thread === null ? `[${r.name}]` : `${r.thread}:${r.name}`);

/** herd7's order of displayed refs: registers by thread, then locations, each by name. */
function displayedRefs(test: LitmusTest): StateRef[] {
  const seen = new Map<string, StateRef>();
  for (const r of [...test.locations, ...propRefs(test.condition.prop)]) seen.set(refText(r), r);
  return [...seen.values()].sort((a, b) => {
    const ta = a.thread ?? Number.MAX_SAFE_INTEGER;
    const tb = b.thread ?? Number.MAX_SAFE_INTEGER;
    return ta !== tb ? ta - tb : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** A thread's control: the next instruction, its registers, and (grace-period mode) RCU state. */
interface ThreadState {
  pc: number;
  regs: Val[];
  /** rcu_read_lock nesting. */
  rcuDepth: number;
  /** Inside synchronize_rcu(): the threads whose read-side critical sections it still waits for (bit mask), else -1. */
  waiting: number;
}

interface State {
  threads: ThreadState[];
  mem: Val[];
  /** Per location: the thread holding it as a spinlock, or -1. */
  holder: number[];
}

/** The next transition of a thread: what it accesses (for independence) and whether it can run. */
interface Peek {
  enabled: boolean;
  loc: number;
  write: boolean;
}

const RCU_LOC = -2;

export function runScOracle(test: LitmusTest, macros: Macros, opts: OracleOptions = {}): OracleResult {
  const rcu = opts.rcu ?? 'none';
  const maxStates = opts.maxStates ?? 2_000_000;
  // ---- locations and their initial values (every name the test gives a location)
  const locNames: string[] = [];
  const locIndex = new Map<string, number>();
  const addLoc = (name: string): void => {
    if (!locIndex.has(name)) {
      locIndex.set(name, locNames.length);
      locNames.push(name);
    }
  };
  for (const t of test.threads) for (const p of t.params) addLoc(p.name);
  for (const item of test.init) {
    if (item.thread === null) addLoc(item.name);
    if (item.value?.t === 'addr') addLoc(item.value.name);
  }
  for (const r of [...test.locations, ...propRefs(test.condition.prop), ...propRefs(test.filter)]) if (r.thread === null) addLoc(r.name);
  for (const a of [...propAddresses(test.condition.prop), ...propAddresses(test.filter)]) addLoc(a);
  const mem0: Val[] = locNames.map(() => 0);
  for (const item of test.init) if (item.thread === null) mem0[locIndex.get(item.name)!] = initVal(item.value);

  // ---- programs
  const expander = new Expander(macros, test.file, 'sc');
  const programs: Program[] = test.threads.map((t) => {
    const c = new Compiler(rcu);
    c.stmts(expander.stmts(t.body));
    const init: Val[] = [];
    for (const p of t.params) init[c.reg(p.name)] = p.name;
    for (const item of test.init) if (item.thread === t.id) init[c.reg(item.name)] = initVal(item.value);
    for (const r of [...test.locations, ...propRefs(test.condition.prop), ...propRefs(test.filter)]) if (r.thread === t.id) c.reg(r.name);
    return { code: c.code, regNames: c.regNames, regIndex: c.regIndex, init: c.regNames.map((_, k) => init[k] ?? 0) };
  });
  const nThreads = programs.length;
  const lockLocs = new Set<number>();
  const dataLocs = new Set<number>();
  const locOf = (addr: Val, asLock: boolean): number => {
    const l = typeof addr === 'string' ? locIndex.get(addr) : undefined;
    if (l === undefined) throw new UnsupportedConstruct(`an access to ${String(addr)}, which the test does not name as a location`);
    (asLock ? lockLocs : dataLocs).add(l);
    if (lockLocs.has(l) && dataLocs.has(l)) throw new UnsupportedConstruct(`${locNames[l]!} used both as a spinlock and as data`);
    return l;
  };

  /** Runs the thread's register-only instructions (and the no-ops) up to its next access. */
  const settle = (ts: ThreadState, prog: Program): void => {
    for (;;) {
      const ins = prog.code[ts.pc];
      if (!ins) return;
      if (ins.i === 'set') {
        ts.regs[ins.dst] = evalExpr(ins.e, ts.regs);
        ts.pc++;
      } else if (ins.i === 'jz') {
        ts.pc = evalExpr(ins.e, ts.regs) === 0 ? ins.to : ts.pc + 1;
      } else if (ins.i === 'jmp') {
        ts.pc = ins.to;
      } else return;
    }
  };

  const peek = (s: State, t: number): Peek | null => {
    const ts = s.threads[t]!;
    const ins = programs[t]!.code[ts.pc];
    if (!ins || ACCESS_FREE.has(ins.i)) return null;
    const at = (addr: Expr, asLock = false): number => locOf(evalExpr(addr, ts.regs), asLock);
    switch (ins.i) {
      case 'load':
        return { enabled: true, loc: at(ins.addr), write: false };
      case 'store':
      case 'rmw':
        return { enabled: true, loc: at(ins.addr), write: true };
      case 'cmpxchg': {
        const l = at(ins.addr);
        return { enabled: true, loc: l, write: s.mem[l] === evalExpr(ins.old, ts.regs) };
      }
      case 'addUnless': {
        const l = at(ins.addr);
        return { enabled: true, loc: l, write: s.mem[l] !== evalExpr(ins.u, ts.regs) };
      }
      case 'lock': {
        const l = at(ins.addr, true);
        return { enabled: s.holder[l] === -1, loc: l, write: true };
      }
      case 'unlock': {
        const l = at(ins.addr, true);
        if (s.holder[l] !== t) throw new UnsupportedConstruct(`spin_unlock(${locNames[l]!}) by P${t}, which does not hold it`);
        return { enabled: true, loc: l, write: true };
      }
      case 'trylock': {
        const l = at(ins.addr, true);
        return { enabled: true, loc: l, write: s.holder[l] === -1 };
      }
      case 'islocked':
        return { enabled: true, loc: at(ins.addr, true), write: false };
      case 'rcuLock':
      case 'rcuUnlock':
        return { enabled: true, loc: RCU_LOC, write: true };
      case 'rcuSync':
        // synchronize_rcu() inside its own read-side critical section never returns
        if (ts.waiting === -1) return { enabled: ts.rcuDepth === 0, loc: RCU_LOC, write: true };
        return { enabled: ts.waiting === 0, loc: RCU_LOC, write: true };
    }
  };

  const cloneState = (s: State, t: number): State => {
    const threads = s.threads.slice();
    const ts = s.threads[t]!;
    threads[t] = { pc: ts.pc, regs: ts.regs.slice(), rcuDepth: ts.rcuDepth, waiting: ts.waiting };
    return { threads, mem: s.mem.slice(), holder: s.holder.slice() };
  };

  /** Thread t's next access, atomically, then its register-only code up to the following one. */
  const step = (s: State, t: number): State => {
    const n = cloneState(s, t);
    const ts = n.threads[t]!;
    const ins = programs[t]!.code[ts.pc]!;
    const at = (addr: Expr): number => locIndex.get(evalExpr(addr, ts.regs) as string)!;
    let advance = true;
    switch (ins.i) {
      case 'load':
        ts.regs[ins.dst] = n.mem[at(ins.addr)]!;
        break;
      case 'store':
        n.mem[at(ins.addr)] = evalExpr(ins.v, ts.regs);
        break;
      case 'rmw': {
        const l = at(ins.addr);
        const old = n.mem[l]!;
        const v = evalExpr(ins.op.v, ts.regs);
        const nw = ins.op.k === 'xchg' ? v : applyOp(ins.op.op, old, v);
        n.mem[l] = nw;
        if (ins.dst !== null) ts.regs[ins.dst] = ins.ret === 'old' ? old : nw;
        break;
      }
      case 'cmpxchg': {
        const l = at(ins.addr);
        const old = n.mem[l]!;
        if (old === evalExpr(ins.old, ts.regs)) n.mem[l] = evalExpr(ins.nw, ts.regs);
        ts.regs[ins.dst] = old;
        break;
      }
      case 'addUnless': {
        const l = at(ins.addr);
        const old = n.mem[l]!;
        const ok = old !== evalExpr(ins.u, ts.regs);
        if (ok) n.mem[l] = applyOp('+', old, evalExpr(ins.a, ts.regs));
        ts.regs[ins.dst] = ok ? 1 : 0;
        break;
      }
      case 'lock':
        n.holder[at(ins.addr)] = t;
        break;
      case 'unlock':
        n.holder[at(ins.addr)] = -1;
        break;
      case 'trylock': {
        const l = at(ins.addr);
        const free = n.holder[l] === -1;
        if (free) n.holder[l] = t;
        ts.regs[ins.dst] = free ? 1 : 0;
        break;
      }
      case 'islocked':
        ts.regs[ins.dst] = n.holder[at(ins.addr)] === -1 ? 0 : 1;
        break;
      case 'rcuLock':
        ts.rcuDepth++;
        break;
      case 'rcuUnlock':
        ts.rcuDepth--;
        if (ts.rcuDepth === 0) {
          // this thread's critical section ended: no grace period waits for it any longer
          n.threads = n.threads.map((o) => (o.waiting > 0 && (o.waiting & (1 << t)) !== 0 ? { ...o, waiting: o.waiting & ~(1 << t) } : o));
        }
        break;
      case 'rcuSync':
        if (ts.waiting === -1) {
          // the grace period starts: it waits for every critical section under way
          ts.waiting = n.threads.reduce((m, o, k) => (k !== t && o.rcuDepth > 0 ? m | (1 << k) : m), 0);
          advance = false;
        } else ts.waiting = -1;
        break;
      default:
        throw new Error(`internal: step on ${ins.i}`);
    }
    if (advance) ts.pc++;
    settle(ts, programs[t]!);
    return n;
  };

  const key = (s: State, sleep: number): string => {
    const parts: string[] = [String(sleep)];
    for (const ts of s.threads) parts.push(`${ts.pc}:${ts.rcuDepth}:${ts.waiting}:${ts.regs.join(',')}`);
    parts.push(s.mem.join(','), s.holder.join(','));
    return parts.join('|');
  };

  // ---- the final state of a complete execution
  const displayed = displayedRefs(test);
  const finalOf = (s: State): { key: string; pos: boolean } | null => {
    const get = (r: StateRef): Val => {
      if (r.thread === null) return s.mem[locIndex.get(r.name)!]!;
      const p = programs[r.thread]!;
      return s.threads[r.thread]!.regs[p.regIndex.get(r.name)!] ?? 0;
    };
    if (test.filter && !evalProp(test.filter, get)) return null;
    return { key: displayed.map((r) => `${refText(r)}=${String(get(r))};`).join(' '), pos: evalProp(test.condition.prop, get) };
  };

  const memo = new Map<string, Map<string, number>>();
  const EMPTY = new Map<string, number>();
  /** Final state (key + '\t' + 1 if the condition holds) -> number of interleaving classes reaching it. */
  const explore = (s: State, sleep: number): Map<string, number> => {
    const k = key(s, sleep);
    const hit = memo.get(k);
    if (hit) return hit;
    if (memo.size >= maxStates) throw new StateLimit(maxStates);
    const peeks = s.threads.map((_, t) => peek(s, t));
    let out: Map<string, number>;
    if (peeks.every((p) => p === null)) {
      const f = finalOf(s);
      out = f ? new Map([[`${f.key}\t${f.pos ? 1 : 0}`, 1]]) : EMPTY;
    } else {
      out = new Map();
      let done = sleep;
      for (let t = 0; t < nThreads; t++) {
        const p = peeks[t];
        if (!p || !p.enabled || (sleep & (1 << t)) !== 0) {
          continue;
        }
        // the child's sleep set: the threads asleep or explored here whose next access is independent of t's
        let childSleep = 0;
        for (let u = 0; u < nThreads; u++) {
          if (u === t || (done & (1 << u)) === 0) continue;
          const q = peeks[u]!;
          if (q.loc !== p.loc || (!q.write && !p.write)) childSleep |= 1 << u;
        }
        for (const [fk, n] of explore(step(s, t), childSleep)) out.set(fk, (out.get(fk) ?? 0) + n);
        done |= 1 << t;
      }
    }
    memo.set(k, out);
    return out;
  };

  const s0: State = {
    threads: programs.map((p) => {
      const ts: ThreadState = { pc: 0, regs: p.init.slice(), rcuDepth: 0, waiting: -1 };
      settle(ts, p);
      return ts;
    }),
    mem: mem0,
    holder: locNames.map(() => -1),
  };
  const finals = explore(s0, 0);
  let pos = 0;
  let neg = 0;
  const states = new Set<string>();
  for (const [fk, n] of finals) {
    const [stateKey, h] = fk.split('\t');
    states.add(stateKey!);
    if (h === '1') pos += n;
    else neg += n;
  }
  const cond = test.condition.kind;
  return {
    states: [...states].sort(),
    pos,
    neg,
    observation: pos === 0 ? 'Never' : neg === 0 ? 'Always' : 'Sometimes',
    ok: cond === 'exists' ? pos > 0 : cond === 'not exists' ? pos === 0 : neg === 0,
    explored: memo.size,
  };
}
