/**
 * The kernel-build result contract: `result.json` in the output folder of `kreplay kernel
 * build`, which `kreplay capture --kernel FOLDER` and `kreplay ci` read to boot the build and
 * record its identity. The builder (packages/kernel-build) writes more than this; the schema
 * holds what readers rely on, with the contract's version field.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadDocument } from '../document.js';
import { stringifyJson } from '../json.js';
import { writeFileAtomic } from '../output.js';

export const BUILD_RESULT_SCHEMA_ID = 'kreplay-kernel-build/1';

const Hashed = z.looseObject({ name: z.string(), sha256: z.string() });

export const BuildResultSchema = z.looseObject({
  /** Version of this contract (absent in results written before it had one: read as version 1). */
  schema: z
    .literal(BUILD_RESULT_SCHEMA_ID, {
      message: `this build result was written by another version of kreplay (this one reads ${BUILD_RESULT_SCHEMA_ID})`,
    })
    .optional(),
  /** The build's identity hash (its cache key). */
  key: z.string().min(1),
  /** `uname -r` of the built kernel. */
  kernelRelease: z.string().min(1),
  identity: z.looseObject({ base: z.string(), fragments: z.array(Hashed), patches: z.array(Hashed) }),
  /** What capture records in meta.json: `source` names the tree (`debian:linux-source-6.1=6.1.192-1`). */
  meta: z.looseObject({ source: z.string() }),
  files: z.looseObject({
    bzImage: z.string(),
    vmlinux: z.string(),
    config: z.string(),
    offsets: z.string(),
    /** INSTALL_MOD_PATH of `make modules_install`, when the config has modules. */
    modules: z.string().optional(),
  }),
});
export type BuildResultFile = z.infer<typeof BuildResultSchema>;

const DOC = { what: 'kernel build result', hint: 'pass the --out folder of `kreplay kernel build` (it holds result.json)' };

/** The result.json a build folder (or the file itself) names. */
export function buildResultPath(dirOrFile: string): string {
  return dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, 'result.json');
}

/**
 * Read a finished build's result.json. A copied output folder keeps working: when the
 * files sit beside result.json, its paths are pointed there.
 */
export async function readBuildResult(dirOrFile: string): Promise<BuildResultFile> {
  const file = buildResultPath(dirOrFile);
  const r = (await loadDocument(file, BuildResultSchema, DOC)).value;
  const dir = path.dirname(path.resolve(file));
  const here = Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, typeof v === 'string' ? path.join(dir, path.basename(v)) : v]));
  const local = await access(here.vmlinux as string).then(
    () => true,
    () => false,
  );
  return local ? { ...r, files: here as BuildResultFile['files'] } : r;
}

/**
 * Write a result.json (2-space JSON), atomically, with the contract's version field first.
 * The builder writes more than the contract holds; what it writes is checked against the
 * contract here, so the two cannot drift apart unnoticed.
 */
export async function writeBuildResult(file: string, result: object): Promise<void> {
  const doc = { schema: BUILD_RESULT_SCHEMA_ID, ...result };
  BuildResultSchema.parse(doc);
  await writeFileAtomic(file, `${stringifyJson(doc, 2)}\n`);
}
