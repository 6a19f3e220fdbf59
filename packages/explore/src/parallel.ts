/**
 * The exhaustive search on several cores (`explore --workers N`): the same breadth-first
 * search as exhaustive.ts, level by level, with the states spread over worker_threads by a
 * hash of their content that every worker computes alike (owners.ts: `Machine.exchange`'s
 * portableHash of a state's shared words): each state has one owner, which deduplicates it and
 * later expands it, and states travel between workers as words (worker.ts).
 *
 * Determinism: workers run at their own pace, but nothing they decide depends on it. After
 * each level the coordinator ranks the level's new states by (rank of the parent that first
 * reached them in the previous level, thread) — exactly the order the one-core search numbers
 * them in — so node numbers, shortest schedules (least in thread-id order among the shortest),
 * counters, the violation kept per rule, and the state graph livelock is judged on are the
 * one-core search's, node for node. test/parallel.test.ts checks this on every shipped scenario.
 *
 * Cost: a successor whose owner is another worker travels as its words (a few dozen numbers,
 * renumbered by the owner) and each worker learns the others' parts once; the coordinator's
 * ranking of a level is a merge of the workers' sorted lists.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Machine, ThreadInfo } from '@kreplay/core';
import { EnvironmentError, reviveError, type CarriedError } from '@kreplay/core';
import { ViolationBook, type RunContext } from './context.js';
import { IntVec, RebuiltGraph, sortRowsByThread, type StateGraph } from './graph.js';
import { findLivelocks } from './liveness.js';
import type { ExploreOptions, ExploreResult, Incompleteness, Sighting } from './types.js';
import { errorMessage, serve, type MachineSource, type WorkerInit, type WorkerSighting } from './worker.js';
import { Owners } from './owners.js';
import { StateTable } from './state-table.js';
import type { StepMemoRows } from './step-memo-rows.js';
import { DEFAULT_MAX_DEPTH } from './graph.js';
import { DEFAULT_MAX_STATES, type MemoCounts } from './exhaustive.js';

export type { MachineSource } from './worker.js';

export function defaultWorkers(): number {
  return availableParallelism();
}

type Msg = { type: string; [k: string]: unknown };

/** An error a worker sent: as it was thrown (this thread's worker), or carried across from a thread. */
function workerError(e: unknown): Error {
  return e instanceof Error ? e : reviveError(e as CarriedError);
}

/** One worker (a thread, or this thread's: LocalPeer) and a queue of the messages it sent. */
abstract class Peer {
  private queue: Msg[] = [];
  private waiting: ((m: Msg) => void) | null = null;
  private failed: Error | null = null;

  abstract post(m: Msg, transfer?: unknown[]): void;
  abstract stop(): Promise<void>;

  /**
   * A message from the worker. An error the machine's code threw (with `at`: worker.ts
   * SearchError) is the worker's answer, which `answers` weighs against the others'; any other
   * error means the worker cannot go on.
   */
  protected received(m: Msg): void {
    if (m.type === 'error' && m['at'] === undefined) this.fail(workerError(m['error']));
    else this.push(m);
  }

  private push(m: Msg): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(m);
    } else this.queue.push(m);
  }

  protected fail(e: Error): void {
    if (!this.failed) this.failed = e;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ type: 'failed' });
    }
  }

  /** The worker's next message, of `type`, or an error of the machine's (SearchError) in its place. */
  async next(type: string): Promise<Msg> {
    const m = this.queue.shift() ?? (this.failed ? { type: 'failed' } : await new Promise<Msg>((r) => (this.waiting = r)));
    if (m.type === 'error') return m;
    if (m.type === 'failed' || m.type !== type) {
      throw new EnvironmentError(
        `an explorer worker failed: ${this.failed?.message ?? `expected ${type}, got ${m.type}`}`,
        'run with --workers 1 to search on one core',
      );
    }
    return m;
  }
}

/** A worker thread. */
class ThreadPeer extends Peer {
  readonly worker: Worker;

  constructor(init: WorkerInit) {
    super();
    this.worker = new Worker(workerUrl(), { workerData: init });
    this.worker.on('message', (m: Msg) => this.received(m));
    // a thread that dies (out of memory, an exception nothing caught, code that called
    // process.exit) fails the search at once: every wait on it ends
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) =>
      this.fail(
        new Error(`its thread exited in the middle of the search (exit code ${code}: the code it runs, a flavor module, may have called process.exit)`),
      ),
    );
  }

  post(m: Msg, transfer: unknown[] = []): void {
    this.worker.postMessage(m, transfer as never);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * The worker on this thread, on the machine this thread already has. Messages to it run on a
 * later turn of the event loop, so that the coordinator's messages to the threads go out first.
 */
class LocalPeer extends Peer {
  private readonly handle: (m: Msg) => void;

  constructor(machine: Machine<unknown>, init: WorkerInit) {
    super();
    // errors stay as they were thrown: nothing crosses a thread
    this.handle = serve(
      machine,
      init,
      (m) => this.received(m),
      (e) => e,
    );
  }

  private ports: MessagePort[] = [];

  post(m: Msg): void {
    if (m.type === 'peers') this.ports = (m['ports'] as [number, MessagePort][]).map(([, p]) => p);
    setImmediate(() => {
      try {
        this.handle(m);
      } catch (e) {
        this.received(errorMessage(e, (x) => x));
      }
    });
  }

  async stop(): Promise<void> {
    // ports left open would keep this thread's event loop alive
    for (const p of this.ports) p.close();
  }
}

function workerUrl(): URL {
  // From the sources (tests compile src/ on the fly) the worker still runs from the build.
  const here = new URL('.', import.meta.url);
  return here.pathname.endsWith('/src/') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here);
}

/**
 * Worker threads that build `source`'s machine (a module exporting an async factory, since a
 * Machine's code cannot be sent to a thread) and then wait for `exploreParallel`. Started
 * before a search needs them, they load the model while this thread does something else
 * (exploreOnCores: the one-thread probe). `stop()` ends them.
 */
export class SearchWorkers {
  readonly peers: Peer[] = [];

  /** With `local` (a machine built from `source`), worker 0 runs on this thread on it, and only the others are threads. */
  private readonly W: number;

  constructor(
    readonly source: MachineSource,
    workers: number,
    readonly maxDepth: number,
    private local?: Machine<unknown>,
    /** ExploreOptions.memoSteps (default on): each worker keeps its own step memo. */
    readonly memoSteps: boolean | 'verify' = true,
  ) {
    const W = (this.W = Math.max(1, workers));
    for (let me = local ? 1 : 0; me < W; me++) this.peers.push(new ThreadPeer({ source, me, workers: W, maxDepth, memoSteps }));
  }

  /** Ready to search: the worker on this thread joins now (made earlier, it would have taken the probe's machine). */
  begin(): void {
    if (!this.local) return;
    this.peers.unshift(new LocalPeer(this.local, { source: this.source, me: 0, workers: this.W, maxDepth: this.maxDepth, memoSteps: this.memoSteps }));
    this.local = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.stop()));
  }
}

/**
 * Where the one-thread search stopped for the workers to take over (explore.ts): its graph,
 * whose nodes before `from` are expanded and from `from` on are the next level's, none
 * expanded; its counters and violations; its machine (worker 0's).
 */
export interface Handover {
  graph: StateGraph;
  ctx: RunContext;
  from: number;
  machine: Machine<unknown>;
  /** What the one-thread search's step memo counted (exhaustive.ts `handOverMemo`), added to the workers' in the result. */
  memoSoFar?: MemoCounts;
  /** The one-thread search's step memo over its rows (exhaustive.ts `handOverMemo`): worker 0 goes on with it. */
  memo?: StepMemoRows<unknown>;
}

/**
 * Search `source`'s machine exhaustively on `workers` threads (or on the `SearchWorkers`
 * given, started with the same maxDepth, and from where the one-thread search handed over).
 * Options: maxDepth, maxStates, timeoutMs, signal, progress.
 */
export async function exploreParallel(
  source: MachineSource | SearchWorkers,
  workers: number,
  opts: ExploreOptions = {},
  handover?: Handover,
): Promise<ExploreResult> {
  const start = performance.now() - (handover?.ctx.elapsedMs() ?? 0);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const pool = source instanceof SearchWorkers ? source : new SearchWorkers(source, workers, maxDepth, undefined, opts.memoSteps ?? true);
  pool.begin();
  const peers = pool.peers;
  const W = peers.length;
  const incomplete = new Set<Incompleteness>();
  try {
    const ready = await answers(peers, 'ready');
    const threads = ready[0]!['threads'] as ThreadInfo[];
    const T = threads.length;
    // Direct ports between every pair of workers.
    const ports: [number, unknown][][] = Array.from({ length: W }, () => []);
    const transfer: unknown[][] = Array.from({ length: W }, () => []);
    for (let i = 0; i < W; i++)
      for (let j = i + 1; j < W; j++) {
        const ch = new MessageChannel();
        ports[i]!.push([j, ch.port1]);
        ports[j]!.push([i, ch.port2]);
        transfer[i]!.push(ch.port1);
        transfer[j]!.push(ch.port2);
      }
    peers.forEach((p, i) => p.post({ type: 'peers', ports: ports[i], root: !handover }, transfer[i] as never));
    const started = await answers(peers, 'started');
    // The root: numbered 0 and expanded by its owner.
    const rootOwner = started.findIndex((m) => m['count'] === 1);
    let total = 1;
    // Each worker's frontier (its last settled states, by order key): their ranks in the level,
    // whose first state is numbered `base` (a worker numbers its states base + rank).
    let ranks: Int32Array[] = peers.map((_p, w) => (w === rootOwner ? Int32Array.of(0) : new Int32Array(0)));
    let base = 0;
    let first = 0;
    if (handover) {
      ranks = handOver(peers, handover, T, Math.max(1, opts.handoverBatch ?? HANDOVER_BATCH));
      base = handover.from;
      total = handover.graph.size;
      first = handover.graph.depthOf(base);
    }
    let lastProgress = start;
    for (let depth = first; ; depth++) {
      peers.forEach((p, w) => p.post({ type: 'expand', depth, ranks: ranks[w], base }));
      const settled = await answers(peers, 'settled');
      const orders = settled.map((m) => m['order'] as Float64Array);
      ranks = mergeRanks(orders);
      const fresh = orders.reduce((n, o) => n + o.length, 0);
      base = total;
      total += fresh;
      if (fresh === 0) break;
      const now = performance.now();
      if (opts.signal?.aborted) incomplete.add('aborted');
      else if (opts.timeoutMs !== undefined && now - start >= opts.timeoutMs) incomplete.add('timeout');
      else if (total > maxStates) incomplete.add('max-states');
      if (incomplete.size > 0) break;
      if (opts.progress && now - lastProgress >= 250) {
        lastProgress = now;
        // the workers count executions and states only in their reports: the distinct states are what is known
        opts.progress({ distinctStates: total, elapsedMs: Math.round(now - start) });
      }
    }
    peers.forEach((p, w) => p.post({ type: 'report', ranks: ranks[w], base }));
    const reports = await answers(peers, 'report');
    // the reports' arrays are this thread's now: the threads' visited sets and step memos go
    // before the whole graph is built (the peak of a large search was there)
    await pool.stop();
    const result = assemble(reports, total, T, threads, incomplete, start, handover);
    // asked for by name, as on one thread (exhaustive.ts `annotate`): the one-thread search's memo and every worker's
    const memos = [handover?.memoSoFar, ...reports.map((r) => r['memo'] as ExploreResult['memo'])].filter((m) => m !== undefined);
    if (opts.memoSteps !== undefined && memos.length > 0)
      result.memo = memos.reduce((a, m) => ({ steps: a.steps + m.steps, hits: a.hits + m.hits, full: a.full || m.full }), { steps: 0, hits: 0, full: false });
    return result;
  } finally {
    await pool.stop();
  }
}

/**
 * Every worker's answer of `type`. A worker that failed (its thread died, the search's own code
 * threw) fails the search at once. An error the machine's code threw (a flavor module's
 * ModelBug, an InputError, anything) is a worker's answer: once every worker has answered, the
 * one the one-core search meets first (least `at`: each worker's error is its first in that
 * order, and the others finish the level) is thrown as it was thrown, with its kind, message,
 * file, line and hint — what the one-core search throws, whichever worker was quickest.
 */
async function answers(peers: Peer[], type: string): Promise<Msg[]> {
  const all = await Promise.all(peers.map((p) => p.next(type)));
  let first: Msg | undefined;
  for (const m of all) if (m.type === 'error' && (!first || (m['at'] as number) < (first['at'] as number))) first = m;
  if (first) throw workerError(first['error']);
  return all;
}

/** States the coordinator hands a worker thread per message at a handover: it takes in one batch while the coordinator sorts out the next. */
const HANDOVER_BATCH = 1 << 10;

/**
 * The one-thread search's states to their owners ('handover'): worker 0 (this thread, on the
 * same machine) takes its visited set as it is, each other worker the states it owns, as words
 * after the machine's definitions so far, in batches sent as they fill (a worker takes one in
 * while this thread hashes the states of the next: the hashing and the taking in no longer run
 * one after the other). Returns each worker's ranks in the level handed over.
 */
function handOver(peers: Peer[], h: Handover, T: number, batch: number): Int32Array[] {
  const { graph, from } = h;
  const W = peers.length;
  const exchange = h.machine.exchange!;
  const N = graph.size;
  const level = graph.depthOf(from);
  // the first node of the level before: parents' ranks in it make the order keys
  let prev = from;
  while (prev > 0 && graph.depthOf(prev - 1) === level - 1) prev--;
  const defs = exchange.definitions(0);
  // A batch's words: about its share of the packed bytes, or fewer (a word packs into a byte or
  // more), and room to spare; a vector that needs more grows. Worker 0 takes no words.
  const room = Math.ceil((graph.visitedBytes * batch) / Math.max(1, N)) * 2 + (1 << 12);
  const words = Array.from({ length: W }, (_x, w) => new IntVec(w === 0 ? 1 : room));
  const ends = Array.from({ length: W }, (_x, w) => new IntVec(w === 0 ? 1 : batch));
  const ids = Array.from({ length: W }, (_x, w) => new IntVec(w === 0 ? 1 : batch));
  const frontier = Array.from({ length: W }, () => new IntVec());
  /** Per worker: states sent to it so far, and where in them the level handed over starts (-1: not yet). */
  const taken = new Int32Array(W);
  const frontierFrom = new Int32Array(W).fill(-1);
  const send = (w: number, last: boolean): void => {
    const n = ends[w]!.length;
    const m = {
      type: 'handover',
      // the definitions go with a worker's first batch (each worker its own copy: a buffer moves to one thread)
      defs: taken[w]! > 0 ? new Int32Array(0) : defs.slice(),
      words: words[w]!.a.slice(0, words[w]!.length),
      ends: ends[w]!.a.slice(0, n),
      ids: ids[w]!.a.slice(0, n),
      last,
      frontierFrom: 0,
      order: new Float64Array(0),
    };
    taken[w]! += n;
    words[w]!.length = ends[w]!.length = ids[w]!.length = 0;
    if (last) {
      m.frontierFrom = frontierFrom[w] === -1 ? taken[w]! : frontierFrom[w]!;
      m.order = orderKeys(w);
    }
    peers[w]!.post(m, [m.defs.buffer, m.words.buffer, m.ends.buffer, m.ids.buffer, m.order.buffer]);
  };
  // order keys of a worker's part of the level: its parent's rank in the level before, and the thread
  const orderKeys = (w: number): Float64Array<ArrayBuffer> => {
    const f = frontier[w]!;
    const order = new Float64Array(f.length);
    for (let i = 0; i < f.length; i++) {
      const id = f.a[i]!;
      order[i] = (graph.parentOf(id) - prev) * T + graph.viaOf(id);
    }
    return order;
  };
  // owners (owners.ts): of a row by its numbers (its shared words hashed once per shared number), else by its words
  const visited = graph.wordTable;
  const rows = visited instanceof StateTable ? visited : undefined;
  const stepMemo = h.machine.stepMemo;
  const owners = new Owners(exchange, stepMemo && stepMemo.threadsAt.bind(stepMemo), T, W, rows);
  for (let id = 0; id < N; id++) {
    let n = -1;
    let o: number;
    if (rows) o = owners.ofRow(rows.rowData, id * rows.width);
    else {
      n = graph.readWords(id);
      o = owners.ofWords(graph.wordBuffer, n);
    }
    if (id >= from) {
      frontier[o]!.push(id);
      if (frontierFrom[o] === -1) frontierFrom[o] = taken[o]! + ids[o]!.length;
    }
    if (o === 0) continue;
    if (n < 0) n = graph.readWords(id);
    words[o]!.pushAll(graph.wordBuffer, n);
    ends[o]!.push(words[o]!.length);
    ids[o]!.push(id);
    if (ids[o]!.length === batch) send(o, false);
  }
  for (let w = 1; w < W; w++) send(w, true);
  const f0 = frontier[0]!.a.slice(0, frontier[0]!.length);
  // worker 0 goes on with the visited set, and (rows) the step memo over it and the owners' hashes of its shared words
  peers[0]!.post({ type: 'handover', table: visited, count: N, frontier: f0, order: orderKeys(0), memo: rows && h.memo, owners: rows && owners });
  return frontier.map((f) => {
    const r = new Int32Array(f.length);
    for (let i = 0; i < f.length; i++) r[i] = f.a[i]! - from;
    return r;
  });
}

/**
 * The ranks in the level of every worker's new states, each list sorted by order key: a merge.
 * Order keys are distinct (each names the step that first reached a state, and a step reaches
 * one state), so the ranks are the one-core search's numbering of the level.
 */
function mergeRanks(orders: Float64Array[]): Int32Array[] {
  const ranks = orders.map((o) => new Int32Array(o.length));
  const at = new Int32Array(orders.length);
  const total = orders.reduce((t, o) => t + o.length, 0);
  for (let r = 0; r < total; r++) {
    let best = -1;
    for (let w = 0; w < orders.length; w++) {
      if (at[w]! < orders[w]!.length && (best < 0 || orders[w]![at[w]!]! < orders[best]![at[best]!]!)) best = w;
    }
    ranks[best]![at[best]!++] = r;
  }
  return ranks;
}

/** The one-core search's graph from the workers' reports (every number in them is already the one-core search's). */
function assemble(
  reports: Msg[],
  N: number,
  T: number,
  threads: ThreadInfo[],
  incomplete: Set<Incompleteness>,
  start: number,
  handover?: Handover,
): ExploreResult {
  const parent = new Int32Array(N);
  const via = new Int32Array(N);
  const depth = new Int32Array(N);
  const finished = new Int32Array(N);
  let states = 1; // the initial state counts as visited, as in the one-core search
  let executions = 0;
  let maxDepth = 0;
  let edgeCount = 0;
  // the one-thread search's part: its nodes, the edges of those it expanded, its counters
  const probe = handover?.graph;
  const expanded = handover?.from ?? 0;
  const rows = probe?.rows();
  if (handover && probe && rows) {
    for (let id = 0; id < probe.size; id++) {
      parent[id] = probe.parentOf(id);
      via[id] = probe.viaOf(id);
      depth[id] = probe.depthOf(id);
    }
    for (let id = 0; id < expanded; id++) finished[id] = probe.finishedOf(id);
    states = handover.ctx.states;
    executions = handover.ctx.executions;
    maxDepth = handover.ctx.maxDepth;
    edgeCount = rows.start[expanded]!;
    for (const r of handover.ctx.incomplete) incomplete.add(r);
  }
  for (const r of reports) {
    const ids = r['ids'] as Int32Array;
    const p = r['parent'] as Int32Array;
    const v = r['via'] as Int32Array;
    const d = r['depth'] as Int32Array;
    for (let l = 0; l < ids.length; l++) {
      const id = ids[l]!;
      parent[id] = p[l]!;
      via[id] = v[l]!;
      depth[id] = d[l]!;
    }
    const fin = r['finished'] as Int32Array;
    for (let i = 0; i < fin.length; i += 2) finished[fin[i]!] = fin[i + 1]!;
    states += r['states'] as number;
    executions += r['executions'] as number;
    maxDepth = Math.max(maxDepth, r['maxDepth'] as number);
    edgeCount += (r['edges'] as Int32Array).length / 3;
    if (r['depthCut']) incomplete.add('max-depth');
  }
  // Edges grouped by source, each node's in thread order (the order the one-core search adds them).
  const start0 = new Int32Array(N + 1);
  if (rows) for (let v = 0; v < expanded; v++) start0[v + 1] = rows.start[v + 1]! - rows.start[v]!;
  for (const r of reports) {
    const e = r['edges'] as Int32Array;
    for (let i = 0; i < e.length; i += 3) start0[e[i]! + 1]!++;
  }
  for (let v = 0; v < N; v++) start0[v + 1]! += start0[v]!;
  const fill = start0.slice(0, N);
  const eThread = new Int32Array(edgeCount);
  const eTo = new Int32Array(edgeCount);
  if (rows) {
    // the one-thread search's rows come first, as they are
    const m = rows.start[expanded]!;
    eThread.set(rows.thread.subarray(0, m));
    eTo.set(rows.to.subarray(0, m));
    for (let v = 0; v < expanded; v++) fill[v] = start0[v + 1]!;
  }
  for (const r of reports) {
    const e = r['edges'] as Int32Array;
    for (let i = 0; i < e.length; i += 3) {
      const k = fill[e[i]!]!++;
      eThread[k] = e[i + 1]!;
      eTo[k] = e[i + 2]!;
    }
  }
  sortRowsByThread(start0, eThread, eTo);
  const graph = new RebuiltGraph(T, N, parent, via, depth, finished, { start: start0, thread: eThread, to: eTo });

  const sightings = reports.flatMap((r) => r['sightings'] as WorkerSighting[]);
  sightings.sort((a, b) => a.length - b.length || a.key - b.key || a.kind - b.kind);
  const book = new ViolationBook();
  // the one-thread search's sightings are shorter than the workers', or as long and first
  if (handover) for (const s of handover.ctx.book.sightings()) book.add(s);
  for (const s of sightings) {
    const node = s.node;
    const schedule = s.thread >= 0 ? [...graph.path(node), s.thread] : graph.path(node);
    const seen: Sighting = { violation: s.violation, schedule, at: s.at };
    if (s.threads) seen.threads = s.threads;
    book.add(seen);
  }
  if (incomplete.size === 0 || (incomplete.size === 1 && incomplete.has('max-depth'))) {
    const full = incomplete.size === 0;
    // A cut graph (max-depth) is judged like the one-core search judges it: without confirmation only when full.
    if (full) for (const s of findLivelocks(graph, { threads } as unknown as Machine<unknown>).sightings) book.add(s);
  }
  const violations = book.list();
  const reasons = (['max-depth', 'max-states', 'timeout', 'aborted'] as const).filter((r) => incomplete.has(r));
  const exhaustive = reasons.length === 0;
  const timeMs = performance.now() - start;
  return {
    verdict: violations.length > 0 ? 'violation' : exhaustive ? 'clean' : 'incomplete',
    strategy: 'exhaustive',
    exhaustive,
    incomplete: reasons,
    violations,
    stats: {
      executions,
      states,
      distinctStates: N,
      timeMs: Math.round(timeMs * 10) / 10,
      statesPerSec: timeMs > 0 ? Math.round((states * 1000) / timeMs) : 0,
      maxDepth,
      cycles: 0,
      sleepBlocked: 0,
    },
  };
}
