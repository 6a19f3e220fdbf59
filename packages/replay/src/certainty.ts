/**
 * Certainty. A finding is `certain` only when every event and every order the trace allows
 * leads to it. It is `uncertain` when one of the facts it rests on may be wrong:
 *
 * - a gap (lost or dropped events, a wrapped ring buffer, an unparseable or truncated line,
 *   or a late event the reorder window could not place) on any CPU — a page's PTEs are zapped
 *   and its pfn reused on whichever CPU runs the task that does it (mm/memory.c zap_pte_range,
 *   mm/rmap.c try_to_unmap_one, 6.1.192) — or a known event replay could not use and that names
 *   no page, that may hide events after the sync point of a fact the finding rests on: a gap
 *   lasts until its CPU's next event (on a per-CPU clock with no --clock-skew, to the end: that
 *   event does not order the lost ones against other CPUs'); and one that may hide events
 *   before a finding already made makes that finding uncertain when it comes (`lostFrom`);
 * - a page fact marked unsure: an unusable event named the page, or events whose order the
 *   clock cannot decide left the page in a state that depends on that order;
 * - the finding itself depends on such an order (ties.ts): it does not arise in every order
 *   the timestamps and each CPU's own order allow;
 * - the trace's clock does not order events of different CPUs (`local`, `perf`, `x86-tsc`:
 *   clocks.ts) and the finding involves two or more CPUs.
 *
 * Facts, and what re-establishes each (docs/replay.md, *Certainty*):
 *
 * - `cache`: whether the page is in the page cache, and as which (file, index). Known from
 *   its cache_add, its adoption (first sighting), and the cache_delete that removes it. An
 *   event that carries the page's mapcount says nothing about it.
 * - `map`: how many PTEs map the page. Known from its cache_add (a page entering the cache
 *   is mapped nowhere), its adoption, and any event that carries the kernel's `_mapcount`.
 *
 * Involved CPUs (for the per-CPU clock): the CPUs of every event the finding cites, and every
 * CPU whose events touched this life of the page.
 */
export interface GapMark {
  /** Replay sequence number of the gap. */
  seq: number;
  /**
   * Replay sequence number of the next event on the gap's CPU (for a gap that names no CPU,
   * the next event on any): the events the gap hides ran somewhere before it, so the gap
   * matters to a fact established before this point. Undefined while no such event came.
   */
  end?: number;
  /**
   * The hidden events ran at or before this time, within --clock-skew (the timestamp of the
   * gap's CPU's next event, which the reader gives a lost-events mark, plus the skew). Such a gap
   * ends at `end` for the events of its own CPU (their order is the ring buffer's), and for other
   * CPUs' only at `endAll`, the first event past this time: one tied with (or within the skew of)
   * its CPU's next event may have run before the lost events. A gap on no CPU has no own CPU:
   * it ends only at `endAll`, past its own time (an unusable event's) or else past the time of
   * the first event after it (`GapTracker.event` sets it then), plus the skew.
   */
  until?: bigint;
  /**
   * Events up to this sequence number do not end the gap: the ops of a group of tied events it
   * was replayed ahead of (its own CPU's among them may have run before it).
   */
  holdTo?: number;
  /** Replay sequence number of the first event past `until` (a gap with `until`). */
  endAll?: number;
  /** A gap with `until`: the sequence numbers of its own CPU's events from `end` until `endAll` (at most OWN_KEPT). */
  own?: readonly number[];
  line: number;
  source: string;
  reason: string;
  cpu?: number;
}

/** Why something is not known: the words, and the trace line they point at. */
export interface Note {
  reason: string;
  source: string;
  line: number;
}

/** Own events a gap with `until` keeps between its two ends (past them, a fact its CPU set there counts as unsure). */
const OWN_KEPT = 64;

/** Whether a mark's end is still to come. */
const isOpen = (g: GapMark): boolean => (g.until === undefined ? g.end === undefined : g.endAll === undefined);

/** Whether gap `g` may hide events after sequence number `y`. */
function hides(g: GapMark, y: number): boolean {
  if (g.until === undefined) return (g.end ?? Infinity) > y;
  if (g.endAll !== undefined && g.endAll <= y) return false;
  return !(g.end !== undefined && y >= g.end && g.own!.includes(y));
}

/** The facts a finding can rest on. */
export type Fact = 'cache' | 'map';

export class GapTracker {
  private readonly perCpu = new Map<number, GapMark>();
  private anyCpu: GapMark | undefined;
  /** A gap that never ends, on every CPU: a trace that may have lost events anywhere without saying so (perf script). */
  private always: GapMark | undefined;
  /** Marks not ended yet: while there are none, an event has nothing to end (the common case, one test per event). */
  private open = 0;
  /** Of those, the ones on a CPU with `until`: while there are any, every event may end one. */
  private openUntil = 0;
  /**
   * The trace's clock does not order events of different CPUs (clocks.ts), and the user gave no
   * bound on how far the CPUs' clocks disagree: every finding that involves two or more CPUs may
   * rest on an order the trace cannot show.
   */
  unordered: Note | undefined;
  /** --clock-skew: how far apart two CPUs' events may be and still have run in either order. */
  skew = 0n;
  /**
   * A pid the trace showed exit and then again (ReplayEngine.pidAgain): the PTEs its task placed
   * before the exit were placed in the address space of the thread group the trace gives the pid,
   * which is the later task's. A page's PTE count last known before `seq` may rest on them; the
   * newest such reuse (a count known before an older one is before this one too).
   */
  pidReused: { seq: number; note: Note } | undefined;

  record(mark: GapMark): void {
    const old = mark.cpu === undefined ? this.anyCpu : this.perCpu.get(mark.cpu);
    if (old !== undefined && isOpen(old)) this.closed(old);
    if (isOpen(mark)) {
      this.open++;
      if (mark.until !== undefined && mark.cpu !== undefined) this.openUntil++;
    }
    if (mark.cpu === undefined) this.anyCpu = mark;
    else this.perCpu.set(mark.cpu, mark);
  }

  /** A gap that may hide events anywhere, on every CPU, from the start to the end: every fact it outlives is unsure. */
  everywhere(mark: GapMark): void {
    this.always = mark;
  }

  /**
   * An event on `cpu` at time `ts` was replayed at `seq`: a gap still open on that CPU (and one
   * whose `until` it is past) ends there. Until then the events it hides may have run at any
   * later point, after any sync point in between (a cache_delete on another CPU, say). A gap on
   * no CPU ends at the first event past its `until`: the events it hides (an unparseable line's,
   * an unusable event's) ran on some CPU at or before that time, so an event tied with it, on
   * any CPU, may have run before them.
   */
  event(cpu: number, seq: number, ts: bigint): void {
    if (this.open === 0) return;
    if (this.openUntil === 0) {
      const g = this.perCpu.get(cpu);
      if (g && g.end === undefined && !(seq <= (g.holdTo ?? 0))) {
        this.perCpu.set(cpu, { ...g, end: seq });
        this.open--;
      }
    } else
      for (const [c, o] of this.perCpu) {
        if (!isOpen(o) || seq <= (o.holdTo ?? 0)) continue;
        let n = o;
        if (c === cpu) n = n.end === undefined ? { ...n, end: seq, own: [seq] } : n.own && n.own.length < OWN_KEPT ? { ...n, own: [...n.own, seq] } : n;
        if (n.until !== undefined && ts > n.until) n = { ...n, endAll: seq };
        if (n === o) continue;
        this.perCpu.set(c, n);
        if (!isOpen(n)) this.closed(n);
      }
    const a = this.anyCpu;
    if (a && isOpen(a) && !(seq <= (a.holdTo ?? 0))) {
      const until = a.until ?? ts + this.skew;
      if (ts > until) {
        this.anyCpu = { ...a, until, endAll: seq };
        this.open--;
      } else if (a.until === undefined) this.anyCpu = { ...a, until };
    }
  }

  /**
   * The gaps recorded after sequence number `after` were replayed ahead of a group of tied
   * events, whose ops take the sequence numbers up to `to`: none of those ends them.
   */
  hold(after: number, to: number): void {
    for (const [c, g] of this.perCpu) if (g.seq > after) this.perCpu.set(c, { ...g, holdTo: to });
    if (this.anyCpu && this.anyCpu.seq > after) this.anyCpu = { ...this.anyCpu, holdTo: to };
  }

  /** A mark that was open is not any more. */
  private closed(g: GapMark): void {
    this.open--;
    if (g.until !== undefined && g.cpu !== undefined) this.openUntil--;
  }

  /** The newest gap on any CPU at all that may hide events after sequence number `since` (nothing lost since then: undefined). */
  sinceAny(since: number): GapMark | undefined {
    return this.since(this.perCpu.keys(), since);
  }

  /**
   * The newest gap on any of `cpus` (or on no particular CPU) that may hide events after
   * sequence number `since`: one that ends (its CPU's next event) after it, or has not ended.
   */
  since(cpus: Iterable<number>, since: number): GapMark | undefined {
    // on a per-CPU clock the gap's CPU's next event bounds its lost events only against that CPU's own
    const after = (g: GapMark | undefined) => g !== undefined && (this.unordered !== undefined || hides(g, since));
    let best = after(this.anyCpu) ? this.anyCpu : this.always;
    for (const c of cpus) {
      const g = this.perCpu.get(c);
      if (after(g) && (!best || g!.seq > best.seq)) best = g;
    }
    return best;
  }

  /** The marks as text (the tie search's self-check). */
  text(): string {
    const one = (g: GapMark | undefined) =>
      g ? `${g.seq}-${g.end ?? ''}${g.until !== undefined ? `/${g.endAll ?? ''}[${g.own?.join(',') ?? ''}]` : ''}@${g.line}` : '-';
    return `gaps${this.always ? ` always ${one(this.always)}` : ''} any ${one(this.anyCpu)} ${[...this.perCpu.keys()]
      .sort((a, b) => a - b)
      .map((c) => `${c}:${one(this.perCpu.get(c))}`)
      .join(' ')}`;
  }

  /** The marks as they are now (the tie search puts them back after each order it tries). */
  save(): () => void {
    const perCpu = new Map(this.perCpu);
    const anyCpu = this.anyCpu;
    const open = this.open;
    const openUntil = this.openUntil;
    return () => {
      this.perCpu.clear();
      for (const [c, g] of perCpu) this.perCpu.set(c, g);
      this.anyCpu = anyCpu;
      this.open = open;
      this.openUntil = openUntil;
    };
  }
}
