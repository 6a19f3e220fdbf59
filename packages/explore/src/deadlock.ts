/** The `deadlock` rule: every live (unfinished) thread is blocked. */
import type { Machine, StepInfo } from '@kreplay/core';
import type { Sighting } from './types.js';

export function threadLabel(machine: Machine<unknown>, t: number): string {
  const th = machine.threads[t];
  return th ? `${th.name} (T${t})` : `T${t}`;
}

export function deadlockSighting<S>(machine: Machine<S>, next: readonly (StepInfo | null)[], schedule: number[]): Sighting {
  const blocked: number[] = [];
  const why: string[] = [];
  next.forEach((n, t) => {
    if (n && !n.enabled) {
      blocked.push(t);
      why.push(`${threadLabel(machine as Machine<unknown>, t)} at "${n.label}"${n.blockedOn ? ` waits for ${n.blockedOn}` : ''}`);
    }
  });
  return {
    violation: { rule: 'deadlock', message: `every live thread is blocked: ${why.join('; ')}` },
    schedule,
    at: 'state',
    threads: blocked,
  };
}
