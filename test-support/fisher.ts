/**
 * The naive oracle of an unchanged finding's rise (packages/diff/src/significance.ts `riseChance`):
 * every way the `kb + kp` runs that show a finding could sit among `n` base and `m` patched runs,
 * counted, and the share that puts at least `kp` of them on the patched side.
 */
export function byCountingRise(kb: number, n: number, kp: number, m: number): number {
  let all = 0;
  let atLeast = 0;
  for (let mask = 0; mask < 1 << (n + m); mask++) {
    let bits = 0;
    for (let x = mask; x; x &= x - 1) bits++;
    if (bits !== kb + kp) continue;
    all++;
    // runs n..n+m-1 are the patched side's
    let onPatched = 0;
    for (let x = mask >> n; x; x &= x - 1) onPatched++;
    if (onPatched >= kp) atLeast++;
  }
  return atLeast / all;
}
