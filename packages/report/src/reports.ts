/**
 * Reports of a diff and of replayed traces beyond the per-replay formats: the diff's
 * text/json/junit/sarif/github, the self-contained HTML report (timelines, histograms),
 * Perfetto JSON, and `kreplay ci`, which writes all of them into one folder.
 */
export { diffToText } from './diff-text.js';
export { diffToJson, diffToJunit, diffToSarif, diffToGithub } from './diff-formats.js';
export { reportToHtml, type ReportModel, type ReportRun, type FindingClass } from './html/report.js';
export { triageSection, type TriageView, type TriageSplatView } from './html/triage.js';
export { timelineSvg, histogramSvg, RACING_COLOURS, type HistogramSeries } from './html/svg.js';
export { collectWindows, type FindingWindow, type TimelineEvent, type WindowOptions } from './html/evidence.js';
export { buildReport, findingClasses, PerfettoFiles, type ReportRequest } from './html/build.js';
export { PerfettoWriter } from './perfetto.js';
export { loadCiConfig, CiConfigSchema, CI_FORMATS, type CiConfig, type CiSide, type LoadedCiConfig } from './ci-config.js';
export { runCi, parseShard, ciSummaryText, type CaptureSide, type CiOptions, type CiResult, type CiGroupResult } from './ci.js';
