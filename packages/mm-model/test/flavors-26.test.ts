/**
 * The 2.6 flavors read against kernel source (session 19): each test pins one step where the
 * model deviated from the cited source and fails on the old code.
 */
import { describe, expect, test } from '@jest/globals';
import { NONE, PG, createMachine, extendFlavor, parseScenario, resolveFlavor, type Flavor } from '@kreplay/mm-model';
import { onePage } from './helpers/scenarios.js';
import { search } from './helpers/dfs.js';

/**
 * `base` whose invalidate_inode_pages2_range program only takes a reference on the cached page
 * of index 0, which the mapper still maps, and calls `fn` on it: what the page-removal path does with a mapped page.
 */
async function removeMapped(base: string, fn: string, entry: string): Promise<Flavor> {
  return extendFlavor(await resolveFlavor(base), {
    name: `${base}-remove-mapped`,
    description: `${base}: ${fn} on a mapped page, for the test`,
    procs: {
      invalidate_inode_pages2_range: {
        fn: 'invalidate_inode_pages2_range',
        where: 'mm/truncate.c',
        entry: 'go',
        steps: {
          go: {
            label: `pagevec_lookup(); lock_page(page); ${fn}(mapping, page)`,
            run: (c) => {
              const pfn = c.lookup(c.num('file'), 0);
              c.ref(pfn, 1); // the caller's pagevec reference
              c.call(fn, entry, { file: c.num('file'), pfn }, 'done');
            },
          },
          done: { label: 'return', run: (c) => c.ret(0) },
        },
      },
    },
  });
}

const mappedPage = onePage({ mapped: true, threads: '  - { name: inval, program: invalidate_inode_pages2_range, args: { file: data } }' });

describe('linux-2.6.23 __remove_from_page_cache: BUG_ON(page_mapped(page)) (2.6.23.17 mm/filemap.c:123)', () => {
  for (const [fn, entry] of [
    ['truncate_complete_page', 'mapping'],
    ['invalidate_complete_page2', 'remove'],
    ['invalidate_complete_page', 'remove'],
  ] as const) {
    test(`${fn} removing a mapped page is a bug-on in __remove_from_page_cache on 2.6.23, no BUG on 2.6.15`, async () => {
      const f2623 = await removeMapped('linux-2.6.23', fn, entry);
      const r = search(createMachine(parseScenario(mappedPage, 'x.yaml'), f2623));
      if (fn === 'invalidate_complete_page') {
        // remove_mapping()'s page_count(page) != 2 test refuses it first: the mapper's PTE holds a reference
        expect([...r.found.keys()]).toEqual([]);
        return;
      }
      expect(r.found.get('bug-on')?.message).toMatch(/^__remove_from_page_cache: BUG_ON\(page_mapped\(page\)\)/);
      if (fn === 'invalidate_complete_page2') return; // 2.6.15 has no invalidate_complete_page2
      const f2615 = await removeMapped('linux-2.6.15', fn, entry);
      const old = search(createMachine(parseScenario(mappedPage, 'x.yaml'), f2615));
      expect(old.found.has('bug-on')).toBe(false);
      expect(old.found.has('mapped-page-removed')).toBe(true);
    });
  }
});

describe('linux-2.6.23 truncate_complete_page: remove_from_page_cache() before ClearPageUptodate() (2.6.23.17 mm/truncate.c:101-102)', () => {
  /** The page's PG_uptodate in the first state in which it has left the page cache. */
  async function uptodateWhenRemoved(base: string): Promise<boolean> {
    const text = onePage({ threads: '  - { name: inval, program: invalidate_inode_pages2_range, args: { file: data } }' }).replace(
      'pages: [{ index: 0, pfn: 7 }]',
      'pages: [{ index: 0, pfn: 7, flags: [uptodate] }]',
    );
    const m = createMachine(parseScenario(text, 'x.yaml'), await removeMapped(base, 'truncate_complete_page', 'mapping'));
    let s = m.initial();
    for (let k = 0; k < 20 && s.pages[7]!.mapping !== NONE; k++) s = m.step(s, 0).state;
    expect(s.pages[7]!.mapping).toBe(NONE);
    return (s.pages[7]!.flags & PG.uptodate) !== 0;
  }
  test('2.6.23 unhashes the page while it is still uptodate; 2.6.15 clears PG_uptodate first', async () => {
    expect(await uptodateWhenRemoved('linux-2.6.23')).toBe(true);
    expect(await uptodateWhenRemoved('linux-2.6.15')).toBe(false);
  });
});

describe('do_generic_mapping_read: where each version reads i_size', () => {
  const text = (threads: string) => onePage({ threads }).replace('pages: [{ index: 0, pfn: 7 }]', 'pages: [{ index: 0, pfn: 7, flags: [uptodate] }]');

  test('2.6.15 copies a page it found uptodate with the i_size sampled before the loop, even after a truncate to 0 (2.6.18 mm/filemap.c, the same loop)', async () => {
    const m = createMachine(
      parseScenario(
        text(`  - { name: read, program: read, args: { file: data, index: 0 } }
  - { name: trunc, program: truncate, args: { file: data, size: 0 } }`),
        'x.yaml',
      ),
      await resolveFlavor('linux-2.6.15'),
    );
    let s = m.initial();
    const labels: string[] = [];
    // read: i_size sampled, find_get_page, PageUptodate: then the whole truncate runs
    for (let k = 0; k < 3; k++) {
      labels.push(m.next(s, 0)!.label);
      s = m.step(s, 0).state;
    }
    for (let k = 0; k < 60 && s.threads[1]!.status === 'run'; k++) s = m.step(s, 1).state;
    expect(s.maps[0]!.isize).toBe(0);
    const last = m.step(s, 0);
    expect(labels[2]).toMatch(/PageUptodate/);
    expect(last.effect).toMatch(/read\(\) sees/);
  });

  test('2.6.23 reads no i_size before find_page: a read past EOF adds (and reads) the page, then page_ok stops it (2.6.23.17 mm/filemap.c:898-930)', async () => {
    const m = createMachine(
      parseScenario(text('  - { name: read, program: read, args: { file: data, index: 1 } }'), 'x.yaml'),
      await resolveFlavor('linux-2.6.23'),
    );
    let s = m.initial();
    const effects: string[] = [];
    for (let k = 0; k < 20 && s.threads[0]!.status === 'run'; k++) {
      const r = m.step(s, 0);
      effects.push(r.effect);
      s = r.state;
    }
    expect(s.maps[0]!.cache[1]).not.toBe(NONE);
    expect(effects.join(' | ')).toMatch(/past EOF now: nothing copied/);
    const old = createMachine(
      parseScenario(text('  - { name: read, program: read, args: { file: data, index: 1 } }'), 'x.yaml'),
      await resolveFlavor('linux-2.6.15'),
    );
    let s2 = old.initial();
    for (let k = 0; k < 20 && s2.threads[0]!.status === 'run'; k++) s2 = old.step(s2, 0).state;
    expect(s2.maps[0]!.cache[1] ?? NONE).toBe(NONE);
  });
});

describe('unmap_mapping_range: the barriers around truncate_count++', () => {
  /** The fences on unmap_mapping_range's truncate_count++ in a truncate of `flavor`. */
  async function fences(flavor: string) {
    const m = createMachine(
      parseScenario(onePage({ mapped: true, threads: '  - { name: trunc, program: truncate, args: { file: data, size: 0 } }' }), 'x.yaml'),
      await resolveFlavor(flavor),
    );
    let s = m.initial();
    for (let k = 0; k < 20; k++) {
      const n = m.next(s, 0)!;
      const a = n.accesses.find((x) => x.loc.endsWith('.truncate_count') && x.mode === 'write');
      if (a) return { label: n.label, before: a.lkmm?.before, after: a.lkmm?.after, cite: a.lkmm?.cite };
      s = m.step(s, 0).state;
    }
    throw new Error('no truncate_count++');
  }
  test('2.6.15 has smp_wmb() before and smp_mb() after it; 2.6.23 has neither (2.6.23.17 mm/memory.c:1989-1992)', async () => {
    expect(await fences('linux-2.6.15')).toMatchObject({ before: ['smp_wmb'], after: ['smp_mb'] });
    const v23 = await fences('linux-2.6.23');
    expect(v23).toMatchObject({ before: undefined, after: undefined });
    expect(v23.label).not.toMatch(/smp_/);
    expect(v23.cite).toMatch(/2\.6\.23\.17 mm\/memory\.c:1989-1992/);
  });
});

describe('the O_DIRECT write: unmap_mapping_range(mapping, offset, write_len, 0) rounds the length up alone (2.6.23.17 mm/memory.c:1970-1984)', () => {
  const twoPages = `
flavor: linux-2.6.15
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 8192, pages: [{ index: 0, pfn: 7, flags: [uptodate] }, { index: 1, pfn: 8, flags: [uptodate] }] }
processes:
  - name: mapper
    vmas:
      - { file: data, start: 0x10000, pages: 2, ptes: [0, 1] }
threads:
  - { name: odirect, program: odirect_write, args: { file: data, offset: 512, length: 4096 } }
`;
  for (const flavor of ['linux-2.6.15', 'linux-2.6.23']) {
    test(`${flavor}: a 4096-byte write at offset 512 writes pages 0-1 but unmaps page 0 only before writeback`, async () => {
      const m = createMachine(parseScenario(twoPages, 'x.yaml'), await resolveFlavor(flavor));
      let s = m.initial();
      for (let k = 0; k < 40 && !/filemap_write_and_wait/.test(m.next(s, 0)!.label); k++) s = m.step(s, 0).state;
      expect(m.next(s, 0)!.label).toMatch(/filemap_write_and_wait/);
      expect(s.ptes[0]).toEqual([NONE, 8]);
    });
  }
});

describe('after ->readpage, PageUptodate is tested on its own, and a page removed meanwhile is looked up again (2.6.18 mm/filemap.c, the 2.6.15 loops)', () => {
  /** A page cached but not uptodate; thread 0 is `first`, thread 1 invalidates the whole file. */
  const scenario = (first: string) =>
    onePage({ mapped: false, threads: `${first}\n  - { name: inval, program: invalidate_inode_pages2_range, args: { file: data } }` }).replace(
      'pages: [{ index: 0, pfn: 7 }]',
      'pages: [{ index: 0, pfn: 7, flags: [] }]',
    );
  /** Step thread 0 through the step whose label matches `until`, then run thread 1 to its end, then thread 0 to its end. */
  async function race(flavor: string, first: string, until: RegExp) {
    const m = createMachine(parseScenario(scenario(first), 'x.yaml'), await resolveFlavor(flavor));
    let s = m.initial();
    const effects: string[] = [];
    let k = 0;
    for (; k < 40; k++) {
      const label = m.next(s, 0)!.label;
      const r = m.step(s, 0);
      effects.push(r.effect);
      s = r.state;
      if (until.test(label)) break;
    }
    expect(k).toBeLessThan(40);
    for (let j = 0; j < 60 && s.threads[1]!.status === 'run'; j++) s = m.step(s, 1).state;
    expect(s.maps[0]!.cache[0]).toBe(NONE); // the invalidate removed the page the read brought in
    for (let j = 0; j < 60 && s.threads[0]!.status === 'run'; j++) {
      const r = m.step(s, 0);
      effects.push(r.effect);
      s = r.state;
    }
    return { s, effects: effects.join(' | ') };
  }
  for (const flavor of ['linux-2.6.15', 'linux-2.6.15-seqschedlock']) {
    test(`${flavor} filemap_nopage: wait_on_page_locked(); PageUptodate() false → lock_page, !page->mapping → retry_all; the fault maps the new page`, async () => {
      const { s, effects } = await race(flavor, '  - { name: fault, program: fault, args: { mm: mapper, address: 0x10000 } }', /read I\/O completes/);
      expect(effects).toMatch(/was removed after its read: retry_all/);
      expect(s.ptes[0]![0]).not.toBe(NONE);
      expect(s.ptes[0]![0]).toBe(s.maps[0]!.cache[0]);
    });
  }
  for (const flavor of ['linux-2.6.15', 'linux-2.6.23']) {
    test(`${flavor} do_generic_mapping_read: after readpage, !PageUptodate → lock_page, page->mapping == NULL → find_page`, async () => {
      const { effects } = await race(flavor, '  - { name: read, program: read, args: { file: data, index: 0 } }', /^readpage\(\)/);
      expect(effects).toMatch(/was removed after its read: find_page/);
    });
  }
});
