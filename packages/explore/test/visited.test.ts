/**
 * The visited set over words (src/visited.ts) against a Map of joined words: the same ids, new
 * ones in insertion order, `~id` for words seen before — across many rehashes — and each
 * state's words given back as they went in (the search decodes its frontier from them).
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { WordTable } from '@kreplay/core';

describe('WordTable', () => {
  test('ids, repeats and words back agree with a Map, through rehashes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 12 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 3000, maxLength: 3000 }),
        (pool, picks) => {
          const t = new WordTable();
          const want = new Map<string, number>();
          const words: number[][] = [];
          // small pools repeat a lot; the index makes up to 3000 distinct states too (the table grows and rehashes)
          for (const p of picks) {
            const w = [...pool[p % pool.length]!, p % 1500];
            const k = w.join(',');
            const got = t.add(Int32Array.from(w), w.length);
            const known = want.get(k);
            if (known === undefined) {
              expect(got).toBe(want.size);
              want.set(k, got);
              words.push(w);
            } else expect(got).toBe(~known);
          }
          expect(t.size).toBe(want.size);
          words.forEach((w, id) => {
            const out = new Int32Array(t.bytesOf(id));
            expect([...out.subarray(0, t.wordsOf(id, out))]).toEqual(w);
          });
        },
      ),
      { numRuns: 20, endOnFailure: true },
    );
  });
});
