/**
 * kreplay against herd7's recorded outputs (fixtures/herd7/, see its README): every shipped
 * litmus test under both shipped models gives herd7's states, Ok/No, witness counts, flags,
 * condition and Observation line, byte for byte (Time and Hash lines aside).
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkLitmus, formatHerd, judge, loadModel, loadScModel, parseLitmus } from '../src/index.js';
import { comparable, FIXTURES, litmusFiles, MODELS, SETS } from './herd-output.js';

describe.each(MODELS)('golden herd7 outputs, model %s', (modelName) => {
  const model = loadModel(modelName);
  it.each(SETS)('%s: every test as herd7 prints it', (set) => {
    const files = litmusFiles(set);
    expect(files.length).toBeGreaterThan(30);
    const mismatches: string[] = [];
    for (const rel of files) {
      const file = path.join(FIXTURES, set, rel);
      const ours = formatHerd(checkLitmus(parseLitmus(readFileSync(file, 'utf8'), file), model));
      const theirs = readFileSync(path.join(FIXTURES, 'herd7', modelName, set, `${rel}.out`), 'utf8');
      if (comparable(ours) !== comparable(theirs)) mismatches.push(`${rel}\n--- herd7\n${comparable(theirs)}\n--- kreplay\n${comparable(ours)}`);
    }
    expect(mismatches).toEqual([]);
  });
});

// herd7 reads a test without exists/~exists/forall as `forall (true)` (fixtures/no-condition/README.md)
describe.each([...MODELS, 'sc'])('tests without a final condition, as herd7 prints them, model %s', (modelName) => {
  const model = modelName === 'sc' ? loadScModel() : loadModel(modelName);
  it.each(litmusFiles('no-condition'))('%s', (rel) => {
    const file = path.join(FIXTURES, 'no-condition', rel);
    const ours = checkLitmus(parseLitmus(readFileSync(file, 'utf8'), file), model);
    const theirs = readFileSync(path.join(FIXTURES, 'herd7', modelName, 'no-condition', `${rel}.out`), 'utf8');
    expect(comparable(formatHerd(ours))).toBe(comparable(theirs));
    expect(theirs).toContain('Condition forall (true)');
  });
});

describe("the kernel's own Result: lines (judgelitmus.sh rules)", () => {
  // Linux 6.1's litmus-tests folder is 6.12's without dep+plain.litmus, which needs 6.12's
  // model (dependencies carried through plain accesses): under 6.1's it is Sometimes.
  const cases: Array<[string, number]> = [
    ['linux-6.1', 34],
    ['linux-6.12', 35],
  ];
  it.each(cases)("every test of %s's litmus-tests folder agrees with its Result: line", (modelName, count) => {
    const model = loadModel(modelName);
    const files = litmusFiles('kernel-litmus-tests').filter((rel) => modelName === 'linux-6.12' || rel !== 'dep+plain.litmus');
    const verdicts = files.map((rel) => {
      const file = path.join(FIXTURES, 'kernel-litmus-tests', rel);
      const r = checkLitmus(parseLitmus(readFileSync(file, 'utf8'), file), model);
      return `${rel}: ${judge(r).verdict}`;
    });
    expect(verdicts.filter((v) => !v.endsWith(': pass'))).toEqual([]);
    expect(verdicts).toHaveLength(count);
  });
});
