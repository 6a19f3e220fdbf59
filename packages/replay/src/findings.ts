/**
 * The findings of one replay: each draft gets its certainty (certainty.ts), its cited
 * events (each once, in replay order) and the page-cache identity diff matches on; at most
 * `max` of each rule are kept, the rest counted.
 */
import type { TraceEvent } from '@kreplay/core';
import { DEFAULT_SEVERITY, cpusName, type CitedEvent, type Finding, type RuleId } from '@kreplay/core';
import type { GapTracker, Note } from './certainty.js';
import { cite, flat } from './cite.js';
import type { Draft } from './explain.js';

export class FindingLog {
  readonly list: Finding[] = [];
  /** Per kept finding, the replay's time when it was judged (the largest timestamp replayed by then: never decreasing). */
  private readonly judged: bigint[] = [];
  /** Per kept finding, whether it rests on a page's PTE count (its draft `needs` the map fact). */
  private readonly needsMap: boolean[] = [];
  dropped = 0;
  /** `dropped` per rule (a diff cannot call a finding of such a rule gone: it may be one of them). */
  readonly droppedBy = new Map<RuleId, number>();
  /** Findings kept per rule: the cap is per rule, so a flood of one (trace-inconsistent warnings) cannot crowd out another's error. */
  private readonly kept = new Map<RuleId, number>();

  constructor(
    private readonly gaps: GapTracker,
    private readonly max: number,
  ) {}

  /** No more findings of `rule` are kept: the next ones are only counted (`drop`). */
  full(rule: RuleId): boolean {
    return (this.kept.get(rule) ?? 0) >= this.max;
  }

  drop(rule: RuleId): void {
    this.dropped++;
    this.droppedBy.set(rule, (this.droppedBy.get(rule) ?? 0) + 1);
  }

  /** `now`: the replay's time (the largest timestamp replayed so far). */
  add(d: Draft, now: bigint): void {
    if (this.full(d.rule)) {
      this.drop(d.rule);
      return;
    }
    this.kept.set(d.rule, (this.kept.get(d.rule) ?? 0) + 1);
    const events = uniqueCites([d.ev, ...d.others]);
    const why =
      uncertainty(
        d,
        events.map((e) => e.cpu),
        this.gaps,
      ) ?? d.tie;
    const finding: Finding = {
      rule: d.rule,
      severity: DEFAULT_SEVERITY[d.rule],
      certainty: why ? 'uncertain' : 'certain',
      message: flat(d.message),
      ts: d.ev.ts,
      cpu: d.ev.cpu,
      pid: d.ev.pid,
      events,
      explanation: flat(d.explanation + (why ? ` Uncertain: ${why}` : '')),
    };
    if (d.rec.file) finding.file = d.rec.file.key;
    if (d.rec.index !== undefined) finding.index = d.rec.index;
    this.list.push(finding);
    this.judged.push(now);
    this.needsMap.push(d.needs.includes('map'));
  }

  /**
   * A pid was reused (GapTracker.pidReused): a finding judged since `from` (the trace time of the
   * first PTE the pid's earlier task placed) that rests on a PTE count may rest on one placed in
   * the wrong address space, and becomes uncertain. The count may have hidden a finding too:
   * replay says so in the verdict (replay.ts).
   */
  pidReused(from: bigint, note: Note): void {
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.judged[i]! < from) break;
      const f = this.list[i]!;
      if (!this.needsMap[i] || f.certainty === 'uncertain') continue;
      f.certainty = 'uncertain';
      f.explanation += ` Uncertain: ${pidReusedDoubt(note)}`;
    }
  }

  /**
   * Events were lost that may have run at any time from `from` on (undefined: from the start):
   * a finding judged at or after then may rest on a fact they changed, and becomes uncertain with
   * `why`. Findings are judged in replay order, so the scan stops at the first judged before.
   */
  lostFrom(from: bigint | undefined, why: string): void {
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (from !== undefined && this.judged[i]! < from) break;
      const f = this.list[i]!;
      if (f.certainty === 'uncertain') continue;
      f.certainty = 'uncertain';
      f.explanation += ` Uncertain: ${why}`;
    }
  }
}

/**
 * Why the draft is uncertain from what the replay knows now, or undefined: a gap on any CPU
 * after the sync point of a fact it rests on, an unsure mark on such a fact, or a per-CPU clock
 * and two involved CPUs (`cited`: the CPUs of its cited events). (An order of tied events in which it does
 * not arise, or is uncertain, comes as `d.tie`: ties.ts.)
 */
export function uncertainty(d: Draft, cited: readonly number[], gaps: GapTracker): string | undefined {
  const rec = d.rec;
  const cpus = new Set<number>(rec.cpus);
  for (const c of cited) cpus.add(c);
  cpus.add(d.ev.cpu);
  for (const e of d.others) cpus.add(e.cpu);
  if (d.sinceAnyCpu !== undefined) {
    const gap = gaps.sinceAny(d.sinceAnyCpu);
    if (gap) return `${gap.reason} (${gap.source}:${gap.line}) after this page was first seen, so events that would explain this may be missing.`;
  }
  for (const fact of d.needs) {
    const sync = fact === 'cache' ? rec.cacheSync : rec.mapSync;
    // any CPU: a page's PTEs are zapped, and its pfn freed and reused, on whichever CPU runs the task
    // that does it (munmap, exit, reclaim), so events lost on a CPU that never showed this page may be its
    const gap = gaps.sinceAny(sync);
    if (gap) return `${gap.reason} (${gap.source}:${gap.line}) after ${FACT_WORDS[fact]} was last known, so events that would explain this may be missing.`;
  }
  for (const fact of d.needs) {
    const unsure = fact === 'cache' ? rec.cacheUnsure : rec.mapUnsure;
    if (unsure) return `${FACT_WORDS[fact]} is not known since ${unsure.source}:${unsure.line}: ${unsure.reason}.`;
  }
  const reused = gaps.pidReused;
  if (reused && d.needs.includes('map') && rec.mapSync < reused.seq) return pidReusedDoubt(reused.note);
  if (gaps.unordered && (rec.cpusAll || cpus.size > 1)) {
    return `${gaps.unordered.reason} (${gaps.unordered.source}), so the events on ${rec.cpusAll ? 'CPUs that touched this page' : cpusName(cpus)} may have run in another order than their timestamps say.`;
  }
  if (d.rule === 'stale-after-invalidate' && rec.staleUnsure) {
    return `in another order of ${rec.staleUnsure.reason.replace(/, so the trace.*$/, '')} (${rec.staleUnsure.source}:${rec.staleUnsure.line}), this page was reported stale at another point.`;
  }
  return undefined;
}

/** Why a finding resting on a PTE count replayed across a pid's reuse is uncertain. */
export function pidReusedDoubt(note: Note): string {
  return `${FACT_WORDS.map} may be wrong: ${note.reason}.`;
}

const FACT_WORDS = { cache: 'whether this page was in the page cache', map: 'how many PTEs mapped this page' } as const;

/** Cited events, each once, in replay order (timestamp, CPU, line). */
function uniqueCites(evs: TraceEvent[]): CitedEvent[] {
  const seen = new Set<string>();
  const out: TraceEvent[] = [];
  for (const e of evs) {
    const k = `${e.source}:${e.line}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(e);
    }
  }
  out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.cpu - b.cpu || a.line - b.line));
  return out.map(cite);
}
