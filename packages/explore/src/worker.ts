/**
 * One worker of the parallel exhaustive search (parallel.ts). It owns the states whose
 * owner hash (owners.ts, from `Machine.exchange`'s portable hashes) falls to it: it keeps them
 * in its own visited set — as rows (state-table.ts) with a step memo over them
 * (step-memo-rows.ts), as the one-thread search keeps them, when the machine says where its
 * thread words are (`Machine.stepMemo`) and step memoization is on; else as words (core's
 * WordTable) — numbers them (its local index, and once the coordinator has ranked their level
 * the one-core search's node number: the level's first number plus their rank), keeps their parent, thread, depth and edges, and expands them. A successor travels to its
 * owner as words in the sender's numbers, after the sender's new definitions (strings, shapes,
 * parts); the owner renumbers them into its own (`WordImporter`) and decodes them when it
 * expands the state. No state object and no key string crosses threads.
 * Nothing here decides an order: the coordinator ranks every level, so the result is the same
 * whatever the timing of the workers.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Machine, ModelViolation, StepOutcome, WordExchange, WordImporter } from '@kreplay/core';
import { carryError, WordTable } from '@kreplay/core';
import { Owners } from './owners.js';
import { StateTable } from './state-table.js';
import { NOT_KNOWN, StepMemoRows } from './step-memo-rows.js';
import { advancer } from './exhaustive.js';
import { daemonMask, deadlockSighting, isTerminal, readyMasks, survey } from './ends.js';
import { IntVec } from './graph.js';
import { MEMO_MAX_WORDS, StepMemoTable } from './step-memo.js';
import type { VisitedSet } from './state-table.js';
import type { FoundViolation } from './types.js';

/** Where a worker gets its Machine: a module file (absolute path), the name of an async factory it exports, and that factory's argument. */
export interface MachineSource {
  module: string;
  name: string;
  args: unknown;
}

export interface WorkerInit {
  source: MachineSource;
  me: number;
  workers: number;
  maxDepth: number;
  /** Step memoization (step-memo.ts): each worker keeps its own, its words being its own; `false` runs every step. */
  memoSteps: boolean | 'verify';
}

/**
 * A sighting a worker keeps (the least per rule): the schedule is rebuilt by the coordinator
 * from `node` (the parent for a step, the state itself for an end) and `thread`.
 * Order: (length, key, kind) — key is the rank order of the schedule among those of its length.
 */
export interface WorkerSighting {
  violation: ModelViolation;
  at: FoundViolation['at'];
  length: number;
  key: number;
  kind: 0 | 1;
  /** The one-core search's number of the parent (step) or of the state (end). */
  node: number;
  /** The thread of the step, -1 for an end. */
  thread: number;
  threads?: number[];
}

/**
 * Successors on their way to their owner: the sender's new definitions, then each successor's
 * words (`words[ends[i-1]..ends[i])`, in the sender's numbers), its order key (parent rank × T +
 * thread) and its parent's number in the one-core search.
 */
interface Candidates {
  type: 'cand';
  origin: number;
  /** The level the sender is expanding, and whether this is its last batch for that level. */
  depth: number;
  last: boolean;
  defs: Int32Array;
  words: Int32Array;
  ends: Int32Array;
  order: Float64Array;
  parents: Int32Array;
}

/**
 * Successors computed for one peer during a level. Kept from level to level (emptied, not
 * dropped), so its arrays grow once to the largest level instead of again every level.
 */
class Outbox {
  readonly words = new IntVec(1 << 16);
  readonly ends = new IntVec(1 << 12);
  private order = new Float64Array(1 << 12);
  readonly parents = new IntVec(1 << 12);

  add(words: Int32Array, n: number, ord: number, parent: number): void {
    this.words.pushAll(words, n);
    const i = this.ends.push(this.words.length);
    if (i === this.order.length) {
      const o = new Float64Array(i * 2);
      o.set(this.order);
      this.order = o;
    }
    this.order[i] = ord;
    this.parents.push(parent);
  }

  /** This level's successors, copied out for the peer, and the box emptied. */
  get empty(): boolean {
    return this.ends.length === 0;
  }

  take(origin: number, depth: number, last: boolean, defs: Int32Array): Candidates {
    const c: Candidates = {
      type: 'cand',
      origin,
      depth,
      last,
      defs,
      words: this.words.a.slice(0, this.words.length),
      ends: this.ends.a.slice(0, this.ends.length),
      order: this.order.slice(0, this.ends.length),
      parents: this.parents.a.slice(0, this.parents.length),
    };
    this.words.length = this.ends.length = this.parents.length = 0;
    return c;
  }
}

/** Frontier states expanded between two exchanges with peers (a power of two). */
const CHUNK = 1024;

const less = (a: WorkerSighting, b: WorkerSighting): boolean =>
  a.length !== b.length ? a.length < b.length : a.key !== b.key ? a.key < b.key : a.kind < b.kind;

export { ownerOf } from './owners.js';

/**
 * An error the machine's code threw (a flavor module's ModelBug, say) while this worker
 * expanded a state, and where the one-core search would have met it: `at` = the state's number
 * × (T + 1) for the state itself (decoding it, who can step, its final invariants or
 * deadlock), + t + 1 for its step by thread t. The one-core search throws the first it meets
 * in that order; the coordinator throws the least `at` of a level's, whichever worker was first.
 */
export class SearchError extends Error {
  constructor(
    readonly error: unknown,
    readonly at: number,
  ) {
    super(`the machine's code threw at ${at}`);
    this.name = 'SearchError';
  }
}

/** The machine's words and their exchange, or the reason a worker cannot search it. */
function exchangeOf<S>(machine: Machine<S>): WordExchange {
  if (!machine.encode || !machine.decode || !machine.exchange)
    throw new Error(`flavor ${machine.flavor}: the machine cannot send states as words (Machine.encode, decode, exchange)`);
  return machine.exchange;
}

class SearchWorker<S> {
  private readonly T: number;
  private readonly W: number;
  private readonly me: number;
  private readonly exchange: WordExchange;
  private readonly encode: (s: S, out: Int32Array) => number;
  private readonly decode: (w: Int32Array, n: number) => S;
  private readonly importers: (WordImporter | null)[];
  /** Per peer: how much of this worker's log of definitions it has been sent. */
  private readonly sent: number[];
  // owner
  private table: VisitedSet;
  /** The visited set as rows (`table` itself), with `rowMemo` over it; undefined when states are kept as words. */
  private rows: StateTable | undefined;
  private rowMemo: StepMemoRows<S> | undefined;
  /** What `rowMemo` had counted when this worker took it over from the one-thread search (`adopt`): that search reports it. */
  private memoBefore = { steps: 0, hits: 0 };
  private owners: Owners;
  private readonly parent = new IntVec();
  private readonly via = new IntVec();
  private readonly depth = new IntVec();
  private readonly order: number[] = [];
  private readonly edges = new IntVec(4096);
  /** Per peer, the successors it owns (none for this worker: those go into its table as they are found). */
  private readonly out: (Outbox | null)[];
  /** This level's states to expand (locals, in order-key order), and the first local of the next level. */
  private frontier: Int32Array = new Int32Array(0);
  private freshFrom = 0;
  private readonly finished = new IntVec();
  /** Per local: its number in the one-core search (known once the coordinator has ranked its level). */
  private readonly canon = new IntVec();
  /** Locals taken over from the one-thread search (`adopt`, `take`): the coordinator has their parent, thread and depth. */
  private handed = 0;
  private readonly best = new Map<string, WorkerSighting>();
  private states = 0;
  private executions = 0;
  private maxDepth = 0;
  private depthCut = false;
  private buf = new Int32Array(1024);
  private tmp = new Int32Array(1024);

  constructor(
    private readonly machine: Machine<S>,
    init: WorkerInit,
    private readonly peers: (MessagePort | null)[],
  ) {
    this.T = machine.threads.length;
    this.W = init.workers;
    this.me = init.me;
    this.maxDepthCap = init.maxDepth;
    this.verify = init.memoSteps === 'verify';
    this.advance = advancer(machine);
    this.exchange = exchangeOf(machine);
    this.encode = machine.encode!.bind(machine);
    this.decode = machine.decode!.bind(machine);
    const stepMemo = machine.stepMemo;
    if (init.memoSteps && stepMemo) {
      // as the one-thread search keeps them (exhaustive.ts): rows, and the memo over them
      this.rows = new StateTable(this.T, stepMemo.threadsAt.bind(stepMemo));
      this.table = this.rows;
      this.rowMemo = new StepMemoRows(machine, this.rows, init.memoSteps === 'verify', MEMO_MAX_WORDS);
    } else {
      this.table = new WordTable();
      this.memo = init.memoSteps && stepMemo ? new StepMemoTable(machine, init.memoSteps === 'verify') : undefined;
    }
    this.owners = new Owners(this.exchange, stepMemo && stepMemo.threadsAt.bind(stepMemo), this.T, this.W, this.rows);
    this.importers = Array.from({ length: this.W }, (_x, w) => (w === this.me ? null : this.exchange.importer()));
    this.sent = new Array<number>(this.W).fill(0);
    this.out = Array.from({ length: this.W }, (_x, w) => (w === this.me ? null : new Outbox()));
  }

  private readonly advance: (s: S, t: number) => StepOutcome<S>;
  /** This worker's step memo by words (its part numbers are its own), when the machine offers one, it is not turned off and states are not kept as rows. */
  private readonly memo: StepMemoTable<S> | undefined;

  private readonly maxDepthCap: number;
  private readonly verify: boolean;

  private sight(s: WorkerSighting): void {
    const old = this.best.get(s.violation.rule);
    if (!old || less(s, old)) this.best.set(s.violation.rule, s);
  }

  /** `s`'s words into `buf`; their count. */
  private words(s: S): number {
    let n = this.encode(s, this.buf);
    if (n > this.buf.length) {
      this.buf = new Int32Array(Math.max(n, this.buf.length * 2));
      n = this.encode(s, this.buf);
    }
    return n;
  }

  /** The initial state: its owner numbers it and expands it first. */
  start(): number {
    let n: number;
    try {
      n = this.words(this.machine.initial());
    } catch (e) {
      throw new SearchError(e, 0);
    }
    if (this.owners.ofWords(this.buf, n) !== this.me) return 0;
    this.table.add(this.buf, n);
    this.parent.push(-1);
    this.via.push(-1);
    this.depth.push(0);
    this.order.push(0);
    this.frontier = Int32Array.of(0);
    return 1;
  }

  /**
   * Take over the one-thread search on this thread's machine (worker 0, `handover`): its visited
   * set `table` (node id = local, every state in it, whichever worker owns it: only this
   * worker's are ever reached again) and, of the level it stopped at, the states this worker
   * owns (`frontier`, ascending) and their order keys. Peers have been sent the machine's
   * definitions so far. Kept as rows (`table` a StateTable, as this worker keeps them), the
   * search's step memo over them (`memo`) and the owners of its rows (`owners`, which has
   * hashed their shared words) go on here as they are: this worker's memo starts warm.
   */
  adopt(table: VisitedSet, count: number, frontier: Int32Array, order: Float64Array, memo?: StepMemoRows<S>, owners?: Owners): void {
    if (this.rows) {
      if (!(table instanceof StateTable)) throw new Error('worker 0: the one-thread search kept its states as words, this worker keeps rows');
      this.rows = table;
      this.rowMemo = memo ?? new StepMemoRows(this.machine, table, this.verify, MEMO_MAX_WORDS);
      this.memoBefore = { steps: this.rowMemo.steps, hits: this.rowMemo.hits };
      this.owners = owners ?? new Owners(this.exchange, this.machine.stepMemo!.threadsAt.bind(this.machine.stepMemo), this.T, this.W, table);
    }
    this.table = table;
    for (let id = 0; id < count; id++) this.canon.push(id);
    this.handOver(count, frontier, order);
    this.sent.fill(this.exchange.definitionsLength());
  }

  /**
   * Take over a peer's part of the one-thread search (`handover`), in batches: the visited states
   * this worker owns as words in worker 0's numbers (`words[ends[i-1]..ends[i])`, after `defs`,
   * worker 0's definitions so far, which come with the first batch), their node ids ascending.
   * With the `last` batch: those from `frontierFrom` on (counted over every batch) are the level
   * it stopped at, with their order keys.
   */
  take(defs: Int32Array, words: Int32Array, ends: Int32Array, ids: Int32Array, last: boolean, frontierFrom: number, order: Float64Array): void {
    const imp = this.importers[0]!;
    imp.define(defs);
    let from = 0;
    for (let i = 0; i < ends.length; i++) {
      const to = ends[i]!;
      imp.translate(words, from, to);
      this.table.add(words, to, from);
      this.canon.push(ids[i]!);
      from = to;
    }
    if (!last) return;
    const count = this.canon.length;
    const frontier = new Int32Array(count - frontierFrom);
    for (let i = 0; i < frontier.length; i++) frontier[i] = frontierFrom + i;
    this.handOver(count, frontier, order);
  }

  private handOver(count: number, frontier: Int32Array, order: Float64Array): void {
    for (let l = 0; l < count; l++) {
      this.parent.push(-1);
      this.via.push(-1);
      this.depth.push(-1);
      this.order.push(0);
    }
    for (let i = 0; i < frontier.length; i++) this.order[frontier[i]!] = order[i]!;
    this.frontier = frontier;
    this.handed = count;
  }

  /**
   * Expand this level's states (`ranks`: their ranks in the level). A successor this worker
   * owns goes into its table at once; one a peer owns is sent to it.
   */
  async expand(ranks: Int32Array, base: number): Promise<void> {
    this.numberLevel(ranks, base);
    this.freshFrom = this.parent.length;
    this.open = true;
    this.lastGot = 0;
    // peers' batches for this level that came before it started
    const early = this.early;
    this.early = [];
    for (const b of early) this.absorb(b);
    this.at = -1;
    try {
      await this.expandFrontier(ranks, base);
    } catch (e) {
      if (this.at < 0) throw e;
      // the machine's error: this worker stops, and sends its last batch for the level, so
      // that its peers settle it (the coordinator needs their errors too, to pick the first)
      this.frontier = new Int32Array(0);
      this.flush(true);
      throw new SearchError(e, this.at);
    }
    this.frontier = new Int32Array(0);
    this.flush(true);
  }

  /** Where in the one-core search's order the machine's code runs (SearchError's `at`), -1 while this worker's own code does. */
  private at = -1;

  /** `expand`'s loop over the frontier. */
  private async expandFrontier(ranks: Int32Array, base: number): Promise<void> {
    const W = this.W;
    const T = this.T;
    const memo = this.memo;
    const rowMemo = this.rowMemo;
    const owners = this.owners;
    const d = this.levelDepth;
    for (let i = 0; i < this.frontier.length; i++) {
      if ((i & (CHUNK - 1)) === CHUNK - 1 && W > 1) {
        // send what peers own so far, and take in what they sent: the level's exchange runs
        // alongside its expansion instead of after it
        this.at = -1;
        this.flush(false);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const local = this.frontier[i]!;
      const r = ranks[i]!;
      const gid = base + r;
      this.at = gid * (T + 1);
      if (this.tmp.length < this.table.bytesOf(local)) this.tmp = new Int32Array(this.table.bytesOf(local) * 2);
      const sn = this.table.wordsOf(local, this.tmp);
      // as the one-thread search expands (exhaustive.ts): over rows, decoded only when the memo asks
      let s: S | undefined = rowMemo ? undefined : this.decode(this.tmp, sn);
      const state = (): S => (s ??= this.decode(this.tmp, sn));
      memo?.expanding(this.tmp, sn);
      rowMemo?.expanding(local);
      const { finished, enabled } = rowMemo ? rowMemo.readyMasks(this.machine, state) : readyMasks(this.machine, s!);
      this.finished.push(gid);
      this.finished.push(finished);
      if (isTerminal(T, daemonMask(this.machine as Machine<unknown>), finished, enabled)) {
        this.executions++;
        for (const v of this.machine.final?.(state()) ?? [])
          this.sight({ violation: v, at: 'final', length: d, key: this.order[local]!, kind: 1, node: gid, thread: -1 });
        continue;
      }
      if (enabled === 0) {
        this.executions++;
        const dl = deadlockSighting(this.machine, survey(this.machine, state()).next, []);
        this.sight({ violation: dl.violation, at: 'state', length: d, key: this.order[local]!, kind: 1, node: gid, thread: -1, threads: dl.threads! });
        continue;
      }
      if (d >= this.maxDepthCap) {
        this.depthCut = true;
        continue;
      }
      for (let t = 0; t < T; t++) {
        if (!(enabled & (1 << t))) continue;
        this.at = gid * (T + 1) + t + 1;
        // the successor's words (in `buf`) and the step's violations: reused, or the step run
        let n: number;
        let buf: Int32Array;
        let violations: readonly ModelViolation[];
        if (rowMemo) {
          n = rowMemo.known(t);
          if (n === NOT_KNOWN) n = rowMemo.step(state(), t, this.advance, this.encode);
          buf = rowMemo.wordBuffer;
          violations = rowMemo.found;
        } else if (memo) {
          n = memo.step(s!, t, this.advance, this.encode);
          buf = memo.wordBuffer;
          violations = memo.found;
        } else {
          const res = this.advance(s!, t);
          n = this.words(res.state);
          buf = this.buf;
          violations = res.violations;
        }
        this.states++;
        if (d + 1 > this.maxDepth) this.maxDepth = d + 1;
        const ord = r * T + t;
        if (violations.length > 0)
          for (const v of violations) {
            const old = this.best.get(v.rule);
            if (!old || old.length >= d + 1) this.sight({ violation: v, at: 'step', length: d + 1, key: ord, kind: 0, node: gid, thread: t });
          }
        if (n < 0) {
          // a row (rowMemo): its owner from its T + 1 numbers; a peer's is sent as its words
          const row = rowMemo!.row;
          const o = W === 1 ? 0 : owners.ofRow(row, 0);
          if (o === this.me) this.reached(this.rows!.addRow(row), ord, gid);
          else this.out[o]!.add(this.rowWords(row), this.rowN, ord, gid);
          continue;
        }
        const o = W === 1 ? 0 : owners.ofWords(buf, n);
        if (o === this.me) this.reached(this.table.add(buf, n), ord, gid);
        else this.out[o]!.add(buf, n, ord, gid);
      }
    }
  }

  /** The words of the state whose row is `row` (of `rows`), into the returned buffer; their count in `rowN`. */
  private rowWords(row: Int32Array): Int32Array {
    const shared = this.rows!.shared;
    const s = row[0]!;
    const need = shared.bytesOf(s < 0 ? ~s : s) + this.T;
    if (need > this.rowBuf.length) this.rowBuf = new Int32Array(Math.max(need, 2 * this.rowBuf.length));
    if (s < 0) {
      this.rowN = shared.wordsOf(~s, this.rowBuf);
      return this.rowBuf;
    }
    let n = shared.wordsOf(s, this.rowBuf);
    for (let u = 1; u <= this.T; u++) this.rowBuf[n++] = row[u]!;
    this.rowN = n;
    return this.rowBuf;
  }

  private rowBuf = new Int32Array(256);
  private rowN = 0;

  /**
   * Each peer's successors found so far (all of them when `last`: then sent even when none),
   * after the definitions they use (a peer reads them before the words).
   */
  private flush(last: boolean): void {
    const end = this.exchange.definitionsLength();
    for (let o = 0; o < this.W; o++) {
      const box = this.out[o];
      if (!box || (!last && box.empty)) continue;
      const c = box.take(this.me, this.levelDepth, last, this.exchange.definitions(this.sent[o]!));
      this.sent[o] = end;
      this.peers[o]!.postMessage(c, [c.defs.buffer, c.words.buffer, c.ends.buffer, c.order.buffer, c.parents.buffer] as ArrayBuffer[]);
    }
  }

  /**
   * A successor (order key `ord`, from global node `parent`) reached the local state
   * `r` (the table's answer: a new id, or `~id`). A new state is numbered with this step as its
   * first; a state new in this level takes the least order key that reaches it (the least
   * schedule); every step is an edge.
   */
  private reached(r: number, ord: number, parent: number): void {
    let local: number;
    const t = ord % this.T;
    if (r >= 0) {
      local = r;
      this.parent.push(parent);
      this.via.push(t);
      this.depth.push(this.levelDepth + 1);
      this.order.push(ord);
    } else {
      local = ~r;
      if (local >= this.freshFrom && ord < this.order[local]!) {
        this.order[local] = ord;
        this.parent.a[local] = parent;
        this.via.a[local] = t;
      }
    }
    this.edges.push(parent);
    this.edges.push(t);
    this.edges.push(local);
  }

  levelDepth = 0;

  /**
   * The frontier's numbers in the one-core search: the level's first number (`base`) plus
   * each state's rank in the level (the coordinator's merge of every worker's order keys).
   */
  numberLevel(ranks: Int32Array, base: number): void {
    const f = this.frontier;
    // the level's locals are the last ones, in order-key order: make room for all, then fill
    // (those taken over have their numbers already)
    while (this.canon.length < this.parent.length) this.canon.push(0);
    for (let i = 0; i < f.length; i++) this.canon.a[f[i]!] = base + ranks[i]!;
  }

  /** Whether this worker is expanding a level (its batches are taken in as they come), and how many peers have sent their last batch for it. */
  private open = false;
  lastGot = 0;
  /** Batches for the next level that came before this worker started it. */
  private early: Candidates[] = [];

  receive(b: Candidates): void {
    if (this.open && b.depth === this.levelDepth) this.absorb(b);
    else this.early.push(b);
  }

  /** A peer's successors into this worker's numbers and table. */
  private absorb(b: Candidates): void {
    const imp = this.importers[b.origin]!;
    imp.define(b.defs);
    let from = 0;
    for (let i = 0; i < b.ends.length; i++) {
      const to = b.ends[i]!;
      imp.translate(b.words, from, to);
      this.reached(this.table.add(b.words, to, from), b.order[i]!, b.parents[i]!);
      from = to;
    }
    if (b.last) this.lastGot++;
  }

  /**
   * Once this level is expanded and every peer's last batch for it is in (`reached` has kept,
   * per new state, the least order key: the least schedule): the new states' order keys and
   * local indices, by order key, for the coordinator; they are the next level's frontier.
   */
  settle(): { order: Float64Array; locals: Int32Array } {
    this.open = false;
    // this level's new states are the locals from freshFrom on
    const n = this.parent.length - this.freshFrom;
    const locals = new Int32Array(n);
    const order = new Float64Array(n);
    const from = this.freshFrom;
    // Sorted by order key (distinct keys: one order), natively: each key packed above the
    // state's index among the new ones, where the two fit in a double's 53 bits exactly. A
    // comparator sort and Float64Array.from with a mapping function cost a third of a second
    // on a million states.
    let most = 0;
    for (let i = 0; i < n; i++) most = Math.max(most, this.order[from + i]!);
    const scale = 2 ** Math.ceil(Math.log2(n + 1));
    if (most < Number.MAX_SAFE_INTEGER / scale) {
      for (let i = 0; i < n; i++) order[i] = this.order[from + i]! * scale + i;
      order.sort();
      for (let i = 0; i < n; i++) {
        const k = order[i]!;
        const key = Math.floor(k / scale);
        locals[i] = from + (k - key * scale);
        order[i] = key;
      }
    } else {
      for (let i = 0; i < n; i++) locals[i] = from + i;
      locals.sort((a, b) => this.order[a]! - this.order[b]!);
      for (let i = 0; i < n; i++) order[i] = this.order[locals[i]!]!;
    }
    this.frontier = locals;
    return { order, locals: locals.slice() };
  }

  /**
   * What the coordinator rebuilds the graph from, in the one-core search's numbers: per local
   * state its number, parent, thread and depth; `finished` pairs (number, finished threads);
   * edges as (from, thread, to) triples.
   */
  report(): { ids: Int32Array; parent: Int32Array; via: Int32Array; depth: Int32Array; finished: Int32Array; edges: Int32Array; [k: string]: unknown } {
    const n = this.parent.length;
    const h = this.handed;
    const ids = this.canon.a.subarray(0, n);
    const e = this.edges.a.subarray(0, this.edges.length);
    for (let i = 2; i < e.length; i += 3) e[i] = ids[e[i]!]!;
    return {
      ids: ids.subarray(h),
      parent: this.parent.a.subarray(h, n),
      via: this.via.a.subarray(h, n),
      depth: this.depth.a.subarray(h, n),
      finished: this.finished.a.subarray(0, this.finished.length),
      edges: e,
      sightings: [...this.best.values()],
      states: this.states,
      executions: this.executions,
      maxDepth: this.maxDepth,
      depthCut: this.depthCut,
      memo: this.rowMemo
        ? { steps: this.rowMemo.steps - this.memoBefore.steps, hits: this.rowMemo.hits - this.memoBefore.hits, full: this.rowMemo.full }
        : this.memo
          ? { steps: this.memo.steps, hits: this.memo.hits, full: this.memo.full }
          : undefined,
    };
  }
}

/**
 * A worker's error for the coordinator: `error` (carried as data by a thread, as it is on the
 * coordinator's thread: `carry`), with `at` when the machine's code threw it (SearchError).
 */
export function errorMessage(e: unknown, carry: (e: unknown) => unknown = carryError): Msg {
  return e instanceof SearchError ? { type: 'error', error: carry(e.error), at: e.at } : { type: 'error', error: carry(e) };
}

type Msg = { type: string; [k: string]: unknown };

/**
 * One worker of the search on `machine`, driven by the coordinator's messages (the returned
 * handler) and answering through `send`: in a worker thread (below), or on the coordinator's
 * own thread (parallel.ts: that thread's machine is loaded and its code already compiled by the
 * one-thread probe). Sends 'ready' at once. Errors go out as `carry` makes them: by default as
 * data a thread can post (core's carryError), the coordinator's own worker's as they are.
 */
export function serve<S>(
  machine: Machine<S>,
  init: WorkerInit,
  send: (m: Msg, transfer?: ArrayBuffer[]) => void,
  carry: (e: unknown) => unknown = carryError,
): (m: Msg) => void {
  const W = init.workers;
  const peers: (MessagePort | null)[] = new Array(W).fill(null);
  let w: SearchWorker<S> | undefined;
  // A level is settled once this worker has expanded it and every peer has sent its last batch for it.
  let expanded = false;
  const trySettle = (): void => {
    if (!expanded || w!.lastGot < W - 1) return;
    expanded = false;
    const s = w!.settle();
    send({ type: 'settled', ...s }, [s.order.buffer as ArrayBuffer, s.locals.buffer as ArrayBuffer]);
  };
  const handle = (m: Msg): void => {
    switch (m.type) {
      case 'peers':
        for (const [i, p] of m['ports'] as [number, MessagePort][]) {
          peers[i] = p;
          p.on('message', (b: Candidates) => {
            try {
              w!.receive(b);
              trySettle();
            } catch (e) {
              send(errorMessage(e, carry));
            }
          });
        }
        w = new SearchWorker(machine, init, peers);
        // a search taken over from the one-thread search ('handover') has its states already
        send({ type: 'started', count: m['root'] === false ? 0 : w.start() });
        break;
      case 'handover':
        if (m['table'])
          w!.adopt(
            m['table'] as VisitedSet,
            m['count'] as number,
            m['frontier'] as Int32Array,
            m['order'] as Float64Array,
            m['memo'] as StepMemoRows<S> | undefined,
            m['owners'] as Owners | undefined,
          );
        else
          w!.take(
            m['defs'] as Int32Array,
            m['words'] as Int32Array,
            m['ends'] as Int32Array,
            m['ids'] as Int32Array,
            m['last'] as boolean,
            m['frontierFrom'] as number,
            m['order'] as Float64Array,
          );
        break;
      case 'expand':
        w!.levelDepth = m['depth'] as number;
        w!
          .expand(m['ranks'] as Int32Array, m['base'] as number)
          .then(() => {
            expanded = true;
            trySettle();
          })
          .catch((e: unknown) => send(errorMessage(e, carry)));
        break;
      case 'report': {
        // the last level settled was never expanded: number it
        w!.numberLevel(m['ranks'] as Int32Array, m['base'] as number);
        const r = w!.report();
        // each is a view of its own buffer, moved (not copied) to the coordinator
        send(
          { type: 'report', ...r },
          [r.ids, r.parent, r.via, r.depth, r.finished, r.edges].map((a) => a.buffer as ArrayBuffer),
        );
        // the search is over: its visited set and step memo are garbage now (worker 0's live on
        // the coordinator's thread, which builds the whole graph next)
        w = undefined;
        break;
      }
    }
  };
  send({
    type: 'ready',
    // daemon: the coordinator's livelock check on the whole graph never names one (liveness.ts)
    threads: machine.threads.map((t) => ({ id: t.id, name: t.name, program: t.program, args: {}, ...(t.daemon === true ? { daemon: true } : {}) })),
  });
  return handle;
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const mod = (await import(pathToFileURL(init.source.module).href)) as Record<string, (a: unknown) => Promise<Machine<unknown>>>;
  const factory = mod[init.source.name];
  if (typeof factory !== 'function') throw new Error(`${init.source.module} exports no function ${init.source.name}`);
  const machine = await factory(init.source.args);
  const port = parentPort!;
  const handle = serve(machine, init, (m, transfer) => port.postMessage(m, transfer ?? []));
  port.on('message', (m: Msg) => {
    try {
      handle(m);
    } catch (e) {
      port.postMessage(errorMessage(e));
    }
  });
}

if (parentPort && (workerData as WorkerInit | undefined)?.source) {
  main().catch((e: unknown) => parentPort!.postMessage(errorMessage(e)));
}
