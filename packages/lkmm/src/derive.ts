/**
 * Litmus tests derived from a model scenario (`kreplay explore --memory-model lkmm`).
 *
 * The step programs mark the accesses that matter for ordering with their LKMM kind
 * (core's `Access.lkmm`: the primitive the kernel code uses, the value, the fences around
 * it, the source line). For every pair of threads this module runs the scenario's machine
 * serially — each thread alone from the initial state ("first"), and each thread after the
 * other has finished ("after") — and records the marked accesses each thread makes. Two
 * outcomes that no serial order gives are then asked of the memory model:
 *
 * - `first`: both threads read exactly what they read when each runs first (neither sees
 *   the other's stores: the store-buffering shape);
 * - `after`: both threads read exactly what they read when each runs last (each sees all of
 *   the other's stores: the load-buffering shape).
 *
 * Why a verdict on such a test is about the kernel code: a thread's step program is
 * deterministic given the values its reads return, so an execution in which every read
 * returns the value it returned in the serial run follows the same path and makes the same
 * stores — the straight-line litmus test IS that path. A pair gets no test unless every
 * location both threads touch (one of them storing) is marked in every access, so every
 * communication is in the test. What the test adds only orders more than the code: every
 * read guards the rest of its thread (`if (r == v) {`: every later store control-dependent
 * on every earlier read), and a step with unmarked accesses becomes smp_mb() (an unmarked
 * lock hand-off or fully ordered RMW orders at most that much). So an outcome the kernel's
 * model allows on the test and the SC model forbids is one the kernel code reaches under the
 * LKMM and not under SC. The converse is not claimed (the extra ordering may be what forbids
 * it; outcomes in which a thread reads values no serial run gives it are not derived), so
 * "no LKMM-only outcome" is never "clean".
 */
import type { Access, LkmmAccess, Machine, StepInfo } from '@kreplay/core';
import { MAX_NESTING } from './litmus/parse.js';

export interface DeriveOptions {
  /** Scenario name (part of each test's name). */
  scenario: string;
  /** Flavor name (recorded in each test's header). */
  flavor: string;
  /** Steps a thread may take in one serial run before it counts as not finishing (default 500). */
  maxSteps?: number;
}

/** One thread's serial run: its marked accesses in order, and the locations it touched without a mark. */
interface ThreadRun {
  /** Marked accesses, and `fence` entries where the thread made unmarked accesses between them. */
  path: PathEntry[];
  /** Every location the thread touched (marked or not), with whether it wrote it. */
  touched: Map<string, { write: boolean; unmarked: boolean }>;
  /** Where the thread allocated a page (the model names pages by allocation order, so a serial run's names are not the other run's). */
  allocates?: string;
}

/** Where a step made unmarked accesses: they may order (a lock hand-off, a fully ordered RMW), so the test gets smp_mb(). */
interface UnmarkedFence {
  fence: true;
}
type PathEntry = PathAccess | UnmarkedFence;
const isFence = (e: PathEntry): e is UnmarkedFence => 'fence' in e;

/** A marked access as one thread made it in a serial run. */
export interface PathAccess {
  /** The memory word (the mark's `word`, else the model's location). */
  loc: string;
  mode: Access['mode'];
  lkmm: LkmmAccess;
  /** The step's label, for the test's header. */
  step: string;
  /** The step's number in the thread's run: accesses of one step under one lock share a critical section. */
  stepNo: number;
}

export type Shape = 'first' | 'after';

export interface DerivedLitmus {
  /** `kreplay-<scenario>-<T0>-<T1>-first` (a valid litmus name). */
  name: string;
  /** The two threads (ids in the scenario), in the test's P0, P1 order. */
  threads: [number, number];
  shape: Shape;
  /** The C litmus test, runnable by herd7 unchanged (`herd7 -conf linux-kernel.cfg FILE`). */
  text: string;
}

export interface DeriveResult {
  tests: DerivedLitmus[];
  /** Pairs or threads without a test, and why (a thread that blocks alone, no conflicting marked accesses, ...). */
  skipped: string[];
}

export function deriveLitmus(m: Machine, opts: DeriveOptions): DeriveResult {
  const maxSteps = opts.maxSteps ?? 500;
  const runs = new Map<string, Map<number, ThreadRun> | string>();
  const serial = (order: number[]): Map<number, ThreadRun> | string => {
    const key = order.join(',');
    let r = runs.get(key);
    if (r === undefined) runs.set(key, (r = runSerial(m, order, maxSteps)));
    return r;
  };
  const tests: DerivedLitmus[] = [];
  const skipped: string[] = [];
  const name = (t: number): string => m.threads[t]!.name;
  // a daemon (ThreadInfo.daemon: mm-model's end_io) is no thread of a test: its steps run in the serial runs of the
  // threads it serves (runSerial)
  const daemon = (t: number): boolean => m.threads[t]!.daemon === true;
  for (let i = 0; i < m.threads.length; i++) {
    if (daemon(i)) continue;
    for (let j = i + 1; j < m.threads.length; j++) {
      if (daemon(j)) continue;
      for (const shape of ['first', 'after'] as const) {
        const ri = serial(shape === 'first' ? [i] : [j, i]);
        const rj = serial(shape === 'first' ? [j] : [i, j]);
        const failed = [ri, rj].find((r): r is string => typeof r === 'string');
        if (failed !== undefined) {
          skipped.push(`${name(i)} + ${name(j)} (${shape}): ${failed}`);
          continue;
        }
        const ti = (ri as Map<number, ThreadRun>).get(i)!;
        const tj = (rj as Map<number, ThreadRun>).get(j)!;
        // a location both threads touch, one of them writing, must be marked wherever it is
        // touched: an unmarked one would lose a store or a lock's exclusion from the test
        const unmarked = sharedUnmarked(ti, tj);
        if (unmarked.length > 0) {
          skipped.push(`${name(i)} + ${name(j)} (${shape}): ${unmarked.join(', ')} shared but not marked in every access`);
          continue;
        }
        const alloc = [ti, tj].map((t, k) => (t.allocates ? `${name(k === 0 ? i : j)} allocates a page (${t.allocates})` : '')).filter(Boolean);
        if (alloc.length > 0) {
          // the model numbers new pages in allocation order within one run: the two serial runs
          // may give two different pages one name (or one page two), so the test would not be the code
          skipped.push(`${name(i)} + ${name(j)} (${shape}): ${alloc.join('; ')}: a new page's name depends on the serial run, not derived`);
          continue;
        }
        const a = ti.path;
        const b = tj.path;
        if (!readsWhatOtherWrites(a, b) || !readsWhatOtherWrites(b, a)) {
          skipped.push(`${name(i)} + ${name(j)} (${shape}): the marked accesses do not conflict both ways, so every outcome is a serial one`);
          continue;
        }
        // every read guards the rest of its thread: an if and its block per read, which the
        // litmus reader takes up to MAX_NESTING levels deep
        const reads = (p: readonly PathEntry[]): number => p.filter((e) => !isFence(e) && isRead(e)).length;
        const guards = Math.max(reads(a), reads(b));
        if (2 * guards + 8 > MAX_NESTING) {
          skipped.push(
            `${name(i)} + ${name(j)} (${shape}): ${guards} reads in one thread, each guarding the rest, nest deeper than the litmus reader takes (${MAX_NESTING} levels), not derived`,
          );
          continue;
        }
        const testName = litmusName(`kreplay-${opts.scenario}-${name(i)}-${name(j)}-${shape}`);
        tests.push({
          name: testName,
          threads: [i, j],
          shape,
          text: litmusText(testName, [a, b], [name(i), name(j)], shape, opts, initialValues(serial([i]), serial([j]), i, j)),
        });
      }
    }
  }
  return { tests, skipped };
}

/**
 * Thread by thread in `order`, each to its end; the marked accesses each made, or why the run failed. A daemon thread
 * (ThreadInfo.daemon: the I/O completion of reads in flight) steps as soon as it can, before the thread goes on and
 * after it finishes, and its accesses count as that thread's: the completion of the thread's I/O at once, the path the
 * model took before the completion was a thread of its own (session 44), ordered after the thread's steps before it
 * (over-ordered, as the fences around unmarked steps: at least as much as the code).
 */
function runSerial(m: Machine, order: number[], maxSteps: number): Map<number, ThreadRun> | string {
  let s = m.initial();
  const daemons = m.threads.filter((th) => th.daemon === true).map((th) => th.id);
  /** The thread to step for t: a daemon that can step, else t; null when neither can. */
  const mover = (t: number): { u: number; info: StepInfo } | null => {
    for (const d of daemons) {
      const info = m.next(s, d);
      if (info?.enabled) return { u: d, info };
    }
    const own = m.next(s, t);
    return own?.enabled ? { u: t, info: own } : null;
  };
  const out = new Map<number, ThreadRun>();
  const how =
    order.length === 1
      ? 'alone'
      : `after ${order
          .slice(0, -1)
          .map((t) => m.threads[t]!.name)
          .join(', ')}`;
  for (const t of order) {
    const acc: PathEntry[] = [];
    const touched = new Map<string, { write: boolean; unmarked: boolean }>();
    let allocates: string | undefined;
    for (let n = 0; ; n++) {
      const next = mover(t);
      if (next === null) {
        const own = m.next(s, t);
        if (own === null) break;
        return `${m.threads[t]!.name} blocks when it runs ${how} (${own.blockedOn ?? 'blocked'})`;
      }
      const { u, info } = next;
      if (n >= maxSteps) return `${m.threads[t]!.name} does not finish within ${maxSteps} steps when it runs ${how}`;
      const unmarkedHere = info.accesses.some((a) => !a.lkmm);
      // over-order rather than under-order: smp_mb() on both sides of a step with unmarked accesses
      if (unmarkedHere) pushFence(acc);
      for (const a of info.accesses) {
        const seen = touched.get(a.loc) ?? { write: false, unmarked: false };
        touched.set(a.loc, { write: seen.write || a.mode === 'write', unmarked: seen.unmarked || !a.lkmm });
        if (a.lkmm?.op === 'alloc') allocates ??= info.label;
        // a ghost is no memory access of the kernel (a judgement's read, a lock carried by `under`)
        if (a.lkmm && a.lkmm.op !== 'ghost' && a.lkmm.op !== 'alloc')
          acc.push({ loc: a.lkmm.word ?? a.loc, mode: a.mode, lkmm: a.lkmm, step: info.label, stepNo: n });
      }
      if (unmarkedHere) pushFence(acc);
      s = m.step(s, u).state;
    }
    // fences before the first or after the last marked access order nothing in the test
    while (acc.length > 0 && isFence(acc[0]!)) acc.shift();
    while (acc.length > 0 && isFence(acc[acc.length - 1]!)) acc.pop();
    out.set(t, allocates === undefined ? { path: acc, touched } : { path: acc, touched, allocates });
  }
  return out;
}

const isLock = (a: PathAccess): boolean => a.lkmm.op === 'spin_lock' || a.lkmm.op === 'spin_unlock' || a.lkmm.op === 'spin_is_locked';
const READS = new Set<LkmmAccess['op']>([
  'spin_is_locked',
  'plain-read',
  'plain-inc',
  'plain-dec',
  'xchg',
  'READ_ONCE',
  'smp_load_acquire',
  'atomic_read',
  'atomic_inc_return',
  'atomic_dec_return',
]);
const isRead = (a: PathAccess): boolean => READS.has(a.lkmm.op);
const isWrite = (a: PathAccess): boolean =>
  !isLock(a) && a.lkmm.op !== 'atomic_read' && a.lkmm.op !== 'READ_ONCE' && a.lkmm.op !== 'plain-read' && a.lkmm.op !== 'smp_load_acquire';
/** Read-modify-writes whose value is the one before, and that the test does not condition on. */
const isBlindRmw = (a: PathAccess): boolean => a.lkmm.op === 'atomic_inc' || a.lkmm.op === 'atomic_dec' || a.lkmm.op === 'set_bit' || a.lkmm.op === 'clear_bit';

function pushFence(path: PathEntry[]): void {
  if (path.length === 0 || !isFence(path[path.length - 1]!)) path.push({ fence: true });
}

function sharedUnmarked(x: ThreadRun, y: ThreadRun): string[] {
  const out: string[] = [];
  for (const [loc, u] of x.touched) {
    const v = y.touched.get(loc);
    if (v && (u.write || v.write) && (u.unmarked || v.unmarked)) out.push(loc);
  }
  return out.sort();
}

const accesses = (path: PathEntry[]): PathAccess[] => path.filter((e): e is PathAccess => !isFence(e));

function readsWhatOtherWrites(reader: PathEntry[], writer: PathEntry[]): boolean {
  const written = new Set(
    accesses(writer)
      .filter(isWrite)
      .map((a) => a.loc),
  );
  return accesses(reader).some((a) => isRead(a) && written.has(a.loc));
}

/** Each location's value in the initial state: what the first marked read or RMW of it saw in a thread's run alone. */
function initialValues(ri: Map<number, ThreadRun> | string, rj: Map<number, ThreadRun> | string, i: number, j: number): Map<string, number> {
  const init = new Map<string, number>();
  const seen = new Set<string>();
  for (const path of [typeof ri === 'string' ? [] : accesses(ri.get(i)!.path), typeof rj === 'string' ? [] : accesses(rj.get(j)!.path)]) {
    seen.clear();
    for (const a of path) {
      if (isLock(a) || seen.has(a.loc)) continue;
      seen.add(a.loc);
      if (isRead(a) || isBlindRmw(a)) {
        if (!init.has(a.loc)) init.set(a.loc, a.lkmm.value);
      }
    }
  }
  return init;
}

function litmusName(s: string): string {
  return s.replace(/[^A-Za-z0-9_+.-]/g, '_');
}

/** A C identifier for a location name (`M0.seqschedlock.writers` → `M0_seqschedlock_writers`). */
function identifiers(locs: string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const loc of locs) {
    let id = loc.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z_]/.test(id)) id = `l_${id}`;
    let k = id;
    for (let n = 2; used.has(k); n++) k = `${id}_${n}`;
    used.add(k);
    ids.set(loc, k);
  }
  return ids;
}

/** The value a read's register holds when the thread reads what it read in the serial run. */
function expected(a: PathAccess): number {
  if (a.lkmm.op === 'atomic_inc_return') return a.lkmm.value + 1;
  if (a.lkmm.op === 'atomic_dec_return') return a.lkmm.value - 1;
  return a.lkmm.value;
}

function statement(a: PathAccess, x: string, reg: string | undefined): string {
  const v = a.lkmm.value;
  switch (a.lkmm.op) {
    case 'plain-read':
      return `${reg} = *${x};`;
    case 'READ_ONCE':
      return `${reg} = READ_ONCE(*${x});`;
    case 'smp_load_acquire':
      return `${reg} = smp_load_acquire(${x});`;
    case 'atomic_read':
      return `${reg} = atomic_read(${x});`;
    case 'atomic_inc_return':
      return `${reg} = atomic_inc_return(${x});`;
    case 'atomic_dec_return':
      return `${reg} = atomic_dec_return(${x});`;
    case 'plain-inc':
    case 'plain-dec':
      return `${reg} = *${x};`; // the store follows, under the read's guard
    case 'plain-write':
      return `*${x} = ${v};`;
    case 'WRITE_ONCE':
      return `WRITE_ONCE(*${x}, ${v});`;
    case 'smp_store_release':
      return `smp_store_release(${x}, ${v});`;
    case 'atomic_set':
      return `atomic_set(${x}, ${v});`;
    case 'atomic_inc':
      return `atomic_inc(${x});`;
    case 'atomic_dec':
      return `atomic_dec(${x});`;
    case 'spin_lock':
      return `spin_lock(${x});`;
    case 'spin_unlock':
      return `spin_unlock(${x});`;
    case 'spin_is_locked':
      return `${reg} = spin_is_locked(${x});`;
    case 'xchg':
      return `${reg} = xchg(${x}, 0);`;
    // one flag as one int: set_bit()/clear_bit() are unordered RMWs storing 1 / 0
    // (herd7 takes a value-returning primitive only as an expression: its value goes to a register no condition reads)
    case 'set_bit':
      return `${reg} = atomic_xchg_relaxed(${x}, 1);`;
    case 'clear_bit':
      return `${reg} = atomic_xchg_relaxed(${x}, 0);`;
    case 'ghost':
    case 'alloc':
      throw new Error(`internal: a ${a.lkmm.op} mark is never in a derived test`);
  }
}

function litmusText(
  name: string,
  entries: [PathEntry[], PathEntry[]],
  threadNames: [string, string],
  shape: Shape,
  opts: DeriveOptions,
  init: Map<string, number>,
): string {
  const paths = entries.map(accesses);
  const underOf = (a: PathAccess): string[] => (a.lkmm.under === undefined ? [] : [a.lkmm.under]);
  const locs = [...new Set(paths.flatMap((p) => p.flatMap((a) => [a.loc, ...underOf(a)])))].sort();
  const ids = identifiers(locs);
  const lockLocs = new Set(paths.flatMap((p) => [...p.filter(isLock).map((a) => a.loc), ...p.flatMap(underOf)]));
  const header: string[] = [
    `C ${name}`,
    '',
    '(*',
    ` * Derived by kreplay explore --memory-model lkmm: scenario ${opts.scenario}, flavor ${opts.flavor}.`,
    ` * P0 is ${threadNames[0]}, P1 is ${threadNames[1]}, each on the path it takes when it runs ${shape === 'first' ? 'first (alone)' : 'after the other has finished'}.`,
    ` * The condition: both read exactly what they read then, an outcome no serial order gives.`,
    ' * Every read guards the rest of its thread (if (r == v)): the kernel code has at most these dependencies.',
    " * Values are the model's (page mapcount = _mapcount + 1).",
    ' *',
  ];
  const body: string[] = [];
  const cond: string[] = [];
  entries.forEach((entry, p) => {
    const path = accesses(entry);
    const used = [...new Set(path.flatMap((a) => [a.loc, ...underOf(a)]))].sort();
    const params = used.map((l) => `${lockLocs.has(l) ? 'spinlock_t' : 'int'} *${ids.get(l)!}`);
    const regs: string[] = [];
    const lines: string[] = [];
    let depth = 1;
    const pad = (): string => '\t'.repeat(depth);
    // a guard opens only when a statement follows it (herd7 rejects an empty block)
    const pending: string[] = [];
    const emit = (line: string): void => {
      for (const g of pending.splice(0)) {
        lines.push(`${pad()}${g}`);
        depth++;
      }
      lines.push(`${pad()}${line}`);
    };
    // the critical section of a lock the model folds into one step (`under`): open across the
    // step's consecutive accesses under that lock, closed before anything else
    let held: { lock: string; stepNo: number } | null = null;
    const close = (): void => {
      if (held) emit(`spin_unlock(${ids.get(held.lock)!});`);
      held = null;
    };
    entry.forEach((a) => {
      if (isFence(a)) {
        close();
        emit('smp_mb(); /* unmarked accesses here */');
        return;
      }
      if (held && (held.lock !== a.lkmm.under || held.stepNo !== a.stepNo)) close();
      if (!held && a.lkmm.under !== undefined) {
        emit(`spin_lock(${ids.get(a.lkmm.under)!});`);
        held = { lock: a.lkmm.under, stepNo: a.stepNo };
      }
      for (const f of a.lkmm.before ?? []) emit(`${f}();`);
      const reg = isRead(a) || a.lkmm.op === 'set_bit' || a.lkmm.op === 'clear_bit' ? `r${regs.length}` : undefined;
      if (reg) regs.push(reg);
      emit(statement(a, ids.get(a.loc)!, reg));
      // herd7's (* comments *) nest: no "(*" inside the header
      header.push(` * P${p} ${statement(a, ids.get(a.loc)!, reg).replaceAll('(*', '( *')}  ${a.lkmm.cite.replaceAll('(*', '( *').replaceAll('*)', '* )')}`);
      if (reg && isRead(a)) {
        cond.push(`${p}:${reg}=${expected(a)}`);
        pending.push(`if (${reg} == ${expected(a)}) {`);
      }
      if (a.lkmm.op === 'plain-inc') emit(`*${ids.get(a.loc)!} = ${a.lkmm.value + 1};`);
      if (a.lkmm.op === 'plain-dec') emit(`*${ids.get(a.loc)!} = ${a.lkmm.value - 1};`);
      // an address dependency (a pointer loaded, then dereferenced) orders the load before the
      // accesses through it; smp_rmb() orders it before every later load, and the guard above
      // every later store: at least as much
      if (a.lkmm.addr) emit('smp_rmb(); /* address dependency */');
      for (const f of a.lkmm.after ?? []) emit(`${f}();`);
    });
    close();
    while (depth > 1) {
      depth--;
      lines.push(`${pad()}}`);
    }
    body.push(`P${p}(${params.join(', ')})`, '{', ...regs.map((r) => `\tint ${r};`), ...(regs.length ? [''] : []), ...lines, '}', '');
  });
  header.push(' *)', '');
  const initLine = locs
    .filter((l) => !lockLocs.has(l))
    .map((l) => `${ids.get(l)!}=${init.get(l) ?? 0};`)
    .join(' ');
  return [...header, `{ ${initLine} }`, '', ...body, `exists (${cond.join(' /\\ ')})`, ''].join('\n');
}
