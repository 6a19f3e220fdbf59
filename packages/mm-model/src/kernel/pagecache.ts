/**
 * Page cache building blocks shared by several versions' paths: the read-side lookup
 * (find_get_page), page_cache_read's allocate + add_to_page_cache + readpage, and the
 * steps that release references. Each returns StepDefs wired to caller-chosen targets.
 */
import type { Ctx } from '../ctx.js';
import { acquire, r, release, w, type StepDef } from '../program.js';
import { NONE, PG, hex, type LockS } from '../state.js';
import { ilockLoc, readIoAcc, takeInvalidateLock } from './lib.js';

/**
 * find_get_page(mapping, index) under tree_lock (read): the page with a reference, no page
 * lock. Stores the pfn (or NONE) in local `pfn`, then runs `then(c, pfn)`.
 */
export function findGetPage(then: (c: Ctx, pfn: number) => void, where = 'mm/filemap.c find_get_page()'): StepDef {
  return {
    label: 'page = find_get_page(mapping, index)',
    where,
    acc: (c) => {
      const pfn = c.lookup(c.num('file'), c.num('index'));
      return pfn === NONE ? [r(`${c.M(c.num('file'))}.tree`)] : [r(`${c.M(c.num('file'))}.tree`), w(`${c.P(pfn)}.refcount`)];
    },
    run: (c) => {
      const pfn = c.lookup(c.num('file'), c.num('index'));
      if (pfn !== NONE) c.ref(pfn, 1);
      c.set('pfn', pfn);
      then(c, pfn);
    },
  };
}

/**
 * page_cache_read() first half: allocate a page and add_to_page_cache_lru() it (inserted
 * locked, with the cache's reference). On -EEXIST (someone else added one first) the new
 * page is freed and the caller retries its lookup at `exists`.
 */
export function addToPageCache(next: string, exists: string, where = 'mm/filemap.c page_cache_read()'): StepDef {
  return {
    label: 'page = page_cache_alloc_cold(); add_to_page_cache_lru(page, mapping, index)',
    where,
    acc: (c) => [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), w('alloc')],
    run: (c) => {
      const file = c.num('file');
      const index = c.num('index');
      if (c.lookup(file, index) !== NONE) {
        c.effect('-EEXIST: someone added the page first');
        c.goto(exists);
        return;
      }
      const pfn = c.allocPage();
      c.addToCache(file, index, pfn);
      c.set('pfn', pfn);
      c.goto(next);
    },
  };
}

/**
 * mapping->a_ops->readpage() and its I/O completion: SetPageUptodate, unlock_page. The
 * completion runs as a step of the thread that submitted the read (documented in
 * docs/flavors.md). `put` drops the caller's reference afterwards (page_cache_read does).
 */
export function readpageIo(then: string, put: boolean, where = 'mm/filemap.c page_cache_read() readpage'): StepDef {
  return {
    label: put ? 'readpage(): I/O done, SetPageUptodate(); unlock_page(); page_cache_release(page)' : 'readpage(): I/O done, SetPageUptodate(); unlock_page()',
    where,
    acc: (c) => {
      const P = c.P(c.num('pfn'));
      const a = [w(`${P}.flags.uptodate`), ...readIoAcc(c, c.num('pfn'), c.num('file')), release(`lock:${P}`)];
      if (put) a.push(w(`${P}.refcount`));
      return a;
    },
    run: (c) => {
      const pfn = c.num('pfn');
      c.setFlag(pfn, 'uptodate', true);
      c.unlockPage(pfn);
      if (put) c.ref(pfn, -1);
      c.goto(then);
    },
  };
}

/** Lockless PageUptodate(page) test. */
export function testUptodate(label: string, then: (c: Ctx, uptodate: boolean) => void, where?: string): StepDef {
  const s: StepDef = {
    label,
    acc: (c) => [r(`${c.P(c.num('pfn'))}.flags.uptodate`)],
    run: (c) => then(c, (c.page(c.num('pfn')).flags & PG.uptodate) !== 0),
  };
  if (where) s.where = where;
  return s;
}

/** lock_page(page) (sleeps while another thread holds PG_locked), then `then` under the lock. */
export function lockPage(label: string, extra: (c: Ctx) => ReturnType<typeof r>[], then: (c: Ctx) => void, where?: string): StepDef {
  const s: StepDef = {
    label,
    acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`), ...extra(c)],
    block: (c) => c.pageLockHeld(c.num('pfn')),
    run: (c) => {
      c.lockPage(c.num('pfn'));
      then(c);
    },
  };
  if (where) s.where = where;
  return s;
}

export function describePfn(pfn: number): string {
  return pfn === NONE ? 'none' : `pfn ${hex(pfn)}`;
}

/**
 * The end of a buffered read: recheck i_size (past it: nothing is copied), copy to the user
 * (the read observes the page's data: rule stale-data), drop the reference.
 */
export function copyToUser(label: string, end: (c: Ctx) => void = (c) => c.ret(0)): StepDef {
  return {
    label,
    acc: (c) => [r(`${c.M(c.num('file'))}.i_size`), r(`${c.P(c.num('pfn'))}.data`), w(`${c.P(c.num('pfn'))}.refcount`)],
    run: (c) => {
      const pfn = c.num('pfn');
      const isize = c.map(c.num('file')).isize;
      if (c.num('index') >= Math.ceil(isize / 4096)) {
        c.effect('past EOF now: nothing copied');
        c.endRead();
      } else c.observe(c.pageData(pfn), 'read()');
      c.ref(pfn, -1);
      end(c);
    },
  };
}

/** The first step of a user read: it starts now (its floor is sampled), then `next`. */
export function beginReadAcc(c: Ctx): ReturnType<typeof r> {
  return r(`${c.M(c.num('file'))}.floor`);
}

/**
 * Take the inode lock (i_sem, i_mutex, i_rwsem) of local `file`, exclusive or, when
 * `shared(c)`, shared; then `next`. Sets local `ishared` so the release knows which.
 */
export function inodeLock(
  label: string,
  shared: (c: Ctx) => boolean,
  next: (c: Ctx) => void,
  where?: string,
  sharedReads: (c: Ctx) => ReturnType<typeof r>[] = () => [],
): StepDef {
  const s: StepDef = {
    label,
    acc: (c) => [acquire(ilockLoc(c, c.num('file'))), ...sharedReads(c)],
    block: (c) => c.lockBusy(c.map(c.num('file')).ilock, `${ilockLoc(c, c.num('file'))}`, shared(c)),
    run: (c) => {
      const file = c.num('file');
      const sh = shared(c);
      c.set('ishared', sh ? 1 : 0);
      c.updMap(file, { ilock: c.takeLock(c.map(file).ilock, sh) }, `inode lock +${sh ? 'shared' : 'exclusive'}`);
      next(c);
    },
  };
  if (where) s.where = where;
  return s;
}

/**
 * The inode lock taken in the same step as the path's first access (docs/flavors.md
 * "Accesses and granularity": an acquire is folded into the step's first access): `inner`
 * runs with the lock held.
 */
export function withInodeLock(label: string, shared: (c: Ctx) => boolean, inner: StepDef, sharedReads: (c: Ctx) => ReturnType<typeof r>[] = () => []): StepDef {
  const lock = inodeLock(label, shared, (c) => inner.run(c), undefined, sharedReads);
  const s: StepDef = {
    label: (c) => `${label}; ${typeof inner.label === 'string' ? inner.label : inner.label(c)}`,
    acc: (c) => [...lock.acc!(c), ...(inner.acc?.(c) ?? [])],
    block: (c) => lock.block!(c) ?? inner.block?.(c),
    run: lock.run,
  };
  if (inner.where) s.where = inner.where;
  return s;
}

/** Drop the inode lock taken by inodeLock (inside a step that declares release of ilockLoc). */
export function inodeUnlock(c: Ctx): void {
  const file = c.num('file');
  const l: LockS = c.map(file).ilock;
  const sh = c.opt('ishared') === 1;
  c.updMap(file, { ilock: c.dropLock(l, sh) }, `inode lock -${sh ? 'shared' : 'exclusive'}`);
}

/** The fault's last step when the page was locked across the PTE install (2.6.23, 6.x). */
export function unlockFaultPage(label: string, backoutLabel: string, end: (c: Ctx) => void): StepDef {
  return {
    label: (c) => (c.opt('backout') ? backoutLabel : label),
    acc: (c) => [release(`lock:${c.P(c.num('pfn'))}`), ...(c.opt('backout') ? [w(`${c.P(c.num('pfn'))}.refcount`)] : [])],
    run: (c) => {
      const pfn = c.num('pfn');
      c.unlockPage(pfn);
      if (c.opt('backout')) c.ref(pfn, -1);
      end(c);
    },
  };
}

/** filemap_invalidate_lock_shared(mapping): down_read on 6.x's invalidate_lock, then `next`. */
export function invalidateLockShared(label: string, next: (c: Ctx) => void): StepDef {
  const loc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;
  return {
    label,
    acc: (c) => [acquire(loc(c))],
    block: (c) => c.lockBusy(c.map(c.num('file')).invalidateLock, loc(c), true),
    run: (c) => {
      const file = c.num('file');
      takeInvalidateLock(c, file, true);
      next(c);
    },
  };
}

/**
 * __filemap_get_folio(mapping, index, FGP_CREAT | ...): the cached folio with a reference
 * (then `found`), or a new one added locked with the cache's reference, the allocation's
 * being ours (then `created`). Sets local `pfn`.
 */
export function getFolioCreat(label: string, found: string, created: string, where = 'mm/filemap.c __filemap_get_folio()'): StepDef {
  return {
    label,
    where,
    acc: (c) => {
      const pfn = c.lookup(c.num('file'), c.num('index'));
      return pfn === NONE
        ? [w(`${c.M(c.num('file'))}.tree`), w(`${c.M(c.num('file'))}.nrpages`), w('alloc')]
        : [r(`${c.M(c.num('file'))}.tree`), w(`${c.P(pfn)}.refcount`)];
    },
    run: (c) => {
      const file = c.num('file');
      const index = c.num('index');
      const hit = c.lookup(file, index);
      if (hit !== NONE) {
        c.ref(hit, 1);
        c.set('pfn', hit);
        c.goto(found);
        return;
      }
      const pfn = c.allocPage();
      c.addToCache(file, index, pfn); // filemap_add_folio: inserted locked, with the cache's reference; the allocation's is ours
      c.set('pfn', pfn);
      c.goto(created);
    },
  };
}
