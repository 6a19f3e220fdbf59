/**
 * linux-6.1 O_DIRECT write as ext4 does it (fs/iomap/direct-io.c __iomap_dio_rw): write back
 * and wait on the range; invalidate_inode_pages2_range — on failure -ENOTBLK (ext4 falls back
 * to a buffered write, which the model does not follow); submit the write (the disk blocks
 * change); iomap_dio_complete invalidates again if pages are cached (a failure only warns:
 * dio_warn_stale_pagecache).
 */
import type { Ctx } from '../../ctx.js';
import { r, type Proc } from '../../program.js';
import { ENOTBLK, pagesFrom } from '../../kernel/lib.js';
import { withInodeLock } from '../../kernel/pagecache.js';
import { NONE } from '../../state.js';
import { directIo, odirectReturn, returnAcc, writeAndWait } from '../linux-2.6.15/odirect.js';
import { inval2Locals61 } from './invalidate.js';

/** ext4_overwrite_io(): the whole range lies inside i_size on allocated blocks. */
function overwrite(c: Ctx): boolean {
  const m = c.map(c.num('file'));
  if (c.num('last') >= pagesFrom(m.isize)) return false;
  for (let ix = c.num('first'); ix <= c.num('last'); ix++) if ((m.bmap[ix] ?? NONE) === NONE) return false;
  return true;
}

function callInval2(c: Ctx, then: string): void {
  c.call('invalidate_inode_pages2_range', 'lookup', inval2Locals61(c.num('file'), c.num('first'), c.num('last')), then);
}

export const iomapDioWrite61: Proc = {
  fn: '__iomap_dio_rw',
  where: 'fs/iomap/direct-io.c',
  entry: 'wb',
  steps: {
    // fs/ext4/file.c:460-498 ext4_dio_write_iter (6.1.192): i_rwsem shared for an aligned
    // overwrite of allocated blocks inside i_size (ext4_overwrite_io), exclusive otherwise;
    // folded into the first step.
    wb: withInodeLock('ext4_dio_write_iter: ilock_shared ? inode_lock_shared(inode) : inode_lock(inode)', overwrite,
      { ...writeAndWait('pre'), label: 'kiocb_write_and_wait(): filemap_write_and_wait_range(mapping, pos, end)' },
      (c) => [r(`${c.M(c.num('file'))}.i_size`), r(`${c.M(c.num('file'))}.disk`)]),
    pre: {
      label: 'if (invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT, end >> PAGE_SHIFT)) { ret = -ENOTBLK; goto out_free_dio; }',
      run: (c) => callInval2(c, 'precheck'),
    },
    precheck: {
      label: 'invalidate failed? fall back to buffered I/O',
      acc: (c) => (c.num('rv') ? returnAcc(c) : []),
      run: (c) => {
        if (c.num('rv')) { c.effect('-ENOTBLK: fall back to a buffered write'); odirectReturn(c, ENOTBLK); return; }
        c.goto('direct');
      },
    },
    direct: { ...directIo('post'), label: 'iomap_dio_submit_bio(): the write reaches the disk' },
    post: {
      label: 'iomap_dio_complete(): if (mapping->nrpages) invalidate_inode_pages2_range(...) /* failure: dio_warn_stale_pagecache */',
      acc: (c) => [r(`${c.M(c.num('file'))}.nrpages`), ...(c.map(c.num('file')).nrpages ? [] : returnAcc(c))],
      run: (c) => {
        if (c.map(c.num('file')).nrpages) callInval2(c, 'done');
        else odirectReturn(c, c.num('length'));
      },
    },
    done: {
      label: 'return dio->size',
      acc: returnAcc,
      run: (c) => {
        if (c.num('rv')) c.effect('dio_warn_stale_pagecache(): "Page cache invalidation failure on direct I/O"');
        odirectReturn(c, c.num('length'));
      },
    },
  },
};
