/**
 * Sound state-space reductions of the linux-6.1 fault (docs/flavors.md, "State-space
 * reductions"). Each one removes program points between two steps of one thread where nothing
 * another thread can do makes a difference, so the explorer visits fewer states and every
 * schedule it drops has one it keeps that reaches the same shared states in the same order:
 *
 * - **A stable read goes with the next step.** PG_uptodate is never cleared in the 6.1 model
 *   (no 6.1 path calls folio_clear_uptodate; a read error is not modelled) and the page cannot
 *   be freed and reused while the test holds a reference, so once the flag reads set it stays
 *   set: reading it later, together with the step that follows the test, reads the same value.
 *   A test that reads it clear runs alone, as before (it acts at once: skip, or take the
 *   invalidate_lock). filemap_fault's `if (!folio_test_uptodate(folio))` before the folio lock
 *   (mm/filemap.c:3246) and filemap_map_pages' (next_uptodate_page, mm/filemap.c:3420) are
 *   such tests.
 * - **A step that touches nothing shared goes with a neighbour.** do_read_fault's `if (ret)
 *   return ret` after do_fault_around (mm/memory.c:4624-4628) runs in the step that returns
 *   from filemap_map_pages; __iomap_dio_rw's test of the first invalidation's result, when it
 *   succeeded, runs with the disk write that follows it.
 * - **A release goes with the step before it.** Once filemap_map_pages has walked past the end
 *   of its window (`xas_next_entry` at `xa_index >= max` reads no entry:
 *   include/linux/xarray.h:1685-1686, lib/xarray.c xas_find), what is left is
 *   `pte_unmap_unlock` and the return (mm/filemap.c:3529-3534): the PTE lock is only ever
 *   taken by blocking on it (no trylock, no test of it), so its release can move back to the
 *   step before — every thread that ran in between did not touch that lock — and the return
 *   is thread-local.
 *
 * A fused step runs the steps it was built from as they were when the flavor was built: a
 * flavor that extends linux-6.1 and replaces filemap_fault's `lock`, filemap_map_pages'
 * `trylock`/`next` or do_read_fault's `around` must replace the fused step too (uptodate,
 * next and the steps before them in do_fault_around).
 */
import type { Access } from '@kreplay/core';
import { ModelBug, type Ctx } from '../../ctx.js';
import { lk, r, release, type Proc, type StepDef } from '../../program.js';
import { ghost } from '../../kernel/marks.js';
import { PAGE_SIZE, PG } from '../../state.js';

const text = (s: StepDef, c: Ctx) => (typeof s.label === 'string' ? s.label : s.label(c));

/**
 * Step `test` fused with step `next` in the states where `test` only goes to `next` (`when`)
 * and may run together with it (it reads a stable value, `reads`, or nothing shared).
 */
export function fuseWhen(test: StepDef, next: StepDef, when: (c: Ctx) => boolean, reads: (c: Ctx) => Access[] = () => []): StepDef {
  const s: StepDef = {
    label: (c) => (when(c) ? `${text(test, c)} [not taken]; ${text(next, c)}` : text(test, c)),
    acc: (c) => (when(c) ? [...reads(c), ...(next.acc?.(c) ?? [])] : (test.acc?.(c) ?? [])),
    block: (c) => (when(c) ? next.block?.(c) : test.block?.(c)),
    run: (c) => (when(c) ? next.run(c) : test.run(c)),
  };
  const where = test.where ?? next.where;
  if (where !== undefined) s.where = where;
  return s;
}

/** The uptodate test on local `pfn` fused with the step it goes to when the flag is set. */
export function withStableUptodate(test: StepDef, next: StepDef): StepDef {
  // the test's own declared accesses (its flag read, with the LKMM mark the flavor gave it)
  return fuseWhen(
    test,
    next,
    (c) => c.testFlag(c.num('pfn'), 'uptodate'),
    (c) => test.acc?.(c) ?? [r(`${c.P(c.num('pfn'))}.flags.uptodate`)],
  );
}

/**
 * filemap_map_pages as do_fault_around calls it for `caller` (do_read_fault): the uptodate
 * test fused with the trylock; the return running the caller's local `around` step; and a
 * step after which the walk is past the window's end (`xi > end`) running the return too.
 */
export function faultAroundFor(mapPages: Proc, caller: Proc, nextEntry: (c: Ctx) => number, none: number): Proc {
  const s = mapPages.steps;
  const around = caller.steps.around!;
  const next = s.next!;
  const ret: StepDef = {
    ...next,
    label: (c) => (nextEntry(c) === none ? `${text(next, c)}; do_read_fault: ${text(around, c)}` : text(next, c)),
    run: (c) => {
      const last = nextEntry(c) === none;
      next.run(c);
      if (last) around.run(c); // next.run returned: the caller's frame is on top, rv set
    },
  };
  const exhausted = (c: Ctx) => c.num('xi') > c.num('end');
  /**
   * `step` (it never returns), then the return when it leaves the walk at `next` past the
   * window; `takesPtl`: the step takes the PTE lock when the walk does not hold it yet (map).
   */
  const thenReturn = (step: StepDef, leaves: (c: Ctx) => boolean, takesPtl = false): StepDef => ({
    ...step,
    label: (c) => (exhausted(c) && leaves(c) ? `${text(step, c)}; [past the window] ${text(ret, c)}` : text(step, c)),
    acc: (c) => {
      const a = step.acc?.(c) ?? [];
      // only a step that goes back to `next` makes the return's accesses (a derived litmus test
      // must not see a PTE-lock release the kernel does not make there)
      if (!exhausted(c) || !leaves(c)) return a;
      const vma = c.env.vmas[c.num('vma')]!;
      const ptl = c.num('held') !== none ? c.num('held') : takesPtl ? vma.ptl[c.num('idx') - vma.pgoff]! : none;
      // the return's walk looks at the mapping's tree (no index is left to read in it)
      // marked as filemap_map_pages' own last `next` marks them (map-pages.ts)
      const tail = [
        ghost(r(`${c.M(c.num('file'))}.tree`), 'no slot left in the window: xas_next_entry() stops at end_pgoff without a load'),
        ...(ptl === none
          ? []
          : [
              lk(
                release(c.env.ptls[ptl]!.loc),
                'spin_unlock',
                0,
                'mm/filemap.c filemap_map_pages() 6.1.192: pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/filemap.c:3531)',
              ),
            ]),
      ];
      return [...a, ...tail];
    },
    run: (c) => {
      const past = exhausted(c);
      const declared = past && leaves(c);
      step.run(c);
      const back = c.num('pfn') === none; // pfn is none only at `next`
      if (past && back !== declared)
        throw new ModelBug(
          `${text(step, c)}: the return's accesses were declared ${declared ? 'made' : 'not made'}, but the step ${back ? 'went back to next' : 'kept its folio'}`,
        );
      if (past && back) ret.run(c);
    },
  });
  const uptodate = withStableUptodate(s.uptodate!, s.trylock!);
  // when each step goes back to `next` (map-pages.ts): a folio not uptodate, locked by another
  // task, or truncated is skipped (the fused uptodate test looks at the lock and the mapping
  // only when the flag is set, as the trylock it runs then does);
  // a folio past i_size is unlocked and skipped; `map` always moves on to the next entry
  const skipsFolio = (c: Ctx) => {
    const p = c.page(c.num('pfn'));
    return p.locker !== none || p.mapping !== c.num('file') || !(p.flags & PG.uptodate);
  };
  const pastEof = (c: Ctx) => c.num('idx') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE);
  return {
    ...mapPages,
    steps: {
      ...s,
      next: ret,
      uptodate: thenReturn(uptodate, (c) => !c.testFlag(c.num('pfn'), 'uptodate') || skipsFolio(c)),
      trylock: thenReturn(s.trylock!, skipsFolio),
      isize: thenReturn(s.isize!, pastEof),
      map: thenReturn(s.map!, () => true, true),
    },
  };
}
