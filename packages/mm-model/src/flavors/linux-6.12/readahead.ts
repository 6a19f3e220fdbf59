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
 * - read_pages (146-189), one folio per step: ->readahead takes the folio (readahead_folio drops
 *   the allocation's reference) and submits its read; read_pages returns with the folio locked
 *   and not uptodate. The bio's end_io completes it later in its own context: the machine's
 *   daemon thread `end_io` (model.ts, Env.endIo; session 44), which holds the folio's PG_locked
 *   from the submission on and runs `endIoProc` below. A folio with nothing to read (a hole, or
 *   past EOF) is zeroed, marked uptodate and unlocked in the submitting step, as ext4 and iomap
 *   do without a bio.
 *
 * The fixes this path has are the builder's options: `raInvalidateLock` (00fa15e0d564, the
 * lock in page_cache_ra_order) and `unboundedInvalidateLock` (730633f0b7f9's, in
 * page_cache_ra_unbounded). PG_readahead (the `mark` folio) is not page state of the model:
 * the buffered read enters here from page_cache_sync_ra (flavors/linux-6.12/read.ts, since
 * session 42) with its ra->size and ra->async_size, and a window that would add a folio with the
 * flag set stops the search with an input error (refuseMark); the `readahead` program's
 * async_size is unknown and its mark not followed. The entry `dpcr` is page_cache_sync_ra's
 * do_page_cache_ra(ractl, 1, 0) for a small random read.
 */
import type { Ctx } from '../../ctx.js';
import { fsOf } from '../../kernel/filesystems.js';
import { InputError, type Access } from '@kreplay/core';
import { ArgError, acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE, PG, type Locals } from '../../state.js';
import { MAX_FILE_PAGES, type Env } from '../../env.js';
import { END, fileArg, dropInvalidateLock, readIoAcc, takeInvalidateLock } from '../../kernel/lib.js';
import { V612, iSizeRead612 } from '../../kernel/marks612.js';
import { ghost, marked } from '../../kernel/marks.js';
import { folioPut, folioUnlock, iSizeRead, rwsemLock, rwsemUnlock } from '../../kernel/marks6.js';
import { folioUnlock612 } from '../../kernel/marks612.js';
import { readIoMarks } from '../linux-6.1/read.js';

const ilockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

/**
 * The release whose mm/readahead.c the procedure follows: its version, its i_size_read (6.1: a plain load; 6.12: an
 * acquire), whether a mapping can take large folios here, the source lines the steps cite, and read_pages' marks.
 */
export interface RaKernel {
  v: string;
  iSizeRead: (c: Ctx, a: Access, file: number, cite: string) => Access;
  /** mapping_large_folio_support(mapping) && ra->size >= 4; a release without it leaves out the large-folio steps. */
  large?: (c: Ctx) => boolean;
  /** Line numbers and labels, by what they stand for. */
  L: {
    raOrder: string; // page_cache_ra_order's i_size read .. its limit (the isize step)
    raOrderIsize: string;
    raLock: string;
    raLoop: string;
    raAlloc: string; // ra_alloc_folio
    raAllocCall: string;
    raUnlock: string;
    raFallback: string;
    dpcr: string;
    dpcrIsize: string;
    dpcrCaller: string; // the small random read's do_page_cache_ra(ractl, 1, 0)
    dpcrLabel: string;
    uLock: string;
    uLoop: string;
    uAlloc: string;
    uAllocLabel: string;
    uUnlock: string;
    readPages: string;
    readLabel: string;
    marks: string; // where PG_readahead is set: ra_alloc_folio, page_cache_ra_unbounded
  };
  /** read_pages' marks: the I/O completion's PG_uptodate, and the put of the allocation's reference. */
  uptodateCite: string;
  putCite: string;
  /** read_pages submitting a folio's read (the bio's end_io completes it): its label and its i_size read. */
  submitLabel: string;
  submitIsizeCite: string;
  /** The bio's end_io in its own context (endIoProc): where, its label, its PG_uptodate and its unlock. */
  endIo: { fn: string; where: string; label: string; uptodateCite: string; unlockCite: string; unlock: (a: Access, cite: string) => Access };
}

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
  // ra->size is the window; ra->async_size unknown (-1): a caller's PG_readahead mark is not followed for this program
  return { file: fileArg(args, env), index, order, size: 1 << order, async: -1, mark: NONE, pfn: NONE, limit: 0, err: 0, unb: 0, batch: [] };
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

/** page_cache_ra_order's folio order at `index` (mm/readahead.c:493-500); `order` is new_order after its caps (474-478). */
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
  const nr = Math.min(c.num('size'), endIndex - index + 1);
  c.set('unb', 1);
  c.set('limit', index + nr - 1); // page_cache_ra_unbounded's last index: index + nr_to_read - 1
  // page_cache_ra_unbounded's mark (235-237): folio_set_readahead at i == round_up(index + nr_to_read - lookahead_size) - index;
  // with lookahead_size 0 or above nr_to_read (unsigned: it wraps, or lies before index) no i reaches it
  const la = c.num('async');
  c.set('mark', la > 0 && la <= nr ? index + nr - la : NONE);
  c.goto('ulock');
}

/**
 * A folio this readahead would add with PG_readahead set (ra_alloc_folio 438-440, page_cache_ra_unbounded 278-279): a
 * read or fault that finds it calls page_cache_async_ra / do_async_mmap_readahead, and the flag is no page state of
 * the model. The search stops with an input error rather than go on as if the kernel did not take that path. The
 * `readahead` program's async_size is not known (-1): its mark is not followed, as before session 42.
 */
function refuseMark(c: Ctx, k: RaKernel, at: number): void {
  throw new InputError(
    `file ${c.env.files[c.num('file')]!.name}: a read's readahead (ra->size ${c.num('size')}, ra->async_size ${c.num('async')}) would add the folio at index ${at} with PG_readahead set (mm/readahead.c:${k.L.marks}, ${k.v}); page_cache_async_ra, which a read or fault finding it calls, is not modelled`,
    {
      hint: 'read index 0 of a file of one page (XFS) or of at most two pages (ext4), or an index above 0 with at most one cached page just below it (docs/flavors.md, session 42)',
    },
  );
}

/** After read_pages: the loop it was called from, or what follows the loop. */
function afterRead(c: Ctx): void {
  if (!c.num('unb')) c.goto('unlock');
  else c.goto(c.num('index') > c.num('limit') ? 'uunlock' : 'ualloc');
}

function isizeAcc(c: Ctx, k: RaKernel, cite: string) {
  return [k.iSizeRead(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), cite)];
}

function lockStep(k: RaKernel, on: boolean, where: string, next: string): StepDef {
  return on
    ? marked(
        {
          label: 'filemap_invalidate_lock_shared(mapping)',
          where,
          acc: (c) => [acquire(ilockLoc(c))],
          block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, ilockLoc(c), true),
          run: (c) => {
            takeInvalidateLock(c, c.num('file'), true);
            c.goto(next);
          },
        },
        (_c, a) => rwsemLock(a, `mm/readahead.c ${k.v}: filemap_invalidate_lock_shared(mapping) (${where})`),
      )
    : { label: '/* no invalidate_lock before the fix */', where, run: (c) => c.goto(next) };
}

function unlockStep(k: RaKernel, on: boolean, where: string, then: (c: Ctx) => void): StepDef {
  return on
    ? marked(
        {
          label: 'filemap_invalidate_unlock_shared(mapping)',
          where,
          acc: (c) => [release(ilockLoc(c))],
          run: (c) => {
            dropInvalidateLock(c, c.num('file'), true);
            then(c);
          },
        },
        (_c, a) => rwsemUnlock(a, `mm/readahead.c ${k.v}: filemap_invalidate_unlock_shared(mapping) (${where})`),
      )
    : { label: 'return', where, run: then };
}

export interface ReadaheadOptions {
  /** 00fa15e0d564: page_cache_ra_order takes the invalidate_lock. */
  raInvalidateLock: boolean;
  /** 730633f0b7f9 (its read side): page_cache_ra_unbounded takes the invalidate_lock. */
  unboundedInvalidateLock: boolean;
}

/** 6.12.118 mm/readahead.c. */
export const RA_612: RaKernel = {
  v: V612,
  iSizeRead: iSizeRead612,
  large: (c) => fsOf(c) === 'xfs' && c.num('size') >= 4,
  L: {
    raOrder: '458-472',
    raOrderIsize: '458',
    raLock: '483',
    raLoop: '492-504',
    raAlloc: '430-449',
    raAllocCall: 'ra_alloc_folio(): filemap_alloc_folio(gfp, order) (mm/readahead.c:433)',
    raUnlock: '508',
    raFallback: '516-519',
    dpcr: '302-321',
    dpcrIsize: '307',
    dpcrCaller: 'mm/readahead.c:592-594 page_cache_sync_ra()',
    dpcrLabel: 'do_page_cache_ra(ractl, req_count, 0)',
    uLock: '226',
    uLoop: '244-283',
    uAlloc: 'folio = filemap_alloc_folio(gfp_mask, mapping_min_folio_order(mapping)) (mm/readahead.c:262-263)',
    uAllocLabel: 'folio = filemap_alloc_folio(gfp_mask, min_order); ret = filemap_add_folio(mapping, folio, index + i, gfp_mask); i += min_nrpages',
    uUnlock: '290-291',
    readPages: '146-189',
    readLabel: 'read_pages(ractl): ->readahead(); I/O done: folio_end_read(folio, true) [uptodate, unlock]; readahead_folio() drops the allocation reference',
    marks: '438-440, 278-279',
  },
  uptodateCite: `mm/readahead.c read_pages() ${V612}: ->readahead() I/O completion: folio_end_read(folio, true) sets PG_uptodate (as folio_mark_uptodate(): smp_wmb(); set_bit(PG_uptodate))`,
  putCite: `mm/readahead.c read_pages() ${V612}: readahead_folio(rac) → folio_put(folio)`,
  submitLabel:
    'read_pages(ractl): ->readahead(): folio = readahead_folio(rac) [folio_put()]; map the blocks; bio_add_folio(); submit_bio(): the folio stays locked and !uptodate until the bio completes',
  submitIsizeCite: `->readahead() ${V612}: the blocks past i_size_read(inode) are zeroed, not read (ext4_mpage_readpages(), iomap_readahead())`,
  endIo: {
    fn: 'end_io',
    where:
      'fs/ext4/readpage.c:162-172 mpage_end_io(), 69-80 __read_end_io(), mm/filemap.c:1532 folio_end_read() (xfs: iomap_read_end_io()), in softirq or workqueue context',
    label:
      'bio end_io (ext4 mpage_end_io() → __read_end_io(); xfs iomap_read_end_io() → iomap_finish_folio_read()): folio_end_read(folio, true) [PG_uptodate set, PG_locked cleared, waiters woken]',
    uptodateCite: `mm/filemap.c folio_end_read() ${V612} (from the read bio's end_io): folio_xor_flags_has_waiters(folio, 1 << PG_locked | 1 << PG_uptodate) sets PG_uptodate in the release RMW that unlocks`,
    unlockCite: `mm/filemap.c folio_end_read() ${V612}: folio_xor_flags_has_waiters() clears PG_locked (release), folio_wake_bit(folio, PG_locked)`,
    unlock: folioUnlock612,
  },
};

/**
 * 6.1.192 mm/readahead.c, as the buffered read reaches it on ext4 (the only filesystem the linux-6.1 flavor takes):
 * ext4 has no large folios on 6.1 (no mapping_set_large_folios in fs/ext4), so page_cache_ra_order (487-555) goes to
 * its fallback (498-499) and the large-folio loop (with 6.1's own rule against order-1 folios, 519-526) is left out.
 * do_page_cache_ra (282-301) and page_cache_ra_unbounded (206-272) are 6.12's but for the mark
 * (`i == nr_to_read - lookahead_size`, 259) and the order-0 allocation (248); the invalidate_lock is taken (226, 271)
 * as 730633f0b7f9 has it. read_pages (147-190) calls ext4_readahead → ext4_mpage_readpages (fs/ext4/readpage.c:
 * 225-409), which takes each page with readahead_page (256: no put) and puts it after submitting it (404).
 */
export const RA_61: RaKernel = {
  v: '6.1.192',
  iSizeRead,
  L: {
    raOrder: '491-499',
    raOrderIsize: '492',
    raLock: '513',
    raLoop: '514-531',
    raAlloc: '465-485',
    raAllocCall: 'ra_alloc_folio(): filemap_alloc_folio(gfp, order) (mm/readahead.c:469)',
    raUnlock: '540',
    raFallback: '548-551',
    dpcr: '282-301',
    dpcrIsize: '287',
    dpcrCaller: 'mm/readahead.c:642-650 ondemand_readahead()',
    dpcrLabel: 'do_page_cache_ra(ractl, req_size, 0)',
    uLock: '226',
    uLoop: '230-262',
    uAlloc: 'folio = filemap_alloc_folio(gfp_mask, 0) (mm/readahead.c:248)',
    uAllocLabel: 'folio = filemap_alloc_folio(gfp_mask, 0); filemap_add_folio(mapping, folio, index + i, gfp_mask)',
    uUnlock: '270-271',
    readPages: '147-190',
    readLabel:
      'read_pages(ractl): ->readahead(): ext4_mpage_readpages(): page = readahead_page(rac); submit; I/O done: SetPageUptodate(page); unlock_page(page); put_page(page)',
    marks: '259-260, 472-475',
  },
  uptodateCite:
    "fs/ext4/readpage.c ext4_mpage_readpages() 6.1.192 (from read_pages(), mm/readahead.c:161): SetPageUptodate(page) (fs/ext4/readpage.c:347, or the bio's end_io, 84) → folio_mark_uptodate(): smp_wmb(); set_bit(PG_uptodate) (include/linux/page-flags.h:752-753)",
  putCite: 'fs/ext4/readpage.c ext4_mpage_readpages() 6.1.192: if (rac) put_page(page) (fs/ext4/readpage.c:404)',
  submitLabel:
    'read_pages(ractl): ->readahead(): ext4_mpage_readpages(): page = readahead_page(rac); ext4_map_blocks(); bio_add_page(); submit_bio(); put_page(page): the page stays locked and !uptodate until the bio completes',
  submitIsizeCite: 'fs/ext4/readpage.c ext4_mpage_readpages() 6.1.192: last_block_in_file = (ext4_readpage_limit(inode) + ... (fs/ext4/readpage.c:266)',
  endIo: {
    fn: 'end_io',
    where: 'fs/ext4/readpage.c:175-185 mpage_end_io(), 69-91 __read_end_io(), in softirq context',
    label: 'bio end_io: mpage_end_io() → __read_end_io(): SetPageUptodate(page); unlock_page(page)',
    uptodateCite:
      "fs/ext4/readpage.c __read_end_io() 6.1.192 (the read bio's end_io): SetPageUptodate(page) (fs/ext4/readpage.c:84) → folio_mark_uptodate(): smp_wmb(); set_bit(PG_uptodate) (include/linux/page-flags.h:752-753)",
    unlockCite: 'fs/ext4/readpage.c __read_end_io() 6.1.192: unlock_page(page) (fs/ext4/readpage.c:86)',
    unlock: folioUnlock,
  },
};

/** page_cache_ra_order and what it reaches, 6.12.118's (flavors/linux-6.12/index.ts). */
export function pageCacheRaOrder612(o: ReadaheadOptions): Proc {
  return pageCacheRaOrder(o, RA_612);
}

/** linux-6.1's: both invalidate_lock fixes are in 6.1.192 (mm/readahead.c:226, 513). */
export function pageCacheRaOrder61(): Proc {
  return pageCacheRaOrder({ raInvalidateLock: true, unboundedInvalidateLock: true }, RA_61);
}

function pageCacheRaOrder(o: ReadaheadOptions, k: RaKernel): Proc {
  const L = k.L;
  const RA = `mm/readahead.c page_cache_ra_order() ${k.v}`;
  const DPCR = `mm/readahead.c do_page_cache_ra() ${k.v}`;
  const large = (c: Ctx) => k.large?.(c) === true;
  const fix = (l: string) => (o.raInvalidateLock ? `mm/readahead.c:${l} page_cache_ra_order()` : 'mm/readahead.c page_cache_ra_order() (before 00fa15e0d564)');
  const ufix = (l: string) =>
    o.unboundedInvalidateLock ? `mm/readahead.c:${l} page_cache_ra_unbounded()` : 'mm/readahead.c page_cache_ra_unbounded() (before 730633f0b7f9)';
  const dpcrIsize = (c: Ctx) => isizeAcc(c, k, `${DPCR}: isize = i_size_read(inode) (mm/readahead.c:${L.dpcrIsize})`);
  const allocAcc = (cite: string): Access => lk(w('alloc'), 'alloc', 0, `mm/readahead.c ${k.v}: ${cite}`);
  /** The large-folio loop (6.12 on XFS): left out where no mapping has large folios. */
  const largeSteps: Record<string, StepDef> = {
    ilock: lockStep(k, o.raInvalidateLock, fix(L.raLock), 'alloc'),
    alloc: {
      label: (c) =>
        c.num('index') > c.num('limit')
          ? 'while (index <= limit): index > limit (past EOF): the loop ends; read_pages(ractl)'
          : `order = ${raOrder(c, c.num('index'))}; ra_alloc_folio(): folio = filemap_alloc_folio(gfp, order); if (index == round_down(mark, 1UL << order)) folio_set_readahead(folio); err = filemap_add_folio(mapping, folio, index, gfp)`,
      where: `mm/readahead.c:${L.raLoop} page_cache_ra_order(), ${L.raAlloc} ra_alloc_folio()`,
      acc: (c) => (c.num('index') > c.num('limit') ? [] : [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), allocAcc(L.raAllocCall)]),
      run: (c) => {
        const file = c.num('file');
        const index = c.num('index');
        if (index > c.num('limit')) {
          readPages(c);
          return;
        }
        const order = raOrder(c, index);
        const nr = 1 << order;
        for (let j = 0; j < nr; j++) {
          if (c.lookup(file, index + j) !== NONE) {
            c.effect('filemap_add_folio: -EEXIST: the loop breaks');
            c.set('err', 1);
            readPages(c);
            return;
          }
        }
        // ra_alloc_folio: if (index == round_down(mark, 1UL << order)) folio_set_readahead(folio) (438-440)
        if (c.num('mark') >= 0 && index === c.num('mark') - (c.num('mark') % nr)) refuseMark(c, k, index);
        const pfn = c.allocPage();
        if (order > 0) c.updPage(pfn, { order, pmap: new Array<number>(nr).fill(0), entire: 0 });
        c.addToCache(file, index, pfn);
        c.set('batch', [...c.list('batch'), pfn]);
        c.set('index', index + nr);
        if (index + nr > c.num('limit')) readPages(c);
        else c.goto('alloc');
      },
    },
    unlock: unlockStep(k, o.raInvalidateLock, fix(L.raUnlock), (c) => {
      if (c.num('err')) c.goto('fallback');
      else c.ret(0);
    }),
    fallback: {
      label: 'if (!err) return; fallback: do_page_cache_ra(ractl, ra->size, ra->async_size): isize = i_size_read(inode); end_index = (isize - 1) >> PAGE_SHIFT',
      where: `mm/readahead.c:${L.raFallback} page_cache_ra_order(), ${L.dpcr} do_page_cache_ra()`,
      acc: dpcrIsize,
      run: doPageCacheRa,
    },
  };
  return {
    fn: 'page_cache_ra_order',
    where: 'mm/readahead.c',
    entry: 'isize',
    steps: {
      isize: {
        label: (c) =>
          large(c)
            ? 'limit = (i_size_read(mapping->host) - 1) >> PAGE_SHIFT; limit = min(limit, index + ra->size - 1)'
            : `limit = (i_size_read(mapping->host) - 1) >> PAGE_SHIFT; ${fsOf(c) === 'xfs' ? 'ra->size < min_ra_size' : '!mapping_large_folio_support(mapping)'}: goto fallback; do_page_cache_ra(): isize = i_size_read(inode); end_index = (isize - 1) >> PAGE_SHIFT`,
        where: `mm/readahead.c:${L.raOrder} page_cache_ra_order(), ${L.dpcr} do_page_cache_ra()`,
        // on the fallback, page_cache_ra_order's read is dead: do_page_cache_ra reads i_size again with no shared access between
        acc: (c) =>
          large(c) ? isizeAcc(c, k, `${RA}: limit = (i_size_read(mapping->host) - 1) >> PAGE_SHIFT (mm/readahead.c:${L.raOrderIsize})`) : dpcrIsize(c),
        run: (c) => {
          if (!large(c)) {
            c.effect(`${fsOf(c) === 'xfs' ? `ra->size ${c.num('size')} < min_ra_size 4` : 'no large folios on this mapping'}: fallback`);
            doPageCacheRa(c);
            return;
          }
          c.set('limit', Math.min(lastIndex(c.map(c.num('file')).isize), c.num('index') + c.num('size') - 1));
          // mark = index + ra->size - ra->async_size (459)
          if (c.num('async') >= 0) c.set('mark', c.num('index') + c.num('size') - c.num('async'));
          c.goto('ilock');
        },
      },
      ...(k.large ? largeSteps : {}),
      read: marked(
        {
          label: (c) => (submitsRead(c, c.list('batch')[0]!) ? k.submitLabel : L.readLabel),
          where: `mm/readahead.c:${L.readPages} read_pages()`,
          acc: (c) => {
            const pfn = c.list('batch')[0]!;
            const file = c.num('file');
            // the hole and EOF test reads the folio's index and file (submitsRead), the block map and i_size; a submitted
            // read hands PG_locked to end_io (declared as the folio's bio, which end_io reads: who holds the lock changes,
            // not whether it is held)
            const folio = r(`${c.P(pfn)}.mapping`);
            if (submitsRead(c, pfn))
              return [folio, r(`${c.M(file)}.disk`), r(`${c.M(file)}.i_size`), w(`${c.P(pfn)}.bio`), w('end_io.pending'), w(`${c.P(pfn)}.refcount`)];
            return [folio, w(`${c.P(pfn)}.flags.uptodate`), ...readIoAcc(c, pfn, file), release(`lock:${c.P(pfn)}`), w(`${c.P(pfn)}.refcount`)];
          },
          run: (c) => {
            const [pfn, ...rest] = c.list('batch');
            if (submitsRead(c, pfn!)) {
              c.updPage(pfn!, { locker: c.env.endIo! });
              c.effect(`submit the read of pfn${pfn}: locked, !uptodate until end_io completes it`);
            } else {
              c.setFlag(pfn!, 'uptodate', true);
              c.unlockPage(pfn!);
            }
            c.ref(pfn!, -1);
            c.set('batch', rest);
            if (rest.length) c.goto('read');
            else afterRead(c);
          },
        },
        (c, a) => readPagesMarks(c, k, a),
      ),
      // the small random read (6.12 page_cache_sync_ra, 6.1 ondemand_readahead): do_page_cache_ra(ractl, req_count, 0),
      // entered from the buffered read (flavors/linux-6.12/read.ts withSyncReadahead)
      dpcr: {
        label: `${L.dpcrLabel}: isize = i_size_read(inode); end_index = (isize - 1) >> PAGE_SHIFT`,
        where: `${L.dpcrCaller}, ${L.dpcr} do_page_cache_ra()`,
        acc: dpcrIsize,
        run: doPageCacheRa,
      },
      ulock: lockStep(k, o.unboundedInvalidateLock, ufix(L.uLock), 'ualloc'),
      ualloc: {
        label: (c) =>
          c.lookup(c.num('file'), c.num('index')) !== NONE
            ? 'folio = xa_load(&mapping->i_pages, index + i): already present: read_pages(ractl); ractl->_index += min_nrpages'
            : L.uAllocLabel,
        where: `mm/readahead.c:${L.uLoop} page_cache_ra_unbounded()`,
        // xa_load and filemap_add_folio in one step: a folio that appears between them fails the insert (-EEXIST), which
        // does what finding it does; one that goes between them was skipped all the same
        acc: (c) =>
          c.lookup(c.num('file'), c.num('index')) !== NONE
            ? [r(`${c.M(c.num('file'))}.tree`)]
            : [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), allocAcc(L.uAlloc)],
        run: (c) => {
          const file = c.num('file');
          const index = c.num('index');
          c.set('index', index + 1);
          if (c.lookup(file, index) !== NONE) {
            c.effect(`${c.M(file)}[${index}] is cached: read the batch so far, skip it`);
            readPages(c);
            return;
          }
          // if (i == mark) folio_set_readahead(folio)
          if (index === c.num('mark')) refuseMark(c, k, index);
          const pfn = c.allocPage();
          c.addToCache(file, index, pfn);
          c.set('batch', [...c.list('batch'), pfn]);
          if (index + 1 > c.num('limit')) readPages(c);
          else c.goto('ualloc');
        },
      },
      uunlock: unlockStep(k, o.unboundedInvalidateLock, ufix(L.uUnlock), (c) => c.ret(0)),
    },
  };
}

/**
 * read_pages' read of one folio: the I/O's completion as the buffered read's own (flavors/linux-6.1/read.ts
 * readIoMarks: PG_uptodate set, i_size, the folio unlocked), then the put of the allocation's reference (6.12:
 * readahead_folio's folio_put; 6.1: ext4_mpage_readpages' put_page).
 */
function readPagesMarks(c: Ctx, k: RaKernel, a: Access): Access {
  const pfn = c.list('batch')[0]!;
  if (a.loc.endsWith('.refcount')) return folioPut(c, a, pfn, k.putCite);
  if (a.loc.endsWith('.bio') || a.loc === 'end_io.pending') return ghost(a, BIO_GHOST);
  if (a.loc.endsWith('.mapping')) return ghost(a, FOLIO_GHOST);
  if (a.loc.endsWith('.i_size') && submitsRead(c, pfn)) return iSizeRead(c, a, c.num('file'), k.submitIsizeCite);
  // readIoMarks reads local pfn for the flag's old value; here the folio is the batch's first
  if (a.loc.endsWith('.flags.uptodate')) return lk(a, 'set_bit', (c.page(pfn).flags & PG.uptodate) !== 0 ? 1 : 0, k.uptodateCite, { before: ['smp_wmb'] });
  return readIoMarks(c, a);
}

/** read_pages(ractl): nothing when the batch is empty (readahead_count() == 0, mm/readahead.c:152 of 6.12.118, 153 of 6.1.192). */
function readPages(c: Ctx): void {
  if (c.list('batch').length) c.goto('read');
  else afterRead(c);
}

const FOLIO_GHOST =
  "the folio's file and index, which the model's hole and EOF test reads from its page (submitsRead): the kernel's ext4_mpage_readpages and iomap_readahead take the inode from the readahead control and the index from the folio it locked, which no other thread changes while it is locked";

const BIO_GHOST = "the folio's read in flight (submit_bio to the bio's end_io): the model's hand-over of PG_locked to end_io, no memory access of the kernel";

/**
 * Whether read_pages submits a read for the folio, which the bio's end_io completes later (a machine
 * with an end_io thread: Env.endIo), rather than zeroing it at once: a folio at or past EOF, or over a
 * hole, has no block to read (6.1.192 fs/ext4/readpage.c:335-350; 6.12 iomap_readpage_iter's
 * iomap_block_needs_zeroing) and is marked uptodate and unlocked in the submitting step.
 */
function submitsRead(c: Ctx, pfn: number): boolean {
  if (c.env.endIo === undefined) return false;
  const p = c.page(pfn);
  const m = c.map(p.mapping);
  return p.index < Math.ceil(m.isize / PAGE_SIZE) && (m.bmap[p.index] ?? NONE) !== NONE;
}

/**
 * The read bio's end_io (6.1.192 fs/ext4/readpage.c:175-185 mpage_end_io → 69-91 __read_end_io; 6.12
 * folio_end_read), run by the machine's daemon thread `end_io` (Env.endIo): per step, one folio whose
 * read read_pages submitted gets the disk's data, PG_uptodate and its unlock. Blocked while no read is
 * in flight. The folios complete one at a time, the lowest pfn first: the kernel's bios complete in any
 * order (not-searched.ts READAHEAD_IO_6X says so beside the verdicts, and READAHEAD_DATA_6X and
 * READAHEAD_BATCH_6X what the completion's data and the per-folio submission leave out).
 */
export function endIoProc(k: RaKernel): Proc {
  const E = k.endIo;
  return {
    fn: E.fn,
    where: E.where,
    entry: 'bio',
    steps: {
      bio: marked(
        {
          label: E.label,
          where: E.where,
          block: (c) => (c.firstLockedBy(c.tid) === NONE ? 'a read to complete (none in flight)' : undefined),
          // which folio completes depends on the hand-overs of the lower pfns (their .bio), which end_io reads, and whether
          // it can run at all on any hand-over (end_io.pending): DPOR must order those against its step
          acc: (c) => {
            const pfn = c.firstLockedBy(c.tid);
            if (pfn === NONE) return [r('end_io.pending')];
            const P = c.P(pfn);
            const lower: Access[] = [];
            for (let k = 1; k < pfn; k++) lower.push(r(`${c.P(k)}.bio`));
            return [...lower, w(`${P}.bio`), w(`${P}.flags.uptodate`), ...readIoAcc(c, pfn, c.page(pfn).mapping), release(`lock:${P}`)];
          },
          run: (c) => {
            const pfn = c.firstLockedBy(c.tid);
            c.setFlag(pfn, 'uptodate', true);
            c.unlockPage(pfn);
            c.goto('bio');
          },
        },
        (c, a) => {
          if (a.loc.endsWith('.bio') || a.loc === 'end_io.pending') return ghost(a, BIO_GHOST);
          if (a.loc.endsWith('.flags.uptodate')) return lk(a, 'set_bit', 0, E.uptodateCite, { before: ['smp_wmb'] });
          if (a.lock === 'release') return E.unlock(a, E.unlockCite);
          if (a.loc.endsWith('.i_size')) return ghost(a, 'the data the read brings (data.ts diskData): the I/O reads the disk, not i_size');
          return a; // the disk, the contents
        },
      ),
    },
  };
}
