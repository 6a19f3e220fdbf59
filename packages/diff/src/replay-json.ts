/**
 * Read a replay result written by `kreplay replay --format json` (or by `kreplay diff` on
 * one side): validated with zod; a malformed file is an InputError naming file:line.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '@kreplay/core';
import { RULES, type CitedEvent, type Finding } from '@kreplay/core';
import { lineOfPath, syntaxErrorLine } from './json-lines.js';

const Int = z.union([z.number(), z.bigint(), z.string().regex(/^-?\d+$/)]);

const CitedEventSchema = z.looseObject({
  line: z.number().int(),
  source: z.string().optional(),
  ts: Int.optional(),
  cpu: z.number().int().optional(),
  pid: z.number().int().optional(),
  comm: z.string().optional(),
  summary: z.string().optional(),
});

export const ReplayFindingSchema = z.looseObject({
  rule: z.enum(RULES),
  severity: z.enum(['error', 'warning', 'note']),
  certainty: z.enum(['certain', 'uncertain']),
  message: z.string(),
  ts: Int,
  cpu: z.number().int(),
  pid: z.number().int(),
  events: z.array(z.union([z.number().int(), CitedEventSchema])),
  explanation: z.string(),
  file: z.string().optional(),
  index: z.number().int().optional(),
});

const Counts = z.record(z.string(), z.number());
const HistogramSchema = z.looseObject({
  count: z.number().int().nonnegative(),
  sumNs: z.number(),
  minNs: z.number(),
  maxNs: z.number(),
  buckets: z.array(z.tuple([z.number(), z.number().int().nonnegative()])),
});

/** The replay result as `kreplay replay --format json` writes it (ReplayResult of @kreplay/replay). */
export const ReplayJsonSchema = z.looseObject({
  findings: z.array(ReplayFindingSchema),
  stats: z.looseObject({
    events: z.number().int().nonnegative(),
    ops: z.number().int().nonnegative().optional(),
    pages: z.number().int().nonnegative().optional(),
    gaps: z.number().int().nonnegative().optional(),
    unknownEvents: z.number().int().nonnegative().optional(),
    ms: z.number().optional(),
    byOp: Counts.optional(),
    returns: z.record(z.string(), Counts).optional(),
    latency: z.record(z.string(), HistogramSchema).optional(),
  }),
  trace: z.looseObject({
    source: z.string().optional(),
    firstTs: Int.optional(),
    lastTs: Int.optional(),
  }).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
  /** Raw entry→return samples, ns, per span. */
  latencyNs: z.record(z.string(), z.array(z.number().nonnegative())).optional(),
});
export type ReplayJson = z.infer<typeof ReplayJsonSchema>;

function big(x: number | bigint | string | undefined): bigint {
  if (x === undefined) return 0n;
  return typeof x === 'bigint' ? x : BigInt(typeof x === 'number' ? Math.trunc(x) : x);
}

export function findingFromJson(f: z.infer<typeof ReplayFindingSchema>, source: string): Finding {
  const events: CitedEvent[] = f.events.map((e) => typeof e === 'number'
    ? { line: e, source, ts: 0n, cpu: f.cpu, pid: f.pid, comm: '', summary: '' }
    : {
      line: e.line, source: e.source ?? source, ts: big(e.ts), cpu: e.cpu ?? f.cpu,
      pid: e.pid ?? f.pid, comm: e.comm ?? '', summary: e.summary ?? '',
    });
  return {
    rule: f.rule, severity: f.severity, certainty: f.certainty, message: f.message,
    ts: big(f.ts), cpu: f.cpu, pid: f.pid, events, explanation: f.explanation,
    ...(f.file !== undefined ? { file: f.file } : {}),
    ...(f.index !== undefined ? { index: f.index } : {}),
  };
}

/** Parse and validate replay JSON text; `file` names it in errors. */
export function parseReplayJson(text: string, file: string): ReplayJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, {
      file, line: syntaxErrorLine(text, e),
      hint: 'give a trace, or a replay result written by `kreplay replay --format json`',
    });
  }
  const r = ReplayJsonSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
    throw new InputError(`not a kreplay replay result: ${where}: ${issue.message}`, {
      file, line: lineOfPath(text, issue.path),
      hint: 'write it with `kreplay replay TRACE --format json --out FILE`, or pass the trace itself',
    });
  }
  return r.data;
}

export async function readReplayJson(file: string): Promise<ReplayJson> {
  return parseReplayJson(await readFile(file, 'utf8'), file);
}
