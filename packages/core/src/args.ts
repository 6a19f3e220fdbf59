/**
 * Argument values every command reads the same way: durations, one `--shard` convention,
 * one `--fail-on` value set.
 */
import { InputError } from './errors.js';
import type { Severity } from './rules.js';

/** `3s`, `500ms`, `2m`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string, flag = '--duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new InputError(`${flag} ${JSON.stringify(text)} is not a duration`, { hint: 'write it as 3s, 500ms or 1m' });
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  return Math.round(ms);
}

/**
 * One shard of a job split over CI jobs: `i/n` with 1 ≤ i ≤ n, counted from 1 as jest,
 * Playwright and GitLab's CI_NODE_INDEX count (GitHub's 0-based job index is `i+1`).
 * Item k (0-based) of a list belongs to shard i/n when k mod n = i - 1.
 */
export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string, flag = '--shard'): Shard {
  const m = /^\s*(\d+)\/(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new InputError(`${flag} ${JSON.stringify(text)} is not a shard`, {
      hint: `write it as i/n with 1 <= i <= n, e.g. ${flag} 1/4 (the first of four jobs)`,
    });
  }
  return { index, count };
}

/** Does item k (0-based) belong to this shard? */
export function inShard(k: number, shard: Shard | undefined): boolean {
  return !shard || k % shard.count === shard.index - 1;
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** `--fail-on`: the lowest severity that makes a command exit 1; `never` never does. */
export const FAIL_ON = ['error', 'warning', 'note', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

const RANK: Record<Severity, number> = { error: 3, warning: 2, note: 1 };

/** Does a finding of this severity reach `--fail-on`? (Uncertain findings count: an uncertain error is still an error.) */
export function reachesFailOn(severity: Severity, failOn: FailOn): boolean {
  return failOn !== 'never' && RANK[severity] >= RANK[failOn];
}
