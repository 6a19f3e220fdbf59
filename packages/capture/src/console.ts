/**
 * Reading what the guest said: kernel-log findings (WARN, BUG, "Bad page cache", oops,
 * panic), the console protocol of guest-script.ts, the workload's result line, and
 * tracefs per_cpu stats.
 */

export type LogFindingKind = 'panic' | 'oops' | 'bug' | 'bad-page-cache' | 'warn' | 'hung-task' | 'rcu-stall';

export interface LogFinding {
  kind: LogFindingKind;
  /** 1-based line in the scanned text. */
  line: number;
  text: string;
}

/** Kinds that mean the guest kernel is no longer trustworthy: the capture fails. */
export const FATAL_KINDS: readonly LogFindingKind[] = ['panic', 'oops'];

const PATTERNS: Array<[LogFindingKind, RegExp]> = [
  ['panic', /Kernel panic - not syncing/],
  ['bad-page-cache', /BUG: Bad page (cache|state|map)/],
  ['oops', /\bOops:|kernel BUG at |BUG: unable to handle|BUG: kernel NULL pointer|general protection fault|invalid opcode:/],
  ['bug', /\bBUG: /],
  ['warn', /\bWARNING: |------------\[ cut here \]------------/],
  ['hung-task', /blocked for more than \d+ seconds/],
  ['rcu-stall', /rcu: INFO: .*detected stalls?/],
];

/** Strip a `[   12.345678] ` printk timestamp. */
function bare(line: string): string {
  return line.replace(/^\[\s*\d+\.\d+\]\s*/, '');
}

/** WARN/BUG/oops/panic lines, in order; each line counts once, under its most specific kind. */
export function scanKernelLog(text: string): LogFinding[] {
  const out: LogFinding[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = bare(raw.replace(/\r$/, ''));
    for (const [kind, re] of PATTERNS) {
      if (re.test(line)) {
        if (!(kind === 'warn' && line.includes('cut here'))) out.push({ kind, line: i + 1, text: line.trim() });
        break;
      }
    }
  });
  return out;
}

/**
 * The findings of run `run` (1-based) of `runs` in one boot's kernel log. The guest script
 * prints `kreplay: run N begin` to /dev/kmsg before each run, so a run owns the lines from its
 * marker to the next run's; what the boot printed before the first run is run 1's. Every
 * finding then belongs to exactly one run, and a diff's per-run `kernel_log.*` counts add up
 * to the boot's. A log without one ordered marker per run (a capture made before the markers,
 * or a guest that could not write /dev/kmsg) gives every run the whole boot's findings, as
 * such captures always did.
 */
export function findingsOfRun(log: string, findings: readonly LogFinding[], run: number, runs: number): LogFinding[] {
  if (runs === 1) return [...findings];
  const begins: number[] = [];
  log.split('\n').forEach((raw, i) => {
    const m = /\bkreplay: run (\d+) begin\s*$/.exec(raw.replace(/\r$/, ''));
    if (m && Number(m[1]) === begins.length + 1) begins.push(i + 1);
  });
  if (begins.length !== runs) return [...findings];
  const from = run === 1 ? 1 : begins[run - 1]!;
  const to = run === runs ? Number.POSITIVE_INFINITY : begins[run]!;
  return findings.filter((f) => f.line >= from && f.line < to);
}

/**
 * A decimal count the guest printed, as a number, or undefined when a double cannot hold it
 * exactly (above 2^53 − 1, Number.MAX_SAFE_INTEGER). The guest is the kernel under test: a
 * garbled counter read as 1e400 became Infinity (and NaN once two were subtracted, which
 * compares as no loss), and one just above 2^53 rounds to its neighbour, so a miss of 1 in a
 * per-run difference vanished.
 */
export function guestCount(digits: string): number | undefined {
  const n = Number(digits);
  return /^\d+$/.test(digits) && Number.isSafeInteger(n) ? n : undefined;
}

/** A guest number quoted in an error: at most 24 digits of it. */
export function quoteCount(digits: string): string {
  return digits.length > 24 ? `${digits.slice(0, 24)}… (${digits.length} digits)` : digits;
}

/**
 * `KREPLAY_RESULT workload=x key=123 ...` → fields (numbers where numeric). A number too
 * large to hold exactly stays the digits the workload printed (readRun refuses it).
 */
export function parseResultLine(text: string): Record<string, number | string> | undefined {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('KREPLAY_RESULT '));
  if (!line) return undefined;
  const out: Record<string, number | string> = {};
  for (const tok of line.slice('KREPLAY_RESULT '.length).trim().split(/\s+/)) {
    const eq = tok.indexOf('=');
    if (eq <= 0) continue;
    const v = tok.slice(eq + 1);
    out[tok.slice(0, eq)] = guestCount(v) ?? v;
  }
  return out;
}

export interface CpuStats {
  cpu: number;
  entries: number;
  overrun: number;
  commitOverrun: number;
  dropped: number;
  readEvents: number;
  bytes: number;
}

/** The `== cpuN` blocks guest-script.ts writes from per_cpu/cpuN/stats. */
export function parsePerCpuStats(text: string): CpuStats[] {
  const out: CpuStats[] = [];
  let cur: CpuStats | undefined;
  for (const line of text.split('\n')) {
    const head = /^== cpu(\d+)$/.exec(line.trim());
    if (head) {
      cur = { cpu: Number(head[1]), entries: 0, overrun: 0, commitOverrun: 0, dropped: 0, readEvents: 0, bytes: 0 };
      out.push(cur);
      continue;
    }
    const kv = /^([a-z ]+):\s*(\d+)\s*$/.exec(line.trim());
    if (!cur || !kv) continue;
    const n = Number(kv[2]);
    switch (kv[1]) {
      case 'entries':
        cur.entries = n;
        break;
      case 'overrun':
        cur.overrun = n;
        break;
      case 'commit overrun':
        cur.commitOverrun = n;
        break;
      case 'dropped events':
        cur.dropped = n;
        break;
      case 'read events':
        cur.readEvents = n;
        break;
      case 'bytes':
        cur.bytes = n;
        break;
      default:
        break;
    }
  }
  return out;
}

/** The fields of a per_cpu `stats` file that count lost events: without all three, losses are unknown. */
const LOSS_FIELDS = ['overrun', 'commit overrun', 'dropped events'] as const;

/**
 * Why the guest's stats.txt cannot vouch for a loss-free ring buffer, or undefined when it
 * can: missing, no `== cpuN` block, or a block without one of the loss counters (a guest
 * cut short, a file truncated or garbled). parsePerCpuStats reads a missing counter as 0,
 * so such a file would otherwise read as "nothing lost".
 */
export function perCpuStatsProblem(text: string | undefined): string | undefined {
  if (text === undefined) return 'the guest wrote no stats.txt';
  const seen = new Map<string, Set<string>>();
  let cur: Set<string> | undefined;
  let cpu = '';
  for (const line of text.split('\n')) {
    const head = /^== (cpu\d+)$/.exec(line.trim());
    if (head) {
      cur = new Set();
      cpu = head[1]!;
      seen.set(cpu, cur);
      continue;
    }
    const kv = /^([a-z ]+):\s*(\d+)\s*$/.exec(line.trim());
    if (cur && kv) {
      if (guestCount(kv[2]!) === undefined) return `stats.txt's ${cpu} block counts ${kv[1]} ${quoteCount(kv[2]!)}, more than a count kreplay holds exactly`;
      cur.add(kv[1]!);
    }
  }
  if (seen.size === 0) return 'stats.txt holds no per-CPU block (== cpuN)';
  for (const [cpu, fields] of seen) {
    const missing = LOSS_FIELDS.filter((f) => !fields.has(f));
    if (missing.length) return `stats.txt's ${cpu} block has no ${missing.join(', ')} count`;
  }
  return undefined;
}

/** Events lost to a full ring buffer, summed over CPUs. */
export function lostEvents(stats: readonly CpuStats[]): number {
  return stats.reduce((n, s) => n + s.overrun + s.commitOverrun + s.dropped, 0);
}

export interface KprobeHits {
  /** `group/event` as kprobe_profile names it */
  event: string;
  hits: number;
  /** Hits the kernel could not record (a probe fired while another probe's handler ran). */
  misses: number;
}

/** /sys/kernel/tracing/kprobe_profile: `group/event  hits  misses` per line. */
export function parseKprobeProfile(text: string): KprobeHits[] {
  const out: KprobeHits[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out.push({ event: m[1], hits: Number(m[2]), misses: Number(m[3]) });
  }
  return out;
}

/** Why kprobe_profile.txt cannot be read as counts (a count no double holds exactly), or undefined. */
export function kprobeProfileProblem(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    const bad = m && [m[2]!, m[3]!].find((d) => guestCount(d) === undefined);
    if (bad) return `kprobe_profile.txt counts ${quoteCount(bad)} for ${m[1]}, more than a count kreplay holds exactly`;
  }
  return undefined;
}

/** Per-run counts from cumulative profiles (kprobe_profile counts since each probe was created). */
export function kprobeDelta(now: readonly KprobeHits[], before: readonly KprobeHits[]): KprobeHits[] {
  const prev = new Map(before.map((k) => [k.event, k]));
  return now.map((k) => ({ event: k.event, hits: k.hits - (prev.get(k.event)?.hits ?? 0), misses: k.misses - (prev.get(k.event)?.misses ?? 0) }));
}
