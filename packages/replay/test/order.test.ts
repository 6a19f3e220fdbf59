import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ReorderBuffer } from '@kreplay/replay';

interface Rec { ts: bigint; cpu: number; seq: number }

function sort(recs: Rec[], window: number): { out: Rec[]; late: number } {
  const out: Rec[] = [];
  const b = new ReorderBuffer<Rec>(window, (r) => out.push(r));
  for (const r of recs) b.push(r, r.ts, r.cpu);
  b.drain();
  return { out, late: b.late };
}

describe('ReorderBuffer: timestamp, then CPU, then input order', () => {
  it('merges per-CPU streams by timestamp, ties by CPU, and keeps each CPU in input order', () => {
    const recs: Rec[] = [
      { ts: 5n, cpu: 1, seq: 0 }, { ts: 3n, cpu: 0, seq: 1 }, { ts: 5n, cpu: 0, seq: 2 }, { ts: 4n, cpu: 1, seq: 3 },
    ];
    // CPU 1 printed 5 before 4: its order stands, so its 4 comes after the 5s and is late
    const { out, late } = sort(recs, 10);
    expect(out.map((r) => r.seq)).toEqual([1, 2, 0, 3]);
    expect(late).toBe(1);
  });

  it('never reorders one CPU\'s records, whatever their timestamps', () => {
    fc.assert(fc.property(
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
    ));
  });

  it('sorts fully when every CPU stream is sorted and the window holds the disorder', () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.bigInt({ min: 0n, max: 1000n }), { maxLength: 30 }), { minLength: 1, maxLength: 4 }),
      (perCpu) => {
        const recs: Rec[] = [];
        perCpu.forEach((tss, cpu) => [...tss].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).forEach((ts) => recs.push({ ts, cpu, seq: 0 })));
        recs.forEach((r, i) => { r.seq = i; });
        const { out, late } = sort(recs, recs.length + 1);
        expect(late).toBe(0);
        for (let i = 1; i < out.length; i++) {
          const a = out[i - 1]!; const b = out[i]!;
          expect(a.ts < b.ts || (a.ts === b.ts && a.cpu <= b.cpu)).toBe(true);
        }
      },
    ));
  });

  it('replays a record beyond the window in arrival order and counts it late', () => {
    const recs: Rec[] = [{ ts: 10n, cpu: 0, seq: 0 }, { ts: 11n, cpu: 0, seq: 1 }, { ts: 12n, cpu: 0, seq: 2 }, { ts: 1n, cpu: 1, seq: 3 }];
    const { out, late } = sort(recs, 2);
    expect(out.map((r) => r.seq)).toEqual([0, 3, 1, 2]);
    expect(late).toBe(1);
  });
});
