/**
 * `kreplay.config.json`: what `kreplay ci` compares. Each side names a kernel to capture
 * from (Debian's packaged kernel or a bzImage) or traces already captured; the capture
 * profile and workloads, runs per side, replay choices, thresholds and the output folder.
 * Relative paths are relative to the config file's folder.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FAIL_ON, InputError, loadDocument, parseDuration } from '@kreplay/core';
import { parseThreshold, type Threshold } from '@kreplay/diff';
import { shippedKernels, TRACE_CLOCK_NAMES } from '@kreplay/replay';

const SideSchema = z
  .object({
    /** Label in reports (`v6.1`, `with-seqschedlock`). */
    name: z.string().min(1).optional(),
    /** `debian` (the packaged linux-image-amd64, 6.1), `debian-6.12`, either `:RELEASE`-pinned, a bzImage/vmlinux, or a `kreplay kernel build --out` folder. */
    kernel: z.string().min(1).optional(),
    /** The kernel's /lib/modules/<release> folder, for a kernel given by path. */
    modules: z.string().min(1).optional(),
    /** Traces, replay results or folders of runs already captured (instead of a kernel). */
    traces: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((s) => (s.kernel === undefined) !== (s.traces === undefined), {
    message: 'give either "kernel" (capture now) or "traces" (already captured), not both and not neither',
  });

export const CI_FORMATS = ['text', 'json', 'junit', 'sarif', 'github', 'html', 'perfetto', 'ktap', 'kcidb'] as const;

/**
 * The version field every config carries: which kreplay config format it was written for,
 * so a CI job never runs a config this kreplay would read differently from its author's.
 */
export const CI_CONFIG_SCHEMA_ID = 'kreplay-ci/1';

export const CiConfigSchema = z
  .object({
    schema: z.literal(CI_CONFIG_SCHEMA_ID, {
      message: `the config must say which kreplay config format it was written for: "schema": "${CI_CONFIG_SCHEMA_ID}" (this kreplay reads ${CI_CONFIG_SCHEMA_ID})`,
    }),
    $schema: z.string().optional(),
    base: SideSchema,
    patched: SideSchema,
    capture: z
      .object({
        /** Capture profile; default kernel-configs/capture/<workload>.yaml. */
        profile: z.string().min(1).optional(),
        workloads: z.array(z.string().min(1)).min(1).default(['odirect-race']),
        duration: z.string().default('3s'),
        accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
        allowLost: z.boolean().default(false),
      })
      .strict()
      .default({ workloads: ['odirect-race'], duration: '3s', accel: 'auto', allowLost: false }),
    /** Workload runs per side (captured kernels). */
    runs: z.number().int().min(1).max(100).default(1),
    replay: z
      .object({
        kernel: z.string().default('auto'),
        probes: z.string().optional(),
        /** As `kreplay replay --clock-skew N`: how far apart the CPUs' trace clocks may be (the traces' time units, ns). */
        clockSkew: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
        /** As `kreplay replay --trace-clock NAME`: the clock of traces that do not name it (a trace.dat's or meta.json's wins; one that differs is an error). */
        traceClock: z.enum(TRACE_CLOCK_NAMES).optional(),
      })
      .strict()
      .default({ kernel: 'auto' }),
    thresholds: z
      .object({
        failOn: z.enum(FAIL_ON).default('error'),
        /** Metric → largest allowed increase in percent (as `--max-regression name=pct`). */
        maxRegression: z.record(z.string(), z.number().nonnegative()).default({}),
      })
      .strict()
      .default({ failOn: 'error', maxRegression: {} }),
    /** Folder every report goes into. */
    output: z.string().min(1).default('kreplay-ci'),
    formats: z.array(z.enum(CI_FORMATS)).min(1).default(['text', 'json', 'junit', 'sarif', 'github', 'html']),
    /** With "kcidb" in formats: the CI system's name and where the output folder is published. */
    kcidb: z
      .object({
        origin: z
          .string()
          .regex(/^[a-z0-9_]+$/, 'lower-case letters, digits and _ only (KCIDB origin)')
          .default('kreplay'),
        /** URL the output folder is published under (a CI job's artifacts); default: file: URLs of the output folder. */
        artifactsUrl: z.url().optional(),
      })
      .strict()
      .default({ origin: 'kreplay' }),
  })
  .strict();

export type CiConfig = z.infer<typeof CiConfigSchema>;
export type CiSide = z.infer<typeof SideSchema>;

export interface LoadedCiConfig {
  config: CiConfig;
  file: string;
  thresholds: Threshold[];
  /** The line of a key in the config file (for errors found after loading). */
  lineOf?: (path: Array<string | number>) => number | undefined;
}

/** An input error about one key of the config, at its file:line. */
export function configError(loaded: LoadedCiConfig, key: Array<string | number>, message: string, hint?: string): InputError {
  return new InputError(`invalid config: ${key.join('.')}: ${message}`, { file: loaded.file, line: loaded.lineOf?.(key) ?? 1, ...(hint ? { hint } : {}) });
}

/** Read and validate a config; relative paths become relative to its folder. */
export async function loadCiConfig(file: string): Promise<LoadedCiConfig> {
  const opts = { what: 'config', hint: 'see kreplay.config.example.json and docs/ci.md for every key' };
  await stat(file).catch(() => {
    throw new InputError('cannot read the config: no such file', { file, hint: 'copy kreplay.config.example.json to kreplay.config.json and edit it' });
  });
  const { value: config, doc } = await loadDocument(file, CiConfigSchema, opts);
  const dir = path.dirname(file);
  /** A Debian kernel spec (`debian`, `debian-6.12`, `debian-6.12:6.12.117+deb12-amd64`), not a path. */
  const DEBIAN_KERNEL = /^debian(?:-\d+\.\d+)?(?::.+)?$/;
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
  for (const side of [config.base, config.patched]) {
    if (side.traces) side.traces = side.traces.map(abs);
    if (side.kernel && !DEBIAN_KERNEL.test(side.kernel)) side.kernel = abs(side.kernel);
    if (side.modules) side.modules = abs(side.modules);
  }
  if (config.capture.profile) config.capture.profile = abs(config.capture.profile);
  if (config.replay.probes) config.replay.probes = abs(config.replay.probes);
  config.output = path.resolve(abs(config.output));
  const thresholds = Object.entries(config.thresholds.maxRegression).map(([k, v]) => {
    try {
      return parseThreshold(`${k}=${v}`, 'config thresholds.maxRegression');
    } catch (e) {
      throw new InputError((e as Error).message, { file, line: doc.lineOf(['thresholds', 'maxRegression', k]), hint: (e as InputError).hint });
    }
  });
  const loaded: LoadedCiConfig = { config, file, thresholds, lineOf: (p) => doc.lineOf(p) };
  // With traces on both sides nothing is captured: the groups are the workloads the traces'
  // meta.json files name, the runs are the traces'. A "capture" or "runs" key would be
  // ignored without a word, and a reader of the config would believe it chose them.
  if (config.base.traces && config.patched.traces) {
    const raw = doc.data;
    for (const key of ['capture', 'runs'])
      if (raw !== null && typeof raw === 'object' && key in raw)
        throw configError(
          loaded,
          [key],
          'has no effect: both sides give "traces", so nothing is captured (the workloads and runs are those of the traces)',
          'remove it, or give a side a "kernel" to capture',
        );
  }
  // replay reads the kernel only after a capture: a misspelt one would fail minutes in
  const kernels = shippedKernels();
  if (!['auto', 'explore', ...kernels].includes(config.replay.kernel))
    throw configError(
      loaded,
      ['replay', 'kernel'],
      `unknown kernel "${config.replay.kernel}"`,
      `choose one of: auto, explore, ${kernels.join(', ')} (a new kernel is a probe map file in kernel-configs/probes/)`,
    );
  // A workload named twice was captured and diffed twice into one folder and listed twice in
  // the summary (`["odirect-race", "odirect-race"]`: two groups odirect-race). A format named
  // twice wrote the same report again and listed it again in summary.json and summary.txt:
  // `formats` holding "text" 100,000 times ran 75 s and printed a 2.5 MB summary (session 37).
  // (the index of the first name seen before, in one pass: indexOf per entry was quadratic in a long list)
  const twice = (list: readonly string[]): number => {
    const seen = new Set<string>();
    return list.findIndex((w) => seen.size === seen.add(w).size);
  };
  const workload = twice(config.capture.workloads);
  if (workload >= 0)
    throw configError(
      loaded,
      ['capture', 'workloads', workload],
      `workload "${config.capture.workloads[workload]}" is named twice`,
      'name each workload once; use "runs" for more runs of one',
    );
  const format = twice(config.formats);
  if (format >= 0) throw configError(loaded, ['formats', format], `format "${config.formats[format]}" is named twice`, 'name each format once');
  try {
    parseDuration(config.capture.duration, 'capture.duration');
  } catch (e) {
    throw configError(loaded, ['capture', 'duration'], (e as Error).message, (e as InputError).hint);
  }
  // Files the config names must exist now, not after the first side's capture.
  const named: Array<[Array<string | number>, string | undefined]> = [
    [['capture', 'profile'], config.capture.profile],
    [['replay', 'probes'], config.replay.probes],
    [['base', 'modules'], config.base.modules],
    [['patched', 'modules'], config.patched.modules],
  ];
  for (const [key, p] of named) {
    if (
      p !== undefined &&
      !(await stat(p).then(
        () => true,
        () => false,
      ))
    )
      throw configError(loaded, key, `${p}: no such file or folder`, "paths are relative to the config file's folder");
  }
  for (const side of ['base', 'patched'] as const) {
    for (const [i, t] of (config[side].traces ?? []).entries()) {
      if (
        !(await stat(t).then(
          () => true,
          () => false,
        ))
      )
        throw configError(loaded, [side, 'traces', i], `${t}: no such file or folder`, "paths are relative to the config file's folder");
    }
  }
  return loaded;
}
