/**
 * Contents as versions (src/data.ts): what a read I/O gets from the disk, what a user read is
 * judged against (rule stale-data), truncate's promise for past EOF (mapped-beyond-eof), and
 * the renumbering of generations that keeps the state space finite — checked against a naive
 * oracle on random states.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { Ctx, NONE, UNTRACKED, canonicalData, dataTag, diskData, mappedBeyondEof, staleData, stateKey, tagGen, type MmState } from '@kreplay/mm-model';
import { machineOf, onePage } from './helpers/scenarios.js';

const READER = '  - { name: reader, program: read, args: { file: data, index: 0 } }';

describe('data on disk and in pages', () => {
  test('a file starts without holes: every index below EOF has a block holding generation 0; a cached page holds it too', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const s = m.initial();
    expect(s.maps[0]!.bmap[0]).not.toBe(NONE);
    expect(diskData(s, 0, 0)).toBe(dataTag(0, 0, 0));
    expect(s.pages[7]!.data).toBe(dataTag(0, 0, 0));
  });

  test('without a thread that reads data (Program.readsData) a page holds UNTRACKED, not a version; whether it was read is kept', async () => {
    const fault = '  - { name: fault, program: fault, args: { mm: mapper, index: 0 } }';
    const m = await machineOf(onePage({ threads: fault }), 'linux-2.6.15');
    expect(m.env.dataUntracked).toBe(true);
    expect(m.initial().pages[7]!.data).toBe(UNTRACKED);
    // the disk block too (since session 32): a write-back of an UNTRACKED page and the block's first version are one state
    expect(diskData(m.initial(), 0, 0)).toBe(UNTRACKED);
    // the fault reads the (not uptodate) page in: it holds UNTRACKED, not a version
    let s = m.initial();
    const before = s.pages[7]!;
    s = { ...s, pages: s.pages.map((p) => (p === before ? { ...p, flags: 0, data: NONE } : p)) };
    const c = new Ctx(m.env, s, 0, true);
    c.setFlag(7, 'uptodate', true);
    expect(c.state.pages[7]!.data).toBe(UNTRACKED);
    expect(() => c.pageData(7)).toThrow(/does not track data/);
    const withReader = await machineOf(onePage({ threads: `${fault}\n${READER}` }), 'linux-2.6.15');
    expect(withReader.env.dataUntracked).toBeUndefined();
    expect(withReader.initial().pages[7]!.data).toBe(dataTag(0, 0, 0));
  });

  test('a write takes the next generation; past EOF and holes read as zeros of their own generation', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    const t = c.mintWrite(0, 0);
    c.writeDisk(0, 0, t);
    expect(tagGen(t)).toBe(1);
    expect(diskData(c.state, 0, 0)).toBe(t);
    c.updMap(0, { isize: 0 });
    c.zeroRange(0, 0, 0, true);
    expect(c.state.maps[0]!.bmap[0]).toBe(NONE);
    expect(tagGen(diskData(c.state, 0, 0))).toBe(2);
  });

  test('many writes in one step: each hole gets the lowest free block, a freed block is reused first, and the state the step began from is untouched', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const s0 = deepFreeze(m.initial());
    const k0 = stateKey(s0);
    const used0 = s0.maps[0]!.bmap.filter((b) => b !== NONE);
    const c = new Ctx(m.env, s0, 0, true);
    for (let ix = 1; ix <= 6; ix++) c.writeDisk(0, ix, c.mintWrite(0, ix));
    const blocks = (s: MmState, from: number, to: number) => s.maps[0]!.bmap.slice(from, to + 1);
    const first = Math.max(...used0) + 1;
    expect(blocks(c.state, 1, 6)).toEqual([0, 1, 2, 3, 4, 5].map((i) => first + i));
    c.freeBlocks(0, 2, 3); // two blocks in the middle go back
    c.writeDisk(0, 8, c.mintWrite(0, 8));
    c.writeDisk(0, 9, c.mintWrite(0, 9));
    c.writeDisk(0, 10, c.mintWrite(0, 10));
    expect(blocks(c.state, 8, 10)).toEqual([first + 1, first + 2, first + 6]);
    for (const ix of [1, 4, 5, 6, 8, 9, 10]) expect(c.state.disk[c.state.maps[0]!.bmap[ix]!]).toBe(dataTag(0, ix, 1)); // past EOF: on disk, not read
    expect(stateKey(s0)).toBe(k0);
  });
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

describe('stale-data', () => {
  test('a read that started after a write returned must see that write or a newer one', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const env = m.env;
    expect(staleData(env, [0, 0, 1], dataTag(0, 0, 0), 'read()').map((v) => v.rule)).toEqual(['stale-data']);
    expect(staleData(env, [0, 0, 1], dataTag(0, 0, 1), 'read()')).toEqual([]);
    expect(staleData(env, [0, 0, 1], dataTag(0, 0, 2), 'read()')).toEqual([]);
    // another index's data (a reused block) is never right
    expect(staleData(env, [0, 0, 0], dataTag(0, 1, 5), 'read()').map((v) => v.rule)).toEqual(['stale-data']);
    // a page without data (a flavor that does not track it) is not judged
    expect(staleData(env, [0, 0, 3], NONE, 'read()')).toEqual([]);
  });

  test('the floor is what had returned when the read started, not what returned during it', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.beginRead(0, 0); // floor 0
    c.mintWrite(0, 0);
    c.writesReturned(); // floor 1, after the read began
    c.observe(dataTag(0, 0, 0), 'read()');
    expect(c.violations).toEqual([]);
    c.beginRead(0, 0); // floor 1
    c.observe(dataTag(0, 0, 0), 'read()');
    expect(c.violations.map((v) => v.rule)).toEqual(['stale-data']);
  });
});

describe('mapped-beyond-eof', () => {
  test('a PTE at or past EOF when truncate returns', async () => {
    const m = await machineOf(onePage({ mapped: true, threads: READER }), 'linux-2.6.15');
    const s = m.initial();
    expect(mappedBeyondEof(m.env, { ...s, maps: [{ ...s.maps[0]!, eofSettled: true }] }, 0)).toEqual([]);
    const cut: MmState = { ...s, maps: [{ ...s.maps[0]!, isize: 0, eofSettled: true }] };
    expect(mappedBeyondEof(m.env, cut, 0).map((v) => v.rule)).toEqual(['mapped-beyond-eof']);
  });
});

describe('canonicalData', () => {
  /** The naive oracle: the order of generations per (file, index), as a list of ranks, everywhere. */
  function orderView(s: MmState): string {
    const gens = new Map<string, number[]>();
    const add = (k: string, g: number) => {
      const l = gens.get(k) ?? [];
      l.push(g);
      gens.set(k, l);
    };
    s.maps.forEach((m, f) => m.floor.forEach((g, ix) => add(`${f}:${ix}`, g)));
    s.pages.forEach((p) => {
      if (p && p.data !== NONE) add(`${Math.floor((p.data % 2 ** 32) / 2 ** 20)}:${p.data % 2 ** 20}`, tagGen(p.data));
    });
    const out: string[] = [];
    for (const [k, l] of [...gens].sort()) {
      const sorted = [...new Set(l)].sort((a, b) => a - b);
      out.push(`${k}=${l.map((g) => sorted.indexOf(g)).join(',')}`);
    }
    return out.join(' ');
  }

  test('renumbers generations to 0..k-1 keeping their order; equal up to renumbering gives equal keys', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const base = m.initial();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 2, maxLength: 2 }), fc.integer({ min: 1, max: 1000 }), (g, shift) => {
        const mk = (d: number): MmState => ({
          ...base,
          maps: [{ ...base.maps[0]!, floor: [g[0]! + d], gen: [Math.max(g[0]!, g[1]!) + d], hole: [d] }],
          pages: base.pages.map((p) => (p ? { ...p, data: dataTag(0, 0, g[1]! + d) } : p)),
          disk: base.disk.map(() => dataTag(0, 0, d)),
        });
        const a = canonicalData(mk(0));
        const b = canonicalData(mk(shift));
        expect(stateKey(a)).toBe(stateKey(b));
        expect(orderView(a)).toBe(orderView(mk(0)));
        expect(Math.max(...a.maps[0]!.gen)).toBeLessThan(3);
      }),
      { seed: Number(process.env.KREPLAY_PROP_SEED ?? 11), numRuns: 200 },
    );
  });

  test('a canonical state is returned as it is', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const s = m.initial();
    expect(canonicalData(s)).toBe(s);
  });
});
