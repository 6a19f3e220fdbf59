/**
 * Patches applied to a build tree with `patch -p1`: each one dry-run first so a patch that
 * does not apply leaves the tree untouched and the error quotes patch's own words
 * ("Hunk #1 FAILED at 3279."). What is applied is recorded in the tree (with a copy of
 * each patch's text), so the next build can revert exactly what was applied and a build
 * that differs only by its patches reuses the tree's objects.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readErrorWhy, stringifyJson } from '@kreplay/core';
import { EnvironmentError, InputError } from './errors.js';
import { sha256, type HashedInput } from './identity.js';
import { run, type RunOptions } from './run.js';

export interface PatchFile extends HashedInput {
  /** Path as the user gave it (for messages). */
  file: string;
  text: string;
  /** The patch's description: the lines before the first diff. */
  header: string;
}

/** Read a patch; an empty file or one with no hunks is an input error, not a no-op. */
export async function readPatch(file: string): Promise<PatchFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read patch: ${readErrorWhy(e)}`, { file, hint: 'pass an existing unified diff to --patch' });
  }
  const lines = text.split('\n');
  const firstDiff = lines.findIndex((l) => /^(diff |--- |Index: )/.test(l));
  if (firstDiff < 0 || !lines.some((l) => l.startsWith('@@ '))) {
    throw new InputError('not a unified diff (no "--- a/…" header or no "@@" hunk)', {
      file,
      hint: 'create it with `git diff` or `diff -u a/ b/` so it applies with patch -p1',
    });
  }
  checkPatchPaths(lines, firstDiff, file);
  return { name: path.basename(file), file, text, sha256: sha256(text), header: lines.slice(0, firstDiff).join('\n').trim() };
}

/**
 * Every file a patch names stays inside the tree: no `..` component and no absolute path in
 * its `---`/`+++` (from its first diff on), `diff --git`, rename/copy or `Index:` lines (hunk bodies are skipped by
 * their counts). GNU patch 2.7.5 and later refuse such names too, but only with a line the
 * failure quote may not show, and older ones follow them: this says which line, whatever patch
 * is installed.
 */
function checkPatchPaths(lines: readonly string[], from: number, file: string): void {
  let oldLeft = 0;
  let newLeft = 0;
  lines.forEach((line, i) => {
    if (i < from) return; // the description (a commit message) is not read
    if (oldLeft > 0 || newLeft > 0) {
      const c = line[0];
      if (c === ' ' || line === '') {
        oldLeft--;
        newLeft--;
        return;
      }
      if (c === '-') return void oldLeft--;
      if (c === '+') return void newLeft--;
      if (c === '\\') return; // "\ No newline at end of file"
      oldLeft = newLeft = 0; // a hunk shorter than its header said: read on as headers
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLeft = Number(hunk[1] ?? 1);
      newLeft = Number(hunk[2] ?? 1);
      return;
    }
    const named =
      /^(?:---|\+\+\+) ("(?:[^"\\]|\\.)*"|[^\t]+)/.exec(line)?.slice(1) ??
      /^diff --git (\S+) (\S+)\s*$/.exec(line)?.slice(1) ??
      /^(?:rename|copy) (?:from|to) (.+)$/.exec(line)?.slice(1) ??
      /^Index: (.+)$/.exec(line)?.slice(1) ??
      [];
    for (const raw of named) {
      const name = raw.trim().replace(/^"(.*)"$/, '$1');
      if (name === '/dev/null') continue;
      if (path.isAbsolute(name) || name.split('/').includes('..')) {
        throw new InputError(`the patch names a file outside the source tree: ${JSON.stringify(name)}`, {
          file,
          line: i + 1,
          hint: 'paths in a patch are relative to the top of the tree, as git diff writes them (a/mm/filemap.c, b/mm/filemap.c)',
        });
      }
    }
  });
}

/** State of a build tree's patches, kept in the tree. */
export interface AppliedPatch extends HashedInput {
  stored: string;
}

const STATE_DIR = '.kreplay-patches';

/**
 * The patches an earlier build applied to `tree`, in order; none when the tree has no record.
 * The record is written whole (a temporary file renamed into place), so one that does not
 * read as that list was edited or damaged: the tree then carries patches nobody can name, and
 * a build on it would not be the build asked for. Until session 38 such a record read as "no
 * patches" (a base build could carry an earlier build's patch) or crashed (exit 70).
 */
export async function readApplied(tree: string): Promise<AppliedPatch[]> {
  const file = path.join(tree, STATE_DIR, 'applied.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new EnvironmentError(`cannot read the cached build tree's patch record ${file}: ${readErrorWhy(e)}`, `delete ${tree} and build again (a cold build)`);
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    list = undefined;
  }
  const isRecord = (a: unknown): a is AppliedPatch => {
    const r = a as Partial<AppliedPatch> | null;
    return typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.stored === 'string' && /^[0-9a-f]{64}$/.test(String(r.sha256));
  };
  if (!Array.isArray(list) || !list.every(isRecord)) {
    throw new EnvironmentError(
      `the cached build tree's patch record ${file} is damaged (not a list of applied patches), so which patches the tree carries is unknown`,
      `delete ${tree} and build again (a cold build); kreplay writes that record whole, so it was edited or the disk failed`,
    );
  }
  return list;
}

async function writeApplied(tree: string, applied: AppliedPatch[]): Promise<void> {
  const file = path.join(tree, STATE_DIR, 'applied.json');
  await fs.writeFile(`${file}.tmp`, `${stringifyJson(applied, 2)}\n`);
  await fs.rename(`${file}.tmp`, file);
}

/** Lines of patch's output that say what went wrong (failed hunks, missing files, rejects). */
export function patchFailureLines(output: string[]): string[] {
  const telling = output.filter((l) =>
    /FAILED|failed|can't find file|No file to patch|Reversed|malformed|Only garbage|Skipping patch|No such file|not found/i.test(l),
  );
  return (telling.length ? telling : output).slice(0, 20);
}

/** patch reads the stored copy, so a revert undoes exactly what was applied even if the user's file changed since. */
async function patchCmd(tree: string, args: string[], opts: RunOptions): Promise<{ ok: boolean; lines: string[] }> {
  const r = await run('patch', ['-p1', '--batch', '--forward', '--no-backup-if-mismatch', '-r', '-', ...args], { ...opts, cwd: tree });
  return { ok: r.exitCode === 0, lines: r.lines };
}

/**
 * Make the tree carry exactly `wanted` (in order): keep the longest already-applied
 * prefix, revert the rest in reverse order, then dry-run and apply each remaining patch.
 * Returns the names of the patches reverted and applied by this call.
 */
export async function reconcilePatches(tree: string, wanted: PatchFile[], opts: RunOptions = {}): Promise<{ reverted: string[]; applied: string[] }> {
  await fs.mkdir(path.join(tree, STATE_DIR), { recursive: true });
  const applied = await readApplied(tree);
  let keep = 0;
  while (keep < applied.length && keep < wanted.length && applied[keep]!.sha256 === wanted[keep]!.sha256) keep++;
  const reverted: string[] = [];
  for (let i = applied.length - 1; i >= keep; i--) {
    const a = applied[i]!;
    const r = await patchCmd(tree, ['-R', '-i', a.stored], opts);
    if (!r.ok) {
      throw new InputError(
        `cannot revert ${a.name}, applied to the cached build tree by an earlier build:\n${patchFailureLines(r.lines)
          .map((l) => `    ${l}`)
          .join('\n')}`,
        {
          file: tree,
          hint: `the tree was edited by hand; delete ${tree} and build again (a cold build)`,
        },
      );
    }
    applied.pop();
    await writeApplied(tree, applied);
    reverted.push(a.name);
  }
  const newlyApplied: string[] = [];
  for (const p of wanted.slice(keep)) {
    const stored = path.join(tree, STATE_DIR, `${p.sha256}.patch`);
    await fs.writeFile(stored, p.text);
    const dry = await patchCmd(tree, ['--dry-run', '-i', stored], opts);
    if (!dry.ok) {
      const before = applied.length ? ` (on top of ${applied.map((a) => a.name).join(', ')})` : '';
      throw new InputError(
        `patch does not apply cleanly to ${path.basename(tree)}${before}:\n${patchFailureLines(dry.lines)
          .map((l) => `    ${l}`)
          .join('\n')}`,
        {
          file: p.file,
          hint: 'rebase the patch onto this source (kreplay applies it with patch -p1 from the top of the tree)',
        },
      );
    }
    const real = await patchCmd(tree, ['-i', stored], opts);
    if (!real.ok) {
      throw new InputError(
        `patch failed after a clean dry run:\n${patchFailureLines(real.lines)
          .map((l) => `    ${l}`)
          .join('\n')}`,
        { file: p.file },
      );
    }
    applied.push({ name: p.name, sha256: p.sha256, stored });
    await writeApplied(tree, applied);
    newlyApplied.push(p.name);
  }
  return { reverted, applied: newlyApplied };
}
