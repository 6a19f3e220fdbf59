import { Flags } from '@oclif/core';
import { writeFile } from 'node:fs/promises';
import { expandInputs, parseThreshold, type DiffResult } from '@kreplay/diff';
import { buildReport, PerfettoFiles } from '@kreplay/pipeline';
import { reportToHtml } from '@kreplay/report';
import { FAIL_ON } from '@kreplay/core';
import { shippedKernels } from '@kreplay/replay';
import { EXIT, KreplayCommand } from '../base.js';

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
  static override summary = 'Write a self-contained HTML report (and optionally Perfetto JSON) of replayed traces';
  static override description = `Inputs are traces (replayed now), replay results from \`kreplay replay --format json\`, or folders of runs. Given --base and --patched, the report includes the diff tables (what the patch changed).

The HTML file needs nothing else: no network, no scripts, no fonts. It holds a summary, each finding with its explanation and cited trace lines, a per-CPU timeline (SVG) of the events around each finding with the racing tasks highlighted, the diff tables, and latency histograms.

--perfetto writes the replayed trace as Chrome trace JSON for https://ui.perfetto.dev (open it there with "Open trace file"; it stays on your machine): a track per task, slices for fault/invalidate/truncate, instants for page-cache events, findings as global instants. With several trace inputs the second one goes to OUT-2.json, and so on; with --base/--patched, to OUT-base-1.json ... OUT-patched-1.json ...

Exit 0 once the report is written, whatever it shows (gate a build with \`kreplay diff\` or \`kreplay ci\`); 2 on bad input.`;

  static override examples = [
    '<%= config.bin %> report traces/odirect-race/trace.txt.gz --html race.html --perfetto race.perfetto.json',
    '<%= config.bin %> report --base traces/pair-odirect/base --patched traces/pair-odirect/patched --html diff.html',
  ];

  static override strict = false;
  static override args = {};

  static override flags = {
    html: Flags.string({ required: true, description: 'write the HTML report here' }),
    perfetto: Flags.string({ description: 'write the replayed trace(s) as Chrome trace JSON here' }),
    base: Flags.string({ multiple: true, description: 'base (unpatched) run: trace, replay JSON or folder (repeatable)' }),
    patched: Flags.string({ multiple: true, description: 'patched run: trace, replay JSON or folder (repeatable)' }),
    title: Flags.string({ description: 'report title' }),
    'fail-on': Flags.string({ options: [...FAIL_ON], default: 'error', description: 'severity at which a new finding is a regression (diff tables)' }),
    'max-regression': Flags.string({ multiple: true, description: 'NAME=PCT thresholds shown in the diff tables, as in kreplay diff' }),
    kernel: Flags.string({ default: 'auto', description: `replay adapter for trace inputs: auto, explore, or a kernel with a probe map (${shippedKernels().join(', ')})` }),
    probes: Flags.string({ description: 'probe map (YAML/JSON) for trace inputs' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Report);
    const runs = expandInputs(argv as string[]);
    const base = expandInputs(flags.base ?? []);
    const patched = expandInputs(flags.patched ?? []);
    if (runs.length + base.length + patched.length === 0) {
      this.note('error: report needs at least one input\n  hint: kreplay report TRACE --html out.html, or --base A --patched B --html out.html');
      this.exit(EXIT.input);
    }
    if (base.length && runs.length) {
      this.note('error: give inputs either as --base/--patched sides or as plain arguments, not both\n  see: kreplay report --help');
      this.exit(EXIT.input);
    }
    if ((base.length === 0) !== (patched.length === 0)) {
      this.note('error: --base and --patched go together\n  hint: give both sides, or plain inputs without a side');
      this.exit(EXIT.input);
    }
    const sides = base.length ? { base: base.length } : undefined;
    const perfetto = flags.perfetto ? new PerfettoFiles((_input, i) => perfettoFile(flags.perfetto!, i, sides)) : undefined;
    const model = await buildReport({
      runs, base, patched,
      replay: { kernel: flags.kernel, probesFile: flags.probes },
      diff: { failOn: flags['fail-on'] as DiffResult['failOn'], thresholds: (flags['max-regression'] ?? []).map((s) => parseThreshold(s)) },
      ...(flags.title ? { title: flags.title } : {}),
      onInput: (input) => {
        if (process.stderr.isTTY && !process.env.CI) this.note(`replaying ${input} ...`);
      },
      ...(perfetto ? { opsFor: perfetto.opsFor } : {}),
    });
    await perfetto?.finish(model);
    for (const f of perfetto?.files ?? []) this.note(`wrote ${f}`);
    await writeFile(flags.html, reportToHtml(model));
    const findings = model.runs.reduce((s, r) => s + r.run.findings.length, 0);
    this.note(`wrote ${flags.html}: ${model.runs.length} input(s), ${findings} finding(s)${model.diff ? `, ${model.diff.regression ? 'REGRESSION' : 'no regression'}` : ''}`);
  }
}
