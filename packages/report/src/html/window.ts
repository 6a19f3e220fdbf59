/**
 * What the HTML report shows around one finding: the events of a time window on each CPU
 * (gathered from the trace by @kreplay/pipeline's evidence pass), as the timeline draws them.
 */

export interface TimelineEvent {
  ts: bigint;
  cpu: number;
  pid: number;
  comm: string;
  /** Short event name: `add_to_page_cache`, `filemap_fault`, `filemap_fault ret`. */
  name: string;
  /** Entry (kprobe), return (kretprobe), a point event, or a gap (lost events on that CPU). */
  phase: 'begin' | 'end' | 'point' | 'gap';
  /** The event's fields as `k=v`, cut to a readable length. */
  detail: string;
  line: number;
  source: string;
  /** 1-based position in the finding's cited events, 0 when not cited. */
  cited: number;
}

export interface FindingWindow {
  startTs: bigint;
  endTs: bigint;
  events: TimelineEvent[];
  /** Tasks named by the finding's cited events: the ones that raced. */
  racing: Array<{ pid: number; comm: string }>;
  /** Events in the window beyond what was kept. */
  dropped: number;
}
