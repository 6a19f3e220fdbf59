/**
 * linux-6.1's writeback loop (kernel/writeback.ts) as ext4 runs it: filemap_write_and_wait_range
 * (mm/filemap.c:668-689) / __filemap_fdatawrite_range (411) → filemap_fdatawrite_wbc →
 * do_writepages → ext4_writepages → mpage_prepare_extent_to_map (fs/ext4/inode.c:2596-2698):
 * pagevec_lookup_range_tag (2619), lock_page (2642), `if (!PageDirty(page) || (PageWriteback(page)
 * && (mpd->wbc->sync_mode == WB_SYNC_NONE)) || unlikely(page->mapping != mapping)) { unlock_page(page);
 * continue; }` (2649-2655), wait_on_page_writeback (2657), then mpage_process_page_bufs
 * (2230-2268) → mpage_submit_page (2118-2151): clear_page_dirty_for_io (2125; mm/page-writeback.c:
 * 2849-2905, folio_mkclean at 2886), the i_size sample (2139-2144), ext4_bio_write_page
 * (fs/ext4/page-io.c:433).
 *
 * The i_size test: mpage_process_page_bufs maps (allocates) only blocks below
 * `blocks = (i_size_read(inode) + i_blocksize(inode) - 1) >> inode->i_blkbits` (2236-2237, 2245);
 * a page wholly past it is submitted with its blocks as they are, and mpage_submit_page passes
 * `len = size & ~PAGE_MASK` when `page->index == size >> PAGE_SHIFT`, PAGE_SIZE otherwise;
 * ext4_bio_write_page writes no buffer at or past len (page-io.c:477) and no unmapped one (483).
 * So a page wholly past i_size is written to its block only if its index is past i_size's page
 * and the block is allocated (4 KiB blocks: one buffer per page).
 *
 * Folded (docs/flavors.md): ext4 keeps the pages of one extent locked together until it has
 * mapped and submitted them (mpage_map_and_submit_extent, in a second pass with do_map = 1);
 * the model locks, writes and unlocks one page per step. WB_SYNC_ALL looks up
 * PAGECACHE_TAG_TOWRITE, set by tag_pages_for_writeback (2797) on the pages dirty when
 * ext4_writepages started; the model looks up PG_dirty, so a page dirtied after that start is
 * written too.
 */
import type { WritebackKernel } from '../../kernel/writeback.js';
import { PAGEVEC_SIZE_6_1 } from '../../kernel/lib.js';
import { folioLock, folioPut, folioTryGet } from '../../kernel/marks6.js';
import { PAGE_SIZE } from '../../state.js';

export const writeback61: WritebackKernel = {
  fn: 'mpage_prepare_extent_to_map',
  where: 'fs/ext4/inode.c 6.1.192',
  pagevec: PAGEVEC_SIZE_6_1,
  lookup: [
    'while (index <= end) { nr_pages = pagevec_lookup_range_tag(&pvec, mapping, &index, end, tag); if (nr_pages == 0) break;',
    'fs/ext4/inode.c:2618-2622 mpage_prepare_extent_to_map() 6.1.192',
  ],
  page: [
    'lock_page(page); if (!PageDirty(page) || (PageWriteback(page) && WB_SYNC_NONE) || page->mapping != mapping) { unlock_page(page); continue; } wait_on_page_writeback(page); mpage_submit_page(): clear_page_dirty_for_io(page); size = i_size_read(inode); ext4_bio_write_page(&mpd->io_submit, page, len) [a page wholly past i_size: only an allocated block past its page]; unlock',
    'fs/ext4/inode.c:2642-2658 mpage_prepare_extent_to_map(), 2230-2268 mpage_process_page_bufs(), 2118-2151 mpage_submit_page(); fs/ext4/page-io.c:433-569 ext4_bio_write_page() 6.1.192',
  ],
  release: ['pagevec_release(&pvec); cond_resched()', 'fs/ext4/inode.c:2690-2691 mpage_prepare_extent_to_map() 6.1.192'],
  mkclean: false,
  skipsWriteback: 'syncNone',
  writesPastEof: (index, isize, mapped) => index > Math.floor(isize / PAGE_SIZE) && mapped,
  consultsBlockMap: true,
  eofCite: 'mpage_process_page_bufs(), mpage_submit_page(), ext4_bio_write_page(): 6.1.192 fs/ext4/inode.c:2236-2245, 2139-2144; fs/ext4/page-io.c:477-483',
  lockMark: (a) => folioLock(a, 'fs/ext4/inode.c mpage_prepare_extent_to_map() 6.1.192: lock_page(page) (fs/ext4/inode.c:2642) → folio_lock()'),
  refMarks: {
    get: (c, a, pfn) => [folioTryGet(c, a, pfn, 'mm/filemap.c find_get_pages_range_tag() 6.1.192 (mm/filemap.c:2375) → find_get_entry() (mm/filemap.c:2045)')],
    put: (c, a, pfn) =>
      folioPut(
        c,
        a,
        pfn,
        'fs/ext4/inode.c mpage_prepare_extent_to_map() 6.1.192: pagevec_release(&pvec) (fs/ext4/inode.c:2690) → release_pages() (mm/swap.c:1005)',
      ),
  },
};
