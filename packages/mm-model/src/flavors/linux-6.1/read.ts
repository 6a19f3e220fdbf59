/**
 * linux-6.1 buffered read of one page, mm/filemap.c filemap_read → filemap_get_pages:
 * the EOF test, filemap_get_read_batch (RCU lookup with a reference); on a miss filemap_create_folio
 * (invalidate_lock shared, add the folio locked, read it); a folio that is not uptodate goes
 * through filemap_update_page (invalidate_lock shared, folio_lock, truncated? retry); the read
 * I/O's completion and the reader's return from filemap_read_folio are two steps (session 42);
 * then i_size is rechecked, the data copied, the folio put.
 *
 * The miss goes through page_cache_sync_readahead first (6.1.192 mm/filemap.c:2661-2672): the
 * flavor wraps this procedure in flavors/linux-6.12/read.ts withSyncReadahead (SYNC_RA_61, since
 * session 43; linux-6.12 since session 42), which calls flavors/linux-6.12/readahead.ts's
 * procedure built with 6.1.192's citations (RA_61); here the miss goes to filemap_create_folio.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE, PG } from '../../state.js';
import { beginReadAcc, copyToUser, invalidateLockShared } from '../../kernel/pagecache.js';
import { readIoAcc, dropInvalidateLock, takeInvalidateLock } from '../../kernel/lib.js';
import { ghost, marked, notOnThisPath } from '../../kernel/marks.js';
import { folioFlag, folioLock, folioMapping, folioPut, folioUnlock, iSizeRead, rwsemLock, rwsemUnlock, speculativeGet, xaLoad } from '../../kernel/marks6.js';

/**
 * filemap_read returns `v` to its caller: the syscall (ext4: generic_file_read_iter, no lock of its own), or, where
 * a wrapper set local `io` (linux-6.12's XFS read, flavors/linux-6.12/read.ts), xfs_file_buffered_read's
 * xfs_iunlock (its step `iounlock`), with `v` in local `err`.
 */
export function readReturn(c: Ctx, v: number): void {
  if (c.opt('io') === 1) {
    c.set('err', v);
    c.goto('iounlock');
    return;
  }
  c.ret(v);
}

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

function upRead(c: Ctx): void {
  const file = c.num('file');
  dropInvalidateLock(c, file, true);
}

// The LKMM marks of the buffered read (explore --memory-model lkmm; kernel/marks6.ts), 6.1.192.
const FR = 'mm/filemap.c filemap_read() 6.1.192';
const GP = 'mm/filemap.c filemap_get_pages() 6.1.192';
const UP = 'mm/filemap.c filemap_update_page() 6.1.192';
const isLoc = (a: Access, suffix: string) => a.loc.endsWith(suffix);
/** Page contents are versions the model renumbers (data.ts), written by read I/O (DMA) too: not marked (docs/memory-model.md). */
const CONTENTS = '.data';

/** PG_uptodate before a set_bit (the value derived tests start the flag from, as marks.ts's flagWrite). */
export const uptodateBit = (c: Ctx): number => ((c.page(c.num('pfn')).flags & PG.uptodate) !== 0 ? 1 : 0);

/** The read starts: its floor is the stale-data judgement's, no kernel access. */
export const markReadFloor = (c: Ctx, a: Access): Access =>
  a.loc === `${c.M(c.num('file'))}.floor` ? ghost(a, 'the stale-data judgement: the floor a read samples when it starts') : a;

/**
 * filemap_get_read_batch (mm/filemap.c:2437-2470) as filemap_get_pages calls it (2661): a
 * hit is the speculative get, a miss the slot load. filemap_read's EOF test (2756) is the
 * step before (`start`); a retry (AOP_TRUNCATED_PAGE, 2677/2699) comes back here without it.
 */
function getMarks(c: Ctx, acc: readonly Access[]): Access[] {
  return lookupMarks(c, acc, `${GP}: filemap_get_read_batch() (mm/filemap.c:2661) → xas_load(), folio_try_get_rcu(), xas_reload() (mm/filemap.c:2444-2454)`);
}

/** filemap_get_read_batch's accesses as `cite` says they are made: a hit's speculative get, a miss's slot load. */
export function lookupMarks(c: Ctx, acc: readonly Access[], cite: string): Access[] {
  const file = c.num('file');
  const index = c.num('index');
  return c.lookup(file, index) !== NONE
    ? speculativeGet(
        c,
        file,
        index,
        acc.find((a) => isLoc(a, '.refcount')),
        cite,
      )
    : [xaLoad(c, file, index, cite)];
}

/** filemap_read's EOF test before filemap_get_pages (mm/filemap.c:2756), with the read's floor. */
function eofTestMarks(c: Ctx, acc: readonly Access[]): Access[] {
  const floor = acc.filter((a) => isLoc(a, '.floor')).map((a) => markReadFloor(c, a));
  const isize = acc.find((a) => isLoc(a, '.i_size'))!;
  return [...floor, iSizeRead(c, isize, c.num('file'), `${FR}: if (unlikely(iocb->ki_pos >= i_size_read(inode))) break (mm/filemap.c:2756)`)];
}

/** A step whose accesses the marks replace as a whole (kernel order, the same locations). */
function remarked(step: StepDef, mark: (c: Ctx, acc: readonly Access[]) => Access[]): StepDef {
  const acc = step.acc!;
  return { ...step, acc: (c) => mark(c, acc(c)) };
}

/**
 * filemap_update_page under the folio lock (mm/filemap.c:2545-2583): the truncation test
 * (2564) and filemap_range_uptodate's folio_test_uptodate (2511). A not-uptodate folio
 * stays locked for filemap_read_folio (the path a serial run takes); on the other two paths
 * the step also unlocks the folio (2579), which has no access of its own here, so there the
 * lock is left unmarked (smp_mb() in a derived test, or none when shared).
 */
function updateLockMarks(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  const p = c.page(pfn);
  const truncated = p.mapping === NONE;
  const uptodate = (p.flags & PG.uptodate) !== 0;
  if (a.lock === 'acquire') return truncated || uptodate ? a : folioLock(a, `${UP}: folio_trylock(folio) (mm/filemap.c:2545)`);
  if (isLoc(a, '.mapping')) return folioMapping(c, a, pfn, `${UP}: if (!folio->mapping) (mm/filemap.c:2564)`);
  if (isLoc(a, '.refcount'))
    return truncated
      ? folioPut(c, a, pfn, `${UP}: if (error == AOP_TRUNCATED_PAGE) folio_put(folio) (mm/filemap.c:2583)`)
      : notOnThisPath(a, 'the folio is kept');
  if (isLoc(a, '.flags.uptodate'))
    return truncated
      ? notOnThisPath(a, 'the folio was truncated')
      : folioFlag(c, a, pfn, 'uptodate', `${UP}: filemap_range_uptodate(): folio_test_uptodate(folio) (mm/filemap.c:2511)`);
  // the invalidate_lock: dropped here unless the folio is read (filemap_read_folio, the readio step)
  return truncated || uptodate
    ? rwsemUnlock(a, `${UP}: filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:2581)`)
    : notOnThisPath(a, 'held across filemap_read_folio()');
}

/**
 * The read I/O's completion (filemap_read_folio, also filemap_fault's) and filemap_create_folio
 * / filemap_update_page after it: the disk and the page contents it fills stay unmarked (the
 * block map and DMA); ext4_mpage_readpages clamps to ext4_readpage_limit() = i_size_read
 * (fs/ext4/readpage.c:222).
 */
export function readIoMarks(c: Ctx, a: Access): Access {
  if (isLoc(a, '.flags.uptodate'))
    return lk(
      a,
      'set_bit',
      uptodateBit(c),
      "fs/ext4/readpage.c ext4_mpage_readpages() 6.1.192: SetPageUptodate(page) (fs/ext4/readpage.c:347, or the bio's end_io) → folio_mark_uptodate(): smp_wmb(); set_bit(PG_uptodate) (include/linux/page-flags.h:752-753)",
      { before: ['smp_wmb'] },
    );
  if (isLoc(a, '.i_size'))
    return iSizeRead(
      c,
      a,
      c.num('file'),
      'fs/ext4/readpage.c ext4_mpage_readpages() 6.1.192: last_block_in_file = (ext4_readpage_limit(inode) + ... (fs/ext4/readpage.c:266)',
    );
  if (a.lock === 'release' && a.loc.startsWith('lock:'))
    return folioUnlock(a, "fs/ext4/readpage.c ext4_mpage_readpages() 6.1.192: unlock_page(page) (fs/ext4/readpage.c:348, or the bio's end_io)");
  if (a.lock === 'release')
    return rwsemUnlock(
      a,
      'mm/filemap.c filemap_create_folio() / filemap_update_page() 6.1.192: filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:2623, 2581)',
    );
  return a; // the disk, the contents
}

/**
 * filemap_read_folio's return (mm/filemap.c:2496-2503) and the invalidate_lock's release after it in
 * filemap_create_folio (2623) or filemap_update_page (2581); on -EIO the folio_put (2628 / 2697).
 */
function readWaitMarks(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  if (isLoc(a, '.flags.uptodate'))
    return folioFlag(c, a, pfn, 'uptodate', 'mm/filemap.c filemap_read_folio() 6.1.192: if (folio_test_uptodate(folio)) (mm/filemap.c:2499)');
  if (isLoc(a, '.refcount'))
    return folioPut(c, a, pfn, 'mm/filemap.c filemap_create_folio() / filemap_get_pages() 6.1.192: folio_put(folio) (mm/filemap.c:2628, 2697)');
  return rwsemUnlock(
    a,
    'mm/filemap.c filemap_create_folio() / filemap_update_page() 6.1.192: filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:2623, 2581)',
  );
}

/**
 * filemap_read after filemap_get_pages (mm/filemap.c:2771-2832): isize = i_size_read(inode),
 * then smp_rmb() (2783, "pairs with a barrier in block_write_end()->mark_buffer_dirty()")
 * unless past EOF; copy_folio_to_iter (the contents: unmarked); folio_put.
 */
function copyMarks(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  const file = c.num('file');
  const past = c.num('index') >= Math.ceil(c.map(file).isize / PAGE_SIZE);
  if (isLoc(a, '.i_size')) {
    return lk(
      a,
      'plain-read',
      c.map(file).isize,
      `${FR}: isize = i_size_read(inode) (mm/filemap.c:2771; i_size_read on 64-bit is \`return inode->i_size;\`, include/linux/fs.h:872)${past ? '' : ', then smp_rmb() (mm/filemap.c:2783)'}`,
      past ? {} : { after: ['smp_rmb'] },
    );
  }
  if (isLoc(a, '.refcount')) return folioPut(c, a, pfn, `${FR}: put_folios: folio_put(fbatch.folios[i]) (mm/filemap.c:2832)`);
  if (isLoc(a, CONTENTS) && past) return notOnThisPath(a, 'past EOF: goto put_folios, nothing copied');
  return a; // copy_folio_to_iter: the contents
}

const filemapRead61Steps: Proc = {
  fn: 'filemap_read',
  where: 'mm/filemap.c',
  entry: 'start',
  // filemap_get_pages' lookup sets the folio anew on every try (mm/filemap.c:2661, 6.1.192): a
  // create that lost the race (-EEXIST) or a folio truncated under filemap_update_page comes back here
  dead: { get: ['pfn'] },
  steps: {
    get: remarked(
      {
        label: 'filemap_get_pages(): filemap_get_read_batch(mapping, index, last_index, fbatch) [RCU, folio_try_get_rcu]',
        acc: (c) => {
          const pfn = c.lookup(c.num('file'), c.num('index'));
          return pfn === NONE ? [r(`${c.M(c.num('file'))}.tree`)] : [r(`${c.M(c.num('file'))}.tree`), w(`${c.P(pfn)}.refcount`)];
        },
        run: (c) => {
          const pfn = c.lookup(c.num('file'), c.num('index'));
          c.set('pfn', pfn);
          // a miss creates the folio: filemap_get_pages tests no i_size (its readahead does, and then reads nothing)
          if (pfn === NONE) {
            c.goto('create');
            return;
          }
          c.ref(pfn, 1);
          c.goto('uptodate');
        },
      },
      getMarks,
    ),
    // the miss path allocates (never derived): filemap_create_folio's accesses stay unmarked, but for the lock
    create: {
      label: 'filemap_create_folio(): folio = filemap_alloc_folio(); filemap_invalidate_lock_shared(mapping); filemap_add_folio(mapping, folio, index)',
      acc: (c) => [
        rwsemLock(acquire(invLockLoc(c)), 'mm/filemap.c filemap_create_folio() 6.1.192: filemap_invalidate_lock_shared(mapping) (mm/filemap.c:2611)'),
        w(`${c.M(c.num('file'))}.tree`),
        w(`${c.M(c.num('file'))}.nrpages`),
        lk(w('alloc'), 'alloc', 0, 'mm/filemap.c filemap_create_folio() 6.1.192: folio = filemap_alloc_folio() (mm/filemap.c:2594)'),
      ],
      block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, invLockLoc(c), true),
      run: (c) => {
        const file = c.num('file');
        const index = c.num('index');
        if (c.lookup(file, index) !== NONE) {
          c.effect('-EEXIST: retry the lookup');
          c.goto('get');
          return;
        }
        takeInvalidateLock(c, file, true);
        const pfn = c.allocPage();
        c.addToCache(file, index, pfn);
        c.set('pfn', pfn);
        c.goto('readio');
      },
    },
    // filemap_read_folio (mm/filemap.c:2473-2504, 6.1.192): ->read_folio starts the I/O, whose completion (the bio's
    // end_io, another context) marks the folio uptodate and unlocks it; the reader waits in folio_wait_locked_killable
    // (2496), tests PG_uptodate (2499) and only then do filemap_create_folio / filemap_update_page drop the
    // invalidate_lock (2623, 2581). Two steps: between the unlock and the reader's return other threads run (lock the
    // folio, look it up), the reader still holding its reference and the invalidate_lock. Until session 42 one step.
    readio: marked(
      {
        label: 'filemap_read_folio(): error = filler(file, folio); the read I/O completes (end_io): folio_mark_uptodate(); folio_unlock()',
        acc: (c) => [w(`${c.P(c.num('pfn'))}.flags.uptodate`), ...readIoAcc(c, c.num('pfn'), c.num('file')), release(`lock:${c.P(c.num('pfn'))}`)],
        run: (c) => {
          const pfn = c.num('pfn');
          c.setFlag(pfn, 'uptodate', true);
          c.unlockPage(pfn);
          c.goto('readwait');
        },
      },
      readIoMarks,
    ),
    // The wait never blocks here: a reader that slept before the completion is woken by its folio_unlock and returns
    // whoever locks the folio after (a shared waiter that sees WQ_FLAG_WOKEN is done, mm/filemap.c:1319-1330 of 6.1.192, 1295-1306 of 6.12.118); one
    // that came later would sleep on a later holder, an ordering this step may also take.
    readwait: marked(
      {
        label: (c) =>
          c.testFlag(c.num('pfn'), 'uptodate')
            ? 'filemap_read_folio(): folio_wait_locked_killable(folio); if (folio_test_uptodate(folio)) return 0; filemap_invalidate_unlock_shared(mapping)'
            : 'filemap_read_folio(): folio_wait_locked_killable(folio); !folio_test_uptodate(folio): return -EIO; filemap_invalidate_unlock_shared(mapping); folio_put(folio)',
        acc: (c) => [
          r(`${c.P(c.num('pfn'))}.flags.uptodate`),
          release(invLockLoc(c)),
          ...(c.testFlag(c.num('pfn'), 'uptodate') ? [] : [w(`${c.P(c.num('pfn'))}.refcount`)]),
        ],
        run: (c) => {
          const pfn = c.num('pfn');
          upRead(c);
          if (c.testFlag(pfn, 'uptodate')) {
            c.goto('copy');
            return;
          }
          // filemap_create_folio's error path (2627-2628) or filemap_get_pages' (2696-2697): the read returns -EIO
          c.effect('-EIO: the folio is not uptodate after the read');
          c.ref(pfn, -1);
          c.endRead();
          readReturn(c, -5);
        },
      },
      readWaitMarks,
    ),
    uptodate: {
      label: 'if (!folio_test_uptodate(folio)) filemap_update_page()',
      acc: (c) => [
        folioFlag(c, r(`${c.P(c.num('pfn'))}.flags.uptodate`), c.num('pfn'), 'uptodate', `${GP}: if (!folio_test_uptodate(folio)) (mm/filemap.c:2685)`),
      ],
      run: (c) => c.goto(c.testFlag(c.num('pfn'), 'uptodate') ? 'copy' : 'update'),
    },
    update: marked(
      invalidateLockShared('filemap_update_page(): filemap_invalidate_lock_shared(mapping)', (c) => c.goto('update_lock')),
      (_c, a) => rwsemLock(a, `${UP}: filemap_invalidate_lock_shared(mapping) (mm/filemap.c:2542)`),
    ),
    update_lock: marked(
      {
        label: 'folio_lock(folio); if (!folio->mapping) goto unlock (truncated: retry); if (filemap_range_uptodate()) goto unlock',
        acc: (c) => [
          acquire(`lock:${c.P(c.num('pfn'))}`),
          r(`${c.P(c.num('pfn'))}.mapping`),
          r(`${c.P(c.num('pfn'))}.flags.uptodate`),
          release(invLockLoc(c)),
          w(`${c.P(c.num('pfn'))}.refcount`),
        ],
        block: (c) => c.pageLockHeld(c.num('pfn')),
        run: (c) => {
          const pfn = c.num('pfn');
          c.lockPage(pfn);
          const p = c.page(pfn);
          if (p.mapping === NONE) {
            c.unlockPage(pfn);
            upRead(c);
            c.ref(pfn, -1);
            c.goto('get');
            return;
          }
          if (p.flags & PG.uptodate) {
            c.unlockPage(pfn);
            upRead(c);
            c.goto('copy');
            return;
          }
          c.goto('readio');
        },
      },
      updateLockMarks,
    ),
    copy: marked(
      copyToUser('isize = i_size_read(inode); copy_folio_to_iter(); folio_put(folio)', (c) => readReturn(c, 0)),
      copyMarks,
    ),
  },
};

/** filemap_read's EOF test (mm/filemap.c:2756): past EOF the read breaks out and returns 0; inside, filemap_get_pages. */
export function eofTest(c: Ctx): void {
  if (c.num('index') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) {
    c.endRead();
    readReturn(c, 0);
    return;
  }
  c.goto('get');
}

/**
 * The read starts (its floor is sampled) in its first step, filemap_read's EOF test
 * (mm/filemap.c:2756): past EOF it breaks out and returns 0; inside, filemap_get_pages.
 */
export const filemapRead61: Proc = {
  ...filemapRead61Steps,
  steps: {
    ...filemapRead61Steps.steps,
    start: remarked(
      {
        label: 'read(): filemap_read(): if (unlikely(iocb->ki_pos >= i_size_read(inode))) break',
        acc: (c) => [beginReadAcc(c), r(`${c.M(c.num('file'))}.i_size`)],
        run: (c) => {
          c.beginRead(c.num('file'), c.num('index'));
          eofTest(c);
        },
      },
      eofTestMarks,
    ),
  },
};

/**
 * filemap_update_page's folio lock as 6.1.192 takes it (mm/filemap.c:2545-2557): a *trylock*.
 * When another thread holds the folio lock, a plain read (no IOCB_NOWAIT, IOCB_NOIO or
 * IOCB_WAITQ) drops the invalidate_lock, gives up its folio reference and sleeps until the
 * folio is unlocked (`folio_put_wait_locked(folio, TASK_KILLABLE)`: the reference is dropped
 * before the task sleeps, mm/filemap.c:1304-1305 in folio_wait_bit_common), and returns
 * AOP_TRUNCATED_PAGE, on which filemap_get_pages looks the folio up again (`goto retry`,
 * 2698-2701). Until session 19 the model slept on the folio lock holding both the reference
 * and the invalidate_lock, and then took the lock: a truncate or hole punch could not take the
 * invalidate_lock, and invalidate_mapping_pages saw one reference too many, while the reader
 * waited. linux-6.12 takes it too: 6.12.118 has the same trylock (mm/filemap.c:2436-2447), the
 * same put before the sleep (1280-1281) and the same retry (2601-2602).
 *
 * The sleep (session 46): the failed trylock queues the reader on the folio (Ctx.queueDropWaiter: PG_waiters and the
 * wait queue, PageS.waiters) in the same step, and the next release of PG_locked, by whoever (folio_unlock(), end_io's
 * folio_end_read()), wakes it (Ctx.unlockPage → folio_wake_bit()); `update_wait` runs once woken and never looks at the
 * folio again (a DROP waiter: 6.1.192 mm/filemap.c:1220-1221, 1319-1330). Until session 46 the reader remembered who
 * held the lock (`wl`) and slept while that thread or end_io held it: a holder that unlocked and took the lock again,
 * or whose folio was freed, read ahead again and handed to end_io before the reader ran, kept it asleep too long.
 */
export function withUpdatePageTrylock(p: Proc): Proc {
  const lock = p.steps.update_lock!;
  const P = (c: Ctx) => c.P(c.num('pfn'));
  const fails = (c: Ctx) => c.page(c.num('pfn')).locker !== NONE;
  return {
    ...p,
    steps: {
      ...p.steps,
      update_lock: {
        label: (c) =>
          fails(c)
            ? 'if (!folio_trylock(folio)) { filemap_invalidate_unlock_shared(mapping); folio_put_wait_locked(folio, TASK_KILLABLE); return AOP_TRUNCATED_PAGE; }'
            : typeof lock.label === 'string'
              ? lock.label
              : lock.label(c),
        where: 'mm/filemap.c filemap_update_page()',
        // a failed trylock, the unlock, the queueing and the put: left unmarked (as retry.ts's failed trylock). The
        // queueing sets this thread's bit of the folio's waiters (PageS.waiters, `pfnN.waiters`): it commutes with every
        // step that does not release the lock (another sleeper's queueing sets another bit; only its own sleeper and the
        // release read or write a bit), and it reads the lock word, which a release writes
        acc: (c) => (fails(c) ? [r(`lock:${P(c)}`), w(`${P(c)}.waiters`), release(invLockLoc(c)), w(`${P(c)}.refcount`)] : lock.acc!(c)),
        run: (c) => {
          if (!fails(c)) {
            lock.run(c);
            return;
          }
          c.effect(`folio_trylock(pfn${c.num('pfn')}) failed: AOP_TRUNCATED_PAGE after the wait`);
          upRead(c);
          c.queueDropWaiter(c.num('pfn'));
          c.ref(c.num('pfn'), -1);
          c.goto('update_wait');
        },
      },
      update_wait: {
        label: 'folio_put_wait_locked(): sleep until PG_locked is clear; filemap_get_pages: AOP_TRUNCATED_PAGE → goto retry',
        where: 'mm/filemap.c folio_wait_bit_common()',
        acc: (c) => [r(`lock:${P(c)}`)],
        // woken by the first release of PG_locked after it queued (Ctx.unlockPage): the folio (its reference given up)
        // may be freed and its pfn reused by then, and is not looked at again (mm/filemap.c:1304-1330 of 6.1.192)
        block: (c) => c.dropWaitAsleep(c.num('pfn')),
        run: (c) => {
          c.set('pfn', NONE);
          c.goto('get');
        },
      },
    },
  };
}
