/**
 * Random command lines: real commands with flags known and unknown, values valid and
 * hostile (missing files, folders, devices, `../`, empty, control and right-to-left
 * characters, a file that is not a trace), and output paths that cannot be written. Whatever
 * comes in, the exit code is one of the documented ones (0, 1, 2, 3: docs/exit-codes.md;
 * never 70, never a signal) and nothing prints a stack. Seeded (KREPLAY_PROP_SEED, as
 * jest.setup.js configures fast-check): a failure names the argv that caused it.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
mkdirSync(path.join(tmp, 'folder'), { recursive: true });
writeFileSync(path.join(tmp, 'config.json'), '{ "schema": "kreplay-ci/1", "base": { "traces": ["x"] }, "patched": 3 }\n');
writeFileSync(path.join(tmp, 'not-a-trace.txt'), 'root:x:0:0:root:/root:/bin/bash\n\u202Eevil\u0000\n');

const fx = (p: string) => path.join(repoRoot, p);
const INPUTS = [
  fx('fixtures/diff/race'),
  fx('fixtures/diff/clean-1'),
  fx('fixtures/diff/race/trace.txt'),
  fx('fixtures/scenarios/truncate-vs-fault.yaml'),
  fx('fixtures/reports/syzkaller-linux-report-85/report.txt'),
  path.join(tmp, 'not-a-trace.txt'),
  path.join(tmp, 'config.json'),
  path.join(tmp, 'missing'),
  path.join(tmp, 'folder'),
  '/dev/null',
  '-',
  '',
  '../../etc/passwd',
  '\u202Ertl\u05D0',
  '--',
  '=',
];
const OUTPUTS = [path.join(tmp, 'out.txt'), path.join(tmp, 'folder'), path.join(tmp, 'no', 'such', 'x'), '/dev/full', path.join(tmp, 'not-a-trace.txt', 'x')];
// No capture, kernel build or triage --repro: those would boot QEMU or fetch a kernel.
const COMMANDS = ['replay', 'diff', 'report', 'parse', 'explore', 'triage', 'ci', 'help', 'replya'];
const FLAGS = [
  '--json',
  '--format',
  '--out',
  '--html',
  '--perfetto',
  '--fail-on',
  '--kernel',
  '--probes',
  '--stats',
  '--shard',
  '--seed',
  '--random',
  '--max-executions',
  '--timeout',
  '--base',
  '--patched',
  '--config',
  '--output',
  '--flavor',
  '--check',
  '--trace-out',
  '--bogus',
  '-h',
  '--max-regression',
  '--jsonl',
];
const VALUES = [
  'json',
  'text',
  'html',
  'error',
  'never',
  'eror',
  '0/2',
  '1/2',
  '3/2',
  '-1',
  '1',
  '99999999999999999999',
  'auto',
  'linux-6.1',
  'linux-9.9',
  '1s',
  'soon',
  'x=y',
  'faults=5',
];

const argv = fc
  .tuple(
    fc.constantFrom(...COMMANDS),
    fc.array(
      fc.oneof(
        fc.constantFrom(...INPUTS),
        fc.tuple(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES, ...INPUTS, ...OUTPUTS)).map(([f, v]) => [f, v]),
        fc.constantFrom(...FLAGS).map((f) => [f]),
        fc.string({ maxLength: 6 }),
      ),
      { maxLength: 5 },
    ),
  )
  .map(([cmd, rest]) => {
    const args = [cmd, ...rest.flat()];
    // Bound the explorer: a fuzz test is no place for a long search.
    return cmd === 'explore' ? [...args, '--timeout', '2s', '--max-executions', '2000'] : args;
  });

describe('the CLI under random command lines', () => {
  it('exits only with documented codes and never prints a stack', async () => {
    const cases = fc.sample(argv, { numRuns: 18 });
    const STACK = /\n\s+at .+[:(]\d+:\d+\)?\s*$/m;
    // Three at a time: enough to keep the test short on two cores.
    for (let i = 0; i < cases.length; i += 3) {
      const runs = await Promise.all(
        cases.slice(i, i + 3).map(async (args) => ({ args, r: await runCli(args, { cwd: tmp, input: '', env: { CI: 'true' } }) })),
      );
      for (const { args, r } of runs) {
        const where = `kreplay ${JSON.stringify(args)}\nexit ${r.exitCode}\n${r.stderr.slice(0, 2000)}`;
        expect({ where, ok: [0, 1, 2, 3].includes(r.exitCode) }).toEqual({ where, ok: true });
        expect({ where, stack: STACK.test(r.stderr) || /internal error/.test(r.stderr) }).toEqual({ where, stack: false });
      }
    }
  }, 600_000);
});
