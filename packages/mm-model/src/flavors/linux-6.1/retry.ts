/**
 * linux-6.1 VM_FAULT_RETRY (Debian 6.1.192 line numbers). A user fault runs with
 * FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE (FAULT_FLAG_DEFAULT, never RETRY_NOWAIT:
 * arch/x86/mm/fault.c:1326-1328), so on its first try filemap_fault (mm/filemap.c:3219) drops
 * the mmap_lock before it sleeps, through maybe_unlock_mmap_for_io (mm/internal.h:639-658:
 * `if (fault_flag_allow_retry_first(flags) && !RETRY_NOWAIT) { fpin = get_file(); mmap_read_unlock(); }`),
 * and then hands back VM_FAULT_RETRY instead of the page:
 *
 * - the folio lock is contended: lock_folio_maybe_drop_mmap (mm/filemap.c:3063-3093) —
 *   folio_trylock failed (3066), `*fpin = maybe_unlock_mmap_for_io(vmf, *fpin)` (3077), then
 *   __folio_lock_killable (3079): the task sleeps until the folio is unlocked and *takes* the
 *   lock (it is __folio_lock_or_retry, mm/filemap.c:1736, not used by filemap_fault, that only
 *   waits); the truncation and uptodate tests run as usual (3280-3298), and an uptodate folio
 *   is not used: `if (fpin) { folio_unlock(folio); goto out_retry; }` (3311-3314);
 * - the folio is not uptodate: page_not_uptodate (3339: maybe_unlock_mmap_for_io;
 *   filemap_read_folio; 3341 `if (fpin) goto out_retry`).
 *
 * A missing folio does not drop the mmap_lock in the model: do_sync_mmap_readahead returns
 * NULL before maybe_unlock_mmap_for_io for a VM_RAND_READ (MADV_RANDOM) mapping (3132-3133),
 * and do_async_mmap_readahead likewise (3182-3183) — the model's readahead-off configuration
 * (docs/flavors.md). The miss still retries: the folio it creates is not uptodate, so
 * page_not_uptodate drops the mmap_lock on the first try.
 *
 * out_retry (3351-3363): folio_put, filemap_invalidate_unlock_shared if held, fput, `return
 * ret | VM_FAULT_RETRY`; do_read_fault / do_shared_fault hand it up (mm/memory.c:4631,
 * 4686), and do_user_addr_fault (arch/x86/mm/fault.c:1361-1364) sets FAULT_FLAG_TRIED and
 * `goto retry`: lock_mm_and_find_vma (mmap_read_lock again, 1310), handle_mm_fault →
 * handle_pte_fault → do_fault → do_read_fault, fault-around (filemap_map_pages) first. With
 * FAULT_FLAG_TRIED, fault_flag_allow_retry_first is false (include/linux/mm.h:465-469): the
 * second try keeps the mmap_lock, sleeps on the folio lock and reads in place. A write fault
 * (do_shared_fault) retries the same way without fault-around; if its retried PTE walk finds
 * a PTE, the fault ends and the store walks the PTE again (its write-protect fault, if the
 * page is clean), as a first try that finds a PTE does in the model.
 *
 * The mmap_lock itself is not in the model's state: nothing modelled takes it for writing
 * (no mmap, munmap or mprotect program), and a fault holds it shared, so holding or dropping
 * it changes no schedule the model can run. What the drop changes is what the fault does
 * next: it gives up what it found and starts again, and everything between the drop and the
 * retried PTE walk may run in between. Locals: `tried` (FAULT_FLAG_TRIED), `fpin` (the
 * mmap_lock was dropped, the file pinned). A retry starts the fault over with the locals its
 * first try began with (`pfn` NONE, `ml`/`fpin`/`rv` 0) and `tried` 1 — what the kernel
 * keeps across the retry is the flag, nothing else — so retried faults that reached the same
 * shared state are the same model state, whatever their first try did.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { markOrigPte } from './fault.js';
import { FAULT_OK, dropInvalidateLock, faultEnd, faultSite, pteAcc } from '../../kernel/lib.js';
import { folioPut, rwsemUnlock } from '../../kernel/marks6.js';
import { readIoMarks } from './read.js';

const FF = 'mm/filemap.c filemap_fault() 6.1.192';

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;
const P = (c: Ctx) => c.P(c.num('pfn'));

/** The fault's entry locals for the retry: FAULT_FLAG_TRIED clear, no file pinned. */
export const RETRY_LOCALS = { tried: 0, fpin: 0 } as const;

/** fault_flag_allow_retry_first() and no fpin yet: maybe_unlock_mmap_for_io would drop the mmap_lock now. */
const firstTry = (c: Ctx) => !c.num('tried') && !c.num('fpin');

/** lock_folio_maybe_drop_mmap's folio_trylock fails on the first try: it will drop the mmap_lock. */
const trylockFails = (c: Ctx) => firstTry(c) && c.page(c.num('pfn')).locker !== NONE;

/** maybe_unlock_mmap_for_io(): on the first try the file is pinned and the mmap_lock dropped. */
function dropMmap(c: Ctx): void {
  if (!firstTry(c)) return;
  c.set('fpin', 1);
  c.effect('maybe_unlock_mmap_for_io(): fpin = get_file(vm_file); mmap_read_unlock(mm): the fault will return VM_FAULT_RETRY');
}

/**
 * `proc` (a 6.1 fault running filemap_fault's steps get, lock, read, read_wait from fault.ts) with the
 * retry; `again` goes on with a retried fault whose PTE walk found pte_none (do_fault).
 */
export function withFaultRetry(proc: Proc, again: (c: Ctx) => void): Proc {
  const s = proc.steps;
  const lock = s.lock!;
  const read = s.read!;
  const readWait = s.read_wait!;
  const text = (st: StepDef, c: Ctx) => (typeof st.label === 'string' ? st.label : st.label(c));
  const lockLabel = (c: Ctx) => text(lock, c);
  const steps: Record<string, StepDef> = {
    ...s,
    lock: {
      label: (c) =>
        trylockFails(c)
          ? 'lock_folio_maybe_drop_mmap(): folio_trylock(folio) failed; *fpin = maybe_unlock_mmap_for_io(vmf, *fpin): mmap_read_unlock(mm); then __folio_lock_killable(folio)'
          : c.num('fpin')
            ? `${lockLabel(c)}; if (fpin) { folio_unlock(folio); goto out_retry; }`
            : lockLabel(c),
      where: 'mm/filemap.c:3063-3093 lock_folio_maybe_drop_mmap(), 3276-3314 filemap_fault()',
      acc: (c) => {
        if (trylockFails(c)) return [r(`lock:${P(c)}`)];
        if (!c.num('fpin')) return lock.acc!(c);
        const p = c.page(c.num('pfn'));
        const use = p.mapping === c.num('file') && p.flags & PG.uptodate;
        return [
          acquire(`lock:${P(c)}`),
          r(`${P(c)}.mapping`),
          r(`${P(c)}.flags.uptodate`),
          ...(use ? [release(`lock:${P(c)}`)] : p.mapping !== c.num('file') || !c.num('ml') ? [release(`lock:${P(c)}`), w(`${P(c)}.refcount`)] : []),
        ];
      },
      block: (c) => (trylockFails(c) ? undefined : lock.block!(c)),
      run: (c) => {
        if (trylockFails(c)) {
          dropMmap(c);
          c.goto('lock');
          return;
        }
        if (!c.num('fpin')) {
          const p = c.page(c.num('pfn'));
          const found = p.mapping === c.num('file') && p.flags & PG.uptodate;
          lock.run(c);
          // past the last point that reads FAULT_FLAG_TRIED: a retried fault is a fresh one from here
          if (found) c.set('tried', 0);
          return;
        }
        // fpin: the same tests under the folio lock (3280-3298); an uptodate folio is handed back.
        const pfn = c.num('pfn');
        const p = c.page(pfn);
        if (p.mapping === c.num('file') && p.flags & PG.uptodate) {
          c.lockPage(pfn);
          c.unlockPage(pfn);
          c.goto('out_retry');
          return;
        }
        lock.run(c);
      },
    },
    read: {
      label: (c) =>
        c.num('fpin') || firstTry(c)
          ? `page_not_uptodate: fpin = maybe_unlock_mmap_for_io(vmf, fpin): mmap_read_unlock(mm); ${text(read, c).replace(/^page_not_uptodate: /, '')}`
          : text(read, c),
      where: 'mm/filemap.c:3332-3340 filemap_fault() page_not_uptodate, 2473-2495 filemap_read_folio()',
      acc: (c) => read.acc!(c).map((a) => readIoMarks(c, a)),
      run: (c) => {
        dropMmap(c);
        read.run(c);
      },
    },
    read_wait: {
      label: (c) =>
        c.num('fpin')
          ? 'filemap_read_folio: folio_wait_locked_killable(folio) returns; folio_test_uptodate(folio); if (fpin) goto out_retry'
          : text(readWait, c),
      where: 'mm/filemap.c:2496-2503 filemap_read_folio(), 3341-3349 filemap_fault()',
      // with fpin the folio_put is out_retry's (3358), and the invalidate_lock is dropped there (3360)
      acc: (c) => (c.num('fpin') ? readWait.acc!(c).filter((a) => a.loc.endsWith('.flags.uptodate')) : readWait.acc!(c)),
      run: (c) => {
        if (!c.num('fpin')) {
          readWait.run(c);
          return;
        }
        c.goto('out_retry');
      },
    },
    out_retry: {
      label:
        'out_retry: if (folio) folio_put(folio); if (mapping_locked) filemap_invalidate_unlock_shared(mapping); if (fpin) fput(fpin); return ret | VM_FAULT_RETRY',
      where: 'mm/filemap.c:3351-3363 filemap_fault()',
      acc: (c) => [
        folioPut(c, w(`${P(c)}.refcount`), c.num('pfn'), `${FF}: out_retry: if (folio) folio_put(folio) (mm/filemap.c:3358)`),
        ...(c.num('ml')
          ? [rwsemUnlock(release(invLockLoc(c)), `${FF}: out_retry: if (mapping_locked) filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:3360)`)]
          : []),
      ],
      run: (c) => {
        c.ref(c.num('pfn'), -1);
        if (c.num('ml')) dropInvalidateLock(c, c.num('file'), true);
        // what survives the retry is FAULT_FLAG_TRIED; every other local starts as on the first try
        c.set('pfn', NONE);
        c.set('ml', 0);
        c.set('fpin', 0);
        c.set('rv', 0);
        c.set('tried', 1);
        c.goto('again');
      },
    },
    again: {
      label:
        'VM_FAULT_RETRY: do_user_addr_fault(): flags |= FAULT_FLAG_TRIED; goto retry: lock_mm_and_find_vma() [mmap_read_lock]; handle_mm_fault() → handle_pte_fault(): entry = *pte; pte_none(entry) → do_fault',
      where: 'arch/x86/mm/fault.c:1309-1364 do_user_addr_fault()',
      acc: (c) => [markOrigPte(c, pteAcc(c, 'read'))],
      run: (c) => {
        const { vma, i } = faultSite(c);
        if (c.pte(vma.id, i) !== NONE) {
          c.effect('PTE already present');
          faultEnd(c, FAULT_OK);
          return;
        }
        again(c);
      },
    },
  };
  return { ...proc, steps };
}
