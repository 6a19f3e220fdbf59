/**
 * `kreplay kernel build`: source → build tree → patches → config (base + fragments,
 * olddefconfig, verified) → make → struct offsets → outputs, cached by identity.
 *
 * Layout under <cache>/kernel-build/:
 *   trees/<treeKey>/          the writable source copy where objects are built
 *   out/<buildKey>/           bzImage, vmlinux, System.map, config, offsets.json,
 *                             build.log, result.json (a complete build; reused as is)
 *   out/<buildKey>.building/  a build under way (its log stays here when it fails)
 */
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { buildResultPath, checkOutputFolder, outputError, readBuildResult, readErrorWhy, stringifyJson, writeBuildResult } from '@kreplay/core';
import { effectiveRequests, findLostOptions, describeActual, mergeConfig, parseConfigFragment, parseDotConfig, type ConfigFragment } from './config.js';
import { EnvironmentError, InputError, KernelBuildError } from './errors.js';
import { buildKey, buildMeta, sha256, treeKey, type BaseConfig, type BuildIdentity, type BuildMeta } from './identity.js';
import { explainLoss, findDefinitions } from './kconfig.js';
import { isCompileStep, parseKbuildStep, summarizeBuildFailure } from './kbuild-output.js';
import { deriveOffsets, type BuildOffsetsTable } from './offsetof.js';
import { readPatch, reconcilePatches, type PatchFile } from './patches.js';
import { requireTools, run, type RunOptions } from './run.js';
import { cacheRoot, parseDebianSource, resolveDebianSource, resolveDirSource, type ResolvedSource } from './source.js';
import { ensureTree, lockTree, readTreeState, writeTreeState } from './tree.js';

export type BuildPhase = 'source' | 'tree' | 'patch' | 'config' | 'compile' | 'offsets' | 'install';

export interface BuildProgress {
  phase: BuildPhase;
  message: string;
  /** compile phase: objects compiled so far, and the count a cold build of this tree needed. */
  units?: number;
  expectedUnits?: number;
}

export interface KernelBuildOptions {
  /** 'debian' / 'debian-6.12' (apt's candidate linux-source-6.1 / -6.12), with ':<version>' pinned, or a kernel source directory. */
  source: string;
  fragments: string[];
  patches: string[];
  base?: BaseConfig;
  jobs?: number;
  /** Also copy the outputs here. */
  out?: string;
  /** Run make and the compiler under nice(1) (default 10: the machine is shared). */
  nice?: number;
  cache?: string;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
}

export interface KernelBuildFiles {
  bzImage: string;
  vmlinux: string;
  systemMap: string;
  config: string;
  offsets: string;
  log: string;
  /** INSTALL_MOD_PATH of `make modules_install`, when the config has modules. */
  modules?: string;
}

export interface KernelBuildResult {
  identity: BuildIdentity;
  /** What capture records in meta.json. */
  meta: BuildMeta;
  key: string;
  treeKey: string;
  /** true: an identical earlier build was reused, nothing ran. */
  cached: boolean;
  outDir: string;
  kernelRelease: string;
  files: KernelBuildFiles;
  /** offsets.json: capture's declared-offsets-table shape, for this release only. */
  offsets: BuildOffsetsTable;
  /** Compile-time constants (PAGE_SIZE, VMEMMAP_BASE_L4 that `nokaslr` pins, ...). */
  constants: Record<string, number | string>;
  /** Options requested by the fragments, all verified present in the final config. */
  configRequested: number;
  patchesReverted: string[];
  patchesApplied: string[];
  /** Objects compiled by this build (0: nothing changed). */
  compiledUnits: number;
  /** Wall time of each phase, ms. */
  timings: Partial<Record<BuildPhase | 'total', number>>;
}

const ARCH = 'x86_64';

/**
 * What kbuild would otherwise take from the clock, the user, the host and its own build
 * counter (Documentation/kbuild/reproducible-builds.rst), so the same identity builds the
 * same image on any machine.
 */
const REPRODUCIBLE_ENV = {
  KBUILD_BUILD_TIMESTAMP: 'Thu Jan  1 00:00:00 UTC 1970',
  KBUILD_BUILD_USER: 'kreplay',
  KBUILD_BUILD_HOST: 'kreplay',
  KBUILD_BUILD_VERSION: '1',
};

/**
 * `uname -r` names the exact build (6.1.192-kreplay-<key>), so a trace's meta.json and a
 * declared offsets table can never be matched with another build of the same version.
 * Changing it recompiles only the few files that include utsrelease.h.
 */
export function localVersion(key: string): string {
  return `-kreplay-${key.slice(0, 8)}`;
}
const BUILD_TOOLS = ['make', 'gcc', 'ld', 'patch', 'bison', 'flex', 'bc', 'perl', 'tar'];

async function compilerVersion(): Promise<string> {
  const r = await execa('gcc', ['--version'], { reject: false });
  if (r.exitCode !== 0) throw new EnvironmentError('gcc does not run', 'install build-essential');
  return String(r.stdout).split('\n')[0]!.trim();
}

async function readFragments(files: string[]): Promise<ConfigFragment[]> {
  const out: ConfigFragment[] = [];
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8').catch((e: Error) => {
      throw new InputError(`cannot read config fragment: ${readErrorWhy(e)}`, {
        file,
        hint: 'pass an existing file, e.g. --config-fragment kernel-configs/kreplay.config',
      });
    });
    out.push(parseConfigFragment(text, file));
  }
  return out;
}

/** The result of an earlier complete build in `dir` (the builder wrote it: its full shape). */
async function readResult(dir: string): Promise<KernelBuildResult | undefined> {
  if (!existsSync(buildResultPath(dir))) return undefined;
  try {
    return (await readBuildResult(dir)) as unknown as KernelBuildResult;
  } catch {
    return undefined; // a result of another version, or damaged: build again
  }
}

/**
 * Copy a finished build's files and its result.json into `dest` (for --out), returning the
 * files' new paths. A copy that fails is the machine's doing (exit 3) naming the file, never
 * an internal error after the build.
 */
async function copyOutputs(outDir: string, files: KernelBuildFiles, dest: string): Promise<KernelBuildFiles> {
  await checkOutputFolder(dest);
  const copy = (from: string, to: string) =>
    fs.cp(from, to, { recursive: true, force: true }).catch((e: unknown) => {
      throw outputError(to, e);
    });
  const copied = {} as KernelBuildFiles;
  for (const [k, src] of Object.entries(files) as [keyof KernelBuildFiles, string][]) {
    const to = path.join(dest, path.basename(src));
    await copy(src, to);
    copied[k] = to;
  }
  await copy(path.join(outDir, 'result.json'), path.join(dest, 'result.json'));
  return copied;
}

/** Base config, merge, olddefconfig, then verify that every requested option survived. */
async function configure(tree: string, base: BaseConfig, fragments: ConfigFragment[], opts: RunOptions): Promise<number> {
  const make = async (target: string): Promise<void> => {
    const r = await run('make', [`ARCH=${ARCH}`, target], { ...opts, cwd: tree });
    if (r.exitCode !== 0) {
      throw new KernelBuildError(`make ${target} failed:`, summarizeBuildFailure(r.lines).quote, { file: tree });
    }
  };
  await make(base);
  const dotConfig = path.join(tree, '.config');
  const requests = effectiveRequests(fragments);
  await fs.writeFile(dotConfig, mergeConfig(await fs.readFile(dotConfig, 'utf8'), requests));
  await make('olddefconfig');
  const final = parseDotConfig(await fs.readFile(dotConfig, 'utf8'));
  const lost = findLostOptions(requests, final);
  if (lost.length) {
    const defs = await findDefinitions(tree, new Set(lost.map((l) => l.request.symbol)));
    const lines = lost.map(({ request: r, actual }) => {
      const asked = r.value === null ? `# CONFIG_${r.symbol} is not set` : `CONFIG_${r.symbol}=${r.value}`;
      return `  ${asked} (${r.file}:${r.line}) → ${describeActual(actual)} after olddefconfig; ${explainLoss(r.symbol, defs.get(r.symbol), final)}`;
    });
    const first = lost[0]!.request;
    throw new InputError(
      `${lost.length} requested kernel option${lost.length > 1 ? 's' : ''} did not survive ${base} + fragments + olddefconfig:\n${lines.join('\n')}`,
      {
        file: first.file,
        line: first.line,
        hint: 'add the missing dependencies to the fragment (or drop the option); Kconfig silently drops an option whose dependencies are not met',
      },
    );
  }
  return requests.length;
}

async function compile(
  tree: string,
  targets: string[],
  jobs: number,
  localVersion: string,
  logLine: (l: string) => void,
  opts: RunOptions & { onUnit: (n: number, target: string) => void },
): Promise<number> {
  let units = 0;
  const tail: string[] = [];
  const r = await run('make', [`ARCH=${ARCH}`, `LOCALVERSION=${localVersion}`, `-j${jobs}`, ...targets], {
    ...opts,
    env: { ...opts.env, ...REPRODUCIBLE_ENV },
    cwd: tree,
    keep: false,
    onLine: (l) => {
      logLine(l);
      tail.push(l);
      if (tail.length > 4000) tail.splice(0, 2000);
      const step = parseKbuildStep(l);
      if (step && isCompileStep(step)) opts.onUnit(++units, step.target);
    },
  });
  if (r.exitCode !== 0) {
    const failure = summarizeBuildFailure(tail);
    if (failure.environment) {
      throw new EnvironmentError(
        `the kernel build failed for want of ${failure.environment}:\n    ${failure.quote.join('\n    ')}`,
        `install it: apt-get install ${failure.environment}`,
      );
    }
    throw new KernelBuildError(`the kernel build failed (make ${targets.join(' ')}):`, failure.quote, {
      file: failure.file ? path.join(tree, failure.file) : tree,
      line: failure.line,
      hint: 'fix the error (or drop the patch that causes it); the build log is named above',
    });
  }
  return units;
}

/** Copy a finished build's outputs from the tree into its (still `.building`) output folder. */
async function installOutputs(o: {
  tree: string;
  building: string;
  outDir: string;
  key: string;
  finalConfig: string;
  offsets: BuildOffsetsTable;
  hasModules: boolean;
  run: RunOptions;
}): Promise<KernelBuildFiles> {
  const { tree, building, outDir } = o;
  const f: KernelBuildFiles = {
    bzImage: path.join(outDir, 'bzImage'),
    vmlinux: path.join(outDir, 'vmlinux'),
    systemMap: path.join(outDir, 'System.map'),
    config: path.join(outDir, 'config'),
    offsets: path.join(outDir, 'offsets.json'),
    log: path.join(outDir, 'build.log'),
  };
  await fs.copyFile(path.join(tree, 'arch/x86/boot/bzImage'), path.join(building, 'bzImage'));
  await fs.copyFile(path.join(tree, 'vmlinux'), path.join(building, 'vmlinux'));
  await fs.copyFile(path.join(tree, 'System.map'), path.join(building, 'System.map'));
  await fs.writeFile(path.join(building, 'config'), o.finalConfig);
  await fs.writeFile(path.join(building, 'offsets.json'), `${stringifyJson(o.offsets, 2)}\n`);
  if (o.hasModules) {
    const r = await run(
      'make',
      [`ARCH=${ARCH}`, `LOCALVERSION=${localVersion(o.key)}`, `INSTALL_MOD_PATH=${path.join(building, 'modules')}`, 'modules_install'],
      { ...o.run, cwd: tree },
    );
    if (r.exitCode !== 0) throw new KernelBuildError('make modules_install failed:', summarizeBuildFailure(r.lines).quote, { file: tree });
    f.modules = path.join(outDir, 'modules');
  }
  await fs.rm(path.join(building, 'offsets-work'), { recursive: true, force: true });
  return f;
}

export async function buildKernel(opts: KernelBuildOptions): Promise<KernelBuildResult> {
  const t0 = Date.now();
  const timings: KernelBuildResult['timings'] = {};
  const timed = async <T>(phase: BuildPhase, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    try {
      return await fn();
    } finally {
      timings[phase] = (timings[phase] ?? 0) + Date.now() - s;
    }
  };
  const progress = (phase: BuildPhase, message: string, extra: Partial<BuildProgress> = {}): void => opts.onProgress?.({ phase, message, ...extra });
  const base = opts.base ?? 'tinyconfig';
  const jobs = Math.max(1, opts.jobs ?? 2);
  const cache = opts.cache ?? cacheRoot();
  const runOpts: RunOptions = { signal: opts.signal, nice: opts.nice ?? 10 };

  // inputs first: a bad fragment or patch fails before anything is downloaded
  const fragments = await readFragments(opts.fragments);
  const patches: PatchFile[] = [];
  for (const p of opts.patches) patches.push(await readPatch(p));
  // --out that cannot be written fails now, not after the build (a file in the way, /proc, a read-only disk)
  if (opts.out) await checkOutputFolder(opts.out);
  // a directory that is not a kernel tree is the user's to fix, whatever the machine lacks
  const debian = parseDebianSource(opts.source);
  const dirSource = debian ? undefined : await timed('source', () => resolveDirSource(opts.source, runOpts));
  await requireTools(BUILD_TOOLS, 'to build a kernel');
  const source: ResolvedSource =
    dirSource ??
    (await timed('source', () =>
      resolveDebianSource({ ...runOpts, cache, version: debian?.version, series: debian?.series, onStep: (s) => progress('source', s) }),
    ));
  const identity: BuildIdentity = {
    source: source.identity,
    arch: ARCH,
    base,
    fragments: await Promise.all(opts.fragments.map(async (f) => ({ name: path.basename(f), sha256: sha256(await fs.readFile(f)) }))),
    patches: patches.map((p) => ({ name: p.name, sha256: p.sha256 })),
    compiler: await compilerVersion(),
  };
  const key = buildKey(identity);
  const tkey = treeKey(identity);
  const root = path.join(cache, 'kernel-build');
  const outDir = path.join(root, 'out', key);

  const done = await readResult(outDir);
  if (done) {
    const files = opts.out ? await copyOutputs(outDir, done.files, opts.out) : done.files;
    return { ...done, cached: true, files, timings: { total: Date.now() - t0 } };
  }

  const trees = path.join(root, 'trees');
  const release = await lockTree(path.join(trees, tkey));
  try {
    const building = `${outDir}.building`;
    await fs.rm(building, { recursive: true, force: true });
    await fs.mkdir(building, { recursive: true });
    const logFile = path.join(building, 'build.log');
    const log = createWriteStream(logFile);
    const logLine = (l: string): void => {
      log.write(`${l}\n`);
    };
    const logged: RunOptions = { ...runOpts, onLine: logLine };
    try {
      logLine(`# kreplay kernel build ${key} (tree ${tkey})\n# ${JSON.stringify(identity)}`);
      progress('tree', `build tree ${tkey}`);
      const { tree } = await timed('tree', () => ensureTree(trees, tkey, source.dir, logged));
      const { reverted, applied } = await timed('patch', async () => {
        progress('patch', patches.length ? `patches: ${patches.map((p) => p.name).join(', ')}` : 'no patches (reverting any an earlier build applied)');
        return reconcilePatches(tree, patches, logged);
      });
      progress('config', `${base} + ${fragments.map((f) => path.basename(f.file)).join(' + ') || 'no fragments'} + olddefconfig`);
      const configRequested = await timed('config', () => configure(tree, base, fragments, logged));
      const finalConfig = await fs.readFile(path.join(tree, '.config'), 'utf8');
      const hasModules = /^CONFIG_\w+=m$/m.test(finalConfig);
      const state = await readTreeState(tree);
      const targets = hasModules ? ['bzImage', 'modules'] : ['bzImage'];
      progress('compile', `make -j${jobs} ${targets.join(' ')}`);
      const compiledUnits = await timed('compile', () =>
        compile(tree, targets, jobs, localVersion(key), logLine, {
          ...runOpts,
          onUnit: (n, target) => progress('compile', target, { units: n, expectedUnits: state?.coldUnits }),
        }).catch((e: unknown) => {
          if (e instanceof KernelBuildError || e instanceof EnvironmentError) e.message += `\n  build log: ${logFile}`;
          throw e;
        }),
      );
      if (state && state.coldUnits === undefined) await writeTreeState(tree, { ...state, coldUnits: compiledUnits });
      progress('offsets', "struct offsets (offsetof, with the build's own flags)");
      const markers = await timed('offsets', () => deriveOffsets(tree, path.join(building, 'offsets-work'), logged));
      const kernelRelease = (await fs.readFile(path.join(tree, 'include/config/kernel.release'), 'utf8')).trim();
      const offsets: BuildOffsetsTable = {
        release: kernelRelease,
        source: `offsetof() compiled with the flags of mm/filemap.o, kreplay kernel build ${key}`,
        offsets: markers.offsets,
        sizes: markers.sizes,
      };
      const files = await timed('install', () => {
        progress('install', `copying outputs to ${outDir}`);
        return installOutputs({ tree, building, outDir, key, finalConfig, offsets, hasModules, run: logged });
      });
      timings.total = Date.now() - t0;
      const result: KernelBuildResult = {
        identity,
        meta: buildMeta(identity),
        key,
        treeKey: tkey,
        cached: false,
        outDir,
        kernelRelease,
        files,
        offsets,
        constants: markers.constants,
        configRequested,
        patchesReverted: reverted,
        patchesApplied: applied,
        compiledUnits,
        timings,
      };
      logLine(`# done in ${timings.total} ms, ${compiledUnits} objects compiled`);
      await new Promise<void>((resolve) => log.end(resolve));
      await writeBuildResult(path.join(building, 'result.json'), result);
      await fs.rm(outDir, { recursive: true, force: true });
      await fs.rename(building, outDir);
      return opts.out ? { ...result, files: await copyOutputs(outDir, files, opts.out) } : result;
    } finally {
      if (!log.closed) log.end();
    }
  } finally {
    await release();
  }
}
