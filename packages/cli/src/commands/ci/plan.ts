import { Args, Flags } from '@oclif/core';
import { InputError, stringifyJson } from '@kreplay/core';
import { loadCiConfig, MATRIX_LIMITS, planCi, planGithub, planGitlab, planText } from '@kreplay/pipeline';
import { KreplayCommand, writeStdout } from '../../base.js';

const RENDER = {
  github: planGithub,
  gitlab: planGitlab,
  json: (p: Parameters<typeof planText>[0]) => `${stringifyJson(p, 2)}\n`,
  text: planText,
} as const;

export default class CiPlan extends KreplayCommand {
  static override summary = 'Print the jobs of a CI matrix for one or more ci configs: each job runs kreplay ci --config C --shard i/n';
  static override description = `One job per workload group of each config (the groups kreplay ci --config C runs: its workloads, or the workloads its traces' meta.json name), each running \`kreplay ci --config C --shard i/n\`; gather the jobs' output folders with \`kreplay ci merge\`.

A matrix holds at most ${MATRIX_LIMITS.github} jobs on GitHub Actions and ${MATRIX_LIMITS.gitlab} in a GitLab parallel:matrix (or --max-jobs): beyond that, each config gets fewer shards in proportion to its groups and a job runs several workloads (the plan says so). More configs than the limit is an error that says how to split them.

Formats: github (strategy.matrix JSON for fromJSON, one line), gitlab (a child-pipeline job with parallel:matrix), json (the plan with each job's workloads), text. See docs/ci.md.`;

  static override examples = [
    '<%= config.bin %> ci plan kreplay.config.json',
    'echo "matrix=$(<%= config.bin %> ci plan kreplay.config.json --format github)" >> "$GITHUB_OUTPUT"',
    '<%= config.bin %> ci plan configs/*.json --format gitlab >> kreplay-shards.yml',
  ];

  static override strict = false;
  static override args = { config: Args.string({ description: 'ci config file(s)', required: true }) };

  static override flags = {
    'format': Flags.string({ options: Object.keys(RENDER), default: 'text', description: 'output format' }),
    'max-jobs': Flags.integer({
      min: 1,
      description: `most jobs in the matrix (default: ${MATRIX_LIMITS.github} for github, ${MATRIX_LIMITS.gitlab} for gitlab and the others)`,
    }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(CiPlan);
    const format = flags.format as keyof typeof RENDER;
    const platform = format === 'github' ? MATRIX_LIMITS.github : MATRIX_LIMITS.gitlab;
    const limit = flags['max-jobs'] ?? platform;
    if ((format === 'github' || format === 'gitlab') && limit > platform) {
      throw new InputError(`--max-jobs ${limit} is beyond what ${format} runs in one matrix (${platform})`, { hint: `use --max-jobs ${platform} or fewer` });
    }
    const files = argv as string[];
    const configs = await Promise.all(files.map(async (file) => ({ file, loaded: await loadCiConfig(file) })));
    const plan = await planCi(configs, limit);
    if (plan.packed) this.note(`note: ${plan.groups} workload groups packed into ${plan.jobs.length} jobs (at most ${limit}); each job runs several workloads`);
    await writeStdout(RENDER[format](plan));
  }
}
