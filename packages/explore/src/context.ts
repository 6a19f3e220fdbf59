/**
 * What every strategy shares: counters, the wall-clock/abort budget, progress reports, and
 * the book of violations that keeps, per rule, the shortest schedule found.
 */
import type { ModelViolation } from '@kreplay/core';
import type { ExploreOptions, ExploreStats, FoundViolation, Incompleteness, Schedule, Sighting } from './types.js';

/** Shorter first; equal lengths ordered lexicographically by thread id (a deterministic tie-break). */
export function compareSchedules(a: Schedule, b: Schedule): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function sightingLength(s: Sighting): Schedule {
  return s.cycle ? [...s.schedule, ...s.cycle] : s.schedule;
}

export class ViolationBook {
  private readonly best = new Map<string, Sighting>();

  add(s: Sighting): void {
    const old = this.best.get(s.violation.rule);
    if (!old || compareSchedules(sightingLength(s), sightingLength(old)) < 0) this.best.set(s.violation.rule, s);
  }

  addAll(violations: readonly ModelViolation[], schedule: Schedule, at: Sighting['at']): void {
    for (const v of violations) this.add({ violation: v, schedule, at });
  }

  /** Every sighting kept (the shortest per rule). */
  sightings(): Sighting[] {
    return [...this.best.values()];
  }

  has(rule: string): boolean {
    return this.best.has(rule);
  }

  /**
   * True when a sighting of `length` steps (cycle included) cannot replace what is kept for any
   * of these violations' rules: each already has a strictly shorter one. Lets a search skip
   * building the schedule of a violation it sees again and again (a broken invariant stays
   * broken in every later state).
   */
  beaten(violations: readonly ModelViolation[], length: number): boolean {
    for (const v of violations) {
      const old = this.best.get(v.rule);
      if (!old || old.schedule.length + (old.cycle?.length ?? 0) >= length) return false;
    }
    return true;
  }

  get size(): number {
    return this.best.size;
  }

  /** Violations ordered by rule id, so output does not depend on discovery order. */
  list(): FoundViolation[] {
    return [...this.best.values()]
      .sort((a, b) => (a.violation.rule < b.violation.rule ? -1 : a.violation.rule > b.violation.rule ? 1 : 0))
      .map((s) => {
        const v = s.violation;
        const out: FoundViolation = { rule: v.rule, message: v.message, schedule: s.schedule, at: s.at };
        if (s.cycle) out.cycle = s.cycle;
        if (s.threads) out.threads = s.threads;
        if (v.file !== undefined) out.file = v.file;
        if (v.index !== undefined) out.index = v.index;
        if (v.pfn !== undefined) out.pfn = v.pfn;
        return out;
      });
  }
}

const CHECK_EVERY = 512;
const PROGRESS_EVERY_MS = 250;
const YIELD_EVERY_MS = 50;

/** Counters plus the budget: timeout, abort signal, execution cap, progress callback. */
export class RunContext {
  executions = 0;
  states = 0;
  maxDepth = 0;
  cycles = 0;
  sleepBlocked = 0;
  /** Distinct states so far: the strategy points this at its state graph's size. */
  distinct: () => number = () => 0;
  readonly book = new ViolationBook();
  readonly incomplete = new Set<Incompleteness>();
  /** Set when the run must stop now (timeout, abort, execution cap). */
  stopped: Incompleteness | null = null;

  /** Set every ~50 ms: the strategy should `await ctx.pause()` so an AbortSignal can fire. */
  yieldDue = false;

  private readonly start = performance.now();
  private lastProgress = this.start;
  private lastYield = this.start;
  private untilCheck = CHECK_EVERY;

  constructor(private readonly opts: ExploreOptions) {}

  /** Count a visited state; returns false when the run must stop. */
  visit(depth: number): boolean {
    this.states++;
    if (depth > this.maxDepth) this.maxDepth = depth;
    if (--this.untilCheck <= 0) {
      this.untilCheck = CHECK_EVERY;
      this.checkBudget();
    }
    return this.stopped === null;
  }

  /** Count a finished execution; returns false when the run must stop. */
  endExecution(): boolean {
    this.executions++;
    const max = this.opts.maxExecutions;
    if (max !== undefined && this.executions >= max && this.stopped === null) this.stop('max-executions');
    return this.stopped === null;
  }

  stop(why: Incompleteness): void {
    if (this.stopped === null) this.stopped = why;
    this.incomplete.add(why);
  }

  checkBudget(): void {
    const now = performance.now();
    if (now - this.lastYield >= YIELD_EVERY_MS) this.yieldDue = true;
    if (this.opts.signal?.aborted) this.stop('aborted');
    else if (this.opts.timeoutMs !== undefined && now - this.start >= this.opts.timeoutMs) this.stop('timeout');
    if (this.opts.progress && now - this.lastProgress >= PROGRESS_EVERY_MS) {
      this.lastProgress = now;
      this.opts.progress({
        executions: this.executions,
        states: this.states,
        distinctStates: this.distinct(),
        elapsedMs: Math.round(now - this.start),
      });
    }
  }

  /** Let the event loop run (timers, signals), then re-check the budget. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.yieldDue = false;
    this.lastYield = performance.now();
    this.checkBudget();
  }

  elapsedMs(): number {
    return performance.now() - this.start;
  }

  stats(executions = this.executions): ExploreStats {
    const timeMs = this.elapsedMs();
    return {
      executions,
      states: this.states,
      distinctStates: this.distinct(),
      timeMs: Math.round(timeMs * 10) / 10,
      statesPerSec: timeMs > 0 ? Math.round((this.states * 1000) / timeMs) : 0,
      maxDepth: this.maxDepth,
      cycles: this.cycles,
      sleepBlocked: this.sleepBlocked,
    };
  }
}
