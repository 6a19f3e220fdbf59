/**
 * LKMM marks of the 6.x page cache (the linux-6.1 and linux-6.12 flavors): which kernel
 * primitive each access is, for `explore --memory-model lkmm` (docs/memory-model.md). The
 * 2.6 ones are in marks.ts; the conventions (values, `under`, `addr`, ghosts) are the same.
 *
 * Sources: Debian's linux-source-6.1 (6.1.192) and linux-source-6.12 (6.12.x), cited
 * file:line of 6.1.192 unless a 6.12 line is given; where 6.12 differs it is said.
 *
 * The primitives, and why each is the one the code uses:
 * - xarray lookups (filemap_get_entry/mapping_get_entry, find_get_entry, next_uptodate_folio)
 *   run under rcu_read_lock() and load the slot with xa_entry() = rcu_dereference_check()
 *   (include/linux/xarray.h:1198): a READ_ONCE whose value is dereferenced (`addr`). No test
 *   derived here has a synchronize_rcu(), so the RCU read-side section orders nothing in
 *   the LKMM and is left out (exact, not an approximation). After the speculative reference
 *   the slot is loaded again (xas_reload, `folio != xas_reload(&xas)`): a second READ_ONCE.
 * - folio_try_get_rcu → folio_ref_try_add_rcu → folio_ref_add_unless(folio, 1, 0)
 *   (include/linux/page_ref.h:266-283) = atomic_add_unless: fully ordered when it succeeds;
 *   marked atomic_inc_return (fully ordered, value-returning; the derived test conditions on
 *   the value, which orders at least as much as the code's success test).
 * - folio_put / folio_put_refs / release_pages: folio_put_testzero = put_page_testzero =
 *   atomic_dec_and_test (include/linux/mm.h:778-787), fully ordered: atomic_dec_return.
 * - xarray stores under xa_lock (a spin lock: `under` the model's tree_lock word): xas_store
 *   → rcu_assign_pointer(*slot, entry) (lib/xarray.c:821), a store-release (the entry is no
 *   compile-time NULL); folio->mapping = NULL and mapping->nrpages -= nr are plain C
 *   (mm/filemap.c:143-145 page_cache_delete, 307-315 page_cache_delete_batch).
 * - folio flags: folio_test_X = test_bit, a READ_ONCE; folio_test_uptodate adds smp_rmb()
 *   when the bit is set (include/linux/page-flags.h:717-731); folio_mark_uptodate is
 *   smp_wmb(); set_bit (page-flags.h:745-754).
 * - folio_lock / folio_trylock = test_and_set_bit_lock (include/linux/pagemap.h:965-1005): an
 *   acquire; folio_unlock = clear_bit_unlock_is_negative_byte (mm/filemap.c:1547-1555): a
 *   release. Marked spin_lock / spin_unlock of the folio's lock word: acquire and release as
 *   the code, plus the lock's mutual exclusion, which PG_locked also gives.
 * - folio_mapped = atomic_read(&folio->_mapcount) >= 0 for a small folio (mm/util.c:731);
 *   page_add_file_rmap's atomic_inc_and_test(&page->_mapcount) (mm/rmap.c:1329) and
 *   page_remove_rmap → page_remove_file_rmap's atomic_add_negative(-1, &page->_mapcount) (mm/rmap.c:1370) are fully
 *   ordered value-returning RMWs.
 * - i_size_read / i_size_write on 64-bit: `return inode->i_size;` / `inode->i_size = i_size;`
 *   (include/linux/fs.h:872 and 894): plain C, as the kernel says.
 * - PTEs: `*vmf->pte` and zap_pte_range's `pte_t ptent = *pte` are plain C (mm/memory.c:4433,
 *   1420); set_pte_at → native_set_pte = WRITE_ONCE (arch/x86/include/asm/pgtable_64.h:67);
 *   ptep_get_and_clear_full → native_ptep_get_and_clear = xchg(&xp->pte, 0) on SMP
 *   (pgtable_64.h:94), fully ordered. The PTE lock is a spin lock.
 * - mapping->invalidate_lock, the inode's i_rwsem and mapping->i_mmap_rwsem are rw_semaphores;
 *   the LKMM has none (lock.cat knows spin locks only), so both sides become spin_lock /
 *   spin_unlock of one lock. Readers then exclude each other and order through the lock,
 *   which the code does not promise: that only removes executions and adds ordering, so a
 *   derived test still orders at least as much as the code (an LKMM-only outcome found on it
 *   is one the code has; a "never" is no proof), as for 2.6's tree_lock rwlock in marks.ts.
 *
 * linux-6.1's buffered read, buffered write, write fault, hole punch and fadvise (their
 * flavor files mark them; 6.1.192):
 * - filemap_read (mm/filemap.c:2725): the i_size test before filemap_get_pages (2756, plain;
 *   its own step, on every read; a retry after AOP_TRUNCATED_PAGE skips it), filemap_get_read_batch's
 *   speculative get (2444-2454), folio_test_uptodate (2685), filemap_update_page's
 *   invalidate_lock, folio_trylock that succeeds (2545), `!folio->mapping` (2564),
 *   filemap_range_uptodate's test (2511); after the pages, `isize = i_size_read(inode)` (2771)
 *   then smp_rmb() (2783: "pairs with a barrier in block_write_end()->mark_buffer_dirty()"),
 *   and folio_put (2832).
 * - the read I/O's completion (filemap_read_folio; filemap_fault's page_not_uptodate too):
 *   SetPageUptodate = folio_mark_uptodate: smp_wmb(); set_bit(PG_uptodate)
 *   (include/linux/page-flags.h:752-753), a set_bit after smp_wmb(); unlock_page (a release);
 *   ext4_mpage_readpages' i_size_read (fs/ext4/readpage.c:222, 266).
 * - the buffered write: i_rwsem (inode_lock, fs/ext4/file.c:279, 296: an rw_semaphore, see
 *   below); __filemap_get_folio's lookup (mm/filemap.c:1943), folio_lock (1959) and
 *   `folio->mapping != mapping` (1963); __block_commit_write's SetPageUptodate (fs/buffer.c:
 *   2081, as above); generic_write_end's `if (pos + copied > inode->i_size)` (plain C, fs/buffer.c:
 *   2167), i_size_write (2168), unlock_page, put_page (2172-2173).
 * - the write fault: handle_pte_fault's PTE lock (mm/memory.c:5040) and plain `*vmf->pte`
 *   (5041); wp_page_shared's get_page = folio_ref_inc = atomic_inc, unordered (3353), its
 *   pte_unmap_unlock (3358) and put_page (3362, 3376); do_shared_fault's unlock_page (4694);
 *   ext4_page_mkwrite's invalidate_lock (fs/ext4/inode.c:6319, 6434); block_page_mkwrite's
 *   lock_page, i_size_read and `page->mapping != inode->i_mapping` (fs/buffer.c:2495-2497);
 *   finish_mkwrite_fault's PTE lock and plain `*vmf->pte` (mm/memory.c:3310, 3316);
 *   wp_page_reuse's ptep_set_access_flags → set_pte → native_set_pte, a WRITE_ONCE
 *   (arch/x86/mm/pgtable.c:493, pgtable_64.h:67); fault_dirty_shared_page's unlock_page (3049).
 * - ext4_punch_hole: write-back of no dirty folio (the dirty-tag lookup finds none: a
 *   READ_ONCE of the tag word, as the O_DIRECT write's), inode_lock and invalidate_lock
 *   (fs/ext4/inode.c:4051, 4098, 4171, 4173); the unmap and truncate_inode_pages_range carry
 *   their own marks. generic_fadvise: the same write-back lookup (mm/fadvise.c:112) and the
 *   plain `endbyte != inode->i_size - 1` (130, read only when endbyte does not end a page).
 * - When a step also unlocks the folio it locked (filemap_update_page on a truncated or
 *   uptodate folio, __filemap_get_folio on a truncated one, block_page_mkwrite's -EFAULT) the
 *   step has no access of its own for the unlock, so its lock is left unmarked there
 *   (smp_mb() in a derived test, no test when shared): never a lock held to the test's end.
 *
 * Left unmarked in 6.1, and why (a pair that shares one of them with a store gets no test):
 * - the dirtying: set_page_dirty → block_dirty_folio's folio_test_set_dirty (fs/buffer.c:
 *   636) and mark_buffer_dirty's TestSetPageDirty (1102), fully ordered test-and-sets, each
 *   followed by __folio_mark_dirty's PAGECACHE_TAG_DIRTY under xa_lock (640), which the model
 *   folds into the flag: a test with the flag but without the tag store would let write-back's
 *   tag lookup read a tag no store of the test ever sets, an outcome the code may not have.
 * - page contents (`pfnN.data`): versions the model renumbers (data.ts), written by read I/O
 *   (DMA) as well as by copies; the disk and the block map (`M0.disk`: read I/O, write-back,
 *   ext4_truncate, ext4_ext_remove_space, the O_DIRECT write).
 * - the user load and store's page walk and access (kernel/load.ts, store.ts): the LKMM has
 *   no MMU, and a TLB may keep a translation until the flush IPI, which no primitive of the
 *   .def expresses (their floor and data generation are ghosts).
 * - the miss paths that allocate (filemap_create_folio, __filemap_get_folio(FGP_CREAT)): a
 *   pair with an allocation is never derived (the new folio's name depends on the run).
 * - a failed folio_trylock (lock_folio_maybe_drop_mmap's first try, mm/filemap.c:3066): a
 *   test_and_set_bit_lock that fails stores nothing, and a derived test cannot say so.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../ctx.js';
import { lk, r } from '../program.js';
import { NONE, PG } from '../state.js';
import { ghost, slotWord, treeLock } from './marks.js';

const slotValue = (pfn: number): number => (pfn === NONE ? 0 : pfn);

/** xas_load / xas_find of one slot under RCU: rcu_dereference, its folio dereferenced afterwards. */
export function xaLoad(c: Ctx, file: number, index: number, cite: string): Access {
  return lk(
    r(`${c.M(file)}.tree`),
    'READ_ONCE',
    slotValue(c.lookup(file, index)),
    `${cite}: xa_entry() is rcu_dereference_check() (include/linux/xarray.h:1198)`,
    { word: slotWord(c, file, index), addr: true },
  );
}

/** xas_reload(&xas) after the speculative reference: the slot loaded again. */
export function xaReload(c: Ctx, file: number, index: number, cite: string): Access {
  return lk(r(`${c.M(file)}.tree`), 'READ_ONCE', slotValue(c.lookup(file, index)), `${cite}: if (unlikely(folio != xas_reload(&xas)))`, {
    word: slotWord(c, file, index),
  });
}

/** folio_try_get_rcu(folio) that succeeds: atomic_add_unless(&folio->_refcount, 1, 0), fully ordered. */
export function folioTryGet(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'atomic_inc_return',
    c.page(pfn).refcount,
    `${cite}: folio_try_get_rcu() → folio_ref_add_unless() (include/linux/page_ref.h:280) is atomic_add_unless(), fully ordered on success`,
  );
}

/**
 * One speculative lookup of slot `index` (mapping_get_entry, find_get_entry): the slot load,
 * and for a folio the reference and the reload (mm/filemap.c:1881-1895, 2030-2049).
 */
export function speculativeGet(c: Ctx, file: number, index: number, refcount: Access | undefined, cite: string): Access[] {
  const pfn = c.lookup(file, index);
  const a = [xaLoad(c, file, index, cite)];
  if (pfn !== NONE && refcount !== undefined) a.push(folioTryGet(c, refcount, pfn, cite), xaReload(c, file, index, cite));
  return a;
}

/** How a kernel release loads a slot and takes a speculative reference (6.1's by default; linux-6.12's in marks612.ts). */
export interface XaLookup {
  load: (c: Ctx, file: number, index: number, cite: string) => Access;
  get: (c: Ctx, file: number, index: number, refcount: Access | undefined, cite: string) => Access[];
}

/**
 * xas_find from `from` to `to` (find_get_entry, filemap_map_pages' xas_next_entry): the
 * empty slots before the first folio and that folio's slot, each with its speculative get.
 * `pfns` are the folios the model's lookup returned (each gets a reference), in index order.
 */
export function xaFindMarks(
  c: Ctx,
  file: number,
  from: number,
  to: number,
  pfns: readonly number[],
  refcounts: readonly Access[],
  cite: string,
  kernel: XaLookup = { load: xaLoad, get: speculativeGet },
): Access[] {
  const cache = c.map(file).cache;
  const last = pfns.length > 0 ? c.page(pfns[pfns.length - 1]!).index : Math.min(to, cache.length - 1);
  const a: Access[] = [];
  let k = 0;
  for (let ix = from; ix <= last; ix++) {
    const pfn = c.lookup(file, ix);
    if (pfn !== NONE && pfns[k] === pfn) a.push(...kernel.get(c, file, ix, refcounts[k++], cite));
    else a.push(kernel.load(c, file, ix, cite));
  }
  // a search past the cache's last slot reads empty slots the model has no entry for: one word stands for them
  if (a.length === 0) a.push(lk(r(`${c.M(file)}.tree`), 'READ_ONCE', 0, `${cite}: xas_find() finds nothing`, { word: slotWord(c, file, from), addr: true }));
  return a;
}

/**
 * folio_put / folio_put_refs / release_pages on one folio: atomic_dec_and_test, fully ordered.
 * `earlier`: the puts of the same folio the step makes before this one (the count they leave).
 */
export function folioPut(c: Ctx, a: Access, pfn: number, cite: string, earlier = 0): Access {
  return lk(a, 'atomic_dec_return', c.page(pfn).refcount - earlier, `${cite}: folio_put_testzero() is atomic_dec_and_test() (include/linux/mm.h:784-787)`);
}

/** folio_lock / folio_trylock that takes the lock: test_and_set_bit_lock, an acquire. */
export function folioLock(a: Access, cite: string): Access {
  return lk(a, 'spin_lock', 0, `${cite}: test_and_set_bit_lock(PG_locked) (include/linux/pagemap.h:967), an acquire`);
}

/** folio_unlock: clear_bit_unlock_is_negative_byte, a release (mm/filemap.c:1553). */
export function folioUnlock(a: Access, cite: string): Access {
  return lk(a, 'spin_unlock', 0, `${cite}: folio_unlock() is clear_bit_unlock_is_negative_byte() (mm/filemap.c:1553), a release`);
}

/** folio_test_X(folio): test_bit, a READ_ONCE; folio_test_uptodate adds smp_rmb() when the bit is set. */
export function folioFlag(c: Ctx, a: Access, pfn: number, flag: keyof typeof PG, cite: string): Access {
  const set = (c.page(pfn).flags & PG[flag]) !== 0;
  const rmb = flag === 'uptodate' && set;
  return lk(
    a,
    'READ_ONCE',
    set ? 1 : 0,
    `${cite}: folio_test_${flag}() is test_bit()${rmb ? ', then smp_rmb() (include/linux/page-flags.h:728-729)' : ''}`,
    rmb ? { after: ['smp_rmb'] } : {},
  );
}

/**
 * A flag the model's step clears that the code only tests on this path (folio_cancel_dirty:
 * `if (folio_test_dirty(folio))`, folio_has_private): a READ_ONCE when the bit is clear;
 * when it is set the code stores, left unmarked (smp_mb() in a derived test).
 */
export function flagTestOrStore(c: Ctx, a: Access, pfn: number, flag: keyof typeof PG, cite: string): Access {
  return (c.page(pfn).flags & PG[flag]) !== 0 ? a : lk(a, 'READ_ONCE', 0, `${cite}: the bit is clear, so the code only tests it (test_bit)`);
}

/** folio_mapped(folio) of a small folio: atomic_read(&folio->_mapcount) (mm/util.c:731). */
export function folioMapped(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(a, 'atomic_read', c.page(pfn).mapcount, `${cite}: folio_mapped() is atomic_read(&folio->_mapcount) (mm/util.c:731)`);
}

/** folio->mapping read as plain C (value: file id + 1, 0 for NULL). */
export function folioMapping(c: Ctx, a: Access, pfn: number, cite: string): Access {
  const m = c.page(pfn).mapping;
  return lk(a, 'plain-read', m === NONE ? 0 : m + 1, `${cite}: folio->mapping (plain C)`);
}

/** i_size_read (64-bit: plain, include/linux/fs.h:872) or a direct inode->i_size read. */
export function iSizeRead(c: Ctx, a: Access, file: number, cite: string): Access {
  return lk(a, 'plain-read', c.map(file).isize, `${cite} (i_size_read on 64-bit is \`return inode->i_size;\`, include/linux/fs.h:872)`);
}

/** i_size_write on 64-bit: `inode->i_size = i_size;` (include/linux/fs.h:894). */
export function iSizeWrite(a: Access, size: number, cite: string): Access {
  return lk(a, 'plain-write', size, `${cite} (i_size_write on 64-bit is \`inode->i_size = i_size;\`, include/linux/fs.h:894)`);
}

/** A rw_semaphore (invalidate_lock, i_rwsem, i_mmap_rwsem) taken, read or write side: a spin lock (see the header). */
export function rwsemLock(a: Access, cite: string): Access {
  return lk(a, 'spin_lock', 0, `${cite}: an rw_semaphore; the LKMM has none, so a spin lock (excludes and orders more than the code)`);
}

export function rwsemUnlock(a: Access, cite: string): Access {
  return lk(a, 'spin_unlock', 0, `${cite}: an rw_semaphore released (a spin lock, see rwsemLock)`);
}

/**
 * page_cache_delete (filemap_remove_folio: xas_store, then folio->mapping = NULL, then
 * nrpages; mm/filemap.c:140-145) or page_cache_delete_batch (folio->mapping = NULL, then
 * xas_store, nrpages after the loop; mm/filemap.c:307-315), all under xa_lock.
 */
export function deleteMarks(c: Ctx, acc: readonly Access[], pfn: number, batch: boolean): Access[] {
  const p = c.page(pfn);
  const cite = batch ? 'mm/filemap.c page_cache_delete_batch() 6.1.192' : 'mm/filemap.c page_cache_delete() 6.1.192';
  if (p.mapping === NONE) return acc.map((a) => folioMapping(c, a, pfn, cite));
  const L = treeLock(c, p.mapping);
  const slot = (a: Access) =>
    lk(a, 'smp_store_release', 0, `${cite}: xas_store() → rcu_assign_pointer(*slot, entry) (lib/xarray.c:821)`, {
      word: slotWord(c, p.mapping, p.index),
      under: L,
    });
  const mapping = (a: Access) => lk(a, 'plain-write', 0, `${cite}: folio->mapping = NULL`, { under: L });
  const nrpages = (a: Access) => lk(a, 'plain-dec', c.map(p.mapping).nrpages, `${cite}: mapping->nrpages -= nr`, { under: L });
  const byLoc = new Map<string, (a: Access) => Access>([
    [`${c.M(p.mapping)}.tree`, slot],
    [`${c.P(pfn)}.mapping`, mapping],
    [`${c.M(p.mapping)}.nrpages`, nrpages],
  ]);
  const order = batch
    ? [`${c.P(pfn)}.mapping`, `${c.M(p.mapping)}.tree`, `${c.M(p.mapping)}.nrpages`]
    : [`${c.M(p.mapping)}.tree`, `${c.P(pfn)}.mapping`, `${c.M(p.mapping)}.nrpages`];
  const marked = order.map((loc) => byLoc.get(loc)!(acc.find((a) => a.loc === loc)!));
  const rest = acc.filter((a) => !byLoc.has(a.loc)).map((a) => ghost(a, 'the mapped-page-removed judgement (the kernel reads no mapcount here)'));
  return [...marked, ...rest];
}
