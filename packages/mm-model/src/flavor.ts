/**
 * A kernel flavor: one kernel version (or a patched kernel) as a set of step programs over
 * the shared state. Built-in flavors and a user's own (`--flavor ./my-flavor.js`) implement
 * the same interface; the machine (model.ts) knows nothing about any particular flavor.
 * docs/flavors.md documents it with linux-2.6.23 as the worked example.
 */
import type { Env } from './env.js';
import type { Proc, Program, StepDef } from './program.js';
import type { MmState } from './state.js';
import { deadTableProblems } from './liveness.js';

export interface Flavor {
  /** `linux-2.6.15`; what `--flavor` and a scenario's `flavor:` name. */
  name: string;
  /** One line: which kernel, which patch. */
  description: string;
  /** Kernel version cited in every step's `where` (`2.6.15`). */
  version: string;
  /** Every procedure, by name: entry points and the helpers they call. */
  procs: Readonly<Record<string, Proc>>;
  /** What a scenario thread may run (`fault`, `truncate`, ...), by name. */
  programs: Readonly<Record<string, Program>>;
  /** Optional: adjust the initial state built from the scenario (a patch's new field, say). */
  initialState?: (s: MmState, env: Env) => MmState;
}

/** Changes a derived flavor makes to its base. */
export interface FlavorPatch {
  name: string;
  description: string;
  version?: string;
  /** Procedures added or replaced whole. */
  procs?: Readonly<Record<string, Proc>>;
  /** Individual steps replaced (or added) inside existing procedures: proc → pc → step. */
  steps?: Readonly<Record<string, Readonly<Record<string, StepDef>>>>;
  /** Programs added or replaced; `null` removes one. */
  programs?: Readonly<Record<string, Program | null>>;
  initialState?: (s: MmState, env: Env) => MmState;
}

/**
 * A new flavor from `base` with some procedures, steps or programs replaced. This is how the
 * seed flavor is built from linux-2.6.15, and how a user's flavor patches one step.
 */
export function extendFlavor(base: Flavor, patch: FlavorPatch): Flavor {
  const procs: Record<string, Proc> = { ...base.procs, ...(patch.procs ?? {}) };
  for (const [proc, steps] of Object.entries(patch.steps ?? {})) {
    const p = procs[proc];
    if (!p) throw new Error(`flavor ${patch.name}: cannot patch steps of unknown procedure ${proc} (base ${base.name})`);
    procs[proc] = { ...p, steps: { ...p.steps, ...steps } };
  }
  const programs: Record<string, Program> = { ...base.programs };
  for (const [name, prog] of Object.entries(patch.programs ?? {})) {
    if (prog === null) delete programs[name];
    else programs[name] = prog;
  }
  const initialState = patch.initialState ?? base.initialState;
  const out: Flavor = {
    name: patch.name,
    description: patch.description,
    version: patch.version ?? base.version,
    procs,
    programs,
  };
  if (initialState) out.initialState = initialState;
  return out;
}

/**
 * Structural check of a flavor (built-in or loaded from a user's module): every program's
 * entry procedure exists and every procedure has its entry step. Returns problems in words.
 */
export function checkFlavor(f: Partial<Flavor>): string[] {
  const out: string[] = [];
  if (typeof f.name !== 'string' || f.name === '') out.push('name must be a non-empty string');
  if (typeof f.description !== 'string') out.push('description must be a string');
  if (typeof f.version !== 'string') out.push('version must be a string (the kernel version steps cite)');
  if (!f.procs || typeof f.procs !== 'object') out.push('procs must be an object of procedures');
  if (!f.programs || typeof f.programs !== 'object') out.push('programs must be an object of programs');
  if (out.length) return out;
  for (const [name, p] of Object.entries(f.procs!)) {
    if (!p || typeof p.entry !== 'string' || !p.steps || !p.steps[p.entry]) {
      out.push(`procedure ${name} has no entry step`);
      continue;
    }
    out.push(...deadTableProblems(name, p));
    if (p.bugs !== undefined && (typeof p.bugs !== 'object' || p.bugs === null || Object.values(p.bugs).some((v) => typeof v !== 'string'))) {
      out.push(`procedure ${name}: bugs must be an object of kernel function → the BUG check's text`);
    }
    const un = p.bugsUnchecked;
    if (
      un !== undefined &&
      (typeof un !== 'object' || un === null || Object.values(un).some((v) => !Array.isArray(v) || v.some((x) => typeof x !== 'string')))
    ) {
      out.push(`procedure ${name}: bugsUnchecked must be an object of kernel function → the texts of the BUG checks no step makes`);
    } else if (un !== undefined) {
      for (const fn of Object.keys(un)) if (!p.bugs || !(fn in p.bugs)) out.push(`procedure ${name}: bugsUnchecked names ${fn}, which its bugs do not list`);
    }
  }
  for (const [name, prog] of Object.entries(f.programs!)) {
    if (!prog || typeof prog.start !== 'function') out.push(`program ${name} has no start(args, env)`);
    else if (!f.procs![prog.proc]) out.push(`program ${name} starts in unknown procedure ${prog.proc}`);
  }
  return out;
}

/**
 * The kernel BUGs a flavor checks, by the function they are in (every procedure's `bugs`): the
 * BUGs its searches can report. A BUG in a function not listed here is one the flavor never
 * reports, whatever the schedule.
 */
export function bugChecks(f: Flavor): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of Object.keys(f.procs).sort()) {
    for (const [fn, check] of Object.entries(f.procs[name]!.bugs ?? {})) if (!out.has(fn)) out.set(fn, check);
  }
  return out;
}

/**
 * The kernel's other BUG checks in the functions of `bugChecks` (every procedure's
 * `bugsUnchecked`): checks in a function the flavor models that no step of it makes. A BUG
 * report there that does not say which check fired may be one of these.
 */
export function uncheckedBugs(f: Flavor): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const name of Object.keys(f.procs).sort()) {
    for (const [fn, checks] of Object.entries(f.procs[name]!.bugsUnchecked ?? {})) out.set(fn, [...new Set([...(out.get(fn) ?? []), ...checks])]);
  }
  return out;
}
