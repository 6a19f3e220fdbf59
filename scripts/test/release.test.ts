/**
 * The release tarballs install without a clone and without a registry: `npm run release:pack`
 * packs every package, `npm install -g` takes the CLI's tarball with the registry pointed at
 * a closed port, an empty cache and --offline, and the installed `kreplay` runs from its
 * install folder with the data it ships (scenarios, probe maps, capture profiles, workloads).
 * Packing and installing take a minute or two, so this runs when KREPLAY_TEST_RELEASE=1
 * (.ci/run sets it) and is skipped otherwise.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = process.env.KREPLAY_TEST_RELEASE === '1';
const version = (JSON.parse(readFileSync(path.join(repo, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;
const libraries = ['core', 'ftrace-parser', 'mm-model', 'explore', 'capture', 'replay', 'diff', 'report'];

/** Files in a tarball. */
const list = (tgz: string): string[] =>
  execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\n')
    .filter(Boolean);

(run ? describe : describe.skip)('release tarballs (set KREPLAY_TEST_RELEASE=1 to pack and install them offline; .ci/run does)', () => {
  const work = run ? mkdtempSync(path.join(tmpdir(), 'kreplay-release-test-')) : '';
  const out = path.join(work, 'release');
  const prefix = path.join(work, 'prefix');
  const kreplay = path.join(prefix, 'bin', 'kreplay');
  const installed = path.join(prefix, 'lib', 'node_modules', 'kreplay');
  // as a user runs it: jest's NODE_ENV=test would put oclif in development mode (it then looks for TypeScript)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_ENV'));
  const cli = (args: string[], cwd: string) => spawnSync(kreplay, args, { cwd, encoding: 'utf8', env: { ...env, FORCE_COLOR: '0' } });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs every package, each with the data it ships', () => {
    execFileSync('npm', ['run', 'release:pack'], { cwd: repo, env: { ...process.env, KREPLAY_RELEASE_DIR: out }, stdio: 'pipe' });
    for (const lib of libraries) expect(existsSync(path.join(out, `kreplay-${lib}-${version}.tgz`))).toBe(true);
    expect(list(path.join(out, `kreplay-replay-${version}.tgz`))).toContain('package/kernel-configs/probes/linux-6.1.yaml');
    const capture = list(path.join(out, `kreplay-capture-${version}.tgz`));
    expect(capture).toContain('package/kernel-configs/capture/odirect-race.yaml');
    expect(capture).toContain('package/c/odirect-race.c');
    const bundle = list(path.join(out, `kreplay-${version}.tgz`));
    expect(bundle).toContain('package/fixtures/scenarios/odirect-vs-fault.yaml');
    expect(bundle).toContain('package/oclif.manifest.json');
    expect(bundle).toContain('package/kernel-configs/kreplay.config');
    for (const dep of ['@kreplay/core', '@kreplay/replay', '@oclif/core', 'zod', 'yaml', 'execa'])
      expect(bundle).toContain(`package/node_modules/${dep}/package.json`);
    // no test, source or build-info file ships
    expect(bundle.filter((f) => /^package\/(?:node_modules\/@kreplay\/[^/]+\/)?(?:src|test)\//.test(f) || f.endsWith('.tsbuildinfo'))).toEqual([]);
  }, 600_000);

  it('installs globally from the CLI tarball alone with no registry, no cache and --offline', () => {
    const cache = path.join(work, 'empty-cache');
    mkdirSync(cache);
    const r = spawnSync(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--offline',
        '--cache',
        cache,
        '--registry',
        'http://127.0.0.1:9/',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        path.join(out, `kreplay-${version}.tgz`),
      ],
      { encoding: 'utf8' },
    );
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(existsSync(kreplay)).toBe(true);
  }, 600_000);

  it('runs kreplay --version and explores a shipped scenario from the installed folder', () => {
    const v = cli(['--version'], work);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^kreplay/${version.replace(/\./g, '\\.')} `));
    const e = cli(['explore', 'fixtures/scenarios/odirect-vs-fault.yaml', '--flavor', 'linux-2.6.23'], installed);
    expect(e.stderr).toBe('');
    expect(e.status).toBe(0);
    expect(e.stdout).toMatch(/^clean: odirect-vs-fault on linux-2\.6\.23: every interleaving explored/);
    const race = cli(['explore', path.join(installed, 'fixtures/scenarios/odirect-vs-fault.yaml')], work);
    expect(race.status).toBe(1);
    expect(race.stdout).toMatch(/^violation: odirect-vs-fault on linux-2\.6\.15/);
  }, 120_000);

  it('replays a trace with the probe maps and finds the capture profiles and workloads it ships', () => {
    const help = cli(['replay', '--help'], work);
    // oclif lays flags out in two columns or stacked, by their descriptions' lengths: read the words
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/with a probe map \(linux-6\.1, linux-6\.12\)/);
    const r = cli(['replay', path.join(repo, 'traces/odirect-race/trace.txt.gz')], work);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('(linux-6.1: meta.json kernel 6.1.0-56-amd64)');
    const capture = path.join(installed, 'node_modules/@kreplay/capture/dist/index.js');
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(capture)}); console.log(m.defaultProfilePath(m.findWorkload('odirect-race'))); console.log(m.C_DIR);`,
      ],
      { encoding: 'utf8', cwd: work },
    );
    const [profile, cDir] = probe.stdout.trim().split('\n');
    expect(profile).toBe(path.join(installed, 'node_modules/@kreplay/capture/kernel-configs/capture/odirect-race.yaml'));
    expect(existsSync(profile!)).toBe(true);
    expect(existsSync(path.join(cDir!, 'odirect-race.c'))).toBe(true);
  }, 120_000);
});
