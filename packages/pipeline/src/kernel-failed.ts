/**
 * A `kreplay ci` workload whose capture a kernel failed (core's `KernelFailure`), as a group of
 * the run: the other workloads and the other side still run, and the summary, the KTAP/KCIDB test
 * and the group's folder say which kernel failed, in its own words. The patched kernel alone
 * failing is that workload's regression (exit 1, as `kreplay capture` on that kernel exits); the
 * base kernel failing leaves no verdict on the patch (inconclusive, exit 2 unless another workload
 * regressed). Until 2026-12-07 (session 42) the first such failure stopped the run: no summary, no
 * other workload, nothing for the CI's artifacts.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { outputError, printable, writeFileAtomic } from '@kreplay/core';
import { kernelFailedSaid, kernelFailureLines, type KernelFailed, type KernelFailures } from '@kreplay/report';
import type { CiGroupResult } from './ci.js';

/** A side whose kernel failed the workload: what the error said, and the guest's console log when the capture kept it. */
export interface SideFailure {
  failed: KernelFailed;
  consoleLog?: string;
}

/** The report files a failed workload's folder holds (ci.ts's report names). */
export const FAILURE_FILES = /^(?:kernel-failure\.txt|console-(?:base|patched)\.log)$/;

/**
 * The group of workload `group` when a side's kernel failed it: writes `kernel-failure.txt` and
 * each failed side's console log (`console-SIDE.log`) into its folder `dir`. `patchedRuns`: the
 * patched side's runs when only the base kernel failed (captured, not compared).
 */
export async function kernelFailedGroup(
  group: string,
  dir: string,
  output: string,
  sides: { base?: SideFailure; patched?: SideFailure },
  patchedRuns: number,
): Promise<CiGroupResult> {
  const files: string[] = [];
  for (const side of ['base', 'patched'] as const) {
    const from = sides[side]?.consoleLog;
    if (from === undefined) continue;
    const to = path.join(dir, `console-${side}.log`);
    const copied = await copyFile(from, to).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        // the capture kept its work folder, but a log it never wrote is no output failure
        if (e.code === 'ENOENT' && e.path === from) return false;
        throw outputError(to, e);
      },
    );
    if (copied) files.push(to);
  }
  const failed: KernelFailures = {
    ...(sides.base ? { base: sides.base.failed } : {}),
    ...(sides.patched ? { patched: sides.patched.failed } : {}),
  };
  const report = path.join(dir, 'kernel-failure.txt');
  await writeFileAtomic(report, printable(`kreplay ci: workload ${group} was not compared\n${kernelFailureLines(failed, group).join('\n')}\n`));
  files.push(report);
  const inconclusive = failed.base
    ? [
        `${kernelFailedSaid('base', failed.base, group)} — no verdict on the patch: the kernel it is judged against failed the workload`,
        failed.patched
          ? `${kernelFailedSaid('patched', failed.patched, group)} too`
          : `the patched kernel ran it to the end (${patchedRuns} run${patchedRuns === 1 ? '' : 's'}, not compared)`,
      ]
    : [];
  const regression = !failed.base;
  return {
    name: group,
    verdict: regression ? 'regression' : 'inconclusive',
    regression,
    reasons: regression ? [kernelFailedSaid('patched', failed.patched!, group)] : [],
    inconclusive,
    unusableEvents: { base: 0, patched: 0 },
    gaps: { base: 0, patched: 0 },
    kernelFailed: failed,
    findings: { new: 0, fixed: 0, unchanged: 0 },
    files: files.map((f) => path.relative(output, f)).sort(),
  };
}
