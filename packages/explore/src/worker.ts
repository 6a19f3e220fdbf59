/**
 * One worker of the parallel exhaustive search (parallel.ts): it owns the states whose key
 * hashes to it, keeps them until they are expanded, expands them level by level when the
 * coordinator says so, and sends each successor to its owner over a direct port. Nothing here
 * decides an order: the coordinator ranks every level, so the result is the same whatever the
 * timing of the workers.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Machine, ModelViolation } from '@kreplay/core';
import { deadlockSighting, survey } from './ends.js';
import { IntVec } from './graph.js';
import { fingerprint } from './shard.js';
import type { FoundViolation } from './types.js';

/** Where a worker gets its Machine: a module URL, the name of an async factory it exports, and that factory's argument. */
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
  /** Global id (local index × workers + worker) of the parent (step) or of the state (end). */
  node: number;
  /** The thread of the step, -1 for an end. */
  thread: number;
  threads?: number[];
}

/** A successor on its way to its owner: key, order key (parent rank × T + thread), parent's global id, state. */
interface Batch {
  keys: string[];
  order: Float64Array;
  parents: Int32Array;
  states: unknown[];
}

const less = (a: WorkerSighting, b: WorkerSighting): boolean =>
  a.length !== b.length ? a.length < b.length : a.key !== b.key ? a.key < b.key : a.kind < b.kind;

export function ownerOf(key: string, workers: number): number {
  return fingerprint(key)[0] % workers;
}

class SearchWorker<S> {
  private readonly T: number;
  private readonly ids = new Map<string, number>();
  private readonly parent = new IntVec();
  private readonly via = new IntVec();
  private readonly depth = new IntVec();
  private readonly finished = new IntVec();
  private readonly order: number[] = [];
  private readonly pending: (S | undefined)[] = [];
  /** Edges recorded at the owner of their destination: parent gid, thread, local destination. */
  private readonly edges = new IntVec(4096);
  private readonly best = new Map<string, WorkerSighting>();
  /** This level's new nodes (local indices), and the ranks the coordinator gave them. */
  private fresh: number[] = [];
  private level: number[] = [];
  private ranks = new Map<number, number>();
  private inbox: Batch[] = [];
  private states = 0;
  private executions = 0;
  private maxDepth = 0;
  private depthCut = false;

  constructor(private readonly machine: Machine<S>, private readonly init: WorkerInit, private readonly peers: (MessagePort | null)[]) {
    this.T = machine.threads.length;
  }

  private gid(local: number): number {
    return local * this.init.workers + this.init.me;
  }

  private beaten(rule: string, length: number): boolean {
    const old = this.best.get(rule);
    return old !== undefined && old.length < length;
  }

  private sight(s: WorkerSighting): void {
    const old = this.best.get(s.violation.rule);
    if (!old || less(s, old)) this.best.set(s.violation.rule, s);
  }

  /** The initial state, owned by whoever its key hashes to. */
  start(): number {
    const s0 = this.machine.initial();
    const k0 = this.machine.key(s0);
    if (ownerOf(k0, this.init.workers) !== this.init.me) return 0;
    this.add(k0, -1, -1, 0, 0, s0);
    return 1;
  }

  private add(key: string, parentGid: number, thread: number, depth: number, order: number, state: S): number {
    const local = this.parent.length;
    this.ids.set(key, local);
    this.parent.push(parentGid);
    this.via.push(thread);
    this.depth.push(depth);
    this.finished.push(0);
    this.order.push(order);
    this.pending.push(state);
    this.fresh.push(local);
    return local;
  }

  /** Expand this level's nodes (in rank order); send every successor to its owner. */
  expand(): void {
    const W = this.init.workers;
    const out: Batch[] = Array.from({ length: W }, () => ({ keys: [], order: new Float64Array(0), parents: new Int32Array(0), states: [] }));
    const orders: number[][] = Array.from({ length: W }, () => []);
    const parents: number[][] = Array.from({ length: W }, () => []);
    for (const local of this.level) {
      const s = this.pending[local]!;
      this.pending[local] = undefined;
      const r = this.ranks.get(local)!;
      const d = this.depth.a[local]!;
      const { next, finished, enabled } = survey(this.machine, s);
      this.finished.a[local] = finished;
      if (finished === (1 << this.T) - 1) {
        this.executions++;
        for (const v of this.machine.final?.(s) ?? []) this.sight({ violation: v, at: 'final', length: d, key: this.order[local]!, kind: 1, node: this.gid(local), thread: -1 });
        continue;
      }
      if (enabled === 0) {
        this.executions++;
        const dl = deadlockSighting(this.machine, next, []);
        this.sight({ violation: dl.violation, at: 'state', length: d, key: this.order[local]!, kind: 1, node: this.gid(local), thread: -1, threads: dl.threads! });
        continue;
      }
      if (d >= this.init.maxDepth) {
        this.depthCut = true;
        continue;
      }
      for (let t = 0; t < this.T; t++) {
        if (!(enabled & (1 << t))) continue;
        const res = this.machine.step(s, t);
        const key = this.machine.key(res.state);
        this.states++;
        if (d + 1 > this.maxDepth) this.maxDepth = d + 1;
        const ord = r * this.T + t;
        for (const v of res.violations) if (!this.beaten(v.rule, d + 1)) this.sight({ violation: v, at: 'step', length: d + 1, key: ord, kind: 0, node: this.gid(local), thread: t });
        const o = ownerOf(key, W);
        out[o]!.keys.push(key);
        orders[o]!.push(ord);
        parents[o]!.push(this.gid(local));
        out[o]!.states.push(res.state);
      }
    }
    this.ranks.clear();
    for (let o = 0; o < W; o++) {
      out[o]!.order = Float64Array.from(orders[o]!);
      out[o]!.parents = Int32Array.from(parents[o]!);
      if (o === this.init.me) this.inbox.push(out[o]!);
      else this.peers[o]!.postMessage(out[o]!);
    }
  }

  receive(b: Batch): void {
    this.inbox.push(b);
  }

  /** Every batch of the level is in: keep the new states (least order key wins), record every edge. */
  settle(depth: number): { order: Float64Array; locals: Int32Array } {
    this.fresh = [];
    const seenAt = new Map<number, number>(); // local → index in fresh, for nodes new this level
    for (const b of this.inbox) {
      for (let i = 0; i < b.keys.length; i++) {
        const key = b.keys[i]!;
        const ord = b.order[i]!;
        let local = this.ids.get(key);
        if (local === undefined) {
          local = this.add(key, b.parents[i]!, ord % this.T, depth, ord, b.states[i] as S);
          seenAt.set(local, this.fresh.length - 1);
        } else if (seenAt.has(local) && ord < this.order[local]!) {
          // Found again in this level by a step earlier in rank order: that one is its least schedule.
          this.order[local] = ord;
          this.parent.a[local] = b.parents[i]!;
          this.via.a[local] = ord % this.T;
          this.pending[local] = b.states[i] as S;
        }
        this.edges.push(b.parents[i]!);
        this.edges.push(ord % this.T);
        this.edges.push(local);
      }
    }
    this.inbox = [];
    return { order: Float64Array.from(this.fresh.map((l) => this.order[l]!)), locals: Int32Array.from(this.fresh) };
  }

  /** The coordinator's ranks of this worker's new nodes (same order as `settle` listed them). */
  rank(locals: Int32Array, ranks: Int32Array): void {
    const idx = Array.from(locals.keys()).sort((a, b) => ranks[a]! - ranks[b]!);
    this.level = idx.map((i) => locals[i]!);
    for (let i = 0; i < locals.length; i++) this.ranks.set(locals[i]!, ranks[i]!);
  }

  report(): Record<string, unknown> {
    const n = this.parent.length;
    return {
      parent: this.parent.a.slice(0, n), via: this.via.a.slice(0, n), depth: this.depth.a.slice(0, n), finished: this.finished.a.slice(0, n),
      edges: this.edges.a.slice(0, this.edges.length),
      sightings: [...this.best.values()],
      states: this.states, executions: this.executions, maxDepth: this.maxDepth, depthCut: this.depthCut,
    };
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const mod = (await import(init.source.module)) as Record<string, (a: unknown) => Promise<Machine<unknown>>>;
  const factory = mod[init.source.name];
  if (typeof factory !== 'function') throw new Error(`${init.source.module} exports no function ${init.source.name}`);
  const machine = await factory(init.source.args);
  const port = parentPort!;
  const peers: (MessagePort | null)[] = new Array(init.workers).fill(null);
  let w: SearchWorker<unknown> | undefined;
  let expected = 0;
  let got = 0;
  let settleDepth = 0;
  const trySettle = (): void => {
    if (expected < 0 || got < expected) return;
    got = 0;
    expected = -1;
    const s = w!.settle(settleDepth);
    port.postMessage({ type: 'settled', order: s.order, locals: s.locals }, [s.order.buffer as ArrayBuffer, s.locals.buffer as ArrayBuffer]);
  };
  port.on('message', (m: { type: string; [k: string]: unknown }) => {
    switch (m.type) {
      case 'peers':
        for (const [i, p] of (m['ports'] as [number, MessagePort][])) {
          peers[i] = p;
          p.on('message', (b: Batch) => {
            w!.receive(b);
            got++;
            trySettle();
          });
        }
        w = new SearchWorker(machine, init, peers);
        port.postMessage({ type: 'started', count: w.start() });
        break;
      case 'rank':
        w!.rank(m['locals'] as Int32Array, m['ranks'] as Int32Array);
        port.postMessage({ type: 'ranked' });
        break;
      case 'expand':
        settleDepth = m['depth'] as number;
        expected = init.workers - 1;
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
