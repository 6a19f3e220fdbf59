#!/usr/bin/env node
// Agreement of `kreplay litmus` with the Result: lines of a litmus corpus (paulmckrcu/litmus,
// or the kernel's tools/memory-model/litmus-tests), judged by the kernel's judgelitmus.sh
// rule (packages/lkmm/src/judge.ts). The corpus is not part of the repository: pass its path.
//
//   npm run build && node scripts/litmus-corpus.mjs PATH [--model linux-6.12] [--timeout 30] [-j 1] [--every K [--offset R]] [--json OUT]
//
// Prints: files, tests with a Result: line, checked, agree (pass + forgiven), disagree (each
// listed with its verdict and the predicted one), unsupported by missing construct (counts),
// timeouts, internal errors. --json OUT writes one row per test for later reading.
// Exit status: 0 when nothing disagrees and nothing failed internally, 1 otherwise.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkFiles, expandLitmusPaths, findExpectation, judge } from '../packages/lkmm/dist/index.js';

function parseArgs(argv) {
  const o = { paths: [], model: 'linux-6.12', timeout: 30, jobs: 1, json: null, every: 1, offset: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--model') o.model = argv[++i];
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '-j' || a === '--jobs') o.jobs = Number(argv[++i]);
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--every') o.every = Number(argv[++i]);
    else if (a === '--offset') o.offset = Number(argv[++i]);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.paths.push(a);
  }
  if (
    o.paths.length === 0 ||
    !(o.timeout > 0) ||
    !(o.jobs >= 1) ||
    !Number.isInteger(o.every) ||
    o.every < 1 ||
    !Number.isInteger(o.offset) ||
    o.offset < 0 ||
    o.offset >= o.every
  ) {
    throw new Error('usage: node scripts/litmus-corpus.mjs PATH... [--model NAME|DIR] [--timeout SECONDS] [-j N] [--every K [--offset R]] [--json OUT]');
  }
  return o;
}

/**
 * The construct an unsupported test lacks, from the checker's error: the primitive it names,
 * or the kind of statement, so the figures group by what kreplay would need to learn.
 */
export function construct(message) {
  const prim = /unknown primitive (\S+?):/.exec(message);
  if (prim) return `primitive ${prim[1]}`;
  const kind = /^this is a (\S+) litmus test/.exec(message);
  if (kind) return `non-C test (${kind[1]})`;
  return message.replace(/`[^`]*`|"[^"]*"|'[^']*'|\b\d+\b/g, '…').slice(0, 90);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const files = expandLitmusPaths(o.paths);
  // --every K: a systematic sample (every K-th test with a Result: line, in name order);
  // --offset R starts it at the R-th, so the runs R = 0..K-1 partition the corpus
  const withResult = files.filter((f) => findExpectation(readFileSync(f, 'utf8')) !== null).filter((_, k) => k % o.every === o.offset);
  const rows = [];
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  let n = 0;
  for await (const out of checkFiles(withResult, { model: o.model, timeoutMs: o.timeout * 1000, jobs: o.jobs })) {
    const file = path.relative(process.cwd(), out.file);
    if (!out.ok) rows.push({ file, status: out.error.kind, message: out.error.message, line: out.error.line ?? null });
    else {
      const j = judge(out.result);
      rows.push({
        file,
        status: j.verdict,
        expected: j.expected,
        observation: out.result.observation,
        flags: out.result.flags,
        message: j.message,
        ms: Math.round(out.result.stats.timeMs),
      });
    }
    if (o.json) appendFileSync(`${o.json}l`, `${JSON.stringify(rows[rows.length - 1])}\n`); // one line per test as it ends
    if (++n % 250 === 0) process.stderr.write(`${n}/${withResult.length}\n`);
  }
  const cpu = process.cpuUsage(t0);
  const count = (s) => rows.filter((r) => r.status === s).length;
  const unsupported = rows.filter((r) => r.status === 'input');
  const byConstruct = new Map();
  for (const r of unsupported) byConstruct.set(construct(r.message), (byConstruct.get(construct(r.message)) ?? 0) + 1);
  const checked = count('pass') + count('forgiven') + count('fail');
  console.log(`corpus: ${o.paths.join(', ')}; model ${o.model}; timeout ${o.timeout} s per test; -j ${o.jobs}`);
  console.log(`files: ${files.length}; with a Result: line${o.every > 1 ? ` (every ${o.every}th from the ${o.offset}th)` : ''}: ${withResult.length}`);
  console.log(
    `checked: ${checked}; agree: ${count('pass') + count('forgiven')} (${count('pass')} pass, ${count('forgiven')} forgiven by a data race); disagree: ${count('fail')}`,
  );
  console.log(`unsupported: ${unsupported.length}; timeouts: ${count('timeout')}; internal errors: ${count('internal')}`);
  console.log(
    `time: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU in this process (workers not included), ${((performance.now() - w0) / 1000).toFixed(1)} s wall`,
  );
  if (unsupported.length) {
    console.log('unsupported, by missing construct:');
    for (const [k, v] of [...byConstruct].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) console.log(`  ${String(v).padStart(5)}  ${k}`);
  }
  for (const [status, title] of [
    ['fail', 'disagree'],
    ['timeout', 'timed out'],
    ['internal', 'internal errors'],
  ]) {
    const xs = rows.filter((r) => r.status === status);
    if (xs.length === 0) continue;
    console.log(`${title}:`);
    for (const r of xs)
      console.log(
        `  ${r.file}: ${status === 'fail' ? `Result: ${r.expected}, kreplay ${r.observation}${r.flags.length ? ` (${r.flags.join(', ')})` : ''} ${r.message}` : r.message}`,
      );
  }
  if (o.json) writeFileSync(o.json, `${JSON.stringify(rows, null, 1)}\n`);
  process.exitCode = count('fail') + count('internal') > 0 ? 1 : 0;
}

await main();
