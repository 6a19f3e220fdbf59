/**
 * The per-run guest script (run.sh), written into the run folder the guest mounts over
 * virtio-9p, so the initramfs stays generic: the same image runs any profile, workload
 * and duration. The script checks every tracefs write; a rejected one leaves
 * out/tracefs-error.txt naming the probe, the file, the value and the kernel's message
 * (including tracefs's error_log), and the guest powers off.
 *
 * Console protocol (read by console.ts and outcome.ts): `KREPLAY_PHASE <name> [k=v]`,
 * `KREPLAY_FAIL <what>`, `KREPLAY_WORKLOAD_RC run=N rc=X`. The workload's output (with its
 * `KREPLAY_RESULT ...` line, read from workload.out) is shown on the console with each line
 * prefixed `workload| `, so that nothing a workload prints is read as a protocol line.
 */
import type { CaptureProfile } from './profile.js';
import { kprobeEventName } from './profile.js';
import { applyOffsets, type OffsetsTable } from './fetch-offsets.js';
import { shQuote, shTemplate } from './shell.js';

/** Where things are inside the guest. */
export const GUEST = {
  share: '/mnt/run',
  out: '/mnt/run/out',
  disk: '/mnt/disk',
  testFile: '/mnt/disk/kreplay-test',
  tracefs: '/sys/kernel/tracing',
  debugfs: '/sys/kernel/debug',
  bin: '/bin',
} as const;

export const KPROBE_GROUP = 'kreplay';
/** Function and kprobe that read `vmemmap_base` at run time (triggered by sync(2)). */
export const VMEMMAP_PROBE = { group: 'kreplay_vb', event: 'vmemmap_base', fn: 'ksys_sync' } as const;

export interface TracefsStep {
  /** What the write is for, as an error names it: `kprobe filemap_fault`, `filter mm_filemap_add_to_page_cache`. */
  label: string;
  /** Path relative to tracefs, or absolute. */
  file: string;
  /** Value: literal, or with `${ino}`/`${dev}` filled in the guest. */
  value: string;
  append?: boolean;
}

/** The tracefs writes a profile resolves to, in order (probe definitions, filters, enables). */
export function tracefsPlan(p: CaptureProfile, offsets: OffsetsTable): TracefsStep[] {
  const steps: TracefsStep[] = [];
  for (const k of p.kprobes) {
    const name = kprobeEventName(k);
    const where = `kprobe ${name}`;
    const args = Object.entries(k.fetch).map(([n, e]) => `${n}=${applyOffsets(e, offsets, where)}`);
    const def = [`${k.type === 'kretprobe' ? 'r' : 'p'}:${KPROBE_GROUP}/${name}`, k.function, ...args].join(' ');
    steps.push({ label: where, file: 'kprobe_events', value: def, append: true });
  }
  const events = [
    ...p.tracepoints.map((t) => ({ dir: `events/${t.event.replace(':', '/')}`, label: t.event, filter: t.filter })),
    ...p.kprobes.map((k) => ({ dir: `events/${KPROBE_GROUP}/${kprobeEventName(k)}`, label: `kprobe ${kprobeEventName(k)}`, filter: k.filter })),
  ];
  for (const e of events) {
    if (e.filter) steps.push({ label: `filter of ${e.label}`, file: `${e.dir}/filter`, value: e.filter });
  }
  for (const e of events) steps.push({ label: `enable ${e.label}`, file: `${e.dir}/enable`, value: '1' });
  return steps;
}

export interface GuestRunSpec {
  profile: CaptureProfile;
  offsets: OffsetsTable;
  /** Workload binary name inside the initramfs (`/bin/<name>`). */
  workloadBinary: string;
  durationMs: number;
  runs: number;
  /** Functions to find in /proc/kallsyms before any probe is set. */
  functions: readonly string[];
  traceCmd: boolean;
}

function tw(step: TracefsStep): string {
  const file = step.file.startsWith('/') ? step.file : `$T/${step.file}`;
  return `tw ${shQuote(step.label)} ${file} ${shTemplate(step.value)}${step.append ? ' append' : ''}`;
}

/** run.sh for one boot: set tracing up once, then run the workload `runs` times. */
export function guestScript(spec: GuestRunSpec): string {
  const p = spec.profile;
  const fns = spec.functions;
  const L: string[] = [];
  L.push(
    '#!/bin/sh',
    '# Written by kreplay capture for one boot; run by the initramfs /init from the 9p share.',
    `R=${GUEST.share}; O=${GUEST.out}; T=${GUEST.tracefs}; F=${GUEST.testFile}`,
    'phase() { echo "KREPLAY_PHASE $*"; }',
    'fail() { echo "$*" > $O/failure.txt; echo "KREPLAY_FAIL $*"; exit 1; }',
    '# tw LABEL FILE VALUE [append]: write VALUE to a tracefs FILE, or record why the kernel refused.',
    'tw() {',
    '  # (through cat: it names the errno of a refused write, the printf builtin stays silent)',
    '  if [ "$4" = append ]; then printf \'%s\\n\' "$3" | cat >> "$2" 2>$O/tw.err; else printf \'%s\\n\' "$3" | cat > "$2" 2>$O/tw.err; fi',
    '  if [ $? -ne 0 ]; then',
    '    { echo "label=$1"; echo "file=$2"; echo "value=$3"; echo "error=$(cat $O/tw.err)";',
    '      echo "error_log:"; tail -n 5 $T/error_log 2>/dev/null; } > $O/tracefs-error.txt',
    '    fail "tracefs write refused: $1"',
    '  fi',
    '}',
    'phase setup',
    // what the kernel applied of the command line's hung-task settings (outcome.ts HUNG_TASK; `none`: no detector)
    'phase hung-task timeout=$(cat /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null || echo none) interval=$(cat /proc/sys/kernel/hung_task_check_interval_secs 2>/dev/null || echo none)',
    `mkdir -p ${GUEST.disk} && mount -t ext4 -o noatime /dev/vda ${GUEST.disk} || fail "cannot mount the ext4 disk /dev/vda"`,
    `[ -w $T/trace ] || fail "tracefs is not mounted at $T"`,
    'uname -r > $O/release',
    'cat /proc/cmdline > $O/cmdline',
    // One pass over /proc/kallsyms with fixed strings (slow to generate under TCG), then exact checks.
    `grep -w -F ${[...fns, 'vmemmap_base'].map((f) => `-e ${f}`).join(' ')} /proc/kallsyms > $O/kallsyms.txt`,
    'missing=""',
    // (a module's symbol is followed by a tab and [module])
    `for fn in ${fns.join(' ')}; do grep -qE " [tTwW] $fn([[:space:]]|\\$)" $O/kallsyms.txt || missing="$missing $fn"; done`,
    '[ -z "$missing" ] || { echo "$missing" > $O/missing-symbols.txt; fail "functions not in /proc/kallsyms:$missing"; }',
    'phase kallsyms-checked',
    // The format of every tracepoint the profile enables, as this kernel states it (meta.json
    // keeps them; capture checks the profile's meanings against what they print).
    'mkdir -p $O/formats; missing=""',
    ...(p.tracepoints.length
      ? [
          `for ev in ${p.tracepoints.map((t) => t.event.replace(':', '/')).join(' ')}; do`,
          '  if [ -r $T/events/$ev/format ]; then cat $T/events/$ev/format > $O/formats/${ev%%/*}.${ev#*/}.format; else missing="$missing ${ev%%/*}:${ev#*/}"; fi',
          'done',
        ]
      : []),
    '[ -z "$missing" ] || { echo "$missing" > $O/missing-tracepoints.txt; fail "tracepoints not in this kernel:$missing"; }',
    // (phases between the slow steps, so that a guest that hangs says after which one)
    'phase formats-read',
    // The test file, and its identity for the filters.
    `dd if=/dev/zero of=$F bs=4096 count=${p.filePages} 2>/dev/null || fail "cannot create $F"`,
    'sync',
    'KR_INO=$(stat -c %i $F); D=$(stat -c %d $F)',
    'KR_MAJOR=$(( (D >> 8) & 0xfff )); KR_MINOR=$(( (D & 0xff) | ((D >> 12) & 0xfff00) ))',
    'KR_DEV=$(( (KR_MAJOR << 20) | KR_MINOR ))',
    'echo "ino=$KR_INO dev=$KR_MAJOR:$KR_MINOR kdev=$KR_DEV" > $O/testfile.txt',
    'phase test-file-made',
    // Global tracing settings.
    "tw 'tracing_on' $T/tracing_on 0",
    `tw 'trace_clock' $T/trace_clock ${shQuote(p.traceClock)}`,
    `tw 'buffer_size_kb' $T/buffer_size_kb ${p.bufferSizeKb}`,
    // Each event line's thread group, the `(tgid)` column: the workloads are threads of one
    // process, and replay reads a pid without one as its own address space (a thread's PTE
    // then never replaces another thread's). The kernel saves a task's tgid at sched_switch
    // once this is on (tracing_record_taskinfo_sched_switch) and prints it with each line.
    "tw 'record-tgid' $T/options/record-tgid 1",
  );
  if (p.faultAroundBytes !== 'default') {
    L.push(`tw 'fault_around_bytes' ${GUEST.debugfs}/fault_around_bytes ${p.faultAroundBytes}`);
  }
  L.push(`cat ${GUEST.debugfs}/fault_around_bytes > $O/fault_around_bytes 2>/dev/null`);
  // vmemmap_base at run time: a kprobe fetching the variable, in its own instance.
  const vb = VMEMMAP_PROBE;
  L.push(
    "if grep -qE ' [dDbB] vmemmap_base$' $O/kallsyms.txt; then",
    `  tw 'vmemmap_base probe' $T/kprobe_events 'p:${vb.group}/${vb.event} ${vb.fn} base=@vmemmap_base:x64' append`,
    `  mkdir $T/instances/${vb.group} || fail "cannot create a tracefs instance"`,
    `  tw 'enable vmemmap_base probe' $T/instances/${vb.group}/events/${vb.group}/${vb.event}/enable 1`,
    '  phase vmemmap-probe-on',
    '  sync',
    `  grep -o 'base=0x[0-9a-f]*' $T/instances/${vb.group}/trace | head -n 1 | cut -d= -f2 > $O/vmemmap_base`,
    `  tw 'disable vmemmap_base probe' $T/instances/${vb.group}/events/${vb.group}/${vb.event}/enable 0`,
    `  rmdir $T/instances/${vb.group} || fail "cannot remove the tracefs instance ${vb.group}"`,
    `  tw 'remove vmemmap_base probe' $T/kprobe_events '-:${vb.group}/${vb.event}' append`,
    'fi',
  );
  L.push('phase vmemmap-read');
  for (const s of tracefsPlan(p, spec.offsets)) L.push(tw(s));
  L.push('cat $T/kprobe_events > $O/kprobe_events.txt', 'phase setup-done');
  L.push(
    `i=1; while [ $i -le ${spec.runs} ]; do`,
    '  D=$O/run-$i; mkdir -p $D',
    '  # the kernel log is one per boot: this line splits it by run (findingsOfRun)',
    '  echo "kreplay: run $i begin" > /dev/kmsg 2>/dev/null',
    '  sync; echo 3 > /proc/sys/vm/drop_caches',
    "  tw 'clear the ring buffer' $T/trace ''",
    "  tw 'tracing_on' $T/tracing_on 1",
    '  phase workload run=$i',
    `  ${GUEST.bin}/${spec.workloadBinary} $F ${p.filePages} ${spec.durationMs} > $D/workload.out 2>&1`,
    '  rc=$?',
    "  tw 'tracing_on' $T/tracing_on 0",
    // (each line prefixed: a workload line such as `KREPLAY_WORKLOAD_RC run=1 rc=0` is then no protocol line)
    "  sed 's/^/workload| /' $D/workload.out",
    '  echo "KREPLAY_WORKLOAD_RC run=$i rc=$rc"',
    '  for c in $T/per_cpu/cpu*; do echo "== ${c##*/}"; cat $c/stats; done > $D/stats.txt',
    '  cat $T/kprobe_profile > $D/kprobe_profile.txt',
    '  phase dump run=$i',
    '  cat $T/trace > $D/trace.txt || fail "cannot copy the trace to the share"',
  );
  if (spec.traceCmd) {
    L.push(
      '  if [ -x /bin/trace-cmd ]; then',
      '    phase trace-cmd run=$i',
      // a failed extract may leave a partial trace.dat: the host keeps none of this run's (traceDatFailed)
      '    /bin/trace-cmd extract -o $D/trace.dat > $D/trace-cmd.log 2>&1 || { rm -f $D/trace.dat; echo "KREPLAY_WARN trace-cmd extract failed run=$i"; }',
      // a trace.dat holds no thread groups: the table the text trace's `(tgid)` column is read from,
      // as it is now (tracing is off, so no task changes it), saved beside it (core saved-tgids.ts)
      '    cat $T/saved_tgids > $D/saved_tgids 2>/dev/null || rm -f $D/saved_tgids',
      '  fi',
    );
  }
  L.push('  i=$((i + 1))', 'done');
  L.push('dmesg > $O/kernel.log', 'sync', 'phase done', '');
  return L.join('\n');
}
