/** Run the built CLI as a user would (tests spawn `node packages/cli/bin/run.js`). */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(repoRoot, 'packages/cli/bin/run.js');

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const r = await execa('node', [bin, ...args], {
    reject: false,
    cwd: opts.cwd ?? repoRoot,
    input: opts.input,
    env: { ...opts.env, FORCE_COLOR: '0' },
    stripFinalNewline: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A spawn several tests read (each test still runs alone): the first that asks runs it, the rest reuse its result. */
export function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}
