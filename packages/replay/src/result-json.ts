/**
 * The replay-JSON contract: the one writer (`kreplay replay --format json`) and the one
 * reader (`kreplay diff` and `kreplay ci` take such files as runs) of a ReplayResult as JSON.
 *
 * `{tool, version, source, verdict:{status, inconclusive, certain, uncertain,
 * unusableEvents, gaps, lostEvents, tiedGroups, unjudged}, trace, findings:[{rule, severity,
 * certainty, message, ts, cpu, pid, events:[{line, source, ts, cpu, pid, comm, summary,
 * text?}], explanation, file?, index?}], pagesSeen:{complete, files:{fileKey:[[start, end]]}}, stats:{events, ops, pages, gaps, ms, ...},
 * opCounts, latencyNs, warnings, meta}`.
 * `version` is this contract's version (REPLAY_JSON_VERSION); a reader refuses another.
 * Integers wider than 2^53 (timestamps in ns, addresses) are bare JSON integers
 * (stringifyJson). Keys come in a fixed order; without timing the bytes are identical run
 * to run.
 */
import { z } from 'zod';
import {
  InputError,
  MetaJsonSchema,
  RULES,
  loadDocument,
  oneLineText,
  parseDocumentWith,
  stringifyJson,
  type CitedEvent,
  type Finding,
  type ParsedDoc,
} from '@kreplay/core';
import type { ReplayResult } from './types.js';

export const REPLAY_JSON_TOOL = 'kreplay replay';
export const REPLAY_JSON_VERSION = 1;

export interface ReplayJsonOptions {
  /** Include wall-clock figures (ms, events/s); without them the output is byte-identical run to run. */
  timing?: boolean;
}

const Int = z.union([z.number(), z.bigint(), z.string().regex(/^-?\d+$/)]);

/**
 * Text that is one line wherever it comes from: a trace line, its task's comm, a file key, a
 * path. The outputs escape control characters but print a line break as one (the text output's
 * lines, KTAP's `#` lines), so a line break here would start a line of the file's choosing: on a
 * CI runner's log, `::error::…` or `::add-mask::…` at the start of a line is a workflow command.
 */
const OneLine = oneLineText('kreplay replay');

const CitedEventSchema = z.looseObject({
  /** A trace line number (SARIF's `startLine`, which must be 1 or more where it is written: a negative one made the SARIF output invalid). */
  line: z.number().int().nonnegative(),
  source: OneLine.optional(),
  ts: Int.optional(),
  cpu: z.number().int().optional(),
  pid: z.number().int().optional(),
  comm: OneLine.optional(),
  summary: OneLine.optional(),
  text: OneLine.optional(),
});

export const ReplayFindingSchema = z.looseObject({
  rule: z.enum(RULES),
  severity: z.enum(['error', 'warning', 'note']),
  certainty: z.enum(['certain', 'uncertain']),
  message: OneLine,
  ts: Int,
  cpu: z.number().int(),
  pid: z.number().int(),
  events: z.array(z.union([z.number().int().nonnegative(), CitedEventSchema])),
  explanation: z.string(),
  file: OneLine.optional(),
  index: z.number().int().optional(),
});

/** Events or operations counted: the diff's behaviour rows and their expectations read them as they are. */
const Counts = z.record(z.string(), z.number().int().nonnegative());
/**
 * A latency histogram as LatencyRecorder.toJSON writes it: latencies clamped at 0, buckets by
 * ascending lower bound whose samples add up to `count` (`percentile` walks them to the rank
 * of `count` and reads `maxNs` past their end), min no more than max.
 */
const HistogramSchema = z
  .looseObject({
    count: z.number().int().nonnegative(),
    sumNs: z.number().nonnegative(),
    minNs: z.number().nonnegative(),
    maxNs: z.number().nonnegative(),
    buckets: z.array(z.tuple([z.number().nonnegative(), z.number().int().nonnegative()])),
  })
  .refine((h) => h.buckets.reduce((n, [, k]) => n + k, 0) === h.count, { message: "the buckets' samples do not add up to count", path: ['count'] })
  .refine((h) => h.buckets.every(([bound], i) => i === 0 || h.buckets[i - 1]![0] < bound), {
    message: 'the buckets are not in ascending order',
    path: ['buckets'],
  })
  .refine((h) => h.count === 0 || h.minNs <= h.maxNs, { message: 'minNs is above maxNs', path: ['minNs'] });

export const ReplayVerdictSchema = z.looseObject({
  status: z.enum(['clean', 'findings', 'inconclusive']),
  inconclusive: z.array(z.string()),
  certain: z.number().int().nonnegative().optional(),
  uncertain: z.number().int().nonnegative().optional(),
  unusableEvents: z.number().int().nonnegative(),
  gaps: z.number().int().nonnegative().optional(),
  lostEvents: z.number().int().nonnegative().optional(),
  tiedGroups: z.number().int().nonnegative().optional(),
  /**
   * Rules the run could not judge. Always written since 2026-12-05 (`[]` when it judged every
   * one); a file without it (older kreplay, or by hand) does not say what it judged, and diff
   * reads every rule of it as not judged.
   */
  unjudged: z.array(z.looseObject({ rule: z.enum(RULES), reason: z.string(), unexercised: z.boolean().optional() })).optional(),
});

/** The replay result as `kreplay replay --format json` writes it (ReplayResult of @kreplay/replay). */
export const ReplayJsonSchema = z.looseObject({
  tool: z.literal(REPLAY_JSON_TOOL).optional(),
  version: z
    .literal(REPLAY_JSON_VERSION, { message: `written by another version of kreplay (this one reads replay JSON version ${REPLAY_JSON_VERSION})` })
    .optional(),
  /** Absent in results written before the verdict existed (read as derived from the stats). */
  verdict: ReplayVerdictSchema.optional(),
  findings: z.array(ReplayFindingSchema),
  stats: z.looseObject({
    events: z.number().int().nonnegative(),
    ops: z.number().int().nonnegative().optional(),
    pages: z.number().int().nonnegative().optional(),
    gaps: z.number().int().nonnegative().optional(),
    unknownEvents: z.number().int().nonnegative().optional(),
    /** Per reason (read by diff only from a file without a verdict). */
    unusableEvents: Counts.optional(),
    ms: z.number().optional(),
    byOp: Counts.optional(),
    returns: z.record(z.string(), Counts).optional(),
    latency: z.record(z.string(), HistogramSchema).optional(),
    findingsDropped: z.number().int().nonnegative().optional(),
    /** Per rule, findings counted and not kept (since 2026-12-06; absent when none). */
    findingsDroppedByRule: z.partialRecord(z.enum(RULES), z.number().int().nonnegative()).optional(),
  }),
  trace: z
    .looseObject({
      source: OneLine.optional(),
      /** The saved_tgids a trace.dat's thread groups came from, or null (since 2026-12-07, session 45; absent for a text trace). */
      tgidsSource: OneLine.nullable().optional(),
      firstTs: Int.optional(),
      lastTs: Int.optional(),
    })
    .optional(),
  /**
   * The trace's meta.json as replay read it (readTraceMeta): checked as a meta.json is, since diff
   * reads it with the same readers (a kernel log finding that was `null` was an internal error,
   * exit 70). Kept as written: the check adds or reorders nothing.
   */
  meta: z
    .record(z.string(), z.unknown())
    .superRefine((m, ctx) => {
      for (const issue of MetaJsonSchema.safeParse(m).error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    })
    .optional(),
  /**
   * The pages the trace showed in the cache (since 2026-12-06, session 33). A file without it
   * (an older kreplay) does not say: a diff reads it as "may have shown any page", never as none.
   */
  pagesSeen: z
    .looseObject({
      complete: z.boolean(),
      files: z.record(
        z.string(),
        z.array(
          z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).refine(([a, b]) => a <= b, 'a range [start, end] needs start <= end'),
        ),
      ),
    })
    .optional(),
  /** Raw entry→return samples, ns, per span. */
  latencyNs: z.record(z.string(), z.array(z.number().nonnegative())).optional(),
});
export type ReplayJson = z.infer<typeof ReplayJsonSchema>;

function big(x: number | bigint | string | undefined): bigint {
  if (x === undefined) return 0n;
  return typeof x === 'bigint' ? x : BigInt(typeof x === 'number' ? Math.trunc(x) : x);
}

export function findingFromJson(f: z.infer<typeof ReplayFindingSchema>, source: string): Finding {
  const events: CitedEvent[] = f.events.map((e) =>
    typeof e === 'number'
      ? { line: e, source, ts: 0n, cpu: f.cpu, pid: f.pid, comm: '', summary: '' }
      : {
          line: e.line,
          source: e.source ?? source,
          ts: big(e.ts),
          cpu: e.cpu ?? f.cpu,
          pid: e.pid ?? f.pid,
          comm: e.comm ?? '',
          summary: e.summary ?? '',
          ...(e.text !== undefined ? { text: e.text } : {}),
        },
  );
  return {
    rule: f.rule,
    severity: f.severity,
    certainty: f.certainty,
    message: f.message,
    ts: big(f.ts),
    cpu: f.cpu,
    pid: f.pid,
    events,
    explanation: f.explanation,
    ...(f.file !== undefined ? { file: f.file } : {}),
    ...(f.index !== undefined ? { index: f.index } : {}),
  };
}

const OPTS = {
  what: 'kreplay replay result',
  hint: 'write it with `kreplay replay TRACE --format json --out FILE`, or pass the trace itself',
  fastJson: true,
};

/** Parse and validate replay JSON text; `file` names it in errors. */
export function parseReplayJson(text: string, file: string): ReplayJson {
  return checkVerdict(checkDropped(parseDocumentWith(text, file, ReplayJsonSchema, OPTS), file), file);
}

export async function readReplayJson(file: string): Promise<ReplayJson> {
  return checkVerdict(checkDropped(await loadDocument(file, ReplayJsonSchema, OPTS), file), file);
}

/**
 * `findingsDroppedByRule` names the rules of the findings counted and not kept: the engine's
 * (`findingsDropped`) and the workload's mismatch markers past the cap (stale-data, counted only
 * here), so its counts add up to `findingsDropped` or more (replay.ts `droppedByRule`). Fewer
 * leave dropped findings of no rule: `kreplay diff` made each rule's base finding missing from
 * such a run "fixed" (`findingsDropped: 2, findingsDroppedByRule: {}` read as a run that kept
 * every finding), where the same file without the breakdown makes every rule not judged.
 */
function checkDropped({ value, doc }: { value: ReplayJson; doc: ParsedDoc }, file: string): { value: ReplayJson; doc: ParsedDoc } {
  const by = value.stats.findingsDroppedByRule;
  const dropped = value.stats.findingsDropped ?? 0;
  if (by === undefined) return { value, doc };
  const named = Object.values(by).reduce((a: number, n) => a + (n ?? 0), 0);
  if (named < dropped) {
    throw new InputError(
      `stats.findingsDroppedByRule counts ${named} findings not kept, fewer than stats.findingsDropped (${dropped}): the file was edited or damaged`,
      {
        file,
        line: doc.lineOf(['stats', 'findingsDroppedByRule']) ?? 1,
        hint: 'replay the trace again and give its own --format json output, or pass the trace itself',
      },
    );
  }
  return { value, doc };
}

/**
 * The verdict a replay writes is derived from its findings (replay.ts): `certain` and `uncertain`
 * count them, and the status is `findings` exactly when one was kept or dropped (unless
 * inconclusive). A file where they disagree was edited or damaged: its findings taken out under
 * a `findings` verdict were read by `kreplay diff` as a side with none ("no regression", exit 0).
 * Files without the counts (older kreplay) are not checked.
 */
function checkVerdict({ value, doc }: { value: ReplayJson; doc: ParsedDoc }, file: string): ReplayJson {
  const v = value.verdict;
  if (v === undefined || v.certain === undefined || v.uncertain === undefined) return value;
  const uncertain = value.findings.filter((f) => f.certainty === 'uncertain').length;
  const certain = value.findings.length - uncertain;
  const dropped = value.stats.findingsDropped ?? 0;
  const status = v.inconclusive.length > 0 ? 'inconclusive' : certain + uncertain + dropped > 0 ? 'findings' : 'clean';
  if (v.certain !== certain || v.uncertain !== uncertain || v.status !== status) {
    throw new InputError(
      `the verdict (${v.status}: ${v.certain} certain, ${v.uncertain} uncertain) does not match the findings the file holds (${certain} certain, ${uncertain} uncertain${dropped ? `, ${dropped} dropped` : ''}): the file was edited or damaged`,
      { file, line: doc.lineOf(['verdict']) ?? 1, hint: 'replay the trace again and give its own --format json output, or pass the trace itself' },
    );
  }
  return value;
}

function findingJson(f: Finding) {
  return {
    rule: f.rule,
    severity: f.severity,
    certainty: f.certainty,
    message: f.message,
    ts: f.ts,
    cpu: f.cpu,
    pid: f.pid,
    events: f.events.map((e) => ({
      line: e.line,
      source: e.source,
      ts: e.ts,
      cpu: e.cpu,
      pid: e.pid,
      comm: e.comm,
      summary: e.summary,
      ...(e.text !== undefined ? { text: e.text } : {}),
    })),
    explanation: f.explanation,
    ...(f.file !== undefined ? { file: f.file } : {}),
    ...(f.index !== undefined ? { index: f.index } : {}),
  };
}

/** The JSON document as an object (before serialisation). */
export function replayJson(r: ReplayResult, opts: ReplayJsonOptions = {}) {
  const timing = opts.timing ?? true;
  const s = r.stats;
  const t = r.trace;
  const durationNs = t.firstTs !== undefined && t.lastTs !== undefined ? Number(t.lastTs - t.firstTs) : undefined;
  return {
    tool: REPLAY_JSON_TOOL,
    version: REPLAY_JSON_VERSION,
    source: t.source,
    // `unjudged` always, `[]` when none: its absence marks a file that does not say what it judged.
    verdict: { ...r.verdict, unjudged: r.verdict.unjudged ?? [] },
    trace: {
      source: t.source,
      kernel: t.kernel,
      kernelReason: t.kernelReason,
      release: t.release,
      clock: t.clock,
      clockFrom: t.clockFrom,
      firstTs: t.firstTs,
      lastTs: t.lastTs,
      header: t.header,
      probeSources: t.probeSources,
      vmemmapBase: t.vmemmapBase !== undefined ? `0x${t.vmemmapBase.toString(16)}` : undefined,
      vmemmapSource: t.vmemmapSource,
      metaSource: t.metaSource,
      ...(t.tgidsSource !== undefined ? { tgidsSource: t.tgidsSource } : {}),
    },
    findings: r.findings.map(findingJson),
    pagesSeen: r.pagesSeen,
    stats: {
      events: s.events,
      ops: s.ops,
      pages: s.pages,
      gaps: s.gaps,
      ...(timing ? { ms: s.ms, eventsPerSec: s.eventsPerSec } : {}),
      lostEvents: s.lostEvents,
      unknown: s.unknownEvents,
      firstTs: t.firstTs,
      lastTs: t.lastTs,
      durationNs,
      byOp: s.byOp,
      usedEvents: s.usedEvents,
      unknownEvents: s.unknownEvents,
      unknownByEvent: s.unknownByEvent,
      unusableEvents: s.unusableEvents,
      adopted: s.adopted,
      lateEvents: s.lateEvents,
      reorderWindow: s.reorderWindow,
      nestedDuplicates: s.nestedDuplicates,
      mapcountResyncs: s.mapcountResyncs,
      ...(s.anonCopies ? { anonCopies: s.anonCopies } : {}),
      ...(s.maybeCopies ? { maybeCopies: s.maybeCopies } : {}),
      ...(s.missedReturns ? { missedReturns: s.missedReturns } : {}),
      returns: s.returns,
      uncheckedInvalidates: s.uncheckedInvalidates,
      findingsDropped: s.findingsDropped,
      ...(s.findingsDroppedByRule ? { findingsDroppedByRule: s.findingsDroppedByRule } : {}),
      ties: s.ties,
      latency: s.latency,
    },
    opCounts: s.byOp,
    latencyNs: r.latencyNs,
    warnings: r.warnings,
    ...(r.meta !== undefined ? { meta: r.meta } : {}),
  };
}

export function formatJson(r: ReplayResult, opts: ReplayJsonOptions = {}): string {
  return `${stringifyJson(replayJson(r, opts), 2)}\n`;
}
