/**
 * The explorer's traces (docs/trace-format.md), for every flavor: page-cache insertions and
 * removals are real 6.1 filemap tracepoints (lifted by the kernel map's adapter), everything
 * else is a `tracing_mark_write: kreplay:<op> key=value ...` marker.
 */
import type { TraceEvent } from '@kreplay/core';
import { PROBE_OPS, type ProbeMeaning } from '@kreplay/core';
import type { Adapter, Lifted } from './adapter.js';
import { FileRefs, makeOp, type Values } from './probe-adapter.js';
import { hexDigits, toDev, toInt } from '../fields.js';

const MARK = 'kreplay:';
const OPS = new Set<string>(PROBE_OPS);

/** Marker keys → MmOp targets, with how their values are printed. */
const KEYS: Record<string, { target: keyof Values; read: (s: string) => Values[keyof Values] }> = {
  dev: { target: 'dev', read: toDev },
  ino: { target: 'ino', read: hexDigits },
  index: { target: 'index', read: toInt },
  pfn: { target: 'pfn', read: toInt },
  addr: { target: 'address', read: toInt },
  start: { target: 'start', read: toInt },
  end: { target: 'end', read: toInt },
  size: { target: 'size', read: toInt },
  ret: { target: 'ret', read: toInt },
  mapcount: { target: 'mapcount', read: toInt },
};

/** `a=1 b="x y" c=0x2` → pairs; values with spaces are double-quoted. */
export function splitMarker(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = /([A-Za-z_][\w]*)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push([m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!]);
  return out;
}

export class ExploreAdapter implements Adapter {
  readonly name = 'explore';

  /** `tracepoints` lifts the filemap tracepoints (the kernel map's adapter); `files` interns FileRefs with it. */
  constructor(private readonly tracepoints: Adapter, private readonly files: FileRefs) {}

  lift(ev: TraceEvent): Lifted {
    if (ev.event !== 'print') return this.tracepoints.lift(ev);
    const buf = ev.fields.buf;
    if (typeof buf !== 'string') return null;
    const text = buf.trim();
    if (!text.startsWith(MARK)) return null;
    const sp = text.indexOf(' ');
    const op = text.slice(MARK.length, sp < 0 ? text.length : sp);
    const rest = sp < 0 ? '' : text.slice(sp + 1);
    if (op === 'step') {
      const label = splitMarker(rest).find(([k]) => k === 'label')?.[1] ?? rest;
      return { kind: 'marker', text: label, event: ev };
    }
    if (!OPS.has(op)) return `unknown kreplay op "${op}"`;
    const values: Values = {};
    let fn: string | undefined;
    for (const [k, raw] of splitMarker(rest)) {
      if (k === 'fn') { fn = raw; continue; }
      const key = KEYS[k];
      if (!key) continue;
      const v = key.read(raw);
      if (v === undefined) return `${k}=${raw} is not readable`;
      values[key.target] = v;
    }
    return makeOp(op as ProbeMeaning['op'], fn, values, ev, this.files);
  }
}
