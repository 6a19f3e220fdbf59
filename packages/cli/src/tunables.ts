/**
 * bin/run.js starts node with `glibc.malloc.hugetlb=1` (transparent huge pages for malloc's large
 * blocks: the explorer's tables) and malloc told to keep what it frees (`mmap_threshold`,
 * `trim_threshold`: the tables grow by doubling, and memory mapped afresh costs a page fault per
 * page) put in front of the user's GLIBC_TUNABLES. glibc reads the variable once, at start; the
 * processes kreplay runs get the user's value back.
 */

/** The tunable the launcher puts first. */
export const ADDED_TUNABLE = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295';

/** The user's GLIBC_TUNABLES before the launcher added ADDED_TUNABLE to `now` (undefined: it was not set). */
export function userTunables(now: string | undefined): string | undefined {
  if (now === undefined || now === ADDED_TUNABLE) return undefined;
  return now.startsWith(`${ADDED_TUNABLE}:`) ? now.slice(ADDED_TUNABLE.length + 1) : now;
}
