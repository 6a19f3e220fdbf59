/**
 * linux-6.12's truncate of a large folio with private data (an XFS folio's iomap_folio_state):
 * split_huge_page_to_list_to_order releases it first (filemap_release_folio, mm/huge_memory.c:3617
 * of 6.12.118; iomap_release_folio frees it unless the folio is dirty, fs/iomap/buffered-io.c:648-661),
 * which drops the reference it held, and only then tests can_split_folio (3649). Until session 41 the
 * model tested can_split_folio with that reference still counted, so a clean folio with private data
 * never split: truncate removed it whole, where the kernel keeps the pages before EOF.
 */
import { describe, expect, test } from '@jest/globals';
import { PG, type MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

const scenario = (flags: string) => `
flavor: linux-6.12
files:
  - { name: data, fs: xfs, dev: "8:1", ino: 0x2a, size: 16384, pages: [{ index: 0, order: 2, flags: [${flags}] }] }
threads:
  - { name: trunc, program: truncate, args: { file: data, size: 8192 } }`;

/** [index, order] of each folio cached in `data`. */
function folios(s: MmState): [number, number][] {
  const out: [number, number][] = [];
  s.maps[0]!.cache.forEach((pfn, ix) => {
    if (pfn >= 0 && s.pages[pfn]!.index === ix) out.push([ix, s.pages[pfn]!.order ?? 0]);
  });
  return out;
}

describe('linux-6.12 split_folio releases private data before can_split_folio', () => {
  test('a clean folio with private data splits: the pages before EOF stay cached, order 0, without private data', async () => {
    const m = await machineOf(scenario('uptodate, private'), 'linux-6.12');
    const r = drive(m, m.initial(), 0);
    expect(r.s.threads[0]!.status).toBe('done');
    expect(r.labels.some((l) => l.includes('filemap_release_folio(folio, gfp): ->release_folio frees the private data'))).toBe(true);
    expect(r.effects).toContain('split pfn1 into 4 order-0 folios');
    expect(folios(r.s)).toEqual([
      [0, 0],
      [1, 0],
    ]);
    for (const [ix] of folios(r.s)) {
      const p = r.s.pages[r.s.maps[0]!.cache[ix]!]!;
      expect(p.flags & PG.private).toBe(0);
      expect(p.refcount).toBe(1); // the page cache's only
    }
  });

  test('a dirty folio with private data is refused (-EBUSY) and kept whole', async () => {
    const m = await machineOf(scenario('uptodate, dirty, private'), 'linux-6.12');
    const r = drive(m, m.initial(), 0);
    expect(r.s.threads[0]!.status).toBe('done');
    expect(r.effects).toContain('filemap_release_folio: the folio is dirty: -EBUSY');
    expect(r.effects).toContain('split failed on a dirty folio: kept whole');
    expect(folios(r.s)).toEqual([[0, 2]]);
  });
});
