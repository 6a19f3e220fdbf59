/**
 * A ci run split over jobs: `ci plan` lists the jobs, each runs `--shard i/n`, and `ci
 * merge` gathers them into exactly what one unsharded run writes (every file, byte for
 * byte, with the same output folder).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseShard } from '@kreplay/core';
import { loadCiConfig, type LoadedCiConfig } from '../src/ci-config.js';
import { ciSummaryText, runCi, type CiGroupResult, type CiResult } from '../src/ci.js';
import { mergeCi } from '../src/ci-merge.js';
import { planCi, planGithub, planGitlab } from '../src/ci-plan.js';

const root = new URL('../../../', import.meta.url).pathname;

/** Every file under dir (relative path → content). */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('ci --shard, ci merge and ci plan', () => {
  let dir: string;
  let config: string;
  const WORKLOADS = ['odirect-race', 'read-invalidate', 'truncate-racer'];
  const load = async (output: string): Promise<LoadedCiConfig> => {
    const loaded = await loadCiConfig(config);
    loaded.config.output = path.join(dir, output);
    return loaded;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-ci-shard-'));
    // Three workloads on each side: the fixture runs, each meta.json naming its workload,
    // so the groups are the workloads as a real capture names them.
    const runs: Record<string, { base: string[]; patched: string[] }> = {
      'odirect-race': { base: ['clean-1'], patched: ['race'] },
      'read-invalidate': { base: ['clean-1', 'clean-2'], patched: ['clean-2'] },
      'truncate-racer': { base: ['race-2'], patched: ['race', 'race-2'] },
    };
    for (const w of WORKLOADS) {
      for (const side of ['base', 'patched'] as const) {
        runs[w]![side].forEach((fx, i) => {
          const to = path.join(dir, 'traces', side, w, `run-${i + 1}`);
          mkdirSync(to, { recursive: true });
          cpSync(path.join(root, 'fixtures/diff', fx, 'trace.txt'), path.join(to, 'trace.txt'));
          const meta = JSON.parse(readFileSync(path.join(root, 'fixtures/diff', fx, 'meta.json'), 'utf8'));
          writeFileSync(
            path.join(to, 'meta.json'),
            JSON.stringify({ ...meta, workload: { ...(typeof meta.workload === 'object' ? meta.workload : {}), name: w } }, null, 2),
          );
        });
      }
    }
    config = path.join(dir, 'kreplay.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        schema: 'kreplay-ci/1',
        base: { name: 'debian-6.1', traces: ['traces/base'] },
        patched: { name: '6.1+fix', traces: ['traces/patched'] },
        thresholds: { maxRegression: { 'workload.mismatches': 0 } },
        output: 'out',
        formats: ['text', 'json', 'junit', 'sarif', 'github', 'html', 'perfetto', 'ktap', 'kcidb'],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("merging the shards gives the unsharded run's output folder, byte for byte", async () => {
    const whole = await runCi(await load('out'));
    expect(whole.groups.map((g) => g.name)).toEqual(WORKLOADS);
    renameSync(path.join(dir, 'out'), path.join(dir, 'out.unsharded'));
    // Two jobs for three workloads: shard 1/2 runs the 1st and 3rd, 2/2 the 2nd.
    const s1 = await runCi(await load('shard-1'), { shard: parseShard('1/2') });
    const s2 = await runCi(await load('shard-2'), { shard: parseShard('2/2') });
    expect([s1.groups.map((g) => g.name), s2.groups.map((g) => g.name)]).toEqual([['odirect-race', 'truncate-racer'], ['read-invalidate']]);
    expect(s1.shard).toBe('1/2');
    const merged = await mergeCi([path.join(dir, 'shard-2'), path.join(dir, 'shard-1')], await load('out'));
    expect(merged).toEqual(whole);
    const want = tree(path.join(dir, 'out.unsharded'));
    const got = tree(path.join(dir, 'out'));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    expect(want.size).toBeGreaterThan(30);
    for (const [file, content] of want) expect({ file, same: got.get(file)!.equals(content) }).toEqual({ file, same: true });
  }, 120_000);

  it('refuses a merge that would report on less than the whole run, or on two configs', async () => {
    await expect(mergeCi([path.join(dir, 'shard-1')], await load('partial'))).rejects.toThrow(/hold 2 of 3 workloads; missing: read-invalidate/);
    await expect(mergeCi([path.join(dir, 'shard-1'), path.join(dir, 'shard-1'), path.join(dir, 'shard-2')], await load('twice'))).rejects.toThrow(
      /odirect-race is in both/,
    );
    const other = await load('other');
    other.config.thresholds.failOn = 'warning';
    await expect(mergeCi([path.join(dir, 'shard-1'), path.join(dir, 'shard-2')], other)).rejects.toThrow(/another config/);
    await expect(mergeCi([path.join(dir, 'traces')], await load('not-ci'))).rejects.toThrow(/no summary\.json/);
  });

  it("refuses shards that planned different runs: a workload outside the first shard's plan is never dropped from the merge", async () => {
    // A job of the same config run on other traces (a glob that matched more runs): its plan has one more workload,
    // which regressed. Merged with the first plan's shards, it would vanish and the merge say "no regression".
    const other = path.join(dir, 'shard-2-other-plan');
    cpSync(path.join(dir, 'shard-2'), other, { recursive: true });
    cpSync(path.join(dir, 'shard-1', 'odirect-race'), path.join(other, 'zz-extra'), { recursive: true });
    const summary = JSON.parse(readFileSync(path.join(other, 'summary.json'), 'utf8'));
    const regressed = JSON.parse(readFileSync(path.join(dir, 'shard-1', 'summary.json'), 'utf8')).groups[0];
    expect(regressed.regression).toBe(true);
    summary.planned = ['read-invalidate', 'zz-extra'];
    summary.groups.push({ ...regressed, name: 'zz-extra', files: regressed.files.map((f: string) => f.replace('odirect-race', 'zz-extra')) });
    Object.assign(summary, { verdict: 'regression', regression: true }); // as that job wrote it
    writeFileSync(path.join(other, 'summary.json'), JSON.stringify(summary, null, 2));
    await expect(mergeCi([path.join(dir, 'shard-1'), other], await load('other-plan'))).rejects.toThrow(/planned other workloads/);
    await expect(mergeCi([other, path.join(dir, 'shard-1')], await load('other-plan-2'))).rejects.toThrow(/planned other workloads/);
  });

  it("refuses a shard summary that contradicts itself: a regressed workload's flag turned off never merges into no regression", async () => {
    const edited = path.join(dir, 'shard-1-edited');
    cpSync(path.join(dir, 'shard-1'), edited, { recursive: true });
    const file = path.join(edited, 'summary.json');
    const original = readFileSync(file, 'utf8');
    const summary = JSON.parse(original);
    expect(summary.groups[0]).toMatchObject({ name: 'odirect-race', verdict: 'regression', regression: true });
    summary.groups[0].regression = false;
    writeFileSync(file, JSON.stringify(summary, null, 2));
    await expect(mergeCi([edited, path.join(dir, 'shard-2')], await load('edited'))).rejects.toThrow(
      /workload odirect-race says verdict regression but regression false .*: its summary\.json was edited/,
    );
    // the run's own verdict, too: here it says no-regression over a group that regressed
    const run = JSON.parse(original);
    Object.assign(run, { verdict: 'no-regression', regression: false });
    writeFileSync(file, JSON.stringify(run, null, 2));
    await expect(mergeCi([edited, path.join(dir, 'shard-2')], await load('edited'))).rejects.toThrow(
      /the run's verdict no-regression is not what its workloads give \(regression\)/,
    );
    // an inconclusive workload without its reasons (or reasons under another verdict)
    const quiet = JSON.parse(readFileSync(path.join(dir, 'shard-2', 'summary.json'), 'utf8'));
    quiet.groups[0].inconclusive = ['its workload exited with code 1'];
    const q = path.join(dir, 'shard-2-edited');
    cpSync(path.join(dir, 'shard-2'), q, { recursive: true });
    writeFileSync(path.join(q, 'summary.json'), JSON.stringify(quiet, null, 2));
    await expect(mergeCi([path.join(dir, 'shard-1'), q], await load('edited'))).rejects.toThrow(/says verdict no-regression but .* 1 inconclusive reason/);
    // a summary that planned nothing: no ci run writes one, and merged it read "nothing compared", exit 0
    const empty = path.join(dir, 'shard-empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(
      path.join(empty, 'summary.json'),
      JSON.stringify({ ...quiet, planned: [], groups: [], verdict: 'no-regression', regression: false }, null, 2),
    );
    await expect(mergeCi([empty], await load('edited'))).rejects.toThrow(/planned no workload/);
  });

  it('refuses a shard summary whose workload names leave the folders: nothing is copied from or to outside them', async () => {
    // summary.json comes with a job's artifacts: a name like ../../x would copy a folder of the
    // merging machine into a place outside the merged output.
    const secret = path.join(dir, 'secret');
    mkdirSync(secret, { recursive: true });
    writeFileSync(path.join(secret, 'key'), 'SECRET\n');
    const crafted = (name: string, planned: string[]) => {
      const d = path.join(dir, `crafted-${name.replace(/\W/g, '_')}`);
      rmSync(d, { recursive: true, force: true });
      cpSync(path.join(dir, 'shard-2'), d, { recursive: true });
      const summary = JSON.parse(readFileSync(path.join(d, 'summary.json'), 'utf8'));
      summary.planned = planned;
      summary.groups[0].name = name;
      writeFileSync(path.join(d, 'summary.json'), JSON.stringify(summary, null, 2));
      return d;
    };
    for (const name of ['../secret', '/tmp', '.', 'a/b']) {
      const shard1 = path.join(dir, 'shard-1-renamed');
      rmSync(shard1, { recursive: true, force: true });
      cpSync(path.join(dir, 'shard-1'), shard1, { recursive: true });
      const s1 = JSON.parse(readFileSync(path.join(shard1, 'summary.json'), 'utf8'));
      s1.planned = ['odirect-race', name, 'truncate-racer'];
      writeFileSync(path.join(shard1, 'summary.json'), JSON.stringify(s1, null, 2));
      await expect(mergeCi([shard1, crafted(name, s1.planned)], await load('escape/deep'))).rejects.toThrow(/cannot name a folder of the ci output/);
      // ../secret would have been copied from beside the shard to beside the output folder
      expect(existsSync(path.join(dir, 'escape', 'secret', 'key'))).toBe(false);
    }
  });

  it('refuses shards written by another kreplay version than the one that merges', async () => {
    const v1 = await runCi(await load('v1-shard-1'), { shard: parseShard('1/2'), version: '1.0.0' });
    expect(v1.kreplay).toBe('1.0.0');
    await runCi(await load('v1-shard-2'), { shard: parseShard('2/2'), version: '1.0.0' });
    const shards = [path.join(dir, 'v1-shard-1'), path.join(dir, 'v1-shard-2')];
    await expect(mergeCi(shards, await load('v1-merged'), { version: '1.0.0' })).resolves.toMatchObject({ kreplay: '1.0.0', verdict: 'regression' });
    await expect(mergeCi(shards, await load('v1-by-v2'), { version: '2.0.0' })).rejects.toThrow(
      /v1-shard-1 was written by kreplay 1\.0\.0; this is kreplay 2\.0\.0/,
    );
    // a shard of a kreplay that did not record its version is refused too
    await expect(mergeCi([shards[0]!, path.join(dir, 'shard-2')], await load('v1-mixed'), { version: '1.0.0' })).rejects.toThrow(
      /shard-2 was written by a kreplay that does not record its version/,
    );
  });

  it('a shard whose diff.kcidb.json is damaged is an input error naming it, not an internal error', async () => {
    const damaged = path.join(dir, 'shard-2-damaged');
    cpSync(path.join(dir, 'shard-2'), damaged, { recursive: true });
    writeFileSync(path.join(damaged, 'read-invalidate', 'diff.kcidb.json'), '{"tests": [');
    await expect(mergeCi([path.join(dir, 'shard-1'), damaged], await load('damaged'))).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/^cannot read the shard's diff\.kcidb\.json/),
    });
    // written again after the rebase: nested thousands deep, JSON.stringify overflowed the stack (exit 70)
    writeFileSync(path.join(damaged, 'read-invalidate', 'diff.kcidb.json'), `{"tests": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    await expect(mergeCi([path.join(dir, 'shard-1'), damaged], await load('damaged-deep'))).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/^the shard's diff\.kcidb\.json nests arrays and objects more than 256 levels deep/),
    });
  });

  it('refuses a shard folder holding a symbolic link: a link to a folder of the merging machine was copied into the merged output', async () => {
    const secret = path.join(dir, 'secret-link-target');
    mkdirSync(secret, { recursive: true });
    writeFileSync(path.join(secret, 'key'), 'SECRET\n');
    const linked = path.join(dir, 'shard-2-linked');
    rmSync(linked, { recursive: true, force: true });
    cpSync(path.join(dir, 'shard-2'), linked, { recursive: true });
    symlinkSync(secret, path.join(linked, 'read-invalidate', 'more'));
    await expect(mergeCi([path.join(dir, 'shard-1'), linked], await load('linked'))).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(
        /^a symbolic link \(to .*secret-link-target\), where a shard's output folder holds only the files and folders kreplay ci wrote/,
      ),
    });
    expect(existsSync(path.join(dir, 'linked', 'read-invalidate', 'more'))).toBe(false);
    // a captures folder that is a link is refused alike
    rmSync(path.join(linked, 'read-invalidate', 'more'));
    mkdirSync(path.join(linked, 'captures', 'base'), { recursive: true });
    symlinkSync(secret, path.join(linked, 'captures', 'base', 'read-invalidate'));
    await expect(mergeCi([path.join(dir, 'shard-1'), linked], await load('linked-2'))).rejects.toThrow(/a symbolic link/);
    expect(existsSync(path.join(dir, 'linked-2', 'captures', 'base', 'read-invalidate', 'key'))).toBe(false);
  });

  it('a run that fails leaves no summary of an earlier run in its folder: ci merge refuses it, and no stale summary.ktap/kcidb says pass', async () => {
    const runsDir = path.join(dir, 'traces-stale');
    cpSync(path.join(dir, 'traces'), runsDir, { recursive: true });
    const cfg = path.join(dir, 'stale.config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        schema: 'kreplay-ci/1',
        base: { traces: ['traces-stale/base'] },
        patched: { traces: ['traces-stale/patched'] },
        output: 'stale',
        formats: ['text', 'json', 'ktap', 'kcidb'],
      }),
    );
    const loaded = async () => {
      const l = await loadCiConfig(cfg);
      l.config.output = path.join(dir, 'stale');
      return l;
    };
    await runCi(await loaded(), { shard: parseShard('2/2') });
    expect(
      readdirSync(path.join(dir, 'stale'))
        .filter((f) => f.startsWith('summary.'))
        .sort(),
    ).toEqual(['summary.json', 'summary.kcidb.json', 'summary.ktap', 'summary.txt']);
    // the next job on the same folder dies in its workload (an unreadable trace): nothing may say how that run went
    writeFileSync(path.join(runsDir, 'patched', 'read-invalidate', 'run-1', 'trace.txt'), 'not a trace\n');
    await expect(runCi(await loaded(), { shard: parseShard('2/2') })).rejects.toThrow(/not a trace/);
    expect(readdirSync(path.join(dir, 'stale')).filter((f) => f.startsWith('summary.'))).toEqual([]);
    await expect(mergeCi([path.join(dir, 'shard-1'), path.join(dir, 'stale')], await loaded())).rejects.toThrow(
      /stale is not the output of kreplay ci: it has no summary\.json/,
    );
  });

  it('a merged output that cannot be written is an environment error (exit 3) naming the path, from the library and the CLI', async () => {
    const shards = [path.join(dir, 'shard-1'), path.join(dir, 'shard-2')];
    // a file where the output folder's parent should be: the folder cannot be made
    writeFileSync(path.join(dir, 'a-file'), '');
    const under = await load('a-file/out');
    await expect(mergeCi(shards, under)).rejects.toMatchObject({
      name: 'EnvironmentError',
      exitCode: 3,
      message: expect.stringMatching(/cannot write into .*a-file\/out: a part of its path is a file/),
    });
    // a folder where summary.json should be written
    mkdirSync(path.join(dir, 'blocked', 'summary.json'), { recursive: true });
    await expect(mergeCi(shards, await load('blocked'))).rejects.toMatchObject({
      name: 'EnvironmentError',
      exitCode: 3,
      message: expect.stringMatching(/cannot write .*blocked\/summary\.json: it is a folder/),
    });
    // the CLI: exit 3 and the message, no stack trace (its merge takes shards of its own version)
    const version = JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8')).version as string;
    const cliShards = [path.join(dir, 'cli-shard-1'), path.join(dir, 'cli-shard-2')];
    await runCi(await load('cli-shard-1'), { shard: parseShard('1/2'), version });
    await runCi(await load('cli-shard-2'), { shard: parseShard('2/2'), version });
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'packages/cli/bin/run.js'), 'ci', 'merge', '--config', config, '--output', path.join(dir, 'a-file', 'out'), ...cliShards],
      { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
    );
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/cannot write into .*a-file\/out: a part of its path is a file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('plans one job per workload group, each a --shard of its config, and packs groups when the matrix limit is smaller', async () => {
    const entry = { file: 'kreplay.config.json', loaded: await load('out') };
    const plan = await planCi([entry], 256);
    expect(plan.jobs.map((j) => [j.shard, j.groups])).toEqual([
      ['1/3', ['odirect-race']],
      ['2/3', ['read-invalidate']],
      ['3/3', ['truncate-racer']],
    ]);
    expect(JSON.parse(planGithub(plan)).include[0]).toEqual({ job: 1, config: 'kreplay.config.json', shard: '1/3', workloads: 'odirect-race' });
    expect(planGitlab(plan)).toContain('        KREPLAY_SHARD: ["1/3", "2/3", "3/3"]');

    const packed = await planCi([entry], 2);
    expect(packed.packed).toBe(true);
    expect(packed.jobs.map((j) => [j.shard, j.groups])).toEqual([
      ['1/2', ['odirect-race', 'truncate-racer']],
      ['2/2', ['read-invalidate']],
    ]);

    // Two configs, the limit between their group counts: each gets shards in proportion, every group in exactly one job.
    const second = { file: 'copy.json', loaded: { ...(await load('out')), file: path.join(dir, 'copy.json') } };
    const four = await planCi([entry, second], 4);
    expect(four.jobs).toHaveLength(4);
    for (const c of ['kreplay.config.json', 'copy.json']) {
      expect(
        four.jobs
          .filter((j) => j.config === c)
          .flatMap((j) => j.groups)
          .sort(),
      ).toEqual(WORKLOADS);
    }
    await expect(planCi([entry, second], 1)).rejects.toThrow(/2 configs need at least 2 jobs; one matrix holds at most 1/);
    await expect(planCi([entry, entry], 10)).rejects.toThrow(/given twice/);
  });
});

describe('ci summary text', () => {
  const group = (name: string, over: Partial<CiGroupResult> = {}): CiGroupResult => ({
    name,
    verdict: 'no-regression',
    regression: false,
    reasons: [],
    inconclusive: [],
    unusableEvents: { base: 0, patched: 0 },
    gaps: { base: 0, patched: 0 },
    findings: { new: 0, fixed: 0, unchanged: 0 },
    files: [],
    ...over,
  });
  const result = (groups: CiGroupResult[], shard?: string): CiResult => ({
    output: 'out',
    base: 'b',
    patched: 'p',
    config: 'c',
    planned: ['a', 'lossy', 'blind'],
    ...(shard ? { shard } : {}),
    groups,
    verdict: 'no-regression',
    regression: false,
  });

  it('never says a bare "no regression" or "ok" for a group whose patched traces have holes or unjudged rules', () => {
    const text = ciSummaryText(result([group('a'), group('lossy', { gaps: { base: 0, patched: 2 } }), group('blind', { unjudged: ['mapped-page-removed'] })]));
    expect(text.split('\n')[0]).toBe(
      'kreplay ci: no regression in what the traces show, but 2 of 3 groups have holes or unjudged rules on the patched side: not a pass (3 groups)',
    );
    expect(text).toMatch(/^ {2}ok {9}a: /m);
    expect(text).toMatch(/^ {2}NOT A PASS lossy: .*\n {6}- no regression in what the traces show, but the patched side's traces have 2 gaps\n/m);
    expect(text).toMatch(/^ {2}NOT A PASS blind: .*\n {6}- no regression in what the traces show, but not judged on the patched side: mapped-page-removed\n/m);
    expect(ciSummaryText(result([group('a')]))).toMatch(/^kreplay ci: no regression \(1 group\)$/m);
    // a patched run left out (its workload failed) could have held the finding the others lack
    expect(ciSummaryText(result([group('crashed', { patchedLeftOut: 1 })]))).toMatch(
      /^ {2}NOT A PASS crashed: .*\n {6}- no regression in what the traces show, but 1 patched run left out \(a failed workload or nothing traced\)\n/m,
    );
  });

  it('a shard with no group compared nothing: it does not say "no regression"', () => {
    expect(ciSummaryText(result([], '3/4')).split('\n')[0]).toBe('kreplay ci: nothing compared (0 groups, shard 3/4 of 3 groups)');
  });
});
