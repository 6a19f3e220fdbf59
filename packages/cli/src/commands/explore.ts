import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_MAX_STATES,
  ScheduleReplay,
  counterexample,
  cutShort,
  defaultWorkers,
  exploreJson,
  exploreOnCores,
  formatExploreText,
  parseScheduleFile,
  type ExploreOptions,
  type ProgressInfo,
  type ScheduleFile,
  type Strategy,
} from '@kreplay/explore';
import {
  checkOutputFolder,
  checkOutputPath,
  EnvironmentError,
  InputError,
  parseDuration,
  parseShard,
  printable,
  readInputText,
  stringifyJson,
  writeFileAtomic,
} from '@kreplay/core';
import { createMachine, listFlavors, loadScenario, modelIdentity, resolveFlavor } from '@kreplay/mm-model';
// @kreplay/lkmm and @kreplay/report are loaded when a run needs them (--memory-model lkmm,
// --format ktap|kcidb): together they are about a fifth of the command's start-up
// (0.13-0.15 of 0.67-0.78 CPU-s for `explore --list-flavors`), paid by every other run.
import type { deriveLitmus, DerivedLitmus, WeakJudgement } from '@kreplay/lkmm';
import type { ExploreSummary } from '@kreplay/report';
import { EXIT, KreplayCommand } from '../base.js';
import { scenarioFlavor } from '../explore-machine.js';
import { noVerdict } from '../explore-verdict.js';
import { KERNEL_CI_FLAGS, kcidbOptions } from '../kernel-ci-flags.js';

export default class Explore extends KreplayCommand {
  static override summary = 'Explore every interleaving of a scenario on a kernel flavor and report races';
  static override description = `Runs the scenario's threads (the model's step programs of the chosen kernel flavor) in every order that matters and checks the model's invariants after every step, in the final state, and on the state graph (deadlock, livelock).

Strategies: exhaustive (default) searches the full state graph breadth-first with visited-state hashing, so every schedule it reports is a shortest one; dpor is stateless model checking with dynamic partial-order reduction and sleep sets (one execution per class of equivalent interleavings; use it when states are too many to keep, or with --preemption-bound); --random runs seeded PCT walks for scenarios too large to exhaust.

Verdict: violation (exit 1), clean (exit 0, only when every interleaving was explored), incomplete: nothing found, but interleavings were left out (the output says why) — exit 0 when the search was the partial one asked for (--preemption-bound, --random, --schedule, one --shard), exit 2 (no verdict) when a limit stopped it (--max-states or its default cap, --max-executions, --timeout); a signal exits 130/143 after printing the search so far.

For the first violation (or --rule), --trace-out writes an ftrace text trace that \`kreplay replay\` accepts (docs/trace-format.md) and --perfetto-out a Chrome trace JSON that Perfetto UI opens.

--memory-model lkmm also derives litmus tests from the scenario — for each pair of threads, their marked accesses (READ_ONCE, atomic_*, plain, locks, with the barriers the kernel code has) on the paths they take when each runs first or last — and checks each under the Linux-kernel memory model and under SC: an outcome the LKMM allows and SC forbids is reported (exit 1). --litmus-out DIR writes those tests, runnable by herd7 unchanged (docs/memory-model.md).

--schedule FILE runs one recorded schedule instead of a search — the schedule a previous run reported, read from its trace (--trace-out), its --json output (--rule picks the violation) or a line of thread ids — and prints the same renderings for the violations it reaches (docs/explore.md). Its verdict is violation or incomplete, never clean.

A flavor module is code: kreplay imports and runs it. --flavor PATH is your explicit choice to run one; a scenario file's own \`flavor:\` may name a built-in flavor, and names a module only with --allow-scenario-code (the path is then relative to the scenario file). SIGINT or SIGTERM stops the search and prints what was explored (verdict incomplete), then exits 130 or 143.`;

  static override examples = [
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault.yaml',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault.yaml --flavor linux-2.6.23',
    '<%= config.bin %> explore fixtures/scenarios/truncate-vs-fault.yaml --flavor fixtures/flavors/no-truncate-count-recheck.js --trace-out cex.trace',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault-multipage.yaml --random --seed 1 --runs 1000 --json',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault-multipage.yaml --random --seed 1 --runs 1000 --shard 2/4',
    '<%= config.bin %> explore fixtures/scenarios/truncate-vs-fault.yaml --flavor fixtures/flavors/no-truncate-count-recheck.js --schedule cex.trace',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault-multipage.yaml --flavor linux-6.1 --workers 2',
    '<%= config.bin %> explore fixtures/scenarios/odirect-vs-fault.yaml --shard 1/2 --json --no-timing > shard-1.json',
    '<%= config.bin %> explore --list-flavors',
  ];

  static override args = {
    scenario: Args.string({ required: false, description: 'scenario file (YAML or JSON, docs/scenarios.md)' }),
  };

  static override flags = {
    'flavor': Flags.string({
      description:
        "kernel flavor name, or the path of a flavor module to run (a module is code: this flag is your choice to run it); overrides the scenario's flavor",
    }),
    'allow-scenario-code': Flags.boolean({
      description:
        'let the scenario\'s own "flavor:" load a flavor module (code, resolved relative to the scenario file); without it a scenario may only name a built-in flavor',
    }),
    'json': Flags.boolean({
      description: 'print {verdict, violations:[{rule, message, schedule, ...}], stats} as JSON (the same as --format json)',
      exclusive: ['format'],
    }),
    'format': Flags.string({
      options: ['text', 'json', 'ktap', 'kcidb'],
      default: 'text',
      description: 'output format: text, json, or KTAP / KCIDB for kernel CI (docs/formats.md)',
    }),
    ...KERNEL_CI_FLAGS,
    'trace-out': Flags.string({ description: 'write the counterexample as an ftrace text trace (replay accepts it)' }),
    'perfetto-out': Flags.string({ description: 'write the counterexample as Chrome trace JSON for Perfetto UI' }),
    'rule': Flags.string({
      description:
        'which violation --trace-out/--perfetto-out render (default: the first; with --schedule, the one the file was recorded for), and which violation of a --json file --schedule runs',
    }),
    'schedule': Flags.string({
      description: 're-run one recorded schedule: an explorer trace, the --json output of a run, or a line of thread ids (docs/explore.md)',
    }),
    'strategy': Flags.string({
      options: ['exhaustive', 'dpor'],
      description: 'exhaustive state graph (default) or stateless DPOR with sleep sets (default with --preemption-bound)',
    }),
    'preemption-bound': Flags.integer({
      min: 0,
      description: 'at most N preemptions per schedule (dpor; the verdict is then never clean if the bound cut anything)',
    }),
    'max-executions': Flags.integer({ min: 1, description: 'stop after N executions (dpor, random)' }),
    'max-states': Flags.integer({ min: 1, description: `stop when the state graph holds N states (exhaustive; default ${DEFAULT_MAX_STATES})` }),
    'timeout': Flags.string({ description: 'stop after this long (30s, 500ms, 2m); the verdict is then incomplete unless a violation was found' }),
    'random': Flags.boolean({ description: 'seeded random walks with PCT priorities instead of exhaustive search (needs --seed)' }),
    'seed': Flags.integer({ min: 0, description: 'seed of the random walks; the same seed gives the same runs' }),
    'runs': Flags.integer({ min: 1, default: 100, description: 'number of random walks' }),
    'shard': Flags.string({
      description:
        "run only shard i of n (i/n, 1-based: 1/4 is the first of four): of the random runs, or of the exhaustive search's schedule tree (then merge every shard's --json with kreplay merge)",
    }),
    'workers': Flags.integer({
      min: 1,
      description:
        'threads the exhaustive search runs on (default: the CPUs); the result is the same for any number. A search stays on one thread below 400,000 states, and past that unless its level widths say enough states remain for the workers to finish sooner (on two cores they never do; docs/explore.md); --workers 1 keeps it on one',
    }),
    'timing': Flags.boolean({
      default: true,
      allowNo: true,
      description: 'include wall-clock figures (ms, states/s); --no-timing makes the output byte-identical run to run',
    }),
    'step-memo': Flags.boolean({
      default: true,
      allowNo: true,
      description:
        "reuse a thread's step across states that agree on everything it reads (the exhaustive search, sharded or not, on built-in flavors); the result is the same either way (docs/explore.md); --no-step-memo runs every step",
    }),
    'pct-depth': Flags.integer({ min: 1, default: 3, description: 'PCT bug depth d (d-1 priority change points per run)' }),
    'memory-model': Flags.string({
      options: ['sc', 'lkmm'],
      default: 'sc',
      description: 'sc: interleavings only; lkmm: also check litmus tests derived from the scenario under the Linux-kernel memory model (docs/memory-model.md)',
    }),
    'litmus-timeout': Flags.string({
      default: '60s',
      description: 'with --memory-model lkmm: give up on one derived litmus test after this long (no verdict on it, said in the output)',
    }),
    'litmus-out': Flags.string({ description: 'with --memory-model lkmm: write the derived litmus tests into this folder (herd7 runs them unchanged)' }),
    'check': Flags.boolean({ description: 'only validate the scenario (and that its programs exist in the flavor); exit 0 or 2' }),
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
    for (const f of [flags['trace-out'], flags['perfetto-out']]) if (f) await checkOutputPath(f);
    const scenario = await loadScenario(args.scenario);
    const flavorChoice = flags.flavor ?? (await scenarioFlavor(args.scenario, scenario.flavor, flags['allow-scenario-code']));
    const flavor = await resolveFlavor(flavorChoice);
    const machine = createMachine(scenario, flavor);
    const header = { scenario: scenario.name, flavor: flavor.name };
    if (flags.check) {
      this.out(
        `ok: ${args.scenario}: scenario ${scenario.name}, ${machine.threads.length} threads (${machine.threads.map((t) => `${t.name}=${t.program}`).join(', ')}) on ${flavor.name}`,
      );
      return;
    }

    if (flags['memory-model'] === 'lkmm' && (flags.format === 'ktap' || flags.format === 'kcidb') && !flags.json) {
      // KTAP and KCIDB carry the SC verdict only: refuse rather than drop the memory-model findings
      throw new InputError(`--memory-model lkmm reports in text or json, not ${flags.format}`, { hint: 'drop --format, or use --json' });
    }
    if (flags['litmus-out'] !== undefined && flags['memory-model'] !== 'lkmm') {
      throw new InputError('--litmus-out writes the litmus tests --memory-model lkmm derives', { hint: 'add --memory-model lkmm' });
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
      for (const [what, recorded, used] of [
        ['scenario', scheduled.scenario, scenario.name],
        ['flavor', scheduled.flavor, flavor.name],
      ] as const) {
        if (recorded !== undefined && recorded !== used) this.note(`note: ${flags.schedule} was recorded on ${what} ${recorded}; running it on ${used}`);
      }
    }
    const opts = this.options(flags, scheduled && flags.schedule !== undefined ? { file: flags.schedule, schedule: scheduled } : undefined);
    // a shard carries what it searched, so kreplay merge refuses shards of another scenario or flavor version
    if (opts.shard && opts.strategy === 'exhaustive') opts.model = modelIdentity(scenario, flavor);
    // SIGINT/SIGTERM end the search early: the verdict is then incomplete, and says so.
    opts.signal = this.interruptible();
    const workers = flags.workers ?? defaultWorkers();
    // workers read the scenario and flavor again once the search is large: they check that they read what this thread searches
    const identity = workers > 1 ? (opts.model ?? modelIdentity(scenario, flavor)) : undefined;
    const source = {
      module: fileURLToPath(new URL('../explore-machine.js', import.meta.url)),
      name: 'exploreMachine',
      args: { scenario: path.resolve(args.scenario), flavor: flavorSpec(flavorChoice), identity },
    };
    const result = await exploreOnCores(machine, source, workers, opts).catch((e: unknown) => {
      throw moduleBug(e, flavor.name, flavorChoice);
    });
    this.progress().done();

    if (flags['trace-out'] || flags['perfetto-out']) {
      // with --schedule, the violation the file was recorded for when the schedule reaches it
      const recorded = scheduled?.rule !== undefined ? result.violations.find((x) => x.rule === scheduled.rule) : undefined;
      const v = flags.rule ? result.violations.find((x) => x.rule === flags.rule) : (recorded ?? result.violations[0]);
      if (!v) {
        this.note(
          flags.rule && result.violations.length > 0
            ? `warning: no ${flags.rule} violation was found (found: ${result.violations.map((x) => x.rule).join(', ')}); nothing written`
            : 'note: no violation, so no counterexample trace was written',
        );
      } else {
        const ce = counterexample(machine, v, header);
        if (flags['trace-out']) await writeFileAtomic(flags['trace-out'], ce.ftrace);
        if (flags['perfetto-out']) await writeFileAtomic(flags['perfetto-out'], ce.perfetto);
        this.note(
          `wrote the ${v.rule} counterexample (${v.schedule.length} steps) to ${[flags['trace-out'], flags['perfetto-out']].filter(Boolean).join(' and ')}`,
        );
      }
    }

    const weak =
      flags['memory-model'] === 'lkmm'
        ? await this.weakMemory(machine, header, flags['litmus-out'], parseDuration(flags['litmus-timeout'], '--litmus-timeout'))
        : undefined;
    const shown = { noTiming: !flags.timing };
    const format = flags.json ? 'json' : flags.format;
    if (format === 'json')
      await this.emit(`${stringifyJson({ ...exploreJson(machine, result, header, shown), ...(weak ? { lkmm: weakJson(weak) } : {}) }, 2)}\n`, undefined);
    else if (format === 'ktap' || format === 'kcidb') {
      const summary: ExploreSummary = {
        verdict: result.verdict,
        scenario: scenario.name,
        flavor: flavor.name,
        strategy: result.strategy,
        incomplete: result.incomplete,
        violations: result.violations,
        threads: machine.threads,
        ...(machine.notSearched ? { notSearched: machine.notSearched } : {}),
        stats: result.stats,
        // one KCIDB test run per search: shards, seeds, bounds and models do not share ids
        run: stringifyJson({
          model: opts.model ?? modelIdentity(scenario, flavor),
          shard: result.shard,
          seed: result.seed,
          runs: result.runs,
          replayed: result.replayed,
          bounds: [opts.preemptionBound, opts.maxExecutions, opts.maxStates, opts.timeoutMs, opts.pctDepth],
        }),
      };
      const { exploreToKcidb, exploreToKtap } = await import('@kreplay/report');
      await this.emit(format === 'ktap' ? exploreToKtap(summary) : exploreToKcidb(summary, kcidbOptions(flags)), undefined);
    } else await this.emit(printable(formatExploreText(machine, result, header, shown) + (weak ? formatWeak(weak) : '')), undefined); // scenario text: controls shown, not acted on
    if (result.verdict === 'violation' || (weak && weak.judgements.some((j) => j.verdict === 'lkmm-only'))) this.exit(EXIT.findings);
    const stoppedBy = this.interruptedExit();
    if (stoppedBy !== undefined) {
      this.note(`kreplay explore: interrupted; printed the search so far, which has no verdict (exit ${stoppedBy})`);
      this.exit(stoppedBy);
    }
    const cut = result.verdict === 'incomplete' ? cutShort(result.incomplete) : [];
    if (cut.length > 0) {
      // a cap or a timeout stopped a search asked for every interleaving: exit 0 would read as a pass
      this.note(noVerdict(cut, flags['max-states'] === undefined, false, result.stats.distinctStates));
      this.exit(EXIT.input);
    }
  }

  /** --memory-model lkmm: the derived litmus tests, each judged under the LKMM and SC; --litmus-out writes them. */
  private async weakMemory(
    machine: Parameters<typeof deriveLitmus>[0],
    header: { scenario: string; flavor: string },
    out: string | undefined,
    timeoutMs: number,
  ): Promise<Weak> {
    const { CheckTimeout, deriveLitmus, describeModel, judgeDerived, loadModel, loadScModel } = await import('@kreplay/lkmm');
    const derived = deriveLitmus(machine, header);
    const model = loadModel();
    const sc = loadScModel();
    const judgements: WeakJudgement[] = [];
    const timedOut: DerivedLitmus[] = [];
    for (const t of derived.tests) {
      try {
        judgements.push(judgeDerived(t, model, sc, undefined, timeoutMs));
      } catch (e) {
        if (!(e instanceof CheckTimeout)) throw e;
        timedOut.push(t);
      }
    }
    if (out !== undefined) {
      try {
        await checkOutputFolder(out); // not Node's recursive mkdir: under /proc it never returns (core's output.ts)
        for (const t of derived.tests) await writeFileAtomic(path.join(out, `${t.name}.litmus`), t.text);
      } catch (e) {
        throw new EnvironmentError(`cannot write the litmus tests to ${out}: ${(e as Error).message}`, 'pass a folder you can write to');
      }
      this.note(`wrote ${derived.tests.length} litmus test(s) to ${out}`);
    }
    return { model: describeModel(model.info), judgements, timedOut: timedOut.map((t) => t.name), timeoutMs, skipped: derived.skipped };
  }

  private options(
    flags: {
      'strategy'?: string;
      'random': boolean;
      'seed'?: number;
      'runs': number;
      'pct-depth': number;
      'preemption-bound'?: number;
      'shard'?: string;
      'max-executions'?: number;
      'max-states'?: number;
      'timeout'?: string;
      'step-memo': boolean;
    },
    scheduled?: { file: string; schedule: ScheduleFile },
  ): ExploreOptions {
    if (scheduled) {
      const { schedule, cycle, rule } = scheduled.schedule;
      const recorded = { schedule, ...(cycle?.length ? { cycle } : {}), ...(rule !== undefined ? { rule } : {}) };
      const opts: ExploreOptions = { strategy: new ScheduleReplay(recorded, { source: scheduled.file }) };
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
    const strategy = flags.random
      ? 'random'
      : ((flags.strategy as Exclude<Strategy, 'schedule'> | undefined) ?? (flags['preemption-bound'] !== undefined ? 'dpor' : 'exhaustive'));
    const opts: ExploreOptions = { strategy };
    if (flags['preemption-bound'] !== undefined) opts.preemptionBound = flags['preemption-bound'];
    if (flags['max-executions'] !== undefined) opts.maxExecutions = flags['max-executions'];
    if (flags['max-states'] !== undefined) opts.maxStates = flags['max-states'];
    if (flags.timeout !== undefined) opts.timeoutMs = parseDuration(flags.timeout, '--timeout');
    if (!flags['step-memo']) opts.memoSteps = false;
    if (flags.random) {
      opts.seed = flags.seed;
      opts.runs = flags.runs;
      opts.pctDepth = flags['pct-depth'];
      if (flags.shard !== undefined) opts.shard = parseShard(flags.shard);
    } else if (flags.shard !== undefined) {
      if (strategy !== 'exhaustive')
        throw new InputError('--shard splits the exhaustive search or random walks, not dpor', {
          hint: 'drop --shard, or drop --strategy dpor / --preemption-bound',
        });
      opts.shard = parseShard(flags.shard);
    }
    const shown = this.progress();
    opts.progress = (p: ProgressInfo) => shown.update(progressLine(p));
    return opts;
  }
}

/**
 * The progress line: on the workers, which count executions and states only at the end, the
 * distinct states alone (it read "0 executions, 0 states (2085492 distinct)").
 */
export function progressLine(p: ProgressInfo): string {
  const counts =
    p.executions === undefined || p.states === undefined
      ? `${p.distinctStates} distinct states on the workers`
      : `${p.executions} executions, ${p.states} states (${p.distinctStates} distinct)`;
  return `exploring: ${counts}, ${(p.elapsedMs / 1000).toFixed(1)} s`;
}

/**
 * A ModelBug (a step broke the model's own rules: a local it never set, a dropped one, a step with
 * no next pc) raised while a flavor *module* runs is the module's error, not kreplay's: an input
 * error naming the module. A built-in flavor's stays an internal error.
 */
export function moduleBug(e: unknown, flavorName: string, choice: string): unknown {
  if (!(e instanceof Error) || e.name !== 'ModelBug' || listFlavors().some((f) => f.name === choice)) return e;
  return new InputError(`flavor module ${flavorName} broke the model's rules: ${e.message}`, {
    file: choice,
    hint: 'a step the module defines or patches reads or writes what the model does not allow (docs/flavors.md: the interface, "Dead locals")',
  });
}

/** A flavor as a worker thread resolves it again: a built-in name as it is, a module path made absolute. */
function flavorSpec(spec: string): string {
  return /[\\/]/.test(spec) || /\.(m?js)$/.test(spec) ? path.resolve(spec) : spec;
}

/** The schedule file --schedule names (docs/explore.md); `rule` picks the violation of a --json file. */
async function readSchedule(file: string, rule: string | undefined): Promise<ScheduleFile> {
  const text = await readInputText(file, {
    what: 'schedule file',
    hint: 'pass an explorer trace (--trace-out), the --json output of kreplay explore, or a file with a line of thread ids',
  });
  return parseScheduleFile(text, file, rule === undefined ? {} : { rule });
}

interface Weak {
  model: string;
  judgements: WeakJudgement[];
  /** Derived tests whose check took longer than --litmus-timeout: no verdict on them. */
  timedOut: string[];
  timeoutMs: number;
  skipped: string[];
}

const VERDICT_TEXT = {
  'lkmm-only': 'REACHABLE under the LKMM, forbidden under SC',
  'both': 'reachable under SC too (the interleavings above cover it)',
  'neither': 'not allowed by the LKMM on the derived test, which orders at least as much as the code: no verdict on the code',
} as const;

/** The memory-model section of the text output: one line per derived test, then what was not derived. */
function formatWeak(w: Weak): string {
  const lines = ['', `memory model: ${w.model} (and SC, for comparison), on litmus tests derived from the scenario`];
  for (const j of w.judgements) {
    const flags = j.lkmm.flags.length ? ` [Flag ${j.lkmm.flags.join(', ')}]` : '';
    lines.push(
      `  ${j.test.name}: ${VERDICT_TEXT[j.verdict]} (LKMM ${j.lkmm.observation} ${j.lkmm.pos} ${j.lkmm.neg}, SC ${j.sc.observation} ${j.sc.pos} ${j.sc.neg})${flags}`,
    );
  }
  for (const name of w.timedOut)
    lines.push(`  ${name}: NO VERDICT: checking it took longer than ${w.timeoutMs / 1000} s (raise --litmus-timeout, or run the --litmus-out file in herd7)`);
  for (const s of w.skipped) lines.push(`  not derived: ${s}`);
  const found = w.judgements.filter((j) => j.verdict === 'lkmm-only').length;
  const unjudged = w.timedOut.length ? `; ${w.timedOut.length} derived test(s) timed out, so nothing is said about them` : '';
  lines.push(
    found > 0
      ? `lkmm: ${found} outcome(s) the LKMM allows and SC forbids${unjudged}`
      : `lkmm: no LKMM-only outcome among ${w.judgements.length} ${w.timedOut.length ? 'judged ' : ''}derived test(s)${unjudged} — not a proof: only marked accesses, and outcomes where each thread reads what a serial run gives it, are derived`,
  );
  return `${lines.join('\n')}\n`;
}

function weakJson(w: Weak): unknown {
  return {
    model: w.model,
    tests: w.judgements.map((j) => ({
      name: j.test.name,
      threads: j.test.threads,
      shape: j.test.shape,
      verdict: j.verdict,
      lkmm: { observation: j.lkmm.observation, positive: j.lkmm.pos, negative: j.lkmm.neg, flags: j.lkmm.flags },
      sc: { observation: j.sc.observation, positive: j.sc.pos, negative: j.sc.neg },
    })),
    timedOut: w.timedOut,
    notDerived: w.skipped,
  };
}
