import { Args, Flags } from '@oclif/core';
import { checkOutputPath, DEFAULT_DEBIAN_SERIES, InputError, parseDuration, printable, stringifyJson, writeFileAtomic } from '@kreplay/core';
import { resolveFlavor } from '@kreplay/mm-model';
import { buildReport } from '@kreplay/pipeline';
import { reportToHtml } from '@kreplay/report';
import {
  chooseProfile,
  formatTriageText,
  reproduce,
  scanReportFile,
  triage,
  triageView,
  withoutTiming,
  type ProfileChoice,
  type ReproResult,
  type TriageResult,
} from '@kreplay/triage';
import { loadProfile } from '@kreplay/capture';
import { EXIT, KreplayCommand } from '../base.js';
import { kernelFromFlags } from '../kernel-flag.js';

export default class Triage extends KreplayCommand {
  static override summary = "Read a kernel bug report: title, rule, paths, page; the model's schedule; a reproducer's traces";
  static override description = `Reads kernel console output as people paste it (dmesg with timestamps or printk caller ids, syslog or journal lines, syzbot bodies, mail-quoted excerpts, several splats, CRLF, noise) and prints for each splat: a syzkaller-style title, its kind, the kernel release, task and CPU, the call trace (the first frame that is not reporting machinery marked; page-cache frames are never hidden), the decoded page/folio dump, the kreplay rule it is evidence of, and the model paths of its stacks.

For a splat whose rule and paths the model covers, it chooses the flavor for the report's kernel (the newest flavor whose declared version is not newer than the release), builds a scenario from the stacks (the reporting task and what its state implies), explores every interleaving and prints the shortest schedule that reaches the reported rule — or says that the model cannot reach it. --scenario-out writes that scenario for \`kreplay explore\`.

With --repro prog.c, the reproducer is compiled into the capture image and run --runs times under tracing (the capture profile that covers the paths) on --kernel; each trace is replayed and the output says in how many runs the race was caught. The reproducer runs only inside the guest, as \`kr-repro FILE PAGES DURATION_MS\`: it must race on FILE, the traced test file.

Exit codes: 0 read (no schedule reaches the rule, no run caught it); 1 the model reaches the reported rule or a run caught the race; 2 an input error (an empty file, a log with no splat, binary data, a bad flag); 3 the machine cannot run the reproducer (QEMU, the kernel).`;

  static override examples = [
    '<%= config.bin %> triage fixtures/reports/lkml-2007-01-06-xfs-odirect-cancel-dirty-page/report.txt',
    'dmesg | <%= config.bin %> triage - --json',
    '<%= config.bin %> triage report.txt --json --no-timing',
    '<%= config.bin %> triage report.txt --scenario-out race.yaml && <%= config.bin %> explore race.yaml',
    '<%= config.bin %> triage report.txt --repro repro.c --runs 3 --html triage.html',
  ];

  static override strict = false;
  static override args = {
    report: Args.string({ required: false, description: 'report file(s) (- for stdin)' }),
  };

  static override flags = {
    'json': Flags.boolean({ description: 'print the triage result as JSON' }),
    'timing': Flags.boolean({
      default: true,
      allowNo: true,
      description: "include each search's wall-clock time (ms); --no-timing makes the output byte-identical run to run",
    }),
    'html': Flags.string({ description: "write a self-contained HTML report (the triage, and the reproducer's traces when --repro ran)" }),
    'scenario-out': Flags.string({ description: 'write the scenario built from the report (YAML for kreplay explore)' }),
    'flavor': Flags.string({ description: "kernel flavor for the model (name or module path), instead of the one chosen from the report's release" }),
    'release': Flags.string({ description: 'the kernel release to assume when the report states none (or the wrong one), e.g. 6.1' }),
    'splat': Flags.integer({ min: 1, multiple: true, description: 'only the N-th splat of the report (repeatable)' }),
    'model': Flags.boolean({ default: true, allowNo: true, description: 'run the model on splats it covers (--no-model: only read the report)' }),
    'timeout': Flags.string({ default: '60s', description: 'time budget of each exploration' }),
    'repro': Flags.string({ description: 'C reproducer to run in the guest under tracing (compiled with the host gcc, run only inside QEMU)' }),
    'kernel': Flags.string({
      default: 'debian',
      description: 'with --repro: debian (the packaged kernel), a bzImage/vmlinux path, or a `kreplay kernel build` folder',
    }),
    'modules': Flags.string({ description: "with --repro: the kernel's /lib/modules/<release> folder" }),
    'offsets': Flags.string({ description: 'with --repro: a declared struct offsets table for that kernel' }),
    'profile': Flags.string({ description: "with --repro: capture profile (default: the one whose probes cover the report's paths)" }),
    'runs': Flags.integer({ default: 3, min: 1, max: 100, description: 'with --repro: runs in one boot' }),
    'duration': Flags.string({ default: '3s', description: 'with --repro: how long each run lasts' }),
    'accel': Flags.string({ default: 'auto', options: ['auto', 'kvm', 'tcg'], description: 'with --repro: QEMU accelerator' }),
    'out': Flags.string({ default: 'out/triage-repro', description: 'with --repro: where the traces go' }),
    'allow-lost': Flags.boolean({ description: 'with --repro: keep traces whose ring buffer overran' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Triage);
    const files = argv as string[];
    if (files.length === 0) throw new InputError('no report given', { hint: 'kreplay triage report.txt (or - to read stdin)' });
    if (flags.repro && files.length !== 1) throw new InputError('--repro goes with one report', { hint: 'triage the reports one at a time' });
    for (const f of [flags.html, flags['scenario-out']]) if (f) await checkOutputPath(f);
    const flavor = flags.flavor ? await resolveFlavor(flags.flavor) : undefined;
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const progress = process.stderr.isTTY && !flags.json ? (m: string) => this.note(m) : undefined;

    const results: Array<{ result: TriageResult; repro?: ReproResult }> = [];
    for (const f of files) {
      const parsed = await scanReportFile(f);
      const result = await triage(parsed, {
        model: flags.model,
        timeoutMs,
        ...(flags.splat ? { splats: flags.splat } : {}),
        ...(flavor ? { flavor } : {}),
        ...(flags.release ? { release: flags.release } : {}),
        ...(progress ? { onProgress: progress } : {}),
      });
      results.push({ result: flags.timing ? result : withoutTiming(result) });
    }

    if (flags['scenario-out'])
      await this.writeScenarios(
        flags['scenario-out'],
        results.map((r) => r.result),
      );
    if (flags.repro) results[0]!.repro = await this.reproduce(results[0]!.result, flags);

    if (flags.html) {
      const runs = results[0]?.repro?.runs.map((r) => r.dir) ?? [];
      const model = await buildReport({ runs, title: `kreplay triage: ${files.join(', ')}` });
      model.triage = results.map((r) => triageView(r.result, r.repro));
      await writeFileAtomic(flags.html, reportToHtml(model));
      this.note(`wrote ${flags.html}`);
    }
    if (flags.json) {
      const body = results.map((r) => ({ ...r.result, ...(r.repro ? { repro: r.repro } : {}) }));
      this.out(stringifyJson(files.length === 1 ? body[0] : { reports: body }, 2));
    } else {
      process.stdout.write(printable(formatTriageText(results))); // the report's lines lost their controls on input; its file names have not
    }
    const reached = results.some((r) => r.result.splats.some((s) => s.model?.status === 'schedule') || (r.repro?.caught ?? 0) > 0);
    if (reached) this.exit(EXIT.findings);
  }

  /** Every scenario built, the first to FILE, the next to FILE-2.yaml ... */
  private async writeScenarios(file: string, results: TriageResult[]): Promise<void> {
    const yamls = results.flatMap((r) => r.splats.flatMap((s) => (s.model?.scenario ? [{ s, yaml: s.model.scenario.yaml }] : [])));
    if (yamls.length === 0) {
      this.note('note: no scenario was built (no splat whose rule and paths the model covers), so --scenario-out wrote nothing');
      return;
    }
    const m = /^(.*?)(\.[^./]+)?$/.exec(file)!;
    for (const [i, { s, yaml }] of yamls.entries()) {
      const out = i === 0 ? file : `${m[1]}-${i + 1}${m[2] ?? '.yaml'}`;
      await writeFileAtomic(out, yaml);
      this.note(`wrote the scenario of splat ${s.index} (${s.title}) to ${out}`);
    }
  }

  private async reproduce(
    result: TriageResult,
    flags: {
      'repro'?: string;
      'kernel': string;
      'modules'?: string;
      'offsets'?: string;
      'profile'?: string;
      'runs': number;
      'duration': string;
      'accel': string;
      'out': string;
      'allow-lost': boolean;
    },
  ): Promise<ReproResult> {
    const splat = result.splats.find((s) => s.rule !== null) ?? result.splats[0]!;
    const programs =
      splat.model?.scenario?.threads.map((t) => t.program) ??
      [splat.paths.reporter?.program, ...splat.paths.others.map((p) => p.program)].filter((p): p is string => typeof p === 'string');
    const { kernel, debian, offsets } = await kernelFromFlags(flags);
    if (debian && debian.series !== DEFAULT_DEBIAN_SERIES) {
      // triage's profiles probe 6.1's functions; a 6.12 kernel has others (kernel-configs/capture/linux-6.12)
      throw new InputError(`--repro boots Debian's ${DEFAULT_DEBIAN_SERIES.name} kernel, not ${flags.kernel}`, {
        hint: `triage's capture profiles probe ${DEFAULT_DEBIAN_SERIES.name}'s functions: use --kernel debian (or debian:${DEFAULT_DEBIAN_SERIES.exampleRelease})`,
      });
    }
    let profile: ProfileChoice | undefined;
    if (flags.profile) profile = { profile: await loadProfile(flags.profile), file: flags.profile, because: '--profile' };
    else profile = await chooseProfile(programs.length ? programs : ['fault', 'odirect_write']);
    // a CI log gets plain timestamped lines and a heartbeat (as capture's), not minutes of silence
    const plain = process.stderr.isTTY ? undefined : this.progress(true);
    return reproduce({
      splat,
      programs,
      source: flags.repro!,
      runs: flags.runs,
      durationMs: parseDuration(flags.duration),
      outDir: flags.out,
      accel: flags.accel as 'auto' | 'kvm' | 'tcg',
      allowLost: flags['allow-lost'],
      profile,
      ...(kernel ? { kernel } : {}),
      ...(debian ? { debian } : {}),
      ...(offsets ? { offsets } : {}),
      onProgress: (m) => {
        if (plain) plain.step(m);
        else this.note(m);
      },
    });
  }
}
