import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '@kreplay/core';
import { cacheRoot, fingerprintTree, kernelVersionFromMakefile, parseDebianSource, resolveDebianSource } from '../src/index.js';
import { makeFakeTree } from './fake-tree.js';
import { itWithTools, TOOLS } from '../../../test-support/tools.js';

let tree: string;
beforeEach(async () => {
  tree = await makeFakeTree();
});
afterEach(async () => {
  await fs.rm(tree, { recursive: true, force: true });
});

describe("a user's kernel tree as a build source", () => {
  it('reads the kernel version from the top Makefile', () => {
    expect(kernelVersionFromMakefile('VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n')).toBe('6.1.192');
    expect(kernelVersionFromMakefile('VERSION = 6\nPATCHLEVEL = 8\nSUBLEVEL = 0\nEXTRAVERSION = -rc3\n')).toBe('6.8.0-rc3');
    expect(kernelVersionFromMakefile('all:\n\techo\n')).toBeUndefined();
  });

  it('fingerprints a tree without git by its source files: stable, and changed by an edit', async () => {
    const a = await fingerprintTree(tree);
    expect(a).toMatch(/^stat:[0-9a-f]{16}$/);
    expect(await fingerprintTree(tree)).toBe(a);
    await fs.writeFile(path.join(tree, 'notes.txt'), 'not a source file');
    expect(await fingerprintTree(tree)).toBe(a);
    await fs.appendFile(path.join(tree, 'mm/filemap.c'), '/* edited */\n');
    expect(await fingerprintTree(tree)).not.toBe(a);
  });

  itWithTools([TOOLS.git], 'fingerprints a git checkout by HEAD plus its uncommitted changes', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-C', tree, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'tree');
    const head = String(git('rev-parse', 'HEAD')).trim();
    const clean = await fingerprintTree(tree);
    expect(clean.startsWith(`git:${head}:`)).toBe(true);
    await fs.appendFile(path.join(tree, 'mm/filemap.c'), '/* dirty */\n');
    const dirty = await fingerprintTree(tree);
    expect(dirty.startsWith(`git:${head}:`)).toBe(true);
    expect(dirty).not.toBe(clean);
  });

  it('keeps its cache under $KREPLAY_CACHE, else ~/.cache/kreplay', () => {
    expect(cacheRoot({ KREPLAY_CACHE: '/x/cache' })).toBe('/x/cache');
    expect(cacheRoot({})).toMatch(/\.cache\/kreplay$/);
  });
});

describe("Debian's linux-source-6.1 and linux-source-6.12 as build sources", () => {
  it('reads "debian[-SERIES][:<version>]"; anything else is a directory', () => {
    expect(parseDebianSource('debian')?.series.sourcePackage).toBe('linux-source-6.1');
    expect(parseDebianSource('debian')?.version).toBeUndefined();
    expect(parseDebianSource('debian:6.1.192-2')).toMatchObject({ version: '6.1.192-2', series: { name: '6.1' } });
    expect(parseDebianSource('debian-6.1:6.1.192-2')).toMatchObject({ version: '6.1.192-2', series: { sourcePackage: 'linux-source-6.1' } });
    expect(parseDebianSource('debian-6.12')?.series.sourcePackage).toBe('linux-source-6.12');
    expect(parseDebianSource('debian-6.12:6.12.117-1~deb12u1')).toMatchObject({ version: '6.12.117-1~deb12u1', series: { name: '6.12' } });
    expect(parseDebianSource('./debian')).toBeUndefined();
    expect(parseDebianSource('debian.d')).toBeUndefined();
  });

  it('refuses an empty pin and a series Debian 12 does not ship, naming the ones it does', () => {
    expect(() => parseDebianSource('debian:')).toThrow(/the pin after ":" is empty/);
    expect(() => parseDebianSource('debian-5.10')).toThrow(InputError);
    expect(() => parseDebianSource('debian-5.10')).toThrow(/unknown Debian kernel series "5.10"/);
  });

  it('refuses a pinned version of another series before asking apt, naming the spec that means it', async () => {
    const cache = await fs.mkdtemp(path.join(path.dirname(tree), 'kreplay-cache-'));
    const { series, version } = parseDebianSource('debian:6.12.117-1~deb12u1')!;
    const r = resolveDebianSource({ cache, version: version!, series, env: { PATH: '/nonexistent' } });
    await expect(r).rejects.toThrow(InputError);
    await expect(r).rejects.toMatchObject({
      message: '6.12.117-1~deb12u1 is not a version of linux-source-6.1',
      hint: 'name the series: --source debian-6.12:6.12.117-1~deb12u1',
    });
  });

  it.each([
    ['debian', 'linux-source-6.1', '6.1.192-2', '6.1.192'],
    ['debian-6.12', 'linux-source-6.12', '6.12.117-1~deb12u1', '6.12.117'],
  ])('%s: reuses a pinned %s version from the cache without apt', async (spec, pkg, version, kernelVersion) => {
    const cache = await fs.mkdtemp(path.join(path.dirname(tree), 'kreplay-cache-'));
    const base = path.join(cache, 'kernel-source', `debian-${pkg}_${version}`);
    await fs.cp(tree, path.join(base, pkg), { recursive: true });
    const [maj, min, sub] = kernelVersion.split('.');
    await fs.writeFile(path.join(base, pkg, 'Makefile'), `VERSION = ${maj}\nPATCHLEVEL = ${min}\nSUBLEVEL = ${sub}\nEXTRAVERSION =\n`);
    await fs.writeFile(path.join(base, '.complete'), `${version}\n`);
    const { series } = parseDebianSource(`${spec}:${version}`)!;
    const r = await resolveDebianSource({ cache, version, series, env: { PATH: '/nonexistent' } });
    expect(r.dir).toBe(path.join(base, pkg));
    expect(r.identity).toEqual({ kind: 'debian', kernelVersion, package: pkg, packageVersion: version });
    await fs.rm(cache, { recursive: true, force: true });
  });
});
