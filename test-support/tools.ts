/**
 * Tests that need a system tool (QEMU, chromium, gcc, make, patch, git, trace-cmd, ...).
 *
 * `describeWithTools([...], title, fn)` (and `itWithTools`) runs the tests when every tool
 * is installed. When one is missing:
 * - by default the tests are skipped and the skip is recorded, so that jest prints ONE
 *   summary at the end of the run: what was skipped, which tools were missing, and the
 *   apt-get line that installs them (test-support/skip-reporter.js);
 * - with KREPLAY_STRICT_TOOLS=1 (what .ci/run sets) a missing tool is a failing test that
 *   names the tool and its package, so CI never passes by skipping.
 * A tool marked `optional` (herd7: a live comparison whose outputs are committed as goldens)
 * is skipped with the summary even under KREPLAY_STRICT_TOOLS=1.
 * `KREPLAY_SKIP_QEMU=1` skips the tests that boot QEMU on purpose (recorded, never a failure).
 *
 * A tool is found the way @kreplay/capture finds it: on PATH, plus /usr/sbin and /sbin.
 */
import { describe, it } from '@jest/globals';
import { accessSync, appendFileSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export interface Tool {
  /** The command (`qemu-system-x86_64`). */
  name: string;
  /** The Debian package that installs it. */
  apt: string;
  /** Found some other way than PATH (an env override); default: on PATH. */
  find?: () => string | undefined;
  /** Skipped on purpose when this is set (`KREPLAY_SKIP_QEMU=1`). */
  optOut?: string;
  /**
   * An optional live comparison, never required: when missing, its tests are skipped even
   * under KREPLAY_STRICT_TOOLS=1, and the summary says why (this text) and how to get it.
   * For tools CI cannot install in reasonable time whose outputs are committed as goldens.
   */
  optional?: string;
}

const onPath = (name: string, extra: string[] = []): string | undefined => {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', ...extra];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
};

/** herd7: $KREPLAY_HERD7, on PATH, or where docs/memory-model.md builds it (~/.local/herdtools7/bin). */
function findHerd7(): string | undefined {
  const env = process.env.KREPLAY_HERD7;
  if (env) return env;
  return onPath('herd7', [path.join(process.env.HOME ?? '', '.local/herdtools7/bin')]);
}

const tool = (name: string, apt: string, more: Partial<Tool> = {}): Tool => ({ name, apt, ...more });

/** The tools kreplay's tests use, with their Debian packages (.ci/run installs every one). */
export const TOOLS = {
  qemu: tool('qemu-system-x86_64', 'qemu-system-x86', { optOut: 'KREPLAY_SKIP_QEMU' }),
  chromium: tool('chromium', 'chromium', { find: () => process.env.KREPLAY_CHROMIUM ?? onPath('chromium') }),
  gcc: tool('gcc', 'gcc libc6-dev'),
  busybox: tool('busybox', 'busybox-static'),
  mkfsExt4: tool('mkfs.ext4', 'e2fsprogs'),
  make: tool('make', 'make'),
  bison: tool('bison', 'bison'),
  flex: tool('flex', 'flex'),
  bc: tool('bc', 'bc'),
  patch: tool('patch', 'patch'),
  git: tool('git', 'git'),
  traceCmd: tool('trace-cmd', 'trace-cmd'),
  pahole: tool('pahole', 'dwarves'),
  herd7: tool('herd7', 'herdtools7 7.58 built from source (docs/memory-model.md)', {
    find: () => findHerd7(),
    optional: 'optional live comparison: CI does not build herd7 (about 11 minutes); the committed herd7 goldens run always',
  }),
  xz: tool('xz', 'xz-utils'),
  zstd: tool('zstd', 'zstd'),
  python3: tool('python3', 'python3'),
  kunitParser: tool('kunit_parser.py', 'linux-source-6.1', { find: findKunitParser }),
} satisfies Record<string, Tool>;

/**
 * The kernel's KTAP parser (tools/testing/kunit/kunit_parser.py): $KREPLAY_KUNIT_DIR, an
 * unpacked tree in kreplay's kernel-source cache or /usr/src, or Debian's linux-source
 * tarball in /usr/src (the test unpacks the kunit folder from it: unpackKunit).
 */
function findKunitParser(): string | undefined {
  const env = process.env.KREPLAY_KUNIT_DIR;
  if (env) return existsSync(path.join(env, 'kunit_parser.py')) ? env : undefined;
  const cache = process.env.KREPLAY_CACHE ?? path.join(homedir(), '.cache', 'kreplay');
  const trees = [...subdirs(path.join(cache, 'kernel-source')).flatMap((d) => subdirs(d)), ...subdirs('/usr/src')].sort();
  const tree = trees.map((t) => path.join(t, 'tools/testing/kunit')).find((k) => existsSync(path.join(k, 'kunit_parser.py')));
  return tree ?? linuxSourceTarball();
}

/** /usr/src/linux-source-<v>.tar.xz, as Debian's linux-source package installs it. */
function linuxSourceTarball(): string | undefined {
  const tars = (existsSync('/usr/src') ? readdirSync('/usr/src') : []).filter((f) => /^linux-source-[\d.]+\.tar\.xz$/.test(f)).sort();
  return tars.length ? path.join('/usr/src', tars[tars.length - 1]!) : undefined;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(dir, d.name));
  } catch {
    return [];
  }
}

export const strictTools = (): boolean => process.env.KREPLAY_STRICT_TOOLS === '1';

/** The path of `t`, or undefined when it is not installed here. */
export function findTool(t: Tool): string | undefined {
  return t.find ? t.find() : onPath(t.name);
}

export interface ToolCheck {
  /** Tools not found. */
  missing: Tool[];
  /** Set when the tests are skipped on purpose (the env var that asked). */
  optedOut?: string;
}

export function checkTools(tools: readonly Tool[]): ToolCheck {
  const optedOut = tools.map((t) => t.optOut).find((v) => v !== undefined && process.env[v] === '1');
  return { missing: tools.filter((t) => findTool(t) === undefined), ...(optedOut ? { optedOut: `${optedOut}=1` } : {}) };
}

/** `apt-get install a b c` for these tools. */
export function installLine(tools: readonly Tool[]): string {
  const apt = tools.filter((t) => !t.optional);
  const other = tools.filter((t) => t.optional).map((t) => `${t.name}: ${t.apt}`);
  return [apt.length ? `apt-get install ${[...new Set(apt.flatMap((t) => t.apt.split(' ')))].join(' ')}` : '', ...other].filter(Boolean).join('; ');
}

/** One JSON line per skipped group, read by the reporter (test-support/skip-reporter.js). */
function recordSkip(title: string, check: ToolCheck): void {
  const entry = {
    title,
    file: path.relative(process.cwd(), expectTestPath() ?? ''),
    missing: check.missing.map((t) => ({ name: t.name, apt: t.apt, ...(t.optional ? { optional: t.optional } : {}) })),
    optedOut: check.optedOut,
  };
  const log = process.env.KREPLAY_SKIP_LOG;
  if (log) appendFileSync(log, `${JSON.stringify(entry)}\n`);
  else
    process.stderr.write(
      `skipped: ${title}: ${check.optedOut ?? `${check.missing.map((t) => t.name).join(', ')} not installed (${installLine(check.missing)})`}\n`,
    );
}

function expectTestPath(): string | undefined {
  return (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.().testPath;
}

/** Why a group cannot run here, and what to do; undefined when it can. */
function verdict(tools: readonly Tool[], title: string): { skip: true } | { fail: string } | undefined {
  const check = checkTools(tools);
  if (check.optedOut) {
    recordSkip(title, check);
    return { skip: true };
  }
  if (check.missing.length === 0) return undefined;
  if (strictTools() && check.missing.some((t) => !t.optional)) {
    return {
      fail: `${check.missing.map((t) => t.name).join(', ')} not installed, and KREPLAY_STRICT_TOOLS=1 makes a missing tool a failure: ${installLine(check.missing)}`,
    };
  }
  recordSkip(title, check);
  return { skip: true };
}

/** `describe(title, fn)` when every tool is installed; otherwise skipped (recorded) or, strict, one failing test. */
export function describeWithTools(tools: readonly Tool[], title: string, fn: () => void): void {
  const v = verdict(tools, title);
  if (!v) describe(title, fn);
  else if ('skip' in v) describe.skip(title, fn);
  else
    describe(title, () =>
      it(`needs ${tools.map((t) => t.name).join(', ')}`, () => {
        throw new Error(v.fail);
      }),
    );
}

/** `it(title, fn, timeout)` when every tool is installed; otherwise skipped (recorded) or, strict, failing. */
export function itWithTools(tools: readonly Tool[], title: string, fn: () => unknown, timeout?: number): void {
  const v = verdict(tools, title);
  if (!v) it(title, fn as () => Promise<unknown>, timeout);
  else if ('skip' in v) it.skip(title, fn as () => Promise<unknown>, timeout);
  else
    it(title, () => {
      throw new Error(v.fail);
    });
}
