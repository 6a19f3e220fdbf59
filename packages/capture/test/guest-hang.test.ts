/**
 * A guest that ran out of time once its workload began (session 42): a hung task on its console
 * is the kernel under test saying a task stopped making progress (a KernelFailure, exit 1);
 * without one — an RCU stall or a soft lockup, which a guest whose virtual CPU the host starves
 * prints too, or nothing — whether that kernel or the machine is at fault cannot be told, and the
 * error says so (exit 3). Recorded consoles in 6.1's words; no QEMU.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GuestShare } from '../src/guest-files.js';
import { checkGuestOutcome } from '../src/outcome.js';
import type { BootOutcome } from '../src/qemu.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-guest-hang-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SETUP = ['KREPLAY_INIT release=6.1.0-56-amd64', 'KREPLAY_PHASE setup', 'KREPLAY_PHASE kallsyms-checked', 'KREPLAY_PHASE setup-done'];

/** What checkGuestOutcome throws for a boot that timed out with these console lines. */
async function hang(lines: string[]): Promise<{ name: string; exitCode: number; message: string; hint?: string }> {
  const root = mkdtempSync(path.join(tmp, 'share-'));
  mkdirSync(path.join(root, 'out'));
  const b: BootOutcome = { ended: 'timeout', initMs: 900, lines: lines.map((text, ms) => ({ ms, text })), stderr: '', wallMs: 108_000, args: [] };
  const err = await checkGuestOutcome(b, { out: path.join(root, 'out'), guest: new GuestShare(root), workDir: '/w', accel: 'tcg', timeoutMs: 108_000 }).then(
    () => undefined,
    (e: unknown) => e as { name: string; exitCode: number; message: string; hint?: string },
  );
  expect(err).toBeDefined();
  return err!;
}

describe('a guest that hangs once its workload began', () => {
  it('with a hung task on its console is the kernel under test failing the workload (exit 1)', async () => {
    const line = '[  243.1] INFO: task kr-odirect-race:181 blocked for more than 120 seconds.';
    const lines = [...SETUP, 'KREPLAY_PHASE workload run=1', line, '[  243.1]       Not tainted 6.1.0-56-amd64 #1 Debian 6.1.192-1'];
    const e = await hang(lines);
    expect(e).toMatchObject({ name: 'KernelFailure', exitCode: 1 });
    expect(e.message).toBe(
      `the guest did not finish within 108 s: it hung after phase workload run=1, once the workload began, and the kernel under test reported: INFO: task kr-odirect-race:181 blocked for more than 120 seconds.\nlast console lines:\n${lines.map((l) => `    ${l}`).join('\n')}`,
    );
  });

  it.each([
    ['a soft lockup', '[   40.2] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [kr-fault:172]'],
    ['an RCU stall', '[   61.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'],
    ['an RCU self-detected stall', '[   61.0] rcu: INFO: rcu_preempt self-detected stall on CPU'],
  ])('with %s alone is unknown (exit 3): a starved virtual CPU prints it too, and ci would call it the patch', async (_what, line) => {
    const e = await hang([...SETUP, 'KREPLAY_PHASE workload run=1', line, '[   61.0]  1-...!: (1 GPs behind) idle=0b4c/1/0x4000000000000000']);
    expect(e).toMatchObject({ name: 'EnvironmentError', exitCode: 3 });
    expect(e.message).toContain(
      `, once the workload began, and its console shows no hung task, only "${line.replace(/^\[[\s\d.]+\] /, '')}", which a guest prints too when the host does not run its virtual CPU (a loaded host, or TCG): whether the kernel under test deadlocked or the machine ran too slowly cannot be told\n`,
    );
  });

  it('with none of them is unknown, and says so: kernel or machine cannot be told (exit 3)', async () => {
    // a hung task before the workload began is not this hang's cause; a WARN does not stop a task
    const e = await hang([
      ...SETUP.slice(0, 2),
      '[    9.0] INFO: task modprobe:88 blocked for more than 120 seconds.',
      ...SETUP.slice(2),
      'KREPLAY_PHASE workload run=1',
      'KREPLAY_PHASE dump run=1',
      '[   30.1] WARNING: CPU: 1 PID: 172 at mm/filemap.c:1520 folio_unlock+0x2a/0x30',
    ]);
    expect(e).toMatchObject({ name: 'EnvironmentError', exitCode: 3 });
    expect(e.message).toMatch(
      /^the guest did not finish within 108 s: it hung after phase dump run=1, once the workload began, and its console shows no hung task, soft lockup or RCU stall: whether the kernel under test deadlocked or the machine ran too slowly cannot be told\n/,
    );
    expect(e.hint).toMatch(/a hang at the same phase again points at the kernel under test.*hung_task_timeout_secs \(120 s by default/);
  });

  it('before any workload began is still the boot that did not finish (setup hangs are booted again by capture)', async () => {
    const e = await hang([...SETUP.slice(0, 2), '[    9.0] INFO: task modprobe:88 blocked for more than 120 seconds.']);
    expect(e).toMatchObject({ name: 'EnvironmentError', exitCode: 3, message: expect.stringMatching(/^the guest did not finish within 108 s \(hung\?\)\n/) });
  });
});
