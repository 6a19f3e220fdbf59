/**
 * `--kernel` / `--modules` / `--offsets` as capture-like commands (capture, triage --repro)
 * read them: capture's one resolution of a kernel spec (`debian`, a `kreplay kernel build`
 * folder or an image inside one, an image path), plus an explicit offsets table.
 */
import type { DebianSpec } from '@kreplay/core';
import { loadOffsetsTable, resolveKernel, type KernelImage, type OffsetsTable } from '@kreplay/capture';

export interface KernelChoice {
  kernel?: KernelImage;
  /** Debian's packaged kernel of this series (when `kernel` is undefined). */
  debian?: DebianSpec;
  /** The release as far as it is known before booting (chooses the default profile). */
  release?: string;
  offsets?: OffsetsTable;
}

export async function kernelFromFlags(flags: { kernel: string; modules?: string; offsets?: string }): Promise<KernelChoice> {
  const { kernel, debian, release, offsetsFile } = await resolveKernel(flags.kernel, flags.modules);
  const file = flags.offsets ?? offsetsFile;
  const offsets = file ? await loadOffsetsTable(file) : undefined;
  return { ...(kernel ? { kernel } : {}), ...(debian ? { debian } : {}), ...(release ? { release } : {}), ...(offsets ? { offsets } : {}) };
}
