/**
 * A deterministic initramfs: cpio "newc" (the format the kernel unpacks) + gzip.
 * Entries are written in the order given (callers sort them), with uid/gid 0, mtime 0
 * and inode numbers counting from 1, so the same inputs give the same bytes.
 */
import { gzipSync } from 'node:zlib';

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, mode: number, size: number, name: string, rdev: [number, number] = [0, 0]): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [
    '070701',
    hex8(ino),
    hex8(mode),
    hex8(0),
    hex8(0),
    hex8(1),
    hex8(0),
    hex8(size),
    hex8(0),
    hex8(0),
    hex8(rdev[0]),
    hex8(rdev[1]),
    hex8(nameBytes.length),
    hex8(0),
  ].join('');
  const head = Buffer.from(fields, 'ascii');
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length))]);
}

/** The uncompressed newc archive. Paths are relative (`bin/busybox`), no leading slash. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (e.kind === 'dir') {
      parts.push(header(ino++, S_IFDIR | (e.mode ?? 0o755), 0, path));
    } else if (e.kind === 'chardev') {
      parts.push(header(ino++, S_IFCHR | (e.mode ?? 0o600), 0, path, [e.major, e.minor]));
    } else {
      const data = e.kind === 'file' ? Buffer.from(e.data) : Buffer.from(e.target, 'utf8');
      const mode = e.kind === 'file' ? S_IFREG | (e.mode ?? 0o644) : S_IFLNK | 0o777;
      parts.push(header(ino++, mode, data.length, path), data, Buffer.alloc(pad4(data.length)));
    }
  }
  parts.push(header(0, 0, 0, 'TRAILER!!!'));
  return Buffer.concat(parts);
}

/** gzip with a fixed level and no name/mtime in the header: byte-identical across runs. */
export function gzipDeterministic(data: Uint8Array, level = 6): Buffer {
  return gzipSync(data, { level });
}
