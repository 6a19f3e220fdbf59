/**
 * `kreplay report --json`: the report's summary as data — inputs, the verdict, and each race
 * once with its pages (the same grouping the HTML and the mail text show). Pure function of
 * the ReportModel; bigints (timestamps) stay exact through core's stringifyJson.
 */
import type { ReportModel } from './html/report.js';
import { certaintyOf, raceSections } from './race-groups.js';
import { verdictReasons } from './report-text.js';
import { diffVerdictSaid } from './diff-fmt.js';
import { findingCounts } from './finding-counts.js';

export function reportToJson(m: ReportModel): Record<string, unknown> {
  const sections = raceSections(m);
  const d = m.diff;
  return {
    title: m.title,
    inputs: m.runs.map((r) => ({
      label: r.label,
      ...(r.side ? { side: r.side } : {}),
      events: r.run.stats.events,
      gaps: r.run.stats.gaps,
      ...(r.run.unusableEvents ? { unusableEvents: r.run.unusableEvents } : {}),
      ...(r.run.unjudged?.length ? { unjudged: [...new Set(r.run.unjudged.map((u) => u.rule))] } : {}),
      ...(r.run.inconclusive?.length ? { inconclusive: r.run.inconclusive } : {}),
      findings: r.run.findings.length,
    })),
    ...(d
      ? {
          diff: {
            // `regression: false` alone would read as a pass for an inconclusive diff, or one over holes
            verdict: d.verdict,
            verdictSaid: diffVerdictSaid(d),
            ...(d.inconclusive.length ? { inconclusive: d.inconclusive } : {}),
            regression: d.regression,
            reasons: verdictReasons(d, sections[0]!),
            // new (newByChance), fixed (fixedByChance), unchanged, unjudged, maybeNew: summary.json's counts
            ...findingCounts(d),
            warnings: d.warnings,
          },
        }
      : {}),
    races: sections.flatMap((s) =>
      s.groups.map((g) => ({
        id: g.id,
        ...(g.state ? { state: g.state } : { input: s.runLabel }),
        rules: g.rules,
        severity: g.severity,
        certainty: certaintyOf(g),
        tasks: g.roles,
        occurrences: g.members.reduce((k, x) => k + x.count, 0),
        pages: g.members.map((x) => ({
          rule: x.finding.rule,
          file: x.file ?? null,
          index: x.index ?? null,
          certainty: x.certainty,
          ...(x.entry
            ? {
                base: x.entry.base,
                patched: x.entry.patched,
                baseRuns: x.entry.baseRuns,
                patchedRuns: x.entry.patchedRuns,
                ...(x.entry.chance ? { chance: x.entry.chance } : {}),
              }
            : { occurrences: x.count }),
        })),
        first: { run: g.members[0]!.run, message: g.members[0]!.finding.message, events: g.members[0]!.finding.events },
      })),
    ),
  };
}
