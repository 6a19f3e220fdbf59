/**
 * linux-6.1 (Debian 12's kernel, where captured traces come from): folio-based fault with
 * fault-around, the invalidate_lock, xarray removal under refcount freeze.
 */
import type { Flavor } from '../../flavor.js';
import type { Program } from '../../program.js';
import { faultArgs, odirectArgs, rangeArgs, readArgs, truncateArgs } from '../../kernel/lib.js';
import { unmapProc } from '../../kernel/unmap.js';
import { doReadFault61, mapPagesLocals } from './fault.js';
import { filemapMapPages61 } from './map-pages.js';
import {
  findLockEntries61, inval2Locals61, invalMappingLocals61, invalidateInodePages2Range61, invalidateMappingPages61,
} from './invalidate.js';
import { truncateInodePagesRange61, truncateSetsize61 } from './truncate.js';
import { iomapDioWrite61 } from './odirect.js';
import { filemapRead61 } from './read.js';
import { ext4PunchHole61, punchHoleProgram } from './punch.js';
import { loadProgram, userLoadProc } from '../../kernel/load.js';
import { storeProgram, userStoreProc } from '../../kernel/store.js';
import { doSharedFault61 } from './store.js';
import { ext4BufferedWrite61, writeProgram } from './write.js';
import { fadviseProgram, genericFadvise61 } from './fadvise.js';

const unmap61 = (fn: string) => unmapProc({ fn, where: 'mm/memory.c', truncateCount: false, checkMapping: false, shared: true });

export const programs61: Record<string, Program> = {
  fault: { proc: 'do_read_fault', description: 'a read fault on a shared file mapping, fault-around first (args: mm, address | index)', start: (a, env) => ({ ...faultArgs(a, env), ml: 0 }) },
  fault_around: {
    proc: 'filemap_map_pages', description: 'fault-around alone: filemap_map_pages over the 16-page window of the address (args: mm, address | index)',
    start: (a, env) => {
      const l = faultArgs(a, env);
      return mapPagesLocals(env.vmas[l.vma as number]!, l.index as number);
    },
  },
  truncate: { proc: 'truncate_setsize', description: 'ftruncate to size bytes, as ext4_setattr does it (args: file, size)', start: truncateArgs },
  invalidate_inode_pages2_range: {
    proc: 'invalidate_inode_pages2_range', description: 'invalidate page indexes start..end (args: file, start, end)',
    start: (a, env) => { const l = rangeArgs(a, env); return inval2Locals61(l.file as number, l.start as number, l.end as number); },
  },
  invalidate_mapping_pages: {
    proc: 'mapping_try_invalidate', description: 'drop clean, unmapped, unused pages start..end (args: file, start, end)',
    start: (a, env) => { const l = rangeArgs(a, env); return invalMappingLocals61(l.file as number, l.start as number, l.end as number); },
  },
  odirect_write: {
    proc: '__iomap_dio_rw', description: 'an O_DIRECT write through iomap (args: file, offset, length in bytes)',
    start: (a, env) => ({ ...odirectArgs(a, env), rv: 0 }),
  },
  read: { proc: 'filemap_read', description: 'a buffered read of one page (args: file, index)', start: readArgs },
  load: loadProgram({ ml: 0 }),
  punch_hole: punchHoleProgram,
};

export const linux61: Flavor = {
  name: 'linux-6.1',
  description: 'Linux 6.1 (Debian 12): folio lock held across finish_fault, fault-around by trylock, invalidate_lock',
  version: '6.1',
  procs: {
    do_read_fault: doReadFault61,
    filemap_map_pages: filemapMapPages61,
    unmap_mapping_pages: unmap61('unmap_mapping_pages'),
    unmap_mapping_folio: unmap61('unmap_mapping_folio'),
    truncate_setsize: truncateSetsize61,
    truncate_inode_pages_range: truncateInodePagesRange61,
    invalidate_inode_pages2_range: invalidateInodePages2Range61,
    find_lock_entries: findLockEntries61,
    mapping_try_invalidate: invalidateMappingPages61,
    __iomap_dio_rw: iomapDioWrite61,
    filemap_read: filemapRead61,
    ext4_punch_hole: ext4PunchHole61,
    user_load: userLoadProc('do_read_fault', 'pte'),
    do_shared_fault: doSharedFault61,
    user_store: userStoreProc({ fault: 'do_shared_fault', entry: 'pte', wp: { proc: 'do_shared_fault', entry: 'wp' } }),
    ext4_buffered_write_iter: ext4BufferedWrite61,
    generic_fadvise: genericFadvise61,
  },
  // write faults, buffered writes and fadvise are 6.1's own (not in programs61, which 6.12 reuses)
  programs: {
    ...programs61,
    store: storeProgram({ ml: 0 }),
    write: writeProgram,
    fadvise: fadviseProgram,
  },
};
