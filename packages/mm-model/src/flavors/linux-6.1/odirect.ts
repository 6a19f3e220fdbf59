/**
 * linux-6.1 O_DIRECT write as ext4 does it (fs/iomap/direct-io.c __iomap_dio_rw): write back
 * and wait on the range; invalidate_inode_pages2_range — on failure -ENOTBLK (ext4 falls back
 * to a buffered write, which the model does not follow); submit the write (the disk blocks
 * change); iomap_dio_complete invalidates again if pages are cached (a failure only warns:
 * dio_warn_stale_pagecache).
 */
import type { Ctx } from '../../ctx.js';
import { r, type Proc } from '../../program.js';
import { ENOTBLK } from '../../kernel/lib.js';
import { directIo, odirectReturn, returnAcc, writeAndWait } from '../linux-2.6.15/odirect.js';
import { inval2Locals61 } from './invalidate.js';

function callInval2(c: Ctx, then: string): void {
  c.call('invalidate_inode_pages2_range', 'lookup', inval2Locals61(c.num('file'), c.num('first'), c.num('last')), then);
}

export const iomapDioWrite61: Proc = {
  fn: '__iomap_dio_rw',
  where: 'fs/iomap/direct-io.c',
  entry: 'wb',
  steps: {
    wb: { ...writeAndWait('pre'), label: 'kiocb_write_and_wait(): filemap_write_and_wait_range(mapping, pos, end)' },
    pre: {
      label: 'if (invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT, end >> PAGE_SHIFT)) { ret = -ENOTBLK; goto out_free_dio; }',
      run: (c) => callInval2(c, 'precheck'),
    },
    precheck: {
      label: 'invalidate failed? fall back to buffered I/O',
      run: (c) => {
        if (c.num('rv')) { c.effect('-ENOTBLK: fall back to a buffered write'); c.ret(ENOTBLK); return; }
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
