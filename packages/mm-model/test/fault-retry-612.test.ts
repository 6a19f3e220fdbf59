/**
 * linux-6.12's VM_FAULT_RETRY (flavors/linux-6.12/retry.ts), one schedule at a time. 6.12.118's
 * filemap_fault drops the fault lock where 6.1's does (lock_folio_maybe_drop_mmap,
 * mm/filemap.c:3117-3135; page_not_uptodate, 3438-3441), and a user fault first runs under the
 * per-VMA lock: after its VM_FAULT_RETRY, do_user_addr_fault sets FAULT_FLAG_TRIED only when the
 * try was VM_FAULT_MAJOR (arch/x86/mm/fault.c:1345-1346), so a fault that found its folio
 * cached may drop the lock and retry once more under the mmap_lock (1408-1412).
 */
import { describe, expect, test } from '@jest/globals';
import type { MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

const top = (s: MmState, t: number) => s.threads[t]!.frames.at(-1);
const fault = (s: MmState, t: number) => s.threads[t]!.frames.find((f) => f.proc === 'do_read_fault')?.l;
const drops = (labels: string[]) => labels.filter((l) => /maybe_unlock_mmap_for_io/.test(l)).length;

describe('linux-6.12 VM_FAULT_RETRY', () => {
  test('a miss: the first try reads the folio with the fault lock dropped, returns VM_FAULT_RETRY|VM_FAULT_MAJOR, and the retry (FAULT_FLAG_TRIED) maps it through filemap_map_pages', async () => {
    const m = await machineOf(
      `
flavor: linux-6.12
files:
  - { name: data, fs: ext4, dev: "8:1", ino: 0x2a, size: 8192 }
processes:
  - { name: p, vmas: [{ file: data, start: 0x10000, pages: 2 }] }
threads:
  - { name: f, program: fault, args: { mm: p, index: 0 } }`,
      'linux-6.12',
    );
    const f = drive(m, m.initial(), 0, (s) => top(s, 0)?.pc === 'again');
    expect(f.effects).toContain('the fault will return VM_FAULT_RETRY');
    expect(f.labels.at(-1)).toMatch(/^out_retry:.*if \(fault & VM_FAULT_MAJOR\) flags \|= FAULT_FLAG_TRIED/);
    expect(fault(f.s, 0)).toMatchObject({ tried: 1, vl: 0, fpin: 0 });
    const g = drive(m, f.s, 0);
    expect(g.labels[0]).toMatch(/^VM_FAULT_RETRY: do_user_addr_fault\(\): FAULT_FLAG_TRIED/);
    expect(g.labels.some((l) => l.startsWith('finish_fault'))).toBe(false); // fault-around maps it
    expect(g.s.ptes[0]![0]).not.toBe(-1);
    expect(g.s.threads[0]!.status).toBe('done');
  });

  test('a cached folio: the per-VMA lock try and the first mmap_lock try both drop the lock on a contended folio lock; only the third try has FAULT_FLAG_TRIED', async () => {
    // page 0 cached, not uptodate; g and f fault on it from two processes
    const m = await machineOf(
      `
flavor: linux-6.12
files:
  - { name: data, fs: ext4, dev: "8:1", ino: 0x2a, size: 8192, pages: [{ index: 0, flags: [] }] }
processes:
  - { name: p, vmas: [{ file: data, start: 0x10000, pages: 2 }] }
  - { name: q, vmas: [{ file: data, start: 0x10000, pages: 2 }] }
threads:
  - { name: g, program: fault, args: { mm: p, index: 0 } }
  - { name: f, program: fault, args: { mm: q, index: 0 } }`,
      'linux-6.12',
    );
    const pfn = m.initial().maps[0]!.cache[0]!;
    const lockedBy = (t: number) => (s: MmState) => s.pages[pfn]!.locker === t;
    // g locks the folio to read it (page_not_uptodate)
    let g = drive(m, m.initial(), 0, (s) => top(s, 0)?.pc === 'read');
    expect(lockedBy(0)(g.s)).toBe(true);
    // f (per-VMA lock, cache hit): fault-around skips the folio, the trylock fails, the lock is dropped, f sleeps
    let f = drive(m, g.s, 1);
    expect(drops(f.labels)).toBe(1);
    expect(fault(f.s, 1)).toMatchObject({ tried: 0, fpin: 1, vl: 1 });
    // g reads the folio and retries; f takes the folio lock, finds it uptodate and retries: not VM_FAULT_MAJOR
    g = drive(m, f.s, 0, (s) => top(s, 0)?.pc === 'again');
    f = drive(m, g.s, 1, (s) => top(s, 1)?.pc === 'again');
    expect(f.labels.at(-1)).toMatch(/^out_retry:.*not VM_FAULT_MAJOR: FAULT_FLAG_TRIED stays clear/);
    expect(fault(f.s, 1)).toMatchObject({ tried: 0, fpin: 0, vl: 0 });
    // g's retry trylocks the folio in fault-around; f's second try (mmap_lock, still a first try) drops the lock again
    g = drive(m, f.s, 0, lockedBy(0));
    expect(top(g.s, 0)?.proc).toBe('do_fault_around'); // filemap_map_pages as the fault calls it (retry.ts)
    f = drive(m, g.s, 1);
    expect(f.labels[0]).toMatch(/^VM_FAULT_RETRY: do_user_addr_fault\(\): a first try again/);
    expect(drops(f.labels)).toBe(1);
    expect(fault(f.s, 1)).toMatchObject({ tried: 0, fpin: 1 });
    // g maps and ends; f's second retry has FAULT_FLAG_TRIED and maps through fault-around
    g = drive(m, f.s, 0);
    expect(g.s.threads[0]!.status).toBe('done');
    f = drive(m, g.s, 1, (s) => top(s, 1)?.pc === 'again');
    expect(f.labels.at(-1)).toMatch(/^out_retry:.*flags \|= FAULT_FLAG_TRIED; goto retry/);
    expect(fault(f.s, 1)).toMatchObject({ tried: 1 });
    f = drive(m, f.s, 1);
    expect(f.s.threads[1]!.status).toBe('done');
    expect(f.s.ptes[1]![0]).toBe(pfn);
  });
});
