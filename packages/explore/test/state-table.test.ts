/**
 * The visited set by rows (state-table.ts): a state is its shared words' number and one word per
 * thread. It numbers states as core's WordTable numbers their words (the one-thread search's
 * node ids rest on it), finds a state by its row as by its words, gives its words back, and
 * keeps a state not laid out in threads apart from every laid-out one.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { WordTable } from '@kreplay/core';
import { StateTable } from '../src/state-table.js';

const T = 2;
/** Laid out in threads when the first word is 1 and there is at least one shared word. */
const threadsAt = (w: Int32Array, n: number): number => (n >= T + 2 && w[0] === 1 ? n - T : -1);

const state = fc.oneof(
  // laid out: 1, a few shared words, then T thread words
  fc
    .tuple(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 }), fc.array(fc.integer({ min: -2, max: 2 }), { minLength: T, maxLength: T }))
    .map(([s, t]) => [1, ...s, ...t]),
  // not laid out
  fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 5 }),
);

describe('StateTable', () => {
  test('numbers states as a WordTable numbers their words, by words or by row, and gives the words back', () => {
    fc.assert(
      fc.property(fc.array(state, { minLength: 1, maxLength: 200 }), (states) => {
        const table = new StateTable(T, threadsAt);
        const plain = new WordTable();
        const words = new Int32Array(16);
        const out = new Int32Array(16);
        for (const s of states) {
          words.set(s);
          const id = plain.add(words, s.length);
          expect(table.add(words, s.length)).toBe(id);
          const known = id < 0 ? ~id : id;
          expect(table.wordsOf(known, out)).toBe(s.length);
          expect([...out.subarray(0, s.length)]).toEqual(s);
          expect(table.bytesOf(known)).toBeGreaterThanOrEqual(s.length);
          // the same state by its row (a laid-out one), and by its words at an offset
          if (threadsAt(words, s.length) >= 0) {
            const shared = ~table.shared.add(words, s.length - T);
            expect(shared).toBeGreaterThanOrEqual(0);
            expect(table.addRow(Int32Array.of(shared, ...s.slice(-T)))).toBe(~known);
          }
          const padded = Int32Array.of(9, 9, ...s);
          expect(table.add(padded, padded.length, 2)).toBe(~known);
        }
        expect(table.size).toBe(plain.size);
      }),
    );
  });

  test('keeps a state not laid out in threads apart from a laid-out one whose shared words are its words', () => {
    const table = new StateTable(T, threadsAt);
    const laid = table.add(Int32Array.of(1, 5, 7, 8), 4);
    // [1, 5] has no thread words after a shared one: not laid out, all its words numbered as [1, 5] are
    const whole = table.add(Int32Array.of(1, 5), 2);
    expect([laid, whole]).toEqual([0, 1]);
    expect(table.add(Int32Array.of(1, 5), 2)).toBe(~1);
    const out = new Int32Array(8);
    expect([...out.subarray(0, table.wordsOf(1, out))]).toEqual([1, 5]);
    expect([...out.subarray(0, table.wordsOf(0, out))]).toEqual([1, 5, 7, 8]);
  });

  test('grows past its first slots and rows and finds every state again', () => {
    const table = new StateTable(T, threadsAt);
    const w = new Int32Array(T + 2);
    const N = 20_000;
    const wrong: number[] = [];
    for (let pass = 0; pass < 2; pass++)
      for (let i = 0; i < N; i++) {
        // shared words [1, i mod 97], thread words [i >> 3, i & 7]
        w.set([1, i % 97, i >> 3, i & 7]);
        if (table.add(w, w.length) !== (pass === 0 ? i : ~i)) wrong.push(i);
      }
    expect(wrong).toEqual([]);
    expect(table.size).toBe(N);
    // each distinct run of shared words packed once, however many states hold it
    expect(table.shared.size).toBe(97);
  });
});
