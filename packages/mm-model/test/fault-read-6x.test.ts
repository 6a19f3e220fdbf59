/**
 * The 6.x read fault's page_not_uptodate (flavors/linux-6.1/fault.ts, reused by 6.12) against
 * 6.1.192 and 6.12.118: filemap_fault (mm/filemap.c:3332-3349 / 3431-3448) calls
 * filemap_read_folio (2473-2504 / 2373-2396), which submits the read; the I/O completion marks
 * the folio uptodate and unlocks it in another context, and only when the faulting task returns
 * from folio_wait_locked_killable does it test PG_uptodate, drop its folio reference (3343 /
 * 3442) and go back to retry_find, the invalidate_lock still held. Until session 43 the
 * completion, the folio_put and the retry were one step on the path that reads in place (a
 * retried fault, FAULT_FLAG_TRIED): no other thread could run between the unlock and the put.
 */
import { describe, expect, test } from '@jest/globals';
import { PG, type MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

const scenario = (flavor: string) => `
flavor: ${flavor}
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 1 }
threads:
  - { name: f, program: fault, args: { mm: p, index: 0 } }
  - { name: inval, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }`;

const cached = (s: MmState) => s.maps[0]!.cache[0] ?? -1;
const tried = (s: MmState) => s.threads[0]!.frames.find((f) => f.proc === 'do_read_fault')?.l.tried;

describe.each(['linux-6.1', 'linux-6.12'])('%s read fault, page_not_uptodate: filemap_read_folio', (flavor) => {
  test('a retried fault reads in place: the I/O completion unlocks the folio while the fault still holds its reference and the invalidate_lock, until it returns from the wait', async () => {
    const m = await machineOf(scenario(flavor), flavor);
    // first try: a miss, the read with the mmap_lock dropped, VM_FAULT_RETRY (FAULT_FLAG_TRIED set)
    const first = drive(m, m.initial(), 0, (s) => tried(s) === 1);
    expect(tried(first.s)).toBe(1);
    // before the retry, invalidate_mapping_pages evicts the clean, unmapped folio the first try read
    const evicted = drive(m, first.s, 1);
    expect(cached(evicted.s)).toBe(-1);
    // the retry misses, creates a folio and reads it in place: stop at the I/O completion
    const done = (s: MmState) => cached(s) >= 0 && s.pages[cached(s)]!.locker === -1 && (s.pages[cached(s)]!.flags & PG.uptodate) !== 0;
    const r = drive(m, evicted.s, 0, done);
    expect(done(r.s)).toBe(true);
    const pfn = cached(r.s);
    // folio_mark_uptodate + folio_unlock happened; the fault has not returned from filemap_read_folio
    expect(r.s.maps[0]!.invalidateLock.readers).toEqual([0]);
    expect(r.s.pages[pfn]!.refcount).toBe(2);
    expect(r.labels.at(-1)).toMatch(/^page_not_uptodate: filemap_read_folio\(.*the I\/O completes: folio_mark_uptodate\(folio\); folio_unlock\(folio\)$/);
    expect(m.next(r.s, 0)!.label).toMatch(
      /^filemap_read_folio: folio_wait_locked_killable\(folio\) returns; if \(folio_test_uptodate\(folio\)\) return 0; folio_put\(folio\); goto retry_find$/,
    );
    // the wake-up drops the reference and goes back to retry_find with the invalidate_lock held
    const woke = m.step(r.s, 0).state;
    expect(woke.pages[pfn]!.refcount).toBe(1);
    expect(woke.maps[0]!.invalidateLock.readers).toEqual([0]);
    const end = drive(m, woke, 0);
    expect(end.s.threads[0]!.status).toBe('done');
    expect(end.s.ptes[0]![0]).toBe(pfn);
    expect(end.s.maps[0]!.invalidateLock.readers).toEqual([]);
  });

  test('the first try (mmap_lock dropped) wakes, tests PG_uptodate and goes to out_retry, which drops the reference and the invalidate_lock', async () => {
    const m = await machineOf(scenario(flavor), flavor);
    const done = (s: MmState) => cached(s) >= 0 && (s.pages[cached(s)]!.flags & PG.uptodate) !== 0;
    const r = drive(m, m.initial(), 0, done);
    const pfn = cached(r.s);
    expect(r.s.pages[pfn]!.locker).toBe(-1);
    expect(r.s.pages[pfn]!.refcount).toBe(2);
    expect(r.s.maps[0]!.invalidateLock.readers).toEqual([0]);
    expect(m.next(r.s, 0)!.label).toMatch(
      /^filemap_read_folio: folio_wait_locked_killable\(folio\) returns; folio_test_uptodate\(folio\); if \(fpin\) goto out_retry$/,
    );
    const woke = m.step(r.s, 0).state;
    expect(woke.pages[pfn]!.refcount).toBe(2);
    expect(m.next(woke, 0)!.label).toMatch(/^out_retry:/);
  });
});
