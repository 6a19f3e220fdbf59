/**
 * linux-6.12's readahead (flavors/linux-6.12/readahead.ts) against 6.12.118 mm/readahead.c:
 * page_cache_ra_order reads i_size first (458) and never allocates past the page holding the
 * last byte (492-500); a mapping without large folios (ext4) or a window under 4 pages goes to
 * do_page_cache_ra → page_cache_ra_unbounded (469-470, 302-321, 205-293), order-0 folios under
 * 730633f0b7f9's invalidate_lock; an -EEXIST in the large-folio loop falls back there too
 * (516-519). Until session 41 the model added one folio of the asked order whatever the file's
 * size and filesystem.
 */
import { describe, expect, test } from '@jest/globals';
import { PG, type MmState } from '@kreplay/mm-model';
import { completeIo, drive, machineOf } from './helpers/scenarios.js';

const scenario = (fs: string, size: number, ra: string, pages = '[]') => `
flavor: linux-6.12
files:
  - { name: data, fs: ${fs}, dev: "8:1", ino: 0x2a, size: ${size}, pages: ${pages} }
threads:
  - { name: ra, program: readahead, args: { ${ra} } }`;

/** The cache of `data` as [index, order] of each folio, in index order. */
function folios(s: MmState): [number, number][] {
  const out: [number, number][] = [];
  s.maps[0]!.cache.forEach((pfn, ix) => {
    if (pfn < 0 || s.pages[pfn]!.index !== ix) return;
    out.push([ix, s.pages[pfn]!.order ?? 0]);
  });
  return out;
}

async function readahead(fs: string, size: number, ra: string, pages?: string) {
  const m = await machineOf(scenario(fs, size, ra, pages), 'linux-6.12');
  const r = drive(m, m.initial(), 0);
  expect(r.s.threads[0]!.status).toBe('done');
  // read_pages returned with every folio it added locked and not uptodate, its read in flight (the end_io thread holds
  // PG_locked: session 44), and holding only the page cache's reference
  const io = m.env.endIo!;
  expect(m.threads[io]).toMatchObject({ name: 'end_io', daemon: true });
  // (a folio past EOF has no block to read: zeroed, uptodate and unlocked at once; a folio cached before is not read)
  const before = new Set(folios(m.initial()).map(([ix]) => ix));
  for (const [ix] of folios(r.s)) {
    const p = r.s.pages[r.s.maps[0]!.cache[ix]!]!;
    const read = !before.has(ix) && ix * 4096 < size;
    expect(p.locker).toBe(read ? io : -1);
    if (read) expect(p.flags & PG.uptodate).toBe(0);
    expect(p.refcount).toBe(1);
  }
  expect(r.s.maps[0]!.invalidateLock.readers).toEqual([]);
  // the bio's end_io completes them, one folio a step, and then waits for more
  const done = completeIo(m, r.s);
  for (const [ix] of folios(done)) {
    const p = done.pages[done.maps[0]!.cache[ix]!]!;
    expect(p.locker).toBe(-1);
    expect(p.flags & PG.uptodate).toBe(PG.uptodate);
  }
  expect(m.next(done, io)).toMatchObject({ enabled: false, blockedOn: 'a read to complete (none in flight)' });
  return r;
}

describe('linux-6.12 readahead', () => {
  test('ext4 has no large folios: the fallback reads the window in order-0 folios under the invalidate_lock', async () => {
    const r = await readahead('ext4', 65536, 'file: data, index: 4, order: 2');
    expect(folios(r.s)).toEqual([
      [4, 0],
      [5, 0],
      [6, 0],
      [7, 0],
    ]);
    expect(r.labels[0]).toMatch(/!mapping_large_folio_support\(mapping\): goto fallback/);
    expect(r.effects).toContain('invalidate_lock +shared');
  });

  test('xfs, a window under min_ra_size (2 pages): order-0 folios', async () => {
    const r = await readahead('xfs', 65536, 'file: data, index: 4, order: 1');
    expect(folios(r.s)).toEqual([
      [4, 0],
      [5, 0],
    ]);
  });

  test('xfs: no folio past the page holding the last byte — the order drops to fit, the loop stops at limit', async () => {
    // 5 pages: limit = 4, so the order-2 window at 4 becomes one order-0 folio
    expect(folios((await readahead('xfs', 20480, 'file: data, index: 4, order: 2')).s)).toEqual([[4, 0]]);
    // 7 pages: limit = 6: an order-1 folio at 4, then an order-0 one at 6
    expect(folios((await readahead('xfs', 28672, 'file: data, index: 4, order: 2')).s)).toEqual([
      [4, 1],
      [6, 0],
    ]);
    // the window past EOF: nothing (index > limit)
    expect(folios((await readahead('xfs', 8192, 'file: data, index: 4, order: 2')).s)).toEqual([]);
    // a whole window inside the file: one order-2 folio, as before
    expect(folios((await readahead('xfs', 65536, 'file: data, index: 4, order: 2')).s)).toEqual([[4, 2]]);
  });

  test('xfs: an empty file shifts (0 - 1) to ULONG_MAX, so the large-folio path reads the whole window', async () => {
    expect(folios((await readahead('xfs', 0, 'file: data, index: 0, order: 2')).s)).toEqual([[0, 2]]);
  });

  test('xfs: -EEXIST in the large-folio loop falls back to order-0 readahead of the window, skipping what is cached', async () => {
    const r = await readahead('xfs', 65536, 'file: data, index: 4, order: 2', '[{ index: 6, flags: [uptodate] }]');
    expect(r.effects).toContain('filemap_add_folio: -EEXIST: the loop breaks');
    expect(folios(r.s)).toEqual([
      [4, 0],
      [5, 0],
      [6, 0],
      [7, 0],
    ]);
    expect(r.effects).toContain('M0[6] is cached: read the batch so far, skip it');
  });

  test('tmpfs never reaches page_cache_ra_order (shmem has no ->readahead): refused', async () => {
    await expect(machineOf(scenario('tmpfs', 65536, 'file: data, index: 4, order: 2'), 'linux-6.12')).rejects.toThrow(
      /readahead on ext4, xfs files, not on tmpfs/,
    );
  });
});
