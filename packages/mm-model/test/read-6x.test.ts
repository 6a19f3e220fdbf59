/**
 * The 6.x buffered read (flavors/linux-6.1/read.ts, linux-6.12/read.ts) against 6.1.192 and 6.12.118:
 *
 * - filemap_read_folio (mm/filemap.c:2473-2504 of 6.1.192, 2373-2396 of 6.12.118) starts the I/O, whose
 *   completion unlocks the folio; the reader returns from folio_wait_locked_killable later and only then
 *   do filemap_create_folio / filemap_update_page drop the invalidate_lock. Until session 42 the unlock,
 *   the uptodate test and the invalidate_lock's release were one step.
 * - XFS's read holds i_rwsem shared (xfs_file_buffered_read, fs/xfs/xfs_file.c:287-291 of 6.12.118);
 *   ext4's takes no inode lock. Until session 42 the XFS read took none.
 */
import { describe, expect, test } from '@jest/globals';
import { PG, type MmState } from '@kreplay/mm-model';
import { completeIo, drive, machineOf } from './helpers/scenarios.js';

const scenario = (flavor: string, fs: string, other: string, pages = '[]', size = 4096) => `
flavor: ${flavor}
files:
  - { name: data, fs: ${fs}, dev: "8:1", ino: 0x2a, size: ${size}, pages: ${pages} }
threads:
  - { name: reader, program: read, args: { file: data, index: 0 } }
  - ${other}`;

const cached = (s: MmState) => s.maps[0]!.cache[0] ?? -1;

describe.each(['linux-6.1', 'linux-6.12'])(
  '%s buffered read of a cached page that is not uptodate (ext4): filemap_update_page → filemap_read_folio',
  (flavor) => {
    test('the I/O completion unlocks the folio; the reader still holds its reference and the invalidate_lock until it returns from the wait', async () => {
      const m = await machineOf(
        scenario(flavor, 'ext4', '{ name: inval, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }', '[{ index: 0, flags: [] }]'),
        flavor,
      );
      const done = (s: MmState) => cached(s) >= 0 && s.pages[cached(s)]!.locker === -1 && (s.pages[cached(s)]!.flags & PG.uptodate) !== 0;
      const r = drive(m, m.initial(), 0, done);
      expect(done(r.s)).toBe(true);
      const pfn = cached(r.s);
      // folio_mark_uptodate + folio_unlock happened; the reader has not returned from filemap_read_folio
      expect(r.s.maps[0]!.invalidateLock.readers).toEqual([0]);
      expect(r.s.pages[pfn]!.refcount).toBe(2);
      expect(m.next(r.s, 0)!.label).toMatch(/folio_wait_locked_killable\(folio\); if \(folio_test_uptodate\(folio\)\) return 0/);
      // another thread locks the folio in that window: the woken reader does not wait for it
      const locked = drive(m, r.s, 1, (s) => s.pages[pfn]!.locker === 1);
      expect(locked.s.pages[pfn]!.locker).toBe(1);
      expect(m.next(locked.s, 0)!.enabled).toBe(true);
      const end = drive(m, drive(m, locked.s, 0).s, 1);
      // and the I/O completion context waits for the next read
      expect(end.s.threads.map((t) => t.status)).toEqual(['done', 'done', 'run']);
      expect(end.s.maps[0]!.invalidateLock.readers).toEqual([]);
    });
  },
);

describe('linux-6.12 buffered read on XFS holds i_rwsem shared', () => {
  test('a truncate (do_truncate inode_lock) waits for the whole read', async () => {
    const m = await machineOf(scenario('linux-6.12', 'xfs', '{ name: trunc, program: truncate, args: { file: data, size: 0 } }'), 'linux-6.12');
    const locked = drive(m, m.initial(), 0, (s) => s.maps[0]!.ilock.readers.includes(0));
    expect(locked.labels).toEqual([
      'read(): xfs_file_read_iter(): xfs_file_buffered_read()',
      'xfs_ilock_iocb(iocb, XFS_IOLOCK_SHARED): down_read(&VFS_I(ip)->i_rwsem)',
    ]);
    expect(m.next(locked.s, 1)!.enabled).toBe(false);
    const read = drive(m, locked.s, 0);
    expect(read.s.threads[0]!.status).toBe('done');
    expect(read.labels.at(-1)).toMatch(/^xfs_iunlock\(ip, XFS_IOLOCK_SHARED\)/);
    expect(read.s.maps[0]!.ilock.readers).toEqual([]);
    expect(m.next(read.s, 1)!.enabled).toBe(true);
  });

  test('ext4 reads take no inode lock: the truncate runs beside the read', async () => {
    const m = await machineOf(scenario('linux-6.12', 'ext4', '{ name: trunc, program: truncate, args: { file: data, size: 0 } }'), 'linux-6.12');
    const s = drive(m, m.initial(), 0, (x) => cached(x) >= 0).s;
    expect(s.maps[0]!.ilock.readers).toEqual([]);
    expect(m.next(s, 1)!.enabled).toBe(true);
  });
});

// 6.12.118 mm/filemap.c:2557-2576 (session 42), 6.1.192 mm/filemap.c:2661-2672 (session 43: until then 6.1's miss went
// straight to filemap_create_folio)
describe.each(['linux-6.1', 'linux-6.12'])('%s buffered read of an uncached page: page_cache_sync_readahead first', (flavor) => {
  const cache = (s: MmState) => [...s.maps[0]!.cache.entries()].filter(([, pfn]) => pfn >= 0).map(([ix]) => ix);

  test('index 0: do_page_cache_ra(ractl, 4, 3) over the file (ext4), the read finds readahead folio, filemap_create_folio is not called', async () => {
    const m = await machineOf(
      scenario(flavor, 'ext4', '{ name: idle, program: invalidate_mapping_pages, args: { file: data, start: 9, end: 9 } }', '[]', 8192),
      flavor,
    );
    const r = drive(m, m.initial(), 0);
    expect(r.s.threads[0]!.status).toBe('done');
    expect(r.labels[1]).toMatch(
      flavor === 'linux-6.1'
        ? /page_cache_sync_readahead\(\): ondemand_readahead\(\): index 0: initial_readahead: ra->size = get_init_ra_size\(1, 32\) = 4, ra->async_size = 3/
        : /page_cache_sync_readahead\(\): index 0: ra->size = get_init_ra_size\(1, 32\) = 4, ra->async_size = 3/,
    );
    // ext4 has no large folios: page_cache_ra_order's fallback, do_page_cache_ra → page_cache_ra_unbounded, then read_pages
    expect(r.labels[2]).toMatch(/!mapping_large_folio_support\(mapping\): goto fallback; do_page_cache_ra\(\)/);
    expect(r.labels.filter((l) => /^read_pages\(ractl\)/.test(l))).toHaveLength(2);
    // do_page_cache_ra's i_size_read: a plain load on 6.1.192 (mm/readahead.c:287), an acquire on 6.12.118 (307)
    const atRa = drive(m, m.initial(), 0, (s) => /goto fallback/.test(m.next(s, 0)?.label ?? ''));
    const isize = m.next(atRa.s, 0)!.accesses.find((a) => a.loc.endsWith('.i_size'))!;
    expect(isize.lkmm).toMatchObject(
      flavor === 'linux-6.1'
        ? {
            op: 'plain-read',
            cite: expect.stringMatching(/^mm\/readahead\.c do_page_cache_ra\(\) 6\.1\.192: isize = i_size_read\(inode\) \(mm\/readahead\.c:287\)/),
          }
        : {
            op: 'smp_load_acquire',
            cite: expect.stringMatching(/^mm\/readahead\.c do_page_cache_ra\(\) 6\.12\.118: isize = i_size_read\(inode\) \(mm\/readahead\.c:307\)/),
          },
    );
    expect(r.labels.some((l) => /filemap_create_folio\(\): folio = filemap_alloc_folio/.test(l))).toBe(false);
    // the window clipped to the page holding the last byte: two order-0 folios
    expect(cache(r.s)).toEqual([0, 1]);
    expect(r.effects).toMatch(/read\(\) sees M0\[0\]v0/);
  });

  test('between readahead and the second lookup the reader holds no reference: an invalidation may drop the folio, the read then creates one', async () => {
    const m = await machineOf(scenario(flavor, 'ext4', '{ name: inval, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }'), flavor);
    const atGet2 = drive(m, m.initial(), 0, (s) => /after page_cache_sync_readahead/.test(m.next(s, 0)?.label ?? ''));
    atGet2.s = completeIo(m, atGet2.s);
    const pfn = atGet2.s.maps[0]!.cache[0]!;
    expect(pfn).toBeGreaterThanOrEqual(0);
    expect(atGet2.s.pages[pfn]!.refcount).toBe(1);
    expect(atGet2.s.maps[0]!.invalidateLock.readers).toEqual([]);
    const evicted = drive(m, atGet2.s, 1);
    expect(cache(evicted.s)).toEqual([]);
    expect(m.next(evicted.s, 0)!.label).toMatch(/empty: filemap_create_folio\(\)$/);
    const r = drive(m, evicted.s, 0);
    expect(r.labels.some((l) => /filemap_create_folio\(\): folio = filemap_alloc_folio/.test(l))).toBe(true);
    expect(r.s.threads[0]!.status).toBe('done');
  });

  test('index > 0 after at most one cached page: a small random read, do_page_cache_ra(ractl, 1, 0)', async () => {
    const m = await machineOf(
      scenario(
        flavor,
        'ext4',
        '{ name: idle, program: invalidate_mapping_pages, args: { file: data, start: 9, end: 9 } }',
        '[{ index: 0, flags: [uptodate] }]',
        16384,
      ).replace('index: 0 }', 'index: 1 }'),
      flavor,
    );
    const r = drive(m, m.initial(), 0);
    expect(r.effects).toMatch(
      flavor === 'linux-6.1'
        ? /try_context_readahead\(\): size 1 <= req_size 1: do_page_cache_ra\(ractl, 1, 0\)/
        : /contig_count 1 <= req_count 1: do_page_cache_ra\(ractl, 1, 0\)/,
    );
    expect(cache(r.s)).toEqual([0, 1]);
    expect(r.s.threads[0]!.status).toBe('done');
  });

  test.each([
    ['ext4', 12288, 'do_page_cache_ra(ractl, 4, 3) over 3 pages marks index 0 (page_cache_ra_unbounded)'],
    // linux-6.1 takes ext4 files only
    ...(flavor === 'linux-6.12' ? [['xfs', 8192, 'an order-1 folio at 0 holds the mark at 1 (ra_alloc_folio)'] as const] : []),
  ])('%s, %d bytes: a window that would set PG_readahead stops the search (%s)', async (fs, size) => {
    const m = await machineOf(
      scenario(flavor, fs, '{ name: idle, program: invalidate_mapping_pages, args: { file: data, start: 9, end: 9 } }', '[]', size),
      flavor,
    );
    expect(() => drive(m, m.initial(), 0)).toThrow(/would add the folio at index 0 with PG_readahead set .*page_cache_async_ra.* is not modelled/);
  });
});

// 2026-12-07 (session 44): read_pages submits the reads and returns with the folios locked and not uptodate; the bio's
// end_io completes them later in its own context (6.1.192 fs/ext4/readpage.c:175-185, 69-91; 6.12.118 folio_end_read),
// the machine's daemon thread end_io. Until then the model completed them inside read_pages.
describe.each(['linux-6.1', 'linux-6.12'])('%s: readahead I/O completes in its own context (end_io)', (flavor) => {
  /** Steps thread t while it can (never end_io): the labels. */
  const alone = (m: Awaited<ReturnType<typeof machineOf>>, s: MmState, t: number) => {
    const labels: string[] = [];
    for (let n = m.next(s, t); n?.enabled; n = m.next(s, t)) {
      labels.push(n.label);
      s = m.step(s, t).state;
    }
    return { s, labels };
  };

  test("the reader's second lookup finds the folio locked and not uptodate: filemap_update_page's trylock fails, it waits for end_io; a truncate waits for it too", async () => {
    const m = await machineOf(scenario(flavor, 'ext4', '{ name: trunc, program: truncate, args: { file: data, size: 0 } }'), flavor);
    const io = m.env.endIo!;
    expect(io).toBe(2);
    expect(m.threads[io]).toMatchObject({ name: 'end_io', daemon: true });
    expect(m.next(m.initial(), io)).toMatchObject({ enabled: false, blockedOn: 'a read to complete (none in flight)' });
    const r = alone(m, m.initial(), 0);
    expect(r.labels.some((l) => /^read_pages\(ractl\).*submit_bio\(\)/.test(l))).toBe(true);
    expect(r.labels.at(-1)).toMatch(/^if \(!folio_trylock\(folio\)\) \{ filemap_invalidate_unlock_shared\(mapping\); folio_put_wait_locked/);
    const pfn = cached(r.s);
    expect(r.s.pages[pfn]!.locker).toBe(io);
    expect(r.s.pages[pfn]!.flags & PG.uptodate).toBe(0);
    expect(m.next(r.s, 0)).toMatchObject({ enabled: false, blockedOn: `PG_locked of pfn 0x${pfn.toString(16)}, held by T2 (end_io)` });
    // the truncate meets the locked, not uptodate folio and waits for the same completion
    const t = alone(m, r.s, 1);
    expect(m.next(t.s, 1)).toMatchObject({ enabled: false, blockedOn: `PG_locked of pfn 0x${pfn.toString(16)}, held by T2 (end_io)` });
    // the completion: uptodate, unlocked; both go on and finish
    const done = m.step(t.s, io).state;
    expect(done.pages[pfn]!.locker).toBe(-1);
    expect(done.pages[pfn]!.flags & PG.uptodate).toBe(PG.uptodate);
    const end = drive(m, drive(m, done, 0).s, 1);
    expect(end.s.threads.map((th) => th.status)).toEqual(['done', 'done', 'run']);
    expect(cached(end.s)).toBe(-1);
  });

  test('a reader asleep in folio_put_wait_locked since before the submission sleeps on across the hand-over, until end_io unlocks', async () => {
    const m = await machineOf(scenario(flavor, 'ext4', '{ name: reader2, program: read, args: { file: data, index: 0 } }'), flavor);
    const io = m.env.endIo!;
    // reader 0 has added the folio (locked, its) and is about to submit its read
    const added = drive(m, m.initial(), 0, (s) => /^read_pages\(ractl\)/.test(m.next(s, 0)?.label ?? ''));
    const pfn = cached(added.s);
    expect(added.s.pages[pfn]!.locker).toBe(0);
    // reader 1 finds it not uptodate, fails the trylock and sleeps on reader 0's lock
    const asleep = alone(m, added.s, 1);
    expect(asleep.labels.at(-1)).toMatch(/^if \(!folio_trylock\(folio\)\)/);
    expect(m.next(asleep.s, 1)).toMatchObject({ enabled: false, blockedOn: `PG_locked of pfn 0x${pfn.toString(16)}, held by T0 (reader)` });
    // the submission hands the lock to end_io without a release: no wake-up
    const submitted = m.step(asleep.s, 0).state;
    expect(submitted.pages[pfn]!.locker).toBe(io);
    expect(m.next(submitted, 1)).toMatchObject({ enabled: false, blockedOn: `PG_locked of pfn 0x${pfn.toString(16)}, held by T2 (end_io)` });
    // end_io's unlock wakes it
    expect(m.next(m.step(submitted, io).state, 1)!.enabled).toBe(true);
  });

  // 2026-12-07 (session 46): the release of PG_locked wakes the DROP sleepers (folio_unlock() → folio_wake_bit(), 6.1.192
  // mm/filemap.c:1554, 1139; 6.12.118 1514, 1141), which never look at the folio again (1319-1330; 1295-1306). Until
  // session 46 the sleeper slept while the thread it queued behind, or end_io, held the pfn's lock: here, behind
  // invalidate_mapping_pages, whose unlock woke it in the kernel, until end_io completed the pfn's next folio.
  test('a reader asleep behind invalidate_mapping_pages is woken by its unlock, though the pfn is freed, read ahead again and handed to end_io before it runs', async () => {
    const m = await machineOf(
      scenario(
        flavor,
        'ext4',
        `name: dropper
    program: invalidate_mapping_pages
    args: { file: data, start: 0, end: 0 }
    then:
      - { program: read, args: { file: data, index: 0 } }`,
        '[{ index: 0, flags: [] }]',
      ),
      flavor,
    );
    const io = m.env.endIo!;
    const pfn = cached(m.initial());
    // the reader has looked the folio up (not uptodate) and taken the invalidate_lock for filemap_update_page
    const ready = drive(m, m.initial(), 0, (s) => /^folio_lock\(folio\)/.test(m.next(s, 0)?.label ?? ''));
    // invalidate_mapping_pages locks the folio; the reader's trylock fails: it queues (PG_waiters) and puts its reference
    const locked = drive(m, ready.s, 1, (s) => s.pages[pfn]!.locker === 1);
    const asleep = m.step(locked.s, 0);
    expect(asleep.effect).toMatch(/^folio_trylock\(pfn1\) failed/);
    expect(asleep.state.pages[pfn]!.waiters).toBe(1 << 0);
    expect(m.next(asleep.state, 0)).toMatchObject({ enabled: false, blockedOn: 'PG_locked of pfn 0x1, held by T1 (dropper)' });
    // the folio is evicted and unlocked (the wake-up), freed; the dropper's read allocates the same pfn and hands it to end_io
    const evicted = drive(m, asleep.state, 1, (s) => s.pages[pfn] === undefined);
    expect(evicted.effects).toContain('folio_wake_bit: wake T0 (reader)');
    const handed = drive(m, evicted.s, 1, (s) => s.pages[pfn]?.locker === io);
    expect(handed.labels.at(-1)).toMatch(/^read_pages\(ractl\)/);
    expect(handed.s.pages[pfn]!.waiters).toBeUndefined();
    // the reader was woken at the unlock: it runs now, not after end_io's completion, finds the new folio locked by
    // end_io and not uptodate, and sleeps again, behind end_io
    expect(m.next(handed.s, 0)!.enabled).toBe(true);
    const again = alone(m, handed.s, 0);
    expect(again.labels[0]).toMatch(/^folio_put_wait_locked\(\)/);
    expect(again.labels.at(-1)).toMatch(/^if \(!folio_trylock\(folio\)\)/);
    expect(again.s.pages[pfn]!.locker).toBe(io);
    expect(m.next(again.s, 0)).toMatchObject({ enabled: false, blockedOn: 'PG_locked of pfn 0x1, held by T2 (end_io)' });
    // the hand-over woke nobody; end_io's completion wakes it, and both readers finish
    const done = m.step(again.s, io);
    expect(done.effect).toContain('folio_wake_bit: wake T0 (reader)');
    const end = drive(m, drive(m, done.state, 0).s, 1);
    expect(end.s.threads.map((th) => th.status)).toEqual(['done', 'done', 'run']);
  });

  test('a scenario thread may not take the name end_io: an input error at its line', async () => {
    const yaml = scenario(flavor, 'ext4', '{ name: end_io, program: truncate, args: { file: data, size: 0 } }');
    await expect(machineOf(yaml, flavor)).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/^thread end_io: the name is the I\/O completion context's/),
      line: 7,
    });
  });
});
