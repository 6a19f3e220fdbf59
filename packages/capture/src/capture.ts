/**
 * `capture()`: boot a kernel under QEMU with a generated initramfs, trace one workload
 * with one capture profile, and write trace.txt.gz + meta.json + kernel.log (+ console.log)
 * per run. Every phase is timed; every failure ends the run with an error that says
 * what happened and what to try (EnvironmentError for the machine, InputError for the
 * profile). The library never prints: progress goes to `onProgress`.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { dirname, join, resolve } from 'node:path';
import {
  checkOutputFolder,
  EnvironmentError,
  InputError,
  isKernelFailure,
  META_SCHEMA_ID,
  parseSavedTgids,
  readDocumentFile,
  SAVED_TGIDS_FILE,
  SAVED_TGIDS_MAX_BYTES,
  writeFileAtomic,
  writeTraceMeta,
  type DebianSpec,
} from '@kreplay/core';
import { fetchDebianKernel, defaultCacheDir, extractVmlinux, fileKey, type KernelImage } from './kernel.js';
import { checkTableRelease, offsetsFromLayouts, parsePahole, type OffsetsTable } from './fetch-offsets.js';
import { GUEST_MODULES, parseModuleIndex, resolveModuleOrder, type ModuleLoad } from './modules.js';
import { kprobeEventName, loadOffsetsTable, profileFunctions, profileOffsetKeys, profileProbeMap, type CaptureProfile } from './profile.js';
import { compileUserProgram, compileWorkloads, findWorkload, workloadBinary, type Workload } from './workloads.js';
import { buildInitramfs } from './initramfs.js';
import { guestScript, GUEST } from './guest-script.js';
import { bootGuest, chooseAccel, probeKvm, qemuVersion, type Accel, type BootOutcome, type ConsoleLine, type KvmProbe } from './qemu.js';
import { findingsOfRun, scanKernelLog, type KprobeHits } from './console.js';
import { GuestShare } from './guest-files.js';
import { checkMeaningsAgainstFormats, readFormats } from './formats.js';
import {
  checkGuestOutcome,
  checkLost,
  defaultCaptureTimeoutMs,
  HUNG_TASK_CMDLINE,
  guestTimings,
  gzipTrace,
  lastPhase,
  readGuestFacts,
  readKernelLog,
  readOpt,
  readRun,
  traceDatFailed,
  traceProblem,
} from './outcome.js';
import { CaptureMetaSchema, type CaptureMeta } from './meta.js';
import { hasPvhNote, isStaticElf, requireTool, run, sharedLibraries } from './tools.js';
import { prepareRunFolder, removeStale, staleOutputs } from './out-dir.js';

export interface CaptureOptions {
  /** The kernel to boot; Debian's packaged kernel (`debian`) when omitted. */
  kernel?: KernelImage;
  /** Which Debian kernel when `kernel` is omitted: series and optional release pin (default: 6.1, linux-image-amd64). */
  debian?: DebianSpec;
  /** A declared offsets table for exactly this kernel release; default: the kernel's BTF. */
  offsets?: OffsetsTable;
  profile: CaptureProfile;
  /** Where the profile came from (meta.json; relative offsetsTable paths). */
  profileFile?: string;
  /** A built-in workload (workloads.ts); ignored when `repro` is given. */
  workload: string;
  /** A user's C program to run instead of a built-in workload (`kreplay triage --repro`). */
  repro?: { source: string };
  durationMs: number;
  runs?: number;
  accel?: Accel;
  outDir: string;
  allowLost?: boolean;
  traceCmd?: boolean;
  cacheDir?: string;
  /** What QEMU boots: the image, its vmlinux via PVH, or `auto` (the vmlinux when it can; default). */
  boot?: 'auto' | 'image' | 'vmlinux';
  /** Keep the work folder (initramfs, disk, share) even on success. */
  keepWork?: boolean;
  smp?: number;
  memMb?: number;
  /** Time for the guest to reach init (default 60 s under TCG, 20 s under KVM). */
  initTimeoutMs?: number;
  /** Time for the whole boot (default: 90 s + 6 × duration × runs + the hung-task window, 150 s: defaultCaptureTimeoutMs). */
  timeoutMs?: number;
  kreplayVersion?: string;
  onProgress?: (message: string) => void;
  onConsole?: (line: ConsoleLine) => void;
  signal?: AbortSignal;
  /** How to judge /dev/kvm (default probeKvm; tests substitute their own). */
  kvmProbe?: () => Promise<KvmProbe>;
}

export interface CaptureRun {
  dir: string;
  meta: CaptureMeta;
}

export interface CaptureResult {
  outDir: string;
  runs: CaptureRun[];
  timings: Record<string, number>;
  /** Kept work folder (console, share), when kept. */
  workDir?: string;
}

class Timer {
  readonly timings: Record<string, number> = {};
  private readonly t0 = Date.now();
  async time<T>(name: string, f: () => Promise<T>): Promise<T> {
    const s = Date.now();
    try {
      return await f();
    } finally {
      this.timings[name] = Date.now() - s;
    }
  }
  total(): number {
    return Date.now() - this.t0;
  }
}

/** Offsets for the profile's fetch arguments: declared table, profile table, or BTF via pahole. */
export async function resolveOffsets(
  kernel: KernelImage,
  profile: CaptureProfile,
  opts: { offsets?: OffsetsTable; profileFile?: string; cacheDir: string },
): Promise<OffsetsTable> {
  let table = opts.offsets;
  if (!table && profile.offsetsTable) {
    const file = resolve(opts.profileFile ? dirname(opts.profileFile) : '.', profile.offsetsTable);
    table = await loadOffsetsTable(file);
    if (kernel.release) checkTableRelease(table, kernel.release, file);
  }
  if (table) {
    if (kernel.release) checkTableRelease(table, kernel.release);
    return table;
  }
  const keys = [...profileOffsetKeys(profile), 'page'];
  const vmlinux = await kernelVmlinux(kernel, opts.cacheDir);
  const structs = [...new Set(keys.map((k) => k.split('.')[0]))].sort();
  await requireTool('pahole');
  const text = await run('pahole', ['-C', structs.join(','), vmlinux], { what: 'pahole (struct layouts from BTF)' });
  return offsetsFromLayouts(parsePahole(text), keys, kernel.release ?? 'unknown', `BTF of ${kernel.source} via pahole`);
}

/** The kernel's uncompressed vmlinux: given, or extracted from the bzImage into the cache. */
export async function kernelVmlinux(kernel: KernelImage, cacheDir: string): Promise<string> {
  return kernel.vmlinux ?? extractVmlinux(kernel.image, join(cacheDir, 'vmlinux', await fileKey(kernel.image), 'vmlinux'));
}

/**
 * What QEMU's -kernel gets: `image` as given, or its vmlinux through PVH (`vmlinux`, which
 * must carry the PVH note), or `auto`: the vmlinux when it has the note, else the image.
 */
export async function bootImage(kernel: KernelImage, boot: 'auto' | 'image' | 'vmlinux', cacheDir: string): Promise<string> {
  if (boot === 'image') return kernel.image;
  let vmlinux: string;
  try {
    vmlinux = await kernelVmlinux(kernel, cacheDir);
  } catch (e) {
    if (boot === 'auto') return kernel.image;
    throw e;
  }
  if (await hasPvhNote(vmlinux)) return vmlinux;
  if (boot === 'auto') return kernel.image;
  throw new InputError(`${vmlinux} has no PVH entry note, so QEMU cannot boot it directly`, { hint: 'build with CONFIG_PVH=y, or use --boot image' });
}

/** The modules the guest loads, in order, from the kernel's modules.dep. */
export async function guestModules(kernel: KernelImage): Promise<ModuleLoad[]> {
  if (!kernel.modulesDir) return [];
  // (a folder or an unreadable file where depmod writes one is the user's to fix, not an internal error)
  const read = async (f: string): Promise<string | undefined> =>
    existsSync(join(kernel.modulesDir!, f))
      ? readDocumentFile(join(kernel.modulesDir!, f), { what: `the kernel's ${f}`, hint: 'run depmod for this kernel' })
      : undefined;
  const idx = parseModuleIndex({
    dep: (await read('modules.dep')) ?? '',
    depFile: join(kernel.modulesDir, 'modules.dep'),
    softdep: await read('modules.softdep'),
    alias: await read('modules.alias'),
    builtin: await read('modules.builtin'),
  });
  return resolveModuleOrder(idx, GUEST_MODULES);
}

/**
 * The guest's saved_tgids of run `i` (the kernel's pid → tgid table, read right after the trace),
 * kept beside the run's trace.dat, which names no thread groups (core saved-tgids.ts). A table the
 * kernel did not write (no record-tgid: a kernel without the option) is said and left out; one that
 * does not read as the kernel's is the guest's fault (an environment error), never passed on.
 */
async function keepSavedTgids(guest: GuestShare, from: string, to: string, i: number, progress: (m: string) => void): Promise<void> {
  const text = await guest.text(from, SAVED_TGIDS_MAX_BYTES);
  if (text === undefined) {
    progress(`run ${i}: the guest saved no saved_tgids: its trace.dat names no thread groups`);
    return;
  }
  try {
    parseSavedTgids(text, from);
  } catch (e) {
    throw new EnvironmentError(
      `run ${i}: the guest's saved_tgids does not read as the kernel's table: ${(e as Error).message}`,
      'the kernel under test wrote it; run the capture again with --keep-work to look at it',
    );
  }
  await writeFileAtomic(to, text);
}

/** A boot that reached init and timed out before any workload began: it hung setting tracing up. */
function setupHang(b: BootOutcome): boolean {
  return b.ended === 'timeout' && b.initMs !== undefined && !b.lines.some((l) => l.text.startsWith('KREPLAY_PHASE workload'));
}

export async function capture(opts: CaptureOptions): Promise<CaptureResult> {
  const timer = new Timer();
  const progress = opts.onProgress ?? (() => undefined);
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const runs = opts.runs ?? 1;
  const profile = opts.profile;
  const accelWanted = opts.accel ?? 'auto';
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new InputError(`--runs must be 1..100, not ${runs}`);
  if (!(opts.durationMs >= 100 && opts.durationMs <= 600_000)) throw new InputError(`--duration must be between 100ms and 10m, not ${opts.durationMs} ms`);
  // An output folder that cannot be made fails now (exit 3), not after the boot.
  await checkOutputFolder(resolve(opts.outDir));
  const workload: Workload = opts.repro
    ? { name: 'repro', source: opts.repro.source, profile: '', description: "a bug report's reproducer" }
    : findWorkload(opts.workload);
  // what an earlier capture into the same folder left: refused now if it is not a capture's, removed once this one has succeeded
  const stale = staleOutputs(resolve(opts.outDir));

  const kernel = opts.kernel ?? (await timer.time('kernel-fetch', () => fetchDebianKernel(cacheDir, progress, opts.debian)));
  progress(`kernel: ${kernel.source} (${kernel.image})`);
  const offsets = await timer.time('struct-offsets', () => resolveOffsets(kernel, profile, { offsets: opts.offsets, profileFile: opts.profileFile, cacheDir }));
  const modules = await timer.time('module-order', () => guestModules(kernel));
  const bootFile = await timer.time('boot-image', () => bootImage(kernel, opts.boot ?? 'auto', cacheDir));
  const bins = await timer.time('workload-build', async () =>
    opts.repro ? new Map([[workload.name, await compileUserProgram(opts.repro.source, cacheDir)]]) : compileWorkloads([workload], cacheDir),
  );
  const qemu = await requireTool('qemu-system-x86_64');
  const busybox = await requireTool('busybox');
  if (!(await isStaticElf(busybox))) throw new EnvironmentError(`${busybox} is not a static binary`, 'apt-get install busybox-static');

  await mkdir(cacheDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), 'kreplay-capture-'));
  const share = join(workDir, 'share');
  await mkdir(join(share, 'out'), { recursive: true });
  let keep = opts.keepWork ?? false;
  try {
    const initrd = join(workDir, 'initramfs.cpio.gz');
    await timer.time('initramfs', async () => {
      const binaries = new Map([[workloadBinary(workload), bins.get(workload.name)!]]);
      const extraFiles = new Map<string, string>();
      if (opts.traceCmd) {
        // trace-cmd is dynamic: bring its libraries and loader along at their host paths.
        const tc = await requireTool('trace-cmd');
        binaries.set('trace-cmd', tc);
        for (const lib of await sharedLibraries(tc)) extraFiles.set(lib, lib);
      }
      const img = await buildInitramfs({ busybox, modules, modulesDir: kernel.modulesDir, binaries, extraFiles });
      await writeFile(initrd, img);
    });
    const disk = join(workDir, 'disk.img');
    await timer.time('disk-image', async () => {
      const fh = await open(disk, 'w');
      await fh.truncate(256 * 1024 * 1024);
      await fh.close();
      await run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', disk], { what: 'mkfs.ext4' });
    });
    await writeFile(
      join(share, 'run.sh'),
      guestScript({
        profile,
        offsets,
        workloadBinary: workloadBinary(workload),
        durationMs: opts.durationMs,
        runs,
        functions: profileFunctions(profile),
        traceCmd: opts.traceCmd ?? false,
      }),
    );

    // Accelerator: KVM first when it can work, TCG otherwise or when KVM never reaches init.
    let { accel, note: accelNote } = await chooseAccel(accelWanted, opts.kvmProbe ?? probeKvm);
    // log_buf_len: the kernel log is read once, after the last run (dmesg), and split by run; the
    // distribution's 128 KiB (CONFIG_LOG_BUF_SHIFT=17) holds a few dozen WARN splats, so a kernel
    // that warns on every fault would wrap it and lose the first runs' warnings. 8 MiB stays under
    // what busybox's dmesg reads (16 MiB); a log that wrapped anyway is refused (readKernelLog).
    // the hung-task detector's settings: a deadlock is named before the default timeout (HUNG_TASK)
    const append = [
      'console=ttyS0',
      'panic=-1',
      'oops=panic',
      'quiet',
      'loglevel=4',
      'log_buf_len=8M',
      ...HUNG_TASK_CMDLINE,
      ...(profile.nokaslr ? ['nokaslr'] : []),
    ].join(' ');
    const timeoutMs = opts.timeoutMs ?? defaultCaptureTimeoutMs(opts.durationMs, runs);
    const boot = async (a: 'kvm' | 'tcg'): Promise<BootOutcome> => {
      progress(`booting ${kernel.release ?? kernel.image} under ${a} (${accelNote})`);
      return bootGuest({
        qemu,
        accel: a,
        kernel: bootFile,
        initrd,
        append,
        disk,
        share,
        smp: opts.smp ?? 2,
        memMb: opts.memMb ?? 2048,
        initTimeoutMs: opts.initTimeoutMs ?? (a === 'kvm' ? 20_000 : 60_000),
        timeoutMs,
        consoleFile: join(workDir, 'console.log'),
        onLine: opts.onConsole,
        signal: opts.signal,
      });
    };
    // a SIGINT/SIGTERM while the initramfs and the disk image were made: no boot at all
    if (opts.signal?.aborted) throw opts.signal.reason;
    let b = await timer.time('qemu', () => boot(accel));
    if (accel === 'kvm' && b.initMs === undefined && b.ended !== 'aborted' && accelWanted === 'auto') {
      accelNote =
        b.ended === 'init-timeout'
          ? `KVM did not reach init in ${Math.round(b.wallMs / 1000)} s (kvm_pvm or a broken KVM): retried with TCG`
          : `QEMU failed under KVM before init (${b.stderr.trim().split('\n').pop() || b.signal || `exit ${b.exitCode}`}): retried with TCG`;
      accel = 'tcg';
      b = await timer.time('qemu-tcg-retry', () => boot('tcg'));
    }
    // A kernel that panicked before init under TCG is booted once more. QEMU's multi-threaded TCG
    // runs the guest's cross-modifying code without x86's guarantees: the kernel patches its own
    // text at boot (text_poke_bp: an int3 first, then the new bytes), and a loaded host can let a
    // vCPU run the int3 after the patch is done, which the kernel then takes for a stray
    // breakpoint — "Oops: int3" at sched_clock_cpu+0x9 on Debian's 6.12.118 at host load 5
    // (2026-12-06), before the workload ran. A kernel under test that cannot boot panics again,
    // and the error then says both boots did; the first boot's console is kept beside the second's.
    // (At most one boot more, for a panic before init or a hang in setup (below); the error says
    // both boots did only when the second ended the same way.)
    let bootNote: string | undefined;
    const first = join(workDir, 'console-first-boot.log');
    if (accel === 'tcg' && b.ended === 'panic' && b.initMs === undefined && !opts.signal?.aborted) {
      await rename(join(workDir, 'console.log'), first).catch(() => undefined);
      accelNote = `${accelNote}; the first boot panicked before init (its console: console-first-boot.log in the work folder): booted again`;
      b = await timer.time('qemu-panic-retry', () => boot('tcg'));
      if (b.ended === 'panic' && b.initMs === undefined) bootNote = `before init, on both boots (the first boot's console: ${first})`;
    } else if (setupHang(b) && !opts.signal?.aborted) {
      // A guest that stopped making progress while it set tracing up, before its first workload
      // began: nothing of the workload had run, so the hang is not the kernel under test's answer
      // to it. CI saw one on Debian's 6.1 under TCG (2026-12-06): the console stopped after
      // `KREPLAY_PHASE kallsyms-checked`, with no kernel message, until the 102 s timeout; the
      // same capture takes 15 s on an idle host and 35 s at load 6. A hang once a workload began
      // is never retried (it may be the patch's deadlock).
      const phase = lastPhase(b);
      await rename(join(workDir, 'console.log'), first).catch(() => undefined);
      // the first boot's partial files (kallsyms.txt, formats) are not read as the second's
      await rm(join(share, 'out'), { recursive: true, force: true });
      await mkdir(join(share, 'out'), { recursive: true });
      accelNote = `${accelNote}; the first boot hung in tracing setup (after ${phase}; its console: console-first-boot.log in the work folder): booted again`;
      b = await timer.time('qemu-hang-retry', () => boot(accel));
      if (setupHang(b))
        bootNote = `in tracing setup on both boots, before any workload ran (the first after ${phase}, the second after ${lastPhase(b)}; the first boot's console: ${first})`;
    }
    // SIGINT/SIGTERM (the caller's signal): QEMU is killed by bootGuest; stop here, and the
    // work folder (a 256 MB disk image) is removed below.
    if (opts.signal?.aborted) throw opts.signal.reason;
    const out = join(share, 'out');
    const guest = new GuestShare(share);
    const gt = guestTimings(b, runs);
    await checkGuestOutcome(b, { out, guest, workDir, accel, timeoutMs, profileFile: opts.profileFile, release: kernel.release, bootNote });
    const release = (await readOpt(guest, join(out, 'release')))?.trim() ?? 'unknown';
    if (kernel.release && release !== kernel.release) {
      throw new EnvironmentError(`the guest runs ${release}, not ${kernel.release}`, 'pass the modules folder that belongs to this image');
    }
    if (offsets.release !== 'unknown') checkTableRelease(offsets, release);
    else offsets.release = release;
    const tracepointFormats = await readFormats(guest, out, profile);
    checkMeaningsAgainstFormats(profile, tracepointFormats, opts.profileFile, release);

    // Per-run outputs.
    const collect = Date.now();
    const kernelLog = await readKernelLog(guest, out, workDir);
    const findings = scanKernelLog(kernelLog);
    const { vmemmapBase, faultAroundBytes, testFile } = await readGuestFacts(guest, out);
    const kprobeEvents = ((await readOpt(guest, join(out, 'kprobe_events.txt'))) ?? '').split('\n').filter(Boolean);
    const cmdline = ((await readOpt(guest, join(out, 'cmdline'))) ?? append).trim();
    const qv = await qemuVersion(qemu);
    const results: CaptureRun[] = [];
    let kprobesBefore: KprobeHits[] = [];
    for (let i = 1; i <= runs; i++) {
      if (opts.signal?.aborted) throw opts.signal.reason; // runs collected so far stay whole (meta.json last)
      const rdir = join(out, `run-${i}`);
      const { result, rc, perCpu, lost, kprobes, probeMisses, profileNow } = await readRun(
        guest,
        rdir,
        i,
        b,
        workload.name,
        kprobesBefore,
        !opts.repro,
        profile.kprobes.map(kprobeEventName),
        findingsOfRun(kernelLog, findings, i, runs),
      );
      kprobesBefore = profileNow;
      checkLost(i, { perCpu, lost, kprobes, probeMisses }, opts.allowLost ?? false);
      if (i === 1) await removeStale(stale);
      const dest = runs === 1 ? resolve(opts.outDir) : join(resolve(opts.outDir), `run-${i}`);
      await prepareRunFolder(dest, runs > 1);
      const traceText = await guest.stream(join(rdir, 'trace.txt'));
      if (!traceText) throw new EnvironmentError(`run ${i}: the guest wrote no trace.txt`, `read ${join(workDir, 'console.log')} (work folder kept)`);
      const tr = await gzipTrace(traceText, join(dest, 'trace.txt.gz'));
      const cut = traceProblem(tr.headers, tr.events, perCpu);
      if (cut) {
        // not left behind: a trace.txt.gz beside no meta.json would still read as a run's trace
        await rm(join(dest, 'trace.txt.gz'), { force: true });
        throw new EnvironmentError(
          `run ${i}: ${cut}, so the trace may not hold every event the run recorded`,
          'the guest was cut short or its share is damaged: run the capture again (--keep-work keeps the share to look at)',
        );
      }
      let traceDat: string | null = null;
      if (traceDatFailed(b, i)) {
        progress(`run ${i}: trace-cmd extract failed in the guest; its trace.dat is not kept (trace.txt.gz is the run's trace)`);
      } else {
        const dat = await guest.stream(join(rdir, 'trace.dat'));
        if (dat) {
          await pipeline(dat, createWriteStream(join(dest, 'trace.dat')));
          traceDat = 'trace.dat';
          await keepSavedTgids(guest, join(rdir, SAVED_TGIDS_FILE), join(dest, SAVED_TGIDS_FILE), i, progress);
        }
      }
      await writeFile(join(dest, 'kernel.log'), kernelLog);
      await copyFile(join(workDir, 'console.log'), join(dest, 'console.log'));
      const meta: CaptureMeta = CaptureMetaSchema.parse({
        schema: META_SCHEMA_ID,
        kernel: {
          release,
          source: kernel.source,
          image: kernel.image.split('/').pop(),
          booted: bootFile === kernel.image ? 'image' : 'vmlinux (PVH)',
          configFragment: kernel.configFragment ?? null,
          patches: kernel.patches ?? [],
          cmdline,
        },
        profile: { file: opts.profileFile ?? null, resolved: profile, kprobeEvents },
        offsets,
        tracepointFormats,
        probes: profileProbeMap(profile, vmemmapBase ?? undefined, offsets.sizes.page ?? 64),
        vmemmapBase,
        faultAroundBytes,
        workload: {
          name: opts.repro ? `repro:${opts.repro.source.split('/').pop()}` : workload.name,
          durationMs: opts.durationMs,
          filePages: profile.filePages,
          testFile: { path: GUEST.testFile, ...testFile },
          exitCode: rc === undefined ? null : Number(rc),
          result,
        },
        run: { index: i, of: runs },
        accel: { requested: accelWanted, used: accel, note: accelNote },
        qemu: { version: qv, smp: opts.smp ?? 2, memMb: opts.memMb ?? 2048 },
        buffer: { sizeKb: profile.bufferSizeKb, clock: profile.traceClock, perCpu, lost, kprobes, probeMisses, allowLost: opts.allowLost ?? false },
        trace: {
          file: 'trace.txt.gz',
          bytes: tr.bytes,
          gzipBytes: tr.gzipBytes,
          events: tr.events,
          crossCpuTies: tr.crossCpuTies,
          sha256: tr.sha256,
          traceDat,
        },
        kernelLog: { file: 'kernel.log', findings: findingsOfRun(kernelLog, findings, i, runs) },
        timings: { ...timer.timings, ...gt, collect: Date.now() - collect, total: timer.total() },
        kreplay: { version: opts.kreplayVersion ?? '0.1.0' },
      });
      await writeTraceMeta(join(dest, 'meta.json'), meta);
      results.push({ dir: dest, meta });
    }
    timer.timings.collect = Date.now() - collect;
    return { outDir: resolve(opts.outDir), runs: results, timings: { ...timer.timings, ...gt, total: timer.total() }, workDir: keep ? workDir : undefined };
  } catch (e) {
    // What the user needs to see what went wrong; but not after an interrupt, which asked to stop and clean up.
    if (opts.signal?.aborted) {
      keep = opts.keepWork ?? false;
      throw e;
    }
    keep = true;
    if (isKernelFailure(e)) e.consoleLog = join(workDir, 'console.log');
    if (e instanceof Error && !/work folder/.test(e.message) && (e as { hint?: string }).hint !== undefined) {
      (e as { hint?: string }).hint = `${(e as { hint?: string }).hint} (work folder kept: ${workDir})`;
    }
    throw e;
  } finally {
    if (!keep) await rm(workDir, { recursive: true, force: true });
  }
}
