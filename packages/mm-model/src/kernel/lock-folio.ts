/**
 * __filemap_get_folio(FGP_LOCK) on a folio the lookup found and referenced: folio_lock, then the
 * recheck that truncate did not take the folio out of the mapping while the lock was awaited;
 * if it did, folio_unlock, folio_put and look up again (`goto repeat`). The same code in
 * 6.1.192 (mm/filemap.c:1952-1967) and 6.12.118 (mm/filemap.c:1897-1912); only the lines and
 * the primitives' citations differ, which each release passes in.
 */
import type { Access } from '@kreplay/core';
import { acquire, r, w, type StepDef } from '../program.js';
import { NONE } from '../state.js';
import { folioMapping } from './marks6.js';

/** One release's __filemap_get_folio(FGP_LOCK): where it is, and its folio_lock marked with that release's citation. */
export interface LockRecheckKernel {
  /** `mm/filemap.c:A-B __filemap_get_folio()` of the FGP_LOCK block. */
  where: string;
  /** folio_lock(folio), marked (a test_and_set_bit_lock acquire). */
  lock: (a: Access) => Access;
  /** Citation of `if (unlikely(folio->mapping != mapping))`. */
  mappingCite: string;
}

/**
 * folio_lock(folio) and the truncation recheck on local `pfn` (referenced by the lookup at
 * step `retry`, of mapping `file`): locked and still in the mapping → `next`; else unlock,
 * put, `pfn` = NONE, back to `retry`.
 */
export function lockRecheckStep(caller: string, retry: string, next: string, k: LockRecheckKernel): StepDef {
  return {
    label: `${caller}folio_lock(folio); if (unlikely(folio->mapping != mapping)) { folio_unlock(folio); folio_put(folio); goto repeat; }`,
    where: k.where,
    acc: (c) => {
      const pfn = c.num('pfn');
      const a = [acquire(`lock:${c.P(pfn)}`), r(`${c.P(pfn)}.mapping`)];
      // truncated meanwhile: the kernel unlocks and puts the folio in this step, which has no
      // access of its own for the unlock: left unmarked (the put is declared for the explorer)
      if (c.page(pfn).mapping !== c.num('file')) return [...a, w(`${c.P(pfn)}.refcount`)];
      return [k.lock(a[0]!), folioMapping(c, a[1]!, pfn, k.mappingCite)];
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
