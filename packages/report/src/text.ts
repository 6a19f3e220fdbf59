/**
 * Text: a summary, then each finding with its explanation and the cited lines, then
 * warnings; `--stats` appends what the replay used and skipped.
 */
import { cpuName, printable, type Finding } from '@kreplay/core';
import { percentile, type LatencyHistogram, type ReplayResult } from '@kreplay/replay';
import { reaches } from './rules.js';
import { findingWhere, plural, seconds, type RenderOptions } from './util.js';

function summaryLine(r: ReplayResult): string {
  const f = r.findings;
  const v = r.verdict;
  const by = (sev: string) => f.filter((x) => x.severity === sev).length;
  const uncertain = f.filter((x) => x.certainty === 'uncertain').length;
  const parts = [plural(by('error'), 'error'), plural(by('warning'), 'warning')];
  if (by('note')) parts.push(plural(by('note'), 'note'));
  const unjudged = [...new Set(v.unjudged?.map((u) => u.rule) ?? [])];
  const verdict =
    v.status === 'inconclusive'
      ? `INCONCLUSIVE: ${v.inconclusive.join('; ')}`
      : f.length === 0
        ? (v.gaps || v.unusableEvents
            ? 'no findings in what the trace shows — it has holes (gaps, lost or unusable events), so this is not a clean run'
            : 'no findings') + (unjudged.length ? `; not judged (see the warnings): ${unjudged.join(', ')}` : '')
        : `${plural(f.length, 'finding')}: ${parts.join(', ')}${uncertain ? ` (${uncertain} uncertain)` : ''}`;
  const s = r.stats;
  const doubts = [...(v.unusableEvents ? [plural(v.unusableEvents, 'unusable event')] : []), ...(v.tiedGroups ? [plural(v.tiedGroups, 'tied timestamp')] : [])];
  return `${plural(s.events, 'event')}, ${s.ops} replayed as page-cache operations, ${plural(s.pages, 'page')}, ${plural(s.gaps, 'gap')}${doubts.map((d) => `, ${d}`).join('')} — ${verdict}`;
}

/** A cited line: the trace's own text when replay could read it again, else the event in a few words. */
export function citedLine(e: Finding['events'][number]): string {
  return e.text !== undefined
    ? `${e.source}:${e.line}  ${e.text.trim()}`
    : `${e.source}:${e.line}  ${seconds(e.ts)}  ${cpuName(e.cpu)}  ${e.comm}-${e.pid}  ${e.summary}`;
}

function findingText(f: Finding, i: number): string {
  const lines = [
    `[${i + 1}] ${f.severity} ${f.rule} (${f.certainty}) at ${seconds(f.ts)}${findingWhere(f)}${f.file !== undefined ? `, page ${f.file}${f.index !== undefined ? ` index ${f.index}` : ''}` : ''}`,
    `    ${f.message}`,
    `    ${f.explanation}`,
    '    cited:',
  ];
  for (const e of f.events) lines.push(`      ${citedLine(e)}`);
  return lines.join('\n');
}

function count(o: Record<string, number>): string {
  const keys = Object.keys(o);
  return keys.length ? keys.map((k) => `${k} ${o[k]}`).join(', ') : 'none';
}

function latencyLine(name: string, h: LatencyHistogram): string {
  if (h.count === 0) return `  ${name}: no paired entry/return`;
  const us = (ns: number | undefined) => (ns === undefined ? '-' : `${(ns / 1000).toFixed(1)}µs`);
  return `  ${name}: n=${h.count} p50 ${us(percentile(h, 50))} p90 ${us(percentile(h, 90))} p99 ${us(percentile(h, 99))} max ${us(h.maxNs)}`;
}

/** Where a trace.dat's thread groups came from (ReplayTraceInfo.tgidsSource); nothing for a text trace, whose own column names them. */
function tgidsText(t: ReplayResult['trace']): string {
  if (t.tgidsSource === undefined) return '';
  if (t.tgidsSource === null) return '; thread groups: none (no saved_tgids beside the trace.dat, no --tgids)';
  return `; thread groups: ${t.tgidsSource === 'given' ? 'a saved_tgids table' : `saved_tgids ${t.tgidsSource}`}`;
}

/** The trace clock and where it came from (ReplayTraceInfo.clockFrom). */
export function clockText(t: ReplayResult['trace']): string {
  if (t.clockFrom === 'unknown' || t.clock === undefined) return 'not named by the trace (read as per CPU)';
  const from = t.clockFrom === 'recorded' ? 'recorded in the trace' : t.clockFrom === 'meta' ? 'meta.json' : '--trace-clock';
  return `${t.clock} (${from})`;
}

function statsText(r: ReplayResult, timing: boolean): string {
  const s = r.stats;
  const t = r.trace;
  const out = [
    'stats:',
    `  adapter: ${t.kernel} (${t.kernelReason}); probe maps: ${t.probeSources.join(' > ') || 'none'}`,
    `  vmemmap base: ${t.vmemmapBase !== undefined ? `0x${t.vmemmapBase.toString(16)} (${t.vmemmapSource})` : 'unknown'}; clock: ${clockText(t)}; span ${seconds(t.firstTs)}..${seconds(t.lastTs)}`,
    `  events ${s.events}, ops ${s.ops}, pages ${s.pages}, gaps ${s.gaps} (${s.lostEvents} events lost), late ${s.lateEvents} (window ${s.reorderWindow})`,
    `  ops by kind: ${count(s.byOp as Record<string, number>)}`,
    `  events used: ${count(s.usedEvents)}`,
    `  events unknown (passed through): ${s.unknownEvents}${s.unknownEvents ? ` — ${count(s.unknownByEvent)}` : ''}`,
    `  events unusable: ${count(s.unusableEvents)}`,
    `  tied timestamps: ${s.ties.groups} groups on several CPUs, ${s.ties.searched} sets searched (${s.ties.orders} orders), ${s.ties.unsearched} beyond the search bound, ${s.ties.cleanOrderChosen} replayed in a clean order, ${s.ties.uncertainFindings} findings uncertain`,
    `  adopted mid-life: ${s.adopted.pages} pages, ${s.adopted.mappings} mappings, ${s.adopted.calls} returns without entry, ${s.adopted.reused} pfns reused by untraced caches, ${s.adopted.unseenUnmaps} PTEs of removed pages gone unseen`,
    `  nested probes merged: ${s.nestedDuplicates}; mapcount resyncs: ${s.mapcountResyncs}; invalidates not judged: ${s.uncheckedInvalidates}`,
    ...(s.anonCopies || s.maybeCopies
      ? [`  PTEs of private copies: ${s.anonCopies ?? 0} (not replayed); PTEs that may map one: ${s.maybeCopies ?? 0} (replayed, uncertain)`]
      : []),
    ...(s.byOp.task_exit
      ? []
      : s.byOp.pte_map || s.byOp.pte_unmap
        ? [`  task exits: none in the trace (no sched_process_exit): a pid given to a new task cannot be seen, each pid is read as one task`]
        : []),
    ...(s.missedReturns ? [`  returns lost (a task entered a probed function again before its return showed): ${s.missedReturns}`] : []),
  ];
  for (const [fn, rets] of Object.entries(s.returns)) out.push(`  ${fn} returned: ${count(rets)}`);
  out.push('  latency (entry → return):');
  out.push(latencyLine('fault', s.latency.fault), latencyLine('invalidate', s.latency.invalidate), latencyLine('truncate', s.latency.truncate));
  if (timing) out.push(`  time: ${s.ms.toFixed(1)} ms, ${s.eventsPerSec} events/s`);
  return out.join('\n');
}

export function formatText(r: ReplayResult, opts: RenderOptions = {}): string {
  const failOn = opts.failOn ?? 'error';
  const t = r.trace;
  const out: string[] = [`kreplay replay ${t.source} (${t.kernel}: ${t.kernelReason})${tgidsText(t)}`, summaryLine(r)];
  r.findings.forEach((f, i) => out.push('', findingText(f, i)));
  if (r.findings.length) {
    const failingN = r.findings.filter((f) => reaches(f, failOn)).length;
    out.push('', failOn === 'never' ? 'fail-on never: findings do not fail the run' : `${plural(failingN, 'finding')} at or above --fail-on ${failOn}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (opts.stats) out.push('', statsText(r, opts.timing ?? true));
  // comm names, cited trace lines and the trace's own name come from the trace: a terminal shows their controls, not acts on them
  return printable(`${out.join('\n')}\n`);
}
