/**
 * linux-2.6.15 file fault: handle_pte_fault → do_no_page → filemap_nopage (mm/memory.c,
 * mm/filemap.c). The page comes back from ->nopage unlocked, with a reference, its mapping
 * never rechecked; do_no_page relies on the truncate_count sample taken before ->nopage and
 * rechecked under the PTE lock (kernel-paths.md "linux-2.6.15", steps 1-8).
 * Readahead is off (the VM_RandomReadHint path): a miss goes straight to page_cache_read.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, hex } from '../../state.js';
import { FAULT_OK, FAULT_SIGBUS, faultBegin, faultEnd, faultSite, installAcc, pteAcc, ptlLoc, readIoAcc } from '../../kernel/lib.js';
import { addToPageCache, findGetPage, lockPage, readpageIo, testUptodate } from '../../kernel/pagecache.js';
import { findGetPageMarks, flagRead, ghost, mappingRead, marked, notOnThisPath, pageLockMark, pteMark, putPage } from '../../kernel/marks.js';
import type { Access } from '@kreplay/core';

const CITE_NOPAGE = 'mm/filemap.c filemap_nopage() 2.6.15';

/** The 2.6 handle_pte_fault's `entry = *pte`: plain C (2.6.15; 2.6.23.17 mm/memory.c handle_pte_fault() the same). */
export const pteRead26 = (c: Ctx, a: Access): Access =>
  pteMark(a, c.pte(faultSite(c).vma.id, faultSite(c).i), 'mm/memory.c handle_pte_fault() 2.6.15: entry = *pte (plain C)');

/** page_cache_alloc_cold(): the page allocator, marked so a derived test knows a page was new. */
export const allocMark = (a: Access): Access =>
  a.loc === 'alloc' ? lk(a, 'alloc', 0, 'mm/filemap.c page_cache_read() 2.6.15: page_cache_alloc_cold(mapping)') : a;

/** ->nopage's NOPAGE_SIGBUS. */
export const NOPAGE_SIGBUS = -1;

/** Call filemap_nopage for the fault's file page; its result lands in local `rv`. */
export function callNopage(c: Ctx, then: string): void {
  c.call('filemap_nopage', 'isize', { file: c.num('file'), index: c.num('index'), pfn: NONE }, then);
}

/** handle_pte_fault's lockless `entry = *pte`: a present PTE means there is nothing to do. */
export function handlePteFault(next: (c: Ctx) => void, mark: (c: Ctx, a: Access) => Access = (_c, a) => a): StepDef {
  return {
    label: 'handle_pte_fault: entry = *pte; pte_none(entry) → do_no_page',
    where: 'mm/memory.c handle_pte_fault()',
    acc: (c) => [mark(c, pteAcc(c, 'read'))],
    run: (c) => {
      faultBegin(c);
      const { vma, i } = faultSite(c);
      if (c.pte(vma.id, i) !== NONE) {
        c.effect('PTE already present');
        faultEnd(c, FAULT_OK);
        return;
      }
      next(c);
    },
  };
}

/** Under ptl: `if (pte_none(*page_table)) set_pte_at(...)`, else a sibling won: back out. */
export function installPte(rmap: string, backout: (c: Ctx) => void): StepDef {
  return {
    label: (c) =>
      c.opt('write') === 1
        ? 'if (pte_none(*page_table)) { entry = maybe_mkwrite(pte_mkdirty(mk_pte(new_page, vma->vm_page_prot)), vma); set_pte_at(mm, address, page_table, entry) }'
        : 'if (pte_none(*page_table)) set_pte_at(mm, address, page_table, entry)',
    acc: (c) => {
      const { vma, i } = faultSite(c);
      const cite = 'mm/memory.c do_no_page() 2.6.15';
      const pte = c.pte(vma.id, i);
      // under ptl: pte_none(*page_table) and set_pte_at() are plain C (x86-64 set_pte: *ptep = pte)
      if (pte !== NONE)
        return [
          pteMark(pteAcc(c, 'read'), pte, `${cite}: pte_none(*page_table)`),
          putPage(c, c.num('pfn'), `${cite}: page_cache_release(new_page)`),
          lk(release(ptlLoc(c)), 'spin_unlock', 0, `${cite}: pte_unmap_unlock()`),
        ];
      return [
        pteMark(pteAcc(c, 'read'), NONE, `${cite}: pte_none(*page_table)`),
        pteMark(pteAcc(c, 'write'), c.num('pfn'), `${cite}: set_pte_at(mm, address, page_table, entry)`),
      ];
    },
    run: (c) => {
      const { vma, i } = faultSite(c);
      if (c.pte(vma.id, i) !== NONE) {
        c.effect('a sibling thread mapped it first');
        backout(c);
        return;
      }
      c.setPte(vma, i, c.num('pfn'));
      // a store's fault (write_access): do_no_page installs the PTE dirty (2.6.15 mm/memory.c do_no_page():
      // `if (write_access) entry = maybe_mkwrite(pte_mkdirty(entry), vma)`); kernel/store.ts passes `write`
      if (c.opt('write') === 1) c.setPteDirty(vma, i, true);
      c.goto(rmap);
    },
  };
}

/** page_add_file_rmap (mapcount +1) then pte_unmap_unlock: the fault is done. */
export function addFileRmapAndUnlock(then: (c: Ctx) => void, label = 'page_add_file_rmap(page); pte_unmap_unlock(page_table, ptl)'): StepDef {
  return {
    label,
    acc: (c) => [
      // page_add_file_rmap(): atomic_inc_and_test(&page->_mapcount), a fully ordered value-returning RMW
      // (mm/rmap.c 2.6.15); the model's mapcount is _mapcount + 1
      ...installAcc(c, c.num('pfn'), c.num('file')).map((a) =>
        a.loc.endsWith('.mapcount')
          ? lk(a, 'atomic_inc_return', c.page(c.num('pfn')).mapcount, 'mm/rmap.c page_add_file_rmap() 2.6.15: atomic_inc_and_test(&page->_mapcount)')
          : ghost(a, 'the orphan-page-mapped judgement (page_add_file_rmap() reads neither page->mapping nor the tree)'),
      ),
      lk(release(ptlLoc(c)), 'spin_unlock', 0, 'mm/memory.c do_no_page() 2.6.15: pte_unmap_unlock() is spin_unlock(ptl)'),
    ],
    run: (c) => {
      const { vma, i, ptl } = faultSite(c);
      c.addRmap(vma, i, c.num('pfn'));
      c.setPtl(ptl, NONE);
      then(c);
    },
  };
}

export function ptlBusy(c: Ctx): string | undefined {
  const { ptl } = faultSite(c);
  const owner = c.ptlOwner(ptl);
  return owner === NONE ? undefined : `${c.env.ptls[ptl]!.loc}, held by ${c.who(owner)}`;
}

export const doNoPage: Proc = {
  fn: 'do_no_page',
  where: 'mm/memory.c',
  entry: 'pte',
  dead: {
    // new_page comes from ->nopage's return (rv) at ptl; the SIGBUS path reads no page
    ptl: ['pfn'],
    // past the truncate_count recheck nothing reads sequence or nopage's return again
    install: ['rv', 'seq'],
    // retry: sequence and new_page are sampled again before any read (mm/memory.c do_no_page() 2.6.15)
    reseq: ['pfn', 'rv', 'seq'],
  },
  steps: {
    pte: handlePteFault((c) => c.goto('seq'), pteRead26),
    seq: {
      label: 'sequence = mapping->truncate_count; smp_rmb(); new_page = vma->vm_ops->nopage()',
      acc: (c) => [
        lk(
          r(`${c.M(c.num('file'))}.truncate_count`),
          'plain-read',
          c.map(c.num('file')).truncateCount,
          'mm/memory.c do_no_page() 2.6.15: sequence = mapping->truncate_count; smp_rmb()',
          { after: ['smp_rmb'] },
        ),
      ],
      run: (c) => {
        c.set('seq', c.map(c.num('file')).truncateCount);
        callNopage(c, 'ptl');
      },
    },
    ptl: {
      label: (c) =>
        c.num('rv') === NOPAGE_SIGBUS
          ? 'new_page == NOPAGE_SIGBUS: return VM_FAULT_SIGBUS'
          : 'page_table = pte_offset_map_lock(); if (sequence != mapping->truncate_count)',
      acc: (c) => {
        if (c.num('rv') === NOPAGE_SIGBUS) return [];
        const cite = 'mm/memory.c do_no_page() 2.6.15';
        const a = [
          lk(acquire(ptlLoc(c)), 'spin_lock', 0, `${cite}: pte_offset_map_lock()`),
          lk(r(`${c.M(c.num('file'))}.truncate_count`), 'plain-read', c.map(c.num('file')).truncateCount, `${cite}: sequence != mapping->truncate_count`),
        ];
        // sequence != truncate_count: pte_unmap_unlock(); page_cache_release(new_page)
        if (c.map(c.num('file')).truncateCount !== c.num('seq'))
          a.push(lk(release(ptlLoc(c)), 'spin_unlock', 0, `${cite}: pte_unmap_unlock()`), putPage(c, c.num('rv'), `${cite}: page_cache_release(new_page)`));
        return a;
      },
      block: (c) => (c.num('rv') === NOPAGE_SIGBUS ? undefined : ptlBusy(c)),
      run: (c) => {
        const pfn = c.num('rv');
        if (pfn === NOPAGE_SIGBUS) {
          faultEnd(c, FAULT_SIGBUS);
          return;
        }
        c.set('pfn', pfn);
        const { ptl } = faultSite(c);
        c.setPtl(ptl, c.tid);
        const now = c.map(c.num('file')).truncateCount;
        if (now !== c.num('seq')) {
          // pte_unmap_unlock(); page_cache_release(new_page); cond_resched(); then re-sample.
          c.effect(`truncate_count moved ${c.num('seq')}→${now}: retry`);
          c.setPtl(ptl, NONE);
          c.ref(pfn, -1);
          c.goto('reseq');
          return;
        }
        c.goto('install');
      },
    },
    reseq: {
      label: 'cond_resched(); sequence = mapping->truncate_count; smp_rmb(); goto retry',
      acc: (c) => [
        lk(
          r(`${c.M(c.num('file'))}.truncate_count`),
          'plain-read',
          c.map(c.num('file')).truncateCount,
          'mm/memory.c do_no_page() 2.6.15: sequence = mapping->truncate_count; smp_rmb()',
          { after: ['smp_rmb'] },
        ),
      ],
      run: (c) => {
        c.set('seq', c.map(c.num('file')).truncateCount);
        callNopage(c, 'ptl');
      },
    },
    install: installPte('rmap', (c) => {
      // One of our sibling threads was faster, back out: page_cache_release(); unlock.
      c.ref(c.num('pfn'), -1);
      c.setPtl(faultSite(c).ptl, NONE);
      faultEnd(c, FAULT_OK);
    }),
    rmap: addFileRmapAndUnlock((c) => faultEnd(c, FAULT_OK)),
  },
};

/**
 * filemap_nopage's `lock_page(page); if (!page->mapping) { unlock_page; page_cache_release; goto
 * retry_all; } if (PageUptodate(page)) { unlock_page; goto success; }`, else on to `read`.
 */
function lockRecheck(label: string, removed: string, read: string): StepDef {
  return marked(
    lockPage(
      label,
      (c) => [r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.P(c.num('pfn'))}.flags.uptodate`), w(`${c.P(c.num('pfn'))}.refcount`)],
      (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).mapping === NONE) {
          c.effect(`pfn${pfn} ${removed}`);
          c.unlockPage(pfn);
          c.ref(pfn, -1);
          c.goto('isize');
        } else if (c.testFlag(pfn, 'uptodate')) {
          c.unlockPage(pfn);
          c.ret(pfn);
        } else c.goto(read);
      },
    ),
    (c, a) => {
      const pfn = c.num('pfn');
      if (a.lock === 'acquire') return pageLockMark(a, `${CITE_NOPAGE}: lock_page(page)`);
      if (a.loc.endsWith('.mapping')) return mappingRead(c, pfn, `${CITE_NOPAGE}: if (!page->mapping)`);
      if (a.loc.endsWith('.flags.uptodate')) return flagRead(c, pfn, 'uptodate', `${CITE_NOPAGE}: PageUptodate(page)`);
      // page_cache_release() only when the page left the mapping (goto retry_all)
      return c.page(pfn).mapping === NONE ? putPage(c, pfn, `${CITE_NOPAGE}: page_cache_release(page)`) : notOnThisPath(a, 'the page is still in the mapping');
    },
  );
}

/** ->readpage() on the locked page and its I/O completion (SetPageUptodate, unlock_page), then `next`. */
function readpageThen(label: string, which: string, next: string): StepDef {
  return {
    label,
    where: `mm/filemap.c filemap_nopage() page_not_uptodate: ${which}`,
    acc: (c) => [w(`${c.P(c.num('pfn'))}.flags.uptodate`), ...readIoAcc(c, c.num('pfn'), c.num('file')), release(`lock:${c.P(c.num('pfn'))}`)],
    run: (c) => {
      const pfn = c.num('pfn');
      c.setFlag(pfn, 'uptodate', true);
      c.unlockPage(pfn);
      c.goto(next);
    },
  };
}

export const filemapNopage: Proc = {
  fn: 'filemap_nopage',
  where: 'mm/filemap.c',
  entry: 'isize',
  // retry_all / find_get_page: `page` is looked up again before any read (mm/filemap.c filemap_nopage() 2.6.15)
  dead: { isize: ['pfn'], find: ['pfn'] },
  steps: {
    isize: {
      label: 'retry_all: size = i_size_read(inode) >> PAGE_CACHE_SHIFT; if (pgoff >= size) goto outside_data_content',
      // i_size_read() is a plain load on 64-bit SMP (include/linux/fs.h 2.6.15)
      acc: (c) => [lk(r(`${c.M(c.num('file'))}.i_size`), 'plain-read', c.map(c.num('file')).isize, 'mm/filemap.c filemap_nopage() 2.6.15: i_size_read(inode)')],
      run: (c) => {
        const size = Math.ceil(c.map(c.num('file')).isize / 4096);
        if (c.num('index') >= size) {
          c.effect(`index ${c.num('index')} ≥ i_size pages ${size}: SIGBUS`);
          c.ret(NOPAGE_SIGBUS);
          return;
        }
        c.goto('find');
      },
    },
    find: { ...findGetPage((c, pfn) => c.goto(pfn === NONE ? 'add' : 'uptodate')), acc: (c) => findGetPageMarks(c, c.num('file'), c.num('index')) },
    add: marked(addToPageCache('readio', 'find'), (_c, a) => allocMark(a)),
    readio: readpageIo('find', true),
    uptodate: marked(
      testUptodate('if (!PageUptodate(page)) goto page_not_uptodate', (c, ok) => {
        if (ok) c.ret(c.num('pfn'));
        else c.goto('lock');
      }),
      (c) => flagRead(c, c.num('pfn'), 'uptodate', `${CITE_NOPAGE}: PageUptodate(page)`),
    ),
    lock: lockRecheck(
      'page_not_uptodate: lock_page(page); if (!page->mapping) ...; if (PageUptodate(page)) ...',
      'was removed meanwhile: retry_all',
      'readio2',
    ),
    readio2: readpageThen('if (!mapping->a_ops->readpage(file, page)): the read I/O completes: SetPageUptodate(); unlock_page()', 'readpage', 'waited'),
    // wait_on_page_locked() returned: PageUptodate() is a lockless test of its own, after the
    // I/O's unlock_page(): an invalidate may have removed the page (and cleared the flag) between
    waited: marked(
      testUptodate('wait_on_page_locked(page); if (PageUptodate(page)) goto success', (c, ok) => {
        if (ok) c.ret(c.num('pfn'));
        else c.goto('relock');
      }),
      (c) => flagRead(c, c.num('pfn'), 'uptodate', `${CITE_NOPAGE}: PageUptodate(page) after wait_on_page_locked()`),
    ),
    // "Umm, take care of errors if the page isn't up-to-date. Try to re-read it _once_."
    relock: lockRecheck(
      'lock_page(page); /* Somebody truncated the page on us? */ if (!page->mapping) { unlock_page(page); page_cache_release(page); goto retry_all; } if (PageUptodate(page)) ...',
      'was removed after its read: retry_all',
      'readio3',
    ),
    readio3: readpageThen(
      'ClearPageError(page); if (!mapping->a_ops->readpage(file, page)) { wait_on_page_locked(page); if (PageUptodate(page)) goto success; }',
      'the second readpage',
      'waited2',
    ),
    waited2: {
      label: 'if (PageUptodate(page)) goto success; page_cache_release(page); return NULL',
      acc: (c) => [
        flagRead(c, c.num('pfn'), 'uptodate', `${CITE_NOPAGE}: PageUptodate(page) after the second readpage`),
        ...(c.testFlag(c.num('pfn'), 'uptodate') ? [] : [putPage(c, c.num('pfn'), `${CITE_NOPAGE}: page_cache_release(page)`)]),
      ],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.testFlag(pfn, 'uptodate')) {
          c.ret(pfn);
          return;
        }
        // the second read failed too (here: an invalidate cleared PG_uptodate again): NOPAGE_SIGBUS
        c.ref(pfn, -1);
        c.ret(NOPAGE_SIGBUS);
      },
    },
  },
};

export function pfnText(pfn: number): string {
  return pfn === NONE ? 'no page' : `pfn ${hex(pfn)}`;
}
