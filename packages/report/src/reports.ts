/**
 * Reports of a diff and of replayed traces beyond the per-replay formats: the diff's
 * text/json/junit/sarif/github, the self-contained HTML report (timelines, histograms) and
 * Perfetto JSON — each a pure function of the result it is given. Gathering what they show
 * (replaying, diffing, reading the events around a finding) is @kreplay/pipeline's.
 */
export { diffToText } from './diff-text.js';
export { byChance, diffVerdictSaid, notJudgedFixed, notJudgedNew, verdictWord } from './diff-fmt.js';
export { findingCounts, findingCountsSaid, type FindingCounts } from './finding-counts.js';
export { groupShortfall, patchedShortfall, runsShortfallSaid } from './util.js';
export { diffToJson, diffToJunit, diffToSarif, diffToGithub } from './diff-formats.js';
export { reportToHtml, type ReportModel, type ReportRun, type FindingClass } from './html/report.js';
export { timelineSvg, histogramSvg, type HistogramSeries } from './html/svg.js';
export { html, trusted, escapeHtml, isolateBidi, type Html } from './html/html.js';
export { raceSections, rolesOf, pagesOf, certaintyOf, TaskColours, TASK_COLOURS, type RaceGroup, type RaceSection, type RaceMember } from './race-groups.js';
export { reportToText, verdictReasons } from './report-text.js';
export { reportToJson } from './report-json.js';
export { triageSection, type TriageView, type TriageSplatView } from './html/triage.js';
export type { FindingWindow, TimelineEvent } from './html/window.js';
export { PerfettoWriter } from './perfetto.js';
