/**
 * linux-6.1 mm/truncate.c invalidation. invalidate_inode_pages2_range: per folio (reference,
 * no lock) unmap the rest of the range first if mapped; lock; skip if the mapping changed;
 * wait for writeback; unmap_mapping_folio if still mapped; BUG_ON(folio_mapped); launder;
 * invalidate_complete_folio2 (removal under the xarray lock, refcounts ignored); unlock.
 * invalidate_mapping_pages (mapping_try_invalidate): find_lock_entries trylocks a batch;
 * mapping_evict_folio refuses dirty, writeback, or extra references (a mapped folio's PTEs
 * hold references); remove_mapping freezes the refcount at 2 and removes it.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { EBUSY, PAGEVEC_SIZE_6_1, coherentAcc, gangLookup, lookupAcc, putAll, removeAcc } from '../../kernel/lib.js';
import { callUnmap } from '../../kernel/unmap.js';
import { folio, nextFolio, takeBatch } from '../../kernel/batch.js';
import { ghost, notOnThisPath, treeLock } from '../../kernel/marks.js';
import { deleteMarks, flagTestOrStore, folioFlag, folioLock, folioMapped, folioMapping, folioPut, folioUnlock, xaFindMarks } from '../../kernel/marks6.js';
import { lk } from '../../program.js';

const FLE = 'mm/filemap.c find_lock_entries() 6.1.192';
const II2 = 'mm/truncate.c invalidate_inode_pages2_range() 6.1.192';
const IMP = 'mm/truncate.c invalidate_mapping_pagevec() 6.1.192';
const EVICT = 'mm/truncate.c mapping_evict_folio() 6.1.192';
const XA_LOCK = 'xa_lock_irq(&mapping->i_pages): the lock the accesses below carry (under)';

const FN2 = 'invalidate_inode_pages2_range' as const;
const FNM = 'invalidate_mapping_pages' as const;

export function inval2Locals61(file: number, start: number, end: number) {
  return { file, start, end, index: start, batch: [], j: 0, ret: 0, didRangeUnmap: 0, pfn: NONE, begun: 0 };
}

function batchFrom(c: Ctx): number[] {
  const index = c.num('index');
  return index > c.num('end') ? [] : gangLookup(c, c.num('file'), index, c.num('end'), PAGEVEC_SIZE_6_1);
}

export const invalidateInodePages2Range61: Proc = {
  fn: FN2,
  where: 'mm/truncate.c',
  entry: 'lookup',
  // `pfn` is the folio of one loop iteration (mm/truncate.c:667-713, 6.1.192), set by `premap`
  // before any step reads it; `rv` is what an unmap_mapping_pages/_folio call returned (void in
  // C: never read); at `release` the batch is done, and the next lookup sets the cursor `j` again.
  dead: { premap: ['pfn', 'rv'], mapped: ['rv'], remove: ['rv'], release: ['j', 'pfn', 'rv'] },
  bugs: { [FN2]: 'BUG_ON(folio_mapped(folio)) (mm/truncate.c:701, 6.1.192)' },
  // a folio is split only with its refcount frozen, so the lookup's reference keeps it whole: no
  // step checks this one (a CONFIG_DEBUG_VM check, as syzbot's kernels have)
  bugsUnchecked: { [FN2]: ['VM_BUG_ON_FOLIO(!folio_contains(folio, index), folio) (mm/truncate.c:692, 6.1.192)'] },
  steps: {
    lookup: {
      label: (c) =>
        c.num('begun')
          ? 'while (find_get_entries(mapping, &index, end, &fbatch, indices))'
          : 'if (mapping_empty(mapping)) return 0; while (find_get_entries(mapping, &index, end, &fbatch, indices))',
      acc: (c) => {
        const b = batchFrom(c);
        const cite = `${II2}: find_get_entries() (mm/truncate.c:667) → find_get_entry() (mm/filemap.c:2030-2049)`;
        if (c.num('index') > c.num('end'))
          return [
            ghost(r(`${c.M(c.num('file'))}.tree`), 'index > end: find_get_entries() loads nothing'),
            ...coherentAcc(c, c.num('file'), c.num('start'), c.num('end')).map((a) => ghost(a, 'the stale-after-invalidate judgement')),
          ];
        const found = xaFindMarks(c, c.num('file'), c.num('index'), c.num('end'), b, lookupAcc(c, c.num('file'), b).slice(1), cite);
        return b.length
          ? found
          : [...found, ...coherentAcc(c, c.num('file'), c.num('start'), c.num('end')).map((a) => ghost(a, 'the stale-after-invalidate judgement'))];
      },
      run: (c) => {
        const file = c.num('file');
        if (!c.num('begun')) {
          c.op({ kind: 'invalidate_begin', fn: FN2, file: c.fileRef(file), start: c.num('start'), end: c.num('end') });
          c.set('begun', 1);
        }
        const b = batchFrom(c);
        if (b.length === 0) {
          const ret = c.num('ret');
          c.op({ kind: 'invalidate_end', fn: FN2, file: c.fileRef(file), ret });
          if (ret === 0) c.promiseCoherent(file, c.num('start'), c.num('end'), FN2);
          c.ret(ret);
          return;
        }
        takeBatch(c, b, 'premap');
      },
    },
    premap: {
      label: 'if (!did_range_unmap && folio_mapped(folio)) { unmap_mapping_pages(mapping, indices[i], 1 + end - indices[i], false); did_range_unmap = 1; }',
      acc: (c) =>
        c.num('didRangeUnmap')
          ? []
          : [folioMapped(c, r(`${c.P(folio(c))}.mapcount`), folio(c), `${II2}: if (!did_range_unmap && folio_mapped(folio)) (mm/truncate.c:681)`)],
      run: (c) => {
        const pfn = folio(c);
        c.set('pfn', pfn);
        if (!c.num('didRangeUnmap') && c.mapped(pfn)) {
          c.set('didRangeUnmap', 1);
          callUnmap(c, 'unmap_mapping_pages', c.num('file'), c.page(pfn).index, c.num('end'), false, 'lock');
        } else c.goto('lock');
      },
    },
    lock: {
      label: 'folio_lock(folio); if (folio->mapping != mapping) { folio_unlock(folio); continue; } folio_wait_writeback(folio)',
      acc: (c) => {
        const pfn = c.num('pfn');
        const P = c.P(pfn);
        const ours = c.page(pfn).mapping === c.num('file');
        return [
          folioLock(acquire(`lock:${P}`), `${II2}: folio_lock(folio) (mm/truncate.c:691)`),
          folioMapping(c, r(`${P}.mapping`), pfn, `${II2}: if (folio->mapping != mapping) (mm/truncate.c:693)`),
          ours
            ? folioFlag(c, r(`${P}.flags.writeback`), pfn, 'writeback', `${II2}: folio_wait_writeback(folio) (mm/truncate.c:697)`)
            : notOnThisPath(r(`${P}.flags.writeback`), 'the folio was removed: folio_unlock; continue'),
        ];
      },
      block: (c) => c.pageLockHeld(c.num('pfn')),
      run: (c) => {
        const pfn = c.num('pfn');
        c.lockPage(pfn);
        if (c.page(pfn).mapping !== c.num('file')) {
          c.unlockPage(pfn);
          nextFolio(c, 'premap', 'release');
          return;
        }
        c.goto('mapped');
      },
    },
    mapped: {
      label: 'if (folio_mapped(folio)) unmap_mapping_folio(folio)',
      acc: (c) => [folioMapped(c, r(`${c.P(c.num('pfn'))}.mapcount`), c.num('pfn'), `${II2}: if (folio_mapped(folio)) (mm/truncate.c:699)`)],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.mapped(pfn)) {
          const ix = c.page(pfn).index;
          callUnmap(c, 'unmap_mapping_folio', c.num('file'), ix, ix, false, 'bugon');
        } else c.goto('bugon');
      },
    },
    bugon: {
      label: 'BUG_ON(folio_mapped(folio))',
      acc: (c) => [folioMapped(c, r(`${c.P(c.num('pfn'))}.mapcount`), c.num('pfn'), `${II2}: BUG_ON(folio_mapped(folio)) (mm/truncate.c:701)`)],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.mapped(pfn)) {
          c.bug(`invalidate_inode_pages2_range: BUG_ON(folio_mapped(folio)) for pfn ${pfn}`, { file: c.num('file'), index: c.page(pfn).index, pfn });
          return;
        }
        c.goto('remove');
      },
    },
    remove: {
      label:
        'ret2 = do_launder_folio(); invalidate_complete_folio2(): xa_lock_irq(); if (folio_test_dirty(folio)) goto failed; __filemap_remove_folio(); filemap_free_folio(); folio_unlock(folio)',
      acc: (c) => {
        const pfn = c.num('pfn');
        const P = c.P(pfn);
        const p = c.page(pfn);
        const a = [
          r(`${P}.mapping`),
          w(`${P}.flags.private`),
          r(`${P}.flags.dirty`),
          w(`${c.M(c.num('file'))}.tree_lock`),
          ...removeAcc(c, pfn),
          w(`${P}.refcount`),
          release(`lock:${P}`),
        ];
        // removed only when the mapping is still ours and the folio clean (PG_private set: filemap_release_folio stores; left unmarked)
        if (p.mapping !== c.num('file') || p.flags & (PG.dirty | PG.private)) return a;
        const C2 = 'mm/truncate.c invalidate_complete_folio2() 6.1.192';
        return [
          folioMapping(c, a[0]!, pfn, `${C2}: if (folio->mapping != mapping) (mm/truncate.c:605)`),
          flagTestOrStore(c, a[1]!, pfn, 'private', `${C2}: filemap_release_folio() (mm/truncate.c:608): folio_needs_release()`),
          lk(a[2]!, 'READ_ONCE', 0, `${C2}: if (folio_test_dirty(folio)) (mm/truncate.c:613), test_bit under xa_lock`, { under: treeLock(c, c.num('file')) }),
          ghost(a[3]!, XA_LOCK),
          ...deleteMarks(c, removeAcc(c, pfn), pfn, false),
          folioPut(c, a[a.length - 2]!, pfn, `${C2}: filemap_free_folio() (mm/truncate.c:623) → folio_put_refs()`),
          folioUnlock(a[a.length - 1]!, `${II2}: folio_unlock(folio) (mm/truncate.c:710)`),
        ];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const p = c.page(pfn);
        let ok = p.mapping === c.num('file');
        if (ok && p.flags & PG.private) {
          if (p.flags & PG.dirty) ok = false;
          else c.detachPrivate(pfn);
        }
        if (ok && p.flags & PG.dirty) ok = false;
        if (ok) {
          c.removeFromCache(pfn);
          c.ref(pfn, -1);
        } else c.set('ret', EBUSY);
        c.unlockPage(pfn);
        nextFolio(c, 'premap', 'release');
      },
    },
    release: {
      label: 'folio_batch_release(&fbatch); cond_resched()',
      acc: (c) =>
        c
          .list('batch')
          .map((p) => folioPut(c, w(`${c.P(p)}.refcount`), p, `${II2}: folio_batch_release(&fbatch) (mm/truncate.c:713) → release_pages() (mm/swap.c:1005)`)),
      run: (c) => {
        putAll(c, c.list('batch'));
        c.set('batch', []);
        c.goto('lookup');
      },
    },
  },
};

/**
 * find_lock_entries(mapping, &start, end, fbatch): one xarray entry at a time, a
 * speculative reference, a trylock (skip a locked folio), skip one whose mapping changed or
 * that is under writeback. Returns the locked folios (each with a reference).
 */
export const findLockEntries61: Proc = {
  fn: 'find_lock_entries',
  where: 'mm/filemap.c',
  entry: 'get',
  // the folio of one loop iteration: `get` sets it before `trylock` reads it (mm/filemap.c:2123-2132, 6.1.192)
  dead: { get: ['pfn'] },
  steps: {
    get: {
      label: 'folio = find_get_entry(&xas, end, XA_PRESENT) [RCU, folio_try_get_rcu]',
      acc: (c) => {
        // a full batch ends the loop before the next xas_find (folio_batch_add returned 0: break)
        if (c.list('batch').length >= PAGEVEC_SIZE_6_1) return lookupAcc(c, c.num('file'), []).map((a) => notOnThisPath(a, 'the batch is full'));
        const pv = gangLookup(c, c.num('file'), c.num('xi'), c.num('end'), 1);
        return xaFindMarks(
          c,
          c.num('file'),
          c.num('xi'),
          c.num('end'),
          pv,
          lookupAcc(c, c.num('file'), pv).slice(1),
          `${FLE}: find_get_entry() (mm/filemap.c:2123, 2030-2049)`,
        );
      },
      run: (c) => {
        const pv = c.list('batch').length >= PAGEVEC_SIZE_6_1 ? [] : gangLookup(c, c.num('file'), c.num('xi'), c.num('end'), 1);
        if (pv.length === 0) {
          c.ret(c.list('batch'));
          return;
        }
        const pfn = pv[0]!;
        c.ref(pfn, 1);
        c.set('pfn', pfn);
        c.set('xi', c.page(pfn).index + 1);
        c.goto('trylock');
      },
    },
    trylock: {
      label: 'if (!folio_trylock(folio)) goto put; if (folio->mapping != mapping || folio_test_writeback(folio)) goto unlock',
      acc: (c) => {
        const pfn = c.num('pfn');
        const P = c.P(pfn);
        const a = [acquire(`lock:${P}`), r(`${P}.mapping`), r(`${P}.flags.writeback`), w(`${P}.refcount`)];
        const p = c.page(pfn);
        // a failed trylock, or a folio that is given back (unlock; put): left unmarked (smp_mb() in a derived test)
        if (p.locker !== NONE || p.mapping !== c.num('file') || p.flags & PG.writeback) return a;
        return [
          folioLock(a[0]!, `${FLE}: if (!folio_trylock(folio)) goto put (mm/filemap.c:2129)`),
          folioMapping(c, a[1]!, pfn, `${FLE}: if (folio->mapping != mapping || (mm/filemap.c:2131)`),
          folioFlag(c, a[2]!, pfn, 'writeback', `${FLE}: folio_test_writeback(folio)) goto unlock (mm/filemap.c:2132)`),
          notOnThisPath(a[3]!, 'the folio is kept in the batch: no folio_put'),
        ];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).locker !== NONE) {
          c.ref(pfn, -1);
          c.goto('get');
          return;
        }
        c.lockPage(pfn);
        const p = c.page(pfn);
        if (p.mapping !== c.num('file') || p.flags & PG.writeback) {
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          c.goto('get');
          return;
        }
        c.set('batch', [...c.list('batch'), pfn]);
        c.goto('get');
      },
    },
  },
};

export function callFindLockEntries(c: Ctx, index: number, end: number, then: string): void {
  c.call('find_lock_entries', 'get', { file: c.num('file'), xi: index, end, batch: [], pfn: NONE }, then);
}

export function invalMappingLocals61(file: number, start: number, end: number) {
  return { file, start, end, index: start, batch: [], j: 0, count: 0, pfn: NONE, begun: 0 };
}

/** mapping_evict_folio() returned 0: `if (nr_pagevec) (*nr_pagevec)++` (mm/truncate.c:561-562, 6.1.192) when the caller asked. */
function failed(c: Ctx): void {
  if (c.opt('nrpv') !== undefined) c.set('nrpv', c.num('nrpv') + 1);
}

export const invalidateMappingPages61: Proc = {
  fn: 'mapping_try_invalidate',
  where: 'mm/truncate.c',
  entry: 'lookup',
  // `rv` is find_lock_entries' batch, copied to `batch` by `got`; `pfn` the folio of one iteration,
  // set by `evict`; `j` set by `got` for each batch (invalidate_mapping_pagevec(), mm/truncate.c 6.1.192)
  dead: { evict: ['rv'], release: ['pfn', 'j'] },
  steps: {
    lookup: {
      label: 'while (find_lock_entries(mapping, &index, end, &fbatch, indices))',
      run: (c) => {
        if (!c.num('begun')) {
          c.op({ kind: 'invalidate_begin', fn: FNM, file: c.fileRef(c.num('file')), start: c.num('start'), end: c.num('end') });
          c.set('begun', 1);
        }
        callFindLockEntries(c, c.num('index'), c.num('end'), 'got');
      },
    },
    got: {
      label: 'for each locked folio in fbatch',
      run: (c) => {
        const b = c.list('rv');
        if (b.length === 0) {
          c.op({ kind: 'invalidate_end', fn: FNM, file: c.fileRef(c.num('file')), ret: c.num('count') });
          // invalidate_mapping_pagevec's out parameter *nr_pagevec (fadvise's call, local `nrpv`) is what its caller reads
          c.ret(c.opt('nrpv') !== undefined ? c.num('nrpv') : c.num('count'));
          return;
        }
        c.set('batch', b);
        c.set('j', 0);
        c.set('index', c.page(b[b.length - 1]!).index + 1);
        c.goto('evict');
      },
    },
    evict: {
      label:
        'mapping_evict_folio(): if (folio_test_dirty(folio) || folio_test_writeback(folio)) return 0; if (folio_ref_count(folio) > folio_nr_pages(folio) + folio_has_private(folio) + 1) return 0',
      acc: (c) => {
        const pfn = folio(c);
        const P = c.P(pfn);
        const p = c.page(pfn);
        const a = [r(`${P}.flags.dirty`), r(`${P}.flags.writeback`), r(`${P}.flags.private`), r(`${P}.refcount`)];
        // the tests stop at the first that fails (||, return 0)
        if (p.flags & (PG.dirty | PG.writeback)) return a;
        return [
          folioFlag(c, a[0]!, pfn, 'dirty', `${EVICT}: if (folio_test_dirty(folio) (mm/truncate.c:297)`),
          folioFlag(c, a[1]!, pfn, 'writeback', `${EVICT}: || folio_test_writeback(folio)) (mm/truncate.c:297)`),
          folioFlag(c, a[2]!, pfn, 'private', `${EVICT}: folio_has_private(folio) (mm/truncate.c:301)`),
          lk(a[3]!, 'atomic_read', p.refcount, `${EVICT}: if (folio_ref_count(folio) > ...) (mm/truncate.c:300): atomic_read(&folio->_refcount)`),
        ];
      },
      run: (c) => {
        const pfn = folio(c);
        c.set('pfn', pfn);
        const p = c.page(pfn);
        const priv = p.flags & PG.private ? 1 : 0;
        if (p.flags & (PG.dirty | PG.writeback) || p.refcount > 1 + priv + 1) {
          c.effect(`pfn${pfn} busy (count ${p.refcount}): kept`);
          failed(c);
          c.goto('unlock');
          return;
        }
        c.goto('remove');
      },
    },
    remove: {
      label:
        'remove_mapping(): xa_lock_irq(); if (!folio_ref_freeze(folio, 2)) goto cannot_free; if (folio_test_dirty(folio)) ...; __filemap_remove_folio(); folio_ref_unfreeze(folio, 1); folio_unlock(folio)',
      where: 'mm/vmscan.c __remove_mapping()',
      acc: (c) => {
        const pfn = c.num('pfn');
        const P = c.P(pfn);
        const p = c.page(pfn);
        const a = [
          w(`${P}.refcount`),
          r(`${P}.flags.dirty`),
          w(`${P}.flags.private`),
          w(`${c.M(c.num('file'))}.tree_lock`),
          ...removeAcc(c, pfn),
          release(`lock:${P}`),
        ];
        // the removal path only (refcount 2, clean, no private data); a failed freeze is left unmarked
        if (p.refcount !== 2 || p.flags & (PG.dirty | PG.private) || p.mapping === NONE) return a;
        const RM = 'mm/vmscan.c __remove_mapping() 6.1.192';
        const L = { under: treeLock(c, p.mapping) };
        return [
          flagTestOrStore(c, a[2]!, pfn, 'private', `${EVICT}: filemap_release_folio(folio, 0) (mm/truncate.c:303)`),
          ghost(a[3]!, XA_LOCK),
          // folio_ref_freeze(folio, 2) = atomic_cmpxchg(&folio->_refcount, 2, 0) == 2: on success (the condition) an xchg to 0, fully ordered
          lk(
            a[0]!,
            'xchg',
            2,
            `${RM}: if (!folio_ref_freeze(folio, refcount)) (mm/vmscan.c:1349): atomic_cmpxchg(), fully ordered; as xchg(x, 0) when it reads 2`,
            L,
          ),
          lk(a[1]!, 'READ_ONCE', 0, `${RM}: if (unlikely(folio_test_dirty(folio))) (mm/vmscan.c:1352)`, L),
          ...deleteMarks(c, removeAcc(c, pfn), pfn, false),
          lk(
            w(`${P}.refcount`),
            'smp_store_release',
            1,
            'mm/vmscan.c remove_mapping() 6.1.192: folio_ref_unfreeze(folio, 1): atomic_set_release(&folio->_refcount, 1)',
          ),
          folioUnlock(a[a.length - 1]!, `${IMP}: folio_unlock(folio) (mm/truncate.c:553)`),
        ];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const p = c.page(pfn);
        c.detachPrivate(pfn); // filemap_release_folio() (mm/truncate.c:303), before remove_mapping's freeze
        if (c.page(pfn).refcount === 2 && !(p.flags & PG.dirty)) {
          c.removeFromCache(pfn);
          c.ref(pfn, -1); // the frozen cache reference: unfrozen at 1, ours
          c.set('count', c.num('count') + 1);
        } else {
          c.effect(`folio_ref_freeze(2) failed (count ${p.refcount})`);
          failed(c);
        }
        c.unlockPage(pfn);
        nextFolio(c, 'evict', 'release');
      },
    },
    unlock: {
      label: 'folio_unlock(folio); deactivate_file_folio(folio)',
      acc: (c) => [folioUnlock(release(`lock:${c.P(c.num('pfn'))}`), `${IMP}: folio_unlock(folio) (mm/truncate.c:553)`)],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        nextFolio(c, 'evict', 'release');
      },
    },
    release: {
      label: 'folio_batch_release(&fbatch); cond_resched()',
      acc: (c) =>
        c
          .list('batch')
          .map((p) => folioPut(c, w(`${c.P(p)}.refcount`), p, `${IMP}: folio_batch_release(&fbatch) (mm/truncate.c:568) → release_pages() (mm/swap.c:1005)`)),
      run: (c) => {
        putAll(c, c.list('batch'));
        c.set('batch', []);
        c.goto('lookup');
      },
    },
  },
};
