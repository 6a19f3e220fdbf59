/**
 * Round trip between the explorer and replay, in-process (fast): for every shipped scenario
 * on every built-in flavor,
 *   - each violation the explorer finds, rendered as its ftrace trace (what
 *     `kreplay explore --trace-out` writes), replays to a finding with the same rule;
 *   - seeded random runs of a scenario the explorer proves clean replay clean.
 * Rules only the explorer can judge (livelock, deadlock, bug-on: about schedules, not about
 * what a trace shows) are not expected from replay.
 *
 * The model judges PTEs where a trace shows them (mapped-page-removed on the mapcount, as
 * the kernel's WARN_ON does; orphan-page-mapped at page_add_file_rmap), so every
 * counterexample must replay as its own rule, certain (a counterexample has no lost events).
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { builtinFlavors, createMachine, loadScenario, type MmMachine } from '@kreplay/mm-model';
import { type RuleId } from '@kreplay/core';
import { explore, renderFtrace, runSchedule, SplitMix32, type FoundViolation, type ScheduledStep } from '@kreplay/explore';
import { replay } from '@kreplay/replay';
import { repoRoot } from './run-cli.js';

const REPLAYABLE: readonly RuleId[] = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate'];
const dir = path.join(repoRoot, 'fixtures/scenarios');
const files = readdirSync(dir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();
const RANDOM_RUNS = 6;
/** Counterexamples and clean runs replayed, so the walk cannot pass by finding nothing. */
const seen = { violations: 0, cleanRuns: 0 };

async function replayed(m: MmMachine, v: FoundViolation, steps: ScheduledStep[], header: { scenario: string; flavor: string }) {
  const text = renderFtrace(m, v, steps, header);
  const r = await replay(parseTraceString(text, { source: 'cex.txt' }), { source: 'cex.txt' });
  return { text, rules: r.findings.map((f) => f.rule), certain: r.findings.every((f) => f.certainty === 'certain') };
}

/** A seeded random walk to the end (every thread finished, or nobody can move). */
function randomSchedule(m: MmMachine, seed: number): number[] {
  const rng = new SplitMix32(seed);
  let s = m.initial();
  const schedule: number[] = [];
  for (let depth = 0; depth < 10000; depth++) {
    const enabled = m.threads.map((t) => t.id).filter((t) => m.next(s, t)?.enabled);
    if (enabled.length === 0) break;
    const t = enabled[rng.below(enabled.length)]!;
    s = m.step(s, t).state;
    schedule.push(t);
  }
  return schedule;
}

const cases = files.flatMap((file) => builtinFlavors().map((flavor) => [`${file} on ${flavor.name}`, file, flavor] as const));

describe('explore → trace → replay round trip', () => {
  it.each(cases)('%s', async (_name, file, flavor) => {
    const scenario = await loadScenario(path.join(dir, file));
    let m: MmMachine;
    try {
      m = createMachine(scenario, flavor);
    } catch (e) {
      // a scenario written for one kernel's program (6.1's fault_around) has no run on the others
      expect((e as Error).message).toMatch(/has no program/);
      return;
    }
    const result = await explore(m, { maxExecutions: 2000, timeoutMs: 4000 }); // large scenarios: the shortest violations found within the budget
    const header = { scenario: scenario.name, flavor: flavor.name };
    for (const v of result.violations.filter((x) => REPLAYABLE.includes(x.rule))) {
      // what `kreplay explore --trace-out` writes: the counterexample, then the run finished
      const r = await replayed(m, v, runSchedule(m, v, { finish: true }), header);
      expect({ rule: v.rule, replayed: r.rules, trace: r.text }).toMatchObject({ replayed: expect.arrayContaining([v.rule]) });
      expect(r.certain).toBe(true);
      seen.violations++;
    }
    if (result.verdict === 'clean') {
      for (let seed = 1; seed <= RANDOM_RUNS; seed++) {
        const schedule = randomSchedule(m, seed);
        // a clean run has no rule; the header's rule= names none
        const run = { schedule, rule: 'none' as RuleId, message: '', at: 'final' } as FoundViolation;
        const r = await replayed(m, run, runSchedule(m, run), header);
        expect({ seed, findings: r.rules, trace: r.text }).toMatchObject({ findings: [] });
        seen.cleanRuns++;
      }
    }
  });

  it('walked real races and real clean runs', () => {
    expect(seen.violations).toBeGreaterThanOrEqual(10);
    expect(seen.cleanRuns).toBeGreaterThanOrEqual(10);
  });
});
