/**
 * The result object rendered for people and programs: the text report (verdict, stats,
 * each violation's message and interleaving table), the `--json` object, and the files of a
 * counterexample (ftrace text, Perfetto JSON). All are functions of one ExploreResult.
 */
import type { Machine } from '@kreplay/core';
import { renderFtrace, type FtraceHeader } from './render/ftrace.js';
import { renderPerfetto } from './render/perfetto.js';
import { renderTable } from './render/table.js';
import { runSchedule, type ScheduledStep } from './run-schedule.js';
import type { ExploreResult, ExploreStats, FoundViolation } from './types.js';

export interface Counterexample {
  violation: FoundViolation;
  steps: ScheduledStep[];
  table: string;
  ftrace: string;
  perfetto: string;
}

export function counterexample<S>(machine: Machine<S>, v: FoundViolation, h: FtraceHeader): Counterexample {
  const steps = runSchedule(machine, v);
  const run = runSchedule(machine, v, { finish: true });
  return {
    violation: v,
    steps,
    table: renderTable(machine, v, steps),
    ftrace: renderFtrace(machine, v, run, h),
    perfetto: renderPerfetto(machine, v, run, h),
  };
}

/** One line of figures; the exhaustive search runs no executions, so it counts end states instead. */
export function formatStats(s: ExploreStats, strategy: ExploreResult['strategy'] = 'dpor'): string {
  const rate = s.statesPerSec >= 10_000 ? `${(s.statesPerSec / 1000).toFixed(0)}k` : String(s.statesPerSec);
  return `${strategy === 'exhaustive' ? 'end states' : 'executions'} ${s.executions} · states ${s.states} (${s.distinctStates} distinct) · max depth ${s.maxDepth} · ${s.timeMs} ms · ${rate} states/s`;
}

function verdictLine(r: ExploreResult, h: FtraceHeader): string {
  const what = `${h.scenario} on ${h.flavor}`;
  if (r.verdict === 'clean') return `clean: ${what}: every interleaving explored (${r.strategy}), no violation`;
  if (r.verdict === 'violation') {
    return `violation: ${what}: ${r.violations.map((v) => v.rule).join(', ')}${r.exhaustive ? '' : ` (search incomplete: ${r.incomplete.join(', ')})`}`;
  }
  return `incomplete: ${what}: no violation found, but not every interleaving was explored (${r.incomplete.join(', ')})`;
}

export function formatExploreText<S>(machine: Machine<S>, r: ExploreResult, h: FtraceHeader): string {
  const lines = [verdictLine(r, h), formatStats(r.stats, r.strategy)];
  if (r.seed !== undefined) {
    lines.push(`random: seed ${r.seed}, ${r.runs} runs${r.shard ? `, shard ${r.shard.index}/${r.shard.count}` : ''} (same seed, same runs)`);
  }
  for (const v of r.violations) {
    const ce = counterexample(machine, v, h);
    lines.push('', `${v.rule}: ${v.message}`, `schedule (${v.schedule.length} steps${v.cycle ? `, then a ${v.cycle.length}-step cycle` : ''}): ${v.schedule.join(',')}${v.cycle ? ` ↻ ${v.cycle.join(',')}` : ''}`, '', ce.table);
  }
  return `${lines.join('\n')}\n`;
}

/** The `--json` object: `{verdict, violations:[{rule, message, schedule, ...}], stats}` plus context. */
export function exploreJson<S>(machine: Machine<S>, r: ExploreResult, h: FtraceHeader): Record<string, unknown> {
  const out: Record<string, unknown> = {
    verdict: r.verdict,
    scenario: h.scenario,
    flavor: h.flavor,
    strategy: r.strategy,
    exhaustive: r.exhaustive,
    incomplete: r.incomplete,
    threads: machine.threads.map((t) => ({ id: t.id, name: t.name, program: t.program })),
    violations: r.violations.map((v) => ({
      ...v,
      steps: runSchedule(machine, v).map((s) => ({ n: s.n, thread: s.thread, label: s.label, effect: s.effect, ...(s.inCycle ? { cycle: true } : {}) })),
    })),
    stats: r.stats,
  };
  if (r.seed !== undefined) {
    out['seed'] = r.seed;
    out['runs'] = r.runs;
    if (r.shard) out['shard'] = r.shard;
  }
  return out;
}
