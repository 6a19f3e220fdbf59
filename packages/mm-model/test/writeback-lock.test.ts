/**
 * Writeback takes the page lock (session 22, kernel/writeback.ts): per dirty page the loop of
 * each release locks the page (the step waits while another thread holds it), rechecks
 * page->mapping (a page truncated since the lookup is skipped), cleans it and writes it only
 * when ->writepage's i_size test lets it (2.6: block_write_full_page writes no page wholly past
 * i_size; ext4 writes such a page only to an allocated block, 6.1 when its index is past
 * i_size's page, 6.12 when i_size is not page aligned). The old model cleaned every dirty page
 * in one step, locked or not, truncated or not, inside i_size or not.
 */
import { describe, expect, test } from '@jest/globals';
import { PG, type MmMachine, type MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';
import { writeback2615, writeback2623 } from '../src/flavors/linux-2.6.15/writeback.js';
import { writeback61 } from '../src/flavors/linux-6.1/writeback.js';
import { writeback612 } from '../src/flavors/linux-6.12/writeback.js';

const PFN = 7;
const page = (s: MmState) => s.pages[PFN];
const dirty = (s: MmState) => (page(s)!.flags & PG.dirty) !== 0;
const at = (s: MmState, t: number, proc: string, pc: string) => {
  const f = s.threads[t]!.frames.at(-1);
  return f?.proc === proc && f.pc === pc;
};
/** The disk block of page index `ix` of file 0 holds the page's data `data`. */
const onDisk = (s: MmState, ix: number, data: number) => s.disk[s.maps[0]!.bmap[ix]!] === data;

/** File `data` (size bytes) with pages `pages` cached (pfn 7 first), mapped by `p` with no PTE; one thread per entry of `threads`. */
const scenario = (flavor: string, size: number, pages: string, threads: readonly string[]) => `
flavor: ${flavor}
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: ${size}, pages: [${pages}] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 2 }
threads:
${threads.map((t) => `  - ${t}`).join('\n')}
`;
const DIRTY0 = `{ index: 0, pfn: ${PFN}, flags: [uptodate, dirty] }`;

describe('writeback waits for the page lock', () => {
  test('linux-6.1: fadvise writeback of a page a buffered write holds locked waits, then writes the new data', async () => {
    const m: MmMachine = await machineOf(
      scenario('linux-6.1', 4096, DIRTY0, [
        '{ name: wr, program: write, args: { file: data, offset: 0, length: 4096 } }',
        '{ name: fa, program: fadvise, args: { file: data, offset: 0, length: 4096 } }',
      ]),
      'linux-6.1',
      { trackData: true },
    );
    // the buffered write takes the folio lock (write_begin) and has not copied yet
    const locked = drive(m, m.initial(), 0, (s) => page(s)!.locker === 0).s;
    // fadvise's writeback looks the dirty page up, then waits for the lock: the old model cleaned it here
    const waiting = drive(m, locked, 1);
    expect(dirty(waiting.s)).toBe(true);
    expect(onDisk(waiting.s, 0, page(waiting.s)!.data)).toBe(false);
    expect(at(waiting.s, 1, 'mpage_prepare_extent_to_map', 'page')).toBe(true);
    expect(m.next(waiting.s, 1)?.enabled).toBe(false);
    // the write copies, dirties and unlocks; writeback then writes what it wrote
    const written = drive(m, waiting.s, 0);
    expect(written.s.threads[0]!.status).toBe('done');
    expect(written.effects).toMatch(/write\(\) copies M0\[0\]v\d+ into pfn7/);
    const data = page(written.s)!.data;
    expect(onDisk(written.s, 0, data)).toBe(false);
    const wb = drive(m, written.s, 1, (s) => at(s, 1, 'generic_fadvise', 'range'));
    expect(wb.labels[0]).toMatch(/^lock_page\(page\); if \(!PageDirty\(page\)/);
    expect(dirty(wb.s)).toBe(false);
    expect(onDisk(wb.s, 0, data)).toBe(true);
  });

  test('linux-2.6.23: the O_DIRECT write waits while invalidate_inode_pages2_range holds the dirty page locked', async () => {
    const m = await machineOf(
      scenario('linux-2.6.23', 4096, DIRTY0, [
        '{ name: inv, program: invalidate_inode_pages2_range, args: { file: data, start: 0, end: 0 } }',
        '{ name: dio, program: odirect_write, args: { file: data, offset: 4096, length: 4096 } }',
      ]),
      'linux-2.6.23',
      { trackData: true },
    );
    const locked = drive(m, m.initial(), 0, (s) => page(s)!.locker === 0).s;
    const waiting = drive(m, locked, 1);
    // the old model cleaned the page here, under invalidate's lock
    expect(dirty(waiting.s)).toBe(true);
    expect(at(waiting.s, 1, 'write_cache_pages', 'page')).toBe(true);
    expect(m.next(waiting.s, 1)?.enabled).toBe(false);
    // invalidate_complete_page2 refuses the dirty page (-EIO) and unlocks it; writeback goes on
    const inv = drive(m, waiting.s, 0);
    expect(inv.s.threads[0]!.status).toBe('done');
    const wb = drive(m, inv.s, 1, (s) => at(s, 1, 'generic_file_direct_IO', 'pre'));
    expect(dirty(wb.s)).toBe(false);
    expect(onDisk(wb.s, 0, page(inv.s)!.data)).toBe(true);
  });
});

describe('writeback skips a page truncated between the lookup and the lock', () => {
  test('linux-6.1: truncate removes the page after the dirty-tag lookup; writeback finds folio->mapping changed, writes nothing', async () => {
    const m = await machineOf(
      scenario('linux-6.1', 4096, DIRTY0, [
        '{ name: fa, program: fadvise, args: { file: data, offset: 0, length: 4096 } }',
        '{ name: tr, program: truncate, args: { file: data, size: 0 } }',
      ]),
      'linux-6.1',
    );
    const looked = drive(m, m.initial(), 0, (s) => at(s, 0, 'mpage_prepare_extent_to_map', 'page'));
    expect(at(looked.s, 0, 'mpage_prepare_extent_to_map', 'page')).toBe(true);
    // pagevec_lookup_range_tag's reference: the page cache's and writeback's
    expect(page(looked.s)!.refcount).toBe(2);
    const tr = drive(m, looked.s, 1);
    expect(tr.s.threads[1]!.status).toBe('done');
    expect(tr.s.maps[0]!.cache[0] ?? -1).toBe(-1);
    expect(page(tr.s)!.mapping).toBe(-1);
    const wb = drive(m, tr.s, 0, (s) => at(s, 0, 'generic_fadvise', 'range'));
    expect(wb.labels[0]).toMatch(/^lock_page\(page\)/);
    expect(wb.effects).toMatch(/pfn7 left the mapping since the lookup: skipped/);
    expect(wb.effects).toMatch(/free pfn7/);
    expect(wb.s.pages[PFN]).toBeUndefined();
    expect(wb.s.disk).toEqual(tr.s.disk);
  });

  test('linux-6.1: punch_hole writeback after the page was truncated skips it', async () => {
    const m = await machineOf(
      scenario('linux-6.1', 8192, `${DIRTY0}, { index: 1, pfn: 8, flags: [uptodate, dirty] }`, [
        '{ name: ph, program: punch_hole, args: { file: data, offset: 0, length: 8192 } }',
        '{ name: tr, program: truncate, args: { file: data, size: 0 } }',
      ]),
      'linux-6.1',
    );
    const looked = drive(m, m.initial(), 0, (s) => at(s, 0, 'mpage_prepare_extent_to_map', 'page'));
    const tr = drive(m, looked.s, 1);
    expect(tr.s.threads[1]!.status).toBe('done');
    const wb = drive(m, tr.s, 0, (s) => at(s, 0, 'ext4_punch_hole', 'ilock'));
    expect(wb.effects).toMatch(/pfn7 left the mapping since the lookup: skipped/);
    expect(wb.effects).toMatch(/pfn8 left the mapping since the lookup: skipped/);
  });
});

describe("->writepage's i_size test", () => {
  /**
   * linux-6.1: truncate to `size` stopped once i_size is set and before the page is removed
   * (truncate_setsize: i_size_write, then truncate_pagecache); fadvise's writeback runs then.
   */
  async function pastEof(size: number, index: number) {
    const m = await machineOf(
      scenario('linux-6.1', 8192, `{ index: ${index}, pfn: ${PFN}, flags: [uptodate, dirty] }`, [
        `{ name: tr, program: truncate, args: { file: data, size: ${size} } }`,
        '{ name: fa, program: fadvise, args: { file: data, offset: 0, length: 0 } }',
      ]),
      'linux-6.1',
      { trackData: true },
    );
    const cut = drive(m, m.initial(), 0, (s) => s.maps[0]!.isize === size).s;
    expect(cut.maps[0]!.cache[index]).toBe(PFN);
    const wb = drive(m, cut, 1, (s) => at(s, 1, 'generic_fadvise', 'range'));
    expect(wb.labels[1]).toMatch(/^lock_page\(page\)/);
    // still cached: truncate has not reached it (data tags are renumbered per state, data.ts canonicalData: compare within one)
    return { wb, data: page(wb.s)!.data };
  }

  test("linux-6.1: a dirty page past i_size's page with an allocated block is written (len = PAGE_SIZE)", async () => {
    // index 1 > 100 >> PAGE_SHIFT = 0: mpage_submit_page passes len = PAGE_SIZE, the block is allocated
    const { wb, data } = await pastEof(100, 1);
    expect(dirty(wb.s)).toBe(false);
    expect(wb.effects).not.toMatch(/not written/);
    expect(onDisk(wb.s, 1, data)).toBe(true);
  });

  test("linux-6.1: a dirty page at i_size's page, i_size page aligned, is cleaned but not written (len = 0)", async () => {
    // index 1 == 4096 >> PAGE_SHIFT and 4096 & ~PAGE_MASK = 0: ext4_bio_write_page writes no buffer
    const { wb, data } = await pastEof(4096, 1);
    expect(dirty(wb.s)).toBe(false);
    expect(wb.effects).toMatch(/pfn7 lies wholly past i_size 4096: not written/);
    expect(onDisk(wb.s, 1, data)).toBe(false);
  });

  test("each release's test of a page wholly past i_size (2.6's and 6.12's writeback callers hold the inode lock truncate takes)", () => {
    // 2.6: block_write_full_page writes no page wholly past i_size
    expect(writeback2623.writesPastEof(1, 100, true)).toBe(false);
    expect(writeback2615.writesPastEof(5, 100, true)).toBe(false);
    // 6.1: len = PAGE_SIZE past i_size's page; an unmapped (delayed) buffer is never written
    expect(writeback61.writesPastEof(1, 100, true)).toBe(true);
    expect(writeback61.writesPastEof(1, 100, false)).toBe(false);
    expect(writeback61.writesPastEof(1, 4096, true)).toBe(false);
    // 6.12: len = i_size & (folio_size - 1), for every folio past i_size
    expect(writeback612.writesPastEof(1, 100, true)).toBe(true);
    expect(writeback612.writesPastEof(1, 4096, true)).toBe(false);
    expect(writeback612.writesPastEof(2, 8192, true)).toBe(false);
  });
});
