/**
 * linux-6.1 write faults on a shared ext4 mapping (6.1.192 line numbers):
 *
 * - a missing PTE: handle_pte_fault → do_fault → do_shared_fault (mm/memory.c:4680): __do_fault
 *   → filemap_fault (the read fault's steps, fault.ts: the folio comes back locked, i_size
 *   rechecked); `unlock_page(vmf->page); do_page_mkwrite(vmf)` (4694-4695); finish_fault
 *   (4703); fault_dirty_shared_page (4711: set_page_dirty, unlock_page).
 * - a present, write-protected PTE: do_wp_page → wp_page_shared (3347): get_page,
 *   pte_unmap_unlock, do_page_mkwrite, finish_mkwrite_fault (3307: PTE unchanged? make it
 *   writable), fault_dirty_shared_page, put_page.
 *
 * ->page_mkwrite is ext4_page_mkwrite (fs/ext4/inode.c:6298) with ext4's default delalloc:
 * sb_start_pagefault, file_update_time, filemap_invalidate_lock_shared(mapping) (6319), then
 * block_page_mkwrite(vma, vmf, ext4_da_get_block_prep) (6338; fs/buffer.c:2486): lock_page,
 * `if (page->mapping != inode->i_mapping || page_offset(page) > size)` → -EFAULT (truncated:
 * VM_FAULT_NOPAGE), else the delayed-allocation reservation of the page's blocks (no block
 * is allocated: writeback allocates it, as the model's writeback does for a hole),
 * set_page_dirty, return with the page locked; out: filemap_invalidate_unlock_shared (6434).
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc } from '../../program.js';
import { NONE, PAGE_SIZE, PG } from '../../state.js';
import { FAULT_OK, faultBegin, faultEnd, faultSite, pteAcc, ptlLoc, dropInvalidateLock } from '../../kernel/lib.js';
import { handlePteFault, ptlBusy } from '../linux-2.6.15/fault.js';
import { invalidateLockShared } from '../../kernel/pagecache.js';
import { doReadFault61, markOrigPte } from './fault.js';
import type { Access } from '@kreplay/core';
import { lk } from '../../program.js';
import { marked, notOnThisPath, pteMark } from '../../kernel/marks.js';
import { folioLock, folioMapping, folioPut, folioUnlock, iSizeRead, rwsemLock, rwsemUnlock } from '../../kernel/marks6.js';

const invLockLoc = (c: Ctx) => `${c.M(c.num('file'))}.invalidate_lock`;

/** block_page_mkwrite's truncation test: `page->mapping != inode->i_mapping || page_offset(page) > size`. */
function truncatedUnder(c: Ctx): boolean {
  const p = c.page(c.num('pfn'));
  return p.mapping !== c.num('file') || p.index * PAGE_SIZE > c.map(c.num('file')).isize;
}

const read = doReadFault61.steps;

// The LKMM marks of the write fault (explore --memory-model lkmm; kernel/marks6.ts), 6.1.192.
const MEM = 'mm/memory.c 6.1.192';
const BPM = 'fs/buffer.c block_page_mkwrite() 6.1.192';
const EPM = 'fs/ext4/inode.c ext4_page_mkwrite() 6.1.192';
const isLoc = (a: Access, suffix: string) => a.loc.endsWith(suffix);
const ptePfn = (c: Ctx) => {
  const { vma, i } = faultSite(c);
  return c.pte(vma.id, i);
};
// set_page_dirty → ext4_dirty_folio → block_dirty_folio: folio_test_set_dirty (fs/buffer.c:636), a
// fully ordered test-and-set, and __folio_mark_dirty's xarray dirty tag (640), which the model
// folds into the flag: left unmarked (smp_mb() in a derived test, no test when shared).

/** handle_pte_fault → do_wp_page → wp_page_shared (mm/memory.c:5040-5048, 3347-3358) under the PTE lock. */
function wpMarks(c: Ctx, a: Access): Access {
  if (a.lock === 'acquire') return lk(a, 'spin_lock', 0, `${MEM} handle_pte_fault(): spin_lock(vmf->ptl) (mm/memory.c:5040)`);
  if (a.lock === 'release') return lk(a, 'spin_unlock', 0, `${MEM} wp_page_shared(): pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/memory.c:3358)`);
  if (isLoc(a, '.refcount'))
    return lk(
      a,
      'atomic_inc',
      c.page(ptePfn(c)).refcount,
      `${MEM} wp_page_shared(): get_page(vmf->page) (mm/memory.c:3353) → folio_ref_inc() = atomic_inc(&folio->_refcount), unordered`,
    );
  return pteMark(a, ptePfn(c), `${MEM} handle_pte_fault(): if (unlikely(!pte_same(*vmf->pte, entry))) (mm/memory.c:5041), plain C`);
}

/**
 * block_page_mkwrite (fs/buffer.c:2495-2520): lock_page, i_size_read, the truncation test;
 * a truncated page is unlocked in the same step (out_unlock, 2520), which has no access of
 * its own for the unlock: there the lock stays unmarked.
 */
function mkwLockMarks(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  const truncated = truncatedUnder(c);
  if (a.lock === 'acquire') return truncated ? a : folioLock(a, `${BPM}: lock_page(page) (fs/buffer.c:2495)`);
  if (isLoc(a, '.mapping')) return folioMapping(c, a, pfn, `${BPM}: if ((page->mapping != inode->i_mapping) || (fs/buffer.c:2497)`);
  if (isLoc(a, '.i_size')) return iSizeRead(c, a, c.num('file'), `${BPM}: size = i_size_read(inode) (fs/buffer.c:2496)`);
  return truncated ? notOnThisPath(a, 'truncated: -EFAULT before set_page_dirty') : a; // set_page_dirty (fs/buffer.c:2516)
}

/** The PTE made writable under the PTE lock: finish_mkwrite_fault (mm/memory.c:3307-3321) → wp_page_reuse (3085-3109). */
function mkwriteFinMarks(c: Ctx, a: Access): Access {
  const same = ptePfn(c) === c.num('orig');
  if (a.lock === 'acquire') return lk(a, 'spin_lock', 0, `${MEM} finish_mkwrite_fault(): vmf->pte = pte_offset_map_lock() (mm/memory.c:3310)`);
  if (a.lock === 'release')
    return lk(
      a,
      'spin_unlock',
      0,
      `${MEM} ${same ? 'wp_page_reuse(): pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/memory.c:3108)' : 'finish_mkwrite_fault(): pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/memory.c:3318)'}`,
    );
  if (a.mode === 'read') return pteMark(a, ptePfn(c), `${MEM} finish_mkwrite_fault(): if (!pte_same(*vmf->pte, vmf->orig_pte)) (mm/memory.c:3316), plain C`);
  return lk(
    a,
    'WRITE_ONCE',
    ptePfn(c),
    `${MEM} wp_page_reuse(): ptep_set_access_flags() (mm/memory.c:3106) → set_pte() (arch/x86/mm/pgtable.c:493) → native_set_pte(): WRITE_ONCE(*ptep, pte) (arch/x86/include/asm/pgtable_64.h:67)`,
  );
}

/** fault_dirty_shared_page (mm/memory.c:3032-3049): set_page_dirty (unmarked), unlock_page; the wp path's put_page (3376); the backout's unlock_page, put_page (4706-4707). */
function unlockMarks(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  const backout = !!c.opt('backout');
  if (a.lock === 'release')
    return folioUnlock(
      a,
      `${MEM} ${backout ? 'do_shared_fault(): unlock_page(vmf->page) (mm/memory.c:4706)' : 'fault_dirty_shared_page(): unlock_page(page) (mm/memory.c:3049)'}`,
    );
  if (isLoc(a, '.refcount'))
    return folioPut(
      c,
      a,
      pfn,
      `${MEM} ${backout ? 'do_shared_fault(): put_page(vmf->page) (mm/memory.c:4707)' : 'wp_page_shared(): put_page(vmf->page) (mm/memory.c:3376)'}`,
    );
  return a; // set_page_dirty (mm/memory.c:3040)
}

export const doSharedFault61: Proc = {
  fn: 'do_shared_fault',
  where: 'mm/memory.c',
  entry: 'pte',
  steps: {
    // filemap_fault, as the read fault runs it (fault.ts), without fault-around (do_fault
    // calls do_shared_fault for FAULT_FLAG_WRITE on a VM_SHARED mapping: mm/memory.c:4763).
    // Its last step, isize2 (the i_size recheck under the folio lock), continues at `ptl`: here
    // that is do_shared_fault's page_mkwrite call, and finish_fault is `finish`.
    isize: read.isize!,
    get: read.get!,
    uptodate: read.uptodate!,
    ilock: read.ilock!,
    create: read.create!,
    create_unlock: read.create_unlock!,
    lock: read.lock!,
    read: read.read!,
    read_wait: read.read_wait!,
    isize2: read.isize2!,
    finish: read.ptl!,
    setpte: read.setpte!,
    pte: handlePteFault((c) => {
      c.set('wp', 0);
      c.goto('isize');
    }, markOrigPte),
    ptl: {
      label: 'do_shared_fault: unlock_page(vmf->page); do_page_mkwrite(vmf) → ext4_page_mkwrite(): sb_start_pagefault(); file_update_time()',
      where: 'mm/memory.c do_shared_fault()',
      acc: (c) => [folioUnlock(release(`lock:${c.P(c.num('pfn'))}`), `${MEM} do_shared_fault(): unlock_page(vmf->page) (mm/memory.c:4694)`)],
      run: (c) => {
        c.unlockPage(c.num('pfn'));
        c.goto('mkw_ilock');
      },
    },
    wp: marked(
      {
        label:
          'handle_pte_fault: pte present, write-protected → do_wp_page(): pte_offset_map_lock(); vmf->page = vm_normal_page(); wp_page_shared(): get_page(vmf->page); pte_unmap_unlock()',
        where: 'mm/memory.c wp_page_shared()',
        acc: (c) => {
          const { vma, i } = faultSite(c);
          const pfn = c.pte(vma.id, i);
          return [acquire(ptlLoc(c)), pteAcc(c, 'read'), ...(pfn === NONE ? [] : [w(`${c.P(pfn)}.refcount`)]), release(ptlLoc(c))];
        },
        block: ptlBusy,
        run: (c) => {
          faultBegin(c);
          const { vma, i } = faultSite(c);
          const pfn = c.pte(vma.id, i);
          c.set('wp', 1);
          if (pfn === NONE) {
            c.effect('the PTE went away: the store walks again');
            faultEnd(c, FAULT_OK);
            return;
          }
          c.ref(pfn, 1);
          c.set('pfn', pfn);
          c.set('orig', pfn);
          c.goto('mkw_ilock');
        },
      },
      wpMarks,
    ),
    mkw_ilock: {
      ...marked(
        invalidateLockShared('ext4_page_mkwrite: filemap_invalidate_lock_shared(mapping)', (c) => c.goto('mkw_lock')),
        (_c, a) => rwsemLock(a, `${EPM}: filemap_invalidate_lock_shared(mapping) (fs/ext4/inode.c:6319)`),
      ),
      where: 'fs/ext4/inode.c ext4_page_mkwrite()',
    },
    mkw_lock: marked(
      {
        label: (c) =>
          `block_page_mkwrite(vma, vmf, ext4_da_get_block_prep): lock_page(page); size = i_size_read(inode); if (page->mapping != inode->i_mapping || page_offset(page) > size) ${
            truncatedUnder(c) ? 'return -EFAULT (truncated)' : '...; __block_write_begin(); block_commit_write(); set_page_dirty(page)'
          }`,
        where: 'fs/buffer.c block_page_mkwrite()',
        acc: (c) => {
          const P = c.P(c.num('pfn'));
          return [acquire(`lock:${P}`), r(`${P}.mapping`), r(`${c.M(c.num('file'))}.i_size`), w(`${P}.flags.dirty`)];
        },
        block: (c) => c.pageLockHeld(c.num('pfn')),
        run: (c) => {
          const pfn = c.num('pfn');
          c.lockPage(pfn);
          if (truncatedUnder(c)) {
            c.effect('page truncated under us: -EFAULT → VM_FAULT_NOPAGE');
            c.unlockPage(pfn);
            c.set('nopage', 1);
          } else {
            c.setFlag(pfn, 'dirty', true);
            c.set('nopage', 0);
          }
          c.goto('mkw_out');
        },
      },
      mkwLockMarks,
    ),
    mkw_out: marked(
      {
        label: (c) =>
          `ext4_page_mkwrite out: filemap_invalidate_unlock_shared(mapping); sb_end_pagefault()${c.num('nopage') ? '; put_page(vmf->page); return VM_FAULT_NOPAGE' : ''}`,
        where: 'fs/ext4/inode.c ext4_page_mkwrite()',
        acc: (c) => [release(invLockLoc(c)), ...(c.num('nopage') ? [w(`${c.P(c.num('pfn'))}.refcount`)] : [])],
        run: (c) => {
          const file = c.num('file');
          dropInvalidateLock(c, file, true);
          if (c.num('nopage')) {
            c.ref(c.num('pfn'), -1);
            faultEnd(c, FAULT_OK);
            return;
          }
          c.goto(c.num('wp') ? 'mkwrite_fin' : 'finish');
        },
      },
      (c, a) =>
        a.lock === 'release'
          ? rwsemUnlock(a, `${EPM}: filemap_invalidate_unlock_shared(mapping) (fs/ext4/inode.c:6434)`)
          : folioPut(
              c,
              a,
              c.num('pfn'),
              `${MEM} ${c.num('wp') ? 'wp_page_shared(): put_page(vmf->page) (mm/memory.c:3362)' : 'do_shared_fault(): put_page(vmf->page) (mm/memory.c:4698)'}`,
            ),
    ),
    mkwrite_fin: marked(
      {
        label:
          'finish_mkwrite_fault(): pte_offset_map_lock(); if (!pte_same(*vmf->pte, vmf->orig_pte)) return VM_FAULT_NOPAGE; wp_page_reuse(): the PTE becomes writable; pte_unmap_unlock()',
        where: 'mm/memory.c finish_mkwrite_fault()',
        acc: (c) => {
          const { vma, i } = faultSite(c);
          const same = c.pte(vma.id, i) === c.num('orig');
          return [acquire(ptlLoc(c)), pteAcc(c, 'read'), ...(same ? [pteAcc(c, 'write')] : []), release(ptlLoc(c))];
        },
        block: ptlBusy,
        run: (c) => {
          const { vma, i } = faultSite(c);
          if (c.pte(vma.id, i) !== c.num('orig')) {
            c.effect('PTE changed: VM_FAULT_NOPAGE');
            c.set('backout', 1);
          }
          c.goto('unlock');
        },
      },
      mkwriteFinMarks,
    ),
    unlock: marked(
      {
        label: (c) =>
          c.opt('backout')
            ? 'unlock_page(vmf->page); put_page(vmf->page); return VM_FAULT_NOPAGE'
            : `fault_dirty_shared_page(): set_page_dirty(page); unlock_page(page)${c.num('wp') ? '; wp_page_shared: put_page(vmf->page)' : ''}`,
        where: 'mm/memory.c fault_dirty_shared_page()',
        acc: (c) => {
          const P = c.P(c.num('pfn'));
          return [release(`lock:${P}`), ...(c.opt('backout') || c.num('wp') ? [w(`${P}.refcount`)] : []), ...(c.opt('backout') ? [] : [w(`${P}.flags.dirty`)])];
        },
        run: (c) => {
          const pfn = c.num('pfn');
          if (!c.opt('backout') && !(c.page(pfn).flags & PG.dirty)) c.setFlag(pfn, 'dirty', true);
          c.unlockPage(pfn);
          if (c.opt('backout') || c.num('wp')) c.ref(pfn, -1);
          faultEnd(c, FAULT_OK);
        },
      },
      unlockMarks,
    ),
  },
};
