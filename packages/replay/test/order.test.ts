import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ReorderBuffer } from '@kreplay/replay';

interface Rec {
  ts: bigint;
  cpu: number;
  seq: number;
}

function sort(recs: Rec[], window: number): { out: Rec[]; late: number } {
  const out: Rec[] = [];
  const b = new ReorderBuffer<Rec>(window, (r) => out.push(r));
  for (const r of recs) b.push(r, r.ts, r.cpu);
  b.drain();
  return { out, late: b.late };
}

describe('ReorderBuffer: timestamp, then input order', () => {
  it('merges per-CPU streams by timestamp, keeps ties in input order, and keeps each CPU in input order', () => {
    const recs: Rec[] = [
      { ts: 5n, cpu: 1, seq: 0 },
      { ts: 3n, cpu: 0, seq: 1 },
      { ts: 5n, cpu: 0, seq: 2 },
      { ts: 4n, cpu: 1, seq: 3 },
    ];
    // CPU 1 printed 5 before 4: its order stands, so its 4 comes right after its own 5 and
    // is late; the 5s keep the order the trace printed them in (not CPU order: replay
    // searches the orders of such ties, ties.ts)
    const { out, late } = sort(recs, 10);
    expect(out.map((r) => r.seq)).toEqual([1, 0, 3, 2]);
    expect(late).toBe(1);
  });

  it("never reorders one CPU's records, whatever their timestamps", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ts: fc.bigInt({ min: 0n, max: 50n }), cpu: fc.integer({ min: 0, max: 3 }) }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 64 }),
        (raw, window) => {
          const recs = raw.map((r, seq) => ({ ...r, seq }));
          const { out } = sort(recs, window);
          expect(out).toHaveLength(recs.length);
          for (let cpu = 0; cpu < 4; cpu++) {
            const mine = out.filter((r) => r.cpu === cpu).map((r) => r.seq);
            expect(mine).toEqual([...mine].sort((a, b) => a - b));
          }
        },
      ),
    );
  });

  it('sorts fully when every CPU stream is sorted and the window holds the disorder', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.bigInt({ min: 0n, max: 1000n }), { maxLength: 30 }), { minLength: 1, maxLength: 4 }), (perCpu) => {
        const recs: Rec[] = [];
        perCpu.forEach((tss, cpu) => [...tss].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).forEach((ts) => recs.push({ ts, cpu, seq: 0 })));
        recs.forEach((r, i) => {
          r.seq = i;
        });
        const { out, late } = sort(recs, recs.length + 1);
        expect(late).toBe(0);
        for (let i = 1; i < out.length; i++) {
          const a = out[i - 1]!;
          const b = out[i]!;
          expect(a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq)).toBe(true);
        }
      }),
    );
  });

  it('replays a record beyond the window in arrival order and counts it late', () => {
    const recs: Rec[] = [
      { ts: 10n, cpu: 0, seq: 0 },
      { ts: 11n, cpu: 0, seq: 1 },
      { ts: 12n, cpu: 0, seq: 2 },
      { ts: 1n, cpu: 1, seq: 3 },
    ];
    const { out, late } = sort(recs, 2);
    expect(out.map((r) => r.seq)).toEqual([0, 3, 1, 2]);
    expect(late).toBe(1);
  });
});

describe('ReorderBuffer keeps its order when its ring wraps and grows', () => {
  /** The sorter's rule written the plain way: a sorted list, the first replayed once more than `window` wait. */
  function reference(recs: Rec[], window: number): { out: Rec[]; late: number } {
    const out: Rec[] = [];
    const buf: Rec[] = [];
    let last: bigint | undefined;
    let late = 0;
    const pop = () => {
      const r = buf.shift()!;
      if (last !== undefined && r.ts < last) late++;
      else last = r.ts;
      out.push(r);
    };
    for (const r of recs) {
      let j = buf.length - 1;
      while (j >= 0 && buf[j]!.cpu !== r.cpu && r.ts < buf[j]!.ts) j--;
      buf.splice(j + 1, 0, r);
      if (buf.length > window) pop();
    }
    while (buf.length) pop();
    return { out, late };
  }

  it('a window larger than the ring it starts with (grown while records wait)', () => {
    let x = 7;
    const rand = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 4294967296;
    };
    let ts = 1000n;
    const recs = Array.from({ length: 30000 }, (_, seq) => ({ ts: (ts += BigInt(Math.floor(rand() * 41) - 20)), cpu: Math.floor(rand() * 4), seq }));
    for (const window of [9000, 20000]) {
      const got = sort(recs, window);
      const want = reference(recs, window);
      expect(got.out.map((r) => r.seq)).toEqual(want.out.map((r) => r.seq));
      expect(got.late).toBe(want.late);
    }
  });

  it.each([1, 3, 14, 15, 16, 17])('window %i', (window) => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: -20, max: 20 }), cpu: fc.integer({ min: 0, max: 3 }) }), { maxLength: 200, size: 'max' }),
        (steps) => {
          let ts = 1000n;
          const recs = steps.map((s, seq) => ({ ts: (ts += BigInt(s.dt)), cpu: s.cpu, seq }));
          const got = sort(recs, window);
          const want = reference(recs, window);
          expect(got.out.map((r) => r.seq)).toEqual(want.out.map((r) => r.seq));
          expect(got.late).toBe(want.late);
        },
      ),
      { numRuns: 100 },
    );
  });
});
