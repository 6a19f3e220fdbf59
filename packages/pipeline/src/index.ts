/**
 * @kreplay/pipeline: the jobs that gather what the formats show — `kreplay ci` (capture →
 * replay → diff → every report, from one config file) and the report model of `kreplay
 * report` (each input replayed, the events around each finding read from its trace, the
 * diff of two sides). The formats themselves are @kreplay/report's pure functions.
 */
export { loadCiConfig, CiConfigSchema, CI_FORMATS, CI_CONFIG_SCHEMA_ID, type CiConfig, type CiSide, type LoadedCiConfig } from './ci-config.js';
export {
  runCi,
  ciGroups,
  ciSummaryText,
  ciGroupOf,
  checkGroupName,
  configIdentity,
  writeSummary,
  type CaptureSide,
  type CheckCaptureSide,
  type CiOptions,
  type CiResult,
  type CiGroupResult,
  type CiGroups,
} from './ci.js';
export { planCi, planGithub, planGitlab, planText, MATRIX_LIMITS, type CiPlan, type CiJob } from './ci-plan.js';
export { mergeCi } from './ci-merge.js';
export { captureSide, checkCaptureSide } from './capture-side.js';
export { buildReport, findingClasses, PerfettoFiles, type ReportRequest } from './report-model.js';
export { collectWindows, type WindowOptions } from './evidence.js';
