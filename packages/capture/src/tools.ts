/** Host tools capture runs (through execa), with the Debian package that provides each. */
import { access, constants, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '@kreplay/core';

export const TOOL_PACKAGES: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'busybox': 'busybox-static',
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  'depmod': 'kmod',
  'mkfs.ext4': 'e2fsprogs',
  'pahole': 'dwarves',
  'xz': 'xz-utils',
  'zstd': 'zstd',
  'gcc': 'gcc',
  'trace-cmd': 'trace-cmd',
};

/** Debian packages the capture needs (what .ci/run installs). */
export const CAPTURE_APT_PACKAGES = ['qemu-system-x86', 'busybox-static', 'cpio', 'kmod', 'e2fsprogs', 'dwarves', 'xz-utils', 'zstd'] as const;

/** Absolute path of `tool` on PATH (plus the sbin directories), or undefined. */
export async function which(tool: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, tool);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export async function requireTool(tool: string): Promise<string> {
  const p = await which(tool);
  if (p) return p;
  const pkg = TOOL_PACKAGES[tool];
  throw new EnvironmentError(`${tool} is not installed`, pkg ? `apt-get install ${pkg}` : `install ${tool}`);
}

/** Run a tool; a failure becomes an EnvironmentError quoting its stderr. */
export async function run(
  tool: string,
  args: readonly string[],
  opts: { cwd?: string; input?: Uint8Array; signal?: AbortSignal; what?: string } = {},
): Promise<string> {
  const bin = await requireTool(tool);
  const r = await execa(bin, args, {
    cwd: opts.cwd,
    input: opts.input,
    reject: false,
    cancelSignal: opts.signal,
    stripFinalNewline: true,
  });
  if (r.exitCode !== 0 || r.failed) {
    const err = String(r.stderr || r.stdout || r.shortMessage)
      .trim()
      .split('\n')
      .slice(-5)
      .join('\n');
    throw new EnvironmentError(
      `${opts.what ?? tool} failed (${tool} ${args.join(' ')}): ${err}`,
      TOOL_PACKAGES[tool] ? `check that ${TOOL_PACKAGES[tool]} works on this machine` : undefined,
    );
  }
  return String(r.stdout);
}

/** True when the ELF file has no program interpreter (a static binary). */
export async function isStaticElf(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const ph = await programHeaders(fh);
    return ph !== undefined && !ph.some((p) => p.type === 3 /* PT_INTERP */);
  } finally {
    await fh.close();
  }
}

/** Bytes of program headers read at most (a vmlinux has a handful; a header counting more is not believed). */
const MAX_PHDR_BYTES = 1 << 20;
/** Bytes of one PT_NOTE segment read at most. */
const MAX_NOTE_BYTES = 1 << 20;

interface ProgramHeader {
  type: number;
  offset: number;
  size: number;
}

/**
 * The program headers of an ELF64 little-endian file, or undefined when it is not one or its
 * header does not hold together (too short, entries smaller than an ELF64 program header, more of
 * them than MAX_PHDR_BYTES, an offset past 2^53): the files read here are the user's, and a
 * corrupt one is "not a static binary" or "no PVH note", never a crash.
 */
async function programHeaders(fh: FileHandle): Promise<ProgramHeader[] | undefined> {
  const head = Buffer.alloc(64);
  const { bytesRead } = await fh.read(head, 0, 64, 0);
  if (bytesRead < 64 || head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 /* ELFCLASS64 */ || head[5] !== 1 /* ELFDATA2LSB */) return undefined;
  const phoff = head.readBigUInt64LE(32);
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  if (phentsize < 56 || phentsize * phnum > MAX_PHDR_BYTES || phoff > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const ph = Buffer.alloc(phentsize * phnum);
  await fh.read(ph, 0, ph.length, Number(phoff));
  const out: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = i * phentsize;
    const offset = ph.readBigUInt64LE(p + 8);
    const size = ph.readBigUInt64LE(p + 32);
    out.push({
      type: ph.readUInt32LE(p),
      offset: offset > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(offset),
      size: size > BigInt(MAX_NOTE_BYTES) ? MAX_NOTE_BYTES : Number(size),
    });
  }
  return out;
}

/**
 * Shared libraries (and the ELF interpreter) a dynamic binary loads, as `ldd` resolves
 * them on this host: absolute paths, sorted.
 */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const text = await run('ldd', [binary], { what: `ldd ${binary}` });
  return parseLdd(text);
}

export function parseLdd(text: string): string[] {
  const libs = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.add(m[1]);
  }
  return [...libs].sort();
}

const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/**
 * True when an ELF vmlinux carries the PVH entry note (Xen note type 18), so QEMU can
 * boot it directly with -kernel (CONFIG_PVH; about 2 s faster than the bzImage under TCG).
 */
export async function hasPvhNote(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    for (const p of (await programHeaders(fh)) ?? []) {
      if (p.type !== 4 /* PT_NOTE */ || p.offset < 0) continue;
      const notes = Buffer.alloc(p.size);
      const { bytesRead } = await fh.read(notes, 0, notes.length, p.offset);
      // each note: namesz, descsz, type, then the name and the desc, each padded to 4 bytes
      for (let n = 0; n + 12 <= bytesRead;) {
        const namesz = notes.readUInt32LE(n);
        const descsz = notes.readUInt32LE(n + 4);
        const type = notes.readUInt32LE(n + 8);
        const name = notes.toString('latin1', n + 12, Math.min(bytesRead, n + 12 + Math.max(0, namesz - 1)));
        if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
        n += 12 + Math.ceil(namesz / 4) * 4 + Math.ceil(descsz / 4) * 4;
      }
    }
    return false;
  } finally {
    await fh.close();
  }
}
