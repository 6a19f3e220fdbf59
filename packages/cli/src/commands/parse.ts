import { Args, Flags } from '@oclif/core';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { formatStats, openTraceBatches, reportTraceDat, TraceStatsCollector, type ParseTotals } from '@kreplay/ftrace-parser';
// the core's leaf modules, not its index: `parse` starts without loading zod and yaml
import { InputError } from '@kreplay/core/errors';
import { readSavedTgids } from '@kreplay/core/saved-tgids';
import { besideTrace, isTraceDatFile } from '@kreplay/core/beside';
import { oneLine } from '@kreplay/core/escape';
import { stringifyJson } from '@kreplay/core/json';
import type { Gap, TraceRecord } from '@kreplay/core/records';
import { KreplayCommand, writeStdoutChunk } from '../base.js';
import { readTgidsFlag } from '../tgids-flag.js';

/** Files smaller than this finish before a progress bar is worth drawing. */
const PROGRESS_MIN_BYTES = 16 << 20;

export default class Parse extends KreplayCommand {
  static override summary = 'Parse a trace into events and gaps, or count what it holds';
  static override description = `Reads /sys/kernel/tracing/trace (nop, function, function_graph, the latency tracers, hwlat, syscalls), trace_pipe, \`trace-cmd report\` (default, -R, -l), \`perf script\` output (with or without the CPU column) and trace.dat (v6/v7, zlib/zstd); gzip-compressed files are read as they are. Lines nobody can parse become gaps and the first ones are shown on stderr; --strict makes them fatal (exit 2).

Without --jsonl the statistics are printed (the same as --stats).`;

  static override examples = [
    '<%= config.bin %> parse trace.txt --stats',
    '<%= config.bin %> parse trace.txt --stats --json | jq .byEvent',
    'cat /sys/kernel/tracing/trace_pipe | <%= config.bin %> parse - --jsonl',
    '<%= config.bin %> parse perf.txt --format perf --strict',
    '<%= config.bin %> parse trace.dat --pretty | less',
    '<%= config.bin %> parse trace.dat --render | less',
  ];

  static override args = {
    file: Args.string({ required: true, description: 'trace file (text, .gz or trace.dat), or - for stdin' }),
  };

  static override flags = {
    format: Flags.string({ options: ['auto', 'ftrace', 'perf'], default: 'auto', description: 'line layout; auto detects it line by line' }),
    jsonl: Flags.boolean({ description: 'print every record as one JSON line ({"type":"event",...} / {"type":"gap",...})' }),
    stats: Flags.boolean({
      description:
        'print events per event name and per CPU, gaps, time span, the unit of the timestamps (usec, nsec or counter ticks), the trace clock the file names, lines and the parse rate (on stderr with --jsonl)',
    }),
    json: Flags.boolean({ description: 'print the statistics as one JSON object' }),
    timing: Flags.boolean({
      default: true,
      allowNo: true,
      description: 'include the parse rate (seconds, MB/s, events/s) in the statistics; --no-timing makes them byte-identical run to run',
    }),
    strict: Flags.boolean({ description: 'an unparseable line is an input error (exit 2)' }),
    pretty: Flags.boolean({
      description: 'trace.dat: print every event the way `trace-cmd report -R -t` does (raw fields, ns timestamps) instead of statistics',
    }),
    tgids: Flags.string({
      description:
        "trace.dat: the traced kernel's saved_tgids (pid tgid lines), each pid's thread group, which a trace.dat does not hold (--jsonl's `tgid`); without it a saved_tgids beside the trace (T.saved_tgids, or saved_tgids in its folder) is read, as replay reads it",
    }),
    render: Flags.boolean({
      description: 'trace.dat: print every event with its print fmt evaluated, the way `trace-cmd report -N -t` does (implies --pretty)',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Parse);
    const file = args.file;
    if (flags.pretty || flags.render) return this.pretty(file, flags.strict, flags.render);
    const progress = this.parseProgress(
      file,
      file === '-'
        ? undefined
        : await stat(file).then(
            (s) => s.size,
            () => undefined,
          ),
    );
    let totals: ParseTotals | undefined;
    const collector = new TraceStatsCollector(oneLine(file));
    const started = performance.now();
    const tgids = await this.savedTgids(file, flags.tgids);
    const records = openTraceBatches(file, {
      ...(tgids ? { tgids } : {}),
      format: flags.format as 'auto' | 'ftrace' | 'perf',
      strict: flags.strict,
      // statistics need no payloads: skip decoding them unless records are printed
      fields: flags.jsonl === true,
      onProgress: progress?.update,
      onDone: (t) => {
        totals = t;
      },
    });
    try {
      for await (const batch of records) {
        collector.addBatch(batch);
        if (flags.jsonl && !(await this.writeJsonl(batch))) return;
      }
    } finally {
      progress?.done();
    }
    const seconds = (performance.now() - started) / 1000;
    const stats = collector.finish(totals, flags.timing ? seconds : undefined);
    this.showProblems(stats.firstProblems, stats.unparseable + stats.truncated);
    if (flags.jsonl) {
      if (flags.stats) this.note(flags.json ? stringifyJson(stats) : formatStats(stats));
      return;
    }
    this.out(flags.json ? stringifyJson(stats, 2) : formatStats(stats));
  }

  /** A trace.dat's thread groups: --tgids, else the saved_tgids beside it (as replayFile finds it); none for a text trace. */
  private async savedTgids(file: string, named: string | undefined): Promise<ReadonlyMap<number, number> | undefined> {
    if (named !== undefined) return readTgidsFlag(file, named);
    const beside = (await besideTrace(file)).savedTgids;
    return beside === undefined ? undefined : readSavedTgids(beside);
  }

  /** --pretty: the trace.dat's events as text lines (raw fields, or with --render the print fmt evaluated). */
  private async pretty(file: string, strict: boolean, rendered: boolean): Promise<void> {
    if (!(await isTraceDatFile(file))) {
      throw new InputError('--pretty reads trace.dat files', {
        file,
        hint: 'a text trace is already readable as it is; use --jsonl to see its decoded records',
      });
    }
    for await (const chunk of reportTraceDat(file, { strict, rendered })) {
      if (!(await writeStdoutChunk(chunk))) return;
    }
  }

  /** False once stdout's reader has gone away. */
  private async writeJsonl(batch: TraceRecord[]): Promise<boolean> {
    let text = '';
    for (const r of batch) text += `${stringifyJson(r)}\n`;
    return writeStdoutChunk(text);
  }

  private showProblems(first: Gap[], total: number): void {
    for (const g of first) {
      this.note(
        `warning: ${g.source}:${g.line}: ${g.kind === 'truncated' ? '' : 'unparseable line: '}${g.reason}${g.text ? `: ${JSON.stringify(g.text)}` : ''}`,
      );
    }
    if (total > first.length) this.note(`warning: ... and ${total - first.length} more unparseable lines (--jsonl lists them all as gaps)`);
  }

  /**
   * Progress of a large file: a bar redrawn on a terminal, a plain line every
   * KREPLAY_PROGRESS_SECONDS in a CI log (src/progress.ts); nothing for a small file.
   */
  private parseProgress(file: string, size: number | undefined): { update: (read: number, total?: number) => void; done: () => void } | undefined {
    if (size === undefined || size < PROGRESS_MIN_BYTES) return undefined;
    const shown = this.progress();
    const t0 = performance.now();
    return {
      update: (read, total) => {
        const all = total ?? size;
        const frac = Math.min(1, read / all);
        const width = 30;
        const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
        const mbs = read / 1e6 / Math.max(1e-3, (performance.now() - t0) / 1000);
        shown.update(
          `parsing ${file} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${(read / 1e6).toFixed(0)}/${(all / 1e6).toFixed(0)} MB ${mbs.toFixed(0)} MB/s`,
        );
      },
      done: () => shown.done(),
    };
  }
}
