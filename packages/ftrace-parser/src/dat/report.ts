/**
 * The `--pretty` view of a trace.dat: the lines `trace-cmd report -R -t` prints (comm-pid,
 * CPU, timestamp to the nanosecond, event name, every raw field) — or, `rendered`, the
 * lines `trace-cmd report -N -t` prints (each event's print fmt evaluated) — with
 * `CPU:N [N EVENTS DROPPED]` before a page that lost events and a bracketed note for any
 * other gap. The lines are rendered as bytes while the pages are decoded and come out in
 * chunks of whole lines.
 */
import { readDatLines, type DatOptions } from './reader.js';

/** `trace-cmd report -R -t` (or `-N -t`) output, as UTF-8 chunks of whole lines. */
export function reportTraceDat(path: string, opts: DatOptions = {}): AsyncGenerator<Buffer> {
  return readDatLines(path, opts);
}
