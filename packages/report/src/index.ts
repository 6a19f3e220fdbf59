/**
 * @kreplay/report: every output format of a replay result, each a pure function of the
 * ReplayResult (no format recomputes anything).
 */
import { formatJson, type ReplayResult } from '@kreplay/replay';
import { formatGithub } from './github.js';
import { formatJunit } from './junit.js';
import { formatSarif } from './sarif.js';
import { formatText } from './text.js';
import type { RenderOptions } from './util.js';
import { formatKcidb } from './kernel-ci/kcidb.js';
import { formatKtap } from './kernel-ci/ktap.js';
import { replayTests } from './kernel-ci/runs.js';

export { formatText, citedLine } from './text.js';
export { formatJunit, REPLAY_RULES } from './junit.js';
export { formatSarif, sarifLog } from './sarif.js';
export { formatGithub, escapeData, escapeProperty } from './github.js';
export { RULE_HELP, reaches, failing } from './rules.js';
export { seconds, type RenderOptions } from './util.js';

export const REPLAY_FORMATS = ['text', 'json', 'junit', 'sarif', 'github', 'ktap', 'kcidb'] as const;
export type ReplayFormat = (typeof REPLAY_FORMATS)[number];

const RENDER: Record<ReplayFormat, (r: ReplayResult, o: RenderOptions) => string> = {
  text: formatText,
  json: formatJson,
  junit: formatJunit,
  sarif: formatSarif,
  github: formatGithub,
  ktap: (r, o) => formatKtap(replayTests(r, o)),
  kcidb: (r, o) => formatKcidb(replayTests(r, o), o.kcidb),
};

export function renderReplay(r: ReplayResult, format: ReplayFormat, opts: RenderOptions = {}): string {
  return RENDER[format](r, opts);
}

export * from './reports.js';
export { formatKtap, diagnostic as ktapDiagnostic } from './kernel-ci/ktap.js';
export { formatKcidb, kcidbJson, artifactUrl, KCIDB_VERSION, type KcidbOptions } from './kernel-ci/kcidb.js';
export {
  replayTests,
  diffTests,
  exploreTests,
  ciTests,
  type ReplayTestOptions,
  type DiffTestOptions,
  type ExploreSummary,
  type CiSummary,
} from './kernel-ci/runs.js';
export { ciGroupCountsSaid, kernelFailedSaid, kernelFailureLines, kernelFailureWords, type KernelFailed, type KernelFailures } from './kernel-failed.js';
export { diffToKtap, diffToKcidb, exploreToKtap, exploreToKcidb, ciToKtap, ciToKcidb } from './kernel-ci/formats.js';
export { segment, testName, statusOf, STATUS_PRIORITY, type TestRun, type TestNode, type TestBuild, type TestStatus } from './kernel-ci/tests.js';
