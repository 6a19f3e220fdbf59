// litmus: tests/s of `kreplay litmus`'s checker on a corpus, the slowest tests, and herd7 on
// the same files beside it when herd7 is installed ($KREPLAY_HERD7, herd7 on PATH, or
// ~/.local/herdtools7/bin/herd7). Times are CPU time of this process (and of herd7's), so a
// busy machine distorts them less than wall time; herd7's per-test figure is its own `Time`
// line (the time inside herd7, without its ~0.1 s process start).
//   npm run bench -- litmus [-- FOLDER [MODEL [TIMEOUT-SECONDS]]]
// Default corpus: the shipped tests (the kernel's litmus-tests folder and the
// paulmckrcu/litmus sample) under linux-6.12.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkLitmus, expandLitmusPaths, loadModel, MODELS_DIR, parseLitmus } from '../packages/lkmm/dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'packages/lkmm/test/fixtures');

function findHerd7() {
  for (const c of [process.env.KREPLAY_HERD7, 'herd7', path.join(homedir(), '.local/herdtools7/bin/herd7')].filter(Boolean)) {
    if (spawnSync(c, ['-version']).status === 0) return c;
  }
  return null;
}

const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

const cpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function threadCount(file) {
  return (readFileSync(file, 'utf8').match(/^\s*(?:void\s+)?P\d+\s*\(/gm) ?? []).length;
}

export default async function run(args = []) {
  // absolute: herd7 runs in the model's folder
  const corpus = args[0] ? [path.resolve(args[0])] : [path.join(fixtures, 'kernel-litmus-tests'), path.join(fixtures, 'paulmckrcu-litmus')];
  const modelName = args[1] ?? 'linux-6.12';
  const timeoutMs = Number(args[2] ?? 60) * 1000;
  const files = expandLitmusPaths(corpus);
  const model = loadModel(modelName);
  console.log(
    `corpus: ${corpus.map((c) => path.relative(root, c) || c).join(', ')} (${files.length} files), model ${modelName}, timeout ${timeoutMs / 1000} s`,
  );

  // Two passes: the first as one `kreplay litmus` run sees it (the JIT warms up as it
  // goes), the second warm, as the later files of a long run are.
  let rows = [];
  for (const pass of ['first pass (cold)', 'second pass (warm)']) {
    rows = [];
    let errors = 0;
    let timeouts = 0;
    const wall0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (const f of files) {
      const c0 = process.cpuUsage();
      try {
        const t = parseLitmus(readFileSync(f, 'utf8'), f);
        const r = checkLitmus(t, model, { timeoutMs });
        rows.push({ f, name: r.name, ms: cpuMs(c0), threads: t.threads.length, execs: r.stats.executions, verdict: r.observation });
      } catch (e) {
        if (e?.name === 'CheckTimeout') timeouts++;
        else errors++;
        rows.push({
          f,
          name: path.basename(f, '.litmus'),
          ms: cpuMs(c0),
          threads: threadCount(f),
          execs: 0,
          verdict: e?.name === 'CheckTimeout' ? 'timeout' : 'error',
        });
      }
    }
    const cpu = cpuMs(cpu0);
    const wall = performance.now() - wall0;
    const checked = rows.filter((r) => r.verdict !== 'error' && r.verdict !== 'timeout');
    const small = rows.filter((r) => r.threads <= 3 && r.verdict !== 'error');
    console.log(
      `kreplay, ${pass}: ${checked.length} tests in ${(cpu / 1000).toFixed(2)} s CPU (${(wall / 1000).toFixed(2)} s wall) = ${((files.length * 1000) / cpu).toFixed(1)} tests/s CPU; ${errors} errors, ${timeouts} timeouts; 2-3-thread tests: ${small.length}, median ${median(small.map((r) => r.ms)).toFixed(1)} ms, max ${Math.max(...small.map((r) => r.ms)).toFixed(1)} ms`,
    );
  }

  const herd7 = findHerd7();
  const herdTime = new Map();
  if (herd7) {
    // one herd7 process for all files: its Time lines give per-test figures
    const h0 = process.cpuUsage();
    const hw0 = performance.now();
    const r = spawnSync(herd7, ['-conf', 'linux-kernel.cfg', '-timeout', String(timeoutMs / 1000), ...files], {
      cwd: path.join(MODELS_DIR, modelName),
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    const hwall = performance.now() - hw0;
    void h0;
    for (const m of r.stdout.matchAll(/^Time (\S+) ([\d.]+)$/gm)) herdTime.set(m[1], Number(m[2]) * 1000);
    const total = [...herdTime.values()].reduce((a, b) => a + b, 0);
    console.log(
      `herd7 (${execFileSync(herd7, ['-version'], { encoding: 'utf8' }).trim()}): ${herdTime.size} tests in ${(total / 1000).toFixed(2)} s inside herd7 (${(hwall / 1000).toFixed(2)} s wall for the process) = ${((herdTime.size * 1000) / Math.max(total, 1)).toFixed(1)} tests/s`,
    );
    const hsmall = rows
      .filter((r) => r.threads <= 3)
      .map((s) => herdTime.get(s.name))
      .filter((x) => x !== undefined);
    console.log(`herd7, 2-3-thread tests: ${hsmall.length}, median ${median(hsmall).toFixed(1)} ms, max ${Math.max(...hsmall).toFixed(1)} ms`);
  } else {
    console.log('herd7: not found (set KREPLAY_HERD7 or put herd7 on PATH to see it beside kreplay)');
  }

  console.log('slowest tests, warm (kreplay CPU ms | herd7 ms | threads | executions | verdict):');
  for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 10)) {
    const h = herdTime.get(r.name);
    console.log(
      `  ${r.ms.toFixed(1).padStart(9)} | ${h === undefined ? '        -' : h.toFixed(1).padStart(9)} | ${String(r.threads).padStart(2)} | ${String(r.execs).padStart(6)} | ${r.verdict.padEnd(9)} ${path.relative(root, r.f)}`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run(process.argv.slice(2));
