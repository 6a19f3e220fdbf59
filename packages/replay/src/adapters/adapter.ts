/**
 * An adapter lifts one kernel's TraceEvents to MmOps. It knows event names and field
 * formats, nothing about state or rules; the replay engine is the same for every kernel.
 */
import type { TraceEvent } from '@kreplay/core';
import type { MmOp } from '@kreplay/core';

/**
 * A known event that could not be used (a required field missing or unreadable): why, and
 * the pages it names when its pfn (and, for a folio, its order) could be read — findings on
 * those pages become uncertain; without them, findings on every page its CPU touches do.
 */
export interface Unusable {
  unusable: string;
  pfns?: bigint[];
}

/**
 * What `lift` makes of an event: the op; `null` when the adapter does not know the event
 * (sched, irq, ...: passed through and counted); or why a known event could not be used.
 */
export type Lifted = MmOp | null | Unusable;

/**
 * Whether a non-null Lifted is an Unusable. A named property load (ops come in a dozen
 * shapes, so an `in` test on them is a megamorphic keyed lookup, once per event).
 */
export function isUnusable(l: MmOp | Unusable): l is Unusable {
  return (l as Partial<Unusable>).unusable !== undefined;
}

/** How an adapter lifts the events of one name. */
export type Lifter = (ev: TraceEvent) => Lifted;

export interface Adapter {
  /** `linux-6.1`, `explore`, ... */
  readonly name: string;
  lift(ev: TraceEvent): Lifted;
  /**
   * What `lift` does for every event named as `ev` is, decided from `ev` as `lift` decides
   * from the first event of a name: replay finds it once per name (event-names.ts), and not
   * by the event's name again in `lift`.
   */
  lifterFor(ev: TraceEvent): Lifter;
}
