/**
 * Step memoization (`memoSteps`, step-memo.ts; on by default): a search that reuses a thread's step across
 * states that agree on what it reads answers what the search that runs every step answers, on
 * every shipped case (each reused step also run and compared: `verify`); a machine whose
 * `stepMemo` leaves out what a step reads of another thread, or whose places leave out what a
 * step read of the shared part, is caught.
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
function counters(T: number, K: number, honest: boolean, pad = 0, more: { readsOf?: 'honest' | 'wrong'; gate?: boolean } = {}): Machine<Counter> {
  const stepOf = (s: Counter, t: number) => {
    const x = (s.x + (t === 0 ? 1 : s.pc[0]!)) % 5;
    const violations: ModelViolation[] = x === 4 && t === 1 ? [{ rule: 'bug-on', message: `x reached 4 in t1's step ${s.pc[1]}` }] : [];
    return { state: { x, pc: s.pc.map((p, u) => (u === t ? p + 1 : p)) }, violations };
  };
  return {
    flavor: 'counters',
    threads: Array.from({ length: T }, (_, id) => ({ id, name: `t${id}`, program: 'count', args: {} })),
    initial: () => ({ x: 0, pc: new Array<number>(T).fill(0) }),
    // `gate`: thread 1 waits while thread 0's pc is odd — a readiness that reads another thread
    next: (s, t) => (s.pc[t]! < K ? { label: 'add', accesses: [{ loc: 'x', mode: 'write' }], enabled: !(more.gate && t === 1 && s.pc[0]! % 2 === 1) } : null),
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
      // `wrong`: says thread 0's reads are its pc + 1
      readsOf: more.readsOf
        ? (s, u, out, at) => {
            if (u !== 0) return at;
            if (at < out.length) out[at] = s.pc[0]! + (more.readsOf === 'wrong' ? 1 : 0);
            return at + 1;
          }
        : undefined,
    },
  };
}

interface Pair {
  x: number;
  y: number;
  pc: readonly number[];
}

/**
 * Two threads over two shared counters (mod 3): thread 0 adds 1 to x, thread 1 adds 1 to y.
 * Words: x, y, then each thread's pc; the places (`StepMemo.places`) are x (name 10) and y
 * (name 11), and advanceNoting says thread 0 reads (and writes) x, thread 1 y. Not `honest`:
 * thread 1 adds x + 1 to y, but still says it reads only y.
 */
function pair(K: number, honest: boolean): Machine<Pair> {
  const stepOf = (s: Pair, t: number) => ({
    state: { x: t === 0 ? (s.x + 1) % 3 : s.x, y: t === 1 ? (s.y + 1 + (honest ? 0 : s.x)) % 3 : s.y, pc: s.pc.map((p, u) => (u === t ? p + 1 : p)) },
    violations: [] as ModelViolation[],
  });
  return {
    flavor: 'pair',
    threads: [0, 1].map((id) => ({ id, name: `t${id}`, program: 'count', args: {} })),
    initial: () => ({ x: 0, y: 0, pc: [0, 0] }),
    next: (s, t) => (s.pc[t]! < K ? { label: 'add', accesses: [{ loc: t === 0 ? 'x' : 'y', mode: 'write' }], enabled: true } : null),
    step: (s, t) => ({ ...stepOf(s, t), ops: [], effect: '—' }),
    advance: stepOf,
    key: (s) => `${s.x}|${s.y}|${s.pc.join(',')}`,
    encode(s, out) {
      if (out.length >= 4) {
        out[0] = s.x;
        out[1] = s.y;
        out[2] = s.pc[0]!;
        out[3] = s.pc[1]!;
      }
      return 4;
    },
    decode: (w) => ({ x: w[0]!, y: w[1]!, pc: [w[2]!, w[3]!] }),
    stepMemo: {
      threadsAt: () => 2,
      otherReads: (_s, _t, _out, at) => at,
      places: {
        cut(_w, at, out) {
          if (at !== 2 || out.length < 4) return -1;
          out.set([10, 0, 11, 1]);
          return 2;
        },
        advanceNoting(s, t) {
          const place = Int32Array.of(t === 0 ? 10 : 11);
          return { outcome: stepOf(s, t), reads: place, all: false };
        },
      },
    },
  };
}

/**
 * Thread 0 appends its pc's parity to a list x, thread 1 adds 1 to y (mod 3). Words: x's length
 * and elements, y, then each thread's pc; the places are x (name 10, a place whose word count
 * grows with each of thread 0's steps) and y (name 11).
 */
interface Growing {
  x: readonly number[];
  y: number;
  pc: readonly number[];
}

function growing(K: number): Machine<Growing> {
  const stepOf = (s: Growing, t: number) => ({
    state: { x: t === 0 ? [...s.x, s.pc[0]! % 2] : s.x, y: t === 1 ? (s.y + 1) % 3 : s.y, pc: s.pc.map((p, u) => (u === t ? p + 1 : p)) },
    violations: [] as ModelViolation[],
  });
  return {
    flavor: 'growing',
    threads: [0, 1].map((id) => ({ id, name: `t${id}`, program: 'count', args: {} })),
    initial: () => ({ x: [], y: 0, pc: [0, 0] }),
    next: (s, t) => (s.pc[t]! < K ? { label: 'add', accesses: [{ loc: t === 0 ? 'x' : 'y', mode: 'write' }], enabled: true } : null),
    step: (s, t) => ({ ...stepOf(s, t), ops: [], effect: '—' }),
    advance: stepOf,
    key: (s) => `${s.x.join(',')}|${s.y}|${s.pc.join(',')}`,
    encode(s, out) {
      const n = s.x.length + 4;
      if (out.length >= n) out.set([s.x.length, ...s.x, s.y, s.pc[0]!, s.pc[1]!]);
      return n;
    },
    decode: (w, n) => ({ x: Array.from(w.subarray(1, 1 + w[0]!)), y: w[n - 3]!, pc: [w[n - 2]!, w[n - 1]!] }),
    stepMemo: {
      threadsAt: (_w, n) => n - 2,
      otherReads: (_s, _t, _out, at) => at,
      places: {
        cut(_w, at, out) {
          if (out.length < 4) return -1;
          out.set([10, 0, 11, at - 1]);
          return 2;
        },
        advanceNoting(s, t) {
          return { outcome: stepOf(s, t), reads: Int32Array.of(t === 0 ? 10 : 11), all: false };
        },
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

  it('expands a state whose readiness and steps it knows by their words without decoding it (StepMemo.readsOf), and answers the same', async () => {
    const plain = await explore(counters(3, 4, true), { strategy: 'exhaustive', memoSteps: false });
    const decodes = (m: Machine<Counter>) => {
      let n = 0;
      const decode = m.decode!.bind(m);
      m.decode = (w, k) => (n++, decode(w, k));
      return { m, count: () => n };
    };
    const without = decodes(counters(3, 4, true));
    const withReads = decodes(counters(3, 4, true, 0, { readsOf: 'honest' }));
    const a = await explore(without.m, { strategy: 'exhaustive', memoSteps: true });
    const b = await explore(withReads.m, { strategy: 'exhaustive', memoSteps: true });
    expect(summary(a)).toEqual(summary(plain));
    expect(summary(b)).toEqual(summary(plain));
    expect(b.memo).toEqual(a.memo);
    // without readsOf every state is decoded to key its steps; with it, only those with a step not yet known
    expect(without.count()).toBeGreaterThanOrEqual(plain.stats.distinctStates);
    expect(withReads.count()).toBeLessThan(plain.stats.distinctStates / 2);
  });

  it('catches a machine whose readsOf is not what otherReads writes, even unverified', async () => {
    await expect(explore(counters(3, 4, true, 0, { readsOf: 'wrong' }), { strategy: 'exhaustive', memoSteps: true })).rejects.toThrow(
      /Machine\.stepMemo's promise is broken/,
    );
  });

  it('catches a machine whose readiness reads another thread', async () => {
    const plain = await explore(counters(3, 4, true, 0, { gate: true }), { strategy: 'exhaustive', memoSteps: false });
    expect(plain.stats.distinctStates).toBeGreaterThan(0);
    await expect(explore(counters(3, 4, true, 0, { gate: true }), { strategy: 'exhaustive', memoSteps: 'verify' })).rejects.toThrow(
      /readiness differs .* promise is broken/,
    );
  });

  it('reuses a step across states that differ only in shared places it neither read nor wrote (StepMemo.places)', async () => {
    const plain = await explore(pair(3, true), { strategy: 'exhaustive', memoSteps: false });
    const memo = await explore(pair(3, true), { strategy: 'exhaustive', memoSteps: 'verify' });
    expect(summary(memo)).toEqual(summary(plain));
    // 16 states (x = pc0 mod 3, y = pc1 mod 3), 24 steps. Keyed by the whole shared part (x, y) and
    // the thread's pc, a step repeats a key only where the other thread's pc is 3 (6 hits); keyed by
    // the one place it reads, each thread's step at each pc runs once (3 + 3) and is reused after
    expect(memo.memo).toEqual({ steps: 24, hits: 18, full: false });
  });

  it('reuses a step whose place changes its word count: its successor is put together place by place', async () => {
    const plain = await explore(growing(3), { strategy: 'exhaustive', memoSteps: false });
    const memo = await explore(growing(3), { strategy: 'exhaustive', memoSteps: 'verify' });
    expect(summary(memo)).toEqual(summary(plain));
    expect(plain.stats.distinctStates).toBe(16);
    // thread 0's step at each x runs once and is reused at the other y's, as is thread 1's at each y
    expect(memo.memo).toEqual({ steps: 24, hits: 18, full: false });
  });

  it('catches a machine whose places leave out what a step read', async () => {
    await expect(explore(pair(3, false), { strategy: 'exhaustive', memoSteps: 'verify' })).rejects.toThrow(/Machine\.stepMemo's promise is broken/);
  });

  it('reuses the multipage steps of linux-2.6.15 across shared parts that differ only where a step does not read (the model notes its places)', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    const r = await explore(c.machine, { strategy: 'exhaustive', memoSteps: 'verify' });
    expect(summary(r)).toEqual(golden[c.name]);
    // keyed by the whole shared part (session 28's K3) 37,653 of the 50,400 steps are reused; by
    // the places each step read, 46,944 — the count the Proxy oracle of bench/memo.bench.js gives
    expect(r.memo).toEqual({ steps: 50_400, hits: 46_944, full: false });
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
