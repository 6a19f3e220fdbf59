import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { writeRaceTrace } from './race-trace.js';
import { junitCounts } from './junit-counts.js';

const fx = (name: string) => `fixtures/diff/${name}`;

/** `kreplay ci` over one base and one patched trace (a config in `dir`, its output in `dir/out`): its exit code. */
async function ciOf(dir: string, base: string, patched: string, formats: string[]): Promise<number> {
  const config = path.join(dir, 'ci.json');
  writeFileSync(
    config,
    JSON.stringify({ schema: 'kreplay-ci/1', base: { traces: [base] }, patched: { traces: [patched] }, output: path.join(dir, 'out'), formats }),
  );
  return (await runCli(['ci', '--config', config], { env: { CI: 'true' } })).exitCode;
}

/** k runs in `dir` (`name-0` …), each a copy of the run folder `from` (its trace.txt and meta.json). */
function copyRuns(dir: string, name: string, from: string, k: number): string[] {
  return Array.from({ length: k }, (_, i) => {
    const d = path.join(dir, `${name}-${i}`);
    mkdirSync(d);
    for (const f of ['trace.txt', 'meta.json']) copyFileSync(path.join(from, f), path.join(d, f));
    return d;
  });
}

describe('kreplay diff on fixture pairs', () => {
  it('a patched trace that adds a race is a regression: exit 1, the new finding listed', async () => {
    const r = await runCli(['diff', fx('clean-1'), fx('race')]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('REGRESSION');
    // one run a side: the base run's silence could be chance (it read a bare "2 new")
    expect(r.stdout).toContain('Findings: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged');
    expect(r.stdout).toMatch(/NEW +error +mapped-page-removed on 8:0\/c index 0/);
    expect(r.stdout).toContain('fixtures/diff/race/trace.txt:18');
  });

  it('a patched trace that removes the race reports it fixed and exits 0', async () => {
    const r = await runCli(['diff', fx('race'), fx('clean-1')]);
    expect(r.exitCode).toBe(0);
    // one run a side: the patched run's silence could be chance (it read a bare "2 fixed", "FIXED")
    expect(r.stdout).toContain('Findings: 0 new, 2 fixed (2 of them on too few runs to tell from chance), 0 unchanged');
    expect(r.stdout).toMatch(/FIXED\? +error +mapped-page-removed on 8:0\/c index 0/);
    expect(r.stdout).toContain(
      "not seen in the 1 patched run that could show it, against 1 of 1 base run: that could be chance (p = 0.50, Fisher's exact test on runs; p < 0.01 needs more runs a side), so not shown fixed",
    );
  });

  it('two runs of the same kernel with different pfns and timestamps diff clean', async () => {
    const racy = await runCli(['diff', fx('race'), fx('race-2')]);
    expect(racy.exitCode).toBe(0);
    expect(racy.stdout).toContain('Findings: 0 new, 0 fixed, 2 unchanged');
    const clean = await runCli(['diff', fx('clean-1'), fx('clean-2'), '--format', 'json']);
    expect(clean.exitCode).toBe(0);
    const d = JSON.parse(clean.stdout);
    expect(d.regression).toBe(false);
    expect(d.findings).toEqual({ new: [], fixed: [], unchanged: [] });
  });

  it("puts the workload results of each side's meta.json side by side", async () => {
    const r = await runCli(['diff', fx('clean-1'), fx('race'), '--format', 'json']);
    const d = JSON.parse(r.stdout);
    expect(d.workload).toContainEqual({ name: 'mismatches', base: [0], patched: [3] });
    expect(d.behaviour.find((b: { name: string }) => b.name === 'pte_unmaps')).toMatchObject({ base: { count: 1 }, patched: { count: 0 } });
  });

  it('a metric beyond --max-regression is a regression even with no new finding', async () => {
    const r = await runCli(['diff', fx('race'), fx('race-2'), '--max-regression', 'workload.mismatches=0', '--max-regression', 'pte_maps=5']);
    expect(r.exitCode).toBe(0);
    const worse = await runCli(['diff', fx('clean-1'), fx('race'), '--fail-on', 'never', '--max-regression', 'workload.mismatches=10']);
    expect(worse.exitCode).toBe(1);
    expect(worse.stdout).toMatch(/EXCEEDED workload\.mismatches/);
  });

  it('a threshold it could not compare keeps the verdict from a pass, in words as in KTAP', async () => {
    // a misspelt counter: neither side has samples of it (before: a bare "no regression")
    const r = await runCli(['diff', fx('clean-1'), fx('clean-2'), '--max-regression', 'workload.mismatchs=0']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('no regression in what the traces show, but threshold(s) not judged: workload.mismatchs: not a pass');
  });

  it('several runs per side aggregate', async () => {
    const r = await runCli(['diff', '--base', fx('clean-1'), '--base', fx('clean-2'), '--patched', fx('race'), '--patched', fx('race-2'), '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const d = JSON.parse(r.stdout);
    expect(d.base.runs).toHaveLength(2);
    expect(d.findings.new[0]).toMatchObject({ rule: 'mapped-page-removed', patched: 2, patchedRuns: 2 });
  });

  it('writes junit, sarif and github formats of the same result', async () => {
    const junit = await runCli(['diff', fx('clean-1'), fx('race'), '--format', 'junit']);
    expect(junit.stdout).toContain('<failure type="mapped-page-removed"');
    const sarif = JSON.parse((await runCli(['diff', fx('race'), fx('clean-1'), '--format', 'sarif'])).stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.map((x: { baselineState: string }) => x.baselineState)).toEqual(['absent', 'absent']);
    const gh = await runCli(['diff', fx('clean-1'), fx('race'), '--format', 'github']);
    expect(gh.stdout).toMatch(
      /^::error file=fixtures\/diff\/race\/trace.txt,line=14,title=kreplay diff new \(the base may have it too\)%3A mapped-page-removed/m,
    );
  });
});

// JUnit, SARIF's message and the GitHub title did not say whether a new finding was certain: a
// reviewer reading only the annotation could not tell a certain regression from an uncertain one
describe("a new finding's certainty, where a reviewer may read only one format", () => {
  it('is named in the JUnit failure, the SARIF message and the GitHub title, as the text names it', async () => {
    for (const [base, patched, certainty] of [
      [fx('clean-1'), fx('race'), 'certain'],
      ['fixtures/replay/clean-odirect', 'fixtures/replay/mapped-page-removed-lost', 'uncertain'],
    ] as const) {
      const text = (await runCli(['diff', base, patched])).stdout;
      expect(text).toMatch(
        certainty === 'uncertain' ? /NEW +error +mapped-page-removed on [^\n]* \(uncertain\)\n/ : /NEW +error +mapped-page-removed on 8:0\/c index 0\n/,
      );
      const junit = (await runCli(['diff', base, patched, '--format', 'junit'])).stdout;
      expect(junit).toMatch(new RegExp(`<failure type="mapped-page-removed" message="new in patched \\(${certainty}\\): pfn `));
      const sarif = JSON.parse((await runCli(['diff', base, patched, '--format', 'sarif'])).stdout);
      const result = sarif.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'mapped-page-removed');
      // after what the chance of the base's silence says (one run a side: the base may have it too)
      expect(result.message.text).toMatch(new RegExp(`^new in patched, maybe the base's too \\(seen in 1 of 1 patched run[^\\n]*\\) \\(${certainty}\\): pfn `));
      expect(result.properties.certainty).toBe(certainty);
      const github = (await runCli(['diff', base, patched, '--format', 'github'])).stdout;
      expect(github).toMatch(
        new RegExp(`^::error [^\\n]*title=kreplay diff new \\(the base may have it too\\)%3A mapped-page-removed on [^:]* \\(${certainty}\\)::`, 'm'),
      );
      // JUnit's counts are its testcases'
      const { said, cases } = junitCounts(junit);
      expect(said).toEqual(cases);
    }
  });

  // the class took the certainty of its first occurrence: two races on one page, the first behind
  // lost events, read "(uncertain)" though the second is certain
  it('is certain when any occurrence of the finding on that page is', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-certain-'));
    const trace = path.join(writeRaceTrace(dir, [[1, 2]]), 'trace.txt');
    const lines = readFileSync(trace, 'utf8').split('\n');
    lines.splice(
      lines.findIndex((l) => l.includes('fadvise-211')),
      0,
      'CPU:1 [LOST 3 EVENTS]',
    );
    writeFileSync(trace, lines.join('\n'));
    expect((await runCli(['replay', trace])).stdout).toMatch(/\(uncertain\)[^]*\(certain\)/);
    const github = (await runCli(['diff', fx('clean-1'), dir, '--format', 'github'])).stdout;
    expect(github).toMatch(/^::error [^\n]*title=kreplay diff new \(the base may have it too\)%3A mapped-page-removed on 8%3A16\/2a index 1 \(certain\)::/m);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('kreplay diff on shipped traces (offline)', () => {
  it("flags the shipped regression pair: the patch that drops filemap_fault's mapping recheck maps orphan pages", async () => {
    const pair = 'traces/pair-filemap-recheck';
    const r = await runCli(['diff', `${pair}/base/odirect-race`, `${pair}/patched/odirect-race`, '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const d = JSON.parse(r.stdout);
    expect(d.base.runs.length).toBeGreaterThanOrEqual(2);
    expect(d.warnings).toEqual([]);
    const orphans = d.findings.new.filter((e: { rule: string }) => e.rule === 'orphan-page-mapped');
    expect(orphans.length).toBeGreaterThan(0);
    expect(d.findings.fixed.concat(d.findings.unchanged).some((e: { rule: string }) => e.rule === 'orphan-page-mapped')).toBe(false);
    expect(d.reasons[0]).toMatch(/^new error orphan-page-mapped/);
  });

  it('replays two real captures, compares behaviour and workload results, and exits by its verdict', async () => {
    const r = await runCli(['diff', 'traces/odirect-race', 'traces/odirect-race-faultaround', '--format', 'json']);
    expect(r.stderr).not.toMatch(/internal error/);
    const d = JSON.parse(r.stdout);
    expect(r.exitCode).toBe(d.regression ? 1 : 0);
    const faults = d.behaviour.find((b: { name: string }) => b.name === 'faults');
    expect(faults.base.count).toBeGreaterThan(0);
    expect(faults.patched.count).toBeGreaterThan(0);
    expect(d.latency.map((l: { op: string }) => l.op)).toContain('fault');
    expect(d.workload.map((w: { name: string }) => w.name)).toContain('mismatches');
  });
});

describe('a patched run whose workload counted stale reads the trace does not mark', () => {
  it('is not a pass: stale-data is not judged on the patched side (it read "no regression")', async () => {
    // clean-1's trace, with the workload's own count of mismatches at 3 (it marks at most its first
    // 32 in the trace, and a marker can be lost): the workload saw stale data that no finding shows
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-mismatch-'));
    try {
      copyFileSync(path.join(fx('clean-1'), 'trace.txt'), path.join(dir, 'trace.txt'));
      writeFileSync(path.join(dir, 'meta.json'), readFileSync(path.join(fx('clean-1'), 'meta.json'), 'utf8').replace('"mismatches": 0', '"mismatches": 3'));
      const r = await runCli(['diff', fx('clean-1'), dir, '--format', 'json']);
      const d = JSON.parse(r.stdout);
      expect(d.verdict).toBe('no-regression');
      expect(d.patched.unjudged['stale-data']).toMatch(/the workload counted 3 mismatches \(meta\.json workload\.result\) and the trace marks none of them/);
      const text = await runCli(['diff', fx('clean-1'), dir]);
      expect(text.stdout).toContain('not judged on the patched side: stale-data: not a pass');
      const ktap = await runCli(['replay', path.join(dir, 'trace.txt'), '--format', 'ktap']);
      expect(ktap.exitCode).toBe(0);
      expect(ktap.stdout).toMatch(/ok 4 stale-data # SKIP done: not judged: the workload counted 3 mismatches/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a patched trace that never shows what a rule judges', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-blind-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("does not call the base's findings of that rule fixed: no invalidate returned, so stale-after-invalidate is unjudged", async () => {
    // The base's race, and the same trace with its invalidate_inode_pages2_range probes gone (a
    // patch that renames or inlines the function: the kprobe no longer fires). The removal and
    // the late mapping stay, so orphan-page-mapped is still seen; stale-after-invalidate cannot be.
    const base = 'fixtures/replay/stale-after-invalidate';
    const patched = path.join(dir, 'patched');
    mkdirSync(patched);
    const lines = readFileSync(path.join(base, 'trace.txt'), 'utf8').split('\n');
    // (its entries-in-buffer header goes too: it would count the removed lines as lost events)
    writeFileSync(
      path.join(patched, 'trace.txt'),
      lines.filter((l) => !l.includes('invalidate_inode_pages2_range') && !l.includes('entries-in-buffer')).join('\n'),
    );
    copyFileSync(path.join(base, 'meta.json'), path.join(patched, 'meta.json'));
    const r = await runCli(['diff', base, patched, '--format', 'json']);
    const d = JSON.parse(r.stdout);
    expect(d.findings.unchanged.map((e: { rule: string }) => e.rule)).toEqual(['orphan-page-mapped']);
    expect(d.findings.fixed).toEqual([]);
    expect(d.findings.unjudged.map((e: { rule: string }) => e.rule)).toEqual(['stale-after-invalidate']);
    expect(d.patched.unjudged['stale-after-invalidate']).toMatch(/no invalidate_inode_pages2_range call returned 0 in the trace/);
    const text = await runCli(['diff', base, patched]);
    expect(text.stdout).toMatch(/UNJUDGED .*stale-after-invalidate/);
    expect(text.stdout).not.toMatch(/FIXED/);
  });
});

describe('a patched trace whose gaps may hold the events that raise a base finding', () => {
  let dir: string;
  beforeAll(() => {
    // The race fixture with its page's removal lost: `CPU:0 [LOST 1 EVENTS]` where the
    // mm_filemap_delete_from_page_cache line was. The invalidate still returns 0 over a mapped
    // page, but the patched side can no longer see whether the page stayed in the cache.
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-gaps-'));
    const lines = readFileSync(path.join(fx('race'), 'trace.txt'), 'utf8').split('\n');
    const lost = lines.map((l) => (l.includes('mm_filemap_delete_from_page_cache') ? 'CPU:0 [LOST 1 EVENTS]' : l));
    expect(lost).toContain('CPU:0 [LOST 1 EVENTS]');
    writeFileSync(path.join(dir, 'trace.txt'), lost.join('\n'));
    copyFileSync(path.join(fx('race'), 'meta.json'), path.join(dir, 'meta.json'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does not call the finding fixed in any format (it read "FIXED stale-after-invalidate")', async () => {
    const json = await runCli(['diff', fx('race'), dir, '--format', 'json']);
    expect(json.exitCode).toBe(0);
    const d = JSON.parse(json.stdout);
    expect(d.patched.gaps).toBeGreaterThan(0);
    expect(d.findings.fixed).toEqual([]);
    expect(d.findings.unjudged.map((e: { rule: string }) => e.rule)).toEqual(['mapped-page-removed', 'stale-after-invalidate']);
    const text = await runCli(['diff', fx('race'), dir]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('Findings: 0 new, 0 fixed, 0 unchanged, 2 not judged on the patched side');
    expect(text.stdout).not.toMatch(/FIXED/);
    expect(text.stdout).toMatch(/UNJUDGED +error +stale-after-invalidate[^]*not fixed: not seen in patched, whose traces have 2 gaps/);
    const sarif = JSON.parse((await runCli(['diff', fx('race'), dir, '--format', 'sarif'])).stdout);
    const results = sarif.runs[0].results as Array<{ ruleId: string; baselineState?: string; message: { text: string } }>;
    expect(results.filter((x) => x.baselineState === 'absent')).toEqual([]);
    expect(results.find((x) => x.ruleId === 'stale-after-invalidate')?.message.text).toMatch(/^not fixed: not seen in patched/);
    const junit = (await runCli(['diff', fx('race'), dir, '--format', 'junit'])).stdout;
    expect(junit).not.toContain('name="fixed: ');
    expect(junit).toContain('not judged on patched: stale-after-invalidate');
    const github = (await runCli(['diff', fx('race'), dir, '--format', 'github'])).stdout;
    expect(github).not.toContain('kreplay diff fixed');
    const ktap = (await runCli(['diff', fx('race'), dir, '--format', 'ktap'])).stdout;
    expect(ktap).not.toMatch(/# fixed/);
    expect(ktap).toMatch(/ok \d+ stale-after-invalidate # SKIP/);
  });
});

describe('kreplay diff on replay results', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-'));
    // What a user feeds back: `kreplay replay --format json` output.
    for (const name of ['clean-1', 'race']) {
      const r = await runCli(['replay', fx(`${name}/trace.txt`), '--format', 'json', '--out', path.join(dir, `${name}.json`)]);
      expect([0, 1]).toContain(r.exitCode);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('diffs replay JSON like the traces it came from, and mixes with traces', async () => {
    const r = await runCli(['diff', path.join(dir, 'clean-1.json'), path.join(dir, 'race.json'), '--format', 'json']);
    expect(r.exitCode).toBe(1);
    const d = JSON.parse(r.stdout);
    expect(d.findings.new.map((e: { rule: string }) => e.rule)).toEqual(['mapped-page-removed', 'stale-after-invalidate']);
    expect(d.workload).toContainEqual({ name: 'mismatches', base: [0], patched: [3] });
    const mixed = await runCli(['diff', path.join(dir, 'race.json'), fx('race-2')]);
    expect(mixed.exitCode).toBe(0);
  });

  // A replay JSON that does not say which rules it judged (`verdict.unjudged`, written by an older
  // kreplay or by hand) made every rule look judged: the base's race missing from it read "2 fixed".
  it('does not make a base finding fixed by a replay JSON that does not say what it judged', async () => {
    const now = readFileSync(path.join(dir, 'clean-1.json'), 'utf8');
    expect(JSON.parse(now).verdict.unjudged).toEqual([]);
    // what this kreplay writes still fixes it
    const current = await runCli(['diff', path.join(dir, 'race.json'), path.join(dir, 'clean-1.json'), '--format', 'json']);
    expect(current.exitCode).toBe(0);
    expect(JSON.parse(current.stdout).findings.fixed.map((e: { rule: string }) => e.rule)).toEqual(['mapped-page-removed', 'stale-after-invalidate']);
    const older = JSON.parse(now);
    delete older.verdict.unjudged;
    const noVerdict = JSON.parse(now);
    delete noVerdict.verdict;
    for (const [name, doc, missing] of [
      ['older.json', older, 'verdict.unjudged'],
      ['no-verdict.json', noVerdict, 'verdict'],
    ] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, JSON.stringify(doc, null, 2));
      const r = await runCli(['diff', path.join(dir, 'race.json'), file, '--format', 'json']);
      expect(r.exitCode).toBe(0);
      const d = JSON.parse(r.stdout);
      expect(d.findings.fixed).toEqual([]);
      expect(d.findings.unjudged.map((e: { rule: string }) => e.rule)).toEqual(['mapped-page-removed', 'stale-after-invalidate']);
      expect(d.patched.unjudged['mapped-page-removed']).toContain(`${file} does not say which rules it judged (no ${missing})`);
      expect(d.warnings).toContainEqual(expect.stringContaining(`patched run ${file}: replay JSON without ${missing} `));
      expect(d.warnings.join('\n')).toMatch(/re-run `kreplay replay TRACE --format json --out FILE` with this kreplay/);
      const text = await runCli(['diff', path.join(dir, 'race.json'), file]);
      expect(text.stdout).toContain('Findings: 0 new, 0 fixed, 0 unchanged, 2 not judged on the patched side');
      expect(text.stdout).not.toMatch(/FIXED/);
    }
    // a report of that file alone is not a clean run, and says why
    const alone = await runCli(['report', path.join(dir, 'older.json')]);
    expect(alone.stdout).toContain('but 1 trace with holes or rules not judged: not a clean run');
    expect(alone.stdout).toContain(`warning: ${path.join(dir, 'older.json')}: replay JSON without verdict.unjudged`);
    // a base side that does not say is only listed: it cannot hide a patched finding
    const swapped = await runCli(['diff', path.join(dir, 'older.json'), path.join(dir, 'race.json'), '--format', 'json']);
    expect(swapped.exitCode).toBe(1);
    expect(JSON.parse(swapped.stdout).findings.new.map((e: { rule: string }) => e.rule)).toEqual(['mapped-page-removed', 'stale-after-invalidate']);
  });

  it('rejects broken JSON and JSON that is not a replay result with file:line, exit 2', async () => {
    const cut = await runCli(['diff', fx('bad/truncated.json'), fx('race')]);
    expect(cut.exitCode).toBe(2);
    expect(cut.stderr).toContain('fixtures/diff/bad/truncated.json:6: not valid JSON');
    const wrong = await runCli(['diff', fx('bad/wrong-rule.json'), fx('race')]);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain('fixtures/diff/bad/wrong-rule.json:4: invalid kreplay replay result: findings.0.rule');
    expect(wrong.stderr).toContain('hint:');
  });

  it('rejects a bad threshold and a missing input with exit 2', async () => {
    expect((await runCli(['diff', fx('race'), fx('race-2'), '--max-regression', 'nonsense=3'])).exitCode).toBe(2);
    const missing = await runCli(['diff', fx('race'), fx('no-such-run')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no such file or folder');
  });
});

describe('a patched trace that does not name its clock', () => {
  it('does not make a base finding fixed: the rules that judge across CPUs are not judged there, unless --trace-clock names an ordered clock', async () => {
    // clean-1 with a meta.json that names no clock (as one not written by kreplay capture): its
    // events on two CPUs print an order a per-CPU clock (tracefs's, trace-cmd's and perf's default)
    // does not promise, so the race missing from it is not fixed (it read "2 fixed")
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-unnamed-'));
    try {
      copyFileSync(path.join(fx('clean-1'), 'trace.txt'), path.join(dir, 'trace.txt'));
      const meta = JSON.parse(readFileSync(path.join(fx('clean-1'), 'meta.json'), 'utf8'));
      delete meta.buffer;
      writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
      const r = await runCli(['diff', fx('race'), dir, '--format', 'json']);
      const d = JSON.parse(r.stdout);
      expect(d.findings.fixed).toEqual([]);
      expect(d.patched.unjudged['mapped-page-removed']).toMatch(/the trace does not name its trace clock/);
      const text = await runCli(['diff', fx('race'), dir]);
      expect(text.stdout).toContain('0 fixed');
      expect(text.stdout).not.toMatch(/FIXED/);
      const named = await runCli(['diff', fx('race'), dir, '--trace-clock', 'mono']);
      expect(named.exitCode).toBe(0);
      expect(named.stdout).toContain('Findings: 0 new, 2 fixed (2 of them on too few runs to tell from chance), 0 unchanged');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Replay keeps 10000 findings per rule and counts the rest. A base trace that raced 10000 times
// on index 0 and then once on index 1 kept only the index-0 ones; a patched trace racing once on
// index 1 read NEW, a REGRESSION, exit 1 — though the base had that very race.
describe('a base replay that did not keep every finding of a rule', () => {
  let dir: string;
  let base: string;
  let kept: string;
  // the patched trace races on index 1 only: the base's race on index 0 is on a page it never shows (not fixed: session 33)
  const verdict = `no regression in what the traces show, but 1 finding not judged new (the base side counted more mapped-page-removed findings than its replay kept); 1 base finding not judged on the patched side, whose traces never show its page or cannot name it (mapped-page-removed): not a pass`;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-cap-'));
    writeRaceTrace(path.join(dir, 'base'), [
      [0, 10000],
      [1, 1],
    ]);
    writeRaceTrace(path.join(dir, 'base-whole'), [[0, 1]]);
    writeRaceTrace(path.join(dir, 'patched'), [[1, 1]]);
    base = path.join(dir, 'base.json');
    const r = await runCli(['replay', path.join(dir, 'base/trace.txt'), '--format', 'json', '--out', base]);
    expect(r.stderr).toContain('1 findings beyond the first 10000 of their rule were counted but not kept');
    // the same result with all but 2 of the findings it kept cut (stats as replay wrote them): each
    // format's run reads 2 findings instead of 28 MB
    const doc = JSON.parse(readFileSync(base, 'utf8'));
    expect(doc.stats.findingsDroppedByRule).toEqual({ 'mapped-page-removed': 1 });
    doc.findings = doc.findings.slice(0, 2);
    // its verdict counts the findings it holds (a replay JSON whose verdict does not is refused, session 42)
    doc.verdict.certain = doc.findings.filter((f: { certainty: string }) => f.certainty === 'certain').length;
    doc.verdict.uncertain = doc.findings.length - doc.verdict.certain;
    kept = path.join(dir, 'kept.json');
    writeFileSync(kept, JSON.stringify(doc));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does not call a patched finding new when the base may hold it among those (it read REGRESSION, exit 1)', async () => {
    const patched = path.join(dir, 'patched');
    const text = await runCli(['diff', base, patched]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(`${verdict} (fail-on error)`);
    expect(text.stdout).toContain('Findings: 0 new, 0 fixed, 0 unchanged, 1 not judged on the patched side, 1 not judged new');
    expect(text.stdout).toMatch(/NEW\? +error +mapped-page-removed on 8:16\/2a index 1\n/);
    const why = `not judged new: the base side may have had it among the mapped-page-removed findings its replay counted and did not keep (${base}: the replay counted 1 more mapped-page-removed finding than the 10000 it kept, so which pages it was on is not known)`;
    expect(text.stdout).toContain(why);
    expect(text.stdout).not.toMatch(/REGRESSION|^ +NEW /m);
  }, 120_000);

  it('says so in every format and exits 0', async () => {
    const [base, patched] = [kept, path.join(dir, 'patched')];
    const why = `not judged new: the base side may have had it among the mapped-page-removed findings its replay counted and did not keep (${kept}: the replay counted 1 more mapped-page-removed finding than the 2 it kept, so which pages it was on is not known)`;
    const d = JSON.parse((await runCli(['diff', base, patched, '--format', 'json'])).stdout);
    expect(d.verdict).toBe('no-regression');
    expect(d.findings.new).toEqual([]);
    expect(d.findings.maybeNew.map((e: { key: string }) => e.key)).toEqual(['mapped-page-removed 8:16/2a 1']);
    expect(Object.keys(d.base.notKept)).toEqual(['mapped-page-removed']);

    const junit = (await runCli(['diff', base, patched, '--format', 'junit'])).stdout;
    expect(junit).toContain('failures="0"');
    expect(junit).toContain(
      `<testcase classname="kreplay.diff.findings" name="not judged new: mapped-page-removed on 8:16/2a index 1">\n      <skipped message="${why}: mapped-page-removed on 8:16/2a index 1 (certain)"/>`,
    );
    const sarif = JSON.parse((await runCli(['diff', base, patched, '--format', 'sarif'])).stdout).runs[0];
    const result = sarif.results.find((x: { message: { text: string } }) => x.message.text.startsWith('not judged new'));
    expect(result).toMatchObject({ ruleId: 'mapped-page-removed', level: 'error' });
    expect(result.baselineState).toBeUndefined();
    expect(sarif.results.map((x: { baselineState?: string }) => x.baselineState)).not.toContain('new');
    expect(sarif.invocations[0].toolExecutionNotifications).toEqual([{ level: 'warning', message: { text: verdict } }]);
    const github = (await runCli(['diff', base, patched, '--format', 'github'])).stdout;
    expect(github).toMatch(/^::warning [^\n]*title=kreplay diff not judged new%3A mapped-page-removed on 8%3A16\/2a index 1 \(certain\)::not judged new/m);
    expect(github).not.toMatch(/^::error/m);
    expect(github).toContain(`::notice title=kreplay diff::${verdict}: 0 new, 0 fixed, 0 unchanged, 1 not judged on the patched side, 1 not judged new`);
    const ktap = (await runCli(['diff', base, patched, '--format', 'ktap'])).stdout;
    expect(ktap).toMatch(/^ {4}ok 1 mapped-page-removed # SKIP done: 1 finding not judged new: the base side may have had it/m);
    expect(ktap).toMatch(/^ok 1 diff # SKIP done: not a pass: mapped-page-removed: /m);
    const kcidb = JSON.parse((await runCli(['diff', base, patched, '--format', 'kcidb'])).stdout);
    const status = (p: string) => kcidb.tests.find((t: { path: string }) => t.path === p)?.status;
    expect([status('kreplay.diff'), status('kreplay.diff.mapped-page-removed')]).toEqual(['DONE', 'DONE']);
  }, 120_000);

  it('still calls it new when the base kept every finding of the rule: a real regression stays one', async () => {
    const r = await runCli(['diff', path.join(dir, 'base-whole'), path.join(dir, 'patched')]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('REGRESSION');
    expect(r.stdout).toMatch(/NEW +error +mapped-page-removed on 8:16\/2a index 1/);
    expect(r.stdout).not.toContain('NEW?');
  });

  it("kreplay ci's summary says it is not a pass", async () => {
    expect(await ciOf(dir, kept, path.join(dir, 'patched'), ['json', 'junit', 'ktap'])).toBe(0);
    const summary = readFileSync(path.join(dir, 'out/summary.txt'), 'utf8');
    expect(summary).toMatch(/^kreplay ci: no regression in what the traces show, but 1 of 1 groups have [^\n]*findings not judged new[^\n]*: not a pass/);
    expect(summary).toMatch(/NOT A PASS +traces: 0 new, 0 fixed, 0 unchanged, 1 not judged on the patched side, 1 not judged new/);
    const group = JSON.parse(readFileSync(path.join(dir, 'out/summary.json'), 'utf8')).groups[0];
    expect(group).toMatchObject({ verdict: 'no-regression', notJudgedNew: { findings: 1, rules: ['mapped-page-removed'] }, findings: { new: 0, maybeNew: 1 } });
    expect(readFileSync(path.join(dir, 'out/summary.ktap'), 'utf8')).toMatch(/^ok 1 traces # SKIP done: no regression, but 1 finding not judged new/m);
    const { said, cases } = junitCounts(readFileSync(path.join(dir, 'out/traces/diff.junit.xml'), 'utf8'));
    expect(said).toEqual(cases);
  });
});

// A race the base showed in some runs and one patched run did not show read FIXED, in every format,
// whatever the runs: a single patched run's silence is as likely as not when the base shows the
// race in one run of one. "fixed" now carries Fisher's exact test on runs, and says when it could
// be chance.
describe("a fixed finding says whether the patched side's silence could be chance", () => {
  let dir = '';
  const side = (name: string, from: string, k: number) => copyRuns(dir, name, fx(from), k);
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-chance-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('five runs a side, the race in every base run and no patched one: fixed (p = 1/252), in every format', async () => {
    const args = ['diff', ...side('b', 'race', 5).flatMap((d) => ['--base', d]), ...side('p', 'clean-1', 5).flatMap((d) => ['--patched', d])];
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    expect(json.findings.fixed).toHaveLength(2);
    for (const e of json.findings.fixed) {
      expect(e.chance).toEqual({ baseRuns: 5, patchedRuns: 5, p: expect.any(Number), significant: true });
      expect(e.chance.p).toBeCloseTo(1 / 252, 12);
    }
    const text = await runCli(args);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('Findings: 0 new, 2 fixed, 0 unchanged');
    expect(text.stdout).toMatch(/FIXED +error +mapped-page-removed/);
    expect(text.stdout).toContain("not seen in the 5 patched runs that could show it, against 5 of 5 base runs (p = 0.0040, Fisher's exact test on runs)");
    expect(text.stdout).not.toContain('FIXED?');
    const github = (await runCli([...args, '--format', 'github'])).stdout;
    expect(github).toContain('title=kreplay diff fixed%3A mapped-page-removed');
    expect(github).not.toContain('could be chance');
  });

  it('two runs a side: FIXED? and "could be chance" in text, JSON, SARIF, GitHub, JUnit and KTAP', async () => {
    const args = ['diff', '--base', fx('race'), '--base', fx('race-2'), '--patched', fx('clean-1'), '--patched', fx('clean-2')];
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    expect(json.findings.fixed.map((e: { chance: unknown }) => e.chance)).toEqual([
      { baseRuns: 2, patchedRuns: 2, p: 1 / 6, significant: false },
      { baseRuns: 2, patchedRuns: 2, p: 1 / 6, significant: false },
    ]);
    const text = (await runCli(args)).stdout;
    expect(text).toContain('Findings: 0 new, 2 fixed (2 of them on too few runs to tell from chance), 0 unchanged');
    expect(text).toMatch(/FIXED\? +error +stale-after-invalidate/);
    expect(text).toContain('against 2 of 2 base runs: that could be chance (p = 0.17');
    const sarif = JSON.parse((await runCli([...args, '--format', 'sarif'])).stdout);
    const absent = sarif.runs[0].results.filter((r: { baselineState: string }) => r.baselineState === 'absent');
    expect(absent).toHaveLength(2);
    for (const r of absent) {
      expect(r.message.text).toMatch(/^absent from patched, maybe by chance \(not seen in the 2 patched runs/);
      expect(r.properties.chance.significant).toBe(false);
    }
    const github = (await runCli([...args, '--format', 'github'])).stdout;
    expect(github).toContain('title=kreplay diff fixed? (could be chance)%3A mapped-page-removed');
    expect(github).toContain('2 fixed (2 of them on too few runs to tell from chance)');
    expect((await runCli([...args, '--format', 'junit'])).stdout).toContain('that could be chance (p = 0.17');
    const mail = (
      await runCli(['report', '--base', fx('race'), '--base', fx('race-2'), '--patched', fx('clean-1'), '--patched', fx('clean-2'), '--format', 'text'])
    ).stdout;
    expect(mail).toContain(
      'kreplay: no regression: 0 new, 2 fixed (2 of them on too few runs to tell from chance), 0 unchanged; races: 0 new, 1 fixed (seen 4 times; 1 of them on too few runs to tell from chance), 0 unchanged\n',
    );
    expect(mail).toMatch(/ fixed\? not seen in the 2 patched runs that could show it, against 2 of 2 base runs: that could be chance/);
    expect((await runCli([...args, '--format', 'ktap'])).stdout).toMatch(/# fixed\?: mapped-page-removed[^\n]*\n +# +not seen in the 2 patched runs/);
  });
});

// A patched race one base run did not show read NEW, "new error ... on 8:0/c index 0", as if the
// patch introduced it, though one base run's silence is as likely as not when the base races too.
// A new finding now says whether the base's silence could be chance (Fisher's exact test on runs,
// over the base runs that could have shown it); the gate is the same: exit 1 either way.
describe("a new finding says whether the base side's silence could be chance", () => {
  let dir = '';
  const side = (name: string, from: string, k: number) => copyRuns(dir, name, fx(from), k);
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-new-chance-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const mayHave =
    "seen in 1 of 1 patched run, not in the 1 base run that could show it: the base may have it too, unseen (p = 0.50, Fisher's exact test on runs; p < 0.01 needs more runs a side), so not shown to be the patch's";

  it('one run a side: p = 1/2, "the base may have it too" in every format, and still exit 1', async () => {
    const args = ['diff', fx('clean-1'), fx('race')];
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    expect(json.findings.new.map((e: { chance: unknown }) => e.chance)).toEqual([
      { baseRuns: 1, patchedRuns: 1, p: 0.5, significant: false },
      { baseRuns: 1, patchedRuns: 1, p: 0.5, significant: false },
    ]);
    const text = await runCli(args);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('REGRESSION (2 reasons):');
    expect(text.stdout).toContain('Findings: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged');
    // with --out, the one line on stderr counts them the same way
    const out = path.join(dir, 'one-a-side.txt');
    const written = await runCli([...args, '--out', out]);
    expect(written.exitCode).toBe(1);
    expect(written.stderr).toBe(`REGRESSION: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged; wrote ${out}\n`);
    expect(text.stdout).toMatch(new RegExp(`NEW +error +mapped-page-removed on 8:0/c index 0\n +pfn 0x1234 [^\n]*\n +${mayHave.replace(/[()?.]/g, '\\$&')}\n`));
    const sarif = JSON.parse((await runCli([...args, '--format', 'sarif'])).stdout);
    for (const r of sarif.runs[0].results) {
      expect(r.baselineState).toBe('new');
      expect(r.level).toBe('error');
      expect(r.message.text.startsWith(`new in patched, maybe the base's too (${mayHave}) (certain): `)).toBe(true);
      expect(r.properties.chance).toEqual({ baseRuns: 1, patchedRuns: 1, p: 0.5, significant: false });
    }
    const github = await runCli([...args, '--format', 'github']);
    expect(github.exitCode).toBe(1);
    expect(github.stdout).toContain(
      '::error file=fixtures/diff/race/trace.txt,line=14,title=kreplay diff new (the base may have it too)%3A mapped-page-removed',
    );
    expect(github.stdout).toContain('REGRESSION: 2 new (2 of them on too few runs to tell from chance), 0 fixed');
    const junit = await runCli([...args, '--format', 'junit']);
    expect(junit.stdout).toContain('<failure type="mapped-page-removed"');
    expect(junit.stdout).toContain('the base may have it too, unseen (p = 0.50');
    const ktap = (await runCli([...args, '--format', 'ktap'])).stdout;
    expect(ktap).toContain(`# new: mapped-page-removed page 8:0/c index 0 (base 0 in 0 runs, patched 1 in 1 runs)\n    #   ${mayHave}\n`);
    expect(ktap).toMatch(/^ {4}not ok 1 mapped-page-removed$/m);
    const kcidb = JSON.parse((await runCli([...args, '--format', 'kcidb'])).stdout);
    expect(kcidb.tests.find((t: { path: string }) => t.path.endsWith('.mapped-page-removed')).log_excerpt).toContain(mayHave);
    const mail = (await runCli(['report', '--base', fx('clean-1'), '--patched', fx('race'), '--format', 'text'])).stdout;
    expect(mail).toContain(
      'kreplay: REGRESSION: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged; races: 1 new (seen 2 times; 1 of them on too few runs to tell from chance), 0 fixed',
    );
    expect(mail).toContain(`     new:    ${mayHave}\n`);
    // the HTML report: the race's card, the findings table's badge and the verdict's counts
    const page = path.join(dir, 'r.html');
    expect((await runCli(['report', '--base', fx('clean-1'), '--patched', fx('race'), '--html', page])).exitCode).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<p class="muted">new: seen in 1 of 1 patched run, not in the 1 base run that could show it: the base may have it too');
    expect(html).toContain('<span class="badge new" title="seen in 1 of 1 patched run, not in the 1 base run that could show it');
    expect(html).toContain('REGRESSION: 2 new (2 of them on too few runs to tell from chance), 0 fixed');
    const report = JSON.parse((await runCli(['report', '--base', fx('clean-1'), '--patched', fx('race'), '--json'])).stdout);
    expect(report.diff).toMatchObject({ new: 2, newByChance: 2 });
    // kreplay ci: the group's counts, in summary.json (read back by ci merge) and summary.txt
    const ci = path.join(dir, 'ci');
    mkdirSync(ci);
    expect(await ciOf(ci, path.resolve(fx('clean-1')), path.resolve(fx('race')), ['json', 'ktap'])).toBe(1);
    expect(readFileSync(path.join(ci, 'out/summary.ktap'), 'utf8')).toContain('# findings: 2 new (2 of them on too few runs to tell from chance), 0 fixed');
    expect(JSON.parse(readFileSync(path.join(ci, 'out/summary.json'), 'utf8')).groups[0].findings).toMatchObject({ new: 2, newByChance: 2 });
    expect(readFileSync(path.join(ci, 'out/summary.txt'), 'utf8')).toContain(': 2 new (2 of them on too few runs to tell from chance), 0 fixed');
  }, 180_000);

  it('five runs a side, the race in every patched run and no base one: shown new (p = 1/252)', async () => {
    const args = ['diff', ...side('b', 'clean-1', 5).flatMap((d) => ['--base', d]), ...side('p', 'race', 5).flatMap((d) => ['--patched', d])];
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    expect(json.findings.new).toHaveLength(2);
    for (const e of json.findings.new) {
      expect(e.chance).toEqual({ baseRuns: 5, patchedRuns: 5, p: expect.any(Number), significant: true });
      expect(e.chance.p).toBeCloseTo(1 / 252, 12);
    }
    const text = await runCli(args);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('Findings: 2 new, 0 fixed, 0 unchanged');
    expect(text.stdout).toContain("seen in 5 of 5 patched runs, not in the 5 base runs that could show it (p = 0.0040, Fisher's exact test on runs)");
    expect(text.stdout).not.toContain('may have it too');
    const github = (await runCli([...args, '--format', 'github'])).stdout;
    expect(github).toContain('title=kreplay diff new%3A mapped-page-removed');
  });

  it('no base run could have shown it (its traces never show the page): p = 1, and why', async () => {
    const args = ['diff', fx('clean-index-5'), 'fixtures/replay/mapped-page-removed'];
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    expect(json.findings.new.map((e: { chance: unknown }) => e.chance)).toEqual([
      { baseRuns: 0, patchedRuns: 1, p: 1, significant: false, unseen: 'the base traces never show 8:16/2a index 0' },
    ]);
    const text = await runCli(args);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(
      'seen in 1 of 1 patched run, but no base run could have shown it (the base traces never show 8:16/2a index 0): whether the patch introduced it cannot be told',
    );
  });
});

// A base race on index 0 against a patched run that judged the rule but never showed index 0 in the
// page cache (fixtures/diff/clean-index-5: fixtures/replay/clean-odirect with its page moved to
// index 5) read FIXED? — and FIXED with five runs a side — though the patched runs say nothing about
// index 0. Replay now records the pages each trace showed (`pagesSeen`), and diff counts only the
// patched runs that showed the page.
describe('a patched side whose traces never show the page of a base finding', () => {
  let dir = '';
  const copies = (name: string, from: string, k: number) => copyRuns(dir, name, from, k);
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-pages-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = 'fixtures/replay/mapped-page-removed';
  const never = 'not fixed: not seen in patched, whose traces never show 8:16/2a index 0';

  it('does not call it fixed, in any format: not judged on the patched side, naming the page (it read FIXED?)', async () => {
    const json = JSON.parse((await runCli(['diff', base, fx('clean-index-5'), '--format', 'json'])).stdout);
    expect(json.findings.fixed).toEqual([]);
    expect(json.findings.unjudged.map((e: { key: string; reason: string }) => [e.key, e.reason])).toEqual([['mapped-page-removed 8:16/2a 0', never]]);
    const text = await runCli(['diff', base, fx('clean-index-5')]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(
      'no regression in what the traces show, but 1 base finding not judged on the patched side, whose traces never show its page or cannot name it (mapped-page-removed): not a pass',
    );
    expect(text.stdout).toContain('Findings: 0 new, 0 fixed, 0 unchanged, 1 not judged on the patched side');
    expect(text.stdout).toMatch(/UNJUDGED +error +mapped-page-removed on 8:16\/2a index 0/);
    expect(text.stdout).toContain(never);
    expect(text.stdout).not.toMatch(/FIXED/);
    expect((await runCli(['diff', base, fx('clean-index-5'), '--format', 'junit'])).stdout).toContain(`<skipped message="${never}"/>`);
    expect((await runCli(['diff', base, fx('clean-index-5'), '--format', 'github'])).stdout).toContain(
      `title=kreplay diff not judged on patched%3A mapped-page-removed on 8%3A16/2a index 0 (certain)::${never}%0A`,
    );
    expect((await runCli(['diff', base, fx('clean-index-5'), '--format', 'ktap'])).stdout).toContain(`#   ${never}\n`);
    expect((await runCli(['report', '--base', base, '--patched', fx('clean-index-5')])).stdout).toContain(`     why:    ${never}\n`);
  });

  it('five runs a side: still not fixed; five patched runs that showed index 0 make it FIXED (control)', async () => {
    const b = copies('b', base, 5).flatMap((d) => ['--base', d]);
    const moved = JSON.parse(
      (await runCli(['diff', ...b, ...copies('m', fx('clean-index-5'), 5).flatMap((d) => ['--patched', d]), '--format', 'json'])).stdout,
    );
    expect(moved.findings.fixed).toEqual([]);
    expect(moved.findings.unjudged.map((e: { reason: string }) => e.reason)).toEqual([never]);
    const shown = await runCli(['diff', ...b, ...copies('s', 'fixtures/replay/clean-odirect', 5).flatMap((d) => ['--patched', d])]);
    expect(shown.stdout).toMatch(/FIXED +error +mapped-page-removed on 8:16\/2a index 0/);
    expect(shown.stdout).toContain('not seen in the 5 patched runs that could show it, against 5 of 5 base runs (p = 0.0040');
  });

  it("kreplay ci's summary says it is not a pass", async () => {
    expect(await ciOf(dir, path.resolve(base), path.resolve(fx('clean-index-5')), ['json', 'ktap'])).toBe(0);
    const group = JSON.parse(readFileSync(path.join(dir, 'out/summary.json'), 'utf8')).groups[0];
    expect(group).toMatchObject({
      verdict: 'no-regression',
      notJudgedFixed: { findings: 1, rules: ['mapped-page-removed'] },
      findings: { fixed: 0, unjudged: 1 },
    });
    expect(readFileSync(path.join(dir, 'out/summary.txt'), 'utf8')).toMatch(
      /NOT A PASS +traces: 0 new, 0 fixed, 0 unchanged, 1 not judged on the patched side/,
    );
    expect(readFileSync(path.join(dir, 'out/summary.ktap'), 'utf8')).toMatch(
      /^ok 1 traces # SKIP done: no regression, but 1 base finding not judged on the patched side, whose traces never show its page/m,
    );
  });

  it('a replay JSON without pagesSeen (an older kreplay) may have shown any page: fixed as before, with a warning', async () => {
    const file = path.join(dir, 'moved.json');
    expect((await runCli(['replay', `${fx('clean-index-5')}/trace.txt`, '--format', 'json', '--out', file])).exitCode).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.pagesSeen).toEqual({ complete: true, files: { '8:16/2a': [[5, 5]] } });
    const now = JSON.parse((await runCli(['diff', base, file, '--format', 'json'])).stdout);
    expect(now.findings.unjudged.map((e: { reason: string }) => e.reason)).toEqual([never]);
    delete doc.pagesSeen;
    const old = path.join(dir, 'old.json');
    writeFileSync(old, JSON.stringify(doc, null, 2));
    const d = JSON.parse((await runCli(['diff', base, old, '--format', 'json'])).stdout);
    expect(d.findings.fixed.map((e: { key: string }) => e.key)).toEqual(['mapped-page-removed 8:16/2a 0']);
    expect(d.warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^patched run ${old.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: it does not say which pages its trace showed .*counts as having shown every page`,
        ),
      ),
    );
  });
});

// A finding that names no file (the workload's mismatch marker in a run whose meta.json names no
// test file: fixtures/diff/unnamed-file-1, -2, marked on index 0 of ino 0x2a and of ino 0x2b) was
// matched by rule and index alone: `UNCHANGED stale-data index 0`, though the two may be different
// files' pages.
describe('findings that name no page', () => {
  it('are not matched as unchanged: not judged new, and not a pass, in every format', async () => {
    const args = ['diff', fx('unnamed-file-1'), fx('unnamed-file-2')];
    const text = await runCli(args);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(
      "no regression in what the traces show, but 1 finding not judged new (stale-data on a page one side's traces do not name): not a pass",
    );
    expect(text.stdout).toMatch(/NEW\? +error +stale-data index 0/);
    expect(text.stdout).not.toContain('UNCHANGED');
    const why = 'not judged new: both sides raised stale-data on index 0 of a file the trace does not name, so whether it is the same page cannot be told';
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    expect(json.findings.unchanged).toEqual([]);
    expect(json.findings.maybeNew.map((e: { key: string; reason: string }) => [e.key, e.reason])).toEqual([['stale-data - 0', why]]);
    expect((await runCli([...args, '--format', 'ktap'])).stdout).toContain(`ok 4 stale-data # SKIP done: 1 finding ${why}`);
    expect((await runCli([...args, '--format', 'junit'])).stdout).toContain(`<skipped message="${why}: stale-data index 0 (certain)"/>`);
  });

  // below --fail-on the patched finding keeps nothing from a pass, but the base's is no more judged
  // than when the patched one names its page (session 33, keyless-oracle: before, a bare pass)
  it('raised on both sides under one key: the base one is not judged fixed, so not a pass below --fail-on either', async () => {
    const args = ['diff', fx('unnamed-file-1'), fx('unnamed-file-2'), '--fail-on', 'never'];
    const text = await runCli(args);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(
      'no regression in what the traces show, but 1 base finding not judged on the patched side, whose traces never show its page or cannot name it (stale-data): not a pass (fail-on never)',
    );
    const ktap = (await runCli([...args, '--format', 'ktap'])).stdout;
    expect(ktap).toContain(
      'ok 4 stale-data # SKIP done: 1 base finding not fixed: the patched side raised stale-data index 0 too, on a page that may or may not be this one',
    );
    expect(ktap).toMatch(/^ok 1 diff # SKIP done: not a pass/m);
    expect((await runCli([...args, '--format', 'junit'])).stdout).toMatch(/<testsuite [^>]* skipped="1">/);
  });
});

// Session 40: a class both sides raised, whose base occurrences are all uncertain (its trace lost
// events where the finding rests), read UNCHANGED and a bare "no regression": the base may never
// have had it, so the patched side's certain finding may be the patch's. Before: `UNCHANGED error
// mapped-page-removed on 8:16/2a index 0`, `no regression (fail-on error)`, KTAP `ok 1 diff`.
describe('a finding the base side raised only uncertain', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-uncertain-base-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const lost = 'fixtures/replay/mapped-page-removed-lost';
  const clean = 'fixtures/replay/mapped-page-removed';
  const why =
    'not judged new: the base side raised mapped-page-removed on 8:16/2a index 0 only uncertain (1× in 1 run, first in fixtures/replay/mapped-page-removed-lost/trace.txt: events its trace lost, could not use or cannot order may explain it away), so whether the base had it cannot be told';

  it('is not unchanged against a certain patched one: not judged new, and not a pass, in every format (it read UNCHANGED, a pass)', async () => {
    const text = await runCli(['diff', lost, clean]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(
      'no regression in what the traces show, but 1 finding not judged new (mapped-page-removed raised on the base side only uncertain): not a pass (fail-on error)',
    );
    expect(text.stdout).toContain('Findings: 0 new, 0 fixed, 0 unchanged, 1 not judged new');
    expect(text.stdout).toMatch(/NEW\? +error +mapped-page-removed on 8:16\/2a index 0\n/);
    expect(text.stdout).toContain(why);
    expect(text.stdout).not.toContain('UNCHANGED');
    const json = JSON.parse((await runCli(['diff', lost, clean, '--format', 'json'])).stdout);
    expect(json.verdict).toBe('no-regression');
    expect(json.findings.unchanged).toEqual([]);
    expect(json.findings.maybeNew.map((e: { key: string; reason: string; base: number; patched: number }) => [e.key, e.base, e.patched, e.reason])).toEqual([
      ['mapped-page-removed 8:16/2a 0', 1, 1, why],
    ]);
    const ktap = (await runCli(['diff', lost, clean, '--format', 'ktap'])).stdout;
    expect(ktap).toContain(`ok 1 mapped-page-removed # SKIP done: 1 finding ${why}`);
    expect(ktap).toMatch(/^ok 1 diff # SKIP done: not a pass/m);
    expect((await runCli(['diff', lost, clean, '--format', 'junit'])).stdout).toContain(
      `<skipped message="${why}: mapped-page-removed on 8:16/2a index 0 (certain)"/>`,
    );
    expect((await runCli(['diff', lost, clean, '--format', 'github'])).stdout).toContain(
      'title=kreplay diff not judged new%3A mapped-page-removed on 8%3A16/2a index 0 (certain)::not judged new: the base side raised',
    );
  });

  it('is unchanged when the base raised it certain, whatever the patched side (control)', async () => {
    const json = JSON.parse((await runCli(['diff', clean, lost, '--format', 'json'])).stdout);
    expect(json.findings.unchanged.map((e: { key: string }) => e.key)).toEqual(['mapped-page-removed 8:16/2a 0']);
    expect(json.findings.maybeNew).toBeUndefined();
  });

  // Fisher's test counted the uncertain sightings as sightings: five base runs raising it only
  // uncertain against five clean patched runs read `FIXED … (p = 0.0040)`, shown fixed
  it('absent from the patched side, is not shown fixed by base runs where it was only uncertain (it read FIXED, p = 0.0040)', async () => {
    const args = [
      'diff',
      ...copyRuns(dir, 'lost', lost, 5).flatMap((d) => ['--base', d]),
      ...copyRuns(dir, 'clean', 'fixtures/replay/clean-odirect', 5).flatMap((d) => ['--patched', d]),
    ];
    const text = await runCli(args);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/FIXED\? +error +mapped-page-removed on 8:16\/2a index 0 \(uncertain\)\n/);
    expect(text.stdout).toContain(
      'not seen in the 5 patched runs that could show it, against 5 of 5 base runs (certain in none of them: an uncertain finding may never have happened): that could be chance (p = 1.0,',
    );
    const fixed = JSON.parse((await runCli([...args, '--format', 'json'])).stdout).findings.fixed;
    expect(fixed.map((e: { key: string; chance: object }) => [e.key, e.chance])).toEqual([
      ['mapped-page-removed 8:16/2a 0', { baseRuns: 5, patchedRuns: 5, p: 1, significant: false, certainBaseRuns: 0 }],
    ]);
    expect((await runCli([...args, '--format', 'ktap'])).stdout).toContain('# fixed?: mapped-page-removed');
  });

  it("kreplay ci's summary, and ci merge's, say it is not a pass", async () => {
    expect(await ciOf(dir, path.resolve(lost), path.resolve(clean), ['json', 'ktap'])).toBe(0);
    const group = JSON.parse(readFileSync(path.join(dir, 'out/summary.json'), 'utf8')).groups[0];
    expect(group).toMatchObject({
      verdict: 'no-regression',
      notJudgedNew: { findings: 1, rules: ['mapped-page-removed'], uncertain: ['mapped-page-removed'] },
      findings: { unchanged: 0, maybeNew: 1 },
    });
    const said = /NOT A PASS +traces: 0 new, 0 fixed, 0 unchanged, 1 not judged new/;
    expect(readFileSync(path.join(dir, 'out/summary.txt'), 'utf8')).toMatch(said);
    expect(readFileSync(path.join(dir, 'out/summary.ktap'), 'utf8')).toMatch(
      /^ok 1 traces # SKIP done: no regression, but 1 finding not judged new \(mapped-page-removed raised on the base side only uncertain\)/m,
    );
    // ci merge reads summary.json back (its schema is strict): the same words
    const merged = await runCli(['ci', 'merge', '--config', path.join(dir, 'ci.json'), '--output', path.join(dir, 'merged'), path.join(dir, 'out')]);
    expect(merged.exitCode).toBe(0);
    expect(merged.stdout).toMatch(said);
    expect(readFileSync(path.join(dir, 'merged/summary.ktap'), 'utf8')).toContain('(mapped-page-removed raised on the base side only uncertain)');
  });
});

// Session 40: a run whose workload failed is left out of the comparison, and its kernel log was left
// out of every threshold with it: the patched kernel's WARN in the run its bug killed (exit 139) read
// `ok workload.kernel_log_lines … (mean per run)`, `1 threshold(s) held`, exit 0 — the threshold
// docs/ci.md says catches "a patch that makes the kernel complain".
describe('the kernel log of a run left out for its failed workload', () => {
  let dir = '';
  /** A run folder: `from`'s trace, its meta.json with this exit code and these kernel log lines. */
  const runOf = (name: string, from: string, exitCode: number, warnings: number) => {
    const d = path.join(dir, name);
    mkdirSync(d);
    copyFileSync(path.join(fx(from), 'trace.txt'), path.join(d, 'trace.txt'));
    const meta = JSON.parse(readFileSync(path.join(fx(from), 'meta.json'), 'utf8'));
    meta.workload.exitCode = exitCode;
    meta.kernelLog = {
      file: 'kernel.log',
      findings: Array.from({ length: warnings }, (_, i) => ({
        kind: 'warning',
        line: 40 + i,
        text: 'WARNING: CPU: 1 PID: 301 at mm/filemap.c:3212 filemap_fault',
      })),
    };
    writeFileSync(path.join(d, 'meta.json'), JSON.stringify(meta, null, 2));
    return d;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-kernel-log-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('still counts in a kernel-log threshold: a regression, exit 1 (it read "1 threshold(s) held", exit 0)', async () => {
    const base = runOf('base', 'clean-1', 0, 0);
    const ok = runOf('ok', 'clean-2', 0, 0);
    const crashed = runOf('crashed', 'clean-2', 139, 2);
    const args = ['diff', '--base', base, '--patched', ok, '--patched', crashed, '--max-regression', 'workload.kernel_log_lines=0'];
    const text = await runCli(args);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('REGRESSION (1 reason):\n  - workload.kernel_log_lines 0 → 1 (from 0, allowed +0%)');
    expect(text.stdout).toContain(`patched run ${crashed}/trace.txt left out: its workload exited with code 139`);
    expect(text.stdout).toMatch(
      /EXCEEDED workload\.kernel_log_lines .*\(mean per run, with the kernel log of 1 patched run left out \(a failed workload or nothing traced: what the kernel printed still counts\)\)/,
    );
    const json = JSON.parse((await runCli([...args, '--format', 'json'])).stdout);
    expect(json.thresholds).toMatchObject([{ metric: 'workload.kernel_log_lines', base: 0, patched: 1, exceeded: true, judged: true }]);
    expect((await runCli([...args, '--format', 'ktap'])).stdout).toMatch(/^not ok 1 odirect-race$/m);
    // the kind only the crashed run printed is judged too (it was "no workload counter")
    const kind = JSON.parse((await runCli([...args.slice(0, -1), 'workload.kernel_log.warning=0', '--format', 'json'])).stdout);
    expect(kind.thresholds).toMatchObject([{ metric: 'workload.kernel_log.warning', base: 0, patched: 1, exceeded: true }]);
  });

  it("kreplay ci: the workload's regression, exit 1", async () => {
    const config = path.join(dir, 'ci.json');
    writeFileSync(
      config,
      JSON.stringify({
        schema: 'kreplay-ci/1',
        base: { traces: [path.join(dir, 'base')] },
        patched: { traces: [path.join(dir, 'ok'), path.join(dir, 'crashed')] },
        thresholds: { maxRegression: { 'workload.kernel_log_lines': 0 } },
        output: path.join(dir, 'out'),
        formats: ['json'],
      }),
    );
    expect((await runCli(['ci', '--config', config], { env: { CI: 'true' } })).exitCode).toBe(1);
    expect(readFileSync(path.join(dir, 'out/summary.txt'), 'utf8')).toMatch(/REGRESSION +odirect-race: .*\n.*\n? *- workload\.kernel_log_lines 0 → 1/);
  });
});

// Session 40: replay JSON without trace timestamps (written by hand, or cut) has no span: the sides'
// summed counts were compared, so two base runs of 1 fault against one patched run of 2 read
// `faults 2 → 2 0.0%`, threshold held.
describe('runs without a trace span', () => {
  it('compare counts per run: two base runs of 1 fault against one patched run of 2 is +100% (it read 0.0%, held)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-span-'));
    try {
      const json = async (name: string, from: string, faults?: number) => {
        const file = path.join(dir, `${name}.json`);
        expect((await runCli(['replay', `${fx(from)}/trace.txt`, '--format', 'json', '--out', file])).exitCode).toBe(0);
        const doc = JSON.parse(readFileSync(file, 'utf8'));
        delete doc.trace.firstTs;
        delete doc.trace.lastTs;
        if (faults !== undefined) doc.stats.byOp.fault_begin = faults;
        writeFileSync(file, JSON.stringify(doc, null, 2));
        return file;
      };
      const args = ['diff', '--base', await json('b1', 'clean-1'), '--base', await json('b2', 'clean-2'), '--patched', await json('p', 'clean-1', 2)];
      const text = await runCli([...args, '--max-regression', 'faults=50']);
      expect(text.exitCode).toBe(1);
      expect(text.stdout).toContain('  - faults 1 → 2 (+100.0%, allowed +50%)');
      expect(text.stdout).toMatch(/ faults +2 +2 +\+100\.0%\n/);
      expect(text.stdout).toContain('\n  (a run without a trace span: the change compares counts per run, not rates)\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Session 35: a diff's counts were put into words in eight places, each built by hand ("N
// unchanged", "N unchanged findings", "N unchanged finding(s)", the report's "1 new race (2 pages,
// …)" and "not judged on patched race"). One result with every kind of count must read the same
// sentence wherever it is said.
describe('one sentence for the counts, in every place that says them', () => {
  let dir: string;
  let base: string;
  let patched: string;
  const counts =
    '1 new (1 of them on too few runs to tell from chance), 1 fixed (1 of them on too few runs to tell from chance), 1 unchanged, 1 not judged on the patched side, 1 not judged new';
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-diff-counts-'));
    const replayed = path.join(dir, 'race.json');
    await runCli(['replay', fx('race/trace.txt'), '--format', 'json', '--out', replayed]);
    const doc = JSON.parse(readFileSync(replayed, 'utf8'));
    const rule = (r: string) => doc.findings.find((f: { rule: string }) => f.rule === r);
    // the race's finding moved to another page of the same file (its message says the page too)
    const at = (f: { message: string }, index: number) => ({ ...f, index, message: f.message.replace('index 0)', `index ${index})`) });
    const certainties = (findings: unknown[]) => {
      const uncertain = (findings as Array<{ certainty: string }>).filter((f) => f.certainty === 'uncertain').length;
      return { certain: findings.length - uncertain, uncertain };
    };
    const side = (findings: unknown[], seen: number[][], more: { dropped?: Record<string, number>; unusable?: number } = {}) => ({
      ...doc,
      // the verdict counts the findings the side holds (one that does not is refused, session 42)
      verdict: { ...doc.verdict, unjudged: [], ...certainties(findings), ...(more.unusable ? { unusableEvents: more.unusable } : {}) },
      findings,
      pagesSeen: { complete: true, files: { '8:0/c': seen } },
      stats: { ...doc.stats, ...(more.dropped ? { findingsDroppedByRule: more.dropped, findingsDropped: 1 } : {}) },
    });
    const mpr = rule('mapped-page-removed');
    base = path.join(dir, 'base.json');
    patched = path.join(dir, 'patched.json');
    // base: index 0 (fixed), 1 (unchanged), 2 (its page never shown on patched: not judged there); it
    // counted a stale-after-invalidate finding it did not keep (so the patched one is not judged new),
    // and has an unusable event (the GitHub notice's tail)
    writeFileSync(base, JSON.stringify(side([at(mpr, 0), at(mpr, 1), at(mpr, 2)], [[0, 3]], { dropped: { 'stale-after-invalidate': 1 }, unusable: 1 })));
    // patched: index 1 (unchanged), 3 (new), stale-after-invalidate on index 0 (not judged new)
    writeFileSync(
      patched,
      JSON.stringify(
        side(
          [at(mpr, 1), at(mpr, 3), rule('stale-after-invalidate')],
          [
            [0, 1],
            [3, 3],
          ],
        ),
      ),
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the text, the GitHub notice, diff --out, its KTAP, KCIDB, JUnit and SARIF, the report (text, HTML and its stderr line, JSON) and kreplay ci say the same counts', async () => {
    const text = await runCli(['diff', base, patched]);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(`\nFindings: ${counts}\n`);
    expect((await runCli(['diff', base, patched, '--format', 'github'])).stdout).toContain(
      `\n::notice title=kreplay diff::REGRESSION: ${counts}; unusable events: base 1, patched 0\n`,
    );
    const out = await runCli(['diff', base, patched, '--out', path.join(dir, 'diff.txt')]);
    expect(out.stderr).toContain(`REGRESSION: ${counts}; wrote ${path.join(dir, 'diff.txt')}\n`);
    // diff's own KTAP, KCIDB, JUnit and SARIF
    expect((await runCli(['diff', base, patched, '--format', 'ktap'])).stdout).toContain(`\n    # findings: ${counts}\n`);
    const kcidb = JSON.parse((await runCli(['diff', base, patched, '--format', 'kcidb'])).stdout);
    expect(kcidb.tests[0].log_excerpt).toContain(`\nfindings: ${counts}\n`);
    expect((await runCli(['diff', base, patched, '--format', 'junit'])).stdout).toContain(`<property name="findings" value="${counts}"/>`);
    expect(JSON.parse((await runCli(['diff', base, patched, '--format', 'sarif'])).stdout).runs[0].properties.findings).toBe(counts);
    // the report's mail line says the findings as the diff does, then the races they make
    const mail = (await runCli(['report', '--base', base, '--patched', patched])).stdout;
    expect(mail.split('\n')[0]).toBe(
      `kreplay: REGRESSION: ${counts}; races: 1 new (seen 1 time; 1 of them on too few runs to tell from chance), 1 fixed (seen 1 time; 1 of them on too few runs to tell from chance), 1 unchanged (seen 2 times), 1 not judged on the patched side (seen 1 time), 1 not judged new (seen 1 time)`,
    );
    const page = await runCli(['report', '--base', base, '--patched', patched, '--html', path.join(dir, 'r.html')]);
    expect(page.exitCode).toBe(0);
    expect(page.stderr).toContain(`\n2 input(s), 6 finding(s), REGRESSION: ${counts}\n`);
    expect(readFileSync(path.join(dir, 'r.html'), 'utf8')).toContain(`<div class="verdict bad">REGRESSION: ${counts}<ul>`);
    const numbers = { new: 1, newByChance: 1, fixed: 1, fixedByChance: 1, unchanged: 1, unjudged: 1, maybeNew: 1 };
    expect(JSON.parse((await runCli(['report', '--base', base, '--patched', patched, '--json'])).stdout).diff).toMatchObject(numbers);
    // kreplay ci: its progress line, summary.txt, summary.ktap, and summary.json's numbers
    const config = path.join(dir, 'ci.json');
    writeFileSync(
      config,
      JSON.stringify({ schema: 'kreplay-ci/1', base: { traces: [base] }, patched: { traces: [patched] }, output: path.join(dir, 'out'), formats: ['ktap'] }),
    );
    const ci = await runCli(['ci', '--config', config], { env: { CI: 'true' } });
    expect(ci.exitCode).toBe(1);
    const summary = JSON.parse(readFileSync(path.join(dir, 'out/summary.json'), 'utf8'));
    const group = summary.groups[0].name;
    expect(summary.groups[0].findings).toEqual(numbers);
    expect(ci.stderr).toContain(`] diff ${group}: REGRESSION (${counts})\n`);
    expect(readFileSync(path.join(dir, 'out/summary.txt'), 'utf8')).toContain(`  REGRESSION ${group}: ${counts}; unusable events: base 1, patched 0\n`);
    expect(readFileSync(path.join(dir, 'out/summary.ktap'), 'utf8')).toContain(`\n# findings: ${counts}\n`);
  }, 120_000);
});
