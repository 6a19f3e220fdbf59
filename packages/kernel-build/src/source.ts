/**
 * Where the kernel source comes from. `debian` / `debian-6.12`: Debian's linux-source-6.1 /
 * linux-source-6.12 package (debian.ts names the series), fetched with
 * `apt-get download` (never installed) and unpacked once into the cache, keyed by the
 * package version. A directory: the user's own tree, identified by its content (git HEAD
 * plus uncommitted changes, or a stat walk of its source files), never modified — builds
 * happen in a copy.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_DEBIAN_SERIES, parseDebianSpec, type DebianSeries } from '@kreplay/core';
import { EnvironmentError, InputError } from './errors.js';
import { sha256, type SourceIdentity } from './identity.js';
import { run, requireTools, type RunOptions } from './run.js';

/** The source package plain `debian` means. */
export const DEBIAN_SOURCE_PACKAGE = DEFAULT_DEBIAN_SERIES.sourcePackage;

/** The cache root: $KREPLAY_CACHE, else ~/.cache/kreplay. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.KREPLAY_CACHE || path.join(os.homedir(), '.cache', 'kreplay');
}

export interface ResolvedSource {
  identity: SourceIdentity;
  dir: string;
}

/**
 * `debian[-SERIES][:<package version>]`: Debian's source package of that series (plain
 * `debian` is 6.1); undefined for anything else (a directory). An unknown series or an
 * empty pin is an InputError.
 */
export function parseDebianSource(source: string): { series: DebianSeries; version?: string } | undefined {
  const spec = parseDebianSpec(source);
  if (!spec) return undefined;
  return spec.pin === undefined ? { series: spec.series } : { series: spec.series, version: spec.pin };
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION] from a kernel Makefile. */
export function kernelVersionFromMakefile(text: string): string | undefined {
  const get = (k: string): string | undefined => new RegExp(`^${k}\\s*=\\s*(\\S*)\\s*$`, 'm').exec(text)?.[1];
  const [v, p, s] = [get('VERSION'), get('PATCHLEVEL'), get('SUBLEVEL')];
  if (!v || !p || s === undefined) return undefined;
  return `${v}.${p}.${s || '0'}${get('EXTRAVERSION') ?? ''}`;
}

async function readKernelVersion(dir: string, given: string): Promise<string> {
  const makefile = path.join(dir, 'Makefile');
  const text = await fs.readFile(makefile, 'utf8').catch(() => '');
  const version = kernelVersionFromMakefile(text);
  if (!version || !(await exists(path.join(dir, 'Kconfig')))) {
    throw new InputError(`not a Linux kernel source tree (no Makefile with VERSION/PATCHLEVEL/SUBLEVEL, or no Kconfig)`, {
      file: given,
      hint: 'pass the top of a kernel tree to --source, or --source debian',
    });
  }
  return version;
}

/** Source files that decide what a build produces (for a tree without git). */
const SOURCE_FILE = /(\.[chS]|\.lds|Kconfig[^/]*|Makefile[^/]*|Kbuild[^/]*|\.sh|\.pl|\.py)$/;

/** A fingerprint of a tree's sources: git HEAD + diff when it is a git checkout, else a stat walk. */
export async function fingerprintTree(dir: string, opts: RunOptions = {}): Promise<string> {
  if (await exists(path.join(dir, '.git'))) {
    const head = await run('git', ['-C', dir, 'rev-parse', 'HEAD'], opts).catch(() => undefined);
    if (head && head.exitCode === 0) {
      const diff = await run('git', ['-C', dir, 'diff', 'HEAD', '--no-ext-diff', '--binary'], { ...opts, keep: true });
      const untracked = await run('git', ['-C', dir, 'ls-files', '--others', '--exclude-standard'], opts);
      return `git:${head.lines[0]}:${sha256(diff.lines.join('\n') + untracked.lines.join('\n')).slice(0, 16)}`;
    }
  }
  const parts: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && SOURCE_FILE.test(e.name)) {
        const st = await fs.stat(path.join(dir, r));
        parts.push(`${r}\0${st.size}\0${Math.trunc(st.mtimeMs)}`);
      }
    }
  }
  await walk('');
  return `stat:${sha256(parts.join('\n')).slice(0, 16)}`;
}

export async function resolveDirSource(given: string, opts: RunOptions = {}): Promise<ResolvedSource> {
  const dir = path.resolve(given);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory())
    throw new InputError('kernel source directory not found', { file: given, hint: 'pass --source DIR (a kernel tree) or --source debian' });
  const kernelVersion = await readKernelVersion(dir, given);
  return { dir, identity: { kind: 'dir', kernelVersion, path: dir, fingerprint: await fingerprintTree(dir, opts) } };
}

/** The version apt would download (its Candidate). */
async function candidateVersion(pkg: string, opts: RunOptions): Promise<string> {
  await requireTools(['apt-cache'], `to find ${pkg} (--source debian)`);
  const r = await run('apt-cache', ['policy', pkg], opts);
  const cand = r.lines.map((l) => /^\s*Candidate:\s*(\S+)/.exec(l)?.[1]).find(Boolean);
  if (r.exitCode !== 0 || !cand || cand === '(none)') {
    throw new EnvironmentError(
      `apt knows no candidate version of ${pkg}`,
      `run apt-get update (Debian 12 "bookworm" main or security provides ${pkg}), or pass --source DIR`,
    );
  }
  return cand;
}

/**
 * Debian's linux-source package, unpacked into <cache>/kernel-source/debian-<pkg>_<version>/.
 * A complete unpack is marked by `.complete`, so an interrupted one is redone, not reused.
 * The version is apt's candidate, or `version` when the user pins one; `series` chooses the
 * package (default 6.1).
 */
export async function resolveDebianSource(
  opts: RunOptions & { cache: string; version?: string; series?: DebianSeries; onStep?: (s: string) => void },
): Promise<ResolvedSource> {
  const series = opts.series ?? DEFAULT_DEBIAN_SERIES;
  const pkg = series.sourcePackage;
  if (opts.version !== undefined && !opts.version.startsWith(`${series.name}.`)) {
    // `debian:6.12.117-1~deb12u1` names the 6.1 series: say so rather than let apt fail
    const other = /^(\d+\.\d+)\./.exec(opts.version)?.[1];
    throw new InputError(`${opts.version} is not a version of ${pkg}`, {
      hint: other && other !== series.name ? `name the series: --source debian-${other}:${opts.version}` : `pin a ${pkg} version (apt-cache policy ${pkg})`,
    });
  }
  // a pinned version (--source debian:6.1.192-2) needs no apt at all once it is cached
  const packageVersion = opts.version ?? (await candidateVersion(pkg, opts));
  const base = path.join(opts.cache, 'kernel-source', `debian-${pkg}_${packageVersion}`);
  const dir = path.join(base, pkg);
  if (!(await exists(path.join(base, '.complete')))) {
    await requireTools(['apt-get', 'dpkg-deb', 'tar', 'xz'], `to fetch and unpack ${pkg}`);
    await fs.mkdir(base, { recursive: true });
    opts.onStep?.(`apt-get download ${pkg}=${packageVersion}`);
    const dl = await run('apt-get', ['download', `${pkg}=${packageVersion}`], { ...opts, cwd: base });
    if (dl.exitCode !== 0) {
      throw new EnvironmentError(
        `apt-get download ${pkg}=${packageVersion} failed:\n    ${dl.lines.slice(-5).join('\n    ')}`,
        'check the network and apt sources, or pass --source DIR',
      );
    }
    const deb = (await fs.readdir(base)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new EnvironmentError(`apt-get download left no ${pkg}_*.deb in ${base}`);
    opts.onStep?.(`unpacking ${deb}`);
    await fs.rm(path.join(base, 'pkg'), { recursive: true, force: true });
    const x = await run('dpkg-deb', ['-x', deb, 'pkg'], { ...opts, cwd: base });
    if (x.exitCode !== 0) throw new EnvironmentError(`dpkg-deb -x ${deb} failed: ${x.lines.slice(-3).join(' ')}`);
    const tarball = path.join(base, 'pkg', 'usr', 'src', `${pkg}.tar.xz`);
    if (!(await exists(tarball))) throw new EnvironmentError(`${deb} holds no usr/src/${pkg}.tar.xz`, 'the package layout changed; pass --source DIR');
    await fs.rm(dir, { recursive: true, force: true });
    const t = await run('tar', ['-xJf', tarball, '-C', base], { ...opts, keep: true });
    if (t.exitCode !== 0) throw new EnvironmentError(`unpacking ${tarball} failed: ${t.lines.slice(-3).join(' ')}`, 'is the disk full?');
    await fs.rm(path.join(base, deb), { force: true });
    await fs.writeFile(path.join(base, '.complete'), `${packageVersion}\n`);
  }
  const kernelVersion = await readKernelVersion(dir, dir);
  return { dir, identity: { kind: 'debian', kernelVersion, package: pkg, packageVersion } };
}
