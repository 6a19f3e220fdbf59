/**
 * The kernel-CI side of the CLI end to end: `--format ktap|kcidb` on replay, diff and
 * explore (exit codes unchanged), and a ci run split by `ci plan` into jobs that each run
 * `ci --shard i/n` as their own process, gathered by `ci merge` into the unsharded output.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';

describe('--format ktap and kcidb', () => {
  it('replay: a failing rule is not ok and the exit code stays 1', async () => {
    const r = await runCli(['replay', 'fixtures/replay/mapped-page-removed/trace.txt', '--format', 'ktap']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^KTAP version 1\n/);
    expect(r.stdout).toMatch(/^ {4}not ok 1 mapped-page-removed$/m);
  });

  it('replay kcidb: log_url under --artifacts-url, ids under --kcidb-origin', async () => {
    const r = await runCli([
      'replay',
      'fixtures/replay/mapped-page-removed/trace.txt',
      '--format',
      'kcidb',
      '--kcidb-origin',
      'mylab',
      '--artifacts-url',
      'https://ci.example.org/a',
    ]);
    const j = JSON.parse(r.stdout);
    expect(j.version).toEqual({ major: 5, minor: 3 });
    expect(j.tests[0]).toMatchObject({ origin: 'mylab', status: 'FAIL', log_url: 'https://ci.example.org/a/fixtures/replay/mapped-page-removed/trace.txt' });
    expect(j.tests[0].id).toMatch(/^mylab:/);
    const bad = await runCli(['replay', 'fixtures/replay/mapped-page-removed/trace.txt', '--format', 'kcidb', '--kcidb-origin', 'My Lab']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('is not a CI system name');
  });

  it("diff: the test is named after the runs' workload", async () => {
    const r = await runCli(['diff', 'fixtures/diff/clean-1', 'fixtures/diff/race', '--format', 'ktap']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^not ok 1 odirect-race$/m);
  });

  it('explore: violation is not ok (exit 1), incomplete is a SKIP (exit 2 when a cap stopped it: no verdict)', async () => {
    const v = await runCli(['explore', 'fixtures/scenarios/odirect-vs-fault.yaml', '--flavor', 'linux-2.6.15', '--format', 'ktap']);
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toMatch(/^not ok 1 linux-2_6_15\.odirect-vs-fault$/m);
    const i = await runCli(['explore', 'fixtures/scenarios/odirect-vs-fault.yaml', '--flavor', 'linux-2.6.15', '--max-states', '50', '--format', 'kcidb']);
    expect(i.exitCode).toBe(2);
    expect(JSON.parse(i.stdout).tests[0].status).toBe('DONE');
  });
});

describe('KCIDB ids of explorer runs', () => {
  it('one id per test run: the shards of one search, two seeds, and a capped run are not one test run', async () => {
    const sc = 'fixtures/scenarios/odirect-vs-fault.yaml';
    const test = async (...args: string[]) =>
      JSON.parse((await runCli(['explore', sc, '--format', 'kcidb', '--workers', '1', ...args])).stdout).tests[0] as {
        id: string;
        status: string;
        path: string;
      };
    // linux-2.6.15: the race; in 3 shards each finds it (FAIL) — one id, and KCIDB would keep one of them
    const shards = [await test('--shard', '1/3'), await test('--shard', '2/3'), await test('--shard', '3/3')];
    expect(new Set(shards.map((t) => t.path)).size).toBe(1);
    expect(new Set(shards.map((t) => t.id)).size).toBe(3);
    const [whole, capped] = [await test(), await test('--max-states', '20')];
    expect([whole.status, capped.status]).toEqual(['FAIL', 'DONE']);
    expect(capped.id).not.toBe(whole.id);
    expect((await test('--random', '--seed', '1', '--runs', '2')).id).not.toBe((await test('--random', '--seed', '2', '--runs', '2')).id);
    expect((await test()).id).toBe(whole.id); // the same inputs, the same id
  }, 60_000);
});

describe('kreplay ci plan, ci --shard, ci merge', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-ci-fleet-'));
    // Two workloads per side, named by their runs' meta.json.
    for (const [side, w, fx] of [
      ['base', 'odirect-race', 'clean-1'],
      ['base', 'truncate-racer', 'clean-2'],
      ['patched', 'odirect-race', 'race'],
      ['patched', 'truncate-racer', 'clean-1'],
    ] as const) {
      const to = path.join(dir, 'traces', side, w);
      cpSync(path.join(repoRoot, 'fixtures/diff', fx), to, { recursive: true });
      const meta = JSON.parse(readFileSync(path.join(to, 'meta.json'), 'utf8'));
      writeFileSync(
        path.join(to, 'meta.json'),
        JSON.stringify({ ...meta, workload: { ...(typeof meta.workload === 'object' ? meta.workload : {}), name: w } }),
      );
    }
    writeFileSync(
      path.join(dir, 'kreplay.config.json'),
      JSON.stringify({
        schema: 'kreplay-ci/1',
        base: { traces: ['traces/base'] },
        patched: { traces: ['traces/patched'] },
        output: 'kreplay-ci',
        formats: ['text', 'json', 'html', 'ktap', 'kcidb'],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the planned jobs as separate processes and merges them into the unsharded folder', async () => {
    const opts = { cwd: dir, env: { CI: 'true' } };
    const plan = await runCli(['ci', 'plan', 'kreplay.config.json', '--format', 'github'], opts);
    expect(plan.exitCode).toBe(0);
    const jobs = JSON.parse(plan.stdout).include as Array<{ config: string; shard: string; workloads: string }>;
    expect(jobs.map((j) => `${j.shard} ${j.workloads}`)).toEqual(['1/2 odirect-race', '2/2 truncate-racer']);

    const whole = await runCli(['ci', '--config', 'kreplay.config.json'], opts);
    expect(whole.exitCode).toBe(1);
    renameSync(path.join(dir, 'kreplay-ci'), path.join(dir, 'unsharded'));
    for (const j of jobs) {
      // each job its own process, as on its own runner; the artifacts land in one folder per job
      const r = await runCli(['ci', '--config', j.config, '--shard', j.shard], opts);
      expect(r.exitCode).toBe(j.workloads === 'odirect-race' ? 1 : 0);
      renameSync(path.join(dir, 'kreplay-ci'), path.join(dir, `job-${j.shard.replace('/', '-of-')}`));
    }
    const merged = await runCli(['ci', 'merge', '--config', 'kreplay.config.json', 'job-1-of-2', 'job-2-of-2'], opts);
    expect(merged.exitCode).toBe(1);
    expect(merged.stdout).toBe(whole.stdout);
    const files = (d: string) => readdirSync(path.join(dir, d), { recursive: true, encoding: 'utf8' }).sort();
    expect(files('kreplay-ci')).toEqual(files('unsharded'));
    for (const f of files('unsharded').filter((x) => x.includes('.'))) {
      expect({ f, same: readFileSync(path.join(dir, 'kreplay-ci', f)).equals(readFileSync(path.join(dir, 'unsharded', f))) }).toEqual({ f, same: true });
    }
    const ktap = readFileSync(path.join(dir, 'kreplay-ci/summary.ktap'), 'utf8');
    expect(ktap).toContain('not ok 1 odirect-race\n');
    expect(ktap).toContain('ok 2 truncate-racer\n');

    const partial = await runCli(['ci', 'merge', '--config', 'kreplay.config.json', '--output', 'partial', 'job-1-of-2'], opts);
    expect(partial.exitCode).toBe(2);
    expect(partial.stderr).toContain('missing: truncate-racer');
  }, 120_000);

  it('ci merge exits as the unsharded run: 2 when a workload is inconclusive (its workload failed) and none regressed', async () => {
    const opts = { cwd: dir, env: { CI: 'true' } };
    for (const [side, fx, failed] of [
      ['base', 'clean-1', false],
      ['patched', 'clean-2', true],
    ] as const) {
      const to = path.join(dir, 'traces-failed', side, 'read-invalidate');
      cpSync(path.join(repoRoot, 'fixtures/diff', fx), to, { recursive: true });
      const meta = JSON.parse(readFileSync(path.join(to, 'meta.json'), 'utf8'));
      writeFileSync(
        path.join(to, 'meta.json'),
        JSON.stringify({
          ...meta,
          workload: { ...(typeof meta.workload === 'object' ? meta.workload : {}), name: 'read-invalidate', ...(failed ? { exitCode: 1 } : {}) },
        }),
      );
    }
    writeFileSync(
      path.join(dir, 'failed.config.json'),
      JSON.stringify({
        schema: 'kreplay-ci/1',
        base: { traces: ['traces/base/truncate-racer', 'traces-failed/base'] },
        patched: { traces: ['traces/patched/truncate-racer', 'traces-failed/patched'] },
        output: 'failed',
        formats: ['text', 'json', 'ktap'],
      }),
    );
    const whole = await runCli(['ci', '--config', 'failed.config.json'], opts);
    expect(whole.exitCode).toBe(2);
    expect(whole.stdout).toMatch(/INCONCLUSIVE read-invalidate/);
    for (const shard of ['1/2', '2/2']) await runCli(['ci', '--config', 'failed.config.json', '--shard', shard, '--output', `failed-${shard[0]}`], opts);
    const merged = await runCli(['ci', 'merge', '--config', 'failed.config.json', '--output', 'failed-merged', 'failed-1', 'failed-2'], opts);
    expect(merged.stdout).toBe(whole.stdout.replace('reports in failed/', 'reports in failed-merged/'));
    expect(merged.exitCode).toBe(2);
  }, 120_000);

  it("ci merge refuses a shard summary naming reports that are not its workload's: they became summary.kcidb.json's log_url (exit 2)", async () => {
    const opts = { cwd: dir, env: { CI: 'true' } };
    writeFileSync(
      path.join(dir, 'urls.config.json'),
      JSON.stringify({
        schema: 'kreplay-ci/1',
        base: { traces: ['traces/base'] },
        patched: { traces: ['traces/patched'] },
        output: 'urls',
        formats: ['text', 'json', 'kcidb'],
        kcidb: { artifactsUrl: 'https://ci.example.org/job/7/artifacts/' },
      }),
    );
    for (const shard of ['1/2', '2/2'])
      expect((await runCli(['ci', '--config', 'urls.config.json', '--shard', shard, '--output', `urls-${shard[0]}`], opts)).exitCode).toBeLessThan(2);
    const logUrls = (d: string) =>
      (JSON.parse(readFileSync(path.join(dir, d, 'summary.kcidb.json'), 'utf8')).tests as Array<{ log_url?: string }>).flatMap((t) => t.log_url ?? []);
    // the merged folder's summaries replace a link found there, as ci's own do
    const victim = path.join(dir, 'summary-victim.txt');
    writeFileSync(victim, 'HOST FILE\n');
    mkdirSync(path.join(dir, 'urls-merged'));
    for (const f of ['summary.json', 'summary.txt', 'summary.kcidb.json']) symlinkSync(victim, path.join(dir, 'urls-merged', f));
    const good = await runCli(['ci', 'merge', '--config', 'urls.config.json', '--output', 'urls-merged', 'urls-1', 'urls-2'], opts);
    expect(good.exitCode).toBe(1);
    expect(readFileSync(victim, 'utf8')).toBe('HOST FILE\n');
    expect(logUrls('urls-merged').every((u) => u.startsWith('https://ci.example.org/job/7/artifacts/'))).toBe(true);
    const summary = JSON.parse(readFileSync(path.join(dir, 'urls-1', 'summary.json'), 'utf8'));
    expect(summary.groups[0].files[0]).toBe('odirect-race/diff.json');
    for (const [i, crafted] of [
      '//evil.example/odirect-race', // absolute to path: a file: URL file:///evil.example/odirect-race
      '../../../secrets/diff.txt', // log_url https://ci.example.org/secrets/diff.txt, above the artifacts folder
      '/etc/passwd', // a file: URL of the merging machine
      'odirect-race/../../x',
      'truncate-racer/diff.json', // another workload's report
      'odirect-race/notes.txt', // not a report kreplay ci writes
      'odirect-race/diff.json\nok 1 forged',
      'odirect-race/diff.sarif', // a report name, but not in the shard's folder (formats had no sarif)
    ].entries()) {
      const shard = `urls-crafted-${i}`;
      rmSync(path.join(dir, shard), { recursive: true, force: true });
      cpSync(path.join(dir, 'urls-1'), path.join(dir, shard), { recursive: true });
      writeFileSync(
        path.join(dir, shard, 'summary.json'),
        JSON.stringify(
          { ...summary, groups: [{ ...summary.groups[0], files: [crafted, ...summary.groups[0].files.slice(1)] }, ...summary.groups.slice(1)] },
          null,
          2,
        ),
      );
      const out = `urls-crafted-out-${i}`;
      const r = await runCli(['ci', 'merge', '--config', 'urls.config.json', '--output', out, shard, 'urls-2'], opts);
      expect({ crafted, exit: r.exitCode }).toEqual({ crafted, exit: 2 });
      expect(r.stderr).toMatch(
        i === 7
          ? /lists odirect-race\/diff\.sarif in its summary\.json but has no such file/
          : /lists a report .* that is not one kreplay ci writes in its folder/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(path.join(dir, out, 'summary.kcidb.json'))).toBe(false);
    }
  }, 120_000);

  it('ci writes no report through a symbolic link in its output folder: the link is replaced, its target untouched', async () => {
    const opts = { cwd: dir, env: { CI: 'true' } };
    writeFileSync(
      path.join(dir, 'links.config.json'),
      JSON.stringify({
        schema: 'kreplay-ci/1',
        base: { traces: ['traces/base'] },
        patched: { traces: ['traces/patched'] },
        output: 'links-out',
        formats: ['text', 'json', 'kcidb'],
      }),
    );
    // a symbolic link where a workload's folder or report goes (an output folder reused, an
    // artifact unpacked into it) is replaced: the reports are never written onto its target
    const victim = path.join(dir, 'victim.txt');
    const hostDir = path.join(dir, 'victim-dir');
    writeFileSync(victim, 'HOST FILE\n');
    mkdirSync(path.join(dir, 'links-out', 'odirect-race'), { recursive: true });
    mkdirSync(hostDir);
    for (const f of ['diff.txt', 'diff.json', 'diff.kcidb.json']) symlinkSync(victim, path.join(dir, 'links-out', 'odirect-race', f));
    symlinkSync(hostDir, path.join(dir, 'links-out', 'truncate-racer'));
    expect((await runCli(['ci', '--config', 'links.config.json'], opts)).exitCode).toBe(1);
    expect({ victim: readFileSync(victim, 'utf8'), hostDir: readdirSync(hostDir) }).toEqual({ victim: 'HOST FILE\n', hostDir: [] });
    expect(lstatSync(path.join(dir, 'links-out', 'truncate-racer')).isDirectory()).toBe(true);
    expect(lstatSync(path.join(dir, 'links-out', 'odirect-race', 'diff.txt')).isFile()).toBe(true);
  }, 120_000);
});
