/**
 * The O_DIRECT write, mm/filemap.c generic_file_direct_IO(WRITE): unmap the range if the file
 * is mapped, write back and wait, ->direct_IO (the disk blocks are new from here on), then
 * invalidate_inode_pages2_range over the written pages if any are cached. 2.6.23 (and 2.6.20
 * onward) also invalidates once *before* ->direct_IO and bails out if that fails.
 */
import type { Ctx } from '../../ctx.js';
import { r, release, w, type Proc, type StepDef } from '../../program.js';
import { PAGE_SIZE, PG } from '../../state.js';
import { END, coherentAcc, floorAcc, ilockLoc } from '../../kernel/lib.js';
import { writebackStart, type WritebackKernel } from '../../kernel/writeback.js';
import { inodeUnlock, withInodeLock } from '../../kernel/pagecache.js';
import { callUnmap } from '../../kernel/unmap.js';
import { inval2Locals } from './invalidate.js';
import { ghost, marked, treeLock } from '../../kernel/marks.js';
import { lk } from '../../program.js';
import type { Access } from '@kreplay/core';

const CITE_DIO = 'mm/filemap.c generic_file_direct_IO() 2.6.15';

/**
 * The 2.6 O_DIRECT write's marks (explore --memory-model lkmm), by location: mapping_mapped()
 * and mapping->nrpages are plain C; writeback finding no dirty page reads only the tree's dirty
 * tags under tree_lock (find_get_pages_tag); the return's coherence and floor are judgements.
 * The disk write (->direct_IO, writeback) and the inode lock are left unmarked.
 */
function mark26(c: Ctx, a: Access): Access {
  if (a.lkmm) return a;
  const file = c.num('file');
  const M = c.M(file);
  if (a.loc === `${M}.i_mmap`)
    return lk(a, 'plain-read', c.env.vmas.some((v) => v.file === file) ? 1 : 0, `${CITE_DIO}: mapping_mapped(mapping) reads mapping->i_mmap (plain C)`);
  if (a.loc === `${M}.nrpages`) return lk(a, 'plain-read', c.map(file).nrpages, `${CITE_DIO}: mapping->nrpages (plain C)`);
  if (a.loc === `${M}.floor`) return ghost(a, 'the stale-data judgement: a read starting later must see this write');
  return a;
}

/** The return's judgement reads (coherence over the range) are ghosts; the rest as mark26. */
function markReturn(c: Ctx, a: Access): Access {
  return a.mode === 'read' && !a.lkmm ? ghost(a, "the stale-after-invalidate judgement at the write's return") : mark26(c, a);
}

/** filemap_write_and_wait with no dirty page: the dirty-tag lookup under tree_lock, no page flag read. */
function markWriteback(c: Ctx, a: Access): Access {
  const file = c.num('file');
  if (c.map(file).cache.some((p) => p >= 0 && c.page(p).flags & PG.dirty)) return a;
  if (a.loc === `${c.M(file)}.tree`) {
    return lk(
      a,
      'plain-read',
      0,
      'mm/filemap.c filemap_write_and_wait() 2.6.15: pagevec_lookup_tag(PAGECACHE_TAG_DIRTY) → radix_tree_gang_lookup_tag() under read_lock_irq(&mapping->tree_lock) finds no tag',
      { word: `${c.M(file)}.tree.tag_dirty`, under: treeLock(c, file) },
    );
  }
  return ghost(a, 'not made on this path: no page is tagged dirty, so writeback reads no page flag');
}

function callInval2(c: Ctx, then: string): void {
  c.call('invalidate_inode_pages2_range', 'lookup', inval2Locals(c.num('file'), c.num('first'), c.num('last')), then);
}

/**
 * The write returns `retval`: its data is what reads starting from now must see (the floor),
 * the inode lock is dropped (generic_file_aio_write's up/mutex_unlock; 6.1 ext4_dio_write_iter's
 * inode_unlock[_shared]), and on success its range is promised coherent (stale-after-invalidate).
 */
export function odirectReturn(c: Ctx, retval: number): void {
  c.writesReturned();
  inodeUnlock(c);
  if (retval >= 0) c.promiseCoherent(c.num('file'), c.num('first'), c.num('last'), 'the O_DIRECT write');
  c.ret(retval);
}

export function returnAcc(c: Ctx): ReturnType<typeof r>[] {
  return [...coherentAcc(c, c.num('file'), c.num('first'), c.num('last')), floorAcc(c, c.num('file')), release(ilockLoc(c, c.num('file')))];
}

/**
 * filemap_write_and_wait(mapping): `if (mapping->nrpages)` filemap_fdatawrite (WB_SYNC_ALL) over the
 * whole file, page by page under the page lock (kernel/writeback.ts, the release's loop `k`), then
 * filemap_fdatawait, which finds no page under writeback (the model completes the I/O in the
 * locked step).
 */
export const writeAndWait = (next: string, k: WritebackKernel): StepDef =>
  writebackStart(k, 'filemap_write_and_wait(mapping)', next, () => [0, END], { syncAll: true, where: 'mm/filemap.c filemap_write_and_wait()' });

/** ->direct_IO(WRITE): the disk blocks of the range now hold the new data (a new generation of each page index). */
export const directIo = (next: string): StepDef => ({
  label: 'retval = mapping->a_ops->direct_IO(WRITE, iocb, iov, offset, nr_segs)',
  acc: (c) => [w(`${c.M(c.num('file'))}.disk`)],
  run: (c) => {
    const file = c.num('file');
    for (let ix = c.num('first'); ix <= c.num('last'); ix++) c.writeDisk(file, ix, c.mintWrite(file, ix));
    c.goto(next);
  },
});

export interface DirectIoOptions {
  /** 2.6.20+: invalidate_inode_pages2_range before ->direct_IO too, bailing out if it fails. */
  invalidateBefore: boolean;
  /**
   * 2.6.23 mm/filemap.c:2191-2193: `retval = mapping->a_ops->direct_IO(...); if (retval) goto out;`
   * — ->direct_IO returns the bytes written, so after a successful write the second
   * invalidate (mm/filemap.c:2202-2207) never runs.
   */
  skipPostOnSuccess?: boolean;
  /** The inode lock's name in labels: `i_sem` (2.6.15), `i_mutex` (2.6.23). */
  ilock: string;
  /** The release's writeback loop (flavors/linux-2.6.15/writeback.ts). */
  writeback: WritebackKernel;
}

/**
 * The pages `unmap_mapping_range(mapping, offset, write_len, 0)` zaps: it rounds the start down
 * and the *length* up on its own (`hba = holebegin >> PAGE_SHIFT; hlen = (holelen + PAGE_SIZE -
 * 1) >> PAGE_SHIFT; last_index = hba + hlen - 1`, 2.6.23.17 mm/memory.c:1970-1984, 2.6.15 the
 * same), so a write that starts inside a page and crosses into the next unmaps one page fewer
 * than it writes: offset 512, 4096 bytes writes pages 0-1 and unmaps page 0. The invalidate
 * after it still unmaps the rest (its own range is `(offset + write_len - 1) >> PAGE_CACHE_SHIFT`).
 */
export function unmapRange(offset: number, length: number): [number, number] {
  const hba = Math.floor(offset / PAGE_SIZE);
  const hlen = Math.floor((length + PAGE_SIZE - 1) / PAGE_SIZE);
  return [hba, hba + hlen - 1];
}

export function genericFileDirectIo(opts: DirectIoOptions): Proc {
  const steps: Record<string, StepDef> = {
    mapped: {
      label: 'if (mapping_mapped(mapping)) unmap_mapping_range(mapping, offset, write_len, 0)',
      acc: (c) => [r(`${c.M(c.num('file'))}.i_mmap`)],
      run: (c) => {
        const file = c.num('file');
        if (c.env.vmas.some((v) => v.file === file)) {
          const [first, last] = unmapRange(c.num('offset'), c.num('length'));
          callUnmap(c, 'unmap_mapping_range', file, first, last, false, 'wb');
        } else c.goto('wb');
      },
    },
    wb: writeAndWait(opts.invalidateBefore ? 'pre' : 'direct', opts.writeback),
    direct: directIo(opts.skipPostOnSuccess ? 'out' : 'post'),
    post: {
      label: 'if (rw == WRITE && mapping->nrpages) invalidate_inode_pages2_range(mapping, offset >> PAGE_CACHE_SHIFT, end)',
      acc: (c) => [r(`${c.M(c.num('file'))}.nrpages`), ...(c.map(c.num('file')).nrpages ? [] : returnAcc(c))],
      run: (c) => {
        if (c.map(c.num('file')).nrpages) callInval2(c, 'done');
        else odirectReturn(c, c.num('length'));
      },
    },
    done: {
      label: opts.invalidateBefore ? 'if (err && retval >= 0) retval = err; return retval' : 'if (err) retval = err; return retval',
      acc: returnAcc,
      run: (c) => odirectReturn(c, c.num('rv') ? c.num('rv') : c.num('length')),
    },
  };
  if (opts.invalidateBefore) {
    steps.pre = {
      label: 'if (rw == WRITE && mapping->nrpages) { retval = invalidate_inode_pages2_range(...); if (retval) goto out; }',
      acc: (c) => [r(`${c.M(c.num('file'))}.nrpages`)],
      run: (c) => {
        if (c.map(c.num('file')).nrpages) callInval2(c, 'precheck');
        else c.goto('direct');
      },
    };
    steps.precheck = {
      label: 'if (retval) goto out',
      acc: (c) => (c.num('rv') ? returnAcc(c) : []),
      run: (c) => {
        if (c.num('rv')) odirectReturn(c, c.num('rv'));
        else c.goto('direct');
      },
    };
  }
  if (opts.skipPostOnSuccess) {
    steps.out = {
      label: 'if (retval) goto out; out: return retval /* the second invalidate is skipped */',
      acc: returnAcc,
      run: (c) => odirectReturn(c, c.num('length')),
    };
  }
  // generic_file_aio_write takes the inode lock (2.6.23.17 mm/filemap.c:2132), folded into the first step.
  steps.mapped = withInodeLock(
    opts.ilock === 'i_sem' ? 'generic_file_aio_write: down(&inode->i_sem)' : 'generic_file_aio_write: mutex_lock(&inode->i_mutex)',
    () => false,
    steps.mapped!,
  );
  for (const k of Object.keys(steps)) {
    steps[k] = marked(steps[k]!, k === 'wb' ? markWriteback : k === 'mapped' || k === 'direct' ? mark26 : markReturn);
  }
  return { fn: 'generic_file_direct_IO', where: 'mm/filemap.c', entry: 'mapped', steps };
}
