// dpor: the agreement packages/explore/test/strategies.test.ts checks on every other shipped
// (scenario, flavor) pair, on the pairs it leaves here because stateless DPOR takes minutes on
// each (packages/explore/test/support/dpor-bench-pairs.json says which and why):
// - DPOR gives the exhaustive search's verdict, `exhaustive` flag and violated rules (in order);
// - 40 seeded random walks (seed 1) never say clean and find no rule the exhaustive search does not;
// - each of the exhaustive search's counterexamples, its schedule (and cycle) replayed, reaches
//   the same violation.
// A pair that disagrees fails the bench (exit 1, via bench/run.js); the rows say each search's
// wall and CPU time. Needs a build (`npm run bench dpor` builds first).
//   npm run bench dpor [-- [file-or-flavor-substring]]
// e.g. `npm run bench dpor -- linux-6.12` runs fault-vs-fault and odirect-vs-fault on linux-6.12.
import { deepStrictEqual } from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { timed } from './explore.bench.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'fixtures/scenarios');
const load = (pkg) => import(pathToFileURL(path.join(root, 'packages', pkg, 'dist/index.js')).href);

const rules = (r) => r.violations.map((v) => v.rule);
const said = (r) => ({ verdict: r.verdict, exhaustive: r.exhaustive, rules: rules(r) });

/** What disagrees on one pair: [] when DPOR, the random walks and the replays agree with the exhaustive search. */
export async function agreement(ex, machine) {
  const exhaustive = await timed(() => ex.explore(machine, { strategy: 'exhaustive' }));
  const dpor = await timed(() => ex.explore(machine, { strategy: 'dpor' }));
  const random = await timed(() => ex.explore(machine, { strategy: 'random', seed: 1, runs: 40 }));
  const wrong = [];
  const check = (what, f) => {
    try {
      f();
    } catch (e) {
      wrong.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  check('dpor against the exhaustive search', () => deepStrictEqual(said(dpor.r), said(exhaustive.r)));
  check('random walks said clean', () => deepStrictEqual(random.r.verdict === 'clean', false));
  check('random walks found rules the exhaustive search did not', () =>
    deepStrictEqual(
      rules(random.r).filter((x) => !rules(exhaustive.r).includes(x)),
      [],
    ),
  );
  for (const v of exhaustive.r.violations) {
    const replay = new ex.ScheduleReplay(v.cycle ? { schedule: v.schedule, cycle: v.cycle } : { schedule: v.schedule });
    const again = await ex.explore(machine, { strategy: replay });
    check(`${v.rule}'s schedule replayed`, () =>
      deepStrictEqual(
        again.violations.find((x) => x.rule === v.rule),
        v,
      ),
    );
  }
  return { exhaustive, dpor, random, wrong };
}

export default async function main(args) {
  const filter = args[0] ?? '';
  const mm = await load('mm-model');
  const ex = await load('explore');
  const { pairs } = JSON.parse(readFileSync(path.join(root, 'packages/explore/test/support/dpor-bench-pairs.json'), 'utf8'));
  const chosen = pairs.filter((p) => `${p.file} ${p.flavor}`.includes(filter));
  if (chosen.length === 0) throw new Error(`no pair matches "${filter}" (have: ${pairs.map((p) => `${p.file} ${p.flavor}`).join(', ')})`);
  const failed = [];
  for (const { file, flavor } of chosen) {
    const sc = await mm.loadScenario(path.join(dir, file));
    const machine = mm.createMachine(sc, await mm.resolveFlavor(/[\\/]/.test(flavor) ? path.resolve(dir, flavor) : flavor));
    const a = await agreement(ex, machine);
    const t = (x) => `${x.wall.toFixed(1)} s wall ${x.cpu.toFixed(1)} CPU-s`;
    console.log(
      `${file} ${flavor}: ${a.wrong.length === 0 ? 'agree' : 'DISAGREE'} (${said(a.exhaustive.r).verdict} ${rules(a.exhaustive.r).join(',')}); ` +
        `exhaustive ${a.exhaustive.r.stats.distinctStates} distinct ${t(a.exhaustive)}; dpor ${a.dpor.r.stats.states} states ${t(a.dpor)}; random ${t(a.random)}`,
    );
    for (const w of a.wrong) console.log(`  ${w}`);
    if (a.wrong.length > 0) failed.push(`${file} ${flavor}`);
  }
  if (failed.length > 0) throw new Error(`DPOR, random walks or a replay disagree with the exhaustive search on ${failed.join('; ')}`);
}
