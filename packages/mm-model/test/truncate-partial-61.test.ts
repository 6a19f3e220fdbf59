/**
 * linux-6.1 truncate_inode_pages_range between its two passes (6.1.192 mm/truncate.c:401-422):
 * the folio at lstart (then lend's, unless the same) is looked up and locked with
 * __filemap_get_folio(FGP_LOCK) and handed to truncate_inode_partial_folio (session 20).
 */
import { describe, expect, test } from '@jest/globals';
import type { MmState } from '@kreplay/mm-model';
import { drive, linux61File, machineOf } from './helpers/scenarios.js';

const GET_LSTART = 'same_folio = (lstart >> PAGE_SHIFT) == (lend >> PAGE_SHIFT); folio = __filemap_get_folio(mapping, lstart >> PAGE_SHIFT, FGP_LOCK, 0)';
const GET_LEND = 'if (!same_folio) folio = __filemap_get_folio(mapping, lend >> PAGE_SHIFT, FGP_LOCK, 0)';
const LOCK = 'folio_lock(folio); if (unlikely(folio->mapping != mapping)) { folio_unlock(folio); folio_put(folio); goto repeat; }';

const scenario = (size: number, pages: string, threads: string) => `${linux61File(pages, size, 2)}
threads:
${threads}`;

describe('linux-6.1 truncate_inode_pages_range: the partial folios between the passes (mm/truncate.c:401-422)', () => {
  test('a page-aligned truncate looks up and locks the folio at lstart: it waits there for the page lock a fault holds, then removes the folio whole', async () => {
    const m = await machineOf(
      scenario(
        4096,
        '{ index: 0, flags: [uptodate] }',
        `  - { name: f, program: fault, args: { mm: p, address: 0x10000 } }
  - { name: t, program: truncate, args: { file: data, size: 0 } }`,
      ),
      'linux-6.1',
    );
    const pfn = m.initial().maps[0]!.cache[0]!;
    const lockedBy = (s: MmState) => s.pages[pfn]!.locker;
    // the fault takes the folio lock (filemap_fault's lock_folio_maybe_drop_mmap)
    const f = drive(m, m.initial(), 0, (s) => lockedBy(s) === 0);
    expect(lockedBy(f.s)).toBe(0);
    const refs = f.s.pages[pfn]!.refcount;
    // truncate: pass 1's trylock fails and skips the folio; then __filemap_get_folio(lstart >> PAGE_SHIFT, FGP_LOCK)
    // finds it, takes a reference and sleeps in folio_lock (the model went on to pass 2 and slept in its folio_lock)
    const t = drive(m, f.s, 1);
    expect(t.labels).toContain(GET_LSTART);
    const next = m.next(t.s, 1)!;
    expect(next.enabled).toBe(false);
    expect(next.label).toBe(LOCK);
    expect(t.s.pages[pfn]!.refcount).toBe(refs + 1);
    expect(t.s.maps[0]!.cache[0]).toBe(pfn);
    // the fault finishes (it sees i_size 0 under the lock) and unlocks; truncate locks the folio and removes it whole
    const f2 = drive(m, t.s, 0);
    expect(f2.s.threads[0]!.status).toBe('done');
    const t2 = drive(m, f2.s, 1);
    expect(t2.labels[0]).toBe(LOCK);
    expect(t2.labels).toContain(
      'truncate_inode_partial_folio(): if (length == folio_size(folio)) { truncate_inode_folio(folio->mapping, folio); return true; }',
    );
    expect(t2.labels).toContain('folio_invalidate(); folio_cancel_dirty(folio); filemap_remove_folio(folio)');
    // lend = -1: the folio at lstart ends past it (same_folio), no second lookup
    expect([...t.labels, ...t2.labels]).not.toContain(GET_LEND);
    expect(t2.s.threads[1]!.status).toBe('done');
    expect(t2.s.maps[0]!.cache[0] ?? -1).toBe(-1);
    expect(t2.s.pages[pfn]?.locker ?? -1).toBe(-1);
  });

  test('a truncate inside a page keeps that page and zeroes its tail (an effect: the model has no bytes), removing the pages past it', async () => {
    const m = await machineOf(
      scenario(8192, '{ index: 0, flags: [uptodate] }, { index: 1, flags: [uptodate] }', '  - { name: t, program: truncate, args: { file: data, size: 100 } }'),
      'linux-6.1',
    );
    const init = m.initial();
    const [p0, p1] = [init.maps[0]!.cache[0]!, init.maps[0]!.cache[1]!];
    const t = drive(m, init, 0);
    expect(t.s.threads[0]!.status).toBe('done');
    expect(t.labels).toContain(GET_LSTART);
    expect(t.labels).toContain(LOCK);
    expect(t.effects).toContain(`folio_zero_range(pfn${p0}, 100, 3996)`);
    expect(t.s.maps[0]!.cache[0]).toBe(p0);
    expect(t.s.pages[p0]!.refcount).toBe(init.pages[p0]!.refcount);
    expect(t.s.pages[p0]!.locker).toBe(-1);
    expect(t.s.maps[0]!.cache[1] ?? -1).toBe(-1);
    expect(t.s.pages[p1]?.mapping ?? -1).toBe(-1);
  });

  test("a hole punch over two pages looks up lstart's folio and then lend's, each once, after pass 1 removed both", async () => {
    const m = await machineOf(
      scenario(
        8192,
        '{ index: 0, flags: [uptodate] }, { index: 1, flags: [uptodate] }',
        '  - { name: h, program: punch_hole, args: { file: data, offset: 0, length: 8192 } }',
      ),
      'linux-6.1',
    );
    const h = drive(m, m.initial(), 0);
    expect(h.s.threads[0]!.status).toBe('done');
    expect(h.labels.filter((l) => l === GET_LSTART)).toHaveLength(1);
    expect(h.labels.filter((l) => l === GET_LEND)).toHaveLength(1);
    expect(h.labels.indexOf(GET_LSTART)).toBeLessThan(h.labels.indexOf(GET_LEND));
    expect(h.labels).not.toContain(LOCK);
  });
});
