/**
 * Timestamp ties. Events on two CPUs that print the same time (a `sec.usec` clock prints
 * microseconds; many events fit in one) have no order the trace can show: the kernel may
 * have run them either way. Replay treats them as concurrent:
 *
 * 1. A *group* is the events the sorter replays in a row with one timestamp, from at least
 *    two CPUs. Each CPU's own events keep their order (one ring buffer per CPU). Under
 *    `--clock-skew N` (clocks.ts) a group is the events in a row each at most N after the
 *    one before it: CPUs' clocks that may disagree by N leave that much of the order open.
 * 2. The group is split into *sets* of events that can affect one another: two events are
 *    in one set when they touch the same page (its pfn, the page in a cache slot they touch,
 *    the page whose PTE they replace), the same cache slot, the same PTE or the same task
 *    (open calls); and an invalidate's return, which judges every removed-but-mapped page of
 *    its file, is in one set with every event that changes a page of that file. Events in
 *    different sets commute.
 * 3. For a set on two or more CPUs, every interleaving of its CPUs' events is tried on the
 *    live state and undone (Snapshot): the findings each order raises, and the state it
 *    leaves, are compared. At most MAX_TIE_ORDERS orders per set; a set with more is
 *    replayed in input order, every finding it raises is uncertain and its pages' facts are
 *    marked unsure.
 * 4. The order replayed for real is the one with the fewest findings (input order first
 *    among equals: tracefs merges the per-CPU buffers by the kernel's nanosecond clock). A
 *    finding is certain, as far as ties go, only when every order raises it (same rule,
 *    same breaking event, same page); one that some order avoids is uncertain; when some
 *    order is clean the clean one is replayed and nothing is reported.
 * 5. A page whose facts (in the cache? as which file and index? how many PTEs?) differ
 *    between the orders is marked unsure from then on, until the trace re-establishes the
 *    fact (certainty.ts), so later findings that rest on the order are uncertain too. When
 *    the orders leave a task's open calls different, the set's CPUs get a gap.
 *
 * The search is bounded by the group, not by the trace: only ties are searched, each set
 * once, and its state is saved and restored entry by entry (pages, cache slots, PTEs,
 * tasks), never copied whole.
 */
import type { MmOp, RuleId, TraceEvent } from '@kreplay/core';
import { formatTimestamp } from '@kreplay/ftrace-parser';
import type { Note } from './certainty.js';
import { MAX_ORDER, copyCounters, type EngineCounters, type ReplayEngine } from './engine.js';
import type { Draft } from './explain.js';
import type { FileState, PageRec, PromiseKey, Promise_, Shadow, TaskState } from './shadow.js';

/** Orders tried at most per set of tied events that touch the same things. */
export const MAX_TIE_ORDERS = 4096;

export interface TieStats {
  /** Groups of events from two or more CPUs that print one timestamp. */
  groups: number;
  /** Sets of tied events on two or more CPUs that touch the same page, file or task: their orders were tried. */
  searched: number;
  /** Orders tried, in all. */
  orders: number;
  /** Sets with more than MAX_TIE_ORDERS orders: replayed in input order, their findings uncertain. */
  unsearched: number;
  /** Sets where some order raised findings and another was clean: the clean order was replayed. */
  cleanOrderChosen: number;
  /** Findings that are uncertain because some order of tied events does not raise them. */
  uncertainFindings: number;
}

export function emptyTieStats(): TieStats {
  return { groups: 0, searched: 0, orders: 0, unsearched: 0, cleanOrderChosen: 0, uncertainFindings: 0 };
}

/** What one op may read or change, beyond itself. */
interface Touch {
  /** Things that make two ops conflict when both name them: pages, slots, PTEs, tasks. */
  keys: string[];
  /** Files whose pages it changes, and files whose removed-but-mapped pages it judges (invalidate_end). */
  writes: FileState[];
  reads: FileState[];
  pfns: number[];
  recs: PageRec[];
  files: FileState[];
  slots: Array<[FileState, number]>;
  pteKeys: string[];
  pids: number[];
  /** Op objects it may change (it, and the task's previous op, which a nested probe merges into). */
  ops: MmOp[];
}

function touchOf(sh: Shadow, op: MmOp): Touch {
  const ev = op.event!;
  const t: Touch = { keys: [`t:${ev.pid}`], writes: [], reads: [], pfns: [], recs: [], files: [], slots: [], pteKeys: [], pids: [ev.pid], ops: [op] };
  const addFile = (f: FileState, how: 'writes' | 'reads' = 'writes') => {
    if (!t.files.includes(f)) t.files.push(f);
    if (!t[how].includes(f)) t[how].push(f);
  };
  const addRec = (rec: PageRec | undefined) => {
    if (!rec || t.recs.includes(rec)) return;
    t.recs.push(rec);
    t.pfns.push(Number(rec.pfn));
    t.keys.push(`p:${rec.pfn}`);
    if (rec.file) {
      addFile(rec.file);
      if (rec.index !== undefined) {
        t.slots.push([rec.file, rec.index]);
        t.keys.push(`s:${rec.file.key}:${rec.index}`);
      }
    }
  };
  const addPfn = (pfn: bigint) => {
    t.pfns.push(Number(pfn));
    t.keys.push(`p:${pfn}`);
    addRec(sh.page(pfn));
  };
  const addSlot = (f: FileState, index: number) => {
    t.slots.push([f, index]);
    t.keys.push(`s:${f.key}:${index}`);
    addRec(f.cache.get(index));
  };
  const task = sh.tasks.get(ev.pid);
  if (task?.last) t.ops.push(task.last);
  switch (op.kind) {
    case 'cache_add':
    case 'cache_delete': {
      const f = sh.file(op.file);
      addFile(f);
      const n = 1 << Math.min(Math.max(op.order, 0), MAX_ORDER);
      for (let j = 0; j < n; j++) {
        addPfn(op.pfn + BigInt(j));
        addSlot(f, op.index + j);
      }
      break;
    }
    case 'pte_map':
    case 'pte_unmap': {
      addPfn(op.pfn);
      if (op.file) {
        const f = sh.file(op.file);
        addFile(f);
        if (op.index !== undefined) addSlot(f, op.index);
      }
      if (op.address !== undefined) {
        const key = sh.pteKey(ev, op.address);
        t.pteKeys.push(key);
        t.keys.push(`a:${key}`);
        addRec(sh.pteAt(key));
        // the address space is the thread group's: whether its leader's pid exited (task_exit) matters to it (Shadow.mapped)
        if (ev.tgid !== undefined && ev.tgid !== ev.pid) t.keys.push(`t:${ev.tgid}`);
        // no thread group named: another pid's PTE at this address may be in the same address space (Shadow.otherThreadsAt)
        if (ev.tgid === undefined || sh.tgidLessMapped) {
          t.keys.push(`x:${op.address}`);
          for (const rec of sh.otherThreadsAt(op.address, ev)) addRec(rec);
        }
      }
      break;
    }
    case 'invalidate_begin':
      // its return will judge and promise this file (the return may be in the same group)
      if (op.file) addFile(sh.file(op.file), 'reads');
      break;
    default:
      break; // other entries, returns, markers and exits change only their task
  }
  // a return closes the task's open call; an invalidate's return judges (and promises) the file that call named
  if (task && op.kind === 'invalidate_end') for (const c of task.calls.values()) if ('file' in c.op && c.op.file) addFile(sh.file(c.op.file), 'reads');
  return t;
}

/** The sets of ops that touch the same things, each in input order; sets in order of their first op. */
function sets(touches: Touch[]): number[][] {
  const parent = touches.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const union = (a: number, b: number) => {
    parent[find(a)] = find(b);
  };
  const owner = new Map<string, number>();
  touches.forEach((t, i) => {
    for (const k of t.keys) {
      const o = owner.get(k);
      if (o === undefined) owner.set(k, i);
      else union(i, o);
    }
  });
  // a file judged by an invalidate's return: its judge and everything that changes its pages
  const readers = new Map<FileState, number>();
  touches.forEach((t, i) => {
    for (const f of t.reads) {
      const o = readers.get(f);
      if (o === undefined) readers.set(f, i);
      else union(i, o);
    }
  });
  if (readers.size)
    touches.forEach((t, i) => {
      for (const f of t.writes) {
        const o = readers.get(f);
        if (o !== undefined) union(i, o);
      }
    });
  const byRoot = new Map<number, number[]>();
  touches.forEach((_, i) => {
    const r = find(i);
    const list = byRoot.get(r);
    if (list) list.push(i);
    else byRoot.set(r, [i]);
  });
  return [...byRoot.values()].sort((a, b) => a[0]! - b[0]!);
}

/**
 * Interleavings of the lanes (each lane's order kept), up to `cap`; undefined when there are more.
 * With `skew` (`--clock-skew`), only the orders clocks that far apart allow: an op may run before
 * another CPU's op printed at most `skew` before it, never before one printed earlier still.
 */
export function interleavings<T>(lanes: readonly (readonly T[])[], cap: number, skew?: { ts: (x: T) => bigint; by: bigint }): T[][] | undefined {
  let total = 0;
  let count = 1;
  for (const lane of lanes) {
    for (let i = 1; i <= lane.length; i++) {
      total++;
      count = (count * total) / i;
      // the multinomial count first, so a huge set of ties is never enumerated (under a skew the
      // orders are fewer than it counts: they are counted as they are made)
      if (!skew && count > cap + 0.5) return undefined;
    }
  }
  const out: T[][] = [];
  const pos = lanes.map(() => 0);
  const cur: T[] = [];
  const walk = (): boolean => {
    if (cur.length === total) {
      out.push([...cur]);
      return out.length <= cap;
    }
    let earliest: bigint | undefined;
    if (skew)
      for (let l = 0; l < lanes.length; l++) {
        if (pos[l]! >= lanes[l]!.length) continue;
        const t = skew.ts(lanes[l]![pos[l]!]!);
        if (earliest === undefined || t < earliest) earliest = t;
      }
    for (let l = 0; l < lanes.length; l++) {
      if (pos[l]! >= lanes[l]!.length) continue;
      const next = lanes[l]![pos[l]!]!;
      if (skew && skew.ts(next) > earliest! + skew.by) continue;
      cur.push(next);
      pos[l]!++;
      const more = walk();
      pos[l]!--;
      cur.pop();
      if (!more) return false;
    }
    return true;
  };
  return walk() ? out : undefined;
}

interface RecCopy {
  fields: PageRec;
  maps: PageRec['maps'];
  cpus: number[];
}
interface TaskCopy {
  task: TaskState | undefined;
  fields?: TaskState;
  calls?: TaskState['calls'];
}

/**
 * Everything an order of one set may change, saved entry by entry before the first order
 * is tried, and put back after each: the engine's counters and sequence number, the page
 * records and the map entries that lead to them, the cache slots, removed-but-mapped pages
 * and promised ranges of the files touched, the PTEs at the addresses touched, the tasks,
 * and the op objects nested probes merge into.
 */
class Snapshot {
  private readonly seq: number;
  private readonly pfnsSeen: number;
  private readonly counters: EngineCounters;
  private readonly pages = new Map<number, PageRec | undefined>();
  private readonly recs = new Map<PageRec, RecCopy>();
  private readonly slots = new Map<FileState, Map<number, PageRec | undefined>>();
  private readonly files = new Map<FileState, { ghosts: Set<PageRec>; promised: Map<PromiseKey, Promise_>; forgotten: FileState['forgotten'] }>();
  private readonly ptes = new Map<string, PageRec | undefined>();
  private readonly tasks = new Map<number, TaskCopy>();
  private readonly ops = new Map<MmOp, MmOp>();
  private readonly gaps: () => void;
  private readonly cpuLast: number[];

  constructor(
    private readonly engine: ReplayEngine,
    touches: readonly Touch[],
  ) {
    const sh = engine.shadow;
    this.seq = engine.seq;
    this.cpuLast = engine.cpuLast.slice();
    this.gaps = engine.gaps.save();
    this.pfnsSeen = sh.pfnsSeen;
    this.counters = copyCounters(engine.counters);
    const saveRec = (rec: PageRec) => {
      if (!this.recs.has(rec)) this.recs.set(rec, { fields: { ...rec }, maps: rec.maps.slice(), cpus: rec.cpus.slice() });
    };
    for (const t of touches) {
      for (const pfn of t.pfns) if (!this.pages.has(pfn)) this.pages.set(pfn, sh.page(BigInt(pfn)));
      for (const rec of t.recs) saveRec(rec);
      for (const f of t.files)
        if (!this.files.has(f)) this.files.set(f, { ghosts: new Set(f.mappedGhosts), promised: new Map(f.promised), forgotten: f.forgotten });
      for (const [f, index] of t.slots) {
        let m = this.slots.get(f);
        if (!m) {
          m = new Map();
          this.slots.set(f, m);
        }
        if (!m.has(index)) m.set(index, f.cache.get(index));
      }
      for (const k of t.pteKeys) if (!this.ptes.has(k)) this.ptes.set(k, sh.pteAt(k));
      for (const pid of t.pids) {
        if (this.tasks.has(pid)) continue;
        const task = sh.tasks.get(pid);
        this.tasks.set(pid, task ? { task, fields: { ...task }, calls: task.calls.copy() } : { task });
      }
      for (const op of t.ops) if (!this.ops.has(op)) this.ops.set(op, { ...op });
      // an invalidate's return marks the cached pages of the range it judged (stale-data: survived)
      for (const f of t.reads) for (const rec of f.cache.values()) saveRec(rec);
    }
  }

  restore(): void {
    const e = this.engine;
    const sh = e.shadow;
    e.seq = this.seq;
    e.cpuLast = this.cpuLast.slice();
    this.gaps();
    sh.pfnsSeen = this.pfnsSeen;
    Object.assign(e.counters, copyCounters(this.counters));
    for (const [pfn, rec] of this.pages) sh.restorePage(pfn, rec);
    for (const [rec, c] of this.recs) {
      restoreFields(rec, c.fields);
      rec.maps = c.maps.slice();
      rec.cpus = c.cpus.slice();
    }
    for (const [f, m] of this.slots)
      for (const [index, rec] of m) {
        if (rec) f.cache.set(index, rec);
        else f.cache.delete(index);
      }
    for (const [f, c] of this.files) {
      f.mappedGhosts.clear();
      for (const g of c.ghosts) f.mappedGhosts.add(g);
      f.promised.clear();
      for (const [k, p] of c.promised) f.promised.set(k, p);
      f.forgotten = c.forgotten;
    }
    for (const [k, rec] of this.ptes) sh.restorePte(k, rec);
    for (const [pid, c] of this.tasks) {
      if (!c.task) {
        sh.dropTask(pid);
        continue;
      }
      restoreFields(c.task, c.fields!);
      c.task.calls = c.calls!.copy();
      sh.tasks.set(pid, c.task);
    }
    for (const [op, copy] of this.ops) restoreFields(op, copy);
  }
}

/** Make `obj`'s own fields exactly `copy`'s (fields added since are removed). */
function restoreFields<T extends object>(obj: T, copy: T): void {
  for (const k of Object.keys(obj)) if (!Object.hasOwn(copy, k)) delete (obj as Record<string, unknown>)[k];
  Object.assign(obj, copy);
}

/** The state an order leaves, in the terms certainty compares: per page, its cache and map facts. */
interface Outcome {
  drafts: Draft[];
  keys: Set<string>;
  /** Why a draft (by key) is uncertain in this order, from gaps and unsure facts. */
  doubts: Map<string, string | undefined>;
  cache: Map<number, string>;
  map: Map<number, string>;
  stale: Map<number, string>;
  slots: string;
  ptes: string;
  tasks: string;
}

function outcome(
  engine: ReplayEngine,
  drafts: Draft[],
  keys: string[],
  doubts: Array<string | undefined>,
  pfns: readonly number[],
  slots: ReadonlyArray<[FileState, number]>,
  pteKeys: readonly string[],
  pids: readonly number[],
): Outcome {
  const sh = engine.shadow;
  const cache = new Map<number, string>();
  const map = new Map<number, string>();
  const stale = new Map<number, string>();
  // a fact known in one order and not in another (an unsure mark, a gap after its sync point) differs too
  const known = (rec: PageRec, sync: number, unsure: unknown) => (unsure || engine.gaps.sinceAny(sync) ? '?' : '');
  for (const pfn of pfns) {
    const rec = sh.page(BigInt(pfn));
    cache.set(
      pfn,
      rec
        ? `${rec.inCache}|${rec.file?.key}|${rec.index}|${rec.born}|${rec.survived ? `survived${rec.survived.reported ? ' reported' : ''}` : ''}${known(rec, rec.cacheSync, rec.cacheUnsure)}`
        : '-',
    );
    map.set(pfn, rec ? `${rec.mapcount}${known(rec, rec.mapSync, rec.mapUnsure)}` : '-');
    stale.set(pfn, rec ? `${engine.staleReported.has(rec)}${rec.staleUnsure ? '?' : ''}` : '-');
  }
  return {
    drafts,
    keys: new Set(keys),
    doubts: new Map(keys.map((k, i) => [k, doubts[i]])),
    cache,
    map,
    stale,
    slots: slots.map(([f, i]) => `${f.key}:${i}=${f.cache.get(i)?.pfn ?? '-'}`).join(' '),
    ptes: pteKeys.map((k) => `${k}=${sh.pteAt(k)?.pfn ?? '-'}`).join(' '),
    tasks: pids
      .map((pid) => {
        const t = sh.tasks.get(pid);
        return t
          ? `${pid}:${[...t.calls.keys()].join(',')}:${t.fault?.line ?? '-'}:${t.last?.event?.line ?? '-'}:${t.entered?.map((e) => e.line).join('/') ?? '-'}`
          : `${pid}:-`;
      })
      .join(' '),
  };
}

function clockText(ts: bigint): string {
  return formatTimestamp(ts, ts % 1000n === 0n ? 'usec' : 'nsec');
}

/** Why the order of a set is unknown, pointing at its first line. */
function tieNote(ops: readonly MmOp[]): Note {
  const evs = ops.map((o) => o.event!);
  const shown = evs.slice(0, 4).map((e) => `${e.line} (${e.cpu >= 0 ? `CPU ${e.cpu}` : `pid ${e.pid}, no CPU printed`})`);
  const lines = evs.length > 4 ? `${shown.join(', ')} and ${evs.length - 4} more` : shown.length === 2 ? shown.join(' and ') : shown.join(', ');
  const last = evs.reduce((t, e) => (e.ts > t ? e.ts : t), evs[0]!.ts);
  const when =
    last === evs[0]!.ts ? `all print ${clockText(last)}` : `print ${clockText(evs[0]!.ts)} to ${clockText(last)}, within the --clock-skew of one another`;
  return {
    reason: `lines ${lines} ${when}, so the trace does not say in which order they ran`,
    source: evs[0]!.source,
    line: evs[0]!.line,
  };
}

/**
 * The unit whose events keep their printed order: the event's CPU (one ring buffer per CPU),
 * or, for an event whose line names no CPU (`perf script` of `perf record -p PID` or `perf
 * record cmd`, which print no `[cpu]` column; the reader gives them CPU -1), its task. A task
 * runs on one CPU at a time, so its own events keep their order, but two tasks may run on two
 * CPUs at once: their events are no more ordered than two CPUs' are. Reading every such
 * event as one CPU's took the printed order of two tasks' tied events as the order they ran,
 * and the trace as one CPU's on a per-CPU clock. Negative, so no CPU number is one.
 */
export function orderLane(ev: TraceEvent): number {
  return ev.cpu >= 0 ? ev.cpu : -2 - ev.pid;
}

/**
 * The CPUs a trace's page-cache operations came from, as far as a clock that does not order CPUs
 * cares: two printed CPUs, or lines that print no CPU — a task stands for the CPU such a line does
 * not print (orderLane), but it may move between CPUs unseen, so on a clock kept per CPU even one
 * task's two operations may carry two CPUs' stamps. Both causes may hold, and each is named (`why`).
 */
export class OpCpus {
  private first: number | undefined;
  private ops = 0;
  /** Operations came from two CPUs that lines print. */
  twoPrinted = false;
  /** An operation came from a line that prints no CPU. */
  unprinted = false;
  /** Both causes hold: nothing more to learn (the caller stops calling `see`). */
  known = false;

  see(cpu: number): void {
    if (this.ops < 2) this.ops++;
    if (cpu < 0) this.unprinted = true;
    else if (this.first === undefined) this.first = cpu;
    else if (cpu !== this.first) this.twoPrinted = true;
    this.known = this.twoPrinted && this.unprinted;
  }

  /** Operations came from more than one CPU, or may have: their order rests on the clock. */
  get several(): boolean {
    return this.twoPrinted || (this.unprinted && this.ops > 1);
  }

  /** Why, in words, after "and": every cause that holds. */
  why(): string {
    const moved = 'their task may have moved between CPUs';
    if (this.twoPrinted && this.unprinted)
      return `page-cache operations came from more than one CPU, and from lines that print no CPU (${moved}): an operation another CPU printed, or stamped by another CPU's clock, may have run in between this finding's events`;
    if (this.unprinted)
      return `page-cache operations came from lines that print no CPU: ${moved}, so an operation stamped by another CPU's clock may have run in between this finding's events`;
    return "page-cache operations came from more than one CPU: one that another CPU printed earlier or later may have run in between this finding's events";
  }
}

/** Lanes: each CPU's (orderLane's) ops of a set, in input order, lanes in order of first appearance. */
function lanesOf(ops: readonly MmOp[]): MmOp[][] {
  const byCpu = new Map<number, MmOp[]>();
  for (const op of ops) {
    const cpu = orderLane(op.event!);
    const lane = byCpu.get(cpu);
    if (lane) lane.push(op);
    else byCpu.set(cpu, [op]);
  }
  return [...byCpu.values()];
}

/**
 * Replay a group of ops that print one timestamp and come from two or more CPUs (input
 * order within each CPU), as concurrent: see the module comment.
 */
export function replayTied(engine: ReplayEngine, ops: readonly MmOp[], stats: TieStats, selfCheck = false, skew?: bigint): void {
  stats.groups++;
  const sh = engine.shadow;
  const touches = ops.map((op) => touchOf(sh, op));
  for (const set of sets(touches)) {
    const mine = set.map((i) => ops[i]!);
    const lanes = lanesOf(mine);
    if (lanes.length < 2) {
      for (const op of mine) engine.apply(op);
      continue;
    }
    const note = tieNote(mine);
    const myTouches = set.map((i) => touches[i]!);
    const pfns = [...new Set(myTouches.flatMap((t) => t.pfns))];
    const orders = interleavings(lanes, MAX_TIE_ORDERS, skew ? { ts: (op) => op.event!.ts, by: skew } : undefined);
    if (!orders) {
      stats.unsearched++;
      if (engine.tieUnsearched) engine.tieUnsearched.sets++;
      else engine.tieUnsearched = { sets: 1, note };
      commit(engine, mine, undefined, note);
      markUnsure(engine, pfns, pfns, note, mine);
      continue;
    }
    stats.searched++;
    stats.orders += orders.length;
    const slots = dedupeSlots(myTouches.flatMap((t) => t.slots));
    const pteKeys = [...new Set(myTouches.flatMap((t) => t.pteKeys))];
    const pids = [...new Set(myTouches.flatMap((t) => t.pids))];
    const snap = new Snapshot(engine, myTouches);
    const before = selfCheck ? dumpEngine(engine) : '';
    const results = orders.map((order) => {
      engine.trial = { drafts: [], keys: [], doubts: [], stale: [] };
      try {
        for (const op of order) engine.apply(op);
        return outcome(engine, engine.trial.drafts, engine.trial.keys, engine.trial.doubts, pfns, slots, pteKeys, pids);
      } finally {
        for (const g of engine.trial.stale) engine.staleReported.delete(g);
        engine.trial = undefined;
        snap.restore();
      }
    });
    if (selfCheck) {
      const after = dumpEngine(engine);
      if (after !== before) throw new Error(`tie search did not restore the state:\n--- before\n${before}\n--- after\n${after}`);
    }
    let best = 0;
    for (let i = 1; i < results.length; i++) if (results[i]!.drafts.length < results[best]!.drafts.length) best = i;
    const chosen = results[best]!;
    if (chosen.drafts.length === 0 && results.some((r) => r.drafts.length > 0)) {
      stats.cleanOrderChosen++;
      // the clean order is replayed, but the rules another order raises were not shown not to happen
      const firstOf = new Map<RuleId, string>();
      for (const r of results) for (const d of r.drafts) if (!firstOf.has(d.rule)) firstOf.set(d.rule, d.message);
      for (const [rule, example] of firstOf) {
        const seen = engine.tieAvoided.get(rule);
        if (seen) seen.sets++;
        else engine.tieAvoided.set(rule, { sets: 1, note, example });
      }
    }
    // certain as far as ties go: raised in every order, and certain in every order
    const notes = new Map<string, string>();
    for (const k of chosen.keys) {
      if (!results.every((r) => r.keys.has(k))) notes.set(k, absentText(note));
      else {
        const doubt = results.find((r) => r.doubts.get(k) !== undefined)?.doubts.get(k);
        if (doubt !== undefined && chosen.doubts.get(k) === undefined)
          notes.set(k, `in another order of ${note.reason.replace(/, so the trace.*$/, '')}: ${doubt}`);
      }
    }
    stats.uncertainFindings += notes.size;
    commit(engine, orders[best]!, notes, undefined);
    const differs = (pick: (r: Outcome) => string | undefined) => results.some((r) => pick(r) !== pick(results[0]!));
    const cacheOff = pfns.filter((p) => differs((r) => r.cache.get(p)));
    const mapOff = pfns.filter((p) => differs((r) => r.map.get(p)));
    const staleOff = pfns.filter((p) => differs((r) => r.stale.get(p)));
    if (differs((r) => r.slots)) cacheOff.push(...pfns);
    if (differs((r) => r.ptes)) mapOff.push(...pfns);
    markUnsure(engine, cacheOff, mapOff, note, mine, staleOff);
    if (differs((r) => r.tasks)) {
      for (const lane of lanes) {
        const e = lane[0]!.event!;
        engine.gap({ cpu: e.cpu, line: note.line, source: note.source, reason: `${note.reason}, and the tasks' open calls depend on that order` });
      }
    }
  }
}

function dedupeSlots(slots: Array<[FileState, number]>): Array<[FileState, number]> {
  const seen = new Set<string>();
  return slots.filter(([f, i]) => {
    const k = `${f.key}:${i}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Why a finding some order does not raise is uncertain. */
function absentText(note: Note): string {
  return `${note.reason} (${note.source}:${note.line}); in another order the timestamps and each CPU's own order allow, this finding does not arise.`;
}

/** Replay `order` for real; drafts keyed in `notes` are uncertain, or every draft when `all` is given. */
function commit(engine: ReplayEngine, order: readonly MmOp[], notes: Map<string, string> | undefined, all: Note | undefined): void {
  const allText = all
    ? `${all.reason} (${all.source}:${all.line}); there are more than ${MAX_TIE_ORDERS} such orders, too many to try, so this finding may not arise in all of them.`
    : undefined;
  engine.tieNote = allText ? () => allText : notes?.size ? (key) => notes.get(key) : undefined;
  try {
    for (const op of order) engine.apply(op);
  } finally {
    engine.tieNote = undefined;
  }
}

/** Pages whose facts depend on the order: unsure until the trace re-establishes them. */
function markUnsure(
  engine: ReplayEngine,
  cacheOff: readonly number[],
  mapOff: readonly number[],
  note: Note,
  ops: readonly MmOp[],
  staleOff: readonly number[] = [],
): void {
  const cpus = [...new Set(ops.map((o) => (o.event as TraceEvent).cpu))];
  const mark = (pfn: number, what: 'cache' | 'map' | 'stale') => {
    const rec = engine.shadow.page(BigInt(pfn));
    if (!rec) return;
    if (what === 'cache') rec.cacheUnsure = note;
    else if (what === 'map') rec.mapUnsure = note;
    else rec.staleUnsure = note;
    for (const c of cpus) engine.shadow.touch(rec, c);
  };
  for (const p of new Set(cacheOff)) mark(p, 'cache');
  for (const p of new Set(mapOff)) mark(p, 'map');
  for (const p of new Set(staleOff)) mark(p, 'stale');
}

// object identities, stable across dumps, so a record replaced by an equal copy shows
const DUMP_IDS = new WeakMap<object, number>();
let dumpNext = 0;

/** The whole engine state as text (self-check of the tie search's undo; slow, for tests). */
export function dumpEngine(engine: ReplayEngine): string {
  const id = (o: object | undefined) => {
    if (!o) return '-';
    let n = DUMP_IDS.get(o);
    if (n === undefined) {
      n = ++dumpNext;
      DUMP_IDS.set(o, n);
    }
    return `#${n}`;
  };
  const json = (v: unknown) =>
    JSON.stringify(v, (k, x) => (k === 'event' ? (x as TraceEvent | undefined)?.line : typeof x === 'bigint' ? `${x}n` : x instanceof Map ? [...x] : x));
  const rec = (r: PageRec) =>
    json({
      id: id(r),
      pfn: r.pfn,
      file: r.file?.key,
      index: r.index,
      inCache: r.inCache,
      mapcount: r.mapcount,
      born: r.born,
      add: r.add?.line,
      del: r.del?.line,
      delCall: r.delCall?.line,
      delFn: r.delFn,
      delSeq: r.delSeq,
      maps: r.maps.map((m) => [m.ev.line, m.fault?.line, m.address]),
      cacheSync: r.cacheSync,
      mapSync: r.mapSync,
      bornSeq: r.bornSeq,
      survived: r.survived && [r.survived.begin?.line, r.survived.ret.line, r.survived.reported],
      cacheUnsure: r.cacheUnsure?.reason,
      mapUnsure: r.mapUnsure?.reason,
      staleUnsure: r.staleUnsure?.reason,
      cpus: r.cpus,
      cpusAll: r.cpusAll,
    });
  return engine.shadow.dump(rec, id, json) + `\nseq ${engine.seq} cpuLast ${json(engine.cpuLast)}\n${engine.gaps.text()}\ncounters ${json(engine.counters)}`;
}
