/**
 * Stateless model checking with dynamic partial-order reduction and sleep sets: at least
 * one execution per Mazurkiewicz trace class (equivalence under commuting independent steps),
 * far fewer than all interleavings.
 *
 * - Dependency: `dependence.ts` (same loc, at least one write), from declared accesses only.
 * - Happens-before: vector clocks over the current execution.
 * - Races among executed steps: source-DPOR's reversal (Abdulla et al., POPL 2014) of every
 *   race, with the initials of the reversed order as the backtrack candidates.
 * - Races of blocked steps: for every blocked thread p at every state, the last step i of another
 *   thread that is dependent with p's next step and not happens-before p; a backtrack point is
 *   added at the state before i (p itself if enabled there, or a thread whose later step
 *   happens-before p, else every enabled thread — the conservative rule). This is what makes a
 *   blocked lock acquire race with the holder's acquire, so both lock orders are explored.
 * - Visited-state hashing (Machine.key) is used for cycles and statistics only, never to prune:
 *   pruning a visited state in stateless DPOR loses the backtrack points its subtree would have
 *   added (the known unsoundness of naive DPOR + caching). A step that returns to a state already
 *   on the current path closes a cycle: that execution stops there (its continuation is the one
 *   explored from the earlier occurrence) after its races are recorded, and the edge goes into the
 *   state graph where livelock is judged. The earlier state is then expanded fully, so a thread
 *   the loop kept from running still runs from there.
 * Checked against a naive enumeration of every interleaving by test/agreement.test.ts.
 */
import type { Machine, StepInfo } from '@kreplay/core';
import { dependent, LocTable, type Footprint } from './dependence.js';
import type { RunContext } from './context.js';
import { judgeEnd } from './ends.js';
import { DEFAULT_MAX_DEPTH, StateGraph } from './graph.js';
import type { SearchStrategy } from './strategy.js';
import type { ExploreOptions } from './types.js';

type DporOptions = Pick<ExploreOptions, 'maxDepth' | 'preemptionBound' | 'onEnd'>;

export class DporSearch implements SearchStrategy {
  readonly name = 'dpor' as const;
  readonly exhaustive = true;
  readonly coverage = 'reduced' as const;

  constructor(private readonly opts: DporOptions = {}) {}

  search<S>(machine: Machine<S>, ctx: RunContext): Promise<StateGraph> {
    return new DporRun(machine, this.opts, ctx).run();
  }
}

/** A state on the current execution's path (the DFS stack), with its thread sets as bitmasks. */
interface Frame<S> {
  state: S;
  key: string;
  /** True when this frame entered `key` into the on-path map (false for a frame closing a cycle). */
  ownsKey: boolean;
  node: number;
  next: (StepInfo | null)[];
  fp: (Footprint | null)[];
  enabled: number;
  finished: number;
  backtrack: number;
  done: number;
  sleep: number;
  /** Thread clocks after the steps before this frame (index+1 of the latest step of each thread known). */
  clocks: Int32Array[];
  preemptions: number;
  /** Thread of the step that led here (-1 at the root). */
  last: number;
  /** Thread stepped from this frame (-1 until one is). */
  chosen: number;
}

const bit = (t: number): number => 1 << t;

/** One DPOR search: the DFS stack of frames, and step i of the current execution as (thread, footprint, vector clock). */
class DporRun<S> {
  private readonly graph: StateGraph;
  private readonly T: number;
  private readonly locs = new LocTable();
  private readonly maxDepth: number;
  private readonly bound: number | undefined;
  private readonly frames: Frame<S>[] = [];
  private readonly evThread: number[] = [];
  private readonly evFp: Footprint[] = [];
  private readonly evClock: Int32Array[] = [];
  /** Key → index of the frame that holds it, for the states on the current path. */
  private readonly onPath = new Map<string, number>();
  private readonly schedule: number[] = [];

  constructor(
    private readonly machine: Machine<S>,
    private readonly opts: DporOptions,
    private readonly ctx: RunContext,
  ) {
    this.graph = StateGraph.forMachine(machine as Machine<unknown>);
    this.T = this.graph.threadCount;
    ctx.distinct = () => this.graph.size;
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.bound = opts.preemptionBound;
  }

  async run(): Promise<StateGraph> {
    const { machine, ctx, frames } = this;
    const s0 = machine.initial();
    const k0 = machine.key(s0);
    const root = this.frame(
      s0,
      k0,
      Array.from({ length: this.T }, () => new Int32Array(this.T)),
      0,
      -1,
    );
    root.node = this.graph.node(k0, root.finished, -1, -1).id;
    ctx.visit(0);
    this.push(root, false);
    this.settle(0, false);

    while (frames.length > 0 && ctx.stopped === null) {
      if (ctx.yieldDue) {
        await ctx.pause();
        continue;
      }
      const n = frames.length - 1;
      const top = frames[n]!;
      const todo = top.backtrack & ~top.done & ~top.sleep;
      if (todo === 0) {
        this.pop();
        continue;
      }
      // Lowest thread id first, but the continuing thread before any other.
      const p = top.last >= 0 && todo & bit(top.last) ? top.last : 31 - Math.clz32(todo & -todo);
      top.done |= bit(p);
      const preempt = top.last >= 0 && p !== top.last && (top.enabled & bit(top.last)) !== 0 ? 1 : 0;
      if (this.bound !== undefined && top.preemptions + preempt > this.bound) {
        ctx.incomplete.add('preemption-bound');
        continue;
      }
      const isCycle = this.step(n, p, preempt);
      this.blockedRaces(n + 1);
      this.settle(n + 1, isCycle);
    }
    return this.graph;
  }

  /** A frame for `state`: every thread's next step, its footprint, and who is enabled or finished. */
  private frame(state: S, key: string, clocks: Int32Array[], preemptions: number, last: number): Frame<S> {
    const next: (StepInfo | null)[] = [];
    const fp: (Footprint | null)[] = [];
    let enabled = 0;
    let finished = 0;
    for (let t = 0; t < this.T; t++) {
      const n = this.machine.next(state, t);
      next.push(n);
      fp.push(n ? this.locs.footprint(n) : null);
      if (!n) finished |= bit(t);
      else if (n.enabled) enabled |= bit(t);
    }
    return { state, key, ownsKey: false, node: 0, next, fp, enabled, finished, backtrack: 0, done: 0, sleep: 0, clocks, preemptions, last, chosen: -1 };
  }

  /** Put `f` on the path; it owns its key unless it closes a cycle (its key is already on the path). */
  private push(f: Frame<S>, isCycle: boolean): void {
    this.frames.push(f);
    if (!isCycle) {
      this.onPath.set(f.key, this.frames.length - 1);
      f.ownsKey = true;
    }
  }

  /** Backtrack out of the top frame: every thread it had to try has been tried. */
  private pop(): void {
    const top = this.frames.pop()!;
    const n = this.frames.length;
    if (top.ownsKey) this.onPath.delete(top.key);
    if (n > 0) {
      this.schedule.pop();
      this.evThread.length = this.evFp.length = this.evClock.length = n - 1;
    }
  }

  /**
   * Run thread p's step from frame n: record the step (its vector clock, the races it reverses)
   * and push the frame it leads to, with its sleep set. Returns true when that state is already
   * on the path (the step closed a cycle).
   */
  private step(n: number, p: number, preempt: number): boolean {
    const { machine, ctx } = this;
    const top = this.frames[n]!;
    top.chosen = p;
    const r = machine.step(top.state, p);
    const key = machine.key(r.state);
    this.schedule.push(p);
    ctx.visit(n + 1);
    if (r.violations.length > 0) ctx.book.addAll(r.violations, [...this.schedule], 'step');

    const fpP = top.fp[p]!;
    const vc = this.vectorClock(n, p, fpP, top.clocks[p]!);
    this.executedRaces(n, p, fpP, top.clocks[p]!, vc);
    this.evThread.push(p);
    this.evFp.push(fpP);
    this.evClock.push(vc);
    const clocks = top.clocks.slice();
    clocks[p] = vc;

    const child = this.frame(r.state, key, clocks, top.preemptions + preempt, p);
    child.node = this.graph.node(key, child.finished, top.node, p).id;
    // Sleep set: what slept here or was already explored here, if independent of p's step.
    const carry = (top.sleep | (top.done & ~bit(p))) & ~bit(p);
    for (let q = 0; q < this.T; q++) {
      if (carry & bit(q) && child.next[q] && !dependent(top.fp[q]!, fpP)) child.sleep |= bit(q);
    }
    const isCycle = this.onPath.has(key);
    this.push(child, isCycle);
    return isCycle;
  }

  /** The vector clock of step n (thread p): program order plus every earlier dependent step. */
  private vectorClock(n: number, p: number, fpP: Footprint, before: Int32Array): Int32Array {
    const vc = Int32Array.from(before);
    for (let i = 0; i < n; i++) {
      if (this.evThread[i] !== p && dependent(this.evFp[i]!, fpP)) {
        const c = this.evClock[i]!;
        for (let q = 0; q < this.T; q++) if (c[q]! > vc[q]!) vc[q] = c[q]!;
      }
    }
    vc[p] = n + 1;
    return vc;
  }

  /** Decide what happens at frame n: an end, a cycle, or the first thread to run. */
  private settle(n: number, isCycle: boolean): void {
    const { ctx } = this;
    const top = this.frames[n]!;
    if (isCycle) {
      // The state repeats an earlier one on this path (a spin or retry loop). Its future is the
      // earlier state's future, so this execution stops; but a thread that never got to run
      // because the loop came first must still run from there: the earlier state is expanded
      // fully (every awake enabled thread), which makes it trivially persistent.
      const first = this.frames[this.onPath.get(top.key)!]!;
      first.backtrack |= first.enabled & ~first.sleep;
      ctx.cycles++;
      ctx.endExecution();
      return;
    }
    if (judgeEnd(this.machine, ctx, top.state, top.next, top.finished, top.enabled, () => [...this.schedule], this.opts.onEnd)) {
      ctx.endExecution();
      return;
    }
    if (n >= this.maxDepth) {
      ctx.incomplete.add('max-depth');
      ctx.endExecution();
      return;
    }
    const awake = top.enabled & ~top.sleep;
    if (awake === 0) {
      ctx.sleepBlocked++;
      ctx.endExecution();
      return;
    }
    // Keep running the thread that just ran when it can (no preemption), else the lowest id.
    top.backtrack |= top.last >= 0 && awake & bit(top.last) ? bit(top.last) : awake & -awake;
  }

  // ---------------------------------------------------------------- races → backtrack points

  /**
   * Flanagan–Godefroid's race check for the next step of every *blocked* thread at frame n:
   * a blocked lock acquire never executes until the holder releases, so the executed-race
   * reversal below cannot see it race with the holder's acquire; this check does.
   * Enabled next steps need no check here: their races are reversed when they execute.
   */
  private blockedRaces(n: number): void {
    const { frames, evThread, evFp, T } = this;
    const top = frames[n]!;
    for (let p = 0; p < T; p++) {
      const fpP = top.fp[p];
      if (!fpP || top.enabled & bit(p)) continue;
      const C = top.clocks[p]!;
      let i = n - 1;
      for (; i >= 0; i--) {
        const q = evThread[i]!;
        if (q === p || C[q]! >= i + 1) continue;
        if (dependent(evFp[i]!, fpP)) break;
      }
      if (i < 0) continue;
      const pre = frames[i]!;
      // FG's E: p itself, or a thread whose later step happens-before p's next one.
      let cands = pre.enabled & bit(p);
      for (let q = 0; q < T; q++) if (pre.enabled & bit(q) && C[q]! >= i + 2) cands |= bit(q);
      if (cands === 0) {
        this.addBacktrack(i, pre.enabled & ~pre.sleep);
      } else if ((pre.backtrack & cands) === 0) {
        const awake = cands & ~pre.sleep;
        if (awake !== 0) this.addBacktrack(i, awake & -awake);
      }
    }
  }

  /**
   * Source-DPOR's race reversal (Abdulla et al., POPL 2014) for a step just taken (index n, thread
   * p): for every earlier step i it races with directly (dependent, and not ordered through some
   * other step), the threads that can start the reversed order from the state before i — the
   * initials of notdep(i).n — get a backtrack point there unless one already has. Considering
   * every race, not only the last, is what keeps this complete together with sleep sets.
   */
  private executedRaces(n: number, p: number, fpP: Footprint, before: Int32Array, vc: Int32Array): void {
    const { evThread, evFp, evClock, T } = this;
    const J = Int32Array.from(before);
    for (let i = n - 1; i >= 0; i--) {
      const q = evThread[i]!;
      if (q === p || !dependent(evFp[i]!, fpP)) continue;
      if (J[q]! < i + 1) this.addInitials(i, n, vc);
      const c = evClock[i]!;
      for (let u = 0; u < T; u++) if (c[u]! > J[u]!) J[u] = c[u]!;
    }
  }

  /** Backtrack at the state before step i for an initial of notdep(i).n (the steps after i not ordered after it, then n). */
  private addInitials(i: number, n: number, vcN: Int32Array): void {
    const { evThread, evClock, frames } = this;
    const qi = evThread[i]!;
    const v: number[] = [];
    for (let j = i + 1; j < n; j++) if (evClock[j]![qi]! < i + 1) v.push(j);
    v.push(n);
    let seen = 0;
    let initials = 0;
    for (let a = 0; a < v.length; a++) {
      const j = v[a]!;
      const t = j === n ? frames[n]!.chosen : evThread[j]!;
      if (seen & bit(t)) continue;
      seen |= bit(t);
      const c = j === n ? vcN : evClock[j]!;
      let hasPred = false;
      for (let b = 0; b < a && !hasPred; b++) {
        const k = v[b]!;
        if (c[evThread[k]!]! >= k + 1) hasPred = true;
      }
      if (!hasPred) initials |= bit(t);
    }
    const pre = frames[i]!;
    if (pre.backtrack & initials) return;
    if ((initials & pre.enabled) === 0) {
      // Every thread that could start the reversed order is blocked there (a held lock): some
      // other thread must run first to unblock it, and which one is not known — expand fully.
      this.addBacktrack(i, pre.enabled & ~pre.sleep);
      return;
    }
    const cands = initials & pre.enabled & ~pre.sleep;
    if (cands !== 0) this.addBacktrack(i, cands & -cands);
  }

  /**
   * Add threads to the backtrack set of frame i. Under a preemption bound, switching there may
   * cost a preemption the bound forbids; as in bounded partial-order reduction (Coons, Musuvathi
   * and McKinley, OOPSLA 2013) each thread is then also added at the latest earlier frame where
   * switching to it is free (the thread before it had finished or blocked, or the root).
   */
  private addBacktrack(i: number, threads: number): void {
    const { frames } = this;
    frames[i]!.backtrack |= threads;
    if (this.bound === undefined) return;
    for (let q = 0; q < this.T; q++) {
      if (!(threads & bit(q))) continue;
      for (let j = i; j >= 0; j--) {
        const f = frames[j]!;
        if (f.last < 0 || !(f.enabled & bit(f.last)) || f.last === q) {
          if (j < i && f.enabled & bit(q) & ~f.sleep) f.backtrack |= bit(q);
          break;
        }
      }
    }
  }
}
