/**
 * @kreplay/ftrace-parser: every trace format kreplay reads, as one record stream
 * (TraceEvent | Gap | TraceMeta). Entry point: openTrace(path | '-'). See README.md.
 */
export { openTrace, openTraceBatches } from './open.js';
export { parseTrace, parseTraceString, parseTraceBatches, MAX_LINE, type ParseOptions, type ParseTotals } from './stream.js';
export { summarize, formatStats, metaValue, TraceStatsCollector, type TraceStats } from './stats.js';
export { decodeFields, decodeValue, decodeInteger, decodeHexDigits } from './values.js';
export type { FieldPlan, FieldsWanted } from './events.js';
export { parseTimestamp, formatTimestamp, type TimestampForm } from './timestamp.js';
export { readTraceDat, readTraceDatBatches, reportTraceDat, type DatOptions } from './dat/index.js';
