/**
 * The "not in the model" texts (kernel/not-searched.ts) sit on the programs whose steps reach what
 * they name. Writeback (session 44): a program carries the "writeback in flight" text exactly when
 * running it over a dirty page enters its flavor's writeback loop (kernel/writeback.ts), whose
 * I/O completes in the step that submits it. Each program runs alone, from a scenario where page 0
 * of an ext4 file is dirty and mapped, until it ends.
 */
import { describe, expect, it } from '@jest/globals';
import { builtinFlavors, type MmState } from '@kreplay/mm-model';
import { machineOf } from './helpers/scenarios.js';

/** The writeback loop's procedure in each flavor (flavors/<name>/writeback.ts). */
const WRITEBACK_PROC: Record<string, string> = {
  'linux-2.6.15': 'mpage_writepages',
  'linux-2.6.15-seqschedlock': 'mpage_writepages',
  'linux-2.6.23': 'write_cache_pages',
  'linux-6.1': 'mpage_prepare_extent_to_map',
  'linux-6.12': 'mpage_prepare_extent_to_map',
};

/** Arguments that run each program over page 0 of file `data` (mapped by `p` at 0x10000). */
const ARGS: Record<string, string> = {
  fault: '{ mm: p, index: 0 }',
  fault_around: '{ mm: p, index: 0 }',
  load: '{ mm: p, index: 0 }',
  store: '{ mm: p, index: 0 }',
  read: '{ file: data, index: 0 }',
  readahead: '{ file: data, index: 0, order: 0 }',
  truncate: '{ file: data, size: 0 }',
  invalidate_inode_pages2_range: '{ file: data, start: 0, end: 0 }',
  invalidate_mapping_pages: '{ file: data, start: 0, end: 0 }',
  odirect_write: '{ file: data, offset: 0, length: 4096 }',
  punch_hole: '{ file: data, offset: 0, length: 4096 }',
  write: '{ file: data, offset: 0, length: 4096 }',
  fadvise: '{ file: data, offset: 0, length: 4096 }',
};

/** Programs of other filesystems (hugetlbfs, secretmem): no ext4 file, no writeback loop. */
const NOT_EXT4 = new Set(['hugetlb_fault', 'hugetlb_punch', 'migrate_hugetlb', 'secretmem_fault']);

const isWritebackText = (t: string) => t.startsWith('writeback in flight:');

async function entersWriteback(flavor: string, program: string): Promise<boolean> {
  const m = await machineOf(
    `
flavor: ${flavor}
files:
  - { name: data, dev: "8:1", ino: 0x2a, size: 8192, pages: [{ index: 0, pfn: 7, flags: [uptodate, dirty] }] }
processes:
  - name: p
    vmas:
      - { file: data, start: 0x10000, pages: 2 }
threads:
  - { name: t, program: ${program}, args: ${ARGS[program]} }
`,
    flavor,
  );
  const wb = WRITEBACK_PROC[flavor]!;
  let s: MmState = m.initial();
  let entered = false;
  for (let k = 0; k < 500; k++) {
    const n = m.next(s, 0);
    if (!n) return entered;
    expect(n.enabled).toBe(true);
    s = m.step(s, 0).state;
    entered ||= s.threads[0]!.frames.some((f) => f.proc === wb);
  }
  throw new Error(`${flavor} ${program} did not end in 500 steps`);
}

describe('the programs that start writeback say that its I/O never stays in flight', () => {
  const cases = builtinFlavors().flatMap((f) =>
    Object.entries(f.programs)
      .filter(([name]) => !NOT_EXT4.has(name))
      .map(([name, p]) => [f.name, name, p.notSearched ?? []] as const),
  );

  it('covers every program of every built-in flavor but the other filesystems', () => {
    for (const [flavor, program] of cases) expect([flavor, program, ARGS[program] !== undefined]).toEqual([flavor, program, true]);
    expect(cases.length).toBeGreaterThan(40);
  });

  it.each(cases)('%s %s', async (flavor, program, notSearched) => {
    expect([program, notSearched.some(isWritebackText)]).toEqual([program, await entersWriteback(flavor, program)]);
  });

  it('starts writeback in the programs docs/flavors.md names, and says so on fadvise twice (its WB_SYNC_NONE writeback does not wait)', () => {
    const said = cases.filter(([, , n]) => n.some(isWritebackText)).map(([f, p]) => `${f} ${p}`);
    expect(said).toEqual([
      'linux-2.6.15 odirect_write',
      'linux-2.6.15-seqschedlock odirect_write',
      'linux-2.6.23 odirect_write',
      'linux-6.1 odirect_write',
      'linux-6.1 punch_hole',
      'linux-6.1 fadvise',
      'linux-6.12 odirect_write',
    ]);
    const fadvise = cases.find(([f, p]) => f === 'linux-6.1' && p === 'fadvise')![2];
    expect(fadvise).toEqual([
      expect.stringMatching(/^writeback in flight:/),
      expect.stringMatching(/^fadvise\(POSIX_FADV_DONTNEED\) keeping what it wrote back:/),
    ]);
  });
});

describe('the programs that submit read I/O say what the end_io thread leaves out (session 45)', () => {
  const texts = [/^readahead I\/O completion order and errors:/, /^the data of readahead I\/O in flight:/, /^readahead's batch in one bio:/];
  const endIoTexts = (notSearched: readonly string[]) => notSearched.filter((t) => texts.some((re) => re.test(t)));

  it('on exactly the programs that declare the end_io context, each text once and in order', () => {
    const said: string[] = [];
    for (const f of builtinFlavors()) {
      for (const [name, p] of Object.entries(f.programs)) {
        const got = endIoTexts(p.notSearched ?? []);
        if (p.endIo === undefined) {
          expect([f.name, name, got]).toEqual([f.name, name, []]);
          continue;
        }
        said.push(`${f.name} ${name}`);
        expect([f.name, name, got]).toEqual([f.name, name, texts.map((re) => expect.stringMatching(re))]);
      }
    }
    expect(said).toEqual(['linux-6.1 read', 'linux-6.12 read', 'linux-6.12 readahead']);
  });

  it('name the kernel lines where the block is fixed and where the batch is submitted', () => {
    const read = builtinFlavors().find((f) => f.name === 'linux-6.1')!.programs.read!.notSearched!;
    expect(read.find((t) => t.startsWith('the data of'))).toMatch(/fs\/ext4\/readpage\.c:266-269 ext4_readpage_limit, 305 ext4_map_blocks, 375 bi_sector/);
    expect(read.find((t) => t.startsWith("readahead's batch"))).toMatch(/fs\/ext4\/readpage\.c:359-407.*mm\/readahead\.c:158, 184/);
  });
});
