/**
 * A built kernel as capture takes it: the image QEMU boots, its release, its config, and
 * the identity (base, fragments, patch hashes) that capture writes into meta.json.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { KernelImage } from '../kernel.js';
import { InputError } from './errors.js';
import type { KernelBuildResult } from './kernel-build.js';

/** `tinyconfig + kreplay.config@sha256:… + debug-vm.config@sha256:…` */
export function describeConfig(r: KernelBuildResult): string {
  return [r.identity.base, ...r.identity.fragments.map((f) => `${f.name}@sha256:${f.sha256}`)].join(' + ');
}

/**
 * The KernelImage for capture(). `vmlinux` (default) boots through PVH, about 2 s faster
 * than the bzImage under TCG; both are in the build's output.
 */
export function kernelImageFromBuild(r: KernelBuildResult, boot: 'vmlinux' | 'bzImage' = 'vmlinux'): KernelImage {
  return {
    image: boot === 'vmlinux' ? r.files.vmlinux : r.files.bzImage,
    modulesDir: r.files.modules ? path.join(r.files.modules, 'lib', 'modules', r.kernelRelease) : undefined,
    release: r.kernelRelease,
    source: `build:${r.key} ${r.meta.source}`,
    config: r.files.config,
    vmlinux: r.files.vmlinux,
    configFragment: describeConfig(r),
    patches: r.identity.patches.map((p) => `${p.name}@sha256:${p.sha256}`),
  };
}

/** Read the result.json of a finished build: its output folder, or the file itself. */
export async function loadBuildResult(dirOrFile: string): Promise<KernelBuildResult> {
  const file = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, 'result.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`no kernel build result here: ${(e as Error).message}`, { file, hint: 'pass the --out folder of `kreplay kernel build` (it holds result.json)' });
  }
  const r = JSON.parse(text) as KernelBuildResult;
  if (!r.key || !r.files?.vmlinux || !r.identity) throw new InputError('not a kreplay kernel build result (no key, files or identity)', { file });
  // a copied --out folder: point at the files beside result.json
  const dir = path.dirname(path.resolve(file));
  const here = Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, path.join(dir, path.basename(v))]));
  const local = await fs.access(here.vmlinux!).then(() => true, () => false);
  return local ? { ...r, files: here as unknown as KernelBuildResult['files'] } : r;
}
