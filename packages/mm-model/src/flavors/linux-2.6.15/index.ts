/**
 * linux-2.6.15: the kernel the seed patch applies to. The fault finds the page unlocked
 * and relies on truncate_count + i_size to catch truncate; invalidation has no such guard.
 */
import type { Flavor } from '../../flavor.js';
import type { Program } from '../../program.js';
import { faultArgs, odirectArgs, rangeArgs, readArgs, truncateArgs } from '../../kernel/lib.js';
import { unmapProc } from '../../kernel/unmap.js';
import { doNoPage, filemapNopage } from './fault.js';
import { truncateCompletePage, truncateInodePages, vmtruncate } from './truncate.js';
import { inval2Locals, invalMappingLocals, invalidateCompletePage, invalidateInodePages2Range, invalidateMappingPages } from './invalidate.js';
import { genericFileDirectIo } from './odirect.js';
import { doGenericMappingRead } from './read.js';
import { loadProgram, userLoadProc } from '../../kernel/load.js';
import { storeProgram, userStoreProc } from '../../kernel/store.js';

/** The scenario-facing programs every 2.6 flavor offers (entry procedures by name). */
export function programs26(fault: string): Record<string, Program> {
  return {
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
    read: { proc: 'do_generic_mapping_read', description: 'a buffered read of one page (args: file, index)', start: readArgs },
    load: loadProgram(),
    // no ->page_mkwrite for ext3 in 2.6.15/2.6.23: a store faults like a read (2.6.15's installs the PTE dirty) and
    // dirties the PTE (2.6.15) or the page (2.6.23) (kernel/store.ts)
    store: storeProgram(),
  };
}

export const unmapMappingRange26 = unmapProc({
  fn: 'unmap_mapping_range',
  where: 'mm/memory.c',
  truncateCount: true,
  checkMapping: true,
  shared: false,
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
    generic_file_direct_IO: genericFileDirectIo({ invalidateBefore: false, ilock: 'i_sem' }),
    do_generic_mapping_read: doGenericMappingRead,
    user_load: userLoadProc('do_no_page', 'pte'),
    // 2.6.15 has no dirty tracking of shared mappings: a store dirties the PTE, the zap moves it to the page (kernel/store.ts)
    user_store: userStoreProc({ fault: 'do_no_page', entry: 'pte', pteDirty: true }),
  },
  programs: programs26('do_no_page'),
};
