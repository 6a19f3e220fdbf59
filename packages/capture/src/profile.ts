/**
 * Capture profiles (kernel-configs/*.yaml|json): what to trace and what each probe means
 * to replay. Validated with zod; every error names the file and line of the offending
 * value.
 *
 * Fetch arguments use `{struct.member}` placeholders for struct offsets (filled from the
 * booted kernel's BTF, see offsets.ts). Filters may use run-time variables of the test
 * file: `${ino}` (inode number), `${dev}` (kernel dev_t, major << 20 | minor).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import {
  InputError,
  ProbeMeaningSchema,
  issuePath,
  loadDocument,
  parseDocumentText,
  readDocumentFile,
  readErrorWhy,
  type DocPath,
  type ParsedDoc,
  type ProbeMap,
  type ProbeMeaning,
} from '@kreplay/core';
import { offsetKeys, OffsetsTableSchema, type OffsetsTable } from './fetch-offsets.js';

export const TRACE_CLOCKS = ['global', 'mono', 'mono_raw', 'boot', 'local', 'counter', 'x86-tsc', 'perf', 'uptime'] as const;
export const FILTER_VARIABLES = ['ino', 'dev'] as const;

const filterSchema = z
  .string()
  .min(1)
  .refine((f) => [...f.matchAll(/\$\{(\w+)\}/g)].every((m) => (FILTER_VARIABLES as readonly string[]).includes(m[1])), {
    message: `unknown \${variable} in filter (known: ${FILTER_VARIABLES.map((v) => `\${${v}}`).join(', ')})`,
  });

export const TracepointSchema = z
  .object({
    /** `system:event` as in /sys/kernel/tracing/events/<system>/<event>. */
    event: z.string().regex(/^\w+:\w+$/, 'expected system:event, e.g. filemap:mm_filemap_add_to_page_cache'),
    filter: filterSchema.optional(),
    meaning: ProbeMeaningSchema.optional(),
  })
  .strict();

export const KprobeSchema = z
  .object({
    /** Event name in the trace (group `kreplay`). Defaults to the function name (+ `_ret`). */
    name: z
      .string()
      .regex(/^[A-Za-z_]\w*$/)
      .optional(),
    type: z.enum(['kprobe', 'kretprobe']).default('kprobe'),
    /** Kernel function; checked against the guest's /proc/kallsyms before use. */
    function: z.string().regex(/^[A-Za-z_][\w.]*$/),
    /** Fetch arguments in order: name → fetch expression (`$arg1`, `+{page.index}($arg1):u64`, `$retval`). */
    fetch: z.record(z.string().regex(/^[A-Za-z_]\w*$/), z.string().min(1).regex(/^\S+$/, 'a fetch expression has no spaces')).default({}),
    filter: filterSchema.optional(),
    meaning: ProbeMeaningSchema.optional(),
  })
  .strict();

export const CaptureProfileSchema = z
  .object({
    name: z.string().regex(/^[\w.-]+$/),
    description: z.string().optional(),
    /** Boot with `nokaslr` so `struct page *` values convert to pfns with a fixed vmemmap base. */
    nokaslr: z.boolean().default(true),
    /** Per-CPU ring buffer size (buffer_size_kb). */
    bufferSizeKb: z
      .number()
      .int()
      .min(64)
      .max(1 << 20)
      .default(32768),
    /**
     * trace_clock. `mono` by default: `global` clamps a CPU whose clock lags to the last
     * timestamp handed out, which under TCG (unsynchronized TSCs) gives events of different
     * CPUs equal timestamps and loses their order.
     */
    traceClock: z.enum(TRACE_CLOCKS).default('mono'),
    /** /sys/kernel/debug/fault_around_bytes: 4096 = one filemap_fault per page; `default` leaves the kernel's 64 KiB. */
    faultAroundBytes: z.union([z.number().int().positive().multipleOf(4096), z.literal('default')]).default('default'),
    /** Pages in the test file the workload races on. */
    filePages: z.number().int().min(2).max(4096).default(16),
    tracepoints: z.array(TracepointSchema).default([]),
    kprobes: z.array(KprobeSchema).default([]),
    /** A declared offsets table (path relative to the profile) for exactly one release; default: BTF. */
    offsetsTable: z.string().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = new Map<string, number>();
    p.kprobes.forEach((k, i) => {
      const n = kprobeEventName(k);
      if (names.has(n))
        ctx.addIssue({
          code: 'custom',
          path: ['kprobes', i, 'name'],
          message: `event name ${n} is used twice (kprobes[${names.get(n)}] and kprobes[${i}]): give one a name`,
        });
      names.set(n, i);
      if (k.type === 'kretprobe' && Object.values(k.fetch).some((e) => /\$arg\d|\$stack/.test(e))) {
        ctx.addIssue({
          code: 'custom',
          path: ['kprobes', i, 'fetch'],
          message: 'a kretprobe cannot fetch arguments ($argN); fetch $retval and pair it with the entry probe by pid',
        });
      }
    });
  });
export type CaptureProfile = z.infer<typeof CaptureProfileSchema>;
export type KprobeSpec = z.infer<typeof KprobeSchema>;
export type TracepointSpec = z.infer<typeof TracepointSchema>;

export function kprobeEventName(k: Pick<KprobeSpec, 'name' | 'type' | 'function'>): string {
  return k.name ?? (k.type === 'kretprobe' ? `${k.function}_ret` : k.function).replace(/\./g, '_');
}

const DOC = { what: 'capture profile', hint: 'see kernel-configs/capture/README.md for the profile format' };

interface RawProfile {
  doc: ParsedDoc;
  file: string;
  data: Record<string, unknown>;
  /** The profile this one extends (already merged), and how many list entries it brought. */
  base?: { merged: Record<string, unknown>; file: string; counts: Record<'tracepoints' | 'kprobes', number>; raw: RawProfile };
}

const LISTS = ['tracepoints', 'kprobes'] as const;

function readRaw(text: string, file: string, seen: readonly string[]): RawProfile {
  const doc = parseDocumentText(text, file, { ...DOC, hint: 'fix the syntax (profiles are YAML or JSON)' });
  const js = doc.data;
  if (typeof js !== 'object' || js === null || Array.isArray(js)) {
    throw new InputError('a capture profile is a mapping (name:, tracepoints:, kprobes:, ...)', { file, line: 1 });
  }
  const data = js as Record<string, unknown>;
  const raw: RawProfile = { doc, file, data };
  if (data.extends !== undefined) {
    const line = doc.lineOf(['extends']);
    if (typeof data.extends !== 'string') throw new InputError('extends: expected the path of another profile', { file, line });
    const baseFile = resolve(dirname(file), data.extends);
    if (seen.includes(baseFile)) throw new InputError(`extends: ${data.extends} extends this profile back (a cycle)`, { file, line });
    let baseText: string;
    try {
      baseText = readFileSync(baseFile, 'utf8');
    } catch (e) {
      throw new InputError(`extends: cannot read ${data.extends}: ${readErrorWhy(e)}`, { file, line, cause: e });
    }
    const baseRaw = readRaw(baseText, baseFile, [...seen, baseFile]);
    const merged = mergedData(baseRaw);
    raw.base = {
      merged,
      file: baseFile,
      raw: baseRaw,
      counts: { tracepoints: (merged.tracepoints as unknown[] | undefined)?.length ?? 0, kprobes: (merged.kprobes as unknown[] | undefined)?.length ?? 0 },
    };
  }
  return raw;
}

/** A profile's data with its base folded in: keys override, tracepoints/kprobes append. */
function mergedData(raw: RawProfile): Record<string, unknown> {
  const own = { ...raw.data };
  delete own.extends;
  if (!raw.base) return own;
  const out: Record<string, unknown> = { ...raw.base.merged, ...own };
  for (const k of LISTS) {
    out[k] = [...((raw.base.merged[k] as unknown[] | undefined) ?? []), ...((own[k] as unknown[] | undefined) ?? [])];
  }
  return out;
}

/** File and line of a validation issue in a (possibly extended) profile. */
function issueWhere(raw: RawProfile, path: readonly PropertyKey[]): { file: string; line?: number } {
  const [head, index, ...rest] = path;
  if (raw.base && (LISTS as readonly PropertyKey[]).includes(head) && typeof index === 'number') {
    const n = raw.base.counts[head as 'tracepoints' | 'kprobes'];
    if (index < n) return issueWhere(raw.base.raw, path);
    return { file: raw.file, line: raw.doc.lineOf([head, index - n, ...rest] as DocPath) };
  }
  if (raw.base && head !== undefined && !(head in raw.data)) return issueWhere(raw.base.raw, path);
  return { file: raw.file, line: raw.doc.lineOf(path as DocPath) };
}

/**
 * Parse and validate a profile's text; errors carry `file:line`. `extends: other.yaml`
 * (relative to this file) starts from another profile: keys given here override its,
 * `tracepoints` and `kprobes` are appended to its lists.
 */
export function parseProfile(text: string, file: string): CaptureProfile {
  const raw = readRaw(text, file, [resolve(file)]);
  const parsed = CaptureProfileSchema.safeParse(mergedData(raw));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    const at = issueWhere(raw, issuePath(issue));
    throw new InputError(`invalid capture profile: ${where}: ${issue.message}`, { file: at.file, line: at.line, hint: DOC.hint });
  }
  return parsed.data;
}

export async function loadProfile(file: string): Promise<CaptureProfile> {
  const text = await readDocumentFile(file, { what: 'capture profile', hint: 'pass --profile kernel-configs/capture/<name>.yaml' });
  return parseProfile(text, file);
}

export async function loadOffsetsTable(file: string): Promise<OffsetsTable> {
  return (
    await loadDocument(file, OffsetsTableSchema, { what: 'offsets table', hint: 'it is written by `kreplay kernel build` (offsets.json); rebuild or fix it' })
  ).value;
}

/** Every `struct.member` the profile's fetch arguments need, plus sizeof(struct page). */
export function profileOffsetKeys(p: CaptureProfile): string[] {
  const keys = p.kprobes.flatMap((k) => Object.values(k.fetch).flatMap(offsetKeys));
  return [...new Set(keys)].sort();
}

/** Functions the profile probes (for the /proc/kallsyms check). */
export function profileFunctions(p: CaptureProfile): string[] {
  return [...new Set(p.kprobes.map((k) => k.function))].sort();
}

/**
 * The ProbeMap replay reads from meta.json: tracepoints by event name, kprobes by
 * `kprobe:<function>` / `kretprobe:<function>` (so they match whatever name the trace shows).
 */
export function profileProbeMap(p: CaptureProfile, vmemmapBase: string | undefined, structPageSize: number): ProbeMap {
  const probes: Record<string, ProbeMeaning> = {};
  for (const t of p.tracepoints) if (t.meaning) probes[t.event.split(':')[1]] = t.meaning;
  for (const k of p.kprobes) if (k.meaning) probes[`${k.type}:${k.function}`] = k.meaning;
  return { ...(vmemmapBase ? { vmemmapBase } : {}), structPageSize, probes };
}
