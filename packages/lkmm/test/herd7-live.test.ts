/**
 * kreplay beside an installed herd7, on tests herd7 has not been recorded on: random C
 * litmus tests (gen-litmus.ts, seeded like every property test here: KREPLAY_PROP_SEED;
 * KREPLAY_PROP_RUNS sets how many) and the kernel's litmus-tests folder, under both models.
 *
 * herd7 is found as $KREPLAY_HERD7, `herd7` on PATH, or ~/.local/herdtools7/bin/herd7
 * (TOOLS.herd7). Without it the suite is skipped with the one tool summary, and it stays
 * skipped under KREPLAY_STRICT_TOOLS=1: herd7 is an *optional* tool, CI does not build it
 * (about 11 minutes from source, docs/memory-model.md); the recorded goldens (golden.test.ts)
 * run always.
 */
import { expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { checkLitmus, formatHerd, loadModel, MODELS_DIR, parseLitmus } from '../src/index.js';
import { generateLitmus, seedArb } from './gen-litmus.js';
import { comparable, FIXTURES, litmusFiles, MODELS } from './herd-output.js';
import { describeWithTools, findTool, TOOLS } from '../../../test-support/tools.js';

const herd7 = findTool(TOOLS.herd7);

/** herd7's output for several files in one run, by test name. */
function runHerd7(modelName: string, files: string[]): Map<string, string> {
  const out = execFileSync(herd7!, ['-conf', 'linux-kernel.cfg', ...files], {
    cwd: path.join(MODELS_DIR, modelName),
    encoding: 'utf8',
    timeout: 600_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const byName = new Map<string, string>();
  for (const block of out.split(/\n(?=Test )/)) {
    const name = /^Test (\S+)/.exec(block)?.[1];
    if (name) byName.set(name, block);
  }
  return byName;
}

describeWithTools([TOOLS.herd7], 'beside herd7 (optional live comparison)', () => {
  const runs = Number(process.env.KREPLAY_PROP_RUNS ?? 25);

  it.each(MODELS)(
    `random litmus tests give herd7's output under %s`,
    (modelName) => {
      const model = loadModel(modelName);
      const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-herd7-'));
      try {
        const seeds = fc.sample(seedArb, { numRuns: runs });
        const tests = seeds.map((seed, k) => {
          const { text } = generateLitmus(seed, `R${k}`);
          const file = path.join(dir, `R${k}.litmus`);
          writeFileSync(file, text);
          return { name: `R${k}`, text, file };
        });
        const theirs = runHerd7(
          modelName,
          tests.map((t) => t.file),
        );
        const mismatches: string[] = [];
        for (const t of tests) {
          const ours = formatHerd(checkLitmus(parseLitmus(t.text, t.file), model));
          const herd = theirs.get(t.name) ?? '(no output from herd7)';
          if (comparable(ours) !== comparable(herd)) mismatches.push(`${t.text}\n--- herd7\n${comparable(herd)}\n--- kreplay\n${comparable(ours)}`);
        }
        expect(mismatches).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    600_000,
  );

  it.each(MODELS)(
    "the kernel's litmus tests give the installed herd7's output under %s",
    (modelName) => {
      const model = loadModel(modelName);
      const files = litmusFiles('kernel-litmus-tests').map((rel) => path.join(FIXTURES, 'kernel-litmus-tests', rel));
      const theirs = runHerd7(modelName, files);
      const mismatches: string[] = [];
      for (const file of files) {
        const r = checkLitmus(parseLitmus(readFileSync(file, 'utf8'), file), model);
        if (comparable(formatHerd(r)) !== comparable(theirs.get(r.name) ?? '')) mismatches.push(file);
      }
      expect(mismatches).toEqual([]);
    },
    600_000,
  );

  it.each(MODELS)(
    "the seqschedlock set, the derived tests and the tests without a condition give the installed herd7's output under %s",
    (modelName) => {
      const model = loadModel(modelName);
      const dirs = [path.resolve(FIXTURES, '../../../../fixtures/litmus/seqschedlock'), path.join(FIXTURES, 'derived'), path.join(FIXTURES, 'no-condition')];
      const files = dirs.flatMap((d) =>
        readdirSync(d)
          .filter((f) => f.endsWith('.litmus'))
          .sort()
          .map((f) => path.join(d, f)),
      );
      const theirs = runHerd7(modelName, files);
      const mismatches = files.filter((file) => {
        const r = checkLitmus(parseLitmus(readFileSync(file, 'utf8'), file), model);
        return comparable(formatHerd(r)) !== comparable(theirs.get(r.name) ?? '');
      });
      expect(mismatches).toEqual([]);
    },
    600_000,
  );
});
