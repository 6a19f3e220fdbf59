/**
 * linux-6.1 read against Debian's 6.1.192 source (session 19): steps the model lacked or merged,
 * each driven one schedule at a time.
 */
import { describe, expect, test } from '@jest/globals';
import type { MmState } from '@kreplay/mm-model';
import { drive, linux61File, machineOf } from './helpers/scenarios.js';

const scenario = (size: number, pages: string, vmaPages: number, threads: string, start = '0x10000') =>
  `${linux61File(pages, size, vmaPages, start)}
threads:
${threads}`;

describe('linux-6.1 filemap_map_pages: end_pgoff capped at file_end under the PTE lock (mm/filemap.c:3482-3486)', () => {
  test('a folio past the EOF read after the PTE lock is not mapped, even when the file has grown by the time its own i_size test runs', async () => {
    // one page of file, a second page cached past EOF (a read that raced a truncate leaves one)
    const m = await machineOf(
      scenario(
        4096,
        '{ index: 0 }, { index: 1 }',
        2,
        `  - { name: f, program: fault_around, args: { mm: p, index: 0 } }
  - { name: t, program: truncate, args: { file: data, size: 8192 } }`,
      ),
      'linux-6.1',
    );
    const pte = (s: MmState, i: number) => s.ptes[0]![i]!;
    // fault-around maps index 0 (the PTE lock taken, file_end read: 0)
    let f = drive(m, m.initial(), 0, (s) => pte(s, 0) !== -1);
    expect(pte(f.s, 0)).not.toBe(-1);
    expect(f.labels.some((l) => l.startsWith('vmf->pte = pte_offset_map_lock(); file_end = DIV_ROUND_UP(i_size_read'))).toBe(true);
    expect(f.effects).toContain('end_pgoff capped at file_end 0');
    // the file grows to two pages before the walk looks at index 1
    const t = drive(m, f.s, 1);
    expect(t.s.threads[1]!.status).toBe('done');
    expect(t.s.maps[0]!.isize).toBe(8192);
    // the walk stops at end_pgoff: index 1 stays unmapped (the model walked on to it and mapped it)
    f = drive(m, t.s, 0);
    expect(f.s.threads[0]!.status).toBe('done');
    expect(pte(f.s, 1)).toBe(-1);
  });
});

describe('filemap_update_page: folio_trylock, and the wait without the invalidate_lock or a reference (6.1.192 mm/filemap.c:2545-2557, 6.12.118 2436-2447)', () => {
  // the other thread creates the folio at index 0 locked and not uptodate (ext4_da_write_begin; 6.12 has no write
  // program, its readahead does the same before its read I/O completes); the reader finds it
  test.each([
    ['linux-6.1', 'write, args: { file: data, offset: 0, length: 4096 }'],
    ['linux-6.12', 'readahead, args: { file: data, index: 0, order: 0 }'],
  ])(
    '%s: a read of a folio another thread holds locked gives back the invalidate_lock and its reference while it waits, then looks the folio up again',
    async (flavor, other) => {
      const m = await machineOf(
        scenario(
          4096,
          '',
          1,
          `  - { name: r, program: read, args: { file: data, index: 0 } }
  - { name: w, program: ${other} }`,
        ),
        flavor,
      );
      const pfn = (s: MmState) => s.maps[0]!.cache[0]!;
      const locked = (s: MmState) => pfn(s) !== -1 && s.pages[pfn(s)]!.locker === 1;
      const w = drive(m, m.initial(), 1, locked);
      expect(locked(w.s)).toBe(true);
      const refs = w.s.pages[pfn(w.s)]!.refcount; // the cache's and the writer's
      const r = drive(m, w.s, 0);
      expect(r.effects).toContain(`folio_trylock(pfn${pfn(w.s)}) failed: AOP_TRUNCATED_PAGE after the wait`);
      expect(m.next(r.s, 0)!.enabled).toBe(false);
      expect(m.next(r.s, 0)!.label).toMatch(/^folio_put_wait_locked\(\): sleep until PG_locked is clear/);
      // while it sleeps: no invalidate_lock, no reference of the reader's
      expect(r.s.maps[0]!.invalidateLock.readers).not.toContain(0);
      expect(r.s.pages[pfn(r.s)]!.refcount).toBe(refs);
      // the other thread finishes (6.12's readahead hands the folio's lock to the bio's end_io, thread 2, which
      // completes it: session 44); the reader looks the folio up again, finds it uptodate and copies its data
      const w2 = drive(m, r.s, 1);
      const io = m.threads.length > 2 ? drive(m, w2.s, 2) : w2;
      if (m.threads.length > 2) expect(io.s.pages[pfn(io.s)]!.locker).toBe(-1);
      const r2 = drive(m, io.s, 0);
      expect(r2.labels[1]).toMatch(/^filemap_get_pages\(\): filemap_get_read_batch/);
      expect(r2.s.threads[0]!.status).toBe('done');
      expect(r2.s.threads[0]!.frames).toEqual([]);
    },
  );
});

describe('linux-6.1 ext4_punch_hole: nothing past i_size (fs/ext4/inode.c:4054-4064)', () => {
  test('a hole at or past EOF is not punched: the invalidate_lock is not taken, no page or block goes', async () => {
    const m = await machineOf(
      scenario(4096, '{ index: 0 }, { index: 1 }', 2, '  - { name: h, program: punch_hole, args: { file: data, offset: 4096, length: 4096 } }'),
      'linux-6.1',
    );
    const h = drive(m, m.initial(), 0);
    expect(h.s.threads[0]!.status).toBe('done');
    expect(h.effects).toContain('offset 4096 >= i_size 4096: nothing to punch');
    expect(h.labels).not.toContain('filemap_invalidate_lock(mapping)');
    expect(h.s.maps[0]!.cache[1]).not.toBe(-1);
  });

  test('a hole reaching past EOF ends after the page that holds i_size: a page cached beyond that stays', async () => {
    const m = await machineOf(
      scenario(8192, '{ index: 0 }, { index: 1 }, { index: 3 }', 4, '  - { name: h, program: punch_hole, args: { file: data, offset: 4096, length: 12288 } }'),
      'linux-6.1',
    );
    const h = drive(m, m.initial(), 0);
    expect(h.s.threads[0]!.status).toBe('done');
    const cache = h.s.maps[0]!.cache;
    expect(cache[1] ?? -1).toBe(-1); // punched
    expect(cache[0]).not.toBe(-1);
    expect(cache[3]).not.toBe(-1); // length = i_size + PAGE_SIZE - offset: pages 1 and 2 only
  });
});

describe('linux-6.1 do_fault_around: the window of a VMA above 2^31 (mm/memory.c:4569-4600)', () => {
  test("fault-around at a user address maps the 64 KiB-aligned block around the faulting page, not the VMA's first 16 pages", async () => {
    const m = await machineOf(
      scenario(32 * 4096, '{ index: 17 }, { index: 20 }', 32, '  - { name: f, program: fault_around, args: { mm: p, index: 20 } }', '0x7f0000000000'),
      'linux-6.1',
    );
    const f = drive(m, m.initial(), 0);
    expect(f.s.threads[0]!.status).toBe('done');
    // address & ~0xffff is start + 0x10000: the window is pages 16..31 (the model cut the address to 32 bits: pages 0..15)
    expect(f.s.ptes[0]![17]).not.toBe(-1);
    expect(f.s.ptes[0]![20]).not.toBe(-1);
  });
});
