/**
 * capture() end to end against a stand-in for qemu-system-x86_64 (a shell script on PATH
 * that plays the guest: it hangs under KVM like kvm_pvm does, and under TCG writes what
 * the real guest script writes into the 9p share). Needs the host tools capture uses
 * besides QEMU (gcc, busybox-static, mkfs.ext4): skipped without them, with one summary
 * (test-support/tools.ts), a failure under KREPLAY_STRICT_TOOLS=1.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { capture, type CaptureOptions } from '../src/capture.js';
import { parseProfile } from '../src/profile.js';
import { CaptureMetaSchema } from '../src/meta.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-capture-fake-'));
const bin = path.join(tmp, 'bin');
const savedPath = process.env.PATH;

const FAKE_QEMU = `#!/bin/sh
accel=; share=; append=
while [ $# -gt 0 ]; do
  case "$1" in
    --version) echo "QEMU emulator version 0.0-fake"; exit 0;;
    -accel) accel=$2; shift;;
    -virtfs) share=$(echo "$2" | sed 's/^local,path=\\([^,]*\\),.*/\\1/'); shift;;
    -append) append=$2; shift;;
  esac
  shift
done
if [ "$accel" = kvm ]; then echo "KASLR disabled"; exec sleep 60; fi
O=$share/out; mkdir -p $O/run-1
# boots counted in $FAKE_BOOTS when set; a kernel that panics before init: on the first boot only
# (bootpanic, as TCG's int3 flake does), or on every boot
n=0
if [ -n "$FAKE_BOOTS" ]; then n=$(cat "$FAKE_BOOTS" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$FAKE_BOOTS"; fi
if [ "$FAKE_MODE" = bootpanic ] || [ "$FAKE_MODE" = bootpanic-always ]; then
  if [ "$FAKE_MODE" = bootpanic-always ] || [ $n -eq 1 ]; then
    echo "[    2.79] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI (boot $n)"
    echo "[    2.79] RIP: 0010:sched_clock_cpu+0x9/0x190"
    echo "[    2.80] Kernel panic - not syncing: Fatal exception in interrupt"
    exit 0
  fi
fi
echo "KREPLAY_INIT release=6.1.0-fake"
echo "KREPLAY_PHASE setup"
# a guest that hangs setting tracing up (on the first boot only, or on every boot), leaving a
# file behind that the second boot must not be read with; or one that hangs in its workload
if [ "$FAKE_MODE" = setuphang ] || [ "$FAKE_MODE" = setuphang-always ]; then
  if [ "$FAKE_MODE" = setuphang-always ] || [ $n -eq 1 ]; then
    echo "KREPLAY_PHASE kallsyms-checked"
    echo "left by boot $n" > $O/failure.txt
    exec sleep 60
  fi
fi
if [ "$FAKE_MODE" = panic ]; then
  echo "[    9.1] kernel BUG at mm/truncate.c:653!"
  echo "[    9.1] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI"
  echo "[    9.2] Kernel panic - not syncing: Fatal exception"
  exit 0
fi
if [ "$FAKE_MODE" = oops ]; then
  echo "[    9.1] BUG: kernel NULL pointer dereference, address: 0000000000000008"
  echo "[    9.1] Oops: 0000 [#1] PREEMPT SMP NOPTI"
fi
if [ "$FAKE_MODE" = tracefs ]; then
  printf 'label=kprobe filemap_fault\\nfile=/sys/kernel/tracing/kprobe_events\\nvalue=p:kreplay/filemap_fault filemap_fault x=+16($arg1):u99\\nerror=cat: write error: Invalid argument\\nerror_log:\\n[ 1.0] trace_kprobe: error: Unknown type is specified\\n' > $O/tracefs-error.txt
  echo "tracefs write refused: kprobe filemap_fault" > $O/failure.txt
  echo "KREPLAY_FAIL tracefs write refused: kprobe filemap_fault"; echo "KREPLAY_EXIT rc=1"; exit 0
fi
if [ "$FAKE_MODE" = missingtp ]; then
  echo " filemap:mm_filemap_fault" > $O/missing-tracepoints.txt
  echo "tracepoints not in this kernel: filemap:mm_filemap_fault" > $O/failure.txt
  echo "KREPLAY_FAIL tracepoints not in this kernel: filemap:mm_filemap_fault"; echo "KREPLAY_EXIT rc=1"; exit 0
fi
mkdir -p $O/formats
printf 'name: mm_filemap_fault\nID: 572\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\tfield:unsigned long i_ino;\toffset:8;\tsize:8;\tsigned:0;\n\tfield:dev_t s_dev;\toffset:16;\tsize:4;\tsigned:0;\n\tfield:unsigned long index;\toffset:24;\tsize:8;\tsigned:0;\n\nprint fmt: "dev=%%d:%%d ino=%%lx ofs=%%lld", ((unsigned int) ((REC->s_dev) >> 20)), ((unsigned int) ((REC->s_dev) & ((1U << 20) - 1))), REC->i_ino, ((loff_t)REC->index) << 12\n' > $O/formats/filemap.mm_filemap_fault.format
echo 6.1.0-fake > $O/release
echo 'ino=12 dev=254:0 kdev=266338304' > $O/testfile.txt
echo 0xffffea0000000000 > $O/vmemmap_base
[ "$FAKE_MODE" = badvmemmap ] && echo 'base=0xzz' > $O/vmemmap_base
echo 4096 > $O/fault_around_bytes
echo 'p:kreplay/filemap_fault filemap_fault' > $O/kprobe_events.txt
# the kernel's hung-task detector as run.sh reads it from /proc/sys: the command line's sysctl.
# settings (do_sysctl_args), else Debian's CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=120, checked as often
ht=$(echo " $append " | sed -n 's/.* sysctl\\.kernel\\.hung_task_timeout_secs=\\([0-9]*\\) .*/\\1/p')
hi=$(echo " $append " | sed -n 's/.* sysctl\\.kernel\\.hung_task_check_interval_secs=\\([0-9]*\\) .*/\\1/p')
echo "KREPLAY_PHASE hung-task timeout=\${ht:-120} interval=\${hi:-0}"
echo "KREPLAY_PHASE setup-done"
runs=$(sed -n 's/.*while \\[ \\$i -le \\([0-9]*\\) \\].*/\\1/p' $share/run.sh)
i=1; while [ $i -le $runs ]; do
  mkdir -p $O/run-$i
  echo "KREPLAY_PHASE workload run=$i"
  [ "$FAKE_MODE" = workloadhang ] && exec sleep 60
  if [ "$FAKE_MODE" = workloadpanic ]; then
    echo "[    9.1] kernel BUG at mm/filemap.c:154!"
    echo "[    9.1] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI"
    echo "[    9.2] Kernel panic - not syncing: Fatal exception"
    exit 0
  fi
  [ "$FAKE_MODE" = noresult ] || [ "$FAKE_MODE" = killed ] || [ "$FAKE_MODE" = stalled ] || echo "KREPLAY_RESULT workload=odirect-race duration_ms=500 writes=$((i * 3)) mismatches=0" > $O/run-$i/workload.out
  echo "KREPLAY_WORKLOAD_RC run=$i rc=0"
  printf '== cpu0\\nentries: 2\\noverrun: %s\\ncommit overrun: 0\\nbytes: 100\\ndropped events: 0\\nread events: 0\\n' "\${FAKE_OVERRUN:-0}" > $O/run-$i/stats.txt
  # a guest cut short: the stats file ends after its first line
  [ "$FAKE_MODE" = cutstats ] && printf '== cpu0\\nentries: 2\\n' > $O/run-$i/stats.txt
  printf '  filemap_fault %d 0\\n' $((i * i * 10)) > $O/run-$i/kprobe_profile.txt
  # (entries-written: the 2 entries plus the overwritten ones, as stats.txt's overrun counts them)
  printf '# tracer: nop\\n#\\n# entries-in-buffer/entries-written: 2/%d   #P:2\\n#\\n kr-write-5 [000] ..... 1.000001: tracing_mark_write: kreplay: phase=race begin\\n kr-write-5 [000] ..... 1.000002: tracing_mark_write: kreplay: phase=race end\\n' $((2 + \${FAKE_OVERRUN:-0})) > $O/run-$i/trace.txt
  # a guest whose copy of the trace stopped after its first event (a full share, a killed cat)
  [ "$FAKE_MODE" = cuttrace ] && sed -i '$d' $O/run-$i/trace.txt
  echo "KREPLAY_PHASE dump run=$i"
  i=$((i + 1))
done
printf '[ 0.0] Linux version 6.1.0-fake\\n[ 1.0] WARNING: CPU: 0 PID: 1 at mm/filemap.c:1 x\\n' > $O/kernel.log
# the kernel under test killed the workload: a BUG in its log while it ran, no result line
[ "$FAKE_MODE" = killed ] && printf '[ 2.0] BUG: Bad page cache in process kr-odirect-race  pfn:0d000\\n' >> $O/kernel.log
# no result line beside an RCU stall and a soft lockup alone: what a starved virtual CPU prints too
[ "$FAKE_MODE" = stalled ] && printf '[ 2.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\\n[ 2.5] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [kr-fault:172]\\n' >> $O/kernel.log
[ "$FAKE_MODE" = nolog ] && rm -f $O/kernel.log
# The malicious guest: kernel.log made a link to a host file, hoping capture copies it out.
if [ "$FAKE_MODE" = symlink ]; then rm -f $O/kernel.log; ln -s "$FAKE_SECRET" $O/kernel.log; fi
echo "KREPLAY_PHASE done"
echo "KREPLAY_EXIT rc=0"
exit 0
`;

const kernelImage = path.join(tmp, 'bzImage');

beforeAll(() => {
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'qemu-system-x86_64'), FAKE_QEMU);
  chmodSync(path.join(bin, 'qemu-system-x86_64'), 0o755);
  writeFileSync(kernelImage, 'not booted by the fake');
  process.env.PATH = `${bin}:${savedPath}`;
});
afterAll(() => {
  process.env.PATH = savedPath;
  rmSync(tmp, { recursive: true, force: true });
  delete process.env.FAKE_MODE;
  delete process.env.FAKE_OVERRUN;
});

/** Await a failing capture, check the error, and remove the work folder it kept for the user. */
async function expectFailure(p: Promise<unknown>, match: Record<string, unknown>): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toMatchObject(match);
  const kept = /work folder kept: (\S+)\)/.exec(String((e as { hint?: string }).hint))?.[1];
  expect(kept).toBeDefined();
  rmSync(kept!, { recursive: true, force: true });
}

const profile = parseProfile('name: fake\nkprobes:\n  - function: filemap_fault\n    meaning: { op: fault_begin }\n', 'fake.yaml');
const base = (out: string): CaptureOptions => ({
  kernel: { image: kernelImage, release: '6.1.0-fake', source: 'path:fake', configFragment: 'kreplay.config@sha256:00', patches: ['fix.patch@sha256:11'] },
  offsets: { release: '6.1.0-fake', source: 'test', offsets: {}, sizes: { page: 64 } },
  profile,
  profileFile: 'fake.yaml',
  workload: 'odirect-race',
  durationMs: 500,
  outDir: path.join(tmp, out),
  cacheDir: path.join(tmp, 'cache'),
  accel: 'auto',
  initTimeoutMs: 1500,
  timeoutMs: 10_000,
  kvmProbe: async () => ({ usable: true, openable: true, reason: 'test says KVM works' }),
});

describeWithTools([TOOLS.gcc, TOOLS.busybox, TOOLS.mkfsExt4], 'capture() with a stand-in QEMU', () => {
  it('falls back from a KVM that never reaches init to TCG and writes trace.txt.gz, meta.json and kernel.log', async () => {
    delete process.env.FAKE_MODE;
    const r = await capture(base('ok'));
    const m = CaptureMetaSchema.parse(JSON.parse(readFileSync(path.join(tmp, 'ok', 'meta.json'), 'utf8')));
    expect(m.accel).toMatchObject({ requested: 'auto', used: 'tcg' });
    expect(m.accel.note).toMatch(/KVM did not reach init in \d+ s .*retried with TCG/);
    expect(m.kernel).toMatchObject({ release: '6.1.0-fake', configFragment: 'kreplay.config@sha256:00', patches: ['fix.patch@sha256:11'] });
    expect(m.workload).toMatchObject({ name: 'odirect-race', result: { writes: 3, mismatches: 0 }, testFile: { ino: 12, dev: '254:0' }, exitCode: 0 });
    expect(m.vmemmapBase).toBe('0xffffea0000000000');
    expect(m.probes).toEqual({ vmemmapBase: '0xffffea0000000000', structPageSize: 64, probes: { 'kprobe:filemap_fault': { op: 'fault_begin', args: {} } } });
    expect(m.trace).toMatchObject({ events: 2, file: 'trace.txt.gz' });
    expect(m.kernelLog.findings).toEqual([{ kind: 'warn', line: 2, text: 'WARNING: CPU: 0 PID: 1 at mm/filemap.c:1 x' }]);
    expect(Object.keys(m.timings)).toEqual(expect.arrayContaining(['qemu', 'qemu-tcg-retry', 'boot-to-init', 'workload', 'dump', 'initramfs', 'disk-image']));
    expect(gunzipSync(readFileSync(path.join(tmp, 'ok', 'trace.txt.gz'))).toString()).toContain('phase=race end');
    expect(readFileSync(path.join(tmp, 'ok', 'kernel.log'), 'utf8')).toContain('Linux version 6.1.0-fake');
    expect(r.workDir).toBeUndefined();
  }, 60_000);

  it('--runs 2 writes one complete folder per run, with per-run kprobe counts', async () => {
    const r = await capture({ ...base('runs'), accel: 'tcg', runs: 2 });
    expect(r.runs.map((x) => path.relative(tmp, x.dir))).toEqual(['runs/run-1', 'runs/run-2']);
    expect(r.runs.map((x) => x.meta.workload.result.writes)).toEqual([3, 6]);
    expect(r.runs.map((x) => x.meta.buffer.kprobes)).toEqual([
      [{ event: 'filemap_fault', hits: 10, misses: 0 }],
      [{ event: 'filemap_fault', hits: 30, misses: 0 }],
    ]);
    expect(r.runs.map((x) => x.meta.run)).toEqual([
      { index: 1, of: 2 },
      { index: 2, of: 2 },
    ]);
    expect(Object.keys(r.runs[1].meta.timings)).toEqual(expect.arrayContaining(['workload-1', 'dump-1', 'workload-2', 'dump-2']));
    for (const f of ['trace.txt.gz', 'meta.json', 'kernel.log', 'console.log'])
      expect(readFileSync(path.join(tmp, 'runs', 'run-2', f)).length).toBeGreaterThan(0);
  }, 60_000);

  it('a capture into a folder an earlier capture used leaves none of the old runs beside the new ones', async () => {
    const out = path.join(tmp, 'again');
    const files = () => readdirSync(out).sort();
    await capture({ ...base('again'), accel: 'tcg' });
    expect(files()).toEqual(['console.log', 'kernel.log', 'meta.json', 'trace.txt.gz']);
    await capture({ ...base('again'), accel: 'tcg', runs: 3 });
    expect(files()).toEqual(['run-1', 'run-2', 'run-3']); // no stale top-level trace beside the runs
    await capture({ ...base('again'), accel: 'tcg', runs: 2 });
    expect(files()).toEqual(['run-1', 'run-2']); // no stale run-3
    await capture({ ...base('again'), accel: 'tcg' });
    expect(files()).toEqual(['console.log', 'kernel.log', 'meta.json', 'trace.txt.gz']);
    // a trace no capture wrote is never removed: refused before anything boots
    const foreign = path.join(tmp, 'foreign');
    mkdirSync(path.join(foreign, 'run-1'), { recursive: true });
    writeFileSync(path.join(foreign, 'run-1', 'trace.txt'), '# tracer: nop\n');
    await expect(capture({ ...base('foreign'), accel: 'tcg', runs: 2 })).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('no kreplay capture wrote'),
    });
    expect(readdirSync(path.join(foreign, 'run-1'))).toEqual(['trace.txt']);
  }, 120_000);

  it('a capture never writes through a symbolic link it finds in its --out folder: the link is replaced, its target untouched', async () => {
    // the --out folder is the user's, but what is in it may not be: a link left there (an
    // unpacked artifact, another user's folder in /tmp) made the run's writes land on its target
    // (a trace file there no capture wrote is refused before the boot; these are not traces)
    const out = path.join(tmp, 'linked');
    const RUN = ['kernel.log', 'console.log', 'meta.json'];
    const victim = path.join(tmp, 'victim');
    writeFileSync(victim, 'HOST FILE\n');
    const plant = (dir: string) => {
      mkdirSync(dir, { recursive: true });
      for (const f of RUN) symlinkSync(victim, path.join(dir, f));
    };
    for (const runs of [1, 2]) {
      rmSync(out, { recursive: true, force: true });
      plant(runs === 1 ? out : path.join(out, 'run-1'));
      // and with runs: a run folder that is a link to a host folder
      const hostDir = path.join(tmp, 'victim-dir');
      mkdirSync(hostDir, { recursive: true });
      if (runs === 2) symlinkSync(hostDir, path.join(out, 'run-2'));
      await capture({ ...base('linked'), accel: 'tcg', runs });
      expect({ runs, victim: readFileSync(victim, 'utf8'), hostDir: readdirSync(hostDir) }).toEqual({ runs, victim: 'HOST FILE\n', hostDir: [] });
      if (runs === 2) expect(lstatSync(path.join(out, 'run-2')).isDirectory()).toBe(true);
      const dir = runs === 1 ? out : path.join(out, 'run-1');
      for (const f of RUN) expect({ f, link: lstatSync(path.join(dir, f)).isSymbolicLink() }).toEqual({ f, link: false });
    }
  }, 120_000);

  it('under --accel kvm the same hang is an environment error that says to try TCG', async () => {
    await expectFailure(capture({ ...base('kvm'), accel: 'kvm' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/did not reach init under kvm/),
      hint: expect.stringMatching(/--accel tcg/),
    });
  }, 60_000);

  it('lost events fail the capture unless allowed', async () => {
    process.env.FAKE_OVERRUN = '7';
    await expectFailure(capture({ ...base('lost'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/7 trace events were lost/),
      hint: expect.stringMatching(/--allow-lost/),
    });
    const r = await capture({ ...base('lost-ok'), accel: 'tcg', allowLost: true });
    expect(r.runs[0].meta.buffer).toMatchObject({ lost: 7, allowLost: true });
    delete process.env.FAKE_OVERRUN;
  }, 60_000);

  it('a guest that left no kernel.log or a cut stats.txt fails the capture: its warnings and losses are unknown, not none', async () => {
    process.env.FAKE_MODE = 'nolog';
    await expectFailure(capture({ ...base('nolog'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/the guest left no kernel\.log, so the kernel's warnings and BUGs during the runs are unknown/),
    });
    process.env.FAKE_MODE = 'cutstats';
    await expectFailure(capture({ ...base('cutstats'), accel: 'tcg', allowLost: true }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(
        /run 1: stats\.txt's cpu0 block has no overrun, commit overrun, dropped events count, so the events this run lost are unknown/,
      ),
    });
    delete process.env.FAKE_MODE;
  }, 60_000);

  it('a guest whose trace.txt holds fewer events than its header counts fails the capture and leaves no trace.txt.gz that reads as complete', async () => {
    process.env.FAKE_MODE = 'cuttrace';
    await expectFailure(capture({ ...base('cuttrace'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/^run 1: trace\.txt holds 1 event lines but its header counts 2 entries in the ring buffer: it was cut/),
    });
    expect(existsSync(path.join(tmp, 'cuttrace', 'trace.txt.gz'))).toBe(false);
    delete process.env.FAKE_MODE;
  }, 60_000);

  it("a guest that writes garbage where vmemmap_base goes gets an environment error naming the file, not meta.json's schema error", async () => {
    process.env.FAKE_MODE = 'badvmemmap';
    await expectFailure(capture({ ...base('badvmemmap'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: 'the guest wrote "base=0xzz" into vmemmap_base, not an address in 0x-hex',
    });
    delete process.env.FAKE_MODE;
  }, 60_000);

  it('a panic and an oops end the capture with an environment error quoting the console', async () => {
    process.env.FAKE_MODE = 'panic';
    await expectFailure(capture({ ...base('panic'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/the guest kernel panicked[\s\S]*kernel BUG at mm\/truncate.c:653/),
    });
    process.env.FAKE_MODE = 'oops';
    await expectFailure(capture({ ...base('oops'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/the guest kernel oopsed: BUG: kernel NULL pointer dereference/),
    });
    delete process.env.FAKE_MODE;
  }, 60_000);

  it('a kernel that panics before init under TCG is booted once more: a capture on the second boot says so in meta.json; two panics fail, saying both', async () => {
    const boots = path.join(tmp, 'boots');
    process.env.FAKE_BOOTS = boots;
    process.env.FAKE_MODE = 'bootpanic';
    await capture({ ...base('bootpanic'), accel: 'tcg' });
    expect(readFileSync(boots, 'utf8').trim()).toBe('2');
    const m = CaptureMetaSchema.parse(JSON.parse(readFileSync(path.join(tmp, 'bootpanic', 'meta.json'), 'utf8')));
    expect(m.accel).toEqual({
      requested: 'tcg',
      used: 'tcg',
      note: 'TCG requested; the first boot panicked before init (its console: console-first-boot.log in the work folder): booted again',
    });
    expect(existsSync(path.join(tmp, 'bootpanic', 'trace.txt.gz'))).toBe(true);
    rmSync(boots);
    process.env.FAKE_MODE = 'bootpanic-always';
    const e = await capture({ ...base('bootpanic-always'), accel: 'tcg' }).then(
      () => undefined,
      (err: unknown) => err as { name: string; message: string; hint: string },
    );
    expect(e).toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(
        /^the guest kernel panicked before init, on both boots \(the first boot's console: \S+console-first-boot\.log\)\n[\s\S]*Oops: int3: 0000 \[#1\] PREEMPT SMP NOPTI \(boot 2\)/,
      ),
      hint: expect.stringMatching(/a kernel that panics at boot twice may not boot at all/),
    });
    expect(readFileSync(boots, 'utf8').trim()).toBe('2');
    const first = /the first boot's console: (\S+)\)/.exec(e!.message)![1]!;
    expect(readFileSync(first, 'utf8')).toContain('Oops: int3: 0000 [#1] PREEMPT SMP NOPTI (boot 1)');
    rmSync(/work folder kept: (\S+)\)/.exec(e!.hint)![1]!, { recursive: true, force: true });
    // a panic after init (in the workload's kernel paths) is the kernel under test's: not booted again
    rmSync(boots);
    process.env.FAKE_MODE = 'panic';
    await expectFailure(capture({ ...base('panic-once'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/^the guest kernel panicked\n/),
    });
    expect(readFileSync(boots, 'utf8').trim()).toBe('1');
    delete process.env.FAKE_MODE;
    delete process.env.FAKE_BOOTS;
  }, 60_000);

  it("a guest that hangs setting tracing up is booted once more, with the first boot's files gone; two such hangs fail, saying both; a hang in the workload is not retried", async () => {
    const boots = path.join(tmp, 'boots');
    rmSync(boots, { force: true });
    process.env.FAKE_BOOTS = boots;
    process.env.FAKE_MODE = 'setuphang';
    await capture({ ...base('setuphang'), accel: 'tcg', timeoutMs: 2_000 });
    expect(readFileSync(boots, 'utf8').trim()).toBe('2');
    const m = CaptureMetaSchema.parse(JSON.parse(readFileSync(path.join(tmp, 'setuphang', 'meta.json'), 'utf8')));
    expect(m.accel.note).toBe(
      'TCG requested; the first boot hung in tracing setup (after phase kallsyms-checked; its console: console-first-boot.log in the work folder): booted again',
    );
    expect(existsSync(path.join(tmp, 'setuphang', 'trace.txt.gz'))).toBe(true);
    rmSync(boots);
    process.env.FAKE_MODE = 'setuphang-always';
    const e = await capture({ ...base('setuphang-always'), accel: 'tcg', timeoutMs: 2_000 }).then(
      () => undefined,
      (err: unknown) => err as { name: string; message: string; hint: string },
    );
    expect(e).toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(
        /^the guest hung in tracing setup on both boots, before any workload ran \(the first after phase kallsyms-checked, the second after phase kallsyms-checked; the first boot's console: \S+console-first-boot\.log\), each boot given 2 s\n/,
      ),
      hint: expect.stringMatching(/hangs setting tracing up twice/),
    });
    expect(readFileSync(boots, 'utf8').trim()).toBe('2');
    rmSync(/work folder kept: (\S+)\)/.exec(e!.hint)![1]!, { recursive: true, force: true });
    rmSync(boots);
    process.env.FAKE_MODE = 'workloadhang';
    await expectFailure(capture({ ...base('workloadhang'), accel: 'tcg', timeoutMs: 2_000 }), {
      name: 'EnvironmentError',
      // no hung task, soft lockup or RCU stall on its console: unknown, and said so (session 42)
      message: expect.stringMatching(
        /^the guest did not finish within 2 s: it hung after phase workload run=1, once the workload began, and its console shows no hung task, soft lockup or RCU stall: whether the kernel under test deadlocked or the machine ran too slowly cannot be told\n[\s\S]*KREPLAY_PHASE workload run=1/,
      ),
      // the kernel got capture's hung-task settings on its command line (session 43), and the hint
      // says the 2 s timeout left the detector no time
      hint: expect.stringMatching(
        /its hung-task detector \(120 s in uninterruptible sleep, checked every 10 s\) needs up to 150 s to name a task, and the timeout came [0-2] s after the workload began: the default --timeout leaves it that time/,
      ),
    });
    expect(readFileSync(boots, 'utf8').trim()).toBe('1');
    delete process.env.FAKE_MODE;
    delete process.env.FAKE_BOOTS;
  }, 60_000);

  it("keeps the booted kernel's tracepoint formats in meta.json and checks the profile's meanings against them", async () => {
    const tp = (args: string) =>
      parseProfile(`name: tp\ntracepoints:\n  - event: filemap:mm_filemap_fault\n    meaning: { op: fault_begin, args: { ${args} } }\n`, 'tp.yaml');
    const r = await capture({ ...base('formats'), accel: 'tcg', profile: tp('ino: ino, index: { field: ofs, as: bytes-to-index }'), profileFile: 'tp.yaml' });
    expect(r.runs[0].meta.tracepointFormats?.['filemap:mm_filemap_fault']).toContain('print fmt: "dev=%d:%d ino=%lx ofs=%lld"');
    await expectFailure(capture({ ...base('formats-bad'), accel: 'tcg', profile: tp('address: address'), profileFile: 'tp.yaml' }), {
      name: 'InputError',
      file: 'tp.yaml',
      message: expect.stringMatching(
        /the meaning of filemap:mm_filemap_fault reads field "address", which 6\.1\.0-fake does not print \(print fmt: "dev=%d:%d ino=%lx ofs=%lld"\)/,
      ),
      hint: expect.stringMatching(/use one of: dev, ino, ofs, index/),
    });
    process.env.FAKE_MODE = 'missingtp';
    await expectFailure(capture({ ...base('missingtp'), accel: 'tcg', profile: tp('ino: ino'), profileFile: 'tp.yaml' }), {
      name: 'InputError',
      file: 'tp.yaml',
      message: expect.stringMatching(/tracepoints not in 6\.1\.0-fake .*: filemap:mm_filemap_fault/),
    });
    delete process.env.FAKE_MODE;
  }, 60_000);

  it('a refused probe is an input error naming the probe and the kernel message; a missing result line is an environment error', async () => {
    process.env.FAKE_MODE = 'tracefs';
    await expectFailure(capture({ ...base('tracefs'), accel: 'tcg' }), {
      name: 'InputError',
      file: 'fake.yaml',
      message: expect.stringMatching(/tracefs refused kprobe filemap_fault: Invalid argument[\s\S]*Unknown type is specified/),
    });
    process.env.FAKE_MODE = 'noresult';
    await expectFailure(capture({ ...base('noresult'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/printed no KREPLAY_RESULT line/),
    });
    delete process.env.FAKE_MODE;
  }, 60_000);

  it('a workload that printed no result while the kernel under test reported a BUG is a finding about that kernel, not an environment error', async () => {
    // before (2026-12-07, session 41): EnvironmentError, exit 3 — "the workload failed inside the guest"
    // an oops in the workload's kernel paths: the guest boots with oops=panic, so it panics (before: exit 3)
    process.env.FAKE_MODE = 'workloadpanic';
    await expectFailure(capture({ ...base('workloadpanic'), accel: 'tcg' }), {
      name: 'KernelFailure',
      exitCode: 1,
      message: expect.stringMatching(/^the kernel under test panicked while the workload ran: kernel BUG at mm\/filemap\.c:154!\nlast console lines:/),
    });
    process.env.FAKE_MODE = 'killed';
    await expectFailure(capture({ ...base('killed'), accel: 'tcg' }), {
      name: 'KernelFailure',
      exitCode: 1,
      message: expect.stringMatching(
        /^workload odirect-race printed no KREPLAY_RESULT line \(run 1, exit 0\) and the kernel under test reported, while it ran: BUG: Bad page cache in process kr-odirect-race {2}pfn:0d000 \(kernel\.log line 3; 2 kernel-log findings in this run\): the kernel may have killed or hung it$/,
      ),
    });
    // an RCU stall or a soft lockup alone kills no task, and a starved virtual CPU prints both (session 42)
    process.env.FAKE_MODE = 'stalled';
    await expectFailure(capture({ ...base('stalled'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      exitCode: 3,
      message: expect.stringMatching(/^workload odirect-race printed no KREPLAY_RESULT line \(run 1, exit 0\)/),
    });
    delete process.env.FAKE_MODE;
  }, 60_000);

  it('a guest that links kernel.log to a host file gets nothing out: an environment error, no host byte in the output', async () => {
    const secret = path.join(tmp, 'host-secret');
    writeFileSync(secret, 'HOST-SECRET-LINE');
    process.env.FAKE_MODE = 'symlink';
    process.env.FAKE_SECRET = secret;
    await expectFailure(capture({ ...base('symlink'), accel: 'tcg' }), {
      name: 'EnvironmentError',
      message: expect.stringMatching(/the guest left out\/kernel\.log in the share as a symbolic link; refusing to read it/),
    });
    const out = path.join(tmp, 'symlink');
    const written = existsSync(out) ? readdirSync(out, { recursive: true }).map(String) : [];
    for (const f of written) {
      const p = path.join(out, f);
      if (statSync(p).isFile()) expect(readFileSync(p, 'utf8')).not.toContain('HOST-SECRET-LINE');
    }
    delete process.env.FAKE_MODE;
    delete process.env.FAKE_SECRET;
  }, 60_000);

  it('an abort (SIGINT/SIGTERM in the CLI) kills QEMU and removes the work folder with its disk image', async () => {
    delete process.env.FAKE_MODE;
    // capture's work folder is a fresh kreplay-capture-* in the system's temporary folder.
    const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('kreplay-capture-')));
    const ac = new AbortController();
    // Under --accel kvm the stand-in hangs like a guest that boots for minutes.
    const p = capture({ ...base('abort'), accel: 'kvm', initTimeoutMs: 120_000, timeoutMs: 150_000, signal: ac.signal });
    const t0 = Date.now();
    let work: string | undefined;
    // Abort once QEMU runs (its console log exists): the initramfs and disk image are made by then.
    while (!work && Date.now() - t0 < 100_000) {
      await new Promise((r) => setTimeout(r, 100));
      work = readdirSync(tmpdir())
        .filter((n) => n.startsWith('kreplay-capture-') && !before.has(n))
        .map((n) => path.join(tmpdir(), n))
        .find((d) => existsSync(path.join(d, 'console.log')) && existsSync(path.join(d, 'disk.img')));
    }
    expect(work).toBeDefined();
    const aborted = Date.now();
    ac.abort(new Error('interrupted by SIGTERM'));
    await expect(p).rejects.toThrow();
    expect(Date.now() - aborted).toBeLessThan(20_000); // not the 120 s init timeout
    expect(existsSync(work!)).toBe(false);
    expect(existsSync(path.join(tmp, 'abort', 'meta.json'))).toBe(false);
  }, 200_000);
});
