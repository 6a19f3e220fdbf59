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

function eventLine(ev: TraceEvent, info: string): string {
  const secs = ev.ts / 1_000_000_000n;
  const nsec = (ev.ts % 1_000_000_000n).toString().padStart(9, '0');
  const name = ev.event;
  const pad = name.length < NAME_COLUMN ? ' '.repeat(NAME_COLUMN - name.length) : '';
  const line = `${ev.comm.padStart(16)}-${String(ev.pid).padEnd(5)} [${String(ev.cpu).padStart(3, '0')}] ${secs.toString().padStart(5)}.${nsec}: ${name}: ${pad}${info}`;
  return line.endsWith('\n') ? line.slice(0, -1) : line;
}

/** Lines in `trace-cmd report -R -t` form, in batches. */
export async function* reportTraceDat(path: string, opts: DatOptions = {}): AsyncGenerator<string[]> {
  let decoder: EventDecoder | undefined;
  let file: DatFile | undefined;
  let header = false;
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
      if (r.type === 'event') lines.push(eventLine(r, decoder?.rendered.get(r) ?? ''));
      else if (r.type === 'gap') {
        if (r.kind === 'lost-events') lines.push(r.lost === undefined ? `CPU:${r.cpu} [EVENTS DROPPED]` : `CPU:${r.cpu} [${r.lost} EVENTS DROPPED]`);
        else lines.push(`CPU:${r.cpu ?? '?'} [${r.kind}: ${r.reason}]`);
      }
    }
    if (lines.length > 0) yield lines;
  }
}
