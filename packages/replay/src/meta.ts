/**
 * A trace's meta.json (written by `kreplay capture`): looked up next to the trace as
 * `<trace>.meta.json`, `<trace without .gz/.txt/.dat>.meta.json`, or `meta.json` in the
 * same folder. Replay reads the kernel release, `vmemmapBase` and the `probes` section;
 * the rest is kept for reports and diff.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '@kreplay/core';
import type { TraceMetaJson } from './types.js';

/** Candidate meta.json paths for a trace, in the order they are tried. */
export function metaCandidates(tracePath: string): string[] {
  const out = [`${tracePath}.meta.json`];
  let base = tracePath;
  for (;;) {
    const stripped = base.replace(/\.(gz|txt|trace|dat|zst)$/, '');
    if (stripped === base) break;
    base = stripped;
    out.push(`${base}.meta.json`);
  }
  out.push(path.join(path.dirname(tracePath), 'meta.json'));
  return [...new Set(out)];
}

export function findMeta(tracePath: string): string | undefined {
  if (tracePath === '-') return undefined;
  return metaCandidates(tracePath).find((p) => existsSync(p));
}

export async function readMeta(file: string): Promise<TraceMetaJson> {
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : undefined;
    throw new InputError(`meta.json is not valid JSON: ${(e as Error).message}`, {
      file, line, hint: 'it is written by `kreplay capture`; fix or remove it, and pass --kernel/--vmemmap-base/--probes instead',
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError('meta.json is not a JSON object', { file, hint: 'it is written by `kreplay capture`; fix or remove it' });
  }
  return raw as TraceMetaJson;
}

/** The kernel release meta.json names (`6.1.0-56-amd64`), wherever capture put it. */
export function metaRelease(meta: TraceMetaJson | undefined): string | undefined {
  if (!meta) return undefined;
  const k = meta.kernel;
  if (typeof k === 'string') return k;
  if (k && typeof k.release === 'string') return k.release;
  for (const key of ['kernelRelease', 'release']) if (typeof meta[key] === 'string') return meta[key] as string;
  return undefined;
}

/** Trace clock meta.json names, if any. */
export function metaClock(meta: TraceMetaJson | undefined): string | undefined {
  if (!meta) return undefined;
  for (const key of ['clock', 'traceClock', 'trace_clock']) if (typeof meta[key] === 'string') return meta[key] as string;
  for (const section of [meta.buffer, meta.profile]) {
    const p = section as { clock?: unknown; traceClock?: unknown } | undefined;
    if (p && typeof p === 'object') for (const v of [p.clock, p.traceClock]) if (typeof v === 'string') return v;
  }
  return undefined;
}
