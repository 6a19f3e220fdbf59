/**
 * The malicious guest: a kernel under test (or its workload, root in the guest) plants
 * symbolic links, folders swapped for links, FIFOs and huge files in the 9p share, hoping
 * capture copies host files into the trace and kernel.log that CI uploads.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GuestShare } from '../src/guest-files.js';
import { gzipTrace, readOpt } from '../src/outcome.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-guest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HOST_SECRET = 'host secret: root:$6$never-in-a-ci-artifact';

function share(): { root: string; out: string; guest: GuestShare } {
  const root = mkdtempSync(path.join(tmp, 'share-'));
  mkdirSync(path.join(root, 'out', 'run-1'), { recursive: true });
  return { root, out: path.join(root, 'out'), guest: new GuestShare(root) };
}
const hostFile = path.join(tmp, 'host-secret.txt');
writeFileSync(hostFile, HOST_SECRET);
const hostDir = path.join(tmp, 'host-dir');
mkdirSync(hostDir, { recursive: true });
writeFileSync(path.join(hostDir, 'trace.txt'), HOST_SECRET);
writeFileSync(path.join(hostDir, 'workload.out'), HOST_SECRET);

describe('files the guest left in the 9p share', () => {
  it('reads guest text without control characters: no escape sequence of the guest reaches the host terminal or CI log', async () => {
    const s = share();
    // retitle the terminal, write the clipboard (OSC 52), erase the line and print another
    writeFileSync(path.join(s.out, 'release'), '6.1.0\u001b]0;owned\u0007\u001b]52;c;cm0gLXJmIH4=\u0007\r\u001b[2Klost 0\u009b31m\tend\n');
    expect(await readOpt(s.guest, path.join(s.out, 'release'))).toBe('6.1.0]0;owned]52;c;cm0gLXJmIH4=[2Klost 031m\tend\n');
  });

  it('reads the regular files a well-behaved guest writes, and undefined for what it did not write', async () => {
    const s = share();
    writeFileSync(path.join(s.out, 'release'), '6.1.0-test\n');
    expect(await readOpt(s.guest, path.join(s.out, 'release'))).toBe('6.1.0-test\n');
    expect(await readOpt(s.guest, path.join(s.out, 'kernel.log'))).toBeUndefined();
    writeFileSync(path.join(s.out, 'run-1', 'trace.txt'), '  a-1 [000] ..... 1.000000: x: y\n');
    const gz = path.join(tmp, 'ok.txt.gz');
    await gzipTrace((await s.guest.stream(path.join(s.out, 'run-1', 'trace.txt')))!, gz);
    expect(gunzipSync(readFileSync(gz)).toString()).toContain('a-1 [000]');
  });

  it.each([
    [
      'kernel.log as a link to a host file',
      (s: ReturnType<typeof share>) => {
        symlinkSync(hostFile, path.join(s.out, 'kernel.log'));
        return path.join(s.out, 'kernel.log');
      },
    ],
    [
      'a relative link climbing out of the share',
      (s: ReturnType<typeof share>) => {
        symlinkSync(path.relative(s.out, hostFile), path.join(s.out, 'kernel.log'));
        return path.join(s.out, 'kernel.log');
      },
    ],
    [
      'run-1/ swapped for a link to a host folder',
      (s: ReturnType<typeof share>) => {
        rmSync(path.join(s.out, 'run-1'), { recursive: true });
        symlinkSync(hostDir, path.join(s.out, 'run-1'));
        return path.join(s.out, 'run-1', 'workload.out');
      },
    ],
    [
      'out/ itself a link',
      (s: ReturnType<typeof share>) => {
        rmSync(s.out, { recursive: true });
        symlinkSync(hostDir, s.out);
        return path.join(s.out, 'workload.out');
      },
    ],
    [
      'a FIFO (would block the reader)',
      (s: ReturnType<typeof share>) => {
        execFileSync('mkfifo', [path.join(s.out, 'kernel.log')]);
        return path.join(s.out, 'kernel.log');
      },
    ],
    ['a path outside the share', (_s: ReturnType<typeof share>) => hostFile],
  ])('refuses %s: an environment error, and no host byte is read', async (_what, plant) => {
    const s = share();
    const file = plant(s);
    const text = readOpt(s.guest, file);
    await expect(text).rejects.toMatchObject({ name: 'EnvironmentError', message: expect.stringMatching(/refusing to read it/) });
    await expect(s.guest.stream(file)).rejects.toMatchObject({ name: 'EnvironmentError' });
  });

  it('refuses a trace link to a host file before gzipping anything', async () => {
    const s = share();
    symlinkSync(path.join(hostDir, 'trace.txt'), path.join(s.out, 'run-1', 'trace.txt'));
    await expect(s.guest.stream(path.join(s.out, 'run-1', 'trace.txt'))).rejects.toThrow(/symbolic link/);
  });

  it('bounds the size of what it reads', async () => {
    const s = share();
    writeFileSync(path.join(s.out, 'kernel.log'), 'x'.repeat(4096));
    await expect(s.guest.text(path.join(s.out, 'kernel.log'), 1024)).rejects.toThrow(/4096 bytes \(more than the 1024 accepted\)/);
  });
});
