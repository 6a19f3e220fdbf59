/**
 * replay(): records in, one ReplayResult out. The pipeline (Perfetto's importer shape):
 * reader (packages/ftrace-parser) → adapter (lifts each event to an MmOp, stateless) →
 * sorter (ReorderBuffer: timestamp, input order) → ties (events on several CPUs with one
 * timestamp: their orders searched, ties.ts) → engine (shadow state + rules).
 * Unknown events are counted at the adapter and never buffered.
 */
import { performance } from 'node:perf_hooks';
import { metaValue, openTraceBatches, type FieldsWanted } from '@kreplay/ftrace-parser';
import {
  besideTrace,
  InputError,
  metaClock,
  oneLine,
  metaLoss,
  metaTraceEvents,
  metaRelease,
  readSavedTgids,
  readTraceMeta,
  RULES,
  type Finding,
  type Gap,
  type MmOp,
  type RuleId,
  type TraceEvent,
  type TraceRecord,
} from '@kreplay/core';
import { isUnusable, type Adapter } from './adapters/adapter.js';
import { resolveReplayConfig, type ChosenAdapter, type ReplayConfig } from './config.js';
import { plural } from './cite.js';
import { nameInText, ReplayEngine, type Misnamed } from './engine.js';
import type { GapMark } from './certainty.js';
import { PROMISES_KEPT } from './shadow.js';
import type { KernelEvidence } from './evidence.js';
import { InOrder, ReorderBuffer, ReorderNeeded, type Sorter } from './order.js';
import { checkTraceClock, clockIsPerCpu, perCpuClockHint, perCpuClockReason, perfClockidName, type ClockFrom } from './clocks.js';
import { EventNames } from './event-names.js';
import { emptyTieStats, MAX_TIE_ORDERS, OpCpus, orderLane, replayTied } from './ties.js';
import type { RecordSource, ReplayOptions, ReplayResult, ReplayStats, ReplayVerdict } from './types.js';
import { citeVerbatim } from './verbatim.js';
import { countedMismatches, mergeByTime, mismatchFinding, workloadMismatch, type WorkloadMismatch } from './workload-marks.js';

/** Records the sorter holds; small enough that waiting ops die young (cheap GC), ample for merged text traces. */
export const DEFAULT_REORDER_WINDOW = 4096;
export const DEFAULT_MAX_FINDINGS = 10000;
/** Why a perf script trace is a gap everywhere (unless --perf-lost-events-shown). */
const PERF_UNSHOWN_LOSS = 'perf script shows the events perf lost only when printed with --show-lost-events, so this trace may have lost events anywhere';

interface GapItem {
  kind: 'gap';
  ts: bigint;
  cpu: number;
  gap: Gap;
  /** The hidden events ran after this time (the timestamp of the previous event of the gap's CPU, or of any CPU for a gap on none); undefined: at any time before the gap. */
  from?: bigint;
}
/** A known event replay could not use, with the pages it names when it names them. */
interface UnusableItem {
  kind: 'unusable';
  ev: TraceEvent;
  reason: string;
  pfns?: bigint[];
}
/** What the sorter holds: ops, gaps and unusable events. */
type Item = MmOp | GapItem | UnusableItem;

/** `findingsDroppedByRule` of the stats (absent when nothing was dropped): the engine's, and the mismatch markers not kept (stale-data). */
function droppedByRule(byEngine: ReadonlyMap<RuleId, number>, marksDropped: number): Pick<ReplayStats, 'findingsDroppedByRule'> {
  const by = new Map(byEngine);
  if (marksDropped) by.set('stale-data', (by.get('stale-data') ?? 0) + marksDropped);
  if (!by.size) return {};
  return { findingsDroppedByRule: Object.fromEntries(RULES.filter((r) => by.has(r)).map((r) => [r, by.get(r)!])) };
}

/** Every finding still certain becomes uncertain, `why` in its explanation: a loss that may be anywhere in the trace. */
function allUncertain(findings: readonly Finding[], why: string): void {
  for (const f of findings) {
    if (f.certainty === 'uncertain') continue;
    f.certainty = 'uncertain';
    f.explanation += ` Uncertain: ${why}`;
  }
}

/**
 * Events one CPU's tracefs `stats` text (kernel/trace/trace.c tracing_stats_read, 6.1.192
 * 8528-8580) counts as dropped without a mark in the ring buffer's pages: `commit overrun` (a
 * writer that wrapped onto the commit page, kernel/trace/ring_buffer.c:2756) and `dropped events`
 * (a full buffer not in overwrite mode, 2786). A page marks only what `overrun` counts (its
 * RB_MISSED_EVENTS, from the overruns since the last read, 4656), which the reader turns into gaps.
 */
export function unmarkedDrops(stats: string): number {
  const count = (re: RegExp): number => Number(re.exec(stats)?.[1] ?? 0);
  return count(/^commit overrun:\s*(\d+)/m) + count(/^dropped events:\s*(\d+)/m);
}

/** What meta.json says the capture lost, in words. */
function captureLossReason(loss: { lost: number; probeMisses: number }): string {
  const what = [
    ...(loss.lost ? [`${plural(loss.lost, 'event')} lost to the ring buffer`] : []),
    ...(loss.probeMisses ? [`${plural(loss.probeMisses, 'kprobe hit')} the kernel missed`] : []),
  ].join(' and ');
  return `the capture's meta.json records ${what} while it traced (kept with --allow-lost), and the trace does not say where`;
}

/** `pid 301's exit (trace.dat:7) says its task was kr-fault, which the trace names newproc`. */
function misnamedText(m: Misnamed): string {
  return `pid ${m.pid}'s exit (${m.exit.source}:${m.exit.line}) says its task was ${nameInText(m.name)}, which the trace names ${nameInText(m.exit.comm)}`;
}

/**
 * A finding citing an event of a task the trace names by another task's name (ReplayEngine.misnamed:
 * an event of the pid after its exit before, up to its exit) says so, once per exit: the names it
 * cites are the trace's. The certainty stays: no rule rests on a task's name.
 */
function renameNote(f: Finding, misnamed: readonly Misnamed[]): void {
  for (const m of misnamed) {
    const cites = f.events.some(
      (e) => e.pid === m.pid && (m.after === undefined || e.ts > m.after) && (e.ts < m.exit.ts || (e.ts === m.exit.ts && e.line <= m.exit.line)),
    );
    if (cites)
      f.explanation += ` Named: ${misnamedText(m)} (the kernel's saved_cmdlines when the trace was read): the events of pid ${m.pid} cited up to there are the task's that exited as ${nameInText(m.name)}.`;
  }
}

/** Gaps whose timestamp is their CPU's next event's: the events they hide ran before it. */
const UNTIL_NEXT: ReadonlySet<Gap['kind']> = new Set(['lost-events', 'events-dropped', 'buffer-started']);

const isOp = (it: Item): it is MmOp => it.kind !== 'gap' && it.kind !== 'unusable';

/** The trace line of an item. */
const lineOf = (it: Item): number => (it.kind === 'gap' ? it.gap.line : it.kind === 'unusable' ? it.ev.line : it.event!.line);

/** The header key only a trace.dat's reader reports (ftrace-parser dat/container.ts): its format version. */
const TRACE_DAT_KEY = 'trace.dat.version';

/** The rules whose findings rest on how many PTEs map a page (explain.ts: their drafts need the map fact). */
const MAP_RULES = ['mapped-page-removed', 'stale-after-invalidate'] as const;
/**
 * The rules that read the PTEs replay keeps (stale-data: the faults that map a page), and so rest
 * on the order of events of different CPUs: every rule but trace-inconsistent.
 */
const PTE_RULES = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data'] as const;

/** The rules the engine raises from the order of events: every one of them, as an order of tied events may raise any. */
const ORDER_RULES: readonly RuleId[] = [...PTE_RULES, 'trace-inconsistent'];

/** Events one group of ties holds at most under --clock-skew (a busy trace may never pause that long). */
const MAX_TIE_GROUP = 1 << 12;

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function sortedRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}

/**
 * A record held while the evidence chooses the kernel (up to EVIDENCE_WINDOW of them), as a
 * copy. Held, the reader's own records would outlive a young-generation GC in their
 * thousands, and V8 then allocates every later record of that allocation site straight in
 * the old generation (pretenuring, decided per site from how many survive): for the rest of
 * the trace each record dies in a full GC instead of a cheap scavenge. The copies are
 * allocated here, so only this site is judged long-lived. Same keys in the same order.
 */
export function heldCopy(ev: TraceEvent): TraceEvent {
  return { ...ev, fields: Object.isFrozen(ev.fields) ? ev.fields : { ...ev.fields } };
}

async function* asBatches(src: RecordSource | AsyncIterable<TraceRecord[]>): AsyncGenerator<TraceRecord[]> {
  let batch: TraceRecord[] = [];
  for await (const r of src as AsyncIterable<TraceRecord | TraceRecord[]>) {
    if (Array.isArray(r)) {
      if (batch.length) {
        yield batch;
        batch = [];
      }
      yield r;
      continue;
    }
    batch.push(r);
    if (batch.length >= 4096) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * Replay records (in input order, as a reader yields them) and return the one result every
 * output format is computed from. Throws InputError for what the user can fix.
 */
export async function replay(records: RecordSource | AsyncIterable<TraceRecord[]>, opts: ReplayOptions = {}, config?: ReplayConfig): Promise<ReplayResult> {
  const cfg = config ?? (await resolveReplayConfig(opts));
  const t0 = performance.now();
  const source = opts.source ?? '-';
  const window = opts.reorderWindow ?? DEFAULT_REORDER_WINDOW;
  const engine = new ReplayEngine({ maxFindings: opts.maxFindings ?? DEFAULT_MAX_FINDINGS, onOp: opts.onOp });
  const header: Record<string, string | number> = {};
  const warnings: string[] = [];
  const unusableEvents = new Map<string, number>();
  let events = 0;
  let unknown = 0;
  let gaps = 0;
  /** A perf script trace not said to show its lost events: one gap everywhere (PERF_UNSHOWN_LOSS). */
  let perfUnsure = false;
  let lost = 0;
  let unusable = 0;
  let unparseable: Gap | undefined;
  /** The header counted entries the file does not hold (the parser says so at the end): lost anywhere. */
  let entriesMissing: Gap | undefined;
  /** Events a trace.dat's CPU stats count as dropped where its pages mark nothing (unmarkedDrops), and where it says so. */
  let statDrops = 0;
  let statSource: string | undefined;
  /**
   * Per CPU, the timestamp of its last event read so far: a gap on it hides events after that (none
   * read: a truncated gap on it lost all of its events). A copy made per run of records (takeRun):
   * a young array, so the store of each event's timestamp takes no write barrier's slow path.
   */
  let cpuTs: Array<bigint | undefined> = [];
  /** Mismatches the workload itself marked in the trace (workload-marks.ts). */
  const observed: WorkloadMismatch[] = [];
  /** Markers beyond maxFindings: counted, not kept (a trace can hold any number of them). */
  let marksDropped = 0;
  let firstTs: bigint | undefined;
  let lastTs: bigint | undefined;
  let inputTs = 0n;
  let adapter: Adapter | undefined;
  /** Per event name: the chosen adapter's lifter and the counts (made when the adapter is chosen). */
  let names: EventNames | undefined;
  let chosen: ChosenAdapter | undefined;
  let evidence: KernelEvidence | undefined;
  /** Records held while the trace's events choose the kernel (at most EVIDENCE_WINDOW events). */
  let pending: TraceRecord[] | undefined;
  // The capture counted events its trace does not hold (kept with --allow-lost): ring-buffer
  // losses and missed kprobe hits leave no mark in the trace, so they may be anywhere in it.
  const captureLoss = metaLoss(opts.meta);
  // A per-CPU trace clock (clocks.ts) orders no two CPUs' events, unless the user bounds how far
  // the clocks disagree: the trace's own clock record (a trace.dat) wins over meta.json's.
  const skew = opts.clockSkew ?? 0n;
  /** Whether ties are one timestamp (no --clock-skew): tested per replayed item, a bigint comparison each time when written out. */
  const noSkew = skew === 0n;
  engine.gaps.skew = skew;
  // Which clock: the trace's own record (a trace.dat's, perf's header) > meta.json > --trace-clock;
  // none of them: unknown, read as per CPU (the default of tracefs, trace-cmd and perf: clocks.ts).
  const flagClock = opts.traceClock === undefined ? undefined : checkTraceClock(opts.traceClock);
  let clock: string | undefined;
  let clockFrom: ClockFrom = 'unknown';
  const clockSays = (name: string | undefined, from: ClockFrom, src: string, line: number): void => {
    if (flagClock !== undefined && name !== undefined && name !== flagClock)
      throw new InputError(
        `--trace-clock ${flagClock} contradicts the trace clock \`${name}\` ${from === 'meta' ? "meta.json's buffer.clock names" : 'the trace records'}`,
        {
          file: src,
          line,
          hint: 'drop --trace-clock (a trace that names its own clock is read with it), or replay the trace it describes',
        },
      );
    // the trace's own record wins over meta.json's, but a meta.json that says otherwise describes another capture setting
    if (from === 'recorded' && clockFrom === 'meta' && name !== clock)
      warnings.push(
        `the trace records the trace clock \`${name}\` (${src}:${line}) and meta.json's buffer.clock names \`${clock}\`: replay reads the trace's own; check that the meta.json belongs to this trace`,
      );
    clock = name ?? flagClock;
    clockFrom = name !== undefined ? from : flagClock !== undefined ? 'flag' : 'unknown';
    engine.gaps.unordered =
      opts.clockSkew === undefined && clockIsPerCpu(clock)
        ? { reason: unrecordedWhy ?? perCpuClockReason(clock), source: clockFrom === 'unknown' ? source : src, line: clockFrom === 'unknown' ? 1 : line }
        : undefined;
  };
  /** Why a trace.dat read from an instance's ring buffer does not name its clock (the file's record is the top buffer's: a `top-clock` record). */
  let unrecordedWhy: string | undefined;
  const topClockSays = (top: string, instance: string): void => {
    unrecordedWhy = `the trace.dat records the trace clock of its top ring buffer (\`${top}\`), which trace-cmd writes for every buffer, not that of instance "${instance}", whose events replay read: an instance keeps its own trace_clock (\`local\` unless set), which need not agree across CPUs`;
    if (clockFrom === 'unknown') clockSays(undefined, 'unknown', source, 1);
  };
  clockSays(metaClock(opts.meta), 'meta', opts.metaSource ?? 'meta.json', 1);
  /** The CPUs page-cache operations came from: whether the trace's clock must order two of them (OpCpus). */
  const opCpus = new OpCpus();
  if (captureLoss) {
    gaps++;
    engine.gapEverywhere({ line: 1, source: opts.metaSource ?? 'meta.json', reason: captureLossReason(captureLoss) });
  }

  /**
   * A gap whose events may have run from `from` on (undefined: any time before): the findings
   * judged since then did not see them. Other CPUs' events are ordered against that time only
   * within --clock-skew, and not at all on a per-CPU clock without it.
   */
  const gapAt = (from: bigint | undefined, mark: Omit<GapMark, 'seq'>): void => {
    engine.gap(mark);
    engine.lostFrom(engine.gaps.unordered || from === undefined ? undefined : from - skew, mark);
  };
  const applyItem = (it: Item): void => {
    if (it.kind === 'gap') {
      const g = it.gap;
      // a lost-events mark's timestamp is its CPU's next event's (the readers hold it until then)
      const until = g.ts !== undefined && g.cpu !== undefined && UNTIL_NEXT.has(g.kind) && !engine.gaps.unordered ? g.ts + skew : undefined;
      gapAt(it.from, { cpu: g.cpu, line: g.line, source: g.source, reason: g.reason, ...(until === undefined ? {} : { until }) });
    } else if (it.kind === 'unusable') {
      engine.unusable(it.ev, it.reason, it.pfns);
      if (!it.pfns)
        engine.lostFrom(engine.gaps.unordered ? undefined : it.ev.ts - skew, {
          line: it.ev.line,
          source: it.ev.source,
          reason: `${it.ev.event} at line ${it.ev.line} could not be used (${it.reason})`,
        });
    } else engine.apply(it);
  };
  // Items the sorter replays with one timestamp wait here: when they come from two or more
  // CPUs, the trace cannot say in which order they ran (ties.ts). Nearly every timestamp
  // holds one item: it waits alone in `first`, and only a second one starts the array.
  //
  // `first` and the group's timestamp change with every item: they live in a box made afresh per
  // run of records (takeRun), a young object, where stores into replay's own (long-lived)
  // closure took a write barrier's slow path, two per event.
  const ties = emptyTieStats();
  let group: { first: Item | undefined; ts: bigint } = { first: undefined, ts: 0n };
  const rest: Item[] = [];
  const flush = (): void => {
    const g = group;
    if (g.first === undefined) return;
    const one = g.first;
    g.first = undefined;
    if (rest.length === 0) {
      applyItem(one);
      return;
    }
    const set = [one, ...rest];
    rest.length = 0;
    let cpu = -1; // orderLane is never -1
    let several = false;
    for (const it of set) {
      if (!isOp(it)) continue;
      const c = orderLane(it.event!);
      if (cpu === -1) cpu = c;
      else if (c !== cpu) {
        several = true;
        break;
      }
    }
    if (!several) for (const it of set) applyItem(it);
    else {
      // gaps and unusable events first: they make the set's pages uncertain; the set's ops, tied
      // with them, do not end them (their CPU's own among them may have run before the lost events)
      const before = engine.seq;
      for (const it of set) if (!isOp(it)) applyItem(it);
      const ops = set.filter(isOp);
      if (engine.seq !== before) engine.gaps.hold(before, engine.seq + ops.length);
      replayTied(engine, ops, ties, opts.selfCheck, skew);
    }
  };
  const replayed = (it: Item, late: boolean, ts: bigint): void => {
    if (late) {
      flush();
      // a gap on its CPU (docs/replay.md, Ordering), and counted as one: a run whose events
      // came out of order, with no finding, is not a clean run
      gaps++;
      const cpu = it.kind === 'gap' ? it.gap.cpu : it.kind === 'unusable' ? it.ev.cpu : it.event!.cpu;
      // it ran at its own time, before findings already judged
      gapAt(ts, {
        cpu,
        line: lineOf(it),
        source,
        reason: `an event arrived after the reorder window (${window} events) had moved past its timestamp`,
      });
      applyItem(it);
      return;
    }
    const g = group;
    if (g.first === undefined) g.first = it;
    else if (noSkew ? ts !== g.ts : ts < g.ts || ts > g.ts + skew) {
      flush();
      g.first = it;
    } else if (rest.length >= MAX_TIE_GROUP) {
      // events within --clock-skew of one another without a pause: the group is cut here, and
      // the orders across the cut are not searched, so the cut is a gap on every CPU
      flush();
      g.first = it;
      engine.gap({
        line: lineOf(it),
        source,
        reason: `more than ${MAX_TIE_GROUP} events in a row lie within --clock-skew ${skew} of one another; replay searched their orders in parts`,
      });
      gaps++;
    } else rest.push(it);
    g.ts = ts;
    if (ts > engine.now) engine.now = ts;
  };
  const sorter: Sorter<Item> = opts.inOrder ? new InOrder<Item>(replayed) : new ReorderBuffer<Item>(window, replayed);
  const progressEvery = opts.progressEvery ?? 1 << 20;
  let nextProgress = progressEvery;

  const adopt = (c: ChosenAdapter): Adapter => {
    chosen = c;
    if (c.warning) warnings.push(c.warning);
    names = new EventNames(c.adapter);
    return c.adapter;
  };

  /**
   * Records `rs[from..]` once the adapter is known (`n`: its EventNames), up to the first meta
   * record (its index is returned; `rs.length` when there is none). The input's timestamps
   * (the last event's, and the first and last in time) are tracked in locals and stored once
   * per run: they are bigints the reader made for this event, and storing one per event in the
   * replay's closure, which is long-lived (old generation), took a write barrier's slow path
   * (a remembered-set insertion) per store, two per event (docs/replay.md, session 25).
   */
  const takeRun = (n: EventNames, rs: readonly TraceRecord[], from: number): number => {
    // the per-event state's boxes, made afresh (young) for this run: see cpuTs, group, InOrder, ReplayEngine.clock
    cpuTs = cpuTs.slice();
    group = { first: group.first, ts: group.ts };
    sorter.fresh?.();
    engine.freshClock();
    let inTs = inputTs;
    let lo = firstTs;
    let hi = lastTs;
    let i = from;
    for (; i < rs.length; i++) {
      const r = rs[i]!;
      if (r.type === 'meta') break;
      if (r.type === 'gap') {
        gaps++;
        lost += r.lost ?? 0;
        if (!unparseable && (r.kind === 'unparseable' || r.kind === 'truncated')) unparseable = r;
        if (r.kind === 'missing-entries') entriesMissing = r;
        if (r.kind === 'truncated' && r.cpu !== undefined && r.cpu >= 0 && cpuTs[r.cpu] === undefined) {
          // the CPU's data ended before any event of it was read (a trace.dat whose data for it
          // starts past the end of the file): every event it recorded is missing, and a CPU that
          // no event names is involved in no finding (certainty.ts), so its loss counts everywhere
          const reason = `${r.reason}: no event of CPU ${r.cpu} could be read, so the events it recorded may be anywhere in the trace`;
          engine.gapEverywhere({ line: r.line, source: r.source, reason });
          warnings.push(`${reason}; replay counts one gap on every CPU for the whole trace, so findings that rest on the page cache's state are uncertain`);
          continue;
        }
        const ts = r.ts ?? inTs;
        const cpu = r.cpu ?? -1;
        // a gap on no CPU lost events printed among the previous line's, except lost events that
        // name no CPU (perf's PERF_RECORD_LOST without its [cpu]): its buffer's previous record may
        // be any earlier one, so the losses may be anywhere before
        const from = cpu >= 0 ? cpuTs[cpu] : events > 0 && r.kind !== 'lost-events' ? inTs : undefined;
        sorter.push(from === undefined ? { kind: 'gap', ts, cpu, gap: r } : { kind: 'gap', ts, cpu, gap: r, from }, ts, cpu);
        continue;
      }
      if (r.type !== 'event') continue;
      const ev: TraceEvent = r;
      events++;
      const ts = ev.ts;
      if (ev.cpu >= 0) cpuTs[ev.cpu] = ts;
      inTs = ts;
      if (hi === undefined) {
        lo = ts;
        hi = ts;
      } else if (ts > hi) hi = ts;
      else if (ts < lo!) lo = ts;
      const name = n.of(ev);
      if (name.mark) {
        const m = workloadMismatch(ev);
        if (m && observed.length < (opts.maxFindings ?? DEFAULT_MAX_FINDINGS)) observed.push(m);
        else if (m) marksDropped++;
      }
      const lifted = name.lift(ev);
      if (lifted === null) {
        unknown++;
        n.unknown(name, ev);
      } else if (isUnusable(lifted)) {
        unusable++;
        bump(unusableEvents, `${ev.event}: ${lifted.unusable}`);
        sorter.push({ kind: 'unusable', ev, reason: lifted.unusable, ...(lifted.pfns ? { pfns: lifted.pfns } : {}) }, ts, ev.cpu);
      } else {
        name.used++;
        if (!opCpus.known && lifted.kind !== 'task_exit') opCpus.see(ev.cpu); // an exit is no page-cache operation
        sorter.push(lifted, ts, ev.cpu);
      }
    }
    inputTs = inTs;
    firstTs = lo;
    lastTs = hi;
    return i;
  };

  /** The evidence has chosen: the held records go through the chosen adapter in input order. */
  const decide = (): Adapter => {
    const a = adopt(cfg.choose(header, evidence));
    if (pending) takeRun(names!, pending, 0); // held records are events and gaps, never meta
    pending = undefined;
    return a;
  };

  for await (const batch of asBatches(records)) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    for (let i = 0; i < batch.length; i++) {
      if (adapter) {
        i = takeRun(names!, batch, i);
        if (i === batch.length) break;
      }
      const r = batch[i]!;
      if (r.type === 'meta') {
        header[r.key] = metaValue(header[r.key], r.key, r.value);
        if (r.key === 'clock' && typeof r.value === 'string') clockSays(r.value, 'recorded', r.source, r.line);
        if (r.key === 'perf-clockid' && typeof r.value === 'string') clockSays(perfClockidName(r.value), 'recorded', r.source, r.line);
        if (r.key === 'top-clock' && typeof r.value === 'string') topClockSays(r.value, String(header['buffer'] ?? ''));
        // an explorer trace's timestamps count the schedule's steps, one count for every CPU (docs/trace-format.md): trace_clock `counter`
        if (r.key === 'kreplay' && r.value === 'explore') clockSays('counter', 'recorded', r.source, r.line);
        if (r.key === 'buffer-not-read' && opts.buffer === undefined) {
          // another ring buffer of the trace.dat, not read: its events may be any of the trace's
          gaps++;
          const reason = `the trace.dat holds another ring buffer that was not read (${String(r.value)})`;
          engine.gapEverywhere({ line: r.line, source: r.source, reason });
          warnings.push(
            `${reason}: replay counts one gap on every CPU for the whole trace, so findings that rest on the page cache's state are uncertain and finding nothing is not a clean run; pass --buffer NAME to say which buffer holds the trace (--buffer "" for the top one)`,
          );
        }
        if (r.key === 'cpustat' && typeof r.value === 'string') {
          const n = unmarkedDrops(r.value);
          if (n > 0) {
            statDrops += n;
            statSource ??= r.source;
          }
        }
        if (r.key === 'layout' && r.value === 'perf script' && !opts.perfLostEventsShown && !perfUnsure) {
          perfUnsure = true;
          gaps++;
          engine.gapEverywhere({ line: r.line, source: r.source, reason: PERF_UNSHOWN_LOSS });
        }
        continue;
      }
      if (!pending) {
        // The header lines come first: they may name the explorer's traces.
        evidence = cfg.evidence(header);
        if (!evidence) {
          adapter = adopt(cfg.choose(header));
          i--; // this record again, now through takeRun
          continue;
        }
        pending = [];
      }
      pending.push(r.type === 'event' ? heldCopy(r) : r);
      if (r.type === 'event') evidence!.see(r.event, r.probe);
      if (evidence!.done) adapter = decide();
    }
    if (opts.onProgress && events >= nextProgress) {
      opts.onProgress(events);
      nextProgress = events + progressEvery;
    }
  }
  if (!adapter) decide();
  chosen ??= cfg.choose(header);
  sorter.drain();
  flush();
  engine.finish();

  if (evidence) {
    // the events after the choice: one the chosen map does not know but another does
    let leftOut = 0;
    for (const [name, n, probe] of names!.unknownEntries()) {
      const others = evidence.knownElsewhere(name, probe, chosen.kernel);
      if (others.length) {
        leftOut += n;
        warnings.push(
          `${n} ${name} events mean nothing to ${chosen.kernel}'s probe map (chosen by ${chosen.reason}) but are known to ${others.join(', ')}'s: if that is the traced kernel, pass --kernel ${others[0]}`,
        );
      }
    }
    if (leftOut) {
      // page-cache operations under another kernel's map, left out of the replay: a hole, as lost events are
      gaps++;
      const reason = `${plural(leftOut, 'event')} another shipped probe map knows ${leftOut === 1 ? 'was' : 'were'} left out of the replay with ${chosen.kernel}'s`;
      allUncertain(engine.findings, `${reason} (${source}), so events that would explain this may be missing.`);
      warnings.push(`${reason}: replay counts one gap, every finding is uncertain and finding nothing is not a clean run`);
    }
  }

  if (statDrops > 0) {
    gaps++;
    lost += statDrops;
    const reason = `the trace.dat's CPU stats (trace-cmd's cpustat option) count ${plural(statDrops, 'event')} the ring buffer dropped (commit overruns, or dropped events when not overwriting), which its pages do not mark`;
    allUncertain(engine.findings, `${reason} (${statSource ?? source}), so events that would explain this may be missing.`);
    warnings.push(`${reason}: every finding is uncertain and finding nothing is not a clean run`);
  }
  if (entriesMissing) {
    // Known only at the end, and nowhere in particular: any finding may rest on a fact the lost events changed.
    allUncertain(
      engine.findings,
      `${entriesMissing.reason} (${entriesMissing.source}:${entriesMissing.line}), so events that would explain this may be missing.`,
    );
    warnings.push(
      `${entriesMissing.reason}: every finding is uncertain and finding nothing is not a clean run (if you removed lines on purpose, delete the header's entries-in-buffer line to say so)`,
    );
  }
  // meta.json counts the events the capture saved in this file: a trace that reads otherwise was cut
  // or edited since, and is no longer the run the capture saw (known only at the end, like entriesMissing)
  const saved = metaTraceEvents(opts.meta, source);
  if (saved !== undefined && saved !== events) {
    const metaSource = opts.metaSource ?? 'meta.json';
    const reason = `the trace holds ${plural(events, 'event')} and its meta.json says the capture saved ${saved}: ${
      saved > events
        ? `${plural(saved - events, 'event')} ${saved - events === 1 ? 'is' : 'are'} missing`
        : `${plural(events - saved, 'event')} ${events - saved === 1 ? 'was' : 'were'} added`
    }, so the trace was cut or edited after the capture`;
    // a header's count that the lines fall short of is this same hole: one gap, its events counted once
    if (!entriesMissing) gaps++;
    lost += Math.max(0, saved - events - (entriesMissing?.lost ?? 0));
    const doubt = saved > events ? 'events that would explain this may be missing' : 'this may rest on events the kernel did not record';
    allUncertain(engine.findings, `${reason} (${metaSource}), so ${doubt}.`);
    warnings.push(
      `${reason} (${metaSource}): every finding is uncertain and finding nothing is not a clean run (if you cut the trace on purpose, remove meta.json's trace record to say so)`,
    );
  }
  const ms = performance.now() - t0;
  const c = engine.counters;
  if (events === 0 && unparseable) {
    throw new InputError(`not a trace: no line of it is a trace event (${plural(gaps, 'line')} could not be read as one)`, {
      file: unparseable.source,
      line: unparseable.line,
      hint: 'give a tracefs trace or trace_pipe capture, `trace-cmd report` or `perf script` output, or a trace.dat (docs/trace-format.md)',
    });
  }
  const inconclusive: string[] = [];
  if (events === 0) inconclusive.push('the trace holds no events: nothing was traced, so nothing can be judged');
  else if (c.ops === 0) {
    inconclusive.push(
      unusable
        ? `none of its ${plural(events, 'event')} became a page-cache operation: the ${plural(unusable, 'known event')} were unusable (see --stats: unusableEvents)`
        : `none of its ${plural(events, 'event')} is one the ${chosen.kernel} adapter knows as a page-cache operation (see --stats for the events it saw; pass --probes to say what user-named probes mean)`,
    );
  }
  // rules the trace cannot support: not a pass in the formats CI reads (report's kernel-ci, junit)
  const unjudged: NonNullable<ReplayVerdict['unjudged']> = [];
  // One entry per rule: a rule not judged for two reasons keeps both in its one `reason` (joined by
  // "; ", in the order found), and is `unexercised` only when every reason says the trace never
  // showed what it judges — one shortfall makes it a shortfall (diff leaves a rule out only when
  // every run of both sides never exercised it). Two entries of one rule let a reader taking the
  // first see only one reason, and diff read the rule as never exercised from the other.
  const reasonsOf = new Map<RuleId, string[]>();
  const notJudged = (rule: RuleId, reason: string, unexercised = false): void => {
    const seen = reasonsOf.get(rule);
    if (!seen) {
      reasonsOf.set(rule, [reason]);
      unjudged.push(unexercised ? { rule, reason, unexercised: true } : { rule, reason });
      return;
    }
    const u = unjudged.find((x) => x.rule === rule)!;
    if (!seen.includes(reason)) {
      seen.push(reason);
      u.reason = seen.join('; ');
    }
    if (!unexercised) delete u.unexercised;
  };
  if (c.ops > 0 && !c.byOp.get('pte_map') && !c.byOp.get('pte_unmap') && !c.anonCopies) {
    const pteProbes = Object.entries(chosen.map.probes)
      .filter(([, m]) => m.op === 'pte_map' || m.op === 'pte_unmap')
      .map(([k]) => k.replace(/^kprobe:/, ''));
    const why = `the trace shows no PTE changes (kprobes on ${pteProbes.join('/') || 'the rmap functions'})`;
    // Replay's stale-data is a fault mapping a page an invalidate left cached: without PTE events it
    // cannot fire, whether or not a page left the cache. With none leaving it, mapped-page-removed and
    // orphan-page-mapped had nothing to judge (below), and no PTE can map a removed page, so a
    // successful invalidate's promise is kept whatever the PTEs were.
    const rules = c.byOp.get('cache_delete') > 0 ? PTE_RULES : (['stale-data'] as const);
    warnings.push(`${why}, so ${rules.join(', ')} cannot be judged`);
    for (const rule of rules) notJudged(rule, why);
  }
  const apart = chosen.probeAdapter.pfnsApart();
  if (apart && c.byOp.get('cache_delete') > 0) {
    const base = chosen.vmemmap === undefined ? 'no vmemmap base' : `vmemmap base 0x${chosen.vmemmap.toString(16)} (${chosen.vmemmapSource})`;
    const why = `none of the ${plural(apart.fromPages, 'pfn')} read from struct page pointers (${base}, struct page ${chosen.map.structPageSize} bytes) is one of the ${plural(apart.printed, 'pfn')} the trace prints: the vmemmap base or struct page size is likely not the traced boot's`;
    warnings.push(`${why}, so ${PTE_RULES.join(', ')} cannot be judged (pass the boot's --vmemmap-base)`);
    for (const rule of PTE_RULES) notJudged(rule, why);
  }
  // A rule whose trigger the trace never shows had nothing to judge: a probe that did not fire
  // (renamed or inlined by the patch under test) or a workload that never does it. No finding
  // of it is then not a pass, and a diff does not call the base's findings of it fixed.
  const nothingToJudge = (rules: readonly RuleId[], why: string): void => {
    const fresh = rules.filter((rule) => !unjudged.some((u) => u.rule === rule));
    if (!fresh.length) return;
    warnings.push(`${why}, so ${fresh.join(' and ')} had nothing to judge`);
    for (const rule of fresh) notJudged(rule, why, true);
  };
  if (c.ops > 0 && !c.byOp.get('cache_delete'))
    nothingToJudge(
      ['mapped-page-removed', 'orphan-page-mapped'],
      'no page left the page cache in the trace (no mm_filemap_delete_from_page_cache or other cache_delete event)',
    );
  if (c.ops > 0 && !c.promises && !c.uncheckedInvalidates)
    nothingToJudge(['stale-after-invalidate'], 'no invalidate_inode_pages2_range call returned 0 in the trace');
  // perf shows its lost events only when asked: a trace without them may still have lost some
  if (perfUnsure)
    warnings.push(
      "this is `perf script` output, which prints the events perf lost only with --show-lost-events (`perf record` reports lost chunks on its stderr): replay counts one gap on every CPU for the whole trace, so findings that rest on the page cache's state are uncertain and finding nothing is not a clean run; if the trace was printed with `perf script --show-lost-events`, pass --perf-lost-events-shown",
    );
  if (captureLoss) {
    // the trace's own loss marks (a trace.dat's missed-events counts) count some of the same events
    lost = Math.max(lost, captureLoss.lost + captureLoss.probeMisses);
    warnings.push(
      `${captureLossReason(captureLoss)}: replay counts one gap on every CPU for the whole trace, so findings that rest on the page cache's state are uncertain and finding nothing is not a clean run`,
    );
  }
  if (sorter.late)
    warnings.push(
      `${sorter.late} events arrived after the reorder window (${window} events) had passed their timestamp; they were replayed in arrival order and findings on their CPUs are uncertain`,
    );
  for (const [rule, { sets, note, example }] of [...engine.tieAvoided].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const why = `${plural(sets, 'set')} of events on several CPUs with ${skew ? 'timestamps within --clock-skew of one another' : 'one timestamp'} (the first at ${note.source}:${note.line}) ${sets === 1 ? 'raises' : 'raise'} ${rule} in an order the timestamps allow, and nothing in the order replayed (there: ${example})`;
    warnings.push(`${why}: replay cannot tell which order ran, so finding no ${rule} is not a pass`);
    notJudged(rule, why);
  }
  if (engine.tieUnsearched) {
    // replayed as printed: an order not tried may raise what the printed one did not
    const { sets, note } = engine.tieUnsearched;
    const why = `${plural(sets, 'set')} of events on several CPUs with ${skew ? 'timestamps within --clock-skew of one another' : 'one timestamp'} (the first at ${note.source}:${note.line}) ${sets === 1 ? 'has' : 'have'} more than ${MAX_TIE_ORDERS} orders the timestamps allow, too many to try, and ${sets === 1 ? 'was' : 'were'} replayed as printed`;
    const rules = ORDER_RULES.filter((rule) => !unjudged.some((u) => u.rule === rule));
    if (rules.length) {
      warnings.push(`${why}: replay cannot tell what the other orders raise, so finding none of ${rules.join(', ')} is not a pass`);
      for (const rule of rules) notJudged(rule, why);
    }
  }
  if (engine.gaps.unordered && opCpus.several) {
    const why = `${engine.gaps.unordered.reason}, so replay cannot tell in which order events of different CPUs ran`;
    const rules = PTE_RULES.filter((rule) => !unjudged.some((u) => u.rule === rule));
    // (the rules judged across CPUs may all be unjudged already, for another reason: then there is no list to name)
    warnings.push(
      `${why}: every finding is uncertain${rules.length ? `, and finding none of ${rules.join(', ')} is not a pass` : ''} (${perCpuClockHint(clock)})`,
    );
    for (const rule of rules) notJudged(rule, why);
    // not only findings that cite two CPUs: an event another CPU printed later (a PTE removed, the
    // pfn added again) may have run before one on this CPU's own events, and undone it
    allUncertain(engine.findings, `${engine.gaps.unordered.reason} (${engine.gaps.unordered.source}), and ${opCpus.why()}.`);
  }
  if (c.staleUnjudged) {
    const why = `${plural(c.staleUnjudged, 'page')} still mapped at the end of the trace after leaving the page cache ${c.staleUnjudged === 1 ? 'lies' : 'lie'} in ranges of invalidate_inode_pages2_range calls whose promise replay no longer kept (it keeps the last ${PROMISES_KEPT} ranges per file)`;
    warnings.push(`${why}, so stale-after-invalidate could not judge ${c.staleUnjudged === 1 ? 'it' : 'them'}`);
    notJudged('stale-after-invalidate', why);
  }
  if (c.uncheckedInvalidates) {
    warnings.push(
      `${c.uncheckedInvalidates} successful invalidate_inode_pages2_range calls had no file or range in the trace (fetch ino and the range in the probe), so stale-after-invalidate was not judged for them`,
    );
    notJudged('stale-after-invalidate', `${plural(c.uncheckedInvalidates, 'successful invalidate_inode_pages2_range call')} had no file or range in the trace`);
  }
  if (engine.pidReuses.length) {
    const [first] = engine.pidReuses;
    const more = engine.pidReuses.length - 1;
    const why = `pid ${first!.pid} exited (${first!.exit.source}:${first!.exit.line}) and the trace shows it again (${first!.again.source}:${first!.again.line})${more ? ` (and ${plural(more, 'other reuse')})` : ''}: the thread group the trace gives a pid is the kernel's pid → tgid table when the trace was read, the later task's, so PTEs the earlier task changed may have been replayed in another address space than theirs`;
    warnings.push(`${why}; findings that rest on how many PTEs map a page are uncertain, and finding none of ${MAP_RULES.join(', ')} is not a pass`);
    for (const rule of MAP_RULES) notJudged(rule, why);
  }
  const unseenExits = engine.exitsUnseen();
  if (unseenExits) {
    const why = unseenExits.reason;
    warnings.push(
      `${why}; findings that rest on how many PTEs map a page are uncertain, and finding none of ${MAP_RULES.join(', ')} is not a pass (trace sched:sched_process_exit with the rest: kreplay capture does since 2026-12-07)`,
    );
    for (const rule of MAP_RULES) notJudged(rule, why);
  }
  if (engine.misnamed.length) {
    for (const f of engine.findings) renameNote(f, engine.misnamed);
    const [m] = engine.misnamed;
    const more = engine.misnamed.length - 1;
    warnings.push(
      `${misnamedText(m!)}${more ? ` (and ${plural(more, 'other exit')} the trace names so)` : ''}: the task names of a trace are the kernel's saved_cmdlines when it was read (one name per pid, its newest task's), not what each task was called when it ran, so a finding citing an event of such a pid before its exit names another task (each one says so)`,
    );
  }
  if (c.missedReturns) {
    // each a gap on no CPU between the task's two entries (ReplayEngine.probedCall), its return counted as lost
    gaps += c.missedReturns;
    lost += c.missedReturns;
    const first = engine.firstMissedReturn!;
    warnings.push(
      `${plural(c.missedReturns, 'return')} of probed functions ${c.missedReturns === 1 ? 'was' : 'were'} lost: a task entered the function again, or exited, before the trace showed it return (the first: ${first.source}:${first.line}), so the kretprobe missed it (all of its maxactive instances in use: kprobe_profile counts it in nmissed; \`r<N>:\` raises maxactive) or the ring buffer dropped it (per_cpu/cpu*/stats count dropped events): each is a gap between the entry and what followed it, findings that rest on what it may hide are uncertain and finding nothing is not a clean run`,
    );
  }
  if (c.maybeCopies)
    warnings.push(
      `${plural(c.maybeCopies, 'PTE')} installed by do_set_pte/set_pte_range may have mapped a private write fault's new anonymous page rather than the file's (the probe fetched neither vmf->flags nor vma->vm_flags, nor a non-NULL page->mapping, and no page_add_file_rmap followed): replayed as the file's, findings on those pages are uncertain; fetch faultFlags and vmFlags in that probe`,
    );
  if (unusable)
    warnings.push(
      `${plural(unusable, 'event')} known to the probe map could not be used (see --stats: unusableEvents); findings on what they may have changed are uncertain`,
    );
  if (engine.findingsDropped)
    warnings.push(`${engine.findingsDropped} findings beyond the first ${opts.maxFindings ?? DEFAULT_MAX_FINDINGS} of their rule were counted but not kept`);

  const stats: ReplayStats = {
    events,
    ops: c.ops,
    pages: engine.shadow.pfnsSeen,
    gaps,
    lostEvents: lost,
    ms: Math.round(ms * 1000) / 1000,
    eventsPerSec: ms > 0 ? Math.round(events / (ms / 1000)) : 0,
    byOp: c.byOp.toRecord(),
    usedEvents: names!.used(),
    unknownEvents: unknown,
    unknownByEvent: names!.unknownByEvent(),
    unusableEvents: sortedRecord(unusableEvents),
    adopted: c.adopted,
    lateEvents: sorter.late,
    reorderWindow: window,
    nestedDuplicates: c.nestedDuplicates,
    mapcountResyncs: c.mapcountResyncs,
    ...(c.anonCopies ? { anonCopies: c.anonCopies } : {}),
    ...(c.maybeCopies ? { maybeCopies: c.maybeCopies } : {}),
    ...(c.missedReturns ? { missedReturns: c.missedReturns } : {}),
    returns: engine.returns(),
    uncheckedInvalidates: c.uncheckedInvalidates,
    promisesForgotten: c.promisesForgotten,
    latency: { fault: engine.latency.fault.toJSON(), invalidate: engine.latency.invalidate.toJSON(), truncate: engine.latency.truncate.toJSON() },
    findingsDropped: engine.findingsDropped,
    ...droppedByRule(engine.findingsDroppedBy, marksDropped),
    ties,
  };
  observed.sort((x, y) => (x.ev.ts < y.ev.ts ? -1 : x.ev.ts > y.ev.ts ? 1 : x.ev.cpu - y.ev.cpu || x.ev.line - y.ev.line));
  const findings = mergeByTime(
    engine.findings,
    observed.map((m) => mismatchFinding(m, opts.meta)),
  );
  const counted = countedMismatches(opts.meta);
  if (marksDropped)
    warnings.push(`${marksDropped} workload mismatch markers beyond the first ${opts.maxFindings ?? DEFAULT_MAX_FINDINGS} were counted but not kept`);
  if (counted !== undefined && counted > observed.length + marksDropped) {
    warnings.push(
      `the workload counted ${plural(counted, 'mismatch', 'mismatches')} (meta.json workload.result) but the trace marks ${observed.length + marksDropped} (it marks at most its first 32, and a marker can be lost): stale data was seen more often than the findings say`,
    );
    // the workload saw stale data and no finding says so: whatever else the trace shows, stale-data is not a pass
    if (!findings.some((f) => f.rule === 'stale-data'))
      notJudged('stale-data', `the workload counted ${plural(counted, 'mismatch', 'mismatches')} (meta.json workload.result) and the trace marks none of them`);
  }
  const uncertain = findings.filter((f) => f.certainty === 'uncertain').length;
  const verdict: ReplayVerdict = {
    status: inconclusive.length ? 'inconclusive' : findings.length || engine.findingsDropped ? 'findings' : 'clean',
    inconclusive,
    certain: findings.length - uncertain,
    uncertain,
    unusableEvents: unusable,
    gaps,
    lostEvents: lost,
    tiedGroups: ties.groups,
    ...(unjudged.length ? { unjudged } : {}),
  };
  return {
    verdict,
    findings,
    stats,
    trace: {
      source,
      kernel: chosen.kernel,
      kernelReason: chosen.reason,
      release: metaRelease(opts.meta),
      clock,
      clockFrom,
      firstTs,
      lastTs,
      header,
      probeSources: chosen.probeSources,
      vmemmapBase: chosen.vmemmap,
      vmemmapSource: chosen.vmemmapSource,
      metaSource: opts.metaSource,
      // a trace.dat's thread groups come from a saved_tgids or from nowhere; a text trace's are its own column
      ...(header[TRACE_DAT_KEY] !== undefined ? { tgidsSource: opts.tgids ? (opts.tgidsSource ?? 'given') : null } : {}),
    },
    pagesSeen: engine.pagesSeen.toJSON(),
    warnings,
    meta: opts.meta,
    latencyNs: { fault: engine.latency.fault.samples(), invalidate: engine.latency.invalidate.samples(), truncate: engine.latency.truncate.samples() },
  };
}

/**
 * The events whose fields replay reads (the parser leaves the payloads of the others —
 * sched, irq, function lines, unmapped probes — undecoded; they are still counted).
 */
export async function replayFieldsWanted(opts: ReplayOptions): Promise<FieldsWanted> {
  return (await resolveReplayConfig(opts)).fieldsWanted;
}

/** Replay a trace file (or `-` for stdin), with its meta.json read once, found next to it unless given. */
export async function replayFile(file: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const o: ReplayOptions = { ...opts, source: opts.source ?? oneLine(file) };
  // meta.json beside any trace; saved_tgids beside a trace.dat only (a text trace's groups are its own column)
  const beside = o.meta && o.tgids ? {} : await besideTrace(file);
  if (!o.meta && beside.meta !== undefined) {
    o.meta = await readTraceMeta(beside.meta);
    o.metaSource = oneLine(beside.meta);
  }
  if (!o.tgids && beside.savedTgids !== undefined) {
    o.tgids = await readSavedTgids(beside.savedTgids);
    o.tgidsSource = oneLine(beside.savedTgids);
  }
  const config = await resolveReplayConfig(o);
  // a trace.dat decodes only the fields replay reads; ops handed to onOp carry every field
  const records = () =>
    openTraceBatches(file, {
      source: o.source,
      signal: o.signal,
      fields: config.fieldsWanted,
      ...(o.onOp ? {} : { fieldPlan: config.fieldPlan }),
      ...(o.buffer !== undefined ? { buffer: o.buffer } : {}),
      ...(o.tgids ? { tgids: o.tgids } : {}),
    });
  let result: ReplayResult;
  if (file === '-' || o.onOp) result = await replay(records(), o, config);
  else {
    // Traces come merged by timestamp (tracefs, trace-cmd, the trace.dat reader's merge): the
    // reorder window would hold every record for nothing. Replayed without it, unless a record
    // comes that the window would have moved — then again, from the start, with it (the same
    // result either way; only stdin cannot be read twice, and onOp would see ops twice).
    try {
      result = await replay(records(), { ...o, inOrder: true }, config);
    } catch (e) {
      if (!(e instanceof ReorderNeeded)) throw e;
      result = await replay(records(), o, config);
    }
  }
  if (file !== '-') await citeVerbatim(file, result.findings, o.signal);
  return result;
}
