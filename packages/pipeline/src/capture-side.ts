/**
 * How `kreplay ci` captures one side's runs of one workload: with @kreplay/capture, the
 * kernel resolved exactly as `kreplay capture --kernel` resolves it.
 */
import path from 'node:path';
import { capture, defaultProfilePath, findWorkload, loadOffsetsTable, loadProfile, resolveKernel } from '@kreplay/capture';
import { parseDuration } from '@kreplay/core';
import { expandInput } from '@kreplay/diff';
import type { CaptureSide, CheckCaptureSide } from './ci.js';

export const captureSide: CaptureSide = async (req) => {
  const workload = findWorkload(req.workload);
  const { kernel, debian, release, offsetsFile } = await resolveKernel(req.kernel, req.modules);
  // the default profile as `kreplay capture` records it in meta.json: relative to the working
  // folder, and following the kernel's version (6.12 probes other functions than 6.1)
  const profileFile = req.profile ?? path.relative(process.cwd(), defaultProfilePath(workload, release));
  const result = await capture({
    kernel,
    ...(debian ? { debian } : {}),
    ...(offsetsFile ? { offsets: await loadOffsetsTable(offsetsFile) } : {}),
    profile: await loadProfile(profileFile),
    profileFile,
    workload: workload.name,
    durationMs: parseDuration(req.duration),
    runs: req.runs,
    accel: req.accel,
    outDir: req.outDir,
    allowLost: req.allowLost,
    onProgress: req.onProgress,
    ...(req.signal ? { signal: req.signal } : {}),
  });
  return result.runs.flatMap((r) => expandInput(r.dir));
};

/** What a capture of one side will need, checked before any work: the kernel, its modules, the workload and the profile. */
export const checkCaptureSide: CheckCaptureSide = async (req) => {
  const workload = findWorkload(req.workload);
  await resolveKernel(req.kernel, req.modules);
  await loadProfile(req.profile ?? path.relative(process.cwd(), defaultProfilePath(workload)));
};
