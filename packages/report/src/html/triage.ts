/**
 * The triage section of the HTML report (`kreplay triage --html`): each splat of a bug
 * report with its rule, path, frames and page, what the model says (the schedule as a
 * table), and how the reproducer runs went. Plain data in (the report package does not
 * depend on the triage package); markup only through the escaping html`` template.
 */
import { html, lines, type Html } from './html.js';

export interface TriageSplatView {
  title: string;
  kind: string;
  /** `key: value` lines: kernel, task, culprit, rule, path, page fields. */
  facts: Array<[string, string]>;
  frames: string[];
  model: {
    status: 'schedule' | 'unreachable' | 'incomplete' | 'not-modelled';
    because: string;
    threads: string[];
    schedule?: { rule: string; threads: string[]; steps: Array<{ n: number; thread: number; label: string; effect?: string }> };
  } | null;
}

export interface TriageView {
  source: string;
  splats: TriageSplatView[];
  repro?: { summary: string; runs: string[] };
}

function scheduleTable(s: NonNullable<NonNullable<TriageSplatView['model']>['schedule']>): Html {
  const head = ['#', ...s.threads, 'effect'].map((h) => html`<th>${h}</th>`);
  const rows = s.steps.map(
    (st) => html`<tr><td class="n">${st.n}</td>${s.threads.map((_, t) => html`<td>${t === st.thread ? st.label : ''}</td>`)}<td>${st.effect ?? ''}</td></tr>\n`,
  );
  return html`<table><thead><tr>${head}</tr></thead><tbody>\n${rows}</tbody></table>`;
}

function splatCard(s: TriageSplatView): Html {
  const m = s.model;
  return html`<div class="${m?.status === 'schedule' ? 'finding' : 'finding note'}"><h3>${s.title} <span class="badge">${s.kind}</span></h3>
<table><tbody>${s.facts.map(([k, val]) => html`<tr><th>${k}</th><td>${val}</td></tr>`)}</tbody></table>
${s.frames.length ? html`<ol class="cited">${s.frames.map((f) => html`<li>${f}</li>`)}</ol>` : ''}
${
  m
    ? html`<p class="expl"><b>model: ${m.status}</b> — ${m.because}</p>
${m.threads.length ? html`<ul>${m.threads.map((t) => html`<li>${t}</li>`)}</ul>` : ''}
${m.schedule ? scheduleTable(m.schedule) : ''}`
    : ''
}
</div>`;
}

export function triageSection(views: readonly TriageView[]): Html | '' {
  if (views.length === 0) return '';
  return html`<section id="triage"><h2>Bug report triage</h2>
${views.map(
  (v) => html`${lines([
    html`<p class="muted">${v.source}: ${v.splats.length} splat(s)</p>`,
    ...v.splats.map(splatCard),
    // a reproducer that caught nothing says nothing about the kernel: amber ("not a pass"), never the green of a clean verdict
    v.repro
      ? html`<div class="verdict ${/was caught/.test(v.repro.summary) ? 'bad' : 'short'}">${v.repro.summary}<ul>${v.repro.runs.map((r) => html`<li>${r}</li>`)}</ul></div>`
      : '',
  ])}
`,
)}</section>`;
}
