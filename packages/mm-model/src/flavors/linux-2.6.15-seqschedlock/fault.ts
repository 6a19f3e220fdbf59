/**
 * do_no_page with the seed patch's mm/memory.c hunks, exactly as posted:
 * `retry:` moves before the truncate_count sample; read_seqschedlock() then decides
 * (default: BUG(); WRITER_RUNNING: yield() and fall through; WRITER_RACE: cond_resched();
 * goto retry). Under the PTE lock, after the truncate_count recheck (whose failure is now
 * the `race_failure:` label), read_seqschedunlock() decides again; WRITER_RUNNING yields —
 * still holding the PTE lock — and falls into `goto race_failure`.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, lk, r, release, w, type Proc } from '../../program.js';
import { NONE } from '../../state.js';
import { FAULT_OK, FAULT_SIGBUS, faultEnd, faultSite, ptlLoc } from '../../kernel/lib.js';
import { NOPAGE_SIGBUS, addFileRmapAndUnlock, callNopage, handlePteFault, installPte, pteRead26, ptlBusy } from '../linux-2.6.15/fault.js';
import { SEQSCHEDLOCK_SUCCESS, SEQSCHEDLOCK_WRITER_RACE, SEQSCHEDLOCK_WRITER_RUNNING, readSeqschedlock, readSeqschedunlock } from './seqschedlock.js';

function afterReadLock(c: Ctx, verdict: number): void {
  switch (verdict) {
    case SEQSCHEDLOCK_WRITER_RUNNING:
      c.goto('yield');
      return;
    case SEQSCHEDLOCK_WRITER_RACE:
      c.goto('resched');
      return;
    case SEQSCHEDLOCK_SUCCESS:
      callNopage(c, 'ptl');
      return;
    default:
      c.bug(`do_no_page: BUG() in read_seqschedlock switch (returned ${verdict})`);
  }
}

function afterReadUnlock(c: Ctx, verdict: number): void {
  switch (verdict) {
    case SEQSCHEDLOCK_WRITER_RUNNING:
      c.goto('yield_locked');
      return;
    case SEQSCHEDLOCK_WRITER_RACE:
      c.goto('race_failure');
      return;
    case SEQSCHEDLOCK_SUCCESS:
      c.goto('install');
      return;
    default:
      c.bug(`do_no_page: BUG() in read_seqschedunlock switch (returned ${verdict})`);
  }
}

/** The locals of do_no_page's retry loop. */
const LOOP = ['invalidate_lock', 'pfn', 'rv', 'seq', 'ssl_s1', 'ssl_w'];

export const doNoPageSeqschedlock: Proc = {
  fn: 'do_no_page',
  where: 'mm/memory.c',
  entry: 'pte',
  // the patch's `default: BUG();` in both switches (unreachable: the read functions return one of three values)
  bugs: { do_no_page: 'BUG() in the read_seqschedlock / read_seqschedunlock switch (the seed patch, mm/memory.c)' },
  dead: {
    // retry: every local of the loop is set again before it is read: sequence here, the
    // seqschedlock samples in read_seqschedlock, new_page from ->nopage at ptl, and the
    // sequence read_seqschedunlock compares (invalidate_lock) only on read_seqschedlock's SUCCESS,
    // the one way to the PTE lock
    seq: LOOP,
    // on their way back to retry: (WRITER_RUNNING, WRITER_RACE, and after race_failure)
    yield: LOOP,
    resched: LOOP,
    resched2: LOOP,
    // read_seqschedlock() returned: its locals are out of scope; new_page comes from rv
    ptl: ['pfn', 'ssl_s1', 'ssl_w'],
    // past the truncate_count recheck
    rsu1: ['rv', 'seq'],
    // read_seqschedunlock() returned
    install: ['invalidate_lock', 'ssl_w'],
    yield_locked: ['invalidate_lock', 'ssl_w'],
    race_failure: ['invalidate_lock', 'rv', 'seq', 'ssl_s1', 'ssl_w'],
  },
  steps: {
    pte: handlePteFault((c) => c.goto('seq'), pteRead26),
    seq: {
      label: 'retry: sequence = mapping->truncate_count',
      // a plain load; the patch drops the smp_rmb() after it ("Implicit smb_rmb()", seed text:130-134)
      acc: (c) => [
        lk(
          r(`${c.M(c.num('file'))}.truncate_count`),
          'plain-read',
          c.map(c.num('file')).truncateCount,
          'mm/memory.c do_no_page() 2.6.15 + seed patch (docs/seed/2005-12-13-arcangeli-seqschedlock.txt:130)',
        ),
      ],
      run: (c) => {
        c.set('seq', c.map(c.num('file')).truncateCount);
        c.goto('rsl1');
      },
    },
    ...readSeqschedlock('rsl', afterReadLock),
    yield: { label: 'case SEQSCHEDLOCK_WRITER_RUNNING: yield(); /* fall through */', run: (c) => c.goto('resched') },
    resched: { label: 'case SEQSCHEDLOCK_WRITER_RACE: cond_resched(); goto retry', run: (c) => c.goto('seq') },
    ptl: {
      label: (c) =>
        c.num('rv') === NOPAGE_SIGBUS
          ? 'new_page == NOPAGE_SIGBUS: return VM_FAULT_SIGBUS'
          : 'page_table = pte_offset_map_lock(); if (unlikely(sequence != mapping->truncate_count)) goto race_failure',
      acc: (c) =>
        c.num('rv') === NOPAGE_SIGBUS
          ? []
          : [
              lk(acquire(ptlLoc(c)), 'spin_lock', 0, 'mm/memory.c do_no_page() 2.6.15: pte_offset_map_lock() is spin_lock(ptl)'),
              lk(
                r(`${c.M(c.num('file'))}.truncate_count`),
                'plain-read',
                c.map(c.num('file')).truncateCount,
                'mm/memory.c do_no_page() 2.6.15 + seed patch (docs/seed/2005-12-13-arcangeli-seqschedlock.txt:165)',
              ),
            ],
      block: (c) => (c.num('rv') === NOPAGE_SIGBUS ? undefined : ptlBusy(c)),
      run: (c) => {
        const pfn = c.num('rv');
        if (pfn === NOPAGE_SIGBUS) {
          faultEnd(c, FAULT_SIGBUS);
          return;
        }
        c.set('pfn', pfn);
        c.setPtl(faultSite(c).ptl, c.tid);
        if (c.map(c.num('file')).truncateCount !== c.num('seq')) {
          c.effect('truncate_count moved');
          c.goto('race_failure');
          return;
        }
        c.goto('rsu1');
      },
    },
    ...readSeqschedunlock('rsu', afterReadUnlock),
    yield_locked: {
      label: 'case SEQSCHEDLOCK_WRITER_RUNNING: yield() [PTE lock held]; /* fall through */ goto race_failure',
      run: (c) => c.goto('race_failure'),
    },
    race_failure: {
      label: 'race_failure: pte_unmap_unlock(page_table, ptl); page_cache_release(new_page)',
      acc: (c) => [
        lk(
          release(ptlLoc(c)),
          'spin_unlock',
          0,
          'mm/memory.c do_no_page() 2.6.15 + seed patch: race_failure: pte_unmap_unlock() (docs/seed/2005-12-13-arcangeli-seqschedlock.txt:167)',
        ),
        w(`${c.P(c.num('pfn'))}.refcount`),
      ],
      run: (c) => {
        c.setPtl(faultSite(c).ptl, NONE);
        c.ref(c.num('pfn'), -1);
        c.goto('resched2');
      },
    },
    resched2: { label: 'cond_resched(); goto retry', run: (c) => c.goto('seq') },
    install: installPte('rmap', (c) => {
      c.ref(c.num('pfn'), -1);
      c.setPtl(faultSite(c).ptl, NONE);
      faultEnd(c, FAULT_OK);
    }),
    rmap: addFileRmapAndUnlock((c) => faultEnd(c, FAULT_OK)),
  },
};
