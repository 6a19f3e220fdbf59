/**
 * KTAP and KCIDB, the formats the kernel's CI world reads: goldens for a replay (findings,
 * clean, nothing replayed), a diff, explorer verdicts (violation, clean, incomplete) and a
 * `kreplay ci` summary; every KCIDB output validated against the vendored KCIDB v5 schema;
 * every KTAP output parsed by the kernel's own kunit_parser.py where it is available.
 * UPDATE_GOLDEN=1 rewrites the goldens; review the diff before committing it.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { diffRuns, loadRun, parseThreshold, type RunData } from '@kreplay/diff';
import { replayFile } from '@kreplay/replay';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { replay } from '@kreplay/replay';
import {
  ciToKcidb,
  ciToKtap,
  diffToGithub,
  diffToJunit,
  diffToKcidb,
  diffToKtap,
  diffToSarif,
  diffToText,
  exploreToKcidb,
  reportToHtml,
  reportToText,
  exploreToKtap,
  ktapDiagnostic,
  renderReplay,
  type CiSummary,
  type ExploreSummary,
} from '@kreplay/report';
import { describeWithTools, findTool, TOOLS } from '../../../test-support/tools.js';

const root = new URL('../../../', import.meta.url).pathname;
const here = new URL('.', import.meta.url).pathname;
const update = process.env.UPDATE_GOLDEN === '1';
const ARTIFACTS = 'https://ci.example.org/job/1/artifacts/';

/** name → [ktap, kcidb] of every case, filled by the golden tests, parsed and validated below. */
const outputs = new Map<string, { ktap: string; kcidb: string }>();

function golden(name: string, ktap: string, kcidb: string): void {
  outputs.set(name, { ktap, kcidb });
  for (const [file, text] of [
    [`${name}.ktap`, ktap],
    [`${name}.kcidb.json`, kcidb],
  ] as const) {
    const p = path.join(here, 'golden', file);
    if (update) {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
    expect(text).toBe(readFileSync(p, 'utf8'));
  }
}

const rel = (p: string) => path.relative(root, p);

async function replayFixture(dir: string) {
  const file = path.join(root, dir, 'trace.txt');
  return replayFile(file, { source: rel(file) });
}

async function run(dir: string): Promise<RunData> {
  const file = path.join(root, dir, 'trace.txt');
  const r = await loadRun(file, (p) => replayFile(p, { source: rel(p) }));
  return { ...r, source: rel(file), trace: rel(file), ...(r.metaPath ? { metaPath: rel(r.metaPath) } : {}) };
}

const explore = (name: string) => JSON.parse(readFileSync(path.join(here, 'fixtures', `explore-${name}.json`), 'utf8')) as ExploreSummary;

describe('KTAP and KCIDB goldens', () => {
  it('a replay with findings: one test for kernel × workload, a subtest per rule, the findings as diagnostics', async () => {
    const r = await replayFixture('fixtures/replay/mapped-page-removed');
    const ktap = renderReplay(r, 'ktap');
    expect(ktap).toMatch(/^ {4}not ok 1 mapped-page-removed$/m);
    expect(ktap).toMatch(/^not ok 1 \S+$/m);
    golden('replay-findings', ktap, renderReplay(r, 'kcidb', { kcidb: { artifactsUrl: ARTIFACTS } }));
  });

  it('a replay without findings passes every rule', async () => {
    const r = await replayFixture('fixtures/replay/clean-odirect');
    const ktap = renderReplay(r, 'ktap');
    expect(ktap).not.toContain('not ok');
    golden('replay-clean', ktap, renderReplay(r, 'kcidb', { kcidb: { artifactsUrl: ARTIFACTS } }));
  });

  it('a trace in which nothing was replayed is never a pass: KTAP SKIP, KCIDB MISS', async () => {
    const r = await replay(parseTraceString('# tracer: nop\n#\n   sh-1 [000] .....   1.000001: sched_switch: prev_comm=sh\n', { source: 'empty.txt' }), {
      source: 'empty.txt',
    });
    const ktap = renderReplay(r, 'ktap');
    expect(ktap).toMatch(/^ok 1 \S+ # SKIP miss: nothing replayed/m);
    const kcidb = renderReplay(r, 'kcidb');
    expect(JSON.parse(kcidb).tests.map((t: { status: string }) => t.status)).toEqual(['MISS']);
    golden('replay-nothing', ktap, kcidb);
  });

  it('a replay that found nothing in a trace with holes (lost events) is not a pass: every rule DONE, KTAP SKIP; a finding still fails', async () => {
    // the clean trace with a lost-events record in the middle: what was lost may have held a finding
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-holes-'));
    const lines = readFileSync(path.join(root, 'fixtures/replay/clean-odirect/trace.txt'), 'utf8').split('\n');
    lines.splice(24, 0, 'CPU:1 [LOST 500 EVENTS]');
    writeFileSync(path.join(dir, 'trace.txt'), lines.join('\n'));
    writeFileSync(path.join(dir, 'meta.json'), readFileSync(path.join(root, 'fixtures/replay/clean-odirect/meta.json')));
    const r = await replayFile(path.join(dir, 'trace.txt'), { source: 'holes/trace.txt' });
    expect(r.findings).toEqual([]);
    expect(r.stats.lostEvents).toBe(500);
    const ktap = renderReplay(r, 'ktap');
    expect(ktap).not.toMatch(/^\s*ok \d+ \S+$/m); // no bare ok
    expect(ktap).toMatch(/^ {4}ok 1 mapped-page-removed # SKIP done: no finding at --fail-on error, but the trace has 1 gap \(500 events lost\): not a pass$/m);
    expect(ktap).toMatch(/^ok 1 \S+ # SKIP done: no finding at --fail-on error, but the trace has 1 gap/m);
    const kcidb = renderReplay(r, 'kcidb', { kcidb: { artifactsUrl: ARTIFACTS } });
    expect(new Set(JSON.parse(kcidb).tests.map((t: { status: string }) => t.status))).toEqual(new Set(['DONE']));
    expect(renderReplay(r, 'text')).toMatch(/— no findings in what the trace shows — it has holes .*not a clean run$/m);
    // SARIF has no result to show it: its invocation says so (session 26; it said nothing before)
    expect(JSON.parse(renderReplay(r, 'sarif')).runs[0].invocations).toEqual([
      {
        executionSuccessful: true,
        toolExecutionNotifications: [
          { level: 'warning', message: { text: 'no findings in what the trace shows, but it has 1 gap (500 events lost): not a clean run' } },
        ],
      },
    ]);
    golden('replay-holes', ktap, kcidb);
    // holes do not soften a failure: the lost-events fixture's certain error still fails
    const lost = await replayFixture('fixtures/replay/mapped-page-removed-lost');
    expect(lost.stats.gaps).toBeGreaterThan(0);
    expect(renderReplay(lost, 'ktap')).toMatch(/^not ok 1 \S+$/m);
    // and a diff whose patched side has the hole is not a pass either (its base side's holes do not matter)
    const holes: RunData = { ...(await loadRun(path.join(dir, 'trace.txt'), (f) => replayFile(f, { source: 'holes/trace.txt' }))), source: 'holes/trace.txt' };
    const clean = await run('fixtures/replay/clean-odirect');
    const d = diffRuns([clean], [holes], { baseLabel: 'b', patchedLabel: 'p' });
    expect(d.verdict).toBe('no-regression');
    const dk = JSON.parse(diffToKcidb(d, { workload: 'w' })).tests as Array<{ path: string; status: string; comment?: string }>;
    expect(new Set(dk.map((t) => t.status))).toEqual(new Set(['DONE']));
    expect(dk[0]!.comment).toMatch(/^no new finding at --fail-on error, but the patched side's traces have 1 gap: not a pass$/);
    // a threshold that held does not lift the test to a pass: its rules are still DONE over the holes
    const held = diffRuns([clean], [holes], { baseLabel: 'b', patchedLabel: 'p', thresholds: [parseThreshold('findings=10')] });
    const hk = JSON.parse(diffToKcidb(held, { workload: 'w' })).tests as Array<{ path: string; status: string; comment?: string }>;
    expect(hk.find((t) => t.path === 'kreplay.w.threshold-findings')?.status).toBe('PASS');
    expect(hk[0]).toMatchObject({ path: 'kreplay.w', status: 'DONE', comment: expect.stringMatching(/traces have 1 gap: not a pass$/) });
    expect(diffToKtap(held, { workload: 'w' })).toMatch(/^ok 1 w # SKIP done: no new finding at --fail-on error, but the patched side's traces have 1 gap/m);
    expect(diffToJunit(d)).toMatch(
      /name="verdict: the patched side's traces have no holes">\n {6}<skipped message="no new finding at --fail-on error, but the patched side&apos;s traces have 1 gap: not a pass"\/>/,
    );
    expect(renderReplay(r, 'junit')).toMatch(/skipped="5"/);
    // what people read never says a bare "no regression" over it: text, GitHub notice, report, HTML
    const shortfall = "no regression in what the traces show, but the patched side's traces have 1 gap: not a pass";
    expect(diffToText(d)).toContain(`\n${shortfall} (fail-on error)\n`);
    expect(diffToGithub(d)).toContain(`::notice title=kreplay diff::${shortfall}: 0 new`);
    expect(diffToKtap(d, { workload: 'w' })).toContain(`: ${shortfall} (fail on error)`);
    expect(reportToText({ title: 't', runs: [], diff: d })).toContain(`kreplay: ${shortfall}:`);
    expect(reportToHtml({ title: 't', runs: [], diff: d })).toMatch(
      /<div class="verdict short">No regression in what the traces show, but the patched side&#39;s traces have 1 gap: not a pass:/,
    );
    const reversed = diffRuns([holes], [clean], { baseLabel: 'b', patchedLabel: 'p' });
    expect(diffToText(reversed)).toMatch(/^no regression \(fail-on error\)$/m);
    expect(new Set(JSON.parse(diffToKcidb(reversed, { workload: 'w' })).tests.map((t: { status: string }) => t.status))).toEqual(new Set(['PASS']));
    expect(diffToJunit(reversed)).not.toContain('<skipped');
  });

  it('a diff whose patched side had a run left out (its workload failed) is not a pass: the run could have held the finding', async () => {
    const clean = await run('fixtures/replay/clean-odirect');
    const crashed: RunData = {
      ...clean,
      source: 'p/run-2',
      inconclusive: ['its workload exited with code 139 (meta.json), so the run did not do what it was meant to'],
    };
    const d = diffRuns([clean], [{ ...clean, source: 'p/run-1' }, crashed], { baseLabel: 'b', patchedLabel: 'p' });
    expect(d.verdict).toBe('no-regression');
    const shortfall = 'no regression in what the traces show, but 1 patched run left out (a failed workload or nothing traced): not a pass';
    expect(diffToText(d)).toContain(`\n${shortfall} (fail-on error)\n`);
    expect(diffToGithub(d)).toContain(`::notice title=kreplay diff::${shortfall}: 0 new`);
    expect(reportToHtml({ title: 't', runs: [], diff: d })).toContain(
      '<div class="verdict short">No regression in what the traces show, but 1 patched run left out',
    );
    const dk = JSON.parse(diffToKcidb(d, { workload: 'w' })).tests as Array<{ status: string }>;
    expect(new Set(dk.map((t) => t.status))).toEqual(new Set(['DONE']));
    expect(diffToJunit(d)).toContain(
      '<skipped message="no new finding at --fail-on error, but 1 patched run left out (a failed workload or nothing traced): not a pass"/>',
    );
    // a base run left out can only make a finding look new: still a pass
    const reversed = diffRuns([clean, crashed], [{ ...clean, source: 'p/run-1' }], { baseLabel: 'b', patchedLabel: 'p' });
    expect(diffToText(reversed)).toMatch(/^no regression \(fail-on error\)$/m);
  });

  it('a base finding the patched side could not judge is never reported as fixed, in any format', async () => {
    const race = await run('fixtures/replay/mapped-page-removed');
    expect(race.findings.some((f) => f.rule === 'mapped-page-removed')).toBe(true);
    const blind: RunData = {
      ...(await run('fixtures/replay/clean-odirect')),
      unjudged: [{ rule: 'mapped-page-removed', reason: 'the trace shows no PTE changes' }],
    };
    const d = diffRuns([race], [blind], { baseLabel: 'b', patchedLabel: 'p' });
    expect(d.findings.unjudged?.map((e) => e.rule)).toContain('mapped-page-removed');
    expect(d.findings.fixed.map((e) => e.rule)).not.toContain('mapped-page-removed');
    const text = diffToText(d);
    expect(text).toMatch(/^ {2}UNJUDGED +error +mapped-page-removed/m);
    expect(text).not.toMatch(/^ {2}FIXED +\S+ +mapped-page-removed/m);
    expect(text).toContain(
      'not fixed: the patched side could not judge mapped-page-removed (fixtures/replay/clean-odirect/trace.txt: the trace shows no PTE changes)',
    );
    expect(diffToGithub(d)).not.toMatch(/title=kreplay diff fixed%3A mapped-page-removed/);
    expect(diffToGithub(d)).toMatch(/::warning [^\n]*title=kreplay diff not judged on patched%3A mapped-page-removed/);
    expect(diffToJunit(d)).toMatch(/name="not judged on patched: mapped-page-removed[^"]*">\n {6}<skipped message="not fixed: /);
    expect(diffToJunit(d)).not.toMatch(/name="fixed: mapped-page-removed/);
    const sarif = JSON.parse(diffToSarif(d)).runs[0].results as Array<{ ruleId: string; baselineState?: string }>;
    expect(sarif.filter((r) => r.ruleId === 'mapped-page-removed').map((r) => r.baselineState)).not.toContain('absent');
    expect(reportToHtml({ title: 't', runs: [], diff: d })).toContain('<span class="badge unjudged">unjudged</span>');
    expect(reportToText({ title: 't', runs: [], diff: d })).toMatch(/^Not judged on patched \(not fixed\):$/m);
    // a patched side with no run left judged nothing: inconclusive, and nothing of the base's reads as fixed
    const none = diffRuns([race], [{ ...blind, inconclusive: ['the trace holds no events'] }], { baseLabel: 'b', patchedLabel: 'p' });
    expect(none.verdict).toBe('inconclusive');
    expect(diffToText(none)).toContain('not fixed: the patched side has no run to compare');
    expect(diffToText(none)).not.toMatch(/^ {2}FIXED /m);
  });

  it("KCIDB test ids follow what the run says, not only its file names: a later PASS of another trace at the same path never takes a FAIL's id", async () => {
    // KCIDB merges objects that share an id; CI jobs reuse paths (capture folders, side names)
    const fail = await replayFile(path.join(root, 'fixtures/replay/mapped-page-removed/trace.txt'), { source: 'ci/run-1/trace.txt' });
    const pass = await replayFile(path.join(root, 'fixtures/replay/clean-odirect/trace.txt'), { source: 'ci/run-1/trace.txt' });
    expect(fail.findings.length).toBeGreaterThan(0);
    const ids = (r: typeof fail) => (JSON.parse(renderReplay(r, 'kcidb')).tests as Array<{ id: string }>).map((t) => t.id);
    const failIds = ids(fail);
    expect(ids(pass).filter((i) => failIds.includes(i))).toEqual([]);
    expect(ids(fail)).toEqual(failIds); // one result submitted twice: the same submission
  });

  it("a rule the trace cannot support (no PTE probe fired) is not judged: DONE in KTAP/KCIDB, skipped in JUnit, on a replay and on a diff's patched side", async () => {
    // the clean trace without its PTE events: pages come and go, nothing says what mapped them
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-nopte-'));
    const text = readFileSync(path.join(root, 'fixtures/replay/clean-odirect/trace.txt'), 'utf8')
      .split('\n')
      // (and without its entries-in-buffer header, which would count the removed lines as lost)
      .filter((l) => !/p_do_set_pte|rmap|entries-in-buffer/.test(l))
      .join('\n');
    writeFileSync(path.join(dir, 'trace.txt'), text);
    writeFileSync(path.join(dir, 'meta.json'), readFileSync(path.join(root, 'fixtures/replay/clean-odirect/meta.json')));
    const r = await replayFile(path.join(dir, 'trace.txt'), { source: 'nopte/trace.txt' });
    expect(r.findings).toEqual([]);
    expect(r.verdict.unjudged?.map((u) => u.rule)).toEqual(['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data']);
    const ktap = renderReplay(r, 'ktap');
    expect(ktap).toMatch(/^ {4}ok 1 mapped-page-removed # SKIP done: not judged: the trace shows no PTE changes/m);
    expect(ktap).toMatch(/^ {4}ok 5 trace-inconsistent$/m);
    const tests = JSON.parse(renderReplay(r, 'kcidb')).tests as Array<{ path: string; status: string }>;
    // the trace's own test is not a pass either: four of its five rules were not judged
    expect(tests.map((t) => t.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'DONE', 'PASS']);
    expect(ktap).toMatch(/^ok 1 \S+ # SKIP done: not a pass: mapped-page-removed: not judged: the trace shows no PTE changes/m);
    expect(renderReplay(r, 'junit')).toMatch(/skipped="4"/);
    expect(renderReplay(r, 'text')).toMatch(
      /— no findings; not judged \(see the warnings\): mapped-page-removed, orphan-page-mapped, stale-after-invalidate, stale-data$/m,
    );
    // through replay JSON too, as diff reads a replay done before
    const json = path.join(dir, 'replay.json');
    writeFileSync(json, renderReplay(r, 'json', { timing: false }));
    const blind: RunData = { ...(await loadRun(json, (f) => replayFile(f))), source: 'nopte/replay.json' };
    expect(blind.unjudged?.length).toBe(4);
    const clean = await run('fixtures/replay/clean-odirect');
    const d = diffRuns([clean], [blind], { baseLabel: 'b', patchedLabel: 'p' });
    const dk = JSON.parse(diffToKcidb(d, { workload: 'w' })).tests as Array<{ path: string; status: string; comment?: string }>;
    expect(dk.find((t) => t.path === 'kreplay.w.orphan-page-mapped')).toMatchObject({
      status: 'DONE',
      comment: expect.stringMatching(/^not judged on the patched side: nopte\/replay\.json: the trace shows no PTE changes/),
    });
    expect(dk.find((t) => t.path === 'kreplay.w.trace-inconsistent')?.status).toBe('PASS');
    expect(dk.find((t) => t.path === 'kreplay.w')).toMatchObject({
      status: 'DONE',
      comment: expect.stringMatching(/^not a pass: mapped-page-removed: not judged/),
    });
    expect(diffToText(d)).toMatch(
      /^no regression in what the traces show, but not judged on the patched side: mapped-page-removed, orphan-page-mapped, stale-after-invalidate, stale-data: not a pass/m,
    );
    // a ci group over it: its summary test is DONE, not PASS (it has no rule subtests to show it)
    const ci = JSON.parse(
      ciToKcidb({
        base: 'b',
        patched: 'p',
        groups: [
          { name: 'w', regression: false, reasons: [], unjudged: Object.keys(d.patched.unjudged!), findings: { new: 0, fixed: 0, unchanged: 0 }, files: [] },
        ],
      }),
    );
    expect(ci.tests[0]).toMatchObject({
      status: 'DONE',
      comment: expect.stringMatching(/^no regression, but not judged on the patched side: mapped-page-removed, .*: not a pass$/),
    });
    // the base side's blind spots do not make the patched side's clean rules unjudged
    const reversed = diffRuns([blind], [clean], { baseLabel: 'b', patchedLabel: 'p' });
    expect(new Set(JSON.parse(diffToKcidb(reversed, { workload: 'w' })).tests.map((t: { status: string }) => t.status))).toEqual(new Set(['PASS']));
  });

  it('a diff: the rules with new findings fail on the patched build; fixed and unchanged are diagnostics', async () => {
    const d = diffRuns([await run('fixtures/diff/clean-1'), await run('fixtures/diff/clean-2')], [await run('fixtures/diff/race')], {
      baseLabel: 'debian-6.1',
      patchedLabel: '6.1+fix',
      thresholds: [parseThreshold('faults=1000')],
    });
    expect(d.regression).toBe(true);
    const ktap = diffToKtap(d, { workload: 'odirect-race' });
    expect(ktap).toMatch(/^not ok 1 odirect-race$/m);
    const kcidb = JSON.parse(diffToKcidb(d, { workload: 'odirect-race', artifactsUrl: ARTIFACTS }));
    expect(kcidb.builds.map((b: { misc: { role: string } }) => b.misc.role)).toEqual(['base', 'patched']);
    expect(new Set(kcidb.tests.map((t: { build_id: string }) => t.build_id))).toEqual(new Set([kcidb.builds[1].id]));
    golden('diff', ktap, diffToKcidb(d, { workload: 'odirect-race', artifactsUrl: ARTIFACTS }));
  });

  it("an inconclusive diff (the patched run's workload failed) is never a pass: the test and every rule MISS, KTAP SKIP", async () => {
    const failed = {
      ...(await run('fixtures/diff/clean-2')),
      inconclusive: ['its workload exited with code 1 (meta.json), so the run did not do what it was meant to'],
    };
    const d = diffRuns([await run('fixtures/diff/clean-1')], [failed], {
      baseLabel: 'debian-6.1',
      patchedLabel: '6.1+fix',
      thresholds: [parseThreshold('faults=1000')],
    });
    expect(d.verdict).toBe('inconclusive');
    const ktap = diffToKtap(d, { workload: 'read-invalidate' });
    expect(ktap).not.toMatch(/^\s*ok \d+ \S+$/m); // no bare ok: every result carries its SKIP
    expect(ktap).toMatch(/^ {4}ok 1 mapped-page-removed # SKIP miss: inconclusive: /m);
    expect(ktap).not.toContain('no regression');
    const kcidb = diffToKcidb(d, { workload: 'read-invalidate', artifactsUrl: ARTIFACTS });
    expect(new Set(JSON.parse(kcidb).tests.map((t: { status: string }) => t.status))).toEqual(new Set(['MISS']));
    golden('diff-inconclusive', ktap, kcidb);
  });

  it('a threshold nothing could judge (no such counter, too few samples) is not a pass: DONE, KTAP SKIP, and the text does not call it held', async () => {
    const d = diffRuns([await run('fixtures/diff/clean-1')], [await run('fixtures/diff/clean-2')], {
      thresholds: [parseThreshold('workload.mismatchs=0'), parseThreshold('fault.p99=25'), parseThreshold('faults=1000')],
    });
    expect(d.verdict).toBe('no-regression');
    const tests = JSON.parse(diffToKcidb(d, { workload: 'w' })).tests as Array<{ path: string; status: string; comment?: string }>;
    const status = (m: string) => tests.find((t) => t.path === `kreplay.w.threshold-${m}`);
    expect(status('workload_mismatchs')).toMatchObject({ status: 'DONE', comment: expect.stringMatching(/^not judged: no workload counter "mismatchs"/) });
    expect(status('fault_p99')).toMatchObject({ status: 'DONE', comment: expect.stringMatching(/^not judged: too few samples/) });
    expect(status('faults')?.status).toBe('PASS');
    expect(diffToKtap(d, { workload: 'w' })).toMatch(/^ {4}ok 6 threshold-workload_mismatchs # SKIP done: not judged: /m);
    expect(diffToText(d)).toMatch(
      /^no regression in what the traces show, but threshold\(s\) not judged: workload\.mismatchs, fault\.p99: not a pass \(fail-on error, 1 threshold\(s\) held, 2 not judged\)$/m,
    );
    expect(diffToText(d)).toMatch(/^ {2}not judged workload\.mismatchs /m);
    // JUnit, which CI test views read: skipped, not passed
    expect(diffToJunit(d)).toMatch(/name="workload\.mismatchs at most \+0%">\n {6}<skipped message="not judged: no workload counter/);
    expect(diffToJunit(d)).toMatch(/name="faults at most \+1000%">\n {6}<system-out>/);
  });

  it.each([
    ['violation', 'not ok 1', 'FAIL'],
    ['clean', 'ok 1', 'PASS'],
    ['incomplete', 'ok 1', 'DONE'],
  ])('an explorer run with verdict %s: %s, KCIDB %s', (verdict, ktapResult, status) => {
    const x = explore(verdict);
    const ktap = exploreToKtap(x);
    expect(ktap).toMatch(new RegExp(`^${ktapResult} ${x.flavor.replace(/\./g, '_')}\\.${x.scenario}( # SKIP .*)?$`, 'm'));
    const kcidb = exploreToKcidb(x);
    expect(JSON.parse(kcidb).tests[0].status).toBe(status);
    golden(`explore-${verdict}`, ktap, kcidb);
  });

  it('a kreplay ci run: one test per workload, FAIL on a regression, its reports as log_url and output_files', () => {
    const c: CiSummary = {
      base: 'debian-6.1',
      patched: '6.1+my-fix',
      groups: [
        {
          name: 'odirect-race',
          regression: true,
          reasons: ['1 new finding at error or above'],
          findings: { new: 1, fixed: 0, unchanged: 2 },
          files: ['odirect-race/diff.json', 'odirect-race/diff.txt', 'odirect-race/report.html'],
        },
        { name: 'truncate-racer', regression: false, reasons: [], findings: { new: 0, fixed: 1, unchanged: 0 }, files: ['truncate-racer/diff.txt'] },
        {
          name: 'lossy',
          regression: false,
          reasons: [],
          gaps: { patched: 2 },
          unusableEvents: { patched: 0 },
          findings: { new: 0, fixed: 0, unchanged: 0 },
          files: ['lossy/diff.txt'],
        },
      ],
    };
    const kcidb = JSON.parse(ciToKcidb(c, { artifactsUrl: ARTIFACTS }));
    expect(kcidb.tests[0]).toMatchObject({ path: 'kreplay.odirect-race', status: 'FAIL', log_url: `${ARTIFACTS}odirect-race/diff.txt` });
    expect(kcidb.tests[0].output_files.map((f: { name: string }) => f.name)).toEqual(['diff.json', 'report.html']);
    // no regression over patched traces with gaps is not a pass
    expect(kcidb.tests.map((t: { status: string }) => t.status)).toEqual(['FAIL', 'PASS', 'DONE']);
    expect(kcidb.tests[2].comment).toBe("no regression, but the patched side's traces have 2 gaps: not a pass");
    golden('ci', ciToKtap(c), ciToKcidb(c, { artifactsUrl: ARTIFACTS }));
  });

  it("a kreplay ci workload a kernel failed: the patched kernel's is FAIL, the base kernel's ERROR, with the kernel's words", () => {
    const failed = (kernel: string) => ({
      kernel,
      message:
        'the kernel under test panicked while the workload ran: BUG: kernel NULL pointer dereference\nlast console lines:\n    [   12.3] RIP: 0010:filemap_get_pages+0x1b/0x640',
      hint: 'read console.log',
    });
    const c: CiSummary = {
      base: 'debian-6.1',
      patched: '6.1+my-fix',
      groups: [
        {
          name: 'odirect-race',
          verdict: 'regression',
          regression: true,
          reasons: ['the patched kernel (build/patched) failed workload odirect-race: the kernel under test panicked while the workload ran'],
          kernelFailed: { patched: failed('build/patched') },
          findings: { new: 0, fixed: 0, unchanged: 0 },
          files: ['odirect-race/kernel-failure.txt', 'odirect-race/console-patched.log'],
        },
        {
          name: 'truncate-racer',
          verdict: 'inconclusive',
          regression: false,
          reasons: [],
          inconclusive: [
            'the base kernel (debian) failed workload truncate-racer: … — no verdict on the patch',
            'the patched kernel ran it to the end (1 run, not compared)',
          ],
          kernelFailed: { base: failed('debian') },
          findings: { new: 0, fixed: 0, unchanged: 0 },
          files: ['truncate-racer/kernel-failure.txt'],
        },
      ],
    };
    const ktap = ciToKtap(c);
    expect(ktap).toMatch(/^not ok 1 odirect-race$/m);
    expect(ktap).toMatch(/^# findings: not compared: the patched kernel failed the workload$/m);
    expect(ktap).toMatch(/^# error: the base kernel failed the workload: no verdict on the patch\nnot ok 2 truncate-racer$/m);
    const kcidb = JSON.parse(ciToKcidb(c, { artifactsUrl: ARTIFACTS }));
    expect(kcidb.tests.map((t: { status: string }) => t.status)).toEqual(['FAIL', 'ERROR']);
    expect(kcidb.tests[0].log_url).toBe(`${ARTIFACTS}odirect-race/kernel-failure.txt`);
    expect(kcidb.tests[1].log_excerpt).toContain(
      "the base kernel's words:\n  last console lines:\n  [   12.3] RIP: 0010:filemap_get_pages+0x1b/0x640\n  hint: read console.log",
    );
    golden('ci-kernel-failed', ktap, ciToKcidb(c, { artifactsUrl: ARTIFACTS }));
  });

  it('diagnostics cannot end or restructure the KTAP (kernel-log end markers, subtest headers, control characters)', () => {
    expect(ktapDiagnostic('Kernel panic - not syncing: VFS: Unable to mount')).not.toMatch(/Kernel panic - not syncing: VFS:/);
    expect(ktapDiagnostic('Subtest: x')).not.toMatch(/^\s*# Subtest:/);
    expect(ktapDiagnostic('a\nb\u0007')).toBe('# a\\x0ab\\x07');
  });
});

describe('KCIDB output against the KCIDB v5 schema (packages/report/schema)', () => {
  const schema = JSON.parse(readFileSync(path.join(here, '../schema/kcidb-io.schema.v5.3.json'), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  // The schema's formats, checked (kcidb-io checks them with jsonschema's format checker):
  // uri an absolute URI; date-time RFC 3339; email an address.
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('email', (s: string) => /^[^\s@]+@[^\s@]+$/.test(s));
  const validate = ajv.compile(schema);

  it('the schema rejects what KCIDB rejects (so the check can fail)', () => {
    expect(validate({ version: { major: 5, minor: 3 }, tests: [{ id: 'kreplay:1', origin: 'kreplay', build_id: 'kreplay:2', status: 'BROKEN' }] })).toBe(false);
    expect(validate({ version: { major: 4 } })).toBe(false);
    expect(validate({ version: { major: 5, minor: 3 }, tests: [{ id: 'kreplay:1', origin: 'kreplay', build_id: 'kreplay:2', log_url: 'diff.txt' }] })).toBe(
      false,
    );
  });

  it('every KCIDB output is valid', () => {
    expect(outputs.size).toBeGreaterThanOrEqual(7);
    for (const [name, { kcidb }] of outputs) {
      const ok = validate(JSON.parse(kcidb));
      expect({ name, errors: ok ? [] : validate.errors }).toEqual({ name, errors: [] });
    }
  });
});

/** What kunit_parser.py made of a KTAP text: the overall status, the counts, and each test's name and status. */
interface Parsed {
  status: string;
  /** The plan (1..N) the parser read; null when it found none where KTAP puts it. */
  plan: number | null;
  counts: Record<string, number>;
  tests: Array<{ name: string; status: string; plan: number | null; subtests: Array<{ name: string; status: string }> }>;
}

const DRIVER = `
import json, sys
sys.path.insert(0, sys.argv[1])
import kunit_parser
def node(t):
    return {"name": t.name, "status": t.status.name, "plan": t.expected_count, "subtests": [node(s) for s in t.subtests]}
out = []
for f in sys.argv[2:]:
    test = kunit_parser.parse_run_tests(open(f).read().splitlines(True))
    c = test.counts
    out.append({"status": test.status.name, "plan": test.expected_count, "counts": {"passed": c.passed, "failed": c.failed, "crashed": c.crashed, "skipped": c.skipped, "errors": c.errors}, "tests": [node(s) for s in test.subtests]})
print(json.dumps(out))
`;

describeWithTools([TOOLS.python3, TOOLS.kunitParser], "KTAP output parsed by the kernel's tools/testing/kunit/kunit_parser.py", () => {
  let kunit: string;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-ktap-'));
    const found = findTool(TOOLS.kunitParser)!;
    if (found.endsWith('.tar.xz')) {
      // Debian's linux-source tarball: unpack only the parser's folder.
      const top = path.basename(found, '.tar.xz');
      execFileSync('tar', ['-xJf', found, '-C', dir, `${top}/tools/testing/kunit`]);
      kunit = path.join(dir, top, 'tools/testing/kunit');
    } else {
      kunit = found;
    }
  }, 300_000);

  /** Every golden through the parser in one python3 run (its start-up costs seconds). */
  let parsed: Map<string, Parsed>;
  const parse = (name: string): Parsed => {
    if (!parsed) {
      const names = [...outputs.keys()];
      const files = names.map((n) => path.join(dir, `${n}.ktap`));
      names.forEach((n, i) => writeFileSync(files[i]!, outputs.get(n)!.ktap));
      const out = execFileSync('python3', ['-c', DRIVER, kunit, ...files], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      const all = JSON.parse(out.trim().split('\n').pop()!) as Parsed[];
      parsed = new Map(names.map((n, i) => [n, all[i]!]));
    }
    return parsed.get(name)!;
  };

  it("parses every golden without an error, with kreplay's statuses", () => {
    expect(existsSync(path.join(kunit, 'kunit_parser.py'))).toBe(true);
    const expected: Record<string, string> = {
      'replay-findings': 'FAILURE',
      'replay-clean': 'SUCCESS',
      'replay-nothing': 'SKIPPED',
      'diff': 'FAILURE',
      'diff-inconclusive': 'SKIPPED',
      'explore-violation': 'FAILURE',
      'explore-clean': 'SUCCESS',
      'explore-incomplete': 'SKIPPED',
      'ci': 'FAILURE',
      'ci-kernel-failed': 'FAILURE',
      'replay-holes': 'SKIPPED',
    };
    expect([...outputs.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const name of outputs.keys()) {
      const p = parse(name);
      expect({ name, status: p.status, errors: p.counts['errors'], plan: p.plan }).toEqual({ name, status: expected[name], errors: 0, plan: p.tests.length });
      for (const t of p.tests) if (t.subtests.length > 0) expect({ name, test: t.name, plan: t.plan }).toEqual({ name, test: t.name, plan: t.subtests.length });
    }
  });

  it('one test per kernel × workload with its rules as subtests; the failing rule is the one with the finding', () => {
    const p = parse('replay-findings');
    expect(p.tests).toHaveLength(1);
    expect(p.tests[0]!.subtests.map((s) => `${s.name} ${s.status}`)).toEqual([
      'mapped-page-removed FAILURE',
      'orphan-page-mapped SUCCESS',
      'stale-after-invalidate SKIPPED', // the trace has no invalidate: nothing to judge
      'stale-data SUCCESS',
      'trace-inconsistent SUCCESS',
    ]);
    expect(new Set(parse('diff-inconclusive').tests[0]!.subtests.map((s) => s.status))).toEqual(new Set(['SKIPPED']));
    const ci = parse('ci');
    expect(ci.tests.map((t) => `${t.name} ${t.status}`)).toEqual(['odirect-race FAILURE', 'truncate-racer SUCCESS', 'lossy SKIPPED']);
  });
});
