/**
 * The exhaustive search split over independent jobs (`explore --shard i/n`), and the merge
 * that turns the shards' results into exactly the result of one unsharded run.
 *
 * Partition: breadth-first, the search runs level by level until a level holds at least
 * `splitWidth(n)` states (the split level). Every shard expands every level above it — the
 * same small top of the graph in each — and then only the subtrees of the split-level states
 * it owns: state k of the level (in node order, which is the order of their shortest
 * schedules) belongs to shard i when k mod n = i - 1, core's one shard convention. A state
 * past the split level that another shard also reaches is searched by both (shards share no
 * memory; interleavings of a few threads meet again a lot, so expect most of the graph past
 * the split in every shard: sharding spreads CI jobs, it does not divide the work by n).
 * Nothing is searched by none: every state's least shortest schedule passes through exactly
 * one split-level state, and its owner reaches it along that schedule.
 *
 * Merge (`mergeShards`): each shard reports the graph it expanded — per state a 64-bit
 * fingerprint of its key, its finished threads, whether it is an end, and its edges — and the
 * merge rebuilds the union and numbers it breadth-first from the initial state, which is the
 * unsharded search's numbering: the counters, the shortest schedules and the livelock judged
 * on it are the unsharded run's. A violation found by a step or at an end is the least
 * (length, thread ids) schedule any shard found for its rule, which is the unsharded run's
 * by the argument above. A fingerprint collision (two different states with the same 64 bits:
 * about n²/2⁶⁵, 3·10⁻⁸ for a million states) would merge two states of the union.
 */
import type { Shard } from '@kreplay/core';
import { InputError } from '@kreplay/core';
import type { Machine } from '@kreplay/core';
import { compareSchedules, ViolationBook } from './context.js';
import { IntVec, RebuiltGraph, sortRowsByThread, type StateGraph } from './graph.js';
import { findLivelocks } from './liveness.js';
import type { FoundViolation, Incompleteness } from './types.js';

/** `ShardRecorder`'s status bit: the node's fingerprint is known. */
const KEYED = 4;

/** Split-level width per shard: enough states that round-robin ownership spreads the work. */
export const SPLIT_PER_SHARD = 8;

export function splitWidth(count: number): number {
  return count <= 1 ? Number.POSITIVE_INFINITY : SPLIT_PER_SHARD * count;
}

/** What one shard reports beyond the ordinary result, for the merge. */
export interface ShardPart {
  version: 3;
  /** The digest of what was searched (`ExploreOptions.model`; empty when the caller gave none): the merge takes shards of one. */
  model: string;
  /** The split level and its width; null when the whole graph was searched before a level was wide enough (every shard then searched all of it). */
  split: null | { depth: number; width: number };
  /**
   * Every state the shard expanded, in its node order (the initial state first), as little-endian
   * int32s, base64: fingerprint (2 words), finished-thread mask, 1 for an end (all finished or
   * deadlocked) else 0, edge count, then per edge its thread and the fingerprint of its target.
   */
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

/**
 * Collects, during a sharded search, what the merge needs. A state's fingerprint is of its key
 * string, as the merge of shards run in other processes needs (words number what they name in the
 * order one machine met it). A search that keeps states as objects gives the key when it finds a
 * state (`discovered`); one that keeps them as words (and may reach a state by a reused step, with
 * no object: step-memo.ts) gives it when it decodes the state to expand it (`keyed`), and `part`
 * asks `keyOf` for the states it never decoded (another shard's, or cut off by a cap).
 */
export class ShardRecorder {
  split: { depth: number; start: number; end: number } | null = null;
  private readonly fpA = new IntVec();
  private readonly fpB = new IntVec();
  /** Per node: 0 not expanded here, 1 expanded, 2 an end; plus KEYED once its fingerprint is known. */
  private readonly status = new IntVec();

  constructor(
    readonly shard: Shard,
    readonly model: string,
  ) {}

  /** A new node, in id order: keep its fingerprint. */
  discovered(key: string): void {
    this.keyed(this.status.length, key);
  }

  /** Node `id`'s key (given once, in any order). */
  keyed(id: number, key: string): void {
    this.reserve(id);
    const [a, b] = fingerprint(key);
    this.fpA.a[id] = a | 0;
    this.fpB.a[id] = b | 0;
    this.status.a[id]! |= KEYED;
  }

  /** Whether node `id`'s fingerprint is known. */
  hasKey(id: number): boolean {
    return id < this.status.length && (this.status.a[id]! & KEYED) !== 0;
  }

  /** The split level starts at node `start`; its nodes are start..end-1. */
  splitAt(depth: number, start: number, end: number): void {
    this.split = { depth, start, end };
  }

  /** Node `id` was expanded here (end: every thread finished, or none can step). */
  expanded(id: number, end: boolean): void {
    this.reserve(id);
    this.status.a[id]! |= end ? 2 : 1;
  }

  /** Room for nodes up to `id` (new ones: not expanded, no fingerprint). */
  private reserve(id: number): void {
    while (this.status.length <= id) {
      this.status.push(0);
      this.fpA.push(0);
      this.fpB.push(0);
    }
  }

  /** The shard's records; `keyOf` gives the key of a node whose fingerprint is not known yet. */
  part(graph: StateGraph, keyOf?: (id: number) => string): ShardPart {
    const rows = graph.rows();
    for (let id = 0; id < graph.size; id++) {
      if (this.hasKey(id)) continue;
      if (!keyOf) throw new Error(`shard recorder: no key for node ${id}`);
      this.keyed(id, keyOf(id));
    }
    const out = new IntVec(1 << 16);
    for (let id = 0; id < graph.size; id++) {
      const st = this.status.a[id]! & ~KEYED;
      if (st === 0) continue;
      out.push(this.fpA.a[id]!);
      out.push(this.fpB.a[id]!);
      out.push(graph.finishedOf(id));
      out.push(st === 2 ? 1 : 0);
      out.push(rows.start[id + 1]! - rows.start[id]!);
      for (let e = rows.start[id]!; e < rows.start[id + 1]!; e++) {
        out.push(rows.thread[e]!);
        out.push(this.fpA.a[rows.to[e]!]!);
        out.push(this.fpB.a[rows.to[e]!]!);
      }
    }
    const s = this.split;
    return {
      version: 3,
      model: this.model,
      split: s ? { depth: s.depth, width: s.end - s.start } : null,
      records: Buffer.from(out.a.buffer, 0, out.length * 4).toString('base64'),
    };
  }
}

/** Fingerprints to dense indices (open addressing on the two words). */
class FingerprintIndex {
  private keys: Int32Array;
  private idx: Int32Array;
  private mask: number;
  size = 0;

  constructor(expected: number) {
    const cap = 1 << Math.max(4, Math.ceil(Math.log2(expected * 2 + 2)));
    this.keys = new Int32Array(cap * 2);
    this.idx = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  get(a: number, b: number): number {
    if (this.size * 2 >= this.idx.length) this.grow();
    let i = (Math.imul(a ^ (b >>> 7), 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const v = this.idx[i]!;
      if (v < 0) {
        this.keys[2 * i] = a;
        this.keys[2 * i + 1] = b;
        this.idx[i] = this.size;
        return this.size++;
      }
      if (this.keys[2 * i] === a && this.keys[2 * i + 1] === b) return v;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const { keys, idx } = this;
    const cap = idx.length * 2;
    this.keys = new Int32Array(cap * 2);
    this.idx = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i]!;
      if (v < 0) continue;
      let j = (Math.imul(keys[2 * i]! ^ (keys[2 * i + 1]! >>> 7), 0x9e3779b1) >>> 0) & this.mask;
      while (this.idx[j]! >= 0) j = (j + 1) & this.mask;
      this.keys[2 * j] = keys[2 * i]!;
      this.keys[2 * j + 1] = keys[2 * i + 1]!;
      this.idx[j] = v;
    }
  }
}

const ALL_REASONS: readonly Incompleteness[] = ['preemption-bound', 'max-executions', 'max-depth', 'max-states', 'timeout', 'aborted', 'random', 'schedule'];

interface JsonViolation {
  rule: string;
  schedule: number[];
  cycle?: number[];
  threads?: number[];
  [k: string]: unknown;
}

/** The `--json` object of one shard, as `exploreJson` writes it (the fields the merge reads). */
interface ShardJson {
  verdict: string;
  scenario: string;
  flavor: string;
  strategy: string;
  exhaustive: boolean;
  incomplete: string[];
  /** `daemon`: ThreadInfo.daemon (the merged graph's livelock check never names one). */
  threads: { id: number; name: string; program: string; daemon?: boolean }[];
  /** `Machine.notSearched`, as exploreJson writes it: the same in every shard of one model. */
  notSearched?: string[];
  violations: JsonViolation[];
  stats: Record<string, number>;
  shard?: Shard;
  part?: ShardPart;
  /** `--memory-model lkmm`: the litmus tests derived from the scenario, judged — the same in every shard. */
  lkmm?: unknown;
}

function bad(what: string, file: string | undefined, hint: string): InputError {
  return new InputError(what, file === undefined ? { hint } : { file, hint });
}

/** The fingerprint of a shard's initial state (its first record), as text: every shard of one search starts there. */
function rootOf(p: ShardJson): string {
  return Buffer.from(p.part!.records, 'base64').subarray(0, 8).toString('hex');
}

/** Shorter first, then lexicographic by thread id (context.ts's order, on JSON schedules). */
function lessSchedule(a: JsonViolation, b: JsonViolation): boolean {
  return compareSchedules(a.cycle ? [...a.schedule, ...a.cycle] : a.schedule, b.cycle ? [...b.schedule, ...b.cycle] : b.schedule) < 0;
}

/**
 * Where a violation's rendered `steps` (the counterexample table the merged result carries as it
 * is) disagree with its schedule, or undefined: `violationJson` writes one step per thread id of
 * `schedule` then `cycle`, numbered from 1, each with the thread it ran, a label and an effect, and
 * `cycle: true` on the cycle's steps. A step taken out, moved or given another thread was merged
 * into a counterexample that is not the schedule beside it.
 */
function offSteps(v: JsonViolation): string | undefined {
  const steps = v['steps'];
  const threads = [...v.schedule, ...(v.cycle ?? [])];
  if (!Array.isArray(steps)) return 'its "steps" are not a list';
  if (steps.length !== threads.length) return `it has ${steps.length} steps for a schedule of ${threads.length}`;
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i] as Record<string, unknown> | null;
    const inCycle = i >= v.schedule.length;
    if (
      typeof st !== 'object' ||
      st === null ||
      st['n'] !== i + 1 ||
      st['thread'] !== threads[i] ||
      typeof st['label'] !== 'string' ||
      typeof st['effect'] !== 'string' ||
      st['cycle'] !== (inCycle ? true : undefined)
    )
      return `step ${i + 1} is not step ${i + 1} of its schedule (thread ${threads[i]}${inCycle ? ', in the cycle' : ''}): ${JSON.stringify(st).slice(0, 80)}`;
  }
  return undefined;
}

function checkPart(x: unknown, file: string | undefined): ShardJson {
  const p = x as ShardJson;
  const hint = 'give the --json output of kreplay explore --shard i/n (exhaustive search)';
  if (
    typeof p !== 'object' ||
    p === null ||
    !Array.isArray(p.violations) ||
    typeof p.stats !== 'object' ||
    !Array.isArray(p.incomplete) ||
    !Array.isArray(p.threads) ||
    (p.notSearched !== undefined && (!Array.isArray(p.notSearched) || p.notSearched.some((x) => typeof x !== 'string')))
  ) {
    throw bad('not the --json output of kreplay explore', file, hint);
  }
  if (p.strategy !== 'exhaustive' || !p.shard || !p.part)
    throw bad(`not a shard of an exhaustive search (strategy ${String(p.strategy)}${p.shard ? '' : ', no shard'})`, file, hint);
  if (p.part.version !== 3 || typeof p.part.records !== 'string' || typeof p.part.model !== 'string')
    throw bad(`shard format version ${String(p.part.version)}, this kreplay reads 3`, file, 'merge with the kreplay that wrote the shards');
  const { index, count } = p.shard;
  // checked before any use: a count sizes the merge's tables, and an index marks a shard seen
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(index) || count < 1 || index < 1 || index > count)
    throw bad(`"shard": ${JSON.stringify(p.shard)} is not a shard i/n (whole numbers, 1 <= i <= n)`, file, hint);
  // a violation's schedule is compared, chosen and printed as the merged run's: thread ids of this run only
  const threadIds = (x: unknown): boolean => Array.isArray(x) && x.every((t) => Number.isInteger(t) && t >= 0 && t < p.threads.length);
  p.violations.forEach((v, k) => {
    if (typeof v !== 'object' || v === null || typeof v.rule !== 'string' || !threadIds(v.schedule) || (v.cycle !== undefined && !threadIds(v.cycle)))
      throw bad(`violation ${k + 1} has no rule or a schedule that is not thread ids 0..${p.threads.length - 1}`, file, hint);
  });
  // A shard says `violation` exactly when it holds one, else `incomplete` with the reason
  // `shard`: never `clean`. The merge reads the violations, not the verdict, so a shard whose
  // violations were taken out under its `violation` would merge into a clean run.
  const holds = p.violations.length > 0 ? 'violation' : 'incomplete';
  if (p.verdict !== holds || p.exhaustive !== false || !p.incomplete.includes('shard'))
    throw bad(
      `the shard's verdict ${JSON.stringify(p.verdict)}${p.exhaustive !== false ? ' (exhaustive)' : ''} does not match what it holds: ${p.violations.length} violation(s), incomplete [${p.incomplete.join(', ')}] (the file was edited)`,
      file,
      'run that shard again and merge its own --json output',
    );
  return p;
}

/**
 * Combine the `--json` results of every shard i/n of one exhaustive search (any order) into the
 * `--json` result one unsharded run gives: the same verdict, violations, schedules and counters.
 * Timing (`timeMs`, `statesPerSec`) is kept only when every shard has it: the sum of the shards'
 * times (the work they did) and the rate over it. `files` name the inputs in error messages.
 */
export async function mergeShards(
  inputs: readonly unknown[],
  files: readonly string[] = [],
  render?: (v: FoundViolation, scenario: string, flavor: string) => Promise<unknown[]> | unknown[],
): Promise<Record<string, unknown>> {
  if (inputs.length === 0) throw bad('nothing to merge', undefined, 'kreplay merge shard-1.json shard-2.json ... (the --json output of explore --shard i/n)');
  const parts = inputs.map((x, k) => checkPart(x, files[k]));
  const first = parts[0]!;
  const n = first.shard!.count;
  const seen = new Set<number>();
  parts.forEach((p, k) => {
    for (const f of ['scenario', 'flavor'] as const) {
      if (p[f] !== first[f])
        throw bad(
          `shards of different runs: ${f} ${JSON.stringify(p[f])} here, ${JSON.stringify(first[f])} in the first`,
          files[k],
          'merge the shards of one scenario and flavor',
        );
    }
    if (p.shard!.count !== n)
      throw bad(`shard ${p.shard!.index}/${p.shard!.count} does not belong to a run in ${n} shards`, files[k], 'merge the shards of one run');
    if (seen.has(p.shard!.index)) throw bad(`shard ${p.shard!.index}/${n} given twice`, files[k], 'give each shard once');
    seen.add(p.shard!.index);
    if (p.part!.model !== first.part!.model || rootOf(p) !== rootOf(first)) {
      // one scenario and flavor name, but not one model: merged, the union of two graphs could say clean when neither is
      throw bad(
        `shards of different models: the scenario or the flavor ${JSON.stringify(first.flavor)} is not the one the first shard searched (an edited scenario, another version of a flavor module of that name, or another kreplay)`,
        files[k],
        'run every shard from the same scenario file, flavor module and kreplay, then merge them',
      );
    }
    // --memory-model lkmm judges tests derived from the scenario, not the search: every shard has the same
    // section, or the shards are of different runs (dropping it would drop an LKMM-only outcome's exit 1)
    if (JSON.stringify(p.lkmm) !== JSON.stringify(first.lkmm)) {
      throw bad(
        `shards of different runs: ${p.lkmm === undefined || first.lkmm === undefined ? 'one ran --memory-model lkmm, another not' : 'their --memory-model lkmm results differ (a litmus test ran out of --litmus-timeout in one)'}`,
        files[k],
        'run every shard with the same --memory-model (and a --litmus-timeout that every shard meets)',
      );
    }
    // written by the model from the scenario's programs: shards of one model cannot differ here
    if (JSON.stringify(p.notSearched) !== JSON.stringify(first.notSearched)) {
      throw bad(
        'shards of different models: they list different interleavings not searched (notSearched)',
        files[k],
        'merge the shards of one kreplay explore --shard run',
      );
    }
    if (JSON.stringify(p.part!.split) !== JSON.stringify(first.part!.split) || JSON.stringify(p.threads) !== JSON.stringify(first.threads)) {
      // one model (checked above): a shard that stopped before the split level has none, or another
      const stopped = [...new Set([p, first].flatMap((x) => x.incomplete.filter((r) => r !== 'shard')))];
      throw stopped.length > 0
        ? bad(
            `shards that did not split the same search: one stopped early (${stopped.join(', ')}), before the level the others split at`,
            files[k],
            'run the shards that stopped again without the cap (or with a larger --max-states / --timeout)',
          )
        : bad(
            'shards that did not split the same search (a different model, flavor version or kreplay)',
            files[k],
            'run every shard with the same kreplay, scenario and flavor',
          );
    }
  });
  // n comes from the files: name the first few missing shards, never build a list n long
  const missing: string[] = [];
  for (let i = 1; i <= n && missing.length < 10; i++) if (!seen.has(i)) missing.push(`${i}/${n}`);
  if (missing.length > 0)
    throw bad(
      `shard${n - seen.size > 1 ? 's' : ''} ${missing.join(', ')}${n - seen.size > missing.length ? `, … (${n - seen.size} in all)` : ''} missing`,
      undefined,
      'merge every shard of the run; an incomplete set cannot stand for the whole search',
    );

  let pendingLivelock: FoundViolation | undefined;
  const exhaustive = (): boolean => incomplete.length === 0;
  const reasons = new Set<string>(parts.flatMap((p) => p.incomplete));
  // the known reasons in their order, then any this kreplay does not know: never dropped, so never clean
  const incomplete = [
    ...ALL_REASONS.filter((r) => reasons.has(r)),
    ...[...reasons].filter((r) => r !== 'shard' && !(ALL_REASONS as readonly string[]).includes(r)).sort(),
  ];
  const { graph, stats, unexpanded } = union(parts, files);
  if (incomplete.length === 0 && unexpanded > 0) {
    // every shard ran to its end, so every state of the union was expanded by its owner: one
    // that none expanded is a hole in the shards' records, and the union is not the whole search
    throw bad(
      `the shards do not cover the search: ${unexpanded} state(s) they reach were expanded by none of them (a shard file cut short or edited)`,
      undefined,
      'run the shards again and merge their own --json output',
    );
  }
  // Violations of steps and ends: the least schedule per rule. Livelock: judged on the union
  // when it is the whole search; else a shard's own livelock stands (a shard judges livelock
  // only when it searched the whole graph, uncut), or a shard that stopped early would turn
  // another's livelock into a merged `incomplete`.
  const best = new Map<string, JsonViolation>();
  parts.forEach((p, k) => {
    for (const v of p.violations) {
      const off = offPath(graph, v);
      if (off !== undefined)
        throw bad(
          `the shard's ${v.rule} violation has a schedule its records do not hold: ${off} (the file was edited)`,
          files[k],
          'run that shard again and merge its own --json output',
        );
      const offStep = offSteps(v);
      if (offStep !== undefined)
        throw bad(
          `the shard's ${v.rule} violation has steps that are not its schedule: ${offStep} (the file was edited)`,
          files[k],
          'run that shard again and merge its own --json output',
        );
    }
  });
  for (const p of parts)
    for (const v of p.violations) {
      if (v.rule === 'livelock' && incomplete.length === 0) continue;
      const old = best.get(v.rule);
      if (!old || lessSchedule(v, old)) best.set(v.rule, v);
    }
  if (incomplete.length === 0) {
    const book = new ViolationBook();
    for (const s of findLivelocks(graph, { threads: first.threads } as unknown as Machine<unknown>).sightings) book.add(s);
    for (const l of book.list()) {
      const same = parts
        .flatMap((p) => p.violations)
        .find((v) => v.rule === 'livelock' && JSON.stringify([v.schedule, v.cycle, v.threads]) === JSON.stringify([l.schedule, l.cycle, l.threads]));
      if (same) best.set('livelock', same);
      else if (render) pendingLivelock = l;
      else {
        throw bad(
          `the merged state graph has a livelock (${l.schedule.join(',')} ↻ ${(l.cycle ?? []).join(',')}) that no shard rendered`,
          files[0],
          'run this scenario unsharded (kreplay explore without --shard) to get its counterexample',
        );
      }
    }
  }
  if (pendingLivelock) {
    const l = pendingLivelock;
    const steps = await render!(l, first.scenario, first.flavor);
    best.set('livelock', { ...l, steps } as unknown as JsonViolation);
  }
  return finish();
  function finish(): Record<string, unknown> {
    const violations = [...best.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((r) => best.get(r)!);
    const timed = parts.every((p) => typeof p.stats['timeMs'] === 'number');
    const timeMs = parts.reduce((t, p) => t + (p.stats['timeMs'] ?? 0), 0);
    const outStats: Record<string, number> = { executions: stats.executions, states: stats.states, distinctStates: stats.distinct };
    if (timed) {
      outStats['timeMs'] = Math.round(timeMs * 10) / 10;
      outStats['statesPerSec'] = timeMs > 0 ? Math.round((stats.states * 1000) / timeMs) : 0;
    }
    Object.assign(outStats, { maxDepth: stats.maxDepth, cycles: 0, sleepBlocked: 0 });
    return {
      verdict: violations.length > 0 ? 'violation' : exhaustive() ? 'clean' : 'incomplete',
      scenario: first.scenario,
      flavor: first.flavor,
      strategy: first.strategy,
      exhaustive: exhaustive(),
      incomplete,
      threads: first.threads,
      ...(first.notSearched !== undefined ? { notSearched: first.notSearched } : {}),
      violations,
      stats: outStats,
      ...(first.lkmm !== undefined ? { lkmm: first.lkmm } : {}),
    };
  }
}

/**
 * Where a shard's violation leaves the graph its records hold, or undefined when it does not: every
 * step of its schedule but the last (the violating step, whose state no search keeps) is an edge of
 * the union from the initial state; a livelock's whole schedule is, and its cycle returns to the
 * state the schedule reaches. A schedule is copied into the merged result as the counterexample,
 * so one that the graph does not hold is a file edited after explore wrote it.
 */
function offPath(graph: RebuiltGraph, v: JsonViolation): string | undefined {
  const { start, thread, to } = graph.rows();
  const follow = (from: number, steps: readonly number[], what: string): number | string => {
    let node = from;
    for (let i = 0; i < steps.length; i++) {
      let next = -1;
      for (let e = start[node]!; e < start[node + 1]! && next < 0; e++) if (thread[e] === steps[i]) next = to[e]!;
      if (next < 0) return `step ${i + 1} of its ${what} (thread ${steps[i]}) is not a step of the state it reaches`;
      node = next;
    }
    return node;
  };
  if (graph.size === 0) return 'the shards hold no state';
  const livelock = v.rule === 'livelock';
  const walked = livelock ? v.schedule : v.schedule.slice(0, -1);
  // (checkPart has checked that every step names a thread of the run)
  if (!livelock && v.schedule.length === 0) return 'it is empty';
  const node = follow(0, walked, 'schedule');
  if (typeof node === 'string') return node;
  if (livelock) {
    const back = follow(node, v.cycle ?? [], 'cycle');
    if (typeof back === 'string') return back;
    if (back !== node) return 'its cycle does not return to the state its schedule reaches';
  }
  return undefined;
}

/** The union of the shards' graphs, numbered breadth-first from the initial state as the unsharded search numbers it. */
function union(
  parts: readonly ShardJson[],
  files: readonly string[],
): {
  graph: RebuiltGraph;
  stats: { executions: number; states: number; distinct: number; maxDepth: number };
  /** States reached from the initial state that no shard expanded (no record of their own). */
  unexpanded: number;
} {
  const recs = parts.map((p) => {
    const b = Buffer.from(p.part!.records, 'base64');
    return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.byteLength & ~3)));
  });
  const fps = new FingerprintIndex(recs.reduce((t, r) => t + r.length / 8, 16));
  const finished = new IntVec();
  const end = new IntVec();
  const eStart = new IntVec();
  const eLen = new IntVec();
  const eThread = new IntVec(1 << 16);
  const eTo = new IntVec(1 << 16);
  const ensure = (i: number): void => {
    while (finished.length <= i) {
      finished.push(0);
      end.push(0);
      eStart.push(-1);
      eLen.push(0);
    }
  };
  let root = -1;
  const T = parts[0]!.threads.length;
  recs.forEach((r, k) => {
    let i = 0;
    while (i < r.length) {
      if (i + 5 > r.length || i + 5 + 3 * r[i + 4]! > r.length)
        throw bad('shard records end in the middle of a state', files[k], 'the shard file is truncated: run that shard again');
      const m = r[i + 4]!;
      // a negative edge count would step back over records already read (a loop with no end);
      // an edge by a thread the run has not, or an end flag not 0/1, is a record no search wrote
      let badEdge: number | undefined;
      for (let e = 0; e < m && badEdge === undefined; e++) if (r[i + 5 + 3 * e]! < 0 || r[i + 5 + 3 * e]! >= T) badEdge = r[i + 5 + 3 * e];
      if (m < 0 || (r[i + 3] !== 0 && r[i + 3] !== 1) || badEdge !== undefined)
        throw bad(
          `shard records are damaged at byte ${i * 4}: ${m < 0 ? `edge count ${m}` : badEdge !== undefined ? `an edge by thread ${badEdge} of ${T}` : `end flag ${r[i + 3]}`}`,
          files[k],
          'the shard file was changed after explore wrote it: run that shard again',
        );
      const u = fps.get(r[i]!, r[i + 1]!);
      ensure(u);
      if (root < 0) root = u;
      if (eStart.a[u]! < 0) {
        finished.a[u] = r[i + 2]!;
        end.a[u] = r[i + 3]!;
        eStart.a[u] = eTo.length;
        eLen.a[u] = m;
        for (let e = 0; e < m; e++) {
          const v = fps.get(r[i + 5 + 3 * e + 1]!, r[i + 5 + 3 * e + 2]!);
          ensure(v);
          eThread.push(r[i + 5 + 3 * e]!);
          eTo.push(v);
        }
      }
      i += 5 + 3 * m;
    }
  });
  const total = fps.size;
  ensure(total - 1);
  // Breadth-first from the initial state, each state's edges in thread order.
  const id = new Int32Array(Math.max(total, 1)).fill(-1);
  const order: number[] = [];
  const parent: number[] = [];
  const via: number[] = [];
  const depth: number[] = [];
  if (root >= 0) {
    id[root] = 0;
    order.push(root);
    parent.push(-1);
    via.push(-1);
    depth.push(0);
  }
  let executions = 0;
  let states = root >= 0 ? 1 : 0;
  let maxDepth = 0;
  let edges = 0;
  let unexpanded = 0;
  for (let q = 0; q < order.length; q++) {
    const u = order[q]!;
    if (end.a[u]) executions++;
    const s = eStart.a[u]!;
    if (s < 0) unexpanded++;
    const m = s < 0 ? 0 : eLen.a[u]!;
    if (m > 0) maxDepth = Math.max(maxDepth, depth[q]! + 1);
    states += m;
    edges += m;
    for (let e = s; e < s + m; e++) {
      const v = eTo.a[e]!;
      if (id[v]! < 0) {
        id[v] = order.length;
        order.push(v);
        parent.push(q);
        via.push(eThread.a[e]!);
        depth.push(depth[q]! + 1);
      }
    }
  }
  const N = order.length;
  const start = new Int32Array(N + 1);
  const thread = new Int32Array(edges);
  const to = new Int32Array(edges);
  let k = 0;
  for (let q = 0; q < N; q++) {
    start[q] = k;
    const u = order[q]!;
    const s = eStart.a[u]!;
    const m = s < 0 ? 0 : eLen.a[u]!;
    for (let e = s; e < s + m; e++) {
      thread[k] = eThread.a[e]!;
      to[k++] = id[eTo.a[e]!]!;
    }
  }
  start[N] = k;
  sortRowsByThread(start, thread, to);
  const fin = new Int32Array(N);
  for (let q = 0; q < N; q++) fin[q] = finished.a[order[q]!]!;
  const graph = new RebuiltGraph(T, N, Int32Array.from(parent), Int32Array.from(via), Int32Array.from(depth), fin, { start, thread, to });
  return { graph, stats: { executions, states, distinct: N, maxDepth }, unexpanded };
}
