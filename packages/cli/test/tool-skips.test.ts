/**
 * Tests that need a system tool skip on a machine without it, with ONE summary of what was
 * skipped and what installs it, and fail under KREPLAY_STRICT_TOOLS=1 (.ci/run). A nested
 * jest runs test-support/fixtures/needs-tool.fixture.ts, whose group needs a tool no machine has.
 */
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import path from 'node:path';
import { repoRoot } from './run-cli.js';
import { skipSummary } from '../../../test-support/skip-reporter.js';

async function nestedJest(env: Record<string, string>): Promise<{ exitCode: number; stderr: string }> {
  const r = await execa(
    'node',
    [
      '--experimental-vm-modules',
      path.join(repoRoot, 'node_modules/jest/bin/jest.js'),
      '--roots',
      '<rootDir>/test-support/fixtures',
      '--testMatch',
      '**/*.fixture.ts',
      '--ci',
    ],
    { cwd: repoRoot, reject: false, env: { ...env, KREPLAY_SKIP_LOG: '', FORCE_COLOR: '0' } },
  );
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
}

describe('tests that need a missing system tool', () => {
  it('are skipped with one summary naming the tool and its package, and the run passes', async () => {
    const r = await nestedJest({ KREPLAY_STRICT_TOOLS: '0' });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/1 skipped, 1 passed/);
    const summary = r.stderr.slice(r.stderr.indexOf('kreplay: '));
    expect(summary).toMatch(
      /^kreplay: 1 group\(s\) of tests SKIPPED \(system tools missing here, or skipped on request\):\n {2}kreplay-test-no-such-tool not installed \(kreplay-test-pkg\):\n {4}- a group that needs a missing tool \[test-support\/fixtures\/needs-tool\.fixture\.ts\]\n {2}install them: apt-get install kreplay-test-pkg/,
    );
    expect(r.stderr.match(/SKIPPED/g)).toHaveLength(1);
  }, 120_000);

  it('fail under KREPLAY_STRICT_TOOLS=1, naming the tool and the install line', async () => {
    const r = await nestedJest({ KREPLAY_STRICT_TOOLS: '1' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'kreplay-test-no-such-tool not installed, and KREPLAY_STRICT_TOOLS=1 makes a missing tool a failure: apt-get install kreplay-test-pkg',
    );
    expect(r.stderr).toMatch(/1 failed, 1 passed/);
    expect(r.stderr).not.toContain('SKIPPED');
  }, 120_000);

  it('one summary groups the skips by reason and lists every package once', () => {
    const text = skipSummary([
      JSON.stringify({ title: 'b', file: 'x.test.ts', missing: [{ name: 'gcc', apt: 'gcc libc6-dev' }] }),
      JSON.stringify({ title: 'a', file: 'y.test.ts', missing: [{ name: 'gcc', apt: 'gcc libc6-dev' }] }),
      JSON.stringify({ title: 'q', file: 'z.test.ts', missing: [], optedOut: 'KREPLAY_SKIP_QEMU=1' }),
      '',
    ]);
    expect(text).toBe(
      [
        'kreplay: 3 group(s) of tests SKIPPED (system tools missing here, or skipped on request):',
        '  gcc not installed (gcc libc6-dev):',
        '    - a [y.test.ts]',
        '    - b [x.test.ts]',
        '  skipped on request (KREPLAY_SKIP_QEMU=1):',
        '    - q [z.test.ts]',
        '  install them: apt-get install gcc libc6-dev   (bash .ci/run installs everything)',
        '  KREPLAY_STRICT_TOOLS=1 turns a missing tool into a failure (.ci/run runs strict).',
        '',
      ].join('\n'),
    );
  });

  it('an optional live comparison is skipped, not failed, under KREPLAY_STRICT_TOOLS=1, and the summary says it is optional', () => {
    const text = skipSummary([
      JSON.stringify({ title: 'beside herd7', file: 'h.test.ts', missing: [{ name: 'herd7', apt: 'build it (docs)', optional: 'optional live comparison' }] }),
    ]);
    expect(text).toBe(
      [
        'kreplay: 1 group(s) of tests SKIPPED (system tools missing here, or skipped on request):',
        '  herd7 not installed (optional live comparison; to run it: build it (docs)):',
        '    - beside herd7 [h.test.ts]',
        '  KREPLAY_STRICT_TOOLS=1 turns a missing tool into a failure (.ci/run runs strict).',
        '  An optional live comparison stays skipped under KREPLAY_STRICT_TOOLS=1: its committed goldens ran.',
        '',
      ].join('\n'),
    );
  });
});
