/**
 * A user store through a shared file mapping (the scenario program `store`): the CPU walks
 * the PTE; with no PTE the access faults as a write (the flavor's write-fault procedure);
 * with a PTE the model has no write bit, so it judges writability the way a filesystem with
 * write notification (->page_mkwrite) keeps it: a PTE is writable only while its page is
 * dirty (a write fault dirtied it; writeback's clear_page_dirty_for_io → page_mkclean write
 * protects every PTE again). A present PTE over a clean page takes the write-protect fault
 * (`wp`, 6.1's do_wp_page → wp_page_shared). Flavors without page_mkwrite (2.6.15/2.6.23
 * ext3) have no `wp`: there a present PTE is writable and the store dirties the page (the
 * PTE dirty bit the kernel moves to the page at unmap or msync, folded into the store).
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
}

/** Does the store go straight to the page mapped at the fault site (and which), or fault? */
function target(c: Ctx, f: StoreFaults): { pfn: number; direct: boolean } {
  const { vma, i } = faultSite(c);
  const pfn = c.pte(vma.id, i);
  if (pfn === NONE) return { pfn, direct: false };
  return { pfn, direct: !f.wp || c.testFlag(pfn, 'dirty') };
}

function storeLabel(c: Ctx, f: StoreFaults, walk: string): string {
  const { pfn, direct } = target(c, f);
  if (pfn === NONE) return `${walk}: no PTE → write fault`;
  return direct ? `${walk}: present and writable, the store lands in the page` : `${walk}: present, write-protected (clean page) → write-protect fault`;
}

function storeAcc(c: Ctx, f: StoreFaults) {
  const { pfn, direct } = target(c, f);
  const a = [pteAcc(c, 'read')];
  if (pfn === NONE) return a;
  if (f.wp) a.push(r(`${c.P(pfn)}.flags.dirty`));
  // the new version of the page's bytes (data.ts mintWrite: the file's write generation, declared as its disk)
  if (direct)
    a.push(r(`${c.P(pfn)}.mapping`), w(`${c.P(pfn)}.data`), w(`${c.P(pfn)}.flags.dirty`), w(`${c.M(c.num('file'))}.disk`), floorAcc(c, c.num('file')));
  return a;
}

function access(c: Ctx, f: StoreFaults): void {
  const { vma, i } = faultSite(c);
  const { pfn, direct } = target(c, f);
  if (pfn === NONE) {
    c.call(f.fault, f.entry, { ...c.l, pfn: NONE }, 'retry');
    return;
  }
  if (!direct) {
    c.call(f.wp!.proc, f.wp!.entry, { ...c.l, pfn: NONE }, 'retry');
    return;
  }
  const p = c.page(pfn);
  const tag = c.mintWrite(p.mapping === NONE ? c.num('file') : p.mapping, p.index);
  c.updPage(pfn, { data: tag, flags: p.flags | PG.dirty });
  c.effect(`a store through ${pteName(c.env, vma, i)} writes ${tagText(tag)} into pfn${pfn}`);
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
