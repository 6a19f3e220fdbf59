/**
 * Dead locals (docs/flavors.md "Dead locals"). A procedure may declare, per program counter, the
 * locals that are dead there: no step at or after that pc reads them before setting them again.
 * A frame that moves to such a pc (goto, the callee's entry, a caller's return point) drops them,
 * so two states that differ only in a value nobody will read again are one state to the
 * explorer — what a C compiler knows of a variable's last use, and SPIN's dead-variable reduction.
 *
 * A wrong entry cannot change a verdict silently: a dropped local is absent, and reading an absent
 * local (`c.num`, `c.list`) is a ModelBug that names the table, as is testing for presence
 * (`c.opt`) a name any procedure of the flavor declares dead.
 */
import { ModelBug } from './ctx.js';
import type { Flavor } from './flavor.js';
import type { Proc } from './program.js';
import type { Locals, LocalValue } from './state.js';

export class Liveness {
  private constructor(
    private readonly byProc: ReadonlyMap<string, Readonly<Record<string, readonly string[]>>>,
    /** Every name some procedure declares dead somewhere. */
    readonly names: ReadonlySet<string>,
  ) {}

  /** The flavor's tables, checked (every pc a table names is a step of its procedure); undefined when it declares none. */
  static of(flavor: Flavor): Liveness | undefined {
    const byProc = new Map<string, Readonly<Record<string, readonly string[]>>>();
    const names = new Set<string>();
    for (const [name, proc] of Object.entries(flavor.procs)) {
      if (!proc.dead) continue;
      const problems = deadTableProblems(name, proc);
      if (problems.length) throw new ModelBug(`flavor ${flavor.name}: ${problems.join('; ')}`);
      for (const dead of Object.values(proc.dead)) for (const d of dead) names.add(d);
      byProc.set(name, proc.dead);
    }
    return byProc.size === 0 ? undefined : new Liveness(byProc, names);
  }

  /** The locals dead at `proc`'s `pc`, or undefined. */
  at(proc: string, pc: string): readonly string[] | undefined {
    return this.byProc.get(proc)?.[pc];
  }

  /** The pcs of `proc` where `name` is declared dead (for an error message). */
  where(proc: string, name: string): string[] {
    const t = this.byProc.get(proc);
    return t ? Object.keys(t).filter((pc) => t[pc]!.includes(name)) : [];
  }
}

/** What is wrong with procedure `name`'s table (flavor modules are checked with it when loaded, every flavor when its machine is made). */
export function deadTableProblems(name: string, proc: Pick<Proc, 'steps' | 'dead'>): string[] {
  const out: string[] = [];
  const dead: unknown = proc.dead;
  if (dead === undefined) return out;
  if (!dead || typeof dead !== 'object') return [`procedure ${name}: dead must be an object of pc → local names`];
  for (const [pc, names] of Object.entries(dead)) {
    if (!Object.hasOwn(proc.steps, pc)) out.push(`procedure ${name} declares dead locals at ${pc}, which is not one of its steps`);
    else if (!Array.isArray(names) || !names.every((x) => typeof x === 'string')) out.push(`procedure ${name}: dead.${pc} must be a list of local names`);
  }
  return out;
}

/** `l` without the names in `dead` (the same object when it has none of them; the order kept). */
export function withoutDead(l: Locals, dead: readonly string[]): Locals {
  let hit = false;
  for (const d of dead)
    if (d in l) {
      hit = true;
      break;
    }
  if (!hit) return l;
  const out: Record<string, LocalValue> = {};
  for (const k in l) if (!dead.includes(k)) out[k] = l[k]!;
  return out;
}
