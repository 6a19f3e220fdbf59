/**
 * The explorer's traces (docs/trace-format.md), for every flavor: page-cache insertions and
 * removals are real 6.1 filemap tracepoints (lifted by the kernel map's adapter), everything
 * else is a `tracing_mark_write: kreplay:<op> key=value ...` marker, read by the
 * explorer-trace contract (packages/core/src/contracts/explore-trace.ts) and built into an
 * MmOp as a probe's values are.
 */
import type { MmOp, TraceEvent } from '@kreplay/core';
import { decodeMarker, exploreTraceFormat } from '@kreplay/core';
import type { Adapter, Lifted, Lifter } from './adapter.js';
import { FileRefs, makeOp, pfnValue, shapedOp, subpages, type Values } from './probe-adapter.js';
import { hexDigits, toDev, toInt } from '../fields.js';

/** The conversions the contract's marker keys use, by their probe-map names. */
const READ: Record<string, (raw: string) => Values[keyof Values]> = { kdev: toDev, hex: hexDigits, number: toInt };

/**
 * Refuse an explorer trace whose header names a format this kreplay does not read, before
 * anything of it is replayed. `header` holds the trace's `# kreplay:` metadata as the reader
 * gives it (`kreplay`, `kreplay.format`, ...).
 */
export function checkExploreTrace(header: Record<string, string | number>, source?: string): void {
  if (header.kreplay === 'explore') exploreTraceFormat(header['kreplay.format'], { file: source });
}

export class ExploreAdapter implements Adapter {
  readonly name = 'explore';

  /** `tracepoints` lifts the filemap tracepoints (the kernel map's adapter); `files` interns FileRefs with it. */
  constructor(
    private readonly tracepoints: Adapter,
    private readonly files: FileRefs,
  ) {}

  /** Markers (`print`) are read one by one; every other event as the kernel map's adapter lifts it. */
  lifterFor(ev: TraceEvent): Lifter {
    return ev.event === 'print' ? this.marker : this.tracepoints.lifterFor(ev);
  }

  private readonly marker: Lifter = (ev) => this.lift(ev);

  lift(ev: TraceEvent): Lifted {
    if (ev.event !== 'print') return this.tracepoints.lift(ev);
    const buf = ev.fields.buf;
    if (typeof buf !== 'string') return null;
    const m = decodeMarker(buf);
    if (m === null) return m;
    if (typeof m === 'string') return { unusable: m };
    if (m.op === 'step') {
      const marker = shapedOp('marker', ev);
      marker.text = m.label;
      return marker as MmOp;
    }
    const values: Values = {};
    for (const { key, target, as, raw } of m.values) {
      const v = READ[as]!(raw);
      if (v === undefined) return { unusable: `${key}=${raw} is not readable` };
      values[target] = v;
    }
    const made = makeOp(m.op, m.fn, values, ev, this.files);
    if (typeof made !== 'string') return made;
    const pfn = pfnValue(values.pfn);
    return pfn === undefined ? { unusable: made } : { unusable: made, pfns: subpages(BigInt(pfn), 0) };
  }
}
