/**
 * linux-6.1's VM_FAULT_RETRY (flavors/linux-6.1/retry.ts), one schedule at a time: a user
 * fault's first try drops the mmap_lock where 6.1.192 does, returns VM_FAULT_RETRY, and the
 * retry (FAULT_FLAG_TRIED) maps the page through fault-around (filemap_map_pages).
 */
import { describe, expect, test } from '@jest/globals';
import type { MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

const file = (pages: string, threads: string) => `
flavor: linux-6.1
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 8192, pages: [${pages}] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 2 }
threads:
${threads}`;

const pte0 = (s: MmState) => s.ptes[0]![0]!;
const tried = (s: MmState, t: number) => s.threads[t]!.frames.find((f) => f.proc === 'do_read_fault')?.l.tried;

describe('linux-6.1 VM_FAULT_RETRY', () => {
  test('a miss: the first try reads the folio with the mmap_lock dropped (page_not_uptodate), returns VM_FAULT_RETRY, and the retry maps it through filemap_map_pages', async () => {
    const m = await machineOf(file('', '  - { name: f, program: fault, args: { mm: p, index: 0 } }'), 'linux-6.1');
    const f = drive(m, m.initial(), 0);
    const i = (re: RegExp) => f.labels.findIndex((l) => re.test(l));
    expect(f.effects).toContain('mmap_read_unlock(mm): the fault will return VM_FAULT_RETRY');
    // read, hand back, retake the mmap_lock and walk the PTE, fault-around maps the page
    expect(i(/^page_not_uptodate: fpin = maybe_unlock_mmap_for_io/)).toBeGreaterThan(0);
    expect(i(/^out_retry:/)).toBeGreaterThan(i(/^page_not_uptodate/));
    expect(i(/^VM_FAULT_RETRY: do_user_addr_fault\(\): flags \|= FAULT_FLAG_TRIED/)).toBeGreaterThan(i(/^out_retry:/));
    expect(f.labels.slice(i(/^VM_FAULT_RETRY/)).some((l) => l.includes('do_set_pte(): page_add_file_rmap(); set_pte_at()'))).toBe(true);
    expect(f.labels.some((l) => l.startsWith('finish_fault'))).toBe(false); // not mapped by __do_fault's path
    expect(pte0(f.s)).not.toBe(-1);
    expect(f.s.threads[0]!.status).toBe('done');
  });

  test('a contended folio lock: lock_folio_maybe_drop_mmap drops the mmap_lock, sleeps until the writer unlocks, takes the lock, hands the uptodate folio back (VM_FAULT_RETRY); the retry maps it through filemap_map_pages', async () => {
    const m = await machineOf(
      file(
        '{ index: 0 }',
        `  - { name: f, program: fault, args: { mm: p, index: 0 } }
  - { name: w, program: write, args: { file: data, offset: 0, length: 4096 } }`,
      ),
      'linux-6.1',
    );
    // the writer holds the folio lock (write_begin) ...
    const locked = (s: MmState) => s.pages[1]!.locker === 1;
    let r = drive(m, m.initial(), 1, locked);
    expect(locked(r.s)).toBe(true);
    // ... fault-around skips the locked folio, filemap_fault's trylock fails and drops the mmap_lock, then sleeps
    const f1 = drive(m, r.s, 0);
    expect(f1.labels.some((l) => l.startsWith('next_uptodate_page:'))).toBe(true);
    expect(f1.effects).toContain('pfn1 locked: skipped');
    expect(f1.labels.at(-1)).toMatch(/lock_folio_maybe_drop_mmap\(\): folio_trylock\(folio\) failed; \*fpin = maybe_unlock_mmap_for_io/);
    expect(m.next(f1.s, 0)!.enabled).toBe(false);
    expect(f1.s.threads[0]!.frames.at(-1)!.l.fpin).toBe(1);
    // the writer finishes; the fault takes the lock, finds the folio uptodate, unlocks it and retries
    r = drive(m, f1.s, 1);
    const f2 = drive(m, r.s, 0);
    expect(f2.labels[0]).toMatch(/if \(fpin\) \{ folio_unlock\(folio\); goto out_retry; \}$/);
    expect(f2.labels[1]).toMatch(/^out_retry:/);
    expect(f2.labels[2]).toMatch(/^VM_FAULT_RETRY:/);
    expect(f2.labels.slice(3).some((l) => l.includes('do_set_pte(): page_add_file_rmap(); set_pte_at()'))).toBe(true);
    expect(pte0(f2.s)).toBe(1);
    expect(f2.s.threads[0]!.status).toBe('done');
  });

  test('the retry does not drop the mmap_lock again: with FAULT_FLAG_TRIED a contended lock is waited for in place', async () => {
    const m = await machineOf(
      file(
        '{ index: 0 }',
        `  - { name: f, program: fault, args: { mm: p, index: 0 } }
  - { name: w, program: write, args: { file: data, offset: 0, length: 4096 } }
  - { name: w2, program: write, args: { file: data, offset: 0, length: 4096 } }`,
      ),
      'linux-6.1',
    );
    const lockedBy = (t: number) => (s: MmState) => s.pages[1]!.locker === t;
    let r = drive(m, m.initial(), 1, lockedBy(1));
    let f = drive(m, r.s, 0); // first try: trylock fails, sleeps
    r = drive(m, f.s, 1); // w finishes
    // the fault takes the lock and runs to VM_FAULT_RETRY's PTE walk, stopping before fault-around
    f = drive(m, r.s, 0, (s) => s.threads[0]!.frames.at(-1)!.pc === 'again');
    expect(tried(f.s, 0)).toBe(1);
    r = drive(m, f.s, 2, lockedBy(2)); // w2 locks the folio before the retry
    f = drive(m, r.s, 0);
    expect(f.effects).toContain('pfn1 locked: skipped');
    expect(f.effects).not.toContain('mmap_read_unlock');
    const wait = m.next(f.s, 0)!; // filemap_fault sleeps in folio_lock, the mmap_lock held
    expect(wait.enabled).toBe(false);
    expect(wait.label).toMatch(/folio_lock\(folio\); if \(folio->mapping != mapping\)/);
    r = drive(m, f.s, 2);
    f = drive(m, r.s, 0);
    expect(f.labels.some((l) => l.startsWith('finish_fault'))).toBe(true); // mapped by __do_fault → finish_fault
    expect(pte0(f.s)).toBe(1);
  });
});
