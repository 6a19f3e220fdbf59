/**
 * A buffered read of one page, mm/filemap.c do_generic_mapping_read (2.6.15; unchanged in
 * what the model sees through 2.6.23): find_get_page, or allocate + add_to_page_cache +
 * readpage; lock and recheck a page that is not uptodate; recheck i_size; copy; release.
 */
import type { Ctx } from '../../ctx.js';
import { r, w, type Proc } from '../../program.js';
import { NONE } from '../../state.js';
import { addToPageCache, beginReadAcc, copyToUser, findGetPage, lockPage, readpageIo, testUptodate } from '../../kernel/pagecache.js';

function isizeCheck(c: Ctx): void {
  const isize = c.map(c.num('file')).isize;
  if (isize === 0 || c.num('index') > Math.floor((isize - 1) / 4096)) {
    c.effect('past EOF');
    c.endRead();
    c.ret(0);
    return;
  }
  c.goto('find');
}

export const doGenericMappingRead: Proc = {
  fn: 'do_generic_mapping_read',
  where: 'mm/filemap.c',
  entry: 'start',
  steps: {
    start: {
      // The read starts (its floor is sampled) in its first step.
      label: 'read(): do_generic_mapping_read: isize = i_size_read(inode); end_index = (isize - 1) >> PAGE_CACHE_SHIFT; if (index > end_index) goto out',
      acc: (c) => [beginReadAcc(c), r(`${c.M(c.num('file'))}.i_size`)],
      run: (c) => {
        c.beginRead(c.num('file'), c.num('index'));
        isizeCheck(c);
      },
    },
    isize: {
      label: 'isize = i_size_read(inode); end_index = (isize - 1) >> PAGE_CACHE_SHIFT; if (index > end_index) goto out',
      acc: (c) => [r(`${c.M(c.num('file'))}.i_size`)],
      run: (c) => isizeCheck(c),
    },
    find: findGetPage((c, pfn) => c.goto(pfn === NONE ? 'add' : 'uptodate')),
    add: addToPageCache('readio', 'find', 'mm/filemap.c do_generic_mapping_read() no_cached_page'),
    readio: readpageIo('isize2', false, 'mm/filemap.c do_generic_mapping_read() readpage'),
    uptodate: testUptodate('if (!PageUptodate(page)) goto page_not_up_to_date', (c, ok) => c.goto(ok ? 'isize2' : 'lock')),
    lock: lockPage(
      'page_not_up_to_date: lock_page(page); if (!page->mapping) ...; if (PageUptodate(page)) ...',
      (c) => [r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.P(c.num('pfn'))}.flags.uptodate`), w(`${c.P(c.num('pfn'))}.refcount`)],
      (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).mapping === NONE) {
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          c.goto('isize');
        } else if (c.testFlag(pfn, 'uptodate')) {
          c.unlockPage(pfn);
          c.goto('isize2');
        } else c.goto('readio');
      },
    ),
    isize2: copyToUser('page_ok: isize = i_size_read(inode); ...; actor(desc, page, offset, nr); page_cache_release(page)'),
  },
};
