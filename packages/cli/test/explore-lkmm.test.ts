/**
 * kreplay explore --memory-model lkmm end to end: the memory-model section after the SC
 * verdict, the derived tests written by --litmus-out and read back by kreplay litmus with
 * the same verdict, --json, and the usage error for --litmus-out without lkmm.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';

const scenario = 'fixtures/scenarios/fault-vs-fault.yaml';
const flavor = ['--flavor', 'linux-2.6.15-seqschedlock'];

describe('kreplay explore --memory-model lkmm', () => {
  it('judges the derived tests under the LKMM and SC, writes them, and kreplay litmus reads them back with the same verdict', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-lkmm-'));
    const r = await runCli(['explore', scenario, ...flavor, '--memory-model', 'lkmm', '--litmus-out', dir]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('memory model: Linux 6.12.117 tools/memory-model (linux-6.12) (and SC, for comparison), on litmus tests derived from the scenario');
    expect(r.stdout).toContain('  kreplay-fault-vs-fault-fault0-fault1-first: forbidden under the LKMM (LKMM Never 0 2, SC Never 0 2)');
    expect(r.stdout).toContain('  not derived: fault0 + fault1 (after): the marked accesses do not conflict both ways, so every outcome is a serial one');
    expect(r.stdout).toMatch(/lkmm: no LKMM-only outcome among 1 derived test\(s\) — not a proof/);
    expect(r.stderr).toContain(`wrote 1 litmus test(s) to ${dir}`);
    expect(readdirSync(dir)).toEqual(['kreplay-fault-vs-fault-fault0-fault1-first.litmus']);
    const back = await runCli(['litmus', dir]);
    expect(back.exitCode).toBe(0);
    expect(back.stdout).toContain('Observation kreplay-fault-vs-fault-fault0-fault1-first Never 0 2');
  }, 120_000);

  it('--json carries the tests, both models\' verdicts and what was not derived', async () => {
    const r = await runCli(['explore', scenario, ...flavor, '--memory-model', 'lkmm', '--json']);
    const j = JSON.parse(r.stdout) as { verdict: string; lkmm: { tests: Array<{ name: string; verdict: string; lkmm: { observation: string }; sc: { observation: string } }>; notDerived: string[] } };
    expect(j.verdict).toBe('clean');
    expect(j.lkmm.tests.map((t) => [t.name, t.verdict, t.lkmm.observation, t.sc.observation])).toEqual([
      ['kreplay-fault-vs-fault-fault0-fault1-first', 'neither', 'Never', 'Never'],
    ]);
    expect(j.lkmm.notDerived).toHaveLength(1);
  }, 120_000);

  it('sc (the default) prints no memory-model section; --litmus-out without lkmm is a usage error', async () => {
    const sc = await runCli(['explore', scenario, ...flavor]);
    expect(sc.stdout).not.toContain('memory model:');
    const bad = await runCli(['explore', scenario, '--litmus-out', '/tmp/x']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--litmus-out writes the litmus tests --memory-model lkmm derives');
  }, 120_000);
});
