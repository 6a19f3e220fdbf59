/**
 * A daemon thread (ThreadInfo.daemon; mm-model's `end_io`, the I/O completion context, session 44):
 * blocked with nothing to do, it does not keep a run from its end. A state where every other thread
 * has finished and the daemon is blocked is terminal, its final invariants judged; a deadlock names only
 * the threads that are stuck; a daemon is never a thread that cannot reach its end (livelock).
 */
import { describe, expect, it } from '@jest/globals';
import { explore } from '../src/index.js';
import { toyMachine, type ToySpec } from './toy.js';

/** t0 takes g and finishes holding it; t1 takes and drops g: once t0 has it, t1 waits forever. */
const waiter = (daemon: boolean): ToySpec => ({
  threads: [
    [{ op: 'lock', l: 'g' }],
    [
      { op: 'lock', l: 'g' },
      { op: 'unlock', l: 'g' },
    ],
  ],
  vars: {},
  ...(daemon ? { daemons: [1] } : {}),
  final: () => [{ rule: 'stale-data', message: 'final judged' }],
});

describe.each(['exhaustive', 'dpor', 'random'] as const)('daemon threads (%s)', (strategy) => {
  it('a blocked daemon is no deadlock: every other thread finished is an end whose final invariants are judged', async () => {
    const ends: string[] = [];
    const r = await explore(toyMachine(waiter(true)), { strategy, seed: 1, runs: 20, onEnd: (_k, kind) => ends.push(kind) });
    expect(ends).not.toContain('deadlock');
    expect(new Set(ends)).toEqual(new Set(['terminal']));
    expect(r.violations.map((v) => v.rule)).toEqual(['stale-data']);
  });

  it('the same thread as an ordinary one deadlocks', async () => {
    const r = await explore(toyMachine(waiter(false)), { strategy, seed: 1, runs: 20 });
    expect(r.violations.map((v) => v.rule).sort()).toEqual(['deadlock', 'stale-data']);
  });

  it('a deadlock names the stuck threads, not a blocked daemon', async () => {
    const spec: ToySpec = {
      threads: [[{ op: 'lock', l: 'g' }], [{ op: 'lock', l: 'g' }], [{ op: 'lock', l: 'g' }]],
      vars: {},
      daemons: [2],
    };
    const r = await explore(toyMachine(spec), { strategy, seed: 1, runs: 20 });
    const dl = r.violations.find((v) => v.rule === 'deadlock')!;
    expect(dl).toBeDefined();
    expect(dl.message).not.toMatch(/t2/);
    expect(dl.threads!.every((t) => t !== 2)).toBe(true);
  });
});
