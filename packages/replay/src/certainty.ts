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
   * gap's CPU's next event, which the reader gives a lost-events mark, plus the skew): the gap
   * also ends at the first event after it, when its CPU's next event is not a page-cache operation.
   */
  until?: bigint;
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

/** The facts a finding can rest on. */
export type Fact = 'cache' | 'map';

export class GapTracker {
  private readonly perCpu = new Map<number, GapMark>();
  private anyCpu: GapMark | undefined;
  /** A gap that never ends, on every CPU: a trace that may have lost events anywhere without saying so (perf script). */
  private always: GapMark | undefined;
  /** Marks not ended yet: while there are none, an event has nothing to end (the common case, one test per event). */
  private open = 0;
  /**
   * The trace's clock does not order events of different CPUs (clocks.ts), and the user gave no
   * bound on how far the CPUs' clocks disagree: every finding that involves two or more CPUs may
   * rest on an order the trace cannot show.
   */
  unordered: Note | undefined;

  record(mark: GapMark): void {
    const old = mark.cpu === undefined ? this.anyCpu : this.perCpu.get(mark.cpu);
    if (old !== undefined && old.end === undefined) this.open--;
    if (mark.end === undefined) this.open++;
    if (mark.cpu === undefined) this.anyCpu = mark;
    else this.perCpu.set(mark.cpu, mark);
  }

  /** A gap that may hide events anywhere, on every CPU, from the start to the end: every fact it outlives is unsure. */
  everywhere(mark: GapMark): void {
    this.always = mark;
  }

  /**
   * An event on `cpu` at time `ts` was replayed at `seq`: a gap still open on that CPU (and one
   * on no CPU, and one whose `until` it is past) ends there. Until then the events it hides may have run at any later point, after
   * any sync point in between (a cache_delete on another CPU, say).
   */
  event(cpu: number, seq: number, ts: bigint): void {
    if (this.open === 0) return;
    const g = this.perCpu.get(cpu);
    if (g && g.end === undefined) {
      this.perCpu.set(cpu, { ...g, end: seq });
      this.open--;
    }
    if (this.open !== 0)
      for (const [c, o] of this.perCpu)
        if (o.end === undefined && o.until !== undefined && ts > o.until) {
          this.perCpu.set(c, { ...o, end: seq });
          this.open--;
        }
    if (this.anyCpu && this.anyCpu.end === undefined) {
      this.anyCpu = { ...this.anyCpu, end: seq };
      this.open--;
    }
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
    const after = (g: GapMark | undefined) => g !== undefined && (this.unordered !== undefined || (g.end ?? Infinity) > since);
    let best = after(this.anyCpu) ? this.anyCpu : this.always;
    for (const c of cpus) {
      const g = this.perCpu.get(c);
      if (after(g) && (!best || g!.seq > best.seq)) best = g;
    }
    return best;
  }

  /** The marks as text (the tie search's self-check). */
  text(): string {
    const one = (g: GapMark | undefined) => (g ? `${g.seq}-${g.end ?? ''}@${g.line}` : '-');
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
    return () => {
      this.perCpu.clear();
      for (const [c, g] of perCpu) this.perCpu.set(c, g);
      this.anyCpu = anyCpu;
      this.open = open;
    };
  }
}
