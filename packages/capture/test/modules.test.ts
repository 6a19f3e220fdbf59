import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { GUEST_MODULES, moduleName, parseModuleIndex, resolveModuleOrder } from '../src/modules.js';
import { readModule } from '../src/initramfs.js';
import { guestModules } from '../src/capture.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
const files = { dep: read('modules.dep'), softdep: read('modules.softdep'), alias: read('modules.alias'), builtin: read('modules.builtin') };

describe('guest module order from modules.dep (Debian 6.1.0-56-amd64 excerpt)', () => {
  it('loads every module after its dependencies, each once, soft dependencies first and optional', () => {
    const order = resolveModuleOrder(parseModuleIndex(files), GUEST_MODULES);
    expect(order.map((m) => m.name)).toEqual([
      'virtio_ring',
      'virtio',
      'virtio_pci_modern_dev',
      'virtio_pci_legacy_dev',
      'virtio_pci',
      'virtio_blk',
      // ext4.ko: crc16 mbcache jbd2 — loaded last-listed first, as modprobe does
      'crc32c_generic',
      'crc32c_intel',
      'jbd2',
      'mbcache',
      'crc16',
      'ext4',
      'netfs',
      'fscache',
      '9pnet',
      '9p',
      '9pnet_virtio',
    ]);
    expect(order.filter((m) => m.optional).map((m) => m.name)).toEqual(['crc32c_generic', 'crc32c_intel']);
    expect(order.find((m) => m.name === 'ext4')!.path).toBe('kernel/fs/ext4/ext4.ko');
    const idx = parseModuleIndex(files);
    const pos = new Map(order.map((m, i) => [m.name, i]));
    for (const m of order) for (const d of idx.deps.get(m.name) ?? []) expect(pos.get(d)!).toBeLessThan(pos.get(m.name)!);
    // Unrelated modules in modules.dep (nfs and its dependencies) are not pulled in.
    expect(order.map((m) => m.name)).not.toContain('sunrpc');
  });

  it('skips what the kernel has built in', () => {
    const idx = parseModuleIndex({
      ...files,
      builtin: 'kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio_pci.ko\n',
    });
    const names = resolveModuleOrder(idx, ['virtio_pci', 'virtio_blk']).map((m) => m.name);
    expect(names).toEqual(['virtio_blk']);
  });

  it('names a needed module the kernel has neither as a module nor built in', () => {
    const idx = parseModuleIndex({ dep: 'kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko\nkernel/fs/jbd2/jbd2.ko:\n' });
    expect(() => resolveModuleOrder(idx, ['ext4', '9p'])).toThrow(/kernel module 9p is neither in modules.dep nor built in/);
  });

  it('rejects a malformed modules.dep line with its line number', () => {
    expect(() => parseModuleIndex({ dep: 'kernel/a.ko:\nnot a dep line\n', depFile: 'x/modules.dep' })).toThrow(
      expect.objectContaining({ name: 'InputError', file: 'x/modules.dep', line: 2 }),
    );
  });

  it('refuses a modules.dep path that climbs out of the modules folder: it would pack a host file into the guest', () => {
    for (const bad of ['../../../../home/u/.ssh/id_rsa.ko', 'kernel/../../../../etc/shadow.ko', '/etc/shadow.ko']) {
      expect(() => parseModuleIndex({ dep: `kernel/a.ko:\n${bad}: kernel/a.ko\n`, depFile: 'x/modules.dep' })).toThrow(
        expect.objectContaining({ name: 'InputError', file: 'x/modules.dep', line: 2, message: expect.stringMatching(/not below the modules folder/) }),
      );
    }
  });

  it('normalizes module names the way the kernel does', () => {
    expect(moduleName('kernel/arch/x86/crypto/crc32c-intel.ko')).toBe('crc32c_intel');
    expect(moduleName('kernel/fs/9p/9p.ko.xz')).toBe('9p');
  });
});

describe("the user's modules folder on disk", () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-modules-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a module file modules.dep lists that is missing, a folder or a .ko.gz that is not gzip is an input error naming it, not an internal error', async () => {
    const ko = path.join(tmp, 'ext4.ko');
    await expect(readModule(ko)).rejects.toMatchObject({ name: 'InputError', file: ko, message: 'cannot read the kernel module: no such file' });
    mkdirSync(ko);
    await expect(readModule(ko)).rejects.toMatchObject({ name: 'InputError', file: ko, message: 'cannot read the kernel module: it is a folder' });
    const gz = path.join(tmp, 'ext4.ko.gz');
    writeFileSync(gz, 'not gzip');
    await expect(readModule(gz)).rejects.toMatchObject({
      name: 'InputError',
      file: gz,
      message: expect.stringMatching(/^the kernel module is not gzip-compressed as its \.gz name says/),
      hint: expect.stringMatching(/modules\.dep lists/),
    });
    writeFileSync(gz, gzipSync(Buffer.from('\x7fELF')));
    expect((await readModule(gz)).toString('latin1')).toBe('\x7fELF');
  });

  it('a folder where depmod writes modules.dep or modules.softdep is an input error naming it', async () => {
    const mods = path.join(tmp, '6.1.0-x');
    mkdirSync(path.join(mods, 'modules.softdep'), { recursive: true });
    writeFileSync(path.join(mods, 'modules.dep'), read('modules.dep'));
    await expect(guestModules({ image: 'bzImage', source: 'path:bzImage', modulesDir: mods })).rejects.toMatchObject({
      name: 'InputError',
      file: path.join(mods, 'modules.softdep'),
      message: "cannot read the kernel's modules.softdep: it is a folder",
    });
  });
});
