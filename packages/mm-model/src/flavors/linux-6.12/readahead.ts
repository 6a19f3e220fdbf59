/**
 * Readahead on linux-6.12 (6.12.118 mm/readahead.c), entered at page_cache_ra_order (452-520)
 * for a window of `1 << order` pages at `index` (ra->size = 1 << order; the order the caller
 * asks for is that window's, `new_order` after the +2 and ilog2(ra->size) caps, 474-478):
 *
 * - `limit = (i_size_read(mapping->host) - 1) >> PAGE_SHIFT` (458, before any lock; an empty
 *   file's -1 shifts to ULONG_MAX). A mapping without large folios (ext4 on 6.12: only XFS
 *   calls mapping_set_large_folios among the model's filesystems) or a window under
 *   min_ra_size = 4 pages goes to the fallback (469-470). Else `limit = min(limit, index +
 *   ra->size - 1)` (472), filemap_invalidate_lock_shared (483), and while `index <= limit`
 *   (492-504): the order drops to `__ffs(index)` for an unaligned index and below any folio
 *   that would end past `limit` ("Don't allocate pages past EOF"), ra_alloc_folio
 *   (430-449: filemap_add_folio inserts the folio locked; -EEXIST when a slot it covers is
 *   taken breaks the loop). read_pages (507), filemap_invalidate_unlock_shared (508); an error
 *   goes on to the fallback (516-519) from wherever the loop stopped.
 * - fallback: do_page_cache_ra (302-321) reads i_size again: nothing for an empty file or an
 *   index past the page holding the last byte, the window clipped to that page; then
 *   page_cache_ra_unbounded (205-293): filemap_invalidate_lock_shared (226, 730633f0b7f9's),
 *   and per index an order-0 folio (min_order is 0 here): a cached index (xa_load, 245) or a
 *   lost insert (filemap_add_folio's -EEXIST, 268-277) reads the batch so far (read_pages)
 *   and moves past it; read_pages (290), unlock (291).
 * - read_pages (146-189), one folio per step: ->readahead submits the reads; the model
 *   completes each at once (uptodate, unlock: the folio lock is held until completion in the
 *   kernel too, so every thread that would look at it waits for it either way) and
 *   readahead_folio drops the allocation's reference.
 *
 * The fixes this path has are the builder's options: `raInvalidateLock` (00fa15e0d564, the
 * lock in page_cache_ra_order) and `unboundedInvalidateLock` (730633f0b7f9's, in
 * page_cache_ra_unbounded). PG_readahead (the `mark` folio) is not modelled: the model's
 * faults and reads start no readahead.
 */
import type { Ctx } from '../../ctx.js';
import { ArgError, acquire, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE, type Locals } from '../../state.js';
import { MAX_FILE_PAGES, type Env } from '../../env.js';
import { END, fileArg, dropInvalidateLock, readIoAcc, takeInvalidateLock } from '../../kernel/lib.js';
import { V612, iSizeRead612 } from '../../kernel/marks612.js';

const ilockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;
const RA = `mm/readahead.c page_cache_ra_order() ${V612}`;
const DPCR = `mm/readahead.c do_page_cache_ra() ${V612}`;

/** readahead: `{ file, index, order }` (index aligned to the order). */
export function readaheadArgs(args: Readonly<Record<string, unknown>>, env: Env): Locals {
  for (const k of Object.keys(args))
    if (!['file', 'index', 'order'].includes(k)) throw new ArgError(k, `unknown argument ${k} (this program takes: file, index, order)`);
  const int = (k: string, max: number) => {
    const v = args[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new ArgError(k, `argument ${k} must be an integer from 0 to ${max}`);
    return v;
  };
  const index = int('index', MAX_FILE_PAGES - 1);
  const order = int('order', 9);
  if (index % (1 << order) !== 0) throw new ArgError('index', `index must be a multiple of ${1 << order} for an order-${order} folio`);
  return { file: fileArg(args, env), index, order, pfn: NONE, limit: 0, err: 0, unb: 0, batch: [] };
}

/** The lowest set bit's position (__ffs); index > 0. */
const ffs = (n: number) => {
  let k = 0;
  while (n % 2 === 0) {
    n /= 2;
    k++;
  }
  return k;
};

/** (isize - 1) >> PAGE_SHIFT as pgoff_t: an empty file gives ULONG_MAX. */
const lastIndex = (isize: number) => (isize === 0 ? END : Math.floor((isize - 1) / PAGE_SIZE));

/** page_cache_ra_order's folio order at `index` (mm/readahead.c:493-500). */
function raOrder(c: Ctx, index: number): number {
  let order = c.num('order');
  if (index % (1 << order) !== 0) order = ffs(index);
  while (order > 0 && index + (1 << order) - 1 > c.num('limit')) order--;
  return order;
}

/**
 * do_page_cache_ra (mm/readahead.c:302-321) from readahead_index: i_size (the caller read and
 * marked it), then page_cache_ra_unbounded over the clipped window, or nothing.
 */
function doPageCacheRa(c: Ctx): void {
  const isize = c.map(c.num('file')).isize;
  const index = c.num('index');
  const endIndex = lastIndex(isize);
  if (isize === 0 || index > endIndex) {
    c.effect(isize === 0 ? 'do_page_cache_ra: isize == 0: nothing to read' : 'do_page_cache_ra: index > end_index: nothing to read');
    c.ret(0);
    return;
  }
  const nr = Math.min(1 << c.num('order'), endIndex - index + 1);
  c.set('unb', 1);
  c.set('limit', index + nr - 1); // page_cache_ra_unbounded's last index: index + nr_to_read - 1
  c.goto('ulock');
}

/** After read_pages: the loop it was called from, or what follows the loop. */
function afterRead(c: Ctx): void {
  if (!c.num('unb')) c.goto('unlock');
  else c.goto(c.num('index') > c.num('limit') ? 'uunlock' : 'ualloc');
}

function isizeAcc(c: Ctx, cite: string) {
  return [iSizeRead612(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), cite)];
}

function lockStep(on: boolean, where: string, next: string): StepDef {
  return on
    ? {
        label: 'filemap_invalidate_lock_shared(mapping)',
        where,
        acc: (c) => [acquire(ilockLoc(c))],
        block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, ilockLoc(c), true),
        run: (c) => {
          takeInvalidateLock(c, c.num('file'), true);
          c.goto(next);
        },
      }
    : { label: '/* no invalidate_lock before the fix */', where, run: (c) => c.goto(next) };
}

function unlockStep(on: boolean, where: string, then: (c: Ctx) => void): StepDef {
  return on
    ? {
        label: 'filemap_invalidate_unlock_shared(mapping)',
        where,
        acc: (c) => [release(ilockLoc(c))],
        run: (c) => {
          dropInvalidateLock(c, c.num('file'), true);
          then(c);
        },
      }
    : { label: 'return', where, run: then };
}

export interface ReadaheadOptions {
  /** 00fa15e0d564: page_cache_ra_order takes the invalidate_lock. */
  raInvalidateLock: boolean;
  /** 730633f0b7f9 (its read side): page_cache_ra_unbounded takes the invalidate_lock. */
  unboundedInvalidateLock: boolean;
}

export function pageCacheRaOrder612(o: ReadaheadOptions): Proc {
  const fix = (l: string) => (o.raInvalidateLock ? `mm/readahead.c:${l} page_cache_ra_order()` : 'mm/readahead.c page_cache_ra_order() (before 00fa15e0d564)');
  const ufix = (l: string) =>
    o.unboundedInvalidateLock ? `mm/readahead.c:${l} page_cache_ra_unbounded()` : 'mm/readahead.c page_cache_ra_unbounded() (before 730633f0b7f9)';
  return {
    fn: 'page_cache_ra_order',
    where: 'mm/readahead.c',
    entry: 'isize',
    steps: {
      isize: {
        label: (c) =>
          large(c)
            ? 'limit = (i_size_read(mapping->host) - 1) >> PAGE_SHIFT; limit = min(limit, index + ra->size - 1)'
            : `limit = (i_size_read(mapping->host) - 1) >> PAGE_SHIFT; ${c.env.files[c.num('file')]!.fs === 'xfs' ? 'ra->size < min_ra_size' : '!mapping_large_folio_support(mapping)'}: goto fallback; do_page_cache_ra(): isize = i_size_read(inode); end_index = (isize - 1) >> PAGE_SHIFT`,
        where: 'mm/readahead.c:458-472 page_cache_ra_order(), 302-321 do_page_cache_ra()',
        // on the fallback, page_cache_ra_order's read (458) is dead: do_page_cache_ra reads i_size again (307) with no shared access between
        acc: (c) =>
          isizeAcc(
            c,
            large(c)
              ? `${RA}: limit = (i_size_read(mapping->host) - 1) >> PAGE_SHIFT (mm/readahead.c:458)`
              : `${DPCR}: isize = i_size_read(inode) (mm/readahead.c:307)`,
          ),
        run: (c) => {
          if (!large(c)) {
            c.effect(
              `${c.env.files[c.num('file')]!.fs === 'xfs' ? `ra->size ${1 << c.num('order')} < min_ra_size 4` : 'no large folios on this mapping'}: fallback`,
            );
            doPageCacheRa(c);
            return;
          }
          c.set('limit', Math.min(lastIndex(c.map(c.num('file')).isize), c.num('index') + (1 << c.num('order')) - 1));
          c.goto('ilock');
        },
      },
      ilock: lockStep(o.raInvalidateLock, fix('483'), 'alloc'),
      alloc: {
        label: (c) =>
          c.num('index') > c.num('limit')
            ? 'while (index <= limit): index > limit (past EOF): the loop ends; read_pages(ractl)'
            : `order = ${raOrder(c, c.num('index'))}; ra_alloc_folio(): folio = filemap_alloc_folio(gfp, order); folio_set_readahead(folio); err = filemap_add_folio(mapping, folio, index, gfp)`,
        where: 'mm/readahead.c:492-504 page_cache_ra_order(), 430-449 ra_alloc_folio()',
        acc: (c) => (c.num('index') > c.num('limit') ? [] : [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), w('alloc')]),
        run: (c) => {
          const file = c.num('file');
          const index = c.num('index');
          if (index > c.num('limit')) {
            readPages(c);
            return;
          }
          const order = raOrder(c, index);
          const nr = 1 << order;
          for (let k = 0; k < nr; k++) {
            if (c.lookup(file, index + k) !== NONE) {
              c.effect('filemap_add_folio: -EEXIST: the loop breaks');
              c.set('err', 1);
              readPages(c);
              return;
            }
          }
          const pfn = c.allocPage();
          if (order > 0) c.updPage(pfn, { order, pmap: new Array<number>(nr).fill(0), entire: 0 });
          c.addToCache(file, index, pfn);
          c.set('batch', [...c.list('batch'), pfn]);
          c.set('index', index + nr);
          if (index + nr > c.num('limit')) readPages(c);
          else c.goto('alloc');
        },
      },
      read: {
        label: 'read_pages(ractl): ->readahead(); I/O done: folio_end_read(folio, true) [uptodate, unlock]; readahead_folio() drops the allocation reference',
        where: 'mm/readahead.c:146-189 read_pages()',
        acc: (c) => {
          const pfn = c.list('batch')[0]!;
          return [w(`${c.P(pfn)}.flags.uptodate`), ...readIoAcc(c, pfn, c.num('file')), release(`lock:${c.P(pfn)}`), w(`${c.P(pfn)}.refcount`)];
        },
        run: (c) => {
          const [pfn, ...rest] = c.list('batch');
          c.setFlag(pfn!, 'uptodate', true);
          c.unlockPage(pfn!);
          c.ref(pfn!, -1);
          c.set('batch', rest);
          if (rest.length) c.goto('read');
          else afterRead(c);
        },
      },
      unlock: unlockStep(o.raInvalidateLock, fix('508'), (c) => {
        if (c.num('err')) c.goto('fallback');
        else c.ret(0);
      }),
      fallback: {
        label:
          'if (!err) return; fallback: do_page_cache_ra(ractl, ra->size, ra->async_size): isize = i_size_read(inode); end_index = (isize - 1) >> PAGE_SHIFT',
        where: 'mm/readahead.c:516-519 page_cache_ra_order(), 302-321 do_page_cache_ra()',
        acc: (c) => isizeAcc(c, `${DPCR}: isize = i_size_read(inode) (mm/readahead.c:307)`),
        run: doPageCacheRa,
      },
      ulock: lockStep(o.unboundedInvalidateLock, ufix('226'), 'ualloc'),
      ualloc: {
        label: (c) =>
          c.lookup(c.num('file'), c.num('index')) !== NONE
            ? 'folio = xa_load(&mapping->i_pages, index + i): already present: read_pages(ractl); ractl->_index += min_nrpages'
            : 'folio = filemap_alloc_folio(gfp_mask, min_order); ret = filemap_add_folio(mapping, folio, index + i, gfp_mask); i += min_nrpages',
        where: 'mm/readahead.c:244-283 page_cache_ra_unbounded()',
        // xa_load (245) and filemap_add_folio (268) in one step: a folio that appears between them fails the insert
        // (-EEXIST, 271-277), which does what finding it does; one that goes between them was skipped all the same
        acc: (c) =>
          c.lookup(c.num('file'), c.num('index')) !== NONE
            ? [r(`${c.M(c.num('file'))}.tree`)]
            : [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), w('alloc')],
        run: (c) => {
          const file = c.num('file');
          const index = c.num('index');
          c.set('index', index + 1);
          if (c.lookup(file, index) !== NONE) {
            c.effect(`${c.M(file)}[${index}] is cached: read the batch so far, skip it`);
            readPages(c);
            return;
          }
          const pfn = c.allocPage();
          c.addToCache(file, index, pfn);
          c.set('batch', [...c.list('batch'), pfn]);
          if (index + 1 > c.num('limit')) readPages(c);
          else c.goto('ualloc');
        },
      },
      uunlock: unlockStep(o.unboundedInvalidateLock, ufix('290-291'), (c) => c.ret(0)),
    },
  };
}

/** mapping_large_folio_support(mapping) && ra->size >= min_ra_size (mm/readahead.c:469). */
function large(c: Ctx): boolean {
  return c.env.files[c.num('file')]!.fs === 'xfs' && 1 << c.num('order') >= 4;
}

/** read_pages(ractl): nothing when the batch is empty (readahead_count() == 0, mm/readahead.c:152). */
function readPages(c: Ctx): void {
  if (c.list('batch').length) c.goto('read');
  else afterRead(c);
}
