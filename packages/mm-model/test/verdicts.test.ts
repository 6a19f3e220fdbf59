/**
 * Exhaustive verdicts of the shipped scenarios on every flavor their `expect:` names, by a
 * plain search over all interleavings (helpers/dfs.ts) — the model checked on its own,
 * before and independently of the explorer's DPOR.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { type MmOp } from '@kreplay/core';
import { FLAVORS, SCENARIOS, run } from './helpers/scenarios.js';
import { safetyRules, search } from './helpers/dfs.js';

/** Too large for a plain search inside the unit suite; the explorer (DPOR) and `npm run bench mm-model` cover it. */
const SLOW = new Set(['odirect-vs-fault-multipage']);

function flavorRef(scenarioFile: string, key: string): string {
  return /[\\/]|\.m?js$/.test(key) ? resolve(dirname(scenarioFile), key) : key;
}

const files = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(SCENARIOS, f))
  .sort();

const named = files.map((f) => [f.replace(/^.*\//, '').replace('.yaml', ''), f] as const);

describe.each(named.filter(([name]) => !SLOW.has(name)))('%s', (_name, file) => {
  test('matches its expectations on every flavor it names', async () => {
    const sc = await loadScenario(file);
    expect(sc.expect).toBeDefined();
    for (const [key, want] of Object.entries(sc.expect!)) {
      const m = createMachine(sc, await resolveFlavor(flavorRef(file, key)));
      const r = search(m);
      const got = [...safetyRules(r), ...['deadlock', 'livelock'].filter((k) => r.found.has(k))];
      expect({ flavor: key, rules: got }).toEqual({ flavor: key, rules: want === 'clean' ? [] : [...want].sort() });
    }
  });
});

describe('odirect-vs-fault on linux-2.6.15: both orderings of the race', () => {
  const kinds = (ops: MmOp[]) => ops.map((o) => o.kind);
  test('mapped-page-removed: the PTE goes in first, then invalidate drops the page; orphan-page-mapped: the other way round', async () => {
    const sc = await loadScenario(join(SCENARIOS, 'odirect-vs-fault.yaml'));
    const m = createMachine(sc, await resolveFlavor('linux-2.6.15'));
    const r = search(m);
    const order = (rule: string) => {
      const { steps } = run(m, r.found.get(rule)!.schedule);
      const ops = steps.flatMap((s) => kinds(s.ops as MmOp[]));
      const last = steps[steps.length - 1]!;
      expect(last.violations.map((v) => v.rule)).toContain(rule);
      return { deleted: ops.indexOf('cache_delete'), effects: steps.map((s) => s.effect).join(' | ') };
    };
    const removed = order('mapped-page-removed');
    const orphan = order('orphan-page-mapped');
    // mapped-page-removed: page_add_file_rmap (mapcount 0→1) before the removal; orphan: after it.
    expect(removed.effects.indexOf('pfn1.mapcount 0→1')).toBeLessThan(removed.effects.indexOf('M0[0] = ∅'));
    expect(orphan.effects.indexOf('M0[0] = ∅')).toBeLessThan(orphan.effects.indexOf('pfn1.mapcount 0→1'));
    expect(removed.deleted).toBeGreaterThan(-1);
  });

  test('linux-2.6.23 is clean on it and still reaches several distinct end states', async () => {
    const sc = await loadScenario(join(SCENARIOS, 'odirect-vs-fault.yaml'));
    const r = search(createMachine(sc, await resolveFlavor('linux-2.6.23')));
    expect(r.found.size).toBe(0);
    expect(r.ends).toBeGreaterThan(1); // several distinct outcomes, all coherent
  });
});

describe('truncate-vs-fault and the mutation check', () => {
  test("linux-2.6.15 is clean: i_size, then truncate_count++, against the fault's sample and recheck", async () => {
    const sc = await loadScenario(join(SCENARIOS, 'truncate-vs-fault.yaml'));
    const r = search(createMachine(sc, await resolveFlavor('linux-2.6.15')));
    expect(r.found.size).toBe(0);
    expect(r.stuck).toBe(0);
  });

  test("deleting the fault path's truncate_count recheck makes it map a truncated page", async () => {
    const sc = await loadScenario(join(SCENARIOS, 'truncate-vs-fault.yaml'));
    const mutant = await resolveFlavor(join(FLAVORS, 'no-truncate-count-recheck.js'));
    const m = createMachine(sc, mutant);
    const r = search(m);
    expect(safetyRules(r)).toContain('orphan-page-mapped');
    const { steps } = run(m, r.found.get('orphan-page-mapped')!.schedule);
    const effects = steps.map((s) => s.effect).join(' | ');
    // truncate wrote i_size and removed the page after the fault found it; the fault mapped it anyway
    expect(effects.indexOf('i_size 4096→0')).toBeLessThan(effects.indexOf('pfn1.mapcount 0→1'));
  });
});
