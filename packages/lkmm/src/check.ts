/**
 * Checking a C litmus test against a memory model, the way herd7 does:
 *
 * 1. each thread's paths (sem.ts), after the model's macros are expanded;
 * 2. for each combination of paths, the events (initial writes first), their static
 *    relations, and the model's static statements: a check failing there rejects the
 *    combination before any reads-from is chosen;
 * 3. reads-from, read by read, solving values as they become known and dropping a choice
 *    as soon as a branch condition, a cmpxchg outcome or a location it fixes contradicts it
 *    (an execution whose values stay unsolved, a value cycle, is dropped as herd7 drops it);
 * 4. for each observed location, its final write; the filter, on the final state;
 * 5. the rest of the model: lock.cat enumerates the rf of failed trylocks and the
 *    coherence orders itself (`with ... from`), then the axioms. Every execution that
 *    passes gives a final state, its flags, and counts for or against the condition.
 */
import { InputError } from '@kreplay/core';
import { applyValue, CatError, LEVEL_FINAL, LEVEL_RF, LEVEL_STATIC, ModelRun, capitalize } from './cat/interp.js';
import { EMPTY, elements, makeVset, typeName, type Value } from './cat/values.js';
import type { InitValue, LitmusTest, Prop, StateRef } from './litmus/ast.js';
import { Expander } from './litmus/kernel.js';
import { unknownInCondition } from './litmus/names.js';
import { describeModel, type LoadedModel } from './model.js';
import { Space, type Bits } from './rel.js';
import { CoherenceFrontier } from './coherence.js';
import { nextCombination } from './text.js';
import {
  copiedRead,
  evalSym,
  isSymbolic,
  symReads,
  SYMBOLIC,
  ThreadSemantics,
  Unsolved,
  ValueError,
  type EventKind,
  type PathEvent,
  type Sym,
  type ThreadPath,
  type Val,
} from './sem.js';

export interface StateBinding {
  /** `[x]` for a location, `0:r0` for a register. */
  ref: string;
  value: string;
  /** An undetermined value (an out-of-thin-air cycle of copies), printed S<n>. */
  symbolic?: true;
}

export type Observation = 'Never' | 'Sometimes' | 'Always';

export interface LitmusResult {
  name: string;
  file: string;
  model: { name: string; release: string | null; description: string };
  /** herd7's word for the condition: Allowed (exists), Forbidden (~exists), Required (forall). */
  kind: 'Allowed' | 'Forbidden' | 'Required';
  /** The distinct final states of the valid executions, restricted to what the test displays. */
  states: StateBinding[][];
  /** Whether the condition holds (herd7's Ok/No). */
  ok: boolean;
  /** Witnesses as herd7 prints them (swapped for ~exists). */
  witnesses: { positive: number; negative: number };
  /** Executions that satisfy / do not satisfy the condition's proposition. */
  pos: number;
  neg: number;
  observation: Observation;
  /** Flags raised by at least one valid execution (e.g. data-race), sorted. */
  flags: string[];
  /** The condition as herd7 prints it. */
  condition: string;
  expectation: LitmusTest['expectation'];
  /**
   * Grace-period event sets (Sync-rcu, Sync-srcu) the test has and the model's checks never
   * refer to: the verdict is one without RCU's (SRCU's) guarantee. Empty under the LKMM.
   */
  ignoredByModel: string[];
  /** What the condition names that the test never mentions (names.ts): 0 in every execution, likely a typo. */
  unknownInCondition: string[];
  stats: { pathCombinations: number; rfCandidates: number; executions: number; timeMs: number };
}

export interface CheckOptions {
  /** Give up (CheckTimeout) after this many milliseconds. */
  timeoutMs?: number;
}

export class CheckTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CheckTimeout';
  }
}

interface GEvent {
  kind: EventKind;
  thread: number; // -1: initial write
  annots: string[];
  loc: Sym | null;
  value: Sym | null;
  atomic: boolean;
  rmwRead: number | null; // global
  instr: number;
  iico: number[]; // global
  addr: number[];
  data: number[];
  ctrl: number[];
  /** Offset to turn the path's read indices (in loc/value syms) into global ones. */
  offset: number;
  line: number;
}

function valText(v: Val): string {
  if (typeof v === 'number') return String(v);
  return isSymbolic(v) ? v.slice(SYMBOLIC.length) : v;
}

function initVal(v: InitValue | null): Val {
  if (!v) return 0;
  return v.t === 'int' ? v.v : v.name;
}

/** A location or register as herd7 prints it in states and conditions: [x], 0:r0. */
function refText(r: StateRef): string {
  return r.thread === null ? `[${r.name}]` : `${r.thread}:${r.name}`;
}

/** Orders state keys as herd7 prints them: registers by thread, then locations. */
function compareRefs(a: StateRef, b: StateRef): number {
  const ta = a.thread ?? Number.MAX_SAFE_INTEGER;
  const tb = b.thread ?? Number.MAX_SAFE_INTEGER;
  if (ta !== tb) return ta - tb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function propRefs(p: Prop | null, out: StateRef[] = []): StateRef[] {
  if (!p) return out;
  switch (p.t) {
    case 'not':
      return propRefs(p.p, out);
    case 'and':
    case 'or':
    case 'implies':
      propRefs(p.a, out);
      return propRefs(p.b, out);
    case 'eq':
    case 'ne':
      out.push(p.ref);
      if (p.value.t === 'addr') void 0;
      return out;
    case 'eqref':
      out.push(p.a, p.b);
      return out;
    default:
      return out;
  }
}

function uniqRefs(refs: StateRef[]): StateRef[] {
  const seen = new Map<string, StateRef>();
  for (const r of refs) seen.set(refText(r), r);
  return [...seen.values()].sort(compareRefs);
}

export function evalProp(p: Prop, get: (r: StateRef) => Val): boolean {
  switch (p.t) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !evalProp(p.p, get);
    case 'and':
      return evalProp(p.a, get) && evalProp(p.b, get);
    case 'or':
      return evalProp(p.a, get) || evalProp(p.b, get);
    case 'implies':
      return !evalProp(p.a, get) || evalProp(p.b, get);
    case 'eq':
      return get(p.ref) === initVal(p.value);
    case 'ne':
      return get(p.ref) !== initVal(p.value);
    case 'eqref':
      return get(p.a) === get(p.b);
  }
}

/** The condition as herd7 prints it on its Condition line. */
export function printCondition(kind: LitmusTest['condition']['kind'], p: Prop): string {
  const head = kind === 'exists' ? 'exists' : kind === 'forall' ? 'forall' : '~exists';
  return `${head} (${printProp(p, 0)})`;
}

function printValue(v: InitValue): string {
  return v.t === 'int' ? String(v.v) : v.name;
}

function printProp(p: Prop, ctx: number): string {
  // precedence: 1 =>, 2 \/, 3 /\, 4 atoms and ~
  const wrap = (s: string, prec: number): string => (prec < ctx ? `(${s})` : s);
  switch (p.t) {
    case 'true':
      return 'true';
    case 'false':
      return 'false';
    case 'not':
      return `not (${printProp(p.p, 0)})`;
    case 'and':
      return wrap(`${printProp(p.a, 3)} /\\ ${printProp(p.b, 3)}`, 3);
    case 'or':
      return wrap(`${printProp(p.a, 2)} \\/ ${printProp(p.b, 2)}`, 2);
    case 'implies':
      return wrap(`${printProp(p.a, 2)} => ${printProp(p.b, 1)}`, 1);
    case 'eq':
      return `${refText(p.ref)}=${printValue(p.value)}`;
    case 'ne':
      return `not (${refText(p.ref)}=${printValue(p.value)})`;
    case 'eqref':
      return `${refText(p.a)}=${refText(p.b)}`;
  }
}

/**
 * The test's locations and initial values. Every location the test names (initial
 * state, thread parameters, addresses stored initially, the condition) has an initial
 * write; registers start at their initial value (parameters at their location's address).
 */
function initialState(test: LitmusTest): { locs: Map<string, Val>; regs: Array<Map<string, Val>> } {
  const locs = new Map<string, Val>();
  const regs: Array<Map<string, Val>> = test.threads.map(() => new Map());
  const addLoc = (name: string): void => {
    if (!locs.has(name)) locs.set(name, 0);
  };
  for (const t of test.threads) {
    for (const p of t.params) {
      addLoc(p.name);
      regs[t.id]!.set(p.name, p.name);
    }
  }
  for (const item of test.init) {
    if (item.value?.t === 'addr') addLoc(item.value.name);
    if (item.thread === null) locs.set(item.name, initVal(item.value));
    else {
      if (item.thread >= test.threads.length) {
        throw new InputError(`P${item.thread} is not a thread of this test`, {
          file: test.file,
          line: item.line,
          hint: `the test has P0..P${test.threads.length - 1}`,
        });
      }
      regs[item.thread]!.set(item.name, initVal(item.value));
    }
  }
  for (const r of [...test.locations, ...propRefs(test.condition.prop, []), ...propRefs(test.filter, [])]) {
    if (r.thread === null) addLoc(r.name);
  }
  const addAddresses = (p: Prop | null): void => {
    if (!p) return;
    if (p.t === 'eq' || p.t === 'ne') {
      if (p.value.t === 'addr') addLoc(p.value.name);
    } else if (p.t === 'not') addAddresses(p.p);
    else if (p.t === 'and' || p.t === 'or' || p.t === 'implies') {
      addAddresses(p.a);
      addAddresses(p.b);
    }
  };
  addAddresses(test.condition.prop);
  addAddresses(test.filter);
  return { locs, regs };
}

interface Outcome {
  pos: number;
  neg: number;
  states: Map<string, StateBinding[]>;
  flags: Set<string>;
  executions: number;
  rfCandidates: number;
}

export function checkLitmus(test: LitmusTest, model: LoadedModel, opts: CheckOptions = {}): LitmusResult {
  const t0 = performance.now();
  const expander = new Expander(model.macros, test.file, model.info.name);
  const { locs, regs } = initialState(test);
  const threadPaths: ThreadPath[][] = test.threads.map((t) => {
    const body = expander.stmts(t.body);
    return new ThreadSemantics(t.id, test.file, regs[t.id]!).paths(body);
  });
  for (const r of [...test.locations, ...propRefs(test.condition.prop, []), ...propRefs(test.filter, [])]) {
    if (r.thread !== null && r.thread >= test.threads.length) {
      throw new InputError(`the condition names P${r.thread}, which this test does not have`, {
        file: test.file,
        line: test.condition.line,
        hint: `the test has P0..P${test.threads.length - 1}`,
      });
    }
  }
  const displayed = uniqRefs([...test.locations, ...propRefs(test.condition.prop, [])]);
  const observedLocs = uniqRefs([...displayed, ...propRefs(test.filter, [])])
    .filter((r) => r.thread === null)
    .map((r) => r.name);

  const out: Outcome = { pos: 0, neg: 0, states: new Map(), flags: new Set(), executions: 0, rfCandidates: 0 };
  const deadline = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? t0 + opts.timeoutMs : undefined;
  const ctx = { test, model, locs, displayed, observedLocs, out, deadline, timeoutMs: opts.timeoutMs ?? 0 };
  let combos = 0;
  const choice = threadPaths.map(() => 0);
  if (threadPaths.every((p) => p.length > 0)) {
    for (;;) {
      combos++;
      checkCombination(
        ctx,
        threadPaths.map((p, k) => p[choice[k]!]!),
        combos === 1,
      );
      if (
        !nextCombination(
          choice,
          threadPaths.map((p) => p.length),
        )
      )
        break;
    }
  }

  const cond = test.condition;
  const kind = cond.kind === 'exists' ? 'Allowed' : cond.kind === 'forall' ? 'Required' : 'Forbidden';
  const ok = cond.kind === 'exists' ? out.pos > 0 : cond.kind === 'not exists' ? out.pos === 0 : out.neg === 0;
  const witnesses = cond.kind === 'not exists' ? { positive: out.neg, negative: out.pos } : { positive: out.pos, negative: out.neg };
  const observation: Observation = out.pos === 0 ? 'Never' : out.neg === 0 ? 'Always' : 'Sometimes';
  const states = [...out.states.entries()].sort((a, b) => compareStates(a[1], b[1])).map(([, s]) => s);
  return {
    name: test.name,
    file: test.file,
    model: { name: model.info.name, release: model.info.release, description: describeModel(model.info) },
    kind,
    states,
    ok,
    witnesses,
    pos: out.pos,
    neg: out.neg,
    observation,
    flags: [...out.flags].sort(),
    condition: printCondition(cond.kind, cond.prop),
    expectation: test.expectation,
    ignoredByModel: model.ignoredGracePeriods.filter((set) =>
      threadPaths.some((paths) => paths.some((p) => p.events.some((e) => e.annots.some((a) => capitalize(a) === set)))),
    ),
    unknownInCondition: unknownInCondition(test),
    stats: { pathCombinations: combos, rfCandidates: out.rfCandidates, executions: out.executions, timeMs: performance.now() - t0 },
  };
}

/**
 * herd7 orders states by their values, location by location: undetermined values first,
 * then integers (numerically), then addresses (by name).
 */
function compareStates(a: StateBinding[], b: StateBinding[]): number {
  const rank = (v: StateBinding): number => (v.symbolic ? 0 : /^-?\d+$/.test(v.value) ? 1 : 2);
  for (let k = 0; k < Math.min(a.length, b.length); k++) {
    const x = a[k]!;
    const y = b[k]!;
    if (x.value === y.value) continue;
    const rx = rank(x);
    const ry = rank(y);
    if (rx !== ry) return rx - ry;
    if (rx === 1) return Number(x.value) - Number(y.value);
    return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}

interface Ctx {
  test: LitmusTest;
  model: LoadedModel;
  locs: Map<string, Val>;
  displayed: StateRef[];
  observedLocs: string[];
  out: Outcome;
  deadline: number | undefined;
  timeoutMs: number;
}

function checkCombination(ctx: Ctx, paths: ThreadPath[], first: boolean): void {
  const { test, model } = ctx;
  if (ctx.deadline !== undefined && performance.now() > ctx.deadline) throw new CheckTimeout(ctx.timeoutMs);
  // ---- events: initial writes (one per location, by name), then the threads'
  const events: GEvent[] = [];
  const locNames = [...ctx.locs.keys()].sort();
  const iwOf = new Map<string, number>();
  for (const name of locNames) {
    iwOf.set(name, events.length);
    events.push({
      kind: 'W',
      thread: -1,
      annots: [],
      loc: { k: 'c', v: name },
      value: { k: 'c', v: ctx.locs.get(name)! },
      atomic: false,
      rmwRead: null,
      instr: 0,
      iico: [],
      addr: [],
      data: [],
      ctrl: [],
      offset: 0,
      line: 0,
    });
  }
  const pathOffset: number[] = [];
  for (const p of paths) {
    const off = events.length;
    pathOffset.push(off);
    for (const e of p.events) events.push(globalEvent(e, p.thread, off));
  }
  const n = events.length;
  const sp = new Space(n);
  const dynamicLocs = events.some((e) => e.loc !== null && e.loc.k !== 'c');
  const staticLoc = dynamicLocs ? null : events.map((e) => (e.loc && e.loc.k === 'c' ? e.loc.v : undefined));
  const exec: ExecState = { values: [], locs: staticLoc ?? [], pruned: false, atomicRmw: model.atomicRmw };
  /**
   * The model's run of this combination: its static relations and what of the model depends on
   * neither rf nor co (`prepare`; false: no execution of this combination can be consistent). Made
   * when a candidate rf first reaches a leaf: most combinations of paths have none (a branch
   * condition no rf satisfies), and making it for each was most of their cost (a derived 6.12
   * test: 750 combinations, 86 leaves). A test's first combination makes it at once, so a model
   * that cannot be evaluated fails there, whatever the rf search finds.
   */
  let run: ModelRun | undefined;
  let prepared: boolean | undefined;
  const ready = (): boolean => {
    if (prepared === undefined) {
      const r = (run = new ModelRun(model.compiled, sp, nativeLevels(events)));
      setStaticNatives(r, sp, events, model);
      installPrimitives(r, sp, exec);
      if (staticLoc) setLoc(r, sp, staticLoc);
      prepared = guardCat(() => r.prepare(), test);
    }
    return prepared;
  };
  if (first && !ready()) return;

  // ---- reads-from, values solved as they become known
  const reads: number[] = [];
  const writes: number[] = [];
  events.forEach((e, i) => {
    if (e.kind === 'R') reads.push(i);
    else if (e.kind === 'W') writes.push(i);
  });
  const vals: Array<Val | undefined> = new Array(n).fill(undefined);
  /** The reads given a value, in order (only reads hold values, set once along a branch): the search forgets back to a mark. */
  const trail: number[] = [];
  const locOf = (i: number): Val | undefined => {
    const e = events[i]!;
    return e.loc ? evalSym(e.loc, vals, e.offset) : undefined;
  };
  const valueOf = (i: number): Val | undefined => {
    const e = events[i]!;
    if (e.kind === 'R') return vals[i];
    return e.value ? evalSym(e.value, vals, e.offset) : undefined;
  };
  // candidate writes of each read: compatible location, not after it in its own instruction
  const cands = reads.map((r) => {
    const re = events[r]!;
    const rl = re.loc && re.loc.k === 'c' ? re.loc.v : undefined;
    return writes.filter((w) => {
      const we = events[w]!;
      if (we.thread === re.thread && we.instr === re.instr && iicoBefore(events, r, w)) return false;
      const wl = we.loc && we.loc.k === 'c' ? we.loc.v : undefined;
      return rl === undefined || wl === undefined || rl === wl;
    });
  });
  const constraints: Array<{ sym: Sym; offset: number }> = [];
  paths.forEach((p, k) => {
    for (const s of p.constraints) constraints.push({ sym: s, offset: pathOffset[k]! });
  });
  const rf = new Int32Array(n).fill(-1);
  // coherence pruning needs every location known before values are (static locations) and
  // a model whose co comes from coherence-orders (coherence.ts)
  const frontier = staticLoc && usesCoherenceOrders(model) ? coherenceFrontier(events, staticLoc, model.atomicRmw) : null;
  exec.pruned = frontier !== null;

  /**
   * Values flow along rf until nothing changes; then every decided condition must hold. It starts
   * from the values the rf of the reads before this one gave (dfs restores them): a read's value,
   * once known, depends only on rf choices already made, so the values only grow along a branch
   * and the fixpoint reached is the one a start from nothing reaches.
   */
  const propagate = (): boolean => {
    let changed = true;
    while (changed) {
      changed = false;
      // the reads with an rf: those the search has chosen for, reads[0..depth]
      for (let j = 0; j <= depth; j++) {
        const r = reads[j]!;
        if (vals[r] !== undefined) continue;
        const v = valueOf(rf[r]!);
        if (v !== undefined) {
          vals[r] = v;
          trail.push(r);
          changed = true;
        }
      }
    }
    // with every location a constant, each read's candidates are writes to its location already
    if (!staticLoc)
      for (const r of reads) {
        if (rf[r]! < 0) continue;
        const a = locOf(r);
        const b = locOf(rf[r]!);
        if (a !== undefined && b !== undefined && a !== b) return false;
      }
    for (let i = 0; i < constraints.length; i++) {
      // held where the search chose the rf of an earlier read: it holds below too (its value is known and stays)
      if (heldAt[i]! < depth) continue;
      const c = constraints[i]!;
      const v = evalSym(c.sym, vals, c.offset);
      if (v !== undefined && v === 0) return false;
      heldAt[i] = v === undefined ? UNDECIDED : depth;
    }
    return true;
  };
  /**
   * Per branch condition, the depth of the search (the read whose rf was being chosen) where it was
   * last found to hold, UNDECIDED when it was not. Each choice at a depth evaluates again every
   * condition found at that depth or deeper, so one found at a shallower depth was found with the
   * values of the choices the search is under now.
   */
  const heldAt = new Int32Array(constraints.length).fill(UNDECIDED);
  let depth = 0;
  // one guard for the whole pass (a closure per evaluation was a third of this test's garbage)
  const solve = (): boolean => safeEval(propagate, test);

  /**
   * Reads still without a value after propagation read, in a cycle, copies of each other's
   * values (out of thin air). Like herd7, give each such cycle one undetermined value; any
   * other unsolved read (a cycle through arithmetic) means no execution.
   */
  const giveCyclesAValue = (): boolean => {
    const parent = new Map<number, number>();
    const find = (x: number): number => {
      let r = x;
      while (parent.get(r) !== r) r = parent.get(r)!;
      return r;
    };
    for (const r of reads) if (vals[r] === undefined) parent.set(r, r);
    if (parent.size === 0) return true;
    for (const r of parent.keys()) {
      const w = events[rf[r]!]!;
      const src = w.value ? copiedRead(w.value) : null;
      if (src === null || !parent.has(src + w.offset)) return false;
      parent.set(find(r), find(src + w.offset));
    }
    const top = new Map<number, number>();
    for (const r of parent.keys()) top.set(find(r), Math.max(top.get(find(r)) ?? -1, r));
    for (const r of parent.keys()) {
      vals[r] = `${SYMBOLIC}S${top.get(find(r))!}`;
      trail.push(r);
    }
    return true;
  };

  const leaf = (): void => {
    if (!ready()) return;
    ctx.out.rfCandidates++;
    if (ctx.deadline !== undefined && performance.now() > ctx.deadline) throw new CheckTimeout(ctx.timeoutMs);
    if (!giveCyclesAValue()) return;
    try {
      for (const c of constraints) {
        const v = safeEval(() => evalSym(c.sym, vals, c.offset), test);
        if (v === undefined || v === 0) return; // unsolved, or a branch this path did not take
      }
    } catch (e) {
      if (e instanceof Unsolved) return; // a branch on an undetermined value: herd7 cannot solve it either
      throw e;
    }
    const loc: Array<Val | undefined> = staticLoc ?? events.map((_, i) => safeEval(() => locOf(i), test));
    for (let i = 0; i < n; i++) {
      const l = loc[i];
      if (events[i]!.loc && typeof l === 'string' && isSymbolic(l)) return; // an address out of thin air
      if (events[i]!.loc && typeof l !== 'string') {
        throw new InputError(`P${events[i]!.thread} accesses memory at ${l === undefined ? 'an unknown address' : String(l)}, not at a location`, {
          file: test.file,
          line: events[i]!.line,
          hint: "a pointer read from memory must hold a location's address (initialise it: { int *p = &x; })",
        });
      }
    }
    let evVals: Array<Val | undefined>;
    try {
      evVals = events.map((_, i) => safeEval(() => valueOf(i), test));
    } catch (e) {
      if (e instanceof Unsolved) return;
      throw e;
    }
    exec.values = evVals;
    exec.locs = loc;
    try {
      runExecutions(ctx, run!, sp, events, paths, pathOffset, rf, exec, vals, staticLoc === null);
    } catch (e) {
      if (e instanceof Unsolved) return; // a final register value computed from an undetermined one
      throw e;
    }
  };

  const dfs = (k: number): void => {
    if (k === reads.length) {
      leaf();
      return;
    }
    // a subtree whose every branch solve() prunes reaches no leaf: the deadline is checked here too
    if (ctx.deadline !== undefined && performance.now() > ctx.deadline) throw new CheckTimeout(ctx.timeoutMs);
    const r = reads[k]!;
    const re = events[r]!;
    if (cands[k]!.length === 0 && re.loc && re.loc.k === 'c' && typeof re.loc.v !== 'string') {
      // A read at an address that is no location (an undeclared or uninitialised pointer:
      // READ_ONCE(*yy) for *y) has no write to read: the search below would end here for
      // every execution, and the test would come out "Never 0 0" — its condition never met,
      // a ~exists test "Ok". A store there is refused at the leaf; so is this read, on a
      // path whose earlier reads are consistent.
      throw new InputError(`P${re.thread} accesses memory at ${String(re.loc.v)}, not at a location`, {
        file: test.file,
        line: re.line,
        hint: "a pointer must be a parameter (P0(int *y)) or hold a location's address (initialise it: { int *p = &x; })",
      });
    }
    // the values the reads before this one gave: each choice first forgets those found since
    const mark = trail.length;
    for (const w of cands[k]!) {
      if (prepared === false) break;
      depth = k;
      while (trail.length > mark) vals[trail.pop()!] = undefined;
      rf[r] = w;
      if (frontier) {
        const coherent = frontier.choose(r, w);
        if (coherent && solve()) dfs(k + 1);
        frontier.undo(r);
      } else if (solve()) dfs(k + 1);
    }
    rf[r] = -1;
  };
  dfs(0);
  void iwOf;
}

/** `heldAt` of a branch condition not found to hold. */
const UNDECIDED = 0x7fffffff;

function safeEval<T>(f: () => T, test: LitmusTest): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValueError)
      throw new InputError(e.message, { file: test.file, hint: 'litmus values are integers and location addresses; addresses can only be compared' });
    throw e;
  }
}

function guardCat<T>(f: () => T, test: LitmusTest): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CatError) {
      throw new InputError(`memory model error: ${e.message}`, {
        file: e.pos?.file ?? test.file,
        line: e.pos?.line,
        hint: 'the model files could not be evaluated on this test',
      });
    }
    throw e;
  }
}

/** The coherence frontier of one combination of paths: po as setStaticNatives gives it. */
function coherenceFrontier(events: GEvent[], loc: Array<Val | undefined>, atomicRmw: boolean): CoherenceFrontier {
  const poBefore = (a: number, b: number): boolean => {
    const ea = events[a]!;
    const eb = events[b]!;
    if (a === b || ea.thread < 0 || ea.thread !== eb.thread) return false;
    return ea.instr < eb.instr || (ea.instr === eb.instr && iicoBefore(events, a, b));
  };
  const n = events.length;
  const po = new Uint8Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (poBefore(a, b)) po[a * n + b] = 1;
  const rmwRead = new Uint8Array(n);
  if (atomicRmw)
    events.forEach((e, i) => {
      if (e.rmwRead !== null && loc[e.rmwRead] === loc[i]) rmwRead[e.rmwRead] = 1;
    });
  return new CoherenceFrontier(
    n,
    loc,
    (i) => events[i]!.kind === 'R',
    (i) => events[i]!.kind === 'W',
    (i) => events[i]!.thread < 0,
    (a, b) => po[a * n + b] === 1,
    (i) => rmwRead[i] === 1,
  );
}

const coherenceModels = new WeakMap<LoadedModel, boolean>();

/** Does the model take a coherence order from the coherence-orders primitive (`with co from coherence-orders(...)`)? */
function usesCoherenceOrders(model: LoadedModel): boolean {
  let uses = coherenceModels.get(model);
  if (uses === undefined) {
    const slot = model.compiled.natives.get('coherence-orders');
    uses = slot !== undefined && model.compiled.stmts.some((s) => s.t === 'with' && s.refs.includes(slot));
    coherenceModels.set(model, uses);
  }
  return uses;
}

function iicoBefore(events: GEvent[], a: number, b: number): boolean {
  // is a an intra-instruction predecessor of b (transitively)?
  const seen = new Set<number>();
  const stack = [...events[b]!.iico];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x === a) return true;
    if (seen.has(x)) continue;
    seen.add(x);
    stack.push(...events[x]!.iico);
  }
  return false;
}

function globalEvent(e: PathEvent, thread: number, off: number): GEvent {
  return {
    kind: e.kind,
    thread,
    annots: e.annots,
    loc: e.loc,
    value: e.value,
    atomic: e.atomic,
    rmwRead: e.rmwRead === null ? null : e.rmwRead + off,
    instr: e.instr,
    iico: e.iico.map((x) => x + off),
    addr: e.addr.map((x) => x + off),
    data: e.data.map((x) => x + off),
    ctrl: e.ctrl.map((x) => x + off),
    offset: off,
    line: e.line,
  };
}

function nativeLevels(events: GEvent[]): Map<string, number> {
  const dynamic = events.some((e) => e.loc !== null && e.loc.k !== 'c');
  return new Map([
    ['rf', LEVEL_RF],
    ['FW', LEVEL_FINAL],
    ['loc', dynamic ? LEVEL_RF : LEVEL_STATIC],
    ['different-values', LEVEL_RF],
    ['same-values', LEVEL_RF],
  ]);
}

function setLoc(run: ModelRun, sp: Space, loc: Array<Val | undefined>): void {
  const byLoc = new Map<Val, number[]>();
  loc.forEach((l, i) => {
    if (l === undefined) return;
    const list = byLoc.get(l) ?? [];
    list.push(i);
    byLoc.set(l, list);
  });
  const pairs: Array<[number, number]> = [];
  for (const list of byLoc.values()) for (const a of list) for (const b of list) pairs.push([a, b]);
  run.setNative('loc', { k: 'rel', b: sp.relOf(pairs) });
}

function setStaticNatives(run: ModelRun, sp: Space, events: GEvent[], model: LoadedModel): void {
  const n = events.length;
  const set = (pred: (e: GEvent) => boolean): Value => ({ k: 'set', b: sp.setOf(events.flatMap((e, i) => (pred(e) ? [i] : []))) });
  const rel = (pairs: Array<[number, number]>): Value => ({ k: 'rel', b: sp.relOf(pairs) });
  const po: Array<[number, number]> = [];
  const intPairs: Array<[number, number]> = [];
  const ext: Array<[number, number]> = [];
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const ea = events[a]!;
      const eb = events[b]!;
      if (ea.thread >= 0 && ea.thread === eb.thread) {
        intPairs.push([a, b]);
        if (a !== b && (ea.instr < eb.instr || (ea.instr === eb.instr && iicoBefore(events, a, b)))) po.push([a, b]);
      } else if (ea.thread !== eb.thread) ext.push([a, b]);
    }
  }
  const deps = (pick: (e: GEvent) => number[]): Value => rel(events.flatMap((e, i) => pick(e).map((d) => [d, i] as [number, number])));
  run.setNative('po', rel(po));
  run.setNative('int', rel(intPairs));
  run.setNative('ext', rel(ext));
  run.setNative('id', { k: 'rel', b: sp.toId(sp.fullSet()) });
  run.setNative('rmw', rel(events.flatMap((e, i) => (e.rmwRead === null ? [] : [[e.rmwRead, i] as [number, number]]))));
  run.setNative('amo', EMPTY);
  run.setNative(
    'addr',
    deps((e) => e.addr),
  );
  run.setNative(
    'data',
    deps((e) => e.data),
  );
  run.setNative(
    'ctrl',
    deps((e) => e.ctrl),
  );
  run.setNative(
    'M',
    set((e) => e.kind === 'R' || e.kind === 'W'),
  );
  run.setNative(
    'R',
    set((e) => e.kind === 'R'),
  );
  run.setNative(
    'W',
    set((e) => e.kind === 'W'),
  );
  run.setNative(
    'IW',
    set((e) => e.thread < 0),
  );
  run.setNative(
    'F',
    set((e) => e.kind === 'F'),
  );
  run.setNative('B', { k: 'set', b: sp.emptySet() });
  run.setNative(
    'RMW',
    set((e) => e.atomic),
  );
  run.setNative(
    'LK',
    set((e) => e.kind === 'LKR' || e.kind === 'LKW'),
  );
  for (const k of ['LKR', 'LKW', 'UL', 'LF', 'RL', 'RU'] as const)
    run.setNative(
      k,
      set((e) => e.kind === k),
    );
  run.setNative('_evts', { k: 'set', b: sp.fullSet() });
  for (const tag of model.compiled.annotations)
    run.setNative(
      capitalize(tag),
      set((e) => e.annots.includes(tag)),
    );
}

/** What the built-in functions see of the current candidate: event values and locations. */
interface ExecState {
  values: Array<Val | undefined>;
  locs: Array<Val | undefined>;
  /** Reads-from was pruned by coherence (coherence.ts): coherence-orders must see all of it. */
  pruned: boolean;
  /** The model checks `empty rmw & (fre ; coe)` (LoadedModel.atomicRmw). */
  atomicRmw: boolean;
}

/** The built-in functions, bound to this execution's events. */
function installPrimitives(run: ModelRun, sp: Space, exec: ExecState): void {
  const G = run.G;
  const asRel = (v: Value, what: string): Bits => {
    if (v.k === 'rel') return v.b;
    if (v.k === 'empty') return sp.emptyRel();
    throw new CatError(`${what} needs a relation, found a ${typeName(v)}`, null);
  };
  const asSet = (v: Value, what: string): Bits => {
    if (v.k === 'set') return v.b;
    if (v.k === 'empty') return sp.emptySet();
    if (v.k === 'unv') return sp.fullSet();
    throw new CatError(`${what} needs an event set, found a ${typeName(v)}`, null);
  };
  const prim = (name: string, fn: (arg: Value) => Value): void => run.setNative(name, { k: 'prim', name, fn });
  prim('domain', (v) => (v.k === 'empty' ? { k: 'set', b: sp.emptySet() } : { k: 'set', b: sp.domain(asRel(v, 'domain')) }));
  prim('range', (v) => (v.k === 'empty' ? { k: 'set', b: sp.emptySet() } : { k: 'set', b: sp.range(asRel(v, 'range')) }));
  const sameValue = (a: number, b: number): boolean => exec.values[a] === exec.values[b];
  prim('different-values', (v) => {
    if (v.k === 'empty') return EMPTY;
    const r = asRel(v, 'different-values');
    return { k: 'rel', b: sp.relOf(sp.pairs(r).filter(([a, b]) => !sameValue(a, b))) };
  });
  prim('same-values', (v) => {
    if (v.k === 'empty') return EMPTY;
    const r = asRel(v, 'same-values');
    return { k: 'rel', b: sp.relOf(sp.pairs(r).filter(([a, b]) => sameValue(a, b))) };
  });
  const classes = (v: Value): Value => {
    const s = asSet(v, 'classes-loc');
    const loc = exec.locs;
    const byLoc = new Map<Val, number[]>();
    for (const i of sp.members(s)) {
      const l = loc[i];
      if (l === undefined) continue;
      const list = byLoc.get(l) ?? [];
      list.push(i);
      byLoc.set(l, list);
    }
    return makeVset([...byLoc.values()].map((list) => ({ k: 'set', b: sp.setOf(list) }) as Value));
  };
  prim('classes-loc', classes);
  prim('partition', classes);
  prim('map', (f) => ({
    k: 'prim',
    name: 'map f',
    fn: (s) => {
      const items: Value[] = [];
      if (s.k === 'set') for (const i of sp.members(s.b)) items.push({ k: 'event', i });
      else if (s.k === 'rel') for (const [a, b] of sp.pairs(s.b)) items.push({ k: 'pair', a, b });
      else {
        const e = elements(s);
        if (!e) throw new CatError(`map over a ${typeName(s)}`, null);
        items.push(...e);
      }
      return makeVset(items.map((x) => applyValue(f, x, G, { file: 'map', line: 0 })));
    },
  }));
  prim('cross', (s) => {
    const e = elements(s);
    if (!e) throw new CatError(`cross needs a set of sets of relations, found a ${typeName(s)}`, null);
    const members = [...e].map((m) => {
      const x = elements(m);
      if (!x) throw new CatError(`cross needs a set of sets of relations, found a set holding a ${typeName(m)}`, null);
      return [...x].map((r) => asRel(r, 'cross'));
    });
    return { k: 'gen', items: () => unions(sp, members) };
  });
  prim('coherence-orders', (arg) => {
    if (arg.k !== 'tuple' || arg.items.length !== 4) throw new CatError('coherence-orders(W, R, rf, co0)', null);
    const [W, R, rf, co0] = arg.items as [Value, Value, Value, Value];
    const w = asSet(W, 'coherence-orders');
    const r = asSet(R, 'coherence-orders');
    const rfb = asRel(rf, 'coherence-orders');
    const base = asRel(co0, 'coherence-orders');
    if (exec.pruned) assertCoversExecution(run, sp, exec.locs, w, r, rfb, base);
    return { k: 'gen', items: () => coherenceOrders(sp, exec.locs, w, r, rfb, base, run, exec.atomicRmw) };
  });
  prim('fromto', () => {
    throw new CatError('fromto is not supported', null);
  });
  prim('linearisations', () => {
    throw new CatError('linearisations is not supported (kreplay enumerates coherence with coherence-orders)', null);
  });
}

/**
 * Coherence pruning (coherence.ts) dropped the reads-from whose forced orders are cyclic,
 * counting on coherence-orders to drop them too: it must see every read, write and
 * reads-from of the test and the initial writes first. A model that gives it less is not
 * judged with pruning it cannot back.
 */
function assertCoversExecution(run: ModelRun, sp: Space, loc: Array<Val | undefined>, W: Bits, R: Bits, rf: Bits, co0: Bits): void {
  const native = (name: string): Bits => {
    const v = run.G[run.model.natives.get(name)!]!;
    return v.k === 'set' || v.k === 'rel' ? v.b : sp.emptySet();
  };
  const covers = (big: Bits, small: Bits): boolean => small.every((word, j) => (word & ~big[j]!) === 0);
  const iw = sp.members(native('IW'));
  const firsts = iw.flatMap((i) =>
    sp
      .members(native('W'))
      .filter((w) => w !== i && loc[w] === loc[i])
      .map((w) => [i, w] as [number, number]),
  );
  if (!covers(W, native('W')) || !covers(R, native('R')) || !covers(rf, native('rf')) || !covers(co0, sp.relOf(firsts))) {
    throw new CatError(
      'coherence-orders was given fewer writes, reads, reads-from or initial-write orders than the test has; kreplay prunes reads-from by coherence and cannot check this model',
      null,
    );
  }
}

/** Every union taking one relation from each list (lazily, first list slowest). */
function* unions(sp: Space, lists: Bits[][]): Generator<Value> {
  if (lists.some((l) => l.length === 0)) return;
  const idx = lists.map(() => 0);
  for (;;) {
    const b = sp.emptyRel();
    lists.forEach((l, k) => {
      const r = l[idx[k]!]!;
      for (let j = 0; j < b.length; j++) b[j]! |= r[j]!;
    });
    yield { k: 'rel', b };
    if (
      !nextCombination(
        idx,
        lists.map((l) => l.length),
      )
    )
      return;
  }
}

/**
 * Coherence orders: for each location, every total order of its writes that contains co0
 * and what coherence forces (w1 po-loc w2; w1 rf r po-loc w2; w1 po-loc r <-rf w2;
 * w1 rf r1 po-loc r2 <-rf w2, for w1 != w2); the cartesian product over locations.
 *
 * With `atomicRmw` (the model checks `empty rmw & (fre ; coe)`), a read-modify-write's
 * write comes right after the write its read reads: a write x between them would be
 * fr-after the read and co-before the write, which that check rejects when x is another
 * thread's, and coherence when it is the same thread's (x po-before the read is forced
 * before the write read, x po-after it after the RMW's write). Two RMWs reading one write
 * then leave no order at all.
 */
function* coherenceOrders(sp: Space, loc: Array<Val | undefined>, W: Bits, R: Bits, rf: Bits, co0: Bits, run: ModelRun, atomicRmw: boolean): Generator<Value> {
  const poRel = run.G[run.model.natives.get('po')!] as Extract<Value, { k: 'rel' }>;
  const po = poRel.b;
  const byLoc = new Map<Val, number[]>();
  for (const w of sp.members(W)) {
    const l = loc[w];
    if (l === undefined) continue;
    const list = byLoc.get(l) ?? [];
    list.push(w);
    byLoc.set(l, list);
  }
  const rfSrc = new Map<number, number[]>(); // read -> writes it reads from
  for (const [w, r] of sp.pairs(rf)) {
    const list = rfSrc.get(r) ?? [];
    list.push(w);
    rfSrc.set(r, list);
  }
  const readers = sp.members(R);
  // write -> the RMW write that must follow it right away
  const successor = new Map<number, number>();
  if (atomicRmw) {
    const native = (name: string): Bits => (run.G[run.model.natives.get(name)!] as Extract<Value, { k: 'rel' }>).b;
    const nativeRf = native('rf');
    for (const [r, w2] of sp.pairs(native('rmw'))) {
      for (let w = 0; w < sp.n; w++) {
        if (!sp.hasPair(nativeRf, w, r) || loc[w] !== loc[w2]) continue;
        if (successor.has(w)) return; // two RMWs read w: both cannot follow it right away
        successor.set(w, w2);
      }
    }
  }
  const perLoc: Array<{ ws: number[]; before: number[][]; next: number[] }> = [];
  for (const [l, ws] of byLoc) {
    const idx = new Map(ws.map((w, k) => [w, k] as const));
    const before: number[][] = ws.map(() => []);
    let selfLoop = false;
    const add = (a: number, b: number): void => {
      const ia = idx.get(a);
      const ib = idx.get(b);
      if (ia === undefined || ib === undefined) return;
      // a write forced before itself (it is read by a po-earlier read): no order is coherent
      if (ia === ib) selfLoop = true;
      else before[ib]!.push(ia);
    };
    const samePoLoc = (a: number, b: number): boolean => sp.hasPair(po, a, b) && loc[a] === loc[b];
    for (const a of ws) {
      for (const b of ws) {
        if (sp.hasPair(co0, a, b)) add(a, b);
        if (samePoLoc(a, b)) add(a, b);
      }
    }
    const rs = readers.filter((r) => loc[r] === l);
    for (const r of rs) {
      const srcs = rfSrc.get(r) ?? [];
      for (const b of ws) {
        if (samePoLoc(r, b)) for (const w of srcs) add(w, b); // w rf r po-loc b
        if (samePoLoc(b, r)) for (const w of srcs) if (w !== b) add(b, w); // b po-loc r, r reads w
      }
      for (const r2 of rs) {
        if (!samePoLoc(r, r2)) continue;
        for (const w1 of srcs) for (const w2 of rfSrc.get(r2) ?? []) if (w1 !== w2) add(w1, w2);
      }
    }
    const next = ws.map(() => -1);
    for (const [w, w2] of successor) {
      const iw = idx.get(w);
      const iw2 = idx.get(w2);
      if (iw === undefined || iw2 === undefined) continue;
      next[iw] = iw2;
      add(w, w2);
    }
    if (selfLoop) return;
    perLoc.push({ ws, before, next });
  }
  // one location after the other, each location's orders enumerated lazily (a lock with
  // many lockers has factorially many)
  const acc = sp.emptyRel();
  function* product(k: number): Generator<Value> {
    if (k === perLoc.length) {
      yield { k: 'rel', b: acc.slice() };
      return;
    }
    for (const order of linearExtensions(sp, perLoc[k]!.ws, perLoc[k]!.before, perLoc[k]!.next)) {
      const saved = acc.slice();
      for (let j = 0; j < acc.length; j++) acc[j]! |= order[j]!;
      yield* product(k + 1);
      acc.set(saved);
    }
  }
  yield* product(0);
}

/**
 * Total orders (as strict relations) of ws in which every before[k] precedes ws[k] and
 * ws[next[k]] (when not -1) comes right after ws[k], built in place: placing a write adds
 * the edges from every write placed before it.
 */
function* linearExtensions(sp: Space, ws: number[], before: number[][], next: number[]): Generator<Bits> {
  const m = ws.length;
  const w = sp.w;
  const placed = new Array<boolean>(m).fill(false);
  const order = sp.emptyRel();
  let count = 0;
  const ready = (k: number): boolean => {
    if (placed[k]) return false;
    for (const p of before[k]!) if (!placed[p]) return false;
    return true;
  };
  let last = -1;
  function* go(): Generator<Bits> {
    if (count === m) {
      yield order.slice();
      return;
    }
    const forced = last >= 0 ? next[last]! : -1;
    for (let k = 0; k < m; k++) {
      if (!ready(k) || (forced >= 0 && k !== forced)) continue;
      const e = ws[k]!;
      const word = e >>> 5;
      const bit = 1 << (e & 31);
      // every write placed so far comes before e
      for (let j = 0; j < m; j++) if (placed[j]) order[ws[j]! * w + word]! |= bit;
      placed[k] = true;
      count++;
      const prev = last;
      last = k;
      yield* go();
      last = prev;
      count--;
      placed[k] = false;
      for (let j = 0; j < m; j++) if (placed[j]) order[ws[j]! * w + word]! &= ~bit;
    }
  }
  yield* go();
}

function runExecutions(
  ctx: Ctx,
  run: ModelRun,
  sp: Space,
  events: GEvent[],
  paths: ThreadPath[],
  pathOffset: number[],
  rf: Int32Array,
  exec: ExecState,
  readVals: Array<Val | undefined>,
  dynamicLoc: boolean,
): void {
  const { test } = ctx;
  const loc = exec.locs;
  const evVals = exec.values;
  const n = events.length;
  const rfPairs: Array<[number, number]> = [];
  for (let r = 0; r < n; r++) if (rf[r]! >= 0) rfPairs.push([rf[r]!, r]);
  run.setNative('rf', { k: 'rel', b: sp.relOf(rfPairs) });
  if (dynamicLoc) setLoc(run, sp, loc);

  // final writes: for each observed location, one of its writes (the initial one only if it has no other)
  const finalChoices = ctx.observedLocs.map((name) => {
    const ws = events.flatMap((e, i) => (e.kind === 'W' && loc[i] === name ? [i] : []));
    const real = ws.filter((i) => events[i]!.thread >= 0);
    return { name, ws: real.length > 0 ? real : ws };
  });
  const regValue = (thread: number, name: string): Val => {
    const sym = paths[thread]!.regs.get(name);
    if (!sym) return 0;
    const v = evalSym(sym, readVals, pathOffset[thread]!);
    if (v === undefined) throw new Error(`internal: register ${thread}:${name} unsolved`);
    return v;
  };
  const idx = finalChoices.map(() => 0);
  let evaluated = false;
  for (;;) {
    const finals = new Map<string, Val>();
    const fw: number[] = [];
    finalChoices.forEach((f, k) => {
      const w = f.ws[idx[k]!]!;
      fw.push(w);
      finals.set(f.name, evVals[w]!);
    });
    const get = (r: StateRef): Val => (r.thread === null ? (finals.get(r.name) ?? ctx.locs.get(r.name) ?? 0) : regValue(r.thread, r.name));
    if (!test.filter || evalProp(test.filter, get)) {
      run.setNative('FW', { k: 'set', b: sp.setOf(fw) });
      const holds = evalProp(test.condition.prop, get);
      const state = ctx.displayed.map((r): StateBinding => {
        const v = get(r);
        return isSymbolic(v) ? { ref: refText(r), value: valText(v), symbolic: true } : { ref: refText(r), value: valText(v) };
      });
      const key = state.map((s) => `${s.ref}=${s.value}`).join(';');
      run.bump(evaluated ? LEVEL_FINAL : LEVEL_RF);
      const failedAt = guardCat(
        () =>
          run.run({
            tick: () => {
              if (ctx.deadline !== undefined && performance.now() > ctx.deadline) throw new CheckTimeout(ctx.timeoutMs);
            },
            accept: (_G, flags) => {
              ctx.out.executions++;
              if (holds) ctx.out.pos++;
              else ctx.out.neg++;
              if (!ctx.out.states.has(key)) ctx.out.states.set(key, state);
              for (const f of flags) ctx.out.flags.add(f);
            },
          }),
        test,
      );
      evaluated = true;
      if (failedAt < LEVEL_FINAL) return; // a check on rf alone failed: no final write can help
    }
    if (
      !nextCombination(
        idx,
        finalChoices.map((f) => f.ws.length),
      )
    )
      return;
  }
}

export { symReads };
