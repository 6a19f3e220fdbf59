/**
 * linux-6.12 fault-around, filemap_map_pages (mm/filemap.c:3634-3719) with folios:
 * next_uptodate_folio (3494-3533) walks the xarray from the window's start, skipping locked
 * folios, taking a speculative reference, skipping !uptodate ones, *trylocking* (skip on
 * failure) and rechecking mapping, uptodate and i_size under the folio lock; the first folio
 * may be mapped whole by a PMD (filemap_map_pmd, 3466-3492, which also installs the PTE
 * table); then under the PTE lock every folio's pages inside the window get PTEs, a run of
 * pte_none slots at a time (filemap_map_folio_range, 3539-3600: set_pte_range +
 * folio_ref_add per run; filemap_map_order0_folio, 3602-3632, for order 0). The folio lock is
 * held across its PTE installs.
 *
 * Two fixes moved and guarded the window's cap at EOF, and the builder takes them as options:
 * - 743a2753a02e (v6.12-rc1) capped `end_pgoff` at file_end after the PTE lock (`cap: 'afterPtl'`,
 *   6.12.0); 74207de2ba10 (Oct 2025) moved it before filemap_map_pmd and refused a PMD across
 *   EOF (`cap: 'afterLookup'`, `canMapLarge: true`); f58df566524e (Mar 2026) moved it before the
 *   first lookup (`cap: 'before'`, 6.12.117: 3649-3655). With the cap after the lookup, an i_size
 *   that shrinks in between leaves end_pgoff below xas.xa_index and
 *   `nr_pages = min(end, end_pgoff) - xas.xa_index + 1` (unsigned int, 3692-3693) wraps.
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { fsOf } from '../../kernel/filesystems.js';
import { acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { pteLoc, type VmaEnv } from '../../env.js';
import { NONE, PAGE_SIZE, PMD_TABLE, folioNr } from '../../state.js';
import { END } from '../../kernel/lib.js';
import { VM_FAULT_NOPAGE, mapPagesLocals } from '../linux-6.1/fault.js';
import { filemapMapPages61 } from '../linux-6.1/map-pages.js';
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, pmdLoc, pmdRange, setPteRange } from './folio.js';
import { ghost, marked, notOnThisPath, slotWord } from '../../kernel/marks.js';
import { folioMapping, xaReload } from '../../kernel/marks6.js';
import {
  V612,
  folioFlag612,
  folioLock612,
  folioUnlock612,
  folioPut612,
  folioTryGet612,
  iSizeRead612,
  isLarge,
  pmdInstall612,
  pmdPlain612,
  pteGet612,
  pteOffsetMapLock612,
  pteOffsetMapNone612,
  pteSet612,
  rmapAdd612,
  xaLoad612,
} from '../../kernel/marks612.js';

const FMP = `mm/filemap.c filemap_map_pages() ${V612}`;
const NUF = `mm/filemap.c next_uptodate_folio() ${V612}`;
const unlockMark = (a: Access, line: number) => folioUnlock612(a, `${FMP}: folio_unlock(folio) (mm/filemap.c:${line})`);

export interface MapPagesOptions {
  /** Where end_pgoff is capped at file_end: before the first lookup, after it, or after the PTE lock. */
  cap: 'before' | 'afterLookup' | 'afterPtl';
  /** 74207de2ba10: `can_map_large = shmem_mapping(mapping) || file_end >= folio_next_index(folio)`. */
  canMapLarge: boolean;
}

/** DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) - 1 as pgoff_t: an empty file wraps to ULONG_MAX. */
function fileEnd(c: Ctx): number {
  const n = Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE);
  return n === 0 ? END : n - 1;
}

/** xas_next_entry(xas, end_pgoff): the next cached index ≥ xi (a large folio is found at xi when xi falls inside it). */
export function nextEntry612(c: Ctx): number {
  const cache = c.map(c.num('file')).cache;
  for (let ix = c.num('xi'); ix <= c.num('end') && ix < cache.length; ix++) if (cache[ix] !== NONE) return ix;
  return NONE;
}

function vmaOf(c: Ctx) {
  return c.env.vmas[c.num('vma')]!;
}
function tableOf(c: Ctx): number {
  const v = vmaOf(c);
  return v.ptl[c.num('start') - v.pgoff]!;
}

/** Drop the folio we are looking at and move past it (`unlock:` / `skip:` folio_put). */
function skip(c: Ctx, unlock: boolean): void {
  const pfn = c.num('pfn');
  if (unlock) c.unlockPage(pfn);
  c.ref(pfn, -1);
  c.set('pfn', NONE);
  c.goto('next');
}

function folioLast(c: Ctx): number {
  const p = c.page(c.num('pfn'));
  return p.index + folioNr(p) - 1;
}

/**
 * The PTE runs filemap_map_folio_range / filemap_map_order0_folio install for the folio at
 * xa_index: VMA slots [i, i+count) in runs of pte_none. `nr` is computed as the kernel does
 * (unsigned int); the walk stops at the VMA's last page (the kernel's runs on past it).
 */
function mapPlan(c: Ctx) {
  return c.memo('mapplan', () => {
    const vma = vmaOf(c);
    const xa = c.num('idx');
    const nr = (Math.min(folioLast(c), c.num('end')) - xa + 1) >>> 0;
    const order0 = (c.page(c.num('pfn')).order ?? 0) === 0;
    const runs: [number, number][] = [];
    const reads: Access[] = [];
    let cut = false;
    let run: [number, number] | null = null;
    const table = vma.ptl[xa - vma.pgoff];
    for (let k = 0; k < (order0 ? 1 : nr); k++) {
      const i = xa - vma.pgoff + k;
      if (i >= vma.pages || vma.ptl[i] !== table) {
        cut = true;
        break;
      }
      reads.push(r(pteLoc(c.env, vma, i)));
      if (c.pte(vma.id, i) === NONE) {
        if (run) run[1]++;
        else {
          run = [i, 1];
          runs.push(run);
        }
      } else run = null;
    }
    return { nr, runs, reads, cut, order0 };
  });
}

/** filemap_map_pages' entry locals for the fault-around window of (vma, index) (do_fault_around, mm/memory.c:5255-5285). */
export function mapPagesLocals612(vma: VmaEnv, index: number) {
  return { ...mapPagesLocals(vma, index), first: 1, fend: END, idx: NONE };
}

export function filemapMapPages612(o: MapPagesOptions): Proc {
  const capStep = {
    label: 'file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) - 1; end_pgoff = min(end_pgoff, file_end)',
    acc: (c: Ctx) => [
      iSizeRead612(
        c,
        r(`${c.M(c.num('file'))}.i_size`),
        c.num('file'),
        `${FMP}: file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) - 1 (mm/filemap.c:3655)`,
      ),
    ],
    run: (c: Ctx) => {
      const fe = fileEnd(c);
      c.set('fend', fe);
      if (fe < c.num('end')) c.set('end', fe);
      c.set('capped', 1);
      c.goto(c.num('pfn') === NONE ? 'next' : o.cap === 'afterLookup' ? 'pmdmap' : 'map');
    },
  };
  return {
    fn: 'filemap_map_pages',
    where: 'mm/filemap.c',
    entry: 'begin',
    // the index of the folio just mapped or skipped (xas.xa_index): `next` sets it anew before
    // `isize`, `pmdmap` and `map` read it (mm/filemap.c:3522-3705, 6.12.117)
    dead: { next: ['idx'] },
    steps: {
      cap: {
        ...capStep,
        where:
          o.cap === 'before' ? 'mm/filemap.c:3649-3655 filemap_map_pages()' : 'mm/filemap.c filemap_map_pages() (end_pgoff cap of 743a2753a02e / 74207de2ba10)',
      },
      next: nextStep,
      ...otherSteps(o),
      begin: o.cap === 'before' ? { ...capStep, where: 'mm/filemap.c:3649-3655 filemap_map_pages()' } : nextStep,
    },
  };
}

const nextStep: StepDef = {
  label: (c) =>
    nextEntry612(c) === NONE
      ? c.num('held') !== NONE
        ? 'no more folios: pte_unmap_unlock(vmf->pte, vmf->ptl); return ret'
        : 'next_uptodate_folio() == NULL: goto out'
      : 'next_uptodate_folio: folio = xas_next_entry(xas, end_pgoff); if (folio_test_locked(folio)) continue; if (!folio_try_get(folio)) continue',
  where: 'mm/filemap.c:3494-3510 next_uptodate_folio()',
  acc: (c) => {
    const ix = nextEntry612(c);
    const file = c.num('file');
    // xas_next_entry(): every slot from xi up to the folio found (or to end_pgoff), each a READ_ONCE (marks6.ts xaLoad)
    const cite = `${NUF}: folio = xas_next_entry(xas, end_pgoff) (mm/filemap.c:3498, 3531)`;
    const last = ix === NONE ? Math.min(c.num('end'), c.map(file).cache.length - 1) : ix;
    const a: Access[] = [];
    for (let k = c.num('xi'); k <= last; k++) a.push(xaLoad612(c, file, k, cite));
    if (a.length === 0 && c.num('xi') <= c.num('end'))
      a.push(lk(r(`${c.M(file)}.tree`), 'READ_ONCE', 0, `${cite}: finds nothing`, { word: slotWord(c, file, c.num('xi')), addr: true }));
    if (a.length === 0) a.push(ghost(r(`${c.M(file)}.tree`), 'no slot left in the window: xas_next_entry() stops at end_pgoff without a load'));
    if (ix === NONE) {
      if (c.num('held') !== NONE)
        a.push(lk(release(c.env.ptls[c.num('held')]!.loc), 'spin_unlock', 0, `${FMP}: pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/filemap.c:3708)`));
      return a;
    }
    const pfn = c.lookup(file, ix);
    const locked = c.page(pfn).locker !== NONE;
    a.push(
      lk(
        r(`lock:${c.P(pfn)}`),
        'spin_is_locked',
        locked ? 1 : 0,
        `${NUF}: if (folio_test_locked(folio)) continue (mm/filemap.c:3508): test_bit(PG_locked), a lockless look at the folio lock`,
      ),
    );
    if (locked) a.push(notOnThisPath(w(`${c.P(pfn)}.refcount`), 'the folio is locked: skipped'));
    else
      a.push(
        ...folioTryGet612(c, w(`${c.P(pfn)}.refcount`), pfn, `${NUF}: if (!folio_try_get(folio)) continue (mm/filemap.c:3510)`),
        xaReload(c, file, ix, `${NUF} (mm/filemap.c:3513)`),
      );
    return a;
  },
  run: (c) => {
    const ix = nextEntry612(c);
    if (ix === NONE) {
      if (c.num('held') !== NONE) c.setPtl(c.num('held'), NONE);
      c.ret(c.num('ret'));
      return;
    }
    const pfn = c.lookup(c.num('file'), ix);
    const p = c.page(pfn);
    c.set('xi', p.index + folioNr(p)); // the next xas_next_entry starts past this folio
    if (p.locker !== NONE) {
      c.effect(`pfn${pfn} locked: skipped`);
      c.goto('next');
      return;
    }
    c.ref(pfn, 1);
    c.set('pfn', pfn);
    c.set('idx', ix);
    c.goto('uptodate');
  },
};

/**
 * filemap_map_pmd() (mm/filemap.c:3467-3493), called when can_map_large (3669-3675), on a
 * small folio: the plain tests of *vmf->pmd and pmd_install(). `a` is the step's declared
 * accesses (pmd, mapcount, refcount, folio lock, mapping, tree, the PMD range's PTEs).
 */
function pmdMapMarks(c: Ctx, o: MapPagesOptions, a: Access[]): Access[] {
  const t = tableOf(c);
  const pfn = c.num('pfn');
  const pmd = c.pmd(t);
  const can = !o.canMapLarge || fsOf(c) === 'tmpfs' || c.num('fend') >= folioLast(c) + 1;
  const [pmdW, mapcount, refcount, unlock, ...rest] = a;
  const none = (x: Access) => notOnThisPath(x, 'a small folio: no PMD mapping');
  if (isLarge(c, pfn)) return a; // do_set_pmd() of a large folio: not marked
  if (!can) {
    // the kernel skips filemap_map_pmd() (can_map_large is false: the folio reaches file_end), and so does the model
    return [
      notOnThisPath(pmdW!, 'can_map_large is false: filemap_map_pmd() is not called'),
      ...[mapcount!, refcount!, unlock!, ...rest].map((x) => notOnThisPath(x, 'can_map_large is false')),
    ];
  }
  const PM = `mm/filemap.c filemap_map_pmd() ${V612}`;
  const huge = pmdPlain612(pmdW!, pmd, `${PM}: if (pmd_trans_huge(*vmf->pmd)) (mm/filemap.c:3473)`);
  if (pmd !== NONE && pmd !== PMD_TABLE) {
    return [huge, unlockMark(unlock!, 3474), folioPut612(c, refcount!, pfn, `${PM}: folio_put(folio) (mm/filemap.c:3475)`), none(mapcount!), ...rest.map(none)];
  }
  const tests = [
    huge,
    pmdPlain612(pmdW!, pmd, `${PM}: if (pmd_none(*vmf->pmd) && folio_test_pmd_mappable(folio)) (mm/filemap.c:3479)`),
    pmdPlain612(pmdW!, pmd, `${PM}: if (pmd_none(*vmf->pmd) && vmf->prealloc_pte) (mm/filemap.c:3489)`),
  ];
  const install =
    pmd === NONE
      ? pmdInstall612(pmdW!, `${PM}: pmd_install(mm, vmf->pmd, &vmf->prealloc_pte) (mm/filemap.c:3490)`)
      : [notOnThisPath(pmdW!, 'the PMD is a table already: no pmd_install()')];
  return [
    ...tests,
    ...install,
    none(mapcount!),
    notOnThisPath(refcount!, 'the folio is kept for the PTE walk'),
    notOnThisPath(unlock!, 'the folio stays locked'),
    ...rest.map(none),
  ];
}

/**
 * filemap_map_order0_folio() (mm/filemap.c:3602-3632) and the loop's folio_unlock/folio_put
 * (3704-3705): ptep_get; on pte_none set_pte_range (rmap, then set_ptes) and folio_ref_inc.
 * `a` is the map step's declared accesses: the PTE read, refcount, folio lock, and when
 * mapped mapcount, mapping, tree and the PTE write.
 */
function mapOrder0Marks(c: Ctx, a: Access[], mapped: boolean): Access[] {
  const pfn = c.num('pfn');
  const [pteR, refcount, unlock, mapcount, mapping, tree, pteW] = a;
  const O0 = `mm/filemap.c filemap_map_order0_folio() ${V612}`;
  const ref = c.page(pfn).refcount;
  const read = pteGet612(
    pteR!,
    mapped ? NONE : c.pte(vmaOf(c).id, c.num('idx') - vmaOf(c).pgoff),
    `${O0}: if (!pte_none(ptep_get(vmf->pte))) return ret (mm/filemap.c:3622)`,
  );
  const put = (before: number) =>
    lk(
      refcount!,
      'atomic_dec_return',
      before,
      `${FMP}: folio_put(folio) (mm/filemap.c:3705): atomic_dec_and_test() (include/linux/mm.h:1477, 1141 ${V612}), fully ordered`,
    );
  if (!mapped) return [read, unlockMark(unlock!, 3704), put(ref)];
  return [
    read,
    rmapAdd612(c, mapcount!, pfn, `${O0}: set_pte_range(vmf, folio, page, 1, addr) (mm/filemap.c:3628)`),
    ...[mapping!, tree!].map((x) => ghost(x, 'the orphan-page-mapped judgement (folio_add_file_rmap_ptes reads neither)')),
    pteSet612(pteW!, pfn, `${O0}: set_pte_range() (mm/filemap.c:3628) → mm/memory.c:5052`),
    lk(refcount!, 'atomic_inc', ref, `${O0}: folio_ref_inc(folio) (mm/filemap.c:3630): atomic_inc(&page->_refcount) (include/linux/page_ref.h:153), unordered`),
    unlockMark(unlock!, 3704),
    put(ref + 1),
  ];
}

function otherSteps(o: MapPagesOptions): Record<string, StepDef> {
  return {
    uptodate: {
      ...marked(filemapMapPages61.steps.uptodate!, (c, a) =>
        a.loc.endsWith('.refcount')
          ? folioPut612(c, a, c.num('pfn'), `${NUF}: skip: folio_put(folio) (mm/filemap.c:3530)`)
          : folioFlag612(c, a, c.num('pfn'), 'uptodate', `${NUF}: if (!folio_test_uptodate(folio) (mm/filemap.c:3515)`),
      ),
      where: 'mm/filemap.c:3514-3515 next_uptodate_folio()',
    },
    trylock: {
      ...marked(filemapMapPages61.steps.trylock!, (c, a) => {
        // 6.1's marks: the path that keeps the folio is marked, a failed trylock or a folio given back is not
        if (!a.lkmm) return a;
        const pfn = c.num('pfn');
        if (a.lock === 'acquire') return folioLock612(a, `${NUF}: if (!folio_trylock(folio)) goto skip (mm/filemap.c:3517)`);
        if (a.loc.endsWith('.mapping')) return folioMapping(c, a, pfn, `${NUF}: if (folio->mapping != mapping) (mm/filemap.c:3519)`);
        if (a.loc.endsWith('.uptodate')) return folioFlag612(c, a, pfn, 'uptodate', `${NUF}: if (!folio_test_uptodate(folio)) (mm/filemap.c:3521)`);
        return a;
      }),
      where: 'mm/filemap.c:3516-3521 next_uptodate_folio()',
    },
    isize: {
      label: 'max_idx = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE); if (xas->xa_index >= max_idx) goto unlock; return folio',
      where: 'mm/filemap.c:3522-3525 next_uptodate_folio()',
      acc: (c) => [
        iSizeRead612(
          c,
          r(`${c.M(c.num('file'))}.i_size`),
          c.num('file'),
          `${NUF}: max_idx = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) (mm/filemap.c:3523)`,
        ),
        ...(c.num('idx') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)
          ? [
              unlockMark(release(`lock:${c.P(c.num('pfn'))}`), 3528),
              folioPut612(c, w(`${c.P(c.num('pfn'))}.refcount`), c.num('pfn'), `${NUF}: skip: folio_put(folio) (mm/filemap.c:3530)`),
            ]
          : []),
      ],
      run: (c) => {
        if (c.num('idx') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) {
          skip(c, true);
          return;
        }
        if (c.num('first')) {
          c.set('first', 0);
          c.goto(o.cap === 'afterLookup' ? 'cap' : 'pmdmap');
          return;
        }
        c.goto('map');
      },
    },
    pmdmap: {
      label: (c) => {
        const can = !o.canMapLarge || fsOf(c) === 'tmpfs' || c.num('fend') >= folioLast(c) + 1;
        return (
          `${o.canMapLarge ? 'can_map_large = shmem_mapping(mapping) || file_end >= folio_next_index(folio); ' : ''}` +
          `${can ? 'filemap_map_pmd(): if (pmd_trans_huge(*vmf->pmd)) return true; if (pmd_none(*vmf->pmd) && folio_test_pmd_mappable(folio)) do_set_pmd(); if (pmd_none(*vmf->pmd) && vmf->prealloc_pte) pmd_install()' : 'PMD refused: the folio reaches past EOF'}`
        );
      },
      where: o.canMapLarge ? 'mm/filemap.c:3669-3675, 3466-3492 filemap_map_pmd()' : 'mm/filemap.c filemap_map_pmd()',
      acc: (c) => {
        const t = tableOf(c);
        const pfn = c.num('pfn');
        const a: Access[] = [
          w(pmdLoc(c.env, t)),
          w(`${c.P(pfn)}.mapcount`),
          w(`${c.P(pfn)}.refcount`),
          release(`lock:${c.P(pfn)}`),
          r(`${c.P(pfn)}.mapping`),
          r(`${c.M(c.num('file'))}.tree`),
        ];
        const v = vmaOf(c);
        const i0 = pmdRange(v, c.num('idx') - v.pgoff);
        if (i0 !== NONE) for (let k = 0; k < HPAGE_PMD_NR; k++) a.push(w(pteLoc(c.env, v, i0 + k)));
        return pmdMapMarks(c, o, a);
      },
      run: (c) => {
        const t = tableOf(c);
        const pfn = c.num('pfn');
        const v = vmaOf(c);
        const can = !o.canMapLarge || fsOf(c) === 'tmpfs' || c.num('fend') >= folioLast(c) + 1;
        const pmd = c.pmd(t);
        if (can && pmd !== NONE && pmd !== PMD_TABLE) {
          // "Huge page is mapped? No need to proceed."
          c.set('ret', VM_FAULT_NOPAGE);
          skip(c, true);
          c.set('xi', END);
          return;
        }
        const i0 = pmdRange(v, c.num('idx') - v.pgoff);
        if (can && pmd === NONE && (c.page(pfn).order ?? 0) === HPAGE_PMD_ORDER && i0 !== NONE) {
          // do_set_pmd(vmf, folio_file_page(folio, start)): the reference is consumed by the PMD
          c.addRmap(v, c.num('fidx') - v.pgoff, pfn);
          c.updPage(pfn, { entire: (c.page(pfn).entire ?? 0) + 1 });
          for (let k = 0; k < HPAGE_PMD_NR; k++) c.setPte(v, i0 + k, pfn, true);
          c.setPmd(t, pfn);
          c.unlockPage(pfn);
          c.set('pfn', NONE);
          c.ret(VM_FAULT_NOPAGE);
          return;
        }
        // pmd_install(mm, vmf->pmd, &vmf->prealloc_pte), inside filemap_map_pmd(): when can_map_large is false
        // filemap_map_pages() never calls it (mm/filemap.c:3669-3675 of 6.12.118), so a PMD that is none stays none,
        // pte_offset_map_lock() returns NULL (3679-3684: nothing is mapped by fault-around) and the fault goes on to
        // filemap_fault() and finish_fault(), whose pte_alloc() installs the table (mm/memory.c)
        if (can && pmd === NONE) c.setPmd(t, PMD_TABLE);
        c.goto('ptl');
      },
    },
    ptl: {
      label: 'vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl); if (!vmf->pte) { folio_unlock(folio); folio_put(folio); goto out; }',
      where: 'mm/filemap.c:3677-3683 filemap_map_pages()',
      acc: (c) => {
        const t = tableOf(c);
        const OML = `${FMP}: vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl) (mm/filemap.c:3679)`;
        return c.pmd(t) === PMD_TABLE
          ? pteOffsetMapLock612(r(pmdLoc(c.env, t)), acquire(c.env.ptls[t]!.loc), OML)
          : [
              pteOffsetMapNone612(r(pmdLoc(c.env, t)), c.pmd(t), OML),
              unlockMark(release(`lock:${c.P(c.num('pfn'))}`), 3681),
              folioPut612(c, w(`${c.P(c.num('pfn'))}.refcount`), c.num('pfn'), `${FMP}: folio_put(folio) (mm/filemap.c:3682)`),
            ];
      },
      block: (c) => {
        const t = tableOf(c);
        if (c.pmd(t) !== PMD_TABLE) return undefined;
        const owner = c.ptlOwner(t);
        return owner === NONE ? undefined : `${c.env.ptls[t]!.loc}, held by ${c.who(owner)}`;
      },
      run: (c) => {
        const t = tableOf(c);
        if (c.pmd(t) !== PMD_TABLE) {
          c.effect(`pte_offset_map_lock: no PTE table (${c.pmd(t) === NONE ? 'the PMD is none' : 'the PMD is huge'}): goto out`);
          skip(c, true);
          c.set('xi', END);
          return;
        }
        c.setPtl(t, c.tid);
        c.set('held', t);
        c.goto(o.cap === 'afterPtl' ? 'cap' : 'map');
      },
    },
    map: {
      label: (c) => {
        const p = mapPlan(c);
        return (
          `nr_pages = min(end, end_pgoff) - xas.xa_index + 1 (= ${p.nr}); ${p.order0 ? 'filemap_map_order0_folio' : 'filemap_map_folio_range'}(): ` +
          `per run of pte_none: set_pte_range(vmf, folio, page, count, addr); folio_ref_add(folio, count); folio_unlock(folio); folio_put(folio)`
        );
      },
      where: 'mm/filemap.c:3686-3705 filemap_map_pages(), 3539-3632 filemap_map_folio_range()',
      acc: (c) => {
        const p = mapPlan(c);
        const pfn = c.num('pfn');
        const v = vmaOf(c);
        const a: Access[] = [...p.reads, w(`${c.P(pfn)}.refcount`), release(`lock:${c.P(pfn)}`)];
        if (p.runs.length) a.push(w(`${c.P(pfn)}.mapcount`), r(`${c.P(pfn)}.mapping`), r(`${c.M(c.num('file'))}.tree`));
        for (const [i, n] of p.runs) for (let k = 0; k < n; k++) a.push(w(pteLoc(c.env, v, i + k)));
        return p.order0 && !isLarge(c, pfn) ? mapOrder0Marks(c, a, p.runs.length > 0) : a;
      },
      run: (c) => {
        const p = mapPlan(c);
        const pfn = c.num('pfn');
        const v = vmaOf(c);
        const fi = c.num('fidx') - v.pgoff;
        if (p.cut) c.effect(`nr_pages ${p.nr} runs past the VMA: the model stops at its last page, the kernel walks on`);
        for (const [i, n] of p.runs) {
          setPteRange(c, v, i, n, pfn);
          c.ref(pfn, n);
          if (fi >= i && fi < i + n) c.set('ret', VM_FAULT_NOPAGE);
        }
        c.unlockPage(pfn);
        c.ref(pfn, -1);
        c.set('pfn', NONE);
        c.goto('next');
      },
    },
  };
}
