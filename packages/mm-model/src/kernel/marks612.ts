/**
 * LKMM marks of linux-6.12's own procedures (the linux-6.12 flavor: its fault, fault-around,
 * unmap and truncate), for `explore --memory-model lkmm` (docs/memory-model.md). The
 * conventions are marks.ts's and marks6.ts's; where 6.12 makes an access with the same
 * primitive as 6.1, marks6.ts's helper is used and the 6.12 line is cited.
 *
 * Source: Debian's linux-source-6.12 6.12.118-1~deb12u1 (the package installed here; the
 * flavor's `where` lines were taken from 6.12.117 and may differ by a few lines), cited
 * file:line of 6.12.118.
 *
 * What differs from 6.1, and so is marked here:
 * - i_size_read / i_size_write on 64-bit are smp_load_acquire / smp_store_release
 *   (include/linux/fs.h:969, 996) — plain C in 6.1.192. Every i_size access of a 6.12 step
 *   (filemap_fault's two checks, finish_fault's file_end, filemap_map_pages' file_end and
 *   next_uptodate_folio's max_idx, split_folio's end, ext4_setattr's i_size_write) is marked
 *   so; ext4_setattr's direct `inode->i_size` reads stay plain (fs/ext4/inode.c:5523, 5575).
 * - folio_try_get (no _rcu) = folio_ref_add_unless(folio, 1, 0) → page_ref_add_unless
 *   (include/linux/page_ref.h:231-244, 262-265): `page_ref_count(page) != u` (an atomic_read),
 *   then atomic_add_unless, fully ordered when it succeeds. Marked as both: an atomic_read and
 *   an atomic_inc_return of the refcount (the second access is declared again in the step: the
 *   explorer's footprint is unchanged, it already writes the refcount).
 * - PTE loads are ptep_get() = READ_ONCE(*ptep) (include/linux/pgtable.h:317-320), and
 *   handle_pte_fault's is ptep_get_lockless() = ptep_get() on x86-64 (pgtable.h:587-590);
 *   6.1 read `*pte` plainly.
 * - The PMD: handle_pte_fault's `pmd_none(*vmf->pmd)` (mm/memory.c:5769), finish_fault's
 *   (5131), zap_pmd_range's (1714, 1733) and filemap_map_pmd's (3473, 3479, 3489) are plain C;
 *   pte_offset_map_lock loads it with pmdp_get_lockless() = READ_ONCE (mm/pgtable-generic.c:289)
 *   before the spin lock and again after it (376: `pmd_same(pmdval, pmdp_get_lockless(pmd))`);
 *   pmd_install (mm/memory.c:421-445) takes pmd_lock, tests pmd_none(*pmd), then smp_wmb() and
 *   pmd_populate → native_set_pmd = WRITE_ONCE (arch/x86/include/asm/pgtable_64.h:81-84).
 *   Values of the PMD word: 0 = pmd_none, 1 = a PTE table, 2 + pfn = a huge PMD of that folio.
 *   pmd_lock is a spin lock the model folds into the step: carried by `under`.
 * - rmap: folio_add_file_rmap_ptes / folio_remove_rmap_ptes on a small folio are
 *   atomic_inc_and_test / atomic_add_negative(-1) on folio->_mapcount (mm/rmap.c:1172, 1543),
 *   fully ordered, as 6.1's page_add_file_rmap / page_remove_rmap; folio_mapped is
 *   folio_mapcount() >= 1 = atomic_read(&folio->_mapcount) + 1 (include/linux/mm.h:1244, 1258).
 *   A large folio's rmap (per-page _mapcount, _large_mapcount, _nr_pages_mapped, three RMWs
 *   the model folds into one `mapcount`) is not marked: a pair sharing it gets no test.
 * - fault-around keeps no reference for the PTEs it installs the way 6.1 did: it takes one per
 *   PTE (folio_ref_inc = atomic_inc, mm/filemap.c:3630, unordered) and drops its lookup's
 *   (folio_put = atomic_dec_and_test, 3705).
 *
 * Approximations (each orders at least as much as the code): the rw_semaphores become spin
 * locks (marks6.ts); an address dependency becomes smp_rmb(). The zap's folio reference is put
 * after the PTE lock, by tlb_finish_mmu → folios_put_refs (kernel/gather.ts, folioPutRefs612:
 * atomic_sub_and_test of 1, mm/swap.c:968). Left out, with the reason in each
 * mark: pte_offset_map_nolock's READ_ONCE of a PMD that is already a table in
 * handle_pte_fault (the model reads the PTE only; a table's PMD never changes in the model, so
 * that load reads the one write of it in every execution), and finish_fault's
 * folio_ref_add(folio, nr_pages - 1) for one page (an unordered atomic_add of 0 the model
 * does not declare).
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../ctx.js';
import { lk, r, type Proc, type StepDef } from '../program.js';
import { NONE, PMD_TABLE } from '../state.js';
import { notOnThisPath, slotWord } from './marks.js';
import { xaFindMarks, xaReload } from './marks6.js';
import { PG } from '../state.js';

export const V612 = '6.12.118';

const slotValue = (pfn: number): number => (pfn === NONE ? 0 : pfn);

/** xas_load / xas_find of one slot under RCU: xa_entry() = rcu_dereference_check() (include/linux/xarray.h:1220), the folio dereferenced afterwards. */
export function xaLoad612(c: Ctx, file: number, index: number, cite: string): Access {
  return lk(
    r(`${c.M(file)}.tree`),
    'READ_ONCE',
    slotValue(c.lookup(file, index)),
    `${cite}: xa_entry() is rcu_dereference_check() (include/linux/xarray.h:1220 ${V612})`,
    { word: slotWord(c, file, index), addr: true },
  );
}

/** folio_lock / folio_trylock that takes the lock: test_and_set_bit_lock(PG_locked), an acquire (include/linux/pagemap.h:1121). */
export function folioLock612(a: Access, cite: string): Access {
  return lk(a, 'spin_lock', 0, `${cite}: test_and_set_bit_lock(PG_locked) (include/linux/pagemap.h:1121 ${V612}), an acquire`);
}

/** folio_unlock: folio_xor_flags_has_waiters() → xor_unlock_is_negative_byte(), a release (mm/filemap.c:1513). */
export function folioUnlock612(a: Access, cite: string): Access {
  return lk(a, 'spin_unlock', 0, `${cite}: folio_unlock() → folio_xor_flags_has_waiters() (mm/filemap.c:1513 ${V612}), a release`);
}

/** folio_test_X(folio): test_bit, a READ_ONCE; folio_test_uptodate adds smp_rmb() when the bit is set (include/linux/page-flags.h:770-780). */
export function folioFlag612(c: Ctx, a: Access, pfn: number, flag: keyof typeof PG, cite: string): Access {
  const set = (c.page(pfn).flags & PG[flag]) !== 0;
  const rmb = flag === 'uptodate' && set;
  return lk(
    a,
    'READ_ONCE',
    set ? 1 : 0,
    `${cite}: folio_test_${flag}() is test_bit()${rmb ? `, then smp_rmb() (include/linux/page-flags.h:770-780 ${V612})` : ''}`,
    rmb ? { after: ['smp_rmb'] } : {},
  );
}

/** The value of a PMD word in a derived test: 0 none, 1 a PTE table, 2 + pfn a huge PMD. */
export function pmdValue(pmd: number): number {
  if (pmd === NONE) return 0;
  return pmd === PMD_TABLE ? 1 : 2 + pmd;
}

/** pmd_lock(mm, pmd): the spin lock of one PMD (the model folds it into the step: `under`). */
export const pmdLockWord = (pmdLoc: string): string => `${pmdLoc}.pmd_lock`;

/** i_size_read on 64-bit: smp_load_acquire(&inode->i_size) (include/linux/fs.h:969). */
export function iSizeRead612(c: Ctx, a: Access, file: number, cite: string): Access {
  return lk(a, 'smp_load_acquire', c.map(file).isize, `${cite} (i_size_read on 64-bit is smp_load_acquire(&inode->i_size), include/linux/fs.h:969 ${V612})`);
}

/** i_size_write on 64-bit: smp_store_release(&inode->i_size, i_size) (include/linux/fs.h:996). */
export function iSizeWrite612(a: Access, size: number, cite: string): Access {
  return lk(a, 'smp_store_release', size, `${cite} (i_size_write on 64-bit is smp_store_release(&inode->i_size, i_size), include/linux/fs.h:996 ${V612})`);
}

/** A direct `inode->i_size` read (plain C). */
export function iSizePlain612(c: Ctx, a: Access, file: number, cite: string): Access {
  return lk(a, 'plain-read', c.map(file).isize, `${cite}: inode->i_size (plain C)`);
}

/**
 * folio_try_get(folio) that succeeds: page_ref_add_unless() reads the count
 * (page_ref_count(page) != u: atomic_read), then atomic_add_unless(), fully ordered on
 * success (include/linux/page_ref.h:236-237, 262-265). `a` is the step's refcount access.
 */
export function folioTryGet612(c: Ctx, a: Access, pfn: number, cite: string): Access[] {
  const v = c.page(pfn).refcount;
  return [
    lk(
      { loc: a.loc, mode: 'read' },
      'atomic_read',
      v,
      `${cite}: folio_try_get() → page_ref_add_unless(): page_ref_count(page) != u (include/linux/page_ref.h:236), atomic_read()`,
    ),
    lk(
      a,
      'atomic_inc_return',
      v,
      `${cite}: folio_try_get() → atomic_add_unless(&page->_refcount, 1, 0) (include/linux/page_ref.h:237), fully ordered on success`,
    ),
  ];
}

/** folio_put(folio): folio_put_testzero() → page_ref_dec_and_test() = atomic_dec_and_test (include/linux/mm.h:1475-1478, 1138-1146). */
export function folioPut612(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'atomic_dec_return',
    c.page(pfn).refcount,
    `${cite}: folio_put() → folio_put_testzero() is atomic_dec_and_test() (include/linux/mm.h:1477, 1141 ${V612}), fully ordered`,
  );
}

/** folio_batch_release() → folios_put() → folios_put_refs(): folio_ref_sub_and_test(folio, 1) = atomic_sub_and_test, fully ordered (mm/swap.c:968, include/linux/page_ref.h:177). */
export function folioBatchPut612(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'atomic_dec_return',
    c.page(pfn).refcount,
    `${cite}: folio_batch_release() → folios_put_refs(): folio_ref_sub_and_test() (mm/swap.c:968, include/linux/page_ref.h:177 ${V612}), fully ordered`,
  );
}

/** The mmu_gather's put of one small folio (nr_refs 1): folios_put_refs()' folio_ref_sub_and_test() = atomic_sub_and_test, fully ordered (mm/swap.c:968, include/linux/page_ref.h:177). */
export function folioPutRefs612(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'atomic_dec_return',
    c.page(pfn).refcount,
    `${cite}: folios_put_refs(): folio_ref_sub_and_test(folio, nr_refs) (mm/swap.c:968) = atomic_sub_and_test() (include/linux/page_ref.h:177 ${V612}), fully ordered`,
  );
}

/**
 * One speculative lookup of slot `index` (filemap_get_entry, mm/filemap.c:1846-1859; or
 * find_get_entry, 2007-2024): xas_load/xas_find (xa_entry() = rcu_dereference_check(),
 * include/linux/xarray.h:1220), and for a folio folio_try_get and xas_reload. `refcount`: the
 * step's refcount access. An index past the cache (the model has no slot there) reads one
 * word of its own, empty.
 */
export function getEntry612(c: Ctx, file: number, index: number, refcount: Access | undefined, cite: string): Access[] {
  const cache = c.map(file).cache;
  if (index >= cache.length)
    return [lk(r(`${c.M(file)}.tree`), 'READ_ONCE', 0, `${cite}: xas_load() finds nothing`, { word: slotWord(c, file, index), addr: true })];
  const pfn = c.lookup(file, index);
  const a = [xaLoad612(c, file, index, cite)];
  if (pfn !== NONE && refcount !== undefined) a.push(...folioTryGet612(c, refcount, pfn, cite), xaReload(c, file, index, cite));
  return a;
}

/**
 * xas_find from `from` to `to` with a speculative get of each folio returned (find_get_entry
 * in find_lock_entries / find_get_entries, mm/filemap.c:2007-2024): marks6.ts's walk with
 * 6.12's slot load and folio_try_get.
 */
export function xaFind612(c: Ctx, file: number, from: number, to: number, pfns: readonly number[], refcounts: readonly Access[], cite: string): Access[] {
  return xaFindMarks(c, file, from, to, pfns, refcounts, cite, { load: xaLoad612, get: getEntry612 });
}

/** A PTE load: ptep_get() = READ_ONCE(*ptep) (include/linux/pgtable.h:319). Value: the pfn it maps, 0 none. */
export function pteGet612(a: Access, pfn: number, cite: string): Access {
  return lk(a, 'READ_ONCE', pfn === NONE ? 0 : pfn, `${cite}: ptep_get() is READ_ONCE(*ptep) (include/linux/pgtable.h:319 ${V612})`);
}

/** set_pte_range() → set_ptes() → native_set_pte(): WRITE_ONCE(*ptep, pte) (arch/x86/include/asm/pgtable_64.h:67). */
export function pteSet612(a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'WRITE_ONCE',
    pfn,
    `${cite}: set_ptes() → native_set_pte(): WRITE_ONCE(*ptep, pte) (include/linux/pgtable.h:274, arch/x86/include/asm/pgtable_64.h:67 ${V612})`,
  );
}

/** A plain C load of the PMD (`pmd_none(*vmf->pmd)`, zap_pmd_range's tests). */
export function pmdPlain612(a: Access, pmd: number, cite: string, under?: string): Access {
  return lk({ loc: a.loc, mode: 'read' }, 'plain-read', pmdValue(pmd), `${cite} (plain C)`, under === undefined ? {} : { under });
}

/**
 * pte_offset_map_lock(mm, pmd, addr, &ptl) that maps a table (mm/pgtable-generic.c:364-382):
 * pmdp_get_lockless() (READ_ONCE, 289), spin_lock(ptl) (375), pmdp_get_lockless() again
 * (376). `pmd` is the step's PMD read, `lock` its PTE-lock acquire.
 */
export function pteOffsetMapLock612(pmd: Access, lock: Access, cite: string): Access[] {
  const C = `${cite}: pte_offset_map_lock() → __pte_offset_map_lock()`;
  return [
    lk(
      { loc: pmd.loc, mode: 'read' },
      'READ_ONCE',
      1,
      `${C} → __pte_offset_map(): pmdval = pmdp_get_lockless(pmd), READ_ONCE (mm/pgtable-generic.c:289 ${V612})`,
    ),
    lk(lock, 'spin_lock', 0, `${C}: spin_lock(ptl) (mm/pgtable-generic.c:375 ${V612})`),
    lk({ loc: pmd.loc, mode: 'read' }, 'READ_ONCE', 1, `${C}: if (likely(pmd_same(pmdval, pmdp_get_lockless(pmd)))) (mm/pgtable-generic.c:376 ${V612})`),
  ];
}

/** pte_offset_map_lock() on a PMD that is no table: __pte_offset_map() loads it once and returns NULL (mm/pgtable-generic.c:289-305). */
export function pteOffsetMapNone612(pmd: Access, value: number, cite: string): Access {
  return lk(
    { loc: pmd.loc, mode: 'read' },
    'READ_ONCE',
    pmdValue(value),
    `${cite}: pte_offset_map_lock() → __pte_offset_map(): pmdp_get_lockless(pmd) (mm/pgtable-generic.c:289 ${V612}) is no table: NULL`,
  );
}

/**
 * pmd_install(mm, pmd, &prealloc_pte) installing a table (mm/memory.c:421-445): under
 * pmd_lock, `if (likely(pmd_none(*pmd)))` (plain), smp_wmb(), pmd_populate() →
 * native_set_pmd(): WRITE_ONCE (arch/x86/include/asm/pgtable_64.h:83). `w` is the step's PMD write.
 */
export function pmdInstall612(w: Access, cite: string): Access[] {
  const under = pmdLockWord(w.loc);
  const C = `${cite}: pmd_install()`;
  return [
    lk({ loc: w.loc, mode: 'read' }, 'plain-read', 0, `${C}: ptl = pmd_lock(mm, pmd); if (likely(pmd_none(*pmd))) (mm/memory.c:423-425 ${V612}, plain C)`, {
      under,
    }),
    lk(
      w,
      'WRITE_ONCE',
      1,
      `${C}: smp_wmb(); pmd_populate() → native_set_pmd(): WRITE_ONCE(*pmdp, pmd) (mm/memory.c:440-441, arch/x86/include/asm/pgtable_64.h:83 ${V612})`,
      { before: ['smp_wmb'], under },
    ),
  ];
}

/** folio_add_file_rmap_ptes() on a small folio: atomic_inc_and_test(&folio->_mapcount) (mm/rmap.c:1172), fully ordered. */
export function rmapAdd612(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'atomic_inc_return',
    c.page(pfn).mapcount,
    `${cite}: set_pte_range() → folio_add_file_rmap_ptes() → __folio_add_rmap(): atomic_inc_and_test(&folio->_mapcount) (mm/memory.c:5050, mm/rmap.c:1172 ${V612}), fully ordered`,
  );
}

/** folio_remove_rmap_ptes() on a small folio: atomic_add_negative(-1, &folio->_mapcount) (mm/rmap.c:1543), fully ordered. */
export function rmapRemove612(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'atomic_dec_return',
    c.page(pfn).mapcount,
    `${cite}: folio_remove_rmap_ptes() → __folio_remove_rmap(): atomic_add_negative(-1, &folio->_mapcount) (mm/rmap.c:1543 ${V612}), fully ordered`,
  );
}

/** folio_mapped(folio) of a small folio: folio_mapcount() >= 1, atomic_read(&folio->_mapcount) + 1 (include/linux/mm.h:1244, 1258-1260). */
export function folioMapped612(c: Ctx, a: Access, pfn: number, cite: string): Access {
  return lk(
    a,
    'atomic_read',
    c.page(pfn).mapcount,
    `${cite}: folio_mapped() → folio_mapcount(): atomic_read(&folio->_mapcount) (include/linux/mm.h:1244, 1258 ${V612})`,
  );
}

/** A folio of order > 0: its rmap and PTE-range accesses are not marked (see the header). */
export const isLarge = (c: Ctx, pfn: number): boolean => (c.page(pfn).order ?? 0) > 0;

/** The access the step declares but does not make on this path (a step declares every branch's). */
export const notMade = (a: Access, why: string): Access => notOnThisPath(a, why);

/**
 * A 6.1 procedure as 6.12 runs it: every i_size access 6.1 marks as an i_size_read() or
 * i_size_write() call of the code (its cite quotes `i_size_read(` / `i_size_write(`) is the
 * 6.12 primitive, smp_load_acquire / smp_store_release (include/linux/fs.h:969, 996); a
 * direct `inode->i_size` access stays plain. The rest of 6.1's marks are 6.12's primitives too
 * (each cites its 6.1.192 line). `bugs`, when given, replaces the 6.1 procedure's (6.12's lines).
 */
export function withISizeOrdering612(p: Proc, bugs?: Proc['bugs']): Proc {
  const steps: Record<string, StepDef> = {};
  for (const [pc, st] of Object.entries(p.steps)) {
    const acc = st.acc;
    steps[pc] = acc === undefined ? st : { ...st, acc: (c) => acc(c).map(iSizeOrdered612) };
  }
  return bugs ? { ...p, steps, bugs } : { ...p, steps };
}

function iSizeOrdered612(a: Access): Access {
  const m = a.lkmm;
  if (m === undefined || !a.loc.endsWith('.i_size')) return a;
  const note = `; on ${V612} include/linux/fs.h:`;
  if (m.op === 'plain-read' && /i_size_read\(/.test(m.cite))
    return { ...a, lkmm: { ...m, op: 'smp_load_acquire', cite: `${m.cite}${note}969 i_size_read() is smp_load_acquire()` } };
  if (m.op === 'plain-write' && /i_size_write\(/.test(m.cite))
    return { ...a, lkmm: { ...m, op: 'smp_store_release', cite: `${m.cite}${note}996 i_size_write() is smp_store_release()` } };
  return a;
}
