/**
 * linux-6.1 buffered read of one page, mm/filemap.c filemap_read → filemap_get_pages:
 * filemap_get_read_batch (RCU lookup with a reference); on a miss filemap_create_folio
 * (invalidate_lock shared, add the folio locked, read it); a folio that is not uptodate goes
 * through filemap_update_page (invalidate_lock shared, folio_lock, truncated? retry); then
 * i_size is rechecked, the data copied, the folio put.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc } from '../../program.js';
import { NONE, PAGE_SIZE, PG } from '../../state.js';
import { beginReadAcc, copyToUser, invalidateLockShared } from '../../kernel/pagecache.js';
import { readIoAcc, dropInvalidateLock, takeInvalidateLock } from '../../kernel/lib.js';

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

function upRead(c: Ctx): void {
  const file = c.num('file');
  dropInvalidateLock(c, file, true);
}

const filemapRead61Steps: Proc = {
  fn: 'filemap_read',
  where: 'mm/filemap.c',
  entry: 'start',
  steps: {
    get: {
      label: 'filemap_get_read_batch(mapping, index, last_index, fbatch) [RCU, folio_try_get_rcu]',
      acc: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        return pfn === NONE ? [r(`${c.M(c.num('file'))}.tree`), r(`${c.M(c.num('file'))}.i_size`)]
          : [r(`${c.M(c.num('file'))}.tree`), w(`${c.P(pfn)}.refcount`)];
      },
      run: (c) => {
        const pfn = c.lookup(c.num('file'), c.num('index'));
        c.set('pfn', pfn);
        if (pfn === NONE) {
          if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) { c.endRead(); c.ret(0); return; }
          c.goto('create');
          return;
        }
        c.ref(pfn, 1);
        c.goto('uptodate');
      },
    },
    create: {
      label: 'filemap_create_folio(): folio = filemap_alloc_folio(); filemap_invalidate_lock_shared(mapping); filemap_add_folio(mapping, folio, index)',
      acc: (c) => [acquire(invLockLoc(c)), w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), w('alloc')],
      block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, invLockLoc(c), true),
      run: (c) => {
        const file = c.num('file'); const index = c.num('index');
        if (c.lookup(file, index) !== NONE) { c.effect('-EEXIST: retry the lookup'); c.goto('get'); return; }
        takeInvalidateLock(c, file, true);
        const pfn = c.allocPage();
        c.addToCache(file, index, pfn);
        c.set('pfn', pfn);
        c.goto('readio');
      },
    },
    readio: {
      label: 'filemap_read_folio(): I/O done, folio_mark_uptodate(); folio_unlock(); filemap_invalidate_unlock_shared(mapping)',
      acc: (c) => [w(`${c.P(c.num('pfn'))}.flags.uptodate`), ...readIoAcc(c, c.num('pfn'), c.num('file')), release(`lock:${c.P(c.num('pfn'))}`), release(invLockLoc(c))],
      run: (c) => {
        const pfn = c.num('pfn');
        c.setFlag(pfn, 'uptodate', true);
        c.unlockPage(pfn);
        upRead(c);
        c.goto('copy');
      },
    },
    uptodate: {
      label: 'if (!folio_test_uptodate(folio)) filemap_update_page()',
      acc: (c) => [r(`${c.P(c.num('pfn'))}.flags.uptodate`)],
      run: (c) => c.goto(c.testFlag(c.num('pfn'), 'uptodate') ? 'copy' : 'update'),
    },
    update: invalidateLockShared('filemap_update_page(): filemap_invalidate_lock_shared(mapping)', (c) => c.goto('update_lock')),
    update_lock: {
      label: 'folio_lock(folio); if (!folio->mapping) goto unlock (truncated: retry); if (filemap_range_uptodate()) goto unlock',
      acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`), r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.P(c.num('pfn'))}.flags.uptodate`),
        release(invLockLoc(c)), w(`${c.P(c.num('pfn'))}.refcount`)],
      block: (c) => c.pageLockHeld(c.num('pfn')),
      run: (c) => {
        const pfn = c.num('pfn');
        c.lockPage(pfn);
        const p = c.page(pfn);
        if (p.mapping === NONE) { c.unlockPage(pfn); upRead(c); c.ref(pfn, -1); c.goto('get'); return; }
        if (p.flags & PG.uptodate) { c.unlockPage(pfn); upRead(c); c.goto('copy'); return; }
        c.goto('readio');
      },
    },
    copy: copyToUser('isize = i_size_read(inode); copy_folio_to_iter(); folio_put(folio)'),
  },
};

/** The read starts (its floor is sampled) in its first step, filemap_get_read_batch's lookup. */
export const filemapRead61: Proc = {
  ...filemapRead61Steps,
  steps: {
    ...filemapRead61Steps.steps,
    start: {
      ...filemapRead61Steps.steps.get!,
      label: 'read(): filemap_read(): filemap_get_read_batch(mapping, index, last_index, fbatch) [RCU, folio_try_get_rcu]',
      acc: (c) => [beginReadAcc(c), ...filemapRead61Steps.steps.get!.acc!(c)],
      run: (c) => { c.beginRead(c.num('file'), c.num('index')); filemapRead61Steps.steps.get!.run(c); },
    },
  },
};
