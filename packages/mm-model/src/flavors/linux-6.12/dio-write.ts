/**
 * The inode lock around linux-6.12's O_DIRECT write, per filesystem. ext4 keeps 6.1's rule
 * (shared only for an overwrite of allocated blocks inside i_size). XFS holds its iolock
 * (i_rwsem) shared across iomap_dio_rw for every block-aligned write (6.12.118
 * fs/xfs/xfs_file.c:589-626 xfs_file_dio_write_aligned: it starts shared, and an exclusive
 * lock xfs_file_write_checks needed is demoted before the I/O, 609-612), so a write into a hole
 * or up to EOF runs beside reads and other direct writes, where ext4 serialises it. The model's
 * writes are whole pages, so aligned to XFS's 4 KiB blocks (xfs_file_dio_write, 713-726).
 *
 * Not modelled: a write starting beyond EOF, for which xfs_file_write_zero_eof (358-421) takes
 * the iolock and the invalidate_lock exclusive and zeroes the gap through the page cache
 * (xfs_zero_range) before the write is submitted: the search stops with an input error there
 * rather than answer for a path the model does not take. Also assumed, as for ext4: the file is
 * S_NOSEC (its privileges were checked once), so xfs_file_write_checks does not take the lock
 * exclusive for file_remove_privs (461-470).
 */
import { InputError } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { fsOf } from '../../kernel/filesystems.js';
import { PAGE_SIZE } from '../../state.js';
import { EXT4_DIO_ILOCK, type DioIlock } from '../linux-6.1/odirect.js';

/** xfs_file_write_checks' EOF test (fs/xfs/xfs_file.c:482): a write starting beyond i_size zeroes the gap first. */
function refuseBeyondEof(c: Ctx): void {
  if (fsOf(c) !== 'xfs') return;
  const file = c.num('file');
  const isize = c.map(file).isize;
  const pos = c.num('first') * PAGE_SIZE;
  if (pos <= isize) return;
  throw new InputError(
    `file ${c.env.files[file]!.name}: an XFS direct write at offset ${pos}, beyond i_size ${isize}, first zeroes the gap through the page cache under the exclusive iolock and invalidate_lock (xfs_file_write_zero_eof, fs/xfs/xfs_file.c:358-421, 6.12.118); that path is not modelled`,
    { hint: 'write at or below i_size on an XFS file, or use an ext4 file (docs/flavors.md, session 43)' },
  );
}

/** ext4's rule on ext4 files; on XFS files the iolock shared, whatever the blocks (xfs_file_dio_write_aligned). */
export const DIO_ILOCK_612: DioIlock = {
  shared: (c) => fsOf(c) === 'xfs' || EXT4_DIO_ILOCK.shared(c),
  refuse: refuseBeyondEof,
};
