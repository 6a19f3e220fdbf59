/**
 * `--kernel` / `--modules` / `--offsets` as capture-like commands read them: `debian` (the
 * packaged kernel, fetched by capture), the `--out` folder of `kreplay kernel build` (or an
 * image inside one: its image, modules, identity and offsets.json), or an image path.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '@kreplay/core';
import { kernelImageFromBuild, loadBuildResult, loadOffsetsTable, userKernel, type KernelImage, type OffsetsTable } from '@kreplay/capture';

export interface KernelChoice {
  kernel?: KernelImage;
  offsets?: OffsetsTable;
}

export async function kernelFromFlags(flags: { kernel: string; modules?: string; offsets?: string }): Promise<KernelChoice> {
  if (flags.kernel === 'debian' && flags.modules) {
    throw new InputError('--modules goes with --kernel PATH (Debian\'s kernel brings its own)', { hint: 'drop --modules, or pass --kernel PATH' });
  }
  let kernel: KernelImage | undefined;
  let offsetsFile = flags.offsets;
  const buildDir = flags.kernel === 'debian' ? undefined : kernelBuildFolder(flags.kernel);
  if (buildDir) {
    const build = await loadBuildResult(buildDir);
    kernel = kernelImageFromBuild(build, basename(flags.kernel) === 'bzImage' ? 'bzImage' : 'vmlinux');
    if (flags.modules) kernel.modulesDir = (await userKernel(kernel.image, flags.modules)).modulesDir;
    if (!offsetsFile && existsSync(build.files.offsets)) offsetsFile = build.files.offsets;
  } else if (flags.kernel !== 'debian') {
    kernel = await userKernel(flags.kernel, flags.modules);
  }
  const offsets = offsetsFile ? await loadOffsetsTable(offsetsFile) : undefined;
  return { ...(kernel ? { kernel } : {}), ...(offsets ? { offsets } : {}) };
}

/** The `kreplay kernel build` output folder `kernel` names: the folder itself, or the folder of an image in it. */
function kernelBuildFolder(kernel: string): string | undefined {
  if (!existsSync(kernel)) return undefined;
  if (statSync(kernel).isDirectory()) return kernel;
  const dir = dirname(kernel);
  return existsSync(join(dir, 'result.json')) ? dir : undefined;
}
