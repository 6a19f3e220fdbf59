/**
 * Booting the capture guest under QEMU (through execa) with a bounded life: the guest
 * must print `KREPLAY_INIT` within `initTimeoutMs` and power off within `timeoutMs`, or
 * it is killed. The console is streamed line by line with host timestamps.
 *
 * KVM: `/dev/kvm` can exist and still be unusable — on a PVM guest it is `kvm_pvm`, under
 * which a stock kernel spins forever after "KASLR disabled". `auto` therefore skips KVM
 * when kvm_pvm is loaded, and a KVM boot that does not reach init in time is retried
 * with TCG by the caller (capture.ts).
 */
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { execa } from 'execa';
import { SHARE_TAG } from './initramfs.js';
import { guestText } from './guest-files.js';
import { EnvironmentError } from '@kreplay/core';

export type Accel = 'auto' | 'kvm' | 'tcg';

export interface KvmProbe {
  /** Worth trying under `auto`. */
  usable: boolean;
  /** /dev/kvm can be opened at all (an explicit `--accel kvm` tries it even when not `usable`). */
  openable: boolean;
  reason: string;
}

/** Whether KVM is worth trying: /dev/kvm readable and writable, and not kvm_pvm. */
export async function probeKvm(): Promise<KvmProbe> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { usable: false, openable: false, reason: existsSync('/dev/kvm') ? '/dev/kvm is not accessible to this user' : 'no /dev/kvm' };
  }
  let modules = '';
  try {
    modules = readFileSync('/proc/modules', 'utf8');
  } catch {
    /* not Linux, or hidden */
  }
  if (/^kvm_pvm\s/m.test(modules) || existsSync('/sys/module/kvm_pvm')) {
    return { usable: false, openable: true, reason: '/dev/kvm is kvm_pvm (this machine is itself a PVM guest); stock kernels hang under it' };
  }
  return { usable: true, openable: true, reason: '/dev/kvm is usable' };
}

/**
 * The accelerator to boot with first: KVM when it looks usable (or is asked for and can be
 * opened), TCG otherwise. A KVM boot that never reaches init is retried with TCG by the
 * caller under `auto`.
 */
export async function chooseAccel(wanted: Accel, probe: () => Promise<KvmProbe>): Promise<{ accel: 'kvm' | 'tcg'; note: string }> {
  if (wanted === 'tcg') return { accel: 'tcg', note: 'TCG requested' };
  const kvm = await probe();
  if (kvm.usable) return { accel: 'kvm', note: kvm.reason };
  if (wanted === 'auto') return { accel: 'tcg', note: `${kvm.reason}: using TCG` };
  if (!kvm.openable) throw new EnvironmentError(`--accel kvm: ${kvm.reason}`, 'use --accel tcg (or auto)');
  return { accel: 'kvm', note: `KVM requested although ${kvm.reason}` };
}

export interface BootSpec {
  qemu: string;
  accel: 'kvm' | 'tcg';
  kernel: string;
  initrd: string;
  append: string;
  disk: string;
  share: string;
  smp: number;
  memMb: number;
  initTimeoutMs: number;
  timeoutMs: number;
  consoleFile?: string;
  onLine?: (line: ConsoleLine) => void;
  signal?: AbortSignal;
}

export interface ConsoleLine {
  /** ms since QEMU started */
  ms: number;
  text: string;
}

export type BootEnd = 'exit' | 'init-timeout' | 'timeout' | 'panic' | 'aborted';

export interface BootOutcome {
  ended: BootEnd;
  exitCode?: number;
  /** Signal that ended QEMU (an assertion in QEMU itself ends it with SIGABRT). */
  signal?: string;
  /** ms from QEMU start to the guest's KREPLAY_INIT line */
  initMs?: number;
  lines: ConsoleLine[];
  stderr: string;
  wallMs: number;
  args: string[];
}

/** Console lines kept whole; past them (a guest that floods its console) see `ConsoleKeep`. */
const MAX_LINES = 50000;
/** ...and at most this many characters of them (50,000 lines of 16 KiB would be 800 MB). */
const MAX_HEAD_CHARS = 32 * 1024 * 1024;
/**
 * Bytes of one console line the host reads; the rest of the line is dropped (lineCutter).
 * The kernel's lines are under 1 KiB (printk's PRINTKRB_RECORD_MAX, kernel/printk/printk.c);
 * the protocol lines are short.
 */
export const MAX_LINE_BYTES = 16 * 1024;

/**
 * Cuts each console line after `max` bytes and says how many were dropped at its end. A line
 * ends at \n or \r, where readline splits them. The guest's console is the kernel under test's
 * and its workload's (run.sh prints workload.out to it): one line without a newline used to be
 * read whole — 300 MB of it took the host to 1.3 GB of memory, and past V8's longest string
 * (2^29 characters) it could not be read at all.
 */
export function lineCutter(max = MAX_LINE_BYTES): Transform {
  let run = 0;
  let dropped = 0;
  const note = (): Buffer => Buffer.from(` … (kreplay: ${dropped} more byte(s) of this line not kept)`);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out: Buffer[] = [];
      let from = 0;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (c === 0x0a || c === 0x0d) {
          if (dropped > 0) out.push(note());
          dropped = 0;
          run = 0;
        } else if (run < max) {
          run++;
        } else {
          if (dropped === 0) out.push(chunk.subarray(from, i));
          dropped++;
          from = i + 1;
        }
      }
      if (from < chunk.length) out.push(chunk.subarray(from));
      cb(null, Buffer.concat(out));
    },
    flush(cb) {
      cb(null, dropped > 0 ? note() : undefined);
    },
  });
}
/** Past MAX_LINES: the guest's protocol lines kept (at most), and the last lines kept for error messages. */
const MAX_PROTOCOL_LINES = 1000;
const TAIL_LINES = 50;

/**
 * The console lines a boot keeps, in memory bounded whatever the guest prints: the first
 * MAX_LINES; past them the protocol lines (`KREPLAY_…`: init, phases, each run's exit code, a
 * failed extract) that the host reads the guest's outcome from, and the last TAIL_LINES, which
 * errors quote as "last console lines", after a line that says how many were not kept. (Keeping
 * only the first MAX_LINES lost `KREPLAY_PHASE done` and quoted the 50,000th line as the last.)
 * console.log on disk keeps every line (each cut after MAX_LINE_BYTES, as lineCutter cuts them).
 */
export class ConsoleKeep {
  private readonly head: ConsoleLine[] = [];
  private readonly protocol: Array<[number, ConsoleLine]> = [];
  private readonly recent: Array<[number, ConsoleLine]> = [];
  private seen = 0;
  private headChars = 0;
  /** The head took its last line: MAX_LINES of them, or MAX_HEAD_CHARS. */
  private headFull = false;

  constructor(
    private readonly maxLines = MAX_LINES,
    private readonly tailLines = TAIL_LINES,
    private readonly maxHeadChars = MAX_HEAD_CHARS,
  ) {}

  add(line: ConsoleLine): void {
    const seq = this.seen++;
    if (!this.headFull && this.head.length < this.maxLines && this.headChars + line.text.length <= this.maxHeadChars) {
      this.head.push(line);
      this.headChars += line.text.length;
      return;
    }
    this.headFull = true;
    if (line.text.startsWith('KREPLAY_') && this.protocol.length < MAX_PROTOCOL_LINES) this.protocol.push([seq, line]);
    this.recent.push([seq, line]);
    if (this.recent.length > this.tailLines * 2) this.recent.splice(0, this.recent.length - this.tailLines);
  }

  /** The kept lines in the order they came, with one line for those not kept. */
  lines(): ConsoleLine[] {
    if (!this.headFull) return this.head;
    const recent = this.recent.slice(-this.tailLines);
    const byId = new Map<number, ConsoleLine>([...this.protocol, ...recent]);
    const later = [...byId.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l);
    const notKept = this.seen - this.head.length - later.length;
    const ms = later[0]?.ms ?? this.head[this.head.length - 1]?.ms ?? 0;
    return [
      ...this.head,
      { ms, text: `(kreplay: ${notKept} console line(s) not kept here after the first ${this.head.length}; console.log has them all)` },
      ...later,
    ];
  }
}

export function qemuArgs(spec: BootSpec): string[] {
  return [
    '-accel',
    spec.accel,
    '-smp',
    String(spec.smp),
    '-m',
    String(spec.memMb),
    '-kernel',
    spec.kernel,
    '-initrd',
    spec.initrd,
    '-append',
    spec.append,
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-nodefaults',
    '-no-reboot',
    '-drive',
    `file=${spec.disk},if=virtio,format=raw,cache=none`,
    '-virtfs',
    `local,path=${spec.share},mount_tag=${SHARE_TAG},security_model=none,id=kreplay`,
  ];
}

export async function qemuVersion(qemu: string): Promise<string> {
  const r = await execa(qemu, ['--version'], { reject: false });
  return String(r.stdout).split('\n')[0]?.trim() || 'unknown';
}

/** Boot, stream the console, and end within the spec's bounds. Never throws for a guest failure. */
export async function bootGuest(spec: BootSpec): Promise<BootOutcome> {
  const args = qemuArgs(spec);
  const start = Date.now();
  const kept = new ConsoleKeep();
  let ended: BootEnd | undefined;
  let initMs: number | undefined;
  let out: WriteStream | undefined;
  if (spec.consoleFile) out = createWriteStream(spec.consoleFile);
  const sub = execa(spec.qemu, args, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    buffer: { stdout: false, stderr: true },
  });
  const kill = (why: BootEnd): void => {
    if (ended === undefined) ended = why;
    sub.kill('SIGKILL');
  };
  const initTimer = setTimeout(() => {
    if (initMs === undefined) kill('init-timeout');
  }, spec.initTimeoutMs);
  const totalTimer = setTimeout(() => kill('timeout'), spec.timeoutMs);
  let panicTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => kill('aborted');
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  // An 'abort' listener never fires for a signal aborted already (a SIGINT while capture built
  // the initramfs or the disk image): without this the guest booted and ran to its timeout.
  if (spec.signal?.aborted) onAbort();
  const rl = createInterface({ input: sub.stdout!.pipe(lineCutter()), crlfDelay: Infinity });
  rl.on('line', (raw) => {
    // (control characters dropped: the console is the guest's text, quoted on the host's terminal: guestText)
    const line: ConsoleLine = { ms: Date.now() - start, text: guestText(raw) };
    kept.add(line);
    out?.write(`[${(line.ms / 1000).toFixed(3).padStart(8)}] ${line.text}\n`);
    if (initMs === undefined && line.text.startsWith('KREPLAY_INIT')) initMs = line.ms;
    if (line.text.includes('Kernel panic - not syncing') && !panicTimer) {
      ended ??= 'panic';
      panicTimer = setTimeout(() => kill('panic'), 3000); // panic=-1 + -no-reboot normally ends QEMU at once
    }
    spec.onLine?.(line);
  });
  const r = await sub;
  await new Promise<void>((res) => {
    if ((rl as unknown as { closed?: boolean }).closed) res();
    else rl.once('close', () => res());
  });
  clearTimeout(initTimer);
  clearTimeout(totalTimer);
  if (panicTimer) clearTimeout(panicTimer);
  spec.signal?.removeEventListener('abort', onAbort);
  if (out) await new Promise<void>((res) => out!.end(() => res()));
  return {
    ended: ended ?? 'exit',
    exitCode: r.exitCode,
    signal: r.signal ?? undefined,
    initMs,
    lines: kept.lines(),
    stderr: String(r.stderr ?? ''),
    wallMs: Date.now() - start,
    args,
  };
}
