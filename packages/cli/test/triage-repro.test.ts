/**
 * `kreplay triage --repro` on the real Debian 6.1 kernel under QEMU (TCG): a real report
 * (XFS O_DIRECT write vs ptrace fault, 2.6.19.1) and the reproducer written for it are
 * compiled into the capture image, run twice under tracing with the profile chosen from the
 * report's paths, and each trace replayed. 6.1 has the fix, so the count of runs that caught
 * the race is expected to be 0 — the test checks the count matches the replays, not a value.
 *
 * Needs qemu-system-x86_64 and gcc (and network or a cache for the Debian kernel): without
 * them the test is skipped with one summary line; KREPLAY_STRICT_TOOLS=1 makes that a
 * failure, KREPLAY_SKIP_QEMU=1 skips it on purpose.
 */
import { describe, expect, it } from '@jest/globals';
import { accessSync, constants, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => {
    try {
      accessSync(path.join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = ['qemu-system-x86_64', 'gcc'].filter((t) => !onPath(t));
const strict = process.env.KREPLAY_STRICT_TOOLS === '1';
const skipped =
  process.env.KREPLAY_SKIP_QEMU === '1'
    ? 'KREPLAY_SKIP_QEMU=1'
    : missing.length && !strict
      ? `${missing.join(' and ')} not found (install qemu-system-x86 gcc; KREPLAY_STRICT_TOOLS=1 makes this a failure)`
      : null;
if (skipped) console.warn(`kreplay triage --repro under QEMU: skipped — ${skipped}`);

const dir = 'fixtures/reports/lkml-2007-01-06-xfs-odirect-cancel-dirty-page';

(skipped ? describe.skip : describe)('kreplay triage --repro: Debian 6.1 under QEMU TCG', () => {
  it('tools are there', () => {
    expect(missing).toEqual([]);
  });

  it('compiles the reproducer into the image, runs it twice under tracing, replays each run and counts the catches', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'kreplay-triage-repro-')), 'traces');
    const r = await runCli([
      'triage',
      `${dir}/report.txt`,
      '--repro',
      `${dir}/repro.c`,
      '--runs',
      '2',
      '--duration',
      '1s',
      '--accel',
      'tcg',
      '--out',
      out,
      '--json',
    ]);
    if (r.exitCode > 1) {
      throw new Error(
        `kreplay triage --repro failed (exit ${r.exitCode}); QEMU, the Debian kernel or a tool is missing or broken:\n${r.stderr}\n(set KREPLAY_SKIP_QEMU=1 to skip this test where QEMU cannot run)`,
      );
    }
    const j = JSON.parse(r.stdout);
    expect(j.splats[0]).toMatchObject({ rule: 'mapped-page-removed', model: { status: 'schedule' } });
    const repro = j.repro;
    expect(repro).toMatchObject({ rule: 'mapped-page-removed', profile: 'odirect-race', kernel: expect.stringMatching(/^6\.1\./) });
    expect(repro.runs).toHaveLength(2);
    for (const run of repro.runs) {
      expect(existsSync(path.join(run.dir, 'trace.txt.gz'))).toBe(true);
      expect(run.ops).toBeGreaterThan(0);
      expect(run.caught).toBe(run.findings.some((f: { rule: string }) => f.rule === 'mapped-page-removed'));
    }
    expect(repro.caught).toBe(repro.runs.filter((x: { caught: boolean }) => x.caught).length);
    expect(repro.summary).toMatch(repro.caught > 0 ? /^the race was caught in \d of 2 run\(s\) on 6\.1\./ : /^the race was not caught in 2 run\(s\) on 6\.1\./);
    // Exit 1 because the model reaches the rule on 2.6.15, whatever the runs found.
    expect(r.exitCode).toBe(1);
  }, 900_000);
});
