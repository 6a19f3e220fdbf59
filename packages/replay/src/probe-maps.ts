/**
 * Probe maps: the shipped per-kernel defaults (kernel-configs/probes/<kernel>.yaml), a
 * user's `--probes FILE`, and a capture profile's `probes` section in meta.json — all the
 * same schema (ProbeMapSchema), merged key by key, most specific last.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { shippedPath, type ProbeMap } from '@kreplay/core';

/** kernel-configs/probes/: the repository's in a clone, the package's own when installed. */
export const PROBE_MAP_DIR = shippedPath(import.meta.url, 'kernel-configs/probes');

/** Kernels with a shipped probe map (`linux-6.1`, ...), sorted. */
export function shippedKernels(dir = PROBE_MAP_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function shippedMapPath(kernel: string, dir = PROBE_MAP_DIR): string {
  return path.join(dir, `${kernel}.yaml`);
}

/**
 * Key-by-key merge; later maps win. vmemmapBase/structPageSize: the last map that sets one
 * (a later map's explicit 64 included), else structPageSize 64.
 */
export function mergeProbeMaps(maps: ProbeMap[]): ProbeMap & { structPageSize: number } {
  const out: ProbeMap = { probes: {} };
  for (const m of maps) {
    Object.assign(out.probes, m.probes);
    if (m.vmemmapBase !== undefined) out.vmemmapBase = m.vmemmapBase;
    if (m.structPageSize !== undefined) out.structPageSize = m.structPageSize;
  }
  return { ...out, structPageSize: out.structPageSize ?? 64 };
}
