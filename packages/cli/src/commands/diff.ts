import { Args, Flags } from '@oclif/core';
import { diffRuns, expandInputs, loadSide, parseThreshold, replayerFor, type DiffResult } from '@kreplay/diff';
import { REPLAY_TRUST_FLAGS, replayTrust } from '../replay-flags.js';
import {
  diffToGithub,
  diffToJson,
  diffToJunit,
  diffToKcidb,
  diffToKtap,
  diffToSarif,
  diffToText,
  diffVerdictSaid,
  findingCounts,
  findingCountsSaid,
} from '@kreplay/report';
import { checkOutputPath, FAIL_ON } from '@kreplay/core';
import { shippedKernels } from '@kreplay/replay';
import { EXIT, KreplayCommand } from '../base.js';
import { KERNEL_CI_FLAGS, kcidbOptions } from '../kernel-ci-flags.js';

const FORMATS = ['text', 'json', 'junit', 'sarif', 'github', 'ktap', 'kcidb'] as const;

export default class Diff extends KreplayCommand {
  static override summary = 'What a patch changed: findings, behaviour and workload results, base vs patched';
  static override description = `Each side is a trace (replayed now), a replay result written by \`kreplay replay --format json\`, or a folder of runs (one trace per sub-folder, as \`kreplay capture --runs N\` writes). Several runs per side (--base/--patched repeated, or a folder) aggregate.

Findings are matched by rule and page-cache page (file, index), never by timestamp or pfn, and reported new / fixed / unchanged. Behaviour is compared per operation kind as counts and rates per second of trace; latencies (fault, invalidate, truncate entry→return) as p50/p90/p99/max with a significance note: too few samples (under 20 per side) cannot tell; otherwise a two-sided Mann-Whitney U test at p < 0.01 (deterministic, no random draws), and with several runs per side a shift counts only when every run's p50 agrees (samples of one run move together). Workload results (and the kernel log's WARN/BUG lines) come from each trace's meta.json. Details: docs/diff.md.

Exit 1 on a regression (a new finding at --fail-on, or a metric beyond --max-regression), 0 otherwise, 2 on bad input — and 2 when the diff is inconclusive (a side with no run that saw page-cache operations), after writing the output.`;

  static override examples = [
    '<%= config.bin %> diff traces/pair-filemap-recheck/base/odirect-race traces/pair-filemap-recheck/patched/odirect-race',
    '<%= config.bin %> diff base.json patched.json --format sarif --out diff.sarif',
    '<%= config.bin %> diff --base run1/trace.txt --base run2/trace.txt --patched p1/trace.txt --patched p2/trace.txt',
    '<%= config.bin %> diff base/ patched/ --max-regression fault.p99=20 --max-regression invalidate_ebusy=0',
  ];

  static override args = {
    base: Args.string({ description: 'base (unpatched) trace, replay JSON or folder of runs' }),
    patched: Args.string({ description: 'patched trace, replay JSON or folder of runs' }),
  };

  static override flags = {
    'base': Flags.string({ multiple: true, description: 'another base run (repeatable)' }),
    'patched': Flags.string({ multiple: true, description: 'another patched run (repeatable)' }),
    'format': Flags.string({ options: [...FORMATS], default: 'text', description: 'output format' }),
    'json': Flags.boolean({ description: 'the same as --format json', exclusive: ['format'] }),
    'out': Flags.string({ description: 'write the output to this file instead of stdout' }),
    'fail-on': Flags.string({ options: [...FAIL_ON], default: 'error', description: 'severity at which a new finding is a regression' }),
    'max-regression': Flags.string({
      multiple: true,
      description: 'NAME=PCT: a metric may grow at most PCT percent (faults, fault_retries, invalidate_ebusy, fault.p99, workload.mismatches, findings, ...)',
    }),
    'kernel': Flags.string({
      default: 'auto',
      description: `replay adapter for trace inputs: auto, explore, or a kernel with a probe map (${shippedKernels().join(', ')})`,
    }),
    'probes': Flags.string({ description: 'probe map (YAML/JSON) for trace inputs, as in kreplay replay --probes' }),
    ...REPLAY_TRUST_FLAGS,
    ...KERNEL_CI_FLAGS,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Diff);
    const baseInputs = [...(args.base ? [args.base] : []), ...(flags.base ?? [])];
    const patchedInputs = [...(args.patched ? [args.patched] : []), ...(flags.patched ?? [])];
    if (baseInputs.length === 0 || patchedInputs.length === 0) {
      this.note('error: diff needs a base and a patched side\n  hint: kreplay diff BASE PATCHED, or --base A --patched B (repeatable)');
      this.exit(EXIT.input);
    }
    const thresholds = (flags['max-regression'] ?? []).map((s) => parseThreshold(s));
    if (flags.out) await checkOutputPath(flags.out);
    const replay = await replayerFor({ kernel: flags.kernel, probesFile: flags.probes, ...replayTrust(flags) });
    const shown = this.progress();
    const progress = (input: string) => shown.step(`replaying ${input}`);
    const base = await loadSide(expandInputs(baseInputs), replay, progress);
    const patched = await loadSide(expandInputs(patchedInputs), replay, progress);
    shown.done();
    const result: DiffResult = diffRuns(base, patched, {
      failOn: flags['fail-on'] as DiffResult['failOn'],
      thresholds,
      baseLabel: baseInputs.join(' '),
      patchedLabel: patchedInputs.join(' '),
    });
    // ktap/kcidb name the test after the workload, when every run names the same one
    const names = [...new Set([...base, ...patched].map((r) => r.workloadName))];
    const workload = names.length === 1 && names[0] ? { workload: names[0] } : {};
    const render = {
      text: diffToText,
      json: diffToJson,
      junit: diffToJunit,
      sarif: diffToSarif,
      github: diffToGithub,
      ktap: (d: DiffResult) => diffToKtap(d, workload),
      kcidb: (d: DiffResult) => diffToKcidb(d, { ...workload, ...kcidbOptions(flags) }),
    } satisfies Record<(typeof FORMATS)[number], (d: DiffResult) => string>;
    const text = render[(flags.json ? 'json' : flags.format) as (typeof FORMATS)[number]](result);
    await this.emit(text, flags.out);
    if (flags.out) {
      this.note(`${diffVerdictSaid(result)}: ${findingCountsSaid(findingCounts(result))}; wrote ${flags.out}`);
      for (const why of result.inconclusive) this.note(`inconclusive: ${why}`);
    }
    this.exit(result.verdict === 'inconclusive' ? EXIT.input : result.regression ? EXIT.findings : EXIT.clean);
  }
}
