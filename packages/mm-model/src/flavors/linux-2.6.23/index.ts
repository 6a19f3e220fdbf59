/**
 * linux-2.6.23: the fault keeps the page locked across the PTE install; invalidate unmaps
 * under the page lock and BUG()s if the page is still mapped; truncate unmaps a
 * still-mapped page under its lock; the O_DIRECT write invalidates before and after
 * ->direct_IO. docs/flavors.md walks through this file as the worked example.
 */
import type { Flavor } from '../../flavor.js';
import { gather26, programs26 } from '../linux-2.6.15/index.js';
import { unmapProc } from '../../kernel/unmap.js';
import { truncateCompletePageProc, truncateInodePages, vmtruncate } from '../linux-2.6.15/truncate.js';
import { invalidateCompletePage, invalidateInodePages2Range, invalidateMappingPages } from '../linux-2.6.15/invalidate.js';
import { genericFileDirectIo } from '../linux-2.6.15/odirect.js';
import { writeback2623 } from '../linux-2.6.15/writeback.js';
import { writebackProc } from '../../kernel/writeback.js';
import { doGenericMappingReadProc } from '../linux-2.6.15/read.js';
import { doFault2623, doWpPage2623 } from './fault.js';
import { userLoadProc } from '../../kernel/load.js';
import { userStoreProc } from '../../kernel/store.js';

export const linux2623: Flavor = {
  name: 'linux-2.6.23',
  description: 'Linux 2.6.23: the fault holds the page lock across the PTE install (the fix mainline took in 2007)',
  version: '2.6.23',
  procs: {
    __do_fault: doFault2623,
    do_wp_page: doWpPage2623,
    // 2.6.23.17 mm/memory.c:1989-1992: truncate_count++ without 2.6.15's smp_wmb()/smp_mb()
    unmap_mapping_range: unmapProc({
      fn: 'unmap_mapping_range',
      where: 'mm/memory.c',
      truncateCount: true,
      truncateCountBarriers: false,
      checkMapping: true,
      shared: false,
      gather: gather26('2.6.23'),
    }),
    vmtruncate: vmtruncate({ unmapAfter: true, ilock: 'i_mutex' }),
    truncate_inode_pages: truncateInodePages({ unmapMapped: true }),
    // 2.6.23.17 mm/truncate.c:92-105: remove_from_page_cache() before ClearPageUptodate(); mm/filemap.c:123 BUG_ON(page_mapped(page))
    truncate_complete_page: truncateCompletePageProc({ v2623: true }),
    invalidate_inode_pages2_range: invalidateInodePages2Range({
      // mm/truncate.c:398-446 (2.6.23.17): no `!ret` in the loops; `ret = do_launder_page(); if (ret == 0 && !invalidate_complete_page2()) ret = -EIO;` per page.
      stopOnError: false,
      retPerPage: true,
      clearDirtyFirst: false,
      bugOnMapped: true,
      unmapOnce: true,
      complete: 'invalidate_complete_page2',
      where: 'mm/truncate.c',
    }),
    invalidate_complete_page2: invalidateCompletePage({
      refcountCheck: false,
      clearUptodate: true,
      bugOnMappedRemove: true,
      fn: 'invalidate_complete_page2',
      where: 'mm/truncate.c',
    }),
    invalidate_mapping_pages: invalidateMappingPages({ complete: 'invalidate_complete_page', where: 'mm/truncate.c', indexBeforeTrylock: true }),
    invalidate_complete_page: invalidateCompletePage({
      refcountCheck: true,
      clearUptodate: false,
      bugOnMappedRemove: true,
      fn: 'invalidate_complete_page',
      where: 'mm/truncate.c',
    }),
    // mm/filemap.c:2183-2193 (2.6.23.17): invalidate before ->direct_IO; `if (retval) goto out` after it.
    generic_file_direct_IO: genericFileDirectIo({ invalidateBefore: true, skipPostOnSuccess: true, ilock: 'i_mutex', writeback: writeback2623 }),
    [writeback2623.fn]: writebackProc(writeback2623),
    // 2.6.23.17 mm/filemap.c:865-1071: no i_size read before find_page; page_ok reads it on every path
    do_generic_mapping_read: doGenericMappingReadProc({ v2623: true }),
    user_load: userLoadProc('__do_fault', 'pte'),
    // write notification (vma_wants_writenotify, 2.6.23.17 mm/mmap.c:1038-1063): a PTE is writable exactly while it
    // is dirty; the write faults dirty the page after the PTE unlock (kernel/store.ts, fault.ts)
    user_store: userStoreProc({ fault: '__do_fault', entry: 'pte', pteDirty: true, writeNotify: { proc: 'do_wp_page', entry: 'wp' } }),
  },
  programs: programs26('__do_fault'),
};
