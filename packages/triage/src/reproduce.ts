/**
 * Report → trace: the user's reproducer (`--repro prog.c`, an explicit choice: the program
 * runs only inside the guest) is compiled into the capture image and run N times under
 * tracing with the capture profile that covers the report's paths; each trace is replayed
 * and the race counts as caught in a run when the replay reports the report's rule. A run
 * that caught nothing says nothing about the kernel — it is never "clean".
 *
 * The capture profile is chosen from the profiles themselves: the one whose probed functions
 * cover what replay needs for the paths, with the fewest probes, a base profile before a
 * variant that `extends` it, then by file name.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  capture as runCapture,
  KERNEL_CONFIGS_DIR,
  parseProfile,
  profileFunctions,
  type CaptureOptions,
  type CaptureProfile,
  type CaptureResult,
  type KernelImage,
  type OffsetsTable,
} from '@kreplay/capture';
import { replayFile, type ReplayResult } from '@kreplay/replay';
import type { RuleId } from '@kreplay/core';
import { parseReport } from './report.js';
import type { SplatTriage } from './triage.js';

/** Kernel functions replay needs probed to see each program's operations (shipped 6.1 profiles). */
const NEEDS: Record<string, string[]> = {
  fault: ['filemap_fault', 'page_add_file_rmap'],
  fault_around: ['page_add_file_rmap'],
  odirect_write: ['invalidate_inode_pages2_range'],
  invalidate_inode_pages2_range: ['invalidate_inode_pages2_range'],
  invalidate_mapping_pages: ['invalidate_mapping_pages'],
  truncate: ['truncate_inode_pages_range'],
  read: [],
};

export interface ProfileChoice {
  profile: CaptureProfile;
  file: string;
  because: string;
}

/** How many `extends:` steps lead from profile `f` to one that extends nothing (in the same folder). */
function extendsDepth(f: string, texts: ReadonlyMap<string, string>): number {
  const seen = new Set<string>();
  let depth = 0;
  for (let cur: string | undefined = f; cur !== undefined && !seen.has(cur); depth++) {
    seen.add(cur);
    const base: string | undefined = /^extends:\s*(\S+)\s*$/m.exec(texts.get(cur) ?? '')?.[1];
    if (base === undefined) return depth;
    cur = texts.has(base) ? base : undefined;
  }
  return depth;
}

/** The capture profile (of `dir`) that covers `programs`, with the fewest kprobes. */
export async function chooseProfile(programs: readonly string[], dir = join(KERNEL_CONFIGS_DIR, 'capture')): Promise<ProfileChoice> {
  const need = [...new Set(programs.flatMap((p) => NEEDS[p] ?? []))].sort();
  const rated: Array<ProfileChoice & { covered: number; probes: number; derived: number }> = [];
  const texts = new Map<string, string>();
  for (const f of (await readdir(dir)).filter((x) => /\.ya?ml$/.test(x)).sort()) texts.set(f, await readFile(join(dir, f), 'utf8'));
  for (const [f, text] of texts) {
    const file = join(dir, f);
    const profile = parseProfile(text, file);
    const fns = new Set(profileFunctions(profile));
    const covered = need.filter((n) => fns.has(n)).length;
    // A profile that `extends` another is a variant of it for one experiment: the base first
    // (a variant of a variant after its base).
    rated.push({ profile, file, because: '', covered, probes: profile.kprobes.length, derived: extendsDepth(f, texts) });
  }
  rated.sort((a, b) => b.covered - a.covered || a.probes - b.probes || a.derived - b.derived || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const best = rated[0]!;
  const missing = need.filter((n) => !profileFunctions(best.profile).includes(n));
  best.because = missing.length
    ? `no profile probes all of ${need.join(', ')}; ${best.profile.name} misses ${missing.join(', ')}`
    : `probes ${need.length ? need.join(', ') : 'the page-cache tracepoints'} (paths ${programs.join(', ')}) with the fewest probes`;
  return best;
}

export interface ReproRun {
  index: number;
  dir: string;
  /** The replay reported the rule (certain or uncertain: an uncertain error still counts, as in replay's exit code). */
  caught: boolean;
  /** Caught only through uncertain findings: what the trace does not show (its gaps, tied timestamps, an event it cannot place) may avoid it; each finding's explanation says which. */
  uncertainOnly: boolean;
  /** Not caught, and the replay could not judge the rule on this trace (verdict.unjudged names it). */
  unjudged: boolean;
  /** Findings of the replay per rule (certain + uncertain). */
  findings: Array<{ rule: RuleId; certain: number; uncertain: number }>;
  events: number;
  ops: number;
  summary: string;
}

export interface ReproResult {
  rule: RuleId | null;
  kernel: string;
  profile: string;
  profileBecause: string;
  outDir: string;
  runs: ReproRun[];
  caught: number;
  summary: string;
  /** Splats the guest kernel printed while the reproducer ran (its kernel.log, read by triage). */
  guestSplats: Array<{ title: string; sameTitle: boolean }>;
}

export interface ReproOptions {
  splat: SplatTriage;
  /** Programs the paths need (the scenario's threads, or the reporter's and implied ones). */
  programs: string[];
  source: string;
  kernel?: KernelImage;
  /** Debian's packaged kernel to boot when `kernel` is not given (a pinned 6.1 release). */
  debian?: CaptureOptions['debian'];
  offsets?: OffsetsTable;
  profile?: ProfileChoice;
  runs: number;
  durationMs: number;
  outDir: string;
  accel?: CaptureOptions['accel'];
  cacheDir?: string;
  allowLost?: boolean;
  onProgress?: (m: string) => void;
  signal?: AbortSignal;
  /** The capture to run (tests substitute a stand-in). */
  capture?: (o: CaptureOptions) => Promise<CaptureResult>;
  replay?: (file: string) => Promise<ReplayResult>;
}

export async function reproduce(o: ReproOptions): Promise<ReproResult> {
  const rule = o.splat.rule;
  const choice = o.profile ?? (await chooseProfile(o.programs));
  o.onProgress?.(`capture profile ${choice.profile.name}: ${choice.because}`);
  const cap = await (o.capture ?? runCapture)({
    profile: choice.profile,
    profileFile: choice.file,
    workload: 'repro',
    repro: { source: o.source },
    runs: o.runs,
    durationMs: o.durationMs,
    outDir: o.outDir,
    ...(o.kernel ? { kernel: o.kernel } : {}),
    ...(o.debian ? { debian: o.debian } : {}),
    ...(o.offsets ? { offsets: o.offsets } : {}),
    ...(o.accel ? { accel: o.accel } : {}),
    ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
    ...(o.allowLost !== undefined ? { allowLost: o.allowLost } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const runs: ReproRun[] = [];
  for (const [i, run] of cap.runs.entries()) {
    const r = await (o.replay ?? ((f: string) => replayFile(f)))(join(run.dir, 'trace.txt.gz'));
    const by = new Map<RuleId, { certain: number; uncertain: number }>();
    for (const f of r.findings) {
      const e = by.get(f.rule) ?? { certain: 0, uncertain: 0 };
      e[f.certainty]++;
      by.set(f.rule, e);
    }
    const findings = [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => ({ rule: k, ...v }));
    const caught = rule !== null && by.has(rule);
    const uncertainOnly = caught && by.get(rule)!.certain === 0;
    const found = findings.length
      ? findings.map((f) => `${f.rule} ×${f.certain + f.uncertain}${f.uncertain ? ` (${f.uncertain} uncertain)` : ''}`).join(', ')
      : 'no findings';
    const saw =
      r.stats.ops === 0
        ? 'the trace shows no page-cache operation on the test file (does the reproducer use FILE?)'
        : `${r.stats.events} events, ${r.stats.ops} page-cache operations`;
    // a run that could not judge the rule (tied timestamps, no PTE probe, forgotten ranges) says so
    const unjudged = caught || rule === null ? [] : (r.verdict?.unjudged ?? []).filter((u) => u.rule === rule).map((u) => u.reason);
    const notJudged = unjudged.length ? `; ${rule} not judged: ${unjudged.join('; ')}` : '';
    runs.push({
      index: i + 1,
      dir: run.dir,
      caught,
      uncertainOnly,
      unjudged: unjudged.length > 0,
      findings,
      events: r.stats.events,
      ops: r.stats.ops,
      summary: `${found}; ${saw}${notJudged}`,
    });
  }
  const guestSplats: ReproResult['guestSplats'] = [];
  const log = cap.runs[0] ? await readFile(join(cap.runs[0].dir, 'kernel.log'), 'utf8').catch(() => '') : '';
  if (log) {
    for (const s of parseReport(log, 'kernel.log').splats) guestSplats.push({ title: s.title, sameTitle: s.title === o.splat.title });
  }
  const caught = runs.filter((r) => r.caught).length;
  const uncertain = runs.filter((r) => r.uncertainOnly).length;
  const blind = runs.filter((r) => r.unjudged).length;
  const hedge =
    uncertain === 0
      ? ''
      : uncertain === caught
        ? ` — only as uncertain findings: in each run what the trace does not show may avoid it (each finding says why)`
        : ` — in ${uncertain} of them only as uncertain findings (what the trace does not show may avoid it)`;
  const kernel = cap.runs[0]?.meta.kernel.release ?? 'unknown';
  const summary =
    rule === null
      ? `ran ${runs.length} time(s) on ${kernel}; the report names no kreplay rule, so no run can catch it (findings are listed)`
      : caught > 0
        ? `the race was caught in ${caught} of ${runs.length} run(s) on ${kernel} (${rule} in the replay)${hedge}`
        : `the race was not caught in ${runs.length} run(s) on ${kernel}: no replay reported ${rule}${blind ? ` (${blind} of them could not judge it: see each run)` : ''} — a run that misses it says nothing about the kernel`;
  return { rule, kernel, profile: choice.profile.name, profileBecause: choice.because, outDir: cap.outDir, runs, caught, summary, guestSplats };
}
