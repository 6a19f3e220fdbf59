/**
 * linux-6.1 fault-around, mm/filemap.c filemap_map_pages: walk the cached folios of the
 * window under RCU; skip locked ones, take a speculative reference, skip non-uptodate ones,
 * *trylock* (skip on failure), recheck mapping/uptodate/i_size under the folio lock; the
 * first such folio takes the PTE lock, held for the rest of the walk, and caps the window at
 * the EOF i_size says then (file_end); each empty PTE gets
 * do_set_pte (page_add_file_rmap + set_pte_at); the folio is unlocked, its reference kept by
 * the PTE. Returns VM_FAULT_NOPAGE when the faulting address got mapped.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc } from '../../program.js';
import { pteLoc } from '../../env.js';
import { NONE, PAGE_SIZE, PG } from '../../state.js';
import { installAcc } from '../../kernel/lib.js';
import { VM_FAULT_NOPAGE } from './fault.js';
import { ghost, notOnThisPath, pteMark, slotWord } from '../../kernel/marks.js';
import { folioFlag, folioLock, folioMapping, folioPut, folioTryGet, folioUnlock, iSizeRead, xaLoad, xaReload } from '../../kernel/marks6.js';
import { lk } from '../../program.js';

const FMP = 'mm/filemap.c filemap_map_pages() 6.1.192';
const NUP = 'mm/filemap.c next_uptodate_page() 6.1.192';

/** The next cached index ≥ xi within the window, or NONE. */
export function nextEntry(c: Ctx): number {
  const cache = c.map(c.num('file')).cache;
  for (let ix = c.num('xi'); ix <= c.num('end') && ix < cache.length; ix++) if (cache[ix] !== NONE) return ix;
  return NONE;
}

function slotOf(c: Ctx, index: number) {
  const vma = c.env.vmas[c.num('vma')]!;
  const i = index - vma.pgoff;
  return { vma, i, ptl: vma.ptl[i]! };
}

/** Drop the folio we are looking at and move on (`skip:` folio_put). */
function skip(c: Ctx, unlock: boolean): void {
  const pfn = c.num('pfn');
  if (unlock) c.unlockPage(pfn);
  c.ref(pfn, -1);
  c.set('pfn', NONE);
  c.goto('next');
}

/** No folio left: pte_unmap_unlock if we took the PTE lock; return. */
function finish(c: Ctx): void {
  if (c.num('held') !== NONE) c.setPtl(c.num('held'), NONE);
  c.ret(c.num('ret'));
}

export const filemapMapPages61: Proc = {
  fn: 'filemap_map_pages',
  where: 'mm/filemap.c',
  entry: 'next',
  // the index of the folio just mapped or skipped: `next` sets it anew before `isize` and `map`
  // read it (next_uptodate_page's xas->xa_index, mm/filemap.c:3428, 6.1.192); the walk's `pfn` is
  // NONE at `next` already, and do_fault_around's return (reduce.ts) reads it there
  dead: { next: ['idx'] },
  steps: {
    next: {
      label: (c) =>
        nextEntry(c) === NONE
          ? 'no more folios: pte_unmap_unlock(vmf->pte, vmf->ptl); return ret'
          : 'next_uptodate_page: xas_next_entry(); if (folio_test_locked(folio)) continue; folio_try_get_rcu(folio); xas_reload()',
      acc: (c) => {
        const ix = nextEntry(c);
        const file = c.num('file');
        // xas_find / xas_next_entry: every slot from xi up to the folio found (or to the window's end)
        const cite = `${FMP}: first_map_page()/next_map_page(): xas_find()/xas_next_entry() (mm/filemap.c:3445, 3453)`;
        const last = ix === NONE ? Math.min(c.num('end'), c.map(file).cache.length - 1) : ix;
        const a = [];
        for (let k = c.num('xi'); k <= last; k++) a.push(xaLoad(c, file, k, cite));
        // past the cache's last slot: one word stands for the empty slots the model has no entry for (as marks.ts does)
        if (a.length === 0 && c.num('xi') <= c.num('end'))
          a.push(lk(r(`${c.M(file)}.tree`), 'READ_ONCE', 0, `${cite}: finds nothing`, { word: slotWord(c, file, c.num('xi')), addr: true }));
        if (a.length === 0) a.push(ghost(r(`${c.M(file)}.tree`), 'no slot left in the window: xas_next_entry() stops at end_pgoff without a load'));
        if (ix === NONE) {
          if (c.num('held') !== NONE)
            a.push(lk(release(c.env.ptls[c.num('held')]!.loc), 'spin_unlock', 0, `${FMP}: pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/filemap.c:3531)`));
          return a;
        }
        const pfn = c.lookup(file, ix);
        const locked = c.page(pfn).locker !== NONE;
        a.push(
          lk(
            r(`lock:${c.P(pfn)}`),
            'spin_is_locked',
            locked ? 1 : 0,
            `${NUP}: if (folio_test_locked(folio)) continue (mm/filemap.c:3413): test_bit(PG_locked), a lockless look at the folio lock`,
          ),
        );
        if (locked) a.push(notOnThisPath(w(`${c.P(pfn)}.refcount`), 'the folio is locked: skipped'));
        else a.push(folioTryGet(c, w(`${c.P(pfn)}.refcount`), pfn, `${NUP} (mm/filemap.c:3415)`), xaReload(c, file, ix, `${NUP} (mm/filemap.c:3418)`));
        return a;
      },
      run: (c) => {
        const ix = nextEntry(c);
        if (ix === NONE) {
          finish(c);
          return;
        }
        const pfn = c.lookup(c.num('file'), ix);
        c.set('xi', ix + 1);
        if (c.page(pfn).locker !== NONE) {
          c.effect(`pfn${pfn} locked: skipped`);
          c.goto('next');
          return;
        }
        c.ref(pfn, 1);
        c.set('pfn', pfn);
        c.set('idx', ix);
        c.goto('uptodate');
      },
    },
    uptodate: {
      label: 'if (!folio_test_uptodate(folio) || folio_test_readahead(folio)) goto skip',
      acc: (c) => [
        folioFlag(c, r(`${c.P(c.num('pfn'))}.flags.uptodate`), c.num('pfn'), 'uptodate', `${NUP}: if (!folio_test_uptodate(folio) (mm/filemap.c:3420)`),
        ...(c.testFlag(c.num('pfn'), 'uptodate')
          ? []
          : [folioPut(c, w(`${c.P(c.num('pfn'))}.refcount`), c.num('pfn'), `${NUP}: skip: folio_put(folio) (mm/filemap.c:3435)`)]),
      ],
      run: (c) => {
        if (!c.testFlag(c.num('pfn'), 'uptodate')) {
          skip(c, false);
          return;
        }
        c.goto('trylock');
      },
    },
    trylock: {
      label: 'if (!folio_trylock(folio)) goto skip; if (folio->mapping != mapping) goto unlock; if (!folio_test_uptodate(folio)) goto unlock',
      acc: (c) => {
        const pfn = c.num('pfn');
        const P = c.P(pfn);
        const p = c.page(pfn);
        const a = [acquire(`lock:${P}`), r(`${P}.mapping`), r(`${P}.flags.uptodate`), w(`${P}.refcount`)];
        // a failed trylock or a folio given back (unlock; put): left unmarked (smp_mb() in a derived test)
        if (p.locker !== NONE || p.mapping !== c.num('file') || !(p.flags & PG.uptodate)) return a;
        return [
          folioLock(a[0]!, `${NUP}: if (!folio_trylock(folio)) goto skip (mm/filemap.c:3422)`),
          folioMapping(c, a[1]!, pfn, `${NUP}: if (folio->mapping != mapping) (mm/filemap.c:3424)`),
          folioFlag(c, a[2]!, pfn, 'uptodate', `${NUP}: if (!folio_test_uptodate(folio)) (mm/filemap.c:3426)`),
          notOnThisPath(a[3]!, 'the folio is kept: no folio_put'),
        ];
      },
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).locker !== NONE) {
          skip(c, false);
          return;
        }
        c.lockPage(pfn);
        const p = c.page(pfn);
        if (p.mapping !== c.num('file') || !(p.flags & PG.uptodate)) {
          skip(c, true);
          return;
        }
        c.goto('isize');
      },
    },
    isize: {
      label: 'max_idx = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE); if (xas->xa_index >= max_idx) goto unlock',
      acc: (c) => [
        iSizeRead(
          c,
          r(`${c.M(c.num('file'))}.i_size`),
          c.num('file'),
          `${NUP}: max_idx = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) (mm/filemap.c:3428)`,
        ),
        ...(c.num('idx') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)
          ? [
              folioUnlock(release(`lock:${c.P(c.num('pfn'))}`), `${NUP}: unlock: folio_unlock(folio) (mm/filemap.c:3433)`),
              folioPut(c, w(`${c.P(c.num('pfn'))}.refcount`), c.num('pfn'), `${NUP}: skip: folio_put(folio) (mm/filemap.c:3435)`),
            ]
          : []),
      ],
      run: (c) => {
        if (c.num('idx') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) {
          skip(c, true);
          return;
        }
        c.goto(c.num('held') === NONE ? 'ptl' : 'map');
      },
    },
    // mm/filemap.c:3482-3486 (6.1.192): once first_map_page() returned a folio (and
    // filemap_map_pmd() did not map it), the PTE lock is taken and i_size read once more:
    // `file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) - 1; if (end_pgoff >
    // file_end) end_pgoff = file_end;` (the stable backport of 743a2753a02e). The first folio is
    // mapped whatever file_end is (its own i_size test passed); the walk after it stops at
    // file_end, so a folio past the EOF read here is not mapped even when a later i_size
    // (a growing file) would pass its own test.
    ptl: {
      label:
        'vmf->pte = pte_offset_map_lock(); file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) - 1; if (end_pgoff > file_end) end_pgoff = file_end',
      acc: (c) => {
        const { ptl } = slotOf(c, c.num('idx'));
        return [
          lk(acquire(c.env.ptls[ptl]!.loc), 'spin_lock', 0, `${FMP}: vmf->pte = pte_offset_map_lock() (mm/filemap.c:3482)`),
          iSizeRead(
            c,
            r(`${c.M(c.num('file'))}.i_size`),
            c.num('file'),
            `${FMP}: file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) - 1 (mm/filemap.c:3484)`,
          ),
        ];
      },
      block: (c) => {
        const { ptl } = slotOf(c, c.num('idx'));
        const owner = c.ptlOwner(ptl);
        return owner === NONE ? undefined : `${c.env.ptls[ptl]!.loc}, held by ${c.who(owner)}`;
      },
      run: (c) => {
        const { ptl } = slotOf(c, c.num('idx'));
        c.setPtl(ptl, c.tid);
        c.set('held', ptl);
        const pages = Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE);
        // pgoff_t: an empty file's file_end wraps to ULONG_MAX, which caps nothing
        if (pages > 0 && c.num('end') > pages - 1) {
          c.effect(`end_pgoff capped at file_end ${pages - 1}`);
          c.set('end', pages - 1);
        }
        c.goto('map');
      },
    },
    map: {
      // the PTE lock is held (`ptl` took it for the first folio)
      label: 'if (!pte_none(*vmf->pte)) goto unlock; do_set_pte(): page_add_file_rmap(); set_pte_at(); folio_unlock(folio)',
      acc: (c) => {
        const { vma, i } = slotOf(c, c.num('idx'));
        const pfn = c.num('pfn');
        const a = [];
        const pte = c.pte(vma.id, i);
        a.push(pteMark(r(pteLoc(c.env, vma, i)), pte, `${FMP}: if (!pte_none(*vmf->pte)) goto unlock (mm/filemap.c:3506)`));
        if (pte !== NONE) {
          // the PTE is taken: unlock; folio_put (the rest of the step's accesses are not made)
          a.push(
            notOnThisPath(w(pteLoc(c.env, vma, i)), 'the PTE is not none'),
            folioPut(c, w(`${c.P(pfn)}.refcount`), pfn, `${FMP}: unlock: folio_put(folio) (mm/filemap.c:3529)`),
            ...installAcc(c, pfn, c.num('file')).map((x) => notOnThisPath(x, 'the PTE is not none')),
            folioUnlock(release(`lock:${c.P(pfn)}`), `${FMP}: unlock: folio_unlock(folio) (mm/filemap.c:3528)`),
          );
          return a;
        }
        const [mapcount, ...judged] = installAcc(c, pfn, c.num('file'));
        a.push(
          lk(
            mapcount!,
            'atomic_inc_return',
            c.page(pfn).mapcount,
            'mm/memory.c do_set_pte() 6.1.192: page_add_file_rmap() (mm/memory.c:4423): atomic_inc_and_test(&page->_mapcount) (mm/rmap.c:1329), fully ordered',
          ),
          ...judged.map((x) => ghost(x, 'the orphan-page-mapped judgement (page_add_file_rmap reads neither)')),
          lk(
            w(pteLoc(c.env, vma, i)),
            'WRITE_ONCE',
            pfn,
            'mm/memory.c do_set_pte() 6.1.192: set_pte_at() (mm/memory.c:4425) → native_set_pte(): WRITE_ONCE(*ptep, pte) (arch/x86/include/asm/pgtable_64.h:67)',
          ),
          notOnThisPath(w(`${c.P(pfn)}.refcount`), "the PTE keeps the folio's reference"),
          folioUnlock(release(`lock:${c.P(pfn)}`), `${FMP}: folio_unlock(folio) (mm/filemap.c:3521)`),
        );
        return a;
      },
      run: (c) => {
        const { vma, i } = slotOf(c, c.num('idx'));
        const pfn = c.num('pfn');
        if (c.pte(vma.id, i) !== NONE) {
          skip(c, true);
          return;
        }
        if (c.num('idx') === c.num('fidx')) c.set('ret', VM_FAULT_NOPAGE);
        c.addRmap(vma, i, pfn); // do_set_pte: page_add_file_rmap, then set_pte_at
        c.setPte(vma, i, pfn);
        c.unlockPage(pfn);
        c.set('pfn', NONE);
        c.goto('next');
      },
    },
  },
};
