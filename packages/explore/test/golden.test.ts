/**
 * The exhaustive search answers what it answered before it was made faster (golden recorded
 * from the earlier engine): verdict, every violation's message and shortest schedule, and
 * every counter but the clock — on every shipped scenario × flavor (multipage: shipped.ts).
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { explore } from '../src/index.js';
import { golden, root, shippedCases, summary } from './shipped.js';

// Flavors added after the golden was recorded (linux-6.12) have no "before": the worker and
// shard tests compare them with the one-core search instead.
const cases = (await shippedCases()).filter((c) => c.name in golden);

describe('the exhaustive search against its golden', () => {
  it('covers every shipped scenario, and every case the golden records still exists', () => {
    expect(new Set(cases.map((c) => c.file)).size).toBeGreaterThanOrEqual(9);
    const slow = Object.keys(golden).filter((k) => !cases.some((c) => c.name === k));
    expect(slow.every((k) => k.includes('multipage'))).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(summary(await explore(c.machine, { strategy: 'exhaustive' }))).toEqual(golden[c.name]);
  });

  it("the seed patch's own race on two pages: odirect-vs-fault-multipage on linux-2.6.15-seqschedlock (189 364 states since its dead locals)", async () => {
    // on one thread only: the worker and shard tests leave the multipage cases past 20 000 states out
    const machine = createMachine(
      await loadScenario(path.join(root, 'fixtures/scenarios/odirect-vs-fault-multipage.yaml')),
      await resolveFlavor('linux-2.6.15-seqschedlock'),
    );
    const r = await explore(machine, { strategy: 'exhaustive' });
    expect(summary(r)).toEqual(golden['odirect-vs-fault-multipage.yaml linux-2.6.15-seqschedlock']);
    expect(r.violations.map((v) => v.rule).sort()).toEqual(['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate']);
  }, 300_000);
});
