/**
 * The dependency relation DPOR and sleep sets are built on, taken only from the accesses a
 * step declares: two steps of different threads are dependent when they touch the same
 * location and at least one of them writes it. Locks are ordinary locations (an acquire
 * and a release both write the lock's loc), so the two orders of a lock hand-off are
 * always explored. Steps of one thread are ordered by program order, not by this relation.
 */
import type { StepInfo } from '@kreplay/core';

/** A step's accesses as interned location ids: what it reads only, and what it writes. */
export interface Footprint {
  reads: Int32Array;
  writes: Int32Array;
}

export class LocTable {
  private readonly ids = new Map<string, number>();

  id(loc: string): number {
    let n = this.ids.get(loc);
    if (n === undefined) {
      n = this.ids.size;
      this.ids.set(loc, n);
    }
    return n;
  }

  footprint(step: StepInfo): Footprint {
    const reads: number[] = [];
    const writes: number[] = [];
    for (const a of step.accesses) {
      const n = this.id(a.loc);
      if (a.mode === 'write') {
        if (!writes.includes(n)) writes.push(n);
      } else if (!reads.includes(n)) reads.push(n);
    }
    // A location both read and written by the step counts as written.
    return { reads: Int32Array.from(reads.filter((r) => !writes.includes(r))), writes: Int32Array.from(writes) };
  }
}

function intersects(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    for (let j = 0; j < b.length; j++) if (b[j] === x) return true;
  }
  return false;
}

/** True when the two steps touch a common location and at least one writes it. */
export function dependent(a: Footprint, b: Footprint): boolean {
  return intersects(a.writes, b.writes) || intersects(a.writes, b.reads) || intersects(a.reads, b.writes);
}
