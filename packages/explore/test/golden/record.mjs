// Records what the exhaustive search answers on every shipped scenario × flavor (built-in
// flavors that have the scenario's programs, and the flavor modules a scenario's `expect`
// names): verdict, each violation's rule, message and shortest schedule, and the counters
// that do not depend on timing. test/golden.test.ts checks the engine against it.
// Re-record after a deliberate model change:  node packages/explore/test/golden/record.mjs
// (needs a build; takes a minute: the multipage scenario is millions of states).
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, listFlavors, loadScenario, resolveFlavor } from '../../../mm-model/dist/index.js';
import { explore } from '../../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dir = path.join(root, 'fixtures/scenarios');

export async function cases() {
  const out = [];
  for (const f of readdirSync(dir)
    .filter((x) => /\.(ya?ml|json)$/.test(x))
    .sort()) {
    const sc = await loadScenario(path.join(dir, f));
    const names = listFlavors().map((x) => x.name);
    for (const k of Object.keys(sc.expect ?? {})) if (/[\\/]/.test(k)) names.push(k);
    for (const name of names) {
      const where = /[\\/]/.test(name) ? path.resolve(dir, name) : name;
      let machine;
      try {
        machine = createMachine(sc, await resolveFlavor(where));
      } catch {
        continue; // the flavor lacks one of the scenario's programs
      }
      out.push({ file: f, flavor: name, machine });
    }
  }
  return out;
}

/** The timing-free summary of a result that the golden keeps. */
export function summary(r) {
  const { timeMs, statesPerSec, ...stats } = r.stats;
  return {
    verdict: r.verdict,
    exhaustive: r.exhaustive,
    incomplete: r.incomplete,
    violations: r.violations,
    stats,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const golden = {};
  for (const { file, flavor, machine } of await cases()) {
    const t0 = performance.now();
    const r = await explore(machine, { strategy: 'exhaustive' });
    golden[`${file} ${flavor}`] = summary(r);
    console.error(`${file} ${flavor}: ${r.verdict} ${r.stats.distinctStates} distinct, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  writeFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'exhaustive.json'), `${JSON.stringify(golden, null, 1)}\n`);
}
