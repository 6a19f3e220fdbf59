import { CONFIRM_MAX_STATES, DEFAULT_MAX_STATES } from '@kreplay/explore';

/**
 * The note of a search that a limit stopped: no verdict, why, and what to do. Shared with
 * `kreplay merge`, whose shards may have stopped the same way. With `defaultCap` (no
 * --max-states given) and `distinct` the states the search knew, a max-states stop names the cap
 * that stopped it: the search's own (it knew that many states), else the check of a possible
 * livelock, which has a cap of its own per candidate (explore.ts CONFIRM_MAX_STATES).
 */
export function noVerdict(cut: readonly string[], defaultCap: boolean, merged = false, distinct = DEFAULT_MAX_STATES): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const cap =
    !cut.includes('max-states') || !defaultCap
      ? ''
      : distinct >= DEFAULT_MAX_STATES
        ? ` (max-states: kreplay's default cap of ${n(DEFAULT_MAX_STATES)} states)`
        : ` (max-states: the check of a possible livelock stopped at its cap of ${n(CONFIRM_MAX_STATES)} states)`;
  return (
    `no verdict: the search stopped at ${cut.join(', ')}${cap} before every interleaving was explored, so nothing found is not clean (exit 2)\n` +
    (merged
      ? '  hint: run the shards that stopped again with a larger --max-states or --timeout (or in more shards), then merge'
      : '  hint: a larger --max-states or --timeout, the search split over machines (--shard i/n, then kreplay merge), or a smaller scenario; --preemption-bound N asks a bounded question instead')
  );
}
