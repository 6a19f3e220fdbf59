/**
 * A machine none of whose threads reads data (Program.readsData) does not track which version a
 * page holds (mm-model data.ts `UNTRACKED`): on every shipped scenario × flavor where that is so,
 * the exhaustive search with data tracked (every program declaring `readsData`) and without gives
 * the same verdict and the same violations — rule, message, where, and the shortest schedule — and
 * no more states. A program that reads without declaring it is a ModelBug, not a read judged on
 * untracked data.
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { UNTRACKED, createMachine, loadScenario, resolveFlavor, type Flavor, type Program } from '@kreplay/mm-model';
import { explore, type ExploreResult } from '../src/index.js';
import { root, shippedCases } from './shipped.js';

/** The flavor with every program declaring that it reads data: the machine tracks it whatever the threads run. */
function tracking(f: Flavor): Flavor {
  const programs: Record<string, Program> = {};
  for (const [name, p] of Object.entries(f.programs)) programs[name] = { ...p, readsData: true };
  return { ...f, programs };
}

const verdicts = (r: ExploreResult) => ({ verdict: r.verdict, exhaustive: r.exhaustive, violations: r.violations });

const cases = [];
for (const c of await shippedCases()) {
  const m = c.machine as unknown as { env: { dataUntracked?: boolean } };
  if (m.env.dataUntracked) cases.push(c);
}

describe('untracked data changes no verdict', () => {
  it('most shipped scenarios run no reader, and the ones that do track data', async () => {
    expect(cases.length).toBeGreaterThan(40);
    const reader = createMachine(await loadScenario(path.join(root, 'fixtures/scenarios/odirect-vs-read-data.yaml')), await resolveFlavor('linux-6.1'));
    expect(reader.env.dataUntracked).toBeUndefined();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { scenario, flavor } = c.source.args as { scenario: string; flavor: string };
    const tracked = createMachine(await loadScenario(scenario), tracking(await resolveFlavor(flavor)));
    expect(tracked.env.dataUntracked).toBeUndefined();
    const [untracked, withData] = [await explore(c.machine, { strategy: 'exhaustive' }), await explore(tracked, { strategy: 'exhaustive' })];
    expect(verdicts(untracked)).toEqual(verdicts(withData));
    expect(untracked.stats.distinctStates).toBeLessThanOrEqual(withData.stats.distinctStates);
  });

  it('merges states on linux-6.1: pages read before and after the O_DIRECT write are one state when nothing reads them', async () => {
    const sc = await loadScenario(path.join(root, 'fixtures/scenarios/odirect-vs-fault.yaml'));
    const f = await resolveFlavor('linux-6.1');
    const [untracked, withData] = [
      await explore(createMachine(sc, f), { strategy: 'exhaustive' }),
      await explore(createMachine(sc, tracking(f)), { strategy: 'exhaustive' }),
    ];
    expect(
      createMachine(sc, f)
        .initial()
        .pages.filter((p) => p !== undefined && p.data !== UNTRACKED && p.data >= 0),
    ).toEqual([]);
    expect(untracked.stats.distinctStates).toBeLessThan(withData.stats.distinctStates);
  });

  it('a program that begins a read without declaring readsData is a ModelBug, not a read of untracked data', async () => {
    const f = await resolveFlavor('linux-6.1');
    const { readsData: _r, ...read } = f.programs.read!;
    const undeclared: Flavor = { ...f, programs: { ...f.programs, read } };
    const m = createMachine(await loadScenario(path.join(root, 'fixtures/scenarios/odirect-vs-read-data.yaml')), undeclared);
    expect(m.env.dataUntracked).toBe(true);
    await expect(explore(m, { strategy: 'exhaustive' })).rejects.toThrow(
      /begins a user read, but no thread of this scenario runs a program that declares readsData/,
    );
  });
});
