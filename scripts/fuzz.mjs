#!/usr/bin/env node
// Fuzz every input edge of the BUILT kreplay CLI (docs/exit-codes.md's rule: bad input gets a clear
// error and its documented exit code; never a stack trace, a hang, unbounded memory or a silent drop).
//
//   node scripts/fuzz.mjs [--seed N] [--cases N] [--edge NAME[,NAME]] [--jobs N] [--timeout S]
//                         [--rss-mb N] [--out DIR] [--case N] [--list]
//
// Each case mutates one shipped fixture of the edge (scripts/fuzz-mutate.mjs; the PRNG is seeded by
// seed, edge and case index, so `--edge E --case K --seed N` reruns case K alone), writes it to a
// fresh folder, runs `node packages/cli/bin/run.js <command> ...` there with a timeout and an RSS
// cap, and flags: a stack trace or TypeError/RangeError text on stderr, exit 70 or any code the
// command does not document, a signal, a timeout, RSS over the cap, /etc/passwd's text in the
// output, (replay) fewer events than the fixture with no gap, warning or error to say so, and
// (diff) a regression that a damaged side turned into a pass without a note.
// Flagged cases are kept under --out (input + command + output); the rest are removed; every
// case is one line of --out/cases-SEED.jsonl (mutation, exit code, first line of stderr).
// Needs `npm run build` first. Exit 1 when a case is flagged, else 0.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { caseSeed, datBoundaries, fixtureFiles, inEachDir, mutate, rng } from './fuzz-mutate.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'packages/cli/bin/run.js');
const rel = (...p) => path.join(ROOT, ...p);
const ls = (dir, re) => fixtureFiles(ROOT, dir, re);

/**
 * The edges: fixtures to mutate, how to read them (binary, text, json, yaml), the command line
 * (`input` is the mutated file, `dir` the case's folder, `gen` what `setup` made once) and the
 * exit codes docs/exit-codes.md allows that command for bad input.
 */
const EDGES = {
  dat: { kind: 'binary', files: () => ls('fixtures/dat', /\.dat$/), argv: (input) => ['replay', input, '--json'], exits: [0, 1, 2], replayJson: true },
  ftrace: {
    kind: 'text',
    files: () => [...ls('fixtures/parser', /\.trace$/), ...inEachDir(ROOT, 'fixtures/replay', 'trace.txt')],
    argv: (input) => ['replay', input, '--json'],
    exits: [0, 1, 2],
    replayJson: true,
  },
  perf: {
    kind: 'text',
    files: () => ls('fixtures/parser', /^perf-script.*\.txt$/),
    argv: (input) => ['replay', input, '--json'],
    exits: [0, 1, 2],
    replayJson: true,
  },
  meta: {
    kind: 'json',
    files: () => inEachDir(ROOT, 'fixtures/replay', 'meta.json'),
    name: 'meta.json',
    prepare: (src, dir) => copyFileSync(path.join(path.dirname(src), 'trace.txt'), path.join(dir, 'trace.txt')),
    argv: (_input, dir) => ['replay', path.join(dir, 'trace.txt'), '--json'],
    exits: [0, 1, 2],
  },
  probes: {
    kind: 'yaml',
    files: () => ls('kernel-configs/probes', /\.yaml$/),
    argv: (input) => ['replay', rel('fixtures/replay/clean-odirect/trace.txt'), '--probes', input, '--json'],
    exits: [0, 1, 2],
  },
  triage: {
    kind: 'text',
    files: () => inEachDir(ROOT, 'fixtures/reports', 'report.txt'),
    argv: (input) => ['triage', input, '--json'],
    exits: [0, 1, 2],
  },
  scenario: {
    kind: 'yaml',
    files: () => ls('fixtures/scenarios', /\.yaml$/),
    argv: (input) => ['explore', input, '--max-states', '20000', '--timeout', '10s', '--json'],
    exits: [0, 1, 2],
  },
  schedule: {
    kind: 'text',
    files: (gen) => [gen.trace],
    argv: (input) => ['explore', rel('fixtures/scenarios/odirect-vs-fault.yaml'), '--schedule', input],
    exits: [1, 2],
  },
  scheduleJson: {
    kind: 'json',
    files: (gen) => [gen.json],
    argv: (input) => ['explore', rel('fixtures/scenarios/odirect-vs-fault.yaml'), '--schedule', input],
    exits: [1, 2],
  },
  shard: { kind: 'json', files: (gen) => [gen.shard1], argv: (input, _dir, gen) => ['merge', input, gen.shard2], exits: [0, 1, 2] },
  litmus: {
    kind: 'text',
    files: () =>
      readdirSync(rel('fixtures/litmus'))
        .sort()
        .flatMap((d) => ls(path.join('fixtures/litmus', d), /\.litmus$/))
        .slice(0, 6),
    argv: (input) => ['litmus', input, '--timeout', '10s'],
    exits: [0, 1, 2],
  },
  config: { kind: 'json', files: () => [rel('kreplay.config.example.json')], argv: (input) => ['ci', 'plan', input, '--format', 'json'], exits: [0, 2] },
  // the mutated result is the patched side of a regression (exit 1): a damaged one read as clean is a wrong pass
  diff: {
    kind: 'json',
    files: (gen) => [gen.replayJson],
    argv: (input) => ['diff', rel('fixtures/diff/clean-1'), input, '--json'],
    exits: [0, 1, 2],
    flipCheck: true,
  },
};

/** Inputs some edges mutate that a command writes: made once per run. */
function setup(dir) {
  const scen = rel('fixtures/scenarios/odirect-vs-fault.yaml');
  const run = (args, out) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'buffer', maxBuffer: 1 << 28 });
    if (out !== undefined) writeFileSync(path.join(dir, out), r.stdout);
  };
  run(['explore', scen, '--trace-out', path.join(dir, 'cex.trace')]);
  run(['explore', scen, '--json'], 'explore.json');
  run(['explore', scen, '--shard', '1/2', '--json'], 'shard1.json');
  run(['explore', scen, '--shard', '2/2', '--json'], 'shard2.json');
  run(['replay', rel('fixtures/diff/race/trace.txt'), '--json'], 'replay.json');
  return {
    trace: path.join(dir, 'cex.trace'),
    json: path.join(dir, 'explore.json'),
    shard1: path.join(dir, 'shard1.json'),
    shard2: path.join(dir, 'shard2.json'),
    replayJson: path.join(dir, 'replay.json'),
  };
}

const STACK = /\n\s+at [^\n]*:\d+:\d+\)?|\b(TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack|heap out of memory|FATAL ERROR|Aborted)\b/;

/** Run the CLI with a timeout and an RSS cap (polled from /proc): what happened. */
function runCli(argv, cwd, timeoutMs, rssCapKb) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...argv], {
      cwd,
      env: { ...process.env, KREPLAY_DEBUG: '', NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    let outLen = 0;
    child.stdout.on('data', (d) => {
      outLen += d.length;
      if (outLen < 1 << 26) out.push(d);
    });
    child.stderr.on('data', (d) => err.push(d));
    let killed;
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peakKb = Math.max(peakKb, kb);
        if (kb > rssCapKb && killed === undefined) {
          killed = 'rss';
          child.kill('SIGKILL');
        }
      } catch {
        /* gone */
      }
    }, 50);
    const timer = setTimeout(() => {
      killed ??= 'timeout';
      child.kill('SIGKILL');
    }, timeoutMs);
    const started = Date.now();
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({
        code,
        signal,
        killed,
        peakKb,
        ms: Date.now() - started,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function replayCounts(stdout) {
  try {
    const j = JSON.parse(stdout);
    return { events: j.stats?.events ?? 0, gaps: j.stats?.gaps ?? 0 };
  } catch {
    return undefined;
  }
}

/** What is wrong with a run of a mutated input, or [] when it behaved as documented. */
function judge(edge, res, m, baseline) {
  const flags = [];
  if (res.killed === 'timeout') flags.push('timeout');
  if (res.killed === 'rss') flags.push(`rss>${Math.round(res.peakKb / 1024)}MB`);
  if (res.killed === undefined && res.signal !== null) flags.push(`signal ${res.signal}`);
  if (res.code === 70) flags.push('internal error (exit 70)');
  else if (res.code !== null && !edge.exits.includes(res.code)) flags.push(`exit ${res.code} not documented for this input`);
  if (STACK.test(res.stderr)) flags.push('stack trace / JS error text on stderr');
  if (/root:x:0:0/.test(res.stdout + res.stderr)) flags.push('host file content in the output');
  if (
    edge.flipCheck &&
    m.damaged &&
    baseline?.code === 1 &&
    res.code === 0 &&
    !res.stderr.split('\n').some((l) => l.trim() !== '' && !baseline.stderr.has(l))
  ) {
    flags.push('a regression (exit 1) became a pass (exit 0) on damaged input, with no note');
  }
  if (edge.replayJson && m.damaged && res.code === 0 && baseline !== undefined) {
    const now = replayCounts(res.stdout);
    // a warning the unmutated fixture gives too (no PTE changes, ...) does not say the input was damaged
    const newNote = res.stderr.split('\n').some((l) => l.trim() !== '' && !baseline.stderr.has(l));
    if (now !== undefined && now.events < baseline.events && now.gaps <= baseline.gaps && !newNote) {
      flags.push(`silent drop: ${baseline.events} -> ${now.events} events, no gap or warning`);
    }
  }
  return flags;
}

function parseArgs(argv) {
  const o = { seed: 1, cases: 50, edges: Object.keys(EDGES), jobs: 2, timeout: 60, rssMb: 1536, out: path.join(os.tmpdir(), 'kreplay-fuzz'), only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--seed') o.seed = Number(v());
    else if (a === '--cases') o.cases = Number(v());
    else if (a === '--edge') o.edges = v().split(',');
    else if (a === '--jobs') o.jobs = Number(v());
    else if (a === '--timeout') o.timeout = Number(v());
    else if (a === '--rss-mb') o.rssMb = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '--case') o.only = Number(v());
    else if (a === '--list') o.list = true;
    else throw new UsageError(`unknown argument ${a} (see the comment at the top of scripts/fuzz.mjs)`);
  }
  for (const e of o.edges) if (!(e in EDGES)) throw new UsageError(`unknown edge ${e}; edges: ${Object.keys(EDGES).join(', ')}`);
  return o;
}

class UsageError extends Error {}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.list) {
    console.log(Object.keys(EDGES).join('\n'));
    return 0;
  }
  if (!existsSync(rel('packages/cli/dist'))) throw new UsageError('build first: npm run build');
  mkdirSync(o.out, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'kreplay-fuzz-gen-'));
  const gen = setup(work);
  const tally = {};
  let flagged = 0;
  for (const name of o.edges) {
    const edge = EDGES[name];
    const files = edge.files(gen);
    const baselines = new Map();
    if (edge.replayJson || edge.flipCheck) {
      for (const f of files) {
        const d = mkdtempSync(path.join(os.tmpdir(), 'kreplay-fuzz-'));
        const res = await runCli(edge.argv(f, d, gen), d, o.timeout * 1000, o.rssMb * 1024);
        const counts = replayCounts(res.stdout) ?? { events: 0, gaps: 0 };
        baselines.set(f, { ...counts, code: res.code, stderr: new Set(res.stderr.split('\n')) });
        rmSync(d, { recursive: true, force: true });
      }
    }
    const boundaries = new Map(files.map((f) => [f, edge.kind === 'binary' ? datBoundaries(readFileSync(f)) : []]));
    const indices = o.only !== undefined ? [o.only] : [...Array(o.cases).keys()];
    tally[name] = { cases: 0, flagged: 0, exits: {} };
    let next = 0;
    const worker = async () => {
      while (next < indices.length) {
        const k = indices[next++];
        const r = rng(caseSeed(o.seed, name, k));
        const src = r.pick(files);
        const m = mutate(readFileSync(src), r, edge.kind, boundaries.get(src));
        const dir = mkdtempSync(path.join(os.tmpdir(), 'kreplay-fuzz-'));
        const input = path.join(dir, edge.name ?? path.basename(src));
        writeFileSync(input, m.data);
        edge.prepare?.(src, dir);
        const argv = edge.argv(input, dir, gen);
        const res = await runCli(argv, dir, o.timeout * 1000, o.rssMb * 1024);
        const flags = judge(edge, res, m, baselines.get(src));
        appendFileSync(
          path.join(o.out, `cases-${o.seed}.jsonl`),
          JSON.stringify({
            edge: name,
            case: k,
            fixture: path.relative(ROOT, src),
            mutation: m.what,
            exit: res.code ?? res.signal,
            ms: res.ms,
            flags,
            stderr: res.stderr.split('\n')[0].slice(0, 200),
          }) + '\n',
        );
        const t = tally[name];
        t.cases++;
        t.exits[res.code ?? res.signal] = (t.exits[res.code ?? res.signal] ?? 0) + 1;
        if (flags.length > 0) {
          t.flagged++;
          flagged++;
          const keep = path.join(o.out, `${name}-${o.seed}-${k}`);
          rmSync(keep, { recursive: true, force: true });
          mkdirSync(keep, { recursive: true });
          for (const f of readdirSync(dir)) copyFileSync(path.join(dir, f), path.join(keep, f));
          const rerun = `node scripts/fuzz.mjs --edge ${name} --seed ${o.seed} --case ${k}`;
          writeFileSync(
            path.join(keep, 'case.json'),
            JSON.stringify(
              {
                edge: name,
                seed: o.seed,
                case: k,
                fixture: path.relative(ROOT, src),
                mutation: m.what,
                argv,
                code: res.code,
                signal: res.signal,
                ms: res.ms,
                peakKb: res.peakKb,
                flags,
                rerun,
              },
              null,
              2,
            ) + '\n',
          );
          writeFileSync(path.join(keep, 'stderr.txt'), res.stderr);
          writeFileSync(path.join(keep, 'stdout.txt'), res.stdout.slice(0, 1 << 20));
          console.log(`FLAG ${name} #${k} (${path.relative(ROOT, src)}; ${m.what}): ${flags.join('; ')} — exit ${res.code ?? res.signal}; ${keep}`);
          console.log(`     ${res.stderr.split('\n').slice(0, 3).join(' | ').slice(0, 300)}`);
        }
        rmSync(dir, { recursive: true, force: true });
      }
    };
    await Promise.all(Array.from({ length: o.jobs }, worker));
    console.log(`${name}: ${tally[name].cases} cases, ${tally[name].flagged} flagged; exits ${JSON.stringify(tally[name].exits)}`);
  }
  rmSync(work, { recursive: true, force: true });
  writeFileSync(path.join(o.out, `summary-${o.seed}.json`), JSON.stringify({ seed: o.seed, cases: o.cases, tally }, null, 2) + '\n');
  console.log(`${flagged} flagged in ${Object.values(tally).reduce((s, t) => s + t.cases, 0)} cases (seed ${o.seed}); kept under ${o.out}`);
  return flagged > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    // a usage mistake is one line; the stack only for what is not (a bug in the harness)
    console.error(`fuzz: ${e instanceof UsageError ? e.message : e.stack}`);
    process.exit(2);
  },
);
