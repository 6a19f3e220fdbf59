/**
 * The `--pretty` view of a trace.dat: the lines `trace-cmd report -R -t` prints (comm-pid,
 * CPU, timestamp to the nanosecond, event name, every raw field), `CPU:N [N EVENTS
 * DROPPED]` before a page that lost events, and a bracketed note for any other gap. The
 * lines are rendered as bytes while the pages are decoded and come out in chunks.
 */
import type { DatFile } from './container.js';
import { readDat, type DatOptions } from './reader.js';

/** `trace-cmd report -R -t` output, as UTF-8 chunks of whole lines. */
export async function* reportTraceDat(path: string, opts: DatOptions = {}): AsyncGenerator<Buffer> {
  let file: DatFile | undefined;
  let header = false;
  for await (const batch of readDat(path, opts, true, (f) => (file = f))) {
    const parts: Buffer[] = [];
    if (!header && file) {
      const cpus = file.meta.find(([k]) => k === 'cpus')?.[1];
      parts.push(Buffer.from(`cpus=${cpus ?? 0}\n`));
      header = true;
    }
    // consecutive lines of one sink are copied in one piece
    let sink: Buffer | undefined;
    let from = 0;
    let to = 0;
    const flush = (): void => {
      if (sink && to > from) parts.push(sink.subarray(from, to));
      sink = undefined;
    };
    for (const r of batch) {
      if (r.type === 'line') {
        if (sink !== r.sink.buf || r.start !== to) {
          flush();
          sink = r.sink.buf;
          from = r.start;
        }
        to = r.end;
        continue;
      }
      flush();
      if (r.type === 'gap') {
        if (r.kind === 'lost-events') parts.push(Buffer.from(r.lost === undefined ? `CPU:${r.cpu} [EVENTS DROPPED]\n` : `CPU:${r.cpu} [${r.lost} EVENTS DROPPED]\n`));
        else parts.push(Buffer.from(`CPU:${r.cpu ?? '?'} [${r.kind}: ${r.reason}]\n`));
      }
    }
    flush();
    if (parts.length > 0) yield Buffer.concat(parts);
  }
}
