/**
 * Pages with buffers (PG_private): attached buffers hold a page reference (folio_attach_private;
 * 2.6's attach_page_buffers), which the paths that release them drop (folio_detach_private;
 * 2.6's __clear_page_buffers), and which the kernel's reference-count checks count.
 */
import { describe, expect, test } from '@jest/globals';
import { PG } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

const scenario = (flavor: string, thread: string, ptes: string) => `
name: private
flavor: ${flavor}
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [{ index: 0, flags: [uptodate, private] }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pgoff: 0, pages: 1, ptes: [${ptes}] }
threads:
  - ${thread}
`;

describe('a page with buffers', () => {
  test.each(['linux-2.6.15', 'linux-2.6.23', 'linux-6.1', 'linux-6.12'])('holds a reference from the start (%s)', async (flavor) => {
    const m = await machineOf(scenario(flavor, '{ name: t, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }', ''), flavor);
    const pfn = m.initial().maps[0]!.cache[0]!;
    // the page cache's and the buffers' (before: 1)
    expect(m.initial().pages[pfn]!.refcount).toBe(2);
  });

  test("mapped, is kept with its buffers by invalidate_mapping_pages on 6.1 (mapping_evict_folio counts the buffers' reference)", async () => {
    const m = await machineOf(
      scenario('linux-6.1', '{ name: t, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }', '0'),
      'linux-6.1',
    );
    const pfn = m.initial().maps[0]!.cache[0]!;
    const { s, effects } = drive(m, m.initial(), 0);
    expect(m.next(s, 0)).toBeNull();
    // folio_ref_count 4 (cache, lookup, PTE, buffers) > 1 + 1 + 1: kept, buffers and all
    // (mm/truncate.c:299-301, 6.1.192); before, the count was 3, the test passed, the buffers were
    // dropped and the freeze failed
    expect(effects).toMatch(/busy \(count 4\): kept/);
    expect(s.pages[pfn]!.flags & PG.private).toBe(PG.private);
    expect(s.pages[pfn]!.refcount).toBe(3);
  });

  test.each(['linux-2.6.15', 'linux-2.6.23', 'linux-6.1', 'linux-6.12'])(
    "unmapped, is freed by invalidate_mapping_pages and by truncate, its buffers' reference dropped with them (%s)",
    async (flavor) => {
      for (const thread of [
        '{ name: t, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }',
        '{ name: t, program: truncate, args: { file: data, size: 0 } }',
      ]) {
        const m = await machineOf(scenario(flavor, thread, ''), flavor);
        const pfn = m.initial().maps[0]!.cache[0]!;
        const { s } = drive(m, m.initial(), 0);
        expect([thread, m.next(s, 0)]).toEqual([thread, null]);
        expect([thread, s.maps[0]!.cache[0], s.pages[pfn]]).toEqual([thread, -1, undefined]);
      }
    },
  );
});
