/**
 * Files the guest left in the 9p share. The kernel under test is untrusted (a patch can do
 * anything, and a workload runs as root in the guest): whatever it wrote into the share is
 * read as data that may try to name host files. With `security_model=none`-style sharing a
 * guest can create symbolic links in the share that point at host paths (`kernel.log ->
 * /etc/shadow`), replace a folder by a link to a host folder, or leave a FIFO that blocks
 * the reader. Every read of a guest file therefore
 *   - walks the path below the share root with lstat: no component may be a symbolic link,
 *     every folder must be a folder, the file a regular file;
 *   - opens it with O_NOFOLLOW|O_NONBLOCK and checks with fstat that it is the file lstat
 *     saw (QEMU has exited by then, but a check that cannot race costs nothing);
 *   - bounds its size, so a guest cannot fill the host's disk through a report.
 * A violation is an EnvironmentError naming the file: the guest broke the capture protocol.
 */
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { EnvironmentError } from '@kreplay/core';

/**
 * Guest text without its control characters (C0 but tab and newline, DEL, C1). Guest text
 * reaches the host's terminal and CI log (the release, the workload's result line, kernel-log
 * findings, the console quoted in errors): an escape sequence there could retitle the
 * terminal, write the clipboard, or erase and rewrite a line a user reads ("lost 5" → "lost
 * 0"). The kernel never prints them; a kernel or workload under test may.
 */
export function guestText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(s) ? s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '') : s;
}

/** Small guest files (logs, counters, release): 16 MiB. */
export const SMALL_FILE_MAX = 16 * 1024 * 1024;
/** A run's trace.txt or trace.dat: 8 GiB. */
export const TRACE_FILE_MAX = 8 * 1024 * 1024 * 1024;

export class GuestShare {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private refuse(file: string, why: string): EnvironmentError {
    return new EnvironmentError(
      `the guest left ${path.relative(this.root, file) || file} in the share as ${why}; refusing to read it`,
      'the kernel or workload under test wrote something it should not have into the 9p share; nothing was read from the host (keep the work folder with --keep-work to look)',
    );
  }

  /**
   * Check `file` (inside the share) and open it; undefined when it does not exist.
   * `max`: the largest size accepted.
   */
  async open(file: string, max: number): Promise<{ fh: FileHandle; size: number } | undefined> {
    const abs = path.resolve(this.root, file);
    const rel = path.relative(this.root, abs);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw this.refuse(abs, 'a path outside the share');
    let at = this.root;
    const parts = rel.split(path.sep);
    for (let i = 0; i < parts.length; i++) {
      at = path.join(at, parts[i]!);
      const st = await lstat(at).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? undefined : Promise.reject(e)));
      if (!st) return undefined;
      if (st.isSymbolicLink()) throw this.refuse(at, 'a symbolic link');
      const last = i === parts.length - 1;
      if (!last && !st.isDirectory()) return undefined;
      if (last && !st.isFile()) throw this.refuse(at, st.isDirectory() ? 'a folder' : 'a device, FIFO or socket');
      if (last && st.size > max) throw this.refuse(at, `a file of ${st.size} bytes (more than the ${max} accepted)`);
    }
    const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ELOOP') throw this.refuse(abs, 'a symbolic link');
      throw e;
    });
    const st = await fh.stat();
    if (!st.isFile() || st.size > max) {
      await fh.close();
      throw this.refuse(abs, 'a file that changed while it was read');
    }
    return { fh, size: st.size };
  }

  /** A small text file without control characters (guestText), or undefined when the guest did not write it. */
  async text(file: string, max = SMALL_FILE_MAX): Promise<string | undefined> {
    const f = await this.open(file, max);
    if (!f) return undefined;
    try {
      return guestText(await f.fh.readFile('utf8'));
    } finally {
      await f.fh.close();
    }
  }

  /** A stream of a (large) file, at most `max` bytes; undefined when the guest did not write it. */
  async stream(file: string, max = TRACE_FILE_MAX): Promise<Readable | undefined> {
    const f = await this.open(file, max);
    if (!f) return undefined;
    if (f.size === 0) {
      await f.fh.close();
      return Readable.from([]);
    }
    // The stream owns the handle (it closes it); `end` bounds it to the size fstat saw.
    return f.fh.createReadStream({ start: 0, end: f.size - 1 });
  }
}
