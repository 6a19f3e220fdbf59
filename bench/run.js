#!/usr/bin/env node
// Runs every bench/*.bench.js in turn (or those whose file name contains argv[2]) and
// lets each print its own figures. Benchmarks are not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// The figures are what `kreplay` gives: its launcher (packages/cli/bin/run.js) starts node with
// glibc's malloc asking for transparent huge pages, unless GLIBC_TUNABLES already says.
const tunables = process.env.GLIBC_TUNABLES ?? '';
if (!/(^|:)glibc\.malloc\.hugetlb=/.test(tunables)) {
  const env = { ...process.env, GLIBC_TUNABLES: `glibc.malloc.hugetlb=1${tunables ? `:${tunables}` : ''}` };
  process.stdout.write(`(GLIBC_TUNABLES=${env.GLIBC_TUNABLES}, as kreplay's launcher starts node)\n`);
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}
const filter = process.argv[2] ?? '';
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js') && f.includes(filter))
  .sort();
if (benches.length === 0) {
  process.stderr.write(
    `no benchmark matches "${filter}" (have: ${readdirSync(here)
      .filter((f) => f.endsWith('.bench.js'))
      .join(', ')})\n`,
  );
  process.exit(2);
}
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n== ${b}\n`);
  const t0 = performance.now();
  try {
    const mod = await import(pathToFileURL(path.join(here, b)).href);
    if (typeof mod.default === 'function') await mod.default(process.argv.slice(3));
  } catch (e) {
    failed++;
    process.stderr.write(`${b} failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  }
  process.stdout.write(`== ${b} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
process.exit(failed ? 1 : 0);
