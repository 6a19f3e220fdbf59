/**
 * Every shipped scenario (fixtures/scenarios) on every flavor that has its programs (the
 * built-in flavors, and the flavor modules a scenario's `expect` names), for tests that compare
 * the exhaustive search's variants (one core, workers, shards) with each other and with the
 * golden recorded before the engine was made faster (golden/record.mjs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Machine } from '@kreplay/core';
import { createMachine, listFlavors, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import type { ExploreResult, MachineSource } from '../src/index.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = path.join(root, 'fixtures/scenarios');

export interface ShippedCase {
  /** `file flavor`, as the golden names it. */
  name: string;
  file: string;
  flavor: string;
  machine: Machine<unknown>;
  source: MachineSource;
}

/**
 * The multipage scenario is hundreds of thousands of states on some flavors: tests take it on
 * linux-2.6.15 (19 449 states) and linux-2.6.23 (5 785) only; `node packages/explore/test/golden/record.mjs --check` and
 * `npm run bench explore` cover the rest.
 */
export const SLOW = /multipage\.yaml (?!linux-2\.6\.(15|23)$)/;

export async function shippedCases(): Promise<ShippedCase[]> {
  const out: ShippedCase[] = [];
  for (const file of readdirSync(dir)
    .filter((x) => /\.(ya?ml|json)$/.test(x))
    .sort()) {
    const sc = await loadScenario(path.join(dir, file));
    const names = listFlavors().map((x) => x.name);
    for (const k of Object.keys(sc.expect ?? {})) if (/[\\/]/.test(k)) names.push(k);
    for (const flavor of names) {
      const where = /[\\/]/.test(flavor) ? path.resolve(dir, flavor) : flavor;
      let machine: Machine<unknown>;
      try {
        machine = createMachine(sc, await resolveFlavor(where)) as Machine<unknown>;
      } catch {
        continue; // the flavor lacks one of the scenario's programs
      }
      const name = `${file} ${flavor}`;
      if (SLOW.test(name)) continue;
      out.push({
        name,
        file,
        flavor,
        machine,
        source: {
          module: fileURLToPath(new URL('./support/machine-source.mjs', import.meta.url)),
          name: 'machine',
          args: { scenario: path.join(dir, file), flavor: where },
        },
      });
    }
  }
  return out;
}

/** What the golden keeps of a result: everything but the clock. */
export function summary(r: ExploreResult): unknown {
  const { timeMs: _t, statesPerSec: _r, ...stats } = r.stats;
  return { verdict: r.verdict, exhaustive: r.exhaustive, incomplete: r.incomplete, violations: r.violations, stats };
}

export const golden = JSON.parse(readFileSync(path.join(root, 'packages/explore/test/golden/exhaustive.json'), 'utf8')) as Record<string, unknown>;
