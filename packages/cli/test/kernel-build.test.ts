import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';
import { FAKE_PATCH, makeFakeTree } from '../../kernel-build/test/fake-tree.js';

// `kreplay kernel build` end to end on a fake kernel tree (no kernel source, no network).
let src: string;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  src = await makeFakeTree();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kreplay-cli-kbuild-'));
  env = { KREPLAY_CACHE: path.join(work, 'cache') };
  await fs.writeFile(path.join(work, 'ok.config'), 'CONFIG_DEP=y\nCONFIG_NEEDS_DEP=y\n');
  await fs.writeFile(path.join(work, 'lost.config'), '# needs DEP, which nothing turns on\nCONFIG_NEEDS_DEP=y\n');
  await fs.writeFile(path.join(work, 'typo.config'), 'CONFIG_DEP=y\nDEP=y\n');
  await fs.writeFile(path.join(work, 'drop.patch'), FAKE_PATCH);
  await fs.writeFile(path.join(work, 'stale.patch'), FAKE_PATCH.replace('-\tif (vmf->pgoff != 0)', '-\tif (vmf->pgoff != 9)'));
});
afterAll(async () => {
  await fs.rm(src, { recursive: true, force: true });
  await fs.rm(work, { recursive: true, force: true });
});

const build = (...args: string[]) => runCli(['kernel', 'build', '--source', src, '--nice', '0', ...args], { env, cwd: work });

describe('kreplay kernel build: Debian source specs', () => {
  it('a series Debian 12 does not ship is exit 2, naming the ones it does', async () => {
    const r = await runCli(['kernel', 'build', '--source', 'debian-5.10', '--config-fragment', 'ok.config'], { env, cwd: work });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown Debian kernel series "5.10" in "debian-5.10"');
    expect(r.stderr).toContain('debian-6.1 and debian-6.12');
  });

  it('a config fragment that asks for no option is exit 2 naming it, before anything is fetched', async () => {
    await fs.writeFile(path.join(work, 'comments.config'), '# the options\n\n');
    const r = await runCli(['kernel', 'build', '--source', 'debian', '--config-fragment', 'ok.config', '--config-fragment', 'comments.config'], {
      env,
      cwd: work,
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('error: comments.config: the config fragment asks for no kernel option: it holds only comments and blank lines');
    expect(r.stderr).toContain('hint: a fragment holds CONFIG_NAME=value');
  });
});

// The build itself needs the tools a kernel build needs (kreplay checks for them first):
// without them these skip, with the summary test-support/tools.ts prints.
describeWithTools([TOOLS.make, TOOLS.gcc, TOOLS.patch, TOOLS.bison, TOOLS.flex, TOOLS.bc], 'kreplay kernel build', () => {
  it('builds, then reuses the cached build, and prints the identity as JSON', async () => {
    const r = await build('--config-fragment', 'ok.config', '--patch', 'drop.patch', '--json');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ cached: false, compiledUnits: 1, patchesApplied: ['drop.patch'], configRequested: 2 });
    expect(result.kernelRelease).toMatch(/^6\.1\.192-kreplay-[0-9a-f]{8}$/);
    const again = await build('--config-fragment', 'ok.config', '--patch', 'drop.patch');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`build ${result.key}`);
    expect(again.stdout).toContain('cached, nothing rebuilt');
  });

  it('exits 2 naming the option olddefconfig dropped and its unmet dependency', async () => {
    const r = await build('--config-fragment', 'lost.config');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('error: lost.config:2: 1 requested kernel option did not survive');
    expect(r.stderr).toContain('CONFIG_NEEDS_DEP=y (lost.config:2) → absent after olddefconfig; Kconfig:7: depends on (DEP) — unmet: DEP is not set');
    expect(r.stderr).toContain('hint: add the missing dependencies');
  });

  it('exits 2 quoting patch when a patch does not apply', async () => {
    const r = await build('--config-fragment', 'ok.config', '--patch', 'stale.patch');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/error: stale\.patch: patch does not apply cleanly/);
    expect(r.stderr).toMatch(/Hunk #1 FAILED/);
  });
});

describe('kreplay kernel build: refused before any tool runs', () => {
  it('exits 2 on a fragment line that is not Kconfig, before touching the source', async () => {
    const r = await runCli(['kernel', 'build', '--source', path.join(work, 'nowhere'), '--config-fragment', 'typo.config'], { env, cwd: work });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('error: typo.config:2: not a kernel config line: "DEP=y"');
  });

  it('exits 2 for a source that is not a kernel tree', async () => {
    const r = await runCli(['kernel', 'build', '--source', work], { env, cwd: work });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not a Linux kernel source tree/);
  });
});
