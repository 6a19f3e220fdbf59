import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { bootGuest, ConsoleKeep, lineCutter, MAX_LINE_BYTES, qemuArgs, type BootSpec } from '../src/qemu.js';

// A stand-in for qemu-system-x86_64: a shell script that prints a console and then
// behaves like a guest that boots, hangs or panics.
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-fakeqemu-'));
function fakeQemu(name: string, body: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const spec = (qemu: string, over: Partial<BootSpec> = {}): BootSpec => ({
  qemu,
  accel: 'tcg',
  kernel: 'bzImage',
  initrd: 'initrd',
  append: 'console=ttyS0',
  disk: 'disk.img',
  share: tmp,
  smp: 2,
  memMb: 2048,
  initTimeoutMs: 1500,
  timeoutMs: 5000,
  ...over,
});

describe('bounded guest boots', () => {
  it('a guest that powers off: exit, init time, console streamed with timestamps', async () => {
    const q = fakeQemu('ok', 'echo "[    0.1] Booting"\necho KREPLAY_INIT release=6.1.0-56-amd64\necho "KREPLAY_PHASE done\\r"\nexit 0');
    const seen: string[] = [];
    const b = await bootGuest(spec(q, { consoleFile: path.join(tmp, 'ok.log'), onLine: (l) => seen.push(l.text) }));
    expect(b.ended).toBe('exit');
    expect(b.exitCode).toBe(0);
    expect(b.initMs).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual(['[    0.1] Booting', 'KREPLAY_INIT release=6.1.0-56-amd64', 'KREPLAY_PHASE done']);
    expect(readFileSync(path.join(tmp, 'ok.log'), 'utf8')).toMatch(/^\[\s*\d+\.\d{3}\] \[ {4}0\.1\] Booting\n/);
  });

  it("drops the control characters of console lines (the guest's text, quoted on the host's terminal)", async () => {
    const q = fakeQemu('esc', 'printf "KREPLAY_INIT release=6.1\\033]0;owned\\007\\r\\n\\033[2KKREPLAY_PHASE done\\n"\nexit 0');
    const b = await bootGuest(spec(q));
    expect(b.lines.map((l) => l.text)).toEqual(['KREPLAY_INIT release=6.1]0;owned', '[2KKREPLAY_PHASE done']);
  });

  it('a guest that never reaches init (the kvm_pvm hang) is killed at the init timeout', async () => {
    const q = fakeQemu('hang', 'echo "KASLR disabled"\nexec sleep 60');
    const t0 = Date.now();
    const b = await bootGuest(spec(q));
    expect(b.ended).toBe('init-timeout');
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(b.lines.map((l) => l.text)).toEqual(['KASLR disabled']);
  });

  it('a guest that hangs after init is killed at the overall timeout', async () => {
    const q = fakeQemu('stuck', 'echo KREPLAY_INIT\nexec sleep 60');
    const b = await bootGuest(spec(q, { timeoutMs: 2000 }));
    expect(b.ended).toBe('timeout');
    expect(b.wallMs).toBeLessThan(4000);
  });

  it('a signal aborted before the boot (SIGINT while the initramfs was built) ends it at once, not at the init timeout', async () => {
    const q = fakeQemu('boots-slowly', 'echo "KASLR disabled"\nexec sleep 60');
    const ac = new AbortController();
    ac.abort(new Error('interrupted by SIGINT'));
    const b = await bootGuest(spec(q, { initTimeoutMs: 20_000, timeoutMs: 30_000, signal: ac.signal }));
    expect(b.ended).toBe('aborted');
    expect(b.wallMs).toBeLessThan(4000);
  });

  it('a panic ends the boot even if QEMU does not exit by itself', async () => {
    const q = fakeQemu('panic', 'echo KREPLAY_INIT\necho "[    9.9] Kernel panic - not syncing: Fatal exception"\nexec sleep 60');
    const b = await bootGuest(spec(q, { timeoutMs: 20000 }));
    expect(b.ended).toBe('panic');
    expect(b.wallMs).toBeLessThan(6000);
  });

  it('a guest that floods its console: its protocol lines and last lines are still read, in memory that stays bounded', async () => {
    // 60,000 lines before the run's exit code and the final phase: past the 50,000 kept whole
    const q = fakeQemu(
      'flood',
      'echo KREPLAY_INIT\nseq 1 60000\necho "KREPLAY_WORKLOAD_RC run=1 rc=0"\nseq 60001 60200\necho "KREPLAY_PHASE done"\necho "last words"\nexit 0',
    );
    const b = await bootGuest(spec(q, { timeoutMs: 30_000 }));
    expect(b.ended).toBe('exit');
    const texts = b.lines.map((l) => l.text);
    expect(texts).toContain('KREPLAY_WORKLOAD_RC run=1 rc=0');
    expect(texts).toContain('KREPLAY_PHASE done');
    expect(texts.slice(-3)).toEqual(['60200', 'KREPLAY_PHASE done', 'last words']);
    expect(texts.length).toBeLessThanOrEqual(50_000 + 1 + 50 + 1000);
    expect(texts[50_000]).toMatch(/^\(kreplay: \d+ console line\(s\) not kept here after the first 50000; console.log has them all\)$/);
  }, 60_000);

  it('a guest that prints one line of 64 MB without a newline: the host keeps 16 KiB of it and reads the protocol lines after it', async () => {
    const q = fakeQemu('longline', 'echo KREPLAY_INIT\nhead -c 67108864 /dev/zero | tr "\\0" a\nprintf "\\r\\n"\necho "KREPLAY_PHASE done"\nexit 0');
    const b = await bootGuest(spec(q, { timeoutMs: 30_000 }));
    expect(b.ended).toBe('exit');
    const texts = b.lines.map((l) => l.text);
    expect(texts).toEqual([
      'KREPLAY_INIT',
      `${'a'.repeat(MAX_LINE_BYTES)} … (kreplay: ${64 * 1024 * 1024 - MAX_LINE_BYTES} more byte(s) of this line not kept)`,
      'KREPLAY_PHASE done',
    ]);
  }, 60_000);

  it('lineCutter cuts each line, wherever the chunks split it, and passes short lines and their \\r\\n as they are', async () => {
    const cut = async (chunks: string[], max: number): Promise<string> => {
      const out: Buffer[] = [];
      for await (const c of Readable.from(chunks.map((x) => Buffer.from(x))).pipe(lineCutter(max))) out.push(c as Buffer);
      return Buffer.concat(out).toString();
    };
    expect(await cut(['ab\r\ncd\n'], 4)).toBe('ab\r\ncd\n');
    expect(await cut(['abcdef\r\ng'], 4)).toBe('abcd … (kreplay: 2 more byte(s) of this line not kept)\r\ng');
    expect(await cut(['abc', 'def', 'gh\nxyz12', '345'], 4)).toBe(
      'abcd … (kreplay: 4 more byte(s) of this line not kept)\nxyz1 … (kreplay: 4 more byte(s) of this line not kept)',
    );
  });

  it('ConsoleKeep: the first lines, then protocol lines and the last lines in order, and a count of the rest', () => {
    const k = new ConsoleKeep(3, 2);
    const texts = ['a', 'b', 'c', 'd', 'KREPLAY_RC 1', 'e', 'f', 'g', 'h'];
    texts.forEach((text, ms) => k.add({ ms, text }));
    expect(k.lines().map((l) => l.text)).toEqual([
      'a',
      'b',
      'c',
      '(kreplay: 3 console line(s) not kept here after the first 3; console.log has them all)',
      'KREPLAY_RC 1',
      'g',
      'h',
    ]);
    const few = new ConsoleKeep(3, 2);
    few.add({ ms: 0, text: 'only' });
    expect(few.lines()).toEqual([{ ms: 0, text: 'only' }]);
    // the first lines are kept up to a number of characters too: long lines end them sooner
    const long = new ConsoleKeep(100, 2, 10);
    ['abcd', 'efgh', 'ijkl', 'm', 'KREPLAY_PHASE done', 'n'].forEach((text, ms) => long.add({ ms, text }));
    expect(long.lines().map((l) => l.text)).toEqual([
      'abcd',
      'efgh',
      '(kreplay: 2 console line(s) not kept here after the first 2; console.log has them all)',
      'KREPLAY_PHASE done',
      'n',
    ]);
  });

  it('passes the disk, the 9p share and the accelerator to QEMU', () => {
    const a = qemuArgs(spec('q', { accel: 'kvm' }));
    expect(a.slice(0, 2)).toEqual(['-accel', 'kvm']);
    expect(a).toContain('file=disk.img,if=virtio,format=raw,cache=none');
    expect(a).toContain(`local,path=${tmp},mount_tag=kreplay,security_model=none,id=kreplay`);
    expect(a).toContain('-no-reboot');
  });
});

describe('accelerator choice', () => {
  const probe = (usable: boolean, openable: boolean) => async () => ({ usable, openable, reason: usable ? 'ok' : 'kvm_pvm' });
  it('auto takes KVM when usable, TCG otherwise; kvm insists unless /dev/kvm cannot be opened', async () => {
    const { chooseAccel } = await import('../src/qemu.js');
    expect((await chooseAccel('auto', probe(true, true))).accel).toBe('kvm');
    expect(await chooseAccel('auto', probe(false, true))).toEqual({ accel: 'tcg', note: 'kvm_pvm: using TCG' });
    expect((await chooseAccel('kvm', probe(false, true))).accel).toBe('kvm');
    await expect(chooseAccel('kvm', probe(false, false))).rejects.toMatchObject({ name: 'EnvironmentError', hint: 'use --accel tcg (or auto)' });
    expect((await chooseAccel('tcg', probe(true, true))).accel).toBe('tcg');
  });
});
