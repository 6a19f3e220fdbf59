/**
 * The public shapes of a replay: its options and its one result object, from which every
 * output format (packages/report) and the diff are computed without replaying again.
 */
import type { TraceRecord } from '@kreplay/core';
import type { Finding, MetaJson, MmOp, MmOpKind, ProbeMap, RuleId } from '@kreplay/core';
import type { LatencyHistogram } from './latency-histogram.js';
import type { TieStats } from './ties.js';
import type { ClockFrom } from './clocks.js';
import type { PagesSeen } from './pages-seen.js';

/** `linux-6.1` (or any kernel with a probe map in kernel-configs/probes/), `explore`, or `auto`. */
export type KernelChoice = string;

export interface ReplayOptions {
  /** Adapter: `auto` (default) picks from `# kreplay: explore` header lines, then meta.json, then linux-6.1. */
  kernel?: KernelChoice;
  /** A probe map given by the user (`--probes FILE`, already loaded); wins over meta.json and the defaults. */
  probes?: ProbeMap;
  /** Where `probes` came from, for messages. */
  probesSource?: string;
  /** The trace's meta.json content (replayFile finds it next to the trace). */
  meta?: MetaJson;
  /** Where `meta` came from, for messages. */
  metaSource?: string;
  /**
   * A trace.dat's thread groups, pid → tgid: the traced kernel's saved_tgids (`--tgids FILE`;
   * replayFile finds one next to the trace). A trace.dat holds none, so without it every pid reads
   * as its own address space where that changes a finding (docs/replay.md, session 44).
   */
  tgids?: ReadonlyMap<number, number>;
  /** Where `tgids` came from, for messages. */
  tgidsSource?: string;
  /** `vmemmap_base` override (`--vmemmap-base`). */
  vmemmapBase?: bigint;
  /** Events the reorder buffer holds before it must emit (default 4096). */
  reorderWindow?: number;
  /**
   * The records come in the order the reorder buffer would replay them (a trace merged by
   * timestamp, as tracefs, trace-cmd and the trace.dat reader merge it): each is replayed as
   * it arrives, and the first one the buffer would have moved throws `ReorderNeeded` (order.ts)
   * — the caller then replays the input again without this. replayFile does so for files.
   */
  inOrder?: boolean;
  /** Findings kept at most per rule (default 10000); the rest are counted in `findingsDropped`. */
  maxFindings?: number;
  /** Label of the input in results (file name, `-`). */
  source?: string;
  /** Called with every MmOp as it is replayed (in replay order), e.g. for behaviour counters. */
  onOp?: (op: MmOp) => void;
  /** Stops the replay between records; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called every `progressEvery` records with the count so far. */
  onProgress?: (events: number) => void;
  progressEvery?: number;
  /** Check after every search of tied events that the state it tried orders on was put back exactly (slow: for tests). */
  selfCheck?: boolean;
  /**
   * The user says a `perf script` trace was printed with `--show-lost-events`, so every event perf
   * lost is in it as a gap. Without it, a perf script trace may have lost events anywhere without a
   * line saying so: replay counts one gap on every CPU for the whole trace (findings that rest on
   * the page cache's state are uncertain, and no finding is not a clean run).
   */
  perfLostEventsShown?: boolean;
  /**
   * How far apart the CPUs' clocks may be, in the trace's time units (`--clock-skew`): events of
   * different CPUs this close (each at most this after the one before) are searched in every order, as timestamp ties are
   * (ties.ts). Without it a per-CPU trace clock (`local`, `perf`, `x86-tsc`: clocks.ts) orders
   * no two CPUs' events: findings that involve two CPUs are uncertain and the rules that judge
   * across CPUs are not judged.
   */
  clockSkew?: bigint;
  /**
   * The trace clock the user says the trace was recorded with (`--trace-clock`, one of the
   * kernel's names: clocks.ts TRACE_CLOCK_NAMES), for a trace that does not name it. The trace's
   * own record (a trace.dat, perf's header) and meta.json's `buffer.clock` come first; one that
   * names another clock is an InputError. Without any of them the clock is unknown, and read as
   * per CPU (the default of tracefs, trace-cmd and perf).
   */
  traceClock?: string;
  /**
   * A trace.dat's ring buffer (tracefs instance) to replay, "" for the top one (`--buffer`). Without
   * it replay reads the top one (else the first), and other buffers the file holds are a gap: their
   * events are part of the trace and were not read.
   */
  buffer?: string;
}

export interface ReplayStats {
  /** TraceEvents read. */
  events: number;
  /** Events lifted to MmOps (after de-duplication of nested probes). */
  ops: number;
  /** Distinct pfns the replay tracked. */
  pages: number;
  /** Gap records (lost events, dropped events, unparseable lines, ...). */
  gaps: number;
  /** Events the gaps say were lost, where they say. */
  lostEvents: number;
  /** Wall-clock milliseconds of the replay, parsing included. */
  ms: number;
  eventsPerSec: number;
  /** MmOps per kind. */
  byOp: Partial<Record<MmOpKind, number>>;
  /** Trace events the adapter used, per event name. */
  usedEvents: Record<string, number>;
  /** Events the adapter does not know (sched, irq, ...): passed through, counted. */
  unknownEvents: number;
  unknownByEvent: Record<string, number>;
  /** Known events that could not be used (a required field missing or unreadable), per `event: reason`. */
  unusableEvents: Record<string, number>;
  /** Things the trace showed mid-life and replay adopted instead of flagging. */
  adopted: {
    /** Pages first seen after they entered the page cache (cached before tracing began). */
    pages: number;
    /** PTE removals of mappings made before the trace began (or of pages replay does not track). */
    mappings: number;
    /** Returns whose entry predates the trace. */
    calls: number;
    /** Pages re-used by a cache the trace does not show (pte_map of a removed pfn under another file). */
    reused: number;
    /**
     * PTEs whose removal the trace did not show, known gone because the pfn was added to the
     * cache again or a new PTE took their address in the same process (a probe that names a
     * page's file through page->mapping cannot see a page whose mapping is NULL).
     */
    unseenUnmaps: number;
  };
  /** Events that arrived after the reorder window had already moved past their timestamp. */
  lateEvents: number;
  reorderWindow: number;
  /** Nested probes describing one mapping (do_set_pte → page_add_file_rmap) counted once. */
  nestedDuplicates: number;
  /** Times a probe-read `_mapcount` disagreed with the replayed count and replaced it. */
  mapcountResyncs: number;
  /**
   * PTEs of private write faults' new anonymous pages (do_set_pte / set_pte_range whose probe's
   * fault and VMA flags say so): not page-cache mappings, not replayed. Absent when 0.
   */
  anonCopies?: number;
  /** PTEs that may have mapped such a page (the probe cannot tell, and no page_add_file_rmap followed): replayed, and uncertain. Absent when 0. */
  maybeCopies?: number;
  /**
   * Returns of probed functions the trace lost: a task entered the function again, or exited
   * (sched_process_exit), before the trace showed it return (the kretprobe out of instances, or
   * the ring buffer dropped it). Each
   * is a gap, counted in `gaps` and `lostEvents` too. Absent when 0.
   */
  missedReturns?: number;
  /** Return values per function (`filemap_fault` → {`0x200`: n}, `invalidate_inode_pages2_range` → {`-16`: n}). */
  returns: Record<string, Record<string, number>>;
  /** Invalidates whose range or file was unknown, so stale-after-invalidate could not be judged. */
  uncheckedInvalidates: number;
  /** Promised-coherent ranges dropped because a file had more than 256 distinct ones (bounded memory). */
  promisesForgotten: number;
  /** Entry→return latencies (ns) of paired calls. */
  latency: { fault: LatencyHistogram; invalidate: LatencyHistogram; truncate: LatencyHistogram };
  /** Findings beyond `maxFindings`, counted and not kept. */
  findingsDropped: number;
  /**
   * Per rule, findings counted and not kept: `findingsDropped`'s, and workload mismatch markers
   * beyond `maxFindings` (stale-data). Absent when none. A diff cannot call a base finding of
   * such a rule gone from this run: it may be one of them.
   */
  findingsDroppedByRule?: Partial<Record<RuleId, number>>;
  /** Events on several CPUs that print one timestamp, and what searching their orders did (ties.ts). */
  ties: TieStats;
}

/**
 * What the replay concluded, in one place every format shows: `inconclusive` when the trace
 * cannot support a verdict (no events, or none that is a page-cache operation) — never
 * clean; `findings` when there are any; `clean` otherwise. The counts say how far the
 * verdict can be trusted.
 */
export interface ReplayVerdict {
  status: 'clean' | 'findings' | 'inconclusive';
  /** Why no verdict could be reached (empty unless inconclusive). */
  inconclusive: string[];
  certain: number;
  uncertain: number;
  /** Known events replay could not use: findings on what they may have changed are uncertain. */
  unusableEvents: number;
  gaps: number;
  lostEvents: number;
  /** Groups of events on several CPUs that print one timestamp (their order was searched). */
  tiedGroups: number;
  /** Rules the trace could not support, and why (absent when it supports every one): no finding of theirs is not a pass. */
  unjudged?: Array<{
    rule: RuleId;
    reason: string;
    /**
     * The trace never shows what the rule judges (no page left the cache, no invalidate returned
     * 0): a probe that did not fire, or a workload that never does it. A diff whose base runs
     * never showed it either leaves the rule out of its sides' `unjudged` (the workload does not
     * exercise it on either kernel); the run's own verdict still says it was not judged.
     */
    unexercised?: true;
  }>;
}

export interface ReplayTraceInfo {
  source: string;
  /** Adapter used: `linux-6.1`, `explore`, ... */
  kernel: string;
  /** Why that adapter (`--kernel`, `# kreplay: explore header`, `meta.json kernel 6.1.0-56-amd64`, `default`). */
  kernelReason: string;
  /** Kernel release from meta.json, when known. */
  release?: string;
  /** Trace clock (`global`, `mono`, ...), when the trace, meta.json or the user says. */
  clock?: string;
  /** Where the clock came from: the trace's own record, meta.json, `--trace-clock`, or nowhere (`unknown`: read as per CPU). */
  clockFrom: ClockFrom;
  firstTs?: bigint;
  lastTs?: bigint;
  /** `# kreplay: key=value` and other header metadata the reader reported. */
  header: Record<string, string | number>;
  /** Where the probe meanings came from, most specific first. */
  probeSources: string[];
  vmemmapBase?: bigint;
  vmemmapSource?: string;
  metaSource?: string;
}

export interface ReplayResult {
  verdict: ReplayVerdict;
  findings: Finding[];
  stats: ReplayStats;
  trace: ReplayTraceInfo;
  /**
   * The page-cache pages (file, index) the trace showed in the cache, as index ranges per file
   * (pages-seen.ts; bounded: `complete` is false when some were not recorded). A diff calls a
   * base finding gone only on a run that showed its page.
   */
  pagesSeen: PagesSeen;
  /** Things the user should know that are not findings (missing vmemmap base, late events, ...). */
  warnings: string[];
  /** The trace's meta.json as read (workload counters, profile), for diff and reports. */
  meta?: MetaJson;
  /**
   * Raw entry→return latencies (ns) of outermost calls, per span: every sample up to
   * 10000, a deterministic uniform reservoir beyond (`stats.latency` has the full histograms).
   */
  latencyNs: { fault: number[]; invalidate: number[]; truncate: number[] };
}

export type RecordSource = AsyncIterable<TraceRecord> | Iterable<TraceRecord>;
