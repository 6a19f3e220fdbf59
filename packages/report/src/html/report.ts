/**
 * `kreplay report --html`: one self-contained HTML file (inline CSS and SVG, no scripts,
 * no fonts, no network). Summary, the diff tables when there are two sides, every finding
 * with its explanation, cited trace lines and a per-CPU timeline, and latency histograms.
 */
import type { Finding } from '@kreplay/core';
import {
  BEHAVIOUR_METRICS, fmtNs, LATENCY_OPS, mergeHistograms,
  type DiffResult, type FindingEntry, type Histogram, type RunData, type WorkloadRow,
} from '@kreplay/diff';
import { fmtChange, fmtRate, where } from '../diff-fmt.js';
import { seconds } from '../util.js';
import { RULE_HELP } from '../rules.js';
import type { FindingWindow } from './window.js';
import { esc, histogramSvg, timelineSvg } from './svg.js';
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
  /** Finding classes listed in full per run; the rest are counted (default 200). */
  maxFindingsShown?: number;
  /** Bug reports triaged (`kreplay triage --html`), shown first. */
  triage?: TriageView[];
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1040px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:16px;margin:0 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:10px 0}
.verdict.bad{background:#fde2e1;border:1px solid #e0a09c}.verdict.good{background:#e3f4e4;border:1px solid #9ccc9f}
.finding{background:#fff;border:1px solid #ddd;border-left:5px solid #c0392b;border-radius:4px;padding:10px 14px;margin:12px 0}
.finding.warning{border-left-color:#d68910}.finding.note{border-left-color:#7f8c8d}
.badge{display:inline-block;font-size:12px;padding:1px 7px;border-radius:9px;margin-right:6px;background:#eee}
.badge.new{background:#c0392b;color:#fff}.badge.fixed{background:#2e8b3a;color:#fff}.badge.unchanged{background:#7f8c8d;color:#fff}
.badge.error{background:#fde2e1}.badge.warning{background:#fdebd0}.badge.uncertain{background:#fff3c4}
.expl{white-space:pre-wrap;margin:6px 0}
ul.warnings{background:#fff7d6;border:1px solid #e6cf7a;border-radius:6px;padding:8px 8px 8px 28px}
ol.cited{font:12.5px/1.5 ui-monospace,Menlo,Consolas,monospace;background:#f6f6f8;padding:6px 6px 6px 34px;margin:6px 0;overflow-x:auto}
.muted{color:#666}
svg text{font:11px system-ui,sans-serif}svg .lane{font-weight:600;fill:#333}svg .num{fill:#fff;font-weight:700;font-size:10px}
svg .evname{font-size:10.5px;font-weight:600}svg .tick{fill:#555;font-size:10px}svg .task{fill:#222}svg .htitle{font-weight:600}
figure{margin:8px 0}figcaption{font-size:12px;color:#555}
.hists{display:flex;flex-wrap:wrap;gap:12px}
`;

function table(head: string[], rows: string[][], numeric: number[] = []): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function summary(m: ReportModel): string {
  const rows = m.runs.map((r) => {
    const bySev = (s: string) => r.run.findings.filter((f) => f.severity === s).length;
    return [esc(r.side ?? '—'), esc(r.label), String(r.run.stats.events), fmtNs(r.run.durationNs), String(r.run.stats.gaps), String(r.run.unusableEvents ?? 0), String(bySev('error')), String(bySev('warning')),
      r.run.inconclusive?.length ? `<b>inconclusive</b> <span class="muted">${esc(r.run.inconclusive.join('; '))}</span>` : ''];
  });
  let html = table(['side', 'input', 'events', 'trace span', 'gaps', 'unusable events', 'errors', 'warnings', 'verdict'], rows, [2, 3, 4, 5, 6, 7]);
  if (m.diff) {
    const d = m.diff;
    const why = d.verdict === 'inconclusive' ? d.inconclusive : d.reasons;
    html = `<div class="verdict ${d.verdict === 'no-regression' ? 'good' : 'bad'}">${d.verdict === 'inconclusive' ? 'INCONCLUSIVE (no verdict, not a pass)' : d.regression ? 'REGRESSION' : 'No regression'}: ${d.findings.new.length} new, ${d.findings.fixed.length} fixed, ${d.findings.unchanged.length} unchanged finding(s)${why.length ? `<ul>${why.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}</div>\n${html}`;
  } else {
    const total = m.runs.reduce((s, r) => s + r.run.findings.length, 0);
    const blind = m.runs.filter((r) => r.run.inconclusive?.length).length;
    html = `<div class="verdict ${total || blind ? 'bad' : 'good'}">${total} finding(s) in ${m.runs.length} trace(s)${blind ? `; ${blind} trace(s) INCONCLUSIVE (nothing to judge)` : ''}</div>\n${html}`;
  }
  const warnings = m.diff?.warnings.length ? `<ul class="warnings">${m.diff.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>\n` : '';
  return `<section id="summary"><h2>Summary</h2>\n${warnings}${html}</section>`;
}

function diffTables(d: DiffResult): string {
  const fRows = ([['new', d.findings.new], ['fixed', d.findings.fixed], ['unchanged', d.findings.unchanged]] as Array<[string, FindingEntry[]]>)
    .flatMap(([state, es]) => es.map((e, i) => [`<span class="badge ${state}">${state}</span>`, `<a href="#finding-${state}-${i + 1}">${esc(e.rule)}</a>`, esc(where(e).trim() || '—'), esc(e.severity), String(e.base), String(e.patched)]));
  const behaviour = d.behaviour.filter((r) => r.base.count || r.patched.count).map((r) => [
    `<span title="${esc(r.description)}">${esc(r.name)}</span>`, `${r.base.count} ${fmtRate(r.base.perSec)}`, `${r.patched.count} ${fmtRate(r.patched.perSec)}`, fmtChange(r.changePct, r.base.count, r.patched.count),
  ]);
  const lat = d.latency.map((r) => [
    esc(r.op), `${r.base.n}`, `${fmtNs(r.base.p50)} / ${fmtNs(r.base.p90)} / ${fmtNs(r.base.p99)} / ${fmtNs(r.base.max)}`,
    `${r.patched.n}`, `${fmtNs(r.patched.p50)} / ${fmtNs(r.patched.p90)} / ${fmtNs(r.patched.p99)} / ${fmtNs(r.patched.max)}`,
    `${fmtChange(r.changePct.p50)} / ${fmtChange(r.changePct.p99)}`, esc(r.significance.note),
  ]);
  const parts = [
    '<section id="diff"><h2>What the patch changed</h2>',
    `<p class="muted">base: ${esc(d.base.runs.join(', '))}<br>patched: ${esc(d.patched.runs.join(', '))}</p>`,
    '<h3>Findings (matched by rule and page-cache page, never by timestamp or pfn)</h3>',
    fRows.length ? table(['state', 'rule', 'page', 'severity', 'base ×', 'patched ×'], fRows, [4, 5]) : '<p>No findings on either side.</p>',
    '<h3>Behaviour (count and rate per second of trace)</h3>',
    behaviour.length ? table(['operation', 'base', 'patched', 'change'], behaviour, [1, 2, 3]) : '<p>No page-cache operations on either side.</p>',
  ];
  if (lat.length) parts.push('<h3>Latency (entry → return; p50 / p90 / p99 / max)</h3>', table(['span', 'base n', 'base', 'patched n', 'patched', 'change p50 / p99', 'significance'], lat, [1, 3]));
  if (d.workload.length) {
    // Counters whose values differ between the sides are bold.
    const cell = (w: WorkloadRow, vs: WorkloadRow['base']) => {
      const text = esc(vs.map(String).join(' '));
      return new Set([...w.base, ...w.patched].map(String)).size > 1 ? `<b>${text}</b>` : text;
    };
    parts.push('<h3>Workload results (meta.json, one value per run)</h3>', table(['counter', 'base', 'patched'], d.workload.map((w) => [esc(w.name), cell(w, w.base), cell(w, w.patched)])));
  }
  if (d.thresholds.length) {
    parts.push('<h3>Thresholds</h3>', table(['metric', 'allowed', 'base', 'patched', 'change', 'verdict'], d.thresholds.map((t) => [
      esc(t.metric), `+${t.maxPct}%`, t.base === null ? 'n/a' : String(t.base), t.patched === null ? 'n/a' : String(t.patched), fmtChange(t.changePct, t.base ?? 0, t.patched ?? 0),
      `${t.exceeded ? '<b>EXCEEDED</b>' : 'ok'} <span class="muted">${esc(t.note)}</span>`,
    ])));
  }
  parts.push('</section>');
  return parts.join('\n');
}

function findingHtml(id: string, c: FindingClass, state: string | undefined, extra = ''): string {
  const f = c.finding;
  const w = c.window;
  const cites = f.events.map((e) => `<li>${esc(`${e.source}:${e.line}`)}${e.text !== undefined ? `  ${esc(e.text.trim())}` : `${e.comm ? `  ${esc(`${e.comm}-${e.pid} [${String(e.cpu).padStart(3, '0')}]`)}` : ''}  ${esc(seconds(e.ts))}${e.summary ? `  ${esc(e.summary)}` : ''}`}</li>`).join('\n');
  const title = `${f.rule}${f.file !== undefined ? ` on ${f.file}` : ''}${f.index !== undefined ? ` index ${f.index}` : ''}`;
  const timeline = w
    ? `<figure>${timelineSvg(w, `Timeline of ${title}: ${w.racing.map((r) => `${r.comm}-${r.pid}`).join(' vs ')}`)}<figcaption>Events around the finding, one lane per CPU; racing tasks in colour, numbered circles are the cited lines above${w.events.some((e) => e.phase === 'gap') ? '; dark dashed bars mark lost events on that CPU, why the finding may be uncertain' : ''}${w.dropped ? `; ${w.dropped} more event(s) in the window not drawn` : ''}.</figcaption></figure>`
    : '<p class="muted">No timeline: the trace these lines come from was not read (a replay result without its trace, or past the first findings).</p>';
  return `<article class="finding ${esc(f.severity)}" id="finding-${esc(id)}">
<h3>${state ? `<span class="badge ${state}">${state}</span>` : ''}<span class="badge ${esc(f.severity)}">${esc(f.severity)}</span>${f.certainty === 'uncertain' ? '<span class="badge uncertain">uncertain</span>' : ''}${esc(title)}</h3>
<p class="muted">${esc(RULE_HELP[f.rule].full)}</p>
<p><b>${esc(f.message)}</b>${c.count > 1 ? ` <span class="muted">(${c.count} occurrences of this rule on this page; the first is shown)</span>` : ''}${extra}</p>
<p class="expl">${esc(f.explanation)}</p>
<ol class="cited">
${cites}
</ol>
${timeline}
</article>`;
}

/** With a diff: each finding class once, under new / fixed / unchanged. */
function diffFindingsSection(m: ReportModel, d: DiffResult): string {
  const classOf = (e: FindingEntry): FindingClass => {
    for (const r of m.runs) {
      const c = r.classes.find((x) => x.finding === e.example);
      if (c) return { ...c, count: e.base + e.patched };
    }
    return { key: e.key, finding: e.example, count: e.base + e.patched };
  };
  const parts = ['<section id="findings"><h2>Findings</h2>'];
  for (const [state, heading, entries] of [['new', 'New in patched', d.findings.new], ['fixed', 'Fixed by patched', d.findings.fixed], ['unchanged', 'In both', d.findings.unchanged]] as const) {
    parts.push(`<h3 class="run">${heading} — ${entries.length}</h3>`);
    if (entries.length === 0) parts.push('<p class="muted">None.</p>');
    entries.forEach((e, i) => parts.push(findingHtml(`${state}-${i + 1}`, classOf(e), state,
      `<br><span class="muted">base ${e.base}× in ${e.baseRuns} run(s), patched ${e.patched}× in ${e.patchedRuns} run(s); shown from ${esc(e.exampleRun)}</span>`)));
  }
  parts.push('</section>');
  return parts.join('\n');
}

function findingsSection(m: ReportModel): string {
  if (m.diff) return diffFindingsSection(m, m.diff);
  const max = m.maxFindingsShown ?? 200;
  const parts = ['<section id="findings"><h2>Findings</h2>'];
  m.runs.forEach((r, ri) => {
    parts.push(`<h3 class="run">${esc(r.label)} — ${r.run.findings.length} finding(s)${r.classes.length < r.run.findings.length ? ` in ${r.classes.length} class(es) (rule and page)` : ''}</h3>`);
    if (r.run.findings.length === 0) parts.push('<p class="muted">No findings.</p>');
    r.classes.slice(0, max).forEach((c, ci) => parts.push(findingHtml(`${ri + 1}-${ci + 1}`, c, undefined)));
    if (r.classes.length > max) parts.push(`<p class="muted">${r.classes.length - max} more finding class(es) not shown (see the JSON output).</p>`);
  });
  parts.push('</section>');
  return parts.join('\n');
}

function behaviourSection(m: ReportModel): string {
  if (m.diff) return '';
  const rows = BEHAVIOUR_METRICS.map((def) => [esc(def.name), ...m.runs.map((r) => String(r.run.counts[def.name] ?? 0))]).filter((row) => row.slice(1).some((c) => c !== '0'));
  if (!rows.length) return '';
  return `<section id="behaviour"><h2>Behaviour</h2>${table(['operation', ...m.runs.map((r) => r.label)], rows, m.runs.map((_, i) => i + 1))}</section>`;
}

function latencySection(m: ReportModel): string {
  const sides: Array<{ label: string; colour: string; runs: ReportRun[] }> = m.diff
    ? [{ label: 'base', colour: '#1f6fb4', runs: m.runs.filter((r) => r.side === 'base') }, { label: 'patched', colour: '#c0392b', runs: m.runs.filter((r) => r.side === 'patched') }]
    : m.runs.map((r, i) => ({ label: r.label, colour: ['#1f6fb4', '#c0392b', '#2e8b3a', '#8e44ad'][i % 4]!, runs: [r] }));
  const charts: string[] = [];
  for (const op of LATENCY_OPS) {
    const series = sides.map((s) => ({ label: s.label, colour: s.colour, h: mergeHistograms(s.runs.flatMap((r) => (r.run.latency[op] ? [r.run.latency[op] as Histogram] : []))) }))
      .filter((s) => s.h.count > 0);
    if (series.length) charts.push(histogramSvg(`${op} latency (entry → return)`, series));
  }
  if (!charts.length) return '<section id="latency"><h2>Latency</h2><p class="muted">No entry/return pairs in these traces.</p></section>';
  return `<section id="latency"><h2>Latency</h2><div class="hists">\n${charts.join('\n')}\n</div></section>`;
}

export function reportToHtml(m: ReportModel): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(m.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(m.title)}</h1>
<p class="muted">kreplay report: ${m.runs.length} input(s)${m.diff ? `, base vs patched` : ''}.</p>
${triageSection(m.triage ?? [])}
${m.runs.length === 0 && m.triage?.length ? '' : `${summary(m)}
${m.diff ? diffTables(m.diff) : ''}
${findingsSection(m)}
${behaviourSection(m)}
${latencySection(m)}`}
</main>
</body>
</html>
`;
}
