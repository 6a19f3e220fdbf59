/**
 * The triage section of the HTML report (`kreplay triage --html`): each splat of a bug
 * report with its rule, path, frames and page, what the model says (the schedule as a
 * table), and how the reproducer runs went. Plain data in; the report package does not
 * depend on the triage package.
 */
import { esc } from './svg.js';

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

function scheduleTable(s: NonNullable<NonNullable<TriageSplatView['model']>['schedule']>): string {
  const head = ['#', ...s.threads, 'effect'].map((h) => `<th>${esc(h)}</th>`).join('');
  const rows = s.steps.map((st) => {
    const cells = s.threads.map((_, t) => `<td>${t === st.thread ? esc(st.label) : ''}</td>`).join('');
    return `<tr><td class="n">${st.n}</td>${cells}<td>${esc(st.effect ?? '')}</td></tr>`;
  }).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export function triageSection(views: readonly TriageView[]): string {
  if (views.length === 0) return '';
  const parts: string[] = ['<section id="triage"><h2>Bug report triage</h2>'];
  for (const v of views) {
    parts.push(`<p class="muted">${esc(v.source)}: ${v.splats.length} splat(s)</p>`);
    for (const s of v.splats) {
      const m = s.model;
      const cls = m?.status === 'schedule' ? 'finding' : 'finding note';
      parts.push(`<div class="${cls}"><h3>${esc(s.title)} <span class="badge">${esc(s.kind)}</span></h3>`);
      parts.push(`<table><tbody>${s.facts.map(([k, val]) => `<tr><th>${esc(k)}</th><td>${esc(val)}</td></tr>`).join('')}</tbody></table>`);
      if (s.frames.length) parts.push(`<ol class="cited">${s.frames.map((f) => `<li>${esc(f)}</li>`).join('')}</ol>`);
      if (m) {
        parts.push(`<p class="expl"><b>model: ${esc(m.status)}</b> — ${esc(m.because)}</p>`);
        if (m.threads.length) parts.push(`<ul>${m.threads.map((t) => `<li>${esc(t)}</li>`).join('')}</ul>`);
        if (m.schedule) parts.push(scheduleTable(m.schedule));
      }
      parts.push('</div>');
    }
    if (v.repro) {
      parts.push(`<div class="verdict ${/was caught/.test(v.repro.summary) ? 'bad' : 'good'}">${esc(v.repro.summary)}<ul>${v.repro.runs.map((r) => `<li>${esc(r)}</li>`).join('')}</ul></div>`);
    }
  }
  parts.push('</section>');
  return parts.join('\n');
}
