/**
 * The ends of an execution, the same for every strategy: every thread has finished (the
 * machine's final invariants are judged), or every live thread is blocked (the `deadlock`
 * rule).
 */
import { THREAD_BLOCKED, THREAD_DONE, THREAD_ENABLED } from '@kreplay/core';
import type { Machine, StepInfo } from '@kreplay/core';
import type { RunContext } from './context.js';
import type { ExploreOptions, Schedule, Sighting } from './types.js';

export function threadLabel(machine: Machine<unknown>, t: number): string {
  const th = machine.threads[t];
  return th ? `${th.name} (T${t})` : `T${t}`;
}

/** Bit t set for each daemon thread (ThreadInfo.daemon): one that serves the others and is not waited for at the end. */
export function daemonMask(machine: Machine<unknown>): number {
  let m = 0;
  machine.threads.forEach((th, t) => {
    if (th.daemon === true) m |= 1 << t;
  });
  return m;
}

/**
 * Whether no thread can step and every thread has finished, a daemon (`daemons`, daemonMask)
 * counting as finished when it is blocked: the end whose final invariants are judged.
 */
export function isTerminal(threads: number, daemons: number, finished: number, enabled: number): boolean {
  const all = (1 << threads) - 1;
  return finished === all || (enabled === 0 && (finished | daemons) === all);
}

export function deadlockSighting<S>(machine: Machine<S>, next: readonly (StepInfo | null)[], schedule: number[]): Sighting {
  const blocked: number[] = [];
  const why: string[] = [];
  next.forEach((n, t) => {
    // a blocked daemon has nothing to do: it is not one of the threads that are stuck
    if (n && !n.enabled && machine.threads[t]?.daemon !== true) {
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

/** Every thread's next step in `state` (null once finished), and as bitmasks who has finished and who can step. */
export function survey<S>(machine: Machine<S>, state: S): { next: (StepInfo | null)[]; finished: number; enabled: number } {
  const next: (StepInfo | null)[] = [];
  let finished = 0;
  let enabled = 0;
  for (let t = 0; t < machine.threads.length; t++) {
    const n = machine.next(state, t);
    next.push(n);
    if (!n) finished |= 1 << t;
    else if (n.enabled) enabled |= 1 << t;
  }
  return { next, finished, enabled };
}

/**
 * `survey`'s bitmasks without building any StepInfo (the machine's `readiness` when it has
 * one): searches that only branch on who can step call this, and `survey` when nobody can
 * (the deadlock sighting quotes each blocked thread's step).
 */
export function readyMasks<S>(machine: Machine<S>, state: S): { finished: number; enabled: number } {
  if (!machine.readiness) return survey(machine, state);
  let finished = 0;
  let enabled = 0;
  for (let t = 0; t < machine.threads.length; t++) {
    const r = machine.readiness(state, t);
    if (r === THREAD_DONE) finished |= 1 << t;
    else if (r === THREAD_ENABLED) enabled |= 1 << t;
  }
  return { finished, enabled };
}

/** Thread t's readiness in `state` (THREAD_*): the machine's `readiness`, or what `next` says. */
export function readinessOf<S>(machine: Machine<S>, state: S, t: number): number {
  if (machine.readiness) return machine.readiness(state, t);
  const n = machine.next(state, t);
  return n === null ? THREAD_DONE : n.enabled ? THREAD_ENABLED : THREAD_BLOCKED;
}

/**
 * Judge `state` if no thread can step there: with every thread finished (bit t of `finished`
 * set for each; a blocked daemon counts as finished) the machine's final invariants, with none enabled (`enabled` = 0) a deadlock.
 * The sightings go into the run's book with the schedule that led there (built only when
 * something is recorded); `onEnd` hears of the end. Null when some thread can still step.
 */
export function judgeEnd<S>(
  machine: Machine<S>,
  ctx: RunContext,
  state: S,
  next: readonly (StepInfo | null)[],
  finished: number,
  enabled: number,
  schedule: () => Schedule,
  onEnd: ExploreOptions['onEnd'],
): 'terminal' | 'deadlock' | null {
  if (isTerminal(machine.threads.length, daemonMask(machine as Machine<unknown>), finished, enabled)) {
    const found = machine.final?.(state) ?? [];
    if (found.length > 0) ctx.book.addAll(found, schedule(), 'final');
    onEnd?.(machine.key(state), 'terminal');
    return 'terminal';
  }
  if (enabled === 0) {
    ctx.book.add(deadlockSighting(machine, next, schedule()));
    onEnd?.(machine.key(state), 'deadlock');
    return 'deadlock';
  }
  return null;
}
