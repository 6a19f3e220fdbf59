/**
 * What the workload itself saw: a capture whose kernel events show nothing wrong, but whose
 * workload read stale bytes and marked it in the trace, is never "no findings".
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { replay } from '@kreplay/replay';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = path.join(root, 'traces/backport-6.1/base/odirect-dropper/run-1');
const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
const text = gunzipSync(readFileSync(path.join(dir, 'trace.txt.gz'))).toString('utf8');
const MARK = /^.*tracing_mark_write: kreplay: mismatch .*\n/m;
const run = (t: string, m: unknown = meta) => replay(parseTraceString(t, { source: 't.txt' }), { source: 't.txt', meta: m as never });

describe("the workload's own mismatch marks", () => {
  it("become a certain stale-data finding that cites the marker, on the workload's file and index", async () => {
    const r = await run(text);
    expect(r.verdict.status).toBe('findings');
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({ rule: 'stale-data', certainty: 'certain', file: '254:0/c', index: 7 });
    expect(f.message).toMatch(/index 7 through its existing mapping .* got generation 1, not generation 2 or newer/);
    expect(f.events).toHaveLength(1);
    expect(f.events[0]!.summary).toMatch(/kreplay: mismatch kind=map_stale index=7/);
    expect(text.split('\n')[f.events[0]!.line - 1]).toMatch(/kreplay: mismatch kind=map_stale index=7/);
    expect(r.warnings.join('\n')).not.toMatch(/the workload counted/);
  });

  it('without the marker the same trace has no finding, and a meta.json that counted one says so', async () => {
    const unmarked = text.replace(MARK, '');
    expect(unmarked.length).toBeLessThan(text.length);
    const r = await run(unmarked);
    expect(r.findings).toHaveLength(0);
    expect(r.warnings.join('\n')).toMatch(/the workload counted 1 mismatch .* but the trace marks 0/);
    const quiet = await run(unmarked, { ...meta, workload: { ...meta.workload, result: { ...meta.workload.result, mismatches: 0 } } });
    expect(quiet.warnings.join('\n')).not.toMatch(/the workload counted/);
  });

  it('a marker that is not a mismatch line, or is malformed, is not a finding', async () => {
    const other = text.replace(/kreplay: mismatch kind=map_stale index=7 want=0x300007 got=0x200007/, 'kreplay: mismatch kind=map_stale index=seven');
    expect(other).not.toBe(text);
    expect((await run(other)).findings).toHaveLength(0);
  });

  it('keeps at most --max-findings markers and counts the rest (bounded memory on any trace)', async () => {
    const line = MARK.exec(text)![0];
    const many = text.replace(MARK, line.repeat(5));
    const r = await replay(parseTraceString(many, { source: 't.txt' }), { source: 't.txt', meta, maxFindings: 2 });
    expect(r.findings.filter((f) => f.rule === 'stale-data')).toHaveLength(2);
    expect(r.warnings.join('\n')).toMatch(/3 workload mismatch markers beyond the first 2 were counted but not kept/);
    expect(r.warnings.join('\n')).not.toMatch(/the workload counted/);
    // stale-data findings not kept, for a diff: a base finding of it may be one of them
    expect(r.stats.findingsDroppedByRule).toEqual({ 'stale-data': 3 });
  });
});
