/**
 * 6.1's write paths, one thread at a time (the races are in the shipped
 * scenarios and verdicts.test.ts): what a user relies on each path to do.
 */
import { describe, expect, test } from '@jest/globals';
import type { MmState } from '@kreplay/mm-model';
import { linux61File, machineOf } from './helpers/scenarios.js';

/** Run thread `t` alone until it finishes; the labels and effects of its steps. */
function solo(m: Awaited<ReturnType<typeof machineOf>>, t = 0) {
  let s = m.initial();
  const labels: string[] = [];
  const effects: string[] = [];
  const rules: string[] = [];
  for (let k = 0; k < 500; k++) {
    const n = m.next(s, t);
    if (!n) break;
    labels.push(n.label);
    const r = m.step(s, t);
    effects.push(r.effect);
    rules.push(...r.violations.map((v) => v.rule));
    s = r.state;
  }
  return { state: s as MmState, labels, effects: effects.join(' | '), rules };
}

const file = (pages: string, size = 4096) => linux61File(pages, size);

describe('linux-6.1 store (write fault)', () => {
  test('a store on an uncached page: the fault reads it, page_mkwrite dirties it under invalidate_lock shared, the store writes a new version', async () => {
    const m = await machineOf(
      `${file('')}
threads:
  - { name: w, program: store, args: { mm: p, index: 0 } }
  - { name: r, program: read, args: { file: data, index: 0 } }`,
      'linux-6.1',
    );
    const w = solo(m, 0);
    expect(w.labels.some((l) => l.startsWith('ext4_page_mkwrite: filemap_invalidate_lock_shared'))).toBe(true);
    expect(w.effects).toContain('a store through p:0x10000 writes M0[0]v1 into pfn1');
    const page = w.state.pages[1]!;
    expect(page.data % 2 ** 32).toBe(0); // M0[0]
    expect(Math.floor(page.data / 2 ** 32)).toBe(1); // v1
    expect(page.flags & 4).toBe(4); // dirty
    expect(w.state.maps[0]!.floor[0]).toBe(1); // the store returned: reads from now on must see v1
    expect(w.rules).toEqual([]);
  });

  test('a store through a PTE over a clean page takes the write-protect fault; over the dirty page it then lands directly', async () => {
    const m = await machineOf(
      `
flavor: linux-6.1
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [{ index: 0 }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 1, ptes: [0] }
threads:
  - name: w
    program: store
    args: { mm: p, index: 0 }
    then:
      - { program: store, args: { mm: p, index: 0 } }`,
      'linux-6.1',
    );
    const w = solo(m);
    const wp = w.labels.filter((l) => l.includes('wp_page_shared(): get_page'));
    expect(wp).toHaveLength(1); // the second store finds the page dirty: its PTE is writable
    expect(w.labels.filter((l) => l.includes('present and writable, the store lands'))).toHaveLength(2);
    expect(w.state.pages[1]!.refcount).toBe(2); // cache + PTE: wp_page_shared's get_page was put
  });

  test('the store past the new end of file gets SIGBUS', async () => {
    const m = await machineOf(
      `${file('', 4096)}
threads:
  - { name: w, program: store, args: { mm: p, index: 1 } }`,
      'linux-6.1',
    );
    const w = solo(m);
    expect(w.labels[w.labels.length - 1]).toBe('SIGBUS: the store does not complete');
    expect(w.state.maps[0]!.gen[1] ?? 0).toBe(0);
  });
});

describe('linux-6.1 write and fadvise', () => {
  test('a buffered write past EOF creates the page, writes a new version, extends i_size and leaves the page dirty', async () => {
    const m = await machineOf(
      `${file('', 4096)}
threads:
  - { name: w, program: write, args: { file: data, offset: 4096, length: 4096 } }`,
      'linux-6.1',
    );
    const w = solo(m);
    expect(w.state.maps[0]!.isize).toBe(8192);
    expect(w.effects).toContain('write() copies M0[1]v1 into pfn1');
    expect(w.state.pages[1]!.flags & (2 | 4)).toBe(2 | 4); // uptodate, dirty
    expect(w.state.maps[0]!.ilock.writer).toBe(-1);
  });

  test('fadvise(DONTNEED) writes a dirty page back and drops it, and keeps a mapped one', async () => {
    const m = await machineOf(
      `
flavor: linux-6.1
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 8192, pages: [{ index: 0, flags: [uptodate, dirty] }, { index: 1 }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 2, ptes: [1] }
threads:
  - { name: d, program: fadvise, args: { file: data } }
  # never run (solo runs d): a thread that reads makes the machine track data (Program.readsData)
  - { name: r, program: read, args: { file: data, index: 1 } }`,
      'linux-6.1',
    );
    const d = solo(m);
    expect(d.state.maps[0]!.cache[0]).toBe(-1); // written back, then dropped
    expect(d.effects).toContain('disk M0[0] ← M0[0]v1'); // its data (newer than the disk's v0) reached its block first
    expect(d.state.maps[0]!.cache[1]).toBe(2); // mapped: kept
    // page 1 was refused (nr_pagevec): lru_add_drain_all(); invalidate_mapping_pages() looks at it again
    expect(d.labels.filter((l) => l.startsWith('mapping_evict_folio'))).toHaveLength(3);
  });
});
