/**
 * What each traced probe means to replay: the `probes` section of a capture profile
 * (kernel-configs/) and the standalone file `kreplay replay --probes FILE` reads.
 * Capture writes it into each trace's meta.json, so a trace and its meaning travel together.
 *
 * Keys are either the event name exactly as it appears in the trace (`p_filemap_fault_0`,
 * `my_rmap_add`) or `kprobe:<func>` / `kretprobe:<func>`, which match any probe event on
 * that function whatever its name (auto-generated names included).
 *
 * Example (YAML):
 *   vmemmapBase: "0xffffea0000000000"
 *   probes:
 *     kprobe:page_add_file_rmap: { op: pte_map, args: { pfn: { field: page, as: page } } }
 *     kretprobe:invalidate_inode_pages2_range:
 *       { op: invalidate_end, fn: invalidate_inode_pages2_range, args: { ret: { field: arg1, as: signed } } }
 */
import { z } from 'zod';
import { META_SCHEMA_ID } from './contracts/meta.js';
import { parseDocumentText, readDocumentFile, validateDocument, type ParsedDoc } from './document.js';
import { InputError } from './errors.js';
import { oneLine } from './escape.js';

/** How a trace field converts into an MmOp field. */
export const FIELD_CONVERSIONS = [
  'number', // integer as printed (decimal or 0x-hex)
  'signed', // integer reinterpreted as a signed 64-bit value (kretprobe return values: 0xfffffffffffffff0 → -16)
  'page', // struct page * → pfn, using vmemmapBase (pfn = (page - vmemmapBase) / 64)
  'pfn', // already a pfn
  'kdev', // kernel dev_t (major << 20 | minor) → "major:minor"
  'bytes-to-index', // byte offset → page index (/ 4096)
  'string',
  'hex', // hex printed without 0x (`%lx`: `ino 2a`): a string is read as hex digits, a value the reader already decoded is kept
] as const;

/**
 * A probe map's names — its keys (an event name, `kprobe:FUNCTION`), `fn` (a kernel function) and
 * field names — hold no line break: none can (tracefs names events and fields by identifiers, the
 * kernel its functions by symbols), and replay prints them inside the text outputs' lines (the
 * warning that names the PTE probes), where a meta.json's map, someone else's input, would start a
 * line of its own choosing: `::error::…` on a CI runner's log.
 */
const ONE_LINE_NAME = 'one line (an event, function or field name holds no line break)';
const ProbeName = z
  .string()
  .min(1)
  .regex(/^[^\n]*$/, ONE_LINE_NAME);

export const FieldSpecSchema = z.union([
  ProbeName,
  z
    .object({
      /** The trace field; or a list of them, the first one the event has being read (`[page, arg2]`). */
      field: z.union([ProbeName, z.array(ProbeName).min(1)]),
      as: z.enum(FIELD_CONVERSIONS).optional(),
    })
    .strict(),
]);
export type FieldSpec = z.infer<typeof FieldSpecSchema>;

/**
 * MmOp fields a probe argument can fill. `dev`/`ino` fill the op's FileRef. Two only
 * shape others: `nr` is how many consecutive pages a PTE op covers (6.12's
 * folio_add_file_rmap_ptes / folio_remove_rmap_ptes `nr_pages`); `folio` is the pfn of
 * the folio the op's page belongs to — when given, `index` is read as the folio's index
 * and the op's index becomes the page's own (index + pfn − folio), since a tail page's
 * own ->index and ->mapping are not its folio's. Three only say what a PTE op maps, for the
 * functions that map either the file's page or a private write fault's new anonymous copy
 * (`do_set_pte`, 6.12 `set_pte_range`): `faultFlags` is `vmf->flags` (FAULT_FLAG_WRITE is bit
 * 0), `vmFlags` the VMA's `vm_flags` (VM_SHARED is 0x8), `mapping` the page's (or folio's)
 * `->mapping` at entry (a new anonymous copy's is NULL).
 */
export const PROBE_ARG_TARGETS = [
  'dev',
  'ino',
  'index',
  'pfn',
  'address',
  'start',
  'end',
  'ret',
  'size',
  'mapcount',
  'order',
  'nr',
  'folio',
  'faultFlags',
  'vmFlags',
  'mapping',
] as const;

export const PROBE_OPS = [
  'fault_begin',
  'fault_end',
  'cache_add',
  'cache_delete',
  'pte_map',
  'pte_unmap',
  'invalidate_begin',
  'invalidate_end',
  'truncate_begin',
  'truncate_end',
  'unmap_range',
  'isize_set',
  'page_lock',
  'page_unlock',
  'task_exit',
] as const;

/**
 * Conversions whose value is a string: only `dev` (a FileRef's "major:minor") takes one, and
 * only they make one — a number read into `dev`, or a string into a numeric target, is never
 * usable, and replay dropped it without a word (a file became unknown, a range absent).
 */
const STRING_CONVERSIONS: ReadonlySet<string> = new Set(['kdev', 'string']);

export const ProbeMeaningSchema = z
  .object({
    op: z.enum(PROBE_OPS),
    /** Kernel function the op stands for (invalidate/truncate/unmap ops). */
    fn: z
      .string()
      .regex(/^[^\n]*$/, ONE_LINE_NAME)
      .optional(),
    args: z.partialRecord(z.enum(PROBE_ARG_TARGETS), FieldSpecSchema).default({}),
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const [target, spec] of Object.entries(m.args)) {
      const as = typeof spec === 'object' ? spec.as : undefined;
      if (as === undefined || STRING_CONVERSIONS.has(as) === (target === 'dev')) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['args', target, 'as'],
        message:
          target === 'dev'
            ? `dev is a device ("major:minor"): read it as kdev (a kernel dev_t) or string, not ${as}`
            : `${target} is a number: ${as} makes a string (use number, signed, hex, pfn, page or bytes-to-index)`,
      });
    }
  });
export type ProbeMeaning = z.infer<typeof ProbeMeaningSchema>;

/** The probes of a map by key (ProbeName's rule, said at the key: a record's key schema says only "Invalid key in record"). */
const ProbesRecord = z.record(z.string().min(1), ProbeMeaningSchema).superRefine((probes, ctx) => {
  for (const key of Object.keys(probes)) if (key.includes('\n')) ctx.addIssue({ code: 'custom', path: [key], message: ONE_LINE_NAME });
});

/** The version field of a probe map file (optional: a map without one is read as this version). */
export const PROBE_MAP_SCHEMA_ID = 'kreplay-probes/1';

export const ProbeMapSchema = z
  .object({
    schema: z.literal(PROBE_MAP_SCHEMA_ID, { message: `this probe map is for another version of kreplay (this one reads ${PROBE_MAP_SCHEMA_ID})` }).optional(),
    /** `vmemmap_base` of the traced kernel as 0x-hex (nokaslr x86-64: 0xffffea0000000000). */
    vmemmapBase: z
      .string()
      .regex(/^0x[0-9a-fA-F]+$/)
      .optional(),
    /**
     * sizeof(struct page); 64 on x86-64 unless the build says otherwise. Absent unless the map
     * says it (64 is then used), so that a map saying 64 still overrides one that said otherwise.
     */
    structPageSize: z.number().int().positive().optional(),
    probes: ProbesRecord,
  })
  .strict();
export type ProbeMap = z.infer<typeof ProbeMapSchema>;

const DOC = {
  what: 'probe map',
  hint: 'a probe map is YAML or JSON: { vmemmapBase?, probes: { <event or kprobe:func>: { op, fn?, args } } }; see kernel-configs/probes/linux-6.1.yaml',
};

/**
 * A capture's meta.json given where a probe map goes (`--probes traces/x/meta.json`) would be
 * refused as "a probe map for another version of kreplay"; say what it is and where its map is.
 */
function refuseCaptureMeta(doc: ParsedDoc): void {
  const data = doc.data as { schema?: unknown } | null;
  if (typeof data !== 'object' || data === null || data.schema !== META_SCHEMA_ID) return;
  throw new InputError(`this is a capture's meta.json (schema ${META_SCHEMA_ID}), not a probe map`, {
    file: doc.file,
    line: doc.lineOf(['schema']) ?? 1,
    hint: `its "probes" object is one: jq .probes ${doc.file} > map.json, then --probes map.json (replay reads the meta.json beside a trace without --probes)`,
  });
}

/** Parse YAML or JSON text into a ProbeMap; errors name file:line. */
export function parseProbeMap(text: string, file: string): ProbeMap {
  const doc = parseDocumentText(text, file, DOC);
  refuseCaptureMeta(doc);
  return validateDocument(doc, ProbeMapSchema, DOC);
}

/** Read a probe map file (`kreplay replay --probes FILE`, kernel-configs/probes/*.yaml). */
export async function loadProbeMap(file: string): Promise<ProbeMap> {
  return parseProbeMap(await readDocumentFile(file, DOC), file);
}

/** `kprobe:<func>` / `kretprobe:<func>` for a key of either form or an auto-generated event name (`p_<func>_0`, `r_<func>_0`). */
function siteKey(key: string): { site: string; func: string } | undefined {
  const k = /^(kprobe|kretprobe):(.+)$/.exec(key);
  if (k) return { site: key, func: k[2]! };
  const a = /^([pr])_(.+)_\d+$/.exec(key);
  return a ? { site: `${a[1] === 'p' ? 'kprobe' : 'kretprobe'}:${a[2]}`, func: a[2]! } : undefined;
}

/** Ops whose `fn` (the kernel function the op stands for) changes what replay does with them. */
const FN_OPS: ReadonlySet<string> = new Set(['invalidate_begin', 'invalidate_end', 'truncate_begin', 'truncate_end', 'unmap_range']);

/**
 * Where `over` says a probe `base` also knows means another op, or (for ops that read it)
 * stands for another kernel function — a meaning's `fn` defaulting to the probed function.
 * Sorted by key; `over`/`base`: what each says (`pte_map`, `invalidate_end of invalidate_mapping_pages`).
 */
export function probeMapConflicts(base: ProbeMap, over: ProbeMap): Array<{ key: string; over: string; base: string }> {
  const out: Array<{ key: string; over: string; base: string }> = [];
  for (const key of Object.keys(over.probes).sort()) {
    const mine = over.probes[key]!;
    const sk = siteKey(key);
    const theirs = Object.hasOwn(base.probes, key) ? base.probes[key] : sk && Object.hasOwn(base.probes, sk.site) ? base.probes[sk.site] : undefined;
    if (!theirs) continue;
    const said = (m: ProbeMeaning) => (FN_OPS.has(m.op) ? `${m.op} of ${m.fn ?? sk?.func ?? '(no function)'}` : m.op);
    if (said(mine) !== said(theirs)) out.push({ key, over: said(mine), base: said(theirs) });
  }
  return out;
}

const BareProbes = ProbesRecord;

/** meta.json's `probes`: a full ProbeMap or just its `probes` record. */
export function probeMapFromMeta(value: unknown, file: string): ProbeMap {
  const full = ProbeMapSchema.safeParse(value);
  if (full.success) return full.data;
  const bare = BareProbes.safeParse(value);
  if (bare.success) return { probes: bare.data };
  // the form it is meant to be: a full map names its probes under `probes`
  const issue = (value !== null && typeof value === 'object' && 'probes' in value ? full : bare).error!.issues[0]!;
  throw new InputError(`bad probes section: probes.${oneLine(issue.path.map(String).join('.'))}: ${issue.message}`, {
    file,
    hint: 'meta.json is written by `kreplay capture`; recapture, or replay with --probes FILE to override it',
  });
}
