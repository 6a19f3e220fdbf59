import { Flags } from '@oclif/core';
import { expandInputs, parseThreshold, type DiffResult } from '@kreplay/diff';
import { REPLAY_TRUST_FLAGS, replayTrust } from '../replay-flags.js';
import { buildReport, PerfettoFiles } from '@kreplay/pipeline';
import { diffVerdictSaid, findingCounts, findingCountsSaid, reportToHtml, reportToJson, reportToText, runsShortfallSaid } from '@kreplay/report';
import { checkOutputPath, FAIL_ON, InputError, oneLine, stringifyJson, writeFileAtomic } from '@kreplay/core';
import { KreplayCommand } from '../base.js';
import { shippedKernels } from '@kreplay/replay';

/**
 * Where each trace input's Perfetto JSON goes: OUT itself for a single input; otherwise
 * OUT-2.json, OUT-3.json ... after the first, or OUT-base-1.json / OUT-patched-1.json ...
 * when the inputs come as two sides.
 */
function perfettoFile(out: string, index: number, sides: { base: number } | undefined): string {
  const m = /^(.*?)(\.[^./]+)?$/.exec(out)!;
  const [stem, ext] = [m[1], m[2] ?? ''];
  if (sides) return index < sides.base ? `${stem}-base-${index + 1}${ext}` : `${stem}-patched-${index - sides.base + 1}${ext}`;
  return index === 0 ? out : `${stem}-${index + 1}${ext}`;
}

export default class Report extends KreplayCommand {
  static override summary = 'Report replayed traces: a summary to paste into a mail, a self-contained HTML report, Perfetto JSON';
  static override description = `Inputs are traces (replayed now), replay results from \`kreplay replay --format json\`, or folders of runs. Given --base and --patched, the report includes the diff tables (what the patch changed).

Findings that are one race — the same rule, the same racing tasks (by name) in the same code paths — are shown once, listing the pages they hit.

--format text (the default when no file is asked for) prints a plain-text summary a kernel developer can paste into a mail: the verdict, each race with its tasks, code paths, pages, counts and the first occurrence's cited trace lines. --json prints the same as JSON.

--html writes one file that needs nothing else: no network, no scripts, no fonts. It holds the mail summary, each race with its explanation and cited trace lines, a per-CPU timeline (SVG) of the events around it with each racing task in one colour across the whole report, the diff tables, and latency histograms.

--perfetto writes the replayed trace as Chrome trace JSON for https://ui.perfetto.dev (open it there with "Open trace file"; it stays on your machine): a track per task, slices for fault/invalidate/truncate, instants for page-cache events, findings as global instants. With several trace inputs the second one goes to OUT-2.json, and so on; with --base/--patched, to OUT-base-1.json ... OUT-patched-1.json ...

Exit 0 once the report is written, whatever it shows (gate a build with \`kreplay diff\` or \`kreplay ci\`); 2 on bad input; 3 when an output cannot be written (nothing half-written is left).`;

  static override examples = [
    '<%= config.bin %> report traces/odirect-race/trace.txt.gz --html race.html --perfetto race.perfetto.json',
    '<%= config.bin %> report --base traces/pair-filemap-recheck/base/odirect-race --patched traces/pair-filemap-recheck/patched-flags/odirect-race --html diff.html',
    '<%= config.bin %> report --base base/ --patched patched/ --format text > mail.txt',
  ];

  static override strict = false;
  static override args = {};

  static override flags = {
    'html': Flags.string({ description: 'write the HTML report here' }),
    'format': Flags.string({
      options: ['text', 'json'],
      description: 'print the summary as text (to paste into a mail; the default when no --html/--perfetto is given) or JSON',
    }),
    'json': Flags.boolean({ description: 'the same as --format json', exclusive: ['format'] }),
    'out': Flags.string({ description: 'write the --format output to this file instead of stdout' }),
    'perfetto': Flags.string({ description: 'write the replayed trace(s) as Chrome trace JSON here' }),
    'base': Flags.string({ multiple: true, description: 'base (unpatched) run: trace, replay JSON or folder (repeatable)' }),
    'patched': Flags.string({ multiple: true, description: 'patched run: trace, replay JSON or folder (repeatable)' }),
    'title': Flags.string({ description: 'report title' }),
    'fail-on': Flags.string({ options: [...FAIL_ON], default: 'error', description: 'severity at which a new finding is a regression (diff tables)' }),
    'max-regression': Flags.string({ multiple: true, description: 'NAME=PCT thresholds shown in the diff tables, as in kreplay diff' }),
    'kernel': Flags.string({
      default: 'auto',
      description: `replay adapter for trace inputs: auto, explore, or a kernel with a probe map (${shippedKernels().join(', ')})`,
    }),
    'probes': Flags.string({ description: 'probe map (YAML/JSON) for trace inputs' }),
    ...REPLAY_TRUST_FLAGS,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Report);
    const runs = expandInputs(argv as string[]);
    const base = expandInputs(flags.base ?? []);
    const patched = expandInputs(flags.patched ?? []);
    if (runs.length + base.length + patched.length === 0) {
      throw new InputError('report needs at least one input', {
        hint: 'kreplay report TRACE, or --base A --patched B (add --html out.html for the HTML report)',
      });
    }
    if (base.length && runs.length) {
      throw new InputError('give inputs either as --base/--patched sides or as plain arguments, not both', {
        hint: 'kreplay report --base A --patched B, or kreplay report TRACE...',
      });
    }
    if ((base.length === 0) !== (patched.length === 0)) {
      throw new InputError('--base and --patched go together', { hint: 'give both sides, or plain inputs without a side' });
    }
    const format = flags.json ? 'json' : (flags.format ?? (flags.html || flags.perfetto ? undefined : 'text'));
    if (flags.out && !format)
      throw new InputError('--out writes the --format output', { hint: 'add --format text or --json, or write the HTML with --html FILE' });
    // Every output is checked before anything is replayed: a folder or a missing one fails now.
    for (const f of [flags.html, flags.perfetto, flags.out]) if (f) await checkOutputPath(f);
    const sides = base.length ? { base: base.length } : undefined;
    const perfetto = flags.perfetto ? new PerfettoFiles((_input, i) => perfettoFile(flags.perfetto!, i, sides)) : undefined;
    const signal = this.interruptible();
    const progress = this.progress();
    try {
      const model = await buildReport({
        runs,
        base,
        patched,
        replay: { kernel: flags.kernel, probesFile: flags.probes, ...replayTrust(flags), signal },
        diff: {
          failOn: flags['fail-on'] as DiffResult['failOn'],
          thresholds: (flags['max-regression'] ?? []).map((s) => parseThreshold(s)),
          ...(sides ? { baseLabel: flags.base!.join(' '), patchedLabel: flags.patched!.join(' ') } : {}),
        },
        ...(flags.title ? { title: flags.title } : {}),
        onInput: (input) => progress.step(`replaying ${oneLine(input)}`),
        ...(perfetto ? { opsFor: perfetto.opsFor } : {}),
      });
      progress.done();
      await perfetto?.finish(model);
      const written = [...(perfetto?.files ?? [])];
      if (flags.html) {
        await writeFileAtomic(flags.html, reportToHtml(model));
        written.push(flags.html);
      }
      if (format === 'json') await this.emit(`${stringifyJson({ ...reportToJson(model), files: written }, 2)}\n`, flags.out);
      else if (format === 'text') await this.emit(reportToText(model), flags.out);
      const findings = model.runs.reduce((s, r) => s + r.run.findings.length, 0);
      for (const f of written) this.note(`wrote ${f}`);
      // the line a CI log shows: a report of runs that saw nothing, or have holes, is not a clean run here either
      const said = model.diff
        ? `, ${diffVerdictSaid(model.diff)}: ${findingCountsSaid(findingCounts(model.diff))}`
        : runsShortfallSaid(
            model.runs.map((r) => r.run),
            findings,
          );
      if (!format || flags.out) this.note(`${model.runs.length} input(s), ${findings} finding(s)${said}`);
    } catch (e) {
      await perfetto?.abort();
      throw e;
    }
  }
}
