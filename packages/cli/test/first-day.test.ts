/**
 * What a kernel developer meets on a first day with kreplay: the commands of README.md and the
 * docs' top sections with the shipped traces and fixtures, and the mistakes a new user makes (a
 * missing file, a folder where a file goes). docs/ARCHITECTURE.md, "2026-12-06 (session 32)",
 * lists what was run and found sound.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';

const pair = ['--base', 'traces/pair-filemap-recheck/base/odirect-race', '--patched', 'traces/pair-filemap-recheck/patched-flags/odirect-race'];

describe('a first day with kreplay', () => {
  // Every command says why an input could not be read in the same words (`no such file`, `it is
  // a folder`), never Node's `ENOENT: no such file or directory, open '…'`.
  it.each([
    [['triage', 'no/such/report.txt'], 'no/such/report.txt: cannot read report: no such file'],
    [['triage', 'fixtures/reports'], 'fixtures/reports: cannot read report: it is a folder'],
    [['merge', 'no/such/shard.json'], 'no/such/shard.json: cannot read shard result: no such file'],
    [['merge', 'fixtures'], 'fixtures: cannot read shard result: it is a folder'],
    [['capture', '--kernel', 'no/such/bzImage'], 'no/such/bzImage: cannot read kernel image: no such file'],
    [['explore', 'fixtures/scenarios/odirect-vs-fault.yaml', '--schedule', 'fixtures'], 'fixtures: cannot read schedule file: it is a folder'],
    [['replay', 'traces'], 'traces: cannot open trace: it is a folder'],
    [['parse', 'no/such/trace.txt'], 'no/such/trace.txt: cannot open trace: no such file'],
    // a required flag by the name the user types, and what it takes (oclif: "Missing required flag source")
    [['kernel', 'build'], 'kreplay kernel build: missing required flag --source'],
    // the path once, not again at the end of the sentence
    [['diff', 'no/such/base', 'no/such/patched'], 'no/such/base: no such file or folder'],
    [['report', '--base', 'fixtures/scenarios', '--patched', 'fixtures/scenarios'], 'fixtures/scenarios: the folder holds no trace'],
  ])('%j: one sentence in the words every command uses, exit 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${message}`);
    expect(r.stderr).toMatch(/^ {2}hint: /m);
    expect(r.stderr).not.toMatch(/E[A-Z]{3,}:|\n\s+at /);
  });

  it('a scenario or config that leaves out a required key says it is missing, not zod\'s "expected string, received undefined"', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-first-day-'));
    const scenario = readFileSync(path.join(repoRoot, 'fixtures/scenarios/fault-vs-fault.yaml'), 'utf8').replace('  - name: data\n    dev:', '  - dev:');
    writeFileSync(path.join(dir, 'no-name.yaml'), scenario);
    const r = await runCli(['explore', path.join(dir, 'no-name.yaml'), '--flavor', 'linux-6.1']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${path.join(dir, 'no-name.yaml')}:8: invalid scenario: files.0.name: missing (expected string)`);
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ schema: 'kreplay-ci/1', base: { traces: ['a'] } }));
    const c = await runCli(['ci', '--config', path.join(dir, 'c.json')]);
    expect(c.exitCode).toBe(2);
    expect(c.stderr.split('\n')[0]).toBe(`error: ${path.join(dir, 'c.json')}:1: invalid config: patched: missing (expected object)`);
  });

  it("--probes given a capture's meta.json says what it is and how to make a probe map of it", async () => {
    const r = await runCli(['replay', 'traces/odirect-race/trace.txt.gz', '--probes', 'traces/odirect-race/meta.json']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      "error: traces/odirect-race/meta.json:2: this is a capture's meta.json (schema kreplay-capture-meta/1), not a probe map\n" +
        '  hint: its "probes" object is one: jq .probes traces/odirect-race/meta.json > map.json, then --probes map.json (replay reads the meta.json beside a trace without --probes)\n',
    );
  });

  it('an output a folder takes no files in (/proc) is exit 3 without telling the user to create the folder that is there', async () => {
    if (!existsSync('/proc/self')) return; // Linux only
    const r = await runCli(['replay', 'traces/odirect-race/trace.txt.gz', '--out', '/proc/kreplay-first-day.txt']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('error: cannot write /proc/kreplay-first-day.txt: /proc takes no new files\n  hint: choose another path\n');
  });

  it("report names the task of a stale-data finding by the workload's check, not as a function `kreplay:`", async () => {
    const r = await runCli(['report', ...pair]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("why: new error stale-data (kr-write in the workload's mismatch marker) on 254:0/c index 4, 6, 8-10, 12 (6 pages)");
    expect(r.stdout).toMatch(/^ {5}tasks: {2}kr-write in the workload's mismatch marker$/m);
    expect(r.stdout).not.toContain('in kreplay:');
  });

  it('parse --stats says which trace clock the file names, or that it names none', async () => {
    const dat = await runCli(['parse', 'fixtures/dat/mixed-v7-zstd.dat', '--stats']);
    expect(dat.exitCode).toBe(0);
    expect(dat.stdout.split('\n')[1]).toBe('trace clock: local');
    const perf = await runCli(['parse', '-', '--stats'], {
      input: '# ========\n# clockid: monotonic (1)\n# ========\n#\n     kr-fault   165 [001]    12.000001: probe:filemap_fault: (ffffffff8124e0b0)\n',
    });
    expect(perf.exitCode).toBe(0);
    expect(perf.stdout).toMatch(/^trace clock: monotonic$/m);
    const text = await runCli(['parse', 'traces/odirect-race/trace.txt.gz', '--stats']);
    expect(text.stdout.split('\n')[2]).toMatch(/^trace clock: not named in the file \(tracefs, trace-cmd and perf default to one per CPU; /);
  });

  it("every repository file a command's --help examples read exists", () => {
    // the built manifest (npm run build) holds what --help prints
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'packages/cli/oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { examples?: Array<string | { command: string }> }>;
    };
    const tops = new Set(readdirSync(repoRoot).filter((n) => !['out', 'build', 'node_modules', 'release'].includes(n)));
    const named: string[] = [];
    for (const [id, c] of Object.entries(manifest.commands)) {
      for (const ex of c.examples ?? []) {
        const words = (typeof ex === 'string' ? ex : ex.command).split(/\s+/);
        words.forEach((w, i) => {
          // what an example writes (--out traces/patched/...) need not exist
          if (/^--(out|html|perfetto|trace-out|perfetto-out|scenario-out|litmus-out|output)$/.test(words[i - 1] ?? '')) return;
          const p = w.replace(/^["']|["';,)]$/g, '');
          if (p.includes('/') && !/[<>*$]/.test(p) && tops.has(p.split('/')[0]!))
            named.push(`${id}: ${p}${existsSync(path.join(repoRoot, p)) ? '' : ' (missing)'}`);
        });
      }
    }
    expect(named.length).toBeGreaterThan(15);
    expect(named.filter((n) => n.endsWith('(missing)'))).toEqual([]);
  });
});
