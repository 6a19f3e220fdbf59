/**
 * Everything a replay needs decided before the first event streams: which adapter (kernel
 * probe map or the explorer's markers), its merged probe map (the shipped file, overridden
 * by meta.json's probes, then by --probes), the vmemmap base, and which payloads the parser
 * must decode. Each probe map is loaded once; the streaming loop only asks `choose` once,
 * with the trace's header lines — and, when nothing else can tell the kernel (--kernel auto,
 * no meta.json release, more than one shipped map), with the evidence of the trace's first
 * events (evidence.ts) — and decides nothing after that.
 */
import type { FieldPlan, FieldsWanted } from '@kreplay/ftrace-parser';
import {
  InputError,
  loadProbeMap,
  metaCandidates,
  metaRelease,
  probeMapConflicts,
  releaseSeries,
  probeMapFromMeta,
  type ProbeMap,
  type ProbeMeaning,
} from '@kreplay/core';
import type { Adapter } from './adapters/adapter.js';
import { ExploreAdapter, checkExploreTrace } from './adapters/explore.js';
import { ProbeMapAdapter, meaningOf } from './adapters/probe-adapter.js';
import { KernelEvidence, type KernelChoice } from './evidence.js';
import { summaryFields } from './cite.js';
import { toBigInt } from './fields.js';
import { mergeProbeMaps, shippedKernels, shippedMapPath } from './probe-maps.js';
import type { ReplayOptions } from './types.js';

export const DEFAULT_KERNEL = 'linux-6.1';
const NOKASLR_HINT = 'x86-64 booted with nokaslr: 0xffffea0000000000';

/** The adapter a trace is replayed with, and why. */
export interface ChosenAdapter {
  /** `linux-6.1`, `explore`, ... */
  kernel: string;
  reason: string;
  warning?: string;
  adapter: Adapter;
  /** The probe-map adapter (the explorer's wraps it). */
  probeAdapter: ProbeMapAdapter;
  vmemmap?: bigint;
  vmemmapSource?: string;
  /** Where the probe meanings came from, most specific first. */
  probeSources: string[];
  /** The merged probe map the adapter reads. */
  map: ProbeMap;
}

export interface ReplayConfig {
  /**
   * A collector of the trace's own evidence when only its events can choose the kernel (no
   * --kernel, no meta.json release, several shipped maps, no explorer header); undefined
   * when the header and options decide.
   */
  evidence(header: Readonly<Record<string, string | number>>): KernelEvidence | undefined;
  /**
   * The adapter for a trace with these header lines (`# kreplay: explore` picks the
   * explorer's), chosen by `evidence` when the trace's events had to choose.
   */
  choose(header: Readonly<Record<string, string | number>>, evidence?: KernelEvidence): ChosenAdapter;
  /** The events whose payloads replay reads: those a candidate probe map gives a meaning, and trace markers. */
  fieldsWanted: FieldsWanted;
  /**
   * Of a wanted event's fields, those replay reads: the ones a candidate map's meaning of
   * the event reads (its fields and their alternatives), `buf` (markers), and what a cited
   * event's summary prints (cite.ts, summaryFields).
   */
  fieldPlan: FieldPlan;
}

/** The field names a meaning's arguments read, alternatives included. */
function fieldsRead(meaning: ProbeMeaning): string[] {
  return Object.values(meaning.args).flatMap((spec) =>
    spec === undefined ? [] : typeof spec === 'string' ? [spec] : typeof spec.field === 'string' ? [spec.field] : spec.field,
  );
}

type Choice = KernelChoice;

/** traceChoice's answer when only the trace's own events can tell (see evidence.ts). */
const EVIDENCE = 'evidence' as const;

/** `linux-6.1` for a release `6.1.0-56-amd64`. */
function releaseKernel(release: string): string | undefined {
  const series = releaseSeries(release);
  return series && `linux-${series}`;
}

/**
 * The adapter for a trace without an explorer header: --kernel, else meta.json's kernel, else
 * (several maps ship) the trace's own events, else the default.
 */
function traceChoice(opts: ReplayOptions, kernels: readonly string[]): Choice | typeof EVIDENCE {
  const asked = opts.kernel ?? 'auto';
  if (asked !== 'auto') {
    if (asked === 'explore' || kernels.includes(asked)) return { kernel: asked, reason: '--kernel' };
    throw new InputError(`unknown kernel "${asked}"`, {
      hint: `choose one of: auto, explore, ${kernels.join(', ')} (a new kernel is a probe map file in kernel-configs/probes/)`,
    });
  }
  const release = metaRelease(opts.meta);
  if (!release && kernels.length > 1) return EVIDENCE;
  if (release) {
    const name = releaseKernel(release);
    if (name && kernels.includes(name)) return { kernel: name, reason: `meta.json kernel ${release}` };
    return {
      kernel: DEFAULT_KERNEL,
      reason: `default (no probe map for meta.json kernel ${release})`,
      warning: `no probe map ships for kernel ${release}; replaying with ${DEFAULT_KERNEL}'s (add kernel-configs/probes/${name ?? 'linux-X.Y'}.yaml or pass --probes)`,
    };
  }
  return { kernel: DEFAULT_KERNEL, reason: 'default' };
}

/** The probe map of `mapKernel`: the shipped file, overridden by meta.json's probes, then by --probes. */
async function mergedMap(mapKernel: string, opts: ReplayOptions): Promise<{ map: ProbeMap; sources: string[] }> {
  const maps: ProbeMap[] = [await loadProbeMap(shippedMapPath(mapKernel))];
  const sources = [`kernel-configs/probes/${mapKernel}.yaml`];
  if (opts.meta?.probes !== undefined) {
    const meta = probeMapFromMeta(opts.meta.probes, opts.metaSource ?? 'meta.json');
    // a probe meta.json means otherwise than the shipped map: replay would follow it without a
    // word; only --probes, the user's own word for that probe, settles which is right
    const settled = opts.probes?.probes ?? {};
    const conflicts = probeMapConflicts(maps[0]!, meta).filter((c) => !Object.hasOwn(settled, c.key));
    if (conflicts.length)
      throw new InputError(
        `its probes contradict kernel-configs/probes/${mapKernel}.yaml: ${conflicts.map((c) => `${c.key} is ${c.over} in meta.json, ${c.base} in the shipped map`).join('; ')}`,
        {
          file: opts.metaSource,
          hint: 'the probe means one thing to the capture and another to this kreplay; pass --probes FILE giving the meaning you mean for it (--probes wins over both), or fix meta.json',
        },
      );
    maps.push(meta);
    sources.unshift(`${opts.metaSource ?? 'meta.json'} (probes)`);
  }
  if (opts.probes) {
    maps.push(opts.probes);
    sources.unshift(opts.probesSource ?? '--probes');
  }
  return { map: mergeProbeMaps(maps), sources };
}

/** The vmemmap base: --vmemmap-base, else meta.json's, else the probe map's. */
function vmemmapOf(opts: ReplayOptions, map: ProbeMap): { vmemmap?: bigint; vmemmapSource?: string } {
  const candidates: Array<[unknown, string]> = [
    [opts.vmemmapBase, '--vmemmap-base'],
    [opts.meta?.vmemmapBase ?? undefined, `${opts.metaSource ?? 'meta.json'} vmemmapBase`],
    [map.vmemmapBase, 'probe map vmemmapBase'],
  ];
  for (const [v, where] of candidates) {
    if (v === undefined) continue;
    const b = typeof v === 'bigint' ? v : typeof v === 'string' ? toBigInt(v) : undefined;
    if (b === undefined)
      throw new InputError(`${where} is not a hex address: ${String(v)}`, { file: opts.metaSource, hint: `write it as 0x-hex (${NOKASLR_HINT})` });
    return { vmemmap: b, vmemmapSource: where };
  }
  return {};
}

function adapterFor(choice: Choice, merged: { map: ProbeMap; sources: string[] }, opts: ReplayOptions): ChosenAdapter {
  const mapKernel = choice.kernel === 'explore' ? DEFAULT_KERNEL : choice.kernel;
  const vm = vmemmapOf(opts, merged.map);
  const looked = opts.source && opts.source !== '-' ? ` (looked for ${metaCandidates(opts.source).join(', ')})` : '';
  const probeAdapter = new ProbeMapAdapter(mapKernel, merged.map, {
    vmemmapBase: vm.vmemmap,
    structPageSize: merged.map.structPageSize ?? 64,
    missingHint: `pass --vmemmap-base HEX (${NOKASLR_HINT}), or give the trace a meta.json with "vmemmapBase"${opts.metaSource ? ` (${opts.metaSource} has none)` : looked}`,
  });
  const adapter = choice.kernel === 'explore' ? new ExploreAdapter(probeAdapter, probeAdapter.files) : probeAdapter;
  return { ...choice, adapter, probeAdapter, ...vm, probeSources: [...merged.sources], map: merged.map };
}

/** Resolve a replay's whole configuration once, before streaming. Throws InputError for what the user can fix. */
export async function resolveReplayConfig(opts: ReplayOptions): Promise<ReplayConfig> {
  const kernels = shippedKernels();
  const maps = new Map<string, Promise<{ map: ProbeMap; sources: string[] }>>();
  const mapOf = (kernel: string) => {
    const mapKernel = kernel === 'explore' ? DEFAULT_KERNEL : kernel;
    if (!maps.has(mapKernel)) maps.set(mapKernel, mergedMap(mapKernel, opts));
    return maps.get(mapKernel)!;
  };
  const plain = traceChoice(opts, kernels);
  // Only with --kernel auto can a trace's own header pick the explorer's adapter.
  const explore: Choice | undefined = (opts.kernel ?? 'auto') === 'auto' ? { kernel: 'explore', reason: '# kreplay: explore header' } : undefined;
  // Without a release, every shipped map is a candidate until the trace's events choose.
  const all = new Map<string, { map: ProbeMap; sources: string[] }>();
  for (const k of plain === EVIDENCE ? kernels : [plain.kernel]) all.set(k, await mapOf(k));
  const exploreMap = explore ? await mapOf(explore.kernel) : undefined;
  let chosen: ChosenAdapter | undefined;
  const candidateMaps = [...[...all.values()].map((m) => m.map), ...(exploreMap ? [exploreMap.map] : [])];
  const isExplore = (header: Readonly<Record<string, string | number>>): boolean => {
    checkExploreTrace(header, opts.source); // an explorer trace of a format this kreplay does not read is refused first
    return explore !== undefined && header.kreplay === 'explore';
  };
  return {
    evidence(header) {
      if (plain !== EVIDENCE || isExplore(header)) return undefined;
      return new KernelEvidence(new Map([...all].map(([k, m]) => [k, m.map])));
    },
    choose(header, evidence) {
      if (chosen) return chosen;
      if (isExplore(header)) return (chosen = adapterFor(explore!, exploreMap!, opts));
      const c =
        plain !== EVIDENCE ? plain : evidence ? evidence.choose(DEFAULT_KERNEL) : { kernel: DEFAULT_KERNEL, reason: 'default (the trace holds no events)' };
      return (chosen = adapterFor(c, all.get(c.kernel) ?? all.get(DEFAULT_KERNEL)!, opts));
    },
    fieldsWanted: (event, probe) => event === 'print' || event === 'tracing_mark_write' || candidateMaps.some((m) => meaningOf(m, event, probe) !== undefined),
    fieldPlan: (event, probe, names) => {
      const read = new Set(summaryFields(names));
      read.add('buf');
      for (const m of candidateMaps) {
        const found = meaningOf(m, event, probe);
        if (found) for (const f of fieldsRead(found.meaning)) read.add(f);
      }
      return names.filter((n) => read.has(n));
    },
  };
}
