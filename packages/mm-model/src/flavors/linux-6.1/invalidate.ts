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
import { notOnThisPath } from '../../kernel/marks.js';
import { folioFlag, folioLock, folioMapping, xaFindMarks } from '../../kernel/marks6.js';

const FLE = 'mm/filemap.c find_lock_entries() 6.1.192';

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
  steps: {
    lookup: {
      label: (c) => (c.num('begun') ? 'while (find_get_entries(mapping, &index, end, &fbatch, indices))'
        : 'if (mapping_empty(mapping)) return 0; while (find_get_entries(mapping, &index, end, &fbatch, indices))'),
      acc: (c) => {
        const b = batchFrom(c);
        return b.length ? lookupAcc(c, c.num('file'), b) : [...lookupAcc(c, c.num('file'), []), ...coherentAcc(c, c.num('file'), c.num('start'), c.num('end'))];
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
      acc: (c) => (c.num('didRangeUnmap') ? [] : [r(`${c.P(folio(c))}.mapcount`)]),
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
      acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`), r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.P(c.num('pfn'))}.flags.writeback`)],
      block: (c) => c.pageLockHeld(c.num('pfn')),
      run: (c) => {
        const pfn = c.num('pfn');
        c.lockPage(pfn);
        if (c.page(pfn).mapping !== c.num('file')) { c.unlockPage(pfn); nextFolio(c, 'premap', 'release'); return; }
        c.goto('mapped');
      },
    },
    mapped: {
      label: 'if (folio_mapped(folio)) unmap_mapping_folio(folio)',
      acc: (c) => [r(`${c.P(c.num('pfn'))}.mapcount`)],
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
      acc: (c) => [r(`${c.P(c.num('pfn'))}.mapcount`)],
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
      label: 'ret2 = do_launder_folio(); invalidate_complete_folio2(): xa_lock_irq(); if (folio_test_dirty(folio)) goto failed; __filemap_remove_folio(); filemap_free_folio(); folio_unlock(folio)',
      acc: (c) => {
        const P = c.P(c.num('pfn'));
        return [r(`${P}.mapping`), w(`${P}.flags.private`), r(`${P}.flags.dirty`), w(`${c.M(c.num('file'))}.tree_lock`),
          ...removeAcc(c, c.num('pfn')), w(`${P}.refcount`), release(`lock:${P}`)];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const p = c.page(pfn);
        let ok = p.mapping === c.num('file');
        if (ok && (p.flags & PG.private)) {
          if (p.flags & PG.dirty) ok = false; else c.setFlag(pfn, 'private', false);
        }
        if (ok && (p.flags & PG.dirty)) ok = false;
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
      acc: (c) => c.list('batch').map((p) => w(`${c.P(p)}.refcount`)),
      run: (c) => { putAll(c, c.list('batch')); c.set('batch', []); c.goto('lookup'); },
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
  steps: {
    get: {
      label: 'folio = find_get_entry(&xas, end, XA_PRESENT) [RCU, folio_try_get_rcu]',
      acc: (c) => {
        // a full batch ends the loop before the next xas_find (folio_batch_add returned 0: break)
        if (c.list('batch').length >= PAGEVEC_SIZE_6_1) return lookupAcc(c, c.num('file'), []).map((a) => notOnThisPath(a, 'the batch is full'));
        const pv = gangLookup(c, c.num('file'), c.num('xi'), c.num('end'), 1);
        return xaFindMarks(c, c.num('file'), c.num('xi'), c.num('end'), pv, lookupAcc(c, c.num('file'), pv).slice(1), `${FLE}: find_get_entry() (mm/filemap.c:2123, 2030-2049)`);
      },
      run: (c) => {
        const pv = c.list('batch').length >= PAGEVEC_SIZE_6_1 ? [] : gangLookup(c, c.num('file'), c.num('xi'), c.num('end'), 1);
        if (pv.length === 0) { c.ret(c.list('batch')); return; }
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
        const pfn = c.num('pfn'); const P = c.P(pfn);
        const a = [acquire(`lock:${P}`), r(`${P}.mapping`), r(`${P}.flags.writeback`), w(`${P}.refcount`)];
        const p = c.page(pfn);
        // a failed trylock, or a folio that is given back (unlock; put): left unmarked (smp_mb() in a derived test)
        if (p.locker !== NONE || p.mapping !== c.num('file') || (p.flags & PG.writeback)) return a;
        return [folioLock(a[0]!, `${FLE}: if (!folio_trylock(folio)) goto put (mm/filemap.c:2129)`),
          folioMapping(c, a[1]!, pfn, `${FLE}: if (folio->mapping != mapping || (mm/filemap.c:2131)`),
          folioFlag(c, a[2]!, pfn, 'writeback', `${FLE}: folio_test_writeback(folio)) goto unlock (mm/filemap.c:2132)`),
          notOnThisPath(a[3]!, 'the folio is kept in the batch: no folio_put')];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).locker !== NONE) { c.ref(pfn, -1); c.goto('get'); return; }
        c.lockPage(pfn);
        const p = c.page(pfn);
        if (p.mapping !== c.num('file') || (p.flags & PG.writeback)) { c.unlockPage(pfn); c.ref(pfn, -1); c.goto('get'); return; }
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
  if ('nrpv' in c.l) c.set('nrpv', c.num('nrpv') + 1);
}

export const invalidateMappingPages61: Proc = {
  fn: 'mapping_try_invalidate',
  where: 'mm/truncate.c',
  entry: 'lookup',
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
          c.ret('nrpv' in c.l ? c.num('nrpv') : c.num('count'));
          return;
        }
        c.set('batch', b); c.set('j', 0);
        c.set('index', c.page(b[b.length - 1]!).index + 1);
        c.goto('evict');
      },
    },
    evict: {
      label: 'mapping_evict_folio(): if (folio_test_dirty(folio) || folio_test_writeback(folio)) return 0; if (folio_ref_count(folio) > folio_nr_pages(folio) + folio_has_private(folio) + 1) return 0',
      acc: (c) => {
        const P = c.P(folio(c));
        return [r(`${P}.flags.dirty`), r(`${P}.flags.writeback`), r(`${P}.flags.private`), r(`${P}.refcount`)];
      },
      run: (c) => {
        const pfn = folio(c);
        c.set('pfn', pfn);
        const p = c.page(pfn);
        const priv = (p.flags & PG.private) ? 1 : 0;
        if ((p.flags & (PG.dirty | PG.writeback)) || p.refcount > 1 + priv + 1) {
          c.effect(`pfn${pfn} busy (count ${p.refcount}): kept`);
          failed(c);
          c.goto('unlock');
          return;
        }
        c.goto('remove');
      },
    },
    remove: {
      label: 'remove_mapping(): xa_lock_irq(); if (!folio_ref_freeze(folio, 2)) goto cannot_free; if (folio_test_dirty(folio)) ...; __filemap_remove_folio(); folio_ref_unfreeze(folio, 1); folio_unlock(folio)',
      where: 'mm/vmscan.c __remove_mapping()',
      acc: (c) => {
        const P = c.P(c.num('pfn'));
        return [w(`${P}.refcount`), r(`${P}.flags.dirty`), w(`${P}.flags.private`), w(`${c.M(c.num('file'))}.tree_lock`), ...removeAcc(c, c.num('pfn')), release(`lock:${P}`)];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const p = c.page(pfn);
        if (p.flags & PG.private) c.setFlag(pfn, 'private', false); // filemap_release_folio()
        if (p.refcount === 2 && !(p.flags & PG.dirty)) {
          c.removeFromCache(pfn);
          c.ref(pfn, -1); // the frozen cache reference: unfrozen at 1, ours
          c.set('count', c.num('count') + 1);
        } else { c.effect(`folio_ref_freeze(2) failed (count ${p.refcount})`); failed(c); }
        c.unlockPage(pfn);
        nextFolio(c, 'evict', 'release');
      },
    },
    unlock: {
      label: 'folio_unlock(folio); deactivate_file_folio(folio)',
      acc: (c) => [release(`lock:${c.P(c.num('pfn'))}`)],
      run: (c) => { c.unlockPage(c.num('pfn')); nextFolio(c, 'evict', 'release'); },
    },
    release: {
      label: 'folio_batch_release(&fbatch); cond_resched()',
      acc: (c) => c.list('batch').map((p) => w(`${c.P(p)}.refcount`)),
      run: (c) => { putAll(c, c.list('batch')); c.set('batch', []); c.goto('lookup'); },
    },
  },
};

