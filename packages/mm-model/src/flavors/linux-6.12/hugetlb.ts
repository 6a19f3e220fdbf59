/**
 * hugetlbfs on linux-6.12 (2 MiB huge pages: order-9 folios, each mapped by one huge PMD
 * entry, counted in `_entire_mapcount` and `_large_mapcount`), three actors:
 *
 * - hugetlb_fault (mm/hugetlb.c:6401-6449, 6.12.118) → hugetlb_no_page (6145-6369) on a cached
 *   folio: the per-index hugetlb fault mutex (6432), filemap_lock_hugetlb_folio (6177), the huge
 *   PTE lock and pte_same recheck (6303-6307), hugetlb_add_file_rmap + set_huge_pte_at
 *   (6312-6321), folio_unlock, then spin_unlock of the PTE lock (6346-6352: "the page table owns
 *   the folio reference now"), hugetlb_vma_unlock_read, mutex_unlock (6354-6363). The huge PTE
 *   lock and the hugetlb VMA lock are not in the model (the PTE lock's section is the `map` step).
 * - fallocate(PUNCH_HOLE): hugetlbfs_punch_hole (fs/hugetlbfs/inode.c:743-792), under
 *   inode_lock (757-791), unmaps the
 *   range from every VMA under i_mmap_lock_write (hugetlb_vmdelete_list, 765-785), then
 *   remove_inode_hugepages (642-680) takes a reference on each folio (filemap_get_folios,
 *   655), the fault mutex (661-662), and remove_inode_single_folio (583-620): folio_lock,
 *   then `if (folio_mapped(folio)) hugetlb_unmap_file_folio()`, then
 *   hugetlb_delete_from_page_cache. Before 7b7387650dcf the mapped check came *before*
 *   folio_lock (`lockBeforeMappedCheck` false).
 * - page migration of the huge page, unmap_and_move_huge_page (mm/migrate.c:1460-1560):
 *   isolate_hugetlb takes a reference, folio_trylock/folio_lock(src) (1482-1491),
 *   try_to_migrate replaces the mapping by a migration entry and drops the rmap and the
 *   PTE's reference (1510-1525), move_to_new_folio → migrate_huge_page_move_mapping
 *   (656-690) fails with -EAGAIN unless the refcount is exactly the page cache's plus the
 *   caller's, remove_migration_ptes (1533) maps the new folio (success) or the old one
 *   again (failure), folio_unlock (1541-1553), putback.
 *
 * A migration entry is shown as an empty PTE in the model's page table (the PMD entry stays
 * non-none): no thread of the corpus faults on it. hugetlb_unmap_file_folio is modelled by
 * unmap_mapping_pages over the folio (it zaps the same huge PMDs, under i_mmap_lock_write).
 */
import type { Ctx } from '../../ctx.js';
import { ArgError, acquire, r, release, w, type Proc } from '../../program.js';
import { NONE, PAGE_SIZE, PG, PMD_TABLE, UNLOCKED, type Locals } from '../../state.js';
import { pteLoc, type Env } from '../../env.js';
import { faultBegin, faultEnd, faultSite, fileArg, removeAcc, withinFile } from '../../kernel/lib.js';
import { callUnmap } from '../../kernel/unmap.js';
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, pmdLoc, pmdRange } from './folio.js';
import { findLockSteps } from './lock-folio.js';
import { inodeLock, inodeUnlock } from '../../kernel/pagecache.js';

export interface HugetlbOptions {
  /** 7b7387650dcf: remove_inode_single_folio takes the folio lock before testing folio_mapped(). */
  lockBeforeMappedCheck: boolean;
}

const mutexLoc = (c: Ctx) => `${c.M(c.num('file'))}.hugetlb_fault_mutex`;
const immapLoc = (c: Ctx) => `${c.M(c.num('file'))}.i_mmap_lock`;
const mutexOf = (c: Ctx) => c.map(c.num('file')).faultMutex ?? UNLOCKED;
const HW = (l: string, fn: string) => `mm/hugetlb.c:${l} ${fn}()`;
const FW = (l: string, fn: string) => `fs/hugetlbfs/inode.c:${l} ${fn}()`;
const MW = (l: string, fn: string) => `mm/migrate.c:${l} ${fn}()`;

function takeMutex(c: Ctx): void {
  const file = c.num('file');
  c.updMap(file, { faultMutex: c.takeLock(mutexOf(c), false) }, 'hugetlb_fault_mutex +');
}
function dropMutex(c: Ctx): void {
  const file = c.num('file');
  c.updMap(file, { faultMutex: c.dropLock(mutexOf(c), false) }, 'hugetlb_fault_mutex -');
}

/** Map folio `pfn` with the huge PMD of every VMA slot range saved in `slots` ([vma, i0] pairs) — set_huge_pte_at / remove_migration_ptes. */
function mapHuge(c: Ctx, vmaId: number, i0: number, pfn: number): void {
  const vma = c.env.vmas[vmaId]!;
  c.addRmap(vma, i0, pfn); // hugetlb_add_file_rmap: _entire_mapcount++, _large_mapcount++
  c.updPage(pfn, { entire: (c.page(pfn).entire ?? 0) + 1 });
  c.ref(pfn, 1);
  for (let k = 0; k < HPAGE_PMD_NR; k++) c.setPte(vma, i0 + k, pfn, true);
  c.setPmd(vma.ptl[i0]!, pfn);
}

function hugeAcc(c: Ctx, vmaId: number, i0: number, pfn: number) {
  const vma = c.env.vmas[vmaId]!;
  const a = [w(pmdLoc(c.env, vma.ptl[i0]!)), w(`${c.P(pfn)}.mapcount`), w(`${c.P(pfn)}.refcount`), r(`${c.P(pfn)}.mapping`), r(`${c.M(vma.file)}.tree`)];
  for (let k = 0; k < HPAGE_PMD_NR; k++) a.push(w(pteLoc(c.env, vma, i0 + k)));
  return a;
}

/** hugetlb_fault on a huge page already in the page cache (args: mm, address | index). */
export const hugetlbFault612: Proc = {
  fn: 'hugetlb_fault',
  where: 'mm/hugetlb.c',
  entry: 'mutex',
  steps: {
    mutex: {
      label: 'hash = hugetlb_fault_mutex_hash(mapping, vmf.pgoff); mutex_lock(&hugetlb_fault_mutex_table[hash])',
      where: HW('6431-6432', 'hugetlb_fault'),
      acc: (c) => [acquire(mutexLoc(c))],
      block: (c) => c.lockBusy(mutexOf(c), mutexLoc(c)),
      run: (c) => {
        faultBegin(c);
        takeMutex(c);
        c.goto('pte');
      },
    },
    pte: {
      label: 'entry = huge_ptep_get(vmf.pte); if (huge_pte_none_mostly(entry)) return hugetlb_no_page(mapping, &vmf)',
      where: HW('6447-6461', 'hugetlb_fault'),
      acc: (c) => [r(pteLoc(c.env, faultSite(c).vma, faultSite(c).i)), ...(c.pte(c.num('vma'), c.num('i')) !== NONE ? [release(mutexLoc(c))] : [])],
      run: (c) => {
        if (c.pte(c.num('vma'), c.num('i')) !== NONE) {
          dropMutex(c);
          faultEnd(c, 0);
          return;
        }
        c.goto('find');
      },
    },
    ...findLockSteps({
      find: 'find',
      lock: 'lock',
      next: 'map',
      findLabel: 'hugetlb_no_page: folio = filemap_lock_hugetlb_folio(h, mapping, vmf->pgoff) [lookup + folio_try_get]',
      findWhere: HW('6177', 'hugetlb_no_page'),
      lockCaller: 'filemap_lock_hugetlb_folio',
      missAcc: (c) => [release(mutexLoc(c))],
      miss: (c) => {
        c.effect('no folio cached: allocation not modelled; return');
        dropMutex(c);
        faultEnd(c, 0);
      },
    }),
    map: {
      label:
        'vmf->ptl = huge_pte_lock(); if (!pte_same(huge_ptep_get(vmf->pte), vmf->orig_pte)) goto backout; hugetlb_add_file_rmap(folio); set_huge_pte_at() /* the PTE lock is not modelled: its section is this step */',
      where: HW('6303-6321', 'hugetlb_no_page'),
      acc: (c) => {
        const { vma, i } = faultSite(c);
        const i0 = pmdRange(vma, i);
        return [r(pteLoc(c.env, vma, i)), ...hugeAcc(c, vma.id, i0, c.num('pfn'))];
      },
      run: (c) => {
        const { vma, i } = faultSite(c);
        if (c.pte(vma.id, i) !== NONE) {
          c.effect('backout: the huge PTE is no longer none');
          c.ref(c.num('pfn'), -1);
          c.goto('unlock');
          return;
        }
        mapHuge(c, vma.id, pmdRange(vma, i), c.num('pfn'));
        c.ref(c.num('pfn'), -1); // the lookup's reference: the mapping took its own
        c.goto('unlock');
      },
    },
    unlock: {
      label: 'folio_unlock(folio); spin_unlock(vmf->ptl); out: hugetlb_vma_unlock_read(vma); mutex_unlock(&hugetlb_fault_mutex_table[hash])',
      where: HW('6346-6363', 'hugetlb_no_page'),
      acc: (c) => [release(`lock:${c.P(c.num('pfn'))}`), release(mutexLoc(c))],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        dropMutex(c);
        faultEnd(c, 0);
      },
    },
  },
};

/** hugetlb_punch: `{ file, offset, length }` in bytes, 2 MiB aligned. */
export function hugetlbPunchArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  for (const k of Object.keys(args))
    if (!['file', 'offset', 'length'].includes(k)) throw new ArgError(k, `unknown argument ${k} (this program takes: file, offset, length)`);
  const HS = PAGE_SIZE * HPAGE_PMD_NR;
  const num = (k: string) => {
    const v = args[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v % HS !== 0)
      throw new ArgError(k, `argument ${k} must be a multiple of the huge page size (${HS} bytes)`);
    return v;
  };
  const offset = num('offset');
  const length = num('length');
  if (length === 0) throw new ArgError('length', 'length must be at least one huge page');
  withinFile('length', offset + length);
  return { file: fileArg(args, env), first: offset / PAGE_SIZE, last: (offset + length) / PAGE_SIZE - 1, v: 0, pfn: NONE };
}

export function hugetlbfsPunchHole612(o: HugetlbOptions): Proc {
  return {
    fn: 'hugetlbfs_punch_hole',
    where: 'fs/hugetlbfs/inode.c',
    entry: 'inode',
    steps: {
      inode: inodeLock(
        'inode_lock(inode)',
        () => false,
        (c) => c.goto('immap'),
        FW('757', 'hugetlbfs_punch_hole'),
      ),
      immap: {
        label: 'i_mmap_lock_write(mapping); hugetlb_vmdelete_list(&mapping->i_mmap, ...): unmap the hole from every VMA',
        where: FW('757-775', 'hugetlbfs_punch_hole'),
        acc: (c) => [acquire(immapLoc(c))],
        block: (c) => c.lockBusy(c.map(c.num('file')).immap, immapLoc(c)),
        run: (c) => {
          const file = c.num('file');
          c.updMap(file, { immap: c.takeLock(c.map(file).immap, false) });
          c.goto('vmdelete');
        },
      },
      vmdelete: {
        label: 'hugetlb_vmdelete_list() → unmap_hugepage_range(): huge_ptep_get_and_clear(); hugetlb_remove_rmap(folio); i_mmap_unlock_write(mapping)',
        where: FW('775-785', 'hugetlbfs_punch_hole'),
        acc: (c) => {
          const a = [release(immapLoc(c))];
          for (const v of c.env.vmas) {
            if (v.file !== c.num('file')) continue;
            for (let i = 0; i < v.pages; i += HPAGE_PMD_NR) {
              a.push(w(pmdLoc(c.env, v.ptl[i]!)));
              for (let k = 0; k < HPAGE_PMD_NR && i + k < v.pages; k++) a.push(w(pteLoc(c.env, v, i + k)));
              const pfn = c.pte(v.id, i);
              if (pfn !== NONE) a.push(w(`${c.P(pfn)}.mapcount`), w(`${c.P(pfn)}.refcount`));
            }
          }
          return a;
        },
        run: (c) => {
          const file = c.num('file');
          for (const v of c.env.vmas) {
            if (v.file !== file) continue;
            for (let i = 0; i < v.pages; i += HPAGE_PMD_NR) {
              const ix = v.pgoff + i;
              const pfn = c.pte(v.id, i);
              if (ix < c.num('first') || ix > c.num('last') || pfn === NONE) continue;
              for (let k = 0; k < HPAGE_PMD_NR; k++) c.setPte(v, i + k, NONE, true);
              c.setPmd(v.ptl[i]!, PMD_TABLE);
              const p = c.page(pfn);
              c.updPage(pfn, { mapcount: p.mapcount - 1, entire: (p.entire ?? 1) - 1 });
              c.effect(`huge PTE ${c.env.mms[v.mm]!.name}:0x${(v.start + i * PAGE_SIZE).toString(16)} cleared`);
              c.ref(pfn, -1);
            }
          }
          c.updMap(file, { immap: c.dropLock(c.map(file).immap, false) });
          c.goto('get');
        },
      },
      get: {
        label: 'remove_inode_hugepages: while (filemap_get_folios(mapping, &next, end - 1, &fbatch)) [a reference on each]',
        where: FW('655', 'remove_inode_hugepages'),
        acc: (c) => {
          const pfn = nextFolio(c);
          return pfn === NONE
            ? [r(`${c.M(c.num('file'))}.tree`), release(`${c.M(c.num('file'))}.inode_lock`)]
            : [r(`${c.M(c.num('file'))}.tree`), w(`${c.P(pfn)}.refcount`)];
        },
        run: (c) => {
          const pfn = nextFolio(c);
          if (pfn === NONE) {
            // hugetlbfs_punch_hole: remove_inode_hugepages() returned; inode_unlock(inode) (fs/hugetlbfs/inode.c:791)
            inodeUnlock(c);
            c.ret(0);
            return;
          }
          c.ref(pfn, 1);
          c.set('pfn', pfn);
          c.goto('mutex');
        },
      },
      mutex: {
        label: 'hash = hugetlb_fault_mutex_hash(mapping, index); mutex_lock(&hugetlb_fault_mutex_table[hash])',
        where: FW('661-662', 'remove_inode_hugepages'),
        acc: (c) => [acquire(mutexLoc(c))],
        block: (c) => c.lockBusy(mutexOf(c), mutexLoc(c)),
        run: (c) => {
          takeMutex(c);
          c.goto(o.lockBeforeMappedCheck ? 'lock' : 'mapped');
        },
      },
      lock: {
        label: 'remove_inode_single_folio: folio_lock(folio)',
        where: o.lockBeforeMappedCheck ? FW('598', 'remove_inode_single_folio') : 'fs/hugetlbfs/inode.c remove_inode_single_folio() (before 7b7387650dcf)',
        acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`)],
        block: (c) => c.pageLockHeld(c.num('pfn')),
        run: (c) => {
          c.lockPage(c.num('pfn'));
          c.goto(o.lockBeforeMappedCheck ? 'mapped' : 'delete');
        },
      },
      mapped: {
        label: 'if (unlikely(folio_mapped(folio))) hugetlb_unmap_file_folio(h, mapping, folio, index)',
        where: o.lockBeforeMappedCheck ? FW('599-600', 'remove_inode_single_folio') : 'fs/hugetlbfs/inode.c remove_inode_single_folio() (before 7b7387650dcf)',
        acc: (c) => [r(`${c.P(c.num('pfn'))}.mapcount`)],
        run: (c) => {
          const pfn = c.num('pfn');
          const next = o.lockBeforeMappedCheck ? 'delete' : 'lock';
          if (c.mapped(pfn)) {
            const ix = c.page(pfn).index;
            callUnmap(c, 'unmap_mapping_pages', c.num('file'), ix, ix + HPAGE_PMD_NR - 1, false, next);
          } else c.goto(next);
        },
      },
      delete: {
        label:
          'hugetlb_delete_from_page_cache(folio) [filemap_remove_folio]; folio_unlock(folio); mutex_unlock(&hugetlb_fault_mutex_table[hash]); folio_batch_release(&fbatch)',
        where: FW('610-673', 'remove_inode_single_folio'),
        acc: (c) => [
          w(`${c.M(c.num('file'))}.tree_lock`),
          ...removeAcc(c, c.num('pfn')),
          w(`${c.P(c.num('pfn'))}.refcount`),
          release(`lock:${c.P(c.num('pfn'))}`),
          release(mutexLoc(c)),
        ],
        run: (c) => {
          const pfn = c.num('pfn');
          c.removeFromCache(pfn);
          c.unlockPage(pfn);
          dropMutex(c);
          c.ref(pfn, -1); // the page cache's reference
          c.ref(pfn, -1); // folio_batch_release: ours
          c.set('pfn', NONE);
          c.goto('get');
        },
      },
    },
  };
}

/** The next huge folio cached in [first, last], or NONE. */
function nextFolio(c: Ctx): number {
  const cache = c.map(c.num('file')).cache;
  for (let ix = c.num('first'); ix <= c.num('last') && ix < cache.length; ix++) if (cache[ix] !== NONE) return cache[ix]!;
  return NONE;
}

/** migrate_hugetlb: migrate the huge page cached at `index` of `file` (args: file, index). */
export function migrateArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  for (const k of Object.keys(args)) if (!['file', 'index'].includes(k)) throw new ArgError(k, `unknown argument ${k} (this program takes: file, index)`);
  const index = args.index;
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw new ArgError('index', 'argument index must be a non-negative integer');
  withinFile('index', (index + 1) * PAGE_SIZE);
  return { file: fileArg(args, env), index, pfn: NONE, dst: NONE, slots: [], rc: 0 };
}

export const unmapAndMoveHugePage612: Proc = {
  fn: 'unmap_and_move_huge_page',
  where: 'mm/migrate.c',
  entry: 'isolate',
  steps: {
    isolate: {
      label: 'isolate_hugetlb(folio, &pagelist) [folio_try_get]',
      where: 'mm/hugetlb.c:7532-7549 isolate_hugetlb()',
      acc: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        return pfn === NONE ? [r(`${c.M(c.num('file'))}.tree`)] : [r(`${c.M(c.num('file'))}.tree`), w(`${c.P(pfn)}.refcount`)];
      },
      run: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        if (pfn === NONE) {
          c.ret(0);
          return;
        }
        c.ref(pfn, 1);
        c.set('pfn', pfn);
        c.goto('lock');
      },
    },
    lock: {
      label: 'if (!folio_trylock(src)) { ... folio_lock(src); }',
      where: MW('1482-1491', 'unmap_and_move_huge_page'),
      acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`)],
      block: (c) => c.pageLockHeld(c.num('pfn')),
      run: (c) => {
        c.lockPage(c.num('pfn'));
        c.goto('unmap');
      },
    },
    unmap: {
      label:
        'dst = get_new_folio(src, private); folio_trylock(dst); if (folio_mapped(src)) try_to_migrate(src, ttu): huge PTE → migration entry; hugetlb_remove_rmap(src); folio_put(src)',
      where: MW('1499-1525', 'unmap_and_move_huge_page'),
      acc: (c) => {
        const pfn = c.num('pfn');
        const a = [w('alloc'), r(`${c.P(pfn)}.mapcount`), w(`${c.P(pfn)}.mapcount`), w(`${c.P(pfn)}.refcount`)];
        for (const v of c.env.vmas) {
          if (v.file !== c.num('file')) continue;
          for (let i = 0; i < v.pages; i += HPAGE_PMD_NR) for (let k = 0; k < HPAGE_PMD_NR && i + k < v.pages; k++) a.push(w(pteLoc(c.env, v, i + k)));
        }
        return a;
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const dst = c.allocPage();
        c.updPage(dst, { order: HPAGE_PMD_ORDER, pmap: new Array<number>(HPAGE_PMD_NR).fill(0), entire: 0, flags: PG.locked, locker: c.tid });
        c.set('dst', dst);
        const slots: number[] = [];
        for (const v of c.env.vmas) {
          if (v.file !== c.num('file')) continue;
          for (let i = 0; i < v.pages; i += HPAGE_PMD_NR) {
            if (c.pte(v.id, i) !== pfn) continue;
            for (let k = 0; k < HPAGE_PMD_NR; k++) c.setPte(v, i + k, NONE, true);
            const p = c.page(pfn);
            c.updPage(pfn, { mapcount: p.mapcount - 1, entire: (p.entire ?? 1) - 1 });
            c.effect(`huge PTE ${c.env.mms[v.mm]!.name}:0x${(v.start + i * PAGE_SIZE).toString(16)} → migration entry for pfn${pfn}`);
            c.ref(pfn, -1);
            slots.push(v.id, i);
          }
        }
        c.set('slots', slots);
        c.goto('move');
      },
    },
    move: {
      label:
        'if (!folio_mapped(src)) rc = move_to_new_folio(dst, src, mode): migrate_huge_page_move_mapping(): if (folio_ref_count(src) != expected_count) return -EAGAIN; replace src by dst in the page cache',
      where: MW('1527-1530, 656-690', 'unmap_and_move_huge_page'),
      acc: (c) => {
        const P = c.P(c.num('pfn'));
        const D = c.P(c.num('dst'));
        return [
          r(`${P}.mapcount`),
          w(`${P}.refcount`),
          r(`${P}.flags.uptodate`),
          w(`${c.M(c.num('file'))}.tree`),
          w(`${P}.mapping`),
          w(`${D}.mapping`),
          w(`${D}.refcount`),
          w(`${D}.flags.uptodate`),
        ];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const dst = c.num('dst');
        const p = c.page(pfn);
        if (p.mapcount !== 0 || p.refcount !== 2 || p.mapping !== c.num('file')) {
          c.effect(`migrate_huge_page_move_mapping: refcount ${p.refcount} != expected 2: -EAGAIN`);
          c.set('rc', -11);
          c.goto('restore');
          return;
        }
        const file = c.num('file');
        const cache = c.map(file).cache.slice();
        for (let k = 0; k < HPAGE_PMD_NR; k++) cache[p.index + k] = dst;
        c.updMap(file, { cache }, `[${p.index}..${p.index + HPAGE_PMD_NR - 1}] = pfn${dst}`);
        c.updPage(dst, { mapping: file, index: p.index, flags: c.page(dst).flags | (p.flags & ~PG.locked), refcount: 2 });
        c.updPage(pfn, { mapping: NONE });
        c.ref(pfn, -1); // the page cache's reference moved to dst
        c.goto('restore');
      },
    },
    restore: {
      label: 'remove_migration_ptes(src, rc == MIGRATEPAGE_SUCCESS ? dst : src, 0): the migration entries become huge PTEs again; folio_unlock(dst)',
      where: MW('1532-1541', 'unmap_and_move_huge_page'),
      acc: (c) => {
        const target = c.num('rc') ? c.num('pfn') : c.num('dst');
        const sl = c.list('slots');
        const a = [release(`lock:${c.P(c.num('dst'))}`)];
        for (let j = 0; j < sl.length; j += 2) a.push(...hugeAcc(c, sl[j]!, sl[j + 1]!, target));
        return a;
      },
      run: (c) => {
        const target = c.num('rc') ? c.num('pfn') : c.num('dst');
        const sl = c.list('slots');
        for (let j = 0; j < sl.length; j += 2) mapHuge(c, sl[j]!, sl[j + 1]!, target);
        c.unlockPage(c.num('dst'));
        c.goto('unlock');
      },
    },
    unlock: {
      label: 'out_unlock: folio_unlock(src); folio_putback_hugetlb / put_new_folio(dst)',
      where: MW('1552-1560', 'unmap_and_move_huge_page'),
      acc: (c) => [release(`lock:${c.P(c.num('pfn'))}`), w(`${c.P(c.num('pfn'))}.refcount`), w(`${c.P(c.num('dst'))}.refcount`), w('alloc')],
      run: (c) => {
        const pfn = c.num('pfn');
        const dst = c.num('dst');
        c.unlockPage(pfn);
        c.ref(pfn, -1); // the isolation reference
        c.ref(dst, -1); // the allocation's reference (failure: the new folio is freed)
        c.ret(c.num('rc'));
      },
    },
  },
};
