import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';

describe('kreplay ci', () => {
  let dir: string;
  const config = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof body === 'string' ? body : JSON.stringify({ schema: 'kreplay-ci/1', ...(body as object) }, null, 2));
    return file;
  };
  const fx = (name: string) => path.join(repoRoot, 'fixtures/diff', name);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kreplay-ci-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replays, diffs and writes every report into one folder; exit 1 on a regression', async () => {
    const file = config('regress.json', {
      base: { name: 'clean', traces: [fx('clean-1'), fx('clean-2')] },
      patched: { name: 'racy', traces: [fx('race'), fx('race-2')] },
      thresholds: { maxRegression: { 'workload.mismatches': 0 } },
      output: 'out-regress',
      formats: ['text', 'json', 'junit', 'sarif', 'github', 'html', 'perfetto'],
    });
    const r = await runCli(['ci', '--config', file], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(1);
    // The fixtures' meta.json name their workload: that is the group.
    expect(r.stdout).toContain('REGRESSION odirect-race: 2 new (2 of them on too few runs to tell from chance), 0 fixed, 0 unchanged');
    expect(r.stdout).toContain('workload.mismatches 0 → 3');
    // Plain progress lines in CI, one per step.
    expect(r.stderr).toMatch(/^\[kreplay ci +[\d.]+s\] replay odirect-race: /m);
    expect(r.stderr).not.toContain('\x1b[K');
    const out = path.join(dir, 'out-regress'); // relative to the config file
    expect(readdirSync(path.join(out, 'odirect-race')).sort()).toEqual([
      'diff.github.txt',
      'diff.json',
      'diff.junit.xml',
      'diff.sarif',
      'diff.txt',
      'perfetto-base-1.json',
      'perfetto-base-2.json',
      'perfetto-patched-1.json',
      'perfetto-patched-2.json',
      'report.html',
    ]);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ regression: true, groups: [{ name: 'odirect-race', findings: { new: 2, fixed: 0, unchanged: 0 } }] });
    const d = JSON.parse(readFileSync(path.join(out, 'odirect-race/diff.json'), 'utf8'));
    expect(d.base.runs).toHaveLength(2);
    expect(readFileSync(path.join(out, 'odirect-race/report.html'), 'utf8')).toContain('kreplay ci: clean vs racy (odirect-race)');
  });

  it('exits 0 when the patched runs match the base runs', async () => {
    const file = config('same.json', { base: { traces: [fx('race')] }, patched: { traces: [fx('race-2')] }, output: 'out-same', formats: ['json'] });
    const r = await runCli(['ci', '--config', file], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(0);
    expect(existsSync(path.join(dir, 'out-same/odirect-race/diff.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'out-same/odirect-race/report.html'))).toBe(false);
  });

  it('groups traces by the workload their meta.json names, and says when a side lacks one', async () => {
    const file = config('mixed.json', {
      base: { traces: [fx('clean-1'), path.join(repoRoot, 'traces/truncate-racer')] },
      patched: { traces: [fx('race')] },
      output: 'out-mixed',
      formats: ['json'],
    });
    const r = await runCli(['ci', '--config', file], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('patched.traces has no run of workload truncate-racer');
    // Checked before any work: no group was written.
    expect(existsSync(path.join(dir, 'out-mixed/odirect-race'))).toBe(false);
  });

  it('rejects a bad config with file:line and exit 2', async () => {
    const both = config(
      'both.json',
      '{\n  "schema": "kreplay-ci/1",\n  "base": { "traces": ["x"] },\n  "patched": { "kernel": "debian", "traces": ["y"] }\n}\n',
    );
    const r = await runCli(['ci', '--config', both]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${both}:4: invalid config: patched: give either "kernel"`);
    const typo = config('typo.json', '{\n  "schema": "kreplay-ci/1",\n  "base": { "traces": ["x"] },\n  "patched": { "traces": ["y"] },\n  "runz": 3\n}\n');
    const t = await runCli(['ci', '--config', typo]);
    expect(t.exitCode).toBe(2);
    expect(t.stderr).toMatch(/typo\.json:\d+: invalid config: runz: Unrecognized key/);
    const metric = config('metric.json', { base: { traces: ['x'] }, patched: { traces: ['y'] }, thresholds: { maxRegression: { 'fault.p42': 1 } } });
    expect((await runCli(['ci', '--config', metric])).stderr).toContain('unknown metric "fault.p42"');
    expect((await runCli(['ci', '--config', path.join(dir, 'missing.json')])).exitCode).toBe(2);
  }, 180_000); // four CLI runs: slow on a loaded two-core machine

  it('says which kernel it cannot read, at its file:line, before capturing anything (exit 2)', async () => {
    // The base side captures from Debian's kernel: a check that only ran at the patched side's
    // turn would fail after a whole base capture. Nothing may be captured or written.
    const file = config('kernel.json', {
      base: { kernel: 'debian' },
      patched: { kernel: 'nope/bzImage' },
      capture: { workloads: ['odirect-race'], duration: '1s' },
      output: 'out-k',
    });
    const r = await runCli(['ci', '--config', file], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${file}:`);
    expect(r.stderr).toMatch(/kernel\.json:\d+: invalid config: patched\.kernel: .*nope\/bzImage/);
    expect(r.stderr).not.toMatch(/capture base|booting/);
    expect(existsSync(path.join(dir, 'out-k'))).toBe(false);
  });

  it('refuses a config that does not say which kreplay it was written for, and an unknown workload, at file:line', async () => {
    const unpinned = path.join(dir, 'unpinned.json');
    writeFileSync(unpinned, '{\n  "base": { "traces": ["x"] },\n  "patched": { "traces": ["y"] }\n}\n');
    const r = await runCli(['ci', '--config', unpinned]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `${unpinned}:1: invalid config: schema: the config must say which kreplay config format it was written for: "schema": "kreplay-ci/1"`,
    );
    const wl = config('workload.json', {
      base: { kernel: 'debian' },
      patched: { kernel: 'debian' },
      capture: { workloads: ['odirect-race', '../../escape'] },
      output: 'out-wl',
    });
    const w = await runCli(['ci', '--config', wl]);
    expect(w.exitCode).toBe(2);
    expect(w.stderr).toMatch(/workload\.json:\d+: invalid config: capture\.workloads\.1: workload name "\.\.\/\.\.\/escape" cannot name a folder/);
  });

  it('never writes outside its output folder, whatever workload name a meta.json holds', async () => {
    // A trace whose meta.json names its workload ../../x (hand-edited, or written by a hostile guest).
    const evil = path.join(dir, 'evil', 'run');
    mkdirSync(evil, { recursive: true });
    copyFileSync(path.join(fx('race'), 'trace.txt'), path.join(evil, 'trace.txt'));
    const meta = JSON.parse(readFileSync(path.join(fx('race'), 'meta.json'), 'utf8'));
    meta.workload.name = '../../escaped';
    writeFileSync(path.join(evil, 'meta.json'), JSON.stringify(meta));
    const file = config('evil.json', { base: { traces: [fx('race')] }, patched: { traces: [evil] }, output: 'out/evil', formats: ['json'] });
    const r = await runCli(['ci', '--config', file], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('workload name "../../escaped" cannot name a folder of the ci output');
    expect(existsSync(path.join(dir, 'escaped'))).toBe(false);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('an output folder that cannot be made is an environment error (exit 3), not a regression', async () => {
    writeFileSync(path.join(dir, 'a-file'), '');
    const file = config('blocked.json', { base: { traces: [fx('race')] }, patched: { traces: [fx('race-2')] }, output: 'a-file/out', formats: ['json'] });
    const r = await runCli(['ci', '--config', file], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/^error: cannot write .*a-file\/out/m);
    expect(r.stderr).toContain('hint: ');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
