#!/usr/bin/env node
// Re-records test/fixtures/derived/ and its herd7 outputs (herd7/<model>/derived/): the
// store-buffering test deriveLitmus writes for the two-thread machine test/derive.test.ts
// builds (the same machine, in plain JS), and herd7's output for every test below
// test/fixtures/derived/linux-6.1/ and test/fixtures/derived/linux-6.12/, which explore
// writes from the shipped scenarios:
//   for s in truncate-vs-fault fault-around-vs-invalidate invalidate-mapping-pages-vs-fault \
//     invalidate-mapping-pages-mapped-then-fault odirect-vs-fault odirect-vs-fault-multipage; do kreplay explore fixtures/scenarios/$s.yaml \
//     --flavor linux-6.1 --memory-model lkmm --litmus-out packages/lkmm/test/fixtures/derived/linux-6.1; done
// The other shipped scenarios that run on linux-6.1 (read-vs-truncate, truncate-vs-read-extend,
// odirect-vs-read-data, hole-punch-vs-{load,read,store}, truncate-vs-store, fadvise-vs-store,
// write-vs-fadvise, fault-vs-fault, odirect-then-load, odirect-vs-fault-uncached,
// truncate-vs-fault-uncached) derive no test with every 6.1 path marked: each pair still shares
// an allocation, the disk, page contents, the dirtying or a user access through the MMU
// (docs/memory-model.md); run them too when the marks change.
//   for s in fault-around-vs-invalidate fault-vs-fault hole-punch-vs-read invalidate-mapping-pages-mapped-then-fault \
//     invalidate-mapping-pages-vs-fault odirect-vs-fault-uncached odirect-vs-fault odirect-vs-read-data read-vs-truncate \
//     truncate-vs-fault-uncached truncate-vs-fault truncate-vs-read-extend odirect-vs-fault-multipage \
//     truncate-vs-fault-with-table invalidate-mapping-pages-vs-fault-with-table odirect-vs-fault-with-table \
//     fault-vs-fault-with-table; do kreplay explore \
//     fixtures/scenarios/$s.yaml --flavor linux-6.12 --memory-model lkmm --litmus-timeout 1200s \
//     --litmus-out packages/lkmm/test/fixtures/derived/linux-6.12; done
// (every shipped scenario that runs on linux-6.12; only some of them derive tests, docs/memory-model.md).
// herd7 may run for a long time on the page-cache tests: the outputs go to herd7/<model>/derived/<flavor>/.
// Needs a build (npm run build) and herd7 7.58:
//   node packages/lkmm/scripts/record-derived-golden.mjs [path/to/herd7] [--missing] [--timeout S] [--kernel K]
// (every folder below test/fixtures/derived/ is recorded, or only K with --kernel; --missing skips recorded outputs,
// --timeout leaves a test herd7 does not finish in S seconds unrecorded, and says so)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveLitmus, MODELS_DIR } from '@kreplay/lkmm';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
// --missing: record only the outputs not yet recorded; --timeout S: give up on a test after S s
const missing = argv.includes('--missing');
const timeoutAt = argv.indexOf('--timeout');
const timeout = timeoutAt >= 0 ? Number(argv[timeoutAt + 1]) * 1000 : undefined;
const herd7 = argv.find((a, k) => !a.startsWith('--') && argv[k - 1] !== '--timeout' && argv[k - 1] !== '--kernel') ?? 'herd7';
const threads = [
  [
    { loc: 'x', op: 'WRITE_ONCE', value: 1 },
    { loc: 'y', op: 'READ_ONCE' },
  ],
  [
    { loc: 'y', op: 'WRITE_ONCE', value: 1 },
    { loc: 'x', op: 'READ_ONCE' },
  ],
];
const isRead = (o) => o.op === 'READ_ONCE';
const machine = {
  flavor: 'toy',
  threads: threads.map((_, id) => ({ id, name: `T${id}`, program: 'toy', args: {} })),
  initial: () => ({ mem: {}, pc: threads.map(() => 0) }),
  next(s, t) {
    const o = threads[t][s.pc[t]];
    if (!o) return null;
    const lkmm = { op: o.op, value: isRead(o) ? (s.mem[o.loc] ?? 0) : (o.value ?? 0), cite: 'test' };
    return { label: `${o.op} ${o.loc}`, accesses: [{ loc: o.loc, mode: isRead(o) ? 'read' : 'write', lkmm }], enabled: true };
  },
  step(s, t) {
    const o = threads[t][s.pc[t]];
    const pc = [...s.pc];
    pc[t]++;
    return { state: { mem: isRead(o) ? s.mem : { ...s.mem, [o.loc]: o.value ?? 0 }, pc }, ops: [], violations: [], effect: '' };
  },
  key: (s) => JSON.stringify(s),
};
const [test] = deriveLitmus(machine, { scenario: 'toy', flavor: 'toy' }).tests;
const file = path.join(here, 'test/fixtures/derived', `${test.name}.litmus`);
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, test.text);
for (const model of ['linux-6.12', 'sc']) {
  const out = path.join(here, 'test/fixtures/herd7', model, 'derived', `${test.name}.litmus.out`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, execFileSync(herd7, ['-conf', 'linux-kernel.cfg', file], { cwd: path.join(MODELS_DIR, model), encoding: 'utf8' }));
}
console.log(`recorded ${test.name}`);
const derivedRoot = path.join(here, 'test/fixtures/derived');
const only = argv.indexOf('--kernel') >= 0 ? argv[argv.indexOf('--kernel') + 1] : undefined;
const kernels = readdirSync(derivedRoot, { withFileTypes: true })
  .filter((d) => d.isDirectory() && (!only || d.name === only))
  .map((d) => d.name)
  .sort();
for (const kernel of kernels) {
  const dir = path.join(derivedRoot, kernel);
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.litmus'))
    .sort()) {
    for (const model of ['linux-6.12', 'sc']) {
      const out = path.join(here, 'test/fixtures/herd7', model, 'derived', kernel, `${name}.out`);
      if (missing && existsSync(out)) continue;
      mkdirSync(path.dirname(out), { recursive: true });
      const t0 = Date.now();
      try {
        writeFileSync(
          out,
          execFileSync(herd7, ['-conf', 'linux-kernel.cfg', path.join(dir, name)], { cwd: path.join(MODELS_DIR, model), encoding: 'utf8', timeout }),
        );
        console.log(`recorded ${model}: ${kernel}/${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        // a timeout shows as SIGTERM, or (when herd7 exits on it) as spawnSync's ETIMEDOUT
        if (e.signal !== 'SIGTERM' && e.code !== 'ETIMEDOUT') throw e;
        console.log(`herd7 gave no answer in ${timeout / 1000} s: ${model}: ${kernel}/${name}`);
      }
    }
  }
}
