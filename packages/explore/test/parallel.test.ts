/**
 * `--workers N`: the exhaustive search on worker threads gives the one-core search's result —
 * verdict, shortest schedules (the same tie-break), messages and counters — on every shipped
 * scenario, with 2 and 3 workers. Workers load the built model (dist/), as the CLI's do.
 */
import { describe, expect, it } from '@jest/globals';
import { explore, exploreOnCores, exploreParallel, SINGLE_CORE_STATES } from '../src/index.js';
import { shippedCases, summary } from './shipped.js';

const cases = await shippedCases();

describe('exhaustive search on worker threads', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: 2 workers = 1 core', async (_name, c) => {
    const one = await explore(c.machine, { strategy: 'exhaustive' });
    expect(summary(await exploreParallel(c.source, 2))).toEqual(summary(one));
  });

  it('3 workers = 1 core on a scenario with a livelock and cycles', async () => {
    const c = cases.find((x) => x.name === 'invalidate-mapping-pages-mapped-then-fault.yaml linux-2.6.15-seqschedlock')!;
    const one = await explore(c.machine, { strategy: 'exhaustive' });
    expect(one.violations.map((v) => v.rule)).toContain('livelock');
    expect(summary(await exploreParallel(c.source, 3))).toEqual(summary(one));
  });

  it('runs a small graph on this thread and a large one on workers, with the same result', async () => {
    const small = cases.find((x) => x.name === 'odirect-vs-fault.yaml linux-2.6.15')!;
    const big = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    const s = await exploreOnCores(small.machine, small.source, 2);
    expect(s.stats.distinctStates).toBeLessThan(SINGLE_CORE_STATES);
    expect(summary(s)).toEqual(summary(await explore(small.machine)));
    const b = await exploreOnCores(big.machine, big.source, 2);
    expect(b.stats.distinctStates).toBeGreaterThan(SINGLE_CORE_STATES);
    expect(summary(b)).toEqual(summary(await explore(big.machine)));
  });

  it('refuses a machine whose states cannot travel as words, and searches it on one thread', async () => {
    const c = cases.find((x) => x.name === 'odirect-vs-fault-multipage.yaml linux-2.6.15')!;
    await expect(exploreParallel({ ...c.source, name: 'withoutExchange' }, 2)).rejects.toThrow(/cannot send states as words/);
    const bare = { ...c.machine, exchange: undefined };
    expect(summary(await exploreOnCores(bare, { ...c.source, name: 'withoutExchange' }, 2))).toEqual(summary(await explore(c.machine)));
  });

  it('reports a factory that fails as an environment error', async () => {
    const c = cases[0]!;
    await expect(exploreParallel({ ...c.source, name: 'nothing' }, 2)).rejects.toThrow(/explorer worker failed: .*exports no function nothing/);
  });
});
