/** Scenario files: what loads, and the file:line a user sees for what does not. */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { createMachine, loadScenario, parseScenario, resolveFlavor } from '@kreplay/mm-model';
import { isInputError, type InputError } from '@kreplay/core';
import { SCENARIOS } from './helpers/scenarios.js';

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (isInputError(e)) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

const GOOD = `flavor: linux-2.6.15
files:
  - name: data
    ino: 0x2a
    size: 4096
    pages:
      - { index: 0 }
processes:
  - name: reader
    vmas:
      - { file: data, start: 0x10000 }
threads:
  - { name: fault, program: fault, args: { mm: reader, address: 0x10000 } }
`;

describe('parseScenario', () => {
  test('fills defaults: dev 0:5, uptodate pages, one-page VMAs, the name from the file', () => {
    const s = parseScenario(GOOD, 'dir/my-case.yaml');
    expect(s.name).toBe('my-case');
    expect(s.files[0]).toMatchObject({ dev: '0:5', ino: 0x2a, pages: [{ index: 0, flags: ['uptodate'] }] });
    expect(s.processes[0]!.vmas[0]).toMatchObject({ pgoff: 0, pages: 1, ptes: [] });
  });

  test('JSON is accepted too', () => {
    const s = parseScenario(
      JSON.stringify({ flavor: 'linux-6.1', files: [{ name: 'f', ino: 1, size: 0 }], threads: [{ name: 't', program: 'read' }] }),
      'x.json',
    );
    expect(s.threads[0]!.args).toEqual({});
  });

  test.each([
    ['a YAML syntax error', GOOD.replace('size: 4096', 'size: [4096'), 6, /not valid YAML/],
    ['an unknown key', GOOD.replace('    size: 4096', '    size: 4096\n    sise: 1'), 6, /files\.0\.sise: Unrecognized key: "sise"/],
    ['a negative index', GOOD.replace('{ index: 0 }', '{ index: -1 }'), 7, /files\.0\.pages\.0\.index/],
    ['an unaligned VMA', GOOD.replace('start: 0x10000 }', 'start: 0x10001 }'), 11, /page aligned/],
    ['a VMA of an unknown file', GOOD.replace('{ file: data,', '{ file: nope,'), 11, /unknown file nope/],
    ['a PTE on an uncached page', GOOD.replace('start: 0x10000 }', 'start: 0x10000, pages: 2, ptes: [1] }'), 11, /not cached/],
    ['a thread name longer than a comm', GOOD.replace('name: fault,', 'name: a-very-long-thread-name,'), 13, /threads\.0\.name/],
    ['two threads with one name', `${GOOD}  - { name: fault, program: read }\n`, 14, /declared twice/],
    ['no threads', GOOD.replace(/threads:[^]*$/, 'threads: []\n'), 12, /threads/],
    // the model keeps a slot per page of a file: a 4 GiB file made every state a million slots (the search never ended)
    ['a file larger than the model spans', GOOD.replace('size: 4096', 'size: 4294967296'), 5, /files\.0\.size: the model's files span at most 4096 pages/],
    ["a page index past the model's files", GOOD.replace('{ index: 0 }', '{ index: 1000000000000 }'), 7, /files\.0\.pages\.0\.index: .*below 4096/],
    ["a VMA mapping past the model's files", GOOD.replace('start: 0x10000 }', 'start: 0x10000, pgoff: 4000, pages: 100 }'), 11, /past page 4095/],
    // 20,000 files were an internal error (data tags number 4096 files), and each file's pages are in every state
    [
      'more files than a scenario declares',
      GOOD.replace('processes:', `${Array.from({ length: 64 }, (_, i) => `  - { name: f${i}, ino: ${i + 100}, size: 4096 }\n`).join('')}processes:`),
      2,
      /files: a scenario declares at most 64 files/,
    ],
    // the explorer's thread sets are 32-bit masks: 31 threads were an internal error (exit 70) after --check said ok
    [
      'more threads than the explorer runs',
      `${GOOD}${Array.from({ length: 30 }, (_, i) => `  - { name: r${i}, program: read }\n`).join('')}`,
      12,
      /threads: the explorer runs at most 30 threads/,
    ],
  ])('%s is an input error at its line', (_what, text, line, msg) => {
    const e = inputError(() => parseScenario(text, 'bad.yaml'));
    expect(e.file).toBe('bad.yaml');
    expect(e.line).toBe(line);
    expect(e.message).toMatch(msg);
    expect(e.hint).toBeTruthy();
  });
});

test('a scenario text larger than 1 MiB is refused: read past 4 MiB, a repeated key was silently the last one', () => {
  const threads = (names: string[]) => names.map((n) => ({ name: n, program: 'read' }));
  const body = (description: string) =>
    `{"flavor":"linux-2.6.15","files":[{"name":"data","ino":1,"size":4096}],"threads":${JSON.stringify(threads(['a', 'b']))},"description":"${description}","threads":${JSON.stringify(threads(['a']))}}`;
  expect(inputError(() => parseScenario(body('x'), 'dup.json')).message).toMatch(/duplicate key/);
  const e = inputError(() => parseScenario(body('x'.repeat(5 << 20)), 'dup.json'));
  expect(e.message).toMatch(/more than a scenario may be \(1048576\)/);
  expect(e.file).toBe('dup.json');
});

describe('createMachine checks what depends on the flavor', () => {
  test("an unknown program points at the thread's program line and lists the flavor's programs", async () => {
    const s = parseScenario(GOOD.replace('program: fault', 'program: nopage'), 'bad.yaml');
    const e2 = inputError(() => createMachine(s, resolveFlavorSync()));
    expect(e2.line).toBe(13);
    expect(e2.message).toMatch(/has no program nopage/);
    expect(e2.hint).toMatch(/fault, invalidate_inode_pages2_range, invalidate_mapping_pages, load, odirect_write, read, store, truncate/);
  });

  test('a bad argument points at the argument', async () => {
    const text = GOOD.replace(
      '  - { name: fault, program: fault, args: { mm: reader, address: 0x10000 } }',
      '  - name: fault\n    program: fault\n    args:\n      mm: reader\n      address: 0x90000',
    );
    const e = inputError(() => createMachine(parseScenario(text, 'bad.yaml'), resolveFlavorSync()));
    expect(e.message).toMatch(/address 0x90000 is not inside a VMA of reader/);
    expect(e.line).toBe(17);
  });

  test.each([
    ['truncate', '{ file: data, size: 1125899906842624 }', /argument size reaches byte 1125899906842624, past the model's largest file/],
    ['odirect_write', '{ file: data, offset: 1125899906842624 }', /argument offset reaches byte/],
    ['odirect_write', '{ file: data, length: 1099511627776 }', /argument length reaches byte/],
    ['read', '{ file: data, index: 1000000000000 }', /argument index must be below 4096/],
  ])("%s with %s past the model's largest file is an input error at the argument (it used to hang the search)", (program, args, msg) => {
    const text = `${GOOD}  - { name: other, program: ${program}, args: ${args} }\n`;
    const e = inputError(() => createMachine(parseScenario(text, 'bad.yaml'), resolveFlavorSync()));
    expect(e.message).toMatch(msg);
    expect(e.line).toBe(14);
  });

  test.each([
    ['readahead', 'xfs', '{ file: data, index: 1048576, order: 0 }', /argument index must be an integer from 0 to 4095/],
    ['punch_hole', 'xfs', '{ file: data, offset: 1125899906842624, length: 4096 }', /argument length reaches byte/],
    ['hugetlb_punch', 'hugetlbfs', '{ file: data, offset: 1125899906842624, length: 2097152 }', /argument length reaches byte/],
    ['migrate_hugetlb', 'hugetlbfs', '{ file: data, index: 1000000000000 }', /argument index reaches byte/],
  ])("linux-6.12's %s on %s with %s past the model's largest file is an input error at the argument", async (program, fs, args, msg) => {
    const text = `flavor: linux-6.12
files:
  - { name: data, ino: 0x2a, size: 4096, fs: ${fs} }
processes: []
threads:
  - { name: t, program: ${program}, args: ${args} }
`;
    const e = inputError(() => createMachine(parseScenario(text, 'bad.yaml'), flavor612!));
    expect(e.message).toMatch(msg);
    expect(e.line).toBe(6);
  });

  test('an unknown argument is refused', () => {
    const text = GOOD.replace('address: 0x10000', 'adress: 0x10000');
    const e = inputError(() => createMachine(parseScenario(text, 'bad.yaml'), resolveFlavorSync()));
    expect(e.message).toMatch(/unknown argument adress/);
  });
});

describe('loadScenario', () => {
  test('loads every shipped scenario, each naming a flavor and expectations', async () => {
    for (const f of [
      'odirect-vs-fault',
      'invalidate-mapping-pages-vs-fault',
      'truncate-vs-fault',
      'fault-vs-fault',
      'odirect-vs-fault-uncached',
      'odirect-vs-fault-multipage',
    ]) {
      const s = await loadScenario(join(SCENARIOS, `${f}.yaml`));
      expect(s.name).toBe(f);
      expect(s.expect).toBeDefined();
    }
  });

  test('a missing file is an input error naming it', async () => {
    await expect(loadScenario('/nonexistent/scenario.yaml')).rejects.toMatchObject({ name: 'InputError', file: '/nonexistent/scenario.yaml' });
  });
});

let cached: Awaited<ReturnType<typeof resolveFlavor>> | undefined;
function resolveFlavorSync() {
  if (!cached) throw new Error('flavor not loaded');
  return cached;
}
let flavor612: Awaited<ReturnType<typeof resolveFlavor>> | undefined;
beforeAll(async () => {
  cached = await resolveFlavor('linux-2.6.15');
  flavor612 = await resolveFlavor('linux-6.12');
});
