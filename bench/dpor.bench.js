// dpor: the agreement packages/explore/test/strategies.test.ts checks on every other shipped
// (scenario, flavor) pair, on the pairs it leaves here because stateless DPOR takes minutes on
// each (packages/explore/test/support/dpor-bench-pairs.json says which and why):
// - DPOR gives the exhaustive search's verdict, `exhaustive` flag and violated rules (in order);
// - 40 seeded random walks (seed 1) never say clean and find no rule the exhaustive search does not;
// - each of the exhaustive search's counterexamples, its schedule (and cycle) replayed, reaches
//   the same violation;
// - DPOR ends in every end state (terminal or deadlocked, by its key) the exhaustive search ends in,
//   and in no other (2026-12-07, session 45).
// With a time limit (seconds, the second argument) a DPOR search the limit stops is held to what a
// stopped search must say: never clean, no rule the exhaustive search does not report, no end state
// it does not reach; the row says how far it got (executions, end states reached).
// A pair that disagrees fails the bench (exit 1, via bench/run.js); the rows say each search's
// wall and CPU time. Needs a build (`npm run bench dpor` builds first).
//   npm run bench dpor [-- [file-or-flavor-substring] [dpor-time-limit-seconds]]
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
export async function agreement(ex, machine, dporTimeoutMs) {
  const ends = { exhaustive: new Set(), dpor: new Set() };
  const onEnd = (set) => (key, kind) => set.add(`${kind} ${key}`);
  const exhaustive = await timed(() => ex.explore(machine, { strategy: 'exhaustive', onEnd: onEnd(ends.exhaustive) }));
  const dpor = await timed(() =>
    ex.explore(machine, { strategy: 'dpor', onEnd: onEnd(ends.dpor), ...(dporTimeoutMs !== undefined ? { timeoutMs: dporTimeoutMs } : {}) }),
  );
  const random = await timed(() => ex.explore(machine, { strategy: 'random', seed: 1, runs: 40 }));
  const wrong = [];
  const check = (what, f) => {
    try {
      f();
    } catch (e) {
      wrong.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const stopped = dpor.r.incomplete.includes('timeout');
  const only = (a, b) => [...a].filter((x) => !b.has(x)).length;
  if (stopped) {
    check('dpor stopped by its time limit said clean', () => deepStrictEqual(dpor.r.verdict === 'clean', false));
    check('dpor found rules the exhaustive search did not', () =>
      deepStrictEqual(
        rules(dpor.r).filter((x) => !rules(exhaustive.r).includes(x)),
        [],
      ),
    );
  } else {
    check('dpor against the exhaustive search', () => deepStrictEqual(said(dpor.r), said(exhaustive.r)));
    check('end states the exhaustive search reaches and dpor does not', () => deepStrictEqual(only(ends.exhaustive, ends.dpor), 0));
  }
  check('end states dpor reaches and the exhaustive search does not', () => deepStrictEqual(only(ends.dpor, ends.exhaustive), 0));
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
  return { exhaustive, dpor, random, wrong, stopped, ends: { exhaustive: ends.exhaustive.size, dpor: ends.dpor.size } };
}

export default async function main(args) {
  const filter = args[0] ?? '';
  const limit = args[1] === undefined ? undefined : Number(args[1]);
  if (limit !== undefined && !(limit > 0)) throw new Error(`the DPOR time limit must be a positive number of seconds, not "${args[1]}"`);
  const mm = await load('mm-model');
  const ex = await load('explore');
  const { pairs } = JSON.parse(readFileSync(path.join(root, 'packages/explore/test/support/dpor-bench-pairs.json'), 'utf8'));
  const chosen = pairs.filter((p) => `${p.file} ${p.flavor}`.includes(filter));
  if (chosen.length === 0) throw new Error(`no pair matches "${filter}" (have: ${pairs.map((p) => `${p.file} ${p.flavor}`).join(', ')})`);
  const failed = [];
  for (const { file, flavor } of chosen) {
    const sc = await mm.loadScenario(path.join(dir, file));
    const machine = mm.createMachine(sc, await mm.resolveFlavor(/[\\/]/.test(flavor) ? path.resolve(dir, flavor) : flavor));
    const a = await agreement(ex, machine, limit === undefined ? undefined : limit * 1000);
    const t = (x) => `${x.wall.toFixed(1)} s wall ${x.cpu.toFixed(1)} CPU-s`;
    console.log(
      `${file} ${flavor}: ${a.wrong.length === 0 ? 'agree' : 'DISAGREE'} (${said(a.exhaustive.r).verdict} ${rules(a.exhaustive.r).join(',')}); ` +
        `exhaustive ${a.exhaustive.r.stats.distinctStates} distinct, ${a.ends.exhaustive} end states ${t(a.exhaustive)}; ` +
        `dpor ${a.stopped ? `STOPPED at ${limit} s (${a.dpor.r.verdict}), ` : ''}${a.dpor.r.stats.executions} executions ${a.dpor.r.stats.states} states, ${a.ends.dpor} end states ${t(a.dpor)}; random ${t(a.random)}`,
    );
    for (const w of a.wrong) console.log(`  ${w}`);
    if (a.wrong.length > 0) failed.push(`${file} ${flavor}`);
  }
  if (failed.length > 0) throw new Error(`DPOR, random walks or a replay disagree with the exhaustive search on ${failed.join('; ')}`);
}
