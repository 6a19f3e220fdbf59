/**
 * SARIF 2.1.0 (GitHub code scanning, Azure DevOps, VS Code's SARIF viewer): one run, the
 * rules as reportingDescriptors, each finding a result located at its own trace line, with
 * every cited event as a related location and certainty/timing/task in properties. The
 * partial fingerprint is rule + page-cache identity, which is stable across runs (pfns and
 * timestamps are not), so a code-scanning service tracks one race across traces.
 */
import { onCpu, stringifyJson } from '@kreplay/core';
import type { Finding, Severity } from '@kreplay/core';
import type { ReplayResult } from '@kreplay/replay';
import { REPLAY_RULES } from './junit.js';
import { RULE_HELP } from './rules.js';
import { findingLine, findingTask, replaySaid, type RenderOptions } from './util.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', note: 'note' };
const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

function result(f: Finding, source: string) {
  const line = findingLine(f);
  return {
    ruleId: f.rule,
    ruleIndex: REPLAY_RULES.indexOf(f.rule),
    level: LEVEL[f.severity],
    message: { text: `${f.message} (${f.certainty}). ${f.explanation}` },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: source }, ...(line ? { region: { startLine: line } } : {}) },
      },
    ],
    relatedLocations: f.events.map((e, i) => ({
      id: i + 1,
      physicalLocation: { artifactLocation: { uri: e.source }, region: { startLine: e.line, ...(e.text !== undefined ? { snippet: { text: e.text } } : {}) } },
      message: { text: e.text !== undefined ? e.text.trim() : `${e.comm}-${e.pid}${onCpu(e.cpu)}: ${e.summary}` },
    })),
    partialFingerprints: { 'kreplayPage/v1': `${f.rule}:${f.file ?? '-'}:${f.index ?? '-'}` },
    properties: {
      certainty: f.certainty,
      ts: f.ts.toString(),
      cpu: f.cpu,
      pid: f.pid,
      task: findingTask(f),
      ...(f.file !== undefined ? { file: f.file } : {}),
      ...(f.index !== undefined ? { index: f.index } : {}),
    },
  };
}

export function sarifLog(r: ReplayResult, _opts: RenderOptions = {}) {
  const source = r.trace.source;
  return {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kreplay',
            informationUri: 'https://github.com/kreplay/kreplay',
            rules: REPLAY_RULES.map((id) => ({
              id,
              shortDescription: { text: RULE_HELP[id].short },
              fullDescription: { text: RULE_HELP[id].full },
              defaultConfiguration: { level: id === 'trace-inconsistent' ? 'warning' : 'error' },
            })),
          },
        },
        // a trace that saw nothing did not run to a verdict: the invocation says so
        invocations: [
          {
            executionSuccessful: r.verdict.status !== 'inconclusive',
            ...(r.verdict.status === 'inconclusive'
              ? { toolExecutionNotifications: r.verdict.inconclusive.map((text) => ({ level: 'error', message: { text: `inconclusive: ${text}` } })) }
              : // no result over a trace with holes or unjudged rules is not a clean run, and with findings
                // of other rules neither: said where it runs (a code-scanning service reads a rule
                // without results as one without alerts)
                replaySaid(r) !== r.verdict.status
                ? { toolExecutionNotifications: [{ level: 'warning', message: { text: replaySaid(r) } }] }
                : {}),
          },
        ],
        artifacts: [{ location: { uri: source } }],
        results: r.findings.filter((f) => REPLAY_RULES.includes(f.rule)).map((f) => result(f, source)),
        properties: {
          kernel: r.trace.kernel,
          clock: r.trace.clock,
          clockFrom: r.trace.clockFrom,
          verdict: r.verdict,
          events: r.stats.events,
          ops: r.stats.ops,
          gaps: r.stats.gaps,
          warnings: r.warnings,
        },
      },
    ],
  };
}

export function formatSarif(r: ReplayResult, opts: RenderOptions = {}): string {
  return `${stringifyJson(sarifLog(r, opts), 2)}\n`;
}
