/**
 * linux-2.6.23's write faults as 2.6.23.17 mm/memory.c has them (session 21). A shared ext3
 * mapping has write notification (vma_wants_writenotify): __do_fault with FAULT_FLAG_WRITE
 * installs the PTE writable and dirty and takes `dirty_page` (get_page) under the PTE lock,
 * unlocks the PTE and the page, and only then set_page_dirty_balance() + put_page();
 * do_wp_page reuses a write-protected shared page the same way. Until that last step the
 * PTE is dirty, the page may be clean and carries the fault's extra reference: a zap there
 * dirties the page from the PTE, remove_mapping's refcount test sees the reference.
 */
import { describe, expect, test } from '@jest/globals';
import { PG, type MmMachine, type MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';
import { safetyRules, search } from './helpers/dfs.js';

/** One cached clean page (pfn 7) of `data`, mapped by `p` (a PTE when `mapped`); the threads given. */
const scenario = (threads: string, mapped = false) => `
flavor: linux-2.6.23
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [{ index: 0, pfn: 7 }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 1${mapped ? ', ptes: [0]' : ''} }
threads:
${threads}
`;
const STORE = '  - { name: st, program: store, args: { mm: p, index: 0 } }';
/** A thread never run here: one that reads makes the machine track which version a page holds (Program.readsData). */
const READER = '  - { name: rd, program: read, args: { file: data, index: 0 } }';

const page = (s: MmState) => s.pages[7];
const dirty = (s: MmState) => (page(s)!.flags & PG.dirty) !== 0;
const pteDirty = (s: MmState) => s.pted?.[0]?.[0] === 1;
const pteDirty2 = (s: MmState) => s.pted?.[0]?.[1] === 1;
const at = (s: MmState, t: number, proc: string, pc: string) => {
  const f = s.threads[t]!.frames.at(-1);
  return f?.proc === proc && f.pc === pc;
};
/** The store (thread t) inside its fault's window: the PTE and the page unlocked, set_page_dirty_balance next. */
const inWindow = (m: MmMachine, s: MmState, t: number) => drive(m, s, t, (x) => at(x, t, '__do_fault', 'dirty') || at(x, t, 'do_wp_page', 'dirty'));

describe('linux-2.6.23 write faults: the window between pte_unmap_unlock and set_page_dirty_balance', () => {
  test('__do_fault(FAULT_FLAG_WRITE): the PTE is installed dirty with the extra reference; the page is dirtied after both unlocks', async () => {
    const m = await machineOf(scenario(STORE), 'linux-2.6.23');
    const w = inWindow(m, m.initial(), 0);
    expect(at(w.s, 0, '__do_fault', 'dirty')).toBe(true);
    expect(w.labels).toContain('page_add_file_rmap(page); dirty_page = page; get_page(dirty_page); pte_unmap_unlock(page_table, ptl)');
    expect(w.s.ptes[0]![0]).toBe(7);
    expect(pteDirty(w.s)).toBe(true);
    expect(dirty(w.s)).toBe(false);
    expect(page(w.s)!.locker).toBe(-1);
    // the page cache's reference, the PTE's (find_lock_page's, kept) and dirty_page's
    expect(page(w.s)!.refcount).toBe(3);
    const end = drive(m, w.s, 0);
    expect(end.s.threads[0]!.status).toBe('done');
    expect(end.labels[0]).toMatch(/^out_unlocked: if \(dirty_page\) \{ set_page_dirty_balance/);
    expect(dirty(end.s)).toBe(true);
    expect(page(end.s)!.refcount).toBe(2);
    // the retried instruction finds the PTE writable (dirty) and lands without another fault
    expect(end.labels.at(-1)).toMatch(/present, writable and dirty, the store lands in the page/);
  });

  test('a store through a clean present PTE takes do_wp_page: get_page, the PTE made dirty, wait_on_page_locked, then set_page_dirty_balance', async () => {
    const m = await machineOf(scenario(`${STORE}\n${READER}`, true), 'linux-2.6.23');
    const w = inWindow(m, m.initial(), 0);
    expect(at(w.s, 0, 'do_wp_page', 'dirty')).toBe(true);
    expect(w.labels.some((l) => l.includes('write-protected and clean → write-protect fault (do_wp_page)'))).toBe(true);
    expect(w.labels).toContain('unlock: if (dirty_page) wait_on_page_locked(dirty_page)');
    expect(pteDirty(w.s)).toBe(true);
    expect(dirty(w.s)).toBe(false);
    expect(page(w.s)!.refcount).toBe(3);
    const end = drive(m, w.s, 0);
    expect(end.s.threads[0]!.status).toBe('done');
    expect(dirty(end.s)).toBe(true);
    expect(page(end.s)!.refcount).toBe(2);
    expect(end.s.pages[7]!.data).not.toBe(m.initial().pages[7]!.data);
  });

  test('do_wp_page waits for the page lock before set_page_dirty_balance', async () => {
    // invalidate_inode_pages2_range holds the page lock: the fault's wait blocks until it is dropped
    const m = await machineOf(
      scenario(`  - { name: inv, program: invalidate_inode_pages2_range, args: { file: data, start: 0, end: 0 } }\n${STORE}`, true),
      'linux-2.6.23',
    );
    const locked = drive(m, m.initial(), 0, (s) => page(s)!.locker === 0).s;
    const w = drive(m, locked, 1, (s) => at(s, 1, 'do_wp_page', 'wait'));
    expect(at(w.s, 1, 'do_wp_page', 'wait')).toBe(true);
    expect(m.next(w.s, 1)?.enabled).toBe(false);
  });

  test('(a) invalidate_inode_pages2_range in the window: its unmap finds the PTE dirty and dirties the page, invalidate_complete_page2 fails: -EIO', async () => {
    const m = await machineOf(
      scenario(`  - { name: inv, program: invalidate_inode_pages2_range, args: { file: data, start: 0, end: 0 } }\n${STORE}`),
      'linux-2.6.23',
    );
    const w = inWindow(m, m.initial(), 1).s;
    expect(at(w, 1, '__do_fault', 'dirty')).toBe(true);
    const inv = drive(m, w, 0);
    expect(inv.s.threads[0]!.status).toBe('done');
    expect(inv.labels).toContain('if (pte_dirty(ptent)) set_page_dirty(page)');
    expect(inv.effects).toMatch(/PageDirty: cannot drop/);
    expect(inv.labels).toContain('ret = -EIO');
    expect(inv.s.ptes[0]![0]).toBe(-1);
    expect(dirty(inv.s)).toBe(true);
    expect(inv.s.maps[0]!.cache[0]).toBe(7);
    // the fault's reference is still there: cache + dirty_page
    expect(page(inv.s)!.refcount).toBe(2);
    // the store's fault finishes (the page is dirty already), the instruction faults again and lands
    const st = drive(m, inv.s, 1);
    expect(st.s.threads[1]!.status).toBe('done');
    expect(dirty(st.s)).toBe(true);
    expect(st.s.ptes[0]![0]).toBe(7);
  });

  test('(a) truncate in the window: the unmap dirties the page, truncate cancels it; set_page_dirty_balance dirties the orphan and put_page frees it', async () => {
    const m = await machineOf(scenario(`  - { name: tr, program: truncate, args: { file: data, size: 0 } }\n${STORE}`), 'linux-2.6.23');
    const w = inWindow(m, m.initial(), 1).s;
    const tr = drive(m, w, 0);
    expect(tr.s.threads[0]!.status).toBe('done');
    expect(tr.labels).toContain('if (pte_dirty(ptent)) set_page_dirty(page)');
    expect(tr.s.maps[0]!.cache[0] ?? -1).toBe(-1);
    // truncate_complete_page's cancel_dirty_page cleared it; only dirty_page's reference is left
    expect(dirty(tr.s)).toBe(false);
    expect(page(tr.s)!.mapping).toBe(-1);
    expect(page(tr.s)!.refcount).toBe(1);
    const st = drive(m, tr.s, 1);
    expect(st.effects).toMatch(/free pfn7/);
    expect(st.s.pages[7]).toBeUndefined();
    expect(st.s.threads[1]!.status).toBe('done');
    expect(st.labels.at(-1)).toBe('SIGBUS: the store does not complete');
  });

  test("(b) remove_mapping's page_count test sees the fault's extra reference: invalidate_mapping_pages keeps an unmapped clean page", async () => {
    const threads = [
      '  - { name: dio, program: odirect_write, args: { file: data, offset: 0, length: 4096 } }',
      STORE,
      '  - { name: drop, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }',
    ].join('\n');
    const m = await machineOf(scenario(threads), 'linux-2.6.23');
    const w = inWindow(m, m.initial(), 1).s;
    // the O_DIRECT write's unmap moves the PTE's dirty bit to the page, writeback writes it and cleans it
    const dio = drive(m, w, 0, (s) => at(s, 0, 'generic_file_direct_IO', 'pre'));
    expect(dio.labels).toContain('if (pte_dirty(ptent)) set_page_dirty(page)');
    expect(dio.s.ptes[0]![0]).toBe(-1);
    expect(dirty(dio.s)).toBe(false);
    expect(page(dio.s)!.mapcount).toBe(0);
    expect(page(dio.s)!.refcount).toBe(2);
    // unmapped, clean, not locked: only page_count (cache + pagevec + dirty_page = 3) keeps it
    const drop = drive(m, dio.s, 2);
    expect(drop.s.threads[2]!.status).toBe('done');
    expect(drop.effects).toMatch(/page_count 3 != 2: busy/);
    expect(drop.s.maps[0]!.cache[0]).toBe(7);
  });

  test("writeback's clear_page_dirty_for_io → page_mkclean cleans (write-protects) the PTE: the next store faults again and dirties the page", async () => {
    // two pages, both mapped; the O_DIRECT write of page 0 unmaps only page 0 but writes back the whole mapping
    const m = await machineOf(
      `
flavor: linux-2.6.23
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 8192, pages: [{ index: 0, pfn: 6 }, { index: 1, pfn: 7 }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 2, ptes: [0, 1] }
threads:
  - { name: dio, program: odirect_write, args: { file: data, offset: 0, length: 4096 } }
  - name: st
    program: store
    args: { mm: p, index: 1 }
    then:
      - { program: store, args: { mm: p, index: 1 } }
${READER}
`,
      'linux-2.6.23',
    );
    const once = drive(m, m.initial(), 1, (s) => s.pages[7]!.data !== m.initial().pages[7]!.data);
    expect(pteDirty2(once.s)).toBe(true);
    expect(dirty(once.s)).toBe(true);
    const wb = drive(m, once.s, 0, (s) => at(s, 0, 'generic_file_direct_IO', 'pre'));
    expect(wb.labels).toContain('filemap_write_and_wait(mapping)');
    expect(wb.labels.some((l) => l.includes('!clear_page_dirty_for_io(page) [page_mkclean(page); TestClearPageDirty(page)]'))).toBe(true);
    expect(wb.s.ptes[0]![1]).toBe(7);
    expect(pteDirty2(wb.s)).toBe(false);
    expect(dirty(wb.s)).toBe(false);
    expect(wb.s.disk).toContain(once.s.pages[7]!.data);
    // the second store finds the PTE write-protected: do_wp_page, and the page is dirty again
    const again = drive(m, wb.s, 1);
    expect(again.labels.some((l) => l.includes('write-protected and clean → write-protect fault (do_wp_page)'))).toBe(true);
    expect(again.s.threads[1]!.status).toBe('done');
    expect(dirty(again.s)).toBe(true);
    expect(pteDirty2(again.s)).toBe(true);
  });

  test('(c) explored: a store racing truncate is clean, a store racing an O_DIRECT write is stale-data (the skipped second invalidate, not the window); both pass through the window', async () => {
    const reads = (name: string, program: string) =>
      `  - name: ${name}\n    program: ${program}\n    then:\n      - { program: read, args: { file: data, index: 0 } }`;
    const verdicts: Record<string, string[]> = {};
    for (const [name, t0] of [
      ['truncate', '    args: { file: data, size: 0 }'],
      ['odirect_write', '    args: { file: data, offset: 0, length: 4096 }'],
    ] as const) {
      const threads = `${reads('t0', name)}\n${t0}\n${reads('st', 'store')}\n    args: { mm: p, index: 0 }`;
      const m = await machineOf(scenario(threads), 'linux-2.6.23');
      let zappedInWindow = 0;
      const r = search(m, 200_000, (s) => {
        // the store's fault between pte_unmap_unlock and set_page_dirty_balance, its PTE gone and the page dirtied by the zap
        if (at(s, 1, '__do_fault', 'dirty') && s.ptes[0]![0] === -1 && s.pages[7] && (s.pages[7].flags & PG.dirty) !== 0) zappedInWindow++;
      });
      expect(zappedInWindow).toBeGreaterThan(0);
      expect(r.deadlocks).toBe(0);
      verdicts[name] = safetyRules(r);
    }
    expect(verdicts).toEqual({ truncate: [], odirect_write: ['stale-data'] });
  });
});
