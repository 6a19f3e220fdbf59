/**
 * A `kreplay ci` workload whose capture a kernel failed (core's `KernelFailure`: a panic once the
 * workload began, or no result line beside an oops, BUG, bad page, hung task or stall in the
 * kernel log): nothing was replayed or compared, and every ci format says which kernel failed and
 * in its own words (summary.txt, the KTAP/KCIDB test, kernel-failure.txt). Since 2026-12-07,
 * session 42: before, the first such failure stopped `kreplay ci` with no summary at all.
 */
import { findingCountsSaid, type FindingCounts } from './finding-counts.js';
import { lines } from './kernel-ci/tests.js';

/** One side's kernel failing the workload: the kernel as the config names it, and the capture's error. */
export interface KernelFailed {
  kernel: string;
  message: string;
  hint?: string;
}

/** The sides whose kernel failed a workload (at least one). */
export interface KernelFailures {
  base?: KernelFailed;
  patched?: KernelFailed;
}

const SIDES = ['base', 'patched'] as const;

/** `the patched kernel (build/patched) failed workload odirect-race: <the error's first line>`. */
export function kernelFailedSaid(side: 'base' | 'patched', f: KernelFailed, workload: string): string {
  return `the ${side} kernel (${f.kernel}) failed workload ${workload}: ${f.message.split('\n')[0]}`;
}

/**
 * A group's counts as every ci format says them: the diff's sentence, or, when a kernel failed
 * the workload, that nothing was compared (zero counts there would read as a diff that found nothing).
 */
export function ciGroupCountsSaid(g: { findings: FindingCounts; kernelFailed?: KernelFailures }): string {
  if (!g.kernelFailed) return findingCountsSaid(g.findings);
  const sides = SIDES.filter((s) => g.kernelFailed![s]);
  return `not compared: the ${sides.join(' and the ')} kernel${sides.length > 1 ? 's' : ''} failed the workload`;
}

/** A side's error after its first line (the kernel log's words, the last console lines) and its hint, as lines. */
export function kernelFailureDetail(f: KernelFailed): string[] {
  const [, ...rest] = lines(f.message);
  return [...rest.map((l) => l.trimStart()), ...(f.hint ? [`hint: ${f.hint}`] : [])];
}

/**
 * What each failed side's kernel said beyond the one line the group's reasons quote: `the patched
 * kernel's words:` and its detail indented (summary.txt, the KTAP/KCIDB diagnostics).
 */
export function kernelFailureWords(failed: KernelFailures): string[] {
  return SIDES.flatMap((side) => {
    const f = failed[side];
    return f ? [`the ${side} kernel's words:`, ...kernelFailureDetail(f).map((l) => `  ${l}`)] : [];
  });
}

/** Each failed side's whole error, as lines: which kernel and what it said (`kernelFailedSaid`), then its detail indented. */
export function kernelFailureLines(failed: KernelFailures, workload: string): string[] {
  return SIDES.flatMap((side) => {
    const f = failed[side];
    return f ? [kernelFailedSaid(side, f, workload), ...kernelFailureDetail(f).map((l) => `  ${l}`)] : [];
  });
}
