/**
 * Writing an output file: to a temporary name beside it, then renamed, so that no 0-byte or
 * half-written file is ever left where a reader expects a whole one. A failure to write
 * (a missing folder, a folder in the way, no space, no permission) is the machine's doing,
 * not a finding and not a bug: it becomes an EnvironmentError (exit 3) naming the file.
 *
 * - `writeFileAtomic` for an output held in memory;
 * - `createAtomicWriteStream` for a large one produced as it goes (Perfetto JSON, a gzipped
 *   trace): the chunks go to the temporary file, `commit()` renames it into place and
 *   `abort()` removes it;
 * - `checkOutputPath` / `checkOutputFolder` before long work, so that `--out` naming a
 *   folder or a missing one fails in the first second rather than after the work.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, realpathSync, statSync, type WriteStream } from 'node:fs';
import { access, constants, lstat, mkdir, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from './errors.js';

const WHY: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is larger than this file system allows',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EEXIST: 'a file is in the way',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'an I/O error',
};

/** Error codes only a write can cause: a safety net for writes not routed through this module. */
export const WRITE_ERROR_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS']);

/** The EnvironmentError for a failed write of `file`. */
export function outputError(file: string, e: unknown): EnvironmentError {
  if (e instanceof EnvironmentError) return e;
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  // ENOENT where the folder exists: a file system that makes no files there (/proc, /sys)
  const folderThere = code === 'ENOENT' && isFolder(path.dirname(file) || '.');
  const why = folderThere ? `${path.dirname(file) || '.'} takes no new files` : (WHY[code] ?? (e instanceof Error ? e.message : String(e)));
  const hint =
    code === 'ENOENT' && !folderThere
      ? `create ${path.dirname(file) || '.'} first, or choose another path`
      : code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
        ? 'free some space or write elsewhere'
        : 'choose another path';
  return new EnvironmentError(`cannot write ${file}: ${why}`, hint, { cause: e });
}

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function isSpecial(file: string): boolean {
  try {
    const st = statSync(file);
    return !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
}

function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Where the bytes for `file` go: a symbolic link is followed (the file it names is replaced,
 * the link stays); a device, FIFO or socket (`/dev/stdout`, `/dev/null`) is written in place,
 * since renaming over it would replace the device node itself.
 */
async function target(file: string): Promise<{ path: string; inPlace: boolean }> {
  const st = await stat(file).catch(() => undefined);
  if (!st) return { path: file, inPlace: false };
  if (!st.isFile() && !st.isDirectory()) return { path: file, inPlace: true };
  return { path: await realpath(file).catch(() => file), inPlace: false };
}

/** Write `data` to `file` atomically (temp name + rename); errors are EnvironmentErrors. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  let tmp: string | undefined;
  try {
    const t = await target(file);
    if (t.inPlace) {
      await writeFile(t.path, data);
      return;
    }
    tmp = tempName(t.path);
    await writeFile(tmp, data, { flag: 'wx' });
    await renameOver(tmp, t.path);
  } catch (e) {
    if (tmp) await rm(tmp, { force: true }).catch(() => undefined);
    throw outputError(file, e);
  }
}

/** rename(2), refusing to replace a folder (rename would fail with a less clear error, or succeed on an empty one). */
async function renameOver(tmp: string, file: string): Promise<void> {
  const st = await stat(file).catch(() => undefined);
  if (st?.isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
  await rename(tmp, file);
}

/** A large output written as it is produced, visible under its name only once complete. */
export interface AtomicWriteStream {
  readonly file: string;
  /** Queue a chunk (the stream buffers; a write error surfaces in commit()). */
  write(chunk: string | Uint8Array): void;
  /** Resolves once the stream can take more (after a write returned false). */
  drained(): Promise<void>;
  /** Flush, close and rename into place; an EnvironmentError naming the file on any failure (the temp file is removed). */
  commit(): Promise<void>;
  /** Close and remove the temporary file; the target is left as it was. */
  abort(): Promise<void>;
}

export function createAtomicWriteStream(file: string): AtomicWriteStream {
  // A device or FIFO (`/dev/stdout`) is written in place; anything else through a temp name.
  const inPlace = isSpecial(file);
  const real = inPlace ? file : realpathOr(file);
  const tmp = inPlace ? file : tempName(real);
  const stream: WriteStream = createWriteStream(tmp, { flags: inPlace ? 'w' : 'wx' });
  let failure: unknown;
  let settled = false;
  stream.on('error', (e) => {
    failure ??= e;
  });
  let needDrain = false;
  const closed = (): Promise<void> =>
    new Promise((resolve) => {
      if (stream.closed) resolve();
      else stream.once('close', () => resolve());
    });
  const abort = async (): Promise<void> => {
    if (settled) return;
    settled = true;
    stream.destroy();
    await closed();
    if (!inPlace) await rm(tmp, { force: true }).catch(() => undefined);
  };
  return {
    file,
    write(chunk) {
      if (failure !== undefined || settled) return;
      needDrain = !stream.write(chunk) || needDrain;
    },
    async drained() {
      if (!needDrain || failure !== undefined || settled) return;
      await drainedOrGone(stream);
      needDrain = false;
    },
    async commit() {
      if (settled) throw new Error(`${file}: already committed or aborted`);
      if (failure === undefined) {
        await new Promise<void>((resolve) => stream.end(() => resolve()));
        await closed();
      }
      if (failure === undefined) {
        try {
          if (!inPlace) await renameOver(tmp, real);
          settled = true;
          return;
        } catch (e) {
          failure = e;
        }
      }
      await abort();
      throw outputError(file, failure);
    },
    abort,
  };
}

/**
 * Fail now, not after the work, when `file` cannot be written: its folder is missing or not
 * a folder, it is itself a folder, or the folder is not writable.
 */
export async function checkOutputPath(file: string): Promise<void> {
  const dir = path.dirname(file) || '.';
  const fst = await stat(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(outputError(file, e))));
  if (fst?.isDirectory()) throw outputError(file, Object.assign(new Error('folder'), { code: 'EISDIR' }));
  const dst = await stat(dir).catch((e: unknown) => Promise.reject(outputError(file, e)));
  if (!dst.isDirectory()) throw outputError(file, Object.assign(new Error('not a folder'), { code: 'ENOTDIR' }));
  await access(dir, constants.W_OK).catch((e: unknown) => Promise.reject(outputError(file, e)));
}

/**
 * Make sure `dir` is (or can be made) a writable folder: created with its parents, an
 * EnvironmentError when a file is in the way or it cannot be written.
 */
export async function checkOutputFolder(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) {
    throw new EnvironmentError(`cannot write into ${dir}: it is a file, not a folder`, 'choose a folder for the output');
  }
  try {
    if (!st) await mkdirs(dir);
    await access(dir, constants.W_OK);
  } catch (e) {
    const err = outputError(dir, e);
    throw new EnvironmentError(err.message.replace(/^cannot write /, 'cannot write into '), err.hint, { cause: e });
  }
}

/**
 * `mkdir -p`, one level at a time from the nearest folder that exists. Node's own
 * `mkdir(dir, { recursive: true })` never returns under /proc (mkdir there fails with ENOENT,
 * which it answers by making the parent again, forever, at full CPU and deaf to SIGINT):
 * `capture --out /proc/x` hung instead of failing in its first second.
 */
async function mkdirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !(await stat(d).catch(() => undefined)); d = path.dirname(d)) {
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
  }
}

/** Resolves when `stream` drains, fails or closes — whichever comes first (a writer never waits on a gone reader). */
export function drainedOrGone(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}

/**
 * Remove `p` if it is a symbolic link (and nothing else): for a folder or file kreplay names
 * inside its own output folder, which a reused folder or an unpacked artifact may hold as a
 * link — writing through it would replace whatever it names. A path the user names (`--out`)
 * is written through its link instead (writeFileAtomic). Errors are EnvironmentErrors.
 */
export async function removeLink(p: string): Promise<void> {
  const st = await lstat(p).catch(() => undefined);
  if (!st?.isSymbolicLink()) return;
  await unlink(p).catch((e: unknown) => Promise.reject(outputError(p, e)));
}
