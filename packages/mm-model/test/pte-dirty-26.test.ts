/**
 * Where a store's dirtiness lives in the 2.6 flavors (session 20). 2.6.15 has no dirty
 * tracking of shared mappings: a store sets the PTE's dirty bit and the page stays clean
 * until zap_pte_range moves the bit over (`if (pte_dirty(ptent)) set_page_dirty(page)`).
 * 2.6.23 maps a shared ext3 page write-protected and dirties the page at the first write
 * (vma_wants_writenotify; do_wp_page / __do_fault's set_page_dirty_balance after the PTE unlock,
 * session 21: write-fault-2623.test.ts walks that window).
 */
import { describe, expect, test } from '@jest/globals';
import { PG, type MmMachine, type MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

/** One cached page (pfn 7, with buffers: PG_private) mapped by `p`; an O_DIRECT write of it (T0) and a store to it (T1). */
const scenario = (flavor: string) => `
flavor: ${flavor}
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [{ index: 0, pfn: 7, flags: [uptodate, private] }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 1, ptes: [0] }
threads:
  - { name: dio, program: odirect_write, args: { file: data, offset: 0, length: 4096 } }
  - { name: st, program: store, args: { mm: p, index: 0 } }
  # never run here: a thread that reads makes the machine track which version a page holds (Program.readsData)
  - { name: rd, program: read, args: { file: data, index: 0 } }
`;

const dirty = (s: MmState) => (s.pages[7]!.flags & PG.dirty) !== 0;
const pteDirty = (s: MmState) => s.pted?.[0]?.[0] === 1;
const at = (s: MmState, t: number, proc: string, pc: string) => {
  const f = s.threads[t]!.frames.at(-1);
  return f?.proc === proc && f.pc === pc;
};
const done = (m: MmMachine, s: MmState, t: number) => drive(m, s, t);

describe('a store through a shared mapping: the PTE dirty bit (2.6.15), write notification (2.6.23)', () => {
  test('2.6.15: a store through a present PTE dirties the PTE, not the page', async () => {
    for (const flavor of ['linux-2.6.15', 'linux-2.6.15-seqschedlock']) {
      const m = await machineOf(scenario(flavor), flavor);
      const r = done(m, m.initial(), 1);
      expect(r.s.threads[1]!.status).toBe('done');
      expect(r.labels[0]).toMatch(/the CPU sets the PTE's dirty bit/);
      expect(pteDirty(r.s)).toBe(true);
      expect(dirty(r.s)).toBe(false);
      expect(r.s.pages[7]!.data).not.toBe(m.initial().pages[7]!.data);
      // the bit is state: the explorer's words and the key tell the state from the same one without it
      const without = { ...r.s, pted: undefined };
      const words = (s: MmState) => {
        const out = new Int32Array(4096);
        return [...out.subarray(0, m.encode(s, out))].join(',');
      };
      expect(words(without)).not.toBe(words(r.s));
      expect(m.key(without)).not.toBe(m.key(r.s));
    }
  });

  test('2.6.23: the same store write-protect faults (do_wp_page): the PTE made writable and dirty, the page dirtied by the fault', async () => {
    const m = await machineOf(scenario('linux-2.6.23'), 'linux-2.6.23');
    const r = done(m, m.initial(), 1);
    expect(r.labels[0]).toMatch(/write-protected and clean → write-protect fault \(do_wp_page\)/);
    expect(r.labels).toContain('set_page_dirty_balance(dirty_page, page_mkwrite); put_page(dirty_page)');
    expect(dirty(r.s)).toBe(true);
    expect(pteDirty(r.s)).toBe(true);
  });

  test("2.6.15: the O_DIRECT write's unmap moves a stored PTE's dirty bit to the page, and writeback writes it", async () => {
    const m = await machineOf(scenario('linux-2.6.15'), 'linux-2.6.15');
    const st = done(m, m.initial(), 1).s;
    const stored = st.pages[7]!.data;
    const zapped = drive(m, st, 0, (s) => at(s, 0, 'generic_file_direct_IO', 'wb'));
    expect(zapped.labels).toContain('if (pte_dirty(ptent)) set_page_dirty(page)');
    expect(st.ptes[0]![0]).toBe(7);
    expect(zapped.s.ptes[0]![0]).toBe(-1);
    expect(pteDirty(zapped.s)).toBe(false);
    expect(zapped.s.pted).toBeUndefined(); // no all-zero table: the state is the one a clean PTE's zap gives
    expect(dirty(zapped.s)).toBe(true);
    // writeback: the dirty-tag lookup, then mpage_writepages' locked step for the page
    const wb = drive(m, zapped.s, 0, (s) => at(s, 0, 'generic_file_direct_IO', 'direct'));
    expect(wb.labels.some((l) => l.startsWith('lock_page(page); if (page->mapping != mapping)'))).toBe(true);
    expect(dirty(wb.s)).toBe(false);
    expect(wb.s.disk).toContain(stored);
  });

  test('2.6.15: a store re-faulted between the unmap and filemap_write_and_wait is not written back; the invalidate zap dirties the page and fails with -EIO', async () => {
    const m = await machineOf(scenario('linux-2.6.15'), 'linux-2.6.15');
    // the O_DIRECT write unmaps the (clean) PTE and stops before filemap_write_and_wait
    const unmapped = drive(m, m.initial(), 0, (s) => at(s, 0, 'generic_file_direct_IO', 'wb')).s;
    expect(unmapped.ptes[0]![0]).toBe(-1);
    // the store write-faults: do_no_page installs the PTE dirty (write_access), then the store lands
    const st = done(m, unmapped, 1);
    expect(st.labels.some((l) => l.includes('pte_mkdirty'))).toBe(true);
    expect(st.s.ptes[0]![0]).toBe(7);
    expect(pteDirty(st.s)).toBe(true);
    expect(dirty(st.s)).toBe(false);
    const stored = st.s.pages[7]!.data;
    // writeback finds no dirty page: the store's data does not reach the disk
    const wb = drive(m, st.s, 0, (s) => !at(s, 0, 'generic_file_direct_IO', 'wb'));
    expect(wb.s.disk).not.toContain(stored);
    // ->direct_IO, then invalidate_inode_pages2_range: its unmap moves the PTE's bit to the page, test_clear_page_dirty
    // clears the page's bit but not its buffers', try_to_release_page fails: -EIO, the page dirty again with the older data
    const rest = done(m, wb.s, 0);
    expect(rest.s.threads[0]!.status).toBe('done');
    expect(rest.labels).toContain('if (pte_dirty(ptent)) set_page_dirty(page)');
    expect(rest.effects).toMatch(/try_to_release_page: dirty buffers: busy/);
    expect(rest.labels).toContain('if (was_dirty) set_page_dirty(page); ret = -EIO');
    expect(rest.s.maps[0]!.cache[0]).toBe(7);
    expect(dirty(rest.s)).toBe(true);
    expect(rest.s.pages[7]!.data).toBe(stored);
  });
});
