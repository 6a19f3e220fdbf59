/**
 * What the workload itself saw. kreplay's capture workloads (packages/capture/c/kr-race.h)
 * check every page they read against the newest O_DIRECT write that had returned before the
 * read began, and write each mismatch into the trace as a marker:
 *
 *   tracing_mark_write: kreplay: mismatch kind=map_stale index=7 want=0x300007 got=0x200007
 *
 * That is stale data observed by a user program, whatever the trace's kernel events show or
 * miss, so replay reports it as `stale-data`, certain, citing the marker. Without this a run
 * whose probes missed the cause would read "no findings" while the workload had seen old
 * bytes. The workload marks at most its first 32 mismatches; the rest are in its counters
 * (meta.json workload.result.mismatches), which replay compares with the marks it saw.
 */
import { fileKey, WORKLOAD_MARKER_PREFIX, type Finding, type MetaJson, type TraceEvent } from '@kreplay/core';
import { cite, hex, who } from './cite.js';

const MISMATCH = /^kreplay: mismatch kind=(\w+) index=(\d+) want=0x([0-9a-f]+) got=0x([0-9a-f]+)\s*$/;

/** The tag's low 20 bits are the page index, the rest the write generation + 1 (kr-race.h kr_tag). */
const INDEX_BITS = 20n;

const HOW: Record<string, string> = {
  map_stale: 'through its existing mapping right after its own O_DIRECT write returned',
  read_stale: 'with a buffered read() right after its own O_DIRECT write returned',
  fault_stale: 'through a new fault after an O_DIRECT write had returned',
};

export interface WorkloadMismatch {
  kind: string;
  index: number;
  want: bigint;
  got: bigint;
  ev: TraceEvent;
}

/** The mismatch a marker event reports, or undefined when the event is no such marker. */
export function workloadMismatch(ev: TraceEvent): WorkloadMismatch | undefined {
  if (ev.event !== 'tracing_mark_write' && ev.event !== 'print') return undefined;
  const buf = ev.fields.buf;
  if (typeof buf !== 'string' || !buf.startsWith(`${WORKLOAD_MARKER_PREFIX}mismatch `)) return undefined;
  const m = MISMATCH.exec(buf);
  if (!m) return undefined;
  return { kind: m[1]!, index: Number(m[2]), want: BigInt(`0x${m[3]}`), got: BigInt(`0x${m[4]}`), ev };
}

/** The workload's file as the page cache knows it, from meta.json, when the capture recorded it. */
function workloadFile(meta: MetaJson | undefined): string | undefined {
  const w = meta?.workload;
  if (typeof w !== 'object' || !w.testFile) return undefined;
  try {
    return fileKey({ dev: w.testFile.dev, ino: BigInt(w.testFile.ino) });
  } catch {
    return undefined;
  }
}

/** One certain `stale-data` finding for a mismatch the workload marked. */
export function mismatchFinding(m: WorkloadMismatch, meta: MetaJson | undefined): Finding {
  const wantGen = (m.want >> INDEX_BITS) - 1n;
  const gotGen = (m.got >> INDEX_BITS) - 1n;
  const gotIndex = m.got & ((1n << INDEX_BITS) - 1n);
  const what = m.got === 0n ? 'zeroes' : gotIndex !== BigInt(m.index) ? `page ${gotIndex}'s data (generation ${gotGen})` : `generation ${gotGen}`;
  const how = HOW[m.kind] ?? `(${m.kind})`;
  const file = workloadFile(meta);
  const finding: Finding = {
    rule: 'stale-data',
    severity: 'error',
    certainty: 'certain',
    message: `the workload read index ${m.index} ${how} and got ${what}, not generation ${wantGen} or newer (want=${hex(m.want)} got=${hex(m.got)})`,
    ts: m.ev.ts,
    cpu: m.ev.cpu,
    pid: m.ev.pid,
    events: [cite(m.ev)],
    explanation: `The workload's own check (${who(m.ev)}, line ${m.ev.line}) found that a read which began after the O_DIRECT write of generation ${wantGen} to index ${m.index} had returned saw ${what}: stale data (docs/rules.md, stale-data). It is certain whatever the trace's kernel events show; if no other finding explains it, the probes missed the path that served the old bytes.`,
  };
  if (file) finding.file = file;
  finding.index = m.index;
  return finding;
}

/** Insert `extra` into `findings` (replay order) by timestamp, after findings of the same time. */
export function mergeByTime(findings: Finding[], extra: readonly Finding[]): Finding[] {
  if (!extra.length) return findings;
  const out: Finding[] = [];
  let j = 0;
  for (const f of findings) {
    while (j < extra.length && extra[j]!.ts < f.ts) out.push(extra[j++]!);
    out.push(f);
  }
  while (j < extra.length) out.push(extra[j++]!);
  return out;
}

/** The workload's own mismatch count, from meta.json, when it printed one. */
export function countedMismatches(meta: MetaJson | undefined): number | undefined {
  const w = meta?.workload;
  const n = typeof w === 'object' ? w.result?.mismatches : undefined;
  return typeof n === 'number' ? n : undefined;
}
