/**
 * The one result object of a diff. Every output format (text, json, junit, sarif, github,
 * html) is a function of a DiffResult; no format recomputes anything.
 */
import type { FailOn, Finding, Severity } from '@kreplay/core';
import type { PagesSeen } from '@kreplay/replay';
import type { Distribution, Histogram, Significance } from './significance.js';

/** Spans replay measures from entry/return pairs. */
export const LATENCY_OPS = ['fault', 'invalidate', 'truncate'] as const;
export type LatencyOp = (typeof LATENCY_OPS)[number];

/** A workload result value as meta.json carries it. */
export type WorkloadValue = number | string | boolean | null;

/** What one run (one trace, or one replay result) contributes to a side. */
export interface RunData {
  /** The input as given on the command line. */
  source: string;
  /** The trace that was replayed, when known (the report reads events around findings from it). */
  trace?: string;
  findings: Finding[];
  /** Span of the trace's timestamps, ns (0 when unknown). */
  durationNs: number;
  /** Behaviour counters by metric name (see BEHAVIOUR_METRICS). */
  counts: Record<string, number>;
  /** Entry→return latencies, ns (replay's histograms: every call). */
  latency: Partial<Record<LatencyOp, Histogram>>;
  /** Raw entry→return samples, ns, when replay kept them (all, or a fixed-seed reservoir of 10000). */
  samples?: Partial<Record<LatencyOp, number[]>>;
  stats: { events: number; ops: number; gaps: number; unknown: number };
  /** Known events replay could not use (findings on what they may have changed are uncertain). */
  unusableEvents?: number;
  /** Rules replay could not judge on this run's trace, and why (replay's verdict `unjudged`); absent when none. */
  unjudged?: Array<{ rule: string; reason: string; unexercised?: boolean }>;
  /**
   * Rules of which the replay counted findings it did not keep (past its cap per rule), each with
   * why (`the replay counted 1 more mapped-page-removed finding than the 10000 it kept, so which
   * pages it was on is not known`); absent when none. Also in `unjudged`.
   */
  notKept?: Record<string, string>;
  /**
   * The pages the run's trace showed in the cache (replay's `pagesSeen`). Absent (a replay JSON
   * from before session 33) or not `complete`: it may have shown any page.
   */
  pagesSeen?: PagesSeen;
  /** How many findings the replay counted and did not keep (absent when none): they count in the `findings` threshold. */
  findingsNotKept?: number;
  /** What the diff should say about this input (a replay JSON that does not say what it judged); absent when nothing. */
  warnings?: string[];
  /**
   * Why this run cannot count (empty when it can): its trace held no events or no page-cache
   * operation, or its workload failed. Such a run takes no part in the comparison; a side
   * with no other run makes the diff inconclusive. Absent: it counts.
   */
  inconclusive?: string[];
  /** Workload result counters from the trace's meta.json. */
  workload?: Record<string, WorkloadValue>;
  /** meta.json path the workload results came from. */
  metaPath?: string;
  /** The workload that ran (meta.json `workload.name`). */
  workloadName?: string;
  /** The workload's test file as a FileKey (`254:0/c`), from meta.json, when it says. */
  testFile?: string;
  /** The traced kernel's release (meta.json `kernel.release`, `6.1.0-56-amd64`), when it says. */
  kernelRelease?: string;
}

export interface SideInfo {
  label: string;
  runs: string[];
  /** Sum of the runs' trace spans, ns. */
  durationNs: number;
  events: number;
  ops: number;
  gaps: number;
  /** Known events replay could not use, over the side's runs. */
  unusableEvents: number;
  /** Rules some run of the side could not judge: rule → why, with the runs (absent when every run judged every rule). */
  unjudged?: Record<string, string>;
  /**
   * Rules of which some run of the side counted findings its replay did not keep (past replay's
   * cap per rule): rule → why, with the runs (absent when none). On the base side a patched
   * finding of such a rule absent from the kept ones is not new (`findings.maybeNew`); on the
   * patched side a base finding of it is not fixed (`findings.unjudged`).
   */
  notKept?: Record<string, string>;
  /** Runs that cannot count (and why); they are left out of everything else. */
  inconclusiveRuns: Array<{ run: string; reasons: string[] }>;
}

/** A finding class: the same rule on the same page-cache page (file, index). */
export interface FindingEntry {
  /** `rule file index`: the identity findings are matched by, never ts or pfn. */
  key: string;
  rule: Finding['rule'];
  severity: Severity;
  certainty: Finding['certainty'];
  file?: string;
  index?: number;
  /** Occurrences on each side (summed over runs). */
  base: number;
  patched: number;
  /** Runs of each side it occurred in. */
  baseRuns: number;
  patchedRuns: number;
  /**
   * Fixed and new entries: whether the silent side's silence could be chance (Fisher's exact test
   * on runs, significance.ts `fixedChance` / `newChance`). Fixed: the base runs, and the patched
   * runs that could have shown it and did not; new: the base runs that could have shown it and did
   * not, and the patched runs. `significant` (p < ALPHA) is what "fixed" needs to be more than a
   * guess, and what "new" needs to be shown the patch's rather than a race the base has too, unseen.
   */
  chance?: Chance;
  /**
   * Unchanged entries seen in a larger share of the patched runs than of the base runs: whether that
   * could be chance (significance.ts `riseChance`, Fisher's exact test on runs). A significant rise
   * of a finding at --fail-on is a regression (`reasons`: `more often: ...`): the patch makes a race
   * the base already had likelier. Absent when the patched share is not larger.
   */
  rise?: Rise;
  /**
   * Unjudged and maybeNew entries: why, when the diff says it of this entry itself (a page the
   * patched traces never showed, a finding whose page is not known); absent: the rule's reason
   * (the patched side could not judge it, the base side did not keep every finding of it).
   */
  reason?: string;
  /**
   * A representative finding (the patched one for new/unchanged, the base one for fixed): the
   * first occurrence, or the first certain one when the first was uncertain — so `certainty` is
   * `certain` when any occurrence on that side is.
   */
  example: Finding;
  /** The run the example comes from. */
  exampleRun: string;
}

export interface Chance {
  /**
   * Base runs. Fixed: all of them (it was seen in the entry's `baseRuns`). New: those that could
   * have shown it (judged its rule, no gap, no unusable event, kept every finding of the rule,
   * showed its page).
   */
  baseRuns: number;
  /**
   * Patched runs. Fixed: those that could have shown it (as above). New: all of them (it was seen
   * in the entry's `patchedRuns`).
   */
  patchedRuns: number;
  /** P(none of the silent side's runs shows it | the runs' margins), Fisher's exact test, one-sided. */
  p: number;
  /**
   * Fixed entries some of whose base sightings are all uncertain: the base runs where it was
   * certain, the only ones `p` counts as showing it (an uncertain finding may never have happened);
   * absent when it was certain in every base run that showed it.
   */
  certainBaseRuns?: number;
  /** p < ALPHA (0.01, as for latency). */
  significant: boolean;
  /**
   * New entries that no base run could have shown (`baseRuns` 0, p = 1): why, in words (`the base
   * traces never show 8:16/2a index 0`); absent otherwise.
   */
  unseen?: string;
}

export interface Rise {
  /** Base runs that showed it or could have (judged its rule, no gap or unusable event, kept every finding of it, showed its page). */
  baseRuns: number;
  /** Base runs that showed it, certain or not (an uncertain sighting counts: it can only make a rise harder to show). */
  baseShowing: number;
  /** All patched runs. */
  patchedRuns: number;
  /** Patched runs that showed it. */
  patchedShowing: number;
  /** P(at least patchedShowing of the runs showing it are patched runs | the runs' margins), one-sided. */
  p: number;
  /** p < ALPHA (0.01). */
  significant: boolean;
}

/** The chance of a fixed entry (the name before new entries had one too). */
export type FixedChance = Chance;

export interface MetricSide {
  count: number;
  /** Count per second of trace (null when the span of a run of the side is unknown). */
  perSec: number | null;
}

export interface BehaviourRow {
  name: string;
  description: string;
  base: MetricSide;
  patched: MetricSide;
  /** Percent change of the rate (or of the count per run when a side's span is unknown); null when base is 0. */
  changePct: number | null;
}

export interface LatencyRow {
  op: LatencyOp;
  base: Distribution;
  patched: Distribution;
  /** Percent change per percentile; null when either side has no sample. */
  changePct: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  significance: Significance;
}

export interface WorkloadRow {
  name: string;
  /** Per-run values, in run order. */
  base: WorkloadValue[];
  patched: WorkloadValue[];
}

export interface ThresholdCheck {
  /** Metric name as given to --max-regression (`faults`, `fault.p99`, `workload.mismatches`). */
  metric: string;
  maxPct: number;
  base: number | null;
  patched: number | null;
  changePct: number | null;
  exceeded: boolean;
  /**
   * Whether the metric could be compared at all: false when neither side has its samples or
   * counter, or too few samples to tell — then it is neither exceeded nor held (formats say
   * "not judged", KTAP/KCIDB DONE, never a pass).
   */
  judged: boolean;
  /** Why it was or was not judged a regression. */
  note: string;
}

export interface DiffResult {
  tool: 'kreplay diff';
  version: 1;
  failOn: FailOn;
  base: SideInfo;
  patched: SideInfo;
  findings: {
    new: FindingEntry[];
    fixed: FindingEntry[];
    unchanged: FindingEntry[];
    /**
     * Base findings absent from the patched side that no patched run could have shown: each
     * could not judge the rule (replay's `unjudged`: no PTE probe fired, ...) or its trace has
     * gaps or unusable events (the events that raise the finding may be among those lost).
     * Not fixed. Present only when there are any.
     */
    unjudged?: FindingEntry[];
    /**
     * Patched findings absent from every base run's findings, of a rule some base run counted
     * more findings of than its replay kept (past replay's cap per rule; `base.notKept`): the
     * base may have had them among those, so they are not new (no regression) and not unchanged
     * either; one at --fail-on keeps the diff from a pass. Present only when there are any.
     */
    maybeNew?: FindingEntry[];
  };
  behaviour: BehaviourRow[];
  latency: LatencyRow[];
  workload: WorkloadRow[];
  thresholds: ThresholdCheck[];
  /**
   * `inconclusive` when a side has no run that saw page-cache operations to judge, or the
   * sides' meta.json files name different workloads (never exit 0); else `regression` when a new finding reaches --fail-on or a metric exceeds its
   * threshold; else `no-regression`.
   */
  verdict: 'regression' | 'no-regression' | 'inconclusive';
  /** Why the diff is inconclusive (empty otherwise). */
  inconclusive: string[];
  /** verdict === 'regression'. */
  regression: boolean;
  /** One line per new finding or exceeded threshold (listed even when the diff is inconclusive). */
  reasons: string[];
  /** What makes the comparison less meaningful (mixed workloads, ...). */
  warnings: string[];
}
