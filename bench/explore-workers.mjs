#!/usr/bin/env node
// The parallel exhaustive search (`explore --workers N`) of one scenario and flavor, before and
// after: each checkout's build (DIR/packages/*/dist) searched in a process of its own, the
// checkouts alternating round by round, and per checkout the least wall and CPU time of the
// rounds (a shared machine's clock only ever adds). CPU is split by thread from /proc (Linux):
// the coordinator's thread (worker 0 too), the worker threads, and V8's helper threads (GC).
// The steps the search took and how many of them it ran rather than reused (the step memos' misses).
//   node bench/explore-workers.mjs [--rounds R] [--workers N] [--scenario FILE] [--flavor NAME] [--max-states M]
//                                  [--handover H] [--workers-from S] DIR...
// (defaults: 3 rounds, 2 workers, odirect-vs-fault-multipage.yaml, linux-6.1, this checkout; the
// handover and the threads' start where explore.ts puts them: SINGLE_CORE_STATES, WORKERS_START_STATES).
// --handover H / --workers-from S: exploreOnCores' handoverStates / workersFromStates, to measure
// other choices of the two (each checkout's build must accept them).
// --max-states M with M the states known at the handover (the first level boundary past
// explore.ts SINGLE_CORE_STATES; 432 711 on multipage/linux-6.1) stops the search at the first
// level boundary after it: the one-thread part, the handover and one level on the workers.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(import.meta.url);

/** One search in this process (the child): prints its figures as one JSON line. */
async function child([dir, scenario, flavor, workers, maxStates, handover, workersFrom]) {
  const mm = await import(pathToFileURL(path.join(dir, 'packages/mm-model/dist/index.js')).href);
  const ex = await import(pathToFileURL(path.join(dir, 'packages/explore/dist/index.js')).href);
  const file = path.join(dir, 'fixtures/scenarios', scenario);
  const machine = mm.createMachine(await mm.loadScenario(file), await mm.resolveFlavor(flavor));
  const source = { module: path.join(dir, 'packages/cli/dist/explore-machine.js'), name: 'exploreMachine', args: { scenario: file, flavor } };
  // per thread: CPU seconds, sampled while the threads live (a worker thread's entry goes when it ends)
  const threads = new Map();
  const sample = () => {
    for (const t of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        threads.set(t, (Number(f[11]) + Number(f[12])) / 100);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  };
  const timer = setInterval(sample, 100);
  const started = new Set(readdirSync('/proc/self/task'));
  const usage = process.resourceUsage();
  const t0 = performance.now();
  // memoSteps is the default; named, the result reports the step memos' counts (summed over the workers)
  const opts = { strategy: 'exhaustive', memoSteps: true };
  if (maxStates) opts.maxStates = Number(maxStates);
  if (handover) opts.handoverStates = Number(handover);
  if (workersFrom) opts.workersFromStates = Number(workersFrom);
  const r = await ex.exploreOnCores(machine, source, Number(workers), opts);
  const wall = (performance.now() - t0) / 1000;
  sample();
  clearInterval(timer);
  const u = process.resourceUsage();
  const cpu = (u.userCPUTime + u.systemCPUTime - usage.userCPUTime - usage.systemCPUTime) / 1e6;
  const main = threads.get(String(process.pid)) ?? 0;
  const workerThreads = [...threads].filter(([t, c]) => !started.has(t) && c > 0.05).map(([, c]) => c);
  const helpers = [...threads].filter(([t]) => started.has(t) && t !== String(process.pid)).reduce((a, [, c]) => a + c, 0);
  console.log(JSON.stringify({ verdict: r.verdict, distinct: r.stats.distinctStates, wall, cpu, main, workers: workerThreads, helpers, memo: r.memo }));
}

/**
 * The steps run rather than reused (the step memo's misses): each worker keeps a memo of its own
 * (worker.ts), so a step two workers both meet runs on each; the one-thread search runs it once.
 */
function memoLine(memo) {
  return memo ? `, steps ${memo.steps}, run ${memo.steps - memo.hits}${memo.full ? ' (memo full)' : ''}` : '';
}

async function main(args) {
  const o = { rounds: 3, workers: 2, scenario: 'odirect-vs-fault-multipage.yaml', flavor: 'linux-6.1', maxStates: '', handover: '', workersFrom: '', dirs: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--rounds') o.rounds = Number(args[++i]);
    else if (a === '--workers') o.workers = Number(args[++i]);
    else if (a === '--scenario') o.scenario = args[++i];
    else if (a === '--flavor') o.flavor = args[++i];
    else if (a === '--max-states') o.maxStates = args[++i];
    else if (a === '--handover') o.handover = args[++i];
    else if (a === '--workers-from') o.workersFrom = args[++i];
    else o.dirs.push(path.resolve(a));
  }
  if (o.dirs.length === 0) o.dirs.push(path.resolve(path.dirname(here), '..'));
  const best = new Map();
  for (let round = 1; round <= o.rounds; round++) {
    for (const dir of o.dirs) {
      // the 1-minute load average before the round: wall times mean something only on an idle machine
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      const out = execFileSync(process.execPath, [here, '--child', dir, o.scenario, o.flavor, String(o.workers), o.maxStates, o.handover, o.workersFrom], {
        encoding: 'utf8',
      });
      const r = JSON.parse(out.trim().split('\n').pop());
      console.log(
        `round ${round} (load ${load}) ${dir}: ${r.verdict} ${r.distinct} distinct, wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s (main thread ${r.main.toFixed(2)}, workers ${r.workers.map((c) => c.toFixed(2)).join(' ')}, other threads ${r.helpers.toFixed(2)})${memoLine(r.memo)}`,
      );
      const b = best.get(dir) ?? { wall: Infinity, cpu: Infinity };
      best.set(dir, { wall: Math.min(b.wall, r.wall), cpu: Math.min(b.cpu, r.cpu) });
    }
  }
  for (const [dir, b] of best) console.log(`least of ${o.rounds}: ${dir}: wall ${b.wall.toFixed(2)} s, CPU ${b.cpu.toFixed(2)} s`);
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await main(process.argv.slice(2));
