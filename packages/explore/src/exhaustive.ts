/**
 * Exhaustive exploration of the full state graph, breadth-first, with visited-state hashing
 * (Machine.key) to prune. Sound with caching by construction: a state's future does not
 * depend on how it was reached, and every enabled step of every distinct state is taken.
 * Breadth-first order makes every schedule it reports a shortest one, and among the shortest
 * the least in thread-id order: nodes are numbered in discovery order, which is the order of
 * their (length, thread ids) first paths, because every level is expanded in node order and
 * each state's threads in id order. The reference the DPOR strategy is tested against, and the
 * graph livelock is judged on without any confirmation.
 *
 * The inner loop allocates nothing per state but what the model returns: node ids are the
 * queue (a node is expanded when the loop reaches its id), pending states sit in one array
 * slot until expanded, and the graph is flat typed arrays (graph.ts).
 *
 * Sharded (`shard: i/n`, shard.ts): the search splits the schedule tree at the first level
 * that holds at least SPLIT_PER_SHARD × n states; shard i expands every level above it (the
 * same in every shard) and then only the subtrees of the split-level states k with
 * k mod n = i - 1. Each state past the split is reported with a fingerprint so that
 * `mergeShards` can count the union exactly as one unsharded run counts it.
 */
import type { Machine, Shard, StepOutcome } from '@kreplay/core';
import { inShard } from '@kreplay/core';
import type { RunContext } from './context.js';
import { judgeEnd, readyMasks, survey } from './ends.js';
import { DEFAULT_MAX_DEPTH, StateGraph } from './graph.js';
import { ShardRecorder, splitWidth, type ShardPart } from './shard.js';
import { MEMO_MAX_WORDS } from './step-memo.js';
import { NOT_KNOWN, StepMemoRows } from './step-memo-rows.js';

/** What a step memo counted: steps taken, steps reused, whether its memory ran out. */
export type MemoCounts = NonNullable<ExploreResult['memo']>;
import type { SearchStrategy } from './strategy.js';
import type { ExploreOptions, ExploreResult } from './types.js';

/**
 * How a search finds a state's node: by the machine's words (`encode`) when it has them, else
 * by its key string. `StateGraph.reach`'s result: a new id, or `~id` of a known node.
 */
export function reacher<S>(machine: Machine<S>, graph: StateGraph): (s: S, from: number, thread: number) => number {
  const encode = machine.encode?.bind(machine);
  if (!encode) return (s, from, thread) => graph.reach(machine.key(s), from, thread);
  let words = new Int32Array(1024);
  return (s, from, thread) => {
    let n = encode(s, words);
    if (n > words.length) {
      words = new Int32Array(Math.max(n, words.length * 2));
      n = encode(s, words);
    }
    return graph.reachWords(words, n, from, thread);
  };
}

/** How a search that keeps only states steps: the machine's `advance` (no ops, no effect text) when it has one. */
export function advancer<S>(machine: Machine<S>): (s: S, t: number) => StepOutcome<S> {
  return machine.advance ? machine.advance.bind(machine) : machine.step.bind(machine);
}

/**
 * Largest state graph the search keeps unless told otherwise: enough for every shipped
 * scenario on every flavor to reach a verdict (linux-6.12's odirect-vs-fault-multipage is
 * 3.1 M distinct states since session 26, 5.8 M before; ~1.5 GB peak RSS on two workers then), small enough that a search past it
 * stops in minutes with `incomplete (max-states)` rather than running the machine out of memory.
 */
export const DEFAULT_MAX_STATES = 8_000_000;

type ExhaustiveOptions = Pick<ExploreOptions, 'maxDepth' | 'maxStates' | 'onEnd' | 'shard' | 'model' | 'memoSteps'> & {
  /** Words step memoization records at most (step-memo.ts MEMO_MAX_WORDS; tests make it small). */
  memoMaxWords?: number;
  /**
   * Asked at each level boundary (every node before `expanded` expanded, the next level's
   * nodes up to `known` discovered, none expanded): true stops the search there, for the
   * workers to take over (explore.ts `exploreOnCores`); `handedOver` then says where.
   */
  handover?: (expanded: number, known: number) => boolean;
};

export class ExhaustiveSearch implements SearchStrategy {
  readonly name = 'exhaustive' as const;
  readonly exhaustive: boolean;
  readonly coverage: 'full' | 'merged';
  private part: ShardPart | undefined;
  wholeGraph = false;
  /** The first node of the level the search stopped at for `handover` (every node before it expanded). */
  handedOver: number | undefined;
  /** The step memo (step-memo-rows.ts), until `handOverMemo`. */
  private memo: StepMemoRows<unknown> | undefined;
  /** What the memo counted, kept when it is let go (`handOverMemo`). */
  private memoCounts: MemoCounts | undefined;

  constructor(private readonly opts: ExhaustiveOptions = {}) {
    // One shard alone covers part of the tree: only the merge of all shards can call a scenario
    // clean, and livelock is judged by the merge on the union of the shards' graphs.
    this.exhaustive = opts.shard === undefined;
    this.coverage = opts.shard === undefined ? 'full' : 'merged';
  }

  async search<S>(machine: Machine<S>, ctx: RunContext): Promise<StateGraph> {
    const graph = StateGraph.forMachine(machine as Machine<unknown>);
    const T = graph.threadCount;
    ctx.distinct = () => graph.size;
    const maxDepth = this.opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    const maxStates = this.opts.maxStates ?? DEFAULT_MAX_STATES;
    const shard: Shard | undefined = this.opts.shard;
    const rec = shard ? new ShardRecorder(shard, this.opts.model ?? '') : undefined;
    const s0 = machine.initial();
    // States yet to expand: kept as objects, or (a machine that decodes its words) only as
    // their words in the visited set — then the frontier is no garbage for the collector.
    const decode = machine.encode && machine.decode ? machine.decode.bind(machine) : undefined;
    const pending: (S | undefined)[] = decode ? [] : [s0];
    // step memoization (step-memo-rows.ts), on unless turned off: a machine that decodes its words and says what its steps read (in a shard too);
    // the visited set then keeps states as rows (state-table.ts), whose shared numbers the memo's keys and values use
    const memoSteps = this.opts.memoSteps ?? true;
    const memo =
      memoSteps && decode && machine.stepMemo
        ? new StepMemoRows(
            machine,
            graph.keyByRows(machine.stepMemo.threadsAt.bind(machine.stepMemo)),
            memoSteps === 'verify',
            this.opts.memoMaxWords ?? MEMO_MAX_WORDS,
          )
        : undefined;
    this.memo = memo as StepMemoRows<unknown> | undefined;
    const decodeAt = (id: number): S => {
      const n = graph.readWords(id); // before wordBuffer: it may replace the buffer
      return decode!(graph.wordBuffer, n);
    };
    const reach = reacher(machine, graph);
    const advance = advancer(machine);
    const encode = memo ? machine.encode!.bind(machine) : undefined;
    reach(s0, -1, -1);
    ctx.visit(0);
    // a shard's fingerprints are of key strings: from the state object at hand, or (states kept as
    // words, reached by reused steps too) from the state decoded to expand it (shard.ts)
    if (!decode) rec?.discovered(machine.key(s0));
    // Split bookkeeping: the current level; once split, the split level's node range.
    let level = 0;
    for (let id = 0; id < graph.size && ctx.stopped === null; id++) {
      if (ctx.yieldDue) await ctx.pause();
      const depth = graph.depthOf(id);
      if (depth !== level) {
        // the first node of a new level: every node of the level is known by now (breadth-first)
        level = depth;
        if (rec && !rec.split && graph.size - id >= splitWidth(shard!.count)) rec.splitAt(level, id, graph.size);
        if (this.opts.handover?.(id, graph.size)) {
          this.handedOver = id;
          break;
        }
      }
      if (rec?.split && id < rec.split.end && !inShard(id - rec.split.start, shard)) {
        pending[id] = undefined;
        continue; // another shard's subtree
      }
      // the state as an object: decoded from its words when something needs it — with the step
      // memo, only a readiness or a step the memo does not know by numbers alone
      let s: S | undefined;
      if (decode) {
        memo?.expanding(id);
        if (!memo || rec) s = decodeAt(id);
        rec?.keyed(id, machine.key(s!));
      } else {
        s = pending[id]!;
        pending[id] = undefined;
      }
      const state = (): S => (s ??= decodeAt(id));
      graph.openRow(id);
      const { finished, enabled } = memo ? memo.readyMasks(machine, state) : readyMasks(machine, s!);
      graph.setFinished(id, finished);
      if (enabled === 0 && judgeEnd(machine, ctx, state(), survey(machine, state()).next, finished, enabled, () => graph.path(id), this.opts.onEnd)) {
        ctx.executions++;
        rec?.expanded(id, true);
        continue;
      }
      if (depth >= maxDepth) {
        ctx.incomplete.add('max-depth');
        continue;
      }
      for (let t = 0; t < T; t++) {
        if (!(enabled & (1 << t))) continue;
        if (memo) {
          let n = memo.known(t);
          if (n === NOT_KNOWN) n = memo.step(state(), t, advance, encode!);
          if (!ctx.visit(depth + 1)) break;
          const found = memo.found;
          if (found.length > 0 && !ctx.book.beaten(found, depth + 1)) ctx.book.addAll(found, [...graph.path(id), t], 'step');
          const child = n < 0 ? graph.reachRow(memo.row, id, t) : graph.reachWords(memo.wordBuffer, n, id, t);
          if (child >= 0 && graph.size > maxStates) {
            ctx.stop('max-states');
            break;
          }
          continue;
        }
        const r = advance(s!, t);
        if (!ctx.visit(depth + 1)) break;
        if (r.violations.length > 0 && !ctx.book.beaten(r.violations, depth + 1)) ctx.book.addAll(r.violations, [...graph.path(id), t], 'step');
        const child = reach(r.state, id, t);
        if (child >= 0) {
          if (graph.size > maxStates) {
            ctx.stop('max-states');
            break;
          }
          if (!decode) pending[child] = r.state;
          if (!decode) rec?.discovered(machine.key(r.state));
        }
      }
      rec?.expanded(id, false);
    }
    if (rec) {
      ctx.incomplete.add('shard');
      const keyOf = (id: number): string => {
        const n = graph.readWords(id); // before wordBuffer: it may replace the buffer
        return machine.key(decode!(graph.wordBuffer, n));
      };
      this.part = rec.part(graph, decode && keyOf);
      this.wholeGraph = rec.split === null && !ctx.incomplete.has('max-states') && !ctx.incomplete.has('max-depth') && ctx.stopped === null;
    }
    return graph;
  }

  /**
   * After a handover (explore.ts `exploreOnCores`): hand the step memo over — its keys are numbers
   * of this search's rows, which worker 0 goes on with (parallel.ts `handOver`) — and keep what it
   * counted so far, for the result's `memo` when asked for by name (the workers count the rest).
   */
  handOverMemo(): { counts: MemoCounts | undefined; memo: StepMemoRows<unknown> | undefined } {
    const memo = this.memo;
    this.memo = undefined;
    this.memoCounts = memo && { steps: memo.steps, hits: memo.hits, full: memo.full };
    return { counts: this.memoCounts, memo };
  }

  annotate(result: ExploreResult): void {
    // asked for by name (measurements, tests): the result of a search is the same with or without it
    const counts = this.memo ? { steps: this.memo.steps, hits: this.memo.hits, full: this.memo.full } : this.memoCounts;
    if (counts && this.opts.memoSteps !== undefined) result.memo = counts;
    if (!this.opts.shard || !this.part) return;
    result.shard = this.opts.shard;
    result.part = this.part;
  }
}
