/**
 * trace.dat (trace-cmd's binary format, versions 6 and 7) read natively: the container,
 * the ring-buffer pages and the event payloads, into the same records the text parser
 * produces. docs/trace-dat.md describes the format and the mapping.
 */
import { flatten, type ParseOptions } from '../stream.js';
import type { TraceRecord } from '@kreplay/core';
import { readTraceDatBatches, type DatOptions } from './reader.js';

export { readTraceDatBatches, type DatOptions } from './reader.js';
export { DAT_MAGIC } from './container.js';

/** Records of a trace.dat: metadata, then events and gaps merged by timestamp. */
export function readTraceDat(path: string, opts?: ParseOptions & DatOptions): AsyncIterable<TraceRecord> {
  return flatten(readTraceDatBatches(path, opts));
}
export { reportTraceDat } from './report.js';
