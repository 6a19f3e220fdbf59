/**
 * GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` annotation per
 * finding, anchored at the trace line of its own event, so a workflow run shows findings
 * on the file. Property and message values are escaped as the runner requires.
 */
import { cpuName, printable, type Finding, type Severity } from '@kreplay/core';
import type { ReplayResult } from '@kreplay/replay';
import { findingLine, replaySaid, type RenderOptions } from './util.js';

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

/** Message data: `%`, CR and LF escaped as the runner requires; other controls (an ESC sequence from a comm name) as \xNN, for the log viewer. */
export function escapeData(s: string): string {
  return printable(s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A'));
}

/** Property values: also `:` and `,`. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function annotation(f: Finding, source: string): string {
  const line = findingLine(f);
  const props = [`file=${escapeProperty(source)}`, ...(line ? [`line=${line}`] : []), `title=${escapeProperty(`kreplay ${f.rule} (${f.certainty})`)}`];
  const cited = f.events
    .map((e) => (e.text !== undefined ? `${e.source}:${e.line} ${e.text.trim()}` : `${e.source}:${e.line} ${e.comm}-${e.pid} ${cpuName(e.cpu)} ${e.summary}`))
    .join('\n');
  return `::${COMMAND[f.severity]} ${props.join(',')}::${escapeData(`${f.message}\n${f.explanation}\n${cited}`)}`;
}

export function formatGithub(r: ReplayResult, _opts: RenderOptions = {}): string {
  const lines = r.findings.map((f) => annotation(f, r.trace.source));
  const v = r.verdict;
  for (const why of v.inconclusive) lines.push(`::error file=${escapeProperty(r.trace.source)},title=kreplay replay inconclusive::${escapeData(why)}`);
  for (const w of r.warnings) lines.push(`::warning title=kreplay replay::${escapeData(w)}`);
  const s = r.stats;
  lines.push(
    `::notice title=kreplay replay::${escapeData(`${r.trace.source}: ${replaySaid(r)}: ${s.events} events, ${s.ops} ops, ${r.findings.length} findings (${v.uncertain} uncertain), ${v.unusableEvents} unusable events`)}`,
  );
  return `${lines.join('\n')}\n`;
}
