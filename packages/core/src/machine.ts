/**
 * The contract between the model and the explorer (loom's split: the explorer knows
 * threads, steps and accesses; the model knows the kernel and nothing about schedules).
 *
 * A Machine is one scenario instantiated on one kernel flavor. It is pure: `step` returns
 * a new state and never mutates the one it was given, so the explorer may keep, hash and
 * revisit states freely.
 */
import type { MmOp } from './mmop.js';
import type { FileKey, RuleId } from './rules.js';

/** A shared location a step touches; DPOR's dependency relation is built from these. */
export interface Access {
  /** Stable location name, e.g. `M0.truncate_count`, `pfn3.mapcount`, `M0.tree_lock`, `ptl:mm1:0x1000`. */
  loc: string;
  mode: 'read' | 'write';
  /**
   * Set on the access a lock operation makes to its lock's loc (mode 'write'): the explorer
   * draws lock hand-offs (release by one thread → next acquire by another) from it in
   * Perfetto traces. Optional; the dependency relation never needs it.
   */
  lock?: 'acquire' | 'release';
  /**
   * How the kernel code makes this access under the Linux-kernel memory model, when the step
   * program says so (`explore --memory-model lkmm` derives litmus tests from these; the SC
   * explorer ignores them). Accesses without it are left out of derived litmus tests.
   */
  lkmm?: LkmmAccess;
}

/** A fence as the kernel code writes it. */
export type LkmmFence = 'smp_mb' | 'smp_rmb' | 'smp_wmb' | 'smp_mb__before_atomic' | 'smp_mb__after_atomic' | 'smp_mb__after_spinlock';

/** The kernel primitive an access is made with (`plain` = a C access without READ_ONCE/WRITE_ONCE; `plain-inc` = `x++`). */
export type LkmmOp =
  | 'plain-read'
  | 'plain-write'
  | 'READ_ONCE'
  | 'WRITE_ONCE'
  | 'smp_load_acquire'
  | 'smp_store_release'
  | 'atomic_read'
  | 'atomic_set'
  | 'atomic_inc'
  | 'atomic_dec'
  | 'atomic_inc_return'
  | 'atomic_dec_return'
  | 'plain-inc'
  | 'plain-dec'
  | 'spin_lock'
  | 'spin_unlock'
  /** A lockless test of a lock word (folio_test_locked on PG_locked, which the marks make a spin lock); `value` 1 when held. */
  | 'spin_is_locked'
  /** A fully ordered exchange (`xchg(x, 0)`: ptep_get_and_clear on x86-64); `value` is the value before. */
  | 'xchg'
  /** `set_bit`/`clear_bit` on one flag (an unordered RMW storing 1 / 0; `value` is the bit after). */
  | 'set_bit'
  | 'clear_bit'
  /**
   * Not a memory access of the kernel: a model judgement's read (what an invariant looks at) or
   * the bookkeeping of a lock whose critical section the step's other accesses carry (`under`).
   * Derived litmus tests leave it out; its `cite` says why it is not kernel memory.
   */
  | 'ghost'
  /** The page allocator handing out a new page (the model names pages by allocation order). */
  | 'alloc';

export interface LkmmAccess {
  op: LkmmOp;
  /** The value read (reads), the value before (atomic read-modify-writes), the value stored (stores); 0 for locks. */
  value: number;
  /** Fences the code has just before / just after the access, in program order. */
  before?: readonly LkmmFence[];
  after?: readonly LkmmFence[];
  /** Where the kind comes from: `include/linux/seqschedlock.h:41 (seed patch)`, `mm/memory.c do_no_page() 2.6.15`. */
  cite: string;
  /**
   * The memory word, when finer than the model's location: one slot of the page-cache tree
   * (`M0.tree[3]` of the model's `M0.tree`). Default: the access's `loc`.
   */
  word?: string;
  /**
   * A spin lock the code holds around this access within the same step (the model folds the
   * lock into the step: `read_lock_irq(&mapping->tree_lock)` in find_get_page). Consecutive
   * accesses of one step with the same `under` share one critical section in a derived test.
   */
  under?: string;
  /** The value read is a pointer the code dereferences afterwards (an address dependency). */
  addr?: boolean;
}

export interface StepInfo {
  /** What the step does, in kernel words: `do_no_page: seq = mapping->truncate_count`. */
  label: string;
  /** Kernel source it stands for: `mm/memory.c do_no_page() 2.6.15`. */
  where?: string;
  /**
   * Everything the step reads and writes. A blocked step (enabled=false) still declares the
   * accesses it would make when it runs (a lock acquire writes the lock's loc), so the
   * explorer sees that it conflicts with the holder's release and explores both orders.
   */
  accesses: readonly Access[];
  /** False when the step would block (lock held by another thread, waiting on PG_locked). */
  enabled: boolean;
  /** When blocked: on what, in words (`PG_locked of pfn 3, held by T1`). */
  blockedOn?: string;
}

/** An invariant broken by a step, reported with a rule id of DESIGN.md. */
export interface ModelViolation {
  rule: RuleId;
  message: string;
  file?: FileKey;
  index?: number;
  pfn?: number;
}

/** What a search that keeps only states needs of a step (`Machine.advance`). */
export interface StepOutcome<S> {
  state: S;
  /** Invariants broken by this step (checked right after it). */
  violations: ModelViolation[];
}

export interface StepResult<S> {
  state: S;
  /** The MmOps a traced kernel would show for this step (rendered into explorer traces). */
  ops: MmOp[];
  /** Invariants broken by this step (checked right after it). */
  violations: ModelViolation[];
  /** The state change in a few words (`truncate_count 0→1`), for the interleaving table. */
  effect: string;
}

export interface ThreadInfo {
  id: number;
  /** Display name, also the comm in rendered traces (≤ 15 chars). */
  name: string;
  /** Program name in the flavor (`fault`, `odirect_write`, `truncate`, ...). */
  program: string;
  args: Readonly<Record<string, unknown>>;
  /**
   * A context the machine adds to serve the others (mm-model: `end_io`, the I/O completion of reads in
   * flight), never the scenario's: blocked while it has nothing to do, it does not keep a run from its
   * end. A state where every other thread has finished and it is blocked is terminal (the final
   * invariants are judged), not a deadlock; it is never reported as a thread that cannot reach its end.
   */
  daemon?: boolean;
}

/** `Machine.readiness`: thread finished / can step / blocked. */
export const THREAD_DONE = 0;
export const THREAD_ENABLED = 1;
export const THREAD_BLOCKED = 2;
export type ThreadReadiness = typeof THREAD_DONE | typeof THREAD_ENABLED | typeof THREAD_BLOCKED;

export interface Machine<S = unknown> {
  readonly flavor: string;
  readonly threads: readonly ThreadInfo[];
  initial(): S;
  /** Thread t's next step in state s, or null when t has finished. */
  next(s: S, t: number): StepInfo | null;
  /** Run thread t's next step; only called when `next(s, t)` is enabled. */
  step(s: S, t: number): StepResult<S>;
  /**
   * Optional cheap form of `step` for searches that keep only the next state and the violations
   * (no ops, no effect text: what a counterexample's rendering needs is asked of `step` again).
   * Must give the state and violations `step` gives.
   */
  advance?(s: S, t: number): StepOutcome<S>;
  /** Canonical key: equal states give equal keys (visited-state hashing, cycle detection). */
  key(s: S): string;
  /**
   * Optional compact form of `key`: writes the canonical state into `out` as 32-bit words and
   * returns how many words it takes. When that is more than `out.length` nothing past the end
   * is written: call again with a buffer at least that long. Two states must give equal words
   * exactly when `key` gives them equal strings (explore's visited set hashes these words
   * instead of building a string per state when a machine has this).
   */
  encode?(s: S, out: Int32Array): number;
  /**
   * Optional inverse of `encode`: a state equal to the one `encode` wrote `words[0..n)` for (by
   * this machine). A search that has it keeps the states it has yet to expand as their words
   * in its visited set, not as objects.
   */
  decode?(words: Int32Array, n: number): S;
  /**
   * Optional, with `encode` and `decode`: what lets machines built alike in different threads
   * (explore's `--workers`) send each other states as words. A machine's words number the
   * things they name (strings, object shapes, shared parts) in the order it met them, so the
   * words of one machine mean nothing to another until it has read the first one's definitions.
   */
  exchange?: WordExchange;
  /**
   * Optional, with `encode` and `decode`: what lets the exhaustive search reuse a thread's step
   * across states (step memoization, explore's `memoSteps`, on by default).
   */
  stepMemo?: StepMemo<S>;
  /**
   * Optional cheap form of `next` for searches that only need to know who can step: thread t
   * in s has finished (`THREAD_DONE`, where `next` gives null), can step (`THREAD_ENABLED`) or
   * is blocked (`THREAD_BLOCKED`). Must agree with `next`; it builds no label and no accesses.
   */
  readiness?(s: S, t: number): ThreadReadiness;
  /** Invariants judged when every thread has finished (e.g. stale data left mapped). */
  final?(s: S): ModelViolation[];
  /** A human-readable dump of the state, for counterexample reports. */
  describe?(s: S): string;
  /**
   * Optional: interleavings of the kernel's code that this machine's threads run and that its
   * steps do not produce (an I/O completion folded into the step that submits it, a path the
   * model leaves out), each a sentence. An exhaustive search covers every interleaving of the
   * machine, not these: the outputs say so beside the verdict.
   */
  readonly notSearched?: readonly string[];
}

/**
 * `Machine.stepMemo`: the parts of a state a step depends on, said over the state's words
 * (`Machine.encode`), so that a search can key thread t's step by them and reuse its result.
 * The words of a state end with one word per thread (its whole part: frames, locals, status);
 * everything before them is the state's shared part.
 */
export interface StepMemo<S> {
  /**
   * Where the threads' words begin in `words[0..n)` (thread u's word is at the result + u, and
   * they are the last words), or -1 when these words are not laid out so (the search then runs
   * every step of that state).
   */
  threadsAt(words: Int32Array, n: number): number;
  /**
   * What thread t's step from s reads of the other threads, written into `out` from `at` on;
   * returns where it ended. The promise: thread t's step from two states with the same words
   * before the threads', the same word for thread t and the same words written here gives the
   * same violations and successors whose words are equal but for the other threads' words —
   * which it leaves as they were in the state it started from.
   */
  otherReads(s: S, t: number, out: Int32Array, at: number): number;
  /**
   * Optional: what `otherReads` writes of thread u, written into `out` from `at` on; returns
   * where it ended. The promise: `otherReads(s, t)` writes `readsOf(s, u)` for every u ≠ t, in
   * order, and `readsOf(s, u)` is a function of u and thread u's word. With it (and `ownReadiness`) the
   * one-thread search keys a state's steps by its words alone and decodes only the states whose
   * steps it does not know.
   */
  readsOf?(s: S, u: number, out: Int32Array, at: number): number;
  /**
   * Optional: whether thread t's readiness in s (`Machine.readiness`) is a function of its own
   * word alone (it has finished, or its next step never blocks). The promise covers readiness
   * too: it is a function of the words before the threads' and thread t's word, as a step is.
   */
  ownReadiness?(s: S, t: number): boolean;
  /**
   * Optional: finer keys. With it the one-thread search also keys a step by the places of the
   * shared part it read rather than by the whole shared part, and reuses it across states that
   * differ only in places it neither read nor wrote.
   */
  places?: StepPlaces<S>;
}

/**
 * `StepMemo.places`: the shared part of a state's words cut into places (a page, a mapping, a
 * lock word, …), and a step run while noting the places it reads.
 *
 * The promise: let thread t's step from s1 (`advanceNoting`) read the places R (not `all`) —
 * where a place it wrote counts as read — and leave the names of the places as they were (`cut`
 * of its successor's shared words gives s1's names). Then thread t's step from any s2 this search
 * meets whose words have every place of R with the very words s1 has there (a place of R that s1
 * lacks, s2 lacks too), the same word for thread t and the same `otherReads`, gives the violations
 * s1's gave, the thread word s1's successor has, the other threads' words of s2, and as shared
 * words s2's with every place whose words s1's step changed replaced by s1's successor's words
 * there; and thread t is enabled in s2 as it was in s1 (what its readiness read is in R).
 */
export interface StepPlaces<S> {
  /**
   * The shared words `words[0..at)` (`at`: what `threadsAt` gave) cut into places, in order:
   * place i's name at `out[2i]`, where its words begin at `out[2i + 1]` (it ends where the next
   * begins, the last at `at`); returns the number of places, or -1 when these words cannot be cut
   * (or `out` is too short). A name means the same part of the state in every state of this
   * machine whose words have it.
   */
  cut(words: Int32Array, at: number, out: Int32Array): number;
  /**
   * Thread t's step from s, as `advance` gives it, with the names (as `cut` names s's places) of
   * the places it read or wrote, ascending without repeats; `all` when its result depends on the
   * whole shared part (then `reads` means nothing).
   */
  advanceNoting(s: S, t: number): { outcome: StepOutcome<S>; reads: Int32Array; all: boolean };
}

/** `Machine.exchange`: definitions out, translation in, and a hash every machine built alike agrees on. */
export interface WordExchange {
  /** Length of this machine's log of definitions (it only grows, and a definition only uses earlier ones). */
  definitionsLength(): number;
  /** The log of definitions from position `from` on (a copy), for another machine's `WordImporter.define`. */
  definitions(from: number): Int32Array;
  /** A translator of words written by one other machine into this machine's numbering. */
  importer(): WordImporter;
  /**
   * A hash of `words[0..n)` (this machine's words) that does not depend on how the machine
   * numbered anything: equal states give equal hashes in every machine built alike.
   */
  portableHash(words: Int32Array, n: number): number;
}

export interface WordImporter {
  /** Read the other machine's definitions, in the order its log gives them (every slice once). */
  define(defs: Int32Array): void;
  /** Renumber the other machine's words `words[from..to)` (a state's, self-delimiting) in place into this machine's numbers. */
  translate(words: Int32Array, from: number, to: number): void;
}
