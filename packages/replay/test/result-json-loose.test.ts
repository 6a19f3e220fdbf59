// The fields of a replay JSON that are not its verdict are still read: `kreplay diff` takes the
// findings not kept per rule to know which rules a run could not judge, and prints the findings'
// text. A file from elsewhere (a CI artifact) that was edited or damaged there is refused where
// such a field would change a verdict or print a line of the file's choosing (session 43).
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { InputError } from '@kreplay/core';
import { formatJson, parseReplayJson, replayFile } from '@kreplay/replay';

const RACE = path.resolve(import.meta.dirname, '../../../fixtures/diff/race/trace.txt');

type Json = {
  verdict: Record<string, unknown>;
  findings: Array<Record<string, unknown> & { events: Array<Record<string, unknown>> }>;
  stats: Record<string, unknown>;
  trace: Record<string, unknown>;
};

async function edits(): Promise<{ text: string; edit: (f: (j: Json) => void) => string }> {
  const text = formatJson(await replayFile(RACE), { timing: false });
  return {
    text,
    edit: (f) => {
      const j = JSON.parse(text) as Json;
      f(j);
      return JSON.stringify(j, null, 2);
    },
  };
}

function refusal(text: string): InputError {
  let caught: unknown;
  try {
    parseReplayJson(text, 'run.json');
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InputError);
  return caught as InputError;
}

/** `findings` taken out and counted as not kept: what a replay past its cap per rule writes. */
const dropAll = (j: Json, byRule: Record<string, number> | undefined): void => {
  const n = j.findings.length;
  j.findings = [];
  j.verdict['certain'] = 0;
  j.stats['findingsDropped'] = n;
  if (byRule) j.stats['findingsDroppedByRule'] = byRule;
  else delete j.stats['findingsDroppedByRule'];
};

describe('replay JSON: findings not kept', () => {
  it('refuses a breakdown per rule that names fewer findings than were dropped (diff read the rest as of no rule: base findings "fixed")', async () => {
    const { edit } = await edits();
    for (const byRule of [{}, { 'mapped-page-removed': 1 }]) {
      const damaged = edit((j) => dropAll(j, byRule));
      const e = refusal(damaged);
      expect(e.message).toMatch(
        /^stats\.findingsDroppedByRule counts [01] findings not kept, fewer than stats\.findingsDropped \(2\): the file was edited or damaged$/,
      );
      expect(e.line).toBe(damaged.split('\n').findIndex((l) => l.includes('"findingsDroppedByRule"')) + 1);
    }
  });

  it('reads the breakdown as replay writes it: each dropped finding of a rule, and stale-data markers past the cap on top', async () => {
    const { edit } = await edits();
    expect(
      parseReplayJson(
        edit((j) => dropAll(j, { 'mapped-page-removed': 1, 'stale-after-invalidate': 1 })),
        'run.json',
      ).stats.findingsDropped,
    ).toBe(2);
    expect(
      parseReplayJson(
        edit((j) => dropAll(j, { 'mapped-page-removed': 2, 'stale-data': 3 })),
        'run.json',
      ).stats.findingsDroppedByRule,
    ).toEqual({
      'mapped-page-removed': 2,
      'stale-data': 3,
    });
    // written before 2026-12-06: no breakdown (diff then counts every rule as not judged)
    expect(
      parseReplayJson(
        edit((j) => dropAll(j, undefined)),
        'run.json',
      ).stats.findingsDroppedByRule,
    ).toBeUndefined();
  });
});

describe('replay JSON: one-line text', () => {
  const injected = 'x\n::error::injected';
  const where: Array<[string, (j: Json) => void, RegExp]> = [
    ['a finding message', (j) => (j.findings[0]!['message'] = injected), /^findings\.0\.message: /],
    ['a finding file key', (j) => (j.findings[0]!['file'] = injected), /^findings\.0\.file: /],
    ['a cited comm', (j) => (j.findings[0]!.events[0]!['comm'] = injected), /^findings\.0\.events\.0\.\S*comm: /],
    ['a cited trace line', (j) => (j.findings[0]!.events[0]!['text'] = injected), /^findings\.0\.events\.0\.\S*text: /],
    ['a cited summary', (j) => (j.findings[0]!.events[0]!['summary'] = injected), /^findings\.0\.events\.0\.\S*summary: /],
    ['a cited source', (j) => (j.findings[0]!.events[0]!['source'] = injected), /^findings\.0\.events\.0\.\S*source: /],
    ['the trace source', (j) => (j.trace['source'] = injected), /^trace\.source: /],
    ["a trace.dat's saved_tgids", (j) => (j.trace['tgidsSource'] = injected), /^trace\.tgidsSource: /],
  ];
  it.each(where)('refuses a line break in %s (the text and KTAP outputs print it as one: a line such as a CI runner command)', async (_, f, at) => {
    const { edit } = await edits();
    const e = refusal(edit(f));
    expect(e.message.replace(/^invalid kreplay replay result: /, '')).toMatch(at);
    expect(e.message).toContain('one line of text');
  });

  it('reads what replay writes, control characters and all (the outputs escape them), and a multi-line explanation', async () => {
    const { text, edit } = await edits();
    expect(parseReplayJson(text, 'run.json').findings.length).toBeGreaterThan(0);
    const j = parseReplayJson(
      edit((j) => {
        j.findings[0]!.events[0]!['comm'] = 'a\u001b[31m\u009b\u202e\r';
        j.findings[0]!['explanation'] = 'first\nsecond';
      }),
      'run.json',
    );
    expect(j.findings[0]!.explanation).toBe('first\nsecond');
  });
});

describe('replay JSON: counts, cited lines and latency histograms', () => {
  type Hist = { count: number; sumNs: number; minNs: number; maxNs: number; buckets: Array<[number, number]> };
  const fault = (j: Json) => (j.stats['latency'] as Record<string, Hist>)['fault']!;
  const byOp = (j: Json) => j.stats['byOp'] as Record<string, number>;
  const returns = (j: Json) => j.stats['returns'] as Record<string, Record<string, number>>;
  const where: Array<[string, (j: Json) => void, RegExp]> = [
    // diff printed "faults -7.5 (-16666.67/s)" and compared it as a fall in faults
    ['a negative operation count', (j) => (byOp(j)['fault_begin'] = -7), /^stats\.byOp\.fault_begin: /],
    ['a fractional operation count', (j) => (byOp(j)['fault_begin'] = 1.5), /^stats\.byOp\.fault_begin: /],
    ['a negative count of return values', (j) => (Object.values(returns(j))[0]!['0'] = -3), /^stats\.returns\.\w+\.0: /],
    ['a negative unusable-event count', (j) => (j.stats['unusableEvents'] = { 'no page': -1 }), /^stats\.unusableEvents\.no page: /],
    // percentile reads maxNs past the buckets' end: 50 samples in buckets of 1 made p50 the maximum
    ['a count the buckets do not add up to', (j) => (fault(j).count = 50), /^stats\.latency\.fault\.count: the buckets' samples do not add up to count/],
    [
      'buckets out of order',
      (j) => fault(j).buckets.push([1, 1], [0, 1]) && (fault(j).count += 2),
      /^stats\.latency\.fault\.buckets: the buckets are not in ascending order/,
    ],
    ['a negative latency', (j) => (fault(j).minNs = -100), /^stats\.latency\.fault\.minNs: /],
    // written as SARIF's startLine, which must be 1 or more: the SARIF output was invalid
    ['a negative cited line', (j) => (j.findings[0]!.events[0]!['line'] = -5), /^findings\.0\.events\.0/],
    ['a minimum above the maximum', (j) => (fault(j).minNs = fault(j).maxNs + 1), /^stats\.latency\.fault\.minNs: minNs is above maxNs/],
  ];
  it.each(where)('refuses %s', async (_, f, at) => {
    const { edit } = await edits();
    const e = refusal(edit(f));
    expect(e.message.replace(/^invalid kreplay replay result: /, '')).toMatch(at);
  });

  it('reads the histograms and counts replay writes, an empty histogram (count 0, minNs 0) too', async () => {
    const { text } = await edits();
    const j = parseReplayJson(text, 'run.json');
    expect(j.stats.latency!['fault']!.count).toBeGreaterThan(0);
    expect(j.stats.latency!['truncate']).toEqual({ count: 0, sumNs: 0, minNs: 0, maxNs: 0, buckets: [] });
  });
});

describe('replay JSON: the meta.json it carries', () => {
  it('is checked as a meta.json is (diff reads it with the same readers: a null kernel log finding was an internal error, exit 70)', async () => {
    const { edit } = await edits();
    const meta = (j: Json) => (j as unknown as { meta: Record<string, unknown> }).meta;
    expect(refusal(edit((j) => (meta(j)['kernelLog'] = { findings: [null] }))).message).toMatch(/meta\.kernelLog\.findings\.0: .*expected object/);
    expect(refusal(edit((j) => (meta(j)['workload'] = { exitCode: 'failed' }))).message).toMatch(/meta\.workload/);
    const kept = edit((j) => (meta(j)['kernelLog'] = { findings: [{ kind: 'warning', text: 'WARNING: at mm/filemap.c' }] }));
    expect(parseReplayJson(kept, 'run.json').meta).toEqual((JSON.parse(kept) as { meta: unknown }).meta);
  });
});
