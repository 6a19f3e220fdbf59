/**
 * The findings of one replay: each draft gets its certainty (certainty.ts), its cited
 * events (each once, in replay order) and the page-cache identity diff matches on; at most
 * `max` are kept, the rest counted.
 */
import type { TraceEvent } from '@kreplay/core';
import { DEFAULT_SEVERITY, type CitedEvent, type Finding } from '@kreplay/core';
import type { GapTracker } from './certainty.js';
import { cite } from './cite.js';
import type { Draft } from './explain.js';

export class FindingLog {
  readonly list: Finding[] = [];
  dropped = 0;

  constructor(private readonly gaps: GapTracker, private readonly max: number) {}

  add(d: Draft): void {
    if (this.list.length >= this.max) { this.dropped++; return; }
    const events = uniqueCites([d.ev, ...d.others]);
    const cpus = new Set<number>(d.rec.cpus);
    for (const e of events) cpus.add(e.cpu);
    const gap = d.sinceAnyCpu !== undefined ? this.gaps.sinceAny(d.sinceAnyCpu) : this.gaps.since(cpus, d.rec.syncSeq);
    const uncertain = gap
      ? ` Uncertain: ${gap.reason} (${gap.source}:${gap.line}) after this page was last in a known state, so events that would explain this may be missing.`
      : '';
    const finding: Finding = {
      rule: d.rule, severity: DEFAULT_SEVERITY[d.rule], certainty: gap ? 'uncertain' : 'certain', message: d.message,
      ts: d.ev.ts, cpu: d.ev.cpu, pid: d.ev.pid, events, explanation: d.explanation + uncertain,
    };
    if (d.rec.file) finding.file = d.rec.file.key;
    if (d.rec.index !== undefined) finding.index = d.rec.index;
    this.list.push(finding);
  }
}

/** Cited events, each once, in replay order (timestamp, CPU, line). */
function uniqueCites(evs: TraceEvent[]): CitedEvent[] {
  const seen = new Set<string>();
  const out: TraceEvent[] = [];
  for (const e of evs) {
    const k = `${e.source}:${e.line}`;
    if (!seen.has(k)) { seen.add(k); out.push(e); }
  }
  out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.cpu - b.cpu || a.line - b.line));
  return out.map(cite);
}
