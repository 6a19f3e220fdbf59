/**
 * The visited set over words (src/visited.ts) against a Map of joined words: the same ids, new
 * ones in insertion order, `~id` for words seen before — across many rehashes — and each
 * state's words given back as they went in (the search decodes its frontier from them).
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { EnvironmentError, WordTable } from '@kreplay/core';

describe('WordTable', () => {
  // the default arena chunk (4 MiB) is never filled here; 64-byte chunks are crossed all the time,
  // and an entry of up to 13 words (65 bytes packed at most) may need a chunk longer than that
  test.each([
    ['the default arena chunk', undefined],
    ['64-byte arena chunks', 6],
  ])('ids, repeats and words back agree with a Map, through rehashes (%s)', (_, chunkBits) => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 12 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 3000, maxLength: 3000 }),
        (pool, picks) => {
          const t = new WordTable(chunkBits);
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
          expect(t.bytes).toBe(words.reduce((n, w) => n + w.reduce((b, x) => b + packedBytes(x), 0), 0));
          words.forEach((w, id) => {
            const out = new Int32Array(t.bytesOf(id));
            expect([...out.subarray(0, t.wordsOf(id, out))]).toEqual(w);
          });
        },
      ),
      { numRuns: 20, endOnFailure: true },
    );
  });

  test('a table that outgrows what it can address says so as an environment error with what to do, and keeps what it holds', () => {
    // the search used to end in "internal error: WordTable: more than 2 GiB of entries" (exit 70)
    const t = new WordTable(10, 1 << 14);
    let err: unknown;
    let n = 0;
    try {
      for (; n < 100_000; n++) t.add(Int32Array.from([n, n + 1, n + 2, 1 << 30]), 4);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).message).toMatch(/^the state search outgrew its tables: [\d,]+ entries in 0\.015625 MiB of packed states/);
    expect((err as EnvironmentError).hint).toMatch(/--max-states N .*--shard i\/n/);
    expect(t.size).toBe(n);
    expect(t.add(Int32Array.from([0, 1, 2, 1 << 30]), 4)).toBe(~0);
  });
});

/** Bytes word `x` takes packed (zigzag, then LEB128: 7 bits a byte). */
function packedBytes(x: number): number {
  let z = ((x << 1) ^ (x >> 31)) >>> 0;
  let n = 1;
  while (z >= 0x80) {
    z >>>= 7;
    n++;
  }
  return n;
}
