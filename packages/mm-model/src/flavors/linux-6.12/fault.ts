/**
 * linux-6.12 read fault on a shared file mapping: do_read_fault (mm/memory.c:5301) tries
 * fault-around first (filemap_map_pages, map-pages.ts), then __do_fault → filemap_fault
 * (mm/filemap.c:3305-3463) and finish_fault (mm/memory.c:5072-5193). filemap_fault is 6.1's
 * with folios: the lookup (3326) finds the folio covering the index, the invalidate_lock is
 * taken shared on a miss or a !uptodate folio (3334-3356), a miss creates an order-0 folio
 * (__filemap_get_folio(FGP_CREAT|FGP_FOR_MMAP), 3357: readahead is off in the model, so
 * nothing asks for a larger order), the folio lock is taken and the mapping (3372) and i_size
 * (3421-3426) rechecked under it. New in 6.12's finish_fault: a large folio may be mapped
 * whole by a PMD (do_set_pmd, 4926-5000), which 74207de2ba10 forbids when the folio reaches
 * past EOF on anything but shmem (`needs_fallback`, 5105-5119); otherwise one PTE is mapped
 * (nr_pages = 1 unless anonymous shmem, 5135-5141) by set_pte_range (5015-5047).
 */
import type { Access } from '@kreplay/core';
import type { Ctx } from '../../ctx.js';
import { fsOf } from '../../kernel/filesystems.js';
import { extendFlavor } from '../../flavor.js';
import { acquire, lk, r, release, w, type Proc, type StepDef } from '../../program.js';
import { NONE, PAGE_SIZE, PMD_TABLE } from '../../state.js';
import { pteLoc } from '../../env.js';
import { FAULT_SIGBUS, faultEnd, faultSite, pteAcc, ptlLoc } from '../../kernel/lib.js';
import { unlockFaultPage } from '../../kernel/pagecache.js';
import { doReadFault61 } from '../linux-6.1/fault.js';
import { handlePteFault, ptlBusy } from '../linux-2.6.15/fault.js';
import { mapPagesLocals612 } from './map-pages.js';
import { ghost, marked, notOnThisPath } from '../../kernel/marks.js';
import { folioMapping, rwsemLock, rwsemUnlock, xaReload } from '../../kernel/marks6.js';
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
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, folioNextIndex, pmdLoc, pmdRange } from './folio.js';

export interface FaultOptions {
  /** 74207de2ba10: finish_fault refuses a PMD across i_size (and PTEs beyond it) unless shmem. */
  needsFallback: boolean;
}

const fileEnd = (c: Ctx) => Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE);

/** The fault's folio is one do_set_pmd() would map: PMD order, VMA suitable (mm/memory.c:4941-4948). */
function pmdMappable(c: Ctx): boolean {
  const { vma, i } = faultSite(c);
  return (c.page(c.num('pfn')).order ?? 0) === HPAGE_PMD_ORDER && pmdRange(vma, i) !== NONE;
}

const FF = `mm/filemap.c filemap_fault() ${V612}`;
const FIN = `mm/memory.c finish_fault() ${V612}`;

/** handle_pte_fault's look at the PTE (mm/memory.c:5769-5795): with no table only `pmd_none(*vmf->pmd)`, else ptep_get_lockless(). */
export function markPte612(c: Ctx, a: Access): Access {
  const { vma, i, ptl } = faultSite(c);
  const pmd = c.pmd(ptl);
  const H = `mm/memory.c handle_pte_fault() ${V612}`;
  if (pmd === NONE)
    return lk(a, 'plain-read', 0, `${H}: if (unlikely(pmd_none(*vmf->pmd))) (mm/memory.c:5769, plain C): no PTE is read`, { word: pmdLoc(c.env, ptl) });
  if (pmd !== PMD_TABLE) return a; // a huge PMD: not marked (large folios)
  // pte_offset_map_nolock's READ_ONCE of the table's PMD (mm/pgtable-generic.c:289) is left out: a table's PMD never changes in the model
  return pteGet612(
    a,
    c.pte(vma.id, i),
    `${H}: vmf->orig_pte = ptep_get_lockless(vmf->pte) (mm/memory.c:5789; = ptep_get() on x86-64, include/linux/pgtable.h:587-590)`,
  );
}

/** filemap_get_folio() → filemap_get_entry() (mm/filemap.c:1846-1859): xas_load, folio_try_get, xas_reload. */
function markGet612(c: Ctx, _a: Access, all: readonly Access[]): Access[] {
  const file = c.num('file');
  const index = c.num('index');
  const pfn = c.lookup(file, index);
  const cite = `${FF}: folio = filemap_get_folio(mapping, index) (mm/filemap.c:3326) → filemap_get_entry()`;
  const load = xaLoad612(c, file, index, `${cite}: folio = xas_load(&xas) (mm/filemap.c:1846)`);
  if (pfn === NONE) return [load];
  const ref = all.find((x) => x.loc.endsWith('.refcount'))!;
  return [load, ...folioTryGet612(c, ref, pfn, `${cite} (mm/filemap.c:1856)`), xaReload(c, file, index, `${cite} (mm/filemap.c:1859)`)];
}

/** filemap_fault's folio lock and what it reads under it (mm/filemap.c:3368-3415), by the path the run takes (6.1's lockMarks, 6.12 lines). */
function lockMarks612(c: Ctx, a: Access): Access {
  const pfn = c.num('pfn');
  const p = c.page(pfn);
  if (a.lock === 'acquire') return folioLock612(a, `${FF}: lock_folio_maybe_drop_mmap() → folio_trylock()/__folio_lock_killable() (mm/filemap.c:3368)`);
  if (a.loc.endsWith('.mapping')) return folioMapping(c, a, pfn, `${FF}: if (unlikely(folio->mapping != mapping)) (mm/filemap.c:3372)`);
  if (p.mapping !== c.num('file'))
    return a.loc.endsWith('.refcount')
      ? folioPut612(c, a, pfn, `${FF}: folio_put(folio) (mm/filemap.c:3374)`)
      : notOnThisPath(a, 'the folio was truncated: retry_find');
  if (a.loc.endsWith('.uptodate')) return folioFlag612(c, a, pfn, 'uptodate', `${FF}: if (unlikely(!folio_test_uptodate(folio))) (mm/filemap.c:3384)`);
  const uptodate = c.testFlag(pfn, 'uptodate');
  if (a.loc.endsWith('.refcount')) return uptodate ? notOnThisPath(a, 'the folio is uptodate: kept') : a; // not uptodate: unlock, put, retry (left unmarked)
  return uptodate
    ? rwsemUnlock(a, `${FF}: filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:3415)`)
    : notOnThisPath(a, 'the folio is not uptodate: the lock is kept for the read');
}

/** The 6.1 steps 6.12's fault keeps, marked with 6.12's primitives and lines. */
function remark612(steps: Record<string, StepDef>): Record<string, StepDef> {
  const out = { ...steps };
  const isizeAt = (line: number) => (c: Ctx, a: Access) =>
    iSizeRead612(c, a, c.num('file'), `${FF}: max_idx = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE) (mm/filemap.c:${line})`);
  out.isize = marked(steps.isize!, isizeAt(3317));
  const get = steps.get!;
  out.get = {
    ...get,
    acc: (c) => {
      const all = get.acc!(c);
      return markGet612(c, all[0]!, all);
    },
  };
  out.uptodate = marked(steps.uptodate!, (c, a) =>
    folioFlag612(c, a, c.num('pfn'), 'uptodate', `${FF}: if (unlikely(!folio_test_uptodate(folio))) (mm/filemap.c:3334)`),
  );
  out.ilock = marked(steps.ilock!, (_c, a) => rwsemLock(a, `${FF}: filemap_invalidate_lock_shared(mapping) (mm/filemap.c:3335, 3354)`));
  out.lock = marked(steps.lock!, lockMarks612);
  // page_not_uptodate's wake-up (6.1's read_wait, fault.ts): filemap_read_folio's uptodate test, folio_put, and on -EIO the unlock
  out.read_wait = marked(steps.read_wait!, (c, a) =>
    a.loc.endsWith('.flags.uptodate')
      ? folioFlag612(c, a, c.num('pfn'), 'uptodate', `mm/filemap.c filemap_read_folio() ${V612}: if (folio_test_uptodate(folio)) (mm/filemap.c:2392)`)
      : a.loc.endsWith('.refcount')
        ? folioPut612(c, a, c.num('pfn'), `${FF}: folio_put(folio) (mm/filemap.c:3442)`)
        : rwsemUnlock(a, `${FF}: filemap_invalidate_unlock_shared(mapping) (mm/filemap.c:3446)`),
  );
  out.setpte = marked(steps.setpte!, (c, a) =>
    a.lock === 'release'
      ? lk(a, 'spin_unlock', 0, `${FIN}: pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/memory.c:5200)`)
      : pteSet612(a, c.num('pfn'), `mm/memory.c set_pte_range() ${V612} (mm/memory.c:5052)`),
  );
  return out;
}

function isize2(): StepDef {
  return {
    label:
      'max_idx = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE); if (unlikely(index >= max_idx)) { folio_unlock(folio); folio_put(folio); return VM_FAULT_SIGBUS; } vmf->page = folio_file_page(folio, index); return ret | VM_FAULT_LOCKED',
    where: 'mm/filemap.c:3421-3429 filemap_fault()',
    acc: (c) => [
      iSizeRead612(c, r(`${c.M(c.num('file'))}.i_size`), c.num('file'), `${FF}: max_idx = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE) (mm/filemap.c:3421)`),
      ...(c.num('index') >= fileEnd(c)
        ? [
            folioUnlock612(release(`lock:${c.P(c.num('pfn'))}`), `${FF}: folio_unlock(folio) (mm/filemap.c:3423)`),
            folioPut612(c, w(`${c.P(c.num('pfn'))}.refcount`), c.num('pfn'), `${FF}: folio_put(folio) (mm/filemap.c:3424)`),
          ]
        : []),
    ],
    run: (c) => {
      const pfn = c.num('pfn');
      if (c.num('index') >= fileEnd(c)) {
        c.unlockPage(pfn);
        c.ref(pfn, -1);
        faultEnd(c, FAULT_SIGBUS);
        return;
      }
      c.goto('fallback');
    },
  };
}

export function doReadFault612(o: FaultOptions): Proc {
  const steps: Record<string, StepDef> = {
    pte: handlePteFault((c) => {
      c.call('filemap_map_pages', 'begin', mapPagesLocals612(faultSite(c).vma, c.num('index')), 'around');
    }, markPte612),
    isize2: isize2(),
    fallback: o.needsFallback
      ? {
          label:
            'finish_fault: file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE); needs_fallback = !shmem_mapping(mapping) && file_end < folio_next_index(folio)',
          where: 'mm/memory.c:5105-5119 finish_fault()',
          acc: (c) => [
            iSizeRead612(
              c,
              r(`${c.M(c.num('file'))}.i_size`),
              c.num('file'),
              `${FIN}: file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) (mm/memory.c:5118)`,
            ),
          ],
          run: (c) => {
            const nf = fsOf(c) !== 'tmpfs' && fileEnd(c) < folioNextIndex(c, c.num('pfn'));
            c.set('nf', nf ? 1 : 0);
            c.goto('pmd');
          },
        }
      : {
          label: 'finish_fault: page = vmf->page; folio = page_folio(page) /* before 74207de2ba10: no i_size check here */',
          where: 'mm/memory.c finish_fault()',
          run: (c) => {
            c.set('nf', 0);
            c.goto('pmd');
          },
        },
    pmd: {
      label: (c) => {
        const { ptl } = faultSite(c);
        const pmd = c.pmd(ptl);
        if (pmd === NONE && !c.num('nf') && pmdMappable(c))
          return 'if (pmd_none(*vmf->pmd)) { if (!needs_fallback && PageTransCompound(page)) ret = do_set_pmd(vmf, page);';
        if (pmd === NONE) return 'if (pmd_none(*vmf->pmd)) { pte_alloc(vma->vm_mm, vmf->pmd) /* pmd_install() under pmd_lock */ }';
        return 'pmd is not none: map one PTE (nr_pages = 1: not anonymous shmem)';
      },
      where: 'mm/memory.c:5121-5141 finish_fault()',
      acc: (c) => {
        const { ptl } = faultSite(c);
        const pmd = c.pmd(ptl);
        const test = `${FIN}: if (pmd_none(*vmf->pmd)) (mm/memory.c:5131)`;
        if (pmd !== NONE) return [pmdPlain612(r(pmdLoc(c.env, ptl)), pmd, test)];
        const a = w(pmdLoc(c.env, ptl));
        // do_set_pmd() of a large folio (setpmd) is not marked
        if (!c.num('nf') && pmdMappable(c)) return [a];
        return [pmdPlain612(a, pmd, test), ...pmdInstall612(a, `${FIN}: pmd_install(vma->vm_mm, vmf->pmd, &vmf->prealloc_pte) (mm/memory.c:5139)`)];
      },
      run: (c) => {
        const { ptl } = faultSite(c);
        const pmd = c.pmd(ptl);
        if (pmd === NONE && !c.num('nf') && pmdMappable(c)) {
          c.goto('setpmd');
          return;
        }
        if (pmd === NONE) c.setPmd(ptl, PMD_TABLE);
        c.goto('ptl');
      },
    },
    setpmd: {
      label:
        'do_set_pmd(): vmf->ptl = pmd_lock(); if (unlikely(!pmd_none(*vmf->pmd))) goto out; folio_add_file_rmap_pmd(folio, page, vma); set_pmd_at(vma->vm_mm, haddr, vmf->pmd, entry); spin_unlock(vmf->ptl)',
      where: 'mm/memory.c:4970-4999 do_set_pmd()',
      acc: (c) => {
        const { vma, i, ptl } = faultSite(c);
        const i0 = pmdRange(vma, i);
        const a = [w(pmdLoc(c.env, ptl)), w(`${c.P(c.num('pfn'))}.mapcount`), r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.M(c.num('file'))}.tree`)];
        for (let k = 0; k < HPAGE_PMD_NR; k++) a.push(w(pteLoc(c.env, vma, i0 + k)));
        return a;
      },
      run: (c) => {
        const { vma, i, ptl } = faultSite(c);
        if (c.pmd(ptl) !== NONE) {
          // VM_FAULT_FALLBACK: finish_fault goes on; a table lets it map a PTE, a huge PMD makes pte_offset_map_lock fail
          c.effect('do_set_pmd: pmd no longer none: VM_FAULT_FALLBACK');
          c.goto('ptl');
          return;
        }
        const pfn = c.num('pfn');
        const i0 = pmdRange(vma, i);
        c.addRmap(vma, i, pfn); // folio_add_file_rmap_pmd: _large_mapcount++ (the one PMD mapping)
        c.updPage(pfn, { entire: (c.page(pfn).entire ?? 0) + 1 }); // _entire_mapcount++
        for (let k = 0; k < HPAGE_PMD_NR; k++) c.setPte(vma, i0 + k, pfn, true);
        c.setPmd(ptl, pfn);
        c.goto('unlock'); // "The page is mapped successfully, reference consumed"
      },
    },
    ptl: {
      label:
        'vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl); if (!vmf->pte) return VM_FAULT_NOPAGE; if (unlikely(vmf_pte_changed(vmf))) { ret = VM_FAULT_NOPAGE; goto unlock; } set_pte_range(): folio_add_file_rmap_ptes(folio, page, 1, vma)',
      where: 'mm/memory.c:5168-5185 finish_fault()',
      acc: (c) => {
        const { ptl } = faultSite(c);
        const pmd = r(pmdLoc(c.env, ptl));
        const OML = `${FIN}: vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl) (mm/memory.c:5177)`;
        if (c.pmd(ptl) !== PMD_TABLE) return [pteOffsetMapNone612(pmd, c.pmd(ptl), OML)];
        const pfn = c.num('pfn');
        const pte = c.pte(c.num('vma'), c.num('i'));
        const head = [
          ...pteOffsetMapLock612(pmd, acquire(ptlLoc(c)), OML),
          pteGet612(pteAcc(c, 'read'), pte, `${FIN}: if (nr_pages == 1 && unlikely(vmf_pte_changed(vmf))) (mm/memory.c:5183, 5061-5063)`),
        ];
        if (pte !== NONE) return [...head, lk(release(ptlLoc(c)), 'spin_unlock', 0, `${FIN}: unlock: pte_unmap_unlock(vmf->pte, vmf->ptl) (mm/memory.c:5200)`)];
        // folio_ref_add(folio, nr_pages - 1) (mm/memory.c:5193) adds 0 for one page: an unordered atomic_add the model does not declare
        const map = w(`${c.P(pfn)}.mapcount`);
        const judged = [r(`${c.P(pfn)}.mapping`), r(`${c.M(c.num('file'))}.tree`)].map((x) =>
          ghost(x, 'the orphan-page-mapped judgement (folio_add_file_rmap_ptes reads neither)'),
        );
        return [...head, isLarge(c, pfn) ? map : rmapAdd612(c, map, pfn, `${FIN}: set_pte_range() (mm/memory.c:5194)`), ...judged];
      },
      block: (c) => (c.pmd(faultSite(c).ptl) === PMD_TABLE ? ptlBusy(c) : undefined),
      run: (c) => {
        const { vma, i, ptl } = faultSite(c);
        if (c.pmd(ptl) !== PMD_TABLE) {
          c.effect('pte_offset_map_lock: the PMD is huge now: VM_FAULT_NOPAGE');
          c.set('backout', 1);
          c.goto('unlock');
          return;
        }
        c.setPtl(ptl, c.tid);
        if (c.pte(vma.id, i) !== NONE) {
          c.effect('PTE changed: VM_FAULT_NOPAGE');
          c.setPtl(ptl, NONE);
          c.set('backout', 1);
          c.goto('unlock');
          return;
        }
        const pfn = c.num('pfn');
        c.addRmap(vma, i, pfn);
        const p = c.page(pfn);
        if (p.pmap) {
          const off = vma.pgoff + i - p.index;
          c.updPage(pfn, { pmap: p.pmap.map((n, k) => (k === off ? n + 1 : n)) });
        }
        c.goto('setpte');
      },
    },
    setpte: {
      ...doReadFault61.steps.setpte!,
      label: 'set_pte_range(): set_ptes(vma->vm_mm, addr, vmf->pte, entry, nr); pte_unmap_unlock(vmf->pte, vmf->ptl)',
      where: 'mm/memory.c:5043 set_pte_range()',
    },
    unlock: unlockFaultPage('do_read_fault: folio_unlock(folio)', 'do_read_fault: folio_unlock(folio); if (ret & VM_FAULT_NOPAGE) folio_put(folio)', (c) =>
      faultEnd(c, 0),
    ),
  };
  steps.unlock = {
    ...marked(steps.unlock!, (c, a) =>
      a.lock === 'release'
        ? folioUnlock612(a, `mm/memory.c do_read_fault() ${V612}: folio_unlock(folio) (mm/memory.c:5336)`)
        : folioPut612(
            c,
            a,
            c.num('pfn'),
            `mm/memory.c do_read_fault() ${V612}: if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) folio_put(folio) (mm/memory.c:5338)`,
          ),
    ),
    where: 'mm/memory.c:5327-5329 do_read_fault()',
  };
  const base = extendFlavor(
    { name: 'base', description: '', version: '6.12', procs: { do_read_fault: doReadFault61 }, programs: {} },
    {
      name: 'linux-6.12',
      description: '',
      steps: { do_read_fault: steps },
    },
  );
  const proc = { ...base.procs.do_read_fault!, steps: remark612(base.procs.do_read_fault!.steps) };
  const wheres: Record<string, string> = {
    pte: 'mm/memory.c:5301-5314 do_read_fault()',
    around: 'mm/memory.c:5310-5314 do_read_fault()',
    isize: 'mm/filemap.c:3317-3319 filemap_fault()',
    get: 'mm/filemap.c:3326 filemap_fault()',
    uptodate: 'mm/filemap.c:3334-3337 filemap_fault()',
    ilock: 'mm/filemap.c:3353-3356 filemap_fault()',
    create: 'mm/filemap.c:3357 filemap_fault()',
    create_unlock: 'mm/filemap.c:1978-1979 __filemap_get_folio()',
    lock: 'mm/filemap.c:3368-3415 filemap_fault()',
    read: 'mm/filemap.c:3431-3439 filemap_fault(), 2373-2388 filemap_read_folio()',
    read_wait: 'mm/filemap.c:2389-2396 filemap_read_folio(), 3440-3448 filemap_fault()',
  };
  const out: Record<string, StepDef> = {};
  for (const [pc, st] of Object.entries(proc.steps)) out[pc] = wheres[pc] ? { ...st, where: wheres[pc] } : st;
  // needs_fallback is finish_fault's local, tested at `pmd` only (mm/memory.c:5105-5131, 6.12.117)
  return { ...proc, dead: { ...proc.dead, ptl: ['nf'], setpmd: ['nf'] }, steps: out };
}
