/**
 * The inode lock around linux-6.12's O_DIRECT write, per filesystem (flavors/linux-6.12/dio-write.ts):
 * XFS holds its iolock (i_rwsem) shared across iomap_dio_rw for every block-aligned write
 * (6.12.118 fs/xfs/xfs_file.c:589-619 xfs_file_dio_write_aligned); ext4 holds it shared only for an
 * overwrite of allocated blocks inside i_size (ext4_dio_write_iter). Until session 43 XFS files took
 * ext4's rule, so a write into a hole or at EOF was serialised against XFS reads, which hold the iolock
 * shared too: interleavings the kernel has were never searched.
 */
import { describe, expect, test } from '@jest/globals';
import { isInputError, type InputError } from '@kreplay/core';
import type { MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

const scenario = (fs: string, offset: number) => `
flavor: linux-6.12
files:
  - { name: data, fs: ${fs}, dev: "8:1", ino: 0x2a, size: 4096, pages: [] }
threads:
  - { name: odirect, program: odirect_write, args: { file: data, offset: ${offset}, length: 4096 } }
  - { name: reader, program: read, args: { file: data, index: 0 } }`;

const locked = (s: MmState) => s.maps[0]!.ilock.writer === 0 || s.maps[0]!.ilock.readers.includes(0);

describe('linux-6.12 O_DIRECT write: the inode lock by filesystem', () => {
  test('XFS: a write at EOF (a block not yet allocated) holds the iolock shared, and an XFS read takes it beside the write', async () => {
    const m = await machineOf(scenario('xfs', 4096), 'linux-6.12');
    const w = drive(m, m.initial(), 0, locked);
    expect(w.s.maps[0]!.ilock).toEqual({ writer: -1, readers: [0] });
    const r = drive(m, w.s, 1, (s) => s.maps[0]!.ilock.readers.includes(1));
    expect(r.s.maps[0]!.ilock.readers).toEqual([0, 1]);
  });

  test('ext4: the same write is not an overwrite (ext4_overwrite_io), so it holds i_rwsem exclusive', async () => {
    const m = await machineOf(scenario('ext4', 4096), 'linux-6.12');
    const w = drive(m, m.initial(), 0, locked);
    expect(w.s.maps[0]!.ilock).toEqual({ writer: 0, readers: [] });
  });

  test('XFS: a write starting beyond i_size is refused (xfs_file_write_zero_eof zeroes the gap through the page cache)', async () => {
    const m = await machineOf(scenario('xfs', 8192), 'linux-6.12');
    let e: InputError | undefined;
    try {
      drive(m, m.initial(), 0);
    } catch (x) {
      if (!isInputError(x)) throw x;
      e = x;
    }
    expect(e?.message).toMatch(/an XFS direct write at offset 8192, beyond i_size 4096, first zeroes the gap .*xfs_file_write_zero_eof/);
    expect(e?.hint).toMatch(/write at or below i_size/);
    // ext4 at the same offset: its own rule, exclusive
    const x = await machineOf(scenario('ext4', 8192), 'linux-6.12');
    expect(drive(x, x.initial(), 0, locked).s.maps[0]!.ilock.writer).toBe(0);
  });
});
