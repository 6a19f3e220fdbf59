/**
 * What a diff reads from a run's meta.json (the contract, finder and reader are core's):
 * the workload's name and result counters (coherency mismatches, SIGBUS count, ...), the
 * test file, and what the kernel itself reported (WARN, BUG, "Bad page cache") during the
 * capture.
 */
import { fileKey, findTraceMeta, metaRelease, metaWorkloadName, readTraceMeta, type MetaJson } from '@kreplay/core';
import { readReplayJson } from '@kreplay/replay';
import type { WorkloadValue } from './types.js';

const isScalar = (v: unknown): v is WorkloadValue => v === null || ['number', 'string', 'boolean'].includes(typeof v);

/** Flatten a counters object to scalar values (`a.b` for nested ones). */
function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, WorkloadValue> = {}): Record<string, WorkloadValue> {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, name, out);
    else if (isScalar(v)) out[name] = v;
  }
  return out;
}

export interface WorkloadMeta {
  path: string;
  counters: Record<string, WorkloadValue>;
  testFile?: string;
  /** The workload that ran. */
  name?: string;
  /** The traced kernel's release. */
  release?: string;
}

/** `workload.testFile {dev: "254:0", ino: 12}` of a capture's meta.json as a FileKey. */
export function testFileKey(meta: MetaJson): string | undefined {
  const tf = typeof meta.workload === 'object' ? meta.workload.testFile : undefined;
  if (!tf || !/^\d+:\d+$/.test(tf.dev)) return undefined;
  const ino = typeof tf.ino === 'number' ? BigInt(tf.ino) : /^(\d+|0x[0-9a-f]+)$/i.test(tf.ino) ? BigInt(tf.ino) : undefined;
  return ino === undefined ? undefined : fileKey({ dev: tf.dev, ino });
}

/** The workload's result counters, and what the kernel log reported, of a meta.json (empty when it has none). */
export function workloadCounters(meta: MetaJson): Record<string, WorkloadValue> {
  const counters = flatten((typeof meta.workload === 'object' ? meta.workload.result : undefined) ?? {});
  const log = meta.kernelLog?.findings;
  if (Array.isArray(log)) {
    counters.kernel_log_lines = log.length;
    for (const kind of [...new Set(log.map((f) => f.kind))].sort()) counters[`kernel_log.${kind}`] = log.filter((f) => f.kind === kind).length;
  }
  return counters;
}

export async function readWorkloadMeta(metaPath: string): Promise<WorkloadMeta> {
  const meta = await readTraceMeta(metaPath);
  const testFile = testFileKey(meta);
  const name = metaWorkloadName(meta);
  const release = metaRelease(meta);
  return {
    path: metaPath,
    counters: workloadCounters(meta),
    ...(testFile ? { testFile } : {}),
    ...(name ? { name } : {}),
    ...(release ? { release } : {}),
  };
}

/**
 * The workload of one input without replaying it: from the meta.json beside a trace, or
 * the `meta` a replay result carries. Undefined when nothing says (an unreadable file is
 * reported properly when the run is loaded).
 */
export async function workloadNameOf(input: string): Promise<string | undefined> {
  const read = async (file: string): Promise<MetaJson | undefined> => readTraceMeta(file).catch(() => undefined);
  if (/\.json$/i.test(input)) {
    const j = await readReplayJson(input).catch(() => undefined);
    return j?.meta ? metaWorkloadName(j.meta as MetaJson) : undefined;
  }
  const metaPath = findTraceMeta(input);
  return metaPath ? metaWorkloadName(await read(metaPath)) : undefined;
}
