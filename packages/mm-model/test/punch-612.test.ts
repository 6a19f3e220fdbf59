/**
 * linux-6.12's hole punch (flavors/linux-6.12/punch.ts) against 6.12.118: ext4_fallocate takes
 * inode_lock before filemap_invalidate_lock (fs/ext4/extents.c:4799, 4821) and xfs_file_fallocate
 * xfs_ilock(XFS_IOLOCK_EXCL | XFS_MMAPLOCK_EXCL), the i_rwsem and the invalidate_lock
 * (fs/xfs/xfs_file.c:1093, fs/xfs/xfs_inode.c:147-157), so a punch excludes truncate and O_DIRECT
 * writes for its whole run; ext4_punch_hole punches nothing at or past i_size and stops the
 * range at it (fs/ext4/inode.c:4037-4045).
 */
import { describe, expect, test } from '@jest/globals';
import type { MmState } from '@kreplay/mm-model';
import { drive, machineOf } from './helpers/scenarios.js';

const scenario = (fs: string, threads: string) => `
flavor: linux-6.12
files:
  - { name: data, fs: ${fs}, dev: "8:1", ino: 0x2a, size: 16384, pages: [{ index: 1, flags: [uptodate] }, { index: 3, flags: [uptodate] }] }
threads:
${threads}`;

const top = (s: MmState, t: number) => s.threads[t]!.frames.at(-1);

describe('linux-6.12 hole punch', () => {
  test.each(['ext4', 'xfs'])('%s: the punch holds the inode lock from before the invalidate_lock to its return, so truncate waits for it', async (fs) => {
    const m = await machineOf(
      scenario(
        fs,
        `  - { name: punch, program: punch_hole, args: { file: data, offset: 4096, length: 4096 } }
  - { name: trunc, program: truncate, args: { file: data, size: 8192 } }`,
      ),
      'linux-6.12',
    );
    // the punch takes the inode lock and the invalidate_lock, and is inside truncate_inode_pages_range
    const p = drive(m, m.initial(), 0, (s) => top(s, 0)?.proc === 'truncate_inode_pages_range');
    expect(p.effects).toContain('inode lock +exclusive');
    expect(p.s.maps[0]!.ilock.writer).toBe(0);
    const t = m.next(p.s, 1)!;
    expect(t.enabled).toBe(false);
    expect(t.blockedOn).toMatch(/M0\.inode_lock, held by T0 \(punch\)/);
    // the punch returns both locks; truncate then runs
    const q = drive(m, p.s, 0);
    expect(q.s.threads[0]!.status).toBe('done');
    expect(q.s.maps[0]!.ilock.writer).toBe(-1);
    expect(q.s.maps[0]!.invalidateLock.writer).toBe(-1);
    expect(m.next(q.s, 1)!.enabled).toBe(true);
  });

  test('ext4: a punch at or past i_size does nothing (offset >= inode->i_size: return 0), one across it stops at i_size', async () => {
    const m = await machineOf(
      scenario(
        'ext4',
        `  - { name: trunc, program: truncate, args: { file: data, size: 8192 } }
  - { name: past, program: punch_hole, args: { file: data, offset: 8192, length: 8192 } }
  - { name: across, program: punch_hole, args: { file: data, offset: 4096, length: 12288 } }`,
      ),
      'linux-6.12',
    );
    const t = drive(m, m.initial(), 0);
    expect(t.s.threads[0]!.status).toBe('done');
    const past = drive(m, t.s, 1);
    expect(past.effects).toContain('offset >= i_size: nothing to punch');
    expect(past.labels.some((l) => /if \(offset >= inode->i_size\) return 0;.*; return 0$/.test(l))).toBe(true);
    expect(past.labels.some((l) => l.startsWith('truncate_inode_pages_range'))).toBe(false);
    expect(past.effects).not.toMatch(/blocks freed/);
    const across = drive(m, past.s, 2);
    expect(across.effects).toContain('M0[1..1] blocks freed');
  });

  test("hugetlbfs: hugetlbfs_punch_hole holds the inode lock to its return (fs/hugetlbfs/inode.c:757, 791), so a second punch waits for the first one's remove_inode_hugepages", async () => {
    const m = await machineOf(
      `
flavor: linux-6.12
files:
  - { name: huge, fs: hugetlbfs, dev: "0:48", ino: 0x7b, size: 4194304, pages: [{ index: 0, order: 9, flags: [uptodate] }, { index: 512, order: 9, flags: [uptodate] }] }
threads:
  - { name: p1, program: hugetlb_punch, args: { file: huge, offset: 0, length: 4194304 } }
  - { name: p2, program: hugetlb_punch, args: { file: huge, offset: 0, length: 4194304 } }`,
      'linux-6.12',
    );
    // p1 is past the unmap (i_mmap_lock_write dropped) and in remove_inode_hugepages
    const p = drive(m, m.initial(), 0, (s) => top(s, 0)?.pc === 'mutex');
    expect(p.s.maps[0]!.immap.writer).toBe(-1);
    const t = m.next(p.s, 1)!;
    expect(t.enabled).toBe(false);
    expect(t.blockedOn).toMatch(/M0\.inode_lock, held by T0 \(p1\)/);
    const q = drive(m, p.s, 0);
    expect(q.s.threads[0]!.status).toBe('done');
    expect(q.s.maps[0]!.ilock.writer).toBe(-1);
    expect(drive(m, q.s, 1).s.threads[1]!.status).toBe('done');
  });
});
