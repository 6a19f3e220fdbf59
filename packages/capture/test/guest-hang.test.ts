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
import { checkGuestOutcome, defaultCaptureTimeoutMs, HUNG_TASK, HUNG_TASK_CMDLINE, hungTaskWindowMs } from '../src/outcome.js';
import type { BootOutcome } from '../src/qemu.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-guest-hang-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SETUP = ['KREPLAY_INIT release=6.1.0-56-amd64', 'KREPLAY_PHASE setup', 'KREPLAY_PHASE kallsyms-checked', 'KREPLAY_PHASE setup-done'];

/** What checkGuestOutcome throws for a boot that timed out with these console lines. */
async function hang(lines: string[], timeoutMs = 108_000): Promise<{ name: string; exitCode: number; message: string; hint?: string }> {
  const root = mkdtempSync(path.join(tmp, 'share-'));
  mkdirSync(path.join(root, 'out'));
  const b: BootOutcome = { ended: 'timeout', initMs: 900, lines: lines.map((text, ms) => ({ ms, text })), stderr: '', wallMs: timeoutMs, args: [] };
  const err = await checkGuestOutcome(b, { out: path.join(root, 'out'), guest: new GuestShare(root), workDir: '/w', accel: 'tcg', timeoutMs }).then(
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
    expect(e.hint).toMatch(
      /a hang at the same phase again points at the kernel under test; its hung-task detector \(120 s in uninterruptible sleep, checked every 10 s, as capture sets it\) needs up to 150 s to name a task, and the timeout came 108 s after the workload began: the default --timeout leaves it that time;/,
    );
  });

  it("says what the guest's hung-task detector could have named before the timeout (session 43)", async () => {
    const hung = (setting: string) => [...SETUP.slice(0, 2), `KREPLAY_PHASE hung-task ${setting}`, ...SETUP.slice(2), 'KREPLAY_PHASE workload run=1'];
    // the detector as capture sets it (120 s, checked every 10 s), and a timeout past its window:
    // a task blocked in D state would have been named, so this hang is of another kind — still exit 3
    const long = await hang(hung('timeout=120 interval=10'), 246_000);
    expect(long).toMatchObject({ name: 'EnvironmentError', exitCode: 3 });
    expect(long.hint).toContain(
      'its hung-task detector (120 s in uninterruptible sleep, checked every 10 s) had 246 s after the workload began and named no task: a deadlock in uninterruptible sleep would have been named, so this is a hang of another kind (a livelock, a killable or interruptible wait) or a guest the host did not run;',
    );
    // a kernel that kept its own setting (checked every 120 s: up to 370 s) and a short --timeout
    expect((await hang(hung('timeout=120 interval=0'), 246_000)).hint).toContain(
      'its hung-task detector (120 s in uninterruptible sleep, checked every 120 s) needs up to 370 s to name a task, and the timeout came 246 s after the workload began',
    );
    // no detector in the kernel (no /proc/sys/kernel/hung_task_timeout_secs), or it is off
    for (const none of ['timeout=none interval=none', 'timeout=0 interval=10'])
      expect((await hang(hung(none))).hint).toContain(
        'this kernel has no hung-task detector (CONFIG_DETECT_HUNG_TASK) or it is off, so a deadlock is never named;',
      );
    // what the guest prints there is read as digits or not at all
    expect((await hang(hung('timeout=120;rm interval=10'))).hint).toContain('this kernel has no hung-task detector');
  });

  it("the default timeout leaves the detector its window after a capture's last run begins (session 43)", () => {
    expect(HUNG_TASK).toEqual({ timeoutS: 120, checkIntervalS: 10 });
    expect(HUNG_TASK_CMDLINE).toEqual(['sysctl.kernel.hung_task_timeout_secs=120', 'sysctl.kernel.hung_task_check_interval_secs=10']);
    expect(hungTaskWindowMs()).toBe(150_000);
    // one 1 s run: 96 s until session 43, less than the detector's 120 s alone
    expect(defaultCaptureTimeoutMs(1000, 1)).toBe(246_000);
    for (const [d, runs] of [
      [1000, 1],
      [3000, 3],
    ] as const)
      expect(defaultCaptureTimeoutMs(d, runs) - (90_000 + 6 * d * runs)).toBeGreaterThanOrEqual(hungTaskWindowMs());
  });

  it('before any workload began is still the boot that did not finish (setup hangs are booted again by capture)', async () => {
    const e = await hang([...SETUP.slice(0, 2), '[    9.0] INFO: task modprobe:88 blocked for more than 120 seconds.']);
    expect(e).toMatchObject({ name: 'EnvironmentError', exitCode: 3, message: expect.stringMatching(/^the guest did not finish within 108 s \(hung\?\)\n/) });
  });
});
