/**
 * Build trees in the cache: one writable copy of the source per tree key, so builds that
 * differ only by their patches share it and recompile only what a patch touched (the
 * patches are reverted and applied in place; make's timestamps do the rest). A lock file
 * keeps two builds out of one tree at once.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stringifyJson } from '@kreplay/core';
import { EnvironmentError } from './errors.js';
import { run, type RunOptions } from './run.js';

export interface TreeState {
  treeKey: string;
  /** Compile steps of the build that filled the tree (a progress estimate for a cold build). */
  coldUnits?: number;
}

const STATE_FILE = '.kreplay-tree.json';

/**
 * The state of a build tree, or undefined when it has none — or one that does not read as a
 * state (edited or damaged: it is written before the tree is renamed into place), which makes
 * `ensureTree` copy the tree afresh instead of building on a tree of unknown content. Until
 * session 38 any JSON value there (`[]`, `{}`) passed for a complete tree.
 */
export async function readTreeState(tree: string): Promise<TreeState | undefined> {
  let state: Partial<TreeState> | null;
  try {
    state = JSON.parse(await fs.readFile(path.join(tree, STATE_FILE), 'utf8')) as Partial<TreeState> | null;
  } catch {
    return undefined;
  }
  const units = state?.coldUnits;
  const ok =
    typeof state === 'object' &&
    state !== null &&
    state.treeKey === path.basename(tree) &&
    (units === undefined || (Number.isSafeInteger(units) && units >= 0));
  return ok ? (state as TreeState) : undefined;
}

export async function writeTreeState(tree: string, state: TreeState): Promise<void> {
  await fs.writeFile(path.join(tree, STATE_FILE), `${stringifyJson(state, 2)}\n`);
}

/** The tree for `treeKey`, copied from `sourceDir` (without .git) if it does not exist yet. */
export async function ensureTree(root: string, treeKey: string, sourceDir: string, opts: RunOptions = {}): Promise<{ tree: string; created: boolean }> {
  const tree = path.join(root, treeKey);
  if (await readTreeState(tree)) return { tree, created: false };
  const tmp = `${tree}.copying`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.rm(tree, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = await run('sh', ['-c', `tar -C ${q(sourceDir)} --exclude=./.git -cf - . | tar -C ${q(tmp)} -xf -`], opts);
  if (r.exitCode !== 0) {
    throw new EnvironmentError(
      `copying ${sourceDir} into the build cache failed: ${r.lines.slice(-3).join(' ')}`,
      `is ${root} writable and is there room (a tree needs ~1.5 GB, a build ~3 GB)?`,
    );
  }
  await writeTreeState(tmp, { treeKey });
  await fs.rename(tmp, tree);
  return { tree, created: true };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the tree's lock; a lock left by a dead process is taken over. Returns the release function. */
export async function lockTree(tree: string): Promise<() => Promise<void>> {
  const lock = `${tree}.lock`;
  await fs.mkdir(path.dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fs.open(lock, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await fs.rm(lock, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await fs.readFile(lock, 'utf8').catch(() => '')).trim());
      if (pid > 0 && alive(pid)) {
        throw new EnvironmentError(
          `another kernel build (pid ${pid}) is using ${tree}`,
          'wait for it to finish; builds of the same source, base and fragments share one tree',
        );
      }
      await fs.rm(lock, { force: true });
    }
  }
  throw new EnvironmentError(`cannot take the build lock ${lock}`);
}
