/**
 * A side that saw nothing never passes (issue 12): runs with no events, no page-cache
 * operation or a failed workload take no part, a side left with none makes the diff
 * inconclusive; a folder holding a trace and runs below it is refused, not half read.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Finding } from '@kreplay/core';
import { diffRuns } from '../src/diff.js';
import { expandInputs } from '../src/inputs.js';
import { runFromReplay } from '../src/run.js';
import type { RunData } from '../src/types.js';
import { runData } from '../../../test-support/run-data.js';

const run = (source: string, over: Partial<RunData> = {}): RunData =>
  runData(source, [], { stats: { events: 100, ops: 50, gaps: 0, unknown: 0 }, inconclusive: [], ...over });

const finding: Finding = {
  rule: 'orphan-page-mapped',
  severity: 'error',
  certainty: 'certain',
  message: 'm',
  ts: 1n,
  cpu: 0,
  pid: 1,
  events: [],
  explanation: 'e',
  file: '8:0/c',
  index: 3,
};

describe('diff: a side that saw nothing', () => {
  it('a side whose only run traced nothing is inconclusive, never no-regression', () => {
    const blind = run('p', { stats: { events: 0, ops: 0, gaps: 0, unknown: 0 }, inconclusive: ['the trace holds no events'] });
    const d = diffRuns([run('b')], [blind]);
    expect(d.verdict).toBe('inconclusive');
    expect(d.regression).toBe(false);
    expect(d.inconclusive.join('\n')).toMatch(/the patched side has no run to compare \(p: the trace holds no events\)/);
    expect(d.patched.inconclusiveRuns).toEqual([{ run: 'p', reasons: ['the trace holds no events'] }]);
  });

  it('a side whose every run failed its workload is inconclusive; one good run left is compared and the others named', () => {
    const failed = (s: string) =>
      runFromReplay(
        {
          findings: [],
          stats: { events: 10, ops: 5, byOp: {} } as never,
          trace: {},
          meta: { workload: { name: 'odirect-race', exitCode: 1 } } as never,
        },
        s,
      );
    expect(failed('p1').inconclusive).toEqual([expect.stringContaining('exited with code 1')]);
    expect(diffRuns([run('b')], [failed('p1'), failed('p2')]).verdict).toBe('inconclusive');
    const mixed = diffRuns([run('b')], [failed('p1'), run('p2', { findings: [finding] })]);
    expect(mixed.verdict).toBe('regression');
    expect(mixed.warnings.join('\n')).toContain('patched run p1 left out');
  });

  it('replay JSON written before the verdict existed is judged from its stats', () => {
    const r = runFromReplay({ findings: [], stats: { events: 7, ops: 0 } as never, trace: {} }, 'old.json');
    expect(r.inconclusive).toEqual(['none of its events is a page-cache operation']);
  });

  it('replay JSON whose verdict claims a judged run while its stats show nothing traced does not count', () => {
    // replay never writes this; an edited or foreign file can, and its empty side would read as "fixed everything"
    const clean = { status: 'clean', inconclusive: [], unusableEvents: 0 };
    expect(runFromReplay({ verdict: clean, findings: [], stats: { events: 0, ops: 0 } as never, trace: {} }, 'edited.json').inconclusive).toEqual([
      'the trace holds no events',
    ]);
    expect(runFromReplay({ verdict: clean, findings: [], stats: { events: 9, ops: 0 } as never, trace: {} }, 'edited.json').inconclusive).toEqual([
      'none of its events is a page-cache operation',
    ]);
    expect(runFromReplay({ verdict: clean, findings: [], stats: { events: 9, ops: 4 } as never, trace: {} }, 'ok.json').inconclusive).toEqual([]);
  });

  it('sides whose meta.json files name different workloads are inconclusive, never no-regression', () => {
    const w = (source: string, workloadName: string, over: Partial<RunData> = {}) => run(source, { workloadName, ...over });
    // The base's race reads as fixed by a patched run of another workload: nothing was compared.
    const d = diffRuns([w('b', 'odirect-race', { findings: [finding] })], [w('p', 'truncate-racer')]);
    expect(d.verdict).toBe('inconclusive');
    expect(d.inconclusive).toEqual(['the sides ran different workloads (base odirect-race, patched truncate-racer): diff runs of the same workload']);
    // One workload more on a side is still unlike.
    expect(diffRuns([w('b1', 'a'), w('b2', 'b')], [w('p', 'a')]).verdict).toBe('inconclusive');
    // The same workloads compare; a run that names none stays a warning.
    expect(diffRuns([w('b1', 'a'), w('b2', 'b')], [w('p2', 'b'), w('p1', 'a')]).verdict).toBe('no-regression');
    const unnamed = diffRuns([w('b', 'a')], [run('p')]);
    expect(unnamed.verdict).toBe('no-regression');
    expect(unnamed.warnings).toContain('the sides ran different workloads (base a, patched (unknown))');
    // A run that names none beside one of another workload: still unlike. It made the whole
    // comparison skip, and the base's race read fixed by the other workload's run (exit 0).
    const beside = diffRuns([w('b', 'odirect-race', { findings: [finding] })], [w('p1', 'truncate-racer'), run('p2')]);
    expect(beside.verdict).toBe('inconclusive');
    expect(beside.inconclusive).toEqual(['the sides ran different workloads (base odirect-race, patched truncate-racer): diff runs of the same workload']);
    expect(diffRuns([w('b1', 'a'), run('b2')], [w('p', 'a')]).verdict).toBe('no-regression');
  });

  it('sides of different kernel series, or a side that mixes them, are said to be so (only the series is compared)', () => {
    const k = (source: string, kernelRelease: string) => run(source, { kernelRelease });
    const across = diffRuns([k('b', '6.1.192-kreplay-1d9e455e')], [k('p', '6.12.117-kreplay-82294926')]);
    expect(across.warnings).toContain(
      'the sides ran different kernel series (base 6.1.192-kreplay-1d9e455e, patched 6.12.117-kreplay-82294926): what differs is everything between 6.1 and 6.12, not only the patch',
    );
    const mixed = diffRuns([k('b1', '6.1.0-56-amd64'), k('b2', '6.12.48-amd64')], [k('p', '6.1.192-kreplay-1d9e455e')]);
    expect(mixed.warnings).toContain('the base side mixes kernel series (6.1: 6.1.0-56-amd64, 6.12: 6.12.48-amd64): its runs are not of one kernel');
    // Debian's stock 6.1 against a patched 6.1 build: one series, nothing to say
    const same = diffRuns([k('b', '6.1.0-56-amd64')], [k('p', '6.1.192-kreplay-1d9e455e'), run('q')]);
    expect(same.warnings.filter((w) => w.includes('kernel'))).toEqual([]);
  });

  it('the unusable events of each side are counted', () => {
    const d = diffRuns([run('b', { unusableEvents: 2 })], [run('p', { unusableEvents: 3 }), run('q', { unusableEvents: 4 })]);
    expect([d.base.unusableEvents, d.patched.unusableEvents]).toEqual([2, 7]);
  });
});

describe('diff inputs: a folder with a top-level trace and run-N/ folders', () => {
  it('is refused with the files named and a hint, not read as the old top-level trace only', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-ambiguous-'));
    writeFileSync(path.join(dir, 'trace.txt.gz'), '');
    for (const r of ['run-1', 'run-2']) {
      mkdirSync(path.join(dir, r));
      writeFileSync(path.join(dir, r, 'trace.txt.gz'), '');
    }
    expect(() => expandInputs([dir])).toThrow(
      expect.objectContaining({ name: 'InputError', message: expect.stringMatching(/holds a trace and runs below it/) }),
    );
    // the runs alone are read as runs
    const runs = mkdtempSync(path.join(tmpdir(), 'kreplay-runs-'));
    for (const r of ['run-1', 'run-2']) {
      mkdirSync(path.join(runs, r));
      writeFileSync(path.join(runs, r, 'trace.txt.gz'), '');
    }
    expect(expandInputs([runs]).map((p) => path.relative(runs, p))).toEqual(['run-1/trace.txt.gz', 'run-2/trace.txt.gz']);
  });

  it('one run given twice on a side is refused: it counted as two runs that agree with each other', () => {
    const runs = mkdtempSync(path.join(tmpdir(), 'kreplay-twice-'));
    for (const r of ['run-1', 'run-2']) {
      mkdirSync(path.join(runs, r));
      writeFileSync(path.join(runs, r, 'trace.txt.gz'), '');
    }
    const one = path.join(runs, 'run-1', 'trace.txt.gz');
    expect(() => expandInputs([one, one])).toThrow(expect.objectContaining({ name: 'InputError', message: `one run given twice: ${one}` }));
    // a folder and a run in it, or another path to the same file
    const two = path.join(runs, 'run-2', 'trace.txt.gz');
    expect(() => expandInputs([runs, path.join(runs, 'run-2')])).toThrow(expect.objectContaining({ message: `one run given twice: ${two}` }));
    symlinkSync(path.join(runs, 'run-2'), path.join(runs, 'alias'));
    expect(() => expandInputs([path.join(runs, 'alias'), path.join(runs, 'run-2')])).toThrow(
      expect.objectContaining({ message: `one run given twice: ${path.join(runs, 'alias', 'trace.txt.gz')} and ${two}` }),
    );
    expect(expandInputs([path.join(runs, 'run-1'), path.join(runs, 'run-2')])).toHaveLength(2);
  });
});
