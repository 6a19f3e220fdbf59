/**
 * Interleavings of the kernel's code that a program's steps do not produce (Program.notSearched,
 * Machine.notSearched): the modelling choices of docs/flavors.md ("Modelling choices") and the
 * known gaps of its dated sections, said beside every verdict of a scenario that runs the program.
 * An exhaustive search covers every interleaving of the model; these are not in it.
 */
import type { Program } from '../program.js';

/** 2.6: a page missing from the cache is read alone, and its ->readpage I/O completes in the step that submits it. */
const READ_ALONE_26 =
  'readahead and read I/O in flight: the 2.6 flavors read a missing page alone (as for a file or mapping read at random: no page_cache_readahead, no page_cache_readaround) and complete ->readpage\'s I/O in the step that submits it, so another thread never finds a readahead page, or the read\'s own page, locked and not yet uptodate (docs/flavors.md, "Modelling choices")';

/** 6.x faults: readahead off (the model's mappings are VM_RAND_READ). */
export const FAULT_READAHEAD_6X =
  "a fault's readahead: the model's mappings are read at random (VM_RAND_READ), so a fault miss creates and reads its folio alone; the kernel's default do_sync_mmap_readahead (page_cache_ra_order around the index, under the invalidate_lock, its folios locked until their I/O completes) is not searched (docs/flavors.md, \"Modelling choices\")";

/**
 * 6.x reads: readahead's I/O completes in the machine's end_io thread (session 44), one folio a step in one order,
 * and always succeeds.
 */
export const READAHEAD_IO_6X =
  "readahead I/O completion order and errors: the bio's end_io (the thread end_io) completes the reads in flight one folio at a time, the lowest pfn first, and never fails them; the kernel's bios complete in any order and may end in an error (folio_end_read(folio, false): the folio unlocked and not uptodate), so another order of completion and a failed read are not searched (docs/flavors.md, session 44)";

/**
 * 6.x reads (session 45): the end_io thread's completion takes the folio's data from the disk as it is at that step
 * (ctx.ts readIo, data.ts diskData: the block map, i_size and the block's content then); the kernel fixes the block
 * and the EOF clamp when it builds the bio, and the device moves the data at some point before end_io.
 */
export const READAHEAD_DATA_6X =
  "the data of readahead I/O in flight: the end_io thread's step gives the folio what the disk holds for its index at that step (the block map, i_size and the block's content then); the kernel maps the block and clamps to i_size when it builds the bio (6.1.192 fs/ext4/readpage.c:266-269 ext4_readpage_limit, 305 ext4_map_blocks, 375 bi_sector; iomap's ->iomap_begin alike) and the device moves the block's content at some point between submit_bio and end_io, so a read whose block is written, freed or reallocated while the read is in flight is searched only with the data of the completion's moment, not with the block or content the kernel may give it (docs/flavors.md, session 45)";

/**
 * 6.x reads (session 45): read_pages hands each folio to end_io in a step of its own, so a folio may complete before the
 * next folio of its batch is submitted; the kernel's bio and plug make that rare.
 */
export const READAHEAD_BATCH_6X =
  "readahead's batch in one bio: read_pages submits each folio's read in a step of its own, so the end_io thread may complete a folio before the next folio of the same batch is submitted; the kernel adds a batch's contiguous blocks to one bio that it submits after the last (6.1.192 fs/ext4/readpage.c:359-407; iomap_readahead submits its bio at its end) and read_pages' plug holds the dispatch until blk_finish_plug (6.1.192 mm/readahead.c:158, 184), so a completion comes before the rest of its batch is submitted only where the bio is split (blocks not contiguous, a full bio) or the plug is flushed by a sleep: a schedule that completes a folio in the middle of its batch may be one the kernel does not reach (docs/flavors.md, session 45)";

/**
 * 2.6: filemap_write_and_wait's writeback (kernel/writeback.ts) completes ->writepage's I/O in
 * the locked step that submits it: no page is left under PG_writeback.
 */
const WRITEBACK_IO_26 =
  'writeback in flight: filemap_write_and_wait\'s ->writepage I/O completes in the locked step that submits it, so no page stays under PG_writeback after unlock_page and filemap_fdatawait never waits; a truncate or invalidate meeting a page under writeback (truncate_inode_pages_range passing it over and then blocking in wait_on_page_writeback, invalidate_inode_pages2_range blocking in wait_on_page_writeback, invalidate_mapping_pages keeping it) is not searched (docs/flavors.md, "Modelling choices")';

/**
 * 6.x: filemap_write_and_wait_range's writeback (and 6.1 fadvise's WB_SYNC_NONE
 * __filemap_fdatawrite_range) completes the folio's I/O in the locked step that submits it.
 */
const WRITEBACK_IO_6X =
  'writeback in flight: the model\'s writeback (filemap_write_and_wait_range, __filemap_fdatawrite_range) completes each folio\'s I/O in the locked step that submits it, so no folio stays under PG_writeback after folio_unlock and __filemap_fdatawait_range never waits; a truncate or invalidate meeting a folio under writeback (find_lock_entries passing it over, folio_wait_writeback blocking in truncate_inode_pages_range and invalidate_inode_pages2_range, mapping_evict_folio refusing it) is not searched (docs/flavors.md, "Modelling choices")';

/** 6.1 fadvise: WB_SYNC_NONE does not wait, so in the kernel its own invalidate usually meets the folios still under writeback. */
const FADVISE_WB_6_1 =
  "fadvise(POSIX_FADV_DONTNEED) keeping what it wrote back: __filemap_fdatawrite_range(WB_SYNC_NONE) does not wait for the I/O it submits (mm/fadvise.c:112, 6.1.192), so the kernel's invalidate_mapping_pagevec right after it may find those folios still under writeback and keep them (mapping_evict_folio); the model's I/O is done by then, so only the outcome of an I/O that completes at once is searched: the folios clean and dropped (docs/flavors.md, session 44)";

/** The 2.6 flavors: the programs that read a page in (a read, every fault), and the one that writes back (O_DIRECT's filemap_write_and_wait). */
export const NOT_SEARCHED_26: Readonly<Record<string, readonly string[]>> = {
  read: [READ_ALONE_26],
  fault: [READ_ALONE_26],
  load: [READ_ALONE_26],
  store: [READ_ALONE_26],
  odirect_write: [WRITEBACK_IO_26],
};

/** What linux-6.1 and linux-6.12 share (a program a flavor lacks is skipped). */
const NOT_SEARCHED_6X: Readonly<Record<string, readonly string[]>> = {
  read: [READAHEAD_IO_6X, READAHEAD_DATA_6X, READAHEAD_BATCH_6X],
  readahead: [READAHEAD_IO_6X, READAHEAD_DATA_6X, READAHEAD_BATCH_6X],
  fault: [FAULT_READAHEAD_6X],
  load: [FAULT_READAHEAD_6X],
  store: [FAULT_READAHEAD_6X],
};

/**
 * linux-6.1: the O_DIRECT write's filemap_write_and_wait_range (fs/iomap/direct-io.c:569), ext4's
 * hole punch's (fs/ext4/inode.c:4045) and fadvise's WB_SYNC_NONE writeback (mm/fadvise.c:112).
 */
export const NOT_SEARCHED_6_1: Readonly<Record<string, readonly string[]>> = {
  ...NOT_SEARCHED_6X,
  odirect_write: [WRITEBACK_IO_6X],
  punch_hole: [WRITEBACK_IO_6X],
  fadvise: [WRITEBACK_IO_6X, FADVISE_WB_6_1],
};

/**
 * linux-6.12: the O_DIRECT write's filemap_write_and_wait_range (kiocb_invalidate_pages →
 * filemap_invalidate_pages). Its punch_hole (flavors/linux-6.12/punch.ts) and the hugetlbfs
 * programs run no writeback step, and it has no fadvise.
 */
export const NOT_SEARCHED_6_12: Readonly<Record<string, readonly string[]>> = {
  ...NOT_SEARCHED_6X,
  odirect_write: [WRITEBACK_IO_6X],
};

/** `programs` with the texts of `notSearched` on the programs it names. */
export function withNotSearched(programs: Record<string, Program>, notSearched: Readonly<Record<string, readonly string[]>>): Record<string, Program> {
  return Object.fromEntries(
    Object.entries(programs).map(([name, p]) => [name, notSearched[name] ? { ...p, notSearched: [...(p.notSearched ?? []), ...notSearched[name]] } : p]),
  );
}
