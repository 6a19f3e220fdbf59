/**
 * Which path of the kernel a stack is in, in the model's words: the program a scenario
 * thread would run (`fault`, `truncate`, `odirect_write`, ...), or a path the model does not
 * have (inode eviction, shmem, reclaim, writeback, a buffered write).
 *
 * Frames are read from the innermost out. The innermost page-cache operation decides, then
 * its callers refine it: a truncation of the page cache called from evict() is inode
 * eviction; called from a write(2) (with no truncate(2) or setattr on the way) it is an
 * O_DIRECT write's cache invalidation — buffered writes add pages, they never remove them
 * (XFS before 2.6.20 invalidated with truncate_inode_pages, fs_flushinval_pages).
 */
import { baseName, type Frame } from './frames.js';

/** What a frame's function is, for path finding. */
type FrameClass =
  | 'fault'
  | 'fault-around'
  | 'truncate-entry'
  | 'truncate-core'
  | 'inval2'
  | 'invalmap'
  | 'odirect'
  | 'write'
  | 'read'
  | 'evict'
  | 'shmem'
  | 'hugetlb'
  | 'reclaim'
  | 'migrate'
  | 'writeback'
  | 'munmap';

const CLASSES: Array<[FrameClass, RegExp]> = [
  ['fault-around', /^(?:filemap_map_pages|do_fault_around|next_uptodate_(?:page|folio)|filemap_map_folio_range)$/],
  [
    'fault',
    /^(?:do_read_fault|do_shared_fault|do_cow_fault|do_fault|__do_fault|do_no_page|do_linear_fault|filemap_fault|filemap_nopage|finish_fault|\w+_filemap_fault|__\w+_filemap_fault|filemap_page_mkwrite)$/,
  ],
  ['shmem', /^(?:shmem_\w+|__shmem_\w+)$/],
  ['hugetlb', /^(?:hugetlbfs_\w+|remove_inode_hugepages|remove_inode_single_folio|hugetlb_\w+)$/],
  [
    'evict',
    /^(?:evict|evict_inodes|iput_final|iput|\w+_evict_inode|truncate_inode_pages_final|dispose_list|clear_inode|generic_delete_inode|generic_drop_inode|invalidate_inodes)$/,
  ],
  [
    'truncate-entry',
    /^(?:do_truncate|vfs_truncate|do_sys_truncate|do_sys_ftruncate|__x64_sys_f?truncate|sys_f?truncate\w*|notify_change|\w+_setattr\w*|truncate_setsize|truncate_pagecache|truncate_pagecache_range|vmtruncate|vmtruncate_range|\w+_punch_hole|\w+_fallocate|vfs_fallocate|\w+_setsize|\w+_truncate)$/,
  ],
  [
    'truncate-core',
    /^(?:truncate_inode_pages|truncate_inode_pages_range|truncate_complete_page|truncate_inode_page|truncate_inode_folio|truncate_cleanup_page|truncate_cleanup_folio|truncate_inode_partial_page|truncate_inode_partial_folio|delete_from_page_cache_batch|truncate_folio_batch_exceptionals)$/,
  ],
  [
    'inval2',
    /^(?:invalidate_inode_pages2|invalidate_inode_pages2_range|invalidate_complete_page2|invalidate_complete_folio2|kiocb_invalidate_pages|kiocb_invalidate_post_direct_write|nfs_revalidate_mapping|__nfs_revalidate_mapping|nfs_invalidate_mapping|invalidate_remote_inode|\w+_invalidate_inode_pages\w*)$/,
  ],
  [
    'invalmap',
    /^(?:invalidate_mapping_pages|invalidate_mapping_pagevec|mapping_try_invalidate|generic_fadvise|vfs_fadvise|ksys_fadvise64_64|\w*sys_fadvise64\w*|drop_pagecache_sb|invalidate_bdev|invalidate_inode_pages)$/,
  ],
  [
    'odirect',
    /^(?:generic_file_direct_write|generic_file_direct_IO|iomap_dio_rw|__iomap_dio_rw|iomap_dio_complete|\w+_dio_write_iter|\w+_file_dio_write\w*|\w+_file_dio_aio_write|\w+_direct_write\w*|blkdev_direct_write|\w+_direct_IO_write)$/,
  ],
  [
    'write',
    /^(?:vfs_write|vfs_writev|vfs_iter_write|do_iter_write|__vfs_write|new_sync_write|do_sync_write|ksys_write|ksys_pwrite64|\w*sys_write\w*|\w*sys_pwrite\w*|\w+_file_write_iter|\w+_file_aio_write|xfs_write|generic_file_aio_write\w*|__generic_file_aio_write\w*|generic_file_write_iter|__generic_file_write_iter|generic_perform_write|netfs_perform_write|io_write|aio_write)$/,
  ],
  [
    'read',
    /^(?:filemap_read|generic_file_buffered_read|do_generic_file_read|do_generic_mapping_read|filemap_get_pages|generic_file_aio_read|generic_file_read_iter)$/,
  ],
  [
    'reclaim',
    /^(?:shrink_\w+|__remove_mapping|remove_mapping|kswapd|balance_pgdat|try_to_free_pages|do_try_to_free_pages|scan_folios|sort_folio|evict_folios|lru_gen_\w+|reclaim_\w+|out_of_memory)$/,
  ],
  ['migrate', /^(?:migrate_\w+|move_to_new_folio|move_to_new_page|compact_\w+|isolate_migratepages\w*)$/],
  [
    'writeback',
    /^(?:do_writepages|wb_workfn|wb_writeback|writeback_sb_inodes|__writeback_single_inode|\w+_writepages|write_cache_pages|filemap_fdatawrite\w*)$/,
  ],
  ['munmap', /^(?:unmap_vmas|unmap_page_range|zap_pte_range|zap_pmd_range|exit_mmap|do_munmap|__do_munmap|\w*sys_munmap|unmap_region)$/],
];

function classOf(fn: string): FrameClass | undefined {
  const b = baseName(fn);
  for (const [c, re] of CLASSES) if (re.test(b)) return c;
  return undefined;
}

export interface PathHit {
  /** The model program (a scenario thread's `program:`), or null for a path the model does not have. */
  program: string | null;
  /** In words: `fault`, `O_DIRECT write`, `inode eviction (not modelled)`. */
  label: string;
  /** The frame that decided it. */
  frame: string;
  line: number;
  because: string;
  /**
   * A page-cache removal (truncate_inode_pages_range, invalidate_inode_pages2_range, ...) that no
   * caller in the stack claimed: its callers are what say whose it is (a truncate, an O_DIRECT
   * write, inode eviction, shmem, hugetlbfs, reclaim), and the program is read from the frame alone.
   */
  callersDecide?: boolean;
}

const UNMODELLED: Partial<Record<FrameClass, string>> = {
  evict: 'inode eviction',
  shmem: 'shmem',
  hugetlb: 'hugetlbfs',
  reclaim: 'page reclaim',
  migrate: 'page migration',
  writeback: 'writeback',
  munmap: 'munmap / exit (unmapping)',
  write: 'a buffered write',
};

const PROGRAM: Partial<Record<FrameClass, [string, string]>> = {
  'fault': ['fault', 'a page fault'],
  'fault-around': ['fault_around', 'fault-around'],
  'truncate-core': ['truncate', 'truncate'],
  'truncate-entry': ['truncate', 'truncate'],
  'inval2': ['invalidate_inode_pages2_range', 'invalidate_inode_pages2_range'],
  'invalmap': ['invalidate_mapping_pages', 'invalidate_mapping_pages'],
  'odirect': ['odirect_write', 'an O_DIRECT write'],
  'read': ['read', 'a buffered read'],
};

function hit(cls: FrameClass, f: Frame, because: string): PathHit {
  const p = PROGRAM[cls];
  if (p) return { program: p[0], label: p[1], frame: f.function, line: f.line, because };
  return { program: null, label: `${UNMODELLED[cls] ?? cls} (not modelled)`, frame: f.function, line: f.line, because };
}

/**
 * The path of one stack: `frames` innermost first (an instruction pointer, when the
 * caller has one, goes first). Unreliable (`?`) frames are not read. Null when no frame
 * belongs to a path kreplay knows.
 */
export function pathOf(frames: readonly Frame[]): PathHit | null {
  const fs = frames.filter((f) => !f.unreliable);
  const cls = fs.map((f) => classOf(f.function));
  const i = cls.findIndex((c) => c !== undefined);
  if (i < 0) return null;
  const c = cls[i]!;
  const f = fs[i]!;
  // The first caller (outward) of one of the classes wanted, skipping more frames of c's own class.
  const outer = (want: readonly FrameClass[]): number => {
    for (let j = i + 1; j < fs.length; j++) if (cls[j] !== undefined && cls[j] !== c && want.includes(cls[j]!)) return j;
    return -1;
  };
  switch (c) {
    case 'truncate-core':
    case 'inval2':
    case 'invalmap': {
      // The first caller that says whose removal this is.
      const j = outer(['evict', 'shmem', 'hugetlb', 'truncate-entry', 'odirect', 'write', 'read', 'fault', 'invalmap', 'inval2', 'reclaim']);
      const by = j >= 0 ? cls[j]! : undefined;
      const chain = `${f.function}${j >= 0 ? ` ← ${fs[j]!.function}` : ''}`;
      if (by === 'evict' || by === 'shmem' || by === 'hugetlb' || by === 'reclaim')
        return hit(by, fs[j]!, `${chain}: the page-cache removal is part of ${UNMODELLED[by]}`);
      if (by === 'truncate-entry') return hit('truncate-entry', fs[j]!, `${chain}: a truncate`);
      if (by === 'odirect') return hit('odirect', fs[j]!, `${chain}: an O_DIRECT write invalidating the cache`);
      if (by === 'write') {
        return hit(
          'odirect',
          fs[j]!,
          `${chain}: a write(2) that removes page-cache pages is an O_DIRECT write (buffered writes add pages, they do not remove them)`,
        );
      }
      if (c === 'invalmap' && by === 'inval2') return hit('inval2', fs[j]!, chain);
      return by ? hit(c, f, `${chain} (inside ${fs[j]!.function})`) : { ...hit(c, f, chain), callersDecide: true };
    }
    case 'fault-around': {
      const j = outer(['fault']);
      return j >= 0 ? hit('fault', fs[j]!, `${f.function} ← ${fs[j]!.function}: fault-around inside a read fault`) : hit(c, f, f.function);
    }
    case 'fault':
      return hit('fault', f, f.function);
    default:
      return hit(c, f, f.function);
  }
}
