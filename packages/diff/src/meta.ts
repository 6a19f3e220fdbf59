/**
 * Workload results from a trace's meta.json (written by `kreplay capture`): the counters the
 * workload printed in its result line (e.g. coherency mismatches, SIGBUS count).
 *
 * Where the meta lives: `DIR/trace.txt[.gz]` → `DIR/meta.json`; `NAME.trace[.gz]` or
 * `NAME.txt[.gz]` → `NAME.meta.json`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '@kreplay/core';
import { fileKey } from '@kreplay/core';
import { lineOfPath, syntaxErrorLine } from './json-lines.js';
import type { WorkloadValue } from './types.js';

export function metaPathFor(tracePath: string): string | undefined {
  const dir = path.dirname(tracePath);
  const stem = path.basename(tracePath).replace(/\.(gz|zst)$/, '').replace(/\.(trace|txt|dat|json)$/, '');
  for (const c of [path.join(dir, `${stem}.meta.json`), path.join(dir, 'meta.json')]) {
    if (c !== tracePath && existsSync(c)) return c;
  }
  return undefined;
}

const Value = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const Counters = z.record(z.string(), z.unknown());

/** The part of meta.json diff reads; everything else passes through. */
const MetaSchema = z.looseObject({
  workload: z.union([
    z.string(),
    z.looseObject({
      name: z.string().optional(),
      result: Counters.optional(),
      counters: Counters.optional(),
    }),
  ]).optional(),
  result: Counters.optional(),
  workloadResult: Counters.optional(),
});

/** Flatten a counters object to scalar values (`a.b` for nested ones). */
function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, WorkloadValue> = {}): Record<string, WorkloadValue> {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, name, out);
    else if (Value.safeParse(v).success) out[name] = v as WorkloadValue;
  }
  return out;
}

export interface WorkloadMeta {
  path: string;
  counters: Record<string, WorkloadValue>;
  testFile?: string;
  /** The workload that ran. */
  name?: string;
}

/** `workload.testFile {dev: "254:0", ino: 12}` of a capture's meta.json as a FileKey. */
export function testFileKey(meta: Record<string, unknown>): string | undefined {
  const wl = meta.workload as { testFile?: { dev?: unknown; ino?: unknown } } | undefined;
  const tf = wl && typeof wl === 'object' ? wl.testFile : undefined;
  if (!tf || typeof tf.dev !== 'string' || !/^\d+:\d+$/.test(tf.dev)) return undefined;
  const ino = typeof tf.ino === 'number' && Number.isInteger(tf.ino) ? BigInt(tf.ino)
    : typeof tf.ino === 'string' && /^(\d+|0x[0-9a-f]+)$/i.test(tf.ino) ? BigInt(tf.ino) : undefined;
  return ino === undefined ? undefined : fileKey({ dev: tf.dev, ino });
}

export async function readWorkloadMeta(metaPath: string): Promise<WorkloadMeta> {
  const text = await readFile(metaPath, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`meta.json is not valid JSON: ${(e as Error).message}`, {
      file: metaPath, line: syntaxErrorLine(text, e), hint: 'it is written by `kreplay capture`; recapture or fix the file',
    });
  }
  const r = MetaSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`meta.json: ${issue.path.join('.')}: ${issue.message}`, {
      file: metaPath, line: lineOfPath(text, issue.path), hint: 'it is written by `kreplay capture`; recapture or fix the file',
    });
  }
  const testFile = testFileKey(r.data);
  const name = workloadName(r.data);
  return { path: metaPath, counters: workloadCounters(r.data), ...(testFile ? { testFile } : {}), ...(name ? { name } : {}) };
}

/** The workload a capture ran (`workload.name`, or `workload` when it is a string). */
export function workloadName(meta: Record<string, unknown>): string | undefined {
  const wl = meta.workload;
  if (typeof wl === 'string') return wl;
  const name = wl && typeof wl === 'object' ? (wl as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The workload of one input without replaying it: from the meta.json beside a trace, or
 * the `meta` a replay result carries. Undefined when nothing says.
 */
export async function workloadNameOf(input: string): Promise<string | undefined> {
  const read = async (file: string) => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined; // unreadable here; loading the run reports it properly
    }
  };
  if (/\.json$/i.test(input)) {
    const j = await read(input);
    const meta = j?.meta;
    return meta && typeof meta === 'object' ? workloadName(meta as Record<string, unknown>) : undefined;
  }
  const metaPath = metaPathFor(input);
  const meta = metaPath ? await read(metaPath) : undefined;
  return meta ? workloadName(meta) : undefined;
}

/** The workload's result counters of a parsed meta.json (empty when it has none). */
export function workloadCounters(meta: Record<string, unknown>): Record<string, WorkloadValue> {
  const r = MetaSchema.safeParse(meta);
  if (!r.success) return {};
  const m = r.data;
  const wl = typeof m.workload === 'object' ? m.workload : undefined;
  const counters = flatten(wl?.result ?? wl?.counters ?? m.workloadResult ?? m.result ?? {});
  // What the kernel itself reported (WARN, BUG, "Bad page cache", oops) during the capture.
  const log = (meta.kernelLog as { findings?: Array<{ kind?: unknown }> } | undefined)?.findings;
  if (Array.isArray(log)) {
    counters.kernel_log_lines = log.length;
    for (const kind of [...new Set(log.map((f) => String(f.kind)))].sort()) counters[`kernel_log.${kind}`] = log.filter((f) => String(f.kind) === kind).length;
  }
  return counters;
}
