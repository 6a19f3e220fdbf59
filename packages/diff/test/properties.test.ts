/**
 * Properties of the comparison that hold for any runs: what a user relies on when diffing
 * captures whose timestamps and pfns are arbitrary.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { RULES, type Finding } from '@kreplay/core';
import { diffRuns } from '../src/diff.js';
import type { RunData } from '../src/types.js';
import { runData } from '../../../test-support/run-data.js';

const REPLAY_RULES = RULES.filter((r) => ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'trace-inconsistent'].includes(r));

const findingArb: fc.Arbitrary<Finding> = fc
  .record({
    rule: fc.constantFrom(...REPLAY_RULES),
    file: fc.constantFrom('254:0/c', '254:0/d'),
    index: fc.integer({ min: 0, max: 3 }),
    ts: fc.bigInt({ min: 0n, max: 1n << 40n }),
    pid: fc.integer({ min: 1, max: 4000 }),
    cpu: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ rule, file, index, ts, pid, cpu }) => ({
    rule,
    severity: rule === 'trace-inconsistent' ? ('warning' as const) : ('error' as const),
    certainty: 'certain' as const,
    message: `${rule} at ${index}`,
    ts,
    cpu,
    pid,
    events: [],
    explanation: '',
    file,
    index,
  }));

const runArb = (source: string) => fc.array(findingArb, { maxLength: 8 }).map((findings) => runData(source, findings));

const keys = (es: Array<{ key: string }>) => es.map((e) => e.key).sort();

describe('diff properties', () => {
  it('a run set diffed against itself has nothing new or fixed and is never a regression', () => {
    fc.assert(
      fc.property(fc.array(runArb('r'), { minLength: 1, maxLength: 3 }), (runs) => {
        const d = diffRuns(runs, runs);
        return d.findings.new.length === 0 && d.findings.fixed.length === 0 && !d.regression;
      }),
    );
  });

  it('swapping the sides swaps new and fixed', () => {
    fc.assert(
      fc.property(runArb('a'), runArb('b'), (a, b) => {
        const ab = diffRuns([a], [b]);
        const ba = diffRuns([b], [a]);
        expect(keys(ab.findings.new)).toEqual(keys(ba.findings.fixed));
        expect(keys(ab.findings.fixed)).toEqual(keys(ba.findings.new));
        expect(keys(ab.findings.unchanged)).toEqual(keys(ba.findings.unchanged));
      }),
    );
  });

  it('new timestamps, pids, cpus and run order change nothing about which findings are new', () => {
    fc.assert(
      fc.property(runArb('a'), runArb('b'), fc.bigInt({ min: 1n, max: 1n << 30n }), (a, b, shift) => {
        const moved: RunData = { ...b, findings: [...b.findings].reverse().map((f) => ({ ...f, ts: f.ts + shift, pid: f.pid + 1000, cpu: (f.cpu + 1) % 4 })) };
        const d1 = diffRuns([a], [b]);
        const d2 = diffRuns([a], [moved]);
        expect(keys(d2.findings.new)).toEqual(keys(d1.findings.new));
        expect(keys(d2.findings.fixed)).toEqual(keys(d1.findings.fixed));
        expect(d2.regression).toBe(d1.regression);
      }),
    );
  });

  it('every finding class lands in exactly one of new, fixed, unchanged', () => {
    fc.assert(
      fc.property(runArb('a'), runArb('b'), (a, b) => {
        const d = diffRuns([a], [b]);
        const all = [...d.findings.new, ...d.findings.fixed, ...d.findings.unchanged].map((e) => e.key);
        const expected = new Set([...a.findings, ...b.findings].map((f) => `${f.rule} ${f.file} ${f.index}`));
        expect(new Set(all).size).toBe(all.length);
        expect(new Set(all)).toEqual(expected);
      }),
    );
  });
});
