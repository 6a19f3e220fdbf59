import { Args, Flags } from '@oclif/core';
import { availableParallelism } from 'node:os';
import { InputError, parseDuration, printable, stringifyJson } from '@kreplay/core';
import {
  checkFiles,
  DEFAULT_MODEL,
  describeModel,
  expandLitmusPaths,
  formatHerd,
  ignoredWarning,
  judge,
  listModels,
  loadModel,
  resultJson,
  unknownWarning,
  type FileOutcome,
  type Judgement,
} from '@kreplay/lkmm';
import { EXIT, KreplayCommand, writeStdoutChunk } from '../base.js';

export default class Litmus extends KreplayCommand {
  static override summary = 'Check C litmus tests against the Linux-kernel memory model (as herd7 does)';
  static override description = `Reads C litmus tests (the format of herd7 and the kernel's tools/memory-model/litmus-tests/) and decides them under the Linux-kernel memory model: the kernel's own linux-kernel.cat, .bell, .def and lock.cat, shipped with kreplay and run by its cat interpreter. The output is herd7's for each test (final states, Ok/No, witnesses, Flag data-race, Observation NAME Never|Sometimes|Always P N), without herd7's Time and Hash lines.

FILE may be a .litmus file, a folder (every .litmus below it) or a quoted pattern ('tests/**/*.litmus').

--judge compares each verdict with the test's "Result:" comment the way the kernel's scripts/judgelitmus.sh does (a predicted DATARACE and a modeled data race must go together; a data race forgives another mismatch).

A model whose checks never refer to a grace period (kreplay's packages/lkmm/models/sc, herd7's sc.cat) lets synchronize_rcu() and synchronize_srcu() wait for no reader: on a test that has one, a warning says so on stderr (and "ignoredByModel" in --json), and the verdict is the one without RCU's guarantee. A condition that names a location or register the test never mentions (read as 0 everywhere, as herd7 does) draws a warning too ("unknownInCondition" in --json).

Exit codes: 0 every test was checked (and, with --judge, agrees with its Result: line); 1 a test disagrees with its Result: line (--judge) or ran out of time (--timeout); 2 a file could not be read, parsed or checked (the message names file:line and the unsupported construct; the other files are still checked); 70 internal error.`;

  static override examples = [
    '<%= config.bin %> litmus tests/SB+fencembonceonces.litmus',
    '<%= config.bin %> litmus tools/memory-model/litmus-tests --judge',
    "<%= config.bin %> litmus 'litmus/**/*.litmus' -j 2 --timeout 60s --json",
    '<%= config.bin %> litmus --model linux-6.1 MP+polocks.litmus',
    '<%= config.bin %> litmus --list-models',
  ];

  static override strict = false;

  static override args = {
    file: Args.string({ required: false, description: 'litmus file, folder or quoted pattern (several allowed)' }),
  };

  static override flags = {
    'json': Flags.boolean({ description: 'print {model, results: [...], summary} as JSON' }),
    'jobs': Flags.integer({ char: 'j', min: 1, default: 1, description: 'check this many files at once (worker threads)' }),
    'model': Flags.string({ default: DEFAULT_MODEL, description: 'memory model: linux-6.12, linux-6.1, or a tools/memory-model directory' }),
    'judge': Flags.boolean({ description: "compare each verdict with the test's Result: line (judgelitmus.sh rules); exit 1 on a disagreement" }),
    'timeout': Flags.string({ description: 'give up on one test after this long (e.g. 60s); it then has no verdict and the run exits 1' }),
    'list-models': Flags.boolean({ description: 'list the shipped memory models and where they come from' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Litmus);
    if (flags['list-models']) {
      const models = listModels();
      if (flags.json)
        this.out(
          stringifyJson(
            models.map((m) => ({ name: m.name, release: m.release, origin: m.origin })),
            2,
          ),
        );
      else for (const m of models) this.out(`${m.name.padEnd(12)} Linux ${m.release}: ${m.origin}`);
      return;
    }
    const args = argv as string[];
    if (args.length === 0) throw new InputError('no litmus file given', { hint: "kreplay litmus FILE|FOLDER|'PATTERN'... (see --help)" });
    if (flags.jobs > availableParallelism() * 4)
      throw new InputError(`-j ${flags.jobs} is far more than this machine's ${availableParallelism()} CPUs`, { hint: 'use at most the number of CPUs' });
    const model = loadModel(flags.model);
    const files = expandLitmusPaths(args);
    const timeoutMs = flags.timeout ? parseDuration(flags.timeout, '--timeout') : 0;

    const summary = { tests: 0, checked: 0, pass: 0, forgiven: 0, fail: 0, unjudged: 0, timeouts: 0, errors: 0 };
    const results: Array<Record<string, unknown>> = [];
    if (!flags.json) {
      const header = `Model ${describeModel(model.info)}\n\n`;
      if (!(await writeStdoutChunk(header))) return;
    }
    let internal: FileOutcome | null = null;
    for await (const o of checkFiles(files, { model: flags.model, timeoutMs, jobs: flags.jobs })) {
      summary.tests++;
      if (!o.ok) {
        if (o.error.kind === 'timeout') summary.timeouts++;
        else summary.errors++;
        if (o.error.kind === 'internal') internal ??= o;
        const where = `${o.file}${o.error.line ? `:${o.error.line}` : ''}`;
        this.note(`${o.error.kind === 'timeout' ? 'timeout' : 'error'}: ${where}: ${o.error.message}${o.error.hint ? `\n  hint: ${o.error.hint}` : ''}`);
        if (flags.json)
          results.push({ file: o.file, error: { kind: o.error.kind, message: o.error.message, line: o.error.line ?? null, hint: o.error.hint ?? null } });
        continue;
      }
      summary.checked++;
      const ignored = ignoredWarning(o.result);
      if (ignored) this.note(`warning: ${o.file}: ${ignored}`);
      const unknown = unknownWarning(o.result);
      if (unknown) this.note(`warning: ${o.file}: ${unknown}`);
      const j: Judgement | undefined = flags.judge ? judge(o.result) : undefined;
      if (j) {
        if (j.verdict === 'none') summary.unjudged++;
        else summary[j.verdict]++;
      }
      if (flags.json) results.push(resultJson(o.result, j));
      else {
        let text = formatHerd(o.result);
        if (j)
          text += `Judge ${o.result.name} ${j.verdict}${j.expected ? ` (Result: ${j.expected}${o.result.expectation?.datarace ? ' DATARACE' : ''})` : ''}${j.message ? ` ${j.message}` : ''}\n`;
        // a test's name and values come from its file: controls shown as \xNN, not acted on
        if (!(await writeStdoutChunk(printable(`${text}\n`)))) return;
      }
    }
    if (internal && !internal.ok) {
      throw new Error(`checking ${internal.file} failed: ${internal.error.stack ?? internal.error.message}`);
    }
    if (flags.json) {
      this.out(stringifyJson({ model: { name: model.info.name, release: model.info.release, origin: model.info.origin }, results, summary }, 2));
    } else {
      const parts = [`${summary.checked} of ${summary.tests} tests checked`];
      if (flags.judge)
        parts.push(
          `${summary.pass} agree with their Result: line`,
          `${summary.forgiven} forgiven (data race)`,
          `${summary.fail} disagree`,
          `${summary.unjudged} without a Result: line`,
        );
      if (summary.timeouts) parts.push(`${summary.timeouts} timed out`);
      if (summary.errors) parts.push(`${summary.errors} could not be checked`);
      this.note(parts.join(', '));
    }
    if (summary.errors > 0) this.exit(EXIT.input);
    if (summary.fail > 0 || summary.timeouts > 0) this.exit(EXIT.findings);
  }
}
