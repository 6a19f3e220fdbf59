import { DEFAULT_MAX_STATES } from '@kreplay/explore';

/**
 * The note of a search that a limit stopped: no verdict, why, and what to do. Shared with
 * `kreplay merge`, whose shards may have stopped the same way.
 */
export function noVerdict(cut: readonly string[], defaultCap: boolean, merged = false): string {
  const cap = cut.includes('max-states') && defaultCap ? ` (max-states: kreplay's default cap of ${DEFAULT_MAX_STATES.toLocaleString('en-US')} states)` : '';
  return (
    `no verdict: the search stopped at ${cut.join(', ')}${cap} before every interleaving was explored, so nothing found is not clean (exit 2)\n` +
    (merged
      ? '  hint: run the shards that stopped again with a larger --max-states or --timeout (or in more shards), then merge'
      : '  hint: a larger --max-states or --timeout, the search split over machines (--shard i/n, then kreplay merge), or a smaller scenario; --preemption-bound N asks a bounded question instead')
  );
}
