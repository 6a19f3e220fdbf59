import { Flags } from '@oclif/core';
import { relative } from 'node:path';
import { capture, defaultProfilePath, findWorkload, loadProfile, WORKLOADS, type CaptureResult } from '@kreplay/capture';
import { parseDuration, stringifyJson } from '@kreplay/core';
import { KreplayCommand } from '../base.js';
import { kernelFromFlags } from '../kernel-flag.js';

export default class Capture extends KreplayCommand {
  static override summary = 'Capture a page-cache trace from a QEMU-booted kernel running a racing workload';
  static override description = `Boots a kernel under QEMU (KVM when it works, TCG otherwise) with an initramfs built on the spot (busybox-static, the workload compiled statically with gcc from packages/capture/c, the modules the guest needs in modules.dep order), sets tracefs up from a capture profile (kernel-configs/capture/*.yaml: tracepoints, kprobes with fetch arguments whose struct offsets come from the kernel's BTF, filters on the test file), runs the workload on an ext4 disk, and writes to --out: trace.txt.gz, meta.json (kernel, profile, probe meanings for replay, vmemmap base, per-CPU lost counts, the workload's result counters, WARN/BUG lines, phase timings), kernel.log and console.log.

The default kernel is Debian's linux-image-amd64 (6.1); --kernel debian-6.12 boots Debian 12's linux-image-6.12-amd64 instead, and debian:RELEASE / debian-6.12:RELEASE pin one release (uname -r, e.g. debian-6.12:6.12.117+deb12-amd64). Debian's kernels are fetched with apt-get download and unpacked into $KREPLAY_CACHE (default ~/.cache/kreplay), never installed. Needs: qemu-system-x86 busybox-static kmod e2fsprogs dwarves xz-utils zstd gcc.

Exit 0 on a capture, 2 for a bad flag or profile (including a probe tracefs refused), 3 when the machine cannot do it (no QEMU, a guest that hangs, panics or oopses, lost events without --allow-lost).`;

  static override examples = [
    '<%= config.bin %> capture --workload odirect-race --out traces/odirect-race',
    '<%= config.bin %> capture --workload truncate-racer --duration 2s --runs 3 --out /tmp/trunc',
    '<%= config.bin %> capture --kernel debian-6.12 --workload odirect-race --out traces/odirect-race-6.12',
    '<%= config.bin %> capture --kernel debian-6.12:6.12.117+deb12-amd64 --workload truncate-racer',
    '<%= config.bin %> capture --kernel linux/arch/x86/boot/bzImage --modules /tmp/mods/lib/modules/6.1.0 --profile kernel-configs/capture/odirect-race.yaml',
    '<%= config.bin %> capture --kernel out/patched-build --workload odirect-race --out traces/patched/odirect-race',
  ];

  static override flags = {
    'kernel': Flags.string({
      default: 'debian',
      description:
        "debian (Debian 12's linux-image-amd64, 6.1), debian-6.12 (linux-image-6.12-amd64), either pinned to a release with :RELEASE, the path of a bzImage/vmlinux, or the --out folder of `kreplay kernel build`",
    }),
    'boot': Flags.string({
      default: 'auto',
      options: ['auto', 'image', 'vmlinux'],
      description: 'what QEMU boots: the image, its vmlinux through PVH (about 2 s faster under TCG), or auto (the vmlinux when it has the PVH note)',
    }),
    'modules': Flags.string({ description: "the kernel's /lib/modules/<release> folder (with modules.dep); omit when drivers are built in" }),
    'profile': Flags.string({
      description:
        'capture profile (YAML/JSON); default kernel-configs/capture/<workload>.yaml (for a 6.12 kernel: kernel-configs/capture/linux-6.12/<workload>.yaml)',
    }),
    'offsets': Flags.string({ description: 'declared struct offsets table (JSON/YAML) for exactly this kernel release, instead of its BTF' }),
    'workload': Flags.string({ default: 'odirect-race', options: WORKLOADS.map((w) => w.name), description: 'racing workload to run in the guest' }),
    'duration': Flags.string({ default: '3s', description: 'how long the workload races (e.g. 3s, 500ms)' }),
    'runs': Flags.integer({ default: 1, min: 1, max: 100, description: 'workload runs in one boot (each its own trace, in run-<i>/ folders when > 1)' }),
    'accel': Flags.string({
      default: 'auto',
      options: ['auto', 'kvm', 'tcg'],
      description: 'QEMU accelerator; auto uses KVM when it works and falls back to TCG',
    }),
    'out': Flags.string({ description: 'output folder (default traces/<workload>)' }),
    'allow-lost': Flags.boolean({
      description:
        'keep a trace even if the ring buffer lost events or kprobes missed hits (counted in meta.json; replay then reads the whole trace as having a gap)',
    }),
    'trace-cmd': Flags.boolean({ description: 'also write trace.dat with trace-cmd extract when the guest has trace-cmd' }),
    'smp': Flags.integer({ default: 2, min: 1, max: 64, description: 'guest CPUs' }),
    'memory': Flags.integer({ default: 2048, min: 256, description: 'guest memory in MiB' }),
    'init-timeout': Flags.string({ description: 'time for the guest to reach init (default 60s under TCG, 20s under KVM)' }),
    'timeout': Flags.string({ description: 'time for the whole boot (default 90s + 6 × duration × runs + 150s, the window of the guest hung-task detector)' }),
    'keep-work': Flags.boolean({ description: 'keep the work folder (initramfs, disk image, 9p share)' }),
    'console': Flags.boolean({ description: 'stream the guest console to stderr' }),
    'json': Flags.boolean({ description: 'print the result (per-run meta) as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Capture);
    const workload = findWorkload(flags.workload);
    const { kernel, debian, release, offsets } = await kernelFromFlags(flags);
    // the default profile follows the kernel: 6.12 probes other functions than 6.1
    const profileFile = flags.profile ?? relative(process.cwd(), defaultProfilePath(workload, release));
    const profile = await loadProfile(profileFile);
    // On a terminal each phase is a line (none under --json); in a CI log or a pipe, plain
    // timestamped lines and a heartbeat (docs/exit-codes.md, *Help*): a TCG capture takes minutes.
    const plain = !process.stderr.isTTY && !flags.console ? this.progress(true) : undefined;
    const result: CaptureResult = await capture({
      kernel,
      debian,
      offsets,
      profile,
      profileFile,
      workload: workload.name,
      durationMs: parseDuration(flags.duration),
      runs: flags.runs,
      accel: flags.accel as 'auto' | 'kvm' | 'tcg',
      outDir: flags.out ?? `traces/${workload.name}`,
      boot: flags.boot as 'auto' | 'image' | 'vmlinux',
      allowLost: flags['allow-lost'],
      traceCmd: flags['trace-cmd'],
      keepWork: flags['keep-work'],
      smp: flags.smp,
      memMb: flags.memory,
      initTimeoutMs: flags['init-timeout'] ? parseDuration(flags['init-timeout'], '--init-timeout') : undefined,
      timeoutMs: flags.timeout ? parseDuration(flags.timeout, '--timeout') : undefined,
      kreplayVersion: this.config.version,
      signal: this.interruptible(), // SIGINT/SIGTERM: QEMU killed, work folder removed, exit 130/143
      onProgress: (m) => {
        if (plain) plain.step(m);
        else if (!flags.json || flags.console) this.note(m);
      },
      onConsole: flags.console ? (l) => this.note(`[${(l.ms / 1000).toFixed(2).padStart(7)}] ${l.text}`) : undefined,
    });
    if (flags.json) {
      this.out(stringifyJson({ outDir: result.outDir, timings: result.timings, runs: result.runs.map((r) => ({ dir: r.dir, meta: r.meta })) }, 2));
      return;
    }
    for (const r of result.runs) {
      const m = r.meta;
      const res = m.workload.result;
      this.out(
        `${relative(process.cwd(), r.dir) || '.'}: ${m.trace.events} events, ${(m.trace.bytes / 1e6).toFixed(1)} MB text, ${(m.trace.gzipBytes / 1e6).toFixed(2)} MB gz, lost ${m.buffer.lost}`,
      );
      this.out(
        `  kernel ${m.kernel.release} (${m.kernel.source}, booted ${m.kernel.booted}) under ${m.accel.used}; vmemmap_base ${m.vmemmapBase ?? 'unknown'}; fault_around_bytes ${m.faultAroundBytes ?? '?'}`,
      );
      this.out(
        `  workload ${m.workload.name}: ${Object.entries(res)
          .filter(([k]) => k !== 'workload')
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
      if (m.trace.crossCpuTies > 0 && m.buffer.clock === 'global') {
        this.out(
          `  warning: ${m.trace.crossCpuTies} pairs of events on different CPUs share a timestamp under the global clock, which clamps lagging CPUs: their true order is lost (traceClock: mono avoids this under TCG)`,
        );
      } else if (m.trace.crossCpuTies > 0) {
        this.out(
          `  note: ${m.trace.crossCpuTies} pairs of events on different CPUs share a printed (µs) timestamp; the file keeps the kernel's nanosecond merge order`,
        );
      }
      if (m.kernelLog.findings.length) this.out(`  kernel log: ${m.kernelLog.findings.map((f) => `${f.kind}: ${f.text}`).join('\n              ')}`);
    }
    this.out(
      `timings (ms): ${Object.entries(result.timings)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  }
}
