/**
 * Writing an output file: to a temporary name beside it, then renamed, so that no 0-byte or
 * half-written file is ever left where a reader expects a whole one. A failure to write
 * (a missing folder, a folder in the way, no space, no permission) is the machine's doing,
 * not a finding and not a bug: it becomes an EnvironmentError (exit 3) naming the file.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from './errors.js';

const WHY: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
};

/** The EnvironmentError for a failed write of `file`. */
export function outputError(file: string, e: unknown): EnvironmentError {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  const why = WHY[code] ?? (e instanceof Error ? e.message : String(e));
  const hint = code === 'ENOENT' ? `create ${path.dirname(file) || '.'} first, or choose another path`
    : code === 'ENOSPC' || code === 'EDQUOT' ? 'free some space or write elsewhere' : 'choose another path';
  return new EnvironmentError(`cannot write ${file}: ${why}`, hint, { cause: e });
}

/** Write `data` to `file` atomically (temp name + rename); errors are EnvironmentErrors. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw outputError(file, e);
  }
}
