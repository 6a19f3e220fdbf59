/**
 * linux-6.1 fault-around, mm/filemap.c filemap_map_pages: walk the cached folios of the
 * window under RCU; skip locked ones, take a speculative reference, skip non-uptodate ones,
 * *trylock* (skip on failure), recheck mapping/uptodate/i_size under the folio lock; the
 * first such folio takes the PTE lock, held for the rest of the walk; each empty PTE gets
 * do_set_pte (page_add_file_rmap + set_pte_at); the folio is unlocked, its reference kept by
 * the PTE. Returns VM_FAULT_NOPAGE when the faulting address got mapped.
 */
import type { Ctx } from '../../ctx.js';
import { acquire, r, release, w, type Proc } from '../../program.js';
import { pteLoc } from '../../env.js';
import { NONE, PAGE_SIZE, PG } from '../../state.js';
import { installAcc } from '../../kernel/lib.js';
import { VM_FAULT_NOPAGE } from './fault.js';

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
  steps: {
    next: {
      label: (c) => (nextEntry(c) === NONE ? 'no more folios: pte_unmap_unlock(vmf->pte, vmf->ptl); return ret'
        : 'next_uptodate_page: xas_next_entry(); if (folio_test_locked(folio)) continue; folio_try_get_rcu(folio); xas_reload()'),
      acc: (c) => {
        const ix = nextEntry(c);
        const a = [r(`${c.M(c.num('file'))}.tree`)];
        if (ix === NONE) { if (c.num('held') !== NONE) a.push(release(c.env.ptls[c.num('held')]!.loc)); return a; }
        const pfn = c.lookup(c.num('file'), ix);
        a.push(r(`lock:${c.P(pfn)}`), w(`${c.P(pfn)}.refcount`));
        return a;
      },
      run: (c) => {
        const ix = nextEntry(c);
        if (ix === NONE) { finish(c); return; }
        const pfn = c.lookup(c.num('file'), ix);
        c.set('xi', ix + 1);
        if (c.page(pfn).locker !== NONE) { c.effect(`pfn${pfn} locked: skipped`); c.goto('next'); return; }
        c.ref(pfn, 1);
        c.set('pfn', pfn);
        c.set('idx', ix);
        c.goto('uptodate');
      },
    },
    uptodate: {
      label: 'if (!folio_test_uptodate(folio) || folio_test_readahead(folio)) goto skip',
      acc: (c) => [r(`${c.P(c.num('pfn'))}.flags.uptodate`), ...(c.testFlag(c.num('pfn'), 'uptodate') ? [] : [w(`${c.P(c.num('pfn'))}.refcount`)])],
      run: (c) => {
        if (!c.testFlag(c.num('pfn'), 'uptodate')) { skip(c, false); return; }
        c.goto('trylock');
      },
    },
    trylock: {
      label: 'if (!folio_trylock(folio)) goto skip; if (folio->mapping != mapping) goto unlock; if (!folio_test_uptodate(folio)) goto unlock',
      acc: (c) => [acquire(`lock:${c.P(c.num('pfn'))}`), r(`${c.P(c.num('pfn'))}.mapping`), r(`${c.P(c.num('pfn'))}.flags.uptodate`), w(`${c.P(c.num('pfn'))}.refcount`)],
      run: (c) => {
        const pfn = c.num('pfn');
        if (c.page(pfn).locker !== NONE) { skip(c, false); return; }
        c.lockPage(pfn);
        const p = c.page(pfn);
        if (p.mapping !== c.num('file') || !(p.flags & PG.uptodate)) { skip(c, true); return; }
        c.goto('isize');
      },
    },
    isize: {
      label: 'max_idx = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE); if (xas->xa_index >= max_idx) goto unlock',
      acc: (c) => [r(`${c.M(c.num('file'))}.i_size`), ...(c.num('idx') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)
        ? [release(`lock:${c.P(c.num('pfn'))}`), w(`${c.P(c.num('pfn'))}.refcount`)] : [])],
      run: (c) => {
        if (c.num('idx') >= Math.ceil(c.map(c.num('file')).isize / PAGE_SIZE)) { skip(c, true); return; }
        c.goto('map');
      },
    },
    map: {
      label: (c) => `${c.num('held') === NONE ? 'vmf->pte = pte_offset_map_lock(); ' : ''}if (!pte_none(*vmf->pte)) goto unlock; do_set_pte(): page_add_file_rmap(); set_pte_at(); folio_unlock(folio)`,
      acc: (c) => {
        const { vma, i, ptl } = slotOf(c, c.num('idx'));
        const pfn = c.num('pfn');
        const a = [];
        if (c.num('held') === NONE) a.push(acquire(c.env.ptls[ptl]!.loc));
        a.push(r(pteLoc(c.env, vma, i)), w(pteLoc(c.env, vma, i)), w(`${c.P(pfn)}.refcount`),
          ...installAcc(c, pfn, c.num('file')), release(`lock:${c.P(pfn)}`));
        return a;
      },
      block: (c) => {
        if (c.num('held') !== NONE) return undefined;
        const { ptl } = slotOf(c, c.num('idx'));
        const owner = c.ptlOwner(ptl);
        return owner === NONE ? undefined : `${c.env.ptls[ptl]!.loc}, held by ${c.who(owner)}`;
      },
      run: (c) => {
        const { vma, i, ptl } = slotOf(c, c.num('idx'));
        if (c.num('held') === NONE) { c.setPtl(ptl, c.tid); c.set('held', ptl); }
        const pfn = c.num('pfn');
        if (c.pte(vma.id, i) !== NONE) { skip(c, true); return; }
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

