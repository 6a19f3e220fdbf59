/**
 * The `--pretty` view of a trace.dat: the lines `trace-cmd report -R -t` prints (comm-pid,
 * CPU, timestamp to the nanosecond, event name, every raw field), `CPU:N [N EVENTS
 * DROPPED]` for lost events, and a bracketed note for any other gap.
 */
import type { TraceEvent, TraceRecord } from '../types.js';
import type { DatFile } from './container.js';
import type { EventDecoder } from './decode.js';
import { readTraceDatBatches, type DatOptions } from './reader.js';

const NAME_COLUMN = 20;

/** `comm-pid [cpu]` and ` name: ` padded, cached: they repeat on almost every line. */
class LineParts {
  private readonly heads = new Map<string, string>();
  private readonly names = new Map<string, string>();

  head(ev: TraceEvent): string {
    const key = `${ev.pid}/${ev.cpu}/${ev.comm}`;
    let h = this.heads.get(key);
    if (h === undefined) {
      h = `${ev.comm.padStart(16)}-${String(ev.pid).padEnd(5)} [${String(ev.cpu).padStart(3, '0')}] `;
      if (this.heads.size < 100_000) this.heads.set(key, h);
    }
    return h;
  }

  name(event: string): string {
    let n = this.names.get(event);
    if (n === undefined) {
      n = `: ${event}: ${event.length < NAME_COLUMN ? ' '.repeat(NAME_COLUMN - event.length) : ''}`;
      this.names.set(event, n);
    }
    return n;
  }

  line(ev: TraceEvent, info: string): string {
    const t = ev.ts.toString().padStart(10, '0');
    return `${this.head(ev)}${t.slice(0, -9).padStart(5)}.${t.slice(-9)}${this.name(ev.event)}${info}`;
  }
}

/** Lines in `trace-cmd report -R -t` form, in batches. */
export async function* reportTraceDat(path: string, opts: DatOptions = {}): AsyncGenerator<string[]> {
  let decoder: EventDecoder | undefined;
  let file: DatFile | undefined;
  let header = false;
  const parts = new LineParts();
  for await (const batch of readTraceDatBatches(path, opts, {
    onFile: (f) => (file = f),
    onDecoder: (d) => {
      decoder = d;
      d.renderers = new Map();
    },
  })) {
    const lines: string[] = [];
    if (!header && file) {
      const cpus = file.meta.find(([k]) => k === 'cpus')?.[1];
      lines.push(`cpus=${cpus ?? 0}`);
      header = true;
    }
    for (const r of batch as TraceRecord[]) {
      if (r.type === 'event') lines.push(parts.line(r, decoder?.takeRendered(r) ?? ''));
      else if (r.type === 'gap') {
        if (r.kind === 'lost-events') lines.push(r.lost === undefined ? `CPU:${r.cpu} [EVENTS DROPPED]` : `CPU:${r.cpu} [${r.lost} EVENTS DROPPED]`);
        else lines.push(`CPU:${r.cpu ?? '?'} [${r.kind}: ${r.reason}]`);
      }
    }
    if (lines.length > 0) yield lines;
  }
}
