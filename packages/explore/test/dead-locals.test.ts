/**
 * The flavors' dead-local tables (Proc.dead, docs/flavors.md "Dead locals") only merge states that
 * differ in values no step reads again: on every shipped scenario × flavor, the exhaustive search
 * with the tables and without them gives the same verdict and the same violations — rule, message,
 * where, and the shortest schedule — but for a livelock, whose way into the very same cycle may be
 * shorter with the tables (the first pass through a loop no longer differs from the later ones).
 */
import { describe, expect, it } from '@jest/globals';
import { createMachine, loadScenario, resolveFlavor, type Flavor, type Proc } from '@kreplay/mm-model';
import { explore, type ExploreResult } from '../src/index.js';
import { shippedCases } from './shipped.js';

function withoutTables(f: Flavor): Flavor {
  const procs: Record<string, Proc> = {};
  for (const [name, { dead: _dead, ...proc }] of Object.entries(f.procs)) procs[name] = proc;
  return { ...f, procs };
}

/** What must not move: the verdict, and each violation but a livelock's way into its cycle. */
function verdicts(r: ExploreResult) {
  return {
    verdict: r.verdict,
    exhaustive: r.exhaustive,
    violations: r.violations.map((v) => (v.rule === 'livelock' ? { ...v, schedule: undefined, steps: undefined } : v)),
  };
}

const cases = await shippedCases();
const args = (c: (typeof cases)[number]) => c.source.args as { scenario: string; flavor: string };

describe('dead-local tables change no verdict', () => {
  it('some shipped flavors declare tables, so the comparison below compares something', async () => {
    const declared = await Promise.all(
      ['linux-2.6.15', 'linux-2.6.15-seqschedlock', 'linux-6.1', 'linux-6.12'].map(
        async (n) => Object.values((await resolveFlavor(n)).procs).filter((p) => p.dead).length,
      ),
    );
    expect(declared.every((n) => n > 0)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { scenario, flavor } = args(c);
    const bare = createMachine(await loadScenario(scenario), withoutTables(await resolveFlavor(flavor)));
    const [withTables, without] = [await explore(c.machine, { strategy: 'exhaustive' }), await explore(bare, { strategy: 'exhaustive' })];
    expect(verdicts(withTables)).toEqual(verdicts(without));
    expect(withTables.stats.distinctStates).toBeLessThanOrEqual(without.stats.distinctStates);
    for (const [i, v] of withTables.violations.entries()) {
      if (v.rule === 'livelock') expect(v.schedule!.length).toBeLessThanOrEqual(without.violations[i]!.schedule!.length);
    }
  });
});
