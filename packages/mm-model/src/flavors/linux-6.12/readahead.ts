/**
 * Large-folio readahead on linux-6.12, page_cache_ra_order (mm/readahead.c:452-520) for one
 * folio: filemap_invalidate_lock_shared (483), ra_alloc_folio (430-445: filemap_alloc_folio
 * of the order, folio_set_readahead, filemap_add_folio — inserted locked; -EEXIST when any
 * slot it covers is taken ends the batch), read_pages (507: the I/O completes, the folio is
 * marked uptodate and unlocked, readahead_folio drops the allocation's reference),
 * filemap_invalidate_unlock_shared (508). 00fa15e0d564 (v5.19) added the invalidate_lock
 * here, mirroring page_cache_ra_unbounded; the builder's option `raInvalidateLock` is it.
 */
import type { Ctx } from '../../ctx.js';
import { ArgError, acquire, release, w, type Proc } from '../../program.js';
import { NONE, PG, type Locals } from '../../state.js';
import { MAX_FILE_PAGES, type Env } from '../../env.js';
import { fileArg, dropInvalidateLock, takeInvalidateLock } from '../../kernel/lib.js';

const ilockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

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
  return { file: fileArg(args, env), index, order, pfn: NONE };
}

export function pageCacheRaOrder612(o: { raInvalidateLock: boolean }): Proc {
  const fix = (l: string) => (o.raInvalidateLock ? `mm/readahead.c:${l} page_cache_ra_order()` : 'mm/readahead.c page_cache_ra_order() (before 00fa15e0d564)');
  return {
    fn: 'page_cache_ra_order',
    where: 'mm/readahead.c',
    entry: 'ilock',
    steps: {
      ilock: o.raInvalidateLock
        ? {
            label: 'filemap_invalidate_lock_shared(mapping)',
            where: fix('483'),
            acc: (c) => [acquire(ilockLoc(c))],
            block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, ilockLoc(c), true),
            run: (c) => {
              const file = c.num('file');
              takeInvalidateLock(c, file, true);
              c.goto('alloc');
            },
          }
        : { label: 'page_cache_ra_order() /* 5.18: no invalidate_lock */', where: fix(''), run: (c) => c.goto('alloc') },
      alloc: {
        label: 'ra_alloc_folio(): folio = filemap_alloc_folio(gfp, order); folio_set_readahead(folio); err = filemap_add_folio(mapping, folio, index, gfp)',
        where: 'mm/readahead.c:430-445 ra_alloc_folio()',
        acc: (c) => [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), w('alloc')],
        run: (c) => {
          const file = c.num('file');
          const index = c.num('index');
          const nr = 1 << c.num('order');
          for (let k = 0; k < nr; k++) {
            if (c.lookup(file, index + k) !== NONE) {
              c.effect('filemap_add_folio: -EEXIST: the batch ends');
              c.goto('unlock');
              return;
            }
          }
          const pfn = c.allocPage();
          if (c.num('order') > 0) c.updPage(pfn, { order: c.num('order'), pmap: new Array<number>(nr).fill(0), entire: 0 });
          c.addToCache(file, index, pfn);
          c.set('pfn', pfn);
          c.goto('read');
        },
      },
      read: {
        label: 'read_pages(ractl): ->readahead(); I/O done: folio_end_read(folio, true) [uptodate, unlock]; readahead_folio() drops our reference',
        where: 'mm/readahead.c:507 page_cache_ra_order()',
        acc: (c) => [w(`${c.P(c.num('pfn'))}.flags.uptodate`), release(`lock:${c.P(c.num('pfn'))}`), w(`${c.P(c.num('pfn'))}.refcount`)],
        run: (c) => {
          const pfn = c.num('pfn');
          c.updPage(pfn, { flags: c.page(pfn).flags | PG.uptodate });
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          c.goto('unlock');
        },
      },
      unlock: o.raInvalidateLock
        ? {
            label: 'filemap_invalidate_unlock_shared(mapping)',
            where: fix('508'),
            acc: (c) => [release(ilockLoc(c))],
            run: (c) => {
              const file = c.num('file');
              dropInvalidateLock(c, file, true);
              c.ret(0);
            },
          }
        : { label: 'return', where: fix(''), run: (c) => c.ret(0) },
    },
  };
}
