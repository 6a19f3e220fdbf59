/**
 * Reading a finished guest: whether it did what run.sh asked (and if not, the error that
 * says why and what to try), each run's files, the phase timings from the console, and
 * the trace itself (gzip, event count, cross-CPU timestamp ties).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { InputError } from '@kreplay/core';
import { EnvironmentError, KernelFailure } from '@kreplay/core';
import type { GuestShare } from './guest-files.js';
import type { BootOutcome, ConsoleLine } from './qemu.js';
import {
  FATAL_KINDS,
  guestCount,
  kprobeDelta,
  kprobeProfileProblem,
  lostEvents,
  parseKprobeProfile,
  parsePerCpuStats,
  parseResultLine,
  perCpuStatsProblem,
  quoteCount,
  scanKernelLog,
  type CpuStats,
  type KprobeHits,
  type LogFinding,
  type LogFindingKind,
} from './console.js';

export function tail(lines: readonly ConsoleLine[], n = 25): string {
  return lines
    .slice(-n)
    .map((l) => `    ${l.text}`)
    .join('\n');
}

/**
 * A small file the guest wrote into the share (guest-files.ts: no symbolic links, regular
 * files only, bounded), or undefined when it did not write it.
 */
export async function readOpt(guest: GuestShare, file: string): Promise<string | undefined> {
  return guest.text(file);
}

/**
 * The boot's kernel.log (out/kernel.log, dmesg after the last run). Missing or empty, it
 * would read as a kernel that printed no WARN or BUG — the guest broke the protocol, so
 * that is an environment error, never a clean log.
 */
export async function readKernelLog(guest: GuestShare, out: string, workDir: string): Promise<string> {
  const log = await readOpt(guest, join(out, 'kernel.log'));
  if (log === undefined || log.trim() === '') {
    throw new EnvironmentError(
      `the guest left ${log === undefined ? 'no' : 'an empty'} kernel.log, so the kernel's warnings and BUGs during the runs are unknown`,
      `read ${join(workDir, 'console.log')}; run the capture again`,
    );
  }
  // dmesg starts with start_kernel's banner (init/main.c: pr_notice("%s", linux_banner)); a log
  // without it lost its oldest lines — the ring buffer wrapped — and with them the first runs' warnings
  const nl = log.indexOf('\n');
  const first = nl < 0 ? log : log.slice(0, nl);
  if (!/^(\[[\s\d.]+\]\s*)?Linux version /.test(first)) {
    throw new EnvironmentError(
      "the guest's kernel.log does not begin at boot (no 'Linux version' first line): the kernel's log buffer wrapped or dmesg was cut, so warnings and BUGs of the first runs may be missing",
      `read ${join(workDir, 'console.log')}; fewer runs, or a kernel that warns less, fit the log (capture boots with log_buf_len=8M)`,
    );
  }
  return log;
}

/** Turn a guest that did not finish into the error a user can act on. */
export function bootFailure(b: BootOutcome, accel: string, timeoutMs: number, workDir: string, bootNote?: string): EnvironmentError {
  const where = `console: ${join(workDir, 'console.log')}`;
  const last = b.lines.length ? `last console lines:\n${tail(b.lines)}` : 'the console stayed empty';
  switch (b.ended) {
    case 'init-timeout':
      return new EnvironmentError(
        `the guest did not reach init under ${accel} within ${Math.round(b.wallMs / 1000)} s\n${last}`,
        accel === 'kvm'
          ? 'KVM may be unusable here (kvm_pvm hangs stock kernels): try --accel tcg'
          : `check the kernel boots with console=ttyS0 (${where}); a slow host may need --init-timeout`,
      );
    case 'timeout':
      return new EnvironmentError(
        bootNote
          ? `the guest hung ${bootNote}, each boot given ${Math.round(timeoutMs / 1000)} s\n${last}`
          : `the guest did not finish within ${Math.round(timeoutMs / 1000)} s (hung?)\n${last}`,
        bootNote
          ? `read ${where}; a guest that hangs setting tracing up twice, before any workload ran, points at the kernel's tracing (kprobes, tracefs) or at QEMU: capture where --accel kvm works, or raise --timeout on a slow host`
          : `shorten --duration, raise --timeout, or read ${where}`,
      );
    case 'panic':
      return new EnvironmentError(
        `the guest kernel panicked${bootNote ? ` ${bootNote}` : ''}\n${last}`,
        bootNote
          ? `read ${where}; a kernel that panics at boot twice may not boot at all: boot it under QEMU by hand with console=ttyS0, or capture where --accel kvm works`
          : `read ${where}; an oops in the workload's kernel paths means the kernel under test is broken`,
      );
    case 'aborted':
      return new EnvironmentError('capture aborted');
    default:
      return new EnvironmentError(
        `QEMU ${b.signal ? `died of ${b.signal}` : `exited with code ${b.exitCode}`} under ${accel} before the guest finished\n${last}${b.stderr ? `\n  qemu: ${b.stderr.trim().split('\n').slice(-3).join('\n  qemu: ')}` : ''}`,
        accel === 'kvm'
          ? 'KVM failed on this machine: try --accel tcg'
          : 'check that qemu-system-x86 works (qemu-system-x86_64 --version) and the kernel image boots',
      );
  }
}

/** The last `KREPLAY_PHASE` a boot's console said, as `phase NAME`, or `init` when it said none. */
export function lastPhase(b: BootOutcome): string {
  for (let i = b.lines.length - 1; i >= 0; i--) {
    const t = b.lines[i]!.text;
    if (t.startsWith('KREPLAY_PHASE ')) return `phase ${t.slice('KREPLAY_PHASE '.length)}`;
  }
  return 'init';
}

/** Phase timings from the guest's console protocol. */
export function guestTimings(b: BootOutcome, runs: number): Record<string, number> {
  const at = (pred: (t: string) => boolean): number | undefined => b.lines.find((l) => pred(l.text))?.ms;
  const t: Record<string, number> = {};
  const init = b.initMs;
  const setup = at((s) => s === 'KREPLAY_PHASE setup');
  const setupDone = at((s) => s === 'KREPLAY_PHASE setup-done');
  const done = at((s) => s === 'KREPLAY_PHASE done');
  if (init !== undefined) t['boot-to-init'] = init;
  if (init !== undefined && setup !== undefined) t['guest-modules-and-mounts'] = setup - init;
  if (setup !== undefined && setupDone !== undefined) t['guest-tracefs-setup'] = setupDone - setup;
  for (let i = 1; i <= runs; i++) {
    const w = at((s) => s === `KREPLAY_PHASE workload run=${i}`);
    const d = at((s) => s === `KREPLAY_PHASE dump run=${i}`);
    const tc = at((s) => s === `KREPLAY_PHASE trace-cmd run=${i}`);
    const next = at((s) => s === `KREPLAY_PHASE workload run=${i + 1}`) ?? done;
    const sfx = runs > 1 ? `-${i}` : '';
    if (w !== undefined && d !== undefined) t[`workload${sfx}`] = d - w;
    if (d !== undefined && (tc ?? next) !== undefined) t[`dump${sfx}`] = (tc ?? next)! - d;
    if (tc !== undefined && next !== undefined) t[`trace-cmd-extract${sfx}`] = next - tc;
  }
  if (done !== undefined) t['guest-shutdown'] = b.wallMs - done;
  t['qemu-wall'] = b.wallMs;
  return t;
}

export interface TraceSummary {
  bytes: number;
  gzipBytes: number;
  events: number;
  sha256: string;
  /** Consecutive events of different CPUs with the same timestamp: their order is unknown. */
  crossCpuTies: number;
  /** The `# entries-in-buffer/entries-written: N/M` header lines the file holds (TraceLineCounter.headers). */
  headers: TraceHeader[];
}

/**
 * A tracefs `trace` file's header line (kernel/trace/trace.c print_event_info, v6.1):
 * `entries` the events in the ring buffer, `written` those plus the ones overwritten
 * (get_total_entries_cpu adds ring_buffer_overrun_cpu, what per_cpu/cpuN/stats prints as
 * `overrun`). Reading `trace` stops tracing (__tracing_open: tracing_stop_tr), and the file
 * then lists every entry, one line each, so a file with fewer event lines than `entries` was cut.
 */
export interface TraceHeader {
  entries: number;
  written: number;
}

const ENTRIES_HEADER = /^#\s*entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)\s/;

/** Counts events, cross-CPU timestamp ties and the entries headers, line by line. */
export class TraceLineCounter {
  events = 0;
  crossCpuTies = 0;
  readonly headers: TraceHeader[] = [];
  private prevTs = '';
  private prevCpu = '';
  line(l: string): void {
    if (l === '') return;
    if (l.startsWith('#')) {
      const h = ENTRIES_HEADER.exec(l);
      if (h) this.headers.push({ entries: Number(h[1]), written: Number(h[2]) });
      return;
    }
    this.events++;
    const m = /\[(\d+)\][^:]*?\s(\d+\.\d+):\s/.exec(l);
    if (!m) return;
    if (m[2] === this.prevTs && m[1] !== this.prevCpu) this.crossCpuTies++;
    this.prevTs = m[2];
    this.prevCpu = m[1];
  }
}

/** gzip a trace (a guest file's stream: GuestShare.stream), counting events and ties and hashing the text. */
export async function gzipTrace(src: Readable, dst: string): Promise<TraceSummary> {
  const hash = createHash('sha256');
  const counter = new TraceLineCounter();
  let bytes = 0;
  let carry = '';
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      const lines = (carry + chunk.toString('latin1')).split('\n');
      carry = lines.pop()!;
      for (const l of lines) counter.line(l);
      cb(null, chunk);
    },
    flush(cb) {
      if (carry) counter.line(carry);
      cb();
    },
  });
  await pipeline(src, count, createGzip({ level: 9 }), createWriteStream(dst));
  return {
    bytes,
    gzipBytes: (await stat(dst)).size,
    events: counter.events,
    crossCpuTies: counter.crossCpuTies,
    sha256: hash.digest('hex'),
    headers: counter.headers,
  };
}

/**
 * Why a run's trace.txt cannot be taken for the whole ring buffer, or undefined when it can.
 * The guest copies tracefs's `trace` file, which always begins with an entries header
 * (TraceHeader); without it, or with fewer event lines than it counts, the file was cut or
 * written by something else, and it would read downstream as a complete run that saw less.
 * Its counts must also be the ones stats.txt gave for the same stopped buffer (entries: the
 * sum of each CPU's `entries`; written − entries: the sum of `overrun`), else the guest's
 * two witnesses of what was lost disagree. (More event lines than entries is allowed: an
 * event whose text holds a newline, a trace_marker write, prints as several lines.)
 */
export function traceProblem(headers: readonly TraceHeader[], events: number, perCpu: readonly CpuStats[]): string | undefined {
  if (headers.length === 0) return 'trace.txt has no "# entries-in-buffer/entries-written" header line, which tracefs always writes';
  if (headers.length > 1) return `trace.txt holds ${headers.length} "# entries-in-buffer/entries-written" header lines, not one`;
  const h = headers[0]!;
  if (events < h.entries) return `trace.txt holds ${events} event lines but its header counts ${h.entries} entries in the ring buffer: it was cut`;
  const entries = perCpu.reduce((n, c) => n + c.entries, 0);
  const overrun = perCpu.reduce((n, c) => n + c.overrun, 0);
  if (h.entries !== entries || h.written - h.entries !== overrun) {
    return `trace.txt's header counts ${h.entries} entries and ${h.written - h.entries} overwritten, but stats.txt ${entries} and ${overrun}`;
  }
  return undefined;
}

export interface GuestContext {
  /** The share's out/ folder. */
  out: string;
  /** The share, read only through its checks. */
  guest: GuestShare;
  workDir: string;
  accel: 'kvm' | 'tcg';
  timeoutMs: number;
  profileFile?: string;
  /** The release the caller expected, if known. */
  release?: string;
  /** Said of a panic when the guest was booted again after a first one before init (capture.ts). */
  bootNote?: string;
}

/**
 * Throw the most precise error for a guest that did not finish its run.sh: a refused
 * tracefs write or a missing symbol (the profile's fault: InputError), a failure the guest
 * reported, an oops or panic, a hang, or QEMU dying (EnvironmentError).
 */
export async function checkGuestOutcome(b: BootOutcome, c: GuestContext): Promise<void> {
  const tracefsErr = await readOpt(c.guest, join(c.out, 'tracefs-error.txt'));
  if (tracefsErr) {
    const f = Object.fromEntries(
      tracefsErr
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const log = tracefsErr.split('error_log:')[1]?.trim();
    throw new InputError(
      `tracefs refused ${f.label}: ${f.error?.replace(/^.*: /, '') || 'write failed'}\n  wrote: ${f.value}\n  to: ${f.file}${log ? `\n  error_log: ${log.split('\n').join('\n             ')}` : ''}`,
      { file: c.profileFile, hint: 'fix that probe or filter in the profile (fields must exist in events/<system>/<event>/format)' },
    );
  }
  const missing = await readOpt(c.guest, join(c.out, 'missing-symbols.txt'));
  if (missing) {
    throw new InputError(
      `functions not in the guest's /proc/kallsyms:${missing
        .trim()
        .split(/\s+/)
        .map((s) => ` ${s}`)
        .join('')} (inlined, static or renamed in ${c.release ?? 'this kernel'})`,
      { file: c.profileFile, hint: 'probe a function the kernel exports to kallsyms (grep it in /proc/kallsyms of that kernel)' },
    );
  }
  const missingTp = await readOpt(c.guest, join(c.out, 'missing-tracepoints.txt'));
  if (missingTp) {
    throw new InputError(
      `tracepoints not in ${c.release ?? 'this kernel'} (no events/<system>/<event>/format):${missingTp
        .trim()
        .split(/\s+/)
        .map((s) => ` ${s}`)
        .join('')}`,
      { file: c.profileFile, hint: 'use a profile written for this kernel (kernel-configs/capture/linux-<version>/), or drop the tracepoint' },
    );
  }
  const guestFail =
    (await readOpt(c.guest, join(c.out, 'failure.txt'))) ?? b.lines.find((l) => l.text.startsWith('KREPLAY_FAIL'))?.text.replace('KREPLAY_FAIL ', '');
  const fatal = scanKernelLog(b.lines.map((l) => l.text).join('\n')).find((f) => FATAL_KINDS.includes(f.kind));
  if (b.ended === 'exit' && (guestFail || fatal)) {
    throw new EnvironmentError(
      `${guestFail ? `the guest failed: ${guestFail.trim()}` : `the guest kernel oopsed: ${fatal!.text}`}\nlast console lines:\n${tail(b.lines)}`,
      `read ${join(c.workDir, 'console.log')}; the guest's files are in ${c.out}`,
    );
  }
  // The guest boots with oops=panic: an oops in the workload's kernel paths ends in a panic. Once a
  // workload began, that is the kernel under test failing it — a finding, not the machine's failure
  // (a panic before any workload ran, a TCG flake at boot, stays an environment error).
  if (b.ended === 'panic' && b.lines.some((l) => l.text.startsWith('KREPLAY_PHASE workload'))) {
    const what = scanKernelLog(b.lines.map((l) => l.text).join('\n')).find(isKilling);
    throw new KernelFailure(
      `the kernel under test panicked while the workload ran${what ? `: ${what.text}` : ''}\nlast console lines:\n${tail(b.lines)}`,
      `read ${join(c.workDir, 'console.log')} (kreplay triage reads it)`,
    );
  }
  if (b.ended === 'timeout' && !c.bootNote) {
    const begun = b.lines.findIndex((l) => l.text.startsWith('KREPLAY_PHASE workload'));
    if (begun >= 0) throw workloadHang(b, begun, c);
  }
  if (b.ended !== 'exit' || !b.lines.some((l) => l.text === 'KREPLAY_PHASE done')) throw bootFailure(b, c.accel, c.timeoutMs, c.workDir, c.bootNote);
}

/**
 * The kernel-log line that says a task of the kernel under test stopped making progress: a task
 * blocked past hung_task_timeout_secs (6.1.192 kernel/hung_task.c:133 `INFO: task %s:%d blocked
 * for more than %ld seconds.`) — 120 s by default in uninterruptible sleep, which no slowness of
 * the machine explains on its own.
 */
const isHungTask = (f: LogFinding): boolean => f.kind === 'hung-task';

/**
 * Lines a kernel also prints when its virtual CPU is not run for a while — a loaded host, or TCG
 * emulating it — so they do not tell the kernel from the machine: an RCU stall
 * (kernel/rcu/tree_stall.h:582 and :653, `rcu: INFO: %s detected stalls on CPUs/tasks:`, `...
 * self-detected stall on CPU`; 21 s by default) and a soft lockup (kernel/watchdog.c:434
 * `watchdog: BUG: soft lockup - CPU#%d stuck for %us!`, 20 s, which the scan files under `bug`).
 */
const isStarvationSign = (f: LogFinding): boolean => f.kind === 'rcu-stall' || (f.kind === 'bug' && /\bsoft lockup\b/.test(f.text));

/**
 * The guest's hung-task detector, set on the kernel command line (HUNG_TASK_CMDLINE): a `sysctl.`
 * parameter is written to /proc/sys by do_sysctl_args in kernel_init, after every initcall
 * (since 5.8; 6.1.192 init/main.c:1510 and fs/proc/proc_sysctl.c:1842 process_sysctl_arg, 6.12
 * init/main.c:1463), where hung_task_init (a subsys_initcall, kernel/hung_task.c:401) has
 * registered these (:321). Debian's 6.1 and 6.12 build the detector (CONFIG_DETECT_HUNG_TASK=y)
 * with CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=120; the timeout is kept at that, set explicitly so that a
 * kernel built with another default gets the same. khungtaskd checks every `checkIntervalS` (0,
 * the default, is the timeout itself: watchdog, :369-375): a task in TASK_UNINTERRUPTIBLE, not
 * killable and not idle (:210-213; a killable wait is never named), is timed from the
 * first check that finds it without a context switch since the check before, and named at the
 * first check `timeoutS` later (check_hung_task) — within timeoutS + 2 × checkIntervalS of
 * blocking. The timeout is not lowered: a task waits that long in D state on a lock or an I/O
 * whose holder the host does not run, and a guest here shows 20 s and more of that (the soft
 * lockups and RCU stalls of session 42), so a lower one would name the machine's slowness as the
 * kernel's deadlock.
 */
export const HUNG_TASK = { timeoutS: 120, checkIntervalS: 10 } as const;
export const HUNG_TASK_CMDLINE: readonly string[] = [
  `sysctl.kernel.hung_task_timeout_secs=${HUNG_TASK.timeoutS}`,
  `sysctl.kernel.hung_task_check_interval_secs=${HUNG_TASK.checkIntervalS}`,
];
/** How long after a task blocks the detector has named it on the console, at most (10 s for the report to be printed). */
export function hungTaskWindowMs(h: { timeoutS: number; checkIntervalS: number } = HUNG_TASK): number {
  return (h.timeoutS + 2 * (h.checkIntervalS || h.timeoutS) + 10) * 1000;
}
/**
 * A capture's default time for the whole boot: 90 s for the boot and the tracing setup, 6 ×
 * each run's duration, and the hung-task window, so that a task that deadlocks in the last run
 * is named before the timeout (90 s + 6 × duration × runs until session 43: 96 s for one 1 s run,
 * before the detector could speak).
 */
export function defaultCaptureTimeoutMs(durationMs: number, runs: number): number {
  return 90_000 + 6 * durationMs * runs + hungTaskWindowMs();
}

/** What the guest said its detector is (run.sh's `KREPLAY_PHASE hung-task timeout=T interval=I`): undefined when it did not say, null when the kernel has none. */
function guestHungTask(b: BootOutcome): { timeoutS: number; checkIntervalS: number } | null | undefined {
  const line = b.lines.find((l) => l.text.startsWith('KREPLAY_PHASE hung-task '))?.text;
  if (line === undefined) return undefined;
  const m = /^KREPLAY_PHASE hung-task timeout=(\d{1,7}) interval=(\d{1,7})$/.exec(line);
  if (!m || m[1] === '0') return null; // no detector (none, or 0: off)
  return { timeoutS: Number(m[1]), checkIntervalS: Number(m[2]) };
}

/** What the detector could have said before the timeout, for the hang's hint. */
function hungTaskNote(b: BootOutcome, begun: number, c: GuestContext): string {
  const h = guestHungTask(b);
  if (h === null) return 'this kernel has no hung-task detector (CONFIG_DETECT_HUNG_TASK) or it is off, so a deadlock is never named';
  const d = h ?? HUNG_TASK;
  const what = `its hung-task detector (${d.timeoutS} s in uninterruptible sleep, checked every ${d.checkIntervalS || d.timeoutS} s${h ? '' : ', as capture sets it'})`;
  const after = Math.max(0, Math.round((c.timeoutMs - b.lines[begun]!.ms) / 1000));
  const window = Math.round(hungTaskWindowMs(d) / 1000);
  return after >= window
    ? `${what} had ${after} s after the workload began and named no task: a deadlock in uninterruptible sleep would have been named, so this is a hang of another kind (a livelock, a killable or interruptible wait) or a guest the host did not run`
    : `${what} needs up to ${window} s to name a task, and the timeout came ${after} s after the workload began: the default --timeout leaves it that time`;
}

/**
 * A guest that ran out of time once a workload began. With a hung task on its console after that
 * point, the kernel under test said a task stopped making progress: a KernelFailure (exit 1).
 * Otherwise whether that kernel deadlocked or the machine was too slow cannot be told, and the
 * error says so (an EnvironmentError, exit 3: run again), naming an RCU stall or soft lockup it
 * saw: a guest whose virtual CPUs the host starves prints those too, so they alone do not make a
 * kernel under test fail (ci would call that the patch's regression). Until 2026-12-07 (session
 * 42) all of these were "the guest did not finish within N s (hung?)", exit 3.
 */
function workloadHang(b: BootOutcome, begun: number, c: GuestContext): KernelFailure | EnvironmentError {
  const said = scanKernelLog(
    b.lines
      .slice(begun)
      .map((l) => l.text)
      .join('\n'),
  );
  const sign = said.find(isHungTask);
  const starved = said.find(isStarvationSign);
  const hung = `the guest did not finish within ${Math.round(c.timeoutMs / 1000)} s: it hung after ${lastPhase(b)}, once the workload began`;
  const last = `last console lines:\n${tail(b.lines)}`;
  const where = join(c.workDir, 'console.log');
  if (sign) {
    return new KernelFailure(`${hung}, and the kernel under test reported: ${sign.text}\n${last}`, `read ${where} (kreplay triage reads it)`);
  }
  const seen = starved
    ? `its console shows no hung task, only "${starved.text}", which a guest prints too when the host does not run its virtual CPU (a loaded host, or TCG)`
    : 'its console shows no hung task, soft lockup or RCU stall';
  return new EnvironmentError(
    `${hung}, and ${seen}: whether the kernel under test deadlocked or the machine ran too slowly cannot be told\n${last}`,
    `run the capture again (a larger --timeout on a loaded host): a hang at the same phase again points at the kernel under test; ${hungTaskNote(b, begun, c)}; read ${where}`,
  );
}

export interface RunFiles {
  result: Record<string, number | string>;
  /** The workload's exit code, when the console said. */
  rc?: string;
  perCpu: CpuStats[];
  lost: number;
  /** This run's kprobe hits and misses. */
  kprobes: KprobeHits[];
  probeMisses: number;
  /** The cumulative kprobe_profile after this run (the next run's baseline). */
  profileNow: KprobeHits[];
}

/**
 * Kernel-log findings that can kill or stop a task (a WARN does not; nor do an RCU stall or a
 * soft lockup, which a starved virtual CPU prints too: isStarvationSign, session 42).
 */
const KILLING_KINDS: readonly LogFindingKind[] = ['panic', 'oops', 'bug', 'bad-page-cache', 'hung-task'];
const isKilling = (f: LogFinding): boolean => KILLING_KINDS.includes(f.kind) && !isStarvationSign(f);

/**
 * What run `i` left in out/run-<i>/; no result line is an environment error quoting the
 * workload (a user's reproducer need not print one: `requireResult` false). The ring
 * buffer's stats and the kprobe profile are what say nothing was lost: when they are
 * missing or garbled (a probe of `kprobes`, the profile's event names, not listed), the
 * run's losses are unknown, and that is an environment error too, never "lost 0".
 */
export async function readRun(
  guest: GuestShare,
  rdir: string,
  i: number,
  b: BootOutcome,
  workload: string,
  kprobesBefore: readonly KprobeHits[],
  requireResult = true,
  kprobes: readonly string[] = [],
  runLog: readonly LogFinding[] = [],
): Promise<RunFiles> {
  const wout = (await readOpt(guest, join(rdir, 'workload.out'))) ?? '';
  // the last such line: run.sh prints the workload's output to the console just before its own
  // line, so a workload that prints `KREPLAY_WORKLOAD_RC run=1 rc=0` and fails is not read as exit 0
  // (diff counts a run whose workload failed as inconclusive)
  const rcLine = b.lines.filter((l) => l.text.startsWith(`KREPLAY_WORKLOAD_RC run=${i} `)).pop()?.text;
  const rc = rcLine?.match(/rc=(\d+)/)?.[1];
  // (the shell's $? of the workload: 0..255)
  if (rc !== undefined && !((guestCount(rc) ?? 256) <= 255)) {
    throw new EnvironmentError(
      `the guest's console says the workload of run ${i} exited with ${quoteCount(rc)}, which no shell exit status is (0..255)`,
      `the guest broke the console protocol; read the console (console.log in the work folder)`,
    );
  }
  const result = parseResultLine(wout) ?? (requireResult ? undefined : {});
  const huge = Object.entries(result ?? {}).find(([, v]) => typeof v === 'string' && /^\d+$/.test(v));
  if (huge) {
    throw new EnvironmentError(
      `workload ${workload} printed ${huge[0]}=${quoteCount(String(huge[1]))} in its KREPLAY_RESULT line (run ${i}), more than a count kreplay holds exactly`,
      'the workload or the kernel under test garbled its result: run the capture again',
    );
  }
  // The kernel under test said it failed while the workload ran (an oops, a BUG, a bad page, a hung
  // task, a stall): the workload's silence is that kernel's doing as likely as the machine's, and
  // it is the kernel the capture is about — a finding, not an environment error.
  const failed = result ? undefined : runLog.find(isKilling);
  if (!result && failed) {
    throw new KernelFailure(
      `workload ${workload} printed no KREPLAY_RESULT line (run ${i}, exit ${rc ?? '?'}) and the kernel under test reported, while it ran: ${failed.text} (kernel.log line ${failed.line}${runLog.length > 1 ? `; ${runLog.length} kernel-log findings in this run` : ''}): the kernel may have killed or hung it`,
      "the kernel's own words are in the work folder's console.log and out/kernel.log: kreplay triage reads them",
    );
  }
  if (!result) {
    throw new EnvironmentError(
      `workload ${workload} printed no KREPLAY_RESULT line (run ${i}, exit ${rc ?? '?'}):\n${wout
        .trim()
        .split('\n')
        .slice(-10)
        .map((l) => `    ${l}`)
        .join('\n')}`,
      'the workload failed inside the guest: its output is above',
    );
  }
  const statsText = await readOpt(guest, join(rdir, 'stats.txt'));
  const statsBad = perCpuStatsProblem(statsText);
  const unknown = (why: string): EnvironmentError =>
    new EnvironmentError(
      `run ${i}: ${why}, so the events this run lost are unknown`,
      'the guest was cut short or its share is damaged: run the capture again (--keep-work keeps the share to look at)',
    );
  if (statsBad) throw unknown(statsBad);
  const perCpu = parsePerCpuStats(statsText!);
  const profileText = await readOpt(guest, join(rdir, 'kprobe_profile.txt'));
  if (kprobes.length > 0 && profileText === undefined) throw unknown('the guest wrote no kprobe_profile.txt');
  const profileBad = kprobeProfileProblem(profileText ?? '');
  if (profileBad) throw unknown(profileBad);
  const profileNow = parseKprobeProfile(profileText ?? '');
  const absent = kprobes.filter((k) => !profileNow.some((p) => p.event === k));
  if (absent.length) throw unknown(`kprobe_profile.txt does not list ${absent.join(', ')}`);
  const delta = kprobeDelta(profileNow, kprobesBefore);
  const backwards = delta.filter((k) => k.hits < 0 || k.misses < 0);
  if (backwards.length)
    throw unknown(
      `kprobe_profile.txt counts fewer hits or misses for ${backwards.map((k) => k.event).join(', ')} than after the run before (its counts only grow)`,
    );
  return { result, rc, perCpu, lost: lostEvents(perCpu), kprobes: delta, probeMisses: delta.reduce((n, k) => n + k.misses, 0), profileNow };
}

/**
 * The console says trace-cmd's extract of run `i` failed: a trace.dat the share holds for
 * it may be cut short (a full share, a killed trace-cmd) and is not kept — a cut trace.dat
 * read back later as complete would be a wrong "clean". The guest removes it too, but the
 * host does not rely on a guest for that.
 */
export function traceDatFailed(b: BootOutcome, i: number): boolean {
  return b.lines.some((l) => {
    const m = /^KREPLAY_WARN trace-cmd extract failed(?: run=(\d+))?\s*$/.exec(l.text);
    return m !== null && (m[1] === undefined || Number(m[1]) === i);
  });
}

/** Lost ring-buffer events or missed kprobe hits fail the run unless the user allowed them. */
export function checkLost(i: number, r: Pick<RunFiles, 'perCpu' | 'lost' | 'kprobes' | 'probeMisses'>, allowLost: boolean): void {
  if (allowLost) return;
  if (r.lost > 0) {
    throw new EnvironmentError(
      `run ${i}: ${r.lost} trace events were lost to ring-buffer overruns (${r.perCpu.map((c) => `cpu${c.cpu}: overrun ${c.overrun}, dropped ${c.dropped}`).join('; ')})`,
      'raise bufferSizeKb in the profile, shorten --duration, narrow the filters, or pass --allow-lost',
    );
  }
  if (r.probeMisses > 0) {
    throw new EnvironmentError(
      `run ${i}: ${r.probeMisses} kprobe hits were missed by the kernel (${r.kprobes
        .filter((k) => k.misses > 0)
        .map((k) => `${k.event}: ${k.misses} of ${k.hits + k.misses}`)
        .join('; ')})`,
      "a probe fired inside another probe's handler; drop the nested probe from the profile, or pass --allow-lost",
    );
  }
}

export interface GuestFacts {
  /** `vmemmap_base` as 0x-hex, or null when the guest could not read it (no symbol, no probe hit). */
  vmemmapBase: string | null;
  /** debugfs fault_around_bytes, or null when the guest could not read it. */
  faultAroundBytes: number | null;
  /** The test file's inode number and device (testfile.txt), -1 and `?` when the guest wrote none. */
  testFile: { ino: number; dev: string };
}

/**
 * The boot's facts meta.json keeps, from the guest's out/ files. Each is what one line of
 * guest-script.ts writes, or empty where the kernel had none; anything else is the guest
 * breaking the protocol, an EnvironmentError naming the file — it used to reach meta.json's
 * schema check and end the capture as an internal error (a ZodError, exit 70), and an empty
 * fault_around_bytes (no debugfs file) was kept as 0.
 */
export async function readGuestFacts(guest: GuestShare, out: string): Promise<GuestFacts> {
  const garbled = (file: string, text: string, want: string): EnvironmentError =>
    new EnvironmentError(
      `the guest wrote ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} into ${file}, not ${want}`,
      `the kernel or workload under test broke the capture protocol; the guest's files are in ${out}`,
    );
  const vb = (await readOpt(guest, join(out, 'vmemmap_base')))?.trim() ?? '';
  // (grep -o 'base=0x[0-9a-f]*' of the probe's event: an unsigned long)
  if (vb !== '' && !/^0x[0-9a-f]{1,16}$/.test(vb)) throw garbled('vmemmap_base', vb, 'an address in 0x-hex');
  const fabText = (await readOpt(guest, join(out, 'fault_around_bytes')))?.trim() ?? '';
  const fab = fabText === '' ? null : guestCount(fabText);
  if (fab === undefined) throw garbled('fault_around_bytes', fabText, 'a byte count');
  const tf = (await readOpt(guest, join(out, 'testfile.txt'))) ?? '';
  const inoText = /ino=(\d+)/.exec(tf)?.[1];
  const ino = inoText === undefined ? -1 : guestCount(inoText);
  if (ino === undefined) throw garbled('testfile.txt', tf.trim(), 'ino=<inode number> (one a double holds exactly)');
  return { vmemmapBase: vb || null, faultAroundBytes: fab, testFile: { ino, dev: /dev=(\d+:\d+)/.exec(tf)?.[1] ?? '?' } };
}
