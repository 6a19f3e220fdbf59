/**
 * linux-6.1 posix_fadvise(fd, offset, len, POSIX_FADV_DONTNEED): generic_fadvise
 * (mm/fadvise.c:32, 6.1.192). endbyte = offset + len - 1 (len 0: to the end, 73-77);
 * __filemap_fdatawrite_range(mapping, offset, endbyte, WB_SYNC_NONE) starts writeback of the
 * range's dirty pages (112); only whole pages are dropped: start_index rounds offset up,
 * end_index is endbyte's page, one less unless endbyte ends a page or is the last byte of
 * the file (120-138); lru_add_drain(); invalidate_mapping_pagevec(mapping, start_index,
 * end_index, &nr_pagevec) (156: mm/truncate.c:526, the folio walk shared with
 * invalidate_mapping_pages, invalidate.ts — it skips locked folios (find_lock_entries'
 * trylock), and mapping_evict_folio refuses dirty, writeback and mapped or otherwise
 * referenced ones); if some were refused, lru_add_drain_all() and invalidate_mapping_pages()
 * over the range again (166-169).
 *
 * Writeback here completes at once (the model has no I/O in flight): a page under
 * WB_SYNC_NONE writeback that the real kernel would still see as PG_writeback (and keep) is
 * instead clean and may be dropped — the outcome the kernel reaches when the I/O is fast.
 */
import { ArgError, lk, r, type Proc, type Program } from '../../program.js';
import { PAGE_SIZE } from '../../state.js';
import { writebackStart } from '../../kernel/writeback.js';
import { writeback61 } from './writeback.js';
import { END, fileArg } from '../../kernel/lib.js';

/** `endbyte = -1` (mm/fadvise.c:75) as the model's byte range: the last byte of page END. */
const END_BYTE = (END + 1) * PAGE_SIZE - 1;
import { invalMappingLocals61 } from './invalidate.js';
import { marked, notOnThisPath } from '../../kernel/marks.js';
import { markCleanWriteback } from './odirect.js';

// The LKMM marks of fadvise (explore --memory-model lkmm; kernel/marks6.ts), 6.1.192; the
// folio walk (invalidate_mapping_pagevec) is marked in invalidate.ts.
const FA = 'mm/fadvise.c generic_fadvise() 6.1.192';

export const genericFadvise61: Proc = {
  fn: 'generic_fadvise',
  where: 'mm/fadvise.c',
  entry: 'wb',
  steps: {
    wb: marked(
      writebackStart(
        writeback61,
        'POSIX_FADV_DONTNEED: __filemap_fdatawrite_range(mapping, offset, endbyte, WB_SYNC_NONE)',
        'range',
        (c) => [Math.floor(c.num('offset') / PAGE_SIZE), Math.floor(c.num('endbyte') / PAGE_SIZE)],
        { syncAll: false },
      ),
      (c, a) => markCleanWriteback(c, a, c.num('file'), `${FA}: __filemap_fdatawrite_range(mapping, offset, endbyte, WB_SYNC_NONE) (mm/fadvise.c:112)`),
    ),
    range: {
      label:
        'start_index = (offset+(PAGE_SIZE-1)) >> PAGE_SHIFT; end_index = endbyte >> PAGE_SHIFT; if ((endbyte & ~PAGE_MASK) != ~PAGE_MASK && endbyte != inode->i_size - 1) end_index--',
      acc: (c) => [
        c.num('endbyte') % PAGE_SIZE === PAGE_SIZE - 1
          ? notOnThisPath(r(`${c.M(c.num('file'))}.i_size`), 'endbyte ends a page: the && does not read i_size')
          : lk(r(`${c.M(c.num('file'))}.i_size`), 'plain-read', c.map(c.num('file')).isize, `${FA}: endbyte != inode->i_size - 1 (mm/fadvise.c:130), plain C`),
      ],
      run: (c) => {
        const endbyte = c.num('endbyte');
        const start = Math.ceil(c.num('offset') / PAGE_SIZE);
        let end = Math.floor(endbyte / PAGE_SIZE);
        if (endbyte % PAGE_SIZE !== PAGE_SIZE - 1 && endbyte !== c.map(c.num('file')).isize - 1) {
          if (end === 0) {
            c.ret(0);
            return;
          }
          end--;
        }
        if (end < start) {
          c.ret(0);
          return;
        }
        c.set('start', start);
        c.set('end', end);
        c.goto('pagevec');
      },
    },
    pagevec: {
      label: 'lru_add_drain(); invalidate_mapping_pagevec(mapping, start_index, end_index, &nr_pagevec)',
      run: (c) => c.call('mapping_try_invalidate', 'lookup', { ...invalMappingLocals61(c.num('file'), c.num('start'), c.num('end')), nrpv: 0 }, 'again'),
    },
    again: {
      label: 'if (nr_pagevec) { lru_add_drain_all(); invalidate_mapping_pages(mapping, start_index, end_index); }',
      run: (c) => {
        if (!c.num('rv')) {
          c.ret(0);
          return;
        }
        c.call('mapping_try_invalidate', 'lookup', invalMappingLocals61(c.num('file'), c.num('start'), c.num('end')), 'done');
      },
    },
    done: { label: 'return 0', run: (c) => c.ret(0) },
  },
};

/** fadvise: `{ file, offset, length }` in bytes (length 0, the default: to the end of the file). */
export const fadviseProgram: Program = {
  proc: 'generic_fadvise',
  description:
    'posix_fadvise(POSIX_FADV_DONTNEED): start writeback of the range, then drop its clean, unmapped, unlocked whole pages (args: file, offset, length in bytes; length 0 = to the end)',
  start: (a, env) => {
    for (const k of Object.keys(a))
      if (!['file', 'offset', 'length'].includes(k)) throw new ArgError(k, `unknown argument ${k} (this program takes: file, offset, length)`);
    const num = (k: string): number => {
      const v = a[k] ?? 0;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ArgError(k, `argument ${k} must be a non-negative integer (bytes)`);
      return v;
    };
    const offset = num('offset');
    const length = num('length');
    // mm/fadvise.c:73-77: len == 0 means "as much as possible"
    const endbyte = length === 0 ? END_BYTE : Math.min(offset + length - 1, END_BYTE);
    return { file: fileArg(a, env), offset, endbyte, start: 0, end: 0, rv: 0 };
  },
};
