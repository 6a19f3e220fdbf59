/**
 * Interleavings of the kernel's code that a program's steps do not produce (Program.notSearched,
 * Machine.notSearched): the modelling choices of docs/flavors.md ("Modelling choices") and the
 * known gaps of its dated sections, said beside every verdict of a scenario that runs the program.
 * An exhaustive search covers every interleaving of the model; these are not in it.
 */
import type { Program } from '../program.js';

/** 2.6: a page missing from the cache is read alone, and its ->readpage I/O completes in the step that submits it. */
const READ_ALONE_26 =
  'readahead and read I/O in flight: the 2.6 flavors read a missing page alone (as for a file or mapping read at random: no page_cache_readahead, no page_cache_readaround) and complete ->readpage\'s I/O in the step that submits it, so another thread never finds a readahead page, or the read\'s own page, locked and not yet uptodate (docs/flavors.md, "Modelling choices")';

/** 6.x faults: readahead off (the model's mappings are VM_RAND_READ). */
export const FAULT_READAHEAD_6X =
  "a fault's readahead: the model's mappings are read at random (VM_RAND_READ), so a fault miss creates and reads its folio alone; the kernel's default do_sync_mmap_readahead (page_cache_ra_order around the index, under the invalidate_lock, its folios locked until their I/O completes) is not searched (docs/flavors.md, \"Modelling choices\")";

/**
 * 6.x reads: readahead's I/O completes in the machine's end_io thread (session 44), one folio a step in one order,
 * and always succeeds.
 */
export const READAHEAD_IO_6X =
  "readahead I/O completion order and errors: the bio's end_io (the thread end_io) completes the reads in flight one folio at a time, the lowest pfn first, and never fails them; the kernel's bios complete in any order and may end in an error (folio_end_read(folio, false): the folio unlocked and not uptodate), so another order of completion and a failed read are not searched (docs/flavors.md, session 44)";

/** The 2.6 flavors' programs that read a page in: a read, and every fault. */
export const NOT_SEARCHED_26: Readonly<Record<string, readonly string[]>> = {
  read: [READ_ALONE_26],
  fault: [READ_ALONE_26],
  load: [READ_ALONE_26],
  store: [READ_ALONE_26],
};

/** linux-6.1 and linux-6.12 (a program a flavor lacks is skipped). */
export const NOT_SEARCHED_6X: Readonly<Record<string, readonly string[]>> = {
  read: [READAHEAD_IO_6X],
  readahead: [READAHEAD_IO_6X],
  fault: [FAULT_READAHEAD_6X],
  load: [FAULT_READAHEAD_6X],
  store: [FAULT_READAHEAD_6X],
};

/** `programs` with the texts of `notSearched` on the programs it names. */
export function withNotSearched(programs: Record<string, Program>, notSearched: Readonly<Record<string, readonly string[]>>): Record<string, Program> {
  return Object.fromEntries(
    Object.entries(programs).map(([name, p]) => [name, notSearched[name] ? { ...p, notSearched: [...(p.notSearched ?? []), ...notSearched[name]] } : p]),
  );
}
