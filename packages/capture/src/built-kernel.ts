/**
 * Which kernel a capture boots, from what the user wrote (`--kernel`, a ci config side's
 * `kernel`): the one resolution `kreplay capture` and `kreplay ci` share.
 *
 * - `debian`: Debian's packaged kernel, fetched by capture() itself;
 * - the output folder of `kreplay kernel build` (or an image inside one): its image (the
 *   PVH vmlinux unless the bzImage was named), modules, identity for meta.json, and its
 *   offsets.json (read through the build-result contract in @kreplay/core);
 * - any other path: a bzImage or vmlinux of the user's, with `modules` beside it if given.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, readBuildResult, type BuildResultFile } from '@kreplay/core';
import { userKernel, type KernelImage } from './kernel.js';

/** `tinyconfig + kreplay.config@sha256:… + debug-vm.config@sha256:…` */
export function describeConfig(r: BuildResultFile): string {
  return [r.identity.base, ...r.identity.fragments.map((f) => `${f.name}@sha256:${f.sha256}`)].join(' + ');
}

/**
 * The KernelImage for capture(). `vmlinux` (default) boots through PVH, about 2 s faster
 * than the bzImage under TCG; both are in the build's output.
 */
export function kernelImageFromBuild(r: BuildResultFile, boot: 'vmlinux' | 'bzImage' = 'vmlinux'): KernelImage {
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

/** The `kreplay kernel build` output folder `kernel` names: the folder itself, or the folder of an image in it. */
export function kernelBuildFolder(kernel: string): string | undefined {
  if (!existsSync(kernel)) return undefined;
  if (statSync(kernel).isDirectory()) return kernel;
  const dir = path.dirname(kernel);
  return existsSync(path.join(dir, 'result.json')) ? dir : undefined;
}

export interface ResolvedKernel {
  /** Undefined: Debian's packaged kernel (capture() fetches it). */
  kernel?: KernelImage;
  /** The build's offsets.json, when a kernel build brought one. */
  offsetsFile?: string;
}

/** Resolve a kernel spec (`debian`, a build folder, an image path) and its modules folder. */
export async function resolveKernel(spec: string, modules?: string): Promise<ResolvedKernel> {
  if (spec === 'debian') {
    if (modules) throw new InputError('a modules folder goes with a kernel given by path (Debian\'s kernel brings its own)', { hint: 'drop --modules, or pass --kernel PATH' });
    return {};
  }
  const buildDir = kernelBuildFolder(spec);
  if (buildDir) {
    const build = await readBuildResult(buildDir);
    const kernel = kernelImageFromBuild(build, path.basename(spec) === 'bzImage' ? 'bzImage' : 'vmlinux');
    if (modules) kernel.modulesDir = (await userKernel(kernel.image, modules)).modulesDir;
    return { kernel, ...(existsSync(build.files.offsets) ? { offsetsFile: build.files.offsets } : {}) };
  }
  return { kernel: await userKernel(spec, modules) };
}
