/**
 * The 2.6 writeback loops (kernel/writeback.ts) of ext3 in data=ordered mode, which has a
 * ->writepage (ext3_ordered_writepage) and no ->writepages: filemap_write_and_wait →
 * filemap_fdatawrite → __filemap_fdatawrite_range(WB_SYNC_ALL) → do_writepages →
 * generic_writepages.
 *
 * 2.6.23.17: generic_writepages → write_cache_pages(mapping, wbc, __writepage, mapping)
 * (mm/page-writeback.c:729-737, 603-705) → ext3_ordered_writepage (fs/ext3/inode.c:1417) →
 * block_write_full_page (fs/buffer.c:2591-2625), whose i_size test does not write a page wholly
 * past i_size (`if (page->index >= end_index+1 || !offset) { do_invalidatepage(page, 0);
 * unlock_page(page); return 0; }`, 2603-2614) and writes a page inside or straddling it.
 *
 * 2.6.15: no 2.6.15 tree is on this machine. generic_writepages is the inline
 * `return mpage_writepages(mapping, wbc, NULL);` of include/linux/mpage.h from 2.5.34 until
 * CONFIG_BLOCK made it a function (patches in the index show both ends), so 2.6.15 reaches
 * fs/mpage.c mpage_writepages, which walks the dirty pages with ->writepage when get_block is
 * NULL. The loop is modelled as 2.6.23.17's write_cache_pages (split out of mpage_writepages in
 * 2.6.22): lock_page, the mapping recheck, wait_on_page_writeback for WB_SYNC_ALL,
 * `PageWriteback(page) || !clear_page_dirty_for_io(page)`, ->writepage. 2.6.15's
 * clear_page_dirty_for_io has no page_mkclean (dirty tracking of shared mappings came in
 * 2.6.19), and its block_write_full_page's i_size test is taken as 2.6.23.17's. Line numbers of
 * 2.6.15 are not given: they were not read.
 */
import type { WritebackKernel } from '../../kernel/writeback.js';
import { PAGEVEC_SIZE_2_6 } from '../../kernel/lib.js';
import { pageLockMark } from '../../kernel/marks.js';

const PAGE_2623 =
  'lock_page(page); if (page->mapping != mapping) { unlock_page(page); continue; } wait_on_page_writeback(page); if (PageWriteback(page) || !clear_page_dirty_for_io(page) [page_mkclean(page); TestClearPageDirty(page)]) { unlock_page(page); continue; } (*writepage)(page, wbc, data) [block_write_full_page: a page wholly past i_size is not written]; unlock_page(page)';

export const writeback2623: WritebackKernel = {
  fn: 'write_cache_pages',
  where: 'mm/page-writeback.c 2.6.23.17',
  pagevec: PAGEVEC_SIZE_2_6,
  lookup: [
    'while (!done && (index <= end) && (nr_pages = pagevec_lookup_tag(&pvec, mapping, &index, PAGECACHE_TAG_DIRTY, min(end - index, (pgoff_t)PAGEVEC_SIZE-1) + 1)))',
    'mm/page-writeback.c:634-637 write_cache_pages() 2.6.23.17',
  ],
  page: [
    PAGE_2623,
    'mm/page-writeback.c:651-677 write_cache_pages(), 923-975 clear_page_dirty_for_io(); fs/buffer.c:2591-2625 block_write_full_page() 2.6.23.17',
  ],
  release: ['pagevec_release(&pvec); cond_resched()', 'mm/page-writeback.c:690-691 write_cache_pages() 2.6.23.17'],
  mkclean: true,
  skipsWriteback: 'always',
  writesPastEof: () => false,
  consultsBlockMap: false,
  eofCite: 'block_write_full_page(), 2.6.23.17 fs/buffer.c:2603-2614',
  lockMark: (a) => pageLockMark(a, 'mm/page-writeback.c write_cache_pages() 2.6.23.17: lock_page(page) (mm/page-writeback.c:655)'),
};

export const writeback2615: WritebackKernel = {
  ...writeback2623,
  fn: 'mpage_writepages',
  where: 'fs/mpage.c 2.6.15 (modelled as 2.6.23.17 write_cache_pages)',
  lookup: [writeback2623.lookup[0], 'fs/mpage.c mpage_writepages() 2.6.15 (as 2.6.23.17 mm/page-writeback.c:634-637)'],
  page: [
    'lock_page(page); if (page->mapping != mapping) { unlock_page(page); continue; } wait_on_page_writeback(page); if (PageWriteback(page) || !clear_page_dirty_for_io(page)) { unlock_page(page); continue; } mapping->a_ops->writepage(page, wbc) [block_write_full_page: a page wholly past i_size is not written]; unlock_page(page)',
    'fs/mpage.c mpage_writepages() 2.6.15 (as 2.6.23.17 mm/page-writeback.c:651-677; fs/buffer.c:2591-2625 block_write_full_page())',
  ],
  release: [writeback2623.release[0], 'fs/mpage.c mpage_writepages() 2.6.15 (as 2.6.23.17 mm/page-writeback.c:690-691)'],
  mkclean: false,
  eofCite: 'block_write_full_page(), as 2.6.23.17 fs/buffer.c:2603-2614',
  lockMark: (a) => pageLockMark(a, 'fs/mpage.c mpage_writepages() 2.6.15: lock_page(page)'),
};
