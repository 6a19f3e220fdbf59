/**
 * When the exhaustive search hands itself to the workers (explore.ts `exploreOnCores`): a
 * decision taken at each level boundary from the widths of the breadth-first levels seen so far.
 *
 * The handover has a fixed cost (the threads take in their states, run their first level on cold
 * code, and the graph is assembled again at the end) and then saves a share of each state's
 * time; it pays only when enough states remain. The search cannot know how many remain, but the
 * levels of an interleaving search widen and then narrow again, and what is left after the
 * widest level is about what led up to it. So (a rent-or-buy rule): while the levels still
 * widen, at least as many states remain as are known, and the search hands over once that lower
 * bound reaches the break-even; once they narrow, it estimates what remains as what the search
 * knew when it was last as wide (the levels mirrored), and hands over only when that estimate
 * reaches it. Every decision depends on the graph alone, never on the clock: the same search
 * hands over at the same level on every run, and the result is the same wherever it does
 * (docs/explore.md, "On every core").
 */

/**
 * The handover's fixed cost, in states one thread expands in the same time: ~2.5 s of wall time
 * (the threads' start, their first level on cold code, the graph assembled again) against
 * ~4.6 µs a state, on 2 cores (docs/explore.md, "2026-12-07 (session 39)").
 */
export const HANDOVER_COST_STATES = 550_000;

/**
 * A worker's time per state, relative to one thread's (it also takes in its peers' successors,
 * and each isolate has its own collector): 1.5, so two workers cover a state in ¾ of one
 * thread's time (sessions 32 and 39, 2 cores).
 */
export const WORKER_STATE_COST = 1.5;

/**
 * The states that must remain after the handover for `workers` workers to finish sooner than
 * one thread: the fixed cost over the share of a state's time the workers save. 2.2 M on two
 * workers (measured between 1.8 M and 2.8 M); on more workers extrapolated from the two-worker
 * figures (each worker as slow per state as one of two), which no machine here could check.
 */
export function breakEvenStates(workers: number): number {
  const saved = 1 - WORKER_STATE_COST / workers;
  return saved <= 0 ? Infinity : Math.ceil(HANDOVER_COST_STATES / saved);
}

/** The decision, asked once per level boundary in breadth-first order. */
export class HandoverRule {
  /** Per level seen: the states known before it and its width. */
  private readonly before: number[] = [];
  private readonly widths: number[] = [];
  private widest = 0;

  /**
   * @param fromStates no handover before the search knows this many states (explore.ts SINGLE_CORE_STATES)
   * @param breakEven states that must remain for the handover to pay (`breakEvenStates`)
   */
  constructor(
    private readonly fromStates: number,
    private readonly breakEven: number,
  ) {}

  /**
   * At a level boundary: every state before `expanded` expanded, the next level's states up to
   * `known` found. True: hand over here.
   */
  due(expanded: number, known: number): boolean {
    const width = known - expanded;
    const widening = width > this.widest;
    this.before.push(expanded);
    this.widths.push(width);
    if (widening) this.widest = width;
    this.estimate = this.remaining(width, widening, known);
    return known >= this.fromStates && this.estimate >= this.breakEven;
  }

  /** States estimated to remain at the last boundary asked about (this level's included). */
  estimate = 0;

  /** Whether the estimate is within `lead` states of the break-even: time to start the threads, which take a while to load the model. */
  near(lead: number): boolean {
    return this.estimate + lead >= this.breakEven;
  }

  /** States estimated to remain, this level's included. */
  private remaining(width: number, widening: boolean, known: number): number {
    // still widening: the narrowing half is still ahead, at least as large as what came before
    if (widening) return known;
    // narrowing: what the search knew before it first reached this width, and this level
    for (let i = 0; i < this.widths.length; i++) if (this.widths[i] >= width) return this.before[i] + width;
    return known;
  }
}
