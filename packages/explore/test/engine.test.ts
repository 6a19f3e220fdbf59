import { describe, expect, it } from '@jest/globals';
import { parseShard } from '@kreplay/core';
import { explore, type ExploreOptions, type Strategy } from '../src/index.js';
import {
  abba,
  counterRace,
  independent,
  lockedCounter,
  lockOrderCheck,
  naiveEnumerate,
  spinThenFinish,
  toyMachine,
  trueLivelock,
  type ToySpec,
} from './toy.js';

async function ends(spec: ToySpec, strategy: Strategy, extra: ExploreOptions = {}) {
  const terminal = new Set<string>();
  const deadlock = new Set<string>();
  const result = await explore(toyMachine(spec), {
    strategy,
    ...extra,
    onEnd: (k, kind) => (kind === 'terminal' ? terminal : deadlock).add(k),
  });
  return { result, terminal, deadlock, rules: new Set(result.violations.map((v) => v.rule)) };
}

const sortedOf = (s: Set<string>): string[] => [...s].sort();

describe.each(['dpor', 'exhaustive'] as const)('explore (%s)', (strategy) => {
  it('finds the lost update of an unlocked counter, with the shortest schedule', async () => {
    const r = await explore(toyMachine(counterRace()), { strategy });
    expect(r.verdict).toBe('violation');
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ rule: 'bug-on', at: 'final', schedule: [0, 1, 0, 1] });
    expect(r.violations[0]!.message).toContain('c=1');
  });

  it('calls the locked counter clean, exhaustively', async () => {
    const r = await explore(toyMachine(lockedCounter()), { strategy });
    expect(r.verdict).toBe('clean');
    expect(r.exhaustive).toBe(true);
    expect(r.incomplete).toEqual([]);
  });

  it('reports the AB/BA deadlock after both first acquires', async () => {
    const r = await explore(toyMachine(abba()), { strategy });
    expect(r.verdict).toBe('violation');
    expect(r.violations.map((v) => v.rule)).toEqual(['deadlock']);
    expect(r.violations[0]).toMatchObject({ schedule: [0, 1], threads: [0, 1], at: 'state' });
    expect(r.violations[0]!.message).toContain('t0 (T0) at "lock B" waits for B held by t1');
  });

  it('does not call a spin loop a livelock while the spinner can still finish', async () => {
    const r = await explore(toyMachine(spinThenFinish()), { strategy });
    expect(r.verdict).toBe('clean');
  });

  it('reports a true livelock with the path there and the cycle it is stuck in', async () => {
    const r = await explore(toyMachine(trueLivelock()), { strategy });
    expect(r.verdict).toBe('violation');
    const v = r.violations.find((x) => x.rule === 'livelock')!;
    expect(v.threads).toEqual([0]);
    expect(v.schedule[0]).toBe(1); // t1 set the flag first
    expect(v.cycle).toEqual([0, 0]); // load, jmpif, forever
    expect(v.message).toContain('t0 (T0) can no longer reach its end');
  });

  it('explores both orders of a lock hand-off', async () => {
    const r = await explore(toyMachine(lockOrderCheck()), { strategy });
    expect(r.violations.map((v) => [v.rule, v.schedule])).toEqual([['stale-after-invalidate', [1, 1]]]);
  });

  it('agrees with a naive enumeration of every interleaving on end states and rules', async () => {
    for (const spec of [counterRace(), lockedCounter(), abba(), lockOrderCheck(), independent()]) {
      const ref = naiveEnumerate(toyMachine(spec));
      const got = await ends(spec, strategy);
      expect(sortedOf(got.terminal)).toEqual(sortedOf(ref.terminal));
      expect(sortedOf(got.deadlock)).toEqual(sortedOf(ref.deadlock));
      expect(sortedOf(got.rules)).toEqual(sortedOf(ref.rules));
    }
  });
});

describe('DPOR', () => {
  it('runs one execution for threads that touch nothing in common', async () => {
    const r = await explore(toyMachine(independent()), { strategy: 'dpor' });
    expect(r.stats.executions).toBe(1);
    expect(naiveEnumerate(toyMachine(independent())).executions).toBe(1680);
    expect(r.verdict).toBe('clean');
  });

  it('explores fewer executions than the naive enumeration on a racy scenario', async () => {
    const spec = counterRace();
    spec.threads = spec.threads.map((p, i) => [{ op: 'store', v: `own${i}`, val: 1 }, { op: 'store', v: `own${i}`, val: 2 }, ...p]);
    spec.vars = { ...spec.vars, own0: 0, own1: 0 };
    const r = await explore(toyMachine(spec), { strategy: 'dpor' });
    expect(r.stats.executions).toBeLessThan(naiveEnumerate(toyMachine(spec)).executions);
    expect(r.stats.executions).toBeGreaterThanOrEqual(2);
  });

  it('honours a preemption bound and never calls the bounded run clean', async () => {
    const ends: string[] = [];
    const r0 = await explore(toyMachine(counterRace()), { preemptionBound: 0, onEnd: (k) => ends.push(k) });
    expect(r0.verdict).toBe('incomplete');
    expect(ends).toHaveLength(2); // both non-preemptive orders: t0 then t1, t1 then t0
    expect(r0.incomplete).toEqual(['preemption-bound']);
    const r1 = await explore(toyMachine(counterRace()), { preemptionBound: 1 });
    expect(r1.violations[0]).toMatchObject({ rule: 'bug-on', schedule: [0, 1, 1, 0] });
  });

  it('stops at maxExecutions with an incomplete verdict', async () => {
    const r = await explore(toyMachine(lockedCounter()), { strategy: 'dpor', maxExecutions: 1 });
    expect(r.verdict).toBe('incomplete');
    expect(r.incomplete).toEqual(['max-executions']);
    expect(r.stats.executions).toBe(1);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await explore(toyMachine(lockedCounter()), { signal: ac.signal, maxExecutions: 10 ** 9 });
    expect(r.verdict).toBe('incomplete');
    expect(r.incomplete).toEqual(['aborted']);
  });

  it('reports statistics on every run', async () => {
    const r = await explore(toyMachine(counterRace()));
    expect(r.stats.states).toBeGreaterThan(0);
    expect(r.stats.distinctStates).toBeGreaterThan(0);
    expect(r.stats.distinctStates).toBeLessThanOrEqual(r.stats.states + 1);
    expect(r.stats.executions).toBeGreaterThan(0);
    expect(r.stats.timeMs).toBeGreaterThanOrEqual(0);
  });
});

describe('random (PCT)', () => {
  it('gives the same runs for the same seed and is never clean', async () => {
    const a = await explore(toyMachine(counterRace()), { strategy: 'random', seed: 7, runs: 50 });
    const b = await explore(toyMachine(counterRace()), { strategy: 'random', seed: 7, runs: 50 });
    expect(a.violations).toEqual(b.violations);
    expect({ ...a.stats, timeMs: 0, statesPerSec: 0 }).toEqual({ ...b.stats, timeMs: 0, statesPerSec: 0 });
    expect(a.violations.map((v) => v.rule)).toEqual(['bug-on']);
    const clean = await explore(toyMachine(lockedCounter()), { strategy: 'random', seed: 7, runs: 20 });
    expect(clean.verdict).toBe('incomplete');
    expect(clean.incomplete).toContain('random');
    expect(clean.seed).toBe(7);
  });

  it("splits the runs of one seed exactly over shards (1-based i/n, core's one convention)", async () => {
    const all = await explore(toyMachine(counterRace()), { strategy: 'random', seed: 11, runs: 40 });
    const a = await explore(toyMachine(counterRace()), { strategy: 'random', seed: 11, runs: 40, shard: parseShard('1/2') });
    const b = await explore(toyMachine(counterRace()), { strategy: 'random', seed: 11, runs: 40, shard: parseShard('2/2') });
    expect(a.stats.executions + b.stats.executions).toBe(40);
    expect(a.stats.states + b.stats.states).toBe(all.stats.states);
    expect(a.shard).toEqual({ index: 1, count: 2 });
    const one = await explore(toyMachine(counterRace()), { strategy: 'random', seed: 11, runs: 40, shard: parseShard('1/1') });
    expect(one.stats.states).toBe(all.stats.states);
  });

  it('does not spin forever in a spin loop', async () => {
    const r = await explore(toyMachine(spinThenFinish()), { strategy: 'random', seed: 1, runs: 20 });
    expect(r.violations).toEqual([]);
    expect(r.stats.executions).toBe(20);
  });
});
