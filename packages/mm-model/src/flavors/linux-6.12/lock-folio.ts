/**
 * The lookup-then-lock of a cached folio (linux-6.12.118): a lockless lookup that takes a
 * reference (filemap_get_entry + folio_try_get, mm/filemap.c:1838-1867), then folio_lock and
 * the recheck that truncate did not take the folio out of the mapping while the lock was
 * awaited (__filemap_get_folio with FGP_LOCK, mm/filemap.c:1897-1912): if it did, unlock,
 * put and look up again. hugetlb's filemap_lock_hugetlb_folio, secretmem's find_lock_page
 * and truncate's partial-folio lookup are all this; only the index and what a miss does
 * differ.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { r, w, type StepDef } from '../../program.js';
import { NONE } from '../../state.js';
import { lockRecheckStep, type LockRecheckKernel } from '../../kernel/lock-folio.js';
import { V612, folioLock612 } from '../../kernel/marks612.js';

const GF = `mm/filemap.c __filemap_get_folio() ${V612}`;

export interface FindLockSteps {
  /** Names of the two steps: the lookup and the lock-and-recheck. */
  find: string;
  lock: string;
  /** Where a locked folio of this mapping goes on. */
  next: string;
  /** The caller's words for the lookup and the lock (`find_lock_page`, `filemap_lock_hugetlb_folio`). */
  findLabel: string;
  findWhere: string;
  lockCaller: string;
  /** No folio at the index: the extra accesses of the miss path, and what it does. */
  missAcc: (c: Ctx) => Access[];
  miss: (c: Ctx) => void;
}

/** 6.12.118's __filemap_get_folio(FGP_LOCK): folio_lock (mm/filemap.c:1904), the mapping recheck (1908). */
export const LOCK_RECHECK_612: LockRecheckKernel = {
  where: 'mm/filemap.c:1897-1912 __filemap_get_folio()',
  lock: (a) => folioLock612(a, `${GF}: folio_lock(folio) (mm/filemap.c:1904)`),
  mappingCite: `${GF}: if (unlikely(folio->mapping != mapping)) (mm/filemap.c:1908)`,
};

/** The two steps; locals: `file`, `index`, and `pfn` (the folio found, NONE after a retry). */
export function findLockSteps(o: FindLockSteps): Record<string, StepDef> {
  const tree = (c: Ctx) => r(`${c.M(c.num('file'))}.tree`);
  return {
    [o.find]: {
      label: o.findLabel,
      where: o.findWhere,
      acc: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        return pfn === NONE ? [tree(c), ...o.missAcc(c)] : [tree(c), w(`${c.P(pfn)}.refcount`)];
      },
      run: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        if (pfn === NONE) {
          o.miss(c);
          return;
        }
        c.ref(pfn, 1);
        c.set('pfn', pfn);
        c.goto(o.lock);
      },
    },
    [o.lock]: lockRecheckStep(`${o.lockCaller}: `, o.find, o.next, LOCK_RECHECK_612),
  };
}
