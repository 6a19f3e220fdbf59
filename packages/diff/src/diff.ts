/**
 * Compare the runs of a base kernel with the runs of a patched one.
 *
 * Findings are matched by rule and page-cache identity (file, index): timestamps and pfns
 * differ between any two runs and never take part. A finding class is new when no base run
 * has it and none may hold it among the findings its replay counted and did not keep (else
 * `maybeNew`), fixed when no patched run has it and one could have shown it (it judged the rule,
 * its trace has no gap or unusable event), unchanged when both sides have it and some base
 * occurrence is certain (else `maybeNew`: the base may not have had it). Several runs per side
 * aggregate: counts and spans add up, latency samples pool, workload values stay per run.
 */
import { RULES, reachesFailOn, releaseSeries, type FailOn, type Finding } from '@kreplay/core';
import { BEHAVIOUR_METRICS } from './metrics.js';
import {
  ALPHA,
  distribution,
  fixedChance,
  histogramOf,
  newChance,
  pSaid,
  riseChance,
  mannWhitney,
  mergeHistograms,
  type Distribution,
  type Significance,
} from './significance.js';
import { fmtNs } from './units.js';
import { PAGES_SEEN_RANGES, pageSeen } from '@kreplay/replay';
import { resolveMetric, type Threshold } from './thresholds.js';
import {
  LATENCY_OPS,
  type LatencyOp,
  type BehaviourRow,
  type DiffResult,
  type FindingEntry,
  type LatencyRow,
  type RunData,
  type SideInfo,
  type ThresholdCheck,
  type WorkloadRow,
  type WorkloadValue,
} from './types.js';

export interface DiffOptions {
  /** Severity at or above which a new finding is a regression (default `error`). */
  failOn?: FailOn;
  thresholds?: Threshold[];
  baseLabel?: string;
  patchedLabel?: string;
}

/** Stands for the workload's test file in keys, whatever its dev and ino were in that run. */
export const TEST_FILE = 'test-file';

/**
 * The identity a finding is matched by: rule and page-cache page (file, index). The
 * workload's test file (named by the run's meta.json) is `test-file`, so two kernels that
 * number the disk differently (virtio-blk majors are dynamic) still match.
 */
export function findingKey(f: Pick<Finding, 'rule' | 'file' | 'index'>, testFile?: string): string {
  const file = f.file === undefined ? '-' : f.file === testFile ? TEST_FILE : f.file;
  return `${f.rule} ${file} ${f.index ?? '-'}`;
}

interface Tally {
  /** The first occurrence, or the first certain one when an earlier one was uncertain (the class's example). */
  first: Finding;
  firstRun: string;
  count: number;
  runs: number;
  /** Runs with a certain occurrence: an uncertain one may never have happened (a base sighting fixed's chance does not count). */
  certainRuns: number;
  /** The runs it occurred in. */
  inRuns: Set<RunData>;
}

/**
 * `testFiles`: the test file of every run of either side. A run whose meta.json names none (a
 * trace captured by hand, a replay JSON without `meta`) still names files by dev/ino, so a file
 * another run calls its test file is that test file there too: the same page, matched.
 */
function tally(runs: readonly RunData[], testFiles: ReadonlySet<string>): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const run of runs) {
    const seen = new Set<string>();
    const seenCertain = new Set<string>();
    for (const f of run.findings) {
      const key = findingKey(f, run.testFile ?? (f.file !== undefined && testFiles.has(f.file) ? f.file : undefined));
      const t = out.get(key);
      if (!t) out.set(key, { first: f, firstRun: run.source, count: 1, runs: 1, certainRuns: 0, inRuns: new Set([run]) });
      else {
        t.inRuns.add(run);
        t.count++;
        if (!seen.has(key)) t.runs++;
        // the class is certain when any occurrence is: a certain one is its example
        if (t.first.certainty !== 'certain' && f.certainty === 'certain') Object.assign(t, { first: f, firstRun: run.source });
      }
      if (f.certainty === 'certain' && !seenCertain.has(key)) {
        out.get(key)!.certainRuns++;
        seenCertain.add(key);
      }
      seen.add(key);
    }
  }
  return out;
}

/** Code-unit order (not the locale's), so every machine sorts alike. */
const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

function entryOrder(a: FindingEntry, b: FindingEntry): number {
  return RULES.indexOf(a.rule) - RULES.indexOf(b.rule) || cmp(a.file ?? '', b.file ?? '') || (a.index ?? -1) - (b.index ?? -1) || cmp(a.key, b.key);
}

/** A finding class's page as its key names it: the file (`test-file` for the workload's) and index, `-` where the finding names none. */
interface KeyPage {
  rule: string;
  file: string;
  index: string;
}

function keyPage(key: string): KeyPage {
  const [rule, file, index] = key.split(' ') as [string, string, string];
  return { rule, file, index };
}

/** The finding names no file or no index: its page is not known, so it cannot be matched by page. */
const keyless = (k: KeyPage) => k.file === '-' || k.index === '-';

/** Two findings of one rule that may be on one page: where either names no file (or index), any file (index) matches. */
const compatible = (a: KeyPage, b: KeyPage) =>
  a.rule === b.rule && (a.file === '-' || b.file === '-' || a.file === b.file) && (a.index === '-' || b.index === '-' || a.index === b.index);

/** The page an entry is on, in words: `8:16/2a index 0`, `index 7 of a file the trace does not name`, `a page of 8:16/2a whose index …`, `a page the trace does not name`. */
function pageWords(e: Pick<FindingEntry, 'file' | 'index'>): string {
  if (e.file !== undefined && e.index !== undefined) return `${e.file} index ${e.index}`;
  if (e.index !== undefined) return `index ${e.index} of a file the trace does not name`;
  return e.file !== undefined ? `a page of ${e.file} whose index the trace does not name` : 'a page the trace does not name';
}

/**
 * Whether `run`'s trace showed the page `k` names in the page cache (replay's `pagesSeen`). A run
 * whose set is absent (a replay JSON from before session 33) or not complete (past replay's bound)
 * may have shown any page. The workload's test file is the run's own, or — in a run whose
 * meta.json names none — a file another run names as its test file (as `tally` matches it).
 */
function showedPage(run: RunData, k: KeyPage, testFiles: ReadonlySet<string>): boolean {
  const seen = run.pagesSeen;
  if (!seen?.complete) return true;
  const files = k.file === '-' ? Object.keys(seen.files) : k.file === TEST_FILE ? (run.testFile ? [run.testFile] : [...testFiles]) : [k.file];
  return files.some((file) => (k.index === '-' ? (seen.files[file]?.length ?? 0) > 0 : pageSeen(seen, file, Number(k.index))));
}

/**
 * Why a run of `side` could not have shown a finding of `rule`, in words (undefined when it could):
 * it did not judge the rule, its trace has a gap or an unusable event (the events that raise it may
 * be among those lost), or a run of its side counted findings of the rule it did not keep (then none
 * can). Whether it showed the finding's page is `showedPage`.
 */
function cannotShow(side: readonly RunData[], run: RunData, rule: string, label: string): string | undefined {
  if (side.some((r) => r.notKept?.[rule] !== undefined)) return `the ${label} side did not keep every ${rule} finding its replay counted`;
  if (run.unjudged?.some((u) => u.rule === rule)) return `the ${label} side could not judge ${rule}`;
  if (run.stats.gaps || run.unusableEvents) return `the ${label} traces have gaps or unusable events, where its events may be`;
  return undefined;
}

/** Why a run's pages count as all pages (`showedPage`), or undefined when it says which it showed. */
function blindWhy(run: RunData): string | undefined {
  if (!run.pagesSeen)
    return 'it does not say which pages its trace showed (a replay JSON without pagesSeen, written before 2026-12-06: re-run `kreplay replay TRACE --format json --out FILE` with this kreplay)';
  if (!run.pagesSeen.complete) return `its trace showed more pages than replay records (${PAGES_SEEN_RANGES} ranges)`;
  return undefined;
}

/**
 * Why no base run could have shown a new entry's finding: each run's reason (`cannotShow`, or its
 * traces never show the page), each once, in run order.
 */
function unseenWhy(base: readonly RunData[], k: KeyPage, e: FindingEntry): string {
  if (!base.length) return 'the base side has no run to compare';
  const whys = base.map((run) => cannotShow(base, run, k.rule, 'base') ?? `the base traces never show ${pageWords(e)}`);
  return [...new Set(whys)].join('; ');
}

/**
 * A patched run could have shown a finding when `cannotShow` says nothing of it. A base finding
 * the patched side lacks is fixed only counting the runs that could show its rule **and showed its
 * page** in the page cache (a run that never showed the page says nothing about it); with none it
 * is `unjudged`, not fixed: the rule was not judged, the events that raise it may be among those
 * the patched traces lost, or the patched traces never show its page. A fixed entry says how likely its absence is by chance
 * over those runs (`chance`, Fisher's exact test).
 *
 * `mayHold(rule)`: whether some base run counted findings of `rule` its replay did not keep
 * (past replay's cap per rule). A patched finding the base side lacks is new only when none did;
 * otherwise it is `maybeNew`: the base may have had it among those. Only the base's dropped
 * findings do this: its gaps and unjudged rules still leave such a finding new (a regression that
 * may be false, never a pass), but a base run past the cap has certainly raised more findings of
 * the rule than anyone can match. A new entry says how likely the base's silence is by chance
 * (`chance`), counting the base runs that could have shown it as a patched run must to make a base
 * finding fixed (`cannotShow`, `showedPage`); with none, p = 1 and `chance.unseen` says why.
 *
 * A class both sides raised whose every base occurrence is uncertain is `maybeNew`, not unchanged:
 * an uncertain finding is one some order or lost event the trace allows does not lead to, so the
 * base may never have had it, and a patched finding the base lacks is new.
 *
 * A finding that names no file or no index (a workload's mismatch marker in a run whose meta.json
 * names no test file) cannot be matched by page. A patched finding that may be on the page of a
 * base finding of its rule that names none (or that names none itself, beside a base finding that
 * may be on its page) is `maybeNew`, not unchanged: whether the base had it cannot be told. A base
 * finding that may be on the page of such a patched finding is `unjudged`, not fixed.
 *
 * `blind`: runs counted as showing a fixed (patched runs) or new (base runs) entry's page without
 * saying which pages they showed, and why, by side and run (the diff warns of them).
 */
function matchFindings(base: readonly RunData[], patched: readonly RunData[], blind: Map<string, Map<string, string>>): DiffResult['findings'] {
  const testFiles = new Set([...base, ...patched].flatMap((r) => (r.testFile ? [r.testFile] : [])));
  const mayHold = (rule: string) => base.some((r) => r.notKept?.[rule] !== undefined);
  // the runs of a side that could have shown finding class `k`; `blind()` notes those counted as showing every page
  const showers = (label: 'base' | 'patched', runs: readonly RunData[], k: KeyPage) => {
    const out = runs.filter((run) => !cannotShow(runs, run, k.rule, label) && showedPage(run, k, testFiles));
    return {
      runs: out,
      blind: () => {
        for (const run of out) {
          const why = blindWhy(run);
          if (why) blind.set(label, (blind.get(label) ?? new Map<string, string>()).set(run.source, why));
        }
      },
    };
  };
  const b = tally(base, testFiles);
  const p = tally(patched, testFiles);
  // a page another side's finding may be on: any of its findings when this one names no page, else
  // only its findings that name none (two that name theirs are on one page only under one key)
  const sides = [b, p].map((t) => {
    const all = [...t.keys()].map(keyPage);
    return { all, keyless: all.filter(keyless) };
  });
  const mayBeOn = (k: KeyPage, side: (typeof sides)[number]) => (keyless(k) ? side.all : side.keyless).find((o) => compatible(o, k));
  const result: DiffResult['findings'] = { new: [], fixed: [], unchanged: [] };
  const unjudged: FindingEntry[] = [];
  const maybeNew: FindingEntry[] = [];
  for (const key of new Set([...b.keys(), ...p.keys()])) {
    const tb = b.get(key);
    const tp = p.get(key);
    const rep = (tp ?? tb)!;
    const f = rep.first;
    const k = keyPage(key);
    const entry: FindingEntry = {
      key,
      rule: f.rule,
      severity: f.severity,
      certainty: f.certainty,
      ...(f.file !== undefined ? { file: f.file } : {}),
      ...(f.index !== undefined ? { index: f.index } : {}),
      base: tb?.count ?? 0,
      patched: tp?.count ?? 0,
      baseRuns: tb?.runs ?? 0,
      patchedRuns: tp?.runs ?? 0,
      example: f,
      exampleRun: rep.firstRun,
    };
    if (tb && tp) {
      if (keyless(k)) {
        entry.reason = `not judged new: both sides raised ${f.rule} on ${pageWords(entry)}, so whether it is the same page cannot be told`;
        maybeNew.push(entry);
      } else if (tb.first.certainty !== 'certain') {
        // every base occurrence is uncertain: the base trace allows an order or lost events in
        // which it did not happen, so the base may not have had it at all
        entry.reason = `not judged new: the base side raised ${f.rule} on ${pageWords(entry)} only uncertain (${tb.count}× in ${tb.runs} run${tb.runs === 1 ? '' : 's'}, first in ${tb.firstRun}: events its trace lost, could not use or cannot order may explain it away), so whether the base had it cannot be told`;
        maybeNew.push(entry);
      } else {
        // both sides have it: whether the patched side shows it in a larger share of its runs than
        // chance allows (a race the patch makes likelier), over the base runs that showed it or could have
        const baseRuns = new Set([...showers('base', base, k).runs, ...tb.inRuns]).size;
        if (tp.runs * baseRuns > tb.runs * patched.length) {
          const p = riseChance(tb.runs, baseRuns, tp.runs, patched.length);
          entry.rise = { baseRuns, baseShowing: tb.runs, patchedRuns: patched.length, patchedShowing: tp.runs, p, significant: p < ALPHA };
        }
        result.unchanged.push(entry);
      }
      continue;
    }
    if (tp) {
      const like = mayBeOn(k, sides[0]!);
      if (mayHold(f.rule)) maybeNew.push(entry);
      else if (like) {
        entry.reason = keyless(k)
          ? `not judged new: it is on ${pageWords(entry)}, and the base side raised ${f.rule} on a page that may be it`
          : `not judged new: the base side raised ${f.rule} on a page it does not name, which may be this one`;
        maybeNew.push(entry);
      } else {
        const shown = showers('base', base, k);
        const p = newChance(entry.patchedRuns, patched.length, shown.runs.length);
        entry.chance = { baseRuns: shown.runs.length, patchedRuns: patched.length, p, significant: p < ALPHA };
        if (!shown.runs.length) entry.chance.unseen = unseenWhy(base, k, entry);
        shown.blind();
        result.new.push(entry);
      }
      continue;
    }
    if (mayBeOn(k, sides[1]!)) {
      entry.reason = keyless(k)
        ? `not fixed: it is on ${pageWords(entry)}, and the patched side raised ${f.rule} on a page that may be it`
        : `not fixed: the patched side raised ${f.rule} on a page it does not name, which may be this one`;
      unjudged.push(entry);
      continue;
    }
    const judging = patched.some((run) => !cannotShow(patched, run, f.rule, 'patched'));
    const shown = showers('patched', patched, k);
    if (shown.runs.length > 0) {
      // only the base runs where it was certain saw it: an uncertain sighting may never have happened
      const p = fixedChance(tb!.certainRuns, base.length, shown.runs.length);
      entry.chance = { baseRuns: base.length, patchedRuns: shown.runs.length, p, significant: p < ALPHA };
      if (tb!.certainRuns < entry.baseRuns) entry.chance.certainBaseRuns = tb!.certainRuns;
      shown.blind();
      result.fixed.push(entry);
    } else {
      if (judging) entry.reason = `not fixed: not seen in patched, whose traces never show ${pageWords(entry)}`;
      unjudged.push(entry);
    }
  }
  result.new.sort(entryOrder);
  result.fixed.sort(entryOrder);
  result.unchanged.sort(entryOrder);
  if (unjudged.length) result.unjudged = unjudged.sort(entryOrder);
  if (maybeNew.length) result.maybeNew = maybeNew.sort(entryOrder);
  return result;
}

/**
 * Rules no run of either side exercised (replay's `unexercised`: the traces never show a page
 * leaving the cache, or an invalidate returning 0): the workload does not do it on either
 * kernel, so neither side is short of the other there. Each run's own verdict still says so.
 */
function unexercisedOnBoth(base: readonly RunData[], patched: readonly RunData[]): Set<string> {
  const all = [...base, ...patched];
  return new Set(RULES.filter((rule) => all.length > 0 && all.every((r) => r.unjudged?.some((u) => u.rule === rule && u.unexercised))));
}

function sideInfo(label: string, runs: readonly RunData[], all: readonly RunData[], neither: ReadonlySet<string>): SideInfo {
  let durationNs = 0,
    events = 0,
    ops = 0,
    gaps = 0,
    unusableEvents = 0;
  for (const r of runs) {
    durationNs += r.durationNs;
    events += r.stats.events;
    ops += r.stats.ops;
    gaps += r.stats.gaps;
    unusableEvents += r.unusableEvents ?? 0;
  }
  const inconclusiveRuns = all.filter((r) => r.inconclusive?.length).map((r) => ({ run: r.source, reasons: r.inconclusive! }));
  const unjudged = byRule(runs.flatMap((r) => (r.unjudged ?? []).filter((u) => !neither.has(u.rule)).map((u) => [r.source, u.rule, u.reason] as const)));
  const notKept = byRule(runs.flatMap((r) => Object.entries(r.notKept ?? {}).map(([rule, why]) => [r.source, rule, why] as const)));
  return {
    label,
    runs: runs.map((r) => r.source),
    durationNs,
    events,
    ops,
    gaps,
    unusableEvents,
    inconclusiveRuns,
    ...(Object.keys(unjudged).length ? { unjudged } : {}),
    ...(Object.keys(notKept).length ? { notKept } : {}),
  };
}

/** `[run, rule, why]` as rule → `run: why; run: why`, in run order. */
function byRule(whys: ReadonlyArray<readonly [string, string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [run, rule, why] of whys) out[rule] = out[rule] ? `${out[rule]}; ${run}: ${why}` : `${run}: ${why}`;
  return out;
}

/** Percent change from a to b; null when a is 0 (or either is missing). */
export function changePct(a: number | null, b: number | null): number | null {
  if (a === null || b === null) return null;
  if (a === 0) return b === 0 ? 0 : null;
  return ((b - a) / a) * 100;
}

/** A side's count per run (null without runs): what the sides compare when a trace span is unknown. */
const perRun = (count: number, runs: readonly RunData[]): number | null => (runs.length ? count / runs.length : null);

/**
 * Behaviour rows: counts, and rates per second of trace when every run of the side has a span
 * (a run without one — a replay JSON without trace timestamps — adds counts but no time, and
 * would inflate its side's rate). Without rates on both sides the change compares counts per run:
 * summed counts of 5 base runs against 1 patched run hid a five-fold increase per run.
 */
function behaviour(base: readonly RunData[], patched: readonly RunData[], bInfo: SideInfo, pInfo: SideInfo): BehaviourRow[] {
  const sum = (runs: readonly RunData[], name: string) => runs.reduce((s, r) => s + (r.counts[name] ?? 0), 0);
  const rate = (count: number, runs: readonly RunData[], ns: number) => (ns > 0 && runs.every((r) => r.durationNs > 0) ? count / (ns / 1e9) : null);
  return BEHAVIOUR_METRICS.map(({ name, description }) => {
    const bc = sum(base, name);
    const pc = sum(patched, name);
    const bs = { count: bc, perSec: rate(bc, base, bInfo.durationNs) };
    const ps = { count: pc, perSec: rate(pc, patched, pInfo.durationNs) };
    const useRate = bs.perSec !== null && ps.perSec !== null;
    return {
      name,
      description,
      base: bs,
      patched: ps,
      changePct: useRate ? changePct(bs.perSec, ps.perSec) : changePct(perRun(bc, base), perRun(pc, patched)),
    };
  });
}

/**
 * Latency rows. Percentiles come from replay's histograms (every call, within 1/16 of the
 * true value), or exactly from the raw samples when replay kept all of them. The test runs
 * on raw samples when both sides have them (all, or replay's fixed-seed reservoir), on the
 * histograms otherwise (a bucket's samples count as ties).
 */
function latency(base: readonly RunData[], patched: readonly RunData[]): LatencyRow[] {
  const pool = (runs: readonly RunData[], op: LatencyOp) => mergeHistograms(runs.flatMap((r) => r.latency[op] ?? []));
  const raw = (runs: readonly RunData[], op: LatencyOp): number[] | undefined =>
    runs.every((r) => !r.latency[op] || r.samples?.[op]) ? runs.flatMap((r) => r.samples?.[op] ?? []) : undefined;
  const rows: LatencyRow[] = [];
  for (const op of LATENCY_OPS) {
    let bh = pool(base, op);
    let ph = pool(patched, op);
    if (bh.count === 0 && ph.count === 0) continue;
    const bs = raw(base, op);
    const ps = raw(patched, op);
    if (bs && bs.length === bh.count) bh = histogramOf(bs);
    if (ps && ps.length === ph.count) ph = histogramOf(ps);
    const bd = distribution(bh);
    const pd = distribution(ph);
    rows.push({
      op,
      base: bd,
      patched: pd,
      changePct: {
        p50: changePct(bd.p50, pd.p50),
        p90: changePct(bd.p90, pd.p90),
        p99: changePct(bd.p99, pd.p99),
        max: changePct(bd.max, pd.max),
      },
      significance: acrossRuns(
        bs && ps && bs.length && ps.length ? mannWhitney(histogramOf(bs), histogramOf(ps)) : mannWhitney(bh, ph),
        runMedians(base, op),
        runMedians(patched, op),
      ),
    });
  }
  return rows;
}

/** p50 of each run that has samples of this span. */
function runMedians(runs: readonly RunData[], op: LatencyOp): number[] {
  return runs.flatMap((r) => {
    const h = r.latency[op];
    if (!h || h.count === 0) return [];
    const raw = r.samples?.[op];
    return [distribution(raw && raw.length === h.count ? histogramOf(raw) : h).p50!];
  });
}

/**
 * Samples of one run are not independent of each other: a run's timing (TCG, host load,
 * how the race happened to go) moves all of them together. So with several runs per side a
 * difference only counts when the runs agree: every patched run's p50 lies on the same
 * side of every base run's p50. With one run per side the note says that run-to-run
 * variation was not measured.
 */
function acrossRuns(s: Significance, base: number[], patched: number[]): Significance {
  if (s.verdict !== 'significant') return s;
  if (base.length < 2 || patched.length < 2) {
    return { ...s, note: `${s.note}; one run on a side, so run-to-run variation is not measured (use several runs per side)` };
  }
  const fmt = (xs: number[]) => xs.map((x) => fmtNs(x)).join(' ');
  const separated = Math.min(...patched) > Math.max(...base) || Math.max(...patched) < Math.min(...base);
  return separated
    ? { ...s, note: `${s.note}; every run agrees (p50 per run: base ${fmt(base)}, patched ${fmt(patched)})` }
    : {
        ...s,
        verdict: 'not-significant',
        note: `runs disagree, so not significant: p50 per run base ${fmt(base)}, patched ${fmt(patched)} (pooled Mann-Whitney U alone said ${s.p !== undefined && s.p < 0.0001 ? 'p<0.0001' : `p=${s.p?.toFixed(4)}`})`,
      };
}

/** A run's value of workload counter `k`: a kernel-log kind one run has and another has not is 0 there, not unknown. */
const workloadValue = (r: RunData, k: string): WorkloadValue =>
  r.workload?.[k] ?? (k.startsWith('kernel_log.') && r.workload?.kernel_log_lines !== undefined ? 0 : null);

/** What the kernel log reported during a run (`kernel_log_lines`, `kernel_log.<kind>`), not the workload's own result. */
const isKernelLogCounter = (k: string) => k === 'kernel_log_lines' || k.startsWith('kernel_log.');

function workload(base: readonly RunData[], patched: readonly RunData[]): WorkloadRow[] {
  const names: string[] = [];
  for (const r of [...base, ...patched]) for (const k of Object.keys(r.workload ?? {})) if (!names.includes(k)) names.push(k);
  const values = (runs: readonly RunData[], k: string): WorkloadValue[] => runs.map((r) => workloadValue(r, k));
  return names.map((name) => ({ name, base: values(base, name), patched: values(patched, name) }));
}

function meanOf(values: readonly WorkloadValue[]): number | null {
  const nums = values.filter((v): v is number => typeof v === 'number');
  return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
}

function fmtNum(x: number | null): string {
  if (x === null) return 'n/a';
  return Number.isInteger(x) ? String(x) : x.toFixed(3);
}

/**
 * `leftOut`: each side's runs that cannot count (a failed workload, nothing traced). What the
 * kernel log reported during such a run still counts in a kernel-log threshold: the kernel printed
 * it whatever became of the workload, and a workload killed by the bug the kernel warned of is the
 * case the threshold is for.
 */
function checkThreshold(
  t: Threshold,
  d: Omit<DiffResult, 'thresholds' | 'regression' | 'reasons' | 'warnings' | 'verdict' | 'inconclusive'>,
  base: readonly RunData[],
  patched: readonly RunData[],
  leftOut: { base: readonly RunData[]; patched: readonly RunData[] },
): ThresholdCheck {
  const ref = resolveMetric(t.metric)!;
  // counts: a change may count against the limit; judged: the metric could be compared at all
  let b: number | null = null,
    p: number | null = null,
    note = '',
    counts = true,
    judged = true;
  switch (ref.kind) {
    case 'findings': {
      // the findings replay counted and did not keep (past its cap per rule) are findings too
      const perRun = (runs: readonly RunData[]) =>
        runs.length ? runs.reduce((s, r) => s + r.findings.length + (r.findingsNotKept ?? 0), 0) / runs.length : null;
      b = perRun(base);
      p = perRun(patched);
      note = 'findings per run';
      break;
    }
    case 'behaviour': {
      const row = d.behaviour.find((r) => r.name === ref.name)!;
      const useRate = row.base.perSec !== null && row.patched.perSec !== null;
      b = useRate ? row.base.perSec : perRun(row.base.count, base);
      p = useRate ? row.patched.perSec : perRun(row.patched.count, patched);
      note = useRate ? 'per second of trace' : 'count per run (a trace span unknown)';
      break;
    }
    case 'latency': {
      const row = d.latency.find((r) => r.op === ref.op);
      if (!row) {
        counts = judged = false;
        note = `no ${ref.op} latency samples on either side`;
        break;
      }
      b = (row.base as Distribution)[ref.pct];
      p = (row.patched as Distribution)[ref.pct];
      if (row.significance.verdict !== 'significant') {
        counts = false;
        judged = row.significance.verdict !== 'too-few-samples';
        note = `not judged: ${row.significance.note}`;
      } else note = row.significance.note;
      break;
    }
    case 'workload': {
      // a left-out run's kernel log, where its meta.json has one (one without says nothing, and is not a reason to judge nothing)
      const logged = (side: 'base' | 'patched') =>
        isKernelLogCounter(ref.name) ? leftOut[side].map((r) => workloadValue(r, ref.name)).filter((v) => typeof v === 'number') : [];
      const extra = { base: logged('base'), patched: logged('patched') };
      // a kernel-log kind only a left-out run printed has no row of the counting runs: 0 on those that have a kernel log
      const row =
        d.workload.find((r) => r.name === ref.name) ??
        (extra.base.length || extra.patched.length
          ? { name: ref.name, base: base.map((r) => workloadValue(r, ref.name)), patched: patched.map((r) => workloadValue(r, ref.name)) }
          : undefined);
      if (!row) {
        counts = judged = false;
        note = `no workload counter "${ref.name}" in either side's meta.json`;
        break;
      }
      // A run without the counter (a workload that did not print it, a capture of another
      // version) could hide any value: a side missing it anywhere is not compared, never "held".
      const lacking = (['base', 'patched'] as const).flatMap((side) => {
        const without = row[side].filter((v) => typeof v !== 'number').length;
        return without ? [`${without} of ${row[side].length} ${side} run${row[side].length === 1 ? '' : 's'}`] : [];
      });
      if (lacking.length) {
        counts = judged = false;
        note = `no number for workload counter "${ref.name}" in the meta.json of ${lacking.join(' and ')}`;
        break;
      }
      b = meanOf([...row.base, ...extra.base]);
      p = meanOf([...row.patched, ...extra.patched]);
      const also = (['base', 'patched'] as const).flatMap((side) =>
        extra[side].length ? [`${extra[side].length} ${side} run${extra[side].length === 1 ? '' : 's'} left out`] : [],
      );
      note = also.length
        ? `mean per run, with the kernel log of ${also.join(' and ')} (a failed workload or nothing traced: what the kernel printed still counts)`
        : 'mean per run';
      break;
    }
  }
  const change = changePct(b, p);
  // From 0 to anything above 0 is an unbounded increase.
  const grew = change === null ? b !== null && p !== null && p > b : change > t.maxPct;
  const exceeded = counts && grew;
  return { metric: t.metric, maxPct: t.maxPct, base: b, patched: p, changePct: change, exceeded, judged, note };
}

/** Behaviour rates and workload counters only compare like with like. */
function workloadWarnings(base: readonly RunData[], patched: readonly RunData[]): string[] {
  const names = (runs: readonly RunData[]) => [...new Set(runs.map((r) => r.workloadName ?? '(unknown)'))].sort();
  const b = names(base);
  const p = names(patched);
  const out: string[] = [];
  for (const [side, ns] of [
    ['base', b],
    ['patched', p],
  ] as const) {
    if (ns.length > 1)
      out.push(
        `the ${side} side mixes workloads (${ns.join(', ')}): behaviour rates and latencies pool them; diff one workload at a time (or use kreplay ci, which does)`,
      );
  }
  if (b.length === 1 && p.length === 1 && b[0] !== p[0] && sameWorkloads(base, patched) === undefined)
    out.push(`the sides ran different workloads (base ${b[0]}, patched ${p[0]})`);
  return [...out, ...kernelWarnings(base, patched)];
}

/** The release's series (core's releaseSeries), or the release itself when it names none. */
const kernelSeries = (release: string): string => releaseSeries(release) ?? release;

/**
 * A patch is judged against the kernel it applies to: sides of different kernel series (6.1
 * against 6.12) differ by everything between them, and a side that mixes series pools unlike
 * runs. Only the series is compared (a patched build's release names its build, and Debian's
 * `6.1.0-56-amd64` does not carry the upstream sublevel). Runs whose meta.json names no
 * kernel are left out.
 */
function kernelWarnings(base: readonly RunData[], patched: readonly RunData[]): string[] {
  const series = (runs: readonly RunData[]) => {
    const by = new Map<string, string>();
    for (const r of runs) if (r.kernelRelease && !by.has(kernelSeries(r.kernelRelease))) by.set(kernelSeries(r.kernelRelease), r.kernelRelease);
    return [...by].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  };
  const b = series(base);
  const p = series(patched);
  const out: string[] = [];
  for (const [side, s] of [
    ['base', b],
    ['patched', p],
  ] as const) {
    if (s.length > 1) out.push(`the ${side} side mixes kernel series (${s.map(([k, rel]) => `${k}: ${rel}`).join(', ')}): its runs are not of one kernel`);
  }
  if (b.length === 1 && p.length === 1 && b[0]![0] !== p[0]![0])
    out.push(
      `the sides ran different kernel series (base ${b[0]![1]}, patched ${p[0]![1]}): what differs is everything between ${b[0]![0]} and ${p[0]![0]}, not only the patch`,
    );
  return out;
}

/**
 * Why the sides cannot be compared at all: their meta.json files name different workloads
 * (undefined when they name the same ones, or no run of a side names one). Findings of one
 * workload would read as fixed, another's as new, and rates would compare unlike things. Runs
 * that name none are left out of the comparison, not a reason to skip it: one such run beside
 * a run of another workload made that run's absence of the base's findings "fixed".
 */
function sameWorkloads(base: readonly RunData[], patched: readonly RunData[]): string | undefined {
  const named = (runs: readonly RunData[]) => [...new Set(runs.flatMap((r) => (r.workloadName === undefined ? [] : [r.workloadName])))].sort();
  const b = named(base);
  const p = named(patched);
  if (!b.length || !p.length || b.join('\n') === p.join('\n')) return undefined;
  return `the sides ran different workloads (base ${b.join(', ')}, patched ${p.join(', ')}): diff runs of the same workload`;
}

/**
 * Compare two sides. Runs that cannot count (`RunData.inconclusive`: nothing traced, no
 * page-cache operation, a failed workload) take no part; they are listed in the sides'
 * `inconclusiveRuns`. A side left with no run makes the diff `inconclusive`: it never
 * passes for want of evidence.
 */
export function diffRuns(allBase: readonly RunData[], allPatched: readonly RunData[], opts: DiffOptions = {}): DiffResult {
  const failOn = opts.failOn ?? 'error';
  const base = allBase.filter((r) => !r.inconclusive?.length);
  const patched = allPatched.filter((r) => !r.inconclusive?.length);
  const neither = unexercisedOnBoth(base, patched);
  const bInfo = sideInfo(opts.baseLabel ?? 'base', base, allBase, neither);
  const pInfo = sideInfo(opts.patchedLabel ?? 'patched', patched, allPatched, neither);
  const blind = new Map<string, Map<string, string>>();
  const partial = {
    tool: 'kreplay diff' as const,
    version: 1 as const,
    failOn,
    base: bInfo,
    patched: pInfo,
    findings: matchFindings(base, patched, blind),
    behaviour: behaviour(base, patched, bInfo, pInfo),
    latency: latency(base, patched),
    workload: workload(base, patched),
  };
  const leftOut = { base: allBase.filter((r) => r.inconclusive?.length), patched: allPatched.filter((r) => r.inconclusive?.length) };
  const thresholds = (opts.thresholds ?? []).map((t) => checkThreshold(t, partial, base, patched, leftOut));
  const reasons: string[] = [];
  for (const e of partial.findings.new) {
    if (reachesFailOn(e.severity, failOn)) {
      reasons.push(
        `new ${e.severity} ${e.rule}${e.file !== undefined ? ` on ${e.file}` : ''}${e.index !== undefined ? ` index ${e.index}` : ''} (${e.patched}× in ${e.patchedRuns} patched run${e.patchedRuns === 1 ? '' : 's'})`,
      );
    }
  }
  for (const e of partial.findings.unchanged) if (risenAtFailOn(e, failOn)) reasons.push(`more often: ${riseSaid(e)}`);
  for (const t of thresholds) {
    if (t.exceeded) {
      const ch = t.changePct === null ? 'from 0' : `${t.changePct >= 0 ? '+' : ''}${t.changePct.toFixed(1)}%`;
      reasons.push(`${t.metric} ${fmtNum(t.base)} → ${fmtNum(t.patched)} (${ch}, allowed +${t.maxPct}%)`);
    }
  }
  const inconclusive: string[] = [];
  for (const [name, runs, info] of [
    ['base', base, bInfo],
    ['patched', patched, pInfo],
  ] as const) {
    if (runs.length) continue;
    const why = info.inconclusiveRuns.map((x) => `${x.run}: ${x.reasons.join('; ')}`);
    inconclusive.push(`the ${name} side has no run to compare${why.length ? ` (${why.join(' | ')})` : ''}`);
  }
  const unlike = base.length && patched.length ? sameWorkloads(base, patched) : undefined;
  if (unlike) inconclusive.push(unlike);
  const warnings = workloadWarnings(base, patched);
  for (const [name, info] of [
    ['base', bInfo],
    ['patched', pInfo],
  ] as const) {
    if (info.runs.length) for (const x of info.inconclusiveRuns) warnings.push(`${name} run ${x.run} left out: ${x.reasons.join('; ')}`);
  }
  for (const [name, runs] of [
    ['base', base],
    ['patched', patched],
  ] as const)
    for (const r of runs) for (const w of r.warnings ?? []) warnings.push(`${name} run ${w}`);
  for (const [run, why] of blind.get('patched') ?? [])
    warnings.push(`patched run ${run}: ${why}, so it counts as having shown every page: a base finding it lacks may read fixed on a page it never showed`);
  for (const [run, why] of blind.get('base') ?? [])
    warnings.push(
      `base run ${run}: ${why}, so it counts as having shown every page: a patched finding it lacks may read new, not chance, on a page it never showed`,
    );
  const verdict = inconclusive.length ? 'inconclusive' : reasons.length ? 'regression' : 'no-regression';
  return { ...partial, thresholds, verdict, inconclusive, regression: verdict === 'regression', reasons, warnings };
}

/**
 * Whether an unchanged entry is a regression: the patch made it significantly likelier (`rise`,
 * p < 0.01) and it reaches --fail-on. The one test of it: the diff's `reasons`, every format's
 * failing rule and the finding counts' sentence (`risen`) read it here.
 */
export function risenAtFailOn(e: Pick<FindingEntry, 'severity' | 'rise'>, failOn: FailOn): boolean {
  return e.rise?.significant === true && reachesFailOn(e.severity, failOn);
}

/**
 * An unchanged entry's significant rise in words (`reasons`, and the formats' line under it):
 * `error stale-data on 8:16/2a index 3 in 10 of 10 patched runs against 1 of 10 base runs (p = 6.0e-5, ...)`.
 */
export function riseSaid(e: Pick<FindingEntry, 'severity' | 'rule' | 'file' | 'index' | 'rise'>): string {
  const r = e.rise!;
  return `${e.severity} ${e.rule}${e.file !== undefined ? ` on ${e.file}` : ''}${e.index !== undefined ? ` index ${e.index}` : ''} in ${r.patchedShowing} of ${r.patchedRuns} patched run${r.patchedRuns === 1 ? '' : 's'} against ${r.baseShowing} of ${r.baseRuns} base run${r.baseRuns === 1 ? '' : 's'} that could show it (p = ${pSaid(r.p)}, Fisher's exact test on runs): the patch makes it likelier`;
}
