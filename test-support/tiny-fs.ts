/**
 * A tiny tmpfs for tests of a full disk (ENOSPC on a regular file, which /dev/full cannot
 * show: writes to a device go in place). Mounting needs root (CAP_SYS_ADMIN); where it
 * cannot be had the tests that need it skip with the tool summary (test-support/tools.ts),
 * or fail under KREPLAY_STRICT_TOOLS=1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Tool } from './tools.js';

let probed: boolean | undefined;

function canMount(): boolean {
  if (probed !== undefined) return probed;
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-tinyfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    probed = true;
  } catch {
    probed = false;
  }
  rmSync(dir, { recursive: true, force: true });
  return probed;
}

/** "Tool": permission to mount a tmpfs (root). */
export const TINY_FS: Tool = { name: 'mount -t tmpfs (root)', apt: 'mount', find: () => (canMount() ? 'mount' : undefined) };

/** Mount a tmpfs of `kib` KiB on a fresh folder; returns it and how to unmount it. */
export function mountTinyFs(kib: number): { dir: string; unmount: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-tinyfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]);
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
