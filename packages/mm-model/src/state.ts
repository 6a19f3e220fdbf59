/**
 * The model's state (DESIGN.md "The model", layer 1): address spaces, pages, page tables,
 * locks with owners, and per-thread program counters. Every object here is treated as
 * immutable; `Draft` (draft.ts) copies on write, so a step shares everything it did not touch
 * with the state it started from.
 */

/** Page flags (include/linux/page-flags.h names). PG_locked's owner is `PageS.locker`. */
export const PG = {
  locked: 1,
  uptodate: 2,
  dirty: 4,
  writeback: 8,
  private: 16,
} as const;
export type PageFlag = keyof typeof PG;
export const PAGE_FLAGS = Object.keys(PG) as PageFlag[];

export const PAGE_SIZE = 4096;
/** PTEs per page table (x86-64): one `ptl` guards 512 consecutive pages of one mm. */
export const PTRS_PER_PTE = 512;
/** No page, no owner, no mapping. */
export const NONE = -1;

/** struct page, the fields the modelled code touches. */
export interface PageS {
  readonly pfn: number;
  /** Mapping id (index into `MmState.maps`), NONE when `page->mapping == NULL`. */
  readonly mapping: number;
  readonly index: number;
  /** PG bits. */
  readonly flags: number;
  /** page_count(): page cache reference + lookups in flight + one per PTE. */
  readonly refcount: number;
  /** page_mapcount() (the kernel stores it minus one; this is the count itself). */
  readonly mapcount: number;
  /** Thread holding PG_locked, NONE when unlocked. */
  readonly locker: number;
  /**
   * The contents the page holds (data.ts): the version it was read from disk with or last
   * written with; NONE while it has not been read (a new page before its read I/O completes).
   */
  readonly data: number;
  /**
   * Large folios (6.12): folio_order(); absent for order 0. A folio is one PageS at its head
   * pfn; the page cache slots and PTEs of every index it covers hold that pfn. `mapcount` is
   * then folio_mapcount() (`_large_mapcount` + 1: PTE and PMD mappings), `pmap` each page's
   * own `_mapcount` + 1, `entire` `_entire_mapcount` + 1 (PMD mappings).
   */
  readonly order?: number;
  readonly pmap?: readonly number[];
  readonly entire?: number;
  /** secretmem: set_direct_map_invalid_noflush() removed the page from the kernel direct map. */
  readonly nodirect?: boolean;
  /**
   * The threads asleep on this folio's PG_locked that gave up their reference (folio_put_wait_locked(), behavior
   * DROP): bit `1 << tid` each; absent when none. The folio's PG_waiters and the entries of its wait queue
   * (folio_wait_bit_common() sets PG_waiters and queues the sleeper while PG_locked is set, 6.1.192
   * mm/filemap.c:1290-1293, 6.12.118 1266-1269). Every release of PG_locked (`Ctx.unlockPage`: folio_unlock(),
   * folio_end_read()) clears it: folio_wake_bit() sets WQ_FLAG_WOKEN on each (6.1.192 mm/filemap.c:1139, 1554;
   * 6.12.118 1141, 1514, 1544), and the sleeper never looks at the folio again. Set only while PG_locked is held,
   * so never on a free pfn. Ctx.queueDropWaiter, Ctx.dropWaitAsleep.
   */
  readonly waiters?: number;
}

/** The threads of a `PageS.waiters`, ascending. */
export function waiterTids(waiters: number): number[] {
  const out: number[] = [];
  for (let t = 0; t <= 30; t++) if (waiters & (1 << t)) out.push(t);
  return out;
}

/** Pages a folio covers: 1 << folio_order(). */
export function folioNr(p: PageS): number {
  return 1 << (p.order ?? 0);
}

/** A sleeping or spinning lock that may be held shared (rwsem, rwlock) or exclusive. */
export interface LockS {
  /** Exclusive owner, NONE when not write-held. */
  readonly writer: number;
  /** Threads holding it shared, ascending. */
  readonly readers: readonly number[];
}
export const UNLOCKED: LockS = Object.freeze({ writer: NONE, readers: Object.freeze([]) as readonly number[] });

/** struct address_space (plus the inode's i_size). */
export interface MappingS {
  /** The page cache: index → pfn, NONE for a hole. */
  readonly cache: readonly number[];
  /** i_size in bytes. */
  readonly isize: number;
  readonly truncateCount: number;
  readonly nrpages: number;
  /** The seed's seqschedlock_t invalidate_lock. */
  readonly sslWriters: number;
  readonly sslSequence: number;
  /** 6.x `mapping->invalidate_lock` (rwsem). */
  readonly invalidateLock: LockS;
  /** `i_mmap_lock` (2.6 spinlock, exclusive only) / 6.x `i_mmap_rwsem`. */
  readonly immap: LockS;
  /**
   * Page ranges [start, end] (inclusive) an `invalidate_inode_pages2_range` (or the O_DIRECT
   * write that called it) returned success for: from then on every PTE in them must map the
   * page cache's current page (rule stale-after-invalidate).
   */
  readonly coherent: readonly (readonly [number, number])[];
  /**
   * The inode lock: `i_sem` (2.6.15), `i_mutex` (2.6.23), `i_rwsem` (6.x, shared or
   * exclusive). Truncate, hole punch and O_DIRECT writes take it; faults and reads do not.
   */
  readonly ilock: LockS;
  /** Per page index: the disk block holding it (an index into MmState.disk), NONE for a hole. */
  readonly bmap: readonly number[];
  /** Per page index: the generation of the zeros a read of a hole (or past EOF) returns (data.ts). */
  readonly hole: readonly number[];
  /** Per page index: the newest generation written (the next write takes gen + 1). */
  readonly gen: readonly number[];
  /**
   * Per page index: the generation of the newest write that *returned* — a read that starts
   * after that must observe that generation or a newer one (rule stale-data).
   */
  readonly floor: readonly number[];
  /**
   * A truncate that set this i_size has returned (6.12 flavor): from then on no PTE or PMD may
   * map an index at or past ceil(i_size / PAGE_SIZE) (rule mapped-beyond-eof). Absent = unset.
   */
  readonly eofSettled?: boolean;
  /** hugetlb_fault_mutex_table[hash] of this file's huge pages (the model hashes every index of a file to one mutex). */
  readonly faultMutex?: LockS;
}

/** One frame of a thread's call stack: which procedure, where in it, its locals. */
export interface Frame {
  readonly proc: string;
  readonly pc: string;
  readonly l: Locals;
}
export type LocalValue = number | readonly number[];
export type Locals = Readonly<Record<string, LocalValue>>;

export type ThreadStatus = 'run' | 'done' | 'oops';
export interface ThreadS {
  /** Call stack, innermost last. Empty once finished. */
  readonly frames: readonly Frame[];
  /** `oops`: the thread hit a BUG() and is dead, holding whatever it held. */
  readonly status: ThreadStatus;
  /**
   * The user read in progress (read(), a load through a mapping): [file, index, floor], the
   * floor being MappingS.floor at the index when the read started. Kept in the state, not in
   * locals, because generations are renumbered (data.ts canonicalData).
   */
  readonly obs?: readonly number[];
  /** The write in progress: [file, index, gen] triples it wrote; each becomes the floor when it returns. */
  readonly wrote?: readonly number[];
}

export interface MmState {
  /** Indexed by pfn; holes are pfns never allocated. */
  readonly pages: readonly (PageS | undefined)[];
  /** Indexed by mapping id (the scenario's files in order). */
  readonly maps: readonly MappingS[];
  /** Per VMA (scenario order), per page of the VMA: the pfn its PTE maps, NONE if pte_none. */
  readonly ptes: readonly (readonly number[])[];
  /** Per page table (see Env.ptls): owner of its PTE lock, NONE when free. */
  readonly ptl: readonly number[];
  /** Per disk block: the data it holds (data.ts tag), NONE when free. */
  readonly disk: readonly number[];
  /**
   * Per page table (Env.ptls), the PMD entry above it (flavors with large folios only):
   * NONE = pmd_none, PMD_TABLE = a PTE table is installed, a pfn = a huge PMD maps that folio.
   */
  readonly pmds?: readonly number[];
  /**
   * Per VMA, per page of the VMA (as `ptes`): 1 when that PTE's dirty bit is set, 0 when not —
   * the bit a store sets in the PTE where the flavor keeps it there (2.6.15, 2.6.23: kernel/store.ts)
   * and a write fault's pte_mkdirty(); the zap moves it to the page (kernel/unmap.ts), 2.6.23's
   * writeback cleans it (page_mkclean: flavors/linux-2.6.15/odirect.ts), and on 2.6.23 it is also the
   * PTE's write bit (write notification). Absent while no PTE is dirty (never an all-zero table:
   * equal states stay one state), so flavors that never set the bit carry nothing.
   */
  readonly pted?: readonly (readonly number[])[];
  readonly threads: readonly ThreadS[];
}
/** `MmState.pmds` value: a PTE table is installed under the PMD. */
export const PMD_TABLE = 0;

/** Canonical key: equal states give equal strings. Cheap string building, no JSON. */
export function stateKey(s: MmState): string {
  let k = '';
  for (const p of s.pages) {
    if (p === undefined) {
      k += '_;';
      continue;
    }
    k += `${p.mapping},${p.index},${p.flags},${p.refcount},${p.mapcount},${p.locker},${p.data}`;
    if (p.order !== undefined) k += `o${p.order}e${p.entire ?? 0}m${(p.pmap ?? []).join('.')}`;
    if (p.waiters) k += `w${p.waiters}`;
    k += p.nodirect ? '!;' : ';';
  }
  k += '|';
  for (const m of s.maps) {
    k +=
      `${m.cache.join(',')}/${m.isize}/${m.truncateCount}/${m.nrpages}/${m.sslWriters}/${m.sslSequence}/` +
      `${lockKey(m.invalidateLock)}/${lockKey(m.immap)}/${m.coherent.map((r) => `${r[0]}-${r[1]}`).join(',')}${m.eofSettled ? '/e' : ''}${m.faultMutex ? `/h${lockKey(m.faultMutex)}` : ''}/` +
      `${lockKey(m.ilock)}/${m.bmap.join(',')}/${m.hole.join(',')}/${m.gen.join(',')}/${m.floor.join(',')};`;
  }
  k += `|${s.disk.join(',')}`;
  k += '|';
  for (const v of s.ptes) k += `${v.join(',')};`;
  k += `|${s.ptl.join(',')}|`;
  if (s.pmds) k += `${s.pmds.join(',')}|`;
  if (s.pted) k += `d${s.pted.map((v) => v.join(',')).join(';')}|`;
  for (const t of s.threads) {
    k += t.status === 'run' ? '' : t.status;
    if (t.obs) k += `o${t.obs.join(',')}`;
    if (t.wrote) k += `w${t.wrote.join(',')}`;
    for (const f of t.frames) k += `${f.proc}@${f.pc}${localsKey(f.l)}>`;
    k += ';';
  }
  return k;
}

function lockKey(l: LockS): string {
  return l.readers.length === 0 ? `${l.writer}` : `${l.writer}r${l.readers.join('.')}`;
}

/** Frames keep their locals in sorted name order (Ctx.sortLocals), so no sort here. */
function localsKey(l: Locals): string {
  let k = '{';
  for (const n in l) {
    const v = l[n]!;
    k += `${n}=${typeof v === 'number' ? v : `[${v.join(',')}]`},`;
  }
  return `${k}}`;
}

export function flagNames(flags: number): string[] {
  return PAGE_FLAGS.filter((f) => (flags & PG[f]) !== 0);
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
