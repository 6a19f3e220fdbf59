/**
 * Which kernel a trace comes from, by its own events, when nothing says (no meta.json
 * release, no explorer header): each shipped probe map knows some events; an event that
 * some maps know and others do not (6.1's `page_add_file_rmap`, 6.12's
 * `folio_add_file_rmap_ptes` or `mm_filemap_fault`) narrows the candidates to the maps
 * that know it. Events every map knows (the page-cache tracepoints) say nothing.
 */
import type { ProbeMap, ProbeSite } from '@kreplay/core';
import { meaningOf } from './adapters/probe-adapter.js';

/** Events looked at before the choice is made with what was seen. */
export const EVIDENCE_WINDOW = 65536;

export interface KernelChoice {
  kernel: string;
  reason: string;
  warning?: string;
}

export class KernelEvidence {
  private candidates: string[];
  private readonly seen = new Set<string>();
  /** The events that narrowed the candidates, in order: `name (kernels that know it)`. */
  private readonly telling: string[] = [];
  private conflict: string | undefined;
  events = 0;

  /** `maps`: each shipped kernel's map as replay would use it (meta.json and --probes merged in). */
  constructor(private readonly maps: ReadonlyMap<string, ProbeMap>) {
    this.candidates = [...maps.keys()].sort(compareKernels);
  }

  /** Whether the choice is made (one candidate left, the evidence conflicts, or the window is used up). */
  get done(): boolean {
    return this.candidates.length <= 1 || this.conflict !== undefined || this.events >= EVIDENCE_WINDOW;
  }

  see(event: string, probe: ProbeSite | undefined): void {
    this.events++;
    const key = probe?.func ? `${event}\0${probe.kind}:${probe.func}` : event;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const knowing = [...this.maps.keys()].filter((k) => meaningOf(this.maps.get(k)!, event, probe) !== undefined).sort(compareKernels);
    if (knowing.length === 0 || knowing.length === this.maps.size) return;
    const left = this.candidates.filter((k) => knowing.includes(k));
    const name = probe?.func && probe.func !== event ? `${event} (${probe.kind} on ${probe.func})` : event;
    if (left.length === 0) {
      this.conflict = `${name}, known only to ${knowing.join(', ')}`;
      return;
    }
    if (left.length < this.candidates.length) {
      this.telling.push(`${name} (known to ${knowing.join(', ')})`);
      this.candidates = left;
    }
  }

  /** The other shipped kernels whose maps know an event `kernel`'s map does not. */
  knownElsewhere(event: string, probe: ProbeSite | undefined, kernel: string): string[] {
    return [...this.maps.keys()].filter((k) => k !== kernel && meaningOf(this.maps.get(k)!, event, probe) !== undefined).sort(compareKernels);
  }

  choose(fallback: string): KernelChoice {
    if (this.conflict !== undefined) {
      return {
        kernel: fallback,
        reason: `default (the trace's events fit no single probe map)`,
        warning: `the trace's events fit no single shipped probe map (${this.telling.join('; ')}; then ${this.conflict}); replaying with ${fallback}'s — pass --kernel or --probes`,
      };
    }
    if (this.telling.length === 0) return { kernel: fallback, reason: 'default (no meta.json; no event tells the kernels apart)' };
    const kernel = this.candidates.includes(fallback) ? fallback : this.candidates[0]!;
    return { kernel, reason: `trace evidence: ${this.telling.join('; ')}` };
  }
}

/** `linux-6.1` < `linux-6.12`: by version numbers, not as strings. */
export function compareKernels(a: string, b: string): number {
  const va = (/(\d+)\.(\d+)/.exec(a) ?? []).slice(1).map(Number);
  const vb = (/(\d+)\.(\d+)/.exec(b) ?? []).slice(1).map(Number);
  for (let i = 0; i < 2; i++) {
    const d = (va[i] ?? -1) - (vb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
