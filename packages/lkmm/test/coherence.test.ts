/**
 * Pruning reads-from by coherence and RMW atomicity (coherence.ts, check.ts): it may only
 * cut executions the model rejects, so the counts stay herd7's. It is what makes the 6.12
 * derived tests (two threads of refcount RMWs, 61-87 accesses) decidable in seconds;
 * explore-lkmm.test.ts pins their verdicts.
 */
import { describe, expect, it } from '@jest/globals';
import { CoherenceFrontier } from '../src/coherence.js';
import { checkLitmus, loadModel, parseLitmus } from '../src/index.js';
import { loadScModel } from '../src/weak.js';

/**
 * Events: 0 = initial write of x, 1 = P0's write, 2 and 3 = P1's reads (2 po-before 3), 4 =
 * P1's write after 3; with `exclusive`, 2 and 3 count as RMW reads.
 */
function frontier(exclusive: boolean): CoherenceFrontier {
  const loc = ['x', 'x', 'x', 'x', 'x'];
  const thread = [-1, 0, 1, 1, 1];
  const po = (a: number, b: number): boolean => thread[a]! >= 0 && thread[a] === thread[b] && a < b;
  return new CoherenceFrontier(
    5,
    loc,
    (i) => i === 2 || i === 3,
    (i) => i === 0 || i === 1 || i === 4,
    (i) => i === 0,
    po,
    (i) => exclusive && (i === 2 || i === 3),
  );
}

describe('CoherenceFrontier', () => {
  it('drops a po-later read of an older write (CoRR) and a read of its own po-later write', () => {
    const f = frontier(false);
    expect(f.choose(2, 1)).toBe(true);
    expect(f.choose(3, 0)).toBe(false); // 1 before 0, and the initial write is first
    f.undo(3);
    expect(f.choose(3, 1)).toBe(true);
    f.undo(3);
    f.undo(2);
    expect(f.choose(2, 4)).toBe(false); // read 2 po-before write 4 reads it
    f.undo(2);
    expect(f.choose(2, 0)).toBe(true);
  });

  it('under an atomic model, two RMW reads of one write leave no coherence order', () => {
    const f = frontier(true);
    expect(f.choose(2, 1)).toBe(true);
    expect(f.choose(3, 1)).toBe(false);
    f.undo(3);
    f.undo(2);
    expect(f.choose(3, 1)).toBe(true); // undo released read 2's claim on write 1
  });
});

describe('checking with pruning', () => {
  const lkmm = loadModel('linux-6.12');
  const sc = loadScModel();

  it("two threads incrementing one counter: the counts are herd7's", () => {
    // herd7 7.58 (-conf linux-kernel.cfg of 6.12): Never 0 2, states 1/2 and 2/1
    const text = `C inc-inc
{ int x = 0; }
P0(atomic_t *x) { int r0; r0 = atomic_inc_return(x); }
P1(atomic_t *x) { int r0; r0 = atomic_inc_return(x); }
exists (0:r0=1 /\\ 1:r0=1)
`;
    for (const m of [lkmm, sc]) {
      const r = checkLitmus(parseLitmus(text, 't.litmus'), m);
      expect([r.observation, r.pos, r.neg]).toEqual(['Never', 0, 2]);
    }
  });
});
