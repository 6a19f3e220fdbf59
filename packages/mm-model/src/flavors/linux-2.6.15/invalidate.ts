/**
 * linux-2.6.15 mm/truncate.c invalidation: invalidate_inode_pages2_range (the O_DIRECT one:
 * lock each page, unmap while mapped, drop it) and invalidate_mapping_pages (trylock, skip
 * dirty/writeback/mapped pages). Both are builders: the seed inserts its seqschedlock write
 * section through the hooks, 2.6.23 switches on its BUG_ON and invalidate_complete_page2.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PG } from '../../state.js';
import { EIO, PAGEVEC_SIZE_2_6, advance, coherentAcc, cur, gangLookup, lookupAcc, putAll, removeAcc } from '../../kernel/lib.js';
import { callUnmap } from '../../kernel/unmap.js';
import {
  flagRead,
  flagWrite,
  gangLookupMarks,
  ghost,
  mappingRead,
  notOnThisPath,
  pageLockMark,
  pageUnlockMark,
  putPage,
  removeMarks,
  treeLock,
} from '../../kernel/marks.js';

const CITE_IMP = 'mm/truncate.c invalidate_mapping_pages() 2.6.15';

/** page_mapped(page): atomic_read(&page->_mapcount) >= 0, a lockless marked load (include/linux/mm.h 2.6.15; model mapcount = _mapcount + 1). */
const pageMapped = (c: Ctx): Access =>
  lk(
    r(`${c.P(c.num('pfn'))}.mapcount`),
    'atomic_read',
    c.page(c.num('pfn')).mapcount,
    'include/linux/mm.h page_mapped() 2.6.15: atomic_read(&page->_mapcount)',
  );

export interface Invalidate2Options {
  /** 2.6.15: `!ret` in both loop conditions (stop at the first failure). */
  stopOnError: boolean;
  /** 2.6.23: `ret` is set again for every page (do_launder_page's 0 or -EIO): the last page decides. */
  retPerPage?: boolean;
  /** 2.6.15: was_dirty = test_clear_page_dirty(page), restored on failure. */
  clearDirtyFirst: boolean;
  /** 2.6.23: BUG_ON(page_mapped(page)) after the unmap, then do_launder_page. */
  bugOnMapped: boolean;
  /** 2.6.23: `if (page_mapped(page))` unmaps once (the page lock keeps faults out); 2.6.15 loops `while`. */
  unmapOnce: boolean;
  /** Procedure that drops the page (invalidate_complete_page / invalidate_complete_page2). */
  complete: string;
  /** Extra steps run after wait_on_page_writeback; they must end with goto 'mapped'. */
  afterWriteback?: { entry: string; steps: Record<string, StepDef> };
  /** Extra steps run just before unlock_page; they must end with goto 'unlock'. */
  beforeUnlock?: { entry: string; steps: Record<string, StepDef> };
  where: string;
}

const FN2 = 'invalidate_inode_pages2_range' as const;

/** The return: invalidate_end, and on success the range is promised coherent. */
function finish2(c: Ctx): void {
  const file = c.num('file');
  const ret = c.num('ret');
  c.op({ kind: 'invalidate_end', fn: FN2, file: c.fileRef(file), ret });
  if (ret === 0) c.promiseCoherent(file, c.num('start'), c.num('end'), 'invalidate_inode_pages2_range');
  c.ret(ret);
}

export function invalidateInodePages2Range(o: Invalidate2Options): Proc {
  const steps: Record<string, StepDef> = {
    lookup: {
      label: 'while (next <= end && !ret && !wrapped && pagevec_lookup(&pvec, mapping, next, min(end - next, PAGEVEC_SIZE - 1) + 1))',
      acc: (c) => {
        const pv = lookup2(c, o);
        const next = c.num('next');
        const end = c.num('end');
        const looks = !(next > end || (o.stopOnError && c.num('ret') !== 0));
        const max = Math.min(end - next, PAGEVEC_SIZE_2_6 - 1) + 1;
        const lookup = looks
          ? gangLookupMarks(c, c.num('file'), next, end, pv, max)
          : lookupAcc(c, c.num('file'), pv).map((a) => notOnThisPath(a, 'the loop condition ends before pagevec_lookup'));
        return pv.length
          ? lookup
          : [...lookup, ...coherentAcc(c, c.num('file'), c.num('start'), c.num('end')).map((a) => ghost(a, 'the stale-after-invalidate judgement'))];
      },
      run: (c) => {
        const file = c.num('file');
        if (c.num('begun') === 0) {
          c.op({ kind: 'invalidate_begin', fn: FN2, file: c.fileRef(file), start: c.num('start'), end: c.num('end') });
          c.set('begun', 1);
        }
        const pv = lookup2(c, o);
        if (pv.length === 0) {
          finish2(c);
          return;
        }
        for (const p of pv) c.ref(p, 1);
        c.set('pvec', pv);
        c.set('i', 0);
        c.goto('lock');
      },
    },
    lock: {
      label: 'lock_page(page); if (page->mapping != mapping) { unlock_page(page); continue; }; wait_on_page_writeback(page)',
      acc: (c) => {
        const pfn = cur(c);
        const cite = `mm/truncate.c invalidate_inode_pages2_range() ${o.bugOnMapped ? '2.6.23' : '2.6.15'}`;
        const mine = c.page(pfn).mapping === c.num('file') && c.page(pfn).index <= c.num('end');
        return [
          pageLockMark(acquire(`lock:${c.P(pfn)}`), `${cite}: lock_page(page)`),
          mappingRead(c, pfn, `${cite}: if (page->mapping != mapping)`),
          mine
            ? flagRead(c, pfn, 'writeback', `${cite}: wait_on_page_writeback(page): PageWriteback(page)`)
            : notOnThisPath(r(`${c.P(pfn)}.flags.writeback`), 'the page left the mapping'),
        ];
      },
      block: (c) => c.pageLockHeld(cur(c)),
      run: (c) => {
        const pfn = cur(c);
        c.lockPage(pfn);
        c.set('pfn', pfn);
        const p = c.page(pfn);
        if (p.mapping !== c.num('file')) {
          c.effect(`pfn${pfn} left the mapping meanwhile: skipped`);
          c.unlockPage(pfn);
          advance(c, 'lock', 'release');
          return;
        }
        c.set('next', p.index + 1);
        if (p.index > c.num('end')) {
          c.unlockPage(pfn);
          c.goto('release');
          return;
        }
        c.goto(o.afterWriteback?.entry ?? 'mapped');
      },
    },
    mapped: {
      label: (c) =>
        `${o.unmapOnce ? 'if' : 'while'} (page_mapped(page)) ${
          c.num('didRangeUnmap') === 0
            ? '{ unmap_mapping_range(mapping, page_index << PAGE_CACHE_SHIFT, (end - page_index + 1) << PAGE_CACHE_SHIFT, 0); did_range_unmap = 1; }'
            : 'unmap_mapping_range(mapping, page_index << PAGE_CACHE_SHIFT, PAGE_CACHE_SIZE, 0)'
        }`,
      acc: (c) => [pageMapped(c)],
      run: (c) => {
        const pfn = c.num('pfn');
        const after = o.bugOnMapped ? 'bugon' : 'dirty';
        if (!c.mapped(pfn)) {
          c.goto(after);
          return;
        }
        const ix = c.page(pfn).index;
        const then = o.unmapOnce ? after : 'mapped';
        if (c.num('didRangeUnmap') === 0) {
          c.set('didRangeUnmap', 1);
          callUnmap(c, 'unmap_mapping_range', c.num('file'), ix, c.num('end'), false, then);
        } else callUnmap(c, 'unmap_mapping_range', c.num('file'), ix, ix, false, then);
      },
    },
    result: {
      label: (c) =>
        c.num('rv') ? 'invalidate_complete_page() succeeded' : o.clearDirtyFirst ? 'if (was_dirty) set_page_dirty(page); ret = -EIO' : 'ret = -EIO',
      acc: (c) => (!c.num('rv') && c.num('wasDirty') ? [w(`${c.P(c.num('pfn'))}.flags.dirty`)] : []),
      run: (c) => {
        if (!c.num('rv')) {
          if (c.num('wasDirty')) c.setFlag(c.num('pfn'), 'dirty', true);
          c.set('ret', EIO);
        } else if (o.retPerPage) c.set('ret', 0);
        c.goto(o.beforeUnlock?.entry ?? 'unlock');
      },
    },
    unlock: {
      label: 'unlock_page(page)',
      acc: (c) => [pageUnlockMark(release(`lock:${c.P(c.num('pfn'))}`), 'mm/truncate.c invalidate_inode_pages2_range() 2.6.15')],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        if (o.stopOnError && c.num('ret') !== 0) c.goto('release');
        else advance(c, 'lock', 'release');
      },
    },
    release: {
      label: 'pagevec_release(&pvec); cond_resched()',
      acc: (c) => c.list('pvec').map((p) => putPage(c, p, 'mm/swap.c __pagevec_release() 2.6.15: release_pages()')),
      run: (c) => {
        putAll(c, c.list('pvec'));
        c.set('pvec', []);
        c.goto('lookup');
      },
    },
  };
  if (o.bugOnMapped) {
    steps.bugon = {
      label: 'BUG_ON(page_mapped(page)); ret2 = do_launder_page(mapping, page)',
      acc: (c) => [
        lk(
          r(`${c.P(c.num('pfn'))}.mapcount`),
          'atomic_read',
          c.page(c.num('pfn')).mapcount,
          'mm/truncate.c invalidate_inode_pages2_range() 2.6.23: BUG_ON(page_mapped(page)) (2.6.23.17 mm/truncate.c:438)',
        ),
        flagRead(c, c.num('pfn'), 'dirty', 'mm/truncate.c do_launder_page() 2.6.23: if (!PageDirty(page)) (2.6.23.17 mm/truncate.c:367)'),
      ],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.mapped(pfn)) {
          c.bug(`invalidate_inode_pages2_range: BUG_ON(page_mapped(page)) for pfn ${pfn}`, { file: c.num('file'), index: c.page(pfn).index, pfn });
          return;
        }
        // No launder_page for the modelled filesystem: do_launder_page returns 0.
        c.set('wasDirty', 0);
        c.call(o.complete, 'remove', { file: c.num('file'), pfn }, 'result');
      },
    };
  } else {
    steps.dirty = {
      label: o.clearDirtyFirst
        ? 'was_dirty = test_clear_page_dirty(page); invalidate_complete_page(mapping, page)'
        : 'invalidate_complete_page2(mapping, page)',
      acc: (c) =>
        o.clearDirtyFirst
          ? [
              ghost(
                w(`${c.M(c.num('file'))}.tree_lock`),
                'mm/page-writeback.c test_clear_page_dirty() 2.6.15: write_lock_irqsave(&mapping->tree_lock): the access under it carries it (under)',
              ),
              // TestClearPageDirty() is test_and_clear_bit(), fully ordered (the radix-tree dirty tag it clears is not modelled)
              lk(
                w(`${c.P(c.num('pfn'))}.flags.dirty`),
                'xchg',
                c.page(c.num('pfn')).flags & PG.dirty ? 1 : 0,
                'mm/page-writeback.c test_clear_page_dirty() 2.6.15: TestClearPageDirty(page) under tree_lock',
                { under: treeLock(c, c.num('file')) },
              ),
            ]
          : [],
      run: (c) => {
        const pfn = c.num('pfn');
        if (o.clearDirtyFirst) {
          c.set('wasDirty', c.testFlag(pfn, 'dirty') ? 1 : 0);
          c.setFlag(pfn, 'dirty', false);
        }
        // The page's buffers stay dirty when only the page's dirty bit was cleared (bufDirty).
        c.call(o.complete, 'remove', { file: c.num('file'), pfn, bufDirty: c.num('wasDirty') }, 'result');
      },
    };
  }
  Object.assign(steps, o.afterWriteback?.steps ?? {}, o.beforeUnlock?.steps ?? {});
  // A page's iteration sets page, its invalidate_complete_page*() result and was_dirty before reading
  // them (mm/truncate.c invalidate_inode_pages2_range() 2.6.15); without clearDirtyFirst was_dirty stays 0
  // unmap_mapping_range()'s return is not read (mapped); past the result, neither is the completion's nor was_dirty
  const perPage = o.clearDirtyFirst ? ['pfn', 'rv', 'wasDirty'] : ['pfn', 'rv'];
  const afterResult = perPage.filter((x) => x !== 'pfn');
  const dead = { lock: perPage, release: perPage, mapped: ['rv'], [o.beforeUnlock?.entry ?? 'unlock']: afterResult };
  const p: Proc = { fn: FN2, where: o.where, entry: 'lookup', steps, dead };
  // 2.6.23.17 mm/truncate.c:438; 2.6.15 has no BUG here (it loops on the unmap instead)
  return o.bugOnMapped ? { ...p, bugs: { [FN2]: 'BUG_ON(page_mapped(page)) (mm/truncate.c:438, 2.6.23.17)' } } : p;
}

function lookup2(c: Ctx, o: Invalidate2Options): number[] {
  const next = c.num('next');
  const end = c.num('end');
  if (next > end || (o.stopOnError && c.num('ret') !== 0)) return [];
  return gangLookup(c, c.num('file'), next, end, Math.min(end - next, PAGEVEC_SIZE_2_6 - 1) + 1);
}

/** Entry locals of invalidate_inode_pages2_range(file, start, end). */
export function inval2Locals(file: number, start: number, end: number) {
  return { file, start, end, next: start, pvec: [], i: 0, ret: 0, didRangeUnmap: 0, wasDirty: 0, pfn: NONE, begun: 0 };
}

export interface CompleteOptions {
  /** remove_mapping()'s `page_count(page) != 2` test (2.6.23's invalidate_complete_page). */
  refcountCheck: boolean;
  /** ClearPageUptodate + page_cache_release after the removal (2.6.15 / complete_page2). */
  clearUptodate: boolean;
  /**
   * 2.6.23: __remove_from_page_cache() ends with `BUG_ON(page_mapped(page))` (2.6.23.17
   * mm/filemap.c:123); 2.6.15's has no check (the seed patch adds a WARN_ON there, judged as
   * mapped-page-removed on every flavor).
   */
  bugOnMappedRemove?: boolean;
  fn: string;
  where: string;
}

/**
 * invalidate_complete_page / invalidate_complete_page2 / remove_mapping: mapping check,
 * buffers released, then under tree_lock (write): refuse a dirty page, remove it.
 * Returns 1 when the page left the cache, 0 otherwise.
 */
export function invalidateCompletePage(o: CompleteOptions): Proc {
  return {
    fn: o.fn,
    where: o.where,
    entry: 'remove',
    ...(o.bugOnMappedRemove ? { bugs: REMOVE_BUGS } : {}),
    steps: {
      remove: {
        label: o.refcountCheck
          ? 'if (page->mapping != mapping) return 0; remove_mapping(): write_lock_irq(tree_lock); if (page_count(page) != 2 || PageDirty(page)) fail; __remove_from_page_cache(page)'
          : 'if (page->mapping != mapping) return 0; write_lock_irq(&mapping->tree_lock); if (PageDirty(page)) fail; __remove_from_page_cache(page)',
        acc: (c) => {
          const pfn = c.num('pfn');
          const P = c.P(pfn);
          const cite = `mm/truncate.c ${o.fn}() ${o.refcountCheck ? '2.6.23' : '2.6.15'}`;
          const mine = c.page(pfn).mapping === c.num('file');
          const priv = (c.page(pfn).flags & PG.private) !== 0;
          const a = [
            mappingRead(c, pfn, `${cite}: if (page->mapping != mapping)`),
            // PagePrivate(page) && !try_to_release_page(): ClearPagePrivate only when it had buffers
            priv
              ? flagWrite(c, pfn, 'private', false, `${cite}: try_to_release_page() → ClearPagePrivate(page)`)
              : flagRead(c, pfn, 'private', `${cite}: PagePrivate(page)`),
            mine
              ? underTreeLock(c, flagRead(c, pfn, 'dirty', `${cite}: PageDirty(page) under tree_lock`))
              : ghost(r(`${P}.flags.dirty`), 'not made on this path: the page left the mapping'),
            ghost(w(`${c.M(c.num('file'))}.tree_lock`), `${cite}: write_lock_irq(&mapping->tree_lock): the accesses under it carry it (under)`),
            ...(removes(c, o, pfn)
              ? removeMarks(c, pfn, o.bugOnMappedRemove ? REMOVE_BUG_CITE : undefined)
              : removeAcc(c, pfn).map((x) => ghost(x, 'not made on this path: the page stays in the cache'))),
          ];
          // page_count(page) != 2 (2.6.23); try_to_release_page() → __clear_page_buffers() → page_cache_release(page)
          if (o.refcountCheck || priv) a.push(w(`${P}.refcount`));
          return a;
        },
        run: (c) => {
          const pfn = c.num('pfn');
          const p = c.page(pfn);
          if (p.mapping !== c.num('file')) {
            c.ret(0);
            return;
          }
          if (p.flags & PG.private) {
            // try_to_release_page() → try_to_free_buffers() → drop_buffers(): a buffer_busy()
            // buffer (b_count, BH_Dirty or BH_Lock: 2.6.23.17 fs/buffer.c:2809-2813, unchanged
            // since 2.6.x) keeps the buffers. test_clear_page_dirty() in 2.6.15's
            // invalidate_inode_pages2_range cleared only the *page's* dirty bit, so a page
            // that was dirty still has dirty buffers: the release fails, -EIO.
            if (p.flags & PG.dirty || c.opt('bufDirty') === 1) {
              c.effect('try_to_release_page: dirty buffers: busy');
              c.ret(0);
              return;
            }
            c.detachPrivate(pfn);
          }
          if (o.refcountCheck && c.page(pfn).refcount !== 2) {
            c.effect(`page_count ${c.page(pfn).refcount} != 2: busy`);
            c.ret(0);
            return;
          }
          if (p.flags & PG.dirty) {
            c.effect('PageDirty: cannot drop');
            c.ret(0);
            return;
          }
          c.removeFromCache(pfn);
          if (o.bugOnMappedRemove && removeBugs(c, pfn)) return;
          if (o.clearUptodate) c.goto('uptodate');
          else {
            c.ref(pfn, -1);
            c.ret(1);
          }
        },
      },
      uptodate: {
        label: 'ClearPageUptodate(page); page_cache_release(page)',
        acc: (c) => [
          flagWrite(c, c.num('pfn'), 'uptodate', false, `mm/truncate.c ${o.fn}() 2.6.15: ClearPageUptodate(page)`),
          putPage(c, c.num('pfn'), `mm/truncate.c ${o.fn}() 2.6.15: page_cache_release(page)`),
        ],
        run: (c) => {
          const pfn = c.num('pfn');
          c.setFlag(pfn, 'uptodate', false);
          c.ref(pfn, -1);
          c.ret(1);
        },
      },
    },
  };
}

/** 2.6.23's check at the end of __remove_from_page_cache() (2.6.23.17 mm/filemap.c:115-124). */
const REMOVE_BUG_CITE = 'mm/filemap.c __remove_from_page_cache() 2.6.23: BUG_ON(page_mapped(page)) (2.6.23.17 mm/filemap.c:123)';
export const REMOVE_BUGS = { __remove_from_page_cache: 'BUG_ON(page_mapped(page)) (mm/filemap.c:123, 2.6.23.17)' };

/**
 * After c.removeFromCache(pfn): 2.6.23's `BUG_ON(page_mapped(page))` under tree_lock (write),
 * the page already unhashed. True when it fired (the thread is dead).
 */
export function removeBugs(c: Ctx, pfn: number): boolean {
  if (!c.mapped(pfn)) return false;
  c.bug(`__remove_from_page_cache: BUG_ON(page_mapped(page)) for pfn ${pfn} (mapcount ${c.page(pfn).mapcount})`, {
    file: c.num('file'),
    index: c.page(pfn).index,
    pfn,
  });
  return true;
}

/** Whether invalidate_complete_page's run below removes the page (the same tests, in the same order). */
function removes(c: Ctx, o: CompleteOptions, pfn: number): boolean {
  const p = c.page(pfn);
  if (p.mapping !== c.num('file')) return false;
  if (p.flags & PG.private && (p.flags & PG.dirty || c.opt('bufDirty') === 1)) return false;
  if (o.refcountCheck && p.refcount !== 2) return false;
  return (p.flags & PG.dirty) === 0;
}

const underTreeLock = (c: Ctx, a: Access): Access => ({ ...a, lkmm: { ...a.lkmm!, under: treeLock(c, c.num('file')) } });

export interface InvalidateMappingOptions {
  /**
   * 2.6.2x: `lock_failed = TestSetPageLocked(page)` and the `next` update from page->index come
   * before the `continue`; 2.6.15 only does `next++` when the trylock fails.
   */
  indexBeforeTrylock?: boolean;
  /** Extra steps after the dirty/writeback test; they end with goto 'mapped'. */
  afterCheck?: { entry: string; steps: Record<string, StepDef> };
  /** Extra steps after invalidate_complete_page returned; they end with goto 'unlock'. */
  afterComplete?: { entry: string; steps: Record<string, StepDef> };
  complete: string;
  where: string;
}

const FNM = 'invalidate_mapping_pages' as const;

export function invalidateMappingPages(o: InvalidateMappingOptions): Proc {
  const steps: Record<string, StepDef> = {
    lookup: {
      label: 'while (next <= end && pagevec_lookup(&pvec, mapping, next, PAGEVEC_SIZE))',
      acc: (c) => (c.num('next') > c.num('end') ? [] : gangLookupMarks(c, c.num('file'), c.num('next'), Number.MAX_SAFE_INTEGER, lookupM(c), PAGEVEC_SIZE_2_6)),
      run: (c) => {
        const file = c.num('file');
        if (c.num('begun') === 0) {
          c.op({ kind: 'invalidate_begin', fn: FNM, file: c.fileRef(file), start: c.num('start'), end: c.num('end') });
          c.set('begun', 1);
        }
        const pv = lookupM(c);
        if (pv.length === 0) {
          c.op({ kind: 'invalidate_end', fn: FNM, file: c.fileRef(file), ret: c.num('ret') });
          c.ret(c.num('ret'));
          return;
        }
        for (const p of pv) c.ref(p, 1);
        c.set('pvec', pv);
        c.set('i', 0);
        c.goto('trylock');
      },
    },
    trylock: {
      label: 'if (TestSetPageLocked(page)) { next++; continue; }',
      // a failed TestSetPageLocked() is an RMW that takes no lock: left unmarked (smp_mb() in a derived test)
      acc: (c) => [c.page(cur(c)).locker === NONE ? pageLockMark(acquire(`lock:${c.P(cur(c))}`), CITE_IMP) : acquire(`lock:${c.P(cur(c))}`)],
      run: (c) => {
        const pfn = cur(c);
        if (c.page(pfn).locker !== NONE) {
          c.effect(`pfn${pfn} is locked: skipped`);
          c.set('next', o.indexBeforeTrylock ? Math.max(c.num('next'), c.page(pfn).index) + 1 : c.num('next') + 1);
          advance(c, 'trylock', 'release');
          return;
        }
        c.lockPage(pfn);
        c.set('pfn', pfn);
        const ix = c.page(pfn).index;
        c.set('next', Math.max(c.num('next'), ix) + 1);
        c.goto('check');
      },
    },
    check: {
      label: 'if (PageDirty(page) || PageWriteback(page)) goto unlock',
      acc: (c) => [
        flagRead(c, c.num('pfn'), 'dirty', `${CITE_IMP}: PageDirty(page)`),
        flagRead(c, c.num('pfn'), 'writeback', `${CITE_IMP}: PageWriteback(page)`),
      ],
      run: (c) => {
        const f = c.page(c.num('pfn')).flags;
        if (f & (PG.dirty | PG.writeback)) {
          c.goto('unlock');
          return;
        }
        c.goto(o.afterCheck?.entry ?? 'mapped');
      },
    },
    mapped: {
      label: 'if (page_mapped(page)) goto unlock; ret += invalidate_complete_page(mapping, page)',
      acc: (c) => [pageMapped(c)],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.mapped(pfn)) {
          c.effect(`pfn${pfn} is mapped: goto unlock`);
          c.goto('unlock');
          return;
        }
        c.call(o.complete, 'remove', { file: c.num('file'), pfn }, 'counted');
      },
    },
    counted: {
      label: 'ret += invalidate_complete_page(...)',
      run: (c) => {
        c.set('ret', c.num('ret') + c.num('rv'));
        c.goto(o.afterComplete?.entry ?? 'unlock');
      },
    },
    unlock: {
      label: 'unlock: unlock_page(page); if (next > end) break',
      acc: (c) => [pageUnlockMark(release(`lock:${c.P(c.num('pfn'))}`), CITE_IMP)],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        if (c.num('next') > c.num('end')) c.goto('release');
        else advance(c, 'trylock', 'release');
      },
    },
    release: {
      label: 'pagevec_release(&pvec); cond_resched()',
      acc: (c) => c.list('pvec').map((p) => putPage(c, p, 'mm/swap.c __pagevec_release() 2.6.15: release_pages()')),
      run: (c) => {
        putAll(c, c.list('pvec'));
        c.set('pvec', []);
        c.goto('lookup');
      },
    },
  };
  Object.assign(steps, o.afterCheck?.steps ?? {}, o.afterComplete?.steps ?? {});
  // trylock sets `page` before any read; invalidate_complete_page()'s return is read once, at counted
  return { fn: FNM, where: o.where, entry: 'lookup', steps, dead: { trylock: ['pfn', 'rv'], release: ['pfn', 'rv'] } };
}

function lookupM(c: Ctx): number[] {
  const next = c.num('next');
  if (next > c.num('end')) return [];
  return gangLookup(c, c.num('file'), next, Number.MAX_SAFE_INTEGER, PAGEVEC_SIZE_2_6);
}

export function invalMappingLocals(file: number, start: number, end: number) {
  return { file, start, end, next: start, pvec: [], i: 0, ret: 0, pfn: NONE, begun: 0 };
}
