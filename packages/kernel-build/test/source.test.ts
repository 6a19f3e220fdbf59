import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cacheRoot, fingerprintTree, kernelVersionFromMakefile, parseDebianSource, resolveDebianSource } from '../src/index.js';
import { makeFakeTree } from './fake-tree.js';
import { itWithTools, TOOLS } from '../../../test-support/tools.js';

let tree: string;
beforeEach(async () => { tree = await makeFakeTree(); });
afterEach(async () => { await fs.rm(tree, { recursive: true, force: true }); });

describe('a user\'s kernel tree as a build source', () => {
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

describe('Debian\'s linux-source-6.1 as a build source', () => {
  it('reads "debian" and "debian:<version>"; anything else is a directory', () => {
    expect(parseDebianSource('debian')).toEqual({});
    expect(parseDebianSource('debian:6.1.192-2')).toEqual({ version: '6.1.192-2' });
    expect(parseDebianSource('./debian')).toBeUndefined();
    expect(parseDebianSource('debian:')).toBeUndefined();
  });

  it('reuses a pinned version from the cache without apt', async () => {
    const cache = await fs.mkdtemp(path.join(path.dirname(tree), 'kreplay-cache-'));
    const base = path.join(cache, 'kernel-source', 'debian-linux-source-6.1_6.1.192-2');
    await fs.cp(tree, path.join(base, 'linux-source-6.1'), { recursive: true });
    await fs.writeFile(path.join(base, '.complete'), '6.1.192-2\n');
    const r = await resolveDebianSource({ cache, version: '6.1.192-2', env: { PATH: '/nonexistent' } });
    expect(r.dir).toBe(path.join(base, 'linux-source-6.1'));
    expect(r.identity).toEqual({ kind: 'debian', kernelVersion: '6.1.192', package: 'linux-source-6.1', packageVersion: '6.1.192-2' });
    await fs.rm(cache, { recursive: true, force: true });
  });
});
