/**
 * Replays a schedule on a Machine and keeps what each step did: every rendering of a
 * counterexample (table, ftrace, Perfetto) is drawn from this list, never recomputed.
 */
import type { Access, Machine, MmOp, ModelViolation } from '@kreplay/mm-model';
import type { FoundViolation } from './types.js';

export interface ScheduledStep {
  /** 1-based position in the schedule. */
  n: number;
  thread: number;
  label: string;
  where?: string;
  effect: string;
  ops: MmOp[];
  accesses: readonly Access[];
  violations: ModelViolation[];
  /** True for the steps of a livelock's cycle (shown once, repeated forever). */
  inCycle: boolean;
}

export function runSchedule<S>(machine: Machine<S>, v: Pick<FoundViolation, 'schedule' | 'cycle'>): ScheduledStep[] {
  let s = machine.initial();
  const out: ScheduledStep[] = [];
  const all = [...v.schedule, ...(v.cycle ?? [])];
  all.forEach((t, i) => {
    const info = machine.next(s, t);
    if (!info || !info.enabled) {
      throw new Error(`schedule step ${i + 1} runs thread ${t}, which is ${info ? 'blocked' : 'finished'} there (the model is not deterministic?)`);
    }
    const r = machine.step(s, t);
    const step: ScheduledStep = {
      n: i + 1,
      thread: t,
      label: info.label,
      effect: r.effect,
      ops: r.ops,
      accesses: info.accesses,
      violations: r.violations,
      inCycle: i >= v.schedule.length,
    };
    if (info.where !== undefined) step.where = info.where;
    out.push(step);
    s = r.state;
  });
  return out;
}
