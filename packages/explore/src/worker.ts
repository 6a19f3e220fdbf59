/**
 * One worker of the parallel exhaustive search (parallel.ts). Two roles:
 * - owner of the states whose key hashes to it: it deduplicates them, numbers them (its local
 *   index; global id = local × workers + worker), keeps their parent, thread, depth and edges;
 * - holder of the states it expands: a successor stays in the worker that computed it when its
 *   owner picks that worker to keep it (states never travel for deduplication, only keys do);
 *   the coordinator moves a few states between levels when holders drift out of balance.
 * Nothing here decides an order: the coordinator ranks every level, so the result is the same
 * whatever the timing of the workers.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Machine, ModelViolation, StepOutcome } from '@kreplay/core';
import { advancer } from './exhaustive.js';
import { deadlockSighting, readyMasks, survey } from './ends.js';
import { IntVec } from './graph.js';
import { fingerprint } from './shard.js';
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
  /** Global id of the parent (step) or of the state (end). */
  node: number;
  /** The thread of the step, -1 for an end. */
  thread: number;
  threads?: number[];
}

/** Successors on their way to their owner: keys, order keys (parent rank × T + thread), parents' global ids. */
interface Candidates {
  type: 'cand';
  keys: string[];
  order: Float64Array;
  parents: Int32Array;
}

/** An owner's word to a holder: keep the state of each key, under this global id. */
interface Keep {
  type: 'keep';
  keys: string[];
  gids: Int32Array;
}

/** States the coordinator moved from one holder to another. */
interface Move {
  type: 'move';
  gids: Int32Array;
  states: unknown[];
}

const less = (a: WorkerSighting, b: WorkerSighting): boolean =>
  a.length !== b.length ? a.length < b.length : a.key !== b.key ? a.key < b.key : a.kind < b.kind;

export function ownerOf(key: string, workers: number): number {
  return fingerprint(key)[0] % workers;
}

class SearchWorker<S> {
  private readonly T: number;
  private readonly W: number;
  private readonly me: number;
  // owner
  private readonly ids = new Map<string, number>();
  private readonly parent = new IntVec();
  private readonly via = new IntVec();
  private readonly depth = new IntVec();
  private readonly order: number[] = [];
  private readonly edges = new IntVec(4096);
  private candInbox: Candidates[] = [];
  // holder
  private readonly held = new Map<number, S>();
  private level: { gid: number; rank: number; order: number }[] = [];
  private readonly cand = new Map<string, S>();
  private readonly finished = new IntVec();
  private readonly best = new Map<string, WorkerSighting>();
  private states = 0;
  private executions = 0;
  private maxDepth = 0;
  private depthCut = false;

  constructor(private readonly machine: Machine<S>, init: WorkerInit, private readonly peers: (MessagePort | null)[]) {
    this.T = machine.threads.length;
    this.W = init.workers;
    this.me = init.me;
    this.maxDepthCap = init.maxDepth;
    this.advance = advancer(machine);
  }

  private readonly advance: (s: S, t: number) => StepOutcome<S>;

  private readonly maxDepthCap: number;

  private gid(local: number): number {
    return local * this.W + this.me;
  }

  private sight(s: WorkerSighting): void {
    const old = this.best.get(s.violation.rule);
    if (!old || less(s, old)) this.best.set(s.violation.rule, s);
  }

  /** The initial state: its owner numbers it and holds it. */
  start(): number {
    const s0 = this.machine.initial();
    const k0 = this.machine.key(s0);
    if (ownerOf(k0, this.W) !== this.me) return 0;
    this.ids.set(k0, 0);
    this.parent.push(-1);
    this.via.push(-1);
    this.depth.push(0);
    this.order.push(0);
    this.held.set(this.gid(0), s0);
    return 1;
  }

  /** The states to expand next, in rank order; `give` are sent to other holders first. */
  setLevel(gids: Int32Array, ranks: Int32Array, orders: Float64Array, give: { to: number; gids: Int32Array }[]): void {
    for (const g of give) {
      const states = Array.from(g.gids, (id) => {
        const s = this.held.get(id)!;
        this.held.delete(id);
        return s;
      });
      const m: Move = { type: 'move', gids: g.gids, states };
      this.peers[g.to]!.postMessage(m);
    }
    this.level = Array.from(gids, (gid, i) => ({ gid, rank: ranks[i]!, order: orders[i]! })).sort((a, b) => a.rank - b.rank);
  }

  receiveMove(m: Move): void {
    m.gids.forEach((gid, i) => this.held.set(gid, m.states[i] as S));
  }

  /** Expand this level's states; send each successor's key to its owner, keep the state until the owner says who holds it. */
  expand(): void {
    const W = this.W;
    const keys: string[][] = Array.from({ length: W }, () => []);
    const orders: number[][] = Array.from({ length: W }, () => []);
    const parents: number[][] = Array.from({ length: W }, () => []);
    for (const { gid, rank: r, order } of this.level) {
      const s = this.held.get(gid)!;
      this.held.delete(gid);
      const d = this.levelDepth;
      const { finished, enabled } = readyMasks(this.machine, s);
      this.finished.push(gid);
      this.finished.push(finished);
      if (finished === (1 << this.T) - 1) {
        this.executions++;
        for (const v of this.machine.final?.(s) ?? []) this.sight({ violation: v, at: 'final', length: d, key: order, kind: 1, node: gid, thread: -1 });
        continue;
      }
      if (enabled === 0) {
        this.executions++;
        const dl = deadlockSighting(this.machine, survey(this.machine, s).next, []);
        this.sight({ violation: dl.violation, at: 'state', length: d, key: order, kind: 1, node: gid, thread: -1, threads: dl.threads! });
        continue;
      }
      if (d >= this.maxDepthCap) {
        this.depthCut = true;
        continue;
      }
      for (let t = 0; t < this.T; t++) {
        if (!(enabled & (1 << t))) continue;
        const res = this.advance(s, t);
        const key = this.machine.key(res.state);
        this.states++;
        if (d + 1 > this.maxDepth) this.maxDepth = d + 1;
        const ord = r * this.T + t;
        for (const v of res.violations) {
          const old = this.best.get(v.rule);
          if (!old || old.length >= d + 1) this.sight({ violation: v, at: 'step', length: d + 1, key: ord, kind: 0, node: gid, thread: t });
        }
        if (!this.cand.has(key)) this.cand.set(key, res.state);
        const o = ownerOf(key, W);
        keys[o]!.push(key);
        orders[o]!.push(ord);
        parents[o]!.push(gid);
      }
    }
    this.level = [];
    for (let o = 0; o < W; o++) {
      const c: Candidates = { type: 'cand', keys: keys[o]!, order: Float64Array.from(orders[o]!), parents: Int32Array.from(parents[o]!) };
      if (o === this.me) this.candInbox.push(c);
      else this.peers[o]!.postMessage(c);
    }
  }

  levelDepth = 0;

  receiveCandidates(c: Candidates): void {
    this.candInbox.push(c);
  }

  /**
   * As owner, once every worker's candidates are in: number the new states (least order key
   * wins: that is the least schedule), record every edge, and tell each holder what to keep —
   * of the workers that computed a new state, the one given the fewest so far this level.
   * Returns the new states' order keys, local indices and holders, for the coordinator.
   */
  settle(): { order: Float64Array; locals: Int32Array; holders: Int32Array } {
    const W = this.W;
    const fresh: number[] = [];
    const freshKeys: string[] = [];
    const from = new Map<number, number>(); // local → bitmask of workers that computed it
    for (let w = 0; w < this.candInbox.length; w++) {
      const b = this.candInbox[w]!;
      for (let i = 0; i < b.keys.length; i++) {
        const key = b.keys[i]!;
        const ord = b.order[i]!;
        // The batch's origin holds the parent: it computed this successor and has its state.
        const holderBit = 1 << ((b as Candidates & { origin?: number }).origin ?? this.me);
        let local = this.ids.get(key);
        if (local === undefined) {
          local = this.parent.length;
          this.ids.set(key, local);
          this.parent.push(b.parents[i]!);
          this.via.push(ord % this.T);
          this.depth.push(this.levelDepth + 1);
          this.order.push(ord);
          fresh.push(local);
          freshKeys.push(key);
          from.set(local, holderBit);
        } else if (from.has(local)) {
          from.set(local, from.get(local)! | holderBit);
          if (ord < this.order[local]!) {
            this.order[local] = ord;
            this.parent.a[local] = b.parents[i]!;
            this.via.a[local] = ord % this.T;
          }
        }
        this.edges.push(b.parents[i]!);
        this.edges.push(ord % this.T);
        this.edges.push(local);
      }
    }
    this.candInbox = [];
    const given = new Array<number>(W).fill(0);
    const keepKeys: string[][] = Array.from({ length: W }, () => []);
    const keepGids: number[][] = Array.from({ length: W }, () => []);
    const holders = new Int32Array(fresh.length);
    fresh.forEach((local, i) => {
      const mask = from.get(local)!;
      let h = -1;
      for (let w = 0; w < W; w++) if (mask & (1 << w) && (h < 0 || given[w]! < given[h]!)) h = w;
      given[h]!++;
      holders[i] = h;
      keepKeys[h]!.push(freshKeys[i]!);
      keepGids[h]!.push(this.gid(local));
    });
    for (let w = 0; w < W; w++) {
      const k: Keep = { type: 'keep', keys: keepKeys[w]!, gids: Int32Array.from(keepGids[w]!) };
      if (w === this.me) this.keep(k);
      else this.peers[w]!.postMessage(k);
    }
    return { order: Float64Array.from(fresh, (l) => this.order[l]!), locals: Int32Array.from(fresh), holders };
  }

  keepsGot = 0;

  /** A holder keeps the states its owners picked it for; the rest of this level's successors are dropped. */
  keep(k: Keep): void {
    k.keys.forEach((key, i) => this.held.set(k.gids[i]!, this.cand.get(key)!));
    if (++this.keepsGot === this.W) {
      this.keepsGot = 0;
      this.cand.clear();
    }
  }

  heldCount(): number {
    return this.held.size;
  }

  report(): Record<string, unknown> {
    const n = this.parent.length;
    return {
      parent: this.parent.a.slice(0, n), via: this.via.a.slice(0, n), depth: this.depth.a.slice(0, n),
      finished: this.finished.a.slice(0, this.finished.length),
      edges: this.edges.a.slice(0, this.edges.length),
      sightings: [...this.best.values()],
      states: this.states, executions: this.executions, maxDepth: this.maxDepth, depthCut: this.depthCut,
    };
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const mod = (await import(pathToFileURL(init.source.module).href)) as Record<string, (a: unknown) => Promise<Machine<unknown>>>;
  const factory = mod[init.source.name];
  if (typeof factory !== 'function') throw new Error(`${init.source.module} exports no function ${init.source.name}`);
  const machine = await factory(init.source.args);
  const port = parentPort!;
  const W = init.workers;
  const peers: (MessagePort | null)[] = new Array(W).fill(null);
  let w: SearchWorker<unknown> | undefined;
  // Each phase waits for messages from the other workers; some may come before the phase starts.
  let candsGot = 0;
  let expanding = false;
  let movesExpected = -1;
  let movesGot = 0;
  const tryLevel = (): void => {
    if (movesExpected < 0 || movesGot < movesExpected) return;
    movesExpected = -1;
    movesGot = 0;
    port.postMessage({ type: 'leveled' });
  };
  const trySettle = (): void => {
    if (!expanding || candsGot < W - 1) return;
    expanding = false;
    candsGot = 0;
    const s = w!.settle();
    port.postMessage({ type: 'settled', ...s }, [s.order.buffer as ArrayBuffer, s.locals.buffer as ArrayBuffer, s.holders.buffer as ArrayBuffer]);
    tryKept();
  };
  let keptSent = true;
  const tryKept = (): void => {
    if (w!.keepsGot !== 0 || keptSent) return;
    keptSent = true;
    port.postMessage({ type: 'kept', held: w!.heldCount() });
  };
  port.on('message', (m: { type: string; [k: string]: unknown }) => {
    switch (m.type) {
      case 'peers':
        for (const [i, p] of (m['ports'] as [number, MessagePort][])) {
          peers[i] = p;
          p.on('message', (b: { type: string }) => {
            if (b.type === 'cand') {
              (b as Candidates & { origin: number }).origin = i;
              w!.receiveCandidates(b as Candidates);
              candsGot++;
              trySettle();
            } else if (b.type === 'keep') {
              w!.keep(b as Keep);
              tryKept();
            } else if (b.type === 'move') {
              w!.receiveMove(b as Move);
              movesGot++;
              tryLevel();
            }
          });
        }
        w = new SearchWorker(machine, init, peers);
        port.postMessage({ type: 'started', count: w.start() });
        break;
      case 'level':
        w!.levelDepth = m['depth'] as number;
        w!.setLevel(m['gids'] as Int32Array, m['ranks'] as Int32Array, m['orders'] as Float64Array, m['give'] as { to: number; gids: Int32Array }[]);
        movesExpected = m['expect'] as number;
        tryLevel();
        break;
      case 'expand':
        expanding = true;
        keptSent = false;
        w!.expand();
        trySettle();
        break;
      case 'report':
        port.postMessage({ type: 'report', ...w!.report() });
        break;
    }
  });
  port.postMessage({ type: 'ready', threads: machine.threads.map((t) => ({ id: t.id, name: t.name, program: t.program, args: {} })) });
}

if (parentPort && (workerData as WorkerInit | undefined)?.source) {
  main().catch((e: unknown) => {
    parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
  });
}
