/**
 * Findings a reader sees as one race. A race that hits 16 pages yields 16 findings (one per
 * rule and page), or 16 diff entries; shown one by one they read as 16 near-identical bugs.
 * They are one race when they have
 *   - the same racing tasks, by command name (pids change from run to run, names do not),
 *   - the same code paths: the function each task was in at its first cited event,
 *   - (in a diff) the same state: new / fixed / unchanged,
 * and they happened while those tasks raced: in one run, every such finding lies within the
 * lifetime of the same tasks, so the grouping never merges findings across traces of
 * different workloads (their task names differ) — only repeats of one race. One race can
 * break more than one rule (a page removed while mapped, and the invalidate that returned 0
 * over it): the group names every rule, each page row says which.
 * A group lists its pages and counts, and shows one occurrence in full (the first).
 *
 * Also here: one colour per task for the whole report (a task keeps its colour in every
 * finding and timeline).
 */
import { WORKLOAD_MARKER_PREFIX, type Finding, type Severity } from '@kreplay/core';
import type { DiffResult, FindingEntry } from '@kreplay/diff';
import type { FindingClass, ReportModel } from './html/report.js';
import type { FindingWindow } from './html/window.js';

export type RaceState = 'new' | 'fixed' | 'unchanged' | 'unjudged' | 'maybe-new';

/** One task's part in a race: its name and the function it was in. */
export interface RaceRole {
  comm: string;
  fn: string;
}

/** One finding class (rule and page) within a race group. */
export interface RaceMember {
  finding: Finding;
  file?: string;
  index?: number;
  /** Occurrences (a diff: base + patched). */
  count: number;
  certainty: Finding['certainty'];
  /** The run (input label) `finding` comes from. */
  run: string;
  window?: FindingWindow;
  /** A diff entry's figures. */
  entry?: FindingEntry;
}

export interface RaceGroup {
  /** Anchor id: `finding-new-1`, `finding-2-1`. */
  id: string;
  state?: RaceState;
  /** The rules its findings break, in order of first appearance. */
  rules: Array<Finding['rule']>;
  /** The highest severity among them. */
  severity: Severity;
  roles: RaceRole[];
  members: RaceMember[];
}

export interface RaceSection {
  /** `New in patched`, or a run's label. */
  heading: string;
  state?: RaceState;
  /** The run a plain report's section lists. */
  runLabel?: string;
  /** Findings in this section (before grouping). */
  findings: number;
  groups: RaceGroup[];
}

/**
 * The function a cited event was in: a probe's function (`p_filemap_fault_0 (filemap_fault)`
 * → `filemap_fault`), else the event's name (`mm_filemap_delete_from_page_cache`). A marker of
 * the capture workload (`kreplay: mismatch kind=map_stale …`, the workload's check of what it
 * read) is in no kernel function: `the workload's mismatch marker`.
 */
function fnOf(summary: string): string {
  if (summary.startsWith(WORKLOAD_MARKER_PREFIX)) return `the workload's ${/^\S*/.exec(summary.slice(WORKLOAD_MARKER_PREFIX.length))![0] || 'trace'} marker`;
  return /^\S+ \((?:return of )?([A-Za-z_]\w*)\)/.exec(summary)?.[1] ?? /^\S+/.exec(summary)?.[0] ?? '?';
}

const RANK: Record<Severity, number> = { error: 3, warning: 2, note: 1 };

/** The racing tasks of a finding in the order they first appear in its cited events, each with its first function. */
export function rolesOf(f: Finding): RaceRole[] {
  const roles: RaceRole[] = [];
  const seen = new Set<string>();
  for (const e of f.events) {
    const id = `${e.pid}`;
    if (seen.has(id)) continue;
    seen.add(id);
    roles.push({ comm: e.comm, fn: fnOf(e.summary) });
  }
  return roles;
}

function groupKey(state: string, roles: readonly RaceRole[]): string {
  return `${state}\u0000${roles
    .map((r) => `${r.comm}@${r.fn}`)
    .sort()
    .join('\u0000')}`;
}

function groupMembers(prefix: string, state: RaceState | undefined, members: RaceMember[]): RaceGroup[] {
  const byKey = new Map<string, RaceGroup>();
  for (const m of members) {
    const roles = rolesOf(m.finding);
    // Findings that name no task (a BUG_ON in an explorer trace, ...) are each their own group.
    const key = roles.length ? groupKey(state ?? '', roles) : `\u0001${byKey.size}`;
    let g = byKey.get(key);
    if (!g) {
      g = { id: `finding-${prefix}-${byKey.size + 1}`, ...(state ? { state } : {}), rules: [], severity: m.finding.severity, roles, members: [] };
      byKey.set(key, g);
    }
    if (!g.rules.includes(m.finding.rule)) g.rules.push(m.finding.rule);
    if (RANK[m.finding.severity] > RANK[g.severity]) g.severity = m.finding.severity;
    g.members.push(m);
  }
  return [...byKey.values()];
}

/** The window of a diff entry's example, when its run's class has one. */
function entryMember(m: ReportModel, e: FindingEntry): RaceMember {
  let window: FindingWindow | undefined;
  for (const r of m.runs) {
    const c = r.classes.find((x: FindingClass) => x.finding === e.example);
    if (c?.window) {
      window = c.window;
      break;
    }
  }
  return {
    finding: e.example,
    ...(e.file !== undefined ? { file: e.file } : {}),
    ...(e.index !== undefined ? { index: e.index } : {}),
    count: e.base + e.patched,
    certainty: e.certainty,
    run: e.exampleRun,
    ...(window ? { window } : {}),
    entry: e,
  };
}

/** The report's findings as race groups: per diff state with two sides, per run otherwise. */
export function raceSections(m: ReportModel): RaceSection[] {
  const d: DiffResult | undefined = m.diff;
  if (d) {
    return (
      [
        ['new', 'New in patched', d.findings.new],
        ['fixed', 'Fixed by patched', d.findings.fixed],
        ['unchanged', 'In both', d.findings.unchanged],
        // only when there are any: base findings the patched side could not have shown
        ...(d.findings.unjudged?.length ? ([['unjudged', 'Not judged on patched (not fixed)', d.findings.unjudged]] as const) : []),
        // only when there are any: patched findings the base side may have had (among those it did not keep, or on a page one side does not name)
        ...(d.findings.maybeNew?.length ? ([['maybe-new', 'Not judged new (the base side may have had them)', d.findings.maybeNew]] as const) : []),
      ] as const
    ).map(([state, heading, entries]) => ({
      heading,
      state,
      findings: entries.length,
      groups: groupMembers(
        state,
        state,
        entries.map((e) => entryMember(m, e)),
      ),
    }));
  }
  return m.runs.map((r, ri) => ({
    heading: r.label,
    runLabel: r.label,
    findings: r.run.findings.length,
    groups: groupMembers(
      String(ri + 1),
      undefined,
      r.classes.map((c) => ({
        finding: c.finding,
        ...(c.finding.file !== undefined ? { file: c.finding.file } : {}),
        ...(c.finding.index !== undefined ? { index: c.finding.index } : {}),
        count: c.count,
        certainty: c.finding.certainty,
        run: r.label,
        ...(c.window ? { window: c.window } : {}),
      })),
    ),
  }));
}

/** `0-3, 5, 7-9` */
export function indexRanges(indexes: readonly number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** The pages of a group: `254:0/c index 0-15 (16 pages)`, one part per file. */
export function pagesOf(g: RaceGroup): string {
  const byFile = new Map<string, number[]>();
  let unpaged = 0;
  for (const m of g.members) {
    if (m.file === undefined) {
      unpaged++;
      continue;
    }
    byFile.set(m.file, [...(byFile.get(m.file) ?? []), ...(m.index !== undefined ? [m.index] : [])]);
  }
  const parts = [...byFile].map(([file, idx]) =>
    idx.length ? `${file} index ${indexRanges(idx)}${new Set(idx).size > 1 ? ` (${new Set(idx).size} pages)` : ''}` : file,
  );
  if (unpaged) parts.push(`${unpaged} finding(s) without a page`);
  return parts.join('; ');
}

/** `certain`, `uncertain`, or `3 of 16 uncertain`. */
export function certaintyOf(g: RaceGroup): string {
  const unsure = g.members.filter((m) => m.certainty === 'uncertain').length;
  if (unsure === 0) return 'certain';
  if (unsure === g.members.length) return 'uncertain';
  return `${unsure} of ${g.members.length} pages uncertain`;
}

/** `kr-write in invalidate_inode_pages2_range vs kr-fault in filemap_fault` */
export function rolesText(roles: readonly RaceRole[]): string {
  return roles.length ? roles.map((r) => `${r.comm} in ${r.fn}`).join(' vs ') : 'no task named';
}

export const TASK_COLOURS = ['#c0392b', '#1f6fb4', '#2e8b3a', '#8e44ad', '#d35400', '#16a085', '#b7950b', '#6c3483'];
export const OTHER_TASKS_COLOUR = '#a0a0a0';

/**
 * One colour per task for the whole report, in order of first appearance. A task is its
 * command name (the same program keeps its colour from run to run); two racing tasks of one
 * finding that share a name are told apart by pid.
 */
export class TaskColours {
  private readonly byTask = new Map<string, string>();

  private keyOf(pid: number, comm: string, racing: ReadonlyArray<{ pid: number; comm: string }>): string {
    return racing.filter((r) => r.comm === comm).length > 1 ? `${comm}#${pid}` : comm;
  }

  /** Colour of a task in a timeline whose racing tasks are `racing`; bystanders are grey. */
  colour(pid: number, comm: string, racing: ReadonlyArray<{ pid: number; comm: string }>): string {
    if (!racing.some((r) => r.pid === pid)) return OTHER_TASKS_COLOUR;
    const key = this.keyOf(pid, comm, racing);
    let c = this.byTask.get(key);
    if (!c) {
      c = TASK_COLOURS[this.byTask.size % TASK_COLOURS.length]!;
      this.byTask.set(key, c);
    }
    return c;
  }
}

/** What the diff said of a race's pages itself (`FindingEntry.reason`: a page the patched traces never show, a page not named), each once. */
export function groupReasons(g: RaceGroup): string[] {
  return [...new Set(g.members.flatMap((m) => (m.entry?.reason !== undefined ? [m.entry.reason] : [])))];
}
