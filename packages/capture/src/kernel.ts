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
import { InputError } from '@kreplay/core';
import { EnvironmentError } from '@kreplay/core';
import { requireTool, run, which } from './tools.js';
import { execa } from 'execa';

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

/** The newest kernel a previous run unpacked into the cache, if any. */
async function newestCachedKernel(cacheDir: string): Promise<{ pkg: string; version: string } | undefined> {
  const dir = join(cacheDir, 'kernels');
  const found: Array<{ pkg: string; version: string; mtime: number }> = [];
  for (const d of existsSync(dir) ? await readdir(dir) : []) {
    const done = join(dir, d, 'complete.json');
    if (!existsSync(done)) continue;
    const j = JSON.parse(await readFile(done, 'utf8')) as { pkg: string; version: string };
    found.push({ pkg: j.pkg, version: j.version, mtime: (await stat(done)).mtimeMs });
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0];
}

/** The image package `linux-image-amd64` currently depends on, and its version. */
export async function debianImagePackage(meta = 'linux-image-amd64'): Promise<{ pkg: string; version: string }> {
  if (!(await which('apt-cache'))) {
    throw new EnvironmentError('apt-cache is not available, so Debian\'s kernel cannot be fetched', 'on a non-Debian host pass --kernel PATH (a bzImage or vmlinux) and --modules DIR');
  }
  const deps = await run('apt-cache', ['depends', meta], { what: `apt-cache depends ${meta}` });
  const pkg = /Depends:\s*(linux-image-\S+)/.exec(deps)?.[1];
  if (!pkg) {
    throw new EnvironmentError(`apt-cache names no image package for ${meta}`, 'run apt-get update (is this a Debian/Ubuntu host with deb.debian.org in sources?), or pass --kernel PATH');
  }
  const show = await run('apt-cache', ['show', '--no-all-versions', pkg], { what: `apt-cache show ${pkg}` });
  const version = /^Version:\s*(\S+)/m.exec(show)?.[1];
  if (!version) throw new EnvironmentError(`apt-cache shows no version for ${pkg}`, 'run apt-get update');
  return { pkg, version };
}

/**
 * Fetch and unpack Debian's kernel into `<cache>/kernels/<pkg>_<version>/root`, generate
 * its modules.dep with depmod, and reuse that folder next time.
 */
export async function fetchDebianKernel(cacheDir: string, onProgress?: (m: string) => void): Promise<KernelImage> {
  let chosen: { pkg: string; version: string };
  try {
    chosen = await debianImagePackage();
  } catch (e) {
    // Offline, or apt lists gone: a kernel fetched earlier still boots.
    const cached = await newestCachedKernel(cacheDir);
    if (!cached) throw e;
    onProgress?.(`apt-cache could not name the current kernel (${(e as Error).message}); using the cached ${cached.pkg} ${cached.version}`);
    chosen = cached;
  }
  const { pkg, version } = chosen;
  const release = pkg.replace(/^linux-image-/, '').replace(/-unsigned$/, '');
  const dir = join(cacheDir, 'kernels', `${pkg}_${version}`);
  const root = join(dir, 'root');
  const done = join(dir, 'complete.json');
  if (!existsSync(done)) {
    onProgress?.(`fetching ${pkg} ${version} with apt-get download into ${dir}`);
    await mkdir(join(cacheDir, 'kernels'), { recursive: true });
    const tmp = await mkdtemp(join(cacheDir, 'kernels', '.fetch-'));
    try {
      await run('apt-get', ['download', `${pkg}=${version}`], { cwd: tmp, what: `apt-get download ${pkg}` });
      const deb = (await readdir(tmp)).find((f) => f.endsWith('.deb'));
      if (!deb) throw new EnvironmentError(`apt-get download left no .deb for ${pkg}`, 'check apt sources and network');
      await run('dpkg-deb', ['-x', join(tmp, deb), join(tmp, 'root')], { what: 'dpkg -x' });
      await run('depmod', ['-b', join(tmp, 'root'), release], { what: 'depmod' });
      await writeFile(join(tmp, 'complete.json'), `${JSON.stringify({ pkg, version, release, deb }, null, 2)}\n`);
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
    image, release, source: `debian:${pkg}=${version}`,
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
    throw new InputError(`cannot read kernel image: ${(e as Error).message}`, { file: imagePath, hint: 'pass --kernel debian or the path of a bzImage/vmlinux' });
  }
  const isElf = data.readUInt32BE(0) === 0x7f454c46;
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
      throw new InputError('modules folder has no modules.dep', { file: modulesDir, hint: `pass /lib/modules/<release> of this kernel (run depmod -b ROOT ${release ?? '<release>'} first)` });
    }
    if (release && basename(mods) !== release) {
      throw new InputError(`modules folder is for ${basename(mods)} but the image is ${release}`, { file: modulesDir, hint: 'pass the modules built with this image' });
    }
  }
  const config = [join(dirname(image), '.config'), join(dirname(image), '..', '..', '..', '.config')].find((p) => existsSync(p));
  return { image, modulesDir: mods, release, source: `path:${image}`, config, vmlinux: isElf ? image : undefined };
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

/** Uncompressed vmlinux (ELF) from a bzImage: its xz or gzip payload. */
export async function extractVmlinux(image: string, outFile: string): Promise<string> {
  if (existsSync(outFile)) return outFile;
  const data = await readFile(image);
  if (data.readUInt32BE(0) === 0x7f454c46) return image;
  let elf: Buffer | undefined;
  const xz = data.indexOf(XZ_MAGIC);
  if (xz >= 0) {
    const tmp = await mkdtemp(join(tmpdir(), 'kreplay-vmlinux-'));
    try {
      await writeFile(join(tmp, 'payload.xz'), data.subarray(xz));
      const r = await execa(await requireTool('xz'), ['-dc', '--single-stream', join(tmp, 'payload.xz')], {
        stdout: { file: join(tmp, 'vmlinux') }, reject: false,
      });
      if (r.exitCode !== 0) throw new EnvironmentError(`xz could not decompress the vmlinux payload of ${image}: ${String(r.stderr).trim()}`, 'check the image, or pass the uncompressed vmlinux as --kernel');
      elf = await readFile(join(tmp, 'vmlinux'));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } else {
    const gz = data.indexOf(GZIP_MAGIC);
    if (gz >= 0) {
      try { elf = gunzipSync(data.subarray(gz)); } catch { elf = undefined; }
    }
  }
  if (!elf || elf.readUInt32BE(0) !== 0x7f454c46) {
    throw new EnvironmentError(`cannot extract vmlinux from ${image} (payload is neither xz nor gzip)`, 'pass the uncompressed vmlinux as --kernel, or give a declared offsets table (profile offsetsTable)');
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
