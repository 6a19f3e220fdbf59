/**
 * linux-6.12 truncate with large folios, as ext4_setattr (fs/ext4/inode.c:5567-5656) and
 * xfs_setattr_size (under XFS_MMAPLOCK_EXCL, the same invalidate_lock) do it:
 * filemap_invalidate_lock; i_size_write; truncate_pagecache (mm/truncate.c:737-754):
 * unmap_mapping_range, truncate_inode_pages_range (329-430), unmap_mapping_range again.
 *
 * truncate_inode_pages_range: pass 1 trylocks batches of folios lying wholly inside the
 * range (find_lock_entries omits a large folio that begins before the start or ends past
 * the end, mm/filemap.c:2106-2111) and removes them; then the folio holding `lstart` is
 * locked (__filemap_get_folio(FGP_LOCK), 375-387) and truncate_inode_partial_folio
 * (218-257) zeroes its tail and splits it: split_folio first releases the folio's private data
 * (filemap_release_folio, mm/huge_memory.c:3617: -EBUSY when ->release_folio refuses, as it does
 * a dirty folio), refuses (-EAGAIN) when the folio has references beyond the page cache's, the
 * caller's and its mappings' (can_split_folio, 3442-3456, tested at 3649), else unmaps it
 * (unmap_folio, 3654), freezes its refcount (3671: fails if a lookup took a reference
 * meanwhile, 3720-3721) and splits it, dropping the pages at or past EOF from the page cache
 * (__split_huge_page, 3353-3361; `end` read at 3640). A split that failed:
 * - fa04f5b60fda (`unmapOnSplitFailure`): unless shmem, try_to_unmap the folio so it is
 *   refaulted with PTEs (try_folio_split_or_unmap, mm/truncate.c:182-205);
 * - then a dirty folio is kept whole (return false: the caller moves `start` past it), a
 *   clean one is removed whole (truncate_inode_folio).
 * Pass 3 locks (sleeping) and removes whatever is left, until nothing is.
 *
 * The page cache's nr references on a large folio count as one in the model (docs/flavors.md),
 * so can_split_folio's `folio_mapcount == refcount - nr - 1` reads `mapcount == refcount - 2`.
 */
import type { Ctx } from '../../ctx.js';
import { fsOf } from '../../kernel/filesystems.js';
import { extendFlavor } from '../../flavor.js';
import { mappedBeyondEof } from '../../invariants.js';
import { r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE, PG, folioNr } from '../../state.js';
import { END, PAGEVEC_SIZE_6_1, gangLookup, lookupAcc, putAll, removeAcc } from '../../kernel/lib.js';
import { takeBatch } from '../../kernel/batch.js';
import { callUnmap } from '../../kernel/unmap.js';
import {
  type PartialFolioKernel,
  doneAcc,
  partialDone,
  partialFolioSteps,
  partialIsWhole,
  partialLocals,
  truncateInodePagesRange61,
  truncateSetsize61,
} from '../linux-6.1/truncate.js';
import { callFindLockEntries, findLockEntries61 } from '../linux-6.1/invalidate.js';
import { LOCK_RECHECK_612 } from './lock-folio.js';
import { ghost, marked, notOnThisPath } from '../../kernel/marks.js';
import { folioMapping, rwsemLock, rwsemUnlock } from '../../kernel/marks6.js';
import {
  V612,
  folioBatchPut612,
  folioFlag612,
  folioLock612,
  folioUnlock612,
  getEntry612,
  iSizePlain612,
  iSizeWrite612,
  isLarge,
  xaFind612,
} from '../../kernel/marks612.js';

const SETATTR = `fs/ext4/inode.c ext4_setattr() ${V612}`;
const TIPR = `mm/truncate.c truncate_inode_pages_range() ${V612}`;
const FLE = `mm/filemap.c find_lock_entries() ${V612}`;

export interface TruncateOptions {
  /** fa04f5b60fda: a large folio whose split failed is unmapped (unless shmem). */
  unmapOnSplitFailure: boolean;
}

const asProc = (name: string, p: Proc, steps: Record<string, StepDef>): Proc =>
  extendFlavor(
    { name: 'base', description: '', version: '6.12', procs: { [name]: p }, programs: {} },
    { name: 'linux-6.12', description: '', steps: { [name]: steps } },
  ).procs[name]!;

/** truncate_setsize as ext4_setattr runs it; the truncate's return settles i_size (rule mapped-beyond-eof). */
export const truncateSetsize612: Proc = asProc('truncate_setsize', truncateSetsize61, {
  invlock: {
    ...marked(truncateSetsize61.steps.invlock!, (c, a) =>
      a.loc.endsWith('.i_size')
        ? iSizePlain612(c, a, c.num('file'), `${SETATTR}: loff_t oldsize = inode->i_size (fs/ext4/inode.c:5523)`)
        : rwsemLock(a, `${SETATTR}: filemap_invalidate_lock(inode->i_mapping) (fs/ext4/inode.c:5567)`),
    ),
    where: 'fs/ext4/inode.c:5567 ext4_setattr()',
  },
  isize: {
    ...marked(truncateSetsize61.steps.isize!, (c, a) => {
      if (!a.loc.endsWith('.i_size')) return a; // the model's zeroed disk: a ghost already
      return a.mode === 'read'
        ? iSizePlain612(c, a, c.num('file'), `${SETATTR}: if (attr->ia_size != inode->i_size) (fs/ext4/inode.c:5575)`)
        : iSizeWrite612(a, c.num('size'), `${SETATTR}: i_size_write(inode, attr->ia_size) (fs/ext4/inode.c:5631)`);
    }),
    label: 'i_size_write(inode, newsize) (fs/ext4/inode.c:5631); truncate_pagecache(): unmap_mapping_range(mapping, holebegin, 0, 1)',
    where: 'mm/truncate.c:737-748 truncate_pagecache()',
    run: (c) => {
      c.updMap(c.num('file'), { eofSettled: false });
      truncateSetsize61.steps.isize!.run(c);
    },
  },
  pages: {
    label: 'truncate_inode_pages(mapping, newsize)',
    where: 'mm/truncate.c:749 truncate_pagecache()',
    run: (c) =>
      c.call(
        'truncate_inode_pages_range',
        'lookup1',
        {
          ...truncateLocals(c.num('file'), c.num('size'), -1),
        },
        'unmap2',
      ),
  },
  done: {
    ...truncateSetsize61.steps.done!,
    label: 'ext4_setattr: filemap_invalidate_unlock(inode->i_mapping); return',
    where: 'fs/ext4/inode.c:5667 ext4_setattr()',
    acc: (c) => [
      rwsemUnlock(
        release(`${c.M(c.num('file'))}.invalidate_lock`),
        `${SETATTR}: out_mmap_sem: filemap_invalidate_unlock(inode->i_mapping) (fs/ext4/inode.c:5661)`,
      ),
      ...[w(`${c.M(c.num('file'))}.eof`), ...ptesReadAcc(c)].map((a) => ghost(a, "the mapped-beyond-eof judgement at truncate's return")),
    ],
    run: (c) => {
      const file = c.num('file');
      c.updMap(file, { eofSettled: true });
      c.judge(mappedBeyondEof(c.env, c.state, file));
      truncateSetsize61.steps.done!.run(c);
    },
  },
});

/**
 * truncate_inode_pages_range(mapping, lstart, lend)'s locals: `lend` inclusive, -1 for "to
 * EOF"; `start`/`end` the whole pages (end exclusive, END for -1), mm/truncate.c:350-359.
 */
export function truncateLocals(file: number, lstart: number, lend: number) {
  const start = Math.ceil(lstart / PAGE_SIZE);
  const end = lend < 0 ? END : Math.floor((lend + 1) / PAGE_SIZE);
  return { file, start, end, index: start, batch: [], j: 0, pfn: NONE, ...partialLocals(lstart, lend), send: 0 };
}

/** What judging mapped-beyond-eof reads: the file's PTEs. */
function ptesReadAcc(c: Ctx) {
  const a = [];
  for (const v of c.env.vmas) {
    if (v.file !== c.num('file')) continue;
    for (let i = 0; i < v.pages; i++) a.push(r(`pte:${c.env.mms[v.mm]!.name}:0x${(v.start + i * PAGE_SIZE).toString(16)}`));
  }
  return a;
}

/** find_lock_entries (mm/filemap.c:2092-2145), one folio per step, omitting straddling large folios. */
export const findLockEntries612: Proc = {
  fn: 'find_lock_entries',
  where: 'mm/filemap.c',
  entry: 'get',
  // the folio of one loop iteration: `get` sets it before `trylock` reads it (mm/filemap.c:2099-2135, 6.12.117)
  dead: { get: ['pfn'] },
  steps: {
    get: {
      label: 'folio = find_get_entry(&xas, end, XA_PRESENT) [folio_try_get]; if (base < *start || base + nr - 1 > end) goto put',
      where: 'mm/filemap.c:2099-2111 find_lock_entries()',
      acc: (c) => {
        const full = c.list('batch').length >= PAGEVEC_SIZE_6_1;
        const pv = full ? [] : gangLookup(c, c.num('file'), c.num('xi'), c.num('end'), 1);
        const a = [r(`${c.M(c.num('file'))}.tree`), ...pv.map((p) => w(`${c.P(p)}.refcount`))];
        // a full batch ends the loop before the next xas_find (folio_batch_add returned 0: break)
        if (full) return a.map((x) => notOnThisPath(x, 'the batch is full'));
        // a straddling large folio: referenced, then put (goto put): not marked (large folios)
        if (pv.length && (isLarge(c, pv[0]!) || c.page(pv[0]!).index < c.num('xi'))) return a;
        return xaFind612(
          c,
          c.num('file'),
          c.num('xi'),
          c.num('end'),
          pv,
          a.slice(1),
          `${FLE}: find_get_entry(&xas, end, XA_PRESENT) (mm/filemap.c:2111, 2007-2024)`,
        );
      },
      run: (c) => {
        const pv = c.list('batch').length >= PAGEVEC_SIZE_6_1 ? [] : gangLookup(c, c.num('file'), c.num('xi'), c.num('end'), 1);
        if (pv.length === 0) {
          c.ret(c.list('batch'));
          return;
        }
        const pfn = pv[0]!;
        const p = c.page(pfn);
        const straddles = p.index < c.num('xi') || p.index + folioNr(p) - 1 > c.num('end');
        c.set('xi', p.index + folioNr(p));
        if (straddles) {
          c.effect(`pfn${pfn} (order ${p.order ?? 0}) straddles the range: omitted`);
          c.goto('get');
          return;
        }
        c.ref(pfn, 1);
        c.set('pfn', pfn);
        c.goto('trylock');
      },
    },
    trylock: {
      // 6.1's marks (the path that keeps the folio), 6.12's lines and primitives
      ...marked(findLockEntries61.steps.trylock!, (c, a) => {
        if (!a.lkmm || a.lkmm.op === 'ghost') return a;
        const pfn = c.num('pfn');
        if (a.lock === 'acquire') return folioLock612(a, `${FLE}: if (!folio_trylock(folio)) goto put (mm/filemap.c:2124)`);
        if (a.loc.endsWith('.mapping')) return folioMapping(c, a, pfn, `${FLE}: if (folio->mapping != mapping || (mm/filemap.c:2126)`);
        return folioFlag612(c, a, pfn, 'writeback', `${FLE}: folio_test_writeback(folio)) goto unlock (mm/filemap.c:2127)`);
      }),
      where: 'mm/filemap.c:2112-2135 find_lock_entries()',
    },
  },
};

/** find_get_entries(mapping, &index, end - 1, ...) of pass 3. */
function pass3(c: Ctx): number[] {
  return c.num('index') >= c.num('end') ? [] : gangLookup(c, c.num('file'), c.num('index'), c.num('end') - 1, PAGEVEC_SIZE_6_1);
}

/**
 * 6.12.118's partial-folio code (mm/truncate.c:374-398, 218-257; mm/filemap.c:1885-1912): 6.1's
 * steps with 6.12's lines and lookup; truncate_inode_partial_folio, truncate_inode_folio and the
 * caller's unlock and put are left unmarked here.
 */
const PARTIAL_612: PartialFolioKernel = {
  where: 'mm/truncate.c:374-390 truncate_inode_pages_range()',
  getCite: (phase) =>
    `${TIPR}: folio = __filemap_get_folio(mapping, ${phase === 1 ? 'lstart' : 'lend'} >> PAGE_SHIFT, FGP_LOCK, 0) (mm/truncate.c:${phase === 1 ? 376 : 390}) → filemap_get_entry() (mm/filemap.c:1891, 1846-1859)`,
  // a large folio's lookup is not marked (large folios)
  getEntry: (c, file, index, a, cite) => (a.length > 1 && isLarge(c, c.lookup(file, index)) ? a : getEntry612(c, file, index, a[1], cite)),
  lock: LOCK_RECHECK_612,
  partialWhere: 'mm/truncate.c:218-250 truncate_inode_partial_folio()',
  wholeWhere: 'mm/truncate.c:155-180 truncate_inode_folio()',
  removeWhere: 'mm/truncate.c:162-179 truncate_inode_folio()',
  acc: {
    // an order-0 folio partly in the range is done here: the caller's unlock and put
    partial: (c) => [r(`${c.P(c.num('pfn'))}.flags.writeback`), ...(partialIsWhole(c) || isLarge(c, c.num('pfn')) ? [] : doneAcc(c))],
    whole: (c) => [
      r(`${c.P(c.num('pfn'))}.mapping`),
      r(`${c.P(c.num('pfn'))}.mapcount`),
      ...(c.page(c.num('pfn')).mapping === c.num('file') ? [] : doneAcc(c)),
    ],
    wremove: (c) => [
      w(`${c.P(c.num('pfn'))}.flags.dirty`),
      w(`${c.P(c.num('pfn'))}.flags.private`),
      w(`${c.M(c.num('file'))}.tree_lock`),
      ...removeAcc(c, c.num('pfn')),
      ...doneAcc(c),
    ],
  },
};

export function truncateInodePagesRange612(o: TruncateOptions): Proc {
  const p = asProc('truncate_inode_pages_range', truncateInodePagesRange61, steps612(o));
  // 6.1's table (truncate.ts there), and: `pget` sets the partial folio before reading it, and the
  // batch's `rv` and `j` are not read after the batches (mm/truncate.c:374-398, 6.12.117); an
  // unmap_mapping_folio's return value (void in C) is never read
  return { ...p, dead: { ...p.dead, pget: ['pfn', 'j', 'rv'], whole: ['rv'] } };
}

function steps612(o: TruncateOptions): Record<string, StepDef> {
  return {
    lookup1: {
      label: 'while (index < end && find_lock_entries(mapping, &index, end - 1, &fbatch, indices))',
      where: 'mm/truncate.c:363 truncate_inode_pages_range()',
      run: (c) => (c.num('index') < c.num('end') ? callFindLockEntries(c, c.num('index'), c.num('end') - 1, 'got1') : c.goto('pget')),
    },
    lookup2: {
      label:
        'index = start; while (index < end) { cond_resched(); if (!find_get_entries(mapping, &index, end - 1, &fbatch, indices)) { if (index == start) break; index = start; continue; } }',
      where: 'mm/truncate.c:400-413 truncate_inode_pages_range()',
      acc: (c) => {
        const b = pass3(c);
        const a = lookupAcc(c, c.num('file'), b);
        if (c.num('index') >= c.num('end')) return a.map((x) => notOnThisPath(x, 'index >= end: find_get_entries() is not called'));
        if (b.some((p) => isLarge(c, p))) return a;
        return xaFind612(
          c,
          c.num('file'),
          c.num('index'),
          c.num('end') - 1,
          b,
          a.slice(1),
          `mm/filemap.c find_get_entries() ${V612} (mm/filemap.c:2055) → find_get_entry() (2007-2024), ${TIPR} (mm/truncate.c:403)`,
        );
      },
      run: (c) => {
        const b = pass3(c);
        if (b.length === 0) {
          if (c.num('index') === c.num('start') || c.num('index') >= c.num('end')) {
            c.ret(0);
            return;
          }
          c.set('index', c.num('start'));
          c.goto('lookup2');
          return;
        }
        takeBatch(c, b, 'lock2');
        const last = c.page(b[b.length - 1]!);
        c.set('index', last.index + folioNr(last));
      },
    },
    got1: {
      label: 'for (i = 0; i < folio_batch_count(&fbatch); i++) truncate_cleanup_folio(fbatch.folios[i])',
      where: 'mm/truncate.c:364-368 truncate_inode_pages_range()',
      run: (c) => {
        const b = c.list('rv');
        if (b.length === 0) {
          c.goto('pget');
          return;
        }
        c.set('batch', b);
        c.set('j', 0);
        const last = c.page(b[b.length - 1]!);
        c.set('index', last.index + folioNr(last));
        c.set('pfn', b[0]!);
        c.goto('cleanup');
      },
    },
    unlockall: {
      ...truncateInodePagesRange61.steps.unlockall!,
      acc: (c) => [
        ...c.list('batch').map((p) => folioUnlock612(release(`lock:${c.P(p)}`), `${TIPR}: folio_unlock(fbatch.folios[i]) (mm/truncate.c:370)`)),
        ...c.list('batch').map((p) => folioBatchPut612(c, w(`${c.P(p)}.refcount`), p, `${TIPR}: folio_batch_release(&fbatch) (mm/truncate.c:371)`)),
      ],
      where: 'mm/truncate.c:369-372 truncate_inode_pages_range()',
      run: (c) => {
        for (const p of c.list('batch')) c.unlockPage(p);
        putAll(c, c.list('batch'));
        c.set('batch', []);
        c.goto(c.num('index') < c.num('end') ? 'lookup1' : 'pget');
      },
    },
    ...partialFolioSteps({ ...PARTIAL_612, split: 'split' }),
    split: {
      label: (c) =>
        `split_folio(): ${
          c.testFlag(c.num('pfn'), 'private')
            ? c.testFlag(c.num('pfn'), 'dirty')
              ? 'if (!filemap_release_folio(folio, gfp)) { ret = -EBUSY; goto out; } /* ->release_folio refuses a dirty folio */'
              : 'filemap_release_folio(folio, gfp): ->release_folio frees the private data (folio_detach_private: folio_put); '
            : ''
        }i_mmap_lock_read(mapping); end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE); if (!can_split_folio(folio, 1, &extra_pins)) { ret = -EAGAIN; goto out_unlock; } unmap_folio(folio)`,
      where: 'mm/huge_memory.c:3617-3654 split_huge_page_to_list_to_order(), mm/filemap.c:4227-4240 filemap_release_folio()',
      acc: (c) => {
        const P = c.P(c.num('pfn'));
        // filemap_release_folio (mm/huge_memory.c:3617): folio_needs_release() tests PG_private; the folio's writeback
        // cannot be set (truncate_inode_partial_folio waited for it under the folio lock)
        const release = c.testFlag(c.num('pfn'), 'private') ? [r(`${P}.flags.dirty`), w(`${P}.flags.private`), w(`${P}.refcount`)] : [r(`${P}.flags.private`)];
        const dirty = c.testFlag(c.num('pfn'), 'private') && c.testFlag(c.num('pfn'), 'dirty');
        return [...release, ...(dirty ? [] : [r(`${c.M(c.num('file'))}.i_size`), r(`${P}.mapcount`), r(`${P}.refcount`)])];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.testFlag(pfn, 'private')) {
          // ->release_folio: XFS's iomap_release_folio refuses a dirty folio (fs/iomap/buffered-io.c:658-659), else
          // ifs_free() detaches its iomap_folio_state and the reference it held (660); try_to_free_buffers (tmpfs has no
          // ->release_folio; ext4 has no large folios on 6.12) refuses a dirty folio's busy buffers the same way
          if (c.testFlag(pfn, 'dirty')) {
            c.effect('filemap_release_folio: the folio is dirty: -EBUSY');
            c.goto('splitfail');
            return;
          }
          c.detachPrivate(pfn);
        }
        const p = c.page(pfn);
        c.set('send', Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE));
        if (p.mapcount !== p.refcount - 2) {
          c.effect(`can_split_folio: mapcount ${p.mapcount} != refcount ${p.refcount} - page cache - caller: -EAGAIN`);
          c.goto('splitfail');
          return;
        }
        // unmap_folio(): try_to_unmap(folio, TTU_SPLIT_HUGE_PMD | ...) — every PTE and PMD of the folio goes
        callUnmap(c, 'unmap_mapping_folio', c.num('file'), p.index, p.index, false, 'freeze');
      },
    },
    freeze: {
      label:
        'xas_lock(&xas); if (folio_ref_freeze(folio, 1 + extra_pins)) { xas_split(); __split_huge_page(page, list, end, new_order, mapping) /* pages at or past end leave the page cache */ } else { remap_page(); ret = -EAGAIN; }',
      where: 'mm/huge_memory.c:3660-3722 split_huge_page_to_list_to_order()',
      acc: (c) => {
        const p = c.page(c.num('pfn'));
        const P = c.P(c.num('pfn'));
        return [
          w(`${P}.refcount`),
          w(`${P}.mapcount`),
          r(`${P}.flags.uptodate`),
          r(`${P}.flags.dirty`),
          w(`${c.M(c.num('file'))}.tree`),
          w(`${c.M(c.num('file'))}.nrpages`),
          w('alloc'),
          ...(p.refcount === 2 ? [w(`${P}.mapping`), ...doneAcc(c)] : []),
        ];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const file = c.num('file');
        const p = c.page(pfn);
        if (p.refcount !== 2 || p.mapcount !== 0) {
          c.effect(`folio_ref_freeze(folio, 1 + extra_pins) failed (count ${p.refcount}): -EAGAIN`);
          c.goto('splitfail');
          return;
        }
        const nr = folioNr(p);
        const end = c.num('send');
        c.updPage(pfn, { order: undefined, pmap: undefined, entire: undefined });
        const cache = c.map(file).cache.slice();
        const dropped: number[] = [];
        for (let k = 1; k < nr; k++) {
          const t = c.allocPage(); // the tail page as its own folio, holding the page cache's reference
          c.updPage(t, { mapping: file, index: p.index + k, flags: p.flags & ~PG.locked });
          cache[p.index + k] = t;
          if (p.index + k >= end) dropped.push(t);
        }
        c.updMap(file, { cache });
        c.effect(`split pfn${pfn} into ${nr} order-0 folios`);
        for (const t of dropped) {
          c.removeFromCache(t);
          c.ref(t, -1);
        } // __split_huge_page: tail->index >= end → __filemap_remove_folio; folio_put
        partialDone(c);
      },
    },
    splitfail: o.unmapOnSplitFailure
      ? {
          label:
            'try_folio_split_or_unmap(): if (ret && !shmem_mapping(folio->mapping)) { try_to_unmap(folio, TTU_SYNC | TTU_SPLIT_HUGE_PMD | TTU_IGNORE_MLOCK); WARN_ON(folio_mapped(folio)); }',
          where: 'mm/truncate.c:182-205 try_folio_split_or_unmap()',
          run: (c) => {
            if (fsOf(c) === 'tmpfs') {
              c.goto('dirty');
              return;
            }
            const p = c.page(c.num('pfn'));
            callUnmap(c, 'unmap_mapping_folio', c.num('file'), p.index, p.index, false, 'dirty');
          },
        }
      : {
          label: 'if (split_folio(folio) == 0) return true /* failed: before fa04f5b60fda the folio stays mapped */',
          where: 'mm/truncate.c truncate_inode_partial_folio() (before fa04f5b60fda)',
          run: (c) => c.goto('dirty'),
        },
    dirty: {
      label: 'if (folio_test_dirty(folio)) return false; truncate_inode_folio(folio->mapping, folio); return true',
      where: 'mm/truncate.c:252-256 truncate_inode_partial_folio()',
      acc: (c) => [r(`${c.P(c.num('pfn'))}.flags.dirty`), ...doneAcc(c)],
      run: (c) => {
        if (c.testFlag(c.num('pfn'), 'dirty')) {
          const p = c.page(c.num('pfn'));
          if (c.num('phase') === 1) {
            c.effect('split failed on a dirty folio: kept whole; start = folio_next_index(folio)');
            c.set('start', p.index + folioNr(p));
            if (c.num('same')) c.set('end', p.index);
          } else {
            c.effect('split failed on a dirty folio: kept whole; end = folio->index');
            c.set('end', p.index);
          }
          partialDone(c);
          return;
        }
        c.goto('whole');
      },
    },
  };
}
