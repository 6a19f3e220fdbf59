/**
 * When the exhaustive search hands itself to the workers (explore.ts `exploreOnCores`): a
 * decision taken at each level boundary from the widths of the breadth-first levels seen so far.
 *
 * The handover costs time — a part that grows with the states known at that point (each one's
 * owner found, the other workers' share sent as words and taken in) and a part that does not
 * (the threads' first level on cold code, the graph assembled again at the end) — and then saves
 * a share of each remaining state's time. It pays only when enough states remain. The search
 * cannot know how many remain, but the levels of an interleaving search widen and then narrow
 * again, and what is left after the widest level is about what led up to it. So: while the levels
 * still widen, at least as many states remain as are known; once they narrow, about as many as
 * the search knew when it was last as wide (the levels mirrored). The search hands over once that
 * estimate's saving covers the cost. Every decision depends on the graph alone, never on the
 * clock: the same search hands over at the same level on every run, and the result is the same
 * wherever it does (docs/explore.md, "On every core").
 */

/** What a handover costs and saves, in one thread's time per state (all three measured on 2 cores: docs/explore.md, "2026-12-07 (session 39)"). */
export interface HandoverCost {
  /** The cost that does not grow with the search, in states one thread expands in that time. */
  fixed: number;
  /** The cost per state known at the handover, as a share of one thread's time per state. */
  perKnown: number;
  /** The share of one thread's time per state the workers save on each state after it. */
  saved: number;
}

/** The threads' first level on cold code and the graph assembled again: ~0.6 s against ~4.6 µs a state. */
const FIXED_STATES = 130_000;

/** Per state known: its owner, and the other workers' share sent as words and taken in: ~1.7 µs against ~4.6 µs. */
const PER_KNOWN = 0.37;

/**
 * A worker's time per state, relative to one thread's: it also takes in its peers' successors,
 * and each isolate has its own collector. 1.74 on two workers (they save 13 % of each state).
 */
const WORKER_STATE_COST = 1.74;

/**
 * The cost model for `workers` workers. Only two could be measured here; for more, each worker
 * is taken to be as slow per state as one of two, which no machine here could check. On two,
 * what is saved per remaining state (0.13) is less than what the handover costs per known state
 * (0.37), so no estimate the rule makes pays (below): the search stays on one thread.
 */
export function handoverCost(workers: number): HandoverCost {
  return { fixed: FIXED_STATES, perKnown: PER_KNOWN, saved: Math.max(0, 1 - WORKER_STATE_COST / workers) };
}

/** A handover that costs nothing: at the first boundary the rule is asked at (tests, benches: `handoverStates`). */
export const FREE_HANDOVER: HandoverCost = { fixed: 0, perKnown: 0, saved: 1 };

/** The decision, asked once per level boundary in breadth-first order. */
export class HandoverRule {
  /** Per level seen: the states known before it and its width. */
  private readonly before: number[] = [];
  private readonly widths: number[] = [];
  private widest = 0;
  private known = 0;

  /** States estimated to remain at the last boundary asked about (this level's included). */
  estimate = 0;

  /**
   * @param fromStates no handover before the search knows this many states (explore.ts SINGLE_CORE_STATES)
   * @param cost what the handover costs and saves (`handoverCost`)
   */
  constructor(
    private readonly fromStates: number,
    private readonly cost: HandoverCost,
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
    this.known = known;
    this.estimate = this.remaining(width, widening, known);
    return known >= this.fromStates && this.pays(this.estimate, known);
  }

  /** Whether the handover would pay once the search knows `lead` states more and still widens: time to start the threads, which take a while to load the model. */
  near(lead: number): boolean {
    return this.pays(this.estimate + lead, this.known + lead);
  }

  private pays(remaining: number, known: number): boolean {
    const { fixed, perKnown, saved } = this.cost;
    return remaining * saved >= fixed + perKnown * known;
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
