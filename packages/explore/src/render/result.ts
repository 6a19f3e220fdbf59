/**
 * One ExploreResult rendered for people and programs: the text report (verdict, stats,
 * each violation's message and interleaving table), the `--json` object, and the files of a
 * counterexample (ftrace text, Perfetto JSON). All are functions of the result and its Machine.
 */
import { formatShard, type Machine } from '@kreplay/core';
import { renderFtrace, type FtraceHeader } from './ftrace.js';
import { renderPerfetto } from './perfetto.js';
import { renderTable } from './table.js';
import { runSchedule, type ScheduledStep } from '../run-schedule.js';
import type { ExploreResult, ExploreStats, FoundViolation } from '../types.js';

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

export interface ExploreJsonOptions {
  /** Leave out `timeMs` and `statesPerSec` (`--no-timing`): the same input then gives byte-identical JSON. */
  noTiming?: boolean;
}

/** One line of figures; the exhaustive search runs no executions, so it counts end states instead. */
export function formatStats(s: ExploreStats, strategy: ExploreResult['strategy'] = 'dpor', o: ExploreJsonOptions = {}): string {
  const rate = s.statesPerSec >= 10_000 ? `${(s.statesPerSec / 1000).toFixed(0)}k` : String(s.statesPerSec);
  const counts = `${strategy === 'exhaustive' ? 'end states' : 'executions'} ${s.executions} · states ${s.states} (${s.distinctStates} distinct) · max depth ${s.maxDepth}`;
  return o.noTiming ? counts : `${counts} · ${s.timeMs} ms · ${rate} states/s`;
}

function verdictLine(r: ExploreResult, h: FtraceHeader): string {
  const what = `${h.scenario} on ${h.flavor}`;
  if (r.strategy === 'schedule') {
    // One recorded schedule: what it reaches, never a claim about the other interleavings — nor
    // about the rule it was recorded for when it reaches another one instead.
    const rule = r.replayed?.rule;
    const missed = rule !== undefined && !r.violations.some((v) => v.rule === rule);
    return r.verdict === 'violation'
      ? `violation: ${what}: ${r.violations.map((v) => v.rule).join(', ')} (reached by the recorded schedule${missed ? `; NOT ${rule}, which it was recorded for` : ''})`
      : `incomplete: ${what}: the recorded schedule reaches no violation${missed ? `, NOT ${rule}, which it was recorded for` : ''} (one schedule, not every interleaving)`;
  }
  if (r.verdict === 'clean') return `clean: ${what}: every interleaving explored (${r.strategy}), no violation`;
  if (r.verdict === 'violation') {
    return `violation: ${what}: ${r.violations.map((v) => v.rule).join(', ')}${r.exhaustive ? '' : ` (search incomplete: ${r.incomplete.join(', ')})`}`;
  }
  return `incomplete: ${what}: no violation found, but not every interleaving was explored (${r.incomplete.join(', ')})`;
}

export function formatExploreText<S>(machine: Machine<S>, r: ExploreResult, h: FtraceHeader, o: ExploreJsonOptions = {}): string {
  const lines = [verdictLine(r, h), ...(machine.notSearched ?? []).map((x) => `not in the model: ${x}`), formatStats(r.stats, r.strategy, o)];
  if (r.part)
    lines.push(
      `shard ${formatShard(r.shard!)} of the exhaustive search: merge every shard's --json output with kreplay merge for the verdict of the whole search`,
    );
  if (r.seed !== undefined) {
    lines.push(`random: seed ${r.seed}, ${r.runs} runs${r.shard ? `, shard ${formatShard(r.shard)}` : ''} (same seed, same runs)`);
  }
  if (r.replayed) lines.push(`recorded schedule: ${scheduleText(r.replayed.schedule, r.replayed.cycle)}`);
  for (const v of r.violations) {
    const ce = counterexample(machine, v, h);
    lines.push(
      '',
      `${v.rule}: ${v.message}`,
      `schedule (${v.schedule.length} steps${v.cycle ? `, then a ${v.cycle.length}-step cycle` : ''}): ${scheduleText(v.schedule, v.cycle)}`,
      '',
      ce.table,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `0,1,1` or, with a livelock's cycle, `0,1 ↻ 0,0`. */
function scheduleText(schedule: readonly number[], cycle: readonly number[] | undefined): string {
  return `${schedule.join(',')}${cycle ? ` ↻ ${cycle.join(',')}` : ''}`;
}

/** The stats without the figures that depend on the clock. */
export function timingFree(s: ExploreStats): Omit<ExploreStats, 'timeMs' | 'statesPerSec'> {
  const { timeMs: _t, statesPerSec: _r, ...rest } = s;
  return rest;
}

/** One violation as `--json` shows it: the violation and the steps of its schedule. */
export function violationJson<S>(machine: Machine<S>, v: FoundViolation): Record<string, unknown> {
  return {
    ...v,
    steps: runSchedule(machine, v).map((s) => ({ n: s.n, thread: s.thread, label: s.label, effect: s.effect, ...(s.inCycle ? { cycle: true } : {}) })),
  };
}

/** The `--json` object: `{verdict, violations:[{rule, message, schedule, ...}], stats}` plus context. */
export function exploreJson<S>(machine: Machine<S>, r: ExploreResult, h: FtraceHeader, o: ExploreJsonOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    verdict: r.verdict,
    scenario: h.scenario,
    flavor: h.flavor,
    strategy: r.strategy,
    exhaustive: r.exhaustive,
    incomplete: r.incomplete,
    threads: machine.threads.map((t) => ({ id: t.id, name: t.name, program: t.program, ...(t.daemon === true ? { daemon: true } : {}) })),
    ...(machine.notSearched?.length ? { notSearched: machine.notSearched } : {}),
    violations: r.violations.map((v) => violationJson(machine, v)),
    stats: o.noTiming ? timingFree(r.stats) : r.stats,
  };
  if (r.seed !== undefined) {
    out['seed'] = r.seed;
    out['runs'] = r.runs;
    if (r.shard) out['shard'] = r.shard;
  }
  if (r.part) {
    out['shard'] = r.shard;
    out['part'] = r.part;
  }
  if (r.replayed) out['replayed'] = r.replayed;
  return out;
}
