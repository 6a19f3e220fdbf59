/**
 * The exhaustive search split over independent jobs (`explore --shard i/n`), and the merge
 * that turns the shards' results into exactly the result of one unsharded run.
 *
 * Partition: breadth-first, the search runs level by level until a level holds at least
 * `splitWidth(n)` states (the split level). Every shard expands every level above it — the
 * same small top of the graph in each — and then only the subtrees of the split-level states
 * it owns: state k of the level (in node order, which is the order of their shortest
 * schedules) belongs to shard i when k mod n = i - 1, core's one shard convention. A state
 * past the split level that another shard also reaches is explored by both: shards share no
 * memory, so some states are searched twice; nothing is searched by none, because every
 * state's least shortest schedule passes through exactly one split-level state, and its
 * owner reaches it along that schedule (and on it, at its true depth and least schedule).
 *
 * Merge (`mergeShards`): a violation is the least (length, thread ids) schedule any shard
 * found for its rule — the unsharded run's, by the argument above. The counters are those
 * of the union: the top once, then each state past the split counted once, found by a
 * 64-bit fingerprint of its key that every shard reports for each state it expanded (with
 * its depth, steps taken and whether it is an end). A fingerprint collision (two different
 * states, same 64 bits: about n²/2⁶⁵, 3·10⁻⁸ for a million states) could only make a
 * counter one lower; verdicts and schedules never depend on fingerprints.
 *
 * A state graph with a cycle is not merged: livelock is judged on the whole graph, which no
 * shard holds (each shard confirms its own candidates; the merge refuses, exit 2, and says to
 * run unsharded).
 */
import type { Shard } from '@kreplay/core';
import { InputError } from '@kreplay/core';
import type { RunContext } from './context.js';
import { IntVec, type StateGraph } from './graph.js';
import { sccs } from './liveness.js';
import type { ExploreResult } from './types.js';

/** Split-level width per shard: enough states that round-robin ownership spreads the work. */
export const SPLIT_PER_SHARD = 8;

export function splitWidth(count: number): number {
  return count <= 1 ? Number.POSITIVE_INFINITY : SPLIT_PER_SHARD * count;
}

/** What one shard reports beyond the ordinary result, for the merge. */
export interface ShardPart {
  version: 1;
  /** Null when the whole graph was searched before any level was wide enough: every shard then holds the whole result. */
  split: null | {
    depth: number;
    /** Nodes of the levels up to and including the split level. */
    topDistinct: number;
    /** Counters of expanding the levels above the split level (the same in every shard). */
    topStates: number;
    topExecutions: number;
    topMaxDepth: number;
  };
  /** True when this shard's graph has a cycle (the merge then refuses). */
  cyclic: boolean;
  /** Per expanded state past the top: fingerprint (2 words), depth, (steps << 2) | end << 1 | splitLevel; base64 of little-endian uint32s. */
  records: string;
}

/** Two independent 32-bit hashes of a key (FNV-1a and a multiply-rotate hash): its 64-bit fingerprint. */
export function fingerprint(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul((b ^ c) + 0x7f4a7c15, 0x85ebca6b);
    b = (b << 13) | (b >>> 19);
  }
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
  return [a >>> 0, (b ^ (b >>> 13)) >>> 0];
}

/** Collects, during a sharded search, what the merge needs. */
export class ShardRecorder {
  split: { depth: number; start: number; end: number; states: number; executions: number; maxDepth: number } | null = null;
  private done = false;
  private cyclic = false;
  private readonly fpA = new IntVec();
  private readonly fpB = new IntVec();
  private readonly rec = new IntVec();

  constructor(readonly shard: Shard) {}

  /** A new node, in id order: keep its fingerprint. */
  discovered(key: string): void {
    const [a, b] = fingerprint(key);
    this.fpA.push(a | 0);
    this.fpB.push(b | 0);
  }

  /** The split level starts at node `start`; the nodes of it are start..end-1. */
  splitAt(ctx: RunContext, depth: number, start: number, end: number): void {
    this.split = { depth, start, end, states: ctx.states, executions: ctx.executions, maxDepth: ctx.maxDepth };
  }

  /** The search ended with no level wide enough to split. */
  unsplit(_ctx: RunContext, _size: number): void {
    this.done = true;
  }

  /** Node `id` was expanded (steps taken from it; end: all finished or deadlocked). */
  expanded(id: number, depth: number, steps: number, end: boolean): void {
    const s = this.split;
    if (!s || id < s.start) return;
    const r = this.rec;
    r.push(this.fpA.a[id]!);
    r.push(this.fpB.a[id]!);
    r.push(depth);
    r.push((steps << 2) | (end ? 2 : 0) | (id < s.end ? 1 : 0));
  }

  judgeGraph(graph: StateGraph): void {
    this.cyclic = sccs(graph).cyclic.includes(1);
  }

  part(_result: ExploreResult): ShardPart {
    const s = this.split;
    const bytes = new Uint8Array(this.rec.a.buffer, 0, this.rec.length * 4);
    return {
      version: 1,
      split: s && !this.done
        ? { depth: s.depth, topDistinct: s.end, topStates: s.states, topExecutions: s.executions, topMaxDepth: s.maxDepth }
        : null,
      cyclic: this.cyclic,
      records: s ? Buffer.from(bytes).toString('base64') : '',
    };
  }
}

/** The `--json` object of one shard, as `exploreJson` writes it (the fields the merge reads). */
interface ShardJson {
  verdict: string;
  scenario: string;
  flavor: string;
  strategy: string;
  exhaustive: boolean;
  incomplete: string[];
  threads: unknown[];
  violations: { rule: string; schedule: number[]; cycle?: number[] }[];
  stats: Record<string, number>;
  shard?: Shard;
  part?: ShardPart;
}

const REASONS = ['preemption-bound', 'max-executions', 'max-depth', 'max-states', 'timeout', 'aborted', 'random', 'schedule'];

function bad(what: string, file: string | undefined, hint: string): InputError {
  return new InputError(what, file === undefined ? { hint } : { file, hint });
}

/** Shorter first, then lexicographic by thread id (context.ts's order, on JSON schedules). */
function lessSchedule(a: { schedule: number[]; cycle?: number[] }, b: { schedule: number[]; cycle?: number[] }): boolean {
  const x = a.cycle ? [...a.schedule, ...a.cycle] : a.schedule;
  const y = b.cycle ? [...b.schedule, ...b.cycle] : b.schedule;
  if (x.length !== y.length) return x.length < y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
}

/** Open-addressing set of 64-bit fingerprints with the least depth seen for each. */
class FingerprintTable {
  private cap: number;
  private keys: Int32Array;
  private vals: Int32Array;
  /** Slot → index of the record that first filled it, -1 when empty. */
  readonly first: Int32Array;
  private readonly used: Uint8Array;
  size = 0;

  constructor(n: number) {
    this.cap = 1 << Math.max(4, Math.ceil(Math.log2(n * 2 + 2)));
    this.keys = new Int32Array(this.cap * 2);
    this.vals = new Int32Array(this.cap);
    this.first = new Int32Array(this.cap).fill(-1);
    this.used = new Uint8Array(this.cap);
  }

  /** Insert or lower the depth; returns the slot and whether it is new. */
  add(a: number, b: number, depth: number, record: number): number {
    const mask = this.cap - 1;
    let i = (Math.imul(a ^ (b >>> 7), 0x9e3779b1) >>> 0) & mask;
    for (;;) {
      if (!this.used[i]) {
        this.used[i] = 1;
        this.keys[2 * i] = a;
        this.keys[2 * i + 1] = b;
        this.vals[i] = depth;
        this.first[i] = record;
        this.size++;
        return i;
      }
      if (this.keys[2 * i] === a && this.keys[2 * i + 1] === b) {
        if (depth < this.vals[i]!) this.vals[i] = depth;
        return ~i;
      }
      i = (i + 1) & mask;
    }
  }

  depthAt(slot: number): number {
    return this.vals[slot]!;
  }

  slots(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.cap; i++) if (this.used[i]) out.push(i);
    return out;
  }
}

/** What the merge reads of each shard: a result, in `--json` shape or as an ExploreResult. */
export interface ShardOutcome<V extends MergeableViolation = MergeableViolation> {
  violations: V[];
  incomplete: string[];
  stats: Record<string, number> | ExploreResult['stats'];
  shard?: Shard;
  part?: ShardPart;
}

export interface MergeableViolation {
  rule: string;
  schedule: number[];
  cycle?: number[];
}

/**
 * Combine the `--json` results of every shard i/n of one exhaustive search (any order) into the
 * `--json` result one unsharded run gives: the same verdict, violations, schedules and counters.
 * Timing (`timeMs`, `statesPerSec`) is kept only when every shard has it: the sum of the shards'
 * times (the work they did), and the rate over it. `files` name the inputs in error messages.
 */
export function mergeShards(inputs: readonly unknown[], files: readonly string[] = []): Record<string, unknown> {
  const parts = inputs.map((x, k) => checkPart(x, files[k]));
  for (let k = 1; k < parts.length; k++) {
    for (const f of ['scenario', 'flavor'] as const) {
      if (parts[k]![f] !== parts[0]![f]) throw bad(`shards of different runs: ${f} ${JSON.stringify(parts[k]![f])} here, ${JSON.stringify(parts[0]![f])} in the first`, files[k], 'merge the shards of one scenario and flavor');
    }
    if (JSON.stringify(parts[k]!.threads) !== JSON.stringify(parts[0]!.threads)) {
      throw bad('shards of runs with different threads', files[k], 'merge the shards of one scenario and flavor');
    }
  }
  const m = mergeOutcomes(parts, files);
  const first = parts[0]!;
  return {
    verdict: m.verdict,
    scenario: first.scenario,
    flavor: first.flavor,
    strategy: first.strategy,
    exhaustive: m.exhaustive,
    incomplete: m.incomplete,
    threads: first.threads,
    violations: m.violations,
    stats: m.stats,
  };
}

/** The merge itself, on any shape of shard result: verdict, violations, reasons and counters of the whole search. */
export function mergeOutcomes<V extends MergeableViolation>(parts: readonly ShardOutcome<V>[], files: readonly string[] = []): {
  verdict: ExploreResult['verdict'];
  exhaustive: boolean;
  incomplete: ExploreResult['incomplete'];
  violations: V[];
  stats: Record<string, number>;
} {
  if (parts.length === 0) throw bad('nothing to merge', undefined, 'kreplay merge shard-1.json shard-2.json ... (the --json output of explore --shard i/n)');
  const first = parts[0]!;
  if (!first.shard || !first.part) throw bad('not a shard of an exhaustive search', files[0], 'give the --json output of kreplay explore --shard i/n');
  const n = first.shard.count;
  const seen = new Array<boolean>(n).fill(false);
  parts.forEach((p, k) => {
    if (!p.shard || !p.part) throw bad('not a shard of an exhaustive search', files[k], 'give the --json output of kreplay explore --shard i/n');
    if (p.shard.count !== n) throw bad(`shard ${p.shard.index}/${p.shard.count} does not belong to a run in ${n} shards`, files[k], 'merge the shards of one run');
    if (seen[p.shard.index - 1]) throw bad(`shard ${p.shard.index}/${n} given twice`, files[k], 'give each shard once');
    seen[p.shard.index - 1] = true;
    if (JSON.stringify(p.part.split) !== JSON.stringify(first.part!.split)) {
      throw bad('shards that did not split the same search (a different model, flavor version or kreplay)', files[k], 'run every shard with the same kreplay, scenario and flavor');
    }
  });
  const missing = seen.flatMap((s, i) => (s ? [] : [`${i + 1}/${n}`]));
  if (missing.length > 0) throw bad(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing`, undefined, 'merge every shard of the run; an incomplete set cannot stand for the whole search');
  const cyclic = parts.findIndex((p) => p.part!.cyclic);
  if (cyclic >= 0) {
    throw bad('the state graph has a cycle: livelock is judged on the whole graph, which no shard holds', files[cyclic], 'run this scenario unsharded (kreplay explore without --shard)');
  }
  // Violations: the least schedule per rule, ordered by rule id.
  const best = new Map<string, V>();
  for (const p of parts) for (const v of p.violations) {
    const old = best.get(v.rule);
    if (!old || lessSchedule(v, old)) best.set(v.rule, v);
  }
  const violations = [...best.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((r) => best.get(r)!);
  // Incompleteness: the union, without the shard's own `shard` reason.
  const reasons = new Set<string>(parts.flatMap((p) => p.incomplete));
  const incomplete = REASONS.filter((r) => reasons.has(r)) as ExploreResult['incomplete'];
  const exhaustive = incomplete.length === 0;
  return {
    verdict: violations.length > 0 ? 'violation' : exhaustive ? 'clean' : 'incomplete',
    exhaustive,
    incomplete,
    violations,
    stats: mergeStats(parts),
  };
}

function checkPart(x: unknown, file: string | undefined): ShardJson {
  const p = x as ShardJson;
  const hint = 'give the --json output of kreplay explore --shard i/n (exhaustive search)';
  if (typeof p !== 'object' || p === null || !Array.isArray(p.violations) || typeof p.stats !== 'object' || !Array.isArray(p.incomplete)) {
    throw bad('not the --json output of kreplay explore', file, hint);
  }
  if (p.strategy !== 'exhaustive' || !p.shard || !p.part) throw bad(`not a shard of an exhaustive search (strategy ${String(p.strategy)}${p.shard ? '' : ', no shard'})`, file, hint);
  if (p.part.version !== 1) throw bad(`shard format version ${String(p.part.version)}, this kreplay reads 1`, file, 'merge with the kreplay that wrote the shards');
  return p;
}

function mergeStats(parts: readonly ShardOutcome[]): Record<string, number> {
  const first = parts[0]!;
  const st = (p: ShardOutcome): Record<string, number | undefined> => p.stats as unknown as Record<string, number | undefined>;
  const timed = parts.every((p) => typeof st(p)['timeMs'] === 'number');
  const timeMs = parts.reduce((t, p) => t + (st(p)['timeMs'] ?? 0), 0);
  const split = first.part!.split;
  let executions: number;
  let states: number;
  let distinct: number;
  let maxDepth: number;
  if (!split) {
    // Nothing was split: every shard searched the whole graph.
    ({ executions = 0, states = 0, distinctStates: distinct = 0, maxDepth = 0 } = st(first));
  } else {
    const recs = parts.map((p) => {
      const b = Buffer.from(p.part!.records, 'base64');
      return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
    const total = recs.reduce((t, r) => t + r.length / 4, 0);
    const table = new FingerprintTable(total);
    executions = split.topExecutions;
    states = split.topStates;
    maxDepth = split.topMaxDepth;
    distinct = split.topDistinct;
    // The first record of each fingerprint carries its steps and end; depth is the least over shards.
    const info: number[] = [];
    let r0 = 0;
    for (const r of recs) {
      for (let i = 0; i < r.length; i += 4) info.push(r[i + 3]!);
      for (let i = 0; i < r.length; i += 4) table.add(r[i]!, r[i + 1]!, r[i + 2]!, r0 + i / 4);
      r0 += r.length / 4;
    }
    for (const slot of table.slots()) {
      const flags = info[table.first[slot]!]!;
      const steps = flags >>> 2;
      if (!(flags & 1)) distinct++;
      if (flags & 2) executions++;
      states += steps;
      if (steps > 0) maxDepth = Math.max(maxDepth, table.depthAt(slot) + 1);
    }
  }
  const out: Record<string, number> = { executions, states, distinctStates: distinct };
  if (timed) {
    out['timeMs'] = Math.round(timeMs * 10) / 10;
    out['statesPerSec'] = timeMs > 0 ? Math.round((states * 1000) / timeMs) : 0;
  }
  out['maxDepth'] = maxDepth;
  out['cycles'] = 0;
  out['sleepBlocked'] = 0;
  return out;
}
