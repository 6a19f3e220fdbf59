/**
 * linux-6.12's buffered read on XFS: xfs_file_read_iter → xfs_file_buffered_read (fs/xfs/xfs_file.c:278-294,
 * 6.12.118) takes the inode's i_rwsem shared around generic_file_read_iter: `xfs_ilock_iocb(iocb,
 * XFS_IOLOCK_SHARED)` (287; xfs_ilock's XFS_IOLOCK_SHARED is `down_read_nested(&VFS_I(ip)->i_rwsem, ...)`,
 * fs/xfs/xfs_inode.c:150-152), `xfs_iunlock(ip, XFS_IOLOCK_SHARED)` (291). ext4's read_iter
 * (ext4_file_read_iter → generic_file_read_iter, fs/ext4/file.c) takes no inode lock. A truncate
 * (do_truncate's inode_lock) and an XFS hole punch (xfs_file_fallocate's XFS_IOLOCK_EXCL) hold it
 * exclusive: on XFS they never run beside a buffered read. Until session 42 the model's XFS read
 * took no lock.
 */
import type { Ctx } from '../../ctx.js';
import { r, release, type Proc } from '../../program.js';
import { PAGE_SIZE } from '../../state.js';
import { beginReadAcc, inodeLock, inodeUnlock } from '../../kernel/pagecache.js';
import { ilockLoc } from '../../kernel/lib.js';
import { marked } from '../../kernel/marks.js';
import { iSizeRead, rwsemLock, rwsemUnlock } from '../../kernel/marks6.js';
import { markReadFloor, readReturn } from '../linux-6.1/read.js';

const XFR = 'fs/xfs/xfs_file.c xfs_file_buffered_read() 6.12.118';
const xfs = (c: Ctx) => c.env.files[c.num('file')]!.fs === 'xfs';

/** `p` (filemap_read) entered from xfs_file_buffered_read on an XFS file; unchanged on ext4. */
export function withXfsIolock612(p: Proc): Proc {
  const start = p.steps.start!;
  return {
    ...p,
    steps: {
      ...p.steps,
      // the read starts (its floor is sampled) at the syscall, before it can sleep on i_rwsem
      start: {
        ...start,
        label: (c) => (xfs(c) ? 'read(): xfs_file_read_iter(): xfs_file_buffered_read()' : typeof start.label === 'string' ? start.label : start.label(c)),
        acc: (c) => (xfs(c) ? [markReadFloor(c, beginReadAcc(c))] : start.acc!(c)),
        run: (c) => {
          if (!xfs(c)) {
            start.run(c);
            return;
          }
          c.beginRead(c.num('file'), c.num('index'));
          c.set('io', 1);
          c.goto('iolock');
        },
      },
      iolock: marked(
        inodeLock(
          'xfs_ilock_iocb(iocb, XFS_IOLOCK_SHARED): down_read(&VFS_I(ip)->i_rwsem)',
          () => true,
          (c) => c.goto('eof'),
          'fs/xfs/xfs_file.c:287 xfs_file_buffered_read(), 188-200 xfs_ilock_iocb()',
        ),
        (_c, a) => rwsemLock(a, `${XFR}: xfs_ilock_iocb(iocb, XFS_IOLOCK_SHARED) (fs/xfs/xfs_file.c:287)`),
      ),
      // generic_file_read_iter → filemap_read's EOF test, the read already started
      eof: {
        label: 'generic_file_read_iter(): filemap_read(): if (unlikely(iocb->ki_pos >= i_size_read(inode))) break',
        where: 'mm/filemap.c:2658 filemap_read()',
        acc: (c) => [
          iSizeRead(
            c,
            r(`${c.M(c.num('file'))}.i_size`),
            c.num('file'),
            'mm/filemap.c filemap_read() 6.12.118: if (unlikely(iocb->ki_pos >= i_size_read(inode))) break (mm/filemap.c:2658)',
          ),
        ],
        run: (c) => {
          if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) {
            c.endRead();
            readReturn(c, 0);
            return;
          }
          c.goto('get');
        },
      },
      iounlock: marked(
        {
          label: 'xfs_iunlock(ip, XFS_IOLOCK_SHARED): up_read(&VFS_I(ip)->i_rwsem); return ret',
          where: 'fs/xfs/xfs_file.c:291 xfs_file_buffered_read()',
          acc: (c) => [release(ilockLoc(c, c.num('file')))],
          run: (c) => {
            inodeUnlock(c);
            c.ret(c.num('err'));
          },
        },
        (_c, a) => rwsemUnlock(a, `${XFR}: xfs_iunlock(ip, XFS_IOLOCK_SHARED) (fs/xfs/xfs_file.c:291)`),
      ),
    },
  };
}
