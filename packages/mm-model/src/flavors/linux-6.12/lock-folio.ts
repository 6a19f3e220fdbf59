/**
 * The lookup-then-lock of a cached folio (linux-6.12.117): a lockless lookup that takes a
 * reference (filemap_get_entry + folio_try_get, mm/filemap.c:1826-1852), then folio_lock and
 * the recheck that truncate did not take the folio out of the mapping while the lock was
 * awaited (__filemap_get_folio with FGP_LOCK, mm/filemap.c:1885-1900): if it did, unlock,
 * put and look up again. hugetlb's filemap_lock_hugetlb_folio, secretmem's find_lock_page
 * and truncate's partial-folio lookup are all this; only the index and what a miss does
 * differ.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { acquire, r, w, type StepDef } from '../../program.js';
import { NONE } from '../../state.js';
import { folioMapping } from '../../kernel/marks6.js';
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

/**
 * folio_lock(folio) and the truncation recheck on local `pfn` (referenced by the lookup at
 * step `retry`, of mapping `file`): locked and still in the mapping → `next`; else unlock,
 * put, `pfn` = NONE, back to `retry`.
 */
export function lockRecheckStep(caller: string, retry: string, next: string): StepDef {
  return {
    label: `${caller}folio_lock(folio); if (unlikely(folio->mapping != mapping)) { folio_unlock(folio); folio_put(folio); goto repeat; }`,
    where: 'mm/filemap.c:1885-1900 __filemap_get_folio()',
    acc: (c) => {
      const pfn = c.num('pfn');
      const a = [acquire(`lock:${c.P(pfn)}`), r(`${c.P(pfn)}.mapping`)];
      // truncated meanwhile: the kernel unlocks and puts the folio, which the step does not declare: left unmarked
      if (c.page(pfn).mapping !== c.num('file')) return a;
      return [
        folioLock612(a[0]!, `${GF}: folio_lock(folio) (mm/filemap.c:1904)`),
        folioMapping(c, a[1]!, pfn, `${GF}: if (unlikely(folio->mapping != mapping)) (mm/filemap.c:1908)`),
      ];
    },
    block: (c) => c.pageLockHeld(c.num('pfn')),
    run: (c) => {
      const pfn = c.num('pfn');
      c.lockPage(pfn);
      if (c.page(pfn).mapping !== c.num('file')) {
        c.unlockPage(pfn);
        c.ref(pfn, -1);
        c.set('pfn', NONE);
        c.goto(retry);
        return;
      }
      c.goto(next);
    },
  };
}

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
    [o.lock]: lockRecheckStep(`${o.lockCaller}: `, o.find, o.next),
  };
}
