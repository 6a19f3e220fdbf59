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
import { fsOf } from '../../kernel/filesystems.js';
import { NONE } from '../../state.js';
import { directIo, odirectReturn, returnAcc } from '../linux-2.6.15/odirect.js';
import { writebackStart, type WritebackKernel } from '../../kernel/writeback.js';
import { writeback61 } from './writeback.js';
import { inval2Locals61 } from './invalidate.js';
import type { Access } from '@kreplay/core';
import { lk, type StepDef } from '../../program.js';
import { ghost, marked } from '../../kernel/marks.js';
import { iSizeRead, rwsemLock, rwsemUnlock } from '../../kernel/marks6.js';
import { PG } from '../../state.js';

const DIO = 'fs/ext4/file.c ext4_dio_write_iter() 6.1.192';
const XFS_DIO = 'fs/xfs/xfs_file.c xfs_file_dio_write_aligned() 6.12.118';

/**
 * The 6.1 O_DIRECT write's marks (explore --memory-model lkmm), by location: i_rwsem is an
 * rw_semaphore (a spin lock, kernel/marks6.ts), i_size_read plain; filemap_write_and_wait_range
 * with no dirty folio finds no page tagged dirty (xas_find_marked under RCU: a READ_ONCE of
 * the tag word) and tests no folio flag; mapping->nrpages is plain C; the return's coherence
 * and floor are judgements. The disk write and the block map (ext4_overwrite_io's
 * ext4_map_blocks) are left unmarked.
 */
function mark61(c: Ctx, a: Access): Access {
  if (a.lkmm) return a;
  const file = c.num('file');
  const M = c.M(file);
  if (a.loc === `${M}.inode_lock`) {
    // linux-6.12 takes XFS files too (linux-6.12/dio-write.ts)
    if (fsOf(c) === 'xfs')
      return a.lock === 'acquire'
        ? rwsemLock(a, `${XFS_DIO}: xfs_ilock_iocb_for_write(iocb, &iolock) (fs/xfs/xfs_file.c:597)`)
        : rwsemUnlock(a, `${XFS_DIO}: xfs_iunlock(ip, iolock) (fs/xfs/xfs_file.c:617-618)`);
    return a.lock === 'acquire'
      ? rwsemLock(a, `${DIO}: inode_lock_shared(inode) / inode_lock(inode) (fs/ext4/file.c:497-499)`)
      : rwsemUnlock(a, `${DIO}: inode_unlock_shared(inode) / inode_unlock(inode) (fs/ext4/file.c:579-581)`);
  }
  if (a.loc === `${M}.i_size`)
    return fsOf(c) === 'xfs'
      ? iSizeRead(c, a, file, 'fs/xfs/xfs_file.c xfs_file_write_checks() 6.12.118: if (iocb->ki_pos > i_size_read(inode)) (fs/xfs/xfs_file.c:482)')
      : iSizeRead(c, a, file, 'fs/ext4/file.c ext4_overwrite_io() 6.1.192: if (pos + len > i_size_read(inode)) (fs/ext4/file.c:212)');
  if (a.loc === `${M}.nrpages`)
    return lk(
      a,
      'plain-read',
      c.map(file).nrpages,
      'mm/filemap.c kiocb_invalidate_post_direct_write() 6.1.192: if (mapping->nrpages && (mm/filemap.c:3762), plain C',
    );
  if (a.loc === `${M}.floor`) return ghost(a, 'the stale-data judgement: a read starting later must see this write');
  if (a.mode === 'read' && a.loc !== `${M}.disk`) return ghost(a, "the stale-after-invalidate judgement at the write's return");
  return a;
}

/**
 * Writeback of `file` when no folio of it is dirty (the first lookup's accesses,
 * kernel/writeback.ts): the lookup of folios tagged PAGECACHE_TAG_DIRTY (xas_find_marked under
 * RCU: a READ_ONCE of the tag word) finds none, and no folio flag is tested. With a dirty folio
 * the lookup's accesses stay unmarked, and so does the locked step per folio but its
 * folio_lock (kernel/writeback.ts). `how` names the caller's call of it.
 */
export function markCleanWriteback(c: Ctx, a: Access, file: number, how: string): Access {
  if (a.lkmm || c.map(file).cache.some((p) => p >= 0 && c.page(p).flags & PG.dirty)) return a;
  if (a.loc === `${c.M(file)}.tree`) {
    return lk(a, 'READ_ONCE', 0, `${how} → ext4_writepages(): the lookup of folios tagged PAGECACHE_TAG_DIRTY (xas_find_marked under RCU) finds none`, {
      word: `${c.M(file)}.tree.tag_dirty`,
    });
  }
  if (a.loc.endsWith('.flags.dirty')) return ghost(a, 'not made on this path: no folio is tagged dirty, so writeback tests no folio flag');
  return a;
}

/** filemap_write_and_wait_range with no dirty folio: the dirty-tag lookup, no folio flag read. */
function markWriteback(c: Ctx, a: Access): Access {
  return mark61(
    c,
    markCleanWriteback(c, a, c.num('file'), 'mm/filemap.c filemap_write_and_wait_range() 6.1.192 (mm/filemap.c:674) → __filemap_fdatawrite_range()'),
  );
}

const mark = (s: StepDef): StepDef => marked(s, mark61);

/** ext4_overwrite_io(): the whole range lies inside i_size on allocated blocks. */
export function ext4OverwriteIo(c: Ctx): boolean {
  const m = c.map(c.num('file'));
  if (c.num('last') >= pagesFrom(m.isize)) return false;
  for (let ix = c.num('first'); ix <= c.num('last'); ix++) if ((m.bmap[ix] ?? NONE) === NONE) return false;
  return true;
}

function callInval2(c: Ctx, then: string): void {
  c.call('invalidate_inode_pages2_range', 'lookup', inval2Locals61(c.num('file'), c.num('first'), c.num('last')), then);
}

/** The inode lock a filesystem's O_DIRECT write_iter holds around __iomap_dio_rw: shared when `shared` says so, else exclusive. */
export interface DioIlock {
  shared: (c: Ctx) => boolean;
  /** A write this filesystem sends down a path the model does not take: throws, before the lock is taken. */
  refuse?: (c: Ctx) => void;
}

/** `s`, refusing first what `ilock.refuse` refuses. */
function refusing(ilock: DioIlock, s: StepDef): StepDef {
  const refuse = ilock.refuse;
  return refuse
    ? {
        ...s,
        run: (c) => {
          refuse(c);
          s.run(c);
        },
      }
    : s;
}

/** fs/ext4/file.c:460-498 ext4_dio_write_iter (6.1.192). */
export const EXT4_DIO_ILOCK: DioIlock = { shared: ext4OverwriteIo };

/**
 * __iomap_dio_rw with the release's writeback loop `k` (6.1's, or 6.12's: linux-6.12/writeback.ts),
 * under the inode lock the filesystem's write_iter takes (`ilock`: ext4's by default;
 * linux-6.12/dio-write.ts has XFS's).
 */
export const iomapDioWrite = (k: WritebackKernel, ilock: DioIlock = EXT4_DIO_ILOCK): Proc => ({
  fn: '__iomap_dio_rw',
  where: 'fs/iomap/direct-io.c',
  entry: 'wb',
  steps: {
    // fs/ext4/file.c:460-498 ext4_dio_write_iter (6.1.192): i_rwsem shared for an aligned
    // overwrite of allocated blocks inside i_size (ext4_overwrite_io), exclusive otherwise
    // (XFS: linux-6.12/dio-write.ts); folded into the first step.
    wb: marked(
      refusing(
        ilock,
        withInodeLock(
          'ext4_dio_write_iter: ilock_shared ? inode_lock_shared(inode) : inode_lock(inode)',
          ilock.shared,
          writebackStart(
            k,
            'ret = filemap_write_and_wait_range(mapping, iomi.pos, end) (fs/iomap/direct-io.c:569)',
            'pre',
            (c) => [c.num('first'), c.num('last')],
            { syncAll: true },
          ),
          (c) => [r(`${c.M(c.num('file'))}.i_size`), r(`${c.M(c.num('file'))}.disk`)],
        ),
      ),
      markWriteback,
    ),
    pre: {
      label:
        'if (invalidate_inode_pages2_range(mapping, iomi.pos >> PAGE_SHIFT, end >> PAGE_SHIFT)) { ret = -ENOTBLK; goto out_free_dio; } (fs/iomap/direct-io.c:579-585)',
      run: (c) => callInval2(c, 'precheck'),
    },
    precheck: mark({
      label: 'invalidate failed? fall back to buffered I/O',
      acc: (c) => (c.num('rv') ? returnAcc(c) : []),
      run: (c) => {
        if (c.num('rv')) {
          c.effect('-ENOTBLK: fall back to a buffered write');
          odirectReturn(c, ENOTBLK);
          return;
        }
        c.goto('direct');
      },
    }),
    direct: { ...directIo('post'), label: 'iomap_dio_submit_bio(): the write reaches the disk' },
    post: mark({
      label:
        'iomap_dio_complete(): kiocb_invalidate_post_direct_write(): if (mapping->nrpages && invalidate_inode_pages2_range(...)) dio_warn_stale_pagecache() (mm/filemap.c:3758-3767)',
      acc: (c) => [r(`${c.M(c.num('file'))}.nrpages`), ...(c.map(c.num('file')).nrpages ? [] : returnAcc(c))],
      run: (c) => {
        if (c.map(c.num('file')).nrpages) callInval2(c, 'done');
        else odirectReturn(c, c.num('length'));
      },
    }),
    done: mark({
      label: 'return dio->size',
      acc: returnAcc,
      run: (c) => {
        if (c.num('rv')) c.effect('dio_warn_stale_pagecache(): "Page cache invalidation failure on direct I/O"');
        odirectReturn(c, c.num('length'));
      },
    }),
  },
});

export const iomapDioWrite61: Proc = iomapDioWrite(writeback61);
