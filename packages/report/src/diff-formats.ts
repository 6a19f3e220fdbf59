/**
 * Machine formats of a DiffResult, for the CI systems kernel developers already read:
 * JSON (the DiffResult itself), JUnit XML, SARIF 2.1.0 (with baselineState), and GitHub
 * workflow commands.
 */
import { reachesFailOn, stringifyJson } from '@kreplay/core';
import { riseSaid, risenAtFailOn, type DiffResult, type FindingEntry } from '@kreplay/diff';
import {
  certaintySaid,
  chanceSaid,
  diffShortfall,
  diffVerdictSaid,
  byChance,
  fmtChange,
  maybeNewWhy,
  newChanceSaid,
  raisedOnBothSides,
  unjudgedWhy,
  where,
} from './diff-fmt.js';
import { findingCounts, findingCountsSaid } from './finding-counts.js';
import { escapeXml, patchedNotPassed } from './util.js';
import { escapeData, escapeProperty } from './github.js';
import { RULE_HELP } from './rules.js';

export function diffToJson(d: DiffResult): string {
  return `${stringifyJson(d, 2)}\n`;
}

const failing = (d: DiffResult, e: FindingEntry) => reachesFailOn(e.severity, d.failOn);

function title(e: FindingEntry): string {
  return `${e.rule}${where(e)}`;
}

export function diffToJunit(d: DiffResult): string {
  const cases: string[] = [];
  const groups: Array<[string, FindingEntry[]]> = [
    ['new', d.findings.new],
    ['fixed', d.findings.fixed],
    ['unchanged', d.findings.unchanged],
    ['not judged on patched', d.findings.unjudged ?? []],
    ['not judged new', d.findings.maybeNew ?? []],
  ];
  let failures = 0;
  let skipped = 0;
  for (const [state, entries] of groups) {
    for (const e of entries) {
      const name = escapeXml(`${state}: ${title(e)}`);
      const body = escapeXml(
        `${state === 'fixed' ? `${chanceSaid(e)}\n` : state === 'new' ? `${newChanceSaid(e)}\n` : ''}${e.example.message}\n${e.example.explanation}\n${e.example.events.map((c) => `${c.source}:${c.line} ${c.text?.trim() ?? c.summary}`).join('\n')}`,
      );
      // the certainty in the message, not the name: a testcase's name is its identity from run to run
      if (state === 'unchanged' && risenAtFailOn(e, d.failOn)) {
        // a race the base had too, made likelier by the patch: a regression (diff.ts `reasons`)
        failures++;
        cases.push(
          `    <testcase classname="kreplay.diff.findings" name="${name}">\n      <failure type="${e.rule}" message="${escapeXml(`more often in patched${certaintySaid(e)}: ${riseSaid(e)}`)}">${body}</failure>\n    </testcase>`,
        );
      } else if (state === 'new' && failing(d, e)) {
        failures++;
        cases.push(
          `    <testcase classname="kreplay.diff.findings" name="${name}">\n      <failure type="${e.rule}" message="${escapeXml(`new in patched${certaintySaid(e)}: ${e.example.message}`)}">${body}</failure>\n    </testcase>`,
        );
      } else if (state === 'not judged on patched' || (state === 'not judged new' && (failing(d, e) || raisedOnBothSides(e)))) {
        skipped++;
        const why = state === 'not judged new' ? `${maybeNewWhy(d, e)}: ${title(e)}${certaintySaid(e)}` : unjudgedWhy(d, e);
        cases.push(
          `    <testcase classname="kreplay.diff.findings" name="${name}">\n      <skipped message="${escapeXml(why)}"/>\n      <system-out>${body}</system-out>\n    </testcase>`,
        );
      } else {
        cases.push(`    <testcase classname="kreplay.diff.findings" name="${name}">\n      <system-out>${body}</system-out>\n    </testcase>`);
      }
    }
  }
  for (const t of d.thresholds) {
    const name = escapeXml(`${t.metric} at most +${t.maxPct}%`);
    const msg = escapeXml(`${t.metric}: ${t.base ?? 'n/a'} → ${t.patched ?? 'n/a'} (${fmtChange(t.changePct, t.base ?? 0, t.patched ?? 0)}); ${t.note}`);
    if (t.exceeded) failures++;
    else if (t.judged === false) skipped++;
    cases.push(
      t.exceeded
        ? `    <testcase classname="kreplay.diff.thresholds" name="${name}">\n      <failure type="threshold" message="${msg}">${msg}</failure>\n    </testcase>`
        : t.judged === false // nothing could compare it: skipped, never passed
          ? `    <testcase classname="kreplay.diff.thresholds" name="${name}">\n      <skipped message="${escapeXml(`not judged: ${t.note.replace(/^not judged: /, '')}`)}"/>\n      <system-out>${msg}</system-out>\n    </testcase>`
          : `    <testcase classname="kreplay.diff.thresholds" name="${name}">\n      <system-out>${msg}</system-out>\n    </testcase>`,
    );
  }
  // a side that saw nothing is an error of the run, never a pass
  const errors = d.verdict === 'inconclusive' ? 1 : 0;
  if (errors)
    cases.unshift(
      `    <testcase classname="kreplay.diff" name="verdict: both sides have runs to compare">\n      <error type="inconclusive" message="${escapeXml(`inconclusive: ${d.inconclusive[0] ?? ''}`)}">${escapeXml(d.inconclusive.join('\n'))}</error>\n    </testcase>`,
    );
  // no regression over patched traces with holes is not a pass: one skipped testcase says so
  const holes = patchedNotPassed(d.patched, `no new finding at --fail-on ${d.failOn}`);
  if (!errors && failures === 0 && holes) {
    skipped++;
    cases.unshift(
      `    <testcase classname="kreplay.diff" name="verdict: the patched side's traces have no holes">\n      <skipped message="${escapeXml(holes)}"/>\n    </testcase>`,
    );
  }
  // nor over rules the patched side could not judge (replay's `unjudged`): skipped, as each rule is DONE in KTAP
  const blind = Object.entries(d.patched.unjudged ?? {});
  if (!errors && failures === 0 && blind.length) {
    skipped++;
    cases.unshift(
      `    <testcase classname="kreplay.diff" name="verdict: the patched side judged every rule">\n      <skipped message="${escapeXml(`no new finding at --fail-on ${d.failOn}, but not judged on the patched side: ${blind.map(([rule]) => rule).join(', ')}: not a pass`)}"/>\n      <system-out>${escapeXml(blind.map(([rule, why]) => `${rule}: ${why}`).join('\n'))}</system-out>\n    </testcase>`,
    );
  }
  if (cases.length === 0) cases.push('    <testcase classname="kreplay.diff" name="no findings on either side"/>');
  const props = [
    ['verdict', d.verdict],
    ['findings', findingCountsSaid(findingCounts(d))],
    ['baseUnusableEvents', d.base.unusableEvents],
    ['patchedUnusableEvents', d.patched.unusableEvents],
  ].map(([k, v]) => `      <property name="${k}" value="${escapeXml(String(v))}"/>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kreplay diff" tests="${cases.length}" failures="${failures}" errors="${errors}">`,
    `  <testsuite name="kreplay diff ${escapeXml(d.base.label)} vs ${escapeXml(d.patched.label)}" tests="${cases.length}" failures="${failures}" errors="${errors}"${skipped ? ` skipped="${skipped}"` : ''}>`,
    '    <properties>',
    ...props,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

const SARIF_LEVEL = { error: 'error', warning: 'warning', note: 'note' } as const;

export function diffToSarif(d: DiffResult): string {
  const rules = new Map<string, { id: string; shortDescription: { text: string }; fullDescription?: { text: string } }>();
  const results: unknown[] = [];
  // `said`: what a result with no baseline state is (not judged on patched, or not judged new)
  const add = (e: FindingEntry, baselineState: 'new' | 'unchanged' | 'absent' | undefined, said = unjudgedWhy(d, e), seen = false) => {
    rules.set(e.rule, { id: e.rule, shortDescription: { text: RULE_HELP[e.rule].short }, fullDescription: { text: RULE_HELP[e.rule].full } });
    results.push({
      ruleId: e.rule,
      // a finding the patched side has (new, unchanged, or not judged new) at its severity; one it lacks at none
      level: baselineState === 'new' || baselineState === 'unchanged' || seen ? SARIF_LEVEL[e.severity] : 'none',
      ...(baselineState ? { baselineState } : {}),
      message: {
        text: `${baselineState === 'new' ? `${byChance(e) ? "new in patched, maybe the base's too" : 'new in patched'} (${newChanceSaid(e)})` : baselineState === 'absent' ? `${byChance(e) ? 'absent from patched, maybe by chance' : 'fixed by patched'} (${chanceSaid(e)})` : baselineState === 'unchanged' ? (e.rise?.significant ? `in both, more often in patched (${riseSaid(e)})` : 'in both') : `${said}: ${title(e)}`}${certaintySaid(e)}: ${e.example.message}\n${e.example.explanation}`,
      },
      locations: e.example.events.slice(0, 1).map((c) => ({
        physicalLocation: { artifactLocation: { uri: c.source }, region: { startLine: c.line } },
      })),
      relatedLocations: e.example.events.slice(1).map((c, i) => ({
        id: i + 1,
        message: { text: c.text?.trim() || c.summary || `${c.comm}-${c.pid}` },
        physicalLocation: { artifactLocation: { uri: c.source }, region: { startLine: c.line } },
      })),
      partialFingerprints: { 'kreplayFinding/v1': e.key },
      properties: { certainty: e.certainty, base: e.base, patched: e.patched, ...(e.chance ? { chance: e.chance } : {}) },
    });
  };
  for (const e of d.findings.new) add(e, 'new');
  for (const e of d.findings.unchanged) add(e, 'unchanged');
  for (const e of d.findings.fixed) add(e, 'absent');
  // not fixed, and not in both either: reported at level none with no baseline claim
  for (const e of d.findings.unjudged ?? []) add(e, undefined);
  // in patched, and perhaps in what the base did not keep: no baseline claim either way
  for (const e of d.findings.maybeNew ?? []) add(e, undefined, maybeNewWhy(d, e), true);
  for (const t of d.thresholds.filter((x) => x.exceeded)) {
    const id = `threshold/${t.metric}`;
    rules.set(id, { id, shortDescription: { text: `${t.metric} grew beyond the allowed ${t.maxPct}%` } });
    results.push({
      ruleId: id,
      level: 'error',
      baselineState: 'new',
      message: {
        text: `${t.metric}: ${t.base ?? 'n/a'} → ${t.patched ?? 'n/a'} (${fmtChange(t.changePct, t.base ?? 0, t.patched ?? 0)}, allowed +${t.maxPct}%); ${t.note}`,
      },
    });
  }
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'kreplay diff', informationUri: 'https://github.com/kreplay/kreplay', rules: [...rules.values()] } },
        invocations: [
          {
            executionSuccessful: d.verdict !== 'inconclusive',
            ...(d.verdict === 'inconclusive'
              ? { toolExecutionNotifications: d.inconclusive.map((text) => ({ level: 'error', message: { text: `inconclusive: ${text}` } })) }
              : // no result is not a pass over patched traces with holes, unjudged rules or thresholds not judged: said where it runs
                d.verdict === 'no-regression' && diffShortfall(d)
                ? { toolExecutionNotifications: [{ level: 'warning', message: { text: diffVerdictSaid(d) } }] }
                : {}),
          },
        ],
        results,
        properties: {
          verdict: d.verdict,
          findings: findingCountsSaid(findingCounts(d)),
          baseUnusableEvents: d.base.unusableEvents,
          patchedUnusableEvents: d.patched.unusableEvents,
        },
      },
    ],
  };
  return `${stringifyJson(sarif, 2)}\n`;
}

export function diffToGithub(d: DiffResult): string {
  const lines: string[] = [];
  const annotate = (cmd: string, e: FindingEntry, prefix: string, why?: string) => {
    const c = e.example.events[0];
    const loc = c ? `file=${escapeProperty(c.source)},line=${c.line},` : '';
    lines.push(
      `::${cmd} ${loc}title=${escapeProperty(`${prefix}: ${title(e)}${certaintySaid(e)}`)}::${escapeData(`${why ? `${why}\n` : ''}${e.example.message}\n${e.example.explanation}`)}`,
    );
  };
  // the gate's level either way: a race the patched kernel showed is its bug, whatever the base did
  for (const e of d.findings.new)
    annotate(failing(d, e) ? 'error' : 'warning', e, byChance(e) ? 'kreplay diff new (the base may have it too)' : 'kreplay diff new', newChanceSaid(e));
  for (const e of d.findings.maybeNew ?? []) annotate('warning', e, 'kreplay diff not judged new', maybeNewWhy(d, e));
  for (const e of d.findings.fixed) annotate('notice', e, byChance(e) ? 'kreplay diff fixed? (could be chance)' : 'kreplay diff fixed', chanceSaid(e));
  for (const e of d.findings.unjudged ?? []) annotate('warning', e, 'kreplay diff not judged on patched', unjudgedWhy(d, e));
  for (const e of d.findings.unchanged.filter((x) => x.rise?.significant))
    annotate(failing(d, e) ? 'error' : 'warning', e, 'kreplay diff more often in patched', riseSaid(e));
  for (const t of d.thresholds.filter((x) => x.exceeded)) {
    lines.push(
      `::error title=${escapeProperty(`kreplay diff threshold ${t.metric}`)}::${escapeData(`${t.base ?? 'n/a'} → ${t.patched ?? 'n/a'} (${fmtChange(t.changePct, t.base ?? 0, t.patched ?? 0)}, allowed +${t.maxPct}%); ${t.note}`)}`,
    );
  }
  for (const why of d.inconclusive) lines.push(`::error title=kreplay diff inconclusive::${escapeData(why)}`);
  for (const w of d.warnings) lines.push(`::warning title=kreplay diff::${escapeData(w)}`);
  const unusable = d.base.unusableEvents + d.patched.unusableEvents;
  lines.push(
    `::notice title=kreplay diff::${escapeData(`${diffVerdictSaid(d)}: ${findingCountsSaid(findingCounts(d))}${unusable ? `; unusable events: base ${d.base.unusableEvents}, patched ${d.patched.unusableEvents}` : ''}`)}`,
  );
  return `${lines.join('\n')}\n`;
}
