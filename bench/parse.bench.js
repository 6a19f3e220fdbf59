/**
 * `kreplay parse --stats` throughput on a generated 6.x trace (≥ 2 million lines, fixed
 * seed), beside `wc -l` on the same file as the raw-read baseline. Reports wall time,
 * MB/s, events/s and the child's peak RSS, and the same rates over the child's CPU time
 * (the machine is shared: wall time measures the neighbours too). Also measures the
 * parser with every payload decoded (what replay pays), in-process.
 * Targets: ≥ 150 MB/s, ≥ 1.5 M events/s on one core, peak RSS < 200 MB whatever the size;
 * the verdict is given for the whole command and net of the CLI start-up (measured on an
 * empty trace), per CPU second.
 *
 *   npm run bench -- parse         (BENCH_LINES=N to change the size)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateTrace } from './gen-trace.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'packages/cli/bin/run.js');
const probe = path.join(root, 'bench/rss-probe.cjs');
const parserDist = pathToFileURL(path.join(root, 'packages/ftrace-parser/dist/index.js')).href;

/** Run a child with the RSS/CPU probe preloaded; wall seconds, CPU seconds, peak RSS MB. */
export function measured(args, dir) {
  const rssFile = path.join(dir, 'probe.json');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', probe, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, KREPLAY_BENCH_RSS: rssFile },
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const p = JSON.parse(readFileSync(rssFile, 'utf8'));
  return { wall, cpu: p.cpuUs / 1e6, rssMb: p.maxRssKb / 1024, stdout: r.stdout };
}

const FULL_DECODE = `
import { openTraceBatches } from ${JSON.stringify(parserDist)};
let events = 0;
for await (const b of openTraceBatches(process.argv[1])) for (const r of b) if (r.type === 'event') events++;
console.log(events);
`;

const mbs = (bytes, s) => (bytes / 1e6 / s).toFixed(0);
const meps = (n, s) => (n / s / 1e6).toFixed(2);

export default async function run() {
  const lines = Number(process.env.BENCH_LINES ?? 2_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-bench-'));
  try {
    const file = path.join(dir, 'bench.trace');
    const g0 = performance.now();
    await generateTrace(file, lines, 42);
    const size = statSync(file).size;
    console.log(
      `trace: ${lines.toLocaleString('en')} event lines, ${(size / 1e6).toFixed(1)} MB (seed 42, generated in ${((performance.now() - g0) / 1000).toFixed(1)} s)`,
    );

    const w0 = performance.now();
    const wc = spawnSync('wc', ['-l', file]);
    if (wc.status !== 0) throw new Error('wc -l failed');
    const wcSeconds = (performance.now() - w0) / 1000;
    console.log(`wc -l:                    ${wcSeconds.toFixed(2)} s wall  ${mbs(size, wcSeconds)} MB/s  (raw-read baseline)`);

    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(measured([cli, 'parse', file, '--stats', '--json'], dir));
    const best = runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
    const st = JSON.parse(best.stdout);
    if (st.unparseable !== 0) throw new Error(`${st.unparseable} unparseable lines in the generated trace`);
    const rssMb = Math.max(...runs.map((r) => r.rssMb));
    console.log(
      `kreplay parse --stats:    ${best.wall.toFixed(2)} s wall  ${mbs(size, best.wall)} MB/s  ${meps(st.events, best.wall)} M events/s  (best of ${runs.length}, incl. node/oclif start-up)`,
    );
    console.log(
      `                          ${best.cpu.toFixed(2)} s CPU   ${mbs(size, best.cpu)} MB/s  ${meps(st.events, best.cpu)} M events/s  peak RSS ${rssMb.toFixed(0)} MB`,
    );
    console.log(
      `  ${st.events.toLocaleString('en')} events, ${st.gaps} gaps, ${st.lines.toLocaleString('en')} lines; wall ${(best.wall / wcSeconds).toFixed(1)}x wc -l`,
    );
    console.log(
      `  the command's own clock (parsing only, no start-up): ${st.rate.seconds.toFixed(2)} s  ${st.rate.mbPerSec} MB/s  ${(st.rate.eventsPerSec / 1e6).toFixed(2)} M events/s`,
    );
    const emptyFile = path.join(dir, 'empty.trace');
    writeFileSync(emptyFile, '');
    const startup = Math.min(...[0, 1, 2].map(() => measured([cli, 'parse', emptyFile, '--stats', '--json'], dir).cpu));
    const net = best.cpu - startup;
    console.log(
      `  CLI start-up alone (empty trace): ${startup.toFixed(2)} s CPU; net of it: ${mbs(size, net)} MB/s  ${meps(st.events, net)} M events/s per CPU second`,
    );

    const full = measured(['--input-type=module', '-e', FULL_DECODE, file], dir);
    console.log(
      `parser, every field decoded (in-process): ${full.wall.toFixed(2)} s wall, ${full.cpu.toFixed(2)} s CPU = ${mbs(size, full.cpu)} MB/s  ${meps(st.events, full.cpu)} M events/s  peak RSS ${full.rssMb.toFixed(0)} MB`,
    );

    const verdict = (ok) => (ok ? 'met' : 'MISSED');
    const targets = (cpu) => `≥150 MB/s ${verdict(size / 1e6 / cpu >= 150)}, ≥1.5 M events/s ${verdict(st.events / cpu >= 1.5e6)}`;
    console.log(
      `targets per CPU second on one core: whole command ${targets(best.cpu)}; parsing (net of start-up) ${targets(net)}; peak RSS <200 MB ${verdict(rssMb < 200)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
