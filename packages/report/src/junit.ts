/**
 * JUnit XML: one testsuite per replayed trace, one testcase per replay rule; the findings
 * at or above `--fail-on` are its rule's testcase's one <failure> (JUnit's schema allows one per
 * testcase, and readers such as GitLab's show only the first of several): its message names the
 * first and how many there are, its body lists each with its line and cited events. The
 * `failures` counts count the failing testcases, as JUnit's do, not the findings; findings below
 * `--fail-on` are listed in the testcase's <system-out>. CI systems (GitLab, Jenkins, GitHub test
 * reporters) show failing rules where they show failing tests.
 */
import type { Finding, RuleId } from '@kreplay/core';
import type { ReplayResult } from '@kreplay/replay';
import { RULE_HELP, reaches } from './rules.js';
import { citedLine } from './text.js';
import { escapeXml, findingLine, findingWhere, seconds, replayNotPassed, type RenderOptions } from './util.js';

/** The rules a trace replay judges (explore-only rules have no testcase here). */
export const REPLAY_RULES: readonly RuleId[] = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data', 'trace-inconsistent'];

function body(f: Finding): string {
  const cited = f.events.map((e) => `  ${citedLine(e)}`);
  return [`${f.severity} (${f.certainty}) at ${seconds(f.ts)}${findingWhere(f)}`, f.explanation, 'cited:', ...cited].join('\n');
}

const SEVERITY_ORDER = ['error', 'warning', 'note'] as const;

/**
 * The one <failure> of a rule's testcase over its failing findings (in replay order): typed by the
 * most severe of them and `certain` when any is, so a certain race behind an uncertain one is
 * not read as uncertain.
 */
function failure(failing: readonly Finding[], source: string): string {
  const first = failing[0]!;
  const severity = SEVERITY_ORDER.find((s) => failing.some((f) => f.severity === s)) ?? first.severity;
  const certainty = failing.some((f) => f.certainty === 'certain') ? 'certain' : 'uncertain';
  const message = failing.length === 1 ? first.message : `${failing.length} findings; the first: ${first.message}`;
  const text = failing.map((f) => {
    const line = findingLine(f);
    return `${source}${line ? `:${line}` : ''}\n${body(f)}`;
  });
  return `      <failure message="${escapeXml(message)}" type="${severity}/${certainty}">${escapeXml(text.join('\n\n'))}</failure>`;
}

export function formatJunit(r: ReplayResult, opts: RenderOptions = {}): string {
  const failOn = opts.failOn ?? 'error';
  const source = r.trace.source;
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  const v = r.verdict;
  // a rule not judged on this trace, or that found nothing in a trace with holes, is skipped, not passed
  const notPassed = replayNotPassed(r, failOn);
  for (const rule of REPLAY_RULES) {
    const mine = r.findings.filter((f) => f.rule === rule);
    const failing = mine.filter((f) => reaches(f, failOn));
    const passing = mine.filter((f) => !reaches(f, failOn));
    // JUnit's `failures` counts failing testcases: a rule with 3 findings at --fail-on is one
    if (failing.length) failures++;
    const inner: string[] = [];
    const skip = failing.length ? undefined : notPassed(rule);
    if (skip) {
      skipped++;
      inner.push(`      <skipped message="${escapeXml(skip)}"/>`);
    }
    if (failing.length) inner.push(failure(failing, source));
    if (passing.length) inner.push(`      <system-out>${escapeXml(passing.map(body).join('\n\n'))}</system-out>`);
    const open = `    <testcase classname="kreplay.replay.${escapeXml(source)}" name="${rule}: ${escapeXml(RULE_HELP[rule].short)}" file="${escapeXml(source)}">`;
    cases.push(inner.length ? `${open}\n${inner.join('\n')}\n    </testcase>` : `${open}</testcase>`);
  }
  const timeAttr = opts.timing === false ? '' : ` time="${(r.stats.ms / 1000).toFixed(3)}"`;
  // a trace that saw nothing is an error of the run, not a pass: one testcase says so
  const errors = v.status === 'inconclusive' ? 1 : 0;
  if (errors) {
    const why = v.inconclusive.join('\n');
    cases.unshift(
      `    <testcase classname="kreplay.replay.${escapeXml(source)}" name="verdict: the trace shows page-cache operations to judge" file="${escapeXml(source)}">\n      <error type="inconclusive" message="${escapeXml(`inconclusive: ${v.inconclusive[0] ?? ''}`)}">${escapeXml(why)}</error>\n    </testcase>`,
    );
  }
  const tests = REPLAY_RULES.length + errors;
  const props = [
    ['verdict', v.status],
    ['certain', v.certain],
    ['uncertain', v.uncertain],
    ['unusableEvents', v.unusableEvents],
    ['gaps', v.gaps],
    ['tiedTimestamps', v.tiedGroups],
  ].map(([k, x]) => `      <property name="${k}" value="${escapeXml(String(x))}"/>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kreplay replay" tests="${tests}" failures="${failures}" errors="${errors}"${timeAttr}>`,
    `  <testsuite name="kreplay replay ${escapeXml(source)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}"${timeAttr}>`,
    '    <properties>',
    ...props,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
