/**
 * Which kernel a capture boots, from what the user wrote (`--kernel`, a ci config side's
 * `kernel`): the one resolution `kreplay capture` and `kreplay ci` share.
 *
 * - `debian`, `debian-6.12`, either pinned with `:RELEASE`: Debian's packaged kernel of that
 *   series, fetched by capture() itself;
 * - the output folder of `kreplay kernel build` (or an image inside one): its image (the
 *   PVH vmlinux unless the bzImage was named), modules, identity for meta.json, and its
 *   offsets.json (read through the build-result contract in @kreplay/core);
 * - any other path: a bzImage or vmlinux of the user's, with `modules` beside it if given.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, parseDebianSpec, readBuildResult, type BuildResultFile, type DebianSpec } from '@kreplay/core';
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
  /** Undefined: Debian's packaged kernel of `debian`'s series (capture() fetches it). */
  kernel?: KernelImage;
  /** The Debian series (and pinned release) when the spec named Debian's packaged kernel. */
  debian?: DebianSpec;
  /**
   * The kernel's release as far as it is known before booting (a Debian pin, a build's
   * uname -r, an image's own), or the series prefix (`6.12.`) of an unpinned Debian kernel:
   * enough to choose the default capture profile of the kernel's version.
   */
  release?: string;
  /** The build's offsets.json, when a kernel build brought one. */
  offsetsFile?: string;
}

/** Resolve a kernel spec (`debian[-SERIES][:RELEASE]`, a build folder, an image path) and its modules folder. */
export async function resolveKernel(spec: string, modules?: string): Promise<ResolvedKernel> {
  const debian = parseDebianSpec(spec);
  if (debian) {
    if (modules)
      throw new InputError("a modules folder goes with a kernel given by path (Debian's kernel brings its own)", {
        hint: 'drop --modules, or pass --kernel PATH',
      });
    return { debian, release: debian.pin ?? `${debian.series.name}.` };
  }
  const buildDir = kernelBuildFolder(spec);
  if (buildDir) {
    const build = await readBuildResult(buildDir);
    const kernel = kernelImageFromBuild(build, path.basename(spec) === 'bzImage' ? 'bzImage' : 'vmlinux');
    if (modules) kernel.modulesDir = (await userKernel(kernel.image, modules)).modulesDir;
    return { kernel, release: build.kernelRelease, ...(existsSync(build.files.offsets) ? { offsetsFile: build.files.offsets } : {}) };
  }
  const kernel = await userKernel(spec, modules);
  return { kernel, ...(kernel.release ? { release: kernel.release } : {}) };
}
