/**
 * `kreplay report --html`: one self-contained HTML file (inline CSS and SVG, no scripts,
 * no fonts, no network). At the top the summary to paste into a mail (report-text.ts), then
 * the verdict, the diff tables when there are two sides, each race once — findings that
 * are one race (same rule, same tasks, same code paths: race-groups.ts) in one card that
 * lists its pages, with the first occurrence's explanation, cited trace lines and per-CPU
 * timeline, a task keeping one colour across the whole report — and latency histograms.
 * All markup is built with the escaping `html` template (html.ts).
 */
import { taskColumn, type Finding } from '@kreplay/core';
import {
  BEHAVIOUR_METRICS,
  fmtNs,
  LATENCY_OPS,
  mergeHistograms,
  type DiffResult,
  type FindingEntry,
  type Histogram,
  type RunData,
  type WorkloadRow,
} from '@kreplay/diff';
import { byChance, chanceSaid, diffShortfall, fmtChange, fmtRate, newChanceSaid, where } from '../diff-fmt.js';
import { findingCounts, findingCountsSaid } from '../finding-counts.js';
import { certaintyOf, groupReasons, pagesOf, raceSections, rolesText, TaskColours, type RaceGroup, type RaceMember, type RaceSection } from '../race-groups.js';
import { groupChance, reportToText, verdictReasons } from '../report-text.js';
import { runVerdictSaid, runsShortfall, seconds } from '../util.js';
import { RULE_HELP } from '../rules.js';
import { html, join, lines, trusted, type Html, type HtmlValue } from './html.js';
import type { FindingWindow } from './window.js';
import { histogramSvg, timelineSvg } from './svg.js';
import { triageSection, type TriageView } from './triage.js';

/** The findings of one run that share rule and page (file, index): shown once, counted. */
export interface FindingClass {
  key: string;
  /** The first occurrence, shown in full. */
  finding: Finding;
  count: number;
  /** Events around the first occurrence (absent past the window cap or without the trace). */
  window?: FindingWindow;
}

export interface ReportRun {
  label: string;
  side?: 'base' | 'patched';
  run: RunData;
  /** Finding classes in order of first occurrence. */
  classes: FindingClass[];
}

export interface ReportModel {
  title: string;
  runs: ReportRun[];
  diff?: DiffResult;
  /** Race groups listed in full per section; the rest are counted (default 200). */
  maxFindingsShown?: number;
  /** Bug reports triaged (`kreplay triage --html`), shown first. */
  triage?: TriageView[];
}

const CSS = trusted(`
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1040px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:16px;margin:0 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:10px 0}
.verdict.bad{background:#fde2e1;border:1px solid #e0a09c}.verdict.good{background:#e3f4e4;border:1px solid #9ccc9f}.verdict.short{background:#fdf3d8;border:1px solid #d9c07a}
.finding{background:#fff;border:1px solid #ddd;border-left:5px solid #c0392b;border-radius:4px;padding:10px 14px;margin:12px 0}
.finding.warning{border-left-color:#d68910}.finding.note{border-left-color:#7f8c8d}
.badge{display:inline-block;font-size:12px;padding:1px 7px;border-radius:9px;margin-right:6px;background:#eee}
.badge.new{background:#c0392b;color:#fff}.badge.fixed{background:#2e8b3a;color:#fff}.badge.unchanged{background:#7f8c8d;color:#fff}.badge.unjudged{background:#b9770e;color:#fff}.badge.maybe-new{background:#b9770e;color:#fff}
.badge.error{background:#fde2e1}.badge.warning{background:#fdebd0}.badge.uncertain{background:#fff3c4}
.expl{white-space:pre-wrap;margin:6px 0}
ul.warnings{background:#fff7d6;border:1px solid #e6cf7a;border-radius:6px;padding:8px 8px 8px 28px}
ol.cited{font:12.5px/1.5 ui-monospace,Menlo,Consolas,monospace;background:#f6f6f8;padding:6px 6px 6px 34px;margin:6px 0;overflow-x:auto}
.muted{color:#666}
svg text{font:11px system-ui,sans-serif}svg .lane{font-weight:600;fill:#333}svg .num{fill:#fff;font-weight:700;font-size:10px}
svg .evname{font-size:10.5px;font-weight:600}svg .tick{fill:#555;font-size:10px}svg .task{fill:#222}svg .htitle{font-weight:600}
figure{margin:8px 0}figcaption{font-size:12px;color:#555}
.hists{display:flex;flex-wrap:wrap;gap:12px}
pre.mail{font:12.5px/1.45 ui-monospace,Menlo,Consolas,monospace;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;white-space:pre-wrap;overflow-wrap:anywhere}
details{margin:6px 0}summary{cursor:pointer;color:#333}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 2px;vertical-align:baseline}
`);

function table(head: string[], rows: HtmlValue[][], numeric: number[] = []): Html {
  return html`<table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>
${join(
  rows.map((r) => html`<tr>${r.map((c, i) => (numeric.includes(i) ? html`<td class="n">${c}</td>` : html`<td>${c}</td>`))}</tr>`),
  html`\n`,
)}
</tbody></table>`;
}

/** The summary to paste into a mail, then the verdict and the inputs. */
function summary(m: ReportModel, sections: RaceSection[]): Html {
  const rows = m.runs.map((r) => {
    const bySev = (s: string) => r.run.findings.filter((f) => f.severity === s).length;
    return [
      r.side ?? '—',
      r.label,
      r.run.stats.events,
      fmtNs(r.run.durationNs),
      r.run.stats.gaps,
      r.run.unusableEvents ?? 0,
      bySev('error'),
      bySev('warning'),
      r.run.inconclusive?.length ? html`<b>inconclusive</b> <span class="muted">${r.run.inconclusive.join('; ')}</span>` : runVerdictSaid(r.run),
    ];
  });
  const inputs = table(['side', 'input', 'events', 'trace span', 'gaps', 'unusable events', 'errors', 'warnings', 'verdict'], rows, [2, 3, 4, 5, 6, 7]);
  let verdict: Html;
  if (m.diff) {
    const d = m.diff;
    const reasons = d.verdict === 'inconclusive' ? d.inconclusive : verdictReasons(d, sections[0]!);
    // no regression over patched traces with holes or unjudged rules, or beside a threshold it
    // could not compare, is not a pass: not green either
    const shortfall = d.verdict === 'no-regression' ? diffShortfall(d) : undefined;
    verdict = html`<div class="verdict ${d.verdict === 'no-regression' ? (shortfall ? 'short' : 'good') : 'bad'}">${d.verdict === 'inconclusive' ? 'INCONCLUSIVE (no verdict, not a pass)' : d.regression ? 'REGRESSION' : shortfall ? `No regression in what the traces show, but ${shortfall}: not a pass` : 'No regression'}: ${findingCountsSaid(findingCounts(d))}${reasons.length ? html`<ul>${reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}</div>`;
  } else {
    const total = m.runs.reduce((s, r) => s + r.run.findings.length, 0);
    // no finding over traces with holes or rules not judged is not a clean run: amber, not green
    const { blind, unclean } = runsShortfall(m.runs.map((r) => r.run));
    const short = !total && !blind && unclean > 0;
    verdict = html`<div class="verdict ${total || blind ? 'bad' : short ? 'short' : 'good'}">${total} finding(s) in ${m.runs.length} trace(s)${blind ? `; ${blind} trace(s) INCONCLUSIVE (nothing to judge)` : ''}${unclean && !total ? `, but ${unclean} trace(s) with holes or rules not judged: not a clean run` : ''}</div>`;
  }
  const said = m.diff?.warnings ?? m.runs.flatMap((r) => r.run.warnings ?? []);
  const warnings = said.length ? html`<ul class="warnings">${said.map((w) => html`<li>${w}</li>`)}</ul>\n` : '';
  return html`<section id="summary"><h2>Summary</h2>
<p class="muted">As plain text, to paste into a mail (also <code>kreplay report --format text</code>):</p>
<pre class="mail">${reportToText(m)}</pre>
${warnings}${verdict}
${inputs}</section>`;
}

function diffTables(d: DiffResult, cardOf: Map<FindingEntry, string>): Html {
  const fRows = (
    [
      ['new', d.findings.new],
      ['fixed', d.findings.fixed],
      ['unchanged', d.findings.unchanged],
      ['unjudged', d.findings.unjudged ?? []],
      ['maybe-new', d.findings.maybeNew ?? []],
    ] as Array<[string, FindingEntry[]]>
  ).flatMap(([state, es]) =>
    es.map((e) => [
      state === 'fixed' && byChance(e)
        ? html`<span class="badge ${state}" title="${chanceSaid(e)}">fixed?</span>`
        : state === 'new'
          ? html`<span class="badge ${state}" title="${newChanceSaid(e)}">new</span>`
          : html`<span class="badge ${state}">${state}</span>`,
      html`<a href="#${cardOf.get(e) ?? ''}">${e.rule}</a>`,
      where(e).trim() || '—',
      e.severity,
      e.base,
      e.patched,
    ]),
  );
  const behaviour = d.behaviour
    .filter((r) => r.base.count || r.patched.count)
    .map((r) => [
      html`<span title="${r.description}">${r.name}</span>`,
      `${r.base.count} ${fmtRate(r.base.perSec)}`,
      `${r.patched.count} ${fmtRate(r.patched.perSec)}`,
      fmtChange(r.changePct, r.base.count, r.patched.count),
    ]);
  const lat = d.latency.map((r) => [
    r.op,
    r.base.n,
    `${fmtNs(r.base.p50)} / ${fmtNs(r.base.p90)} / ${fmtNs(r.base.p99)} / ${fmtNs(r.base.max)}`,
    r.patched.n,
    `${fmtNs(r.patched.p50)} / ${fmtNs(r.patched.p90)} / ${fmtNs(r.patched.p99)} / ${fmtNs(r.patched.max)}`,
    `${fmtChange(r.changePct.p50)} / ${fmtChange(r.changePct.p99)}`,
    r.significance.note,
  ]);
  const parts: Html[] = [
    html`<section id="diff"><h2>What the patch changed</h2>`,
    html`<p class="muted">base: ${d.base.runs.join(', ')}<br>patched: ${d.patched.runs.join(', ')}</p>`,
    html`<h3>Findings (matched by rule and page-cache page, never by timestamp or pfn)</h3>`,
    fRows.length ? table(['state', 'rule', 'page', 'severity', 'base ×', 'patched ×'], fRows, [4, 5]) : html`<p>No findings on either side.</p>`,
    html`<h3>Behaviour (count and rate per second of trace)</h3>`,
    behaviour.length ? table(['operation', 'base', 'patched', 'change'], behaviour, [1, 2, 3]) : html`<p>No page-cache operations on either side.</p>`,
  ];
  if (lat.length)
    parts.push(
      html`<h3>Latency (entry → return; p50 / p90 / p99 / max)</h3>`,
      table(['span', 'base n', 'base', 'patched n', 'patched', 'change p50 / p99', 'significance'], lat, [1, 3]),
    );
  if (d.workload.length) {
    // Counters whose values differ between the sides are bold.
    const cell = (w: WorkloadRow, vs: WorkloadRow['base']): Html => {
      const text = vs.map(String).join(' ');
      return new Set([...w.base, ...w.patched].map(String)).size > 1 ? html`<b>${text}</b>` : html`${text}`;
    };
    parts.push(
      html`<h3>Workload results (meta.json, one value per run)</h3>`,
      table(
        ['counter', 'base', 'patched'],
        d.workload.map((w) => [w.name, cell(w, w.base), cell(w, w.patched)]),
      ),
    );
  }
  if (d.thresholds.length) {
    parts.push(
      html`<h3>Thresholds</h3>`,
      table(
        ['metric', 'allowed', 'base', 'patched', 'change', 'verdict'],
        d.thresholds.map((t) => [
          t.metric,
          `+${t.maxPct}%`,
          t.base === null ? 'n/a' : t.base,
          t.patched === null ? 'n/a' : t.patched,
          fmtChange(t.changePct, t.base ?? 0, t.patched ?? 0),
          html`${t.exceeded ? html`<b>EXCEEDED</b>` : t.judged === false ? 'not judged' : 'ok'} <span class="muted">${t.note}</span>`,
        ]),
      ),
    );
  }
  parts.push(html`</section>`);
  return join(parts, html`\n`);
}

/** `kr-write` with its colour swatch, as the timelines draw it. */
function task(comm: string, pid: number, racing: FindingWindow['racing'], colours: TaskColours): Html {
  return html`<span class="swatch" style="background:${colours.colour(pid, comm, racing)}"></span>${comm}`;
}

/** One page of a group: a row of the card's page table. */
function memberRow(m: RaceMember): HtmlValue[] {
  const page = where(m).trim() || '—';
  if (m.entry) return [m.finding.rule, page, m.entry.base, m.entry.patched, `${m.entry.baseRuns} / ${m.entry.patchedRuns}`, m.certainty];
  return [m.finding.rule, page, m.count, m.certainty];
}

/** One race: its tasks and paths, its pages and counts, and the first occurrence in full. */
function raceCard(g: RaceGroup, colours: TaskColours): Html {
  const shown = g.members[0]!;
  const f = shown.finding;
  const w = shown.window;
  const racing = w?.racing ?? [...new Map(f.events.map((e) => [e.pid, { pid: e.pid, comm: e.comm }])).values()];
  const pidOf = (comm: string): number => racing.find((r) => r.comm === comm)?.pid ?? -1;
  const tasks = g.roles.length
    ? join(
        g.roles.map((r) => html`${task(r.comm, pidOf(r.comm), racing, colours)} in <code>${r.fn}</code>`),
        html` vs `,
      )
    : html`no task named`;
  const total = g.members.reduce((k, m) => k + m.count, 0);
  const cites = f.events.map(
    (e) =>
      html`<li>${`${e.source}:${e.line}`}${e.text !== undefined ? html`  ${e.text.trim()}` : html`${e.comm ? html`  ${taskColumn(e.comm, e.pid, e.cpu)}` : ''}  ${seconds(e.ts)}${e.summary ? html`  ${e.summary}` : ''}`}</li>`,
  );
  const title = `${g.rules.join(', ')}: ${rolesText(g.roles)}`;
  const timeline = w
    ? html`<figure>${timelineSvg(w, `Timeline of ${title}: ${w.racing.map((r) => `${r.comm}-${r.pid}`).join(' vs ')}`, colours)}<figcaption>Events around the first occurrence, one lane per CPU; each racing task in its colour (the same in every finding of this report), numbered circles are the cited lines above${w.events.some((e) => e.phase === 'gap') ? '; dark dashed bars mark lost events on that CPU, why the finding may be uncertain' : ''}${w.dropped ? `; ${w.dropped} more event(s) in the window not drawn` : ''}.</figcaption></figure>`
    : html`<p class="muted">No timeline: the trace these lines come from was not read (a replay result without its trace, or past the first findings).</p>`;
  const pageTable =
    g.members.length > 1
      ? html`<details><summary>${g.members.length} findings (rule and page), one row each</summary>${table(shown.entry ? ['rule', 'page', 'base ×', 'patched ×', 'runs (base / patched)', 'certainty'] : ['rule', 'page', 'occurrences', 'certainty'], g.members.map(memberRow), shown.entry ? [2, 3] : [2])}</details>`
      : '';
  const seen = shown.entry
    ? (() => {
        const es = g.members.map((m) => m.entry!);
        return `${total} time(s): base ${es.reduce((k, e) => k + e.base, 0)}, patched ${es.reduce((k, e) => k + e.patched, 0)}; shown from ${shown.run}`;
      })()
    : `${total} time(s)${g.members.length > 1 || total > 1 ? '; the first is shown' : ''}`;
  const chance = groupChance(g);
  return html`<article class="finding ${g.severity}" id="${g.id}">
<h3>${g.state ? html`<span class="badge ${g.state}">${g.state}</span>` : ''}<span class="badge ${g.severity}">${g.severity}</span>${certaintyOf(g) !== 'certain' ? html`<span class="badge uncertain">${certaintyOf(g)}</span>` : ''}${g.rules.join(', ')} on ${pagesOf(g)}</h3>
<p class="tasks">${tasks}</p>
${g.rules.map((rule) => html`<p class="muted">${g.rules.length > 1 ? html`<b>${rule}</b>: ` : ''}${RULE_HELP[rule].full}</p>`)}
<p><b>${f.message}</b> <span class="muted">(${seen})</span></p>
${chance ? html`<p class="muted">${chance.label.trim()} ${chance.said}</p>` : ''}${groupReasons(g).map((why) => html`<p class="muted">${why}</p>`)}
${pageTable}
<p class="expl">${f.explanation}</p>
<ol class="cited">
${join(cites, html`\n`)}
</ol>
${timeline}
</article>`;
}

function sectionHtml(s: RaceSection, max: number, colours: TaskColours): Html {
  const pages = s.groups.reduce((k, g) => k + g.members.length, 0);
  const head = s.state
    ? html`<h3 class="run">${s.heading} — ${s.findings} finding class(es)${s.groups.length ? ` in ${s.groups.length} race(s)` : ''}</h3>`
    : html`<h3 class="run">${s.heading} — ${s.findings} finding(s)${s.groups.length ? ` on ${pages} page(s) in ${s.groups.length} race(s)` : ''}</h3>`;
  const body =
    s.groups.length === 0
      ? html`<p class="muted">${s.state ? 'None.' : 'No findings.'}</p>`
      : join(
          s.groups.slice(0, max).map((g) => raceCard(g, colours)),
          html`\n`,
        );
  const more = s.groups.length > max ? html`<p class="muted">${s.groups.length - max} more race(s) not shown (see the JSON output).</p>` : '';
  return html`${head}\n${body}${more}`;
}

function findingsSection(sections: RaceSection[], m: ReportModel, colours: TaskColours): Html {
  const max = m.maxFindingsShown ?? 200;
  return html`<section id="findings"><h2>Findings</h2>
${join(
  sections.map((s) => sectionHtml(s, max, colours)),
  html`\n`,
)}
</section>`;
}

function behaviourSection(m: ReportModel): Html {
  if (m.diff) return html``;
  const rows = BEHAVIOUR_METRICS.map((def) => [def.name, ...m.runs.map((r) => String(r.run.counts[def.name] ?? 0))]).filter((row) =>
    row.slice(1).some((c) => c !== '0'),
  );
  if (!rows.length) return html``;
  return html`<section id="behaviour"><h2>Behaviour</h2>${table(
    ['operation', ...m.runs.map((r) => r.label)],
    rows,
    m.runs.map((_, i) => i + 1),
  )}</section>`;
}

function latencySection(m: ReportModel): Html {
  const sides: Array<{ label: string; colour: string; runs: ReportRun[] }> = m.diff
    ? [
        { label: 'base', colour: '#1f6fb4', runs: m.runs.filter((r) => r.side === 'base') },
        { label: 'patched', colour: '#c0392b', runs: m.runs.filter((r) => r.side === 'patched') },
      ]
    : m.runs.map((r, i) => ({ label: r.label, colour: ['#1f6fb4', '#c0392b', '#2e8b3a', '#8e44ad'][i % 4]!, runs: [r] }));
  const charts: Html[] = [];
  for (const op of LATENCY_OPS) {
    const series = sides
      .map((s) => ({
        label: s.label,
        colour: s.colour,
        h: mergeHistograms(s.runs.flatMap((r) => (r.run.latency[op] ? [r.run.latency[op] as Histogram] : []))),
      }))
      .filter((s) => s.h.count > 0);
    if (series.length) charts.push(histogramSvg(`${op} latency (entry → return)`, series));
  }
  if (!charts.length) return html`<section id="latency"><h2>Latency</h2><p class="muted">No entry/return pairs in these traces.</p></section>`;
  return html`<section id="latency"><h2>Latency</h2><div class="hists">
${join(charts, html`\n`)}
</div></section>`;
}

export function reportToHtml(m: ReportModel): string {
  const sections = raceSections(m);
  // Diff table rows link to the card of their race.
  const cardOf = new Map<FindingEntry, string>();
  for (const s of sections) for (const g of s.groups) for (const mem of g.members) if (mem.entry) cardOf.set(mem.entry, g.id);
  const colours = new TaskColours();
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${m.title}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${m.title}</h1>
<p class="muted">kreplay report: ${m.runs.length} input(s)${m.diff ? ', base vs patched' : ''}.</p>
${lines([
  triageSection(m.triage ?? []),
  ...(m.runs.length === 0 && m.triage?.length
    ? []
    : [
        summary(m, sections),
        m.diff ? diffTables(m.diff, cardOf) : ('' as const),
        findingsSection(sections, m, colours),
        behaviourSection(m),
        latencySection(m),
      ]),
])}
</main>
</body>
</html>
`.text;
}
