/**
 * What capture needs for Debian's 6.12 kernel besides QEMU: naming the kernel series and
 * a pinned release, the cached kernel of the right series when apt cannot answer,
 * modules shipped as .ko.xz, a zstd-compressed bzImage, the 6.12 profiles chosen by
 * release, and tracepoint format files read as the kernel states them.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { debianImageForRelease, parseDebianSpec } from '@kreplay/core';
import {
  checkMeaningsAgainstFormats,
  defaultProfilePath,
  extractVmlinux,
  fetchDebianKernel,
  findWorkload,
  loadProfile,
  parseFormat,
  readableFields,
  readModule,
} from '../src/index.js';
import { itWithTools, TOOLS } from '../../../test-support/tools.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-debian612-'));
const repo = path.resolve(import.meta.dirname, '../../..');

describe('Debian kernel specs', () => {
  it('plain debian stays 6.1; debian-6.12 and pins name their series', () => {
    expect(parseDebianSpec('debian')).toMatchObject({ series: { name: '6.1', imageMeta: 'linux-image-amd64' } });
    expect(parseDebianSpec('debian')?.pin).toBeUndefined();
    expect(parseDebianSpec('debian-6.12')).toMatchObject({ series: { name: '6.12', imageMeta: 'linux-image-6.12-amd64' } });
    expect(parseDebianSpec('debian-6.12:6.12.107+deb12-amd64')).toMatchObject({ series: { name: '6.12' }, pin: '6.12.107+deb12-amd64' });
    expect(parseDebianSpec('debian:6.1.0-56-amd64')).toMatchObject({ series: { name: '6.1' }, pin: '6.1.0-56-amd64' });
    expect(parseDebianSpec('build/debian-6.12')).toBeUndefined();
    expect(parseDebianSpec('/boot/vmlinuz')).toBeUndefined();
  });

  it('a pinned release names its image package, and must belong to the series', () => {
    const s612 = parseDebianSpec('debian-6.12')!.series;
    expect(debianImageForRelease(s612, '6.12.107+deb12-amd64')).toBe('linux-image-6.12.107+deb12-amd64');
    expect(() => debianImageForRelease(s612, '6.1.0-56-amd64')).toThrow(/6\.1\.0-56-amd64 is not a release of Debian's 6\.12 amd64 kernel/);
    expect(() => debianImageForRelease(parseDebianSpec('debian')!.series, '6.12.107+deb12-amd64')).toThrow(/not a release of Debian's 6\.1 amd64 kernel/);
    let e: unknown;
    try {
      parseDebianSpec('debian-6.6');
    } catch (x) {
      e = x;
    }
    expect(e).toMatchObject({
      message: 'unknown Debian kernel series "6.6" in "debian-6.6"',
      hint: expect.stringMatching(/Debian 12 ships debian-6\.1 and debian-6\.12/),
    });
  });

  it('without apt, a cached kernel of the asked series (or exactly the pin) boots; never another series', async () => {
    const cache = path.join(tmp, 'cache');
    for (const [pkg, version, release] of [
      ['linux-image-6.1.0-56-amd64', '6.1.192-2', '6.1.0-56-amd64'],
      ['linux-image-6.12.117+deb12-amd64', '6.12.117-1~deb12u1', '6.12.117+deb12-amd64'],
    ]) {
      const dir = path.join(cache, 'kernels', `${pkg}_${version}`);
      mkdirSync(path.join(dir, 'root', 'boot'), { recursive: true });
      writeFileSync(path.join(dir, 'root', 'boot', `vmlinuz-${release}`), 'x');
      writeFileSync(path.join(dir, 'complete.json'), JSON.stringify({ pkg, version, release }));
    }
    const saved = process.env.PATH;
    process.env.PATH = path.join(tmp, 'no-such-bin'); // apt-cache not found: offline
    try {
      const k612 = await fetchDebianKernel(cache, undefined, parseDebianSpec('debian-6.12'));
      expect([k612.release, k612.source]).toEqual(['6.12.117+deb12-amd64', 'debian:linux-image-6.12.117+deb12-amd64=6.12.117-1~deb12u1']);
      const k61 = await fetchDebianKernel(cache);
      expect(k61.release).toBe('6.1.0-56-amd64');
      const pinned = await fetchDebianKernel(cache, undefined, parseDebianSpec('debian-6.12:6.12.117+deb12-amd64'));
      expect(pinned.image).toMatch(/vmlinuz-6\.12\.117\+deb12-amd64$/);
      await expect(fetchDebianKernel(cache, undefined, parseDebianSpec('debian-6.12:6.12.107+deb12-amd64'))).rejects.toThrow(/apt-cache is not available/);
    } finally {
      process.env.PATH = saved;
    }
  });
  // kreplay writes complete.json in a temporary folder and renames the folder into place: a
  // damaged one was edited or the disk failed, and is never read as some other kernel or a crash
  it.each([
    ['cut short', '{"pkg":"linux-image-6.1.0-56-amd64","vers', /complete\.json:1: not valid JSON/],
    ['a list', '[]', /complete\.json:1: invalid complete\.json: \(top level\): Invalid input: expected object, received array/],
    ['another object', '{"x":1}', /complete\.json:1: invalid complete\.json: pkg: missing \(expected string\)/],
    ['nested 300 deep', `${'['.repeat(300)}${']'.repeat(300)}`, /nests arrays and objects more than 256 levels deep/],
    [
      "another kernel's",
      '{"pkg":"linux-image-6.1.0-57-amd64","version":"6.1.192-2","release":"6.1.0-57-amd64"}',
      /complete\.json names linux-image-6\.1\.0-57-amd64 6\.1\.192-2 \(release 6\.1\.0-57-amd64\), not the kernel of its folder/,
    ],
  ])('without apt, a cache entry whose complete.json is %s is an environment error naming the folder', async (_what, text, why) => {
    const cache = path.join(tmp, `damaged-${_what.replaceAll(' ', '-')}`);
    const dir = path.join(cache, 'kernels', 'linux-image-6.1.0-56-amd64_6.1.192-2');
    mkdirSync(path.join(dir, 'root', 'boot'), { recursive: true });
    writeFileSync(path.join(dir, 'root', 'boot', 'vmlinuz-6.1.0-56-amd64'), 'x');
    writeFileSync(path.join(dir, 'complete.json'), text);
    // an entry of the other series is not read (its folder's name says which kernel it is)
    const other = path.join(cache, 'kernels', 'linux-image-6.12.117+deb12-amd64_6.12.117-1~deb12u1');
    mkdirSync(path.join(other, 'root', 'boot'), { recursive: true });
    writeFileSync(path.join(other, 'root', 'boot', 'vmlinuz-6.12.117+deb12-amd64'), 'x');
    writeFileSync(
      path.join(other, 'complete.json'),
      '{"pkg":"linux-image-6.12.117+deb12-amd64","version":"6.12.117-1~deb12u1","release":"6.12.117+deb12-amd64"}',
    );
    const saved = process.env.PATH;
    process.env.PATH = path.join(tmp, 'no-such-bin');
    try {
      const err = await fetchDebianKernel(cache).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'EnvironmentError', message: expect.stringContaining(`the kernel cache entry ${dir} is damaged: `) });
      expect((err as Error).message).toMatch(why);
      expect((err as { hint: string }).hint).toMatch(new RegExp(`^delete ${dir.replace(/[.+~]/g, '\\$&')} and run again`));
      expect((await fetchDebianKernel(cache, undefined, parseDebianSpec('debian-6.12'))).release).toBe('6.12.117+deb12-amd64');
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('6.12 images and modules', () => {
  itWithTools([TOOLS.xz], 'reads .ko.xz and .ko.gz modules decompressed (busybox insmod passes the file to init_module as it is)', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60, 7)]);
    writeFileSync(path.join(tmp, 'm.ko'), elf);
    execFileSync('xz', ['-k', '-f', path.join(tmp, 'm.ko')]);
    execFileSync('gzip', ['-k', '-f', path.join(tmp, 'm.ko')]);
    expect(await readModule(path.join(tmp, 'm.ko.xz'))).toEqual(elf);
    expect(await readModule(path.join(tmp, 'm.ko.gz'))).toEqual(elf);
    expect(await readModule(path.join(tmp, 'm.ko'))).toEqual(elf);
  });

  itWithTools([TOOLS.zstd], 'extracts the vmlinux of a zstd-compressed bzImage (CONFIG_KERNEL_ZSTD, as Debian builds 6.12)', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(4096, 3)]);
    writeFileSync(path.join(tmp, 'vmlinux.bin'), elf);
    execFileSync('zstd', ['-q', '-f', path.join(tmp, 'vmlinux.bin'), '-o', path.join(tmp, 'vmlinux.bin.zst')]);
    // a setup header in front, the setup trailer behind, as in a bzImage
    const image = Buffer.concat([Buffer.alloc(0x4000, 0), readFileSync(path.join(tmp, 'vmlinux.bin.zst')), Buffer.alloc(64, 0xaa)]);
    image.write('HdrS', 0x202, 'latin1');
    writeFileSync(path.join(tmp, 'bzImage-zst'), image);
    const out = await extractVmlinux(path.join(tmp, 'bzImage-zst'), path.join(tmp, 'out', 'vmlinux'));
    expect(readFileSync(out)).toEqual(elf);
  });

  it('a 6.12 kernel gets the 6.12 profile of its workload by default; others keep the 6.1 ones', () => {
    const w = findWorkload('truncate-racer');
    const rel = (p: string) => path.relative(repo, p);
    expect(rel(defaultProfilePath(w, '6.12.117+deb12-amd64'))).toBe('kernel-configs/capture/linux-6.12/truncate-racer.yaml');
    expect(rel(defaultProfilePath(w, '6.12.'))).toBe('kernel-configs/capture/linux-6.12/truncate-racer.yaml');
    expect(rel(defaultProfilePath(w, '6.12.117-kreplay-1a2b3c4d'))).toBe('kernel-configs/capture/linux-6.12/truncate-racer.yaml');
    expect(rel(defaultProfilePath(w, '6.1.0-56-amd64'))).toBe('kernel-configs/capture/truncate-racer.yaml');
    expect(rel(defaultProfilePath(w))).toBe('kernel-configs/capture/truncate-racer.yaml');
  });
});

describe('tracepoint format files', () => {
  const formats = path.join(repo, 'kernel-configs', 'probes', 'formats', 'linux-6.12');
  it('parse the shipped 6.12 formats: the fields the kernel prints and what the reader derives', () => {
    const fault = parseFormat(readFileSync(path.join(formats, 'filemap', 'mm_filemap_fault', 'format'), 'utf8'))!;
    expect(fault.printFmt).toBe('dev=%d:%d ino=%lx ofs=%lld');
    expect(fault.printed).toEqual(['dev', 'ino', 'ofs']);
    expect(fault.fields).toEqual(['i_ino', 's_dev', 'index']);
    const add = parseFormat(readFileSync(path.join(formats, 'filemap', 'mm_filemap_add_to_page_cache', 'format'), 'utf8'))!;
    expect(add.printed).toEqual(['dev', 'ino', 'pfn', 'ofs', 'order']);
    expect(add.fields).toEqual(['pfn', 'i_ino', 'index', 's_dev', 'order']);
    const range = parseFormat(readFileSync(path.join(formats, 'filemap', 'mm_filemap_map_pages', 'format'), 'utf8'))!;
    expect(readableFields(range)).toEqual(['dev', 'ino', 'ofs', 'index', 'last_ofs', 'last_index']);
  });

  it('every tracepoint a 6.12 profile enables has its shipped format, and each meaning reads fields it prints', async () => {
    const dir = path.join(repo, 'kernel-configs', 'capture', 'linux-6.12');
    const profiles = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(profiles.length).toBe(6);
    for (const name of profiles) {
      const profile = await loadProfile(path.join(dir, name));
      const kept: Record<string, string> = {};
      for (const t of profile.tracepoints) {
        const file = path.join(formats, ...t.event.split(':'), 'format');
        expect([name, t.event, existsSync(file)]).toEqual([name, t.event, true]);
        kept[t.event] = readFileSync(file, 'utf8');
      }
      expect(() => checkMeaningsAgainstFormats(profile, kept, name, '6.12')).not.toThrow();
    }
    // session 42's exit event, as Debian's 6.12.118 prints it (session 43's capture)
    const exit = parseFormat(readFileSync(path.join(formats, 'sched', 'sched_process_exit', 'format'), 'utf8'))!;
    expect(exit.printFmt).toBe('comm=%s pid=%d prio=%d');
    expect(exit.printed).toEqual(['comm', 'pid', 'prio']);
  });

  it('a file without a print fmt is not a format', () => {
    expect(parseFormat('name: x\nID: 1\nformat:\n')).toBeUndefined();
  });
});
