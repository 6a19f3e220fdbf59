/**
 * `triage()`: one parsed report in, one TriageResult out — each splat with its rule, paths
 * and (when asked) what the model says about it. Every output format (text, JSON, the HTML
 * section) is a function of this object.
 */
import { InputError, type RuleId } from '@kreplay/core';
import { builtinFlavors, type Flavor } from '@kreplay/mm-model';
import type { Frame } from './frames.js';
import type { PageDump } from './page-dump.js';
import { pathOf, type PathHit } from './paths.js';
import { repeatKey, type ParsedReport } from './report.js';
import type { Splat, StackLabel } from './splat.js';
import { lockWaited, logPaths, modelledFunctions, pathsOf, ruleOf } from './classify.js';
import { modelSplat, type ModelResult } from './model.js';
import { releaseSeries } from './flavor-choice.js';
import type { SplatKind } from './headers.js';
import { archOfRelease, type SplatArch } from './arch.js';

export interface SplatTriage {
  /** 1-based position in the report. */
  index: number;
  title: string;
  kind: SplatKind;
  header: { text: string; line: number };
  lines: { first: number; last: number };
  kernel: string | null;
  kernelFrom: Splat['kernelFrom'];
  /** The line the kernel release was read from, when it is the log's or the text's (not the splat's). */
  kernelLine?: number;
  tainted: string | null;
  /** The CPU architecture the splat shows, else its kernel release names (arch.ts); null: nothing says. */
  arch: SplatArch | null;
  task: Splat['task'];
  cpu: number | null;
  at: string | null;
  ip: Frame | null;
  culprit: Splat['culprit'];
  /** The main call trace, innermost first. */
  frames: Frame[];
  /** The other stacks (labels and sizes; their frames in `frames` of each). */
  stacks: Array<{ label: StackLabel; title?: string; task?: { comm?: string; pid?: number }; line: number; frames: Frame[] }>;
  page: PageDump | null;
  access: Splat['access'];
  truncated: string | null;
  panicked: boolean;
  noise: number;
  /** The same splat printed again (a quoted copy, a repeated WARN): the index of the first one. Not modelled again. */
  duplicateOf: number | null;
  rule: RuleId | null;
  ruleBecause: string;
  paths: { reporter: PathHit | null; others: PathHit[] };
  model: ModelResult | null;
}

export interface TriageResult {
  source: string;
  lines: number;
  bytes: number;
  /** A release stated outside the splats. */
  release: ParsedReport['release'];
  splats: SplatTriage[];
  /** Call traces outside any splat, with their paths. */
  logStacks: Array<{ task: string | null; line: number; path: PathHit | null; frames: Frame[] }>;
  warnings: string[];
}

/**
 * The result without its wall-clock figures (each search's `timeMs`): what `kreplay triage
 * --no-timing` prints, so that two runs over one report print the same bytes.
 */
export function withoutTiming(r: TriageResult): TriageResult {
  return {
    ...r,
    splats: r.splats.map((s) => {
      if (!s.model?.explore) return s;
      const { timeMs: _t, ...explore } = s.model.explore;
      return { ...s, model: { ...s.model, explore } };
    }),
  };
}

export interface TriageOptions {
  /** Run the model (default true). */
  model?: boolean;
  /** Only these splats (1-based). */
  splats?: number[];
  /** A flavor for every splat (overrides the release). */
  flavor?: Flavor;
  /** The kernel release to use when the report's is missing or wrong. */
  release?: string;
  flavors?: readonly Flavor[];
  timeoutMs?: number;
  maxStates?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** The report has something to triage, or an InputError that says what it is instead. */
export function checkReport(r: ParsedReport): void {
  if (r.bytes === 0 || r.lines === 0) {
    throw new InputError('the report is empty', {
      file: r.source,
      hint: 'paste the kernel log (dmesg, the serial console, the mail) into the file, or pipe it to `kreplay triage -`',
    });
  }
  if (r.splats.length === 0) {
    throw new InputError(
      `no kernel splat in ${r.lines} line(s): no "BUG:", "WARNING:", "kernel BUG at", "general protection fault", "INFO: task ... blocked", "Bad page state" header`,
      {
        file: r.source,
        hint: 'give the part of the log with the oops/warning (from its header to its call trace); docs/triage.md lists the headers triage reads',
      },
    );
  }
}

/** The first splat printed before splat `i` in its boot (a repeat of a later one aside: it is earlier too), 1-based. */
function firstOfBoot(r: ParsedReport, i: number, boot: number): { index: number; title: string } | null {
  const j = r.splats.findIndex((o, k) => k < i && (o.boot ?? 0) === boot);
  return j < 0 ? null : { index: j + 1, title: r.splats[j]!.title };
}

export async function triage(r: ParsedReport, opts: TriageOptions = {}): Promise<TriageResult> {
  checkReport(r);
  // a release the user gave that is not one is a mistake on the command line, not a report the model
  // cannot judge (it was "not modelled", exit 0, as if triage had read the report and found nothing)
  if (opts.release !== undefined && releaseSeries(opts.release) === null) {
    throw new InputError(`--release ${JSON.stringify(opts.release)} is not a kernel release`, {
      hint: "give the release the report's kernel ran, as uname -r prints it or its series: 6.1, 6.6.30, 2.6.19.1",
    });
  }
  const flavors = opts.flavors ?? builtinFlavors();
  const modelled = modelledFunctions(flavors);
  const splats: SplatTriage[] = [];
  const seen = new Map<string, number>();
  for (const [i, s] of r.splats.entries()) {
    const key = repeatKey(s);
    const duplicateOf = key !== null ? (seen.get(key) ?? null) : null;
    if (key !== null && !seen.has(key)) seen.set(key, i + 1);
    if (opts.splats && !opts.splats.includes(i + 1)) continue;
    const ev = ruleOf(s, modelled);
    const paths = pathsOf(s);
    let release = opts.release ?? s.kernel;
    let kernelFrom = opts.release ? ('option' as const) : s.kernelFrom;
    let kernelLine: number | undefined;
    // the log's release is of the boot it was printed in: a splat of another boot (two logs pasted) ran another kernel
    const logRelease =
      r.bootReleases?.[s.boot ?? 0] ?? (r.release && (r.bootLines ?? []).filter((n) => n <= r.release!.line).length === (s.boot ?? 0) ? r.release : null);
    if (!release && logRelease) {
      release = logRelease.value;
      kernelFrom = logRelease.from;
      kernelLine = logRelease.line;
    }
    // A deadlock's other parties: the other tasks the same report shows hung, the path each is on,
    // and what each waits for (a deadlock through a lock the model lacks is outside it).
    // (of the splat's own boot: two logs pasted together, or a log across a reboot, hold tasks that never ran together)
    const boot = s.boot ?? 0;
    const hung =
      ev.rule === 'deadlock'
        ? r.splats.filter((o, j) => j !== i && o.kind === 'hung-task' && (o.boot ?? 0) === boot).map((o) => ({ o, path: pathsOf(o).reporter }))
        : [];
    const concurrent = hung.flatMap(({ o, path: p }) =>
      p ? [{ ...p, task: o.task?.comm ?? null, why: `another task hung at the same time (in ${o.culprit?.function ?? '?'})` }] : [],
    );
    const otherHung = hung.map(({ o, path: p }) => ({
      task: o.task?.comm ?? null,
      fn: o.culprit?.function ?? null,
      lock: lockWaited(o),
      modelled: (p?.program ?? null) !== null,
    }));
    const arch = s.arch ?? archOfRelease(release) ?? null;
    let model: ModelResult | null = null;
    // a repeat is not modelled again — unless its first copy was left out by --splat: then this one is
    // the only copy shown, and its exit must be what the first's would have been
    const modelledAlready = duplicateOf !== null && (!opts.splats || opts.splats.includes(duplicateOf));
    if (opts.model !== false && !modelledAlready) {
      opts.onProgress?.(`splat ${i + 1}: ${s.title}`);
      model = await modelSplat({
        splat: s,
        rule: ev.rule,
        paths,
        concurrent,
        otherHung,
        logPaths: logPaths(r, boot),
        earlier: firstOfBoot(r, i, boot),
        source: r.source,
        flavors,
        release,
        releaseFrom: release ? kernelFrom : null,
        arch,
        ...(opts.flavor ? { flavor: opts.flavor } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.maxStates ? { maxStates: opts.maxStates } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
    splats.push({
      index: i + 1,
      title: s.title,
      kind: s.kind,
      header: s.header,
      lines: s.lines,
      kernel: release ?? null,
      kernelFrom: release ? kernelFrom : null,
      ...(kernelLine !== undefined ? { kernelLine } : {}),
      tainted: s.tainted,
      arch,
      task: s.task,
      cpu: s.cpu,
      at: s.at,
      ip: s.ip,
      culprit: s.culprit,
      frames: s.frames,
      stacks: s.stacks.map((x) => ({
        label: x.label,
        ...(x.title ? { title: x.title } : {}),
        ...(x.task ? { task: x.task } : {}),
        line: x.line,
        frames: x.frames,
      })),
      page: s.page,
      access: s.access,
      truncated: s.truncated,
      panicked: s.panicked,
      noise: s.noise,
      duplicateOf,
      rule: ev.rule,
      ruleBecause: ev.because,
      paths,
      model,
    });
  }
  if (opts.splats && splats.length === 0) {
    throw new InputError(`--splat ${opts.splats.join(',')}: the report has ${r.splats.length} splat(s)`, {
      file: r.source,
      hint: `choose 1..${r.splats.length}`,
    });
  }
  return {
    source: r.source,
    lines: r.lines,
    bytes: r.bytes,
    release: r.release,
    splats,
    logStacks: r.stacks.map((st) => ({ task: st.task?.comm ?? null, line: st.line, path: pathOf(st.frames), frames: st.frames })),
    warnings: r.warnings,
  };
}
