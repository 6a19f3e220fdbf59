/**
 * linux-2.6.15: the kernel the seed patch applies to. The fault finds the page unlocked
 * and relies on truncate_count + i_size to catch truncate; invalidation has no such guard.
 */
import { NOT_SEARCHED_26, withNotSearched } from '../../kernel/not-searched.js';
import type { Flavor } from '../../flavor.js';
import type { Program } from '../../program.js';
import { faultArgs, odirectArgs, rangeArgs, readArgs, truncateArgs } from '../../kernel/lib.js';
import { unmapProc } from '../../kernel/unmap.js';
import type { Gather } from '../../kernel/gather.js';
import { putPage } from '../../kernel/marks.js';
import { doNoPage, filemapNopage } from './fault.js';
import { truncateCompletePage, truncateInodePages, vmtruncate } from './truncate.js';
import { inval2Locals, invalMappingLocals, invalidateCompletePage, invalidateInodePages2Range, invalidateMappingPages } from './invalidate.js';
import { genericFileDirectIo } from './odirect.js';
import { writeback2615 } from './writeback.js';
import { writebackProc } from '../../kernel/writeback.js';
import { doGenericMappingRead } from './read.js';
import { loadProgram, userLoadProc } from '../../kernel/load.js';
import { storeProgram, userStoreProc } from '../../kernel/store.js';

/** The scenario-facing programs every 2.6 flavor offers (entry procedures by name). */
export function programs26(fault: string): Record<string, Program> {
  return withNotSearched(
    {
      fault: { proc: fault, description: 'a read fault on a shared file mapping (args: mm, address | index)', start: faultArgs },
      truncate: { proc: 'vmtruncate', description: 'truncate the file to size bytes (args: file, size)', start: truncateArgs },
      invalidate_inode_pages2_range: {
        proc: 'invalidate_inode_pages2_range',
        description: 'invalidate page indexes start..end (args: file, start, end)',
        start: (a, env) => {
          const l = rangeArgs(a, env);
          return inval2Locals(l.file as number, l.start as number, l.end as number);
        },
      },
      invalidate_mapping_pages: {
        proc: 'invalidate_mapping_pages',
        description: 'drop clean unmapped pages start..end (args: file, start, end)',
        start: (a, env) => {
          const l = rangeArgs(a, env);
          return invalMappingLocals(l.file as number, l.start as number, l.end as number);
        },
      },
      odirect_write: {
        proc: 'generic_file_direct_IO',
        description: 'an O_DIRECT write (args: file, offset, length in bytes)',
        start: (a, env) => ({ ...odirectArgs(a, env), rv: 0 }),
      },
      read: { proc: 'do_generic_mapping_read', description: 'a buffered read of one page (args: file, index)', start: readArgs, readsData: true },
      load: loadProgram(),
      // no ->page_mkwrite for ext3 in 2.6.15/2.6.23: a store's fault is the read fault installing the PTE dirty; the store
      // dirties the PTE (2.6.15), or on 2.6.23 (write notification) the write faults dirty the page (kernel/store.ts)
      store: storeProgram(),
    },
    NOT_SEARCHED_26,
  );
}

/**
 * The 2.6 zap's mmu_gather (kernel/gather.ts). unmap_mapping_range_vma() calls zap_page_range()
 * once per VMA, under i_mmap_lock (2.6.23.17 mm/memory.c:1874): `tlb = tlb_gather_mmu(mm, 0)`
 * takes this CPU's mmu_gathers (get_cpu_var: preemption off until tlb_finish_mmu) and, with more
 * than one CPU online, sets `tlb->nr = 0` — not fast mode (include/asm-generic/tlb.h:53-66).
 * zap_pte_range's `tlb_remove_page(tlb, page)` (mm/memory.c:691) then queues the page in
 * `tlb->pages[]` instead of freeing it (tlb.h:101-111; only a UP kernel's fast mode frees at once);
 * `tlb_finish_mmu(tlb, address, end)` (mm/memory.c:902, after zap_pte_range's pte_unmap_unlock)
 * → tlb_flush_mmu → free_pages_and_swap_cache (mm/swap_state.c:275-290) → release_pages, whose
 * put_page_testzero (mm/swap.c:275) is atomic_dec_and_test, fully ordered.
 *
 * Not modelled, and why: a full gather (FREE_PTE_NR = 506 pages flushes under the PTE lock,
 * tlb.h:28, 109-110); unmap_vmas' zap_work running out (ZAP_BLOCK_SIZE is 8 pages with
 * CONFIG_PREEMPT, 1024 without, a present PTE costing one page: mm/memory.c:647, 785-788, 857-875),
 * which calls tlb_finish_mmu after the PTE unlock as the end of the VMA does and may then break
 * out for need_resched()/need_lockbreak() — the scenarios map at most 2 pages per VMA; and
 * unmap_mapping_range_vma's need_break after zap_page_range (mm/memory.c:1876-1894), which drops
 * i_mmap_lock between VMAs: the model has no need_resched(), here or elsewhere.
 *
 * 2.6.15 is read as the same text: its include/asm-generic/tlb.h (get_cpu_var(mmu_gathers),
 * `tlb->nr = num_online_cpus() > 1 ? 0U : ~0U`, tlb_remove_page, tlb_flush_mmu) and its
 * zap_page_range (`tlb = tlb_gather_mmu(mm, 0); … unmap_vmas(…); if (tlb) tlb_finish_mmu(…)`)
 * are those of 2.6.23.17 as far as the texts reachable here show.
 */
export function gather26(version: '2.6.15' | '2.6.23'): Gather {
  return {
    version: `${version} (2.6.23.17 include/asm-generic/tlb.h:85-94)`,
    finish: `mm/memory.c zap_page_range() (2.6.23.17 mm/memory.c:902)`,
    caller: 'zap_page_range',
    call: 'tlb_finish_mmu(tlb, address, end)',
    file: 'include/asm-generic/tlb.h',
    put: 'release_pages(): put_page_testzero(page)',
    mark: (c, _a, pfn) =>
      putPage(
        c,
        pfn,
        `include/asm-generic/tlb.h tlb_finish_mmu() ${version} → tlb_flush_mmu() → free_pages_and_swap_cache() → release_pages() (2.6.23.17 include/asm-generic/tlb.h:76, mm/swap_state.c:286, mm/swap.c:275)`,
      ),
  };
}

export const unmapMappingRange26 = unmapProc({
  fn: 'unmap_mapping_range',
  where: 'mm/memory.c',
  truncateCount: true,
  checkMapping: true,
  shared: false,
  gather: gather26('2.6.15'),
});

export const linux2615: Flavor = {
  name: 'linux-2.6.15',
  description: 'Linux 2.6.15: do_no_page with the truncate_count/i_size protocol; invalidation unguarded against the fault',
  version: '2.6.15',
  procs: {
    do_no_page: doNoPage,
    filemap_nopage: filemapNopage,
    unmap_mapping_range: unmapMappingRange26,
    vmtruncate: vmtruncate({ unmapAfter: false, ilock: 'i_sem' }),
    truncate_inode_pages: truncateInodePages({ unmapMapped: false }),
    truncate_complete_page: truncateCompletePage,
    invalidate_inode_pages2_range: invalidateInodePages2Range({
      stopOnError: true,
      clearDirtyFirst: true,
      bugOnMapped: false,
      unmapOnce: false,
      complete: 'invalidate_complete_page',
      where: 'mm/truncate.c',
    }),
    invalidate_mapping_pages: invalidateMappingPages({ complete: 'invalidate_complete_page', where: 'mm/truncate.c' }),
    invalidate_complete_page: invalidateCompletePage({
      refcountCheck: false,
      clearUptodate: true,
      fn: 'invalidate_complete_page',
      where: 'mm/truncate.c',
    }),
    generic_file_direct_IO: genericFileDirectIo({ invalidateBefore: false, ilock: 'i_sem', writeback: writeback2615 }),
    [writeback2615.fn]: writebackProc(writeback2615),
    do_generic_mapping_read: doGenericMappingRead,
    user_load: userLoadProc('do_no_page', 'pte'),
    // 2.6.15 has no dirty tracking of shared mappings: a store dirties the PTE, the zap moves it to the page (kernel/store.ts)
    user_store: userStoreProc({ fault: 'do_no_page', entry: 'pte', pteDirty: true }),
  },
  programs: programs26('do_no_page'),
};
