/**
 * The context a step runs in: a copy-on-write view of one state for one thread, with the
 * kernel primitives the programs are written in (page cache insert/remove, PTE install,
 * page lock, references). The primitives that can break an invariant (invariants.ts) judge
 * it as they act, so every flavor (built-in or a user's) gets the checks for free.
 */
import type { MmOp } from '@kreplay/core';
import type { ModelViolation } from '@kreplay/core';
import type { RuleId, FileRef } from '@kreplay/core';
import { fileKey } from '@kreplay/core';
import { auditedMap, auditedPage, flagLoc, type ReadAudit } from './audit.js';
import type { Env, VmaEnv } from './env.js';
import { pteLoc, pteName, vmaAddress } from './env.js';
import { freedWhileUnmappedDirect, mappedBeyondEof, orphanPageMapped, staleAfterInvalidate, staleData, warnOnPageMapped } from './invariants.js';
import { dataTag, diskData, tagGen, tagText } from './data.js';
import { copyMap, copyPage, copyRoot } from './copy.js';
import { EVERY, F_MAPS, F_PAGES, F_PMDS, F_PTED, F_PTES, F_PTL, LENGTH, type PlaceNotes } from './reads.js';
import { withoutDead, type Liveness } from './liveness.js';
import {
  NONE,
  PG,
  UNLOCKED,
  flagNames,
  folioNr,
  hex,
  type Frame,
  type LocalValue,
  type Locals,
  type LockS,
  type MappingS,
  type MmState,
  type PageS,
  type PageFlag,
  type ThreadS,
  waiterTids,
} from './state.js';

export class ModelBug extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelBug';
  }
}

/** What a step that recorded nothing returns for its ops, effects or violations: one frozen empty array for all. */
const NOTHING: never[] = Object.freeze([]) as unknown as never[];

export class Ctx {
  /**
   * The step's ops, effects and violations, each made when its first entry comes: most steps
   * break nothing, a silent one records no ops or effects, and a search makes millions of contexts.
   */
  private opList: MmOp[] | undefined;
  private effectList: string[] | undefined;
  private found: ModelViolation[] | undefined;
  get ops(): MmOp[] {
    return this.opList ?? NOTHING;
  }
  get effects(): string[] {
    return this.effectList ?? NOTHING;
  }
  get violations(): ModelViolation[] {
    return this.found ?? NOTHING;
  }
  private s: MmState;
  /**
   * What this step copied already (copy on first write): the root state object (copied once,
   * then its fields are set in place, so a step never copies a copy), its arrays, and the VMAs
   * whose PTE row it copied.
   */
  private ownRoot = false;
  private ownPages = false;
  private ownMaps = false;
  private ownPtes: Set<number> | undefined;
  private ownPtl = false;
  private ownDisk = false;
  /**
   * A mapping's per-index arrays (gen, floor, hole, bmap) and the thread's `wrote` list this step
   * made: set in place from then on. A write of n pages used to copy each of them once per page
   * (n² work: a 2,048-page O_DIRECT write took 17 ms a step).
   */
  private ownArrays: Set<readonly number[]> | undefined;
  /** The disk blocks the maps use, and the lowest block that may be free, while this step allocates (freeBlock). */
  private usedBlocks: { used: Set<number>; from: number } | undefined;
  private obs: readonly number[] | undefined;
  private wrote: readonly number[] | undefined;
  private frames: Frame[];
  private locals: Record<string, LocalValue> | null = null;
  private status: ThreadS['status'] = 'run';
  private moved = false;

  /**
   * @param audit test hook (audit.ts): called with the location of every read a step makes
   *   through the public accessors (page fields, mapping fields, PTEs, locks), to check declared accesses.
   * @param silent the step's ops and effect text are not wanted (a search that keeps only the next
   *   state): `op`, `marker` and `effect` record nothing, and the primitives here build no text for them.
   * @param live the flavor's dead-local tables (liveness.ts): a frame moving to a pc drops what is dead there.
   * @param notes step memoization by places (reads.ts, model.ts `StepMemo.places`): every place of
   *   the shared part the step reads or writes is noted there. Every read of the state goes through
   *   `this.s`, and every use of `this.s` below notes what it reads: the accessors (`rawPage`,
   *   `rawMap`, `rawLookup`, `pte`, `pteDirty`, `pmd`, `ptlOwner`), the writers (a write notes
   *   its place as read), the allocator's scan (`allocPage`, `freePage`'s trim), what hands the
   *   whole state on (`state`, the invariants: `viewed`, the recording Proxy) and what reads or
   *   writes data generations (`notesAll`: the renumbering after such a step reads every place).
   *   Not noted, and not needed: `copyRoot` and the arrays' `slice()` (they copy, their result
   *   depends on no element), `dataUntouched` (it compares only the elements this step replaced,
   *   all noted) and `finish` (the threads, not the shared part).
   */
  constructor(
    readonly env: Env,
    state: MmState,
    readonly tid: number,
    private readonly writable: boolean,
    private readonly audit?: ReadAudit,
    readonly silent = false,
    private readonly live?: Liveness,
    private readonly notes?: PlaceNotes,
  ) {
    this.s = state;
    this.s0 = state;
    const th = state.threads[tid]!;
    this.th0 = th;
    this.frames = th.frames as Frame[];
    this.obs = th.obs;
    this.wrote = th.wrote;
  }

  /** The state and the thread as the step found them. */
  private readonly s0: MmState;
  private readonly th0: ThreadS;

  // ---------------------------------------------------------------- reading

  get state(): MmState {
    return this.viewed();
  }
  /** The state for what reads it whole (`state`, the invariants): behind the recording Proxy while noting. */
  private viewed(): MmState {
    return this.notes === undefined ? this.s : this.notes.view(this.s);
  }
  /** This step reads or writes data generations: the renumbering after it reads the whole shared part. */
  private notesAll(): void {
    if (this.notes !== undefined) this.notes.all = true;
  }
  /** The current frame's locals. */
  get l(): Locals {
    return this.locals ?? this.top().l;
  }
  num(name: string): number {
    const v = this.l[name];
    if (typeof v !== 'number') throw this.badLocal(name, 'a number');
    return v;
  }
  list(name: string): readonly number[] {
    const v = this.l[name];
    if (!Array.isArray(v)) throw this.badLocal(name, 'a list');
    return v;
  }
  /**
   * A local that may be absent (a flag only some paths set): its value, or undefined. A name the
   * flavor declares dead anywhere cannot be one of these: dropping it would read as never set.
   */
  opt(name: string): LocalValue | undefined {
    if (this.live?.names.has(name)) {
      throw new ModelBug(
        `local ${name} is tested for presence in ${this.top().proc}@${this.top().pc}, but the flavor declares it dead (Proc.dead) where a dropped value would read as never set`,
      );
    }
    return this.l[name];
  }
  private badLocal(name: string, what: string): ModelBug {
    const { proc, pc } = this.top();
    const dead = this.l[name] === undefined ? (this.live?.where(proc, name) ?? []) : [];
    return new ModelBug(
      `local ${name} is not ${what} in ${proc}@${pc}${
        dead.length ? ` (procedure ${proc} declares it dead at ${dead.join(', ')}: its Proc.dead table is wrong, or a patched step reads it)` : ''
      }`,
    );
  }
  page(pfn: number): PageS {
    const p = this.rawPage(pfn);
    return this.audit ? auditedPage(p, this.audit) : p;
  }
  map(file: number): MappingS {
    const m = this.rawMap(file);
    return this.audit ? auditedMap(m, this.env.files[file]!.loc, this.audit) : m;
  }
  pte(vma: number, i: number): number {
    this.audit?.(pteLoc(this.env, this.env.vmas[vma]!, i));
    this.notes?.note(F_PTES, vma);
    return this.s.ptes[vma]![i]!;
  }
  /** pte_dirty() of the PTE (vma, i): its dirty bit (MmState.pted), read with the PTE. */
  pteDirty(vma: number, i: number): boolean {
    this.audit?.(pteLoc(this.env, this.env.vmas[vma]!, i));
    this.notes?.note(F_PTED, vma);
    return this.s.pted?.[vma]?.[i] === 1;
  }
  /** The PMD entry above page table `ptl` (large-folio flavors): NONE (pmd_none), PMD_TABLE, or the pfn a huge PMD maps. */
  pmd(ptl: number): number {
    this.audit?.(this.env.ptls[ptl]!.loc.replace(/^ptl:/, 'pmd:'));
    this.notes?.note(F_PMDS, ptl);
    return this.s.pmds?.[ptl] ?? NONE;
  }
  ptlOwner(ptl: number): number {
    this.audit?.(this.env.ptls[ptl]!.loc);
    this.notes?.note(F_PTL, ptl);
    return this.s.ptl[ptl]!;
  }
  testFlag(pfn: number, f: PageFlag): boolean {
    this.audit?.(flagLoc(pfn, f));
    return (this.rawPage(pfn).flags & PG[f]) !== 0;
  }
  /** find_get_page without the reference: the pfn at index, NONE if none. */
  lookup(file: number, index: number): number {
    this.audit?.(`${this.env.files[file]!.loc}.tree`);
    return this.rawLookup(file, index);
  }
  /** page_mapped(): the lockless mapcount test. */
  mapped(pfn: number): boolean {
    this.audit?.(`pfn${pfn}.mapcount`);
    return this.rawPage(pfn).mapcount > 0;
  }
  private rawPage(pfn: number): PageS {
    this.notes?.note(F_PAGES, pfn);
    const p = this.s.pages[pfn];
    if (!p) throw new ModelBug(`no page with pfn ${pfn}`);
    return p;
  }
  private rawMap(file: number): MappingS {
    this.notes?.note(F_MAPS, file);
    return this.s.maps[file]!;
  }
  private rawLookup(file: number, index: number): number {
    const c = this.rawMap(file).cache;
    return index < c.length ? c[index]! : NONE;
  }
  fileRef(file: number): FileRef {
    return this.env.files[file]!.ref;
  }

  /** `M0` */
  M(file: number): string {
    return this.env.files[file]!.loc;
  }
  /** `pfn3` */
  P(pfn: number): string {
    return `pfn${pfn}`;
  }

  /** Who holds PG_locked of pfn, for blockedOn messages; undefined when it is free. */
  pageLockHeld(pfn: number): string | undefined {
    const o = this.rawPage(pfn).locker;
    return o === NONE ? undefined : `PG_locked of pfn ${hex(pfn)}, held by ${this.who(o)}`;
  }
  /**
   * This thread, asleep in folio_wait_bit_common() having given up its folio reference (behavior DROP,
   * folio_put_wait_locked(); queued by `queueDropWaiter`): still asleep while it is among the folio's waiters
   * (PageS.waiters), which the next release of PG_locked clears (`unlockPage`: folio_unlock() or end_io's
   * folio_end_read() → folio_wake_bit() sets WQ_FLAG_WOKEN, 6.1.192 mm/filemap.c:1139, 6.12.118 1141). Woken, it
   * never looks at the folio again (6.1.192 mm/filemap.c:1319-1330: a DROP waiter that sees WQ_FLAG_WOKEN breaks
   * out; 6.12.118 1295-1306): the folio freed (only after that unlock: `freePage` refuses a locked page), its pfn
   * reused, or locked again by anyone is not waited on. A hand-over of the lock to end_io (read_pages → submit_bio)
   * is no release and wakes nobody. undefined when the wait is over.
   */
  dropWaitAsleep(pfn: number): string | undefined {
    this.notes?.note(F_PAGES, LENGTH);
    this.notes?.note(F_PAGES, pfn);
    const p = pfn < this.s.pages.length ? this.s.pages[pfn] : undefined;
    if (p === undefined || ((p.waiters ?? 0) & waiterBit(this.tid)) === 0) return undefined;
    this.audit?.(`lock:pfn${pfn}`);
    return `PG_locked of pfn ${hex(pfn)}, held by ${this.who(p.locker)}`;
  }
  /** The lowest pfn whose PG_locked `holder` holds (NONE when none): the I/O completion's next folio (Env.endIo). */
  firstLockedBy(holder: number): number {
    this.notes?.note(F_PAGES, LENGTH);
    const pages = this.s.pages;
    for (let pfn = 1; pfn < pages.length; pfn++) {
      this.notes?.note(F_PAGES, pfn);
      if (pages[pfn]?.locker === holder) return pfn;
    }
    return NONE;
  }
  who(tid: number): string {
    const t = this.env.threads[tid];
    return t ? `T${tid} (${t.name})` : `T${tid}`;
  }
  /** Blocked reason for taking `l` exclusively, undefined when free. */
  lockBusy(l: LockS, what: string, shared = false): string | undefined {
    if (l.writer !== NONE) return `${what}, held by ${this.who(l.writer)}`;
    if (!shared && l.readers.length > 0) return `${what}, held shared by ${l.readers.map((t) => this.who(t)).join(', ')}`;
    return undefined;
  }

  private memos: Map<string, unknown> | undefined;
  /** Compute once per step: label, accesses, block and run of one step share the result. */
  memo<T>(key: string, make: () => T): T {
    this.memos ??= new Map();
    if (!this.memos.has(key)) this.memos.set(key, make());
    return this.memos.get(key) as T;
  }

  // ---------------------------------------------------------------- control flow

  private top(): Frame {
    return this.frames[this.frames.length - 1]!;
  }
  private mustWrite(): void {
    if (!this.writable) throw new ModelBug('a step wrote state while only its accesses were being asked');
  }
  set(name: string, v: LocalValue): void {
    this.mustWrite();
    const l = this.locals ?? this.top().l;
    if (!(name in l)) {
      this.locals = withLocal(l, name, v);
      this.newLocal = true;
    } else {
      this.locals ??= { ...l };
      this.locals[name] = v;
    }
  }
  private newLocal = false;
  private commitFrame(pc: string): void {
    const f = this.top();
    let l: Locals = this.locals ?? f.l;
    if (this.newLocal) {
      l = sortLocals(l);
      this.newLocal = false;
    }
    const dead = this.live?.at(f.proc, pc);
    if (dead !== undefined) l = withoutDead(l, dead);
    this.frames = withTop(this.frames, { proc: f.proc, pc, l });
    this.locals = null;
  }
  goto(pc: string): void {
    this.mustWrite();
    this.commitFrame(pc);
    this.moved = true;
  }
  /** Call `proc` with `locals`; when it returns, continue at `then` with its value in local `rv`. */
  call(proc: string, entry: string, locals: Locals, then: string): void {
    this.mustWrite();
    this.commitFrame(then);
    const dead = this.live?.at(proc, entry);
    const l = sortLocals(locals);
    this.frames = [...this.frames, { proc, pc: entry, l: dead === undefined ? l : withoutDead(l, dead) }];
    this.moved = true;
  }
  /** Return from the current procedure (the thread finishes when it was the last frame). */
  ret(value: LocalValue = 0): void {
    this.mustWrite();
    this.frames = this.frames.slice(0, -1);
    this.locals = null;
    if (this.frames.length === 0) this.status = 'done';
    else {
      const f = this.top();
      this.frames = withTop(this.frames, { proc: f.proc, pc: f.pc, l: 'rv' in f.l ? { ...f.l, rv: value } : sortLocals(withLocal(f.l, 'rv', value)) });
    }
    this.moved = true;
  }

  // ---------------------------------------------------------------- reporting

  op(o: MmOp): void {
    if (!this.silent) (this.opList ??= []).push(o);
  }
  marker(text: string): void {
    if (!this.silent) (this.opList ??= []).push({ kind: 'marker', text });
  }
  effect(text: string): void {
    if (!this.silent) (this.effectList ??= []).push(text);
  }
  violate(rule: RuleId, message: string, where: { file?: number; index?: number; pfn?: number } = {}): void {
    const v: ModelViolation = { rule, message };
    if (where.file !== undefined) v.file = fileKey(this.fileRef(where.file));
    if (where.index !== undefined) v.index = where.index;
    if (where.pfn !== undefined) v.pfn = where.pfn;
    (this.found ??= []).push(v);
  }
  /** A flavor step reports what an invariant (invariants.ts) finds broken by it. */
  judge(found: readonly ModelViolation[]): void {
    this.judged(found);
  }
  /** What an invariant (invariants.ts) found broken by this step. */
  private judged(found: readonly ModelViolation[]): void {
    for (const v of found) (this.found ??= []).push(v);
  }
  /** The kernel function of the BUG this step fired (`bug`'s message up to its first colon), if one did. */
  bugIn: string | undefined;
  /**
   * BUG()/BUG_ON()/VM_BUG_ON() fired: report it and kill the thread, holding what it holds. The
   * message starts with the kernel function the check is in and a colon (`do_no_page: BUG() in
   * ...`); the step's procedure must list that function in its `bugs` (program.ts `Proc.bugs`).
   */
  bug(message: string, where: { file?: number; index?: number; pfn?: number } = {}): void {
    const colon = message.indexOf(':');
    this.bugIn = colon > 0 ? message.slice(0, colon) : message;
    this.violate('bug-on', message, where);
    this.mustWrite();
    this.status = 'oops';
    this.frames = [];
    this.locals = null;
    this.moved = true;
  }

  // ---------------------------------------------------------------- writing

  /**
   * The state this step writes, as an object of its own: the state it started from is copied
   * once (the first write), and from then on its fields are replaced in place.
   */
  private rootW(): { -readonly [K in keyof MmState]: MmState[K] } {
    this.mustWrite();
    if (!this.ownRoot) {
      this.s = copyRoot(this.s);
      this.ownRoot = true;
    }
    return this.s;
  }
  private pagesW(): (PageS | undefined)[] {
    if (!this.ownPages) {
      const r = this.rootW();
      r.pages = r.pages.slice();
      this.ownPages = true;
    }
    return this.s.pages as (PageS | undefined)[];
  }
  private mapsW(): MappingS[] {
    if (!this.ownMaps) {
      const r = this.rootW();
      r.maps = r.maps.slice();
      this.ownMaps = true;
    }
    return this.s.maps as MappingS[];
  }
  updPage(pfn: number, patch: Partial<PageS>): void {
    const old = this.rawPage(pfn);
    const nw = copyPage(old, patch);
    this.pagesW()[pfn] = nw;
    if (this.silent) return;
    for (const k of Object.keys(patch) as (keyof PageS)[]) {
      if (old[k] === nw[k] || k === 'locker' || k === 'data' || k === 'waiters') continue;
      if (k === 'flags') {
        const set = flagNames(nw.flags & ~old.flags).filter((f) => f !== 'locked');
        const clr = flagNames(old.flags & ~nw.flags).filter((f) => f !== 'locked');
        if (set.length) this.effect(`pfn${pfn} +${set.join(',')}`);
        if (clr.length) this.effect(`pfn${pfn} -${clr.join(',')}`);
      } else if (k === 'mapping') {
        this.effect(`pfn${pfn}.mapping ${old.mapping === NONE ? 'NULL' : this.M(old.mapping)}→${nw.mapping === NONE ? 'NULL' : this.M(nw.mapping)}`);
      } else {
        this.effect(`pfn${pfn}.${k} ${String(old[k])}→${String(nw[k])}`);
      }
    }
  }
  setFlag(pfn: number, f: PageFlag, on: boolean): void {
    const p = this.rawPage(pfn);
    // A page becoming uptodate without data is a read I/O completing: it gets what the disk holds.
    if (f === 'uptodate' && on && p.data === NONE && p.mapping !== NONE) this.readIo(pfn);
    this.updPage(pfn, { flags: on ? this.rawPage(pfn).flags | PG[f] : this.rawPage(pfn).flags & ~PG[f] });
  }
  /**
   * PG_private cleared with the folio reference the private data held: buffers attached by
   * `folio_attach_private` (2.6: attach_page_buffers → page_cache_get) hold one, and
   * `folio_detach_private` (2.6: __clear_page_buffers → page_cache_release) drops it.
   */
  detachPrivate(pfn: number): void {
    if (!(this.rawPage(pfn).flags & PG.private)) return;
    this.setFlag(pfn, 'private', false);
    this.ref(pfn, -1);
  }
  updMap(file: number, patch: Partial<MappingS>, effect?: string): void {
    this.notes?.note(F_MAPS, file);
    const maps = this.mapsW();
    maps[file] = copyMap(maps[file]!, patch);
    if (effect && !this.silent) this.effect(`${this.M(file)}.${effect}`);
  }
  setPtl(ptl: number, owner: number): void {
    this.notes?.note(F_PTL, ptl);
    if (!this.ownPtl) {
      const r = this.rootW();
      r.ptl = r.ptl.slice();
      this.ownPtl = true;
    }
    (this.s.ptl as number[])[ptl] = owner;
  }
  /** Set the PMD entry above page table `ptl` (see `pmd`). */
  setPmd(ptl: number, value: number): void {
    this.notes?.note(F_PMDS, ptl);
    const pmds = (this.s.pmds ?? this.env.ptls.map(() => NONE)).slice();
    pmds[ptl] = value;
    this.rootW().pmds = pmds;
    if (!this.silent)
      this.effect(`pmd ${this.env.ptls[ptl]!.loc.slice(4)} ${value === NONE ? 'none' : value === 0 ? 'table' : `huge → pfn${value} (all its PTE slots)`}`);
  }
  /** Take or drop a page reference (get_page/page_cache_get, put_page/page_cache_release). */
  ref(pfn: number, delta: number): void {
    const p = this.rawPage(pfn);
    this.updPage(pfn, { refcount: p.refcount + delta });
    if (p.refcount + delta === 0) this.freePage(pfn);
  }

  /** The last reference went: the page returns to the allocator (its pfn may be reused). */
  private freePage(pfn: number): void {
    const p = this.rawPage(pfn);
    if (p.mapping !== NONE || p.mapcount !== 0 || p.locker !== NONE) {
      throw new ModelBug(`pfn ${pfn} reached refcount 0 while still in use (mapping ${p.mapping}, mapcount ${p.mapcount}, locker ${p.locker})`);
    }
    this.judged(freedWhileUnmappedDirect(this.env, p));
    const pages = this.pagesW();
    pages[pfn] = undefined;
    this.notes?.note(F_PAGES, LENGTH);
    while (pages.length > 1 && this.notedPage(pages, pages.length - 1) === undefined) pages.pop();
    if (!this.silent) this.effect(`free pfn${pfn}`);
  }

  // ---------------------------------------------------------------- kernel primitives

  /** lock_page() / TestSetPageLocked() succeeding: PG_locked is ours. */
  lockPage(pfn: number): void {
    const p = this.rawPage(pfn);
    if (p.locker !== NONE) throw new ModelBug(`lock_page(pfn ${pfn}) ran while held by T${p.locker}`);
    this.updPage(pfn, { flags: p.flags | PG.locked, locker: this.tid });
    if (!this.silent) this.effect(`lock pfn${pfn}`);
    if (!this.silent) this.op({ kind: 'page_lock', pfn: BigInt(pfn) });
  }
  /**
   * unlock_page() / folio_unlock() (and end_io's folio_end_read()): PG_locked is clear, and when PG_waiters was set
   * the folio's sleepers are woken (folio_wake_bit(), 6.1.192 mm/filemap.c:1553-1554, 6.12.118 1513-1514, 1543-1544):
   * every DROP sleeper queued on it (PageS.waiters) is done waiting.
   */
  unlockPage(pfn: number): void {
    const p = this.rawPage(pfn);
    const woken = p.waiters;
    this.updPage(pfn, woken === undefined ? { flags: p.flags & ~PG.locked, locker: NONE } : { flags: p.flags & ~PG.locked, locker: NONE, waiters: undefined });
    if (!this.silent) this.effect(`unlock pfn${pfn}`);
    if (woken !== undefined && !this.silent)
      this.effect(
        `folio_wake_bit: wake ${waiterTids(woken)
          .map((t) => this.who(t))
          .join(', ')}`,
      );
    if (!this.silent) this.op({ kind: 'page_unlock', pfn: BigInt(pfn) });
  }
  /**
   * folio_wait_bit_common(folio, PG_locked, state, DROP) queueing this thread (6.1.192 mm/filemap.c:1290-1293,
   * 6.12.118 1266-1269): PG_waiters set and the thread on the folio's wait queue (PageS.waiters), where it stays
   * until the next release of PG_locked (`unlockPage`); `dropWaitAsleep` tells whether it was woken. The kernel
   * queues only while PG_locked is still set (folio_trylock_flag(), 6.1.192 mm/filemap.c:1229-1240): the caller's
   * step found the lock held, in the same step.
   */
  queueDropWaiter(pfn: number): void {
    const p = this.rawPage(pfn);
    if (p.locker === NONE) throw new ModelBug(`T${this.tid} queued on PG_locked of pfn ${pfn}, which nobody holds`);
    this.updPage(pfn, { waiters: (p.waiters ?? 0) | waiterBit(this.tid) });
  }
  /** Take a lock (exclusive, or shared when `shared`). Callers check `lockBusy` in `block`. */
  takeLock(l: LockS, shared: boolean): LockS {
    return shared ? { writer: l.writer, readers: [...l.readers, this.tid].sort((a, b) => a - b) } : { writer: this.tid, readers: l.readers };
  }
  dropLock(l: LockS, shared: boolean): LockS {
    if (shared) {
      const readers = l.readers.filter((t) => t !== this.tid);
      return readers.length === 0 && l.writer === NONE ? UNLOCKED : { writer: l.writer, readers };
    }
    return l.readers.length === 0 ? UNLOCKED : { writer: NONE, readers: l.readers };
  }

  /** `pages[pfn]` of this step's pages array, noted (the allocator's scan). */
  private notedPage(pages: readonly (PageS | undefined)[], pfn: number): PageS | undefined {
    this.notes?.note(F_PAGES, pfn);
    return pages[pfn];
  }

  /** A fresh page from the allocator (the lowest free pfn): refcount 1, no flags, no mapping. */
  allocPage(): number {
    const pages = this.pagesW();
    let pfn = 1;
    this.notes?.note(F_PAGES, LENGTH);
    while (pfn < pages.length && this.notedPage(pages, pfn) !== undefined) pfn++;
    this.notes?.note(F_PAGES, pfn);
    pages[pfn] = { pfn, mapping: NONE, index: 0, flags: 0, refcount: 1, mapcount: 0, locker: NONE, data: NONE };
    if (!this.silent) this.effect(`alloc pfn${pfn}`);
    return pfn;
  }

  /**
   * Radix-tree insert plus what add_to_page_cache does under tree_lock: the cache's reference,
   * PG_locked (owned by this thread), mapping, index, nrpages.
   */
  addToCache(file: number, index: number, pfn: number): void {
    const m = this.rawMap(file);
    const cache = m.cache.slice();
    const p = this.rawPage(pfn);
    const nr = folioNr(p); // a large folio fills every slot it covers; its nr cache references count as one in the model
    while (cache.length < index + nr) cache.push(NONE);
    for (let k = 0; k < nr; k++) cache[index + k] = pfn;
    this.updMap(file, { cache, nrpages: m.nrpages + nr });
    if (!this.silent) this.effect(nr === 1 ? `${this.M(file)}[${index}] = pfn${pfn}` : `${this.M(file)}[${index}..${index + nr - 1}] = pfn${pfn}`);
    this.updPage(pfn, { mapping: file, index, refcount: p.refcount + 1, flags: p.flags | PG.locked, locker: this.tid });
    if (!this.silent) this.op({ kind: 'cache_add', file: this.fileRef(file), index, pfn: BigInt(pfn), order: p.order ?? 0 });
  }

  /**
   * __remove_from_page_cache / __filemap_remove_folio: the page leaves the tree, its mapping
   * becomes NULL. Judges WarnOnPageMapped (rule mapped-page-removed).
   */
  removeFromCache(pfn: number): void {
    const p = this.rawPage(pfn);
    const file = p.mapping;
    if (file === NONE) throw new ModelBug(`removing pfn ${pfn}, which is not in a page cache`);
    const m = this.rawMap(file);
    const cache = m.cache.slice();
    const nr = folioNr(p);
    for (let k = 0; k < nr; k++) if (cache[p.index + k] === pfn) cache[p.index + k] = NONE;
    this.updMap(file, { cache, nrpages: m.nrpages - nr });
    if (!this.silent) this.effect(nr === 1 ? `${this.M(file)}[${p.index}] = ∅` : `${this.M(file)}[${p.index}..${p.index + nr - 1}] = ∅`);
    this.updPage(pfn, { mapping: NONE });
    if (!this.silent) this.op({ kind: 'cache_delete', file: this.fileRef(file), index: p.index, pfn: BigInt(pfn), order: p.order ?? 0 });
    this.judged(warnOnPageMapped(this.env, this.viewed(), p));
  }

  /** set_pte_at() (pfn ≥ 0) or ptep_get_and_clear() (pfn = NONE) of one PTE; `quiet`: the caller describes a batch (a PMD) itself. */
  setPte(vma: VmaEnv, i: number, pfn: number, quiet = false): void {
    this.notes?.note(F_PTES, vma.id);
    this.notes?.note(F_PTED, vma.id);
    if (!this.ownPtes?.has(vma.id)) {
      const r = this.rootW();
      const ptes = r.ptes.slice();
      ptes[vma.id] = ptes[vma.id]!.slice();
      r.ptes = ptes;
      (this.ownPtes ??= new Set()).add(vma.id);
    }
    const row = this.s.ptes[vma.id] as number[];
    const old = row[i]!;
    row[i] = pfn;
    // set_pte_at() writes the whole entry and ptep_get_and_clear() zeroes it: the dirty bit goes with it
    if (this.s.pted?.[vma.id]?.[i] === 1) this.setPteDirty(vma, i, false, true);
    if (quiet || this.silent) return;
    const where = pteName(this.env, vma, i);
    this.effect(pfn === NONE ? `pte ${where} pfn${old}→none` : `pte ${where} → pfn${pfn}`);
  }

  /**
   * Set or clear the dirty bit of the PTE (vma, i) (MmState.pted): the table is dropped when its
   * last bit clears, so a state with no dirty PTE is the state that never had one. `quiet`: the
   * caller's effect says it (setPte).
   */
  setPteDirty(vma: VmaEnv, i: number, dirty: boolean, quiet = false): void {
    this.notes?.note(F_PTED, vma.id);
    const cur = this.s.pted;
    if ((cur?.[vma.id]?.[i] === 1) === dirty) return;
    const pted = (cur ?? this.env.vmas.map((v) => new Array<number>(v.pages).fill(0))).slice();
    const row = pted[vma.id]!.slice();
    row[i] = dirty ? 1 : 0;
    pted[vma.id] = row;
    this.notes?.note(F_PTED, EVERY);
    this.rootW().pted = pted.some((r) => r.includes(1)) ? pted : undefined;
    if (!quiet && !this.silent) this.effect(`pte ${pteName(this.env, vma, i)} ${dirty ? 'dirty' : 'clean'}`);
  }

  /**
   * page_add_file_rmap() for the PTE (vma, i): mapcount +1 and the pte_map a traced kernel
   * shows (its kprobe). Judges OrphanPageMapped (rule orphan-page-mapped).
   */
  addRmap(vma: VmaEnv, i: number, pfn: number): void {
    const p = this.rawPage(pfn);
    this.updPage(pfn, { mapcount: p.mapcount + 1 });
    if (!this.silent) {
      this.op({
        kind: 'pte_map',
        pfn: BigInt(pfn),
        file: this.fileRef(vma.file),
        index: vma.pgoff + i,
        address: BigInt(vmaAddress(vma, i)),
        mapcount: p.mapcount + 1,
      });
    }
    this.judged(orphanPageMapped(this.env, this.viewed(), vma, i, pfn));
  }

  /**
   * Record that [start, end] of a file was just promised coherent (an invalidate returned
   * success) and judge StaleAfterInvalidate on every PTE in it right now.
   */
  promiseCoherent(file: number, start: number, end: number, by: string): void {
    const m = this.rawMap(file);
    if (!m.coherent.some(([a, b]) => a <= start && end <= b)) {
      this.updMap(file, { coherent: [...m.coherent, [start, end] as const].sort((x, y) => x[0] - y[0] || x[1] - y[1]) });
    }
    this.judged(staleAfterInvalidate(this.env, this.viewed(), file, start, end, by));
  }

  // ---------------------------------------------------------------- data (data.ts)

  /** The data a page holds (its tag), NONE before its read completed. For a read to observe: refused where data is not tracked. */
  pageData(pfn: number): number {
    this.audit?.(`pfn${pfn}.data`);
    if (this.env.dataUntracked) this.untracked(`reads the data of pfn ${pfn}`);
    return this.rawPage(pfn).data;
  }

  /** Write-back: the disk block of the page's (file, index) now holds what the page holds (UNTRACKED where data is not tracked). */
  writePageToDisk(file: number, index: number, pfn: number): void {
    this.audit?.(`pfn${pfn}.data`);
    this.writeDisk(file, index, this.rawPage(pfn).data);
  }

  /** A step judged data on a machine that does not track it (Env.dataUntracked): the program tables are wrong. */
  private untracked(what: string): never {
    const f = this.top();
    throw new ModelBug(
      `${f.proc}@${f.pc} ${what}, but no thread of this scenario runs a program that declares readsData (Program.readsData), so the machine does not track data: the program that reaches ${f.proc} must declare it`,
    );
  }

  /**
   * The read I/O of a page completes: it holds what the disk has for its (file, index) now
   * (zeros past EOF or in a hole). Reads `M.disk` and `M.i_size`; writes `pfnN.data`.
   */
  readIo(pfn: number): void {
    const p = this.rawPage(pfn);
    if (p.mapping === NONE) throw new ModelBug(`read I/O of pfn ${pfn}, which is in no page cache`);
    if ((p.order ?? 0) > 0) return; // large folios do not track data yet
    this.audit?.(`${this.M(p.mapping)}.disk`);
    this.audit?.(`${this.M(p.mapping)}.i_size`);
    this.notesAll();
    const tag = diskData(this.s, p.mapping, p.index);
    this.updPage(pfn, { data: tag });
    if (!this.silent) this.effect(`pfn${pfn} ← ${tagText(tag)}`);
  }

  /** A write to (file, index) takes its next generation; the thread returns it as the floor later (writesReturned). */
  mintWrite(file: number, index: number): number {
    this.notesAll();
    const m = this.rawMap(file);
    const g = (index < m.gen.length ? m.gen[index]! : 0) + 1;
    this.updMap(file, { gen: this.setAt(m.gen, index, g, 0) });
    const wrote = this.wrote !== undefined && this.ownArrays?.has(this.wrote) ? (this.wrote as number[]) : this.owned([...(this.wrote ?? [])]);
    wrote.push(file, index, g);
    this.wrote = wrote;
    return dataTag(file, index, g);
  }

  /** The disk block of (file, index) now holds `tag` (a block is allocated for a hole: the lowest free one). */
  writeDisk(file: number, index: number, tag: number): void {
    const m = this.rawMap(file);
    let b = index < m.bmap.length ? m.bmap[index]! : NONE;
    if (b === NONE) {
      b = this.freeBlock();
      this.updMap(file, { bmap: this.setAt(m.bmap, index, b, NONE) });
    }
    this.diskW()[b] = tag;
    if (!this.silent) this.effect(`disk ${this.M(file)}[${index}] ← ${tagText(tag)}`);
  }

  /**
   * Truncate or a hole punch: the bytes of [first, last] become zeros of a new generation
   * (what a read of a hole, or past EOF, returns from now on); with `free`, their blocks
   * are freed too (a freed block may be reused by the next allocation).
   */
  zeroRange(file: number, first: number, last: number, free: boolean): void {
    const m = this.rawMap(file);
    const span = Math.max(m.bmap.length, m.hole.length);
    let { bmap, hole } = m;
    for (let ix = first; ix <= last && ix < span; ix++) {
      if (free && bmap[ix] !== undefined && bmap[ix] !== NONE) {
        this.diskW()[bmap[ix]!] = NONE;
        bmap = this.setAt(bmap, ix, NONE, NONE);
        this.usedBlocks = undefined;
      }
      hole = this.setAt(hole, ix, tagGen(this.mintWrite(file, ix)), 0);
    }
    this.updMap(file, { bmap, hole });
    if (!this.silent) this.effect(`${this.M(file)}[${first}..${last >= span ? 'EOF' : last}] zeroed${free ? ', blocks freed' : ''}`);
  }

  /** Blocks of [first, last] go back to the allocator (the bytes were zeroed before by zeroRange). */
  freeBlocks(file: number, first: number, last: number): void {
    const m = this.rawMap(file);
    let bmap = m.bmap;
    for (let ix = first; ix <= last && ix < bmap.length; ix++) {
      if (bmap[ix] === NONE) continue;
      this.diskW()[bmap[ix]!] = NONE;
      bmap = this.setAt(bmap, ix, NONE, NONE);
      this.usedBlocks = undefined;
    }
    if (bmap !== m.bmap) {
      this.updMap(file, { bmap });
      if (!this.silent) this.effect(`${this.M(file)} blocks of ${first}..${last >= bmap.length ? 'EOF' : last} freed`);
    }
  }

  /** Every write this thread made returned: from now on a read must see them (MappingS.floor). */
  writesReturned(): void {
    const wr = this.wrote;
    if (!wr) return;
    this.notesAll();
    for (let i = 0; i < wr.length; i += 3) {
      const file = wr[i]!;
      const ix = wr[i + 1]!;
      const g = wr[i + 2]!;
      const m = this.rawMap(file);
      const cur = ix < m.floor.length ? m.floor[ix]! : 0;
      if (g > cur) this.updMap(file, { floor: this.setAt(m.floor, ix, g, 0) });
    }
    this.wrote = undefined;
  }

  /** A user read of (file, index) starts: it must observe the newest write returned by now. */
  beginRead(file: number, index: number): void {
    this.mustWrite();
    this.notesAll();
    if (this.env.dataUntracked) this.untracked('begins a user read');
    this.audit?.(`${this.M(file)}.floor`);
    const m = this.rawMap(file);
    this.obs = [file, index, index < m.floor.length ? m.floor[index]! : 0];
  }

  /** The read in progress observes `tag` (`how`: "read()", "a load through mm:0x10000"). Judges StaleData. */
  observe(tag: number, how: string): void {
    const obs = this.obs;
    if (!obs) return; // a flavor whose reads do not begin with beginRead(): not judged
    this.notesAll();
    if (!this.silent) this.effect(`${how} sees ${tagText(tag)}`);
    this.judged(staleData(this.env, obs, tag, how));
    this.obs = undefined;
  }

  /** The read in progress ends without data (EOF, SIGBUS). */
  endRead(): void {
    this.mustWrite();
    this.notesAll();
    this.obs = undefined;
  }

  /** truncate returned: judge MappedBeyondEof now, and again at the end. */
  truncateReturned(file: number, by: string): void {
    void by;
    if (!this.rawMap(file).eofSettled) this.updMap(file, { eofSettled: true });
    this.judged(mappedBeyondEof(this.env, this.viewed(), file));
  }

  private diskW(): number[] {
    this.notesAll();
    if (!this.ownDisk) {
      const r = this.rootW();
      r.disk = r.disk.slice();
      this.ownDisk = true;
    }
    return this.s.disk as number[];
  }

  /** The lowest disk block no map uses (the caller puts it in a map's bmap at once). */
  private freeBlock(): number {
    this.notesAll();
    let u = this.usedBlocks;
    if (u === undefined) {
      const used = new Set<number>();
      for (const m of this.s.maps) for (const b of m.bmap) if (b !== NONE) used.add(b);
      u = this.usedBlocks = { used, from: 0 };
    }
    let b = u.from;
    while (u.used.has(b)) b++;
    u.used.add(b);
    u.from = b + 1;
    const disk = this.diskW();
    while (disk.length <= b) disk.push(NONE);
    return b;
  }

  /** `arr` with `arr[i] = v` (grown with `fill`): a copy the first time this step sets it, then in place. */
  private setAt(arr: readonly number[], i: number, v: number, fill: number): readonly number[] {
    const out = this.ownArrays?.has(arr) ? (arr as number[]) : this.owned(arr.slice());
    while (out.length <= i) out.push(fill);
    out[i] = v;
    return out;
  }

  private owned(arr: number[]): number[] {
    (this.ownArrays ??= new Set()).add(arr);
    return arr;
  }

  // ---------------------------------------------------------------- result

  /**
   * True when this step changed nothing that holds a data generation (data.ts): every page
   * keeps its data (a page it wrote other fields of counts as kept; one it freed or made does
   * not), every mapping its hole, gen and floor arrays, no disk block was written, and its
   * thread keeps the read and the write in progress it had. Then the next state's generations
   * are the ones of the state the step started from, and it is canonical when that one was.
   * Most steps that write a page or a mapping write a lock, a flag, a count or the cache: the
   * comparison looks only at the entries the step replaced.
   */
  get dataUntouched(): boolean {
    const th = this.th0;
    if (this.ownDisk || this.obs !== th.obs || this.wrote !== th.wrote) return false;
    if (this.status !== 'run' && (th.obs !== undefined || th.wrote !== undefined)) return false;
    if (this.ownPages && !samePageData(this.s0.pages, this.s.pages)) return false;
    return !this.ownMaps || sameGenerations(this.s0.maps, this.s.maps);
  }

  /** The next state; only meaningful after the step moved (goto/call/ret/bug). */
  finish(): MmState {
    if (!this.moved) throw new ModelBug(`step ${this.top().proc}@${this.top().pc} did not say where to go`);
    if (this.locals && this.frames.length > 0) this.commitFrame(this.top().pc);
    const threads = this.s.threads.slice();
    const t: { -readonly [K in keyof ThreadS]: ThreadS[K] } = { frames: this.frames, status: this.status };
    if (this.obs && this.status === 'run') t.obs = this.obs;
    if (this.wrote && this.status === 'run') t.wrote = this.wrote;
    threads[this.tid] = t;
    const r = this.rootW();
    r.threads = threads;
    return r;
  }
}

/** A thread's bit in PageS.waiters. */
function waiterBit(tid: number): number {
  if (tid > 30) throw new ModelBug(`T${tid} cannot sleep on a folio: PageS.waiters holds threads 0 to 30`);
  return 1 << tid;
}

/**
 * `{ ...l, [name]: v }` for a name `l` lacks (the same fields in the same order), copied field by
 * field: V8 (Node 20) takes a slow path to add a field to an object a spread made, ~1.7 µs
 * against ~0.1 µs this way (a spread that only replaces fields is fast).
 */
function withLocal(l: Locals, name: string, v: LocalValue): Record<string, LocalValue> {
  const out: Record<string, LocalValue> = {};
  for (const k in l) out[k] = l[k]!;
  out[name] = v;
  return out;
}

/** `arr` with `arr[i] = v`, grown with `fill` as needed (copy). */

/**
 * Name lists sortLocals met, in enumeration order, as a trie (objects of one kind list their
 * names in one order, so each name is one string comparison with the node's first child): its
 * nodes remember their list's sorted order, or null when the list is in order already.
 */
interface NameNode {
  readonly name: string;
  child: NameNode | undefined;
  alt: Map<string, NameNode> | undefined;
  sorted: readonly string[] | null | undefined;
}

const names: NameNode = { name: '', child: undefined, alt: undefined, sorted: null };

function nameChild(node: NameNode, name: string): NameNode {
  let c = node.alt?.get(name);
  if (c === undefined) {
    c = { name, child: undefined, alt: undefined, sorted: undefined };
    (node.alt ??= new Map()).set(name, c);
  }
  node.child ??= c;
  return c;
}

/** Locals with their names in sorted order, so a state key can list them without sorting. */
export function sortLocals(l: Locals): Locals {
  // most calls find them in order already (a frame's locals, one new name that sorts last): keep the object
  let node = names;
  for (const k in l) {
    const c = node.child;
    node = c !== undefined && c.name === k ? c : nameChild(node, k);
  }
  if (node.sorted === undefined) {
    const keys = Object.keys(l);
    const sorted = keys.slice().sort();
    node.sorted = sorted.every((k, i) => k === keys[i]) ? null : sorted;
  }
  if (node.sorted === null) return l;
  const out: Record<string, LocalValue> = {};
  for (const k of node.sorted) out[k] = l[k]!;
  return out;
}

/** Every page of `a` and `b` (one step apart) holds the same data: the same page, or a copy with equal `data`. */
function samePageData(a: readonly (PageS | undefined)[], b: readonly (PageS | undefined)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const p = a[i];
    const q = b[i];
    if (p !== q && (p === undefined || q === undefined || p.data !== q.data)) return false;
  }
  return true;
}

/** Every mapping of `a` and `b` (one step apart) has the very hole, gen and floor arrays (writes replace them: state.ts). */
function sameGenerations(a: readonly MappingS[], b: readonly MappingS[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const m = a[i]!;
    const n = b[i]!;
    if (m !== n && (m.hole !== n.hole || m.gen !== n.gen || m.floor !== n.floor)) return false;
  }
  return true;
}

/** `frames` with its top frame replaced: one copy (a step runs millions of times in a search). */
function withTop(frames: readonly Frame[], top: Frame): Frame[] {
  const r = frames.slice();
  r[r.length - 1] = top;
  return r;
}
