/**
 * JSON: `{tool, version, source, trace, findings:[{rule, severity, certainty, message, ts,
 * cpu, pid, events:[{line, source, ts, cpu, pid, comm, summary}], explanation, file?,
 * index?}], stats:{events, ops, pages, gaps, ms, ...}, opCounts, latencyNs, warnings, meta}`.
 * Integers wider than 2^53 (timestamps in ns, addresses) are bare JSON integers
 * (stringifyJson). Keys come in a fixed order; without timing the bytes are identical run
 * to run. `kreplay diff` reads this back.
 */
import { stringifyJson } from '@kreplay/core';
import type { Finding } from '@kreplay/core';
import type { ReplayResult } from '@kreplay/replay';
import type { RenderOptions } from './util.js';

function findingJson(f: Finding) {
  return {
    rule: f.rule, severity: f.severity, certainty: f.certainty, message: f.message,
    ts: f.ts, cpu: f.cpu, pid: f.pid,
    events: f.events.map((e) => ({ line: e.line, source: e.source, ts: e.ts, cpu: e.cpu, pid: e.pid, comm: e.comm, summary: e.summary })),
    explanation: f.explanation,
    ...(f.file !== undefined ? { file: f.file } : {}),
    ...(f.index !== undefined ? { index: f.index } : {}),
  };
}

/** The JSON document as an object (before serialisation). */
export function replayJson(r: ReplayResult, opts: RenderOptions = {}) {
  const timing = opts.timing ?? true;
  const s = r.stats;
  const t = r.trace;
  const durationNs = t.firstTs !== undefined && t.lastTs !== undefined ? Number(t.lastTs - t.firstTs) : undefined;
  return {
    tool: 'kreplay replay',
    version: 1,
    source: t.source,
    trace: {
      source: t.source, kernel: t.kernel, kernelReason: t.kernelReason, release: t.release, clock: t.clock,
      firstTs: t.firstTs, lastTs: t.lastTs, header: t.header, probeSources: t.probeSources,
      vmemmapBase: t.vmemmapBase !== undefined ? `0x${t.vmemmapBase.toString(16)}` : undefined,
      vmemmapSource: t.vmemmapSource, metaSource: t.metaSource,
    },
    findings: r.findings.map(findingJson),
    stats: {
      events: s.events, ops: s.ops, pages: s.pages, gaps: s.gaps,
      ...(timing ? { ms: s.ms, eventsPerSec: s.eventsPerSec } : {}),
      lostEvents: s.lostEvents, unknown: s.unknownEvents,
      firstTs: t.firstTs, lastTs: t.lastTs, durationNs,
      byOp: s.byOp, usedEvents: s.usedEvents, unknownEvents: s.unknownEvents, unknownByEvent: s.unknownByEvent,
      unusableEvents: s.unusableEvents, adopted: s.adopted, lateEvents: s.lateEvents, reorderWindow: s.reorderWindow,
      nestedDuplicates: s.nestedDuplicates, mapcountResyncs: s.mapcountResyncs, returns: s.returns,
      uncheckedInvalidates: s.uncheckedInvalidates, findingsDropped: s.findingsDropped, latency: s.latency,
    },
    opCounts: s.byOp,
    latencyNs: r.latencyNs,
    warnings: r.warnings,
    ...(r.meta !== undefined ? { meta: r.meta } : {}),
  };
}

export function formatJson(r: ReplayResult, opts: RenderOptions = {}): string {
  return `${stringifyJson(replayJson(r, opts), 2)}\n`;
}
