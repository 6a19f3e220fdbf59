/**
 * Step memoization (`memoSteps`, step-memo.ts; on by default): a search that reuses a thread's step across
 * states that agree on what it reads answers what the search that runs every step answers, on
 * every shipped case (each reused step also run and compared: `verify`); a machine whose
 * `stepMemo` leaves out what a step reads of another thread is caught.
 */
import { describe, expect, it } from '@jest/globals';
import type { Machine, ModelViolation } from '@kreplay/core';
import { explore, ExhaustiveSearch } from '../src/index.js';
import { golden, shippedCases, summary } from './shipped.js';

interface Counter {
  x: number;
  pc: readonly number[];
}

/**
 * T threads of K steps over one shared counter x (mod 5): thread 0 adds 1, every other thread
 * adds thread 0's pc — a step that reads another thread. Its words are x (then `pad` words that
 * never change), then one word per thread (its pc), as `StepMemo` wants them. `honest`:
 * `otherReads` says so; else it says nothing.
 */
function counters(T: number, K: number, honest: boolean, pad = 0): Machine<Counter> {
  const stepOf = (s: Counter, t: number) => {
    const x = (s.x + (t === 0 ? 1 : s.pc[0]!)) % 5;
    const violations: ModelViolation[] = x === 4 && t === 1 ? [{ rule: 'bug-on', message: `x reached 4 in t1's step ${s.pc[1]}` }] : [];
    return { state: { x, pc: s.pc.map((p, u) => (u === t ? p + 1 : p)) }, violations };
  };
  return {
    flavor: 'counters',
    threads: Array.from({ length: T }, (_, id) => ({ id, name: `t${id}`, program: 'count', args: {} })),
    initial: () => ({ x: 0, pc: new Array<number>(T).fill(0) }),
    next: (s, t) => (s.pc[t]! < K ? { label: 'add', accesses: [{ loc: 'x', mode: 'write' }], enabled: true } : null),
    step: (s, t) => ({ ...stepOf(s, t), ops: [], effect: '—' }),
    advance: stepOf,
    key: (s) => `${s.x}|${s.pc.join(',')}`,
    encode(s, out) {
      if (out.length > pad + T) {
        out[0] = s.x;
        for (let i = 1; i <= pad; i++) out[i] = 100 + i;
        for (let u = 0; u < T; u++) out[1 + pad + u] = s.pc[u]!;
      }
      return 1 + pad + T;
    },
    decode: (w) => ({ x: w[0]!, pc: Array.from(w.subarray(1 + pad, 1 + pad + T)) }),
    stepMemo: {
      threadsAt: (_w, n) => n - T,
      otherReads(s, t, out, at) {
        if (!honest || t === 0) return at;
        if (at < out.length) out[at] = s.pc[0]!;
        return at + 1;
      },
    },
  };
}

const cases = await shippedCases();

describe('step memoization', () => {
  it('reuses steps and answers what the search that runs them all answers, on a machine whose steps read another thread', async () => {
    const plain = await explore(counters(3, 4, true), { strategy: 'exhaustive', memoSteps: false });
    const memo = await explore(counters(3, 4, true), { strategy: 'exhaustive', memoSteps: 'verify' });
    expect(summary(memo)).toEqual(summary(plain));
    expect(plain.violations.length).toBeGreaterThan(0);
    expect(plain.memo).toBeUndefined();
    expect(memo.memo!.steps).toBe(plain.stats.states - 1);
    expect(memo.memo!.hits).toBeGreaterThan(0);
  });

  it('is on by default: a machine whose stepMemo leaves out a read answers otherwise unless memoSteps is false', async () => {
    const truth = summary(await explore(counters(3, 4, true), { strategy: 'exhaustive', memoSteps: false }));
    expect(summary(await explore(counters(3, 4, false), { strategy: 'exhaustive', memoSteps: false }))).toEqual(truth);
    // the lying machine's reused steps skip what thread 0's progress changes: another graph
    expect(summary(await explore(counters(3, 4, false), { strategy: 'exhaustive' }))).not.toEqual(truth);
  });

  it('stops recording when its memory is spent, and answers the same', async () => {
    const plain = await explore(counters(3, 4, true), { strategy: 'exhaustive', memoSteps: false });
    const capped = await explore(counters(3, 4, true), { strategy: new ExhaustiveSearch({ memoSteps: 'verify', memoMaxWords: 40 }) });
    expect(summary(capped)).toEqual(summary(plain));
    expect(capped.memo).toMatchObject({ full: true });
    expect(capped.memo!.hits).toBeGreaterThan(0);
    const free = await explore(counters(3, 4, true), { strategy: 'exhaustive', memoSteps: true });
    expect(free.memo).toMatchObject({ full: false });
    expect(free.memo!.hits).toBeGreaterThan(capped.memo!.hits);
  });

  it("records a step in the one-thread search as two words (the successor's shared number, the thread's new word), whatever the state's size", async () => {
    // each state is 104 words: a memo that kept the successor's words could record none of them in 40 words
    const plain = await explore(counters(3, 4, true, 100), { strategy: 'exhaustive', memoSteps: false });
    const capped = await explore(counters(3, 4, true, 100), { strategy: new ExhaustiveSearch({ memoSteps: 'verify', memoMaxWords: 40 }) });
    expect(summary(capped)).toEqual(summary(plain));
    expect(capped.memo).toMatchObject({ full: true });
    expect(capped.memo!.hits).toBeGreaterThan(0);
  });

  it('catches a machine that leaves out what a step reads of another thread', async () => {
    await expect(explore(counters(3, 4, false), { strategy: 'exhaustive', memoSteps: 'verify' })).rejects.toThrow(/Machine\.stepMemo's promise is broken/);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: the same answer with every reused step checked', async (name, c) => {
    const r = await explore(c.machine, { strategy: 'exhaustive', memoSteps: 'verify' });
    expect(summary(r)).toEqual(golden[name] ?? summary(await explore(c.machine, { strategy: 'exhaustive', memoSteps: false })));
    // a flavor module's steps may read any thread (Ctx.state): its machine offers no stepMemo, and nothing is reused
    if (c.flavor.endsWith('.js')) expect(c.machine.stepMemo === undefined && r.memo === undefined).toBe(true);
    else expect(r.memo!.steps).toBe(r.stats.states - 1);
    if (name === 'odirect-vs-fault-multipage.yaml linux-2.6.15') expect(r.memo!.hits * 2).toBeGreaterThan(r.memo!.steps);
  });
});
