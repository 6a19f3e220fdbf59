/**
 * What an earlier capture into the same `--out` folder left that the new one would not
 * overwrite: a top-level trace beside new `run-N/` folders (`capture --out X`, then
 * `capture --runs 2 --out X`), or `run-N/` folders beside a new top-level trace, or
 * `run-3/` after a 2-run capture. Left there, a diff of the folder would read the old
 * runs as new ones. Only what a capture writes is removed, and only where a meta.json says
 * a capture wrote it; anything else that looks like a trace stops the capture before it
 * boots.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, META_SCHEMA_ID, removeLink } from '@kreplay/core';

/** The files one run of a capture writes into its folder. */
export const RUN_FILES = ['trace.txt.gz', 'trace.dat', 'saved_tgids', 'meta.json', 'kernel.log', 'console.log'] as const;
const TRACE_FILES = ['trace.txt', 'trace.txt.gz', 'trace.dat'];

function isCaptureRun(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { schema?: unknown }).schema === META_SCHEMA_ID;
  } catch {
    return false;
  }
}

const hasTrace = (dir: string) => TRACE_FILES.some((f) => existsSync(join(dir, f)));

/**
 * The outputs of an earlier capture into `outDir`, which the new one replaces: the
 * top-level run files and every `run-N/` folder (a new run rewrites its folder, but an old
 * `trace.dat` the new run does not write, or an old `run-3/` after a 2-run capture, would
 * stay). Throws InputError when a trace there was not written by a capture.
 */
export function staleOutputs(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  const stale: string[] = [];
  const refuse = (what: string) => {
    throw new InputError(
      `${what} holds a trace that no kreplay capture wrote (no capture meta.json beside it); a capture into ${outDir} would overwrite it or leave it beside the new runs`,
      {
        file: what,
        hint: 'choose another --out folder, or move that trace away',
      },
    );
  };
  if (hasTrace(outDir)) {
    if (!isCaptureRun(outDir)) refuse(outDir);
    for (const f of RUN_FILES) if (existsSync(join(outDir, f))) stale.push(join(outDir, f));
  }
  for (const d of readdirSync(outDir, { withFileTypes: true })) {
    if (!d.isDirectory() || !/^run-\d+$/.test(d.name)) continue;
    const dir = join(outDir, d.name);
    if (!hasTrace(dir)) continue;
    if (!isCaptureRun(dir)) refuse(dir);
    stale.push(dir);
  }
  return stale.sort();
}

export async function removeStale(paths: readonly string[]): Promise<void> {
  for (const p of paths) await rm(p, { recursive: true, force: true });
}

/**
 * The folder a run writes (the --out folder, or its run-N/ when `runFolder`), made, with any
 * symbolic link where the run folder or one of its files goes removed: the run's files replace
 * such a link instead of being written through it onto whatever it names. The --out folder is
 * the user's choice; what lies in it may not be (an unpacked artifact, a shared /tmp folder).
 */
export async function prepareRunFolder(dir: string, runFolder: boolean): Promise<void> {
  if (runFolder) await removeLink(dir);
  await mkdir(dir, { recursive: true });
  for (const f of RUN_FILES) await removeLink(join(dir, f));
}
