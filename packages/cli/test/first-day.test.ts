/**
 * What a kernel developer meets on a first day with kreplay: the commands of README.md and the
 * docs' top sections with the shipped traces and fixtures, and the mistakes a new user makes (a
 * missing file, a folder where a file goes). docs/ARCHITECTURE.md, "2026-12-06 (session 32)",
 * lists what was run and found sound.
 */
import { describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

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
  ])('%j: one sentence in the words every command uses, exit 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${message}`);
    expect(r.stderr).toMatch(/^ {2}hint: /m);
    expect(r.stderr).not.toMatch(/E[A-Z]{3,}:|\n\s+at /);
  });

  it("report names the task of a stale-data finding by the workload's check, not as a function `kreplay:`", async () => {
    const r = await runCli(['report', ...pair]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("why: new error stale-data (kr-write in the workload's mismatch marker) on 254:0/c index 4, 6, 8-10, 12 (6 pages)");
    expect(r.stdout).toMatch(/^ {5}tasks: {2}kr-write in the workload's mismatch marker$/m);
    expect(r.stdout).not.toContain('in kreplay:');
  });
});
