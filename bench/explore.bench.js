// explore: time to exhaust every shipped scenario on every built-in flavor that has its
// programs, and the rate (states/s), for the exhaustive state-graph search (the default)
// and stateless DPOR with sleep sets. Prints verdict, rules, executions, states (distinct),
// time and states/s per run ("ends" for the exhaustive search: the end states it reached, it
// runs no executions). Then the race corpus (fixtures/races/, docs/races.md): each race's
// scenario on the kernel before the fix (before.js) and after it, exhaustive and DPOR.
// Needs a build (`npm run build`).
//   npm run bench explore [-- scenario-substring [dpor-timeout-seconds]]
//   node bench/explore.bench.js [scenario-substring [dpor-timeout-seconds]]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMachine, listFlavors, loadScenario, resolveFlavor } from '../packages/mm-model/dist/index.js';
import { explore } from '../packages/explore/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default async function run(args = []) {
  const filter = args[0] ?? '';
  const dporTimeoutMs = Number(args[1] ?? 60) * 1000;
  const dir = path.join(root, 'fixtures/scenarios');
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f) && f.includes(filter)).sort();
  let totalStates = 0;
  let totalMs = 0;
  for (const f of files) {
    const sc = await loadScenario(path.join(dir, f));
    for (const { name } of listFlavors()) {
      let machine;
      try {
        machine = createMachine(sc, await resolveFlavor(name));
      } catch {
        continue; // the flavor lacks one of the scenario's programs (fault_around before 6.1)
      }
      for (const strategy of ['exhaustive', 'dpor']) {
        const r = await explore(machine, strategy === 'dpor' ? { strategy, timeoutMs: dporTimeoutMs } : { strategy });
        const s = r.stats;
        if (strategy === 'exhaustive') {
          totalStates += s.states;
          totalMs += s.timeMs;
        }
        const what = r.verdict === 'violation' ? r.violations.map((v) => v.rule).join(',') : r.verdict === 'incomplete' ? `incomplete (${r.incomplete.join(',')})` : 'clean';
        console.log(
          `${sc.name.padEnd(38)} ${name.padEnd(26)} ${strategy.padEnd(10)} ${String(s.executions).padStart(7)} ${strategy === 'exhaustive' ? 'ends' : 'exec'} ${String(s.states).padStart(8)} states ${String(s.distinctStates).padStart(7)} distinct ${(s.timeMs / 1000).toFixed(2).padStart(7)} s ${String(s.statesPerSec).padStart(7)} states/s  ${what}`,
        );
      }
    }
  }
  console.log(`exhaustive, all scenarios: ${totalStates} states in ${(totalMs / 1000).toFixed(2)} s = ${Math.round((totalStates * 1000) / Math.max(totalMs, 1))} states/s`);

  const races = path.join(root, 'fixtures/races');
  let raceStates = 0;
  let raceMs = 0;
  for (const d of readdirSync(races).filter((x) => x.includes(filter)).sort()) {
    const sc = await loadScenario(path.join(races, d, 'scenario.yaml'));
    for (const [label, ref] of [['before.js', path.join(races, d, 'before.js')], [sc.flavor, sc.flavor]]) {
      const machine = createMachine(sc, await resolveFlavor(ref));
      for (const strategy of ['exhaustive', 'dpor']) {
        const r = await explore(machine, strategy === 'dpor' ? { strategy, timeoutMs: dporTimeoutMs } : { strategy });
        const s = r.stats;
        if (strategy === 'exhaustive') {
          raceStates += s.states;
          raceMs += s.timeMs;
        }
        const what = r.verdict === 'violation' ? [...new Set(r.violations.map((v) => v.rule))].join(',') : r.verdict === 'incomplete' ? `incomplete (${r.incomplete.join(',')})` : 'clean';
        console.log(
          `${d.padEnd(46)} ${label.padEnd(11)} ${strategy.padEnd(10)} ${String(s.states).padStart(8)} states ${String(s.distinctStates).padStart(7)} distinct ${(s.timeMs / 1000).toFixed(2).padStart(7)} s ${String(s.statesPerSec).padStart(7)} states/s  ${what}`,
        );
      }
    }
  }
  console.log(`exhaustive, race corpus: ${raceStates} states in ${(raceMs / 1000).toFixed(2)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run(process.argv.slice(2));
