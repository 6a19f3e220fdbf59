/**
 * The replay engine: applies MmOps, in replay order, to the shadow page cache and judges
 * each against the rules of DESIGN.md (the same semantics as the model's invariants in
 * packages/mm-model; docs/replay.md relates the two):
 *
 * - mapped-page-removed: a cache_delete of a page that PTEs still map.
 * - orphan-page-mapped: a pte_map of a page that has left the page cache.
 * - stale-after-invalidate: invalidate_inode_pages2_range returned 0, yet a PTE in its range
 *   maps a page that is not the cache's page for its index (checked when it returns, and
 *   when such a page is mapped after it returned).
 * - trace-inconsistent: the trace contradicts the replayed state (a page added twice,
 *   removed twice, unmapped more often than mapped, ...).
 *
 * What the trace shows in the middle of its life is adopted, not flagged: a page first seen
 * when it is removed or mapped was cached before tracing began; a PTE removal of a page with
 * no replayed mapping was mapped before; a return without its entry was entered before.
 */
import type { TraceEvent } from '@kreplay/core';
import { escapedChar, type FileRef, type Finding, type MmOp, type RuleId } from '@kreplay/core';
import { GapTracker, type Fact, type GapMark, type Note } from './certainty.js';
import { at, hex, pageText, task, who } from './cite.js';
import { FACTS, mappedPageRemoved, orphanMapped, staleDataServed, staleMapped, type Draft } from './explain.js';
import { FindingLog, uncertainty } from './findings.js';
import { LatencyRecorder } from './latency-histogram.js';
import { OpCounts } from './op-counts.js';
import { PagesSeenSet } from './pages-seen.js';
import { ReturnCounts } from './return-counts.js';
import {
  PROMISES_KEPT,
  Shadow,
  cachedInRange,
  promiseKey,
  type FileState,
  type MaybeCopy,
  type OpenCall,
  type PageRec,
  type Promise_,
  type TaskState,
} from './shadow.js';

export const MAX_ORDER = 10;

export interface EngineCounters {
  ops: number;
  byOp: OpCounts;
  adopted: { pages: number; mappings: number; calls: number; reused: number; unseenUnmaps: number };
  nestedDuplicates: number;
  mapcountResyncs: number;
  uncheckedInvalidates: number;
  /** Successful invalidate_inode_pages2_range calls on a known file and range: the promises stale-after-invalidate judges. */
  promises: number;
  promisesForgotten: number;
  /** Pages still mapped at the end that only a forgotten promise may have covered (finish). */
  staleUnjudged: number;
  /** PTEs of private write faults' anonymous copies (PteMapOp.anon `yes`): not the page cache's, not replayed. */
  anonCopies: number;
  /** PTEs that may map such a copy and no nested page_add_file_rmap showed to be the file's (`maybe`): replayed, their pages' facts unsure. */
  maybeCopies: number;
  /** Returns the trace lost: a task entered a probed function again before the trace showed it return (probedCall), each a gap. */
  missedReturns: number;
}

/** A copy that shares nothing mutable with `c` (the tie search saves and restores the counters). */
export function copyCounters(c: EngineCounters): EngineCounters {
  return { ...c, byOp: new OpCounts(c.byOp), adopted: { ...c.adopted } };
}

export interface EngineOptions {
  maxFindings: number;
  onOp?: (op: MmOp) => void;
}

type Family = 'fault' | 'invalidate' | 'truncate';
type CallEndOp = Extract<MmOp, { kind: 'fault_end' | 'invalidate_end' | 'truncate_end' }>;

interface CallKey {
  family: Family;
  key: string;
}
const FAULT_KEY: CallKey = { family: 'fault', key: 'fault' };
const INVALIDATE_KEYS = new Map<string, CallKey>();
const TRUNCATE_KEYS = new Map<string, CallKey>();
function callKey(keys: Map<string, CallKey>, family: Family, fn: string): CallKey {
  let c = keys.get(fn);
  if (!c) {
    c = { family, key: `${family}:${fn}` };
    keys.set(fn, c);
  }
  return c;
}

/** Which call an entry/return op belongs to (per task: one open call per key). */
function familyKey(op: MmOp): CallKey | undefined {
  switch (op.kind) {
    case 'fault_begin':
    case 'fault_end':
      return FAULT_KEY;
    case 'invalidate_begin':
    case 'invalidate_end':
      return callKey(INVALIDATE_KEYS, 'invalidate', op.fn);
    case 'truncate_begin':
    case 'truncate_end':
      return callKey(TRUNCATE_KEYS, 'truncate', op.fn);
    default:
      return undefined;
  }
}

export class ReplayEngine {
  readonly shadow = new Shadow();
  /** The pages the trace showed in the cache (file, index), bounded: what a diff may call a finding gone on. */
  readonly pagesSeen = new PagesSeenSet();
  readonly gaps = new GapTracker();
  private readonly log: FindingLog;
  readonly latency = { fault: new LatencyRecorder(), invalidate: new LatencyRecorder(), truncate: new LatencyRecorder() };
  readonly counters: EngineCounters = {
    ops: 0,
    byOp: new OpCounts(),
    adopted: { pages: 0, mappings: 0, calls: 0, reused: 0, unseenUnmaps: 0 },
    nestedDuplicates: 0,
    mapcountResyncs: 0,
    uncheckedInvalidates: 0,
    promises: 0,
    promisesForgotten: 0,
    staleUnjudged: 0,
    anonCopies: 0,
    maybeCopies: 0,
    missedReturns: 0,
  };
  /** Replay sequence number of the last op or gap (gaps and sync points compare by it). */
  seq = 0;
  /**
   * The replay's time (`now`): the largest timestamp replayed so far (the caller sets it; findings
   * record it), in a box the caller makes afresh per run of records (`freshClock`). Each
   * timestamp is a new bigint, and a store of one into the engine, which outlives young
   * collections, took a write barrier's slow path per event; a store into a young box does not.
   */
  private clock = { now: 0n };
  get now(): bigint {
    return this.clock.now;
  }
  set now(ts: bigint) {
    this.clock.now = ts;
  }
  /** A run of records begins: `now` moves to a new box (see `clock`). */
  freshClock(): void {
    this.clock = { now: this.clock.now };
  }
  /** Return values per function, counted as numbers (rendered once, in `returns()`). */
  private readonly rets = new ReturnCounts();
  /** Pages already reported stale (one stale-after-invalidate per page life). */
  readonly staleReported = new WeakSet<PageRec>();
  /**
   * While the tie search (ties.ts) tries an order: the drafts it raises go here instead of
   * the findings, and nothing leaves the engine (no onOp, latencies or return counts); the
   * search puts the state back afterwards.
   */
  trial: { drafts: Draft[]; keys: string[]; doubts: Array<string | undefined>; stale: PageRec[] } | undefined;
  /** While the tie search commits its order: why a draft (by draftKey) is uncertain because of another order. */
  tieNote: ((key: string) => string | undefined) | undefined;
  /**
   * Rules some order of a set of tied events raised where the order replayed raised nothing
   * (ties.ts): how many such sets, the first one's note and the first finding another order raised
   * there (what the user should look at). No finding of such a rule is not a pass.
   */
  readonly tieAvoided = new Map<RuleId, { sets: number; note: Note; example: string }>();
  /**
   * Sets of tied events with more orders than the search tries (ties.ts, MAX_TIE_ORDERS): how
   * many, and the first one's note. They were replayed as printed, so any rule an order could
   * raise was not judged there.
   */
  tieUnsearched: { sets: number; note: Note } | undefined;
  /**
   * Per CPU, the sequence number of the last op replayed there: a nested PTE probe is its CPU's
   * next op after the one it nests in (mergeNested). The tie search saves and restores it.
   */
  cpuLast: number[] = [];
  /** While a PTE op that may map an anonymous copy is applied: what it raises and unsettles goes here (TaskState.copy). */
  private copying: MaybeCopy | undefined;
  /** Probed functions whose return (a kretprobe event) the trace has shown: their kretprobe was enabled (probedCall). */
  private readonly returning = new Set<string>();
  /** Per probed function no return of which was shown yet, the first task that entered it twice without one: a lost return once one shows. */
  private readonly twiceEntered = new Map<string, { first: TraceEvent; second: TraceEvent }>();
  /** The first return the trace lost (probedCall), for the warning. */
  firstMissedReturn: Note | undefined;
  /** Pids the trace showed exit and then again, whose earlier task had changed PTEs (pidAgain): each reuse, in replay order. */
  readonly pidReuses: { pid: number; exit: TraceEvent; again: TraceEvent; placed: TraceEvent }[] = [];
  /**
   * Exits whose event's own `comm` field (the exiting task's name, taken from it when it exited)
   * is not the name the trace gives its pid (taskExit): in replay order, with the time of the
   * pid's exit before it, if any (the events of this task came after that).
   */
  readonly misnamed: Misnamed[] = [];
  /** The first PTE op at a known address whose event names a thread group: replayed in that group's address space (exitsUnseen). */
  firstGrouped: TraceEvent | undefined;
  /** Per pid, the time of the last exit the trace showed (non-trial): where the next task of that pid starts. */
  private readonly lastExitTs = new Map<number, bigint>();

  constructor(private readonly opts: EngineOptions) {
    this.log = new FindingLog(this.gaps, opts.maxFindings);
  }

  /** Findings so far, in replay order. */
  get findings(): Finding[] {
    return this.log.list;
  }

  /** Findings beyond `maxFindings`, counted and not kept. */
  get findingsDropped(): number {
    return this.log.dropped;
  }

  /** `findingsDropped` per rule. */
  get findingsDroppedBy(): ReadonlyMap<RuleId, number> {
    return this.log.droppedBy;
  }

  /** A gap (or a late event) at the current point of the replay. */
  gap(mark: Omit<GapMark, 'seq'>): void {
    this.gaps.record({ ...mark, seq: ++this.seq });
  }

  /**
   * The events a gap hides may have run from `from` on (a trace time; undefined: from the start),
   * which can be before findings already made: those judged since then become uncertain. A gap on
   * a CPU hides events after that CPU's previous event, and its mark is printed before the next
   * one (kernel/trace/trace.c print_trace_line, 6.1.192 lines 4520-4527), so a finding made in
   * between was judged without them.
   */
  lostFrom(from: bigint | undefined, mark: Omit<GapMark, 'seq'>): void {
    this.log.lostFrom(
      from,
      `${mark.reason} (${mark.source}:${mark.line}): the events it hides may have run before this was judged, so events that would explain this may be missing.`,
    );
  }

  /** A gap that may hide events anywhere in the trace, on every CPU (GapTracker.everywhere). */
  gapEverywhere(mark: Omit<GapMark, 'seq' | 'cpu' | 'end'>): void {
    this.gaps.everywhere({ ...mark, seq: 0 });
  }

  /**
   * A known event replay could not use (a required field missing or unreadable). When it
   * names its pages, their facts become unsure until the trace re-establishes them; when it
   * does not, it is a gap on no particular CPU: it may have changed any page, whichever CPUs
   * touched it before (its own CPU is no bound on the pages it names), so every fact known
   * before it is in doubt.
   */
  unusable(ev: TraceEvent, reason: string, pfns: readonly bigint[] | undefined): void {
    const note: Note = { reason: `${ev.event} at line ${ev.line} could not be used (${reason})`, source: ev.source, line: ev.line };
    if (!pfns) {
      // what it did, it did at its own time: events tied with it may have run before it
      this.gap({ line: ev.line, source: ev.source, reason: note.reason, until: ev.ts + this.gaps.skew });
      return;
    }
    ++this.seq;
    for (const pfn of pfns) {
      const rec = this.shadow.page(pfn);
      if (!rec) continue; // first seen later: adopted then, from what it shows
      rec.cacheUnsure = note;
      rec.mapUnsure = note;
      this.shadow.touch(rec, ev.cpu);
    }
  }

  /**
   * A finding: to the log, or to the order being tried. `draft` builds it (its message and
   * explanation are most of a finding's cost): a finding the log will not keep, beyond
   * `maxFindings` of its rule, is only counted, never written — a trace can hold any number of them.
   */
  private report(rule: RuleId, draft: () => Draft): void {
    if (this.trial) {
      const d = draft();
      this.trial.drafts.push(d);
      this.trial.keys.push(draftKey(d));
      this.trial.doubts.push(uncertainty(d, [], this.gaps) ?? (this.copying ? copyDoubt(this.copying.note) : undefined));
      return;
    }
    if (this.log.full(rule)) {
      this.log.drop(rule);
      return;
    }
    const d = draft();
    const note = this.tieNote?.(draftKey(d));
    if (note) d.tie = note;
    const n = this.log.list.length;
    this.log.add(d, this.now);
    // certain unless the task's next op shows it was an anonymous copy's PTE after all (copyInDoubt)
    const f = this.log.list[n];
    if (this.copying && f?.certainty === 'certain') this.copying.findings.push(f);
  }

  apply(op: MmOp): void {
    const ev = op.event!;
    const seq = ++this.seq;
    this.gaps.event(ev.cpu, seq, ev.ts);
    const t = this.shadow.task(ev);
    if (t.exit !== undefined) this.pidAgain(t, ev, seq);
    const prevOnCpu = this.cpuLast[ev.cpu];
    this.cpuLast[ev.cpu] = seq;
    if (op.kind === 'task_exit') {
      this.taskExit(t, ev, seq);
      return;
    }
    if (ev.probe !== undefined && isCallOp(op.kind)) this.probedCall(t, op, ev, ev.probe.kind, ev.probe.func);
    // only an op of its task's previous op's kind may merge into it: tested here, most ops make no call
    const prev = t.last;
    if (prev !== undefined && prev.kind === op.kind && this.mergeNested(t, prev, op, prevOnCpu, seq)) return;
    if (t.copy) this.copyInDoubt(t);
    if (op.kind === 'pte_map' && op.anon === 'yes') {
      // a private write fault's new anonymous page: not the page cache's, no rule judges it
      this.counters.anonCopies++;
      t.last = undefined;
      t.lastSeq = undefined;
      t.merged = undefined;
      return;
    }
    t.last = op;
    t.lastSeq = seq;
    if (t.merged) t.merged = undefined;
    const c = this.counters;
    c.ops++;
    c.byOp.add(op.kind);
    if (!this.trial) this.opts.onOp?.(op);
    switch (op.kind) {
      // a folio of order n is 2^n pages: indexes index … index+2^n−1 at pfns pfn … pfn+2^n−1
      // (the adapter refused orders beyond MAX_FOLIO_ORDER and unaligned folios)
      case 'cache_add':
        if (op.order === 0) this.cacheAdd(op.file, op.index, op.pfn, ev, seq);
        else for (let j = 0, n = 2 ** op.order; j < n; j++) this.cacheAdd(op.file, op.index + j, op.pfn + BigInt(j), ev, seq);
        break;
      case 'cache_delete':
        if (op.order === 0) this.cacheDelete(t, op.file, op.index, op.pfn, ev, seq);
        else for (let j = 0, n = 2 ** op.order; j < n; j++) this.cacheDelete(t, op.file, op.index + j, op.pfn + BigInt(j), ev, seq);
        break;
      // nr PTEs of one folio's consecutive pages; the probe's mapcount is the first page's
      case 'pte_map':
        if (op.address !== undefined && ev.tgid !== undefined) this.firstGrouped ??= t.placedPte ??= ev;
        if (op.anon === 'maybe' && !this.cachedPages(op.pfn, op.nr ?? 1)) this.maybeCopy(t, op, ev, seq);
        else this.pteMaps(t, op, ev, seq);
        break;
      case 'pte_unmap':
        if (op.address !== undefined && ev.tgid !== undefined) this.firstGrouped ??= t.placedPte ??= ev;
        if (op.nr === undefined || op.nr === 1) this.pteUnmap(op.pfn, op.address, op.mapcount, ev, seq);
        else
          for (let j = 0; j < op.nr; j++)
            this.pteUnmap(op.pfn + BigInt(j), op.address === undefined ? undefined : op.address + BigInt(j * 4096), j === 0 ? op.mapcount : undefined, ev, seq);
        break;
      case 'fault_begin':
      case 'invalidate_begin':
      case 'truncate_begin':
        this.callBegin(t, op, seq);
        break;
      case 'fault_end':
      case 'invalidate_end':
      case 'truncate_end':
        this.callEnd(t, op);
        break;
      default:
        break; // unmap_range, isize_set, page_lock/unlock, markers: counted, no rule depends on them
    }
  }

  // ---- a task's exit --------------------------------------------------------------------

  /**
   * The task exits (sched_process_exit, 6.1 kernel/exit.c:878, after exit_mm: the unmaps of its
   * address space's last user came before). Its pid may be given to a new task later
   * (kernel/pid.c:233, idr_alloc_cyclic wraps at pid_max), which the trace then shows under the
   * same pid: nothing kept for this task carries over to it. Its previous op is no nested probe's
   * partner; a PTE it left in doubt stays so; its open calls are over, and an entry of a probed
   * function whose return the trace shows elsewhere lost its return (a task does not exit inside
   * one: probedCall); its pid no longer names its address space (Shadow.mapped).
   */
  private taskExit(t: TaskState, ev: TraceEvent, seq: number): void {
    this.counters.byOp.add('task_exit');
    if (t.copy) this.copyInDoubt(t);
    for (const first of t.entered ?? []) {
      const fn = first.probe!.func;
      if (this.returning.has(fn)) this.missedReturn(first, ev, fn, undefined);
      else if (!this.trial && !this.twiceEntered.has(fn)) this.twiceEntered.set(fn, { first, second: ev });
    }
    t.entered = undefined;
    if (t.calls.size) for (const key of t.calls.keys()) t.calls.delete(key);
    t.last = undefined;
    t.lastSeq = undefined;
    t.merged = undefined;
    t.fault = undefined;
    t.exitSeq = seq;
    t.exit = ev;
    if (this.trial) return;
    const name = exitName(ev);
    if (name !== undefined && name !== ev.comm) this.misnamed.push({ pid: ev.pid, name, exit: ev, after: this.lastExitTs.get(ev.pid) });
    this.lastExitTs.set(ev.pid, ev.ts);
  }

  /**
   * An event of a pid the trace showed exit: a new task was given the pid (kernel/pid.c
   * alloc_pid, idr_alloc_cyclic: pids are handed out in turn up to pid_max, then from the
   * bottom again, so a fork-heavy run or a long one reuses them) — or the exiting task's own
   * last work, which the trace cannot tell apart: 6.1.192 kernel/exit.c do_exit fires
   * sched_process_exit at 878 and then closes its files (exit_files, 882) and runs its task
   * work (exit_task_work, 887), the deferred __fput of those files and of its mappings' files
   * (exit_mm, 874), which may drop an unlinked file's pages. Either way it is handled as a
   * reuse: the doubt is kept, never a certainty. The thread group the trace
   * gives a pid is one lookup per pid, made when the trace was read (a text trace's `(tgid)`
   * column: trace_print_context → trace_find_tgid, kernel/trace/trace_output.c; a trace.dat's
   * saved_tgids, the same table), so it is the later task's: the PTEs the earlier task placed
   * (`placedPte` on) were replayed in that group's address space, which may not be the one they
   * were in. Two processes may have been read as one (a PTE replacing another's, the other's
   * count lowered unseen) or one as two (a replaced PTE read as still there). From here, every
   * finding that rests on a page's PTE count known before this point is uncertain, and so is
   * every one judged since that first PTE (FindingLog.pidReused). Without sched_process_exit in
   * the trace (a probe map with no task_exit) a reuse cannot be seen: docs/replay.md.
   */
  private pidAgain(t: TaskState, ev: TraceEvent, seq: number): void {
    const exit = t.exit!;
    const placed = t.placedPte;
    t.exit = undefined;
    t.placedPte = undefined;
    if (placed === undefined || this.trial) return;
    const note: Note = {
      reason: `pid ${ev.pid} exited (${nameInText(exitName(exit) ?? exit.comm)}, ${exit.source}:${exit.line}) and the trace shows it again (${nameInText(ev.comm)}, ${ev.source}:${ev.line}), a new task's unless it is the exiting task's last work (its deferred file closes); the thread group the trace gives pid ${ev.pid}, ${placed.tgid}, is the kernel's pid → tgid table when the trace was read, the later task's, so the PTEs the earlier task changed from ${placed.source}:${placed.line} on may have been in another address space than the one replayed`,
      source: ev.source,
      line: ev.line,
    };
    this.gaps.pidReused = { seq, note };
    this.log.pidReused(placed.ts, note);
    this.pidReuses.push({ pid: ev.pid, exit, again: ev, placed });
  }

  /**
   * The trace names thread groups and shows no task exit (called after the last op): a pid given
   * to a new task cannot be seen (pidAgain), and the group the trace gives a pid is its newest
   * task's (the kernel's pid → tgid table when the trace was read), so a PTE of an earlier task may
   * have been replayed in another address space than its own — session 45's false certainty, not
   * ruled out. Every finding resting on a PTE count judged since the first PTE placed under a
   * named group becomes uncertain, as after a reuse the trace shows. Returns the note, or
   * undefined when nothing rests on it.
   */
  exitsUnseen(): Note | undefined {
    const first = this.firstGrouped;
    if (first === undefined || this.counters.byOp.get('task_exit') > 0) return undefined;
    const note: Note = {
      reason: `the trace shows no task exit (no sched_process_exit event) and names the thread groups of the tasks that changed PTEs (the first at ${first.source}:${first.line}), which the kernel's pid → tgid table gives each pid as its newest task's when the trace is read: without exits a pid given to a new task cannot be seen, so PTEs of an earlier task of such a pid may have been replayed in another address space than theirs`,
      source: first.source,
      line: first.line,
    };
    this.log.pidReused(first.ts, note);
    return note;
  }

  // ---- returns the trace lost -----------------------------------------------------------

  /**
   * An entry (kprobe) or return (kretprobe) event of a probed function: the entry stays open on
   * the task until a return of that function. A second entry of the same probe, on the function's
   * first instruction, while one is open means that the task returned in between and the trace
   * did not show it, unless the function called itself: a kretprobe fires only where its entry
   * handler got a free instance (6.1.192
   * kernel/kprobes.c:2135-2139 `pre_handler_kretprobe`: none of `maxactive` free, it counts
   * `rp->nmissed` — kprobe_profile's third column, kernel/trace/trace_kprobe.c:1246-1251 — and
   * the return is not probed), and the entry is a kprobe event of its own that fires anyway; or
   * the ring buffer dropped it, with whatever else its CPU recorded then, leaving no mark when it
   * does not overwrite (`dropped events`, kernel/trace/ring_buffer.c:2786). The return ran on
   * whichever CPU the task was on, between the two entries: a gap on no CPU over that time. Only
   * a function whose return the trace shows at all counts (a trace may probe entries alone):
   * entered twice before its first return shows, the gap is counted when that return comes.
   */
  private probedCall(t: TaskState, op: MmOp, ev: TraceEvent, kind: 'kprobe' | 'kretprobe', fn: string): void {
    const open = t.entered;
    if (kind === 'kretprobe') {
      if (!isEndOp(op.kind)) return;
      if (open) t.entered = without(open, fn);
      // (an order the tie search tries leaves these alone: the order it commits sees the same events)
      if (this.trial || this.returning.has(fn)) return;
      this.returning.add(fn);
      const twice = this.twiceEntered.get(fn);
      if (twice) {
        this.twiceEntered.delete(fn);
        this.missedReturn(twice.first, twice.second, fn, ev);
      }
      return;
    }
    // an entry probe only (one inside the function may fire more than once a call; on x86 a probe
    // on the entry of a function that starts with ENDBR64 sits at +4, 6.1.192
    // arch/x86/kernel/kprobes/core.c:313-316), and the same probe again: two probes on one
    // function's entry both fire on every call
    if (isEndOp(op.kind) || (ev.probe!.offset ?? 0) > 4) return;
    const name = ev.event;
    const first = open?.find((e) => e.event === name);
    t.entered = open ? [...open.filter((e) => e.event !== name), ev] : [ev];
    if (!first) return;
    if (this.returning.has(fn)) this.missedReturn(first, ev, fn, undefined);
    else if (!this.trial && !this.twiceEntered.has(fn)) this.twiceEntered.set(fn, { first, second: ev });
  }

  /** The return of the call `first` entered was lost before `second` entered `fn` again (shown to be probed by `shown`'s return, when later): a gap. */
  private missedReturn(first: TraceEvent, second: TraceEvent, fn: string, shown: TraceEvent | undefined): void {
    this.counters.missedReturns++;
    const exited = second.probe === undefined; // the task's exit (taskExit), not an entry
    const reason = `${task(second)} ${exited ? 'exited' : `entered ${fn} again`} at line ${second.line} while its call${exited ? ` of ${fn}` : ''} at line ${first.line} had not returned${
      shown ? ` (the trace shows ${fn}'s returns from line ${shown.line} on)` : ''
    }: the return between them was lost (the kretprobe had no free instance, or the ring buffer dropped it with what else its CPU recorded then)${exited ? '' : `, unless ${fn} called itself`}`;
    const mark = { line: second.line, source: second.source, reason };
    // the return ran before the second entry, on the task's CPU then, which the trace does not show
    this.gap({ ...mark, until: second.ts + this.gaps.skew });
    if (this.trial) return; // the findings are the log's: the order committed records it again
    this.firstMissedReturn ??= mark;
    this.lostFrom(this.gaps.unordered ? undefined : first.ts - this.gaps.skew, mark);
  }

  // ---- PTEs that may map an anonymous copy ----------------------------------------------

  /**
   * A PTE that may map a private write fault's anonymous copy rather than the file's page
   * (PteMapOp.anon `maybe`): replayed as the file's mapping, so an orphan is not missed, and held
   * in doubt until the task's next op. A nested page_add_file_rmap of the same page (merged into
   * it) proves the file's mapping: do_set_pte calls page_add_file_rmap only then (6.1.192
   * mm/memory.c:4417-4424). Anything else leaves it in doubt: what it raised becomes uncertain,
   * and the page's facts stay unsure until the trace re-establishes them.
   */
  private maybeCopy(t: TaskState, op: Extract<MmOp, { kind: 'pte_map' }>, ev: TraceEvent, seq: number): void {
    const note: Note = {
      reason: `${ev.event} at line ${ev.line} may have mapped a private write fault's new anonymous page rather than the file's (${COPY_WORDS})`,
      source: ev.source,
      line: ev.line,
    };
    const copy: MaybeCopy = { note, findings: [], pages: [] };
    const nr = op.nr ?? 1;
    this.copying = copy;
    try {
      this.pteMaps(t, op, ev, seq);
    } finally {
      this.copying = undefined;
    }
    // unsure from now on (after its own judgement: what it raised is held in doubt by `copy`)
    for (let j = 0; j < nr; j++) {
      const rec = this.shadow.page(op.pfn + BigInt(j));
      if (!rec) continue;
      copy.pages.push({ rec, cache: rec.cacheUnsure, map: rec.mapUnsure });
      rec.cacheUnsure = note;
      rec.mapUnsure = note;
    }
    t.copy = copy;
  }

  /**
   * Whether each of the `nr` pages from `pfn` on is in the page cache, as the trace showed it
   * added there (not adopted) and not in doubt since: then a PTE of it maps the file's page, since
   * a private write fault's copy is a page just allocated (6.1.192 mm/memory.c:4649), never one
   * the page cache holds.
   */
  private cachedPages(pfn: bigint, nr: number): boolean {
    for (let j = 0; j < nr; j++) {
      const rec = this.shadow.page(pfn + BigInt(j));
      if (!rec?.inCache || !rec.born || rec.cacheUnsure) return false;
    }
    return true;
  }

  /** The task's op after a PTE that may map an anonymous copy was not its nested page_add_file_rmap: that PTE stays in doubt. */
  private copyInDoubt(t: TaskState): void {
    const copy = t.copy!;
    t.copy = undefined;
    if (this.trial) return; // the findings are the log's: the order committed decides
    this.counters.maybeCopies++;
    const why = copyDoubt(copy.note);
    for (const f of copy.findings) {
      if (f.certainty === 'uncertain') continue;
      f.certainty = 'uncertain';
      f.explanation += ` Uncertain: ${why}`;
    }
  }

  /** A nested page_add_file_rmap followed: the PTE mapped the file's page, and the facts it unsettled are what they were. */
  private copyIsFile(t: TaskState): void {
    const copy = t.copy!;
    t.copy = undefined;
    for (const p of copy.pages) {
      if (p.rec.cacheUnsure === copy.note) p.rec.cacheUnsure = p.cache;
      if (p.rec.mapUnsure === copy.note) p.rec.mapUnsure = p.map;
    }
  }

  // ---- nested probes -------------------------------------------------------------------

  /**
   * Two probes on nested kernel functions describe one action (do_set_pte calls
   * page_add_file_rmap; page_fault_user leads to filemap_fault): when a task's op repeats
   * its previous op's kind (for PTE ops: on the same pfn) from a different event, with no
   * other op of that task in between, it is merged into the first — once per event name: a
   * second page_add_file_rmap after a do_set_pte + page_add_file_rmap pair is another mapping
   * (do_set_pte calls page_add_file_rmap once, mm/memory.c:4423 of 6.1.192). A PTE op merges
   * only as its CPU's next op after the one it nests in (`prevOnCpu`: the seq of the op replayed
   * on that CPU before it): the pair runs under the PTE lock, a spinlock, with preemption off
   * (6.1.192 finish_fault mm/memory.c:4493-4509, filemap_map_pages mm/filemap.c:3482-3531), so
   * nothing runs on that CPU in between and the task cannot move. The same pid on another CPU, or
   * after another op on this one, is another action — or another task that reused the pid (a
   * thread that exited and a new one given its number) — and merging it lost a mapping. On a
   * line that prints no CPU (CPU -1) the task's previous op is taken as that op: other tasks'
   * ops printed in between ran on other CPUs, and not merging counted one mapping twice.
   */
  private mergeNested(t: TaskState, prev: MmOp, op: MmOp, prevOnCpu: number | undefined, seq: number): boolean {
    const name = op.event?.event;
    if (prev.kind !== op.kind || prev.event?.event === name) return false;
    if (name !== undefined && t.merged?.includes(name)) return false;
    if (op.kind === 'pte_map' || op.kind === 'pte_unmap') {
      const p = prev as typeof op;
      if (p.pfn !== op.pfn || (p.nr ?? 1) !== (op.nr ?? 1)) return false;
      if (p.event?.cpu !== op.event?.cpu || t.lastSeq === undefined) return false;
      // a line that prints no CPU (perf script of one process: ties.ts orderLane) cannot say what
      // else ran on the task's CPU; other tasks' ops in between ran on other CPUs, since the pair
      // runs with preemption off, so the task's own previous op is the one it nests in
      if (t.lastSeq !== prevOnCpu && (op.event?.cpu ?? 0) >= 0) return false;
      t.lastSeq = seq;
      if (op.kind === 'pte_map' && t.copy && op.anon === undefined) this.copyIsFile(t);
      p.address ??= op.address;
      p.file ??= op.file;
      p.index ??= op.index;
      if (p.mapcount === undefined && op.mapcount !== undefined) {
        // the count after this very mapping change, which has been applied already
        const rec = this.shadow.page(op.pfn);
        if (rec) this.resync(rec, op.mapcount, this.seq);
      }
    } else if (op.kind === 'fault_begin') {
      const p = prev as typeof op;
      p.file ??= op.file;
      p.index ??= op.index;
      p.address ??= op.address;
    } else if (op.kind === 'invalidate_begin' || op.kind === 'invalidate_end') {
      // 6.1's invalidate_mapping_pages is a wrapper of invalidate_mapping_pagevec (which
      // fadvise(DONTNEED) calls directly): with both probed, one call shows twice.
      const p = prev as typeof op;
      if (p.fn !== op.fn) return false;
      p.file ??= op.file;
      if (op.kind === 'invalidate_begin' && p.kind === 'invalidate_begin') {
        p.start ??= op.start;
        p.end ??= op.end;
      }
    } else {
      return false;
    }
    if (name !== undefined) t.merged = [...(t.merged ?? []), name];
    this.counters.nestedDuplicates++;
    return true;
  }

  // ---- page cache ----------------------------------------------------------------------

  private cacheAdd(ref: FileRef, index: number, pfn: bigint, ev: TraceEvent, seq: number): void {
    const f = this.shadow.file(ref);
    const old = this.shadow.page(pfn);
    if (old?.inCache) {
      if (old.born) {
        this.inconsistent(
          old,
          ev,
          () => [
            `${pageText(old)} added to the page cache again without being removed`,
            `${who(ev)} added ${pageText(old)} as index ${index} of ino ${hex(ref.ino)} at ${at(ev)}, but ${old.add ? `${who(old.add)} had added it at ${at(old.add)}` : 'it was already in the page cache'} and no removal of it came in between.`,
          ],
          old.add ? [old.add] : [],
          FACTS.cache,
        );
      } else {
        this.counters.adopted.reused++;
      }
    } else if (old && old.mapcount > 0) {
      // A mapped page cannot be freed and reused, so its PTEs went away unseen: probes that
      // find a page's file through page->mapping (capture's filters) cannot see a removed page.
      this.counters.adopted.unseenUnmaps += old.mapcount;
    }
    const slot = f.cache.get(index);
    if (slot && slot !== old && slot.inCache) {
      this.inconsistent(
        slot,
        ev,
        () => [
          `index ${index} of ino ${hex(ref.ino)} given pfn ${hex(pfn)} while it holds ${pageText(slot)}`,
          `${who(ev)} added pfn ${hex(pfn)} at index ${index} at ${at(ev)}, but the page cache already held pfn ${hex(slot.pfn)} there${slot.add ? ` (added by ${who(slot.add)} at ${at(slot.add)})` : ''} and no removal of it came in between.`,
        ],
        slot.add ? [slot.add] : [],
        FACTS.cache,
      );
      this.shadow.remove(slot, seq);
    }
    const rec = this.shadow.addPage(pfn, seq, f, index);
    this.pagesSeen.add(f.key, index);
    rec.add = ev;
    this.shadow.touch(rec, ev.cpu);
  }

  private cacheDelete(t: TaskState, ref: FileRef, index: number, pfn: bigint, ev: TraceEvent, seq: number): void {
    const f = this.shadow.file(ref);
    let rec = this.shadow.page(pfn);
    if (!rec) {
      rec = this.shadow.newPage(pfn, seq, false, f, index);
      this.counters.adopted.pages++;
    } else if (!rec.inCache) {
      this.shadow.touch(rec, ev.cpu);
      const gone = rec;
      this.inconsistent(
        rec,
        ev,
        () => [
          `${pageText(gone)} removed from the page cache twice`,
          `${who(ev)} removed pfn ${hex(pfn)} at ${at(ev)}, but ${gone.del ? `${who(gone.del)} had already removed it at ${at(gone.del)}` : 'it was not in the page cache'} and it was not added again in between.`,
        ],
        rec.del ? [rec.del] : [],
        FACTS.cache,
      );
      // the trace's word: it was (f, index) in the page cache until now (judged below as any removal)
      this.reidentify(rec, f, index);
    } else if (!rec.file || (rec.file === f && rec.index === undefined)) {
      // first named here (or only its file was, by a PTE probe that fetches no index): the trace's word
      rec.file = f;
      rec.index = index;
    } else if (rec.file !== f || rec.index !== index) {
      const other = rec;
      this.inconsistent(
        rec,
        ev,
        () => [
          `pfn ${hex(pfn)} removed as index ${index} of ino ${hex(ref.ino)} but replayed as ${pageText(other)}`,
          `${who(ev)} removed pfn ${hex(pfn)} as index ${index} of ino ${hex(ref.ino)} on ${ref.dev} at ${at(ev)}, but ${other.add ? `${who(other.add)} added it as ${pageText(other)} at ${at(other.add)}` : `it is ${pageText(other)}`}.`,
        ],
        rec.add ? [rec.add] : [],
        FACTS.cache,
      );
      // the trace's word: this page was (f, index) until now
      this.reidentify(rec, f, index);
    }
    this.shadow.touch(rec, ev.cpu);
    // the trace's word: the cache held the page as (f, index) until now
    this.pagesSeen.add(f.key, index);
    const call = openCall(t, 'invalidate') ?? openCall(t, 'truncate');
    if (rec.mapcount > 0) this.report('mapped-page-removed', () => mappedPageRemoved(rec, ev, call?.op.event, fnOf(call)));
    rec.del = ev;
    rec.delCall = call?.op.event;
    rec.delFn = fnOf(call);
    this.shadow.remove(rec, seq);
    this.knowCache(rec, seq);
  }

  /** The trace names the page as (f, index): it leaves the slot it was replayed in (a removal follows). */
  private reidentify(rec: PageRec, f: FileState, index: number): void {
    if (rec.file === f && rec.index === index) return;
    if (rec.file && rec.index !== undefined && rec.file.cache.get(rec.index) === rec) rec.file.cache.delete(rec.index);
    rec.file?.mappedGhosts.delete(rec);
    rec.file = f;
    rec.index = index;
    if (!rec.inCache && rec.mapcount > 0) f.mappedGhosts.add(rec);
  }

  /** The trace has just said where the page stands in the page cache (a removal): that fact is known from here on. */
  private knowCache(rec: PageRec, seq: number): void {
    rec.cacheSync = seq;
    rec.cacheUnsure = undefined;
  }

  // ---- PTEs ----------------------------------------------------------------------------

  /** A pte_map op: nr PTEs of one folio's consecutive pages; the probe's mapcount is the first page's. */
  private pteMaps(t: TaskState, op: Extract<MmOp, { kind: 'pte_map' }>, ev: TraceEvent, seq: number): void {
    if (op.nr === undefined || op.nr === 1) this.pteMap(t, op.pfn, op.file, op.index, op.address, op.mapcount, ev, seq);
    else
      for (let j = 0; j < op.nr; j++)
        this.pteMap(
          t,
          op.pfn + BigInt(j),
          op.file,
          op.index === undefined ? undefined : op.index + j,
          op.address === undefined ? undefined : op.address + BigInt(j * 4096),
          j === 0 ? op.mapcount : undefined,
          ev,
          seq,
        );
  }

  private pteMap(
    t: TaskState,
    pfn: bigint,
    ref: FileRef | undefined,
    index: number | undefined,
    address: bigint | undefined,
    mapcount: number | undefined,
    ev: TraceEvent,
    seq: number,
  ): void {
    const f = ref ? this.shadow.file(ref) : undefined;
    let rec = this.shadow.page(pfn);
    if (!rec) {
      rec = this.adoptMapped(pfn, f, index, seq);
      this.counters.adopted.pages++;
    } else if (!rec.inCache) {
      if (f && rec.file && (f !== rec.file || (index !== undefined && index !== rec.index))) {
        // the pfn was freed and reused by a cache the trace does not show (shmem, ...)
        rec = this.adoptMapped(pfn, f, index, seq);
        this.counters.adopted.reused++;
      } else {
        this.shadow.touch(rec, ev.cpu);
        this.orphanMapped(t, rec, ev, f ?? rec.file, index ?? rec.index);
      }
    } else if (f && rec.file === f && rec.index === undefined && index !== undefined && !f.cache.has(index)) {
      // adopted by a PTE probe that named its file and not its index: this PTE names the index, and
      // no other page is the cache's page there, so it is this one's (an unknown index is no other slot)
      rec.index = index;
      this.shadow.insert(rec);
      this.pagesSeen.add(f.key, index);
    } else if (f && rec.file && index !== undefined && (f !== rec.file || index !== rec.index)) {
      // the PTE's own index names another slot than the one this page is the cache's page for
      this.shadow.touch(rec, ev.cpu);
      this.orphanMapped(t, rec, ev, f, index);
    }
    if (mapcount !== undefined) this.resync(rec, mapcount - 1, seq); // the op's mapcount is the count after it
    this.shadow.touch(rec, ev.cpu);
    this.counters.adopted.unseenUnmaps += this.shadow.mapped(rec, { ev, fault: t.fault, address, seq });
    const file = rec.file;
    if (rec.survived && !rec.survived.reported && rec.inCache && file) {
      const served = rec;
      served.survived = { ...rec.survived, reported: true }; // a new object: the tie search's snapshot keeps the old one
      this.report('stale-data', () => staleDataServed(served, file, ev, t.fault));
    }
  }

  private adoptMapped(pfn: bigint, f: FileState | undefined, index: number | undefined, seq: number): PageRec {
    const rec = this.shadow.newPage(pfn, seq, false, f, index);
    if (f && index !== undefined && !f.cache.has(index)) {
      this.shadow.insert(rec);
      this.pagesSeen.add(f.key, index);
    } else if (f && index !== undefined) {
      rec.file = undefined;
      rec.index = undefined;
    } // its slot holds another page: identity unsure
    return rec;
  }

  private pteUnmap(pfn: bigint, address: bigint | undefined, mapcount: number | undefined, ev: TraceEvent, seq: number): void {
    const rec = this.shadow.page(pfn);
    if (!rec) {
      this.counters.adopted.mappings++;
      return;
    }
    if (mapcount !== undefined) this.resync(rec, mapcount + 1, seq); // the op's mapcount is the count after it
    this.shadow.touch(rec, ev.cpu);
    if (rec.mapcount === 0) {
      if (rec.born) {
        this.inconsistent(
          rec,
          ev,
          () => [
            `PTE of ${pageText(rec)} removed though no PTE maps it`,
            `${who(ev)} removed a PTE of pfn ${hex(pfn)} at ${at(ev)}, but every PTE the trace showed for this page since ${rec.add ? `it was added at ${at(rec.add)}` : 'it was added'} had already been removed.`,
          ],
          rec.add ? [rec.add] : [],
          FACTS.both,
        );
      } else {
        this.counters.adopted.mappings++;
      }
      return;
    }
    this.shadow.unmapped(rec, address, ev);
  }

  /**
   * The trace says how many PTEs map the page: the kernel's count replaces the replayed one,
   * and the map fact is known from here on. Whether the page is still in the page cache is
   * not: a mapcount says nothing about that (docs/replay.md, *Certainty*).
   */
  private resync(rec: PageRec, mappedBefore: number, seq: number): void {
    const n = Math.max(0, mappedBefore);
    if (rec.mapcount !== n) {
      this.counters.mapcountResyncs++;
      rec.mapcount = n;
      if (!rec.inCache && n > 0) rec.file?.mappedGhosts.add(rec);
      if (n === 0) rec.file?.mappedGhosts.delete(rec);
    }
    rec.mapSync = seq;
    rec.mapUnsure = undefined;
  }

  // ---- calls ---------------------------------------------------------------------------

  private callBegin(t: TaskState, op: MmOp, seq: number): void {
    const fk = familyKey(op)!;
    if (op.kind === 'fault_begin') t.fault = op.event;
    const nested = t.calls.size !== 0 && t.calls.otherOf(fk.family, fk.key);
    t.calls.set({ op, seq, nested, family: fk.family, key: fk.key });
  }

  private callEnd(t: TaskState, op: CallEndOp): void {
    const fk = familyKey(op)!;
    const ev = op.event!;
    // named loads, not `in` tests: ops come in a dozen shapes, and an `in` on them is a megamorphic keyed lookup
    const ret = op.ret;
    const fn = op.kind === 'fault_end' ? (ev.probe?.func ?? 'fault') : op.fn;
    if (ret !== undefined && !this.trial) {
      this.rets.add(fn, ret);
    }
    const call = t.calls.get(fk.key);
    if (!call) {
      this.counters.adopted.calls++;
      return;
    }
    t.calls.delete(fk.key);
    if (!call.nested && !this.trial) {
      const l = this.latency;
      (fk.family === 'fault' ? l.fault : fk.family === 'invalidate' ? l.invalidate : l.truncate).addSpan(call.op.event!.ts, ev.ts);
    }
    if (op.kind === 'fault_end' && call.op.kind === 'fault_begin') {
      op.file ??= call.op.file;
      op.index ??= call.op.index;
    }
    if (op.kind === 'invalidate_end' && call.op.kind === 'invalidate_begin') {
      op.file ??= call.op.file;
      if (op.fn === 'invalidate_inode_pages2_range' && op.ret === 0) this.invalidateReturned(call, ev);
    }
  }

  /**
   * invalidate_inode_pages2_range returned 0: its range is promised coherent — judged now,
   * and again at the end of the trace (`finish`), as the model's invariant does.
   */
  private invalidateReturned(call: OpenCall, ret: TraceEvent): void {
    const b = call.op.kind === 'invalidate_begin' ? call.op : undefined;
    if (!b?.file || b.start === undefined) {
      this.counters.uncheckedInvalidates++;
      return;
    }
    this.counters.promises++;
    const f = this.shadow.file(b.file);
    const promise: Promise_ = { start: b.start, end: b.end ?? Number.MAX_SAFE_INTEGER, begin: b.event, ret };
    if (f.mappedGhosts.size) for (const g of f.mappedGhosts) if (covers(promise, g) && !this.staleReported.has(g)) this.staleMapped(g, f, promise, false);
    // stale-data: a page cached before the invalidate began and still cached now survived it.
    cachedInRange(f, promise.start, promise.end, survivedInvalidate, call, ret);
    const key = promiseKey(promise.start, promise.end);
    // the newest promise of a range is the one cited, last in the Map's order; a file's only
    // promise is already last (deleting it would shrink the Map's table, to grow it again)
    if (f.promised.size !== 1 || !f.promised.has(key)) f.promised.delete(key);
    f.promised.set(key, promise);
    if (f.promised.size > PROMISES_KEPT) {
      const [oldKey, old] = f.promised.entries().next().value!;
      f.promised.delete(oldKey);
      f.forgotten = f.forgotten
        ? { start: Math.min(f.forgotten.start, old.start), end: Math.max(f.forgotten.end, old.end) }
        : { start: old.start, end: old.end };
      this.counters.promisesForgotten++;
    }
  }

  /** Return values per function: `filemap_fault` (and other faults) as hex vm_fault_t bits, the rest decimal; keys sorted. */
  returns(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const fn of this.rets.functions().sort()) {
      const fault = fn === 'fault' || fn === 'filemap_fault' || fn.endsWith('_fault');
      const r: Record<string, number> = {};
      for (const [ret, n] of this.rets.counts(fn).sort((a, b) => a[0] - b[0])) r[fault && ret >= 0 ? hex(ret) : String(ret)] = n;
      out[fn] = r;
    }
    return out;
  }

  /**
   * End of trace: PTEs still mapping a removed page inside a promised range are stale. One that
   * only a forgotten promise may have covered (past PROMISES_KEPT ranges of its file) is counted
   * in `staleUnjudged`: the rule cannot say whether it is stale.
   */
  finish(): void {
    for (const t of this.shadow.tasks.values()) if (t.copy) this.copyInDoubt(t);
    for (const f of this.shadow.files.values()) {
      if (f.promised.size === 0) continue;
      const promises = [...f.promised.values()].reverse(); // newest first
      for (const g of f.mappedGhosts) {
        if (this.staleReported.has(g)) continue;
        const p = promises.find((x) => covers(x, g));
        if (p) this.staleMapped(g, f, p, true);
        else if (f.forgotten && covers(f.forgotten, g)) this.counters.staleUnjudged++;
      }
    }
  }

  // ---- findings ------------------------------------------------------------------------

  private orphanMapped(t: TaskState, rec: PageRec, ev: TraceEvent, f: FileState | undefined, index: number | undefined): void {
    this.report('orphan-page-mapped', () => orphanMapped(rec, ev, t.fault, f, index));
  }

  private staleMapped(g: PageRec, f: FileState, p: Promise_, atEnd: boolean): void {
    this.staleReported.add(g);
    this.trial?.stale.push(g);
    this.report('stale-after-invalidate', () => staleMapped(g, f, p, atEnd));
  }

  /** `text`: the message and the explanation, built only when the finding is kept. */
  private inconsistent(rec: PageRec, ev: TraceEvent, text: () => [message: string, explanation: string], others: TraceEvent[], needs: readonly Fact[]): void {
    this.report('trace-inconsistent', () => {
      const [message, explanation] = text();
      return { rule: 'trace-inconsistent', rec, ev, message, explanation, others, needs };
    });
  }
}

/**
 * Ops of a call's return, and of its entry or return (an entry/return pair of a probed function:
 * probedCall). Switches, not Sets: every op of a probe event asks, and a Set's `has` was a hash
 * lookup of the kind's string each time, where these compare it with a few constants.
 */
/** An exit the trace names by another name than its task's own (ReplayEngine.misnamed). */
export interface Misnamed {
  pid: number;
  /** The exiting task's name: its exit event's `comm` field. */
  name: string;
  exit: TraceEvent;
  /** The time of the pid's exit before this one, if the trace showed one. */
  after: bigint | undefined;
}

/**
 * The exiting task's name from its exit event's own `comm` field (sched_process_exit copies
 * `p->comm` into the event when the task exits: 6.1.192 include/trace/events/sched.h:307-317),
 * or undefined when the event has none. Not the name the trace gives the event's pid: ftrace
 * looks that up when the trace is read (6.1.192 kernel/trace/trace_output.c:612
 * trace_print_context → trace_find_cmdline, kernel/trace/trace.c:2455; trace-cmd from the
 * saved_cmdlines it reads after recording), one name per pid, the newest task's.
 */
export function exitName(ev: TraceEvent): string | undefined {
  const c = ev.fields.comm;
  return typeof c === 'string' && c !== '' ? c : undefined;
}

/**
 * A task's name inside a sentence: its line breaks and tabs written `\x0a`, `\x09`. A comm is any
 * bytes but NUL (prctl PR_SET_NAME), and a line break would end the sentence's line in the text
 * outputs. Names are compared as they are (`exitName` against the trace's) and escaped only here.
 */
export function nameInText(name: string): string {
  return name.replace(/[\n\t]/g, escapedChar);
}

function isEndOp(kind: MmOp['kind']): boolean {
  return kind === 'fault_end' || kind === 'invalidate_end' || kind === 'truncate_end';
}
function isCallOp(kind: MmOp['kind']): boolean {
  switch (kind) {
    case 'fault_begin':
    case 'fault_end':
    case 'invalidate_begin':
    case 'invalidate_end':
    case 'truncate_begin':
    case 'truncate_end':
      return true;
    default:
      return false;
  }
}

/** `entered` without `fn`'s entry (undefined when none is left). */
function without(entered: readonly TraceEvent[], fn: string): readonly TraceEvent[] | undefined {
  // a task is mostly in one probed call: its entry's return leaves nothing, with no array made
  if (entered.length === 1) return entered[0]!.probe!.func === fn ? undefined : entered;
  const rest = entered.filter((e) => e.probe!.func !== fn);
  return rest.length ? rest : undefined;
}

const COPY_WORDS =
  "do_set_pte and set_pte_range map a write fault's new copy in a private mapping, 6.1.192 mm/memory.c:4417-4424, and the probe fetched neither the fault's nor the VMA's flags, nor a non-NULL page->mapping";

/** Why a finding on a PTE that may map an anonymous copy is uncertain. */
function copyDoubt(note: Note): string {
  return `${note.reason} (${note.source}:${note.line}), and no page_add_file_rmap of it followed; fetch vmf->flags and vma->vm_flags in that probe (faultFlags, vmFlags) to tell.`;
}

/** What makes two drafts the same finding across orders of tied events: rule, the event that broke it, the page (pfn, file, index). */
export function draftKey(d: Draft): string {
  return `${d.rule}|${d.ev.source}:${d.ev.line}|${d.rec.pfn}|${d.rec.file?.key}|${d.rec.index}`;
}

/** A page cached before the invalidate `call` began and still cached when it returned (`ret`) survived it (rule stale-data). */
function survivedInvalidate(rec: PageRec, call: OpenCall, ret: TraceEvent): void {
  if (!rec.inCache || rec.bornSeq >= call.seq || rec.survived) return;
  rec.survived = { begin: call.op.event, ret, reported: false };
}

function covers(p: { start: number; end: number }, g: PageRec): boolean {
  return g.index !== undefined && p.start <= g.index && g.index <= p.end;
}

function openCall(t: TaskState, family: Family): OpenCall | undefined {
  return t.calls.size === 0 ? undefined : t.calls.oldestOf(family);
}

function fnOf(call: OpenCall | undefined): string | undefined {
  return call && 'fn' in call.op ? call.op.fn : undefined;
}
