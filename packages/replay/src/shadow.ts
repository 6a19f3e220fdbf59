/**
 * The replay's state: a streaming, mutable shadow of the page cache and of the PTEs that
 * map its pages, keyed by pfn and by (file, index). It holds only what is live — pages in
 * the cache, pages removed from it (their pfn may still be mapped or mapped again: that is
 * the race), open calls per task — never the trace itself. Its size is bounded by the
 * traced machine's memory (one record per pfn) and task count, not by the trace's length.
 *
 * It is not the explorer's state (packages/mm-model): that one is immutable, hashed and
 * complete (locks, flags, i_size); this one only knows what a trace can show and is
 * mutated in place millions of times a second. docs/replay.md relates the two.
 */
import type { TraceEvent } from '@kreplay/core';
import { fileKey, type FileKey, type FileRef, type Finding, type MmOp } from '@kreplay/core';
import { UNKNOWN_DEV } from './adapters/probe-adapter.js';
import type { Note } from './certainty.js';

/** A mapping the trace showed being made, for citation (the newest few per page). */
export interface MapCite {
  ev: TraceEvent;
  /** The fault that task was in when it mapped the page, if traced. */
  fault?: TraceEvent;
  /** Virtual address, when the probe fetched it (matches the PTE's removal). */
  address?: bigint;
  /** Replay sequence number of the mapping (a task that exited after it no longer names its address space: Shadow.mapped). */
  seq: number;
}

/** One life of one pfn: from its cache_add (or first sighting) to its next cache_add. */
export interface PageRec {
  pfn: bigint;
  /** Page-cache identity; undefined for a page first seen through a PTE probe that fetched no file. */
  file?: FileState;
  index?: number;
  /** In the page cache now (false once removed: `page->mapping == NULL`). */
  inCache: boolean;
  /** PTEs mapping it, as replayed. */
  mapcount: number;
  /** Its cache_add is in the trace: no mapping can predate it. False for adopted pages. */
  born: boolean;
  add?: TraceEvent;
  /** Its removal, and the call the removing task was in (invalidate/truncate entry) and that call's function. */
  del?: TraceEvent;
  delCall?: TraceEvent;
  delFn?: string;
  /** Replay sequence number of the delete (to compare with invalidates that follow it). */
  delSeq?: number;
  maps: MapCite[];
  /**
   * Replay sequence number from which the page's *cache facts* — in the page cache or not,
   * and as which (file, index) — are known from the trace alone: its cache_add or adoption,
   * or the cache_delete that removed it. A mapcount says nothing about them.
   */
  cacheSync: number;
  /**
   * Replay sequence number from which the number of PTEs mapping the page is known: its
   * cache_add or adoption, or an event that carried the kernel's own `_mapcount`.
   */
  mapSync: number;
  /**
   * Why a fact is not known even after its sync point: an event the trace showed but replay
   * could not use named this page, or events whose order the clock cannot decide left it in
   * a state that depends on that order. Cleared when the trace re-establishes the fact.
   */
  cacheUnsure?: Note;
  mapUnsure?: Note;
  /** Whether this life was already reported stale depends on an order of tied events (one stale-after-invalidate per life). */
  staleUnsure?: Note;
  /** Replay sequence number of this life's first sighting (its cache_add, or its adoption). */
  bornSeq: number;
  /**
   * A successful invalidate_inode_pages2_range over this page's index began after the page
   * was cached and returned with the page still cached: whoever is served from it later
   * gets data from before the invalidate (rule stale-data).
   */
  survived?: { begin?: TraceEvent; ret: TraceEvent; reported: boolean };
  /** CPUs whose events touched this life of the page (a gap on one of them may hide more), at most CPUS_KEPT of them. */
  cpus: number[];
  /** More CPUs touched this life than `cpus` keeps: a gap on any CPU may hide more. */
  cpusAll: boolean;
}

/**
 * A range an invalidate_inode_pages2_range returned 0 for: from then on every PTE in it must
 * map the page cache's current page (the model's `coherent` ranges).
 */
export interface Promise_ {
  start: number;
  end: number;
  begin?: TraceEvent;
  ret: TraceEvent;
}

export interface FileState {
  key: FileKey;
  ref: FileRef;
  /** index → the page the cache holds there now. */
  cache: Map<number, PageRec>;
  /** Removed pages that PTEs still map (candidates for stale-after-invalidate). */
  mappedGhosts: Set<PageRec>;
  /** Ranges promised coherent, by promiseKey (the newest promise of each), at most PROMISES_KEPT, oldest dropped first. */
  promised: Map<PromiseKey, Promise_>;
  /** The smallest range holding every promise dropped from `promised` (undefined: none dropped): a page in it may have been promised. */
  forgotten: { start: number; end: number } | undefined;
}

export const PROMISES_KEPT = 256;

/** A range's key in `promised`: a number when both ends fit 26 bits (a string built and hashed per return cost more than the rule), else `start:end`. */
export type PromiseKey = number | string;
const KEY_BITS = 2 ** 26;

/** One key per range (start, end), and different ranges never share one: a number and a string are never equal. */
export function promiseKey(start: number, end: number): PromiseKey {
  return start >= 0 && end >= 0 && start < KEY_BITS && end < KEY_BITS ? start * KEY_BITS + end : `${start}:${end}`;
}

/** The address space an event's task maps in: its thread group when the trace shows it, else the task itself. */
function mmOf(ev: TraceEvent): number {
  return ev.tgid ?? ev.pid;
}
const MAP_CITES_KEPT = 4;

/** An address as a Map key: a number while exact (user addresses are), else the bigint — the two never equal, so distinct addresses get distinct keys. */
type AddressKey = number | bigint;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
export function addressKey(address: bigint): AddressKey {
  return address <= MAX_SAFE && address >= -MAX_SAFE ? Number(address) : address;
}

/** The address space and address key of a pteKey (`mm:address`). */
function splitPteKey(key: string): [number, AddressKey] {
  const colon = key.indexOf(':');
  return [Number(key.slice(0, colon)), addressKey(BigInt(key.slice(colon + 1)))];
}
const CPUS_KEPT = 64;

/** A call a task is in: fault, invalidate, truncate (entry seen, return not yet). */
export interface OpenCall {
  op: MmOp;
  seq: number;
  /** Another call of the same family was open on this task when it began (truncate_pagecache → truncate_inode_pages_range). */
  nested: boolean;
  family: 'fault' | 'invalidate' | 'truncate';
  /** `fault`, `invalidate:<fn>`, `truncate:<fn>`. */
  key: string;
}

/**
 * A task's open calls by key, in the order their keys were first opened (a Map's order: setting
 * an open key replaces its call in place). A task has zero to two open calls, opened and closed
 * once per call: an array scanned by key, where a Map emptied on every return shrank its
 * table — a runtime call and a new table — once per call.
 */
export class OpenCalls {
  /** The calls in slots 0..n-1; the array never shrinks (a shorter length would trim its store, to grow it again at the next call). */
  private readonly list: Array<OpenCall | undefined>;
  private n: number;

  constructor(from: readonly OpenCall[] = []) {
    this.list = from.slice();
    this.n = from.length;
  }

  get size(): number {
    return this.n;
  }

  get(key: string): OpenCall | undefined {
    const l = this.list;
    for (let i = 0; i < this.n; i++) if (l[i]!.key === key) return l[i];
    return undefined;
  }

  set(call: OpenCall): void {
    const l = this.list;
    for (let i = 0; i < this.n; i++)
      if (l[i]!.key === call.key) {
        l[i] = call;
        return;
      }
    l[this.n++] = call;
  }

  delete(key: string): void {
    const l = this.list;
    for (let i = 0; i < this.n; i++) {
      if (l[i]!.key !== key) continue;
      for (let j = i + 1; j < this.n; j++) l[j - 1] = l[j];
      l[--this.n] = undefined;
      return;
    }
  }

  /** The open calls, oldest key first. */
  values(): OpenCall[] {
    return this.list.slice(0, this.n) as OpenCall[];
  }

  /** Whether a call of `family` is open, other than `key`'s. */
  otherOf(family: OpenCall['family'], key: string): boolean {
    const l = this.list;
    for (let i = 0; i < this.n; i++) if (l[i]!.family === family && l[i]!.key !== key) return true;
    return false;
  }

  /** The open call of `family` that began first. */
  oldestOf(family: OpenCall['family']): OpenCall | undefined {
    const l = this.list;
    let found: OpenCall | undefined;
    for (let i = 0; i < this.n; i++) {
      const c = l[i]!;
      if (c.family === family && (!found || c.seq < found.seq)) found = c;
    }
    return found;
  }

  keys(): string[] {
    return this.values().map((c) => c.key);
  }

  entries(): Array<[string, OpenCall]> {
    return this.values().map((c) => [c.key, c]);
  }

  copy(): OpenCalls {
    return new OpenCalls(this.values());
  }
}

/** Made with every field present (Shadow.task), as page records are (newPage): one hidden class. */
export interface TaskState {
  comm: string;
  calls: OpenCalls;
  /** The task's previous op (nested probes describing one kernel action are merged into it). */
  last?: MmOp;
  /** The replay sequence number of `last` (or of the op merged into it last): nested PTE probes are the next op on their CPU. */
  lastSeq?: number;
  /**
   * The events merged into `last` besides its own: each probe of a nested pair fires once per
   * action, so a second event of one of them is another action (a fresh array each time, so the
   * tie search's shallow copy of the task restores it).
   */
  merged?: readonly string[];
  /**
   * Entry of the task's latest fault, kept after it returns: 6.1 installs the PTE in
   * finish_fault, after filemap_fault has returned, still within the same fault.
   */
  fault?: TraceEvent;
  /**
   * The task's latest PTE that may map a private write fault's anonymous copy (a do_set_pte the
   * trace cannot place, PteMapOp.anon `maybe`), until the task's next op: a nested
   * page_add_file_rmap of it proves a file mapping; anything else leaves it in doubt.
   */
  copy?: MaybeCopy;
  /**
   * Entries of probed functions (kprobe events) whose return (kretprobe) the trace has not shown
   * yet, one per function: a second entry while one is open means the return between them was
   * lost (ReplayEngine.probedCall). A fresh array each time, as `merged`.
   */
  entered?: readonly TraceEvent[];
  /**
   * Replay sequence number of the task's exit (`sched_process_exit`, a task_exit op), when the trace
   * showed one: the pid may name another task after it (ReplayEngine.taskExit).
   */
  exitSeq?: number;
}

/** A PTE that may map an anonymous copy: the findings its mapping raised, and the page facts it made unsure (with what they were). */
export interface MaybeCopy {
  note: Note;
  findings: Finding[];
  pages: Array<{ rec: PageRec; cache: Note | undefined; map: Note | undefined }>;
}

/**
 * Visit the pages `f`'s cache holds at indexes start..end (inclusive), each once, in no
 * particular order: by walking the range when it is narrower than the cache (an O_DIRECT
 * write's invalidate names a page or two of a file that may have thousands cached), else by
 * scanning the cache (a whole-file invalidate). `visit` gets `a` and `b` passed through: a
 * function that needs no closure over them, where a closure made per call (the engine's, once
 * per successful invalidate) was an allocation per call.
 */
export function cachedInRange<A, B>(f: FileState, start: number, end: number, visit: (rec: PageRec, a: A, b: B) => void, a: A, b: B): void {
  if (end - start < f.cache.size) {
    for (let index = start; index <= end; index++) {
      const rec = f.cache.get(index);
      if (rec !== undefined) visit(rec, a, b);
    }
  } else {
    for (const [index, rec] of f.cache) if (index >= start && index <= end) visit(rec, a, b);
  }
}

export class Shadow {
  /** By pfn (a number: the adapters lift no op whose pfn is not below 2^52 (PFN_LIMIT), so exact, and number keys hash fast). */
  private readonly pages = new Map<number, PageRec>();
  readonly files = new Map<FileKey, FileState>();
  private readonly byRef = new Map<FileRef, FileState>();
  /** The ref `file` found in byRef last, and its file (an entry of byRef never changes): consecutive ops mostly name one file. */
  private lastRef: FileRef | undefined;
  private lastFile: FileState | undefined;
  private readonly byIno = new Map<bigint, FileState[]>();
  readonly tasks = new Map<number, TaskState>();
  /**
   * The task `task` returned last (an entry of `tasks` stays the same object until dropTask):
   * consecutive ops mostly come from one task, and each op looked its task up by pid.
   */
  private lastPid: number | undefined;
  private lastTask: TaskState | undefined;
  /**
   * Live PTEs, where the trace gives the address (see `mapped`): per address space (mmOf), by
   * address (addressKey). Two lookups by number per PTE event, where the `mm:address` key
   * (pteKey, which the tie search still uses) was a string built from a bigint and hashed.
   */
  private readonly ptes = new Map<number, Map<AddressKey, PageRec>>();
  /** Whether a PTE whose event names no thread group was installed at a known address (then every PTE op asks otherThreadsAt). */
  tgidLessMapped = false;
  /**
   * Once `tgidLessMapped`: the address spaces with a live PTE at each address, so that
   * otherThreadsAt looks at those, not at every address space the trace has (a system-wide trace
   * has hundreds); built from `ptes` when the first PTE without a thread group comes, then kept.
   */
  private mmsAt: Map<AddressKey, Set<number>> | undefined;
  /** The order in which address spaces first got a PTE (`ptes`' own order), to list otherThreadsAt's pages as a walk of `ptes` would. */
  private readonly mmOrder = new Map<number, number>();
  /** Distinct pfns ever tracked. */
  pfnsSeen = 0;

  page(pfn: bigint): PageRec | undefined {
    return this.pages.get(Number(pfn));
  }

  /** Put back what `page(pfn)` returned before (the tie search undoing an order it tried). */
  restorePage(pfn: number, rec: PageRec | undefined): void {
    if (rec) this.pages.set(pfn, rec);
    else this.pages.delete(pfn);
  }

  /** The key of the PTE a process's event installs at `address` (see `mapped`). */
  pteKey(ev: TraceEvent, address: bigint): string {
    return `${mmOf(ev)}:${address}`;
  }

  pteAt(key: string): PageRec | undefined {
    const [mm, address] = splitPteKey(key);
    return this.ptes.get(mm)?.get(address);
  }

  /** The live PTEs of the address space `mm`, by address (made on first use). */
  private ptesOf(mm: number): Map<AddressKey, PageRec> {
    let m = this.ptes.get(mm);
    if (m === undefined) {
      m = new Map();
      this.ptes.set(mm, m);
      this.mmOrder.set(mm, this.mmOrder.size);
    }
    return m;
  }

  /** Set (or with no `rec`, drop) address space `mm`'s PTE at `key`, keeping `mmsAt`. */
  private putPte(mm: number, key: AddressKey, rec: PageRec | undefined): void {
    if (rec) {
      this.ptesOf(mm).set(key, rec);
      if (this.mmsAt) {
        let at = this.mmsAt.get(key);
        if (at === undefined) this.mmsAt.set(key, (at = new Set()));
        at.add(mm);
      }
      return;
    }
    const ptes = this.ptes.get(mm);
    if (ptes === undefined || !ptes.delete(key) || !this.mmsAt) return;
    const at = this.mmsAt.get(key);
    if (at !== undefined && at.delete(mm) && at.size === 0) this.mmsAt.delete(key);
  }

  restorePte(key: string, rec: PageRec | undefined): void {
    const [mm, address] = splitPteKey(key);
    this.putPte(mm, address, rec);
  }

  /** The file a FileRef names; a ref with an unknown device matches the one file with that inode. */
  file(ref: FileRef): FileState {
    if (ref === this.lastRef) return this.lastFile!;
    const known = this.byRef.get(ref);
    if (known) {
      this.lastRef = ref;
      this.lastFile = known;
      return known;
    }
    if (ref.dev === UNKNOWN_DEV) {
      const same = this.byIno.get(ref.ino);
      if (same && same.length === 1) return same[0]!;
    }
    const key = fileKey(ref);
    let f = this.files.get(key);
    if (!f) {
      f = { key, ref, cache: new Map(), mappedGhosts: new Set(), promised: new Map(), forgotten: undefined };
      this.files.set(key, f);
      if (ref.dev !== UNKNOWN_DEV) {
        const list = this.byIno.get(ref.ino);
        if (list) list.push(f);
        else this.byIno.set(ref.ino, [f]);
      }
    }
    if (ref.dev !== UNKNOWN_DEV) this.byRef.set(ref, f);
    return f;
  }

  task(ev: TraceEvent): TaskState {
    const pid = ev.pid;
    let t = pid === this.lastPid ? this.lastTask : this.tasks.get(pid);
    if (!t) {
      t = {
        comm: ev.comm,
        calls: new OpenCalls(),
        last: undefined,
        lastSeq: undefined,
        merged: undefined,
        fault: undefined,
        copy: undefined,
        entered: undefined,
        exitSeq: undefined,
      };
      this.tasks.set(pid, t);
    } else if (t.comm !== ev.comm) t.comm = ev.comm; // a store only when it changes: a task record outlives young collections, and a text trace's comm is a young string per line (a remembered-set entry per op)
    this.lastPid = pid;
    this.lastTask = t;
    return t;
  }

  /** Forget task `pid` (the tie search undoing an order that made it). */
  dropTask(pid: number): void {
    this.tasks.delete(pid);
    if (pid === this.lastPid) {
      this.lastPid = undefined;
      this.lastTask = undefined;
    }
  }

  /**
   * A cache_add: a new life for pfn, the cache's page at (file, index) from now on. When the old
   * life already held that slot (a page added again where it was), its entry is overwritten in
   * place: deleting a key and setting it again appends an entry and leaves a hole, so a file
   * whose pages are added again and again had its Map's table rebuilt every few adds, and the
   * young page records and events those tables pointed at kept surviving young-generation GCs
   * (docs/replay.md, session 10). Only the Map's iteration order differs, which nothing judges by.
   */
  addPage(pfn: bigint, seq: number, file: FileState, index: number): PageRec {
    const rec = this.newPage(pfn, seq, true, file, index, true);
    this.insert(rec);
    return rec;
  }

  /**
   * Start a new life for pfn (cache_add or adoption); `inserting`: the caller puts it in its slot
   * at once (addPage). The pfn's key is converted once: `Number(bigint)` is a call of ~10 ns.
   * Every field is present from the start (undefined until known), in one order: every page
   * record then has one hidden class, where fields added as a life went on (its add, its
   * removal, a survived invalidate, an unsure fact) gave records a shape per history, and the
   * engine's loads of `rec.inCache`, `rec.mapcount`, ... saw several (polymorphic, or
   * megamorphic past four). A field present and undefined reads as an absent one did; the tie
   * search's copies (`{ ...rec }`) and the self-check's dump read fields by name.
   */
  newPage(pfn: bigint, seq: number, born: boolean, file?: FileState, index?: number, inserting = false): PageRec {
    const key = Number(pfn);
    const old = this.pages.get(key);
    if (old) {
      old.file?.mappedGhosts.delete(old);
      const sameSlot = inserting && old.file === file && old.index === index;
      if (!sameSlot && old.inCache && old.index !== undefined && old.file?.cache.get(old.index) === old) old.file.cache.delete(old.index);
    } else {
      this.pfnsSeen++;
    }
    const rec: PageRec = {
      pfn,
      file,
      index,
      inCache: true,
      mapcount: 0,
      born,
      add: undefined,
      del: undefined,
      delCall: undefined,
      delFn: undefined,
      delSeq: undefined,
      maps: [],
      cacheSync: seq,
      mapSync: seq,
      cacheUnsure: undefined,
      mapUnsure: undefined,
      staleUnsure: undefined,
      bornSeq: seq,
      survived: undefined,
      cpus: [],
      cpusAll: false,
    };
    this.pages.set(key, rec);
    return rec;
  }

  /** Put rec in its file's slot (it is now the cache's page for its index). */
  insert(rec: PageRec): void {
    rec.inCache = true;
    if (rec.file && rec.index !== undefined) rec.file.cache.set(rec.index, rec);
  }

  /** Take rec out of the cache (`page->mapping = NULL`). */
  remove(rec: PageRec, seq: number): void {
    rec.inCache = false;
    rec.delSeq = seq;
    if (rec.file && rec.index !== undefined && rec.file.cache.get(rec.index) === rec) rec.file.cache.delete(rec.index);
    if (rec.mapcount > 0) rec.file?.mappedGhosts.add(rec);
  }

  /**
   * A PTE now maps rec. A PTE is only installed into an empty slot, so when the trace gives
   * the address and the same process's slot last held another mapping — the only one its
   * page had — that one was removed where the trace could not see it (a probe that finds
   * a page's file through page->mapping cannot see a removed page). Returns 1 then, else 0.
   * The process is the event's thread group, or without one its pid: a pid whose task the trace
   * showed exit since that mapping may be another task's now, in another address space (a
   * thread that exited while its process, which still maps the old page there, lives on), so
   * nothing follows from it then.
   */
  mapped(rec: PageRec, cite: MapCite): number {
    let replaced = 0;
    if (cite.address !== undefined) {
      const mm = mmOf(cite.ev);
      const ptes = this.ptesOf(mm);
      const key = addressKey(cite.address);
      const prev = ptes.get(key);
      const only = prev?.mapcount === 1 && prev.maps.length === 1 ? prev.maps[0]! : undefined;
      if (prev && only && only.address === cite.address && mmOf(only.ev) === mm && !this.exitedSince(mm, only.seq)) {
        prev.maps.length = 0;
        prev.mapcount = 0;
        prev.file?.mappedGhosts.delete(prev);
        replaced = 1;
      }
      this.putPte(mm, key, rec);
      if (cite.ev.tgid === undefined && !this.tgidLessMapped) {
        this.tgidLessMapped = true;
        this.mmsAt = new Map();
        for (const [m, ptesOfM] of this.ptes) {
          for (const k of ptesOfM.keys()) {
            let at = this.mmsAt.get(k);
            if (at === undefined) this.mmsAt.set(k, (at = new Set()));
            at.add(m);
          }
        }
      }
      if (this.tgidLessMapped) this.maybeSameProcess(cite);
    }
    rec.mapcount++;
    if (rec.maps.length === 0)
      rec.maps = [cite]; // as rec.cpus (touch): an array of one, not a store of 17
    else rec.maps.push(cite);
    if (rec.maps.length > MAP_CITES_KEPT) rec.maps.shift();
    if (!rec.inCache) rec.file?.mappedGhosts.add(rec);
    return replaced;
  }

  /**
   * The pages whose only mapping another address space installed at `address`, where one of the two
   * events names no thread group (a trace without the column, or a `(-------)` the kernel had no
   * tgid for): if the two are threads of one process (the shipped workloads are), the new
   * PTE went into that mapping's slot, so that one was zapped unseen (see `mapped`); if they are two
   * processes, it lives on. The trace cannot tell which (a `(tgid)` column would, since session 43
   * every capture records one), so how many PTEs map such a page is not known from here on
   * (`mapUnsure`: a finding resting on it is uncertain). The tie search reads the same set. (A
   * thread that exited since leaves its PTEs to its process: no exit settles it either.)
   */
  otherThreadsAt(address: bigint, ev: TraceEvent): PageRec[] {
    const out: PageRec[] = [];
    if (ev.tgid !== undefined && !this.tgidLessMapped) return out;
    const key = addressKey(address);
    const mm = mmOf(ev);
    // before the first PTE without a thread group (the tie search asks ahead of it) there is no index: every address space
    let others: Iterable<number> = this.ptes.keys();
    if (this.mmsAt) {
      const at = this.mmsAt.get(key);
      if (at === undefined || at.size < (at.has(mm) ? 2 : 1)) return out;
      others = [...at].sort((a, b) => this.mmOrder.get(a)! - this.mmOrder.get(b)!);
    }
    for (const other of others) {
      if (other === mm) continue;
      const prev = this.ptes.get(other)?.get(key);
      const only = prev?.mapcount === 1 && prev.maps.length === 1 ? prev.maps[0]! : undefined;
      if (prev && only && only.address === address && (ev.tgid === undefined || only.ev.tgid === undefined) && mmOf(only.ev) === other) out.push(prev);
    }
    return out;
  }

  /** A PTE at an address where another address space's page is mapped, one of the two without a thread group: that page's PTE count is in doubt (otherThreadsAt). */
  private maybeSameProcess(cite: MapCite): void {
    if (this.ptes.size < 2) return;
    const ev = cite.ev;
    for (const prev of this.otherThreadsAt(cite.address!, ev)) {
      const other = prev.maps[0]!.ev;
      prev.mapUnsure = {
        reason: `${ev.comm}-${ev.pid} installed a PTE at 0x${cite.address!.toString(16)}, where ${other.comm}-${other.pid} mapped this page, and the trace names no thread group for ${ev.tgid === undefined && other.tgid === undefined ? 'either' : ev.tgid === undefined ? `${ev.comm}-${ev.pid}` : `${other.comm}-${other.pid}`} (a text trace without the \`(tgid)\` column or with \`(-------)\`, a trace.dat without the kernel's saved_tgids beside it or its pid not listed there): if the two are threads of one process, that mapping was replaced unseen`,
        source: ev.source,
        line: ev.line,
      };
    }
  }

  /** Whether the task whose pid is `mm` exited after sequence number `seq` (the trace showed it: TaskState.exitSeq). */
  private exitedSince(mm: number, seq: number): boolean {
    const exit = this.tasks.get(mm)?.exitSeq;
    return exit !== undefined && exit > seq;
  }

  unmapped(rec: PageRec, address: bigint | undefined, ev: TraceEvent): void {
    if (address !== undefined) {
      const mm = mmOf(ev);
      const key = addressKey(address);
      if (this.ptes.get(mm)?.get(key) === rec) this.putPte(mm, key, undefined);
    }
    rec.mapcount--;
    // the first cite of this address, by a loop: findIndex took a closure over `address`, made per PTE removal
    let i = -1;
    if (address !== undefined) {
      const maps = rec.maps;
      for (let j = 0; j < maps.length; j++)
        if (maps[j]!.address === address) {
          i = j;
          break;
        }
    }
    if (i >= 0) rec.maps.splice(i, 1);
    else if (rec.maps.length > rec.mapcount) rec.maps.shift();
    if (rec.mapcount === 0) rec.file?.mappedGhosts.delete(rec);
  }

  /** Every entry as text, in a fixed order (the tie search's self-check compares two of these). */
  dump(rec: (r: PageRec) => string, id: (o: object | undefined) => string, json: (v: unknown) => string): string {
    const out: string[] = [`pfnsSeen ${this.pfnsSeen}`];
    for (const pfn of [...this.pages.keys()].sort((a, b) => a - b)) out.push(`page ${pfn} ${rec(this.pages.get(pfn)!)}`);
    for (const key of [...this.files.keys()].sort()) {
      const f = this.files.get(key)!;
      const slots = [...f.cache.entries()].sort((a, b) => a[0] - b[0]).map(([i, r]) => `${i}=${id(r)}`);
      out.push(
        `file ${key} cache ${slots.join(' ')} ghosts ${[...f.mappedGhosts].map(id).sort().join(' ')} promised ${json([...f.promised.entries()].map(([k, p]) => [k, p.begin?.line, p.ret.line]))}`,
      );
    }
    const ptes = [...this.ptes].flatMap(([mm, m]) => [...m].map(([address, r]): [string, PageRec] => [`${mm}:${address}`, r]));
    for (const [key, r] of ptes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) out.push(`pte ${key} ${id(r)}`);
    for (const pid of [...this.tasks.keys()].sort((a, b) => a - b)) {
      const t = this.tasks.get(pid)!;
      out.push(
        `task ${pid} ${t.comm} calls ${json([...t.calls.entries()].map(([k, c]) => [k, c.seq, c.nested, json(c.op)]))} last ${json(t.last)} fault ${t.fault?.line ?? '-'} entered ${t.entered?.map((e) => e.line).join(',') ?? '-'}`,
      );
    }
    return out.join('\n');
  }

  touch(rec: PageRec, cpu: number): void {
    // a loop, not `includes`: a page's one or two CPUs are found inline, where includes was a builtin call per op
    const cpus = rec.cpus;
    const n = cpus.length;
    for (let i = 0; i < n; i++) if (cpus[i] === cpu) return;
    // a page's first CPU in an array of one: pushed onto the empty array, it took a store of 17
    if (n === 0) rec.cpus = [cpu];
    else if (n < CPUS_KEPT) cpus.push(cpu);
    else rec.cpusAll = true;
  }
}
