/**
 * `kreplay triage --no-model --json` throughput on a long console log: 600,000 lines of
 * boot/runtime noise with printk caller ids (seeded, fixed), with the 17 syzkaller fixture
 * reports of fixtures/reports/ spliced in every 20,000 lines — the shape of a serial log
 * from a long fuzzing or test run. Beside `wc -l` (raw read) and `grep -c` for the header
 * words (what a person would run first). syzkaller's own report parser (Go) is the
 * reference tool for this job but cannot be run here (no Go toolchain); its titles are
 * compared in the corpus test instead. Reports wall and CPU time, MB/s, lines/s, peak RSS,
 * and the rate net of the CLI start-up (measured on a one-splat report).
 *
 *   npm run bench -- triage         (BENCH_LINES=N to change the size)
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measured } from './parse.bench.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'packages/cli/bin/run.js');
const reports = path.join(root, 'fixtures/reports');

const NOISE = [
  'eth0: link up, 1000Mbps, full-duplex',
  'EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.',
  'audit: type=1400 audit(1700000000.123:42): apparmor="DENIED" operation="open" profile="snap"',
  'usb 1-1: new high-speed USB device number 2 using xhci_hcd',
  'systemd[1]: Started Session 3 of user root.',
  'TCP: request_sock_TCP: Possible SYN flooding on port 22. Sending cookies.',
];

async function writeLog(file, lines) {
  const splats = readdirSync(reports)
    .filter((d) => d.startsWith('syzkaller-') && existsSync(path.join(reports, d, 'report.txt')))
    .sort()
    .map((d) => readFileSync(path.join(reports, d, 'report.txt'), 'utf8'));
  const out = createWriteStream(file);
  let seed = 20261125;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  let t = 0;
  let spliced = 0;
  for (let i = 0; i < lines; i++) {
    t += rnd() / 100;
    let s = `[${t.toFixed(6).padStart(12)}][ T${100 + Math.floor(rnd() * 900)}] ${NOISE[Math.floor(rnd() * NOISE.length)]} ${i}\n`;
    if (i % 20_000 === 10_000) s += splats[spliced++ % splats.length];
    if (!out.write(s)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  return spliced;
}

const mbs = (bytes, s) => (bytes / 1e6 / s).toFixed(1);

export default async function run() {
  const lines = Number(process.env.BENCH_LINES ?? 600_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-bench-triage-'));
  try {
    const file = path.join(dir, 'console.log');
    const spliced = await writeLog(file, lines);
    const size = statSync(file).size;
    console.log(`log: ${lines.toLocaleString('en')} noise lines + ${spliced} real reports, ${(size / 1e6).toFixed(1)} MB (seed 20261125)`);
    for (const [name, cmd, args] of [
      ['wc -l', 'wc', ['-l', file]],
      ['grep -c headers', 'grep', ['-cE', 'BUG|WARNING|INFO: task', file]],
    ]) {
      const t0 = performance.now();
      const r = spawnSync(cmd, args);
      if (r.status !== 0) throw new Error(`${name} failed`);
      const s = (performance.now() - t0) / 1000;
      console.log(`${name.padEnd(26)}${s.toFixed(2)} s wall  ${mbs(size, s)} MB/s`);
    }
    const runs = [0, 1, 2].map(() => measured([cli, 'triage', file, '--no-model', '--json'], dir));
    const best = runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
    const t = JSON.parse(best.stdout);
    const rss = Math.max(...runs.map((r) => r.rssMb));
    console.log(`kreplay triage --no-model: ${best.wall.toFixed(2)} s wall  ${mbs(size, best.wall)} MB/s  (best of ${runs.length}, incl. node/oclif start-up)`);
    console.log(
      `                           ${best.cpu.toFixed(2)} s CPU   ${mbs(size, best.cpu)} MB/s  ${(t.lines / best.cpu / 1e3).toFixed(0)} k lines/s  peak RSS ${rss.toFixed(0)} MB`,
    );
    console.log(
      `  ${t.lines.toLocaleString('en')} lines, ${t.splats.length} splats (${t.splats.filter((s) => s.duplicateOf !== null).length} repeats), ${t.logStacks.length} loose stacks`,
    );
    const one = path.join(reports, 'syzkaller-linux-report-577', 'report.txt');
    const startup = Math.min(...[0, 1, 2].map(() => measured([cli, 'triage', one, '--no-model', '--json'], dir).cpu));
    console.log(`  CLI start-up (a one-splat report): ${startup.toFixed(2)} s CPU; net of it: ${mbs(size, best.cpu - startup)} MB/s per CPU second`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
