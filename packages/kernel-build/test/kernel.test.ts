import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readBuildResult } from '@kreplay/core';
import { kernelImageFromBuild, resolveKernel } from '@kreplay/capture';
import { buildKernel, localVersion, type KernelBuildOptions } from '../src/index.js';
import { FAKE_PATCH, makeFakeTree } from './fake-tree.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

// The whole `kreplay kernel build` pipeline on a fake kernel tree (build-fake-tree.ts):
// copy into the cache, patches, config merge + verification, make, offsets, outputs, cache.
let src: string;
let work: string;
let cache: string;
let fragment: string;
let patch: string;

beforeAll(async () => {
  src = await makeFakeTree();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'kreplay-kbuild-'));
  cache = path.join(work, 'cache');
  fragment = path.join(work, 'capture.config');
  await fs.writeFile(fragment, '# what capture needs\nCONFIG_DEP=y\nCONFIG_NEEDS_DEP=y\nCONFIG_THING=8\n');
  patch = path.join(work, 'drop.patch');
  await fs.writeFile(patch, FAKE_PATCH);
});
afterAll(async () => {
  await fs.rm(src, { recursive: true, force: true });
  await fs.rm(work, { recursive: true, force: true });
});

const opts = (o: Partial<KernelBuildOptions>): KernelBuildOptions => ({ source: src, fragments: [fragment], patches: [], cache, nice: 0, ...o });

describeWithTools([TOOLS.make, TOOLS.gcc, TOOLS.patch, TOOLS.bison, TOOLS.flex, TOOLS.bc], 'kernel build on a fake tree', () => {
  it('builds, verifies the config, derives offsets and records the identity', async () => {
    const r = await buildKernel(opts({}));
    expect(r.cached).toBe(false);
    expect(r.kernelRelease).toBe(`6.1.192${localVersion(r.key)}`);
    expect(r.configRequested).toBe(3);
    expect(r.compiledUnits).toBe(1);
    expect(r.identity.source).toMatchObject({ kind: 'dir', kernelVersion: '6.1.192', path: src });
    expect(r.meta.fragments).toEqual([{ name: 'capture.config', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    for (const f of [r.files.bzImage, r.files.vmlinux, r.files.systemMap, r.files.config, r.files.offsets, r.files.log]) {
      await expect(fs.access(f)).resolves.toBeUndefined();
    }
    const offsets = JSON.parse(await fs.readFile(r.files.offsets, 'utf8'));
    expect(offsets).toMatchObject({ release: r.kernelRelease, offsets: { 'vm_fault.pgoff': 16 }, sizes: { page: 64 } });
    expect(await fs.readFile(r.files.config, 'utf8')).toContain('CONFIG_NEEDS_DEP=y');
    expect(await fs.readFile(r.files.log, 'utf8')).toContain('  CC      mm/filemap.o');
  });

  it('returns an identical build from the cache without running anything', async () => {
    const first = await buildKernel(opts({}));
    const again = await buildKernel(opts({ out: path.join(work, 'copy') }));
    expect(again.cached).toBe(true);
    expect(again.key).toBe(first.key);
    expect(again.files.bzImage).toBe(path.join(work, 'copy', 'bzImage'));
    await expect(fs.access(again.files.offsets)).resolves.toBeUndefined();
  });

  it('hands capture the image, release and identity of a build, from its --out folder', async () => {
    const r = await buildKernel(opts({ patches: [patch], out: path.join(work, 'for-capture') }));
    const loaded = await readBuildResult(path.join(work, 'for-capture'));
    expect(loaded.schema).toBe('kreplay-kernel-build/1');
    expect(loaded.key).toBe(r.key);
    expect(loaded.files.vmlinux).toBe(path.join(work, 'for-capture', 'vmlinux'));
    const k = kernelImageFromBuild(loaded);
    expect(k).toMatchObject({ image: loaded.files.vmlinux, release: r.kernelRelease, source: expect.stringMatching(new RegExp(`^build:${r.key} dir:`)) });
    expect(k.configFragment).toMatch(/^tinyconfig \+ capture\.config@sha256:[0-9a-f]{64}$/);
    expect(k.patches).toEqual([`drop.patch@sha256:${r.identity.patches[0]!.sha256}`]);
    expect(kernelImageFromBuild(loaded, 'bzImage').image).toBe(path.join(work, 'for-capture', 'bzImage'));
    await expect(readBuildResult(work)).rejects.toThrow(/cannot read kernel build result: no such file/);
    // capture's one resolution of --kernel takes the folder, or an image inside it
    expect((await resolveKernel(path.join(work, 'for-capture'))).kernel?.image).toBe(loaded.files.vmlinux);
    const viaImage = await resolveKernel(path.join(work, 'for-capture', 'bzImage'));
    expect(viaImage.kernel?.image).toBe(loaded.files.bzImage);
    expect(viaImage.offsetsFile).toBe(path.join(work, 'for-capture', 'offsets.json'));
  });

  it("builds a patched kernel in the same tree, leaving the user's tree alone, and reverts patches another build does not want", async () => {
    const base = await buildKernel(opts({}));
    const patched = await buildKernel(opts({ patches: [patch] }));
    expect(patched.treeKey).toBe(base.treeKey);
    expect(patched.key).not.toBe(base.key);
    expect(patched.patchesApplied).toEqual(['drop.patch']);
    expect(patched.meta.patches).toEqual([{ name: 'drop.patch', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(await fs.readFile(path.join(src, 'mm/filemap.c'), 'utf8')).toContain('return 1;');
    // another patch set in the same tree: the first patch is reverted before the new one is applied
    const v2 = path.join(work, 'drop-v2.patch');
    await fs.writeFile(v2, FAKE_PATCH.replace('+\t(void)vmf;', '+\t(void)vmf; /* v2 */'));
    const second = await buildKernel(opts({ patches: [v2] }));
    expect([second.treeKey, second.patchesReverted, second.patchesApplied]).toEqual([base.treeKey, ['drop.patch'], ['drop-v2.patch']]);
    // another base config is another tree
    const defconfig = await buildKernel(opts({ base: 'defconfig' }));
    expect(defconfig.treeKey).not.toBe(base.treeKey);
    expect(await fs.readFile(defconfig.files.config, 'utf8')).toContain('CONFIG_DEFCONFIG_ONLY=y');
  });

  it('fails naming every requested option that olddefconfig dropped, and why', async () => {
    const bad = path.join(work, 'bad.config');
    await fs.writeFile(bad, 'CONFIG_NEEDS_DEP=y\nCONFIG_NO_SUCH_OPTION=y\n');
    const err = (await buildKernel(opts({ fragments: [bad] })).catch((e: unknown) => e)) as Error & { file?: string; line?: number };
    expect(err.name).toBe('InputError');
    expect([err.file, err.line]).toEqual([bad, 1]);
    expect(err.message).toContain('2 requested kernel options did not survive tinyconfig + fragments + olddefconfig');
    expect(err.message).toContain(`CONFIG_NEEDS_DEP=y (${bad}:1) → absent after olddefconfig; Kconfig:7: depends on (DEP) — unmet: DEP is not set`);
    expect(err.message).toContain(`CONFIG_NO_SUCH_OPTION=y (${bad}:2) → absent after olddefconfig; no Kconfig file in this tree defines NO_SUCH_OPTION`);
  });

  it('quotes the compiler error of a failed build, with file and line, and keeps the log', async () => {
    const breaking = path.join(work, 'break.patch');
    await fs.writeFile(breaking, FAKE_PATCH.replace('+\t(void)vmf;', '+\tBROKEN;'));
    const err = (await buildKernel(opts({ patches: [breaking] })).catch((e: unknown) => e)) as Error & { file?: string; line?: number };
    expect(err.name).toBe('InputError');
    expect(err.message).toMatch(/the kernel build failed/);
    expect(err.message).toMatch(/error: .BROKEN. undeclared/);
    expect(err.message).toMatch(/build log: .*\.building\/build\.log/);
    expect(err.file).toMatch(/mm\/filemap\.c$/);
    expect(err.line).toBe(5);
  });

  it('builds and installs modules when the config has any', async () => {
    const mods = path.join(work, 'mods.config');
    await fs.writeFile(mods, 'CONFIG_THING=8\nCONFIG_SOME_DRIVER=m\n');
    const r = await buildKernel(opts({ fragments: [mods] }));
    expect(r.compiledUnits).toBe(2);
    expect(r.files.modules).toBeDefined();
    await expect(fs.readFile(path.join(r.files.modules!, 'lib/modules/fake/modules.dep'), 'utf8')).resolves.toBe('fake\n');
  });

  it('an --out that cannot be written is an environment error before the build, and on a cache hit', async () => {
    await fs.writeFile(path.join(work, 'a-file'), 'x');
    for (const out of [path.join(work, 'a-file', 'out'), path.join(work, 'a-file')]) {
      const started = Date.now();
      await expect(buildKernel(opts({ fragments: [], out }))).rejects.toMatchObject({ name: 'EnvironmentError', message: expect.stringContaining(out) });
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    // the build is cached by now (the test above built it): the copy is checked the same way
    await buildKernel(opts({}));
    await expect(buildKernel(opts({ out: path.join(work, 'a-file', 'cached') }))).rejects.toMatchObject({ name: 'EnvironmentError' });
  });

  it('rejects a source directory that is not a kernel tree, and an unreadable fragment, before building', async () => {
    await expect(buildKernel(opts({ source: work }))).rejects.toThrow(/not a Linux kernel source tree/);
    await expect(buildKernel(opts({ fragments: [path.join(work, 'none.config')] }))).rejects.toThrow(
      expect.objectContaining({ name: 'InputError', message: expect.stringMatching(/cannot read config fragment/) }),
    );
  });
});
