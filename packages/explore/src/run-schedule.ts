/**
 * Replays a schedule on a Machine and keeps what each step did: every rendering of a
 * counterexample (table, ftrace, Perfetto) is drawn from this list, never recomputed.
 */
import type { Access, Machine, MmOp, ModelViolation } from '@kreplay/core';
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
  /** True for the steps run after the counterexample to finish the run (`runSchedule(..., { finish: true })`). */
  after: boolean;
}

/** A cap on the steps added to finish a run (a model that never stops must not hang a rendering). */
const FINISH_MAX_STEPS = 10_000;

/**
 * The steps of a counterexample (its schedule, then a livelock's cycle once). With `finish`,
 * the run then goes on to its end — the thread that ran last while it can, else the lowest
 * enabled one — until every thread is done, all are blocked, or a state repeats, so a trace
 * of it shows what the racing threads went on to do (a PTE's rmap after its set_pte_at, say).
 */
export function runSchedule<S>(machine: Machine<S>, v: Pick<FoundViolation, 'schedule' | 'cycle'>, opts: { finish?: boolean } = {}): ScheduledStep[] {
  let s = machine.initial();
  const out: ScheduledStep[] = [];
  const T = machine.threads.length;
  const take = (t: number, kind: 'schedule' | 'cycle' | 'after'): void => {
    const info = machine.next(s, t);
    if (!info || !info.enabled) {
      throw new Error(`schedule step ${out.length + 1} runs thread ${t}, which is ${info ? 'blocked' : 'finished'} there (the model is not deterministic?)`);
    }
    const r = machine.step(s, t);
    const step: ScheduledStep = {
      n: out.length + 1,
      thread: t,
      label: info.label,
      effect: r.effect,
      ops: r.ops,
      accesses: info.accesses,
      violations: r.violations,
      inCycle: kind === 'cycle',
      after: kind === 'after',
    };
    if (info.where !== undefined) step.where = info.where;
    out.push(step);
    s = r.state;
  };
  for (const t of v.schedule) take(t, 'schedule');
  for (const t of v.cycle ?? []) take(t, 'cycle');
  if (!opts.finish || (v.cycle && v.cycle.length > 0)) return out;
  const seen = new Set<string>([machine.key(s)]);
  let last = out.length > 0 ? out[out.length - 1]!.thread : 0;
  for (let k = 0; k < FINISH_MAX_STEPS; k++) {
    const enabled = (t: number): boolean => machine.next(s, t)?.enabled === true;
    let t = enabled(last) ? last : -1;
    for (let u = 0; u < T && t < 0; u++) if (enabled(u)) t = u;
    if (t < 0) break;
    take(t, 'after');
    last = t;
    const key = machine.key(s);
    if (seen.has(key)) break;
    seen.add(key);
  }
  return out;
}
