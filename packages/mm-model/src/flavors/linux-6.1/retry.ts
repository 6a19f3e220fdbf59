/**
 * linux-6.1 VM_FAULT_RETRY: filemap_fault (mm/filemap.c:3219, 6.1.192) drops the mmap_lock
 * before it sleeps on I/O or on a folio lock, and then returns VM_FAULT_RETRY instead of the
 * page; the architecture's fault handler (arch/x86/mm/fault.c do_user_addr_fault) takes the
 * mmap_lock again and runs the whole fault once more with FAULT_FLAG_TRIED — through
 * do_read_fault's fault-around (filemap_map_pages) first. A user fault has
 * FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE (FAULT_FLAG_DEFAULT), so on its first try:
 *
 * - no folio cached: `fpin = do_sync_mmap_readahead(vmf)` (3253): with the default
 *   readahead state it calls maybe_unlock_mmap_for_io (mm/filemap.c:3128-3151 — the
 *   readahead it then starts is not modelled: retry_find's __filemap_get_folio(FGP_CREAT)
 *   creates the folio, as with VM_RAND_READ);
 * - the folio lock is contended: lock_folio_maybe_drop_mmap (3063-3093): folio_trylock
 *   failed → maybe_unlock_mmap_for_io, __folio_lock_killable;
 * - the folio is not uptodate: page_not_uptodate (3342: maybe_unlock_mmap_for_io before
 *   filemap_read_folio, 3344 `if (fpin) goto out_retry`);
 * - with the mmap_lock dropped, a locked uptodate folio goes back too (3302-3305:
 *   `if (fpin) { folio_unlock(folio); goto out_retry; }`);
 * - out_retry (3357-3369): folio_put, filemap_invalidate_unlock_shared if held, fput,
 *   `return ret | VM_FAULT_RETRY`.
 *
 * With FAULT_FLAG_TRIED, maybe_unlock_mmap_for_io keeps the mmap_lock (fault_flag_allow_retry_first
 * is false): the second try sleeps on the folio lock and reads in place, like the path
 * without retry. The model holds no mmap_lock (no modelled path takes it for writing), so
 * what matters is the restart: everything the first try saw may have changed by the retry.
 * Locals: `tried` (FAULT_FLAG_TRIED), `fpin` (the mmap_lock was dropped).
 */
import type { Ctx } from '../../ctx.js';
import { r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { FAULT_OK, faultEnd, faultSite, pteAcc } from '../../kernel/lib.js';

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

/** maybe_unlock_mmap_for_io(): on the first try (not FAULT_FLAG_TRIED) the mmap_lock is dropped. */
function dropMmap(c: Ctx): void {
  if (c.num('tried') || c.num('fpin')) return;
  c.set('fpin', 1);
  c.effect('mmap_read_unlock(): the fault will return VM_FAULT_RETRY');
}

/**
 * `proc` (a 6.1 fault running filemap_fault's steps get, lock, read from fault.ts) with the
 * retry paths; `again` continues a retried fault after its PTE walk found pte_none.
 */
export function withFaultRetry(proc: Proc, again: (c: Ctx) => void): Proc {
  const s = proc.steps;
  const get = s.get!; const lock = s.lock!; const read = s.read!;
  const steps: Record<string, StepDef> = {
    ...s,
    get: {
      ...get,
      label: 'folio = filemap_get_folio(mapping, index) [RCU lookup, folio_try_get_rcu]; none: fpin = do_sync_mmap_readahead(vmf)',
      run: (c) => {
        get.run(c);
        if (c.num('pfn') === NONE) dropMmap(c);
      },
    },
    lock: {
      ...lock,
      label: (c) => (c.page(c.num('pfn')).locker !== NONE && !c.num('tried') && !c.num('fpin')
        ? 'lock_folio_maybe_drop_mmap(): folio_trylock(folio) failed: fpin = maybe_unlock_mmap_for_io(vmf, fpin); __folio_lock_killable(folio)'
        : `${typeof lock.label === 'string' ? lock.label : lock.label(c)}; if (fpin) { folio_unlock(folio); goto out_retry; }`),
      acc: (c) => (c.page(c.num('pfn')).locker !== NONE && !c.num('tried') && !c.num('fpin') ? [r(`lock:${c.P(c.num('pfn'))}`)]
        : [...lock.acc!(c), ...(c.num('fpin') ? [release(`lock:${c.P(c.num('pfn'))}`)] : [])]),
      block: (c) => (c.page(c.num('pfn')).locker !== NONE && !c.num('tried') && !c.num('fpin') ? undefined : lock.block!(c)),
      run: (c) => {
        if (c.page(c.num('pfn')).locker !== NONE) { dropMmap(c); c.goto('lock'); return; }
        if (!c.num('fpin')) { lock.run(c); return; }
        // The mmap_lock was dropped (3281-3305): the same tests under the folio lock, and an
        // uptodate folio is not used: folio_unlock(folio); goto out_retry.
        const pfn = c.num('pfn');
        c.lockPage(pfn);
        const p = c.page(pfn);
        if (p.mapping !== c.num('file')) {
          c.effect(`pfn${pfn} got truncated: retry_find`);
          c.unlockPage(pfn); c.ref(pfn, -1); c.set('pfn', NONE);
          c.goto(c.num('ml') ? 'create' : 'ilock');
          return;
        }
        if (!(p.flags & PG.uptodate)) {
          if (!c.num('ml')) { c.unlockPage(pfn); c.ref(pfn, -1); c.set('pfn', NONE); c.goto('ilock'); return; }
          c.goto('read');
          return;
        }
        c.unlockPage(pfn);
        c.goto('out_retry');
      },
    },
    read: {
      ...read,
      label: 'page_not_uptodate: fpin = maybe_unlock_mmap_for_io(vmf, fpin); filemap_read_folio(): I/O done, folio_mark_uptodate(); folio_unlock(); if (fpin) goto out_retry; folio_put(folio); goto retry_find',
      acc: (c) => read.acc!(c),
      run: (c) => {
        dropMmap(c);
        if (!c.num('fpin')) { read.run(c); return; }
        const pfn = c.num('pfn');
        c.setFlag(pfn, 'uptodate', true);
        c.unlockPage(pfn);
        c.goto('out_retry');
      },
    },
    out_retry: {
      label: 'out_retry: if (folio) folio_put(folio); if (mapping_locked) filemap_invalidate_unlock_shared(mapping); if (fpin) fput(fpin); return ret | VM_FAULT_RETRY',
      where: 'mm/filemap.c filemap_fault()',
      acc: (c) => [...(c.num('pfn') === NONE ? [] : [w(`${c.P(c.num('pfn'))}.refcount`)]), ...(c.num('ml') ? [release(invLockLoc(c))] : [])],
      run: (c) => {
        const file = c.num('file');
        if (c.num('pfn') !== NONE) c.ref(c.num('pfn'), -1);
        if (c.num('ml')) c.updMap(file, { invalidateLock: c.dropLock(c.map(file).invalidateLock, true) }, 'invalidate_lock -shared');
        c.set('pfn', NONE); c.set('ml', 0); c.set('fpin', 0); c.set('tried', 1);
        c.goto('again');
      },
    },
    again: {
      label: 'VM_FAULT_RETRY: do_user_addr_fault(): flags |= FAULT_FLAG_TRIED; mmap_read_lock(mm); handle_mm_fault() → handle_pte_fault: entry = *pte; pte_none(entry) → do_fault',
      where: 'arch/x86/mm/fault.c do_user_addr_fault()',
      acc: (c) => [pteAcc(c, 'read')],
      run: (c) => {
        const { vma, i } = faultSite(c);
        if (c.pte(vma.id, i) !== NONE) { c.effect('PTE already present'); faultEnd(c, FAULT_OK); return; }
        again(c);
      },
    },
  };
  return { ...proc, steps };
}
