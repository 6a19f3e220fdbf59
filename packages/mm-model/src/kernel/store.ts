/**
 * A user store through a shared file mapping (the scenario program `store`): the CPU walks
 * the PTE; with no PTE the access faults as a write (the flavor's write-fault procedure).
 * What makes a present PTE writable differs by flavor:
 *
 * - 6.1 (`wp`): the model has no write bit there, so it judges writability the way a
 *   filesystem with ->page_mkwrite keeps it: a PTE is writable only while its page is dirty
 *   (a write fault dirtied it; writeback's folio_clear_dirty_for_io → folio_mkclean write
 *   protects every PTE again). A present PTE over a clean page takes the write-protect fault
 *   (do_wp_page → wp_page_shared). The store sets PG_dirty itself.
 * - 2.6.15 (`pteDirty`, no `writeNotify`): no dirty tracking of shared mappings (2.6.19 added
 *   it): every PTE of a shared writable mapping is writable. The store sets the PTE's dirty
 *   bit (the CPU does, x86's page walk), not PG_dirty, and a write fault installs its PTE
 *   already dirty (do_no_page: `if (write_access) entry = maybe_mkwrite(pte_mkdirty(entry),
 *   vma)`). The bit reaches the page only when the PTE is zapped (zap_pte_range: `if
 *   (pte_dirty(ptent)) set_page_dirty(page)`, kernel/unmap.ts); try_to_unmap_one (reclaim) and
 *   msync (filemap_sync_pte) move it too, and the model runs neither. Writeback and
 *   invalidation read only PG_dirty.
 * - 2.6.23 (`pteDirty` and `writeNotify`): vma_wants_writenotify() (2.6.23.17
 *   mm/mmap.c:1038-1063) is true for a shared writable ext3 mapping (its backing_dev_info
 *   accounts dirty pages), so vm_page_prot has no write bit: a read fault maps the page
 *   write-protected and clean, and the only ways a PTE becomes writable also make it dirty —
 *   __do_fault with FAULT_FLAG_WRITE (`entry = maybe_mkwrite(pte_mkdirty(entry), vma)`,
 *   mm/memory.c:2438-2439) and do_wp_page's reuse of a shared page (`maybe_mkwrite(pte_mkdirty
 *   (entry), vma)`, mm/memory.c:1711-1713) — and the only things that clear the dirty bit
 *   (page_mkclean_one, mm/rmap.c:431-438; the zap) write-protect it too. So the model's PTE
 *   dirty bit is also its write bit: a store through a dirty PTE lands (the CPU finds the dirty
 *   bit already set and writes no PTE), a store through a clean present PTE takes the
 *   write-protect fault (`writeNotify`: 2.6.23's do_wp_page). PG_dirty is set by those faults'
 *   set_page_dirty_balance() after the PTE lock is dropped (flavors/linux-2.6.23/fault.ts), not
 *   by the store: between the two the PTE is writable and dirty and the page may be clean, and
 *   another thread's store can land there.
 *
 * The store writes a new version of the page's data (data.ts) and, when the instruction
 * completes, has returned: a read starting after it must observe it (rule stale-data).
 */
import type { Ctx } from '../ctx.js';
import { r, w, type Proc, type Program, type StepDef } from '../program.js';
import { pteName } from '../env.js';
import { NONE, PG } from '../state.js';
import { FAULT_SIGBUS, faultArgs, faultSite, floorAcc, pteAcc } from './lib.js';
import { tagText } from '../data.js';

export interface StoreFaults {
  /** Write fault on a missing PTE: procedure and entry step. */
  fault: string;
  entry: string;
  /** Write-protect fault on a present PTE over a clean page (flavors with page_mkwrite). */
  wp?: { proc: string; entry: string };
  /**
   * 2.6.15, 2.6.23: the store sets the PTE's dirty bit, not PG_dirty, and the write fault is called
   * with local `write` = 1 (do_no_page's write_access, __do_fault's FAULT_FLAG_WRITE: it installs
   * the PTE dirty). See above.
   */
  pteDirty?: boolean;
  /**
   * 2.6.23 (with pteDirty): write notification. A present PTE is writable exactly when it is dirty;
   * a store through a clean one calls this write-protect fault (do_wp_page) with local `orig` = the
   * pfn the CPU found. See above.
   */
  writeNotify?: { proc: string; entry: string };
}

/** Does the store go straight to the page mapped at the fault site (and which), or fault? */
function target(c: Ctx, f: StoreFaults): { pfn: number; direct: boolean } {
  const { vma, i } = faultSite(c);
  const pfn = c.pte(vma.id, i);
  if (pfn === NONE) return { pfn, direct: false };
  if (f.writeNotify) return { pfn, direct: c.pteDirty(vma.id, i) };
  return { pfn, direct: !f.wp || c.testFlag(pfn, 'dirty') };
}

function storeLabel(c: Ctx, f: StoreFaults, walk: string): string {
  const { pfn, direct } = target(c, f);
  if (pfn === NONE) return `${walk}: no PTE → write fault`;
  if (f.writeNotify)
    return direct
      ? `${walk}: present, writable and dirty, the store lands in the page`
      : `${walk}: present, write-protected and clean → write-protect fault (do_wp_page)`;
  if (direct && f.pteDirty) return `${walk}: present and writable, the store lands in the page and the CPU sets the PTE's dirty bit`;
  return direct ? `${walk}: present and writable, the store lands in the page` : `${walk}: present, write-protected (clean page) → write-protect fault`;
}

function storeAcc(c: Ctx, f: StoreFaults) {
  const { pfn, direct } = target(c, f);
  const a = [pteAcc(c, 'read')];
  if (pfn === NONE) return a;
  if (f.wp) a.push(r(`${c.P(pfn)}.flags.dirty`));
  // the new version of the page's bytes (data.ts mintWrite: the file's write generation, declared as its disk)
  if (direct)
    a.push(
      r(`${c.P(pfn)}.mapping`),
      w(`${c.P(pfn)}.data`),
      // 2.6.15: the CPU sets the PTE's dirty bit (a locked update of the PTE); 2.6.23: the bit is
      // already set (a writable PTE is dirty there), so the CPU writes no PTE; else PG_dirty
      ...(f.writeNotify ? [] : [f.pteDirty ? pteAcc(c, 'write') : w(`${c.P(pfn)}.flags.dirty`)]),
      w(`${c.M(c.num('file'))}.disk`),
      floorAcc(c, c.num('file')),
    );
  return a;
}

function access(c: Ctx, f: StoreFaults): void {
  const { vma, i } = faultSite(c);
  const { pfn, direct } = target(c, f);
  if (pfn === NONE) {
    c.call(f.fault, f.entry, f.pteDirty ? { ...c.l, pfn: NONE, write: 1 } : { ...c.l, pfn: NONE }, 'retry');
    return;
  }
  if (!direct && f.writeNotify) {
    c.call(f.writeNotify.proc, f.writeNotify.entry, { ...c.l, pfn: NONE, orig: pfn }, 'retry');
    return;
  }
  if (!direct) {
    c.call(f.wp!.proc, f.wp!.entry, { ...c.l, pfn: NONE }, 'retry');
    return;
  }
  const p = c.page(pfn);
  const tag = c.mintWrite(p.mapping === NONE ? c.num('file') : p.mapping, p.index);
  if (f.pteDirty) {
    c.updPage(pfn, { data: tag });
    c.setPteDirty(vma, i, true, true);
  } else c.updPage(pfn, { data: tag, flags: p.flags | PG.dirty });
  c.effect(`a store through ${pteName(c.env, vma, i)} writes ${tagText(tag)} into pfn${pfn}${f.pteDirty ? ' (the PTE dirty, the page as it was)' : ''}`);
  c.writesReturned();
  c.ret(0);
}

export function userStoreProc(f: StoreFaults): Proc {
  const steps: Record<string, StepDef> = {
    start: {
      label: (c) => storeLabel(c, f, 'store *addr: the CPU walks the PTE'),
      acc: (c) => storeAcc(c, f),
      run: (c) => access(c, f),
    },
    retry: {
      label: (c) =>
        c.num('rv') === FAULT_SIGBUS
          ? 'SIGBUS: the store does not complete'
          : storeLabel(c, f, 'the fault returned: the instruction is retried, the CPU walks the PTE'),
      acc: (c) => (c.num('rv') === FAULT_SIGBUS ? [] : storeAcc(c, f)),
      run: (c) => {
        if (c.num('rv') === FAULT_SIGBUS) {
          c.ret(FAULT_SIGBUS);
          return;
        }
        access(c, f);
      },
    },
  };
  return { fn: 'store', where: 'user space: mov %reg, (%addr)', entry: 'start', steps };
}

/** The `store` program: `extra` adds the fault procedure's own entry locals (6.1's `ml`). */
export function storeProgram(extra: Record<string, number> = {}): Program {
  return {
    proc: 'user_store',
    description:
      'a store through a shared file mapping: write-faults when no writable PTE is present, then writes a new version of the page (args: mm, address | index)',
    start: (a, env) => ({ ...faultArgs(a, env), ...extra, rv: 0 }),
  };
}
