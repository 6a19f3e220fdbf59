/**
 * The kernel a capture boots: Debian's packaged `linux-image-amd64` (fetched with
 * `apt-get download`, unpacked with `dpkg -x` into a cache folder keyed by package and
 * version, never installed into /boot), or a user's own image plus its modules folder.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError, isInputError, loadDocument, readErrorWhy, stringifyJson } from '@kreplay/core';
import { EnvironmentError } from '@kreplay/core';
import { DEFAULT_DEBIAN_SERIES, debianImageForRelease, releaseOfImagePackage, type DebianSeries, type DebianSpec } from '@kreplay/core';
import { requireTool, run, which } from './tools.js';
import { execa } from 'execa';
import { z } from 'zod';

export interface KernelImage {
  /** bzImage (or a PVH-bootable vmlinux) handed to QEMU's -kernel. */
  image: string;
  /** /lib/modules/<release> of this kernel (with modules.dep), or undefined when drivers are built in. */
  modulesDir?: string;
  /** `uname -r`, when known before boot (the guest's own answer is checked against it). */
  release?: string;
  /** `debian:<package>=<version>` or `path:<image>`. */
  source: string;
  /** The kernel's .config, when known. */
  config?: string;
  /** Uncompressed vmlinux (for BTF), when the caller already has one. */
  vmlinux?: string;
  /** The config fragment and patches the kernel was built with (for meta.json). */
  configFragment?: string;
  patches?: string[];
}

/** ~/.cache/kreplay, or $KREPLAY_CACHE. */
export function defaultCacheDir(): string {
  return process.env.KREPLAY_CACHE ? resolve(process.env.KREPLAY_CACHE) : join(homedir(), '.cache', 'kreplay');
}

const cacheEntry = z.object({ pkg: z.string(), version: z.string(), release: z.string() });

/**
 * The kernel a cache folder `<cache>/kernels/<pkg>_<version>` holds, from its complete.json.
 * A fetch writes that file in a temporary folder and renames the folder into place (below),
 * so an interrupted fetch leaves no complete.json: one that is not JSON, not an object with
 * the kernel's package, version and release, or names another kernel than its folder was
 * edited or damaged after the fact, and nothing in that folder can be trusted to be the
 * kernel it names. That is an EnvironmentError naming the folder, not a crash (exit 70,
 * before session 38) and not a silent skip (which would boot another cached kernel; a
 * capture's progress lines are not printed off a terminal, so CI would never say why).
 */
async function readCacheEntry(dir: string): Promise<z.output<typeof cacheEntry>> {
  const file = join(dir, 'complete.json');
  const damaged = (why: string) =>
    new EnvironmentError(
      `the kernel cache entry ${dir} is damaged: ${why}`,
      `delete ${dir} and run again with apt able to reach Debian (kreplay fetches the kernel again); kreplay writes complete.json whole, so this one was edited or the disk failed`,
    );
  let entry: z.output<typeof cacheEntry>;
  try {
    entry = (await loadDocument(file, cacheEntry, { what: 'complete.json', hint: '' })).value;
  } catch (e) {
    if (!isInputError(e)) throw e;
    throw damaged(`complete.json${e.line ? `:${e.line}` : ''}: ${e.message}`);
  }
  if (basename(dir) !== `${entry.pkg}_${entry.version}` || entry.release !== releaseOfImagePackage(entry.pkg)) {
    throw damaged(`complete.json names ${entry.pkg} ${entry.version} (release ${entry.release}), not the kernel of its folder`);
  }
  return entry;
}

/**
 * The newest kernel of `series` (and `pkg`, when pinned) a previous run unpacked into the
 * cache. Folders of other packages (their names say which) are not read.
 */
async function newestCachedKernel(cacheDir: string, series: DebianSeries, pkg?: string): Promise<{ pkg: string; version: string } | undefined> {
  const dir = join(cacheDir, 'kernels');
  const found: Array<{ pkg: string; version: string; mtime: number }> = [];
  for (const d of existsSync(dir) ? await readdir(dir) : []) {
    // `<pkg>_<version>`: neither a Debian package name nor a version holds "_"
    const named = d.split('_')[0]!;
    if (pkg ? named !== pkg : !named.startsWith('linux-image-') || !series.release.test(releaseOfImagePackage(named))) continue;
    const done = join(dir, d, 'complete.json');
    if (!existsSync(done)) continue;
    const j = await readCacheEntry(join(dir, d));
    found.push({ pkg: j.pkg, version: j.version, mtime: (await stat(done)).mtimeMs });
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0];
}

async function requireAptCache(): Promise<void> {
  if (!(await which('apt-cache'))) {
    throw new EnvironmentError(
      "apt-cache is not available, so Debian's kernel cannot be fetched",
      'on a non-Debian host pass --kernel PATH (a bzImage or vmlinux) and --modules DIR',
    );
  }
}

/** apt's version of an image package (its candidate); a package apt does not know is the user's pin to fix. */
async function imagePackageVersion(pkg: string): Promise<string> {
  await requireAptCache();
  const show = await run('apt-cache', ['show', '--no-all-versions', pkg], { what: `apt-cache show ${pkg}` }).catch((e: unknown) => {
    if (e instanceof Error && /No packages found/.test(e.message)) {
      throw new InputError(`apt knows no package ${pkg}, so ${releaseOfImagePackage(pkg)} is not a release it can fetch`, {
        hint: 'list the releases apt knows with apt-cache search --names-only linux-image-6 (after apt-get update)',
      });
    }
    throw e;
  });
  const version = /^Version:\s*(\S+)/m.exec(show)?.[1];
  if (!version)
    throw new EnvironmentError(`apt-cache shows no version for ${pkg}`, 'run apt-get update (Debian 12 bookworm and bookworm-security carry the kernels)');
  return version;
}

/** The image package a meta-package (`linux-image-amd64`, `linux-image-6.12-amd64`) currently depends on, and its version. */
export async function debianImagePackage(meta = DEFAULT_DEBIAN_SERIES.imageMeta): Promise<{ pkg: string; version: string }> {
  await requireAptCache();
  const deps = await run('apt-cache', ['depends', meta], { what: `apt-cache depends ${meta}` });
  const pkg = /Depends:\s*(linux-image-\S+)/.exec(deps)?.[1];
  if (!pkg) {
    throw new EnvironmentError(
      `apt-cache names no image package for ${meta}`,
      'run apt-get update (is this a Debian/Ubuntu host with deb.debian.org in sources?), or pass --kernel PATH',
    );
  }
  return { pkg, version: await imagePackageVersion(pkg) };
}

/**
 * Fetch and unpack Debian's kernel into `<cache>/kernels/<pkg>_<version>/root`, generate
 * its modules.dep with depmod, and reuse that folder next time. `spec` chooses the series
 * (default 6.1: `linux-image-amd64`) and optionally pins a release
 * (`debian-6.12:6.12.107+deb12-amd64` → `linux-image-6.12.107+deb12-amd64`).
 */
export async function fetchDebianKernel(
  cacheDir: string,
  onProgress?: (m: string) => void,
  spec: DebianSpec = { series: DEFAULT_DEBIAN_SERIES },
): Promise<KernelImage> {
  const pinned = spec.pin === undefined ? undefined : debianImageForRelease(spec.series, spec.pin);
  let chosen: { pkg: string; version: string };
  try {
    chosen = pinned ? { pkg: pinned, version: await imagePackageVersion(pinned) } : await debianImagePackage(spec.series.imageMeta);
  } catch (e) {
    // Offline, or apt lists gone: a kernel of this series (or this pin) fetched earlier still boots.
    const cached = await newestCachedKernel(cacheDir, spec.series, pinned);
    if (!cached) throw e;
    onProgress?.(`apt-cache could not name the kernel (${(e as Error).message}); using the cached ${cached.pkg} ${cached.version}`);
    chosen = cached;
  }
  const { pkg, version } = chosen;
  const release = releaseOfImagePackage(pkg);
  if (!spec.series.release.test(release)) {
    throw new EnvironmentError(
      `${spec.series.imageMeta} depends on ${pkg}, which is not a ${spec.series.name} amd64 kernel`,
      'run apt-get update, or pin a release: --kernel debian-SERIES:RELEASE',
    );
  }
  const dir = join(cacheDir, 'kernels', `${pkg}_${version}`);
  const root = join(dir, 'root');
  const done = join(dir, 'complete.json');
  if (existsSync(done)) await readCacheEntry(dir);
  else {
    onProgress?.(`fetching ${pkg} ${version} with apt-get download into ${dir}`);
    await mkdir(join(cacheDir, 'kernels'), { recursive: true });
    const tmp = await mkdtemp(join(cacheDir, 'kernels', '.fetch-'));
    try {
      await run('apt-get', ['download', `${pkg}=${version}`], { cwd: tmp, what: `apt-get download ${pkg}` });
      const deb = (await readdir(tmp)).find((f) => f.endsWith('.deb'));
      if (!deb) throw new EnvironmentError(`apt-get download left no .deb for ${pkg}`, 'check apt sources and network');
      await run('dpkg-deb', ['-x', join(tmp, deb), join(tmp, 'root')], { what: 'dpkg -x' });
      await run('depmod', ['-b', join(tmp, 'root'), release], { what: 'depmod' });
      await writeFile(join(tmp, 'complete.json'), `${stringifyJson({ pkg, version, release, deb }, 2)}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  const image = join(root, 'boot', `vmlinuz-${release}`);
  if (!existsSync(image)) throw new EnvironmentError(`${pkg} has no boot/vmlinuz-${release}`, `delete ${dir} and retry`);
  return {
    image,
    release,
    source: `debian:${pkg}=${version}`,
    modulesDir: join(root, 'lib', 'modules', release),
    config: join(root, 'boot', `config-${release}`),
  };
}

/**
 * The release string an x86 bzImage carries (setup header `kernel_version`, a pointer at
 * 0x20e relative to 0x200), or the `Linux version X` banner of a vmlinux.
 */
export function imageRelease(data: Buffer): string | undefined {
  if (data.length > 0x210 && data.toString('latin1', 0x202, 0x206) === 'HdrS') {
    const ptr = data.readUInt16LE(0x20e) + 0x200;
    const end = data.indexOf(0, ptr);
    if (end > ptr) return data.toString('latin1', ptr, end).split(' ')[0];
  }
  const banner = data.indexOf('Linux version ');
  if (banner >= 0) return data.toString('latin1', banner + 14, banner + 200).split(' ')[0];
  return undefined;
}

/** A user's kernel: an image path plus an optional /lib/modules/<release> folder. */
export async function userKernel(imagePath: string, modulesDir?: string): Promise<KernelImage> {
  const image = resolve(imagePath);
  let data: Buffer;
  try {
    data = await readFile(image);
  } catch (e) {
    throw new InputError(`cannot read kernel image: ${readErrorWhy(e)}`, {
      file: imagePath,
      hint: 'pass --kernel debian or the path of a bzImage/vmlinux',
      cause: e,
    });
  }
  const isElf = data.length >= 4 && data.readUInt32BE(0) === 0x7f454c46;
  if (!isElf && data.toString('latin1', 0x202, 0x206) !== 'HdrS') {
    throw new InputError('not an x86 bzImage or vmlinux (no HdrS setup header, no ELF magic)', { file: imagePath });
  }
  const release = imageRelease(data);
  let mods: string | undefined;
  if (modulesDir) {
    mods = resolve(modulesDir);
    if (!existsSync(join(mods, 'modules.dep')) && release && existsSync(join(mods, 'lib', 'modules', release, 'modules.dep'))) {
      mods = join(mods, 'lib', 'modules', release);
    }
    if (!existsSync(join(mods, 'modules.dep'))) {
      throw new InputError('modules folder has no modules.dep', {
        file: modulesDir,
        hint: `pass /lib/modules/<release> of this kernel (run depmod -b ROOT ${release ?? '<release>'} first)`,
      });
    }
    if (release && basename(mods) !== release) {
      throw new InputError(`modules folder is for ${basename(mods)} but the image is ${release}`, {
        file: modulesDir,
        hint: 'pass the modules built with this image',
      });
    }
  }
  const config = [join(dirname(image), '.config'), join(dirname(image), '..', '..', '..', '.config')].find((p) => existsSync(p));
  return { image, modulesDir: mods, release, source: `path:${image}`, config, vmlinux: isElf ? image : undefined };
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

/** Decompress a bzImage payload with an external tool (xz: 6.1's Debian kernel; zstd: 6.12's). */
async function decompressPayload(tool: 'xz' | 'zstd', payload: Buffer, image: string): Promise<Buffer> {
  const tmp = await mkdtemp(join(tmpdir(), 'kreplay-vmlinux-'));
  try {
    await writeFile(join(tmp, 'payload'), payload);
    // the payload is followed by the setup trailer: read the first stream only (xz), or
    // tolerate the trailing bytes (zstd -d stops with an error after the frame it decoded)
    const args = tool === 'xz' ? ['-dc', '--single-stream', join(tmp, 'payload')] : ['-dc', '--no-progress', join(tmp, 'payload')];
    const r = await execa(await requireTool(tool), args, { stdout: { file: join(tmp, 'vmlinux') }, reject: false });
    const out = await readFile(join(tmp, 'vmlinux'));
    if (r.exitCode !== 0 && !(tool === 'zstd' && out.length > 4 && out.readUInt32BE(0) === 0x7f454c46)) {
      throw new EnvironmentError(
        `${tool} could not decompress the vmlinux payload of ${image}: ${String(r.stderr).trim()}`,
        'check the image, or pass the uncompressed vmlinux as --kernel',
      );
    }
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Uncompressed vmlinux (ELF) from a bzImage: its xz, zstd or gzip payload. */
export async function extractVmlinux(image: string, outFile: string): Promise<string> {
  if (existsSync(outFile)) return outFile;
  const data = await readFile(image);
  if (data.length >= 4 && data.readUInt32BE(0) === 0x7f454c46) return image;
  let elf: Buffer | undefined;
  const xz = data.indexOf(XZ_MAGIC);
  const zst = data.indexOf(ZSTD_MAGIC);
  if (xz >= 0 && (zst < 0 || xz < zst)) {
    elf = await decompressPayload('xz', data.subarray(xz), image);
  } else if (zst >= 0) {
    elf = await decompressPayload('zstd', data.subarray(zst), image);
  } else {
    const gz = data.indexOf(GZIP_MAGIC);
    if (gz >= 0) {
      try {
        elf = gunzipSync(data.subarray(gz));
      } catch {
        elf = undefined;
      }
    }
  }
  if (!elf || elf.length < 4 || elf.readUInt32BE(0) !== 0x7f454c46) {
    throw new EnvironmentError(
      `cannot extract vmlinux from ${image} (payload is neither xz, zstd nor gzip)`,
      'pass the uncompressed vmlinux as --kernel, or give a declared offsets table (profile offsetsTable)',
    );
  }
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(`${outFile}.tmp${process.pid}`, elf);
  await rename(`${outFile}.tmp${process.pid}`, outFile);
  return outFile;
}

/** Short content hash of a file, for cache keys. */
export async function fileKey(path: string): Promise<string> {
  const st = await stat(path);
  const h = createHash('sha256');
  h.update(await readFile(path));
  h.update(String(st.size));
  return h.digest('hex').slice(0, 16);
}
