/**
 * LKMM marks of the 2.6-era page cache (2.6.15, the seed, 2.6.23): which kernel primitive
 * each page-cache access is, for `explore --memory-model lkmm` (docs/memory-model.md).
 *
 * Sources: 2.6.23.17 (mm/filemap.c, mm/memory.c, mm/truncate.c, cited file:line) and, for
 * 2.6.15, the same functions by name (2.6.15's tree is not on this machine; where its code
 * is the same as 2.6.23.17's, the 2.6.23.17 line is cited). Values are the model's: a tree
 * slot or a PTE holds a pfn (0 = empty), page->mapping the file's id + 1 (0 = NULL), a flag
 * 0 or 1, a count the model's count.
 *
 * The primitives, and why each is the one the code uses:
 * - `tree_lock` is an rwlock (find_get_page: read_lock_irq; __remove_from_page_cache,
 *   add_to_page_cache: write_lock_irq). The LKMM has no rwlocks (lock.cat knows spin locks
 *   only), so both sides become spin_lock/spin_unlock of one lock: readers then exclude each
 *   other and order through the lock, which the code does not promise. That only removes
 *   executions and adds ordering, so a derived test still orders at least as much as the code.
 * - the slot itself is a plain load or store under that lock (radix_tree_lookup, radix_tree_delete);
 *   the page it holds is dereferenced afterwards (`addr`: an address dependency).
 * - page_cache_get = get_page = atomic_inc(&page->_count); page_cache_release = put_page:
 *   put_page_testzero = atomic_dec_and_test, fully ordered (Documentation/atomic_ops.txt).
 * - PageUptodate = test_bit on a volatile word (x86-64: constant_test_bit), a READ_ONCE;
 *   SetPageUptodate/ClearPageUptodate = set_bit/clear_bit, unordered atomic RMWs (the smp_wmb()
 *   in SetPageUptodate came in 2.6.25, after these kernels).
 * - lock_page = TestSetPageLocked (test_and_set_bit, fully ordered), unlock_page =
 *   smp_mb__before_clear_bit(); TestClearPageLocked (2.6.23.17 mm/filemap.c:538-541): a spin
 *   lock with smp_mb() on both sides (at least what a fully ordered RMW orders).
 * - page->mapping, mapping->nrpages, the PTE (`entry = *pte`, set_pte_at, pte_clear): plain C.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../ctx.js';
import { lk, r, w, type StepDef } from '../program.js';
import { NONE, PG } from '../state.js';

const V215 = '2.6.15';

/** The litmus word of one tree slot. */
export const slotWord = (c: Ctx, file: number, index: number): string => `${c.M(file)}.tree[${index}]`;
export const treeLock = (c: Ctx, file: number): string => `${c.M(file)}.tree_lock`;
const slotValue = (pfn: number): number => (pfn === NONE ? 0 : pfn);

/** radix_tree_lookup() of one slot under tree_lock (read), the page dereferenced afterwards. */
export function slotRead(c: Ctx, file: number, index: number, cite: string): Access {
  return lk(r(`${c.M(file)}.tree`), 'plain-read', slotValue(c.lookup(file, index)), cite, {
    word: slotWord(c, file, index),
    under: treeLock(c, file),
    addr: true,
  });
}

/** page_cache_get(page) under tree_lock (find_get_page, pagevec_lookup). */
export function getPageLocked(c: Ctx, file: number, pfn: number, cite: string): Access {
  return lk(w(`${c.P(pfn)}.refcount`), 'atomic_inc', c.page(pfn).refcount, cite, { under: treeLock(c, file) });
}

/** page_cache_release(page) = put_page(): atomic_dec_and_test, fully ordered. */
export function putPage(c: Ctx, pfn: number, cite: string): Access {
  return lk(w(`${c.P(pfn)}.refcount`), 'atomic_dec_return', c.page(pfn).refcount, `${cite}: put_page_testzero() is atomic_dec_and_test()`);
}

/** find_get_page(mapping, index): read_lock_irq; radix_tree_lookup; page_cache_get; read_unlock_irq (2.6.23.17 mm/filemap.c:600-609, 2.6.15 the same). */
export function findGetPageMarks(c: Ctx, file: number, index: number): Access[] {
  const cite = `mm/filemap.c find_get_page() ${V215} (2.6.23.17 mm/filemap.c:604-607)`;
  const pfn = c.lookup(file, index);
  const a = [slotRead(c, file, index, `${cite}: radix_tree_lookup() under read_lock_irq(&mapping->tree_lock)`)];
  if (pfn !== NONE) a.push(getPageLocked(c, file, pfn, `${cite}: page_cache_get(page)`));
  return a;
}

/**
 * pagevec_lookup → find_get_pages (2.6.23.17 mm/filemap.c:713-729): under read_lock_irq,
 * radix_tree_gang_lookup from `from`, page_cache_get on each page found. The slots read are
 * those from `from` to the last page returned (or to `to` when fewer than `max` are found).
 */
export function gangLookupMarks(c: Ctx, file: number, from: number, to: number, pfns: readonly number[], max: number): Access[] {
  const cite = `mm/filemap.c find_get_pages() ${V215} (2.6.23.17 mm/filemap.c:719-724)`;
  const cache = c.map(file).cache;
  const last = pfns.length >= max ? c.page(pfns[pfns.length - 1]!).index : Math.min(to, cache.length - 1);
  const a: Access[] = [];
  for (let ix = from; ix <= last; ix++) a.push(slotRead(c, file, ix, `${cite}: radix_tree_gang_lookup()`));
  // a lookup past the cache's last slot reads empty slots the model has no entry for: one word stands for them
  if (a.length === 0)
    a.push(
      lk(r(`${c.M(file)}.tree`), 'plain-read', 0, `${cite}: radix_tree_gang_lookup() finds nothing`, {
        word: slotWord(c, file, from),
        under: treeLock(c, file),
        addr: true,
      }),
    );
  for (const p of pfns) a.push(getPageLocked(c, file, p, `${cite}: page_cache_get(pages[i])`));
  return a;
}

/** __remove_from_page_cache under write_lock_irq(&mapping->tree_lock) (2.6.23.17 mm/filemap.c:115-121, 2.6.15 the same). */
export function removeMarks(c: Ctx, pfn: number, mapcountCite?: string): Access[] {
  const p = c.page(pfn);
  const cite = `mm/filemap.c __remove_from_page_cache() ${V215} (2.6.23.17 mm/filemap.c:119-121)`;
  if (p.mapping === NONE) return [lk(r(`${c.P(pfn)}.mapping`), 'plain-read', 0, `${cite}: page->mapping`)];
  const L = treeLock(c, p.mapping);
  return [
    lk(w(`${c.M(p.mapping)}.tree`), 'plain-write', 0, `${cite}: radix_tree_delete(&mapping->page_tree, page->index)`, {
      word: slotWord(c, p.mapping, p.index),
      under: L,
    }),
    lk(w(`${c.M(p.mapping)}.nrpages`), 'plain-dec', c.map(p.mapping).nrpages, `${cite}: mapping->nrpages--`, { under: L }),
    lk(w(`${c.P(pfn)}.mapping`), 'plain-write', 0, `${cite}: page->mapping = NULL`, { under: L }),
    mapcountCite === undefined
      ? ghost(r(`${c.P(pfn)}.mapcount`), 'the mapped-page-removed judgement (the kernel reads no mapcount here)')
      : lk(r(`${c.P(pfn)}.mapcount`), 'atomic_read', c.page(pfn).mapcount, mapcountCite, { under: L }),
  ];
}

/** An access the model makes that is no kernel memory access (a judgement's read, a lock carried by `under`). */
export function ghost(a: Access, why: string): Access {
  return lk(a, 'ghost', 0, why);
}

/** page->mapping read as plain C (value: file id + 1, 0 for NULL). */
export function mappingRead(c: Ctx, pfn: number, cite: string): Access {
  const m = c.page(pfn).mapping;
  return lk(r(`${c.P(pfn)}.mapping`), 'plain-read', m === NONE ? 0 : m + 1, cite);
}

/** PageUptodate / PageDirty / PageWriteback: test_bit, a volatile load (include/asm-x86_64/bitops.h test_bit 2.6.15). */
export function flagRead(c: Ctx, pfn: number, flag: keyof typeof PG, cite: string): Access {
  return lk(r(`${c.P(pfn)}.flags.${flag}`), 'READ_ONCE', (c.page(pfn).flags & PG[flag]) !== 0 ? 1 : 0, `${cite}: test_bit(PG_${flag}) is a volatile load`);
}

/** SetPageX / ClearPageX: set_bit / clear_bit, unordered atomic RMWs (value: the bit before). */
export function flagWrite(c: Ctx, pfn: number, flag: keyof typeof PG, set: boolean, cite: string): Access {
  return lk(w(`${c.P(pfn)}.flags.${flag}`), set ? 'set_bit' : 'clear_bit', (c.page(pfn).flags & PG[flag]) !== 0 ? 1 : 0, cite);
}

/** lock_page / TestSetPageLocked that succeeds: test_and_set_bit, fully ordered. */
export function pageLockMark(a: Access, cite: string): Access {
  return lk(a, 'spin_lock', 0, `${cite}: TestSetPageLocked() is test_and_set_bit(), fully ordered`, { before: ['smp_mb'], after: ['smp_mb'] });
}

/** unlock_page: smp_mb__before_clear_bit(); TestClearPageLocked() (2.6.23.17 mm/filemap.c:540-541). */
export function pageUnlockMark(a: Access, cite: string): Access {
  return lk(a, 'spin_unlock', 0, `${cite}: unlock_page(): smp_mb__before_clear_bit(); TestClearPageLocked() (2.6.23.17 mm/filemap.c:540-541)`, {
    before: ['smp_mb'],
    after: ['smp_mb'],
  });
}

/** A PTE read or written as plain C (value: the pfn it maps, 0 = none). */
export function pteMark(a: Access, pfn: number, cite: string): Access {
  return lk(a, a.mode === 'read' ? 'plain-read' : 'plain-write', pfn === NONE ? 0 : pfn, cite);
}

/** The same step with each declared access marked by `mark` (a flavor marks a shared building block its own way). */
export function marked(step: StepDef, mark: (c: Ctx, a: Access) => Access): StepDef {
  const acc = step.acc;
  return acc === undefined ? step : { ...step, acc: (c) => acc(c).map((a) => mark(c, a)) };
}

/**
 * A declared access the path does not make (a step declares what every branch of it may
 * touch, for the explorer): no kernel access on this path.
 */
export function notOnThisPath(a: Access, why: string): Access {
  return ghost(a, `not made on this path: ${why}`);
}
