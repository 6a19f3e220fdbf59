/** Flavors: the built-ins, a user's module by path, composition, and what a bad module gets. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bugChecks, uncheckedBugs, checkFlavor, createMachine, extendFlavor, listFlavors, parseScenario, resolveFlavor, type Flavor } from '@kreplay/mm-model';
import { FLAVORS, machineOf, onePage } from './helpers/scenarios.js';
import { safetyRules, search } from './helpers/dfs.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kreplay-flavor-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('built-in flavors', () => {
  test('listFlavors names the five kernels with a description each', () => {
    const l = listFlavors();
    expect(l.map((f) => f.name)).toEqual(['linux-2.6.15', 'linux-2.6.15-seqschedlock', 'linux-2.6.23', 'linux-6.1', 'linux-6.12']);
    for (const f of l) expect(f.description.length).toBeGreaterThan(20);
  });

  test('every built-in flavor offers the same scenario programs (6.1 adds fault_around, punch_hole, write and fadvise, 6.12 the paths of its race corpus)', async () => {
    const base = ['fault', 'invalidate_inode_pages2_range', 'invalidate_mapping_pages', 'load', 'odirect_write', 'read', 'store', 'truncate'];
    const v61 = [...base, 'fadvise', 'fault_around', 'punch_hole', 'write'].sort();
    const want: Record<string, string[]> = {
      'linux-6.1': v61,
      'linux-6.12': [
        'fault',
        'fault_around',
        'hugetlb_fault',
        'hugetlb_punch',
        'invalidate_inode_pages2_range',
        'invalidate_mapping_pages',
        'migrate_hugetlb',
        'odirect_write',
        'punch_hole',
        'read',
        'readahead',
        'secretmem_fault',
        'truncate',
      ],
    };
    for (const { name } of listFlavors()) {
      const f = await resolveFlavor(name);
      expect(Object.keys(f.programs).sort()).toEqual(want[name] ?? base);
    }
  });

  test('linux-6.12 is built from its fixes: leaving one out changes only the procedures that fix touched', async () => {
    const { flavorKit } = await import('@kreplay/mm-model');
    const kit = flavorKit();
    const full = await resolveFlavor('linux-6.12');
    const changed = (fixes: Record<string, boolean>) => {
      const f = kit.builders.linux612({ name: 'x', description: 'x', fixes });
      return Object.keys(f.procs)
        .filter(
          (p) =>
            JSON.stringify(Object.keys(f.procs[p]!.steps).map((k) => [k, f.procs[p]!.steps[k]!.where, String(f.procs[p]!.steps[k]!.label)])) !==
            JSON.stringify(Object.keys(full.procs[p]!.steps).map((k) => [k, full.procs[p]!.steps[k]!.where, String(full.procs[p]!.steps[k]!.label)])),
        )
        .sort();
    };
    expect(changed({})).toEqual([]);
    expect(changed({ '7b7387650dcf': false })).toEqual(['hugetlbfs_punch_hole']);
    expect(changed({ '6f86d0534fdd': false })).toEqual(['secretmem_fault']);
    expect(changed({ '00fa15e0d564': false })).toEqual(['page_cache_ra_order']);
    // its read side: filemap_read's folio creation and update, and page_cache_ra_unbounded (readahead's order-0 fallback)
    expect(changed({ '730633f0b7f9': false })).toEqual(['filemap_read', 'page_cache_ra_order']);
    expect(changed({ fa04f5b60fda: false })).toEqual(['truncate_inode_pages_range']);
    // do_fault_around is filemap_map_pages as the fault calls it (flavors/linux-6.12/retry.ts)
    expect(changed({ f58df566524e: false })).toEqual(['do_fault_around', 'filemap_map_pages']);
    expect(changed({ '74207de2ba10': false })).toEqual(['do_fault_around', 'do_read_fault', 'filemap_map_pages', 'secretmem_fault']);
  });

  test('an unknown name is an input error listing the built-ins', async () => {
    await expect(resolveFlavor('linux-9.9')).rejects.toMatchObject({
      name: 'InputError',
      message: 'unknown flavor linux-9.9',
      hint: expect.stringContaining('linux-2.6.23'),
    });
  });

  test('the seed flavor is linux-2.6.15 with only the patched procedures replaced', async () => {
    const base = await resolveFlavor('linux-2.6.15');
    const seed = await resolveFlavor('linux-2.6.15-seqschedlock');
    const changed = Object.keys(seed.procs)
      .filter((p) => seed.procs[p] !== base.procs[p])
      .sort();
    expect(changed).toEqual(['do_no_page', 'invalidate_inode_pages2_range', 'invalidate_mapping_pages']);
  });
});

describe('flavor modules by path', () => {
  test('the mutation fixture composes linux-2.6.15 with one step replaced', async () => {
    const base = await resolveFlavor('linux-2.6.15');
    const f = await resolveFlavor(join(FLAVORS, 'no-truncate-count-recheck.js'));
    expect(f.name).toBe('linux-2.6.15-no-truncate-count-recheck');
    expect(f.procs.filemap_nopage).toBe(base.procs.filemap_nopage);
    expect(f.procs.do_no_page!.steps.seq).toBe(base.procs.do_no_page!.steps.seq);
    expect(f.procs.do_no_page!.steps.ptl).not.toBe(base.procs.do_no_page!.steps.ptl);
  });

  test('a module may export a whole Flavor object of its own; it runs without any engine change', async () => {
    const path = join(dir, 'tiny.mjs');
    await writeFile(
      path,
      `
export default {
  name: 'tiny', description: 'bumps i_size', version: 'tiny-1',
  procs: { grow: { fn: 'grow', where: 'tiny.c', entry: 'go', steps: {
    go: { label: 'i_size_write(inode, i_size + 4096)', acc: (c) => [{ loc: c.M(0) + '.i_size', mode: 'write' }],
          run: (c) => { c.updMap(0, { isize: c.map(0).isize + 4096 }, 'i_size grown'); c.ret(0); } } } } },
  programs: { grow: { proc: 'grow', description: 'grow the file', start: () => ({}) } },
};`,
    );
    const m = await machineOf(onePage({ threads: '  - { name: g, program: grow }' }), path);
    const info = m.next(m.initial(), 0)!;
    expect(info).toMatchObject({ label: 'i_size_write(inode, i_size + 4096)', where: 'tiny.c grow() tiny-1', enabled: true });
    const r = m.step(m.initial(), 0);
    expect(r.state.maps[0]!.isize).toBe(8192);
    expect(r.effect).toBe('M0.i_size grown');
  });

  test.each([
    ['a missing file', 'nope.js', '', /flavor module not found/],
    ['a non-JavaScript file', 'flavor.ts', 'export default {}', /must be a \.js or \.mjs file/],
    ['a module without a default export', 'nodefault.mjs', 'export const x = 1;', /no default export/],
    ['a module that does not load', 'broken.mjs', 'export default {', /cannot load flavor module/],
    ['an object that is not a flavor', 'notflavor.mjs', 'export default { name: "x" }', /does not implement the Flavor interface: description/],
    [
      'a program starting in an unknown procedure',
      'badprog.mjs',
      'export default { name: "x", description: "d", version: "1", procs: {}, programs: { p: { proc: "q", start: () => ({}) } } }',
      /starts in unknown procedure q/,
    ],
    [
      'a dead-local table naming a pc its procedure lacks',
      'baddead.mjs',
      'export default { name: "x", description: "d", version: "1", procs: { q: { entry: "a", steps: { a: { label: "l", run() {} } }, dead: { b: ["x"] } } }, programs: { p: { proc: "q", start: () => ({}) } } }',
      /procedure q declares dead locals at b, which is not one of its steps/,
    ],
  ])('%s is an input error', async (_what, file, body, msg) => {
    const path = join(dir, file);
    if (body) await writeFile(path, body);
    await expect(resolveFlavor(path)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(msg), file: path });
  });
});

describe('extendFlavor', () => {
  test('patching a step of a procedure the base lacks is refused', async () => {
    const base = await resolveFlavor('linux-6.1');
    expect(() => extendFlavor(base, { name: 'x', description: 'x', steps: { do_no_page: {} } })).toThrow(/unknown procedure do_no_page/);
  });

  test("initialState adjusts the state a scenario builds: a seqschedlock writer left running makes the seed's fault spin", async () => {
    const seed = await resolveFlavor('linux-2.6.15-seqschedlock');
    const stuck = extendFlavor(seed, {
      name: 'seed-writer-left',
      description: 'the seed with one writer that never unlocks',
      initialState: (s) => ({ ...s, maps: s.maps.map((m) => ({ ...m, sslWriters: 1 })) }),
    });
    const text = onePage({ threads: '  - { name: fault, program: fault, args: { mm: mapper, address: 0x10000 } }' });
    expect(search(createMachine(parseScenario(text, 'x.yaml'), seed)).found.size).toBe(0);
    const r = search(createMachine(parseScenario(text, 'x.yaml'), stuck));
    expect([...r.found.keys()]).toEqual(['livelock']);
    expect(r.ends).toBe(0);
  });

  test('6.1 BUG_ON(folio_mapped) fires when unmap_mapping_folio is made a no-op', async () => {
    const base = await resolveFlavor('linux-6.1');
    const broken: Flavor = extendFlavor(base, {
      name: 'linux-6.1-no-unmap',
      description: '6.1 whose unmap_mapping_folio does nothing',
      procs: {
        unmap_mapping_folio: { fn: 'unmap_mapping_folio', where: 'mm/memory.c', entry: 'lock', steps: { lock: { label: 'nothing', run: (c) => c.ret(0) } } },
      },
      steps: {
        invalidate_inode_pages2_range: {
          premap: {
            ...base.procs.invalidate_inode_pages2_range!.steps.premap!,
            run: (c) => {
              c.set('pfn', c.list('batch')[c.num('j')]!);
              c.goto('lock');
            },
          },
        },
      },
    });
    const text = onePage({ mapped: true, threads: '  - { name: inval, program: invalidate_inode_pages2_range, args: { file: data } }' });
    const m = createMachine(parseScenario(text, 'x.yaml'), base);
    const m2 = createMachine(parseScenario(text, 'x.yaml'), broken);
    expect(safetyRules(search(m))).toEqual([]);
    const r = search(m2);
    expect(safetyRules(r)).toEqual(['bug-on']);
    expect(r.found.get('bug-on')!.message).toMatch(/BUG_ON\(folio_mapped\(folio\)\)/);
  });

  test('linux-6.1 follows ext4 and refuses any other filesystem (it answered a tmpfs truncate-vs-fault with ext4_setattr under the invalidate_lock)', async () => {
    const flavor = await resolveFlavor('linux-6.1');
    const text = (fs: string, thread: string) => `
flavor: linux-6.1
files:
  - { name: data, dev: "0:40", ino: 0x2a, size: 8192, fs: ${fs}, pages: [{ index: 0 }] }
processes:
  - { name: task, vmas: [{ file: data, start: 0x10000, pages: 2 }] }
threads:
  - ${thread}
`;
    const make = (fs: string, thread: string) => () => createMachine(parseScenario(text(fs, thread), 'x.yaml'), flavor);
    const threads: [string, string][] = [
      ['fault', '{ name: t, program: fault, args: { mm: task, index: 0 } }'],
      ['fault_around', '{ name: t, program: fault_around, args: { mm: task, index: 0 } }'],
      ['store', '{ name: t, program: store, args: { mm: task, index: 0 } }'],
      ['truncate', '{ name: t, program: truncate, args: { file: data, size: 0 } }'],
      ['read', '{ name: t, program: read, args: { file: data, index: 0 } }'],
      ['write', '{ name: t, program: write, args: { file: data, offset: 0, length: 4096 } }'],
      ['punch_hole', '{ name: t, program: punch_hole, args: { file: data, offset: 0, length: 4096 } }'],
    ];
    for (const fs of ['xfs', 'tmpfs', 'secretmem'])
      for (const [prog, thread] of threads) expect(make(fs, thread)).toThrow(new RegExp(`linux-6\\.1 models ${prog} on ext4 files, not on ${fs}`));
    for (const [, thread] of threads) expect(make('ext4', thread)).not.toThrow();
  });

  test("linux-6.12's programs refuse a file whose filesystem takes another kernel path (it crashed: truncate_setsize on a hugetlbfs file)", async () => {
    const flavor = await resolveFlavor('linux-6.12');
    const text = (fs: string, threads: string) => `
flavor: linux-6.12
files:
  - { name: data, dev: "0:40", ino: 0x2a, size: 2097152, fs: ${fs}, pages: [{ index: 0, order: 9 }] }
processes:
  - name: task
    vmas:
      - { file: data, start: 0x200000, pages: 512 }
threads:
${threads}
`;
    const make = (fs: string, threads: string) => () => createMachine(parseScenario(text(fs, threads), 'x.yaml'), flavor);
    // hugetlbfs truncates through hugetlb_vmtruncate, not truncate_setsize: the race with hugetlb_punch ended in an internal error
    expect(make('hugetlbfs', '  - { name: trunc, program: truncate, args: { file: data, size: 0 } }')).toThrow(
      /^thread trunc \(truncate\): linux-6\.12 models truncate on ext4, xfs files, not on hugetlbfs/,
    );
    expect(make('hugetlbfs', '  - { name: f, program: fault, args: { mm: task, index: 0 } }')).toThrow(/models fault on ext4, xfs files, not on hugetlbfs/);
    expect(make('xfs', '  - { name: f, program: hugetlb_fault, args: { mm: task, index: 0 } }')).toThrow(/models hugetlb_fault on hugetlbfs files, not on xfs/);
    expect(make('tmpfs', '  - { name: p, program: punch_hole, args: { file: data, offset: 0, length: 4096 } }')).toThrow(
      /models punch_hole on ext4, xfs files, not on tmpfs/,
    );
    // tmpfs faults, truncates, reads and writes through shmem's own code (mm/shmem.c), which the model does not follow
    for (const [prog, args] of [
      ['fault', '{ mm: task, index: 0 }'],
      ['truncate', '{ file: data, size: 0 }'],
      ['read', '{ file: data, index: 0 }'],
      ['odirect_write', '{ file: data, offset: 0, length: 4096 }'],
    ])
      expect(make('tmpfs', `  - { name: t, program: ${prog}, args: ${args} }`)).toThrow(new RegExp(`models ${prog} on ext4, xfs files, not on tmpfs`));
    // what it does follow there: fault-around and the invalidations
    expect(make('tmpfs', '  - { name: f, program: fault_around, args: { mm: task, index: 0 } }')).not.toThrow();
    expect(make('tmpfs', '  - { name: i, program: invalidate_mapping_pages, args: { file: data } }')).not.toThrow();
    // the programs of each kind still take their own files
    expect(make('hugetlbfs', '  - { name: p, program: hugetlb_punch, args: { file: data, offset: 0, length: 2097152 } }')).not.toThrow();
    expect(make('xfs', '  - { name: t, program: truncate, args: { file: data, size: 0 } }')).not.toThrow();
  });

  test('each flavor lists the kernel BUGs it checks, from the kernel version it models (Proc.bugs; triage relies on them)', async () => {
    const want: Record<string, string[]> = {
      // 2.6.15 loops on the unmap in invalidate_inode_pages2_range; 2.6.23.17 has BUG_ON(page_mapped(page)) there
      // and at the end of __remove_from_page_cache (mm/filemap.c:123)
      'linux-2.6.15': ['page_remove_rmap'],
      'linux-2.6.15-seqschedlock': ['do_no_page', 'page_remove_rmap'],
      'linux-2.6.23': ['__remove_from_page_cache', 'invalidate_inode_pages2_range', 'page_remove_rmap'],
      // 6.1.192's page_remove_file_rmap and 6.12.118's __folio_remove_rmap check no mapcount below 0
      'linux-6.1': ['invalidate_inode_pages2_range'],
      'linux-6.12': ['invalidate_inode_pages2_range'],
    };
    for (const f of listFlavors()) {
      const checks = bugChecks(await resolveFlavor(f.name));
      expect([f.name, [...checks.keys()].sort()]).toEqual([f.name, want[f.name]]);
      for (const text of checks.values()) expect(text).toMatch(/\(.*\)$/); // each says where the kernel's check is
    }
    expect(bugChecks(await resolveFlavor('linux-6.12')).get('invalidate_inode_pages2_range')).toMatch(/mm\/truncate\.c:674, 6\.12/);
  });

  test("each flavor lists the kernel's other BUG checks in those functions, which no step makes (Proc.bugsUnchecked)", async () => {
    // 2.6.23.17's functions have one BUG each (mm/truncate.c:438, mm/filemap.c:123, mm/rmap.c:630);
    // 6.1.192's and 6.12.118's invalidate_inode_pages2_range also VM_BUG_ON_FOLIO(!folio_contains(...))
    const want: Record<string, Record<string, RegExp>> = {
      'linux-6.1': { invalidate_inode_pages2_range: /^VM_BUG_ON_FOLIO\(!folio_contains\(folio, index\), folio\) \(mm\/truncate\.c:692, 6\.1\.192\)$/ },
      'linux-6.12': { invalidate_inode_pages2_range: /^VM_BUG_ON_FOLIO\(!folio_contains\(folio, indices\[i\]\), folio\) \(mm\/truncate\.c:669, 6\.12\.118\)$/ },
    };
    for (const f of listFlavors()) {
      const un = uncheckedBugs(await resolveFlavor(f.name));
      const w = want[f.name] ?? {};
      expect([f.name, [...un.keys()].sort()]).toEqual([f.name, Object.keys(w).sort()]);
      for (const [fn, re] of Object.entries(w)) expect(un.get(fn)).toEqual([expect.stringMatching(re)]);
    }
    const base = await resolveFlavor('linux-6.1');
    const withUn = (bugsUnchecked: unknown): Flavor => ({
      ...base,
      procs: { ...base.procs, x: { ...base.procs.invalidate_inode_pages2_range!, bugsUnchecked: bugsUnchecked as Record<string, string[]> } },
    });
    expect(checkFlavor(withUn({ invalidate_inode_pages2_range: 'BUG()' }))).toContain(
      'procedure x: bugsUnchecked must be an object of kernel function → the texts of the BUG checks no step makes',
    );
    expect(checkFlavor(withUn({ truncate_inode_pages_range: ['BUG()'] }))).toContain(
      'procedure x: bugsUnchecked names truncate_inode_pages_range, which its bugs do not list',
    );
    expect(checkFlavor(withUn({ invalidate_inode_pages2_range: ['BUG()'] }))).toEqual([]);
  });

  test('a BUG a procedure does not list is a ModelBug when it fires; a listed one is bug-on', async () => {
    const base = await resolveFlavor('linux-6.1');
    const firing = (bugs?: Record<string, string>): Flavor =>
      extendFlavor(base, {
        name: 'linux-6.1-bug',
        description: '6.1 whose invalidate BUGs at once',
        procs: {
          invalidate_inode_pages2_range: {
            fn: 'invalidate_inode_pages2_range',
            where: 'mm/truncate.c',
            entry: 'go',
            ...(bugs ? { bugs } : {}),
            steps: { go: { label: 'BUG()', run: (c) => c.bug('invalidate_inode_pages2_range: BUG() for the test') } },
          },
        },
      });
    const text = onePage({ threads: '  - { name: inval, program: invalidate_inode_pages2_range, args: { file: data } }' });
    const undeclared = createMachine(parseScenario(text, 'x.yaml'), firing());
    const s = undeclared.initial();
    expect(() => undeclared.step(s, 0)).toThrow(/fired a BUG in invalidate_inode_pages2_range, which the procedure's `bugs` table does not list/);
    const declared = createMachine(parseScenario(text, 'x.yaml'), firing({ invalidate_inode_pages2_range: 'BUG() (test)' }));
    expect(declared.step(declared.initial(), 0).violations.map((v) => v.rule)).toEqual(['bug-on']);
    expect(checkFlavor({ ...base, procs: { ...base.procs, x: { ...base.procs.do_read_fault!, bugs: { f: 1 as unknown as string } } } })).toContain(
      "procedure x: bugs must be an object of kernel function → the BUG check's text",
    );
  });
});
