/**
 * linux-2.6.15-seqschedlock: linux-2.6.15 with the seed patch applied exactly as posted
 * (docs/seed/2005-12-13-arcangeli-seqschedlock.txt). Built from linux-2.6.15 by replacing the fault
 * and inserting the write sections where the patch's hunks put them, including the
 * invalidate_mapping_pages hunk whose `if (page_mapped(page)) goto unlock;` jumps past
 * write_seqschedunlock().
 */
import { extendFlavor, type Flavor } from '../../flavor.js';
import { linux2615 } from '../linux-2.6.15/index.js';
import { invalidateInodePages2Range, invalidateMappingPages } from '../linux-2.6.15/invalidate.js';
import { doNoPageSeqschedlock } from './fault.js';
import { writeSeqschedlock, writeSeqschedunlock } from './seqschedlock.js';

export const linux2615Seqschedlock: Flavor = extendFlavor(linux2615, {
  name: 'linux-2.6.15-seqschedlock',
  description: 'Linux 2.6.15 + the seed patch (Andrea Arcangeli, Dec 2005): seqschedlock between invalidate and do_no_page, exactly as posted',
  procs: {
    do_no_page: doNoPageSeqschedlock,
    invalidate_inode_pages2_range: invalidateInodePages2Range({
      stopOnError: true,
      clearDirtyFirst: true,
      bugOnMapped: false,
      unmapOnce: false,
      complete: 'invalidate_complete_page',
      where: 'mm/truncate.c',
      afterWriteback: { entry: 'wsl', steps: { wsl: writeSeqschedlock('mapped') } },
      beforeUnlock: { entry: 'wsu1', steps: writeSeqschedunlock('wsu', 'unlock') },
    }),
    invalidate_mapping_pages: invalidateMappingPages({
      complete: 'invalidate_complete_page',
      where: 'mm/truncate.c',
      // write_seqschedlock() after the dirty/writeback test; `if (page_mapped(page)) goto unlock;`
      // then skips the write_seqschedunlock() placed after invalidate_complete_page().
      afterCheck: { entry: 'wsl', steps: { wsl: writeSeqschedlock('mapped') } },
      afterComplete: { entry: 'wsu1', steps: writeSeqschedunlock('wsu', 'unlock') },
    }),
  },
});
