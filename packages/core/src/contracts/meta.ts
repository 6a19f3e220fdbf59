/**
 * The meta.json contract: what a trace's meta.json may say, one finder, one reader, one
 * writer. `kreplay capture` writes it beside every trace (its full, strict schema is
 * packages/capture/src/meta.ts, tested to read back through this one); a user may hand-write a small one for a trace
 * captured elsewhere (`{"kernel": {"release": "6.1.0-56-amd64"}, "vmemmapBase": "0x..."}`).
 * Replay reads the kernel, vmemmapBase and probes; diff reads the workload and the kernel
 * log. docs/trace-format.md ("meta.json") documents every field.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadDocument } from '../document.js';
import { InputError } from '../errors.js';
import { stringifyJson } from '../json.js';
import { writeFileAtomic } from '../output.js';

/** The version field capture writes (`schema`); a hand-written file without one is read as this version. */
export const META_SCHEMA_ID = 'kreplay-capture-meta/1';

const HINT =
  'meta.json is written by `kreplay capture` (docs/trace-format.md describes it); fix or remove it, and pass --kernel/--vmemmap-base/--probes instead';

const ONE_LINE = 'one line of text (a line break here was never written by kreplay capture)';

/**
 * Text that reaches the outputs as it is: the kernel release and the trace clock in replay's text
 * header and warnings, the workload's name in KTAP test names, its counters' names and values in
 * the diff's table. The outputs escape control characters but keep a line break (a text output's
 * lines are its own), so a line break here would start a line of the file's choosing: on a CI
 * runner's log, `::error::…` at the start of a line is a workflow command. Refused, as replay
 * JSON's loose text is (replay result-json.ts, session 43).
 */
const OneLine = z.string().regex(/^[^\n]*$/, ONE_LINE);

/**
 * A workload counter as the workload printed it; nested objects are flattened by readers
 * (diff's `a.b`), so every key and every string value at any depth is one line of text.
 */
const Counters = z.record(z.string(), z.unknown()).superRefine((counters, ctx) => {
  const walk = (v: unknown, at: (string | number)[]): void => {
    if (typeof v === 'string') {
      if (v.includes('\n')) ctx.addIssue({ code: 'custom', message: ONE_LINE, path: at });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\n')) ctx.addIssue({ code: 'custom', message: `counter name: ${ONE_LINE}`, path: [...at, k] });
        walk(x, [...at, k]);
      }
  };
  walk(counters, []);
});

export const MetaJsonSchema = z.looseObject({
  /** Version of this contract. */
  schema: z
    .string()
    .refine((s) => s === META_SCHEMA_ID, {
      message: `this meta.json was written by another version of kreplay (this one reads ${META_SCHEMA_ID})`,
    })
    .optional(),
  kernel: z
    .union([
      OneLine,
      z.looseObject({
        /** `uname -r` of the traced kernel (`6.1.0-56-amd64`). */
        release: OneLine.optional(),
        source: OneLine.optional(),
      }),
    ])
    .optional(),
  /** `vmemmap_base` of the traced kernel as 0x-hex (x86-64 with nokaslr: 0xffffea0000000000). */
  vmemmapBase: OneLine.nullable().optional(),
  /**
   * What each traced probe means: a full probe map or just its `probes` record. Checked by
   * probeMapFromMeta where replay uses it, so that the message can name the probe at fault.
   */
  probes: z.unknown().optional(),
  workload: z
    .union([
      OneLine,
      z.looseObject({
        name: OneLine.optional(),
        /** The counters the workload printed in its result line. */
        result: Counters.optional(),
        testFile: z.looseObject({ dev: OneLine, ino: z.union([z.number().int(), OneLine]) }).optional(),
        /** The workload's exit code in the guest (null: unknown); not 0 means the run failed. */
        exitCode: z.number().int().nullable().optional(),
      }),
    ])
    .optional(),
  buffer: z
    .looseObject({
      clock: OneLine.optional(),
      /** Events the ring buffer lost during the capture (overruns, commit overruns, drops; summed over CPUs). */
      lost: z.number().int().nonnegative().optional(),
      /** kprobe hits the kernel did not record (a probe that fired inside another probe's handler). */
      probeMisses: z.number().int().nonnegative().optional(),
    })
    .optional(),
  kernelLog: z
    .looseObject({
      findings: z.array(z.looseObject({ kind: OneLine })).optional(),
    })
    .optional(),
  /** The trace file the capture saved beside it: its name and how many event lines it wrote there. */
  trace: z
    .looseObject({
      file: OneLine.optional(),
      events: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
export type MetaJson = z.infer<typeof MetaJsonSchema>;

/** Candidate meta.json paths for a trace or a replay result, in the order they are tried. */
export function metaCandidates(inputPath: string): string[] {
  const out = [`${inputPath}.meta.json`];
  let base = inputPath;
  for (;;) {
    const stripped = base.replace(/\.(gz|zst|txt|trace|dat|json)$/, '');
    if (stripped === base) break;
    base = stripped;
    out.push(`${base}.meta.json`);
  }
  out.push(path.join(path.dirname(inputPath), 'meta.json'));
  return [...new Set(out)].filter((p) => p !== inputPath);
}

/** The meta.json that belongs to a trace (or replay result), if any. */
export function findTraceMeta(inputPath: string): string | undefined {
  if (inputPath === '-') return undefined;
  return metaCandidates(inputPath).find((p) => existsSync(p));
}

/** Read and validate a meta.json; errors name file:line. */
export async function readTraceMeta(file: string): Promise<MetaJson> {
  const { value, doc } = await loadDocument(file, MetaJsonSchema, { what: 'meta.json', hint: HINT });
  if (typeof value !== 'object' || value === null) throw new InputError('meta.json is not a JSON object', { file, hint: HINT });
  // The schema only checks (no defaults, no transforms), so the file's own value is returned:
  // its keys keep the order the writer gave them, and a result that echoes meta.json echoes it as written.
  return doc.data as MetaJson;
}

/** Write a meta.json (2-space JSON, newline), atomically: a reader never sees half a file. */
export async function writeTraceMeta(file: string, meta: MetaJson): Promise<void> {
  await writeFileAtomic(file, `${stringifyJson(meta, 2)}\n`);
}

/** The kernel release meta.json names (`6.1.0-56-amd64`). */
export function metaRelease(meta: MetaJson | undefined): string | undefined {
  const k = meta?.kernel;
  return typeof k === 'string' ? k : k?.release;
}

/**
 * A kernel release's series, `6.1` of `6.1.0-56-amd64` or `6.12` of `6.12.117-kreplay-82294926`
 * (undefined when it does not start `major.minor`): what picks a probe map, a capture profile,
 * and what a diff's sides must share.
 */
export function releaseSeries(release: string): string | undefined {
  const m = /^(\d+)\.(\d+)(?:[.+-]|$)/.exec(release);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** The trace clock meta.json names (`global`, `mono`, ...). */
export function metaClock(meta: MetaJson | undefined): string | undefined {
  return meta?.buffer?.clock;
}

/**
 * What the capture recorded as lost while it traced (`kreplay capture --allow-lost` keeps such
 * a run): ring-buffer events and kprobe hits the trace does not hold. Undefined when nothing
 * was lost, or when meta.json does not say.
 */
export function metaLoss(meta: MetaJson | undefined): { lost: number; probeMisses: number } | undefined {
  const lost = meta?.buffer?.lost ?? 0;
  const probeMisses = meta?.buffer?.probeMisses ?? 0;
  return lost > 0 || probeMisses > 0 ? { lost, probeMisses } : undefined;
}

/**
 * How many events the capture saved in `traceFile`, when meta.json records it for that file:
 * `trace.file` names it (a capture's `trace.txt.gz`; the same name without `.gz` is that file
 * decompressed) and `trace.events` counts its event lines (not empty, not a `#` comment:
 * capture's TraceLineCounter). Undefined for any other file (a `trace.dat`, a `trace-cmd
 * report` text) or when meta.json does not say.
 */
export function metaTraceEvents(meta: MetaJson | undefined, traceFile: string): number | undefined {
  const saved = meta?.trace;
  if (saved?.file === undefined || saved.events === undefined) return undefined;
  const name = path.basename(traceFile);
  return name === saved.file || `${name}.gz` === saved.file ? saved.events : undefined;
}

/** The workload a capture ran. */
export function metaWorkloadName(meta: MetaJson | undefined): string | undefined {
  const wl = meta?.workload;
  return typeof wl === 'string' ? wl : wl?.name;
}
