/**
 * Probe maps: the shipped per-kernel defaults (kernel-configs/probes/<kernel>.yaml), a
 * user's `--probes FILE`, and a capture profile's `probes` section in meta.json — all the
 * same schema (ProbeMapSchema), merged key by key, most specific last.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError } from '@kreplay/core';
import { ProbeMapSchema, ProbeMeaningSchema, type ProbeMap } from '@kreplay/core';

/** kernel-configs/probes/ of this checkout (the same depth from src/ and dist/). */
export const PROBE_MAP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../kernel-configs/probes');

/** Kernels with a shipped probe map (`linux-6.1`, ...), sorted. */
export function shippedKernels(dir = PROBE_MAP_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

export function shippedMapPath(kernel: string, dir = PROBE_MAP_DIR): string {
  return path.join(dir, `${kernel}.yaml`);
}

/** Line of a YAML node at `p` (1-based), for error messages. */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, p: readonly PropertyKey[]): number | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Parse YAML or JSON text into a ProbeMap; errors name file:line. */
export function parseProbeMap(text: string, file: string): ProbeMap {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new InputError(`not valid YAML/JSON: ${e.message.split('\n')[0]}`, {
      file, line: e.linePos?.[0]?.line, hint: 'a probe map is YAML or JSON: { vmemmapBase?, probes: { <event or kprobe:func>: { op, fn?, args } } }',
    });
  }
  const raw = doc.toJS() as unknown;
  const r = ProbeMapSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.map(String).join('.') || '(top level)';
    throw new InputError(`bad probe map: ${where}: ${issue.message}`, {
      file, line: lineOf(doc, counter, issue.path),
      hint: 'see kernel-configs/probes/linux-6.1.yaml for the format (schema: packages/mm-model/src/probe-map.ts)',
    });
  }
  return r.data;
}

export async function loadProbeMap(file: string): Promise<ProbeMap> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read probe map: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, {
      file, hint: 'give a YAML or JSON probe map, e.g. kernel-configs/probes/linux-6.1.yaml', cause: e,
    });
  }
  return parseProbeMap(text, file);
}

const BareProbes = z.record(z.string().min(1), ProbeMeaningSchema);

/** meta.json's `probes`: a full ProbeMap or just its `probes` record. */
export function probeMapFromMeta(value: unknown, file: string): ProbeMap {
  const full = ProbeMapSchema.safeParse(value);
  if (full.success) return full.data;
  const bare = BareProbes.safeParse(value);
  if (bare.success) return { structPageSize: 64, probes: bare.data };
  const issue = full.error.issues[0]!;
  throw new InputError(`bad probes section: probes.${issue.path.map(String).join('.')}: ${issue.message}`, {
    file, hint: 'meta.json is written by `kreplay capture`; recapture, or replay with --probes FILE to override it',
  });
}

/** Key-by-key merge; later maps win. vmemmapBase/structPageSize: the last map that sets one. */
export function mergeProbeMaps(maps: ProbeMap[]): ProbeMap {
  const out: ProbeMap = { structPageSize: 64, probes: {} };
  for (const m of maps) {
    Object.assign(out.probes, m.probes);
    if (m.vmemmapBase !== undefined) out.vmemmapBase = m.vmemmapBase;
    if (m.structPageSize !== 64) out.structPageSize = m.structPageSize;
  }
  return out;
}
