/**
 * Property: on random small programs (loads, stores, locks, checks, backward jumps), DPOR and
 * the exhaustive state-graph search reach exactly the end states, deadlocks and violated
 * rules of a naive enumeration of every interleaving; the exhaustive search's schedules are
 * the shortest ones; and both strategies agree on livelocks.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { explore, type Strategy } from '../src/index.js';
import { naiveEnumerate, toyMachine, type Instr, type ToySpec } from './toy.js';

const VARS = ['x', 'y'];

const instr = (len: number): fc.Arbitrary<Instr> =>
  fc.oneof(
    fc.record({ op: fc.constant('load' as const), v: fc.constantFrom(...VARS), r: fc.constant('r') }),
    fc.record({
      op: fc.constant('store' as const),
      v: fc.constantFrom(...VARS),
      val: fc.oneof(
        fc.integer({ min: 0, max: 2 }),
        fc.constant((r: Record<string, number>) => ((r['r'] ?? 0) + 1) % 3),
      ),
    }),
    fc.record({ op: fc.constant('lock' as const), l: fc.constantFrom('A', 'B') }),
    fc.record({ op: fc.constant('unlock' as const), l: fc.constantFrom('A', 'B') }),
    fc.integer({ min: 0, max: 2 }).map((k): Instr => ({
      op: 'check',
      reads: ['x'],
      cond: (v) => v['x'] !== k,
      rule: 'orphan-page-mapped',
      message: `x == ${k}`,
    })),
    fc.tuple(fc.integer({ min: 0, max: Math.max(0, len - 1) }), fc.integer({ min: 0, max: 2 })).map(([to, k]): Instr => ({
      op: 'jmpif',
      cond: (r) => r['r'] === k,
      to,
    })),
  );

const program: fc.Arbitrary<Instr[]> = fc.integer({ min: 1, max: 4 }).chain((len) => fc.array(instr(len), { minLength: len, maxLength: len }));

const spec: fc.Arbitrary<ToySpec> = fc.array(program, { minLength: 2, maxLength: 3 }).map((threads) => ({
  threads,
  vars: { x: 0, y: 0 },
  final: (v) => (v['x'] === v['y'] && v['x'] !== 0 ? [{ rule: 'mapped-page-removed', message: 'x == y' }] : []),
}));

async function run(s: ToySpec, strategy: Strategy) {
  const terminal = new Set<string>();
  const deadlock = new Set<string>();
  const r = await explore(toyMachine(s), { strategy, onEnd: (k, kind) => (kind === 'terminal' ? terminal : deadlock).add(k) });
  return { r, terminal, deadlock };
}

const sorted = (s: Iterable<string>): string[] => [...s].sort();

describe('strategies agree with a naive enumeration', () => {
  it('on end states, deadlocks, rules, shortest schedules and livelocks', async () => {
    await fc.assert(
      fc.asyncProperty(spec, async (s) => {
        const ref = naiveEnumerate(toyMachine(s), 100_000);
        fc.pre(ref.complete); // loops can make the naive enumeration exponential: skip those
        const d = await run(s, 'dpor');
        const e = await run(s, 'exhaustive');
        for (const got of [d, e]) {
          expect(sorted(got.terminal)).toEqual(sorted(ref.terminal));
          expect(sorted(got.deadlock)).toEqual(sorted(ref.deadlock));
          expect(sorted(got.r.violations.map((v) => v.rule).filter((r) => r !== 'livelock'))).toEqual(sorted(ref.rules));
        }
        for (const v of e.r.violations) {
          if (v.rule !== 'livelock') expect(v.schedule.length).toBe(ref.shortest.get(v.rule));
        }
        // One livelock per rule is kept (the shortest found), so compare presence, not the thread.
        const live = (x: typeof d): boolean => x.r.violations.some((v) => v.rule === 'livelock');
        expect(live(d)).toBe(live(e));
        expect(d.r.verdict).toBe(e.r.verdict);
      }),
      { numRuns: Number(process.env.KREPLAY_PROP_RUNS ?? 200), seed: Number(process.env.KREPLAY_PROP_SEED ?? 20260) },
    );
  });
});
