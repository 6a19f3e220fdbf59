/**
 * The bitset relations the cat interpreter computes with, against a naive oracle (sets of
 * pairs), on random relations over up to 70 events (so rows span several words).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Space, diffBits, interBits, unionBits } from '../src/rel.js';

type Pairs = Set<string>;
const key = (a: number, b: number): string => `${a},${b}`;

function naivePlus(n: number, p: Pairs): Pairs {
  const out = new Set(p);
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) if (out.has(key(i, k))) for (let j = 0; j < n; j++) if (out.has(key(k, j))) out.add(key(i, j));
  return out;
}

function naiveSeq(n: number, a: Pairs, b: Pairs): Pairs {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) if (a.has(key(i, k))) for (let j = 0; j < n; j++) if (b.has(key(k, j))) out.add(key(i, j));
  return out;
}

const relArb = fc
  .integer({ min: 1, max: 70 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
      fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
    ),
  );

function asPairs(sp: Space, r: Uint32Array): Pairs {
  return new Set(sp.pairs(r).map(([a, b]) => key(a, b)));
}

describe('bitset relations', () => {
  it('sequence, inverse, closures, domain and range agree with sets of pairs', () => {
    fc.assert(
      fc.property(relArb, ([n, pa, pb]) => {
        const sp = new Space(n);
        const a = sp.relOf(pa);
        const b = sp.relOf(pb);
        const A = new Set(pa.map(([x, y]) => key(x, y)));
        const B = new Set(pb.map(([x, y]) => key(x, y)));
        expect(asPairs(sp, sp.seq(a, b))).toEqual(naiveSeq(n, A, B));
        expect(asPairs(sp, sp.inverse(a))).toEqual(new Set(pa.map(([x, y]) => key(y, x))));
        expect(asPairs(sp, sp.plus(a))).toEqual(naivePlus(n, A));
        const star = naivePlus(n, A);
        for (let i = 0; i < n; i++) star.add(key(i, i));
        expect(asPairs(sp, sp.star(a))).toEqual(star);
        expect(sp.members(sp.domain(a))).toEqual([...new Set(pa.map(([x]) => x))].sort((x, y) => x - y));
        expect(sp.members(sp.range(a))).toEqual([...new Set(pa.map(([, y]) => y))].sort((x, y) => x - y));
        expect(asPairs(sp, unionBits(a, b))).toEqual(new Set([...A, ...B]));
        expect(asPairs(sp, interBits(a, b))).toEqual(new Set([...A].filter((x) => B.has(x))));
        expect(asPairs(sp, diffBits(a, b))).toEqual(new Set([...A].filter((x) => !B.has(x))));
        expect(sp.relComplement(sp.relComplement(a))).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });

  it('acyclic and irreflexive agree with the closure', () => {
    fc.assert(
      fc.property(relArb, ([n, pa]) => {
        const sp = new Space(n);
        const a = sp.relOf(pa);
        const plus = naivePlus(n, new Set(pa.map(([x, y]) => key(x, y))));
        const cyclic = [...Array(n).keys()].some((i) => plus.has(key(i, i)));
        expect(sp.acyclic(a)).toBe(!cyclic);
        expect(sp.irreflexive(a)).toBe(!pa.some(([x, y]) => x === y));
      }),
      { numRuns: 300 },
    );
  });

  it('sets: complement stays within the n events', () => {
    for (const n of [1, 31, 32, 33, 64, 65]) {
      const sp = new Space(n);
      expect(sp.members(sp.setComplement(sp.emptySet())).length).toBe(n);
      expect(sp.members(sp.fullSet()).length).toBe(n);
      expect(sp.pairs(sp.fullRel()).length).toBe(n * n);
    }
  });
});
