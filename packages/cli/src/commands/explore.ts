import { Args, Flags } from '@oclif/core';
import { readFile, writeFile } from 'node:fs/promises';
import {
  ScheduleReplay, counterexample, explore, exploreJson, formatExploreText, parseScheduleFile,
  type ExploreOptions, type ProgressInfo, type ScheduleFile, type Strategy,
} from '@kreplay/explore';
import { InputError, parseDuration, parseShard, stringifyJson } from '@kreplay/core';
import { createMachine, listFlavors, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { exploreToKcidb, exploreToKtap, type ExploreSummary } from '@kreplay/report';
import { EXIT, KreplayCommand } from '../base.js';
import { KERNEL_CI_FLAGS, kcidbOptions } from '../kernel-ci-flags.js';

export default class Explore extends KreplayCommand {
  static override summary = 'Explore every interleaving of a scenario on a kernel flavor and report races';
  static override description = `Runs the scenario's threads (the model's step programs of the chosen kernel flavor) in every order that matters and checks the model's invariants after every step, in the final state, and on the state graph (deadlock, livelock).

Strategies: exhaustive (default) searches the full state graph breadth-first with visited-state hashing, so every schedule it reports is a shortest one; dpor is stateless model checking with dynamic partial-order reduction and sleep sets (one execution per class of equivalent interleavings; use it when states are too many to keep, or with --preemption-bound); --random runs seeded PCT walks for scenarios too large to exhaust.

Verdict: violation (exit 1), clean (exit 0, only when every interleaving was explored), incomplete (exit 0: nothing found, but a bound, a cap, a timeout or random mode left interleavings unexplored; the output says which).

For the first violation (or --rule), --trace-out writes an ftrace text trace that \`kreplay replay\` accepts (docs/trace-format.md) and --perfetto-out a Chrome trace JSON that Perfetto UI opens.

--schedule FILE runs one recorded schedule instead of a search — the schedule a previous run reported, read from its trace (--trace-out), its --json output (--rule picks the violation) or a line of thread ids — and prints the same renderings for the violations it reaches (docs/explore.md). Its verdict is violation or incomplete, never clean.`;

  static override examples = [
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault.yaml',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault.yaml --flavor linux-2.6.23',
    '<%= config.bin %> explore fixtures/scenarios/truncate-vs-fault.yaml --flavor fixtures/flavors/no-truncate-count-recheck.js --trace-out cex.trace',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault-multipage.yaml --random --seed 1 --runs 1000 --json',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault-multipage.yaml --random --seed 1 --runs 1000 --shard 2/4',
    '<%= config.bin %> explore fixtures/scenarios/truncate-vs-fault.yaml --flavor fixtures/flavors/no-truncate-count-recheck.js --schedule cex.trace',
    '<%= config.bin %> explore --list-flavors',
  ];

  static override args = {
    scenario: Args.string({ required: false, description: 'scenario file (YAML or JSON, docs/scenarios.md)' }),
  };

  static override flags = {
    flavor: Flags.string({ description: 'kernel flavor name or flavor module path (overrides the scenario\'s flavor)' }),
    json: Flags.boolean({ description: 'print {verdict, violations:[{rule, message, schedule, ...}], stats} as JSON (the same as --format json)', exclusive: ['format'] }),
    format: Flags.string({ options: ['text', 'json', 'ktap', 'kcidb'], default: 'text', description: 'output format: text, json, or KTAP / KCIDB for kernel CI (docs/formats.md)' }),
    ...KERNEL_CI_FLAGS,
    'trace-out': Flags.string({ description: 'write the counterexample as an ftrace text trace (replay accepts it)' }),
    'perfetto-out': Flags.string({ description: 'write the counterexample as Chrome trace JSON for Perfetto UI' }),
    rule: Flags.string({ description: 'which violation --trace-out/--perfetto-out render (default: the first; with --schedule, the one the file was recorded for), and which violation of a --json file --schedule runs' }),
    schedule: Flags.string({ description: 're-run one recorded schedule: an explorer trace, the --json output of a run, or a line of thread ids (docs/explore.md)' }),
    strategy: Flags.string({ options: ['exhaustive', 'dpor'], description: 'exhaustive state graph (default) or stateless DPOR with sleep sets (default with --preemption-bound)' }),
    'preemption-bound': Flags.integer({ min: 0, description: 'at most N preemptions per schedule (dpor; the verdict is then never clean if the bound cut anything)' }),
    'max-executions': Flags.integer({ min: 1, description: 'stop after N executions (dpor, random)' }),
    'max-states': Flags.integer({ min: 1, description: 'stop when the state graph holds N states (exhaustive; default 2000000)' }),
    timeout: Flags.string({ description: 'stop after this long (30s, 500ms, 2m); the verdict is then incomplete unless a violation was found' }),
    random: Flags.boolean({ description: 'seeded random walks with PCT priorities instead of exhaustive search (needs --seed)' }),
    seed: Flags.integer({ min: 0, description: 'seed of the random walks; the same seed gives the same runs' }),
    runs: Flags.integer({ min: 1, default: 100, description: 'number of random walks' }),
    shard: Flags.string({ description: 'random mode: run only shard i of n (i/n, 1-based: 1/4 is the first of four) of the runs, so CI jobs split one seed' }),
    'pct-depth': Flags.integer({ min: 1, default: 3, description: 'PCT bug depth d (d-1 priority change points per run)' }),
    check: Flags.boolean({ description: 'only validate the scenario (and that its programs exist in the flavor); exit 0 or 2' }),
    'list-flavors': Flags.boolean({ description: 'list the built-in kernel flavors' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Explore);
    if (flags['list-flavors']) {
      const all = listFlavors();
      if (flags.json) this.out(stringifyJson(all, 2));
      else for (const f of all) this.out(`${f.name.padEnd(28)} ${f.description}`);
      return;
    }
    if (!args.scenario) {
      throw new InputError('no scenario given', { hint: 'kreplay explore fixtures/scenarios/odirect-vs-fault.yaml (or --list-flavors)' });
    }
    const scenario = await loadScenario(args.scenario);
    const flavor = await resolveFlavor(flags.flavor ?? scenario.flavor);
    const machine = createMachine(scenario, flavor);
    const header = { scenario: scenario.name, flavor: flavor.name };
    if (flags.check) {
      this.out(`ok: ${args.scenario}: scenario ${scenario.name}, ${machine.threads.length} threads (${machine.threads.map((t) => `${t.name}=${t.program}`).join(', ')}) on ${flavor.name}`);
      return;
    }

    if (flags.schedule !== undefined) {
      const searchFlags = ['strategy', 'random', 'seed', 'shard', 'preemption-bound', 'max-executions', 'max-states'] as const;
      const given = searchFlags.filter((f) => flags[f] !== undefined && flags[f] !== false).map((f) => `--${f}`);
      if (given.length > 0) {
        throw new InputError(`--schedule runs one recorded schedule; ${given.join(', ')} ${given.length > 1 ? 'choose searches' : 'chooses a search'}`, {
          hint: `drop ${given.join(', ')}, or drop --schedule to search`,
        });
      }
    }
    const scheduled = flags.schedule !== undefined ? await readSchedule(flags.schedule, flags.rule) : undefined;
    if (scheduled) {
      for (const [what, recorded, used] of [['scenario', scheduled.scenario, scenario.name], ['flavor', scheduled.flavor, flavor.name]] as const) {
        if (recorded !== undefined && recorded !== used) this.note(`note: ${flags.schedule} was recorded on ${what} ${recorded}; running it on ${used}`);
      }
    }
    const opts = this.options(flags, scheduled && flags.schedule !== undefined ? { file: flags.schedule, schedule: scheduled } : undefined);
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    process.once('SIGINT', onSigint);
    opts.signal = ac.signal;
    let result;
    try {
      result = await explore(machine, opts);
    } finally {
      process.removeListener('SIGINT', onSigint);
      if (opts.progress) process.stderr.write('\r\x1b[K');
    }

    if (flags['trace-out'] || flags['perfetto-out']) {
      // with --schedule, the violation the file was recorded for when the schedule reaches it
      const recorded = scheduled?.rule !== undefined ? result.violations.find((x) => x.rule === scheduled.rule) : undefined;
      const v = flags.rule ? result.violations.find((x) => x.rule === flags.rule) : recorded ?? result.violations[0];
      if (!v) {
        this.note(flags.rule && result.violations.length > 0
          ? `warning: no ${flags.rule} violation was found (found: ${result.violations.map((x) => x.rule).join(', ')}); nothing written`
          : 'note: no violation, so no counterexample trace was written');
      } else {
        const ce = counterexample(machine, v, header);
        if (flags['trace-out']) await writeFile(flags['trace-out'], ce.ftrace);
        if (flags['perfetto-out']) await writeFile(flags['perfetto-out'], ce.perfetto);
        this.note(`wrote the ${v.rule} counterexample (${v.schedule.length} steps) to ${[flags['trace-out'], flags['perfetto-out']].filter(Boolean).join(' and ')}`);
      }
    }

    const format = flags.json ? 'json' : flags.format;
    if (format === 'json') this.out(stringifyJson(exploreJson(machine, result, header), 2));
    else if (format === 'ktap' || format === 'kcidb') {
      const summary: ExploreSummary = {
        verdict: result.verdict, scenario: scenario.name, flavor: flavor.name, strategy: result.strategy,
        incomplete: result.incomplete, violations: result.violations, threads: machine.threads, stats: result.stats,
      };
      process.stdout.write(format === 'ktap' ? exploreToKtap(summary) : exploreToKcidb(summary, kcidbOptions(flags)));
    }
    else process.stdout.write(formatExploreText(machine, result, header));
    if (result.verdict === 'violation') this.exit(EXIT.findings);
  }

  private options(flags: {
    strategy?: string; random: boolean; seed?: number; runs: number; 'pct-depth': number; 'preemption-bound'?: number; shard?: string;
    'max-executions'?: number; 'max-states'?: number; timeout?: string;
  }, scheduled?: { file: string; schedule: ScheduleFile }): ExploreOptions {
    if (scheduled) {
      const { schedule, cycle } = scheduled.schedule;
      const opts: ExploreOptions = { strategy: new ScheduleReplay(cycle ? { schedule, cycle } : { schedule }, { source: scheduled.file }) };
      if (flags.timeout !== undefined) opts.timeoutMs = parseDuration(flags.timeout, '--timeout');
      return opts;
    }
    if (flags.random && flags.seed === undefined) {
      throw new InputError('--random needs an explicit --seed', { hint: 'add --seed 1 (any integer); the same seed gives the same runs' });
    }
    if (!flags.random && flags.seed !== undefined) {
      throw new InputError('--seed applies to --random', { hint: 'add --random, or drop --seed' });
    }
    if ((flags.strategy === 'exhaustive' || flags.random) && flags['preemption-bound'] !== undefined) {
      throw new InputError('--preemption-bound needs the dpor strategy', { hint: 'drop --strategy exhaustive / --random (the bound selects dpor by itself)' });
    }
    const strategy = flags.random ? 'random' : (flags.strategy as Exclude<Strategy, 'schedule'> | undefined) ?? (flags['preemption-bound'] !== undefined ? 'dpor' : 'exhaustive');
    const opts: ExploreOptions = { strategy };
    if (flags['preemption-bound'] !== undefined) opts.preemptionBound = flags['preemption-bound'];
    if (flags['max-executions'] !== undefined) opts.maxExecutions = flags['max-executions'];
    if (flags['max-states'] !== undefined) opts.maxStates = flags['max-states'];
    if (flags.timeout !== undefined) opts.timeoutMs = parseDuration(flags.timeout, '--timeout');
    if (flags.random) {
      opts.seed = flags.seed;
      opts.runs = flags.runs;
      opts.pctDepth = flags['pct-depth'];
      if (flags.shard !== undefined) opts.shard = parseShard(flags.shard);
    } else if (flags.shard !== undefined) {
      throw new InputError('--shard applies to --random', { hint: 'add --random --seed S, or drop --shard' });
    }
    if (process.stderr.isTTY) {
      opts.progress = (p: ProgressInfo) => {
        process.stderr.write(`\rexploring: ${p.executions} executions, ${p.states} states (${p.distinctStates} distinct), ${(p.elapsedMs / 1000).toFixed(1)} s `);
      };
    }
    return opts;
  }
}

/** The schedule file --schedule names (docs/explore.md); `rule` picks the violation of a --json file. */
async function readSchedule(file: string, rule: string | undefined): Promise<ScheduleFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read schedule file: ${(e as Error).message}`, {
      file, hint: 'pass an explorer trace (--trace-out), the --json output of kreplay explore, or a file with a line of thread ids',
    });
  }
  return parseScheduleFile(text, file, rule === undefined ? {} : { rule });
}
