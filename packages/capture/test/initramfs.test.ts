import { describe, expect, it } from '@jest/globals';
import { gunzipSync } from 'node:zlib';
import { cpioNewc, gzipDeterministic, type CpioEntry } from '../src/cpio.js';
import { initramfsLayout, initScript, modulesList } from '../src/initramfs.js';
import type { ModuleLoad } from '../src/modules.js';

/** Read a newc archive back: [name, mode, size, data]. */
function readNewc(buf: Buffer): Array<{ name: string; mode: number; data: Buffer; rdev: [number, number] }> {
  const out = [];
  let off = 0;
  const pad = (n: number) => (n + 3) & ~3;
  for (;;) {
    expect(buf.toString('ascii', off, off + 6)).toBe('070701');
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameLen = field(11);
    const rdev: [number, number] = [field(9), field(10)];
    const name = buf.toString('utf8', off + 110, off + 110 + nameLen - 1);
    const dataOff = pad(off + 110 + nameLen);
    if (name === 'TRAILER!!!') break;
    out.push({ name, mode, data: buf.subarray(dataOff, dataOff + size), rdev });
    off = pad(dataOff + size);
  }
  return out;
}

const modules: ModuleLoad[] = [
  { name: 'virtio_ring', path: 'kernel/drivers/virtio/virtio_ring.ko', optional: false },
  { name: 'crc32c_generic', path: 'kernel/crypto/crc32c_generic.ko', optional: true },
  { name: 'ext4', path: 'kernel/fs/ext4/ext4.ko', optional: false },
];

describe('initramfs', () => {
  it('lists busybox, init, the workloads and the modules, sorted by path', () => {
    const layout = initramfsLayout({ busybox: '/bin/busybox', binaries: new Map([['kr-odirect-race', '/c/kr']]), modules, modulesDir: '/m' });
    expect(layout.map((e) => e.path)).toEqual([
      'bin',
      'bin/busybox',
      'bin/kr-odirect-race',
      'dev',
      'dev/console',
      'etc',
      'etc/kreplay-modules',
      'init',
      'lib',
      'lib/modules',
      'lib/modules/crc32c_generic.ko',
      'lib/modules/ext4.ko',
      'lib/modules/virtio_ring.ko',
      'mnt',
      'proc',
      'sys',
      'tmp',
    ]);
    expect(layout.find((e) => e.path === 'lib/modules/ext4.ko')!.from).toBe('/m/kernel/fs/ext4/ext4.ko');
  });

  it("brings extra files (trace-cmd's libraries) at their absolute paths, with their parent folders", () => {
    const layout = initramfsLayout({
      busybox: '/bin/busybox',
      binaries: new Map([['trace-cmd', '/usr/bin/trace-cmd']]),
      modules: [],
      extraFiles: new Map([
        ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'],
        ['/lib64/ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2'],
      ]),
    }).map((e) => `${e.kind} ${e.path}`);
    expect(layout.filter((l) => /lib64|x86_64/.test(l))).toEqual([
      'dir lib/x86_64-linux-gnu',
      'file lib/x86_64-linux-gnu/libc.so.6',
      'dir lib64',
      'file lib64/ld-linux-x86-64.so.2',
    ]);
    expect(layout.indexOf('dir lib')).toBeLessThan(layout.indexOf('dir lib/x86_64-linux-gnu'));
  });

  it('keeps the module load order (and which are optional) in etc/kreplay-modules', () => {
    expect(modulesList(modules)).toBe('virtio_ring required\ncrc32c_generic optional\next4 required\n');
    expect(initScript()).toMatch(/insmod \/lib\/modules\/\$name\.ko/);
    expect(initScript()).toMatch(/mount -t 9p -o trans=virtio/);
  });

  it('writes a newc archive the kernel can unpack, byte-identical every time', () => {
    const entries: CpioEntry[] = [
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/x', data: Buffer.from('hello'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ];
    const a = cpioNewc(entries);
    expect(a.length % 4).toBe(0);
    const back = readNewc(a);
    expect(back.map((e) => [e.name, e.mode.toString(8)])).toEqual([
      ['bin', '40755'],
      ['bin/x', '100755'],
      ['bin/sh', '120777'],
      ['dev/console', '20600'],
    ]);
    expect(back[1].data.toString()).toBe('hello');
    expect(back[2].data.toString()).toBe('busybox');
    expect(back[3].rdev).toEqual([5, 1]);
    const gz = gzipDeterministic(a);
    expect(gzipDeterministic(cpioNewc(entries)).equals(gz)).toBe(true);
    expect(gunzipSync(gz).equals(a)).toBe(true);
  });
});
