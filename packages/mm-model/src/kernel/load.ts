/**
 * A user load through a shared file mapping (the scenario program `load`): the CPU reads the
 * PTE; present, the load observes the data of the page it maps; absent, the access faults
 * (the flavor's fault procedure) and the instruction is retried. The load is a user read
 * for rule stale-data: it starts at its first step, when its floor is sampled.
 */
import type { Ctx } from '../ctx.js';
import { r, type Proc, type Program, type StepDef } from '../program.js';
import { pteName } from '../env.js';
import { NONE } from '../state.js';
import { FAULT_SIGBUS, faultArgs, faultSite, pteAcc } from './lib.js';

/** The PTE is read and, when present, the data of the page it maps. */
function loadAcc(c: Ctx) {
  const { vma, i } = faultSite(c);
  const pfn = c.pte(vma.id, i);
  return [pteAcc(c, 'read'), ...(pfn === NONE ? [] : [r(`${c.P(pfn)}.data`)])];
}

function access(c: Ctx, fault: string, entry: string): void {
  const { vma, i } = faultSite(c);
  const pfn = c.pte(vma.id, i);
  if (pfn !== NONE) {
    c.observe(c.pageData(pfn), `a load through ${pteName(c.env, vma, i)}`);
    c.ret(0);
    return;
  }
  c.call(fault, entry, c.l, 'retry');
}

export function userLoadProc(fault: string, entry: string): Proc {
  const steps: Record<string, StepDef> = {
    start: {
      label: 'load *addr: the CPU walks the PTE',
      acc: (c) => [r(`${c.M(c.num('file'))}.floor`), ...loadAcc(c)],
      run: (c) => {
        c.beginRead(c.num('file'), c.num('index'));
        access(c, fault, entry);
      },
    },
    retry: {
      label: (c) =>
        c.num('rv') === FAULT_SIGBUS ? 'SIGBUS: the load does not complete' : 'the fault returned: the instruction is retried, the CPU walks the PTE',
      acc: (c) => (c.num('rv') === FAULT_SIGBUS ? [] : loadAcc(c)),
      run: (c) => {
        if (c.num('rv') === FAULT_SIGBUS) {
          c.endRead();
          c.ret(FAULT_SIGBUS);
          return;
        }
        access(c, fault, entry);
      },
    },
  };
  return { fn: 'load', where: 'user space: mov (%addr)', entry: 'start', steps };
}

/** The `load` program: `extra` adds the fault procedure's own entry locals (6.1's `ml`). */
export function loadProgram(extra: Record<string, number> = {}): Program {
  return {
    proc: 'user_load',
    readsData: true,
    description: 'a load through a shared file mapping: faults when no PTE is present, then observes the data (args: mm, address | index)',
    start: (a, env) => ({ ...faultArgs(a, env), ...extra, rv: 0 }),
  };
}
