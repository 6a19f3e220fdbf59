/**
 * replay(): records in, one ReplayResult out. The pipeline (Perfetto's importer shape):
 * reader (packages/ftrace-parser) → adapter (lifts each event to an MmOp, stateless) →
 * sorter (ReorderBuffer: timestamp, CPU, input order) → engine (shadow state + rules).
 * Unknown events are counted at the adapter and never buffered.
 */
import { performance } from 'node:perf_hooks';
import { openTraceBatches, type FieldsWanted } from '@kreplay/ftrace-parser';
import { InputError, type Gap, type TraceEvent, type TraceRecord } from '@kreplay/core';
import type { MmOp, ProbeMap } from '@kreplay/core';
import type { Adapter } from './adapters/adapter.js';
import { ExploreAdapter } from './adapters/explore.js';
import { ProbeMapAdapter, meaningOf } from './adapters/probe-adapter.js';
import { ReplayEngine } from './engine.js';
import { toBigInt } from './fields.js';
import { findMeta, metaCandidates, metaClock, metaRelease, readMeta } from './meta.js';
import { ReorderBuffer } from './order.js';
import { loadProbeMap, mergeProbeMaps, probeMapFromMeta, shippedKernels, shippedMapPath } from './probe-maps.js';
import type { RecordSource, ReplayOptions, ReplayResult, ReplayStats } from './types.js';

export const DEFAULT_KERNEL = 'linux-6.1';
/** Records the sorter holds; small enough that waiting ops die young (cheap GC), ample for merged text traces. */
export const DEFAULT_REORDER_WINDOW = 4096;
export const DEFAULT_MAX_FINDINGS = 10000;
const NONNNKASLR_HINT = 'x86-64 booted with nokaslr: 0xffffea0000000000';

interface GapItem { kind: 'gap'; ts: bigint; cpu: number; gap: Gap }
/** What the sorter holds: ops and gaps. */
type Item = MmOp | GapItem;

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** Per-event-name use counters: one lookup and an increment per event. */
class Counter {
  private readonly m = new Map<string, { n: number }>();
  add(k: string): void {
    const c = this.m.get(k);
    if (c) c.n++; else this.m.set(k, { n: 1 });
  }
  sorted(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.m.keys()].sort()) out[k] = this.m.get(k)!.n;
    return out;
  }
}

function sortedRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}

/** Which adapter, and why. */
function chooseKernel(opts: ReplayOptions, header: Record<string, string | number>): { kernel: string; reason: string; warning?: string } {
  const asked = opts.kernel ?? 'auto';
  const kernels = shippedKernels();
  if (asked !== 'auto') {
    if (asked === 'explore' || kernels.includes(asked)) return { kernel: asked, reason: '--kernel' };
    throw new InputError(`unknown kernel "${asked}"`, {
      hint: `choose one of: auto, explore, ${kernels.join(', ')} (a new kernel is a probe map file in kernel-configs/probes/)`,
    });
  }
  if (header.kreplay === 'explore') return { kernel: 'explore', reason: '# kreplay: explore header' };
  const release = metaRelease(opts.meta);
  if (release) {
    const name = releaseKernel(release);
    if (name && kernels.includes(name)) return { kernel: name, reason: `meta.json kernel ${release}` };
    return {
      kernel: DEFAULT_KERNEL, reason: `default (no probe map for meta.json kernel ${release})`,
      warning: `no probe map ships for kernel ${release}; replaying with ${DEFAULT_KERNEL}'s (add kernel-configs/probes/${name ?? 'linux-X.Y'}.yaml or pass --probes)`,
    };
  }
  return { kernel: DEFAULT_KERNEL, reason: 'default' };
}

/** `linux-6.1` for a release `6.1.0-56-amd64`. */
function releaseKernel(release: string): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? `linux-${m[1]}.${m[2]}` : undefined;
}

/** The probe map of `mapKernel`: the shipped file, overridden by meta.json's probes, then by --probes. */
async function mergedMap(mapKernel: string, opts: ReplayOptions, sources: string[] = []): Promise<ProbeMap> {
  const maps: ProbeMap[] = [await loadProbeMap(shippedMapPath(mapKernel))];
  sources.push(`kernel-configs/probes/${mapKernel}.yaml`);
  if (opts.meta?.probes !== undefined) {
    maps.push(probeMapFromMeta(opts.meta.probes, opts.metaSource ?? 'meta.json'));
    sources.unshift(`${opts.metaSource ?? 'meta.json'} (probes)`);
  }
  if (opts.probes) {
    maps.push(opts.probes);
    sources.unshift(opts.probesSource ?? '--probes');
  }
  return mergeProbeMaps(maps);
}

/**
 * The events whose fields replay reads: those a probe map that may apply to this trace
 * gives a meaning, and trace markers (the explorer's ops). The parser leaves the payloads
 * of the others (sched, irq, function lines, unmapped probes) undecoded; they are counted
 * as before. Undefined (decode everything) when the maps cannot be built: replay() then
 * says why, at the point it always has.
 */
export async function replayFieldsWanted(opts: ReplayOptions): Promise<FieldsWanted | undefined> {
  const asked = opts.kernel ?? 'auto';
  const release = metaRelease(opts.meta);
  const candidates = new Set([DEFAULT_KERNEL, asked, release ? releaseKernel(release) : undefined]);
  const shipped = shippedKernels();
  try {
    const maps = await Promise.all([...candidates].filter((k): k is string => k !== undefined && shipped.includes(k)).map((k) => mergedMap(k, opts)));
    return (event, probe) => event === 'print' || maps.some((m) => meaningOf(m, event, probe) !== undefined);
  } catch {
    return undefined;
  }
}

async function buildAdapter(kernel: string, opts: ReplayOptions, sources: string[]): Promise<{ adapter: Adapter; vmemmap?: bigint; vmemmapSource?: string }> {
  const mapKernel = kernel === 'explore' ? DEFAULT_KERNEL : kernel;
  const map = await mergedMap(mapKernel, opts, sources);
  let vmemmap: bigint | undefined;
  let vmemmapSource: string | undefined;
  const candidates: Array<[unknown, string]> = [
    [opts.vmemmapBase, '--vmemmap-base'],
    [opts.meta?.vmemmapBase, `${opts.metaSource ?? 'meta.json'} vmemmapBase`],
    [map.vmemmapBase, 'probe map vmemmapBase'],
  ];
  for (const [v, where] of candidates) {
    if (v === undefined) continue;
    const b = typeof v === 'bigint' ? v : typeof v === 'string' ? toBigInt(v) : undefined;
    if (b === undefined) throw new InputError(`${where} is not a hex address: ${String(v)}`, { file: opts.metaSource, hint: `write it as 0x-hex (${NONNNKASLR_HINT})` });
    vmemmap = b;
    vmemmapSource = where;
    break;
  }
  const looked = opts.source && opts.source !== '-' ? ` (looked for ${metaCandidates(opts.source).join(', ')})` : '';
  const probeAdapter = new ProbeMapAdapter(mapKernel, map, {
    vmemmapBase: vmemmap, structPageSize: map.structPageSize,
    missingHint: `pass --vmemmap-base HEX (${NONNNKASLR_HINT}), or give the trace a meta.json with "vmemmapBase"${opts.metaSource ? ` (${opts.metaSource} has none)` : looked}`,
  });
  const adapter = kernel === 'explore' ? new ExploreAdapter(probeAdapter, probeAdapter.files) : probeAdapter;
  return { adapter, vmemmap, vmemmapSource };
}

async function* asBatches(src: RecordSource | AsyncIterable<TraceRecord[]>): AsyncGenerator<TraceRecord[]> {
  let batch: TraceRecord[] = [];
  for await (const r of src as AsyncIterable<TraceRecord | TraceRecord[]>) {
    if (Array.isArray(r)) { if (batch.length) { yield batch; batch = []; } yield r; continue; }
    batch.push(r);
    if (batch.length >= 4096) { yield batch; batch = []; }
  }
  if (batch.length) yield batch;
}

/**
 * Replay records (in input order, as a reader yields them) and return the one result every
 * output format is computed from. Throws InputError for what the user can fix.
 */
export async function replay(records: RecordSource | AsyncIterable<TraceRecord[]>, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const t0 = performance.now();
  const source = opts.source ?? '-';
  const window = opts.reorderWindow ?? DEFAULT_REORDER_WINDOW;
  const engine = new ReplayEngine({ maxFindings: opts.maxFindings ?? DEFAULT_MAX_FINDINGS, onOp: opts.onOp });
  const header: Record<string, string | number> = {};
  const warnings: string[] = [];
  const probeSources: string[] = [];
  const usedEvents = new Counter();
  const unknownByEvent = new Counter();
  const unusableEvents = new Map<string, number>();
  let events = 0; let unknown = 0; let gaps = 0; let lost = 0;
  let firstTs: bigint | undefined; let lastTs: bigint | undefined; let inputTs = 0n;
  let adapter: Adapter | undefined;
  let chosen: ReturnType<typeof chooseKernel> | undefined;
  let vm: { vmemmap?: bigint; vmemmapSource?: string } = {};

  const sorter = new ReorderBuffer<Item>(window, (it, late) => {
    if (late) {
      const cpu = it.kind === 'gap' ? it.gap.cpu : it.event!.cpu;
      engine.gap({ cpu, line: it.kind === 'gap' ? it.gap.line : it.event!.line, source,
        reason: `an event arrived after the reorder window (${window} events) had moved past its timestamp` });
    }
    if (it.kind === 'gap') engine.gap({ cpu: it.gap.cpu, line: it.gap.line, source: it.gap.source, reason: it.gap.reason });
    else engine.apply(it);
  });
  const progressEvery = opts.progressEvery ?? 1 << 20;
  let nextProgress = progressEvery;

  for await (const batch of asBatches(records)) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    for (const r of batch) {
      if (r.type === 'meta') {
        header[r.key] = r.value;
        continue;
      }
      if (!adapter) {
        chosen = chooseKernel(opts, header);
        if (chosen.warning) warnings.push(chosen.warning);
        const built = await buildAdapter(chosen.kernel, opts, probeSources);
        adapter = built.adapter;
        vm = built;
      }
      if (r.type === 'gap') {
        gaps++;
        lost += r.lost ?? 0;
        const ts = r.ts ?? inputTs;
        const cpu = r.cpu ?? -1;
        sorter.push({ kind: 'gap', ts, cpu, gap: r }, ts, cpu);
        continue;
      }
      const ev: TraceEvent = r;
      events++;
      const ts = ev.ts;
      inputTs = ts;
      if (lastTs === undefined) { firstTs = ts; lastTs = ts; }
      else if (ts > lastTs) lastTs = ts;
      else if (ts < firstTs!) firstTs = ts;
      const lifted = adapter.lift(ev);
      if (lifted === null) {
        unknown++;
        unknownByEvent.add(ev.event);
      } else if (typeof lifted === 'string') {
        bump(unusableEvents, `${ev.event}: ${lifted}`);
      } else {
        usedEvents.add(ev.event);
        sorter.push(lifted, ts, ev.cpu);
      }
    }
    if (opts.onProgress && events >= nextProgress) {
      opts.onProgress(events);
      nextProgress = events + progressEvery;
    }
  }
  if (!chosen) {
    chosen = chooseKernel(opts, header);
    if (chosen.warning) warnings.push(chosen.warning);
  }
  sorter.drain();
  engine.finish();

  const ms = performance.now() - t0;
  const c = engine.counters;
  if (events === 0) warnings.push('the trace holds no events');
  else if (c.ops === 0) warnings.push(`no event in this trace is one the ${chosen.kernel} adapter knows, so nothing was replayed (see --stats for the events it saw; pass --probes to say what user-named probes mean)`);
  if ((c.byOp.cache_delete ?? 0) > 0 && !c.byOp.pte_map && !c.byOp.pte_unmap) {
    warnings.push('the trace shows no PTE changes (kprobes on page_add_file_rmap/page_remove_rmap/do_set_pte), so mapped-page-removed and orphan-page-mapped cannot be judged');
  }
  if (sorter.late) warnings.push(`${sorter.late} events arrived after the reorder window (${window} events) had passed their timestamp; they were replayed in arrival order and findings on their CPUs are uncertain`);
  if (c.uncheckedInvalidates) warnings.push(`${c.uncheckedInvalidates} successful invalidate_inode_pages2_range calls had no file or range in the trace (fetch ino and the range in the probe), so stale-after-invalidate was not judged for them`);
  const unusable = [...unusableEvents.values()].reduce((a, b) => a + b, 0);
  if (unusable) warnings.push(`${unusable} events were known but unusable (see --stats: unusableEvents)`);
  if (engine.findingsDropped) warnings.push(`${engine.findingsDropped} findings beyond the first ${opts.maxFindings ?? DEFAULT_MAX_FINDINGS} were counted but not kept`);

  const stats: ReplayStats = {
    events, ops: c.ops, pages: engine.shadow.pfnsSeen, gaps, lostEvents: lost,
    ms: Math.round(ms * 1000) / 1000, eventsPerSec: ms > 0 ? Math.round(events / (ms / 1000)) : 0,
    byOp: sortKeys(c.byOp), usedEvents: usedEvents.sorted(), unknownEvents: unknown, unknownByEvent: unknownByEvent.sorted(),
    unusableEvents: sortedRecord(unusableEvents), adopted: c.adopted, lateEvents: sorter.late, reorderWindow: window,
    nestedDuplicates: c.nestedDuplicates, mapcountResyncs: c.mapcountResyncs, returns: engine.returns(),
    uncheckedInvalidates: c.uncheckedInvalidates, promisesForgotten: c.promisesForgotten,
    latency: { fault: engine.latency.fault.toJSON(), invalidate: engine.latency.invalidate.toJSON(), truncate: engine.latency.truncate.toJSON() },
    findingsDropped: engine.findingsDropped,
  };
  const clock = typeof header.clock === 'string' ? header.clock : metaClock(opts.meta);
  return {
    findings: engine.findings,
    stats,
    trace: {
      source, kernel: chosen.kernel, kernelReason: chosen.reason, release: metaRelease(opts.meta), clock, firstTs, lastTs,
      header, probeSources, vmemmapBase: vm.vmemmap, vmemmapSource: vm.vmemmapSource, metaSource: opts.metaSource,
    },
    warnings,
    meta: opts.meta,
    latencyNs: { fault: engine.latency.fault.samples(), invalidate: engine.latency.invalidate.samples(), truncate: engine.latency.truncate.samples() },
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/** Replay a trace file (or `-` for stdin), with its meta.json found next to it unless given. */
export async function replayFile(file: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const o: ReplayOptions = { ...opts, source: opts.source ?? file };
  if (!o.meta) {
    const metaFile = findMeta(file);
    if (metaFile) {
      o.meta = await readMeta(metaFile);
      o.metaSource = metaFile;
    }
  }
  const fields = await replayFieldsWanted(o);
  return replay(openTraceBatches(file, { source: o.source, signal: o.signal, fields }), o);
}
