/**
 * Scenario files (docs/scenarios.md): a flavor, an initial state (files with their cached
 * pages, processes with shared file mappings and PTEs) and threads (program + arguments),
 * plus optional expectations that tests read and the engine never does. YAML or JSON,
 * validated with zod; every error names file:line.
 */
import { z } from 'zod';
import { FS_KINDS, MAX_FILE_BYTES, MAX_FILE_PAGES, MAX_FILES, MAX_THREADS } from './env.js';
import { InputError, RULES, parseDocumentText, readDocumentFile, validateDocument } from '@kreplay/core';

const int = z.number().int();
const Name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -');

export const ScenarioPageSchema = z
  .object({
    index: int.min(0).max(MAX_FILE_PAGES - 1, `the model's files span at most ${MAX_FILE_PAGES} pages: use an index below ${MAX_FILE_PAGES}`),
    /** Page frame number; assigned from 1 upward when absent. */
    pfn: int.min(1).max(65535).optional(),
    flags: z.array(z.enum(['uptodate', 'dirty', 'writeback', 'private'])).default(['uptodate']),
    /** folio_order(): a large folio covers indexes index .. index + 2^order - 1 (index aligned). */
    order: int.min(0).max(9).default(0),
  })
  .strict();

export const ScenarioFileSchema = z
  .object({
    name: Name,
    /** `major:minor`, as the filemap tracepoints print it. */
    dev: z
      .string()
      .regex(/^\d+:\d+$/, 'write dev as major:minor, e.g. "0:5"')
      .default('0:5'),
    /** Inode number (an integer, or a hex string like "0x2a"). */
    ino: z.union([int.min(0), z.string().regex(/^(0x)?[0-9a-fA-F]+$/)]),
    /** i_size in bytes. */
    size: int
      .min(0)
      .max(MAX_FILE_BYTES, `the model's files span at most ${MAX_FILE_PAGES} pages (${MAX_FILE_BYTES} bytes): the race needs only the pages its threads touch`),
    /** Pages cached at the start. */
    pages: z.array(ScenarioPageSchema).default([]),
    /**
     * The filesystem: ext4 (order-0 folios only on 6.12), xfs (large folios), tmpfs
     * (shmem mounted huge=always: large folios, PMD mappings across i_size allowed), secretmem
     * (memfd_secret: order-0 folios removed from the kernel direct map), hugetlbfs (2 MiB huge
     * pages: order-9 folios mapped by huge PMDs).
     */
    fs: z.enum(FS_KINDS).default('ext4'),
  })
  .strict();

export const ScenarioVmaSchema = z
  .object({
    file: Name,
    /** Start address, page aligned. */
    start: int.min(0).refine((n) => n % 4096 === 0, 'start must be page aligned (a multiple of 4096)'),
    /** File page index the VMA starts at (vm_pgoff). */
    pgoff: int
      .min(0)
      .max(MAX_FILE_PAGES - 1, `the model's files span at most ${MAX_FILE_PAGES} pages: use a pgoff below ${MAX_FILE_PAGES}`)
      .default(0),
    pages: int.min(1).max(4096).default(1),
    /** File page indexes whose PTE is installed at the start (each must be cached). */
    ptes: z.array(int.min(0)).default([]),
  })
  .strict();

export const ScenarioProcessSchema = z
  .object({
    name: Name,
    vmas: z.array(ScenarioVmaSchema).min(1),
  })
  .strict();

export const ScenarioCallSchema = z
  .object({
    program: z.string().min(1),
    args: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const ScenarioThreadSchema = z
  .object({
    /** Task name (the comm of rendered traces), at most 15 characters. */
    name: Name.max(15),
    program: z.string().min(1),
    args: z.record(z.string(), z.unknown()).default({}),
    /** Programs the same thread runs after `program` returns, in order (a task's later system calls). */
    then: z.array(ScenarioCallSchema).optional(),
  })
  .strict();

export const ExpectationSchema = z.union([z.literal('clean'), z.array(z.enum(RULES)).min(1)]);

export const ScenarioSchema = z
  .object({
    name: Name.optional(),
    description: z.string().optional(),
    /**
     * Flavor the scenario runs on unless overridden (`--flavor`); a scenario meant for every kernel
     * may leave it out, and is then run with `--flavor` only.
     */
    flavor: z.string().min(1).optional(),
    files: z.array(ScenarioFileSchema).min(1).max(MAX_FILES, `a scenario declares at most ${MAX_FILES} files`),
    processes: z.array(ScenarioProcessSchema).default([]),
    threads: z.array(ScenarioThreadSchema).min(1).max(MAX_THREADS, `the explorer runs at most ${MAX_THREADS} threads`),
    /** Per flavor: the rules exhaustive exploration finds, or `clean`. Read by tests only. */
    expect: z.record(z.string(), ExpectationSchema).optional(),
  })
  .strict();

export type ScenarioBody = z.infer<typeof ScenarioSchema>;

export interface Scenario extends ScenarioBody {
  name: string;
  /** Where it was read from, to point errors found later (unknown program, bad args) at a line. */
  source?: { file: string; lineOf: (path: readonly (string | number)[]) => number | undefined };
}

const DOC = { what: 'scenario', hint: 'docs/scenarios.md describes every field' };

export async function loadScenario(path: string): Promise<Scenario> {
  const text = await readDocumentFile(path, {
    what: 'scenario',
    hint: 'pass the path of a scenario file (YAML or JSON), e.g. fixtures/scenarios/odirect-vs-fault.yaml',
  });
  return parseScenario(text, path);
}

/**
 * The largest scenario text read. Past 4 MiB the document loader reads JSON with JSON.parse,
 * which keeps the last of two equal keys without a word: a second `threads:` after a long
 * description replaced the racing threads and the search read clean. A scenario is a few
 * hundred bytes; the limits above keep any real one far below this.
 */
export const MAX_SCENARIO_BYTES = 1 << 20;

/** Parse and validate a scenario (YAML, or JSON, which is YAML too). */
export function parseScenario(text: string, file: string): Scenario {
  if (text.length > MAX_SCENARIO_BYTES) {
    throw new InputError(`the scenario is ${text.length} characters long, more than a scenario may be (${MAX_SCENARIO_BYTES})`, {
      file,
      hint: 'a scenario names a few files, processes and threads: docs/scenarios.md describes every field',
    });
  }
  const doc = parseDocumentText(text, file, DOC);
  const body = validateDocument(doc, ScenarioSchema, DOC);
  checkReferences(body, file, doc.lineOf);
  const base = file.replace(/^.*[\\/]/, '').replace(/\.(ya?ml|json)$/i, '');
  return { ...body, name: body.name ?? base, source: { file, lineOf: doc.lineOf } };
}

/** Cross-field checks zod cannot express: names resolve, nothing is declared twice. */
function checkReferences(s: ScenarioBody, file: string, lineOf: (p: (string | number)[]) => number | undefined): void {
  const fail = (path: (string | number)[], msg: string, hint: string): never => {
    throw new InputError(`invalid scenario: ${path.join('.')}: ${msg}`, { file, line: lineOf(path) ?? 1, hint });
  };
  const files = new Map<string, ScenarioBody['files'][number]>();
  const pfns = new Set<number>();
  s.files.forEach((f, fi) => {
    if (files.has(f.name)) fail(['files', fi, 'name'], `file ${f.name} is declared twice`, 'give each file its own name');
    files.set(f.name, f);
    const idx = new Set<number>();
    f.pages.forEach((p, pi) => {
      const nr = 1 << p.order;
      if (p.order > 0 && f.fs === 'ext4') {
        fail(['files', fi, 'pages', pi, 'order'], `ext4 on 6.12 caches only order-0 folios`, 'use fs: xfs or fs: tmpfs for large folios');
      }
      if (p.index % nr !== 0)
        fail(
          ['files', fi, 'pages', pi, 'index'],
          `a folio of order ${p.order} starts at an index that is a multiple of ${nr}`,
          `use index ${p.index - (p.index % nr)}`,
        );
      for (let k = 0; k < nr; k++) {
        if (idx.has(p.index + k)) fail(['files', fi, 'pages', pi, 'index'], `index ${p.index + k} is cached twice`, 'one page per index');
        idx.add(p.index + k);
      }
      if (p.pfn !== undefined) {
        if (pfns.has(p.pfn)) fail(['files', fi, 'pages', pi, 'pfn'], `pfn ${p.pfn} is used twice`, 'every page needs its own pfn');
        pfns.add(p.pfn);
      }
    });
  });
  const mms = new Set<string>();
  s.processes.forEach((p, pi) => {
    if (mms.has(p.name)) fail(['processes', pi, 'name'], `process ${p.name} is declared twice`, 'give each process its own name');
    mms.add(p.name);
    const spans: [number, number][] = [];
    p.vmas.forEach((v, vi) => {
      const f = files.get(v.file);
      if (!f) fail(['processes', pi, 'vmas', vi, 'file'], `unknown file ${v.file}`, `declare it under files: (known: ${[...files.keys()].join(', ')})`);
      if (v.pgoff + v.pages > MAX_FILE_PAGES)
        fail(
          ['processes', pi, 'vmas', vi, 'pages'],
          `this VMA maps file pages up to ${v.pgoff + v.pages - 1}, past page ${MAX_FILE_PAGES - 1}, the last page a file of the model has`,
          'lower pgoff or pages',
        );
      const end = v.start + v.pages * 4096;
      if (spans.some(([a, b]) => v.start < b && a < end)) {
        fail(['processes', pi, 'vmas', vi, 'start'], 'this VMA overlaps another VMA of the same process', 'move it to a free address range');
      }
      spans.push([v.start, end]);
      v.ptes.forEach((ix, ti) => {
        if (ix < v.pgoff || ix >= v.pgoff + v.pages) {
          fail(
            ['processes', pi, 'vmas', vi, 'ptes', ti],
            `index ${ix} is outside the VMA (pgoff ${v.pgoff}, ${v.pages} pages)`,
            'list file page indexes the VMA covers',
          );
        }
        if (!f!.pages.some((pg) => ix >= pg.index && ix < pg.index + (1 << pg.order))) {
          fail(['processes', pi, 'vmas', vi, 'ptes', ti], `index ${ix} of ${v.file} is not cached, so no PTE can map it`, 'add the page under files[].pages');
        }
      });
    });
  });
  const names = new Set<string>();
  s.threads.forEach((t, ti) => {
    if (names.has(t.name)) fail(['threads', ti, 'name'], `thread ${t.name} is declared twice`, 'give each thread its own name');
    names.add(t.name);
  });
}
