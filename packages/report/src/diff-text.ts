/** `kreplay diff --format text`: what the patch changed, for a person at a terminal. */
import { printable, taskColumn, type Finding } from '@kreplay/core';
import { fmtNs, riseSaid, type DiffResult, type FindingEntry, type SideInfo } from '@kreplay/diff';
import { chanceSaid, diffVerdictSaid, fixedTag, fmtChange, fmtRate, maybeNewWhy, newChanceSaid, pad, unjudgedWhy, verdictWord, where } from './diff-fmt.js';
import { findingCounts, findingCountsSaid } from './finding-counts.js';

function side(s: SideInfo): string {
  const runs = s.runs.length === 1 ? s.runs[0]! : `${s.label} (${s.runs.length} runs)`;
  const left = s.inconclusiveRuns.length ? `, ${s.inconclusiveRuns.length} run(s) left out` : '';
  return `${runs} (${fmtNs(s.durationNs)} of trace, ${s.events} events${s.gaps ? `, ${s.gaps} gaps` : ''}${s.unusableEvents ? `, ${s.unusableEvents} unusable events` : ''}${left})`;
}

/** Cited lines: the trace's own text where replay read it again. */
export function citeLines(f: Finding, indent: string): string[] {
  return f.events.map((e) =>
    e.text !== undefined
      ? `${indent}${e.source}:${e.line}  ${e.text.trim()}`
      : `${indent}${e.source}:${e.line}${e.comm ? `  ${taskColumn(e.comm, e.pid, e.cpu)}` : ''}${e.summary ? `  ${e.summary}` : ''}`,
  );
}

function counts(e: FindingEntry): string {
  return `base ${e.base}× in ${e.baseRuns} run(s), patched ${e.patched}× in ${e.patchedRuns} run(s)`;
}

/** An uncertain finding's reason (lost events, unusable events, tied timestamps, a per-CPU clock) is in its explanation. */
function headline(tag: string, e: FindingEntry): string {
  return `  ${pad(tag, 9)} ${pad(e.severity, 7)} ${e.rule}${where(e)}${e.certainty === 'uncertain' ? ' (uncertain)' : ''}`;
}

/** New findings in full: what, who raced with whom, the cited lines. */
function entry(tag: string, e: FindingEntry): string[] {
  return [
    headline(tag, e),
    `            ${e.example.message}`,
    `            ${counts(e)}; example from ${e.exampleRun}:`,
    ...e.example.explanation.split('\n').map((l) => `            ${l}`),
    ...citeLines(e.example, '              '),
  ];
}

export function diffToText(d: DiffResult): string {
  const out: string[] = [];
  out.push(`kreplay diff`);
  out.push(`  base:    ${side(d.base)}`);
  out.push(`  patched: ${side(d.patched)}`);
  for (const w of d.warnings) out.push(`  warning: ${w}`);
  out.push('');
  if (d.verdict === 'inconclusive') {
    out.push(`${verdictWord(d)}: nothing to compare, so no verdict (not a pass):`);
    for (const r of d.inconclusive) out.push(`  - ${r}`);
    if (d.reasons.length) out.push('  the patched side alone shows:', ...d.reasons.map((r) => `  - ${r}`));
  } else if (d.regression) {
    out.push(`${verdictWord(d)} (${d.reasons.length} reason${d.reasons.length === 1 ? '' : 's'}):`);
    for (const r of d.reasons) out.push(`  - ${r}`);
  } else {
    const unjudged = d.thresholds.filter((t) => t.judged === false).length;
    const held = d.thresholds.length - unjudged;
    out.push(
      `${diffVerdictSaid(d)} (fail-on ${d.failOn}${d.thresholds.length ? `, ${held} threshold(s) held${unjudged ? `, ${unjudged} not judged` : ''}` : ''})`,
    );
  }
  out.push('');
  const f = d.findings;
  out.push(`Findings: ${findingCountsSaid(findingCounts(d))}`);
  // new: whether the base's silence could be chance, after the message (the gate is the same either way)
  for (const e of f.new) {
    const [head, message, ...rest] = entry('NEW', e);
    out.push(head!, message!, `            ${newChanceSaid(e)}`, ...rest);
  }
  // Absent from what the base side kept, which is not all it found: not new, and in full as new ones are.
  for (const e of f.maybeNew ?? []) {
    const [head, message, ...rest] = entry('NEW?', e);
    out.push(head!, message!, `            ${maybeNewWhy(d, e)}`, ...rest);
  }
  // Fixed and unchanged ones briefly: the message and where the base run showed it.
  for (const e of f.fixed) {
    const c = e.example.events[e.example.events.length - 1];
    out.push(
      headline(fixedTag(e), e),
      `            ${e.example.message}`,
      `            ${counts(e)}${c ? `; last seen at ${c.source}:${c.line}` : ''}`,
      `            ${chanceSaid(e)}`,
    );
  }
  for (const e of f.unchanged) {
    out.push(`${headline('UNCHANGED', e)}  (${counts(e)})`);
    // a race the base had too, in a larger share of the patched runs than chance allows
    if (e.rise?.significant) out.push(`            more often in patched: ${riseSaid(e)}`);
  }
  // Absent from the patched side because its traces could not show them: not fixed.
  for (const e of f.unjudged ?? []) out.push(headline('UNJUDGED', e), `            ${e.example.message}`, `            ${counts(e)}; ${unjudgedWhy(d, e)}`);
  out.push('');
  out.push('Behaviour (count, and per second of trace)');
  out.push(`  ${pad('metric', 20)} ${pad('base', 18, true)} ${pad('patched', 18, true)} ${pad('change', 9, true)}`);
  for (const r of d.behaviour) {
    if (r.base.count === 0 && r.patched.count === 0) continue;
    out.push(
      `  ${pad(r.name, 20)} ${pad(`${r.base.count} ${fmtRate(r.base.perSec)}`, 18, true)} ${pad(`${r.patched.count} ${fmtRate(r.patched.perSec)}`, 18, true)} ${pad(fmtChange(r.changePct, r.base.count, r.patched.count), 9, true)}`,
    );
  }
  if (d.behaviour.every((r) => r.base.count === 0 && r.patched.count === 0)) out.push('  (no page-cache operations on either side)');
  else if (d.behaviour.some((r) => r.base.perSec === null || r.patched.perSec === null))
    out.push('  (a run without a trace span: the change compares counts per run, not rates)');
  if (d.latency.length) {
    out.push('');
    out.push('Latency (entry → return)');
    out.push(
      `  ${pad('span', 11)} ${pad('side', 8)} ${pad('n', 7, true)} ${pad('p50', 10, true)} ${pad('p90', 10, true)} ${pad('p99', 10, true)} ${pad('max', 10, true)}`,
    );
    for (const r of d.latency) {
      for (const [name, dist] of [
        ['base', r.base],
        ['patched', r.patched],
      ] as const) {
        out.push(
          `  ${pad(name === 'base' ? r.op : '', 11)} ${pad(name, 8)} ${pad(String(dist.n), 7, true)} ${pad(fmtNs(dist.p50), 10, true)} ${pad(fmtNs(dist.p90), 10, true)} ${pad(fmtNs(dist.p99), 10, true)} ${pad(fmtNs(dist.max), 10, true)}`,
        );
      }
      const c = r.changePct;
      out.push(
        `  ${pad('', 11)} ${pad('change', 8)} ${pad('', 7)} ${pad(fmtChange(c.p50), 10, true)} ${pad(fmtChange(c.p90), 10, true)} ${pad(fmtChange(c.p99), 10, true)} ${pad(fmtChange(c.max), 10, true)}`,
      );
      out.push(`  ${pad('', 11)} ${r.significance.note}`);
    }
  }
  if (d.workload.length) {
    out.push('');
    out.push('Workload results (meta.json, one value per run; * where the sides differ)');
    const nameW = Math.max(7, ...d.workload.map((w) => w.name.length));
    const baseW = Math.max(4, ...d.workload.map((w) => w.base.map(String).join(' ').length));
    out.push(`  ${pad('counter', nameW)}  ${pad('base', baseW)}  patched`);
    for (const w of d.workload) {
      const changed = new Set([...w.base, ...w.patched].map(String)).size > 1;
      out.push(`  ${pad(w.name, nameW)}  ${pad(w.base.map(String).join(' '), baseW)}  ${w.patched.map(String).join(' ')}${changed ? '   *' : ''}`);
    }
  }
  if (d.thresholds.length) {
    out.push('');
    out.push('Thresholds (--max-regression)');
    for (const t of d.thresholds) {
      out.push(
        `  ${t.exceeded ? 'EXCEEDED' : t.judged === false ? 'not judged' : 'ok      '} ${pad(t.metric, 22)} allowed +${t.maxPct}%  ${fmtChange(t.changePct, t.base ?? 0, t.patched ?? 0)}  (${t.note})`,
      );
    }
  }
  return printable(`${out.join('\n')}\n`); // trace-derived text: controls shown, not acted on
}
