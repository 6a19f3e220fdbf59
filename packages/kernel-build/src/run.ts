/**
 * Running the tools a kernel build needs (make, patch, tar, apt-get), streaming their
 * output line by line to a log and a callback, and turning "not installed" into an
 * EnvironmentError that names the package to install.
 */
import { execa } from 'execa';
import { EnvironmentError } from './errors.js';

export interface RunResult {
  exitCode: number;
  lines: string[];
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Run under `nice -n N` (N > 0). */
  nice?: number;
  signal?: AbortSignal;
  /** Every output line (stdout and stderr interleaved), as it arrives. */
  onLine?: (line: string) => void;
  /** Keep the output in the result (default true; false for long builds). */
  keep?: boolean;
}

/** Debian package that provides each tool, for the hint of a missing one. */
const PROVIDER: Record<string, string> = {
  'make': 'make',
  'gcc': 'gcc',
  'ld': 'binutils',
  'patch': 'patch',
  'bison': 'bison',
  'flex': 'flex',
  'bc': 'bc',
  'perl': 'perl',
  'tar': 'tar',
  'xz': 'xz-utils',
  'dpkg-deb': 'dpkg',
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'nice': 'coreutils',
  'cp': 'coreutils',
  'git': 'git',
  'sh': 'dash',
};

export function providerOf(tool: string): string {
  return PROVIDER[tool] ?? tool;
}

function missingTool(tool: string, why: string): EnvironmentError {
  return new EnvironmentError(
    `${tool} is not installed (needed ${why})`,
    `install it: apt-get install ${providerOf(tool)}  (a kernel build needs: build-essential bc bison flex libelf-dev libssl-dev xz-utils)`,
  );
}

/** Run a command to completion. Never rejects on a non-zero exit: callers judge it. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = opts.nice && opts.nice > 0 ? ['nice', ['-n', String(opts.nice), cmd, ...args]] : [cmd, args];
  const keep = opts.keep ?? true;
  const lines: string[] = [];
  const sub = execa(file, argv, {
    cwd: opts.cwd,
    env: { LC_ALL: 'C', ...opts.env },
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
    cancelSignal: opts.signal,
  });
  try {
    for await (const line of sub.iterable({ from: 'all' })) {
      const text = String(line);
      if (keep) lines.push(text);
      opts.onLine?.(text);
    }
  } catch {
    // the subprocess failed to start or was cancelled; judged below
  }
  const r = await sub;
  const why = `to run ${[cmd, ...args].slice(0, 3).join(' ')}`;
  if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { message?: string }).message ?? ''))) {
    throw missingTool(file, why);
  }
  // nice(1) exits 127 when it cannot find the command it was asked to run
  if (file === 'nice' && r.exitCode === 127) throw missingTool(cmd, why);
  if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted');
  return { exitCode: r.exitCode ?? -1, lines };
}

/** Check that each tool is on PATH; one error naming every missing one. */
export async function requireTools(tools: string[], why: string): Promise<void> {
  const missing: string[] = [];
  for (const tool of tools) {
    const r = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (r.exitCode !== 0) missing.push(tool);
  }
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(providerOf))].join(' ');
  throw new EnvironmentError(`missing ${missing.join(', ')} (needed ${why})`, `install: apt-get install ${pkgs}`);
}
