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
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { fsOf } from '../../kernel/filesystems.js';
import { r, release, w, type Proc } from '../../program.js';
import { NONE } from '../../state.js';
import { beginReadAcc, inodeLock, inodeUnlock } from '../../kernel/pagecache.js';
import { ilockLoc } from '../../kernel/lib.js';
import { marked } from '../../kernel/marks.js';
import { iSizeRead, rwsemLock, rwsemUnlock, xaLoad } from '../../kernel/marks6.js';
import { eofTest, lookupMarks, markReadFloor } from '../linux-6.1/read.js';

const XFR = 'fs/xfs/xfs_file.c xfs_file_buffered_read() 6.12.118';
const xfs = (c: Ctx) => fsOf(c) === 'xfs';

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
        run: eofTest,
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

/**
 * ra->ra_pages of a file opened on a block device with the defaults: VM_READAHEAD_PAGES, 128 KiB
 * (include/linux/pagemap.h:1375; bdi_init, mm/backing-dev.c:1037; blk_apply_bdi_limits keeps the largest of it and
 * io_opt * 2, block/blk-settings.c:69-71, io_opt 0 on a disk that states none), copied by file_ra_state_init
 * (mm/readahead.c:139-143) with prev_pos = -1. The read program is one read of one page on a file opened for it:
 * req_count 1, no earlier read in its ra state, not FMODE_RANDOM, no blk-cgroup congestion.
 */
const RA_PAGES = 32;
/** page_cache_prev_miss's answer when the scan passes index 0 (ULONG_MAX). */
const ULONG_MAX = -1;

/** What the wrapper below cites of a release's filemap_get_pages and page_cache_sync_ra. */
export interface SyncRaKernel {
  /** The first lookup's label on a miss at index 0, after the lookup's own. */
  miss0: string;
  /** The prev-miss scan at index > 0: label, where, and the cite of its xas_prev load. */
  syncLabel: string;
  syncWhere: string;
  prevMissCite: string;
  /** The names of the count of cached pages below the index and of the request's size, for the effect text. */
  count: string;
  req: string;
  /** The second lookup: its where and the cite of filemap_get_read_batch's accesses. */
  get2Where: string;
  get2Cite: string;
}

/** 6.12.118: filemap_get_pages (mm/filemap.c:2557-2576), page_cache_sync_ra (mm/readahead.c:537-609). */
export const SYNC_RA_612: SyncRaKernel = {
  miss0: 'empty: page_cache_sync_readahead(): index 0: ra->size = get_init_ra_size(1, 32) = 4, ra->async_size = 3; page_cache_ra_order(ractl, ra, 0)',
  syncLabel:
    'page_cache_sync_readahead(): page_cache_sync_ra(): miss = page_cache_prev_miss(mapping, index - 1, max_pages); contig_count = index - miss - 1; if (contig_count <= req_count) do_page_cache_ra(ractl, req_count, 0); else page_cache_ra_order(ractl, ra, 0)',
  syncWhere: 'mm/filemap.c:2563-2564 filemap_get_pages(), mm/readahead.c:585-607 page_cache_sync_ra()',
  prevMissCite:
    'mm/readahead.c page_cache_sync_ra() 6.12.118: miss = page_cache_prev_miss(ractl->mapping, index - 1, max_pages) (mm/readahead.c:585) → xas_prev()',
  count: 'contig_count',
  req: 'req_count',
  get2Where: 'mm/filemap.c:2567-2576 filemap_get_pages()',
  get2Cite:
    'mm/filemap.c filemap_get_pages() 6.12.118: filemap_get_read_batch() (mm/filemap.c:2567) → xas_load(), folio_try_get(), xas_reload() (mm/filemap.c:2344-2354)',
};

/**
 * 6.1.192: filemap_get_pages (mm/filemap.c:2661-2676) calls page_cache_sync_readahead (2665; include/linux/pagemap.h:
 * 1273-1279) → page_cache_sync_ra (mm/readahead.c:680-705) → ondemand_readahead(ractl, NULL, 1) (557-678). For the
 * read program's fresh ra state (start, size, async_size 0; prev_pos -1) it decides as 6.12's page_cache_sync_ra:
 * index 0 is `initial_readahead` (578-579, 653-656: ra->size = get_init_ra_size(1, 32) = 4, ra->async_size = 3; the
 * `readit` merge, 665, needs size == async_size); above 0, neither `expected` (585-587: 0) nor `ra->start + ra->size`
 * (0) is the index, there is no folio, and `index - prev_index <= 1` (634-636) is false for prev_index (-1 >>
 * PAGE_SHIFT as unsigned long long), so try_context_readahead (642; 434-462): count_history_pages (419-431) is
 * `index - 1 - page_cache_prev_miss(mapping, index - 1, 32)` (mm/filemap.c:1824-1838, 6.12's scan); at most
 * req_size (1) is a small random read, do_page_cache_ra(ractl, 1, 0) (650); more is a stream, doubled when the
 * scan passed index 0 (`size >= index`, 455), ra->size = min(size + 1, 32), ra->async_size = 1 (459-460),
 * page_cache_ra_order(ractl, ra, 0) (677).
 */
export const SYNC_RA_61: SyncRaKernel = {
  miss0:
    'empty: page_cache_sync_readahead(): ondemand_readahead(): index 0: initial_readahead: ra->size = get_init_ra_size(1, 32) = 4, ra->async_size = 3; page_cache_ra_order(ractl, ra, 0)',
  syncLabel:
    'page_cache_sync_readahead(): ondemand_readahead(): try_context_readahead(): size = index - 1 - page_cache_prev_miss(mapping, index - 1, max); if (size <= req_size) do_page_cache_ra(ractl, req_size, 0); else ra->size = min(size + req_size, max), ra->async_size = 1; page_cache_ra_order(ractl, ra, 0)',
  syncWhere: 'mm/filemap.c:2662-2666 filemap_get_pages(), mm/readahead.c:634-650 ondemand_readahead(), 434-462 try_context_readahead()',
  prevMissCite: 'mm/readahead.c count_history_pages() 6.1.192: head = page_cache_prev_miss(mapping, index - 1, max) (mm/readahead.c:425) → xas_prev()',
  count: 'try_context_readahead(): size',
  req: 'req_size',
  get2Where: 'mm/filemap.c:2667-2676 filemap_get_pages()',
  get2Cite:
    'mm/filemap.c filemap_get_pages() 6.1.192: filemap_get_read_batch() (mm/filemap.c:2667) → xas_load(), folio_try_get_rcu(), xas_reload() (mm/filemap.c:2444-2454)',
};

const lookupAcc = (c: Ctx): Access[] => {
  const pfn = c.lookup(c.num('file'), c.num('index'));
  return pfn === NONE ? [r(`${c.M(c.num('file'))}.tree`)] : [r(`${c.M(c.num('file'))}.tree`), w(`${c.P(pfn)}.refcount`)];
};

/** page_cache_ra_order(ractl, ra, 0) (`isize`) or do_page_cache_ra(ractl, 1, 0) (`dpcr`) at the read's index, back at `get2`. */
function callReadahead(c: Ctx, entry: 'isize' | 'dpcr', size: number, async: number): void {
  // new_order = min(0 + 2, ilog2(ra->size)) (mm/readahead.c:474-478; XFS's mapping_max_folio_order is above 2)
  const order = Math.min(2, Math.floor(Math.log2(size)));
  c.call(
    'page_cache_ra_order',
    entry,
    { file: c.num('file'), index: c.num('index'), order, size, async, mark: NONE, pfn: NONE, limit: 0, err: 0, unb: 0, batch: [] },
    'get2',
  );
}

/**
 * filemap_get_pages on a miss (mm/filemap.c:2557-2576, 6.12.118): page_cache_sync_readahead(mapping, ra, filp, index,
 * last_index - index) first (2563), filemap_get_read_batch again (2567), and only when readahead added nothing there
 * filemap_create_folio (2572). page_cache_sync_ra (mm/readahead.c:537-609) with the ra state of RA_PAGES:
 *
 * - index 0: ra->start = 0, ra->size = get_init_ra_size(1, 32) = 4 (roundup_pow_of_two(1) = 1 <= 32 / 32: x4,
 *   361-372), ra->async_size = 3 (572-577), page_cache_ra_order(ractl, ra, 0) (606-607): on ext4 (no large folios)
 *   do_page_cache_ra(ractl, 4, 3), the window clipped to the page holding the last byte; on XFS order-2 at most,
 *   clipped the same way (readahead.ts).
 * - index > 0: prev_pos = -1 makes `index - prev_index <= 1` false, so page_cache_prev_miss(mapping, index - 1, 32)
 *   (585; mm/filemap.c:1789-1803) counts the cached pages before index: at most one (contig_count <= req_count, 592)
 *   is a small random read, do_page_cache_ra(ractl, 1, 0); more is a stream, ra->size = min(contig_count + 1, 32)
 *   (doubled when cached from index 0, 600-601), ra->async_size = 1, page_cache_ra_order(ractl, ra, 0).
 *
 * The folios readahead adds are locked until their read completes and hold no reference of the reader: between
 * readahead and the second lookup, and between that lookup and filemap_update_page, other threads may remove
 * them. A window that would set PG_readahead on a folio it adds stops the search (readahead.ts refuseMark).
 * Until session 42 the model's read went from the miss straight to filemap_create_folio.
 */
export function withSyncReadahead612(p: Proc): Proc {
  return withSyncReadahead(p, SYNC_RA_612);
}

/** `p`'s miss through page_cache_sync_readahead as release `k` has it (6.12.118 above, 6.1.192 SYNC_RA_61). */
export function withSyncReadahead(p: Proc, k: SyncRaKernel): Proc {
  const get = p.steps.get!;
  const getLabel = (c: Ctx) => (typeof get.label === 'string' ? get.label : get.label(c));
  const miss0 = (c: Ctx) => c.num('index') === 0 && c.lookup(c.num('file'), 0) === NONE;
  return {
    ...p,
    // the readahead's return value (`rv`) is never read
    dead: { ...p.dead, uptodate: [...(p.dead?.uptodate ?? []), 'rv'], create: [...(p.dead?.create ?? []), 'rv'] },
    steps: {
      ...p.steps,
      get: {
        ...get,
        label: (c) => (miss0(c) ? `${getLabel(c)}; ${k.miss0}` : getLabel(c)),
        run: (c) => {
          const pfn = c.lookup(c.num('file'), c.num('index'));
          c.set('pfn', pfn);
          if (pfn !== NONE) {
            c.ref(pfn, 1);
            c.goto('uptodate');
          } else if (c.num('index') === 0) callReadahead(c, 'isize', 4, 3);
          else c.goto('sync_ra');
        },
      },
      sync_ra: {
        label: k.syncLabel,
        where: k.syncWhere,
        acc: (c) => [xaLoad(c, c.num('file'), c.num('index') - 1, k.prevMissCite)],
        run: (c) => {
          const file = c.num('file');
          const index = c.num('index');
          // while (max_scan--) { entry = xas_prev(&xas); if (!entry || xa_is_value(entry)) break; if (xas.xa_index == ULONG_MAX) break; }
          // return xas.xa_index; the first xas_prev loads index - 1 itself (XA_STATE starts at XAS_RESTART, which __xas_prev
          // does not step from)
          let miss = index - 1;
          for (let k = 0; k < RA_PAGES; k++) {
            miss = index - 1 - k;
            if (miss < 0) {
              miss = ULONG_MAX;
              break;
            }
            if (c.lookup(file, miss) === NONE) break;
          }
          let contig = miss === ULONG_MAX ? index : index - miss - 1;
          if (contig <= 1) {
            c.effect(`${k.count} ${contig} <= ${k.req} 1: do_page_cache_ra(ractl, 1, 0)`);
            callReadahead(c, 'dpcr', 1, 0);
            return;
          }
          if (miss === ULONG_MAX) contig *= 2;
          const size = Math.min(contig + 1, RA_PAGES);
          c.effect(`${k.count} ${contig}: ra->size ${size}, ra->async_size 1`);
          callReadahead(c, 'isize', size, 1);
        },
      },
      get2: {
        ...get,
        label: (c) =>
          `filemap_get_pages(): filemap_get_read_batch(mapping, index, last_index - 1, fbatch) after page_cache_sync_readahead()${c.lookup(c.num('file'), c.num('index')) === NONE ? '; empty: filemap_create_folio()' : ''}`,
        where: k.get2Where,
        acc: (c) => lookupMarks(c, lookupAcc(c), k.get2Cite),
        run: (c) => {
          const pfn = c.lookup(c.num('file'), c.num('index'));
          c.set('pfn', pfn);
          if (pfn === NONE) {
            c.effect('readahead added nothing here: filemap_create_folio()');
            c.goto('create');
            return;
          }
          c.ref(pfn, 1);
          c.goto('uptodate');
        },
      },
    },
  };
}
