/**
 * linux-6.1 (Debian 12's kernel, where captured traces come from): folio-based fault with
 * fault-around, the invalidate_lock, xarray removal under refcount freeze.
 */
import { NOT_SEARCHED_6_1, withNotSearched } from '../../kernel/not-searched.js';
import type { Flavor } from '../../flavor.js';
import type { Program } from '../../program.js';
import { faultArgs, faultSite, odirectArgs, rangeArgs, readArgs, truncateArgs } from '../../kernel/lib.js';
import { unmapProc } from '../../kernel/unmap.js';
import type { Gather } from '../../kernel/gather.js';
import { folioPut } from '../../kernel/marks6.js';
import { doReadFault61, mapPagesLocals, markOrigPte } from './fault.js';
import { filemapMapPages61, nextEntry } from './map-pages.js';
import { findLockEntries61, inval2Locals61, invalMappingLocals61, invalidateInodePages2Range61, invalidateMappingPages61 } from './invalidate.js';
import { truncateInodePagesRange61, truncateSetsize61 } from './truncate.js';
import { iomapDioWrite61 } from './odirect.js';
import { filemapRead61 } from './read.js';
import { ext4PunchHole61, punchHoleProgram } from './punch.js';
import { loadProgram, userLoadProc } from '../../kernel/load.js';
import { storeProgram, userStoreProc } from '../../kernel/store.js';
import { doSharedFault61 } from './store.js';
import { ext4BufferedWrite61, writeProgram } from './write.js';
import { fadviseProgram, genericFadvise61 } from './fadvise.js';
import { writeback61 } from './writeback.js';
import { writebackProc } from '../../kernel/writeback.js';
import { onFilesystems } from '../../kernel/filesystems.js';
import { RETRY_LOCALS, withFaultRetry } from './retry.js';
import { faultAroundFor, fuseWhen, withStableUptodate } from './reduce.js';
import { handlePteFault } from '../linux-2.6.15/fault.js';
import type { Ctx } from '../../ctx.js';
import type { Proc } from '../../program.js';
import { NONE } from '../../state.js';
import { ghost, marked } from '../../kernel/marks.js';
import { markReadFloor, withUpdatePageTrylock } from './read.js';
import { SYNC_RA_61, withSyncReadahead } from '../linux-6.12/read.js';
import { RA_61, endIoProc, pageCacheRaOrder61 } from '../linux-6.12/readahead.js';

/** 6.1.192's mmu_gather (kernel/gather.ts): release_pages() puts each queued page once, folio_put_testzero (mm/swap.c:1005). */
const gather61: Gather = {
  version: '6.1.192',
  finish: 'mm/memory.c:1795 zap_page_range_single()',
  put: 'release_pages(): folio_put_testzero(folio)',
  mark: (c, a, pfn) =>
    folioPut(
      c,
      a,
      pfn,
      'mm/mmu_gather.c tlb_finish_mmu() 6.1.192 (mm/mmu_gather.c:394) → tlb_batch_pages_flush() → free_pages_and_swap_cache() → release_pages() (mm/swap.c:1005)',
    ),
};

const unmap61 = (fn: string) => unmapProc({ fn, where: 'mm/memory.c', truncateCount: false, checkMapping: false, shared: true, gather: gather61 });

export const programs61: Record<string, Program> = {
  fault: {
    proc: 'do_read_fault',
    description: 'a read fault on a shared file mapping, fault-around first (args: mm, address | index)',
    start: (a, env) => ({ ...faultArgs(a, env), ml: 0 }),
  },
  fault_around: {
    proc: 'filemap_map_pages',
    description: 'fault-around alone: filemap_map_pages over the 16-page window of the address (args: mm, address | index)',
    start: (a, env) => {
      const l = faultArgs(a, env);
      return mapPagesLocals(env.vmas[l.vma as number]!, l.index as number);
    },
  },
  truncate: { proc: 'truncate_setsize', description: 'ftruncate to size bytes, as ext4_setattr does it (args: file, size)', start: truncateArgs },
  invalidate_inode_pages2_range: {
    proc: 'invalidate_inode_pages2_range',
    description: 'invalidate page indexes start..end (args: file, start, end)',
    start: (a, env) => {
      const l = rangeArgs(a, env);
      return inval2Locals61(l.file as number, l.start as number, l.end as number);
    },
  },
  invalidate_mapping_pages: {
    proc: 'mapping_try_invalidate',
    description: 'drop clean, unmapped, unused pages start..end (args: file, start, end)',
    start: (a, env) => {
      const l = rangeArgs(a, env);
      return invalMappingLocals61(l.file as number, l.start as number, l.end as number);
    },
  },
  odirect_write: {
    proc: '__iomap_dio_rw',
    description: 'an O_DIRECT write through iomap (args: file, offset, length in bytes)',
    start: (a, env) => ({ ...odirectArgs(a, env), rv: 0 }),
  },
  // the read's readahead submits its folios' reads and goes on: the machine adds the bio's end_io (readahead.ts endIoProc)
  read: { proc: 'filemap_read', description: 'a buffered read of one page (args: file, index)', start: readArgs, readsData: true, endIo: 'end_io' },
  load: loadProgram({ ml: 0 }),
  punch_hole: punchHoleProgram,
};

/** do_read_fault → do_fault_around: filemap_map_pages over the window, returning into do_read_fault's `around`. */
const faultAround = (c: Ctx) => c.call('do_fault_around', 'next', mapPagesLocals(faultSite(c).vma, c.num('index')), 'around');

/** A 6.1 fault with VM_FAULT_RETRY (retry.ts) and filemap_fault's uptodate test fused with the folio lock (reduce.ts). */
function fault61(proc: Proc, again: (c: Ctx) => void): Proc {
  const p = withFaultRetry(proc, again);
  return { ...p, steps: { ...p.steps, uptodate: withStableUptodate(p.steps.uptodate!, p.steps.lock!) } };
}

const doReadFaultRetry61 = fault61({ ...doReadFault61, steps: { ...doReadFault61.steps, pte: handlePteFault(faultAround, markOrigPte) } }, faultAround);

/**
 * The user load and store (kernel/load.ts, store.ts) under --memory-model lkmm: the floor a
 * load samples and a store advances is the stale-data judgement's, and the store's `disk` its
 * data generation (data.ts): ghosts. The CPU's page
 * walk and the user's access to the page stay unmarked: the LKMM has no MMU (a TLB may use a
 * translation until the flush IPI, which no primitive of the .def expresses).
 */
function markUserAccess(p: Proc): Proc {
  const steps: Record<string, Proc['steps'][string]> = {};
  for (const [pc, st] of Object.entries(p.steps)) {
    steps[pc] = marked(st, (c, a) => {
      const M = c.M(c.num('file'));
      if (a.loc === `${M}.disk`) return ghost(a, "the store's data generation (data.ts), declared as its file's disk: no kernel access");
      if (a.loc !== `${M}.floor`) return a;
      return a.mode === 'read' ? markReadFloor(c, a) : ghost(a, 'the stale-data judgement: a read starting later must see this store');
    });
  }
  return { ...p, steps };
}

/** A fault's entry locals on 6.1: mapping_locked, and FAULT_FLAG_TRIED and fpin for the retry (retry.ts). */
const FAULT_LOCALS = { ml: 0, ...RETRY_LOCALS };

export const linux61: Flavor = {
  name: 'linux-6.1',
  description: 'Linux 6.1 (Debian 12): folio lock held across finish_fault, fault-around by trylock, invalidate_lock',
  version: '6.1',
  procs: {
    // VM_FAULT_RETRY (retry.ts) and the reductions (reduce.ts) are 6.1's own: linux-6.12 builds
    // its fault from doReadFault61 without them
    do_read_fault: doReadFaultRetry61,
    do_fault_around: faultAroundFor(filemapMapPages61, doReadFaultRetry61, nextEntry, NONE),
    filemap_map_pages: {
      ...filemapMapPages61,
      steps: { ...filemapMapPages61.steps, uptodate: withStableUptodate(filemapMapPages61.steps.uptodate!, filemapMapPages61.steps.trylock!) },
    },
    unmap_mapping_pages: unmap61('unmap_mapping_pages'),
    unmap_mapping_folio: unmap61('unmap_mapping_folio'),
    truncate_setsize: truncateSetsize61,
    truncate_inode_pages_range: truncateInodePagesRange61,
    invalidate_inode_pages2_range: invalidateInodePages2Range61,
    find_lock_entries: findLockEntries61,
    mapping_try_invalidate: invalidateMappingPages61,
    // the invalidation succeeded: the test of its result goes with the disk write (reduce.ts)
    __iomap_dio_rw: {
      ...iomapDioWrite61,
      steps: { ...iomapDioWrite61.steps, precheck: fuseWhen(iomapDioWrite61.steps.precheck!, iomapDioWrite61.steps.direct!, (c) => !c.num('rv')) },
    },
    // filemap_update_page trylocks the folio and retries the lookup after the wait (read.ts); a miss goes through
    // page_cache_sync_readahead first (mm/filemap.c:2661-2672; session 43)
    filemap_read: withSyncReadahead(withUpdatePageTrylock(filemapRead61), SYNC_RA_61),
    page_cache_ra_order: pageCacheRaOrder61(),
    end_io: endIoProc(RA_61),
    ext4_punch_hole: ext4PunchHole61,
    user_load: markUserAccess(userLoadProc('do_read_fault', 'pte')),
    // a retried write fault walks the PTE again and runs filemap_fault anew (no fault-around: mm/memory.c:4763)
    do_shared_fault: fault61(doSharedFault61, (c) => c.goto('isize')),
    user_store: markUserAccess(userStoreProc({ fault: 'do_shared_fault', entry: 'pte', wp: { proc: 'do_shared_fault', entry: 'wp' } })),
    ext4_buffered_write_iter: ext4BufferedWrite61,
    generic_fadvise: genericFadvise61,
    [writeback61.fn]: writebackProc(writeback61),
  },
  // write faults, buffered writes and fadvise are 6.1's own (not in programs61, which 6.12 reuses);
  // every program follows ext4's paths (ext4_setattr, ext4_page_mkwrite, ext4_dio_write_iter,
  // ext4_punch_hole, ext4's writeback) and takes ext4 files only (docs/flavors.md, session 41)
  programs: Object.fromEntries(
    Object.entries(
      withNotSearched(
        {
          ...programs61,
          fault: { ...programs61.fault!, start: (a, env) => ({ ...faultArgs(a, env), ...FAULT_LOCALS }) },
          load: loadProgram(FAULT_LOCALS),
          store: storeProgram(FAULT_LOCALS),
          write: writeProgram,
          fadvise: fadviseProgram,
        } satisfies Record<string, Program>,
        NOT_SEARCHED_6_1,
      ),
    ).map(([name, p]) => [name, onFilesystems('linux-6.1', name, p, ['ext4'])]),
  ),
};
