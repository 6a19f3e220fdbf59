/**
 * Round trip between the explorer and replay, in-process (fast): for every shipped scenario
 * on every built-in flavor,
 *   - each violation the explorer finds, rendered as its ftrace trace (what
 *     `kreplay explore --trace-out` writes), replays to a finding with the same rule;
 *   - seeded random runs of a scenario the explorer proves clean replay clean.
 * Rules only the explorer can judge (livelock, deadlock, bug-on: about schedules, not about
 * what a trace shows) are not expected from replay.
 *
 * Known gap, checked rather than skipped: docs/trace-format.md defines `pte_map` as "a PTE
 * now maps pfn (set_pte_at + page_add_file_rmap)", but the 2.6.15-family flavors emit it at
 * page_add_file_rmap, one step after set_pte_at, and their counterexamples stop at the
 * violating step, in between — so the trace never shows the PTE the violation is about. For
 * such a violation the test asserts exactly that (the model installed a PTE in a step that
 * emitted no pte_map for it), and that the same schedule, with the op emitted where the
 * PTE is installed, replays to the same rule. (Finishing the run, as --trace-out does, shows
 * the late rmap — after the page's removal — so the trace then reads as orphan-page-mapped.)
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseTraceString } from '@kreplay/ftrace-parser';
import {
  builtinFlavors, createMachine, loadScenario, NONE, vmaAddress, type MmMachine, type MmOp, type RuleId,
} from '@kreplay/mm-model';
import { explore, renderFtrace, runSchedule, SplitMix32, type FoundViolation, type ScheduledStep } from '@kreplay/explore';
import { replay } from '@kreplay/replay';
import { repoRoot } from './run-cli.js';

const REPLAYABLE: readonly RuleId[] = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate'];
const dir = path.join(repoRoot, 'fixtures/scenarios');
const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
const RANDOM_RUNS = 6;

async function replayed(m: MmMachine, v: FoundViolation, steps: ScheduledStep[], header: { scenario: string; flavor: string }) {
  const text = renderFtrace(m, v, steps, header);
  const r = await replay(parseTraceString(text, { source: 'cex.txt' }), { source: 'cex.txt' });
  return { text, rules: r.findings.map((f) => f.rule), certain: r.findings.every((f) => f.certainty === 'certain') };
}

/**
 * The schedule's steps with every PTE install carrying its pte_map op in the step that set
 * the PTE (moved from the later page_add_file_rmap step when the model emits it there).
 * Returns the steps and how many installs had no op of their own.
 */
function pteMapAtInstall(m: MmMachine, v: FoundViolation): { steps: ScheduledStep[]; silent: number } {
  const steps = runSchedule(m, v, { finish: true }).map((st) => ({ ...st, ops: [...st.ops] }));
  const moved = new Set<string>();
  /** pte_map ops already shown for a PTE not set yet (6.1: page_add_file_rmap runs before set_pte_at). */
  const ahead = new Set<string>();
  let silent = 0;
  let s = m.initial();
  for (const st of steps) {
    const next = m.step(s, st.thread).state;
    st.ops = st.ops.filter((o) => !(o.kind === 'pte_map' && moved.delete(`${o.pfn}@${o.address}`)));
    const installed = new Set<string>();
    for (const vma of m.env.vmas) {
      for (let i = 0; i < vma.pages; i++) {
        const pfn = next.ptes[vma.id]![i]!;
        if (s.ptes[vma.id]![i] !== NONE || pfn === NONE) continue;
        const address = BigInt(vmaAddress(vma, i));
        const key = `${pfn}@${address}`;
        installed.add(key);
        if (st.ops.some((o) => o.kind === 'pte_map' && o.pfn === BigInt(pfn)) || ahead.delete(key)) continue;
        const op: MmOp = { kind: 'pte_map', pfn: BigInt(pfn), file: m.env.files[vma.file]!.ref, index: vma.pgoff + i, address };
        st.ops.push(op);
        moved.add(key);
        silent++;
      }
    }
    for (const o of st.ops) if (o.kind === 'pte_map' && !installed.has(`${o.pfn}@${o.address}`)) ahead.add(`${o.pfn}@${o.address}`);
    s = next;
  }
  return { steps, silent };
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
      const direct = await replayed(m, v, runSchedule(m, v, { finish: true }), header);
      if (direct.rules.includes(v.rule)) {
        expect(direct.certain).toBe(true);
        continue;
      }
      const fixed = pteMapAtInstall(m, v);
      const again = await replayed(m, v, fixed.steps, header);
      expect({ rule: v.rule, silentPteInstalls: fixed.silent, replayedWithPteMapAtInstall: again.rules, trace: again.text })
        .toMatchObject({ silentPteInstalls: expect.any(Number), replayedWithPteMapAtInstall: expect.arrayContaining([v.rule]) });
      expect(fixed.silent).toBeGreaterThan(0);
    }
    if (result.verdict === 'clean') {
      for (let seed = 1; seed <= RANDOM_RUNS; seed++) {
        const schedule = randomSchedule(m, seed);
        // a clean run has no rule; the header's rule= names none
        const run = { schedule, rule: 'none' as RuleId, message: '', at: 'final' } as FoundViolation;
        for (const steps of [runSchedule(m, run), pteMapAtInstall(m, run).steps]) {
          const r = await replayed(m, run, steps, header);
          expect({ seed, findings: r.rules, trace: r.text }).toMatchObject({ findings: [] });
        }
      }
    }
  });
});
