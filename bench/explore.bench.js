// explore: the exhaustive state-graph search on every shipped scenario × built-in flavor that
// has its programs — on one core, on worker threads (--workers), and, with --base DIR, the
// same searches of another checkout's build (DIR/packages/*/dist: "before", its model and its
// search, on one core and on its --workers) in the same run —
// beside SPIN's compiled verifier (pan) on a Promela model of the same race
// (bench/promela/odirect-vs-fault.pml: odirect-vs-fault, and with NPAGES=2 NFAULTS=2 the
// multipage scenario's shape; spin and gcc needed, else those rows say so).
//
// Figures per run: verdict, distinct states, steps ("states" in kreplay's stats: every step
// taken, repeats included), wall time, distinct states/s and steps/s on the wall clock, and
// CPU seconds (user+sys of the whole process, workers included: the clock of a shared machine
// lies). pan prints its own stored states, transitions and rate (-A: assertions off, so it
// explores everything, as kreplay's search does). Then the race corpus (fixtures/races/,
// docs/races.md): each race's scenario on the kernel before the fix (before.js) and after it,
// one core. Needs a build (`npm run build`).
// bench/scenarios (size): scenarios whose steps touch a large range, run on one core.
//   npm run bench explore [-- [scenario-substring] [--flavor NAME] [--workers N] [--base DIR] [--dpor SECONDS]]
// (--flavor NAME: only that built-in flavor, in the shipped scenarios' rows)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(args) {
  const o = { filter: '', flavor: '', workers: 2, base: undefined, dpor: 0 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--workers') o.workers = Number(args[++i]);
    else if (a === '--base') o.base = path.resolve(args[++i]);
    else if (a === '--dpor') o.dpor = Number(args[++i]);
    else if (a === '--flavor') o.flavor = args[++i];
    else o.filter = a;
  }
  return o;
}

/** CPU of the whole process (worker threads included). */
export const procCpu = () => {
  const r = process.resourceUsage();
  return (r.userCPUTime + r.systemCPUTime) / 1e6;
};

/** `fn`'s result, its wall and CPU seconds. */
export async function timed(fn) {
  const c0 = procCpu();
  const t0 = performance.now();
  const r = await fn();
  return { r, wall: (performance.now() - t0) / 1000, cpu: procCpu() - c0 };
}

function row(label, r, wall, cpu) {
  const s = r.stats;
  const what =
    r.verdict === 'violation' ? r.violations.map((v) => v.rule).join(',') : r.verdict === 'incomplete' ? `incomplete (${r.incomplete.join(',')})` : 'clean';
  return `  ${label.padEnd(19)} ${String(s.distinctStates).padStart(8)} distinct ${String(s.states).padStart(9)} steps ${wall.toFixed(2).padStart(7)} s ${String(Math.round(s.distinctStates / wall)).padStart(8)} distinct/s ${String(Math.round(s.states / wall)).padStart(8)} steps/s  cpu ${cpu.toFixed(2).padStart(6)} s ${String(Math.round(s.distinctStates / cpu)).padStart(8)} distinct/cpu-s  ${what}`;
}

/** spin -a, gcc, ./pan -A on the Promela model; returns pan's figures, or why it could not run. */
function pan(defines) {
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-pan-'));
  try {
    copyFileSync(path.join(root, 'bench/promela/odirect-vs-fault.pml'), path.join(dir, 'm.pml'));
    const t0 = performance.now();
    execFileSync('spin', ['-a', ...defines.map((d) => `-D${d}`), 'm.pml'], { cwd: dir, stdio: 'pipe' });
    execFileSync('gcc', ['-O2', '-w', '-DSAFETY', '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
    const t1 = performance.now();
    const out = execFileSync('./pan', ['-A'], { cwd: dir, encoding: 'utf8' });
    const t2 = performance.now();
    const num = (re) => Number((re.exec(out) ?? [])[1] ?? NaN);
    return {
      stored: num(/(\d+) states, stored/),
      matched: num(/(\d+) states, matched/),
      transitions: num(/(\d+) transitions/),
      elapsed: num(/elapsed time ([\d.e+-]+) seconds/),
      rate: num(/rate\s+([\d.]+) states\/second/),
      build: (t1 - t0) / 1000,
      run: (t2 - t1) / 1000,
    };
  } catch (e) {
    return { error: e.code === 'ENOENT' ? 'spin or gcc not installed (apt-get install spin gcc)' : String(e.message).split('\n')[0] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function panRow(defines) {
  const p = pan(defines);
  if (p.error) return `  ${'SPIN pan'.padEnd(19)} ${p.error}`;
  // pan prints no rate, and an elapsed time of 0, for a search too short for its clock
  const rate = p.rate || (p.elapsed > 0 ? p.stored / p.elapsed : undefined);
  const rateSaid =
    rate === undefined
      ? `${'-'.padStart(8)} stored/s (pan's clock read 0 s: too short to time`
      : `${String(Math.round(rate)).padStart(8)} stored/s (pan's clock`;
  return `  ${'SPIN pan -A'.padEnd(19)} ${String(p.stored).padStart(8)} stored   ${String(p.transitions).padStart(9)} trans ${p.run.toFixed(2).padStart(7)} s ${rateSaid}; spin -a + gcc ${p.build.toFixed(2)} s) [${defines.join(' ') || 'NPAGES=1'}]`;
}

/** A size row: the search's figures, or what stopped it (a search past its tables ends in an EnvironmentError) with the CPU spent until then. */
async function sizedRow(label, search) {
  const c0 = procCpu();
  try {
    const r = await timed(search);
    return row(label, r.r, r.wall, r.cpu);
  } catch (e) {
    return `  ${label.padEnd(19)} stopped: ${e instanceof Error ? e.message : String(e)} (cpu ${(procCpu() - c0).toFixed(2)} s)`;
  }
}

export default async function run(args = []) {
  const o = parseArgs(args);
  const mm = await import(pathToFileURL(path.join(root, 'packages/mm-model/dist/index.js')).href);
  const ex = await import(pathToFileURL(path.join(root, 'packages/explore/dist/index.js')).href);
  const before = o.base ? await import(pathToFileURL(path.join(o.base, 'packages/explore/dist/index.js')).href) : undefined;
  // "before" runs the other checkout's model too (its state, key and steps), not only its search
  const beforeMm = o.base ? await import(pathToFileURL(path.join(o.base, 'packages/mm-model/dist/index.js')).href) : undefined;
  const source = (file, flavor, from = root) => ({
    module: path.join(from, 'packages/cli/dist/explore-machine.js'),
    name: 'exploreMachine',
    args: { scenario: file, flavor },
  });
  const dir = path.join(root, 'fixtures/scenarios');
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && f.includes(o.filter))
    .sort();
  console.log(
    `explore: one core vs --workers ${o.workers}${o.base ? ` vs ${o.base} (before)` : ''}; load ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const totals = { one: { states: 0, distinct: 0, wall: 0, cpu: 0 }, par: { wall: 0, cpu: 0 }, before: { cpu: 0, parWall: 0, parCpu: 0 } };
  for (const f of files) {
    const sc = await mm.loadScenario(path.join(dir, f));
    for (const { name } of mm.listFlavors().filter((x) => !o.flavor || x.name === o.flavor)) {
      let machine;
      try {
        machine = mm.createMachine(sc, await mm.resolveFlavor(name));
      } catch {
        continue; // the flavor lacks one of the scenario's programs (fault_around before 6.1)
      }
      console.log(`${sc.name} on ${name}`);
      // before's searches on a machine of its own model each (a search leaves its machine's encoder tables filled)
      const oldMachine = async () => beforeMm.createMachine(await beforeMm.loadScenario(path.join(dir, f)), await beforeMm.resolveFlavor(name));
      if (before) {
        const old = await oldMachine();
        const b = await timed(() => before.explore(old, { strategy: 'exhaustive' }));
        console.log(row('before, 1 core', b.r, b.wall, b.cpu));
        totals.before.cpu += b.cpu;
      }
      const one = await timed(() => ex.explore(machine, { strategy: 'exhaustive' }));
      console.log(row('1 core', one.r, one.wall, one.cpu));
      totals.one.states += one.r.stats.states;
      totals.one.distinct += one.r.stats.distinctStates;
      totals.one.wall += one.wall;
      totals.one.cpu += one.cpu;
      if (before) {
        const old = await oldMachine();
        const b = await timed(() => before.exploreOnCores(old, source(path.join(dir, f), name, o.base), o.workers, { strategy: 'exhaustive' }));
        console.log(row(`before, --workers ${o.workers}`, b.r, b.wall, b.cpu));
        totals.before.parWall += b.wall;
        totals.before.parCpu += b.cpu;
      }
      // on a machine of its own too, as before's, and as the CLI's search starts (the one-core search's filled the encoder's tables)
      const fresh = mm.createMachine(sc, await mm.resolveFlavor(name));
      const par = await timed(() => ex.exploreOnCores(fresh, source(path.join(dir, f), name), o.workers, { strategy: 'exhaustive' }));
      console.log(row(`--workers ${o.workers}`, par.r, par.wall, par.cpu));
      totals.par.wall += par.wall;
      totals.par.cpu += par.cpu;
      if (o.dpor > 0) {
        const d = await timed(() => ex.explore(machine, { strategy: 'dpor', timeoutMs: o.dpor * 1000 }));
        console.log(row('dpor', d.r, d.wall, d.cpu));
      }
      if (name === 'linux-2.6.15' && (f === 'odirect-vs-fault.yaml' || f === 'odirect-vs-fault-multipage.yaml')) {
        console.log(panRow(f === 'odirect-vs-fault.yaml' ? [] : ['NPAGES=2', 'NFAULTS=2']));
      }
    }
  }
  // (no shipped scenario matched the filter: no totals)
  if (totals.one.states > 0)
    console.log(
      `one core, all: ${totals.one.states} steps in ${totals.one.wall.toFixed(2)} s wall (${Math.round(totals.one.states / totals.one.wall)} steps/s), ${totals.one.cpu.toFixed(2)} s CPU (${Math.round(totals.one.states / totals.one.cpu)} steps, ${Math.round(totals.one.distinct / totals.one.cpu)} distinct states per CPU second)${o.base ? `; before: ${totals.before.cpu.toFixed(2)} s CPU` : ''}; --workers ${o.workers}, all: ${totals.par.wall.toFixed(2)} s wall, ${totals.par.cpu.toFixed(2)} s CPU${o.base ? `; before: ${totals.before.parWall.toFixed(2)} s wall, ${totals.before.parCpu.toFixed(2)} s CPU` : ''}; load ${(
        await import('node:os')
      )
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );

  // size: what a step costs when a range is large (bench/scenarios: not shipped, not in the goldens)
  const sized = path.join(root, 'bench/scenarios');
  for (const f of readdirSync(sized)
    .filter((x) => x.endsWith('.yaml') && x.includes(o.filter))
    .sort()) {
    const sc = await mm.loadScenario(path.join(sized, f));
    for (const name of ['linux-2.6.15', 'linux-6.1']) {
      const machine = mm.createMachine(sc, await mm.resolveFlavor(name));
      console.log(`size ${sc.name} on ${name}`);
      if (before) {
        const old = beforeMm.createMachine(await beforeMm.loadScenario(path.join(sized, f)), await beforeMm.resolveFlavor(name));
        console.log(await sizedRow('before, 1 core', () => before.explore(old, { strategy: 'exhaustive' })));
      }
      console.log(await sizedRow('1 core', () => ex.explore(machine, { strategy: 'exhaustive' })));
    }
  }

  const races = path.join(root, 'fixtures/races');
  for (const d of readdirSync(races)
    .filter((x) => x.includes(o.filter))
    .sort()) {
    const sc = await mm.loadScenario(path.join(races, d, 'scenario.yaml'));
    for (const [label, ref] of [
      ['before.js', path.join(races, d, 'before.js')],
      [sc.flavor, sc.flavor],
    ]) {
      const machine = mm.createMachine(sc, await mm.resolveFlavor(ref));
      console.log(`race ${d} on ${label}`);
      const one = await timed(() => ex.explore(machine, { strategy: 'exhaustive' }));
      console.log(row('1 core', one.r, one.wall, one.cpu));
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run(process.argv.slice(2));
