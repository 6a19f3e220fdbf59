/**
 * Everything `kreplay report` shows, gathered in one place: each input replayed (or read
 * from replay JSON), the events around each finding from a second pass over its trace,
 * and the diff when the inputs come as two sides.
 */
import { createAtomicWriteStream, type AtomicWriteStream, type MmOp } from '@kreplay/core';
import {
  diffRuns,
  findingKey,
  isReplayJsonPath,
  loadRun,
  replayOptions,
  type DiffOptions,
  type ReplayerOptions,
  type RunData,
  type TraceReplayer,
} from '@kreplay/diff';
import { replayFile } from '@kreplay/replay';
import { PerfettoWriter, type FindingClass, type ReportModel, type ReportRun } from '@kreplay/report';
import { collectWindows, type WindowOptions } from './evidence.js';

export interface ReportRequest {
  /** Inputs without a side (a plain report). */
  runs?: string[];
  /** Two sides: the report includes the diff. */
  base?: string[];
  patched?: string[];
  replay?: ReplayerOptions;
  diff?: DiffOptions;
  window?: WindowOptions;
  title?: string;
  /** A sink for the replayed ops of a trace input (Perfetto export); called once per input. */
  opsFor?: (input: string, index: number) => ((op: MmOp) => void) | undefined;
  /** Called as each input starts (progress). */
  onInput?: (input: string) => void;
}

/** Group a run's findings by rule and page, and read the events around each class's first occurrence. */
export async function findingClasses(run: RunData, window?: WindowOptions): Promise<FindingClass[]> {
  const byKey = new Map<string, FindingClass>();
  for (const f of run.findings) {
    const key = findingKey(f, run.testFile);
    const c = byKey.get(key);
    if (c) c.count++;
    else byKey.set(key, { key, finding: f, count: 1 });
  }
  const classes = [...byKey.values()];
  if (run.trace) {
    const windows = await collectWindows(
      run.trace,
      classes.map((c) => c.finding),
      window,
    );
    windows.forEach((w, i) => {
      if (w) classes[i]!.window = w;
    });
  }
  return classes;
}

export async function buildReport(req: ReportRequest): Promise<ReportModel> {
  const ropts = await replayOptions(req.replay ?? {});
  const inputs: Array<{ input: string; side?: 'base' | 'patched' }> = [
    ...(req.runs ?? []).map((input) => ({ input })),
    ...(req.base ?? []).map((input) => ({ input, side: 'base' as const })),
    ...(req.patched ?? []).map((input) => ({ input, side: 'patched' as const })),
  ];
  const runs: ReportRun[] = [];
  for (const [i, { input, side }] of inputs.entries()) {
    req.onInput?.(input);
    const sink = isReplayJsonPath(input) ? undefined : req.opsFor?.(input, i);
    const replayer: TraceReplayer = (p) => replayFile(p, sink ? { ...ropts, onOp: sink } : ropts);
    const run = await loadRun(input, replayer);
    runs.push({ label: run.source, ...(side ? { side } : {}), run, classes: await findingClasses(run, req.window) });
  }
  const model: ReportModel = { title: req.title ?? 'kreplay report', runs };
  if (req.base?.length && req.patched?.length) {
    model.diff = diffRuns(
      runs.filter((r) => r.side === 'base').map((r) => r.run),
      runs.filter((r) => r.side === 'patched').map((r) => r.run),
      {
        baseLabel: req.base.join(' '),
        patchedLabel: req.patched.join(' '),
        ...req.diff,
      },
    );
  }
  return model;
}

/**
 * Perfetto files for the trace inputs of a report: one streaming writer per input (the
 * replayed ops go straight to disk, under a temporary name), findings added and the JSON
 * closed and renamed into place by `finish`; `abort` removes them all, so a failed or
 * interrupted report leaves no half-written JSON.
 */
export class PerfettoFiles {
  readonly files: string[] = [];
  private readonly streams: AtomicWriteStream[] = [];
  private readonly writers: PerfettoWriter[] = [];
  private readonly flushes: Array<() => void> = [];

  constructor(private readonly fileFor: (input: string, index: number) => string) {}

  /** Pass as ReportRequest.opsFor. */
  readonly opsFor = (input: string, index: number): ((op: MmOp) => void) => {
    const file = this.fileFor(input, index);
    const stream = createAtomicWriteStream(file);
    // Batched writes: one stream write per 256 KiB instead of one per op.
    let buf = '';
    const w = new PerfettoWriter((s) => {
      buf += s;
      if (buf.length >= 1 << 18) {
        stream.write(buf);
        buf = '';
      }
    });
    this.files.push(file);
    this.streams.push(stream);
    this.writers.push(w);
    this.flushes.push(() => {
      if (buf) stream.write(buf);
      buf = '';
    });
    return (op) => w.op(op);
  };

  /** Add each trace input's findings as global instants, close every file and rename it into place. */
  async finish(model: ReportModel): Promise<void> {
    const traced = model.runs.filter((r) => !isReplayJsonPath(r.label));
    this.writers.forEach((w, i) => {
      for (const f of traced[i]?.run.findings ?? []) w.finding(f);
      w.end();
      this.flushes[i]!();
    });
    try {
      for (const s of this.streams) await s.commit();
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Remove every file not yet committed (a failed or interrupted report). */
  async abort(): Promise<void> {
    await Promise.all(this.streams.map((s) => s.abort()));
  }
}
