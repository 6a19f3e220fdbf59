/**
 * One side's runs: each input is a trace (replayed now) or a replay result JSON (replayed
 * before). Both become a RunData: findings, behaviour counters, latency histograms, the
 * trace span and the workload's result counters from meta.json.
 */
import { oneLine, RULES, type Finding } from '@kreplay/core';
import { countsFromStats, type OpStats } from './metrics.js';
import { findTraceMeta, metaRelease, metaWorkloadName, type MetaJson } from '@kreplay/core';
import { findingFromJson, readReplayJson, type PagesSeen } from '@kreplay/replay';
import { readWorkloadMeta, testFileKey, workloadCounters } from './meta.js';
import type { Histogram } from './significance.js';
import { LATENCY_OPS, type RunData } from './types.js';

/** The parts of a replay result a diff reads (an in-memory ReplayResult and its JSON both fit). */
export interface ReplayLike {
  /** Absent in replay JSON written before the verdict existed: derived from the stats then. */
  verdict?: {
    status: string;
    inconclusive: string[];
    unusableEvents: number;
    gaps?: number;
    unjudged?: Array<{ rule: string; reason: string; unexercised?: boolean }>;
  };
  findings: Finding[];
  stats: OpStats & {
    events: number;
    ops?: number;
    unusableEvents?: Record<string, number>;
    gaps?: number;
    unknownEvents?: number;
    latency?: Partial<Record<string, Histogram>>;
    findingsDropped?: number;
    findingsDroppedByRule?: Partial<Record<string, number>>;
  };
  trace?: { source?: string; firstTs?: bigint; lastTs?: bigint };
  meta?: MetaJson;
  /** The pages the trace showed in the cache (absent in replay JSON written before 2026-12-06, session 33: any page). */
  pagesSeen?: PagesSeen;
  /** Raw latency samples per span (ReplayResult.latencyNs). */
  latencyNs?: Partial<Record<string, number[]>>;
}

/** Replays one trace file (the CLI passes @kreplay/replay's replayFile). */
export type TraceReplayer = (tracePath: string) => Promise<ReplayLike>;

export function isReplayJsonPath(p: string): boolean {
  return /\.json$/i.test(p);
}

export function runFromReplay(r: ReplayLike, source: string, tracePath?: string): RunData {
  const first = r.trace?.firstTs;
  const last = r.trace?.lastTs;
  const latency: RunData['latency'] = {};
  const samples: NonNullable<RunData['samples']> = {};
  for (const op of LATENCY_OPS) {
    const h = r.stats.latency?.[op];
    if (h && h.count > 0) latency[op] = h;
    const raw = r.latencyNs?.[op];
    if (raw && raw.length > 0) samples[op] = raw;
  }
  const run: RunData = {
    source,
    findings: r.findings,
    durationNs: first !== undefined && last !== undefined && last > first ? Number(last - first) : 0,
    counts: countsFromStats(r.stats),
    latency,
    ...(Object.keys(samples).length ? { samples } : {}),
    stats: { events: r.stats.events, ops: r.stats.ops ?? 0, gaps: r.stats.gaps ?? r.verdict?.gaps ?? 0, unknown: r.stats.unknownEvents ?? 0 },
    unusableEvents: r.verdict?.unusableEvents ?? Object.values(r.stats.unusableEvents ?? {}).reduce((a, b) => a + b, 0),
    inconclusive: [...inconclusiveOf(r)],
    ...(r.verdict?.unjudged?.length ? { unjudged: r.verdict.unjudged.map((u) => ({ ...u })) } : {}),
    ...(r.pagesSeen ? { pagesSeen: r.pagesSeen } : {}),
  };
  notKept(run, r);
  if (tracePath) run.trace = tracePath;
  if (r.meta) {
    run.workload = workloadCounters(r.meta);
    const tf = testFileKey(r.meta);
    if (tf) run.testFile = tf;
    const name = metaWorkloadName(r.meta);
    if (name) run.workloadName = name;
    const release = metaRelease(r.meta);
    if (release) run.kernelRelease = release;
  }
  return run;
}

/**
 * Rules of which the replay counted findings it did not keep (past its cap per rule): which
 * pages they were on is not known. On a patched run a base finding of such a rule may be one of
 * them (never fixed), and a new finding may be too (no pass); on a base run a patched finding of
 * it may be one of them (not new). They join the run's `unjudged` with the reason, and `notKept`.
 * A replay JSON with `findingsDropped` but no breakdown per rule (written
 * before 2026-12-06) may have dropped any rule's.
 */
function notKept(run: RunData, r: ReplayLike): void {
  const total = r.stats.findingsDropped ?? 0;
  const by = r.stats.findingsDroppedByRule;
  const rules = by ? RULES.filter((rule) => (by[rule] ?? 0) > 0) : total > 0 ? [...RULES] : [];
  if (!rules.length) return;
  const why: Record<string, string> = (run.notKept = {});
  run.findingsNotKept = by ? rules.reduce((n, rule) => n + by[rule]!, 0) : total;
  const unjudged = (run.unjudged ??= []);
  for (const rule of rules) {
    const n = by ? by[rule]! : total;
    const counted = by
      ? `the replay counted ${n} more ${rule} finding${n === 1 ? '' : 's'} than the ${r.findings.filter((f) => f.rule === rule).length} it kept`
      : `the replay counted ${n} finding${n === 1 ? '' : 's'} it did not keep, and does not say of which rules`;
    const reason = `${counted}, so which pages ${n === 1 ? 'it was' : 'they were'} on is not known`;
    why[rule] = reason;
    const u = unjudged.find((x) => x.rule === rule);
    if (!u) unjudged.push({ rule, reason });
    else {
      u.reason = `${u.reason}; ${reason}`;
      delete u.unexercised;
    }
  }
}

/**
 * Why a replayed run cannot count: its own verdict, and its stats (a replay JSON without a
 * verdict, or one whose verdict was edited to say nothing while its stats show no event: replay
 * itself never says so); and a workload that failed.
 */
function inconclusiveOf(r: ReplayLike): string[] {
  const out = r.verdict?.inconclusive.length
    ? [...r.verdict.inconclusive]
    : r.stats.events === 0
      ? ['the trace holds no events']
      : (r.stats.ops ?? 1) === 0
        ? ['none of its events is a page-cache operation']
        : [];
  const rc = typeof r.meta?.workload === 'object' ? r.meta.workload.exitCode : undefined;
  if (typeof rc === 'number' && rc !== 0) out.push(`its workload exited with code ${rc} (meta.json), so the run did not do what it was meant to`);
  return out;
}

function big(x: number | bigint | string | undefined): bigint | undefined {
  if (x === undefined) return undefined;
  return typeof x === 'bigint' ? x : BigInt(typeof x === 'number' ? Math.trunc(x) : x);
}

/**
 * What a replay JSON leaves unsaid of what the "fixed" rule needs: which rules the run judged
 * (`verdict.unjudged`, always written since 2026-12-05), how many gaps and unusable events its
 * trace had. Empty for what this kreplay writes.
 */
function unsaid(j: Awaited<ReturnType<typeof readReplayJson>>): string[] {
  const missing: string[] = [];
  if (!j.verdict) missing.push('verdict');
  else if (!j.verdict.unjudged) missing.push('verdict.unjudged');
  if (j.verdict?.gaps === undefined && j.stats.gaps === undefined) missing.push('a gap count (verdict.gaps, stats.gaps)');
  if (!j.verdict && j.stats.unusableEvents === undefined) missing.push('an unusable-event count (verdict.unusableEvents, stats.unusableEvents)');
  return missing;
}

/** Load one input as a run. Replay JSON is read and validated; anything else is replayed. */
export async function loadRun(input: string, replayTrace: TraceReplayer): Promise<RunData> {
  let run: RunData;
  // the run as the outputs name it: a folder's line break (an artifact's name) stays inside its line
  const shown = oneLine(input);
  if (isReplayJsonPath(input)) {
    const j = await readReplayJson(input);
    // The trace the JSON names is shown, never opened: the file is someone else's input, and its
    // path could name any file of this machine, whose events `report` put into its HTML (the
    // events around each finding) and beside which diff read a meta.json. Give the trace itself to have them.
    const traceSource = j.trace?.source;
    const like: ReplayLike = {
      ...(j.verdict ? { verdict: j.verdict } : {}),
      findings: j.findings.map((f) => findingFromJson(f, traceSource ?? shown)),
      stats: j.stats as ReplayLike['stats'],
      trace: { source: traceSource, firstTs: big(j.trace?.firstTs), lastTs: big(j.trace?.lastTs) },
      ...(j.meta ? { meta: j.meta as MetaJson } : {}),
      ...(j.latencyNs ? { latencyNs: j.latencyNs } : {}),
      ...(j.pagesSeen ? { pagesSeen: j.pagesSeen as PagesSeen } : {}),
    };
    run = runFromReplay(like, shown);
    const missing = unsaid(j);
    if (missing.length) {
      // Nothing says which rules this run judged, or whether its trace had holes: none of its
      // rules can make a base finding fixed.
      const reason = `${shown} does not say which rules it judged (no ${missing.join(', ')})`;
      run.unjudged = RULES.map((rule) => ({ rule, reason }));
      run.warnings = [
        `${shown}: replay JSON without ${missing.join(', ')} (written by an older kreplay, or by hand): every rule of it counts as not judged, so a base finding it lacks is not fixed; re-run \`kreplay replay TRACE --format json --out FILE\` with this kreplay`,
      ];
    }
  } else {
    run = runFromReplay(await replayTrace(input), shown, input);
  }
  // meta.json beside the trace, when the replay result did not carry it.
  if (run.workload === undefined) {
    const metaPath = findTraceMeta(run.trace ?? input);
    if (metaPath) {
      const m = await readWorkloadMeta(metaPath);
      run.workload = m.counters;
      run.metaPath = m.path;
      if (m.testFile) run.testFile = m.testFile;
      if (m.name) run.workloadName = m.name;
      if (m.release) run.kernelRelease = m.release;
    }
  }
  return run;
}

/** Load every input of a side, in order (several runs of the same kernel aggregate). */
export async function loadSide(inputs: readonly string[], replayTrace: TraceReplayer, onRun?: (input: string) => void): Promise<RunData[]> {
  const runs: RunData[] = [];
  for (const input of inputs) {
    onRun?.(input);
    runs.push(await loadRun(input, replayTrace));
  }
  return runs;
}
