/**
 * `--workers N`: the exhaustive search on worker threads gives the one-core search's result —
 * verdict, shortest schedules (the same tie-break), messages and counters — on every shipped
 * scenario × flavor taking over from the one-thread search at a level boundary, as the CLI's do,
 * on one flavor per scenario started from the initial state, and with 3 workers on a livelock.
 * Workers load the built model (dist/), as the CLI's do.
 */
import { describe, expect, it } from '@jest/globals';
import { explore, exploreOnCores, exploreParallel, SINGLE_CORE_STATES } from '../src/index.js';
import { golden, shippedCases, summary, type ShippedCase } from './shipped.js';

const cases = await shippedCases();

/**
 * The one-core search's summary of a case. golden.test.ts holds the one-core search to the golden on
 * every case the golden records, so those cases are compared with the golden here rather than searched
 * a second time; the others (flavors added since) are searched once, however many tests ask.
 */
const searched = new Map<string, Promise<unknown>>();
function oneCore(c: ShippedCase): Promise<unknown> {
  if (c.name in golden) return Promise.resolve(golden[c.name]);
  if (!searched.has(c.name)) searched.set(c.name, explore(c.machine, { strategy: 'exhaustive' }).then(summary));
  return searched.get(c.name)!;
}

/**
 * The workers started from the initial state (`exploreParallel` alone, a library entry; the CLI always
 * hands over from the one-thread search): one case per shipped scenario, the flavors taken in turn so
 * that each is met. The workers' level loop is the one every handed-over search below runs on every
 * case; what these add is the start from the root, which one case per scenario covers (each search
 * costs a worker thread's start-up, ~0.5 s: sweeping every case both ways doubled this file's time).
 */
const fromRoot = [...new Set(cases.map((c) => c.file))].map((file, i) => {
  const of = cases.filter((c) => c.file === file);
  return of[i % of.length]!;
});

describe('exhaustive search on worker threads', () => {
  it.each(fromRoot.map((c) => [c.name, c] as const))('%s: 2 workers = 1 core (each worker checking every step it reuses)', async (_name, c) => {
    // each worker keeps its own step memo (step-memo.ts); 'verify' runs every reused step too and throws where it differs
    expect(summary(await exploreParallel(c.source, 2, { memoSteps: 'verify' }))).toEqual(await oneCore(c));
  });

  // a threshold of one state: the one-thread search hands over after the initial state's level
  it.each(cases.map((c) => [c.name, c] as const))('%s: handed over to 2 workers = 1 core', async (_name, c) => {
    expect(summary(await exploreOnCores(c.machine, c.source, 2, { handoverStates: 1 }))).toEqual(await oneCore(c));
  });

  it('hands over at any level, to 2 or 3 workers, with the same result', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    const one = await oneCore(c);
    for (const [workers, at] of [
      [2, 50],
      [3, 2_000],
      [2, 15_000],
    ] as const) {
      expect(summary(await exploreOnCores(c.machine, c.source, workers, { handoverStates: at, workersFromStates: at / 2 }))).toEqual(one);
    }
    const live = cases.find((x) => x.name === 'invalidate-mapping-pages-mapped-then-fault.yaml linux-2.6.15-seqschedlock')!;
    expect(summary(await exploreOnCores(live.machine, live.source, 3, { handoverStates: 20 }))).toEqual(await oneCore(live));
  });

  it("counts every step in the result's memo, the one-thread search's and the workers', each reused one checked", async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    const handed = await exploreOnCores(c.machine, c.source, 2, { handoverStates: 5_000, workersFromStates: 2_500, memoSteps: 'verify' });
    expect(summary(handed)).toEqual(await oneCore(c));
    // the one-thread search's counts are added to the workers' (left out, its steps would be missing)
    expect(handed.memo!.steps).toBe(handed.stats.states - 1);
    expect(handed.memo!.hits).toBeGreaterThan(0);
    const fromRoot = await exploreParallel(c.source, 2, { memoSteps: true });
    expect(fromRoot.memo!.steps).toBe(fromRoot.stats.states - 1);
    // a state's owner is its shared part's (owners.ts), and a memo key begins with it: each key is
    // met by one worker, which reuses every step one memo keyed by the whole shared part reuses on
    // one thread — 37 653 of these 50 400 (owned by a hash of the full words, 2 workers reused
    // 31 851, 3 workers 27 809). The finer keys by the places a step read (step-memo-places.ts) are
    // each worker's own: one thread reuses 46 944 steps, 2 workers 46 034 (session 31)
    const one = await explore(c.machine, { strategy: 'exhaustive', memoSteps: true });
    expect(one.memo!.hits).toBe(46_944);
    for (const workers of [fromRoot, await exploreParallel(c.source, 3, { memoSteps: true })]) {
      expect(workers.memo!.hits).toBeGreaterThanOrEqual(37_653);
      expect(workers.memo!.hits).toBeLessThanOrEqual(one.memo!.hits);
      expect(workers.memo!.hits).toBeGreaterThan(0.9 * one.memo!.hits);
    }
    // handed over: worker 0 goes on with the one-thread search's memo; only the keys it recorded for
    // states another worker owns are met again cold (37 269 reused; 32 204 when every worker began cold)
    expect(handed.memo!.hits).toBeGreaterThan(0.95 * one.memo!.hits);
    // not named: no memo in the result, which then compares equal to one without memoization
    expect((await exploreParallel(c.source, 2)).memo).toBeUndefined();
  });

  it('hands a thread its states in batches, the level handed over spanning several', async () => {
    // 8 000 states handed over in batches of 64 (parallel.ts HANDOVER_BATCH is 1 024): the
    // thread's ~4 000 come in dozens of batches, and its part of the level handed over (hundreds
    // of states) in several of them
    const c = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    expect(summary(await exploreOnCores(c.machine, c.source, 2, { handoverStates: 8_000, workersFromStates: 4_000, handoverBatch: 64 }))).toEqual(
      await oneCore(c),
    );
  });

  it('cuts with max-states and max-depth across the handover as the workers cut from the start (between levels)', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    for (const cut of [{ maxStates: 12_000 }, { maxDepth: 12 }, { maxDepth: 40, maxStates: 15_000 }]) {
      const handed = await exploreOnCores(c.machine, c.source, 2, { ...cut, handoverStates: 1_000 });
      expect(handed.incomplete.length).toBeGreaterThan(0);
      expect(summary(handed)).toEqual(summary(await exploreParallel(c.source, 2, cut)));
    }
  });

  it('3 workers = 1 core on a scenario with a livelock and cycles', async () => {
    const c = cases.find((x) => x.name === 'invalidate-mapping-pages-mapped-then-fault.yaml linux-2.6.15-seqschedlock')!;
    const one = await oneCore(c);
    expect((one as { violations: Array<{ rule: string }> }).violations.map((v) => v.rule)).toContain('livelock');
    expect(summary(await exploreParallel(c.source, 3))).toEqual(one);
  });

  it('runs a small graph on this thread and hands a large one over to workers, with the same result', async () => {
    const small = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-2.6.15')!;
    const big = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    const s = await exploreOnCores(small.machine, small.source, 2);
    expect(s.stats.distinctStates).toBeLessThan(SINGLE_CORE_STATES);
    expect(summary(s)).toEqual(await oneCore(small));
    const at = 10_000;
    const b = await exploreOnCores(big.machine, big.source, 2, { handoverStates: at });
    expect(b.stats.distinctStates).toBeGreaterThan(at);
    expect(summary(b)).toEqual(await oneCore(big));
  });

  it('refuses a machine whose states cannot travel as words, and searches it on one thread', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    await expect(exploreParallel({ ...c.source, name: 'withoutExchange' }, 2)).rejects.toThrow(/cannot send states as words/);
    const bare = { ...c.machine, exchange: undefined };
    expect(summary(await exploreOnCores(bare, { ...c.source, name: 'withoutExchange' }, 2))).toEqual(await oneCore(c));
  });

  it('reports a factory that fails as an environment error', async () => {
    const c = cases[0]!;
    await expect(exploreParallel({ ...c.source, name: 'nothing' }, 2)).rejects.toThrow(/explorer worker failed: .*exports no function nothing/);
  });
});
