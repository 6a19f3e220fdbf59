import { Args, Flags } from '@oclif/core';
import { checkOutputPath, FAIL_ON, InputError, loadProbeMap, readSavedTgids, type FailOn } from '@kreplay/core';
import { REPLAY_TRUST_FLAGS, replayTrust } from '../replay-flags.js';
import { replayFile, shippedKernels, type ReplayOptions } from '@kreplay/replay';
import { REPLAY_FORMATS, failing, renderReplay, type ReplayFormat } from '@kreplay/report';
import { EXIT, KreplayCommand } from '../base.js';
import { KERNEL_CI_FLAGS, kcidbOptions } from '../kernel-ci-flags.js';

export default class Replay extends KreplayCommand {
  static override summary = 'Replay a kernel trace against the page-cache model and flag what a correct kernel could not have done';
  static override description = `Reads an ftrace text trace (also trace_pipe, trace-cmd report, perf script, trace.dat; gzip is fine; - reads stdin), lifts its events to page-cache operations with the adapter of the traced kernel, replays them in timestamp order against a shadow of the page cache and the PTEs that map it, and reports:

  mapped-page-removed     a page left the page cache while a PTE still mapped it
  orphan-page-mapped      a PTE was installed for a page no longer in the page cache
  stale-after-invalidate  invalidate_inode_pages2_range returned 0 with a stale page still mapped in its range
  stale-data              a fault was served from a page that survived a successful invalidate of its index, or the workload read old data (its kreplay: mismatch marker)
  trace-inconsistent      the trace contradicts the state its own events imply

Each finding cites the trace lines it rests on and names the racing tasks and CPUs; it is uncertain when events it rests on may have been lost, or their order is not shown (timestamp ties, a per-CPU trace clock such as local: see --trace-clock). Pages and mappings that predate the trace are adopted, not flagged.

The adapter: --kernel auto (default) takes explorer traces by their "# kreplay: explore" header, else the kernel release in the trace's meta.json (found as <trace>.meta.json or meta.json beside it), else linux-6.1. What each probe means comes from kernel-configs/probes/<kernel>.yaml, overridden by meta.json's probes section and by --probes FILE. struct page pointers become pfns with the vmemmap base from --vmemmap-base or meta.json.

Exit 1 when a finding reaches --fail-on, 0 otherwise, 2 on bad input — and 2 when the trace is inconclusive (no events, or none that is a page-cache operation), after writing the output, whatever --fail-on says. See docs/replay.md.`;

  static override examples = [
    '<%= config.bin %> replay traces/odirect-race/trace.txt.gz',
    '<%= config.bin %> replay traces/pair-filemap-recheck/patched/odirect-race/run-1/trace.txt.gz   # a 6.1 build without the filemap_fault recheck',
    '<%= config.bin %> replay trace.txt --vmemmap-base 0xffffea0000000000 --stats',
    '<%= config.bin %> replay trace.txt --probes my-probes.yaml --format sarif --out replay.sarif',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault.yaml --trace-out cex.txt; <%= config.bin %> replay cex.txt',
  ];

  static override args = {
    trace: Args.string({ required: true, description: 'trace file, or - for stdin' }),
  };

  static override flags = {
    'kernel': Flags.string({ default: 'auto', description: `adapter: auto, explore, or a kernel with a probe map (${shippedKernels().join(', ')})` }),
    'probes': Flags.string({ description: 'probe map (YAML/JSON) saying what user-named probes mean; wins over meta.json and the shipped map' }),
    'vmemmap-base': Flags.string({ description: 'vmemmap_base of the traced kernel as hex (x86-64 with nokaslr: 0xffffea0000000000); wins over meta.json' }),
    'format': Flags.string({ options: [...REPLAY_FORMATS], default: 'text', description: 'output format' }),
    'json': Flags.boolean({ description: 'the same as --format json', exclusive: ['format'] }),
    'out': Flags.string({ description: 'write the output to this file instead of stdout' }),
    'fail-on': Flags.string({ options: [...FAIL_ON], default: 'error', description: 'lowest severity that makes the exit code 1' }),
    'stats': Flags.boolean({ description: 'text: also show what was replayed, adopted, skipped and how fast' }),
    'timing': Flags.boolean({
      default: true,
      allowNo: true,
      description: 'include wall-clock figures (ms, events/s); --no-timing makes the output byte-identical run to run',
    }),
    ...REPLAY_TRUST_FLAGS,
    'buffer': Flags.string({
      description:
        'trace.dat: the ring buffer (tracefs instance) to replay, "" for the top one; without it the top one is read and any other the file holds is a gap',
    }),
    'tgids': Flags.string({
      description:
        "trace.dat: the traced kernel's saved_tgids (pid tgid lines), each pid's thread group, which a trace.dat does not hold; without it a saved_tgids beside the trace (T.saved_tgids, or saved_tgids in its folder) is read",
    }),
    'reorder-window': Flags.integer({ min: 1, description: 'events the sorter may hold to restore timestamp order (default 4096)' }),
    ...KERNEL_CI_FLAGS,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Replay);
    if (flags.out) await checkOutputPath(flags.out);
    const opts: ReplayOptions = { kernel: flags.kernel };
    if (flags.probes) {
      opts.probes = await loadProbeMap(flags.probes);
      opts.probesSource = flags.probes;
    }
    if (flags['vmemmap-base'] !== undefined) {
      const v = flags['vmemmap-base'];
      if (!/^(0x)?[0-9a-f]+$/i.test(v)) {
        throw new InputError(`--vmemmap-base ${v} is not a hex address`, { hint: 'write it as hex, e.g. 0xffffea0000000000 (x86-64 with nokaslr)' });
      }
      opts.vmemmapBase = BigInt(v.startsWith('0x') || v.startsWith('0X') ? v : `0x${v}`);
    }
    if (flags['reorder-window'] !== undefined) opts.reorderWindow = flags['reorder-window'];
    Object.assign(opts, replayTrust(flags));
    if (flags.buffer !== undefined) opts.buffer = flags.buffer;
    if (flags.tgids !== undefined) {
      opts.tgids = await readSavedTgids(flags.tgids);
      opts.tgidsSource = flags.tgids;
    }
    const progress = this.progress();
    progress.step(`replaying ${args.trace}`);
    opts.onProgress = (n) => progress.update(`replaying ${args.trace}: ${(n / 1e6).toFixed(1)} M events`);

    const result = await replayFile(args.trace, opts);
    progress.done();

    const failOn = flags['fail-on'] as FailOn;
    const format = (flags.json ? 'json' : flags.format) as ReplayFormat;
    const text = renderReplay(result, format, { failOn, stats: flags.stats, timing: flags.timing, kcidb: kcidbOptions(flags) });
    await this.emit(text, flags.out);
    if (flags.out) this.note(`${flags.out}: ${result.findings.length} findings (${result.stats.events} events replayed)`);
    if (format !== 'text' || flags.out) for (const w of result.warnings) this.note(`warning: ${w}`);
    if (result.verdict.status === 'inconclusive') {
      // a trace that saw nothing is never a pass, whatever --fail-on says (docs/exit-codes.md)
      if (format !== 'text' || flags.out) for (const why of result.verdict.inconclusive) this.note(`inconclusive: ${why}`);
      this.exit(EXIT.input);
    }
    this.exit(failing(result.findings, failOn) ? EXIT.findings : EXIT.clean);
  }
}
