/**
 * The flavor closest to a report's kernel release, from the flavors' declared `version`s
 * (never from their names): the newest flavor whose version is at or below the release.
 * A kernel carries every fix of the releases before it, so a newer flavor may hold a fix
 * the reporting kernel lacks, and the model would then wrongly say the race cannot
 * happen; an older one may lack later changes, and the output says so. Flavors of one
 * version (a patched kernel, `linux-2.6.15-seqschedlock`) yield to the stock one, the
 * flavor named `linux-<version>`; then registry order decides.
 */
import type { Flavor } from '@kreplay/mm-model';

/** The release series a version belongs to: [2,6,19] for `2.6.19.1`, [6,1] for `6.1.0-13-amd64`. */
export function releaseSeries(version: string): number[] | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim().replace(/^v/, ''));
  if (!m) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  // Before 3.0 the series is three numbers (2.6.19); from 3.0 on, two (6.1).
  if (major < 3 && m[3] !== undefined) return [major, minor, Number(m[3])];
  return [major, minor];
}

/** Order of two release series (negative: a is older). */
export function compareSeries(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface FlavorChoice {
  flavor: Flavor | null;
  because: string;
}

/** Pick the flavor for a report's release among `flavors` (registry order). */
export function chooseFlavor(release: string | null, flavors: readonly Flavor[]): FlavorChoice {
  if (!release) return { flavor: null, because: 'the report names no kernel release (pass --release or --flavor)' };
  const want = releaseSeries(release);
  if (!want) return { flavor: null, because: `cannot read a kernel version from "${release}" (pass --release X.Y or --flavor)` };
  const rated = flavors
    .map((f, i) => ({ f, i, s: releaseSeries(f.version), stock: f.name === `linux-${f.version}` }))
    .filter((x): x is { f: Flavor; i: number; s: number[]; stock: boolean } => x.s !== null);
  if (rated.length === 0) return { flavor: null, because: 'no flavor declares a kernel version' };
  const order = (a: (typeof rated)[number], b: (typeof rated)[number]): number => compareSeries(b.s, a.s) || Number(b.stock) - Number(a.stock) || a.i - b.i;
  const atOrBelow = rated.filter((x) => compareSeries(x.s, want) <= 0).sort(order);
  const series = want.join('.');
  if (atOrBelow.length > 0) {
    const best = atOrBelow[0]!;
    const exact = compareSeries(best.s, want) === 0;
    return {
      flavor: best.f,
      because: exact
        ? `the report's kernel ${release} is ${series}, which ${best.f.name} models (version ${best.f.version})`
        : `the report's kernel ${release} is ${series}; ${best.f.name} (version ${best.f.version}) is the newest flavor not newer than it — code changed since ${best.f.version} is not in the model`,
    };
  }
  const oldest = [...rated].sort((a, b) => compareSeries(a.s, b.s) || Number(b.stock) - Number(a.stock) || a.i - b.i)[0]!;
  return {
    flavor: oldest.f,
    because: `the report's kernel ${release} is older than every flavor; ${oldest.f.name} (version ${oldest.f.version}) is the oldest — it may have fixes ${release} lacks`,
  };
}
