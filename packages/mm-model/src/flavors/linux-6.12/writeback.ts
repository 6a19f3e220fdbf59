/**
 * linux-6.12's writeback loop (kernel/writeback.ts) as ext4 runs it: ext4_writepages →
 * ext4_do_writepages (fs/ext4/inode.c:2584) → mpage_prepare_extent_to_map (2423-2582):
 * filemap_get_folios_tag (2453), folio_lock (2485), `if ((folio_test_writeback(folio) &&
 * mpd->wbc->sync_mode == WB_SYNC_NONE) || unlikely(folio->mapping != mapping)) { folio_unlock(folio);
 * continue; }` (2493-2497), a clean folio cycled through the writeback state to clear stale tags
 * and skipped (2504-2511: no state of the model's), folio_wait_writeback (2513), then
 * mpage_process_page_bufs (2021-2060) → mpage_submit_folio (1911-1942):
 * folio_clear_dirty_for_io (1918; mm/page-writeback.c:2991, folio_mkclean at 3028), the i_size
 * sample `len = folio_size(folio); if (folio_pos(folio) + len > size) len = size & (len - 1)`
 * (1932-1936), ext4_bio_write_folio (fs/ext4/page-io.c:440).
 *
 * The i_size test: as 6.1 (flavors/linux-6.1/writeback.ts), no block is mapped at or past
 * `blocks`; a folio wholly past i_size is submitted with len = i_size's offset in its page, and
 * ext4_bio_write_folio writes no buffer at or past len (page-io.c:476) and no unmapped one
 * (482): it reaches its block only if i_size is not page aligned and the block is allocated.
 * The folds are 6.1's.
 */
import type { WritebackKernel } from '../../kernel/writeback.js';
import { folioBatchPut612, folioLock612, folioTryGet612 } from '../../kernel/marks612.js';
import { PAGE_SIZE } from '../../state.js';

/** PAGEVEC_SIZE in 6.12.118 (include/linux/pagevec.h:15): a folio_batch holds 31 folios. */
const FOLIO_BATCH_612 = 31;

export const writeback612: WritebackKernel = {
  fn: 'mpage_prepare_extent_to_map',
  where: 'fs/ext4/inode.c 6.12.118',
  pagevec: FOLIO_BATCH_612,
  lookup: [
    'while (index <= end) { nr_folios = filemap_get_folios_tag(mapping, &index, end, tag, &fbatch); if (nr_folios == 0) break;',
    'fs/ext4/inode.c:2452-2456 mpage_prepare_extent_to_map() 6.12.118',
  ],
  page: [
    'folio_lock(folio); if ((folio_test_writeback(folio) && WB_SYNC_NONE) || folio->mapping != mapping) { folio_unlock(folio); continue; } if (!folio_test_dirty(folio)) { ...; folio_unlock(folio); continue; } folio_wait_writeback(folio); mpage_submit_folio(): folio_clear_dirty_for_io(folio); size = i_size_read(inode); ext4_bio_write_folio(&mpd->io_submit, folio, len) [a folio wholly past i_size: only an allocated block, i_size not page aligned]; unlock',
    'fs/ext4/inode.c:2485-2513 mpage_prepare_extent_to_map(), 2021-2060 mpage_process_page_bufs(), 1911-1942 mpage_submit_folio(); fs/ext4/page-io.c:440-582 ext4_bio_write_folio() 6.12.118',
  ],
  release: ['folio_batch_release(&fbatch); cond_resched()', 'fs/ext4/inode.c:2570-2571 mpage_prepare_extent_to_map() 6.12.118'],
  mkclean: false,
  skipsWriteback: 'syncNone',
  writesPastEof: (_index, isize, mapped) => isize % PAGE_SIZE !== 0 && mapped,
  consultsBlockMap: true,
  eofCite: 'mpage_process_page_bufs(), mpage_submit_folio(), ext4_bio_write_folio(): 6.12.118 fs/ext4/inode.c:2027-2036, 1932-1936; fs/ext4/page-io.c:476-482',
  lockMark: (a) => folioLock612(a, 'fs/ext4/inode.c mpage_prepare_extent_to_map() 6.12.118: folio_lock(folio) (fs/ext4/inode.c:2485)'),
  refMarks: {
    get: (c, a, pfn) => folioTryGet612(c, a, pfn, 'mm/filemap.c filemap_get_folios_tag() 6.12.118 (mm/filemap.c:2277) → find_get_entry() (mm/filemap.c:2021)'),
    put: (c, a, pfn) =>
      folioBatchPut612(c, a, pfn, 'fs/ext4/inode.c mpage_prepare_extent_to_map() 6.12.118: folio_batch_release(&fbatch) (fs/ext4/inode.c:2570)'),
  },
};
