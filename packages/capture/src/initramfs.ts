/**
 * The capture guest's initramfs: busybox (static), the static workload binaries, the
 * kernel modules the guest needs in load order, and a generic /init that loads them,
 * mounts the 9p run share and runs the share's run.sh (guest-script.ts). Same inputs →
 * same bytes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { EnvironmentError, InputError, readErrorWhy } from '@kreplay/core';
import { requireTool } from './tools.js';
import { cpioNewc, gzipDeterministic, type CpioEntry } from './cpio.js';
import type { ModuleLoad } from './modules.js';
import { GUEST } from './guest-script.js';

/** virtio-9p mount tag of the run share. */
export const SHARE_TAG = 'kreplay';

/** /init: bring the guest up, hand over to the run share's script, power off. */
export function initScript(): string {
  return [
    '#!/bin/busybox sh',
    "# kreplay capture guest init (generic: each run's work comes from run.sh on the 9p share).",
    '/bin/busybox --install -s /bin',
    'mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev',
    `mount -t debugfs debugfs ${GUEST.debugfs}; mount -t tracefs tracefs ${GUEST.tracefs}`,
    'echo "KREPLAY_INIT release=$(uname -r)"',
    'die() { echo "KREPLAY_FAIL $*"; poweroff -f; }',
    'while read name mode; do',
    '  [ -n "$name" ] || continue',
    '  if ! insmod /lib/modules/$name.ko 2>/tmp/insmod.err; then',
    '    if [ "$mode" = optional ]; then echo "KREPLAY_MODULE_SKIPPED $name $(cat /tmp/insmod.err)";',
    '    else die "insmod $name: $(cat /tmp/insmod.err)"; fi',
    '  fi',
    'done < /etc/kreplay-modules',
    `mkdir -p ${GUEST.share}`,
    `mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 ${SHARE_TAG} ${GUEST.share} || die "cannot mount the 9p run share"`,
    `mkdir -p ${GUEST.out}`,
    `sh ${GUEST.share}/run.sh`,
    'echo "KREPLAY_EXIT rc=$?"',
    `sync; umount ${GUEST.disk} 2>/dev/null`,
    'poweroff -f',
    '',
  ].join('\n');
}

export interface InitramfsInput {
  busybox: string;
  /** guest binary name → host path */
  binaries: ReadonlyMap<string, string>;
  modules: readonly ModuleLoad[];
  modulesDir?: string;
  /** Further files at absolute guest paths (trace-cmd's shared libraries) → host path. */
  extraFiles?: ReadonlyMap<string, string>;
}

/** The file list, sorted by path (what tests check), before contents are read. */
export function initramfsLayout(input: InitramfsInput): Array<{ path: string; kind: CpioEntry['kind']; from?: string; mode?: number }> {
  const items: Array<{ path: string; kind: CpioEntry['kind']; from?: string; mode?: number }> = [];
  for (const d of ['bin', 'dev', 'etc', 'lib', 'lib/modules', 'mnt', 'proc', 'sys', 'tmp']) items.push({ path: d, kind: 'dir' });
  items.push({ path: 'dev/console', kind: 'chardev' });
  items.push({ path: 'init', kind: 'file', mode: 0o755 });
  items.push({ path: 'etc/kreplay-modules', kind: 'file' });
  items.push({ path: 'bin/busybox', kind: 'file', from: input.busybox, mode: 0o755 });
  for (const [name, from] of input.binaries) items.push({ path: `bin/${name}`, kind: 'file', from, mode: 0o755 });
  for (const m of input.modules) {
    items.push({ path: `lib/modules/${m.name}.ko`, kind: 'file', from: join(input.modulesDir ?? '', m.path) });
  }
  const have = new Set(items.map((i) => i.path));
  for (const [guestPath, from] of input.extraFiles ?? []) {
    const rel = guestPath.replace(/^\/+/, '');
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!have.has(d)) {
        have.add(d);
        items.push({ path: d, kind: 'dir' });
      }
    }
    if (!have.has(rel)) {
      have.add(rel);
      items.push({ path: rel, kind: 'file', from, mode: 0o755 });
    }
  }
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `name required|optional` per line, in load order. */
export function modulesList(modules: readonly ModuleLoad[]): string {
  return modules.map((m) => `${m.name} ${m.optional ? 'optional' : 'required'}\n`).join('');
}

/** What to try when a module file of the user's modules folder cannot be read or unpacked. */
const MODULE_HINT =
  'the modules folder does not hold what its modules.dep lists: pass the one installed with this kernel (make modules_install), or run depmod again';

/**
 * A module's bytes, decompressed: Debian's 6.12 ships `.ko.xz` (CONFIG_MODULE_COMPRESS_XZ),
 * and busybox `insmod` hands the file to init_module(2) as it is, which takes only an ELF.
 * The file comes from the user's modules folder: one that modules.dep lists but is missing,
 * a folder, unreadable, or a `.ko.gz` that is not gzip is an InputError naming it (they ended
 * the capture as internal errors, exit 70).
 */
export async function readModule(file: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (e) {
    throw new InputError(`cannot read the kernel module: ${readErrorWhy(e)}`, { file, hint: MODULE_HINT, cause: e });
  }
  if (file.endsWith('.ko.gz')) {
    try {
      return gunzipSync(data);
    } catch (e) {
      throw new InputError(`the kernel module is not gzip-compressed as its .gz name says (${(e as Error).message})`, { file, hint: MODULE_HINT, cause: e });
    }
  }
  const tool = file.endsWith('.ko.xz') ? 'xz' : file.endsWith('.ko.zst') ? 'zstd' : undefined;
  if (!tool) return data;
  const r = await execa(await requireTool(tool), ['-dc'], { input: data, encoding: 'buffer', reject: false });
  if (r.exitCode !== 0)
    throw new EnvironmentError(
      `${tool} could not decompress the kernel module ${file}: ${Buffer.from(r.stderr).toString().trim()}`,
      `check the file, or reinstall ${tool === 'xz' ? 'xz-utils' : 'zstd'}`,
    );
  return Buffer.from(r.stdout);
}

export async function buildInitramfs(input: InitramfsInput): Promise<Buffer> {
  const entries: CpioEntry[] = [];
  for (const it of initramfsLayout(input)) {
    if (it.kind === 'dir') entries.push({ kind: 'dir', path: it.path });
    else if (it.kind === 'chardev') entries.push({ kind: 'chardev', path: it.path, major: 5, minor: 1 });
    else if (it.path === 'init') entries.push({ kind: 'file', path: it.path, data: Buffer.from(initScript()), mode: 0o755 });
    else if (it.path === 'etc/kreplay-modules') entries.push({ kind: 'file', path: it.path, data: Buffer.from(modulesList(input.modules)) });
    else if (it.path.startsWith('lib/modules/')) entries.push({ kind: 'file', path: it.path, data: await readModule(it.from!) });
    else entries.push({ kind: 'file', path: it.path, data: await readFile(it.from!), mode: it.mode });
  }
  return gzipDeterministic(cpioNewc(entries));
}
