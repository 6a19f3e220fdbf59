import { Flags } from '@oclif/core';
import { relative, resolve } from 'node:path';
import { captureSide, checkCaptureSide, ciSummaryText, loadCiConfig, runCi, type CiGroupResult } from '@kreplay/pipeline';
import { parseShard, printable, stringifyJson } from '@kreplay/core';
import { ciGroupCountsSaid, groupShortfall, verdictWord } from '@kreplay/report';
import { ciExitCode, KreplayCommand } from '../base.js';

export default class Ci extends KreplayCommand {
  static override summary = 'Capture → replay → diff → reports for a base and a patched kernel, from one config file';
  static override description = `Reads kreplay.config.json (zod-validated; see kreplay.config.example.json and docs/ci.md): the base and patched kernels to capture from (Debian's packaged kernel or a bzImage) or traces already captured, the capture profile and workloads, runs per side, replay choices and thresholds. For each workload it captures both sides (when kernels are given), replays every run, diffs them and writes every report into the output folder: <workload>/diff.txt, diff.json, diff.junit.xml, diff.sarif, diff.github.txt, report.html (and perfetto-*.json when asked), plus summary.txt and summary.json.

Progress is one updating line on a terminal and plain lines in CI (CI=true or no TTY). The config states the format it was written for ("schema": "kreplay-ci/1") and is checked whole before any work: every key, every file it names, each side's kernel, modules, workloads and profile, each error at its file:line. Outputs are written under a temporary name and renamed; SIGINT/SIGTERM stop QEMU, remove the work folders and half-written files, and exit 130/143.

Exit 1 when any workload regressed (the patched kernel failing a workload is its regression), 0 when none did, 2 for a bad config or when a workload is inconclusive (a side with no run that saw page-cache operations, or a base kernel that failed the workload) and none regressed, 3 when capture cannot run on this machine or an output cannot be written.`;

  static override examples = ['<%= config.bin %> ci --config kreplay.config.json', 'CI=true <%= config.bin %> ci --config kreplay.config.json --shard 1/2'];

  static override flags = {
    config: Flags.string({ default: 'kreplay.config.json', description: 'config file' }),
    output: Flags.string({ description: 'output folder (overrides the config\'s "output")' }),
    json: Flags.boolean({ description: 'print the summary (summary.json) as JSON instead of text' }),
    shard: Flags.string({ description: 'i/n: run only every n-th workload, starting at the i-th (fan out over CI jobs)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Ci);
    const loaded = await loadCiConfig(flags.config);
    if (flags.output) loaded.config.output = resolve(flags.output);
    const shard = flags.shard ? parseShard(flags.shard) : undefined;
    // A terminal gets one status line, redrawn every second so the clock moves during a
    // long capture, and a lasting line per finished workload; CI logs get plain lines.
    const live = process.stderr.isTTY && !process.env.CI;
    const t0 = Date.now();
    const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
    let status = 'starting';
    const draw = () => process.stderr.write(`\r\x1b[K${stamp()} ${status.length > 110 ? `${status.slice(0, 107)}...` : status}`);
    const ticker = live ? setInterval(draw, 1000) : undefined;
    ticker?.unref();
    const onProgress = (m: string) => {
      status = printable(m); // it names traces, workloads and what a guest printed: controls shown, not acted on
      if (live) draw();
      else this.note(`[kreplay ci ${stamp()}] ${m}`);
    };
    const onGroup = (g: CiGroupResult) => {
      if (live) process.stderr.write(`\r\x1b[K${stamp()} ${g.name}: ${verdictWord(g, groupShortfall(g))} (${ciGroupCountsSaid(g)})\n`);
    };
    let result;
    try {
      result = await runCi(loaded, {
        capture: captureSide,
        checkCapture: checkCaptureSide,
        signal: this.interruptible(),
        onProgress,
        onGroup,
        ...(shard ? { shard } : {}),
        version: this.config.version,
      });
    } finally {
      clearInterval(ticker);
      if (live) process.stderr.write('\r\x1b[K');
    }
    const code = ciExitCode(result);
    if (flags.json) {
      this.out(stringifyJson(result, 2));
      this.exit(code);
    }
    this.out(ciSummaryText(result).trimEnd());
    const rel = relative(process.cwd(), result.output);
    this.out(`reports in ${rel.startsWith('..') ? result.output : rel || '.'}/`);
    this.exit(code);
  }
}
