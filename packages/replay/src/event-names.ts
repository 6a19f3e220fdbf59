/**
 * Per event name: the adapter's lifter for it and what replay counted of it, found with one
 * Map lookup per event (the adapter's lookup of its compiled lifter and replay's count of
 * used events were two, both keyed by the event's name).
 */
import type { ProbeSite, TraceEvent } from '@kreplay/core';
import type { Adapter, Lifter } from './adapters/adapter.js';

export interface NameEntry {
  /** What the adapter's `lift` does for events of this name. */
  readonly lift: Lifter;
  /** A trace marker (`tracing_mark_write`, `print`): the workload may have written a mismatch in it (workload-marks.ts). */
  readonly mark: boolean;
  /** Events of this name lifted to an op. */
  used: number;
  /** Events of this name the adapter did not know. */
  unknown: number;
  /** The probe site of the first unknown one, and when it came among the first unknown events of all names. */
  unknownProbe: ProbeSite | undefined;
  unknownFirst: number;
}

export class EventNames {
  private readonly m = new Map<string, NameEntry>();
  private unknownNames = 0;

  constructor(private readonly adapter: Adapter) {}

  /** The entry of `ev`'s name (its lifter made from the first event of that name, as the adapter compiles it). */
  of(ev: TraceEvent): NameEntry {
    let e = this.m.get(ev.event);
    if (e === undefined) {
      e = {
        lift: this.adapter.lifterFor(ev),
        mark: ev.event === 'tracing_mark_write' || ev.event === 'print',
        used: 0,
        unknown: 0,
        unknownProbe: undefined,
        unknownFirst: 0,
      };
      this.m.set(ev.event, e);
    }
    return e;
  }

  /** Count an event of `e`'s name that the adapter did not know. */
  unknown(e: NameEntry, ev: TraceEvent): void {
    if (e.unknown++ === 0) {
      e.unknownProbe = ev.probe;
      e.unknownFirst = this.unknownNames++;
    }
  }

  /** Events lifted, per name, names sorted (`stats.usedEvents`). */
  used(): Record<string, number> {
    return this.sorted((e) => e.used);
  }

  /** Unknown events per name, names sorted (`stats.unknownByEvent`). */
  unknownByEvent(): Record<string, number> {
    return this.sorted((e) => e.unknown);
  }

  /** Unknown events per name with the probe site of the first, in the order their names were first unknown. */
  unknownEntries(): Array<[string, number, ProbeSite | undefined]> {
    return [...this.m.entries()]
      .filter(([, e]) => e.unknown > 0)
      .sort((a, b) => a[1].unknownFirst - b[1].unknownFirst)
      .map(([k, e]) => [k, e.unknown, e.unknownProbe]);
  }

  private sorted(count: (e: NameEntry) => number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.m.keys()].sort()) {
      const n = count(this.m.get(k)!);
      if (n > 0) out[k] = n;
    }
    return out;
  }
}
