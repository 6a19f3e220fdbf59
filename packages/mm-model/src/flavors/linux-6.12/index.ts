/**
 * linux-6.12 (Debian 12's second kernel, 6.12.117): large folios (a folio covers several
 * indexes; PMD and PTE mappings; per-folio and per-page mapcounts), fault-around that maps
 * whole folios, truncate that splits a straddling large folio (and unmaps it when the split
 * fails), invalidate_lock, the iomap O_DIRECT path, secretmem's fault.
 *
 * `buildLinux612(fixes)` builds the kernel with each of the fixes the race corpus
 * (fixtures/races/) turns on or off, named by commit id; the built-in flavor has all of them,
 * as 6.12.117 does. A race's before.js is `kit.builders.linux612({ ..., fixes: { id: false } })`.
 */
import { NOT_SEARCHED_6_12, withNotSearched } from '../../kernel/not-searched.js';
import type { Flavor } from '../../flavor.js';
import type { Program, Proc, StepDef } from '../../program.js';
import type { FsKind } from '../../env.js';
import { faultArgs } from '../../kernel/lib.js';
import { onFilesystems } from '../../kernel/filesystems.js';
import { invalidateInodePages2Range61, invalidateMappingPages61 } from '../linux-6.1/invalidate.js';
import { programs61 } from '../linux-6.1/index.js';
import { iomapDioWrite } from '../linux-6.1/odirect.js';
import { DIO_ILOCK_612 } from './dio-write.js';
import { filemapRead61, withUpdatePageTrylock } from '../linux-6.1/read.js';
import { withSyncReadahead612, withXfsIolock612 } from './read.js';
import { doReadFault612 } from './fault.js';
import { initialPmds } from './folio.js';
import { filemapMapPages612, mapPagesLocals612 } from './map-pages.js';
import { findLockEntries612, truncateInodePagesRange612, truncateSetsize612 } from './truncate.js';
import { unmapProc612 } from './unmap.js';
import { secretmemSteps } from './secretmem.js';
import { hugetlbFault612, hugetlbPunchArgs, hugetlbfsPunchHole612, migrateArgs, unmapAndMoveHugePage612 } from './hugetlb.js';
import { ext4PunchHole612, filemapReadNoInvalidateLock, punchArgs, vfsFallocate612, xfsFreeFileSpace612 } from './punch.js';
import { RA_612, endIoProc, pageCacheRaOrder612, readaheadArgs } from './readahead.js';
import { NONE } from '../../state.js';
import { withISizeOrdering612 } from '../../kernel/marks612.js';
import { writeback612 } from './writeback.js';
import { writebackProc } from '../../kernel/writeback.js';
import { RETRY_LOCALS_612, reduceFault612, withFaultRetry612 } from './retry.js';

/** The fixes the builder can leave out, by mainline commit id. All are in 6.12.117. */
export interface Linux612Fixes {
  /** mm/memory: do not populate page table entries beyond i_size (Oct 2025). */
  '74207de2ba10': boolean;
  /** mm/truncate: unmap large folio on split failure (Oct 2025). */
  'fa04f5b60fda': boolean;
  /** mm: filemap: fix nr_pages calculation overflow in filemap_map_pages() (Mar 2026). */
  'f58df566524e': boolean;
  /** mm/secretmem: fix use-after-free race in fault handler (Oct 2025). */
  '6f86d0534fdd': boolean;
  /** mm: Protect operations adding pages to page cache with invalidate_lock (v5.15): here its read side (filemap_read, page_cache_ra_unbounded). */
  '730633f0b7f9': boolean;
  /** mm/hugetlb: fix folio is still mapped when deleted (Sep 2025). */
  '7b7387650dcf': boolean;
  /** filemap: Fix serialization adding transparent huge pages to page cache (v5.19-rc4, 2022). */
  '00fa15e0d564': boolean;
}

export const LINUX_612_FIXES: Readonly<Linux612Fixes> = Object.freeze({
  '74207de2ba10': true,
  'fa04f5b60fda': true,
  'f58df566524e': true,
  '6f86d0534fdd': true,
  '730633f0b7f9': true,
  '7b7387650dcf': true,
  '00fa15e0d564': true,
});

/** Override `where` (and, where 6.12 names the code differently, the label) of steps shared with 6.1. */
function cite(p: Proc, wheres: Record<string, string>, labels: Record<string, string> = {}): Proc {
  const steps: Record<string, StepDef> = {};
  for (const [pc, st] of Object.entries(p.steps)) {
    let out = wheres[pc] ? { ...st, where: wheres[pc] } : st;
    if (labels[pc]) out = { ...out, label: labels[pc] };
    steps[pc] = out;
  }
  return { ...p, steps };
}

/** 6.1's programs (their procedures are 6.12's here), with 6.12's fault locals, fault-around window and secretmem. */
const programs: Record<string, Program> = {
  ...programs61,
  fault: { ...programs61.fault!, start: (a, env) => ({ ...faultArgs(a, env), ml: 0, nf: 0, ...RETRY_LOCALS_612 }) },
  fault_around: {
    ...programs61.fault_around!,
    start: (a, env) => {
      const l = faultArgs(a, env);
      return mapPagesLocals612(env.vmas[l.vma as number]!, l.index as number);
    },
  },
  truncate: { ...programs61.truncate!, description: 'ftruncate to size bytes, as ext4_setattr / xfs_setattr_size do it (args: file, size)' },
  punch_hole: {
    proc: 'vfs_fallocate',
    description: 'fallocate(FALLOC_FL_PUNCH_HOLE) on ext4 or xfs (args: file, offset, length in bytes, page aligned)',
    start: punchArgs,
  },
  readahead: {
    proc: 'page_cache_ra_order',
    description: 'readahead of a window of 2^order pages at index, large folios where the mapping has them (args: file, index, order)',
    start: readaheadArgs,
    endIo: 'end_io',
  },
  hugetlb_fault: {
    proc: 'hugetlb_fault',
    description: 'a fault on a hugetlbfs mapping whose huge page is cached (args: mm, address | index)',
    start: (a, env) => faultArgs(a, env),
  },
  hugetlb_punch: {
    proc: 'hugetlbfs_punch_hole',
    description: 'fallocate(FALLOC_FL_PUNCH_HOLE) on hugetlbfs (args: file, offset, length in bytes, huge page aligned)',
    start: hugetlbPunchArgs,
  },
  migrate_hugetlb: { proc: 'unmap_and_move_huge_page', description: 'migrate the huge page cached at index (args: file, index)', start: migrateArgs },
  secretmem_fault: {
    proc: 'secretmem_fault',
    description: 'a read fault on a memfd_secret mapping (args: mm, address | index)',
    start: (a, env) => ({ ...faultArgs(a, env), ml: 0, nf: 0, np: NONE }),
  },
};
// `load` (a user load that observes data) is not offered until 6.12's fault declares its data accesses.
delete programs.load;

/**
 * The filesystems whose kernel path each program follows. A hugetlbfs file has its own read_iter,
 * setattr (hugetlb_vmtruncate → remove_inode_hugepages), fallocate, fault (hugetlb_fault) and no
 * write_iter (fs/hugetlbfs/inode.c); a secretmem file its own fault and setattr (mm/secretmem.c);
 * tmpfs faults, truncates, reads, writes and punches holes through shmem's own code (mm/shmem.c),
 * which the model does not follow: on tmpfs only fault-around (filemap_map_pages) and the
 * invalidations (mm/truncate.c) are the code the model runs (docs/flavors.md, session 41). A
 * program given a file of another kind is refused (an input error at the thread), instead of
 * running a path the kernel does not take there.
 */
const GENERIC_FS: readonly FsKind[] = ['ext4', 'xfs', 'tmpfs'];
const PROGRAM_FS: Readonly<Record<string, readonly FsKind[]>> = {
  // shmem's own paths (6.12.118 mm/shmem.c), none of them modelled: its ->fault is shmem_fault (2620; only
  // ->map_pages is filemap_map_pages, 5037), ftruncate is shmem_setattr (1246-1300: i_size_write, unmap_mapping_range
  // and shmem_truncate_range, no invalidate_lock), read and write are shmem_file_read_iter (3179) and
  // shmem_file_write_iter (3298-3318: generic_perform_write under inode_lock, O_DIRECT included: no invalidation)
  fault: ['ext4', 'xfs'],
  truncate: ['ext4', 'xfs'],
  read: ['ext4', 'xfs'],
  odirect_write: ['ext4', 'xfs'],
  punch_hole: ['ext4', 'xfs'],
  // shmem has no ->readahead and never reaches page_cache_ra_order (shmem_aops, mm/shmem.c:4916-4927; its read_iter and
  // fault are shmem_file_read_iter and shmem_fault; fadvise ignores WILLNEED on its noop bdi, mm/fadvise.c:51)
  readahead: ['ext4', 'xfs'],
  hugetlb_fault: ['hugetlbfs'],
  hugetlb_punch: ['hugetlbfs'],
  migrate_hugetlb: ['hugetlbfs'],
  secretmem_fault: ['secretmem'],
};
for (const [name, p] of Object.entries(withNotSearched(programs, NOT_SEARCHED_6_12)))
  programs[name] = onFilesystems('linux-6.12', name, p, PROGRAM_FS[name] ?? GENERIC_FS);

export interface Linux612Build {
  name: string;
  description: string;
  fixes?: Partial<Linux612Fixes>;
}

/** linux-6.12 with the given fixes (default: all of 6.12.117's). */
export function buildLinux612(b: Linux612Build): Flavor {
  const fx: Linux612Fixes = { ...LINUX_612_FIXES, ...(b.fixes ?? {}) };
  const fault = doReadFault612({ needsFallback: fx['74207de2ba10'] });
  const reduced = reduceFault612(
    withFaultRetry612(fault, 'do_fault_around'),
    filemapMapPages612({
      cap: fx['f58df566524e'] ? 'before' : fx['74207de2ba10'] ? 'afterLookup' : 'afterPtl',
      canMapLarge: fx['74207de2ba10'],
    }),
  );
  return {
    name: b.name,
    description: b.description,
    version: '6.12',
    procs: {
      // VM_FAULT_RETRY and the reductions (retry.ts); secretmem_fault runs none of filemap_fault's steps
      do_read_fault: reduced.fault,
      do_fault_around: reduced.faultAround,
      secretmem_fault: {
        ...fault,
        fn: 'secretmem_fault',
        where: 'mm/secretmem.c',
        entry: 'sm_pte',
        steps: { ...fault.steps, ...secretmemSteps({ restoreBeforePut: fx['6f86d0534fdd'] }) },
      },
      filemap_map_pages: reduced.mapPages,
      unmap_mapping_pages: unmapProc612('unmap_mapping_pages'),
      unmap_mapping_folio: unmapProc612('unmap_mapping_folio'),
      truncate_setsize: truncateSetsize612,
      truncate_inode_pages_range: truncateInodePagesRange612({ unmapOnSplitFailure: fx['fa04f5b60fda'] }),
      find_lock_entries: findLockEntries612,
      invalidate_inode_pages2_range: {
        ...withISizeOrdering612(
          cite(invalidateInodePages2Range61, {
            lookup: 'mm/truncate.c:623-641 invalidate_inode_pages2_range()',
            premap: 'mm/truncate.c:654-662 invalidate_inode_pages2_range()',
            lock: 'mm/truncate.c:664-670 invalidate_inode_pages2_range()',
            mapped: 'mm/truncate.c:672-673 invalidate_inode_pages2_range()',
            bugon: 'mm/truncate.c:674-676 invalidate_inode_pages2_range()',
            remove: 'mm/truncate.c:574-601 invalidate_complete_folio2()',
            release: 'mm/truncate.c:686-692 invalidate_inode_pages2_range()',
          }),
          { invalidate_inode_pages2_range: 'BUG_ON(folio_mapped(folio)) (mm/truncate.c:674, 6.12.118)' },
        ),
        bugsUnchecked: { invalidate_inode_pages2_range: ['VM_BUG_ON_FOLIO(!folio_contains(folio, indices[i]), folio) (mm/truncate.c:669, 6.12.118)'] },
      },
      mapping_try_invalidate: withISizeOrdering612(
        cite(invalidateMappingPages61, {
          lookup: 'mm/truncate.c:497-509 mapping_try_invalidate()',
          got: 'mm/truncate.c:510-520 mapping_try_invalidate()',
          evict: 'mm/truncate.c:288-303 mapping_evict_folio()',
          remove: 'mm/vmscan.c:720-800 __remove_mapping()',
          unlock: 'mm/truncate.c:522-528 mapping_try_invalidate()',
          release: 'mm/truncate.c:540-541 mapping_try_invalidate()',
        }),
      ),
      __iomap_dio_rw: withISizeOrdering612(
        cite(
          iomapDioWrite(writeback612, DIO_ILOCK_612),
          {
            wb: 'mm/filemap.c:2761-2763 filemap_invalidate_pages(), fs/iomap/direct-io.c:667 __iomap_dio_rw()',
            pre: 'mm/filemap.c:2772-2773 filemap_invalidate_pages(), fs/iomap/direct-io.c:667 __iomap_dio_rw()',
            precheck: 'fs/iomap/direct-io.c:668-675 __iomap_dio_rw()',
            direct: 'fs/iomap/direct-io.c:687-688 __iomap_dio_rw()',
            post: 'fs/iomap/direct-io.c:120-121 iomap_dio_complete()',
            done: 'mm/filemap.c:3968-3977 kiocb_invalidate_post_direct_write()',
          },
          {
            wb: 'ret = kiocb_invalidate_pages(iocb, iomi.len) → filemap_invalidate_pages(): ret = filemap_write_and_wait_range(mapping, pos, end)',
            pre: 'filemap_invalidate_pages(): return invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT, end >> PAGE_SHIFT)',
            precheck: 'if (ret) { if (ret != -EAGAIN) { trace_iomap_dio_invalidate_fail(); ret = -ENOTBLK; } goto out_free_dio; }',
            post: 'iomap_dio_complete(): if (!dio->error && dio->size && (dio->flags & IOMAP_DIO_WRITE)) kiocb_invalidate_post_direct_write(iocb, dio->size): if (mapping->nrpages) invalidate_inode_pages2_range(...)',
            done: 'kiocb_invalidate_post_direct_write(): a failure is only dio_warn_stale_pagecache(); return dio->size',
          },
        ),
      ),
      filemap_read: withISizeOrdering612(
        fx['730633f0b7f9']
          ? cite(withXfsIolock612(withSyncReadahead612(withUpdatePageTrylock(filemapRead61))), {
              get: 'mm/filemap.c:2325-2359 filemap_get_read_batch()',
              create: 'mm/filemap.c:2467-2500 filemap_create_folio()',
              readio: 'mm/filemap.c:2373-2387 filemap_read_folio()',
              readwait: 'mm/filemap.c:2389-2396 filemap_read_folio(), 2518 filemap_create_folio(), 2473 filemap_update_page()',
              uptodate: 'mm/filemap.c:2572 filemap_get_pages()',
              update: 'mm/filemap.c:2421 filemap_update_page()',
              update_lock: 'mm/filemap.c:2436-2447 filemap_update_page()',
              update_wait: 'mm/filemap.c:1280-1281 folio_wait_bit_common(), 2601-2602 filemap_get_pages()',
              copy: 'mm/filemap.c:2661-2700 filemap_read()',
            })
          : filemapReadNoInvalidateLock(),
      ),
      vfs_fallocate: vfsFallocate612,
      ext4_punch_hole: ext4PunchHole612,
      xfs_free_file_space: xfsFreeFileSpace612,
      end_io: endIoProc(RA_612),
      page_cache_ra_order: pageCacheRaOrder612({ raInvalidateLock: fx['00fa15e0d564'], unboundedInvalidateLock: fx['730633f0b7f9'] }),
      hugetlb_fault: hugetlbFault612,
      hugetlbfs_punch_hole: hugetlbfsPunchHole612({ lockBeforeMappedCheck: fx['7b7387650dcf'] }),
      unmap_and_move_huge_page: unmapAndMoveHugePage612,
      [writeback612.fn]: writebackProc(writeback612),
    },
    programs,
    initialState: initialPmds,
  };
}

export const linux612: Flavor = buildLinux612({
  name: 'linux-6.12',
  description:
    'Linux 6.12.117 (Debian 12): large folios mapped by PTE ranges or a PMD, fault-around by folio, truncate splits (or unmaps) a straddling folio, invalidate_lock, iomap O_DIRECT',
});
