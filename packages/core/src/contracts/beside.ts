/**
 * What lies beside a trace: the files `kreplay capture` writes next to it that replay and parse
 * read with it, found one way for every command (parse, replay, diff), so that they cannot drift.
 *
 * - meta.json (contracts/meta.ts), beside any trace file: `T.meta.json`, the same name without its
 *   `.gz`/`.txt`/`.dat`/... suffixes then `.meta.json`, then the folder's `meta.json`.
 * - saved_tgids (contracts/saved-tgids.ts), beside a trace.dat only: a trace.dat holds no thread
 *   groups, a text trace's are its own `(tgid)` column, so a saved_tgids beside a text trace is
 *   not read (and a damaged one cannot stop its replay). `T.saved_tgids`, then the folder's.
 *
 * Only the finding is here (no zod, no YAML): `kreplay parse` loads this without the schemas.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { findSavedTgids } from './saved-tgids.js';

/** trace-cmd's file magic (trace-cmd.dat(5): `\x17\x08\x44tracing`), at offset 0 of every trace.dat. */
export const TRACE_DAT_MAGIC: readonly number[] = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

/** Whether `file` starts with the trace.dat magic (false for `-`, a text or compressed trace, or a file that cannot be opened). */
export async function isTraceDatFile(file: string): Promise<boolean> {
  if (file === '-') return false;
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const head = Buffer.alloc(TRACE_DAT_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0).catch(() => ({ bytesRead: 0 }));
    return bytesRead === head.length && TRACE_DAT_MAGIC.every((b, i) => head[i] === b);
  } finally {
    await fh.close();
  }
}

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

/** The files found beside a trace: paths only, each read (strictly) by its contract's reader. */
export interface BesideTrace {
  /** Its meta.json (readTraceMeta). */
  meta?: string;
  /** Its saved_tgids (readSavedTgids), found only when the trace is a trace.dat. */
  savedTgids?: string;
}

/** What lies beside `trace` (nothing for stdin, `-`). */
export async function besideTrace(trace: string): Promise<BesideTrace> {
  const out: BesideTrace = {};
  if (trace === '-') return out;
  const meta = findTraceMeta(trace);
  if (meta !== undefined) out.meta = meta;
  if (await isTraceDatFile(trace)) {
    const tgids = findSavedTgids(trace);
    if (tgids !== undefined) out.savedTgids = tgids;
  }
  return out;
}
