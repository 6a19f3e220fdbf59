// One exhaustive search of a scenario with a checkout's built explore library, in this process,
// and the CPU seconds it took: small enough to run under a tool that counts (valgrind's cachegrind
// simulates the caches, so its figures do not depend on the machine's load; docs/explore.md, session 40).
//
//   node bench/explore-one.mjs CHECKOUT FLAVOR [SCENARIO]   (SCENARIO: a file in fixtures/scenarios; default odirect-vs-fault-multipage.yaml)
//   valgrind --tool=cachegrind --cache-sim=yes --smc-check=all --cachegrind-out-file=/dev/null node bench/explore-one.mjs . linux-6.1
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir = '.', flavor = 'linux-6.1', scenario = 'odirect-vs-fault-multipage.yaml'] = process.argv.slice(2);
const root = path.resolve(dir);
const ex = await import(pathToFileURL(path.join(root, 'packages/explore/dist/index.js')).href);
const mm = await import(pathToFileURL(path.join(root, 'packages/mm-model/dist/index.js')).href);
const machine = mm.createMachine(await mm.loadScenario(path.join(root, 'fixtures/scenarios', scenario)), await mm.resolveFlavor(flavor));
const before = process.resourceUsage();
const r = await ex.explore(machine, { strategy: 'exhaustive', memoSteps: true });
const after = process.resourceUsage();
const cpu = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6;
console.log(`${root}: ${scenario} ${flavor}: ${r.verdict}, ${r.stats.distinctStates} distinct states, ${cpu.toFixed(2)} CPU-s, memo ${JSON.stringify(r.memo)}`);
