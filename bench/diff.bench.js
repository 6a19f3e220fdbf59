/**
 * `kreplay diff` and `kreplay report --perfetto` end to end on two large generated 6.1
 * traces (the replay bench's generator, two seeds: the same workload captured twice).
 * Both are consistent, so the diff must come out with no findings on either side: the
 * figures measure replaying both sides, comparing them, and writing the reports.
 *
 * Reports wall time, events/s over both sides, and peak RSS of each command, and the
 * Perfetto JSON size. Target: diff at the replay's rate (≥ 1 M events/s over both sides)
 * with memory bounded by the live page cache, not by trace length.
 *
 *   npm run bench diff        (BENCH_DIFF_EVENTS=N per side, default 1,000,000)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './replay.bench.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'packages/cli/bin/run.js');
const probe = path.join(root, 'bench/rss-probe.cjs');

function run(args) {
  const rssFile = path.join(tmpdir(), `kreplay-diff-rss-${process.pid}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', probe, cli, ...args], {
    env: { ...process.env, KREPLAY_BENCH_RSS: rssFile, CI: 'true' },
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const ms = performance.now() - t0;
  // The probe writes {maxRssKb, cpuUs} (user + system time of the child).
  const usage = JSON.parse(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile, { force: true });
  return { ms, cpuMs: usage.cpuUs / 1000, rssMiB: usage.maxRssKb / 1024, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export default async function bench() {
  const events = Number(process.env.BENCH_DIFF_EVENTS ?? 1_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-bench-'));
  try {
    const sides = ['base', 'patched'].map((s, i) => {
      mkdirSync(path.join(dir, s));
      const trace = path.join(dir, s, 'trace.txt');
      return { trace, n: generate(trace, events, 61 + i) };
    });
    const total = sides[0].n + sides[1].n;
    console.log(`generated 2 × ${events} events (${(sides.reduce((a, s) => a + statSync(s.trace).size, 0) / 1e6).toFixed(0)} MB of 6.1 text)`);

    const d = run(['diff', path.dirname(sides[0].trace), path.dirname(sides[1].trace), '--format', 'json']);
    if (d.status !== 0) throw new Error(`kreplay diff exited ${d.status}: ${d.stderr.slice(-2000)}`);
    const result = JSON.parse(d.stdout);
    const f = result.findings;
    if (f.new.length + f.fixed.length + f.unchanged.length !== 0) throw new Error('consistent traces diffed to findings');
    const faults = result.behaviour.find((b) => b.name === 'faults');
    console.log(
      `kreplay diff (CLI, both sides replayed): ${(d.ms / 1000).toFixed(2)} s wall, ${(d.cpuMs / 1000).toFixed(2)} s CPU, ${(total / (d.ms / 1000) / 1e6).toFixed(2)} M events/s wall (${(total / (d.cpuMs / 1000) / 1e6).toFixed(2)} per CPU-second), peak RSS ${d.rssMiB.toFixed(0)} MiB; faults ${faults.base.count} vs ${faults.patched.count}`,
    );

    const html = path.join(dir, 'report.html');
    const perfetto = path.join(dir, 'trace.json');
    const r = run(['report', '--base', path.dirname(sides[0].trace), '--patched', path.dirname(sides[1].trace), '--html', html, '--perfetto', perfetto]);
    if (r.status !== 0) throw new Error(`kreplay report exited ${r.status}: ${r.stderr.slice(-2000)}`);
    const pmb = ['base-1', 'patched-1'].reduce((n, s) => n + statSync(perfetto.replace(/\.json$/, `-${s}.json`)).size, 0) / 1e6;
    console.log(
      `kreplay report --html --perfetto (both sides): ${(r.ms / 1000).toFixed(2)} s wall, ${(r.cpuMs / 1000).toFixed(2)} s CPU, ${(total / (r.ms / 1000) / 1e6).toFixed(2)} M events/s wall, peak RSS ${r.rssMiB.toFixed(0)} MiB; HTML ${(statSync(html).size / 1e3).toFixed(0)} kB, Perfetto ${pmb.toFixed(0)} MB`,
    );
    console.log(
      `target ≥ 1.00 M events/s for diff (wall; on a busy machine compare the per-CPU-second figure): ${total / (d.ms / 1000) >= 1e6 ? 'met' : 'NOT met'}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
