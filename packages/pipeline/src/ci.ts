/**
 * `kreplay ci`: capture (when a side names a kernel) → replay → diff → reports, for each
 * workload, with every report written into one output folder:
 *
 *   OUT/<group>/diff.txt diff.json diff.junit.xml diff.sarif diff.github.txt report.html
 *   OUT/<group>/perfetto-*.json   (when asked)
 *   OUT/captures/<side>/<workload>/...   (captured traces)
 *   OUT/summary.txt summary.json
 *
 * A group is one workload: the configured ones when kernels are captured; with traces on
 * both sides, the workloads their meta.json files name (`traces` for runs that name none). The library never prints: progress goes to `onProgress`.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  checkOutputFolder,
  formatShard,
  InputError,
  isKernelFailure,
  inShard,
  oneLine,
  outputError,
  printable,
  removeLink,
  stringifyJson,
  writeFileAtomic,
  type Shard,
} from '@kreplay/core';
import { configError, type CiConfig, type CiSide, type LoadedCiConfig } from './ci-config.js';
import { expandInputs, workloadNameOf, type DiffResult } from '@kreplay/diff';
import {
  ciToKcidb,
  ciToKtap,
  diffToGithub,
  diffToJson,
  diffToJunit,
  diffToKcidb,
  diffToKtap,
  diffToSarif,
  diffToText,
  ciGroupCountsSaid,
  diffVerdictSaid,
  findingCounts,
  findingCountsSaid,
  groupShortfall,
  kernelFailureWords,
  notJudgedFixed,
  notJudgedNew,
  reportToHtml,
  verdictWord,
  type FindingCounts,
  type KcidbOptions,
  type KernelFailures,
} from '@kreplay/report';
import { buildReport, PerfettoFiles } from './report-model.js';
import { FAILURE_FILES, kernelFailedGroup, type SideFailure } from './kernel-failed.js';

/** Captures `runs` runs of one workload on one side's kernel into outDir; returns the run folders' trace paths. */
export type CaptureSide = (req: {
  side: 'base' | 'patched';
  kernel: string;
  modules?: string;
  workload: string;
  profile?: string;
  duration: string;
  accel: CiConfig['capture']['accel'];
  allowLost: boolean;
  runs: number;
  outDir: string;
  onProgress: (message: string) => void;
  signal?: AbortSignal;
}) => Promise<string[]>;

/** Checks, before any work, what a capture of one side will need (kernel, modules, workload, profile); throws an InputError. */
/** Checks what a side's capture needs; resolves to the profile file it checked (the one the capture uses). */
export type CheckCaptureSide = (req: { kernel: string; modules?: string; workload: string; profile?: string }) => Promise<string | void>;

export interface CiOptions {
  /** Needed when a side names a kernel (the CLI passes one built on @kreplay/capture). */
  capture?: CaptureSide;
  /** Run before any capture for each side and workload, so a bad kernel path fails in the first second. */
  checkCapture?: CheckCaptureSide;
  onProgress?: (message: string) => void;
  /** Called when a group's reports are written. */
  onGroup?: (group: CiGroupResult) => void;
  /** This job runs only the groups of its shard (core's one `i/n` convention). */
  shard?: Shard;
  /** The kreplay version that runs (recorded in summary.json: ci merge takes only its own version's shards). */
  version?: string;
  signal?: AbortSignal;
}

export interface CiGroupResult {
  name: string;
  /** The group's diff verdict: `inconclusive` when a side had no run that saw anything to judge. */
  verdict: DiffResult['verdict'];
  regression: boolean;
  reasons: string[];
  /** Why the group is inconclusive (empty otherwise). */
  inconclusive: string[];
  /** Known events replay could not use, per side. */
  unusableEvents: { base: number; patched: number };
  /** Gaps in the traces (unreadable lines, lost-event records), per side: a patched side with any is not a pass. */
  gaps: { base: number; patched: number };
  /** Rules the patched side's traces could not judge (absent when none): no regression then is not a pass either. */
  unjudged?: string[];
  /** Patched runs left out (a failed workload, nothing traced; absent when none): no regression then is not a pass either. */
  patchedLeftOut?: number;
  /** `--max-regression` thresholds the diff could not compare (absent when none): no regression then is not a pass either. */
  thresholdsNotJudged?: string[];
  /**
   * Patched findings at --fail-on the base side may have had among the findings its replay
   * counted and did not keep, and their rules (absent when none): no regression then is not a
   * pass either.
   */
  notJudgedNew?: { findings: number; rules: string[]; unnamed?: string[]; uncertain?: string[] };
  /** Base findings whose page the patched traces never show or one side does not name, and their rules (absent when none): not a pass either. */
  notJudgedFixed?: { findings: number; rules: string[] };
  /**
   * The sides whose kernel failed this workload's capture, each with the kernel and its error
   * (absent when none; since session 42): nothing was replayed or compared. The patched kernel
   * alone: verdict `regression`; the base kernel: `inconclusive` (no verdict on the patch).
   */
  kernelFailed?: KernelFailures;
  /** The diff's finding counts (report's `findingCounts`: new, newByChance, fixed, fixedByChance, unchanged, unjudged, maybeNew); all 0 when a kernel failed the workload. */
  findings: FindingCounts;
  files: string[];
}

/** What summary.json records of one workload's diff (`files`: its reports, relative to the output folder). */
export function ciGroupOf(name: string, d: DiffResult, files: string[]): CiGroupResult {
  const notJudged = d.thresholds.filter((t) => t.judged === false && !t.exceeded).map((t) => t.metric);
  const notNew = notJudgedNew(d);
  const notFixed = notJudgedFixed(d);
  return {
    name,
    verdict: d.verdict,
    regression: d.regression,
    reasons: d.reasons,
    inconclusive: d.inconclusive,
    unusableEvents: { base: d.base.unusableEvents, patched: d.patched.unusableEvents },
    gaps: { base: d.base.gaps, patched: d.patched.gaps },
    ...(d.patched.unjudged ? { unjudged: Object.keys(d.patched.unjudged) } : {}),
    ...(d.patched.runs.length && d.patched.inconclusiveRuns.length ? { patchedLeftOut: d.patched.inconclusiveRuns.length } : {}),
    ...(notJudged.length ? { thresholdsNotJudged: notJudged } : {}),
    ...(notNew ? { notJudgedNew: notNew } : {}),
    ...(notFixed ? { notJudgedFixed: notFixed } : {}),
    findings: findingCounts(d),
    files,
  };
}

export interface CiResult {
  output: string;
  /** The sides' names (the config's `name`, or base / patched). */
  base: string;
  patched: string;
  /** What was compared: a hash of the config without its output folder (shards of one run share it). */
  config: string;
  /** The kreplay version that wrote it (absent when the caller did not say). */
  kreplay?: string;
  /** Every group of the run, in run order, whichever shard ran it. */
  planned: string[];
  /** Set in a shard's result (`i/n`); absent in an unsharded run and in merged shards. */
  shard?: string;
  groups: CiGroupResult[];
  /** `regression` when any group regressed; else `inconclusive` when any group is; else `no-regression`. */
  verdict: DiffResult['verdict'];
  regression: boolean;
}

/** What a group's diff is rendered with: its name and where its files are (relative to the output folder). */
interface GroupView {
  workload: string;
  files: string[];
  kcidb: KcidbOptions;
}

const DIFF_FILES: Record<string, [string, (d: DiffResult, g: GroupView) => string]> = {
  text: ['diff.txt', diffToText],
  json: ['diff.json', diffToJson],
  junit: ['diff.junit.xml', diffToJunit],
  sarif: ['diff.sarif', diffToSarif],
  github: ['diff.github.txt', diffToGithub],
  ktap: ['diff.ktap', (d, g) => diffToKtap(d, g)],
  kcidb: ['diff.kcidb.json', (d, g) => diffToKcidb(d, { ...g, ...g.kcidb })],
};

/** `--format kcidb`'s options of a run: relative files resolve against the published output folder. */
export function kcidbOf(cfg: CiConfig): KcidbOptions {
  const base = cfg.kcidb.artifactsUrl ?? pathToFileURL(cfg.output).href;
  return { origin: cfg.kcidb.origin, artifactsUrl: base.endsWith('/') ? base : `${base}/` };
}

/** A hash of what a config compares (everything but its output folder): shards of one run share it. */
export function configIdentity(cfg: CiConfig): string {
  return createHash('sha256')
    .update(stringifyJson({ ...cfg, output: undefined }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * A path as the user would write it: relative below the working folder, absolute elsewhere; its
 * line breaks written \x0a (a run folder's name is data: core oneLine).
 */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return oneLine(rel && !rel.startsWith('..') ? rel : p);
}

/**
 * A group's name becomes a folder under the output folder, and it comes from data (a
 * meta.json's workload name, which a guest or a hand-edited file may set to `../../x`): one
 * plain path component, or an input error naming where it came from.
 */
export function checkGroupName(name: string, from: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}$/.test(name) || name === 'captures' || /^summary\./.test(name)) {
    throw new InputError(`workload name ${JSON.stringify(name)} cannot name a folder of the ci output`, {
      file: from,
      hint: 'a workload name is letters, digits and . _ : + - (not starting with . or -, not "captures" or "summary.*"); fix the workload name in meta.json',
    });
  }
  return name;
}

/**
 * The names of the reports kreplay ci writes into a workload's folder: the diff formats,
 * report.html, perfetto-SIDE-N.json; kernel-failure.txt and console-SIDE.log when a kernel failed it.
 */
function isReportName(name: string): boolean {
  return (
    name === 'report.html' ||
    Object.values(DIFF_FILES).some(([n]) => n === name) ||
    /^perfetto-(?:base|patched)-[1-9][0-9]{0,5}\.json$/.test(name) ||
    FAILURE_FILES.test(name)
  );
}

/**
 * A summary.json's `files` of workload `group`: each `GROUP/REPORT`, a report kreplay ci
 * writes in that workload's folder, or an input error naming `from`. summary.kcidb.json and
 * summary.txt are written from these names: `../../../x` became a log_url above the
 * artifacts URL, an absolute one (`/etc/passwd`, `//host/x`) a file: URL of the merging machine.
 */
export function checkGroupFiles(group: string, files: readonly string[], from: string): void {
  for (const f of files) {
    if (path.dirname(f) !== group || !isReportName(path.basename(f))) {
      throw new InputError(`workload ${group} lists a report ${JSON.stringify(f)} that is not one kreplay ci writes in its folder`, {
        file: from,
        hint: `a report is ${group}/ followed by diff.txt, diff.json, report.html, perfetto-base-1.json or another file kreplay ci writes; pass the shard's output folder as its job wrote it`,
      });
    }
  }
}

/**
 * A workload's folder, made and writable, with any symbolic link where it or one of its
 * reports goes removed: a reused output folder, or an artifact unpacked into it, may hold
 * one, and the reports (written to the target of a link, as a user-named --out is) replaced
 * whatever it named. Now they replace the link. An earlier run's reports there are removed too
 * (session 42): a workload a kernel failed this time has no diff.txt, and last run's would read
 * as this run's.
 */
async function groupFolder(dir: string): Promise<void> {
  await removeLink(dir);
  await checkOutputFolder(dir);
  for (const name of (await readdir(dir)).filter(isReportName).sort()) {
    const file = path.join(dir, name);
    await rm(file, { force: true }).catch((e: unknown) => {
      throw outputError(file, e);
    });
  }
}

/** `dir` joined with `name`, refusing anything that would land outside `dir`. */
function under(dir: string, name: string): string {
  const p = path.join(dir, name);
  const rel = path.relative(dir, p);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel))
    throw new InputError(`${name} would be written outside ${dir}`, { hint: 'a bug if you see this: names are checked first' });
  return p;
}

/** A side's traces by the workload their meta.json names (`traces` when it names none). */
async function byWorkload(side: CiSide): Promise<Map<string, string[]> | undefined> {
  if (!side.traces) return undefined;
  const groups = new Map<string, string[]>();
  for (const input of expandInputs(side.traces)) {
    const named = await workloadNameOf(input);
    const name = named === undefined ? UNNAMED : checkGroupName(named, input);
    groups.set(name, [...(groups.get(name) ?? []), input]);
  }
  return groups;
}

const UNNAMED = 'traces';

/**
 * The traces of one workload on one side; an input error when there are none. Runs whose
 * meta.json names no workload stand for `workload` only when `standIn` (the other side
 * captures one workload, so they can be of no other): with traces on both sides they are the
 * group `traces` of their own, and beside several captured workloads the same runs would be
 * the patched (or base) side of each, so one run of one workload "fixed" the findings of all.
 */
function tracesOf(sideName: 'base' | 'patched', traces: Map<string, string[]>, workload: string, standIn: boolean): string[] {
  const runs = traces.get(workload) ?? (standIn ? traces.get(UNNAMED) : undefined) ?? [];
  if (runs.length === 0) {
    const unnamed = traces.has(UNNAMED) && workload !== UNNAMED;
    throw new InputError(`${sideName}.traces has no run of workload ${workload}`, {
      hint: `its traces ran ${[...traces.keys()].join(', ')}${unnamed ? ` (\`${UNNAMED}\`: runs whose meta.json names no workload, which stand for no named one)` : ''}; give both sides traces of the same workloads${unnamed ? ", and name each run's workload in its meta.json (workload.name)" : ''}`,
    });
  }
  return runs;
}

/** A side's inputs of one workload: its traces, or its capture's runs — or, when its kernel failed the workload, that failure. */
async function sideInputs(
  sideName: 'base' | 'patched',
  side: CiSide,
  traces: Map<string, string[]> | undefined,
  standIn: boolean,
  workload: string,
  cfg: CiConfig,
  opts: CiOptions,
): Promise<string[] | SideFailure> {
  if (traces) return tracesOf(sideName, traces, workload, standIn);
  if (!opts.capture) throw new InputError(`${sideName}.kernel is set but this build of kreplay cannot capture`, { hint: 'give "traces" instead' });
  const outDir = under(path.join(cfg.output, 'captures', sideName), workload);
  return opts
    .capture({
      side: sideName,
      kernel: side.kernel!,
      ...(side.modules ? { modules: side.modules } : {}),
      workload,
      ...(cfg.capture.profile ? { profile: cfg.capture.profile } : {}),
      duration: cfg.capture.duration,
      accel: cfg.capture.accel,
      allowLost: cfg.capture.allowLost,
      runs: cfg.runs,
      outDir,
      onProgress: (m) => opts.onProgress?.(`capture ${sideName} ${workload}: ${m}`),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
    .catch((e: unknown): SideFailure => {
      // the kernel under test failed the workload: a result of the run (kernel-failed.ts), not the run's end
      if (!isKernelFailure(e)) throw e;
      opts.onProgress?.(`capture ${sideName} ${workload}: the kernel failed the workload: ${e.message.split('\n')[0]}`);
      return {
        failed: { kernel: side.kernel!, message: e.message, ...(e.hint ? { hint: e.hint } : {}) },
        ...(e.consoleLog ? { consoleLog: e.consoleLog } : {}),
      };
    });
}

export interface CiGroups {
  /** Every group of the config, in run order (shard i/n runs the k-th when k mod n = i - 1). */
  groups: string[];
  /** Whether a traces side's runs that name no workload stand for the group: one side captures, and one workload. */
  standIn: boolean;
  baseTraces?: Map<string, string[]>;
  patchedTraces?: Map<string, string[]>;
}

/**
 * The groups a config runs: with kernels, one per configured workload; with traces on both
 * sides, one per workload their meta.json files name, so rates and latencies compare like
 * with like.
 */
export async function ciGroups(cfg: CiConfig): Promise<CiGroups> {
  const capturing = cfg.base.kernel !== undefined || cfg.patched.kernel !== undefined;
  const baseTraces = await byWorkload(cfg.base);
  const patchedTraces = await byWorkload(cfg.patched);
  const groups = capturing ? [...cfg.capture.workloads] : [...new Set([...baseTraces!.keys(), ...patchedTraces!.keys()])].sort();
  const standIn = capturing && groups.length === 1;
  return { groups, standIn, ...(baseTraces ? { baseTraces } : {}), ...(patchedTraces ? { patchedTraces } : {}) };
}

export async function runCi(loaded: LoadedCiConfig, opts: CiOptions = {}): Promise<CiResult> {
  const cfg = loaded.config;
  const { groups: planned, standIn, baseTraces, patchedTraces } = await ciGroups(cfg);
  const groups = planned.filter((_, i) => inShard(i, opts.shard));
  // Every group's traces are there, and every capture can start, before anything is replayed or captured.
  for (const group of groups) {
    if (baseTraces) tracesOf('base', baseTraces, group, standIn);
    if (patchedTraces) tracesOf('patched', patchedTraces, group, standIn);
  }
  for (const [i, w] of (baseTraces && patchedTraces ? [] : cfg.capture.workloads).entries()) {
    try {
      checkGroupName(w, loaded.file);
    } catch (e) {
      throw configError(loaded, ['capture', 'workloads', i], (e as Error).message, (e as InputError).hint);
    }
  }
  if (opts.checkCapture) {
    for (const sideName of ['base', 'patched'] as const) {
      const side = cfg[sideName];
      if (side.kernel === undefined) continue;
      for (const workload of groups) {
        try {
          await opts.checkCapture({
            kernel: side.kernel,
            ...(side.modules ? { modules: side.modules } : {}),
            workload,
            ...(cfg.capture.profile ? { profile: cfg.capture.profile } : {}),
          });
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          // Which key the error is about, for its line: the workload, the profile, the modules folder or the kernel.
          const key = /workload/.test(e.message)
            ? ['capture', 'workloads']
            : /profile/.test(e.message) && cfg.capture.profile
              ? ['capture', 'profile']
              : /modules/.test(e.message) && side.modules
                ? [sideName, 'modules']
                : [sideName, 'kernel'];
          // the file it is about (a kernel image, a modules folder) named in the message: the config's line gives the key only
          throw configError(loaded, key, e.file && !e.message.includes(e.file) ? `${e.file}: ${e.message}` : e.message, e.hint);
        }
      }
    }
  }
  const progress = (m: string) => opts.onProgress?.(m);
  await checkOutputFolder(cfg.output);
  // An earlier run's summaries in this folder would stand for this run if it fails before
  // writing its own (ci merge would take them, summary.ktap/kcidb would still say pass).
  for (const f of SUMMARY_FILES) {
    const file = path.join(cfg.output, f);
    await rm(file, { force: true }).catch((e: unknown) => {
      throw outputError(file, e);
    });
  }
  const results: CiGroupResult[] = [];
  for (const group of groups) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const dir = under(cfg.output, group);
    await groupFolder(dir);
    const base = await sideInputs('base', cfg.base, baseTraces, standIn, group, cfg, opts);
    const patched = await sideInputs('patched', cfg.patched, patchedTraces, standIn, group, cfg, opts);
    if (!Array.isArray(base) || !Array.isArray(patched)) {
      const failed = await kernelFailedGroup(
        group,
        dir,
        cfg.output,
        { ...(Array.isArray(base) ? {} : { base }), ...(Array.isArray(patched) ? {} : { patched }) },
        Array.isArray(patched) ? patched.length : 0,
      );
      progress(`${group}: ${verdictWord(failed)} (${ciGroupCountsSaid(failed)})`);
      results.push(failed);
      opts.onGroup?.(failed);
      continue;
    }
    const perfetto = cfg.formats.includes('perfetto')
      ? new PerfettoFiles((_input, i) => path.join(dir, `perfetto-${i < base.length ? `base-${i + 1}` : `patched-${i - base.length + 1}`}.json`))
      : undefined;
    let model;
    try {
      model = await buildReport({
        base,
        patched,
        replay: {
          kernel: cfg.replay.kernel,
          ...(cfg.replay.probes ? { probesFile: cfg.replay.probes } : {}),
          ...(cfg.replay.clockSkew !== undefined ? { clockSkew: BigInt(cfg.replay.clockSkew) } : {}),
          ...(cfg.replay.traceClock !== undefined ? { traceClock: cfg.replay.traceClock } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        diff: { failOn: cfg.thresholds.failOn, thresholds: loaded.thresholds, baseLabel: cfg.base.name ?? 'base', patchedLabel: cfg.patched.name ?? 'patched' },
        title: `kreplay ci: ${cfg.base.name ?? 'base'} vs ${cfg.patched.name ?? 'patched'} (${group})`,
        onInput: (input) => progress(`replay ${group}: ${shown(input)}`),
        ...(perfetto ? { opsFor: perfetto.opsFor } : {}),
      });
    } catch (e) {
      await perfetto?.abort(); // no half-written Perfetto JSON is left
      throw e;
    }
    await perfetto?.finish(model);
    const d = model.diff!;
    const rendered = cfg.formats.flatMap((fmt) => (DIFF_FILES[fmt] ? [DIFF_FILES[fmt]] : []));
    const files: string[] = [
      ...(perfetto?.files ?? []),
      ...rendered.map(([name]) => path.join(dir, name)),
      ...(cfg.formats.includes('html') ? [path.join(dir, 'report.html')] : []),
    ].sort();
    const view: GroupView = { workload: group, files: files.map((f) => path.relative(cfg.output, f)), kcidb: kcidbOf(cfg) };
    for (const [name, render] of rendered) await writeFileAtomic(path.join(dir, name), render(d, view));
    if (cfg.formats.includes('html')) await writeFileAtomic(path.join(dir, 'report.html'), reportToHtml(model));
    progress(`diff ${group}: ${diffVerdictSaid(d)} (${findingCountsSaid(findingCounts(d))})`);
    const done = ciGroupOf(
      group,
      d,
      files.map((f) => path.relative(cfg.output, f)),
    );
    results.push(done);
    opts.onGroup?.(done);
  }
  const regression = results.some((g) => g.regression);
  const verdict = regression ? 'regression' : results.some((g) => g.verdict === 'inconclusive') ? 'inconclusive' : 'no-regression';
  const result: CiResult = {
    output: cfg.output,
    base: sideName(cfg, 'base'),
    patched: sideName(cfg, 'patched'),
    config: configIdentity(cfg),
    ...(opts.version ? { kreplay: opts.version } : {}),
    planned,
    ...(opts.shard ? { shard: formatShard(opts.shard) } : {}),
    groups: results,
    verdict,
    regression,
  };
  await writeSummary(result, cfg);
  return result;
}

const sideName = (cfg: CiConfig, side: 'base' | 'patched') => cfg[side].name ?? side;

const SUMMARY_FILES = ['summary.json', 'summary.txt', 'summary.ktap', 'summary.kcidb.json'];

/** The summary files of a run (or of merged shards): summary.json and .txt, and summary.ktap / summary.kcidb.json when asked. */
export async function writeSummary(result: CiResult, cfg: CiConfig): Promise<void> {
  const out = result.output;
  // a link found where a summary goes (ci merge into a reused folder) is replaced, not written through
  for (const f of SUMMARY_FILES) await removeLink(path.join(out, f));
  await writeFileAtomic(path.join(out, 'summary.json'), `${stringifyJson(result, 2)}\n`);
  await writeFileAtomic(path.join(out, 'summary.txt'), ciSummaryText(result));
  if (cfg.formats.includes('ktap')) await writeFileAtomic(path.join(out, 'summary.ktap'), ciToKtap(result));
  if (cfg.formats.includes('kcidb')) await writeFileAtomic(path.join(out, 'summary.kcidb.json'), ciToKcidb(result, kcidbOf({ ...cfg, output: out })));
}

export function ciSummaryText(r: CiResult): string {
  const short = r.groups.filter((g) => g.verdict === 'no-regression' && groupShortfall(g));
  const said =
    r.groups.length === 0
      ? 'nothing compared'
      : verdictWord(
          r,
          short.length
            ? `${short.length} of ${r.groups.length} groups have holes or unjudged rules on the patched side${short.some((g) => g.thresholdsNotJudged?.length) ? ', or thresholds not judged' : ''}${short.some((g) => g.notJudgedNew) ? ', or findings not judged new' : ''}${short.some((g) => g.notJudgedFixed) ? ', or base findings not judged on the patched side' : ''}`
            : undefined,
        );
  const lines = [
    `kreplay ci: ${said} (${r.groups.length} group${r.groups.length === 1 ? '' : 's'}${r.shard ? `, shard ${r.shard} of ${r.planned.length} groups` : ''})`,
  ];
  for (const g of r.groups) {
    const shortfall = g.verdict === 'no-regression' ? groupShortfall(g) : undefined;
    const tag = g.verdict === 'regression' ? 'REGRESSION' : g.verdict === 'inconclusive' ? 'INCONCLUSIVE' : shortfall ? 'NOT A PASS' : 'ok';
    const unusable = g.unusableEvents.base + g.unusableEvents.patched;
    lines.push(
      `  ${tag.padEnd(10)} ${g.name}: ${ciGroupCountsSaid(g)}${unusable ? `; unusable events: base ${g.unusableEvents.base}, patched ${g.unusableEvents.patched}` : ''}`,
    );
    for (const why of g.inconclusive) lines.push(`      - ${why}`);
    if (shortfall) lines.push(`      - no regression in what the traces show, but ${shortfall}`);
    for (const reason of g.reasons) lines.push(`      - ${reason}`);
    if (g.kernelFailed) lines.push(...kernelFailureWords(g.kernelFailed).map((l) => `      ${l}`));
    lines.push(`      reports: ${g.files.join(' ')}`);
  }
  return printable(`${lines.join('\n')}\n`); // reasons quote the traces: controls shown, not acted on
}
