import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import { ciSummaryText, loadCiConfig, mergeCi } from '@kreplay/pipeline';
import { ciExitCode, KreplayCommand } from '../../base.js';

export default class CiMerge extends KreplayCommand {
  static override summary = 'Gather the output folders of kreplay ci --shard jobs into the output of one unsharded run';
  static override description = `Reads each folder's summary.json, checks that every shard ran the same config (a hash of everything but "output") and that every workload group of the run is there exactly once, copies each group's reports and captures into the output folder and writes summary.txt, summary.json (and summary.ktap / summary.kcidb.json when the config asks for them) as one unsharded kreplay ci run writes them: with the same output folder, byte for byte.

Exit 1 when any workload regressed, 0 when none did, 2 for a missing or foreign shard or when a workload is inconclusive and none regressed (as kreplay ci). See docs/ci.md.`;

  static override examples = ['<%= config.bin %> ci merge --config kreplay.config.json shards/*/'];

  static override strict = false;
  static override args = { dir: Args.string({ description: 'output folder of a shard job (repeat for every shard)', required: true }) };

  static override flags = {
    config: Flags.string({ default: 'kreplay.config.json', description: 'the config the shards ran' }),
    output: Flags.string({ description: 'output folder (default: the config\'s "output", as kreplay ci)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(CiMerge);
    const loaded = await loadCiConfig(flags.config);
    if (flags.output) loaded.config.output = path.resolve(flags.output);
    const result = await mergeCi(argv as string[], loaded, { version: this.config.version });
    this.out(ciSummaryText(result).trimEnd());
    const rel = path.relative(process.cwd(), result.output);
    this.out(`reports in ${rel.startsWith('..') ? result.output : rel || '.'}/`);
    // as the unsharded run: a workload with no verdict is never a pass
    this.exit(ciExitCode(result));
  }
}
