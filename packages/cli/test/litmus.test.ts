import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, repoRoot } from './run-cli.js';

const kernel = 'packages/lkmm/test/fixtures/kernel-litmus-tests';
const golden = (model: string, name: string): string =>
  readFileSync(path.join(repoRoot, 'packages/lkmm/test/fixtures/herd7', model, 'kernel-litmus-tests', `${name}.litmus.out`), 'utf8');
/** herd7's block for one test without the Time and Hash lines. */
const herdBlock = (out: string): string =>
  `${out
    .split('\n')
    .filter((l) => l !== '' && !/^Time |^Hash=/.test(l))
    .join('\n')}\n`;

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-litmus-'));
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('kreplay litmus', () => {
  it('prints what herd7 prints for a test, after one line naming the model and its kernel release', async () => {
    const r = await runCli(['litmus', `${kernel}/SB+fencembonceonces.litmus`]);
    expect(r.exitCode).toBe(0);
    const [head, ...rest] = r.stdout.split('\n');
    expect(head).toBe('Model Linux 6.12.117 tools/memory-model (linux-6.12)');
    expect(rest.join('\n').trim() + '\n').toBe(herdBlock(golden('linux-6.12', 'SB+fencembonceonces')));
    expect(r.stderr).toBe('1 of 1 tests checked\n');
  });

  it('reads a test without exists/forall as herd7 does: forall (true), Always, exit 0 (and --judge: no Result: line)', async () => {
    const test = 'packages/lkmm/test/fixtures/no-condition/locations-regs.litmus';
    const r = await runCli(['litmus', test]);
    expect(r.exitCode).toBe(0);
    const herd = readFileSync(path.join(repoRoot, 'packages/lkmm/test/fixtures/herd7/linux-6.12/no-condition/locations-regs.litmus.out'), 'utf8');
    expect(r.stdout.split('\n').slice(1).join('\n').trim() + '\n').toBe(herdBlock(herd));
    expect(r.stdout).toContain('Condition forall (true)');
    const judged = await runCli(['litmus', '--judge', test]);
    expect(judged.exitCode).toBe(0);
    expect(judged.stdout).toContain('Judge locations-regs none no Result: line');
  });

  it("--model linux-6.1 uses Linux 6.1's model: dep+plain is Sometimes there, Never under 6.12", async () => {
    const old = await runCli(['litmus', '--model', 'linux-6.1', `${kernel}/dep+plain.litmus`]);
    expect(old.stdout).toContain('Model Linux 6.1.192 tools/memory-model (linux-6.1)');
    expect(old.stdout).toContain('Observation dep+plain Sometimes 1 2');
    const now = await runCli(['litmus', `${kernel}/dep+plain.litmus`]);
    expect(now.stdout).toContain('Observation dep+plain Never 0 2');
  });

  it('judges a folder against its Result: lines with -j 2 workers, in file order, and exits 0 when all agree', async () => {
    const r = await runCli(['litmus', kernel, '--judge', '-j', '2']);
    expect(r.exitCode).toBe(0);
    const names = [...r.stdout.matchAll(/^Test (\S+) /gm)].map((m) => m[1]);
    expect(names).toHaveLength(35);
    expect(names).toEqual([...names].sort());
    expect(r.stdout.match(/^Judge \S+ pass \(Result: (Never|Sometimes)\)$/gm)).toHaveLength(35);
    expect(r.stderr).toContain('35 of 35 tests checked, 35 agree with their Result: line');
  });

  it('exits 1 when --judge finds a verdict that disagrees with its Result: line', async () => {
    const text = readFileSync(path.join(repoRoot, kernel, 'SB+poonceonces.litmus'), 'utf8').replace('Result: Sometimes', 'Result: Never');
    const r = await runCli(['litmus', '--judge', tmpFile('wrong.litmus', text)]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('Judge SB+poonceonces fail (Result: Never) !!! Unexpected non-Never verification');
    expect(r.stderr).toContain('1 disagree');
  });

  it('warns on stderr when the model ignores a grace period the test has (models/sc on RCU), and not under the LKMM', async () => {
    const test = 'packages/lkmm/test/fixtures/sc-oracle/RCU-mid-gp.litmus';
    const sc = await runCli(['litmus', '--model', 'packages/lkmm/models/sc', test]);
    expect(sc.exitCode).toBe(0);
    expect(sc.stdout).toContain('Observation RCU-mid-gp Sometimes 1 3');
    expect(sc.stderr).toContain(`warning: ${test}: RCU-mid-gp: no check of model sc refers to Sync-rcu, so synchronize_rcu() waits for no reader under it`);
    const json = JSON.parse((await runCli(['litmus', '--model', 'packages/lkmm/models/sc', test, '--json'])).stdout) as {
      results: Array<{ ignoredByModel?: string[] }>;
    };
    expect(json.results[0]!.ignoredByModel).toEqual(['Sync-rcu']);
    const lkmm = await runCli(['litmus', test]);
    expect(lkmm.stdout).toContain('Observation RCU-mid-gp Never 0 3');
    expect(lkmm.stderr).toBe('1 of 1 tests checked\n');
  });

  it('prints one JSON document with --json, the same whatever -j', async () => {
    const one = await runCli(['litmus', kernel, '--json']);
    const two = await runCli(['litmus', kernel, '--json', '-j', '2']);
    expect(one.exitCode).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    const j = JSON.parse(one.stdout);
    expect(j.model).toMatchObject({ name: 'linux-6.12', release: '6.12.117' });
    expect(j.results).toHaveLength(35);
    const sb = j.results.find((x: { name: string }) => x.name === 'SB+poonceonces');
    expect(sb).toMatchObject({
      kind: 'Allowed',
      ok: true,
      observation: { verdict: 'Sometimes', positive: 1, negative: 3 },
      flags: [],
      expected: { result: 'Sometimes', datarace: false },
      condition: 'exists (0:r0=0 /\\ 1:r0=0)',
    });
    expect(sb.states).toContainEqual({ '0:r0': '0', '1:r0': '0' });
    expect(j.summary).toMatchObject({ tests: 35, checked: 35, errors: 0 });
  });

  it('expands a quoted pattern itself', async () => {
    const r = await runCli(['litmus', `${kernel}/MP+*.litmus`]);
    expect(r.exitCode).toBe(0);
    expect([...r.stdout.matchAll(/^Test (MP\S+) /gm)].length).toBe(9);
  });

  it('reports a parse error as file:line with a hint, checks the other files, and exits 2', async () => {
    const bad = tmpFile('bad.litmus', 'C bad\n{}\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1)\n}\nexists (x=1)\n');
    const r = await runCli(['litmus', bad, `${kernel}/SB+poonceonces.litmus`]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`error: ${bad.replace(/[.+]/g, '\\$&')}:6: expected ";" \\(found "}"\\)\\n  hint: a statement ends with ;`));
    expect(r.stdout).toContain('Observation SB+poonceonces Sometimes 1 3');
  });

  it('names an unsupported construct instead of skipping it', async () => {
    const loop = tmpFile('loop.litmus', 'C loop\n{}\nP0(int *x)\n{\n\tint r0;\n\twhile (r0 == 0) r0 = READ_ONCE(*x);\n}\nexists (0:r0=1)\n');
    const r = await runCli(['litmus', loop]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${loop}:6: while loops are not supported`);
    const unknown = tmpFile('unknown.litmus', 'C unknown\n{}\nP0(int *x)\n{\n\tsmp_memb();\n}\nexists (x=1)\n');
    const u = await runCli(['litmus', unknown]);
    expect(u.exitCode).toBe(2);
    expect(u.stderr).toContain(`${unknown}:5: unknown primitive smp_memb: the linux-6.12 memory model does not define it`);
  });

  it('refuses a --model DIR whose model.json is damaged as input naming it (exit 2), never an internal error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-model-'));
    cpSync(path.join(repoRoot, 'packages/lkmm/models/linux-6.1'), dir, { recursive: true });
    const test = path.join(repoRoot, 'packages/lkmm/test/fixtures/no-condition/nocond.litmus');
    for (const [text, said] of [
      ['{"name":', 'not valid JSON'],
      ['{}', 'not a model record'],
      ['{"name":"m","release":"r","origin":"o","files":[]}', 'not a model record'],
    ] as const) {
      writeFileSync(path.join(dir, 'model.json'), text);
      const r = await runCli(['litmus', '--model', dir, test]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`error: ${path.join(dir, 'model.json')}: ${said}`);
      expect(r.stderr).not.toContain('internal error');
    }
  });

  it('gives up on a test after --timeout and exits 1', async () => {
    // five threads of atomics on one variable: minutes in herd7 and in kreplay
    const heavy = tmpFile('heavy.litmus', HEAVY);
    const r = await runCli(['litmus', '--timeout', '1s', heavy]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/timeout: .*heavy\.litmus: no verdict: timed out after 1000 ms/);
    expect(r.stderr).toContain('0 of 1 tests checked, 1 timed out');
  });

  it('refuses a test of thousands of statements, which ran for minutes past --timeout (the deadline is looked at between n³ steps)', async () => {
    const reads = Array(1200).fill('\tr0 = READ_ONCE(*x);').join('\n');
    const big = tmpFile('big.litmus', `C big\n{}\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);\n}\nP1(int *x)\n{\n\tint r0;\n${reads}\n}\nexists (1:r0=1)\n`);
    const r = await runCli(['litmus', '--timeout', '5s', big]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${big}:3: the test has 1202 statements; kreplay checks tests of at most 1000`);
  });

  it('lists the shipped models with their kernel release and origin', async () => {
    const r = await runCli(['litmus', '--list-models']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^linux-6\.1 +Linux 6\.1\.192: Debian package linux-source-6\.1 6\.1\.192-3/m);
    expect(r.stdout).toMatch(/^linux-6\.12 +Linux 6\.12\.117: Debian package linux-source-6\.12/m);
  });

  it('is a usage error without a file, and for a missing one', async () => {
    expect((await runCli(['litmus'])).exitCode).toBe(2);
    const r = await runCli(['litmus', 'no/such.litmus']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no such file or folder: no/such.litmus');
  });
});

const HEAVY = `C R20

{
}

P0(int *x, int *y, int *z, spinlock_t *l)
{
	barrier();
	smp_mb__before_atomic();
	atomic_inc(z);
	barrier();
}

P1(int *x, int *y, int *z, spinlock_t *l)
{
	int r0;
	int r1;
	int r2;

	r0 = atomic_inc_return(z);
	WRITE_ONCE(*x, r0 + 1);
	r1 = xchg_relaxed(z, 0);
	r2 = xchg(y, 0);
}

P2(int *x, int *y, int *z, spinlock_t *l)
{
	int r0;
	int r1;

	r0 = atomic_inc_return(y);
	r1 = spin_trylock(l);
	if (r1) {
		WRITE_ONCE(*z, 1);
		spin_unlock(l);
	}
	if (r0 == 1) {
		WRITE_ONCE(*z, 0);
	}
}

P3(int *x, int *y, int *z, spinlock_t *l)
{
	int r0;
	int r1;

	smp_mb__after_atomic();
	atomic_inc(x);
	atomic_dec(y);
	r0 = spin_trylock(l);
	if (r0) {
		WRITE_ONCE(*x, 1);
		spin_unlock(l);
	}
	r1 = xchg_acquire(z, 2);
}

exists (y=1 /\\ 3:r0=0 /\\ 3:r0=1)
`;
