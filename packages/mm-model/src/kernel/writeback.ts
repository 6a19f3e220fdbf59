/**
 * Writeback of a mapping's dirty pages, page by page under the page lock, as each release's
 * loop does it: 2.6.15 mpage_writepages, 2.6.23.17 write_cache_pages, 6.1.192 and 6.12.118
 * ext4's mpage_prepare_extent_to_map. The shape is one loop for all of them; what differs
 * (labels, citations, page_mkclean, the i_size test of ->writepage) comes from a
 * `WritebackKernel` each flavor passes in.
 *
 * - The lookup of pages tagged dirty (pagevec_lookup_tag / pagevec_lookup_range_tag /
 *   filemap_get_folios_tag) over [index, end], at most a pagevec, each with a reference. The
 *   model's dirty tag is PG_dirty. The first lookup runs in the caller's step (`writebackStart`),
 *   so a mapping with no dirty page costs the caller the one step it always had.
 * - Per page, one step: lock_page / folio_lock — the step blocks while another thread holds
 *   PG_locked — then, under the lock, the recheck `page->mapping != mapping` (truncated or
 *   invalidated since the lookup: unlock, skip), PageWriteback (`skipsWriteback`), PageDirty /
 *   clear_page_dirty_for_io (cleaned meanwhile: skip), ->writepage's i_size test, the data
 *   reaching its block, unlock. I/O completion is folded in (no page stays PG_writeback, so
 *   wait_on_page_writeback never waits and filemap_fdatawait finds nothing).
 * - pagevec_release, and the next lookup from the index after the last page found.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../ctx.js';
import { acquire, r, w, type Proc, type StepDef } from '../program.js';
import { NONE, PAGE_SIZE, PG, type Locals } from '../state.js';
import { pteLoc, type VmaEnv } from '../env.js';
import { advance, cur, putAll } from './lib.js';

/** One release's writeback loop: names, citations and what its ->writepage does. */
export interface WritebackKernel {
  /** The procedure's name (the kernel function of the per-page loop). */
  fn: string;
  /** Its file and version: `mm/page-writeback.c 2.6.23.17`. */
  where: string;
  /** PAGEVEC_SIZE (folio_batch size) of the release. */
  pagevec: number;
  /** [label, where] of the repeated dirty-tag lookup. */
  lookup: readonly [string, string];
  /** [label, where] of the per-page locked step. */
  page: readonly [string, string];
  /** [label, where] of pagevec_release. */
  release: readonly [string, string];
  /**
   * 2.6.23: clear_page_dirty_for_io runs page_mkclean, which cleans and write-protects every
   * PTE mapping the page (the model's PTE dirty bit; kernel/store.ts). 6.x's folio_mkclean
   * needs no state of its own: there a PTE is writable exactly while its page is dirty.
   */
  mkclean: boolean;
  /**
   * ->writepage's i_size test: whether the data of dirty page `pfn` (index `index`) reaches its
   * block when i_size is `isize` and the block map holds `mapped` (a block is allocated). A page
   * inside i_size always does (its hole gets a block). `consultsBlockMap`: the answer past EOF
   * reads the block map (declared as the file's disk).
   */
  writesPastEof: (index: number, isize: number, mapped: boolean) => boolean;
  consultsBlockMap: boolean;
  /** The citation of the i_size test, for the effect a skipped page prints. */
  eofCite: string;
  /**
   * A page under PG_writeback (only a scenario's initial state has one: the model never leaves a
   * page under writeback) is skipped always (2.6: `if (PageWriteback(page) || ...)`) or only by
   * WB_SYNC_NONE writeback (ext4: WB_SYNC_ALL waits on it and writes it). The wait itself is
   * folded, as every other wait_on_page_writeback of the model: it does not block.
   */
  skipsWriteback: 'always' | 'syncNone';
  /** LKMM mark of the page lock's acquire (the rest of the dirty-page path stays unmarked). */
  lockMark: (a: Access) => Access;
  /** LKMM marks of the lookup's reference on a page it returns, and of pagevec_release's put (unmarked when absent). */
  refMarks?: { get: (c: Ctx, a: Access, pfn: number) => Access[]; put: (c: Ctx, a: Access, pfn: number) => Access };
}

/** Locals of the writeback loop over page indexes [index, end] of `file`; `sync`: 1 for WB_SYNC_ALL, 0 for WB_SYNC_NONE. */
export function writebackLocals(file: number, index: number, end: number, sync: number): Locals {
  return { file, index, end, sync, pvec: [], i: 0 };
}

/** Whether the loop skips a page under PG_writeback. */
const skipsUnderWriteback = (c: Ctx, k: WritebackKernel): boolean => k.skipsWriteback === 'always' || c.num('sync') === 0;

/** Cached pages of `file` in [from, to] whose dirty tag (PG_dirty) is set, in index order, at most `max`. */
function dirtyLookup(c: Ctx, file: number, from: number, to: number, max: number): number[] {
  const cache = c.map(file).cache;
  const out: number[] = [];
  for (let ix = from; ix < cache.length && ix <= to && out.length < max; ix++) {
    const p = cache[ix]!;
    if (p !== NONE && p !== out[out.length - 1] && c.page(p).flags & PG.dirty) out.push(p);
  }
  return out;
}

/** Cached pages of `file` in [from, to] (whose dirty tags the lookup reads). */
function cachedIn(c: Ctx, file: number, from: number, to: number): number[] {
  const cache = c.map(file).cache;
  const out: number[] = [];
  for (let ix = from; ix < cache.length && ix <= to; ix++) if (cache[ix] !== NONE && cache[ix] !== out[out.length - 1]) out.push(cache[ix]!);
  return out;
}

/** What the dirty-tag lookup over [from, to] reads (the tree, each cached page's tag) and writes (a reference on each found page). */
export function lookupDirtyAcc(c: Ctx, k: WritebackKernel, file: number, from: number, to: number): Access[] {
  return [
    r(`${c.M(file)}.tree`),
    ...cachedIn(c, file, from, to).map((p) => r(`${c.P(p)}.flags.dirty`)),
    ...dirtyLookup(c, file, from, to, k.pagevec).flatMap((p) => (k.refMarks ? k.refMarks.get(c, w(`${c.P(p)}.refcount`), p) : [w(`${c.P(p)}.refcount`)])),
  ];
}

/** Runs the lookup: the dirty pages found (at most a pagevec), each referenced. */
function lookupDirty(c: Ctx, k: WritebackKernel, file: number, from: number, to: number): number[] {
  const pv = dirtyLookup(c, file, from, to, k.pagevec);
  for (const p of pv) c.ref(p, 1);
  return pv;
}

/**
 * The PTEs page_mkclean(page) visits (2.6.23.17 mm/rmap.c:415-483): page_mkclean_file walks the
 * mapping's shared VMAs over the page's index and page_mkclean_one takes the PTE that maps the page
 * (page_check_address). The model's mappings are all shared.
 */
function mkcleanPtes(c: Ctx, file: number, pfn: number): { vma: VmaEnv; i: number }[] {
  const out: { vma: VmaEnv; i: number }[] = [];
  const index = c.page(pfn).index;
  for (const vma of c.env.vmas) {
    const i = index - vma.pgoff;
    if (vma.file === file && i >= 0 && i < vma.pages && c.pte(vma.id, i) === pfn) out.push({ vma, i });
  }
  return out;
}

/** Whether ->writepage writes dirty page `pfn` of `file` to its block (the i_size test). */
function writes(c: Ctx, k: WritebackKernel, file: number, pfn: number): boolean {
  const index = c.page(pfn).index;
  const m = c.map(file);
  if (index < Math.ceil(m.isize / PAGE_SIZE)) return true;
  return k.writesPastEof(index, m.isize, (m.bmap[index] ?? NONE) !== NONE);
}

/** What the per-page step reads and writes, by the path it takes. */
function pageAcc(c: Ctx, k: WritebackKernel): Access[] {
  const file = c.num('file');
  const pfn = cur(c);
  const P = c.P(pfn);
  const p = c.page(pfn);
  const a: Access[] = [k.lockMark(acquire(`lock:${P}`)), r(`${P}.mapping`)];
  if (p.mapping !== file) return a;
  const dirty = (p.flags & PG.dirty) !== 0;
  a.push(r(`${P}.flags.writeback`), (dirty ? w : r)(`${P}.flags.dirty`));
  if (!dirty || (p.flags & PG.writeback && skipsUnderWriteback(c, k))) return a;
  if (k.mkclean) {
    for (const { vma, i } of mkcleanPtes(c, file, pfn)) a.push(r(pteLoc(c.env, vma, i)), ...(c.pteDirty(vma.id, i) ? [w(pteLoc(c.env, vma, i))] : []));
  }
  a.push(r(`${c.M(file)}.i_size`));
  const inside = p.index < Math.ceil(c.map(file).isize / PAGE_SIZE);
  if (!inside && k.consultsBlockMap) a.push(r(`${c.M(file)}.disk`));
  if (writes(c, k, file, pfn)) a.push(r(`${P}.data`), w(`${c.M(file)}.disk`));
  return a;
}

/** The per-page step: lock (blocking), recheck, clean, write, unlock. */
function pageStep(k: WritebackKernel): StepDef {
  return {
    label: k.page[0],
    where: k.page[1],
    acc: (c) => pageAcc(c, k),
    block: (c) => c.pageLockHeld(cur(c)),
    run: (c) => {
      const file = c.num('file');
      const pfn = cur(c);
      c.lockPage(pfn);
      const p = c.page(pfn);
      if (p.mapping !== file) {
        c.effect(`pfn${pfn} left the mapping since the lookup: skipped`);
      } else if (!(p.flags & PG.dirty)) {
        c.effect(`pfn${pfn} is clean again: skipped`);
      } else if (p.flags & PG.writeback && skipsUnderWriteback(c, k)) {
        c.effect(`pfn${pfn} is under writeback: skipped`);
      } else {
        if (k.mkclean) for (const { vma, i } of mkcleanPtes(c, file, pfn)) c.setPteDirty(vma, i, false);
        c.setFlag(pfn, 'dirty', false);
        if (writes(c, k, file, pfn)) c.writePageToDisk(file, p.index, pfn);
        else c.effect(`pfn${pfn} lies wholly past i_size ${c.map(file).isize}: not written (${k.eofCite})`);
      }
      c.unlockPage(pfn);
      advance(c, 'page', 'release');
    },
  };
}

/** The writeback loop after the first lookup (which `writebackStart` makes): enter at `page`. */
export function writebackProc(k: WritebackKernel): Proc {
  return {
    fn: k.fn,
    where: k.where,
    entry: 'page',
    steps: {
      page: pageStep(k),
      release: {
        label: k.release[0],
        where: k.release[1],
        acc: (c) => c.list('pvec').map((p) => (k.refMarks ? k.refMarks.put(c, w(`${c.P(p)}.refcount`), p) : w(`${c.P(p)}.refcount`))),
        run: (c) => {
          putAll(c, c.list('pvec'));
          c.set('pvec', []);
          c.goto('lookup');
        },
      },
      lookup: {
        label: k.lookup[0],
        where: k.lookup[1],
        acc: (c) => (c.num('index') > c.num('end') ? [] : lookupDirtyAcc(c, k, c.num('file'), c.num('index'), c.num('end'))),
        run: (c) => {
          const pv = c.num('index') > c.num('end') ? [] : lookupDirty(c, k, c.num('file'), c.num('index'), c.num('end'));
          if (pv.length === 0) {
            c.ret(0);
            return;
          }
          c.set('pvec', pv);
          c.set('i', 0);
          c.set('index', c.page(pv[pv.length - 1]!).index + 1);
          c.goto('page');
        },
      },
    },
  };
}

/**
 * The caller's writeback step: the first dirty-tag lookup over page indexes `range(c)` of the
 * caller's `file`; none found → `next`, else the loop (`k.fn`) runs from its first page and
 * returns to `next`.
 */
export function writebackStart(
  k: WritebackKernel,
  label: string,
  next: string,
  range: (c: Ctx) => readonly [number, number],
  o: { syncAll: boolean; where?: string },
): StepDef {
  const step: StepDef = {
    label,
    acc: (c) => {
      const [from, to] = range(c);
      return lookupDirtyAcc(c, k, c.num('file'), from, to);
    },
    run: (c) => {
      const file = c.num('file');
      const [from, to] = range(c);
      const pv = lookupDirty(c, k, file, from, to);
      if (pv.length === 0) {
        c.goto(next);
        return;
      }
      c.call(k.fn, 'page', { ...writebackLocals(file, c.page(pv[pv.length - 1]!).index + 1, to, o.syncAll ? 1 : 0), pvec: pv }, next);
    },
  };
  return o.where === undefined ? step : { ...step, where: o.where };
}
