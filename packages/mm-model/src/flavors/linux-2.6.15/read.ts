/**
 * A buffered read of one page, mm/filemap.c do_generic_mapping_read: find_get_page, or allocate
 * + add_to_page_cache + readpage; lock and recheck a page that is not uptodate; copy; release.
 * Where i_size is read differs between the versions, and the builder follows each:
 *
 * - 2.6.15 (read against 2.6.18's unchanged loop, rocklee104/linux-2.6.18 mm/filemap.c): i_size
 *   is sampled once before the loop (`isize = i_size_read(inode); if (!isize) goto out;
 *   end_index = ...`) and the loop head tests the index against that sample; a page found
 *   uptodate, or made uptodate by someone else while we waited for its lock, is copied with the
 *   sample; only the `readpage:` path reads i_size again ("i_size must be checked after we have
 *   done ->readpage"). A page unhashed while we waited (`!page->mapping`) is dropped with
 *   `continue`: back to find_page with the old sample.
 * - 2.6.23 (2.6.23.17 mm/filemap.c:865-1071): no i_size read before find_page; every path
 *   reaches `page_ok:`, which reads i_size (mm/filemap.c:925-930). A read past EOF thus looks the
 *   page up, and on a miss adds and reads one (zero-filled past i_size) before page_ok stops it.
 */
import { r, w, type Proc, type StepDef } from '../../program.js';
import { NONE } from '../../state.js';
import { addToPageCache, beginReadAcc, copyToUser, findGetPage, lockPage, readpageIo, testUptodate } from '../../kernel/pagecache.js';

/** index > end_index for i_size `isize` (with `!isize`): the read is past EOF. */
const pastEof = (isize: number, index: number): boolean => isize === 0 || index > Math.floor((isize - 1) / 4096);

/** do_generic_mapping_read of 2.6.15 (`v2623: false`) or 2.6.23.17. */
export function doGenericMappingReadProc(o: { v2623: boolean }): Proc {
  const pageOk = o.v2623 ? 'isize2' : 'copy';
  const steps: Record<string, StepDef> = {
    find: findGetPage((c, pfn) => c.goto(pfn === NONE ? 'add' : 'uptodate')),
    add: addToPageCache('readio', 'find', 'mm/filemap.c do_generic_mapping_read() no_cached_page'),
    readio: readpageIo('rdtest', false, 'mm/filemap.c do_generic_mapping_read() readpage'),
    // after ->readpage: a lockless PageUptodate test of its own (an invalidate may have removed the
    // page after the I/O's unlock_page), then under the page lock again
    rdtest: testUptodate('if (!PageUptodate(page)) { lock_page(page); ... }', (c, ok) => c.goto(ok ? 'isize2' : 'rdlock')),
    rdlock: lockPage(
      'lock_page(page); if (!PageUptodate(page)) { if (page->mapping == NULL) { unlock_page(page); page_cache_release(page); goto find_page; } unlock_page(page); error = -EIO; goto readpage_error; } unlock_page(page)',
      (c) => [r(`${c.P(c.num('pfn'))}.flags.uptodate`), r(`${c.P(c.num('pfn'))}.mapping`), w(`${c.P(c.num('pfn'))}.refcount`)],
      (c) => {
        const pfn = c.num('pfn');
        c.unlockPage(pfn);
        if (c.testFlag(pfn, 'uptodate')) {
          c.goto('isize2');
          return;
        }
        const removed = c.page(pfn).mapping === NONE;
        c.ref(pfn, -1);
        if (removed) {
          c.effect(`pfn${pfn} was removed after its read: find_page`);
          c.goto('find');
          return;
        }
        // readpage_error: desc->error = -EIO; page_cache_release(page); goto out
        c.effect('the page is not uptodate after its read: -EIO');
        c.endRead();
        c.ret(0);
      },
    ),
    uptodate: testUptodate('if (!PageUptodate(page)) goto page_not_up_to_date', (c, ok) => c.goto(ok ? pageOk : 'lock')),
    lock: lockPage(
      'page_not_up_to_date: lock_page(page); if (!page->mapping) { ...; continue; } if (PageUptodate(page)) { unlock_page(page); goto page_ok; }',
      (c) => [r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.P(c.num('pfn'))}.flags.uptodate`), w(`${c.P(c.num('pfn'))}.refcount`)],
      (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).mapping === NONE) {
          // unlock_page; page_cache_release; continue: the loop head reads no i_size (2.6.15 tests its sample)
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          c.goto('find');
        } else if (c.testFlag(pfn, 'uptodate')) {
          c.unlockPage(pfn);
          c.goto(pageOk);
        } else c.goto('readio');
      },
    ),
    // 2.6.15: after ->readpage, "i_size must be checked"; 2.6.23: page_ok reads it on every path
    isize2: copyToUser(
      'isize = i_size_read(inode); end_index = ...; if (!isize || index > end_index) goto out; actor(desc, page, offset, nr); page_cache_release(page)',
    ),
  };
  if (o.v2623) {
    // The read starts (its floor is sampled) in its first step: find_page's lookup.
    const find = steps.find!;
    steps.find = {
      ...find,
      label: 'read(): do_generic_mapping_read: find_page: page = find_get_page(mapping, index)',
      acc: (c) => [beginReadAcc(c), ...(find.acc?.(c) ?? [])],
      run: (c) => {
        if (c.opt('begun') !== 1) {
          c.beginRead(c.num('file'), c.num('index'));
          c.set('begun', 1);
        }
        find.run(c);
      },
    };
    return { fn: 'do_generic_mapping_read', where: 'mm/filemap.c', entry: 'find', steps };
  }
  steps.start = {
    // The read starts (its floor is sampled) in its first step.
    label:
      'read(): do_generic_mapping_read: isize = i_size_read(inode); if (!isize) goto out; end_index = (isize - 1) >> PAGE_CACHE_SHIFT; if (index > end_index) goto out',
    acc: (c) => [beginReadAcc(c), r(`${c.M(c.num('file'))}.i_size`)],
    run: (c) => {
      c.beginRead(c.num('file'), c.num('index'));
      const isize = c.map(c.num('file')).isize;
      if (pastEof(isize, c.num('index'))) {
        c.effect('past EOF');
        c.endRead();
        c.ret(0);
        return;
      }
      c.goto('find');
    },
  };
  steps.copy = {
    label: 'page_ok: ret = actor(desc, page, offset, nr) [nr from the i_size sampled before the loop]; page_cache_release(page)',
    acc: (c) => [r(`${c.P(c.num('pfn'))}.data`), w(`${c.P(c.num('pfn'))}.refcount`)],
    run: (c) => {
      const pfn = c.num('pfn');
      c.observe(c.pageData(pfn), 'read()');
      c.ref(pfn, -1);
      c.ret(0);
    },
  };
  return { fn: 'do_generic_mapping_read', where: 'mm/filemap.c', entry: 'start', steps };
}

export const doGenericMappingRead: Proc = doGenericMappingReadProc({ v2623: false });
