/**
 * Explorer verdicts over the shipped scenarios (fixtures/scenarios) on the kernel flavors.
 * The engine knows nothing about any of them; these are the answers the model gives.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { explore, type ExploreResult, type Strategy } from '../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const scenario = (name: string): string => path.join(root, 'fixtures/scenarios', `${name}.yaml`);

/** One search per (scenario file, flavor, strategy), however many tests here ask for it. */
const searched = new Map<string, Promise<ExploreResult>>();
function search(file: string, flavor: string, strategy: Strategy = 'exhaustive'): Promise<ExploreResult> {
  const key = `${file} ${flavor} ${strategy}`;
  if (!searched.has(key)) {
    searched.set(key, (async () => explore(createMachine(await loadScenario(file), await resolveFlavor(flavor)), { strategy }))());
  }
  return searched.get(key)!;
}

async function verdict(name: string, flavor: string, strategy: Strategy = 'exhaustive') {
  const r = await search(scenario(name), flavor, strategy);
  return { r, rules: r.violations.map((v) => v.rule) };
}

// DPOR on these same scenario x flavor pairs (odirect-vs-fault and truncate-vs-fault on every flavor their `expect`
// names, the mutation among them) is strategies.test.ts's: its verdict, rules and `exhaustive` equal the exhaustive
// search's, which these tests pin. Searching them again here cost the suite's slowest test (odirect-vs-fault on 6.1).
describe('shipped scenarios (exhaustive)', () => {
  it('odirect-vs-fault on linux-2.6.15 yields both orderings of the race', async () => {
    const { r, rules } = await verdict('odirect-vs-fault', 'linux-2.6.15');
    expect(r.verdict).toBe('violation');
    expect(rules).toEqual(expect.arrayContaining(['orphan-page-mapped', 'mapped-page-removed']));
  });

  it.each(['linux-2.6.23', 'linux-6.1'])('odirect-vs-fault on %s is exhaustively clean', async (flavor) => {
    const { r } = await verdict('odirect-vs-fault', flavor);
    expect(r).toMatchObject({ verdict: 'clean', exhaustive: true, violations: [] });
  });

  it('truncate-vs-fault on linux-2.6.15 is clean (the truncate_count/i_size protocol holds)', async () => {
    const { r } = await verdict('truncate-vs-fault', 'linux-2.6.15');
    expect(r).toMatchObject({ verdict: 'clean', exhaustive: true });
  });

  it('truncate-vs-fault fails once the fault path loses its truncate_count recheck (mutation flavor)', async () => {
    const { r, rules } = await verdict('truncate-vs-fault', path.join(root, 'fixtures/flavors/no-truncate-count-recheck.js'));
    expect(r.verdict).toBe('violation');
    expect(rules).toContain('orphan-page-mapped');
  });
});

describe('shortest schedules', () => {
  it('are no longer than any DPOR finds, and replay to the same violation', async () => {
    const e = await verdict('odirect-vs-fault', 'linux-2.6.15', 'exhaustive');
    const d = await verdict('odirect-vs-fault', 'linux-2.6.15', 'dpor');
    for (const v of e.r.violations) {
      const other = d.r.violations.find((x) => x.rule === v.rule)!;
      expect(v.schedule.length).toBeLessThanOrEqual(other.schedule.length);
    }
  });
});

describe('every shipped scenario meets the expectations it records', () => {
  // The multipage scenario takes seconds per flavor (up to ~10^6 states): bench/explore.bench.js covers it.
  const dir = path.join(root, 'fixtures/scenarios');
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.includes('multipage'))
    .sort();
  it.each(files)('%s', async (f) => {
    const sc = await loadScenario(path.join(dir, f));
    for (const [flavor, expected] of Object.entries(sc.expect ?? {})) {
      // A flavor module named by path is relative to the scenario file.
      const where = /[\\/]/.test(flavor) ? path.resolve(dir, flavor) : flavor;
      const r = await search(path.join(dir, f), where);
      const got = r.verdict === 'clean' ? 'clean' : r.violations.map((v) => v.rule).sort();
      expect({ flavor, got }).toEqual({ flavor, got: expected === 'clean' ? 'clean' : [...expected].sort() });
    }
  });
});
