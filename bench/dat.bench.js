/**
 * trace.dat reading speed beside `trace-cmd report`, on the same large file, in one run.
 *
 * The file is made from fixtures/dat/mixed-v6.dat (recorded on a real kernel): its
 * ring-buffer pages are repeated, each copy's page timestamp moved past the previous one,
 * until the file holds BENCH_DAT_EVENTS events (default 1 million, ~140 MB); `trace-cmd convert`
 * (when installed) makes the same data v7 zstd. For each file it reports wall time,
 * events/s and peak RSS of:
 *   - trace-cmd report        (its default output, print fmt evaluated)  > /dev/null
 *   - trace-cmd report -R -t  (raw fields, ns timestamps)                > /dev/null
 *   - kreplay parse FILE --stats --json   (every record decoded, statistics out)
 *   - kreplay parse FILE --pretty         (the trace-cmd report -R -t lines)  > /dev/null
 *   - trace-cmd report -N -t  (print fmts evaluated, no plugins, ns timestamps) > /dev/null
 *   - kreplay parse FILE --render         (the trace-cmd report -N -t lines)  > /dev/null
 * and the ratio of trace-cmd's time to kreplay's (> 1: kreplay is faster), in wall time and in
 * CPU time (user + sys: steadier than wall time on a shared machine; the load average is
 * printed with the figures); then the same on two small real files, where start-up
 * dominates. Each figure is the least of BENCH_DAT_RUNS runs (default 3), the commands on a
 * large file run in rounds (each once per round) so that a changing load falls on all alike.
 * `--base DIR` (or BENCH_BASELINE=DIR) measures another built checkout's CLI — e.g. main
 * before a change — beside this one, for before/after figures in one run.
 *
 *   npm run bench -- dat [--base DIR]        (BENCH_DAT_EVENTS=N to change the size)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'packages/cli/bin/run.js');
const seed = path.join(root, 'fixtures/dat/mixed-v6.dat');
const PAGE = 4096;

/** The flyrecord table of a little-endian v6 file: [{offset, size}] per CPU, and where it is. */
function flyrecordTable(buf) {
  const at = buf.indexOf('flyrecord\0', 0, 'latin1') + 10;
  const cpus = [];
  for (let p = at; ; p += 16) {
    const offset = Number(buf.readBigUInt64LE(p));
    const size = Number(buf.readBigUInt64LE(p + 8));
    if (offset % PAGE !== 0 || (size === 0 && offset !== 0) || size % PAGE !== 0) break;
    cpus.push({ offset, size });
    if (cpus.length === 2) break; // the seed was recorded on a 2-CPU machine
  }
  return { at, cpus };
}

/** Events on one page (data events only), to size the file. */
function countEvents(page) {
  const size = page.readUInt32LE(8) & ((1 << 27) - 1);
  let n = 0;
  for (let p = 16; p < 16 + size;) {
    const h = page.readUInt32LE(p);
    const type = h & 31;
    if (type === 0) {
      n++;
      p += 4 + page.readUInt32LE(p + 4);
    } else if (type <= 28) {
      n++;
      p += 4 + type * 4;
    } else if (type === 29) {
      if (p + 8 > 16 + size) break;
      p += 4 + page.readUInt32LE(p + 4);
    } else p += 8;
  }
  return n;
}

/** Repeat the seed's pages until `events` events; returns the event count written. */
export function makeBigDat(out, events) {
  const src = readFileSync(seed);
  const { at, cpus } = flyrecordTable(src);
  const pages = cpus.map(({ offset, size }) => {
    const list = [];
    for (let p = offset; p < offset + size; p += PAGE) list.push(src.subarray(p, p + PAGE));
    return list;
  });
  const perRound = pages.flat().reduce((n, pg) => n + countEvents(pg), 0);
  const rounds = Math.ceil(events / perRound);
  const stamps = pages.flat().map((pg) => pg.readBigUInt64LE(0));
  const first = stamps.reduce((a, b) => (b < a ? b : a));
  const last = stamps.reduce((a, b) => (b > a ? b : a));
  const step = last - first + 10_000_000n; // each round starts 10 ms after the previous one's last page
  const head = Buffer.from(src.subarray(0, cpus[0].offset));
  let offset = cpus[0].offset;
  pages.forEach((list, cpu) => {
    const size = list.length * PAGE * rounds;
    head.writeBigUInt64LE(BigInt(offset), at + cpu * 16);
    head.writeBigUInt64LE(BigInt(size), at + cpu * 16 + 8);
    offset += size;
  });
  const fd = openSync(out, 'w');
  writeSync(fd, head);
  for (const list of pages) {
    for (let r = 0; r < rounds; r++) {
      const chunk = Buffer.concat(
        list.map((pg) => {
          const copy = Buffer.from(pg);
          copy.writeBigUInt64LE(pg.readBigUInt64LE(0) + step * BigInt(r), 0);
          return copy;
        }),
      );
      writeSync(fd, chunk);
    }
  }
  closeSync(fd);
  return perRound * rounds;
}

/** Wall time, CPU time (user + sys) and peak RSS (KiB) of a command, its stdout to /dev/null or returned. */
function measure(cmd, args, { keepStdout = false, env = {} } = {}) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, ...env },
    stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [rssKb, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds, cpu: user + sys, rssKb, stdout: r.stdout };
}

function have(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** The best of the runs: the least wall time and the least CPU time (each its own minimum; the machine may be shared). */
function best(runs) {
  return {
    seconds: Math.min(...runs.map((r) => r.seconds)),
    cpu: Math.min(...runs.map((r) => r.cpu)),
    rssKb: Math.max(...runs.map((r) => r.rssKb)),
    stdout: runs[0].stdout,
  };
}

const RUNS = Number(process.env.BENCH_DAT_RUNS ?? 3);
const repeat = (fn) => best(Array.from({ length: RUNS }, fn));

function row(label, r, events) {
  // a small file's rate says nothing (start-up is the time; trace-cmd's CPU time rounds to 0)
  const rate = events > 1 ? `  ${(events / r.cpu / 1e6).toFixed(2)} M events/s of CPU` : '';
  console.log(
    `${label.padEnd(40)} ${r.seconds.toFixed(2).padStart(6)} s wall  ${r.cpu.toFixed(2).padStart(6)} s CPU${rate}  peak RSS ${(r.rssKb / 1024).toFixed(0)} MB`,
  );
}

/** Another checkout to measure beside this one (--base DIR or BENCH_BASELINE=DIR, built), e.g. main before a change. */
let baseline;

function options(args) {
  let base = process.env.BENCH_BASELINE;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--base') base = args[++i];
    else throw new Error(`dat bench: unknown argument ${args[i]} (it takes --base DIR)`);
  }
  if (base === undefined) return;
  baseline = path.join(path.resolve(base), 'packages/cli/bin/run.js');
  if (spawnSync(process.execPath, [baseline, '--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`--base ${base}: no built kreplay CLI at ${baseline} (run npm ci && npm run build there)`);
  }
}

/** Small real files: what start-up costs against trace-cmd's (a C program that starts in milliseconds). */
function startup(tc) {
  const small = [path.join(root, 'fixtures/dat/mixed-v6.dat'), path.join(root, 'fixtures/dat/qemu-6.1/trace.dat')];
  console.log('\nsmall real files (start-up dominates):');
  for (const file of small) {
    row(
      `kreplay parse --pretty ${path.basename(path.dirname(file))}/${path.basename(file)}`,
      repeat(() => measure(process.execPath, [cli, 'parse', file, '--pretty'])),
      1,
    );
    if (baseline)
      row(
        '  before',
        repeat(() => measure(process.execPath, [baseline, 'parse', file, '--pretty'])),
        1,
      );
    if (tc)
      row(
        'trace-cmd report -R -t',
        repeat(() => measure('trace-cmd', ['report', '-R', '-t', file])),
        1,
      );
  }
  row(
    'node -e 0 (the runtime alone)',
    repeat(() => measure(process.execPath, ['-e', '0'])),
    1,
  );
}

export default async function run(args = []) {
  options(args);
  const target = Number(process.env.BENCH_DAT_EVENTS ?? 1_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-dat-bench-'));
  const tc = have('trace-cmd');
  if (!have('/usr/bin/time')) throw new Error('needs /usr/bin/time (Debian: apt-get install time) for peak RSS');
  try {
    const v6 = path.join(dir, 'big-v6.dat');
    const events = makeBigDat(v6, target);
    const files = [['v6', v6]];
    if (tc) {
      const v7 = path.join(dir, 'big-v7-zstd.dat');
      spawnSync('trace-cmd', ['convert', '-i', v6, '-o', v7, '--file-version', '7', '--compression', 'zstd'], { stdio: 'ignore' });
      files.push(['v7 zstd', v7]);
    } else console.log('trace-cmd is not installed: kreplay figures only (Debian: apt-get install trace-cmd)');
    console.log(
      `load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          ' ',
        )} on ${cpus().length} CPUs (CPU time is what compares; wall time shows the wait)${baseline ? `; baseline: ${path.dirname(path.dirname(path.dirname(path.dirname(baseline))))}` : ''}`,
    );
    for (const [form, file] of files) {
      console.log(`\n${form}: ${events.toLocaleString('en')} events, ${(statSync(file).size / 1e6).toFixed(1)} MB (${path.basename(seed)} pages repeated)`);
      const kreplay = (label, bin, flags) => ({ label, cmd: process.execPath, args: [bin, 'parse', file, ...flags] });
      const cmds = [
        { key: 'stats', ...kreplay('kreplay parse --stats --json', cli, ['--stats', '--json']), keepStdout: true },
        { key: 'pretty', ...kreplay('kreplay parse --pretty', cli, ['--pretty']) },
        { key: 'render', ...kreplay('kreplay parse --render', cli, ['--render']) },
        ...(baseline
          ? [
              kreplay('  before: parse --stats --json', baseline, ['--stats', '--json']),
              kreplay('  before: parse --pretty', baseline, ['--pretty']),
              kreplay('  before: parse --render', baseline, ['--render']),
            ]
          : []),
        ...(tc
          ? [
              { key: 'report', label: 'trace-cmd report', cmd: 'trace-cmd', args: ['report', file] },
              { key: 'raw', label: 'trace-cmd report -R -t', cmd: 'trace-cmd', args: ['report', '-R', '-t', file] },
              { key: 'rendered', label: 'trace-cmd report -N -t', cmd: 'trace-cmd', args: ['report', '-N', '-t', file] },
            ]
          : []),
      ];
      // round by round, every command once per round: a load that changes while the bench
      // runs falls on all of them alike, not on whichever ran last
      const runs = cmds.map(() => []);
      for (let round = 0; round < RUNS; round++) cmds.forEach((c, k) => runs[k].push(measure(c.cmd, c.args, { keepStdout: c.keepStdout })));
      const r = {};
      cmds.forEach((c, k) => {
        const b = best(runs[k]);
        if (c.key) r[c.key] = b;
        row(c.label, b, events);
      });
      const st = JSON.parse(r.stats.stdout);
      if (st.events !== events) throw new Error(`kreplay decoded ${st.events} events, the file holds ${events}`);
      if (!tc) continue;
      const ratio = (a, b) => `${(a.seconds / b.seconds).toFixed(2)}x wall, ${(a.cpu / b.cpu).toFixed(2)}x CPU`;
      console.log(`ratio trace-cmd report / kreplay parse --stats: ${ratio(r.report, r.stats)}  (> 1: kreplay faster)`);
      console.log(`ratio trace-cmd report -R -t / kreplay parse --pretty: ${ratio(r.raw, r.pretty)}`);
      console.log(`ratio trace-cmd report -N -t / kreplay parse --render: ${ratio(r.rendered, r.render)}`);
    }
    startup(tc);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
