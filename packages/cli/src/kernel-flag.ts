/**
 * `--kernel` / `--modules` / `--offsets` as capture-like commands (capture, triage --repro)
 * read them: capture's one resolution of a kernel spec (`debian`, a `kreplay kernel build`
 * folder or an image inside one, an image path), plus an explicit offsets table.
 */
import { loadOffsetsTable, resolveKernel, type KernelImage, type OffsetsTable } from '@kreplay/capture';

export interface KernelChoice {
  kernel?: KernelImage;
  offsets?: OffsetsTable;
}

export async function kernelFromFlags(flags: { kernel: string; modules?: string; offsets?: string }): Promise<KernelChoice> {
  const { kernel, offsetsFile } = await resolveKernel(flags.kernel, flags.modules);
  const file = flags.offsets ?? offsetsFile;
  const offsets = file ? await loadOffsetsTable(file) : undefined;
  return { ...(kernel ? { kernel } : {}), ...(offsets ? { offsets } : {}) };
}
