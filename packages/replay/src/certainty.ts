/**
 * Certainty. A finding is `uncertain` when events may be missing where it matters: a gap
 * (lost or dropped events, a wrapped ring buffer, an unparseable or truncated line, or a
 * late event the reorder window could not place) on a CPU involved in the finding, after
 * the last sync point of the page it is about.
 *
 * - Involved CPUs: the CPUs of every event the finding cites, and every CPU whose events
 *   touched the page since its sync point. A gap that names no CPU involves all of them.
 * - Sync point of a page: the replayed event from which its state is known from the trace
 *   alone — its cache_add, its adoption (first sighting mid-life), or a probe that read
 *   its `_mapcount` from the kernel. Before it the page's state was assumed, not replayed,
 *   so gaps before it cannot change the verdict.
 */
export interface GapMark {
  /** Replay sequence number of the gap. */
  seq: number;
  line: number;
  source: string;
  reason: string;
  cpu?: number;
}

export class GapTracker {
  private readonly perCpu = new Map<number, GapMark>();
  private anyCpu: GapMark | undefined;

  record(mark: GapMark): void {
    if (mark.cpu === undefined) this.anyCpu = mark;
    else this.perCpu.set(mark.cpu, mark);
  }

  /** The newest gap on any CPU at all after sequence number `since` (nothing lost since then: undefined). */
  sinceAny(since: number): GapMark | undefined {
    return this.since(this.perCpu.keys(), since);
  }

  /** The newest gap on any of `cpus` (or on no particular CPU) after sequence number `since`. */
  since(cpus: Iterable<number>, since: number): GapMark | undefined {
    let best = this.anyCpu && this.anyCpu.seq > since ? this.anyCpu : undefined;
    for (const c of cpus) {
      const g = this.perCpu.get(c);
      if (g && g.seq > since && (!best || g.seq > best.seq)) best = g;
    }
    return best;
  }
}
