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
 *   page_remove_rmap's atomic_add_negative(-1, &page->_mapcount) (mm/rmap.c:1443) are fully
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
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../ctx.js';
import { lk, r } from '../program.js';
import { NONE, PG } from '../state.js';
import { ghost, slotWord, treeLock } from './marks.js';

const slotValue = (pfn: number): number => (pfn === NONE ? 0 : pfn);

/** xas_load / xas_find of one slot under RCU: rcu_dereference, its folio dereferenced afterwards. */
export function xaLoad(c: Ctx, file: number, index: number, cite: string): Access {
  return lk(r(`${c.M(file)}.tree`), 'READ_ONCE', slotValue(c.lookup(file, index)), `${cite}: xa_entry() is rcu_dereference_check() (include/linux/xarray.h:1198)`, { word: slotWord(c, file, index), addr: true });
}

/** xas_reload(&xas) after the speculative reference: the slot loaded again. */
export function xaReload(c: Ctx, file: number, index: number, cite: string): Access {
  return lk(r(`${c.M(file)}.tree`), 'READ_ONCE', slotValue(c.lookup(file, index)), `${cite}: if (unlikely(folio != xas_reload(&xas)))`, { word: slotWord(c, file, index) });
}

/** folio_try_get_rcu(folio) that succeeds: atomic_add_unless(&folio->_refcount, 1, 0), fully ordered. */
export function folioTryGet(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(a, 'atomic_inc_return', c.page(pfn).refcount, `${cite}: folio_try_get_rcu() → folio_ref_add_unless() (include/linux/page_ref.h:280) is atomic_add_unless(), fully ordered on success`);
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
export function xaFindMarks(c: Ctx, file: number, from: number, to: number, pfns: readonly number[], refcounts: readonly Access[], cite: string,
  kernel: XaLookup = { load: xaLoad, get: speculativeGet }): Access[] {
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

/** folio_put / folio_put_refs / release_pages on one folio: atomic_dec_and_test, fully ordered. */
export function folioPut(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(a, 'atomic_dec_return', c.page(pfn).refcount, `${cite}: folio_put_testzero() is atomic_dec_and_test() (include/linux/mm.h:784-787)`);
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
  return lk(a, 'READ_ONCE', set ? 1 : 0, `${cite}: folio_test_${flag}() is test_bit()${rmb ? ', then smp_rmb() (include/linux/page-flags.h:728-729)' : ''}`, rmb ? { after: ['smp_rmb'] } : {});
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
  const slot = (a: Access) => lk(a, 'smp_store_release', 0, `${cite}: xas_store() → rcu_assign_pointer(*slot, entry) (lib/xarray.c:821)`, { word: slotWord(c, p.mapping, p.index), under: L });
  const mapping = (a: Access) => lk(a, 'plain-write', 0, `${cite}: folio->mapping = NULL`, { under: L });
  const nrpages = (a: Access) => lk(a, 'plain-dec', c.map(p.mapping).nrpages, `${cite}: mapping->nrpages -= nr`, { under: L });
  const byLoc = new Map<string, (a: Access) => Access>([
    [`${c.M(p.mapping)}.tree`, slot], [`${c.P(pfn)}.mapping`, mapping], [`${c.M(p.mapping)}.nrpages`, nrpages],
  ]);
  const order = batch ? [`${c.P(pfn)}.mapping`, `${c.M(p.mapping)}.tree`, `${c.M(p.mapping)}.nrpages`] : [`${c.M(p.mapping)}.tree`, `${c.P(pfn)}.mapping`, `${c.M(p.mapping)}.nrpages`];
  const marked = order.map((loc) => byLoc.get(loc)!(acc.find((a) => a.loc === loc)!));
  const rest = acc.filter((a) => !byLoc.has(a.loc)).map((a) => ghost(a, 'the mapped-page-removed judgement (the kernel reads no mapcount here)'));
  return [...marked, ...rest];
}
