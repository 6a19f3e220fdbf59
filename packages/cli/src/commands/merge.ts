import { Args, Flags } from '@oclif/core';
import { cutShort, mergeShards, violationJson } from '@kreplay/explore';
import { checkJsonText, InputError, readInputText, stringifyJson } from '@kreplay/core';
import { EXIT, KreplayCommand } from '../base.js';
import { loadScenario } from '@kreplay/mm-model';
import { exploreMachine, scenarioFlavor } from '../explore-machine.js';
import { noVerdict } from '../explore-verdict.js';

export default class Merge extends KreplayCommand {
  static override summary = 'Merge the shards of an exhaustive explore run into the result of one unsharded run';
  static override description = `Reads the --json output of every shard of \`kreplay explore --shard i/n\` (the exhaustive search; any order) and prints the --json result one unsharded run gives: the same verdict, violations, shortest schedules and counters. With shards run under --no-timing the output is byte-identical to \`kreplay explore --json --no-timing\` of the whole scenario (docs/explore.md).

Every shard of the run must be given once. Exit code as explore's: 1 when the merged result has a violation, or (shards run with --memory-model lkmm, each with the same memory-model section) an outcome the LKMM allows and SC forbids; 2 (no verdict) when it is incomplete because a shard was stopped by a limit (--max-states, --max-executions, --timeout) or a signal.

A livelock is judged on the union of the shards' graphs; when no shard holds its whole counterexample, --scenario (and --flavor, if the run used one) rebuild the model to render its steps. As with explore, the scenario's own "flavor:" may name a built-in flavor, and a flavor module (code) only with --allow-scenario-code.

\`kreplay ci merge\` is a different command: it gathers the jobs of \`kreplay ci --shard\`.`;

  static override examples = [
    'for i in 1 2 3; do <%= config.bin %> explore fixtures/scenarios/odirect-vs-fault.yaml --shard $i/3 --json --no-timing > shard-$i.json; done',
    '<%= config.bin %> merge shard-1.json shard-2.json shard-3.json',
  ];

  static override strict = false;

  static override args = {
    shards: Args.string({ required: true, description: 'the --json output of each shard (explore --shard i/n --json)' }),
  };

  static override flags = {
    'scenario': Flags.string({ description: 'the scenario file the shards explored (only needed to render a livelock no shard holds)' }),
    'flavor': Flags.string({ description: "the flavor the shards explored, if not the scenario's (with --scenario)" }),
    'allow-scenario-code': Flags.boolean({
      description:
        'let the --scenario file\'s own "flavor:" load a flavor module (code, resolved relative to the scenario file), as explore --allow-scenario-code',
    }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Merge);
    const files = argv as string[];
    const inputs: unknown[] = [];
    for (const f of files) {
      const text = await readInputText(f, { what: 'shard result', hint: 'give the files explore --shard i/n --json wrote' });
      const hint = 'give the --json output of kreplay explore --shard i/n';
      try {
        inputs.push(JSON.parse(text));
      } catch (e) {
        throw new InputError(`not JSON: ${(e as Error).message}`, { file: f, hint });
      }
      // the merge passes violations' steps through to its output: a value nested thousands deep overflowed
      // the stack there; and JSON.parse keeps the last of two equal keys (a second "violations") without a word
      checkJsonText(text, f, { what: 'the shard result', hint });
    }
    const merged = await mergeShards(inputs, files, async (v) => {
      if (!flags.scenario) {
        throw new InputError('the merged graph has a livelock whose counterexample no shard holds', {
          hint: 'add --scenario FILE (and --flavor F if the run used one) so the merge can render it, or run the scenario unsharded',
        });
      }
      // the scenario file is input like the shards: its own flavor module runs only by the user's choice
      const flavor = flags.flavor ?? (await scenarioFlavor(flags.scenario, (await loadScenario(flags.scenario)).flavor, flags['allow-scenario-code']));
      return violationJson(await exploreMachine({ scenario: flags.scenario, flavor }), v)['steps'] as unknown[];
    });
    this.out(stringifyJson(merged, 2));
    // as explore: a violation, or (--memory-model lkmm) an outcome the LKMM allows and SC forbids
    const lkmmOnly = (merged['lkmm'] as { tests?: Array<{ verdict?: string }> } | undefined)?.tests?.some((t) => t.verdict === 'lkmm-only');
    if (merged['verdict'] === 'violation' || lkmmOnly) this.exit(EXIT.findings);
    // as explore: a shard that a cap, a timeout or a signal stopped leaves the whole search without a verdict
    const cut = merged['verdict'] === 'incomplete' ? cutShort((merged['incomplete'] as string[] | undefined) ?? []) : [];
    if (cut.length > 0) {
      this.note(noVerdict(cut, false, true));
      this.exit(EXIT.input);
    }
  }
}
