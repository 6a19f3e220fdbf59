/**
 * An adapter lifts one kernel's TraceEvents to MmOps. It knows event names and field
 * formats, nothing about state or rules; the replay engine is the same for every kernel.
 */
import type { TraceEvent } from '@kreplay/core';
import type { MmOp } from '@kreplay/core';

/**
 * What `lift` makes of an event: the op; `null` when the adapter does not know the event
 * (sched, irq, ...: passed through and counted); or a string saying why a known event
 * could not be used (a required field missing).
 */
export type Lifted = MmOp | null | string;

export interface Adapter {
  /** `linux-6.1`, `explore`, ... */
  readonly name: string;
  lift(ev: TraceEvent): Lifted;
}
