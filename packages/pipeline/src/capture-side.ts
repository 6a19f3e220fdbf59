/**
 * How `kreplay ci` captures one side's runs of one workload: with @kreplay/capture, the
 * kernel resolved exactly as `kreplay capture --kernel` resolves it.
 */
import path from 'node:path';
import { capture, defaultProfilePath, findWorkload, loadOffsetsTable, loadProfile, resolveKernel } from '@kreplay/capture';
import { parseDuration } from '@kreplay/core';
import { expandInput } from '@kreplay/diff';
import type { CaptureSide, CheckCaptureSide } from './ci.js';

/**
 * The profile a side is captured with: the config's, else the workload's default as `kreplay
 * capture` records it in meta.json — relative to the working folder, and following the kernel's
 * version (6.12 probes other functions than 6.1).
 */
function sideProfile(req: { profile?: string }, workload: ReturnType<typeof findWorkload>, release: string | undefined): string {
  return req.profile ?? path.relative(process.cwd(), defaultProfilePath(workload, release));
}

export const captureSide: CaptureSide = async (req) => {
  const workload = findWorkload(req.workload);
  const { kernel, debian, release, offsetsFile } = await resolveKernel(req.kernel, req.modules);
  const profileFile = sideProfile(req, workload, release);
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

/**
 * What a capture of one side will need, checked before any work: the kernel, its modules, the
 * workload and the profile the capture will use (for the kernel's release: until 2026-12-07,
 * session 41, the check loaded the 6.1 default whatever the kernel, and a 6.12 side's own profile
 * was first read after the other side's capture). Returns that profile's file.
 */
export const checkCaptureSide: CheckCaptureSide = async (req) => {
  const workload = findWorkload(req.workload);
  const { release } = await resolveKernel(req.kernel, req.modules);
  const profileFile = sideProfile(req, workload, release);
  await loadProfile(profileFile);
  return profileFile;
};
