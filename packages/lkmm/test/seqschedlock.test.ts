/**
 * The seed patch's seqschedlock barriers judged (fixtures/litmus/seqschedlock, written by
 * scripts/gen-seqschedlock.mjs): every test gives herd7's recorded output under both
 * shipped models, and the verdicts docs/memory-model.md reports are the ones checked here.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkLitmus, formatHerd, loadModel, parseLitmus } from '../src/index.js';
import { comparable, FIXTURES, MODELS } from './herd-output.js';

const SET = path.resolve(FIXTURES, '../../../../fixtures/litmus/seqschedlock');
const files = readdirSync(SET)
  .filter((f) => f.endsWith('.litmus'))
  .sort();

describe.each(MODELS)('the seqschedlock litmus set under %s', (modelName) => {
  const model = loadModel(modelName);
  const results = new Map(
    files.map((f) => {
      const file = path.join(SET, f);
      return [f.replace(/\.litmus$/, ''), checkLitmus(parseLitmus(readFileSync(file, 'utf8'), file), model)] as const;
    }),
  );

  it("gives herd7's recorded output for every test", () => {
    expect(files.length).toBe(21);
    const mismatches = files.filter((f) => {
      const golden = readFileSync(path.join(FIXTURES, 'herd7', modelName, 'seqschedlock', `${f}.out`), 'utf8');
      return comparable(formatHerd(results.get(f.replace(/\.litmus$/, ''))!)) !== comparable(golden);
    });
    expect(mismatches).toEqual([]);
  });

  it('as posted, no reader succeeds across a write section; the barriers whose removal breaks it are h42, h49, h85, h87', () => {
    const sometimes = [...results]
      .filter(([, r]) => r.observation !== 'Never')
      .map(([n]) => n)
      .sort();
    expect(sometimes).toEqual([
      'seqschedlock-fault-isize-once-no-h64',
      'seqschedlock-fault-isize-plain',
      'seqschedlock-sees-section-no-h42',
      'seqschedlock-sees-section-no-h49',
      'seqschedlock-sees-section-no-h85',
      'seqschedlock-sees-section-no-h87',
    ]);
    expect(results.get('seqschedlock-fault-isize-plain')!.flags).toEqual(['data-race']);
  });
});
