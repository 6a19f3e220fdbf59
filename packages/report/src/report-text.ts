/**
 * The report's summary as plain text a kernel developer can paste into a mail: the verdict,
 * each race once (rule, certainty, the racing tasks and their code paths, the pages, how
 * often, and the first occurrence's trace lines quoted as they are cited), nothing else.
 * `kreplay report --format text` prints it; the HTML report shows it at the top.
 * A pure function of the ReportModel; untrusted text is bidi-isolated as in the HTML.
 */
import { printable, reachesFailOn, taskColumn } from '@kreplay/core';
import { fmtNs, riseSaid, risenAtFailOn, type DiffResult } from '@kreplay/diff';
import { isolateBidi } from './html/html.js';
import type { ReportModel } from './html/report.js';
import { certaintyOf, groupReasons, pagesOf, raceSections, rolesText, type RaceGroup, type RaceSection, type RaceState } from './race-groups.js';
import { RULE_HELP } from './rules.js';
import { byChance, chanceSaid, diffVerdictSaid, newChanceSaid } from './diff-fmt.js';
import { findingCounts, findingCountsSaid, type FindingCounts } from './finding-counts.js';
import { runsShortfallSaid } from './util.js';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * A diff's races counted in the findings' words (`findingCountsSaid`): `1 new (seen 83 times; 1 of
 * them on too few runs to tell from chance), 0 fixed, 0 unchanged` — a race on too few runs when
 * any page of it is; "seen": its findings' occurrences, both sides (as its `seen:` line).
 */
function raceCountsSaid(sections: readonly RaceSection[], failOn: DiffResult['failOn']): string {
  const of = (state: RaceState) => sections.find((s) => s.state === state);
  const races = (state: RaceState) => of(state)?.groups.length ?? 0;
  const thin = (state: RaceState) => of(state)?.groups.filter((g) => g.members.some((m) => m.entry && byChance(m.entry))).length ?? 0;
  const risen = of('unchanged')?.groups.filter((g) => g.members.some((m) => m.entry && risenAtFailOn(m.entry, failOn))).length ?? 0;
  const seen = (state: RaceState) => {
    const times = (of(state)?.groups ?? []).reduce((n, g) => n + g.members.reduce((k, m) => k + m.count, 0), 0);
    return races(state) ? `seen ${plural(times, 'time')}` : undefined;
  };
  const counts: FindingCounts = {
    new: races('new'),
    ...(thin('new') ? { newByChance: thin('new') } : {}),
    fixed: races('fixed'),
    ...(thin('fixed') ? { fixedByChance: thin('fixed') } : {}),
    unchanged: races('unchanged'),
    ...(risen ? { risen } : {}),
    ...(races('unjudged') ? { unjudged: races('unjudged') } : {}),
    ...(races('maybe-new') ? { maybeNew: races('maybe-new') } : {}),
  };
  return findingCountsSaid(counts, {
    new: seen('new'),
    fixed: seen('fixed'),
    unchanged: seen('unchanged'),
    unjudged: seen('unjudged'),
    maybeNew: seen('maybe-new'),
  });
}

/**
 * A new or fixed race's chance, as its most doubtful page's test says it (the largest p): `new:` or
 * `fixed:` / `fixed?` and the words (undefined when no page of it has a chance).
 */
export function groupChance(g: RaceGroup): { label: string; said: string } | undefined {
  const doubt = g.members.flatMap((m) => (m.entry?.chance ? [m.entry] : [])).sort((x, y) => y.chance!.p - x.chance!.p)[0];
  if (!doubt) return undefined;
  return g.state === 'new' ? { label: 'new:   ', said: newChanceSaid(doubt) } : { label: byChance(doubt) ? 'fixed?' : 'fixed: ', said: chanceSaid(doubt) };
}

function groupLines(g: RaceGroup, n: number): string[] {
  const shown = g.members[0]!;
  const f = shown.finding;
  const total = g.members.reduce((k, m) => k + m.count, 0);
  const lines = [
    ...(g.rules.length === 1
      ? [`  ${n}. ${g.rules[0]} [${g.severity}, ${certaintyOf(g)}]: ${RULE_HELP[g.rules[0]!].short}`]
      : [`  ${n}. ${g.rules.join(', ')} [${g.severity}, ${certaintyOf(g)}]`, ...g.rules.map((rule) => `     ${rule}: ${RULE_HELP[rule].short}`)]),
    `     tasks:  ${rolesText(g.roles)}`,
    `     pages:  ${pagesOf(g)}`,
  ];
  const e = g.members.map((m) => m.entry).filter((x) => x !== undefined);
  if (e.length) {
    const base = e.reduce((k, x) => k + x.base, 0);
    const patched = e.reduce((k, x) => k + x.patched, 0);
    const baseRuns = Math.max(...e.map((x) => x.baseRuns));
    const patchedRuns = Math.max(...e.map((x) => x.patchedRuns));
    lines.push(`     seen:   ${plural(total, 'time')}: base ${base} (in ${plural(baseRuns, 'run')}), patched ${patched} (in ${plural(patchedRuns, 'run')})`);
    const chance = groupChance(g);
    if (chance) lines.push(`     ${chance.label} ${chance.said}`);
    for (const why of groupReasons(g)) lines.push(`     why:    ${why}`);
  } else {
    lines.push(`     seen:   ${plural(total, 'time')}`);
  }
  lines.push(`     first:  ${f.message}`);
  for (const c of f.events) {
    lines.push(`       ${c.source}:${c.line}  ${c.comm ? `${taskColumn(c.comm, c.pid, c.cpu)} ` : ''}${c.summary}`);
  }
  return lines;
}

function sectionLines(s: RaceSection): string[] {
  const head = s.state ? `${s.heading}:` : `${s.heading}: ${plural(s.findings, 'finding')}${s.groups.length ? ` in ${plural(s.groups.length, 'race')}` : ''}`;
  if (s.groups.length === 0) return [`${head}${s.state ? ' none' : ''}`];
  return [head, ...s.groups.flatMap((g, i) => groupLines(g, i + 1))];
}

/**
 * Why a diff is a regression, one line per race rather than per page: the new races that
 * reach --fail-on, then each threshold exceeded (as the diff words it).
 */
export function verdictReasons(d: DiffResult, fresh: RaceSection): string[] {
  const out: string[] = [];
  for (const g of fresh.groups) {
    const failing = g.members.filter((m) => m.entry && reachesFailOn(m.entry.severity, d.failOn));
    if (failing.length) out.push(`new ${g.severity} ${g.rules.join(', ')} (${rolesText(g.roles)}) on ${pagesOf(g)}`);
  }
  for (const e of d.findings.unchanged) if (risenAtFailOn(e, d.failOn)) out.push(`more often: ${riseSaid(e)}`);
  for (const t of d.thresholds) {
    if (!t.exceeded) continue;
    const ch = t.changePct === null ? 'from 0' : `${t.changePct >= 0 ? '+' : ''}${t.changePct.toFixed(1)}%`;
    out.push(`${t.metric} ${t.base ?? 'n/a'} → ${t.patched ?? 'n/a'} (${ch}, allowed +${t.maxPct}%)`);
  }
  return out;
}

export function reportToText(m: ReportModel): string {
  const sections = raceSections(m);
  const lines: string[] = [];
  const d = m.diff;
  if (d) {
    const fresh = sections[0]!;
    // the findings as every format counts them, then the races they make
    lines.push(`kreplay: ${diffVerdictSaid(d)}: ${findingCountsSaid(findingCounts(d))}; races: ${raceCountsSaid(sections, d.failOn)}`);
    for (const side of ['base', 'patched'] as const) {
      lines.push(
        `  ${`${side}:`.padEnd(9)}${d[side].label} (${plural(d[side].runs.length, 'run')}, ${plural(d[side].events, 'event')}, ${plural(d[side].gaps, 'gap')})`,
      );
    }
    for (const r of verdictReasons(d, fresh)) lines.push(`  why: ${r}`);
    for (const w of d.warnings) lines.push(`  warning: ${w}`);
  } else {
    const findings = m.runs.reduce((k, r) => k + r.run.findings.length, 0);
    const races = sections.reduce((k, s) => k + s.groups.length, 0);
    // nothing found is not a clean run over traces that saw nothing, have holes or rules not judged
    lines.push(
      `kreplay: ${plural(findings, 'finding')} in ${plural(races, 'race')}, ${plural(m.runs.length, 'trace')}${runsShortfallSaid(
        m.runs.map((r) => r.run),
        findings,
      )}`,
    );
    for (const r of m.runs) {
      const run = r.run;
      const unjudged = [...new Set((run.unjudged ?? []).map((u) => u.rule))];
      lines.push(
        `  ${r.label}: ${plural(run.stats.events, 'event')} over ${fmtNs(run.durationNs)}, ${plural(run.stats.gaps, 'gap')}${run.unusableEvents ? `, ${plural(run.unusableEvents, 'unusable event')}` : ''}${unjudged.length ? `; not judged: ${unjudged.join(', ')}` : ''}${run.inconclusive?.length ? `; INCONCLUSIVE: ${run.inconclusive.join('; ')}` : ''}`,
      );
    }
    for (const r of m.runs) for (const w of r.run.warnings ?? []) lines.push(`  warning: ${w}`);
  }
  for (const s of sections) lines.push('', ...sectionLines(s));
  // untrusted text's controls (bidi ones too) shown as escapes first; then its right-to-left
  // runs isolated (FSI … PDI), so that they do not reorder the words around them
  return `${lines.map((l) => isolateBidi(printable(l))).join('\n')}\n`;
}
