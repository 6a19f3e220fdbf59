/**
 * `kreplay ci plan`: the jobs a CI matrix runs for one or more configs. A job is one
 * config with one `--shard i/n`; a config's n is its number of groups (one workload per
 * job) unless the matrix would exceed its limit (GitHub: 256 jobs per matrix, GitLab: 200
 * per parallel:matrix), in which case each config gets fewer shards, in proportion to its
 * groups, and each job runs several workloads. More configs than the limit cannot fit in
 * one matrix: that is an input error that says how to split them.
 */
import { formatShard, inShard, InputError, stringifyJson } from '@kreplay/core';
import type { LoadedCiConfig } from './ci-config.js';
import { ciGroups } from './ci.js';

/** The most jobs one matrix may hold. */
export const MATRIX_LIMITS = { github: 256, gitlab: 200 } as const;

export interface CiJob {
  /** 1-based position in the plan. */
  job: number;
  /** The config file as given. */
  config: string;
  /** `i/n`, the value of `kreplay ci --shard`. */
  shard: string;
  /** The groups (workloads) this job runs. */
  groups: string[];
}

export interface CiPlan {
  jobs: CiJob[];
  /** Groups over every config. */
  groups: number;
  /** The most jobs the plan could use. */
  limit: number;
  /** Set when groups were packed several to a job to stay within the limit. */
  packed: boolean;
}

/**
 * Shards per config: one per group when they fit; otherwise at least one each and the rest
 * of the limit handed out one at a time to the config with the most groups per shard
 * (ties: the earlier config), so a job's load is as even as the limit allows.
 */
function shardCounts(groups: number[], limit: number): number[] {
  const total = groups.reduce((a, b) => a + b, 0);
  if (total <= limit) return [...groups];
  const n = groups.map(() => 1);
  for (let free = limit - groups.length; free > 0; free--) {
    let best = -1;
    groups.forEach((g, i) => {
      if (n[i]! < g && (best < 0 || g / n[i]! > groups[best]! / n[best]!)) best = i;
    });
    if (best < 0) break;
    n[best]!++;
  }
  return n;
}

export async function planCi(configs: ReadonlyArray<{ file: string; loaded: LoadedCiConfig }>, limit: number): Promise<CiPlan> {
  if (configs.length > limit) {
    throw new InputError(`${configs.length} configs need at least ${configs.length} jobs; one matrix holds at most ${limit}`, {
      hint: `plan them in parts of at most ${limit} configs (one matrix job each: kreplay ci plan <first ${limit}>, kreplay ci plan <next ${limit}>, ...)`,
    });
  }
  const twice = configs.find((c, i) => configs.findIndex((o) => o.loaded.file === c.loaded.file) !== i);
  if (twice) throw new InputError(`config ${twice.file} is given twice`, { hint: 'name each config once; its shards cover all its workloads' });
  const perConfig = await Promise.all(configs.map(async (c) => (await ciGroups(c.loaded.config)).groups));
  const counts = shardCounts(
    perConfig.map((g) => g.length),
    limit,
  );
  const jobs: CiJob[] = [];
  configs.forEach((c, ci) => {
    const count = counts[ci]!;
    for (let index = 1; index <= count; index++) {
      const shard = { index, count };
      jobs.push({ job: jobs.length + 1, config: c.file, shard: formatShard(shard), groups: perConfig[ci]!.filter((_, k) => inShard(k, shard)) });
    }
  });
  const groups = perConfig.reduce((a, g) => a + g.length, 0);
  return { jobs, groups, limit, packed: jobs.length < groups };
}

/** GitHub Actions: `strategy.matrix` as `fromJSON` reads it (one line, for $GITHUB_OUTPUT). */
export function planGithub(plan: CiPlan): string {
  return `${stringifyJson({ include: plan.jobs.map((j) => ({ job: j.job, config: j.config, shard: j.shard, workloads: j.groups.join(' ') })) })}\n`;
}

/**
 * GitLab: a job `kreplay-shard` (extending the hidden job `.kreplay-shard` that holds the
 * script) with one `parallel:matrix` entry per config — KREPLAY_CONFIG and its shards as
 * KREPLAY_SHARD. Written into a child pipeline (docs/ci.md).
 */
export function planGitlab(plan: CiPlan): string {
  const byConfig = new Map<string, string[]>();
  for (const j of plan.jobs) byConfig.set(j.config, [...(byConfig.get(j.config) ?? []), j.shard]);
  const lines = [
    `# kreplay ci plan: ${plan.jobs.length} jobs for ${plan.groups} workload groups (GitLab runs at most ${MATRIX_LIMITS.gitlab} per parallel:matrix)`,
    'kreplay-shard:',
    '  extends: .kreplay-shard',
    '  parallel:',
    '    matrix:',
  ];
  for (const [config, shards] of byConfig) {
    lines.push(`      - KREPLAY_CONFIG: ${stringifyJson(config)}`, `        KREPLAY_SHARD: [${shards.map((s) => stringifyJson(s)).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

export function planText(plan: CiPlan): string {
  const lines = [`${plan.jobs.length} jobs for ${plan.groups} workload groups${plan.packed ? ` (packed to stay within ${plan.limit} jobs)` : ''}:`];
  for (const j of plan.jobs)
    lines.push(`  ${String(j.job).padStart(3)}  kreplay ci --config ${j.config} --shard ${j.shard}    # ${j.groups.join(' ') || '(no group)'}`);
  return `${lines.join('\n')}\n`;
}
