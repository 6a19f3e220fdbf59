/**
 * The step's copies (src/copy.ts) give what the spreads they replace gave: `{ ...o, ...patch }`
 * with the same fields, optional and unknown ones included (field order aside: no reader of a
 * page, mapping or root depends on it).
 */
import { describe, expect, jest, test } from '@jest/globals';
import { MAP_OPTIONAL, PAGE_OPTIONAL, copyMap, copyPage, copyRoot } from '../src/copy.js';
import { NONE, UNLOCKED, type MappingS, type MmState, type PageS } from '../src/state.js';
import { onePage } from './helpers/scenarios.js';

const page: PageS = { pfn: 3, mapping: 0, index: 1, flags: 2, refcount: 1, mapcount: 0, locker: NONE, data: 2 ** 32 };
const map: MappingS = {
  cache: [3],
  isize: 4096,
  truncateCount: 0,
  nrpages: 1,
  sslWriters: 0,
  sslSequence: 0,
  invalidateLock: UNLOCKED,
  immap: UNLOCKED,
  coherent: [],
  ilock: UNLOCKED,
  bmap: [0],
  hole: [0],
  gen: [0],
  floor: [0],
};
const OPTIONAL_VALUES: Record<string, unknown> = { order: 9, pmap: [1, 0], entire: 1, nodirect: true, waiters: 2, eofSettled: false, faultMutex: UNLOCKED };

/** The fields and values of `o`, sorted by name (what a copy must keep; the order it has is free). */
function fields(o: object): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}

describe('copies of what a step writes', () => {
  test('a page or mapping copy is the spread with the patch over it, and leaves the original alone', () => {
    const before = fields(page);
    for (const patch of [{}, { flags: 3, locker: 1 }, { refcount: 2 }, { data: NONE, mapping: NONE }] as Partial<PageS>[]) {
      const c = copyPage(page, patch);
      expect(c).not.toBe(page);
      expect(fields(c)).toEqual(fields({ ...page, ...patch }));
    }
    expect(fields(page)).toEqual(before);
    for (const patch of [{}, { nrpages: 0, cache: [NONE] }, { ilock: { writer: 1, readers: [] } }] as Partial<MappingS>[]) {
      expect(fields(copyMap(map, patch))).toEqual(fields({ ...map, ...patch }));
    }
  });

  test('every optional field is kept, whether the object has it or the patch sets it (one removed by setting undefined too)', () => {
    for (const k of PAGE_OPTIONAL) {
      const withIt = { ...page, [k]: OPTIONAL_VALUES[k] } as PageS;
      expect(fields(copyPage(withIt, { refcount: 5 }))).toEqual(fields({ ...withIt, refcount: 5 }));
      expect(fields(copyPage(page, { [k]: OPTIONAL_VALUES[k] }))).toEqual(fields({ ...page, [k]: OPTIONAL_VALUES[k] }));
      expect(fields(copyPage(withIt, { [k]: undefined }))).toEqual(fields({ ...withIt, [k]: undefined }));
    }
    for (const k of MAP_OPTIONAL) {
      const withIt = { ...map, [k]: OPTIONAL_VALUES[k] } as MappingS;
      expect(fields(copyMap(withIt, { nrpages: 7 }))).toEqual(fields({ ...withIt, nrpages: 7 }));
      expect(fields(copyMap(map, { [k]: OPTIONAL_VALUES[k] }))).toEqual(fields({ ...map, [k]: OPTIONAL_VALUES[k] }));
    }
  });

  test('a root copy has the same fields, with and without pmds and pted, and is an object of its own', () => {
    const root: MmState = { pages: [undefined, page], maps: [map], ptes: [[NONE]], ptl: [NONE], disk: [1], threads: [] };
    for (const s of [root, { ...root, pmds: [0] }, { ...root, pted: [[1]] }, { ...root, pmds: [0], pted: [[1]] }]) {
      const c = copyRoot(s);
      expect(c).not.toBe(s);
      expect(fields(c)).toEqual(fields(s));
    }
    // Ctx.setPteDirty drops the table by setting it undefined: the next copy leaves the field out (encode and stateKey read both alike)
    expect('pted' in copyRoot({ ...root, pted: undefined })).toBe(false);
  });

  // each test below imports a module of its own: the first field state.ts does not know switches every later copy to the generic one
  test("a field state.ts does not know in the initial state (a flavor patch's own) is kept by every copy", async () => {
    await jest.isolateModulesAsync(async () => {
      const fresh = await import('../src/copy.js');
      const odd = { ...page, mine: 1 } as PageS;
      fresh.noteFields({ pages: [odd], maps: [], ptes: [], ptl: [], disk: [], threads: [] });
      expect(fields(fresh.copyPage(odd, { flags: 0 }))).toEqual(fields({ ...odd, flags: 0 }));
    });
  });

  test('so is one a patch sets, in that copy and every later one', async () => {
    await jest.isolateModulesAsync(async () => {
      const fresh = await import('../src/copy.js');
      const patched = fresh.copyMap(map, { theirs: 2 } as Partial<MappingS>);
      expect(fields(fresh.copyMap(patched, { nrpages: 0 }))).toEqual(fields({ ...map, theirs: 2, nrpages: 0 }));
    });
  });

  test('a machine of a flavor that is not built in makes every copy generic; a built-in one does not', async () => {
    const yaml = onePage({ threads: '  - { name: fault, program: fault, args: { mm: mapper, address: 0x10000 } }' });
    for (const builtin of [true, false]) {
      await jest.isolateModulesAsync(async () => {
        const mm = await import('../src/index.js');
        const fresh = await import('../src/copy.js');
        const base = await mm.resolveFlavor('linux-2.6.15');
        mm.createMachine(mm.parseScenario(yaml, 'inline.yaml'), builtin ? base : mm.extendFlavor(base, { name: 'mine', description: 'a module' }));
        // a page carrying a field of a flavor module's own, as a worker decodes it from a peer
        const odd = { ...page, mine: 1 } as PageS;
        const kept = Object.keys(fresh.copyPage(odd, { flags: 0 })).includes('mine');
        expect(kept).toBe(!builtin);
      });
    }
  });
});
