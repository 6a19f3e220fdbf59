/**
 * The events of one thread, as herd7's C semantics makes them (herd/CSem.ml of herdtools7
 * 7.58, LKMM "v1" variant, the default): every way through the thread's branches (an `if`,
 * a trylock that succeeds or fails, a cmpxchg that succeeds or fails) is one path; a path is
 * a list of events with symbolic values (a read's value is a variable, solved once reads-from
 * is chosen), the conditions the path assumes, and the registers' final values.
 *
 * Dependencies are herd7's: `addr` and `data` follow values through registers (not through
 * memory: the kernel's .bell adds that itself); `ctrl` goes from the reads a condition
 * depends on (through registers and enclosing conditions) to every event in the branches.
 * Program order inside one statement is herd7's too: the operands of an operator are
 * unordered, an access comes after the computation of its address and value.
 */
import { InputError } from '@kreplay/core';
import type { AtomicOp, KExpr, KStmt } from './litmus/kernel.js';

/** A value: an integer, or the address of a location (its name). */
export type Val = number | string;

export type Sym =
  | { k: 'c'; v: Val }
  /** The value read by event `ev` (an index in the path, later in the execution). */
  | { k: 'r'; ev: number }
  | { k: 'op'; op: string; a: Sym; b: Sym };

export type EventKind = 'R' | 'W' | 'F' | 'LKR' | 'LKW' | 'UL' | 'LF' | 'RL' | 'RU' | 'SRCU';

export interface PathEvent {
  kind: EventKind;
  annots: string[];
  /** The address (null for fences). */
  loc: Sym | null;
  /** W: the value written; R: the read variable; SRCU: its value, if any. */
  value: Sym | null;
  /** A read or write of an atomic read-modify-write (herd7's RMW set). */
  atomic: boolean;
  /** For the write of an RMW pair: its read (herd7's rmw relation). */
  rmwRead: number | null;
  /** Statement number (herd7's program-order index). */
  instr: number;
  /** Same-statement events that come before this one. */
  iico: number[];
  addr: number[];
  data: number[];
  ctrl: number[];
  line: number;
}

export interface ThreadPath {
  thread: number;
  events: PathEvent[];
  /** Each must evaluate to a non-zero value for the path to be taken. */
  constraints: Sym[];
  /** Registers at the end of the path. */
  regs: Map<string, Sym>;
}

interface RegVal {
  sym: Sym;
  /** Reads whose values flow into this one through registers. */
  data: ReadonlySet<number>;
  /** The same, plus the reads that conditions enclosing its assignment depend on. */
  cdata: ReadonlySet<number>;
}

interface St {
  events: PathEvent[];
  regs: Map<string, RegVal>;
  cons: Sym[];
  instr: number;
  ctrl: ReadonlySet<number>;
}

interface EV extends RegVal {
  /** Events this evaluation created (they precede whatever consumes the value). */
  evts: number[];
}

const NONE: ReadonlySet<number> = new Set();

function union(...sets: Array<ReadonlySet<number>>): ReadonlySet<number> {
  const out = new Set<number>();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

const c = (v: Val): Sym => ({ k: 'c', v });
const op = (o: string, a: Sym, b: Sym): Sym => ({ k: 'op', op: o, a, b });

function clone(st: St): St {
  return { events: st.events.slice(), regs: new Map(st.regs), cons: st.cons.slice(), instr: st.instr, ctrl: st.ctrl };
}

/** Bounds the number of paths of one thread (each if doubles them). */
export const MAX_PATHS = 4096;

export class ThreadSemantics {
  constructor(
    private readonly thread: number,
    private readonly file: string,
    /** Initial register values (parameters hold their location's address). */
    private readonly initRegs: Map<string, Val>,
  ) {}

  private fail(line: number, msg: string, hint: string): never {
    throw new InputError(msg, { file: this.file, line, hint });
  }

  paths(body: KStmt[]): ThreadPath[] {
    const st0: St = { events: [], regs: new Map(), cons: [], instr: 0, ctrl: NONE };
    // a path whose conditions are false whatever the reads give is no path (a trylock's
    // constant result tested by an if)
    const ends = this.stmts(body, [st0], true).filter((st) =>
      st.cons.every((c) => {
        const v = evalSym(c, []);
        return v === undefined || v !== 0;
      }),
    );
    return ends.map((st) => {
      const regs = new Map<string, Sym>();
      for (const [name, v] of this.initRegs) regs.set(name, c(v));
      for (const [name, v] of st.regs) regs.set(name, v.sym);
      return { thread: this.thread, events: st.events, constraints: st.cons, regs };
    });
  }

  /** `top`: the thread's own statement list, where herd7 drops bare declarations. */
  private stmts(list: KStmt[], sts: St[], top = false): St[] {
    let cur = sts;
    for (const s of list) {
      const next: St[] = [];
      for (const st of cur) next.push(...this.stmt(s, st, top));
      if (next.length > MAX_PATHS)
        this.fail(s.line, `P${this.thread} has more than ${MAX_PATHS} paths`, 'split the test: every if, trylock and cmpxchg doubles the paths of a thread');
      cur = next;
    }
    return cur;
  }

  /**
   * One statement. Statement numbers follow herd7's program-order index (herd/CSem.ml):
   * every statement takes the next one, a block takes one and then its statements theirs, an
   * if's branch starts one further, and a bare declaration at a thread's top takes none.
   * (Visible only in herd7's srcu_read_lock() index values of the 6.1 model.)
   */
  private stmt(s: KStmt, st0: St, top: boolean): St[] {
    const st = clone(st0);
    if (s.t === 'decl' && !s.e) {
      // herd7: a declaration does nothing to the register
      if (!top) st.instr++;
      return [st];
    }
    st.instr++;
    switch (s.t) {
      case 'decl':
      case 'assign':
        return this.assign(s.name, s.e!, st);
      case 'seq':
        return this.stmts(s.body, [st]);
      case 'eval':
        return this.expr(s.e, st).map(([x]) => x);
      case 'store': {
        const out: St[] = [];
        for (const [s1, a] of this.expr(s.addr, st)) {
          for (const [s2, v] of this.expr(s.v, s1)) {
            this.event(s2, { kind: 'W', annots: s.annots, loc: a.sym, value: v.sym, addr: a.data, data: v.data, iico: [...a.evts, ...v.evts], line: s.line });
            out.push(s2);
          }
        }
        return out;
      }
      case 'fence':
        this.event(st, { kind: 'F', annots: s.annots, loc: null, value: null, iico: [], line: s.line });
        return [st];
      case 'lock':
        return this.expr(s.loc, st).map(([s1, l]) => {
          const r = this.event(s1, { kind: 'LKR', annots: [], loc: l.sym, value: null, addr: l.data, iico: l.evts, line: s.line });
          this.event(s1, { kind: 'LKW', annots: [], loc: l.sym, value: null, addr: l.data, iico: [...l.evts, r], line: s.line });
          return s1;
        });
      case 'unlock':
        return this.expr(s.loc, st).map(([s1, l]) => {
          this.event(s1, { kind: 'UL', annots: [], loc: l.sym, value: null, addr: l.data, iico: l.evts, line: s.line });
          return s1;
        });
      case 'atomicOp':
        // herd7 (lkmmv1): the read of a non-returning atomic is 'noreturn, its write 'once
        return this.rmwOp(s.loc, s.op, s.v, ['noreturn'], ['once'], false, st, s.line).map(([x]) => x);
      case 'srcu': {
        const out: St[] = [];
        for (const [s1, l] of this.expr(s.loc, st)) {
          if (!s.v) {
            this.event(s1, { kind: 'SRCU', annots: s.annots, loc: l.sym, value: null, iico: l.evts, line: s.line });
            out.push(s1);
            continue;
          }
          for (const [s2, v] of this.expr(s.v, s1)) {
            this.event(s2, { kind: 'SRCU', annots: s.annots, loc: l.sym, value: v.sym, iico: [...l.evts, ...v.evts], line: s.line });
            out.push(s2);
          }
        }
        return out;
      }
      case 'if': {
        const out: St[] = [];
        for (const [s1, cond] of this.expr(s.cond, st)) {
          const test = isComparison(s.cond) ? cond.sym : op('!=', cond.sym, c(0));
          const ctrl = union(st0.ctrl, cond.cdata);
          for (const taken of [true, false]) {
            const b = clone(s1);
            b.cons.push(taken ? test : op('==', test, c(0)));
            b.ctrl = ctrl;
            const branch = taken ? s.then : s.else;
            // a branch starts one index further; a missing else continues from the if's
            let ends: St[];
            if (branch) {
              b.instr = s1.instr + 1;
              ends = this.stmts([branch], [b]);
            } else ends = [b];
            for (const end of ends) {
              end.ctrl = st0.ctrl;
              out.push(end);
            }
          }
        }
        return out;
      }
    }
  }

  private assign(name: string, e: KExpr, st: St): St[] {
    return this.expr(e, st).map(([s1, v]) => {
      s1.regs.set(name, { sym: v.sym, data: v.data, cdata: union(v.cdata, s1.ctrl) });
      return s1;
    });
  }

  private event(
    st: St,
    e: {
      kind: PathEvent['kind'];
      annots: string[];
      loc: Sym | null;
      value: Sym | null;
      iico: number[];
      line: number;
      addr?: ReadonlySet<number>;
      data?: ReadonlySet<number>;
      atomic?: boolean;
      rmwRead?: number;
    },
  ): number {
    const idx = st.events.length;
    st.events.push({
      kind: e.kind,
      annots: e.annots,
      loc: e.loc,
      value: e.kind === 'R' ? { k: 'r', ev: idx } : e.value,
      atomic: e.atomic ?? false,
      rmwRead: e.rmwRead ?? null,
      instr: st.instr,
      iico: e.iico,
      addr: [...(e.addr ?? NONE)].sort((a, b) => a - b),
      data: [...(e.data ?? NONE)].sort((a, b) => a - b),
      ctrl: [...st.ctrl].sort((a, b) => a - b),
      line: e.line,
    });
    return idx;
  }

  /** Every way to evaluate `e` (a trylock or cmpxchg inside forks the path). */
  private expr(e: KExpr, st: St): Array<[St, EV]> {
    switch (e.t) {
      case 'const':
        return [[st, { sym: c(e.v), data: NONE, cdata: NONE, evts: [] }]];
      case 'reg': {
        const r = st.regs.get(e.name);
        if (r) return [[st, { ...r, evts: [] }]];
        return [[st, { sym: c(this.initRegs.get(e.name) ?? 0), data: NONE, cdata: NONE, evts: [] }]];
      }
      case 'load':
        return this.expr(e.addr, st).map(([s1, a]) => {
          const r = this.event(s1, { kind: 'R', annots: e.annots, loc: a.sym, value: null, addr: a.data, iico: a.evts, line: e.line });
          return [s1, { sym: { k: 'r', ev: r }, data: new Set([r]), cdata: new Set([r]), evts: [...a.evts, r] }];
        });
      case 'op': {
        const out: Array<[St, EV]> = [];
        for (const [s1, a] of this.expr(e.a, st)) {
          for (const [s2, b] of this.expr(e.b, s1)) {
            out.push([s2, { sym: op(e.op, a.sym, b.sym), data: union(a.data, b.data), cdata: union(a.cdata, b.cdata), evts: [...a.evts, ...b.evts] }]);
          }
        }
        return out;
      }
      case 'xchg':
        return this.xchg(e, st);
      case 'cmpxchg':
        return this.cmpxchg(e, st);
      case 'atomicRet': {
        const { mb, ar, aw } = rmwAnnotations(e.annots);
        return this.rmwOp(e.loc, e.op, e.v, ar, aw, mb, st, e.line, e.fetch ? 'old' : 'new');
      }
      case 'addUnless':
        return this.addUnless(e, st);
      case 'trylock': {
        const out: Array<[St, EV]> = [];
        for (const [s1, l] of this.expr(e.loc, st)) {
          const ok = clone(s1);
          const r = this.event(ok, { kind: 'LKR', annots: [], loc: l.sym, value: null, addr: l.data, iico: l.evts, line: e.line });
          const w = this.event(ok, { kind: 'LKW', annots: [], loc: l.sym, value: null, addr: l.data, iico: [...l.evts, r], line: e.line });
          out.push([ok, { sym: c(1), data: NONE, cdata: NONE, evts: [...l.evts, r, w] }]);
          const no = clone(s1);
          const f = this.event(no, { kind: 'LF', annots: [], loc: l.sym, value: null, addr: l.data, iico: l.evts, line: e.line });
          // a failed trylock is a read of the lock: what depends on its result depends on it
          out.push([no, { sym: c(0), data: new Set([f]), cdata: new Set([f]), evts: [...l.evts, f] }]);
        }
        return out;
      }
      case 'islocked': {
        const out: Array<[St, EV]> = [];
        for (const [s1, l] of this.expr(e.loc, st)) {
          for (const locked of [true, false]) {
            const b = clone(s1);
            const x = this.event(b, { kind: locked ? 'RL' : 'RU', annots: [], loc: l.sym, value: null, addr: l.data, iico: l.evts, line: e.line });
            out.push([b, { sym: c(locked ? 1 : 0), data: new Set([x]), cdata: new Set([x]), evts: [...l.evts, x] }]);
          }
        }
        return out;
      }
      case 'srcu':
        return this.expr(e.loc, st).map(([s1, l]) => {
          // herd7 gives each srcu_read_lock() site its own index value
          const v = e.annots.includes('srcu-lock') ? (this.thread + 1) * 307 + s1.instr * 599 : 0;
          const x = this.event(s1, { kind: 'SRCU', annots: e.annots, loc: l.sym, value: c(v), iico: l.evts, line: e.line });
          return [s1, { sym: c(v), data: NONE, cdata: NONE, evts: [...l.evts, x] }];
        });
    }
  }

  private fence(st: St, annots: string[], line: number, after: number[]): number {
    return this.event(st, { kind: 'F', annots, loc: null, value: null, iico: after, line });
  }

  private xchg(e: Extract<KExpr, { t: 'xchg' }>, st: St): Array<[St, EV]> {
    const a = e.annots;
    const { mb, ar, aw } = rmwAnnotations(a);
    const out: Array<[St, EV]> = [];
    for (const [s1, l] of this.expr(e.loc, st)) {
      for (const [s2, v] of this.expr(e.v, s1)) {
        const f1 = mb ? [this.fence(s2, a, e.line, [])] : [];
        const r = this.event(s2, { kind: 'R', annots: ar, loc: l.sym, value: null, addr: l.data, iico: [...f1, ...l.evts], atomic: true, line: e.line });
        // the write follows the read by control, not data: no data dependency inside an xchg
        const w = this.event(s2, {
          kind: 'W',
          annots: aw,
          loc: l.sym,
          value: v.sym,
          addr: l.data,
          data: v.data,
          iico: [...f1, ...l.evts, ...v.evts, r],
          atomic: true,
          rmwRead: r,
          line: e.line,
        });
        const f2 = mb ? [this.fence(s2, a, e.line, [w])] : [];
        out.push([s2, { sym: { k: 'r', ev: r }, data: new Set([r]), cdata: new Set([r]), evts: [...l.evts, ...v.evts, ...f1, r, w, ...f2] }]);
      }
    }
    return out;
  }

  private cmpxchg(e: Extract<KExpr, { t: 'cmpxchg' }>, st: St): Array<[St, EV]> {
    const a = e.annots;
    const { mb, ar, aw } = rmwAnnotations(a);
    const out: Array<[St, EV]> = [];
    for (const [s1, l] of this.expr(e.loc, st)) {
      for (const [s2, old] of this.expr(e.old, s1)) {
        for (const [s3, nv] of this.expr(e.new, s2)) {
          // success: the read sees `old` and the new value is written
          const ok = clone(s3);
          const f1 = mb ? [this.fence(ok, a, e.line, [])] : [];
          const r = this.event(ok, { kind: 'R', annots: ar, loc: l.sym, value: null, addr: l.data, iico: [...f1, ...l.evts], atomic: true, line: e.line });
          const w = this.event(ok, {
            kind: 'W',
            annots: aw,
            loc: l.sym,
            value: nv.sym,
            addr: l.data,
            data: nv.data,
            iico: [...f1, ...l.evts, ...old.evts, ...nv.evts, r],
            atomic: true,
            rmwRead: r,
            line: e.line,
          });
          const f2 = mb ? [this.fence(ok, a, e.line, [w])] : [];
          ok.cons.push(op('==', { k: 'r', ev: r }, old.sym));
          out.push([ok, { sym: { k: 'r', ev: r }, data: new Set([r]), cdata: new Set([r]), evts: [...l.evts, ...old.evts, ...nv.evts, ...f1, r, w, ...f2] }]);
          // failure: a lone read ('once, whatever the variant) that does not see `old`
          const no = clone(s3);
          const rf = this.event(no, { kind: 'R', annots: ['once'], loc: l.sym, value: null, addr: l.data, iico: l.evts, atomic: true, line: e.line });
          no.cons.push(op('!=', { k: 'r', ev: rf }, old.sym));
          out.push([no, { sym: { k: 'r', ev: rf }, data: new Set([rf]), cdata: new Set([rf]), evts: [...l.evts, ...old.evts, ...nv.evts, rf] }]);
        }
      }
    }
    return out;
  }

  /** atomic_add() and the value-returning atomics: a read, a write of read OP v (data-dependent on the read). */
  private rmwOp(
    locE: KExpr,
    o: AtomicOp,
    vE: KExpr,
    ar: string[],
    aw: string[],
    mb: boolean,
    st: St,
    line: number,
    ret: 'old' | 'new' = 'new',
  ): Array<[St, EV]> {
    const out: Array<[St, EV]> = [];
    for (const [s1, v] of this.expr(vE, st)) {
      for (const [s2, l] of this.expr(locE, s1)) {
        const f1 = mb ? [this.fence(s2, ['mb'], line, [])] : [];
        const r = this.event(s2, { kind: 'R', annots: ar, loc: l.sym, value: null, addr: l.data, iico: [...f1, ...l.evts], atomic: true, line });
        const rv: Sym = { k: 'r', ev: r };
        const nv = applyAtomicOp(o, rv, v.sym);
        const w = this.event(s2, {
          kind: 'W',
          annots: aw,
          loc: l.sym,
          value: nv,
          addr: l.data,
          data: union(v.data, new Set([r])),
          iico: [...f1, ...l.evts, ...v.evts, r],
          atomic: true,
          rmwRead: r,
          line,
        });
        const f2 = mb ? [this.fence(s2, ['mb'], line, [w])] : [];
        const deps = ret === 'old' ? new Set([r]) : union(v.data, new Set([r]));
        const cdeps = ret === 'old' ? new Set([r]) : union(v.cdata, new Set([r]));
        out.push([s2, { sym: ret === 'old' ? rv : nv, data: deps, cdata: cdeps, evts: [...v.evts, ...l.evts, ...f1, r, w, ...f2] }]);
      }
    }
    return out;
  }

  private addUnless(e: Extract<KExpr, { t: 'addUnless' }>, st: St): Array<[St, EV]> {
    const out: Array<[St, EV]> = [];
    for (const [s1, l] of this.expr(e.loc, st)) {
      for (const [s2, a] of this.expr(e.a, s1)) {
        for (const [s3, u] of this.expr(e.u, s2)) {
          // success (the value is not u): add, fully ordered, return 1
          const ok = clone(s3);
          const f1 = this.fence(ok, ['mb'], e.line, []);
          const r = this.event(ok, { kind: 'R', annots: ['once'], loc: l.sym, value: null, addr: l.data, iico: [f1, ...l.evts], atomic: true, line: e.line });
          const w = this.event(ok, {
            kind: 'W',
            annots: ['once'],
            loc: l.sym,
            value: op('+', { k: 'r', ev: r }, a.sym),
            addr: l.data,
            data: union(a.data, new Set([r])),
            iico: [f1, ...l.evts, ...a.evts, ...u.evts, r],
            atomic: true,
            rmwRead: r,
            line: e.line,
          });
          const f2 = this.fence(ok, ['mb'], e.line, [w]);
          ok.cons.push(op('!=', { k: 'r', ev: r }, u.sym));
          out.push([
            ok,
            { sym: c(1), data: union(u.data, new Set([r])), cdata: union(u.cdata, new Set([r])), evts: [...l.evts, ...a.evts, ...u.evts, f1, r, w, f2] },
          ]);
          // failure (the value is u): a lone read, return 0
          const no = clone(s3);
          const rn = this.event(no, { kind: 'R', annots: ['once'], loc: l.sym, value: null, addr: l.data, iico: l.evts, atomic: true, line: e.line });
          no.cons.push(op('==', { k: 'r', ev: rn }, u.sym));
          out.push([no, { sym: c(0), data: union(u.data, new Set([rn])), cdata: union(u.cdata, new Set([rn])), evts: [...l.evts, ...a.evts, ...u.evts, rn] }]);
        }
      }
    }
    return out;
  }
}

/**
 * herd7 (lkmmv1): an acquire form annotates its read, a release form its write, the others
 * read and write 'once; the fully ordered form (mb) adds an mb fence before and after.
 */
function rmwAnnotations(a: string[]): { mb: boolean; ar: string[]; aw: string[] } {
  return { mb: isOnly(a, 'mb'), ar: isOnly(a, 'acquire') ? a : ['once'], aw: isOnly(a, 'release') ? a : ['once'] };
}

function isOnly(annots: string[], a: string): boolean {
  return annots.length === 1 && annots[0] === a;
}

function isComparison(e: KExpr): boolean {
  return e.t === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(e.op);
}

function applyAtomicOp(o: AtomicOp, a: Sym, b: Sym): Sym {
  if (o === '&~') return op('&', a, op('^', b, c(-1)));
  return op(o, a, b);
}

/** Evaluates a symbolic value; undefined when it needs a read value not known yet. */
export function evalSym(s: Sym, vals: ArrayLike<Val | undefined>, offset = 0): Val | undefined {
  switch (s.k) {
    case 'c':
      return s.v;
    case 'r':
      return vals[s.ev + offset];
    case 'op': {
      const a = evalSym(s.a, vals, offset);
      if (a === undefined) return undefined;
      const b = evalSym(s.b, vals, offset);
      if (b === undefined) return undefined;
      return applyOp(s.op, a, b);
    }
  }
}

export class ValueError extends Error {}

/**
 * An undetermined value: herd7 keeps an execution whose reads form a cycle of pure copies
 * (r1 = *x; *y = r1 against r2 = *y; *x = r2, each reading the other's write: out of thin
 * air) with a free variable as the value, printed S<n>. kreplay names it ?S<k>.
 */
export const SYMBOLIC = '?';

export function isSymbolic(v: Val): v is string {
  return typeof v === 'string' && v.startsWith(SYMBOLIC);
}

function offsetAddress(addr: string, by: number): string {
  const m = /^(.*?)(?:\+(\d+))?$/.exec(addr)!;
  const off = Number(m[2] ?? 0) + by;
  if (off < 0) throw new ValueError(`address ${addr} ${by < 0 ? '-' : '+'} ${Math.abs(by)} is before the location`);
  return off === 0 ? m[1]! : `${m[1]!}+${off}`;
}

/** Thrown when a computation needs the value of an undetermined (symbolic) value. */
export class Unsolved extends Error {}

export function applyOp(o: string, a: Val, b: Val): Val {
  if (isSymbolic(a) || isSymbolic(b)) {
    // herd7's solver sees through x+0 and the like; anything else leaves an unsolved equation
    if ((o === '+' || o === '-' || o === '|' || o === '^') && b === 0) return a;
    if ((o === '+' || o === '|' || o === '^') && a === 0) return b;
    if (o === '*' && b === 1) return a;
    if (o === '*' && a === 1) return b;
    if ((o === '==' || o === '!=') && a === b) return o === '==' ? 1 : 0;
    throw new Unsolved();
  }
  if (o === '==') return a === b ? 1 : 0;
  if (o === '!=') return a !== b ? 1 : 0;
  // an address plus an integer is another location (herd7: an offset into the symbol)
  if (typeof a === 'string' && typeof b === 'number' && (o === '+' || o === '-')) return offsetAddress(a, o === '+' ? b : -b);
  if (typeof a === 'number' && typeof b === 'string' && o === '+') return offsetAddress(b, a);
  if (typeof a !== 'number' || typeof b !== 'number') {
    throw new ValueError(`arithmetic on an address (${String(a)} ${o} ${String(b)})`);
  }
  switch (o) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new ValueError('division by zero');
      return Math.trunc(a / b);
    case '%':
      if (b === 0) throw new ValueError('division by zero');
      return a % b;
    case '&':
      return Number(BigInt.asIntN(64, BigInt(a) & BigInt(b)));
    case '|':
      return Number(BigInt.asIntN(64, BigInt(a) | BigInt(b)));
    case '^':
      return Number(BigInt.asIntN(64, BigInt(a) ^ BigInt(b)));
    case '<<':
      return Number(BigInt.asIntN(64, BigInt(a) << BigInt(b)));
    case '>>':
      return Number(BigInt.asIntN(64, BigInt(a) >> BigInt(b)));
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
  throw new ValueError(`unknown operator ${o}`);
}

/**
 * The read a value is a plain copy of (through x+0 and the like), or null: the edges along
 * which a cycle of copies shares one undetermined value.
 */
export function copiedRead(s: Sym): number | null {
  if (s.k === 'r') return s.ev;
  if (s.k !== 'op') return null;
  const isConst = (x: Sym, v: number): boolean => x.k === 'c' && x.v === v;
  if ((s.op === '+' || s.op === '-' || s.op === '|' || s.op === '^') && isConst(s.b, 0)) return copiedRead(s.a);
  if ((s.op === '+' || s.op === '|' || s.op === '^') && isConst(s.a, 0)) return copiedRead(s.b);
  if (s.op === '*' && isConst(s.b, 1)) return copiedRead(s.a);
  if (s.op === '*' && isConst(s.a, 1)) return copiedRead(s.b);
  return null;
}

/** The reads a symbolic value depends on. */
export function symReads(s: Sym, out: number[] = []): number[] {
  if (s.k === 'r') out.push(s.ev);
  else if (s.k === 'op') {
    symReads(s.a, out);
    symReads(s.b, out);
  }
  return out;
}
