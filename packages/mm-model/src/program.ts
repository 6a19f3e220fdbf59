/**
 * Step programs: a kernel path is a procedure made of named steps (its program counter
 * values); each step declares its accesses, may block, and runs against a copy-on-write
 * context. Procedures call each other (unmap_mapping_range from truncate and invalidate)
 * through a per-thread call stack kept in the state.
 */
import type { Access, LkmmAccess } from '@kreplay/core';
import type { Ctx } from './ctx.js';
import type { Env } from './env.js';
import type { Locals } from './state.js';

export interface StepDef {
  /** What the step does, in kernel words. */
  label: string | ((c: Ctx) => string);
  /** Overrides the procedure's `where` (another function, e.g. an inlined helper). */
  where?: string;
  /** Shared locations the step reads and writes (also when blocked: what it would touch). */
  acc?: (c: Ctx) => Access[];
  /** Why the step cannot run now (a held lock), or undefined when it can. */
  block?: (c: Ctx) => string | undefined;
  /** The transition: read and update the state through `c`, then goto/call/ret. */
  run: (c: Ctx) => void;
}

export interface Proc {
  /** Kernel function the procedure stands for: `do_no_page`. */
  fn: string;
  /** Source file and version: `mm/memory.c 2.6.15`; a step's `where` is `file fn() version`. */
  where: string;
  /** First program counter. */
  entry: string;
  steps: Readonly<Record<string, StepDef>>;
  /**
   * Locals dead at a pc (liveness.ts): no step at or after it reads them before setting them
   * again, so a frame arriving there drops them. Reading one that was dropped is a ModelBug.
   */
  dead?: Readonly<Record<string, readonly string[]>>;
  /**
   * The kernel BUGs its steps check (`c.bug`), by the function the kernel's check is in (the
   * first word of the message `c.bug` gets): `{ invalidate_inode_pages2_range:
   * 'BUG_ON(folio_mapped(folio)) (mm/truncate.c:701)' }`. A BUG the table does not list is a
   * ModelBug when it fires; `bugChecks` unites a flavor's tables, and triage answers a BUG report
   * in a function no table lists "not modelled" (a search that cannot report it proves nothing).
   */
  bugs?: Readonly<Record<string, string>>;
  /**
   * BUG checks the kernel makes in a function of `bugs` that no step of the procedure makes,
   * each with file:line and version: `{ invalidate_inode_pages2_range:
   * ['VM_BUG_ON_FOLIO(!folio_contains(folio, index), folio) (mm/truncate.c:692, 6.1.192)'] }`.
   * A report of a BUG in that function that does not say which check fired (no page dump
   * reason) may be one of these: triage then takes a search that misses the modelled check as
   * no proof (`uncheckedBugs`).
   */
  bugsUnchecked?: Readonly<Record<string, readonly string[]>>;
}

/** A program a scenario thread can run: an entry procedure plus how its arguments become locals. */
export interface Program {
  /** The procedure the thread starts in. */
  proc: string;
  description: string;
  /**
   * Turns the scenario's `args` into the entry frame's locals. Throws `ArgError` (with the
   * argument's name) for an argument the scenario got wrong; the caller adds file:line.
   */
  start(args: Readonly<Record<string, unknown>>, env: Env): Locals;
  /**
   * The program may begin a user read (`Ctx.beginRead`: a read(), a load through a mapping) and
   * judge the data it sees (rule stale-data) — the only judgement that reads what a page holds.
   * A machine none of whose threads runs such a program does not track page contents
   * (data.ts `UNTRACKED`): they cannot change a verdict there, and states that differ only in
   * them are one state. A program that begins a read without saying so is a ModelBug on the
   * first path that does (Ctx.beginRead), never a read judged on untracked data.
   */
  readsData?: boolean;
  /**
   * Interleavings of the kernel's code behind this program that its steps do not produce (see
   * `Machine.notSearched`): a machine with a thread that runs it lists them beside its verdicts.
   */
  notSearched?: readonly string[];
  /**
   * The procedure of the I/O completion context this program's reads need: it submits reads and goes
   * on before they complete (6.x readahead: read_pages returns with the folios locked and not uptodate).
   * A machine with a thread that runs it adds that context as a daemon thread `end_io` (model.ts), which
   * completes the reads in flight.
   */
  endIo?: string;
}

export class ArgError extends Error {
  constructor(
    readonly arg: string,
    message: string,
  ) {
    super(message);
    this.name = 'ArgError';
  }
}

export const r = (loc: string): Access => ({ loc, mode: 'read' });
export const w = (loc: string): Access => ({ loc, mode: 'write' });
export const acquire = (loc: string): Access => ({ loc, mode: 'write', lock: 'acquire' });
export const release = (loc: string): Access => ({ loc, mode: 'write', lock: 'release' });

/**
 * Marks an access with its Linux-kernel memory model kind (the primitive the kernel code uses,
 * the value, the fences around it, and the source it comes from); see docs/memory-model.md.
 */
export function lk(
  a: Access,
  op: LkmmAccess['op'],
  value: number,
  cite: string,
  fences: Pick<LkmmAccess, 'before' | 'after' | 'word' | 'under' | 'addr'> = {},
): Access {
  return { ...a, lkmm: { op, value, cite, ...fences } };
}

/** A step that touches nothing shared: yield(), cond_resched(), a local decision. */
export function localStep(label: string, run: (c: Ctx) => void, where?: string): StepDef {
  return where === undefined ? { label, run } : { label, run, where };
}
