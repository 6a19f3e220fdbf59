/**
 * linux-6.1 buffered write on ext4 (delalloc), whole pages: ext4_buffered_write_iter
 * (fs/ext4/file.c:270, 6.1.192) takes inode_lock (279) around generic_perform_write
 * (mm/filemap.c:3862-3896), which for each page runs ext4_da_write_begin
 * (fs/ext4/inode.c:2989: grab_cache_page_write_begin → __filemap_get_folio(FGP_LOCK |
 * FGP_WRITE | FGP_CREAT): find or create the page, lock it, retry if it was truncated;
 * wait_for_stable_page; __block_write_begin(ext4_da_get_block_prep): a delayed-allocation
 * reservation, no read for a whole-page write), copy_page_from_iter_atomic, and
 * ext4_da_write_end → generic_write_end (fs/buffer.c:2158-2173: block_write_end marks the
 * page uptodate and dirty; `if (pos + copied > inode->i_size) i_size_write()`; unlock_page;
 * put_page). The write's data is a new version of each page (data.ts); it has returned —
 * a read starting later must see it — when inode_unlock has run. No block is allocated
 * here: writeback allocates it (the model's writeback writes a page's data to its block,
 * allocating one for a hole).
 */
import { acquire, r, release, w, type Proc, type Program } from '../../program.js';
import { NONE, PAGE_SIZE } from '../../state.js';
import { floorAcc, ilockLoc, pageRangeArgs } from '../../kernel/lib.js';
import { getFolioCreat, inodeLock, inodeUnlock } from '../../kernel/pagecache.js';
import { tagText } from '../../data.js';

export const ext4BufferedWrite61: Proc = {
  fn: 'ext4_buffered_write_iter',
  where: 'fs/ext4/file.c',
  entry: 'ilock',
  steps: {
    ilock: inodeLock('inode_lock(inode); inode_dio_wait(inode); ext4_write_checks()', () => false, (c) => c.goto('begin')),
    // FGP_LOCK: a created folio stays locked (filemap_add_folio inserted it so); a found one is locked next
    begin: getFolioCreat('generic_perform_write: ext4_da_write_begin(): page = grab_cache_page_write_begin(mapping, index) [__filemap_get_folio(FGP_LOCK|FGP_WRITE|FGP_CREAT)]', 'lock', 'copy'),
    lock: {
      label: 'folio_lock(folio); if (unlikely(folio->mapping != mapping)) { folio_unlock(folio); folio_put(folio); goto repeat; }',
      where: 'mm/filemap.c __filemap_get_folio()',
      acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`), r(`${c.P(c.num('pfn'))}.mapping`), w(`${c.P(c.num('pfn'))}.refcount`)],
      block: (c) => c.pageLockHeld(c.num('pfn')),
      run: (c) => {
        const pfn = c.num('pfn');
        c.lockPage(pfn);
        if (c.page(pfn).mapping !== c.num('file')) {
          c.effect(`pfn${pfn} got truncated: repeat`);
          c.unlockPage(pfn); c.ref(pfn, -1); c.set('pfn', NONE);
          c.goto('begin');
          return;
        }
        c.goto('copy');
      },
    },
    copy: {
      label: 'wait_for_stable_page(); __block_write_begin(page, pos, len, ext4_da_get_block_prep); copy_page_from_iter_atomic(); block_write_end(): SetPageUptodate(), mark_buffer_dirty → the page is dirty',
      where: 'mm/filemap.c generic_perform_write()',
      acc: (c) => {
        const P = c.P(c.num('pfn'));
        return [w(`${P}.data`), w(`${P}.flags.uptodate`), w(`${P}.flags.dirty`), w(`${c.M(c.num('file'))}.disk`)];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        const tag = c.mintWrite(c.num('file'), c.num('index'));
        c.updPage(pfn, { data: tag });
        c.effect(`write() copies ${tagText(tag)} into pfn${pfn}`);
        c.setFlag(pfn, 'uptodate', true);
        c.setFlag(pfn, 'dirty', true);
        c.goto('end');
      },
    },
    end: {
      label: 'generic_write_end(): if (pos + copied > inode->i_size) i_size_write(inode, pos + copied); unlock_page(page); put_page(page)',
      where: 'fs/buffer.c generic_write_end()',
      acc: (c) => [r(`${c.M(c.num('file'))}.i_size`), ...((c.num('index') + 1) * PAGE_SIZE > c.map(c.num('file')).isize ? [w(`${c.M(c.num('file'))}.i_size`)] : []),
        release(`lock:${c.P(c.num('pfn'))}`), w(`${c.P(c.num('pfn'))}.refcount`)],
      run: (c) => {
        const file = c.num('file'); const pfn = c.num('pfn');
        const pos = (c.num('index') + 1) * PAGE_SIZE;
        const old = c.map(file).isize;
        if (pos > old) {
          c.updMap(file, { isize: pos }, `i_size ${old}→${pos}`);
          c.op({ kind: 'isize_set', file: c.fileRef(file), size: BigInt(pos) });
        }
        c.unlockPage(pfn);
        c.ref(pfn, -1);
        c.set('pfn', NONE);
        if (c.num('index') < c.num('last')) { c.set('index', c.num('index') + 1); c.goto('begin'); } else c.goto('iunlock');
      },
    },
    iunlock: {
      label: 'inode_unlock(inode); return written',
      acc: (c) => [floorAcc(c, c.num('file')), release(ilockLoc(c, c.num('file')))],
      run: (c) => { c.writesReturned(); inodeUnlock(c); c.ret(c.num('length')); },
    },
  },
};

export const writeProgram: Program = {
  proc: 'ext4_buffered_write_iter',
  description: 'a buffered write() of whole pages (args: file, offset, length in bytes, page aligned)',
  start: (a, env) => {
    const l = pageRangeArgs(a, env, 'writes');
    return { ...l, index: l.first!, pfn: NONE };
  },
};
