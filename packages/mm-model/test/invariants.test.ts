/**
 * The invariants of DESIGN.md, judged at the transition that breaks them, and the state
 * discipline the explorer relies on (immutable states, canonical keys, explicit blocking).
 */
import { describe, expect, test } from '@jest/globals';
import { Ctx, NONE, mappedBeyondEof, orphanPageMapped, staleAfterInvalidate, staleAtEnd, warnOnPageMapped, type MmState } from '@kreplay/mm-model';
import { machineOf, onePage, run } from './helpers/scenarios.js';

const READER = '  - { name: reader, program: read, args: { file: data, index: 0 } }';

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

describe('page cache removal', () => {
  test("removing a page that a PTE maps is mapped-page-removed (the seed's WARN_ON(page_mapped(page)))", async () => {
    const m = await machineOf(onePage({ mapped: true, threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.removeFromCache(7);
    expect(c.violations.map((v) => v.rule)).toEqual(['mapped-page-removed']);
    expect(c.violations[0]!.message).toContain('mapcount 1');
    expect(c.violations[0]!).toMatchObject({ index: 0, pfn: 7, file: '8:1/2a' });
  });

  test('removing an unmapped page is clean: slot empty, mapping NULL, nrpages down, cache_delete emitted', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.removeFromCache(7);
    c.goto('isize');
    const s = c.finish();
    expect(c.violations).toEqual([]);
    expect(s.maps[0]!.cache[0]).toBe(NONE);
    expect(s.maps[0]!.nrpages).toBe(0);
    expect(s.pages[7]!.mapping).toBe(NONE);
    expect(c.ops).toEqual([{ kind: 'cache_delete', file: { dev: '8:1', ino: 0x2an }, index: 0, pfn: 7n, order: 0 }]);
  });
});

describe('PTE install', () => {
  test('page_add_file_rmap for a page that left the cache is orphan-page-mapped', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.removeFromCache(7);
    c.setPte(m.env.vmas[0]!, 0, 7);
    expect(c.violations).toEqual([]);
    c.addRmap(m.env.vmas[0]!, 0, 7);
    expect(c.violations.map((v) => v.rule)).toEqual(['orphan-page-mapped']);
    expect(c.violations[0]!.message).toMatch(/page->mapping is NULL/);
    expect(c.ops.at(-1)).toMatchObject({ kind: 'pte_map', pfn: 7n, index: 0, mapcount: 1 });
  });

  test("mapping the cache's current page is clean", async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.setPte(m.env.vmas[0]!, 0, 7);
    c.addRmap(m.env.vmas[0]!, 0, 7);
    expect(c.violations).toEqual([]);
  });

  test('a removal between set_pte_at and page_add_file_rmap is judged at the rmap, as a trace shows it', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.setPte(m.env.vmas[0]!, 0, 7);
    c.removeFromCache(7); // mapcount still 0: the seed's WARN_ON(page_mapped(page)) stays quiet
    expect(c.violations).toEqual([]);
    c.addRmap(m.env.vmas[0]!, 0, 7);
    expect(c.violations.map((v) => v.rule)).toEqual(['orphan-page-mapped']);
  });
});

describe('stale-after-invalidate', () => {
  test('judged when an invalidate returns success with a PTE on a page no longer cached, and again at the end', async () => {
    const m = await machineOf(onePage({ mapped: true, threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.removeFromCache(7);
    c.promiseCoherent(0, 0, 0, 'invalidate_inode_pages2_range');
    expect(c.violations.map((v) => v.rule)).toEqual(['mapped-page-removed', 'stale-after-invalidate']);
    c.goto('isize');
    const s = c.finish();
    expect(m.final!(s).map((v) => v.rule)).toEqual(['stale-after-invalidate']);
  });

  test('a range nobody promised coherent is not judged', async () => {
    const m = await machineOf(onePage({ mapped: true, threads: READER }), 'linux-2.6.15');
    expect(m.final!(m.initial())).toEqual([]);
  });
});

describe('the named predicates (invariants.ts) judge a state without a step context', () => {
  test('WarnOnPageMapped fires on a mapped page, naming the PTEs, and is quiet on an unmapped one', async () => {
    const mapped = await machineOf(onePage({ mapped: true, threads: READER }), 'linux-2.6.15');
    const s = mapped.initial();
    expect(warnOnPageMapped(mapped.env, s, s.pages[7]!)).toEqual([
      {
        rule: 'mapped-page-removed',
        file: '8:1/2a',
        index: 0,
        pfn: 7,
        message: 'pfn 0x7 (index 0) left the page cache of data while mapped (mapcount 1) by mapper:0x10000',
      },
    ]);
    const unmapped = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    expect(warnOnPageMapped(unmapped.env, unmapped.initial(), unmapped.initial().pages[7]!)).toEqual([]);
  });

  test("OrphanPageMapped holds for the cache's current page and names what the cache holds otherwise", async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const s = m.initial();
    const vma = m.env.vmas[0]!;
    expect(orphanPageMapped(m.env, s, vma, 0, 7)).toEqual([]);
    const emptied: MmState = { ...s, maps: [{ ...s.maps[0]!, cache: [NONE] }] };
    expect(orphanPageMapped(m.env, emptied, vma, 0, 7)[0]!.message).toBe('PTE mapper:0x10000 mapped pfn 0x7, but the page cache holds no page at index 0');
  });

  test('StaleAfterInvalidate and StaleAtEnd look only inside promised ranges', async () => {
    const m = await machineOf(onePage({ mapped: true, threads: READER }), 'linux-2.6.15');
    const s = m.initial();
    const stale: MmState = { ...s, maps: [{ ...s.maps[0]!, cache: [NONE] }] };
    expect(staleAfterInvalidate(m.env, s, 0, 0, 0, 'invalidate_inode_pages2_range')).toEqual([]);
    expect(staleAfterInvalidate(m.env, stale, 0, 1, 5, 'invalidate_inode_pages2_range')).toEqual([]);
    expect(staleAfterInvalidate(m.env, stale, 0, 0, 0, 'the O_DIRECT write').map((v) => v.message)).toEqual([
      "the O_DIRECT write returned success, yet PTE mapper:0x10000 (index 0) maps pfn 0x7, not the page cache's empty slot",
    ]);
    expect(staleAtEnd(m.env, stale)).toEqual([]);
    expect(staleAtEnd(m.env, { ...stale, maps: [{ ...stale.maps[0]!, coherent: [[0, 0]] }] }).map((v) => v.rule)).toEqual(['stale-after-invalidate']);
  });
});

describe('bug-on', () => {
  test('BUG() kills the thread: it has no next step and keeps what it held', async () => {
    const m = await machineOf(onePage({ threads: READER }), 'linux-2.6.15');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.lockPage(7);
    c.bug('BUG_ON(test)');
    const s = c.finish();
    expect(c.violations.map((v) => v.rule)).toEqual(['bug-on']);
    expect(s.threads[0]!.status).toBe('oops');
    expect(m.next(s, 0)).toBeNull();
    expect(s.pages[7]!.locker).toBe(0);
  });
});

describe('machine discipline', () => {
  const odirect = `  - { name: fault, program: fault, args: { mm: mapper, address: 0x10000 } }
  - { name: odirect, program: odirect_write, args: { file: data } }`;

  test('step never mutates the state it is given and shares what it did not touch', async () => {
    const m = await machineOf(onePage({ threads: odirect }), 'linux-2.6.15');
    const s0 = deepFreeze(m.initial());
    const k0 = m.key(s0);
    let s: MmState = s0;
    for (const t of [1, 1, 0, 0, 0]) s = deepFreeze(m.step(s, t).state);
    expect(m.key(s0)).toBe(k0);
    const s1 = m.step(s0, 0).state;
    expect(s1.maps).toBe(s0.maps); // handle_pte_fault reads only: the address spaces are shared
    expect(s1).not.toBe(s0);
  });

  test('keys: equal states give equal keys whatever the path; a change changes the key', async () => {
    const m = await machineOf(onePage({ threads: `${READER}\n  - { name: reader2, program: read, args: { file: data, index: 0 } }` }), 'linux-2.6.15');
    const a = run(m, [0, 1, 0, 1]).state;
    const b = run(m, [1, 0, 1, 0]).state;
    expect(m.key(a)).toBe(m.key(b));
    expect(m.key(run(m, [0]).state)).not.toBe(m.key(m.initial()));
  });

  test('a thread waiting for PG_locked is blocked, says on what, and still declares the acquire', async () => {
    // linux-2.6.23: the O_DIRECT write's invalidate holds the page lock; the fault's find_lock_page sleeps.
    const m = await machineOf(onePage({ threads: odirect }), 'linux-2.6.23');
    let s = m.initial();
    const labels: string[] = [];
    for (let guard = 0; guard < 50 && s.pages[7]?.locker !== 1; guard++) {
      labels.push(m.next(s, 1)!.label);
      s = m.step(s, 1).state;
    }
    expect(s.pages[7]!.locker).toBe(1);
    for (const _ of [0, 1, 2]) s = m.step(s, 0).state; // handle_pte_fault, i_size, find_lock_page (trylock fails)
    const info = m.next(s, 0)!;
    expect(info.enabled).toBe(false);
    expect(info.blockedOn).toBe('PG_locked of pfn 0x7, held by T1 (odirect)');
    expect(info.accesses).toContainEqual({ loc: 'lock:pfn7', mode: 'write', lock: 'acquire' });
    expect(() => m.step(s, 0)).toThrow(/blocked/);
  });

  test('every step names itself in kernel words and cites function and version', async () => {
    for (const flavor of ['linux-2.6.15', 'linux-2.6.15-seqschedlock', 'linux-2.6.23', 'linux-6.1']) {
      const m = await machineOf(onePage({ threads: odirect }), flavor);
      let s = m.initial();
      for (let i = 0; i < 200; i++) {
        const t = [0, 1].find((x) => m.next(s, x)?.enabled);
        if (t === undefined) break;
        const info = m.next(s, t)!;
        expect(info.label.length).toBeGreaterThan(5);
        expect(info.where).toMatch(new RegExp(`\\(\\)(.*)? ${flavor.replace('linux-', '').replace('-seqschedlock', '').replace(/\./g, '\\.')}$`));
        for (const a of info.accesses) expect(a.loc).toMatch(/^(M\d+\.[a-z_.]+|pfn\d+\.[a-z_.]+|lock:pfn\d+|ptl:\w+:\d+|pte:\w+:0x[0-9a-f]+|alloc)$/);
        s = m.step(s, t).state;
      }
      expect(m.next(s, 0)).toBeNull();
      expect(m.next(s, 1)).toBeNull();
    }
  });
});

describe('large folios and the 6.12 rules', () => {
  const folioFile = (fs: string) => `
flavor: linux-6.12
files:
  - { name: data, fs: ${fs}, dev: "8:1", ino: 0x2a, size: 16384, pages: [ { index: 0, order: 2, pfn: 4, flags: [uptodate] } ] }
processes:
  - { name: p, vmas: [ { file: data, start: 0x10000, pgoff: 0, pages: 4, ptes: [0, 3] } ] }
threads:
  - ${
    // tmpfs truncates through shmem_setattr, which the model does not follow (the program refuses it): fault-around there
    fs === 'tmpfs' ? '{ name: t, program: fault_around, args: { mm: p, index: 0 } }' : '{ name: t, program: truncate, args: { file: data, size: 4096 } }'
  }
`;

  test("a large folio fills every slot it covers; its PTEs count in the folio mapcount and in each page's own", async () => {
    const m = await machineOf(folioFile('xfs'), 'linux-6.12');
    const s = m.initial();
    expect(s.maps[0]!.cache.slice(0, 4)).toEqual([4, 4, 4, 4]);
    expect(s.maps[0]!.nrpages).toBe(4);
    expect(s.pages[4]).toMatchObject({ order: 2, mapcount: 2, pmap: [1, 0, 0, 1], refcount: 3 });
  });

  test('removing a large folio empties all its slots and judges its mapcount', async () => {
    const m = await machineOf(folioFile('xfs'), 'linux-6.12');
    const c = new Ctx(m.env, m.initial(), 0, true);
    c.removeFromCache(4);
    expect(c.state.maps[0]!.cache.slice(0, 4)).toEqual([NONE, NONE, NONE, NONE]);
    expect(c.state.maps[0]!.nrpages).toBe(0);
    expect(c.violations.map((v) => v.rule)).toEqual(['mapped-page-removed']);
  });

  test('mapped-beyond-eof: only once the truncate has returned, and never on tmpfs', async () => {
    for (const [fs, want] of [
      ['xfs', ['mapped-beyond-eof']],
      ['tmpfs', []],
    ] as const) {
      const m = await machineOf(folioFile(fs), 'linux-6.12');
      const s0 = m.initial();
      // i_size shrunk to one page while index 3 stays mapped: not yet a violation, the truncate is running
      const running: MmState = { ...s0, maps: [{ ...s0.maps[0]!, isize: 4096 }] };
      expect(mappedBeyondEof(m.env, running, 0)).toEqual([]);
      const settled: MmState = { ...s0, maps: [{ ...s0.maps[0]!, isize: 4096, eofSettled: true }] };
      expect(mappedBeyondEof(m.env, settled, 0).map((v) => v.rule)).toEqual(want);
    }
  });

  test('freed-while-unmapped-direct: the last put of a page missing from the direct map', async () => {
    const m = await machineOf(folioFile('xfs'), 'linux-6.12');
    const c = new Ctx(m.env, m.initial(), 0, true);
    const pfn = c.allocPage();
    c.updPage(pfn, { nodirect: true });
    c.ref(pfn, -1);
    expect(c.violations.map((v) => v.rule)).toEqual(['freed-while-unmapped-direct']);
    const ok = new Ctx(m.env, m.initial(), 0, true);
    ok.ref(ok.allocPage(), -1);
    expect(ok.violations).toEqual([]);
  });
});
