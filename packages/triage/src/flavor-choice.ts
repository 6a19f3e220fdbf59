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
        : `the report's kernel ${release} is ${series}; ${best.f.name} (version ${best.f.version}) is the newest flavor not newer than it — no flavor models ${series}, and code changed since ${best.f.version} is not in the model`,
    };
  }
  const oldest = [...rated].sort((a, b) => compareSeries(a.s, b.s) || Number(b.stock) - Number(a.stock) || a.i - b.i)[0]!;
  return {
    flavor: oldest.f,
    because: `the report's kernel ${release} is older than every flavor; ${oldest.f.name} (version ${oldest.f.version}) is the oldest — it may have fixes ${release} lacks`,
  };
}

/** A flavor the registry holds for exactly a release series: the stock one (`linux-<version>`), not a patched one. */
function stockFlavorOf(series: readonly number[], flavors: readonly Flavor[]): Flavor | undefined {
  return flavors.find((f) => {
    const s = releaseSeries(f.version);
    return s !== null && compareSeries(s, series) === 0 && f.name === `linux-${f.version}`;
  });
}

/**
 * Why `flavor` does not stand for the kernel that produced a report, or undefined when it does:
 * only then may an exhaustive search that misses the reported rule be said of that kernel
 * ("no schedule of this kernel reaches it"). It stands for it when the report's release is of
 * the flavor's series (2.6.19.1 of 2.6.19, 6.1.0-13-amd64 of 6.1) and the flavor is the stock
 * one of that series (named `linux-<version>`, as chooseFlavor prefers it): a flavor of another
 * series is another kernel — a newer one may hold fixes the report's lacks, an older one lacks
 * every change since (a 2.6.23 model says nothing of what 6.1 can reach) — and a patched flavor
 * (`linux-2.6.15-seqschedlock`) is a kernel with changes the report's may not carry. The reason
 * names the flavor that does stand for the release, or says that none does.
 */
export function notTheReportsKernel(flavor: Flavor, release: string | null, flavors: readonly Flavor[]): string | undefined {
  const have = releaseSeries(flavor.version);
  const want = release ? releaseSeries(release) : null;
  if (!release || !want) {
    return `the report names no kernel release${release ? ` that can be read ("${release}")` : ''}, so nothing says ${flavor.name} is its kernel (pass --release if it is)`;
  }
  const series = want.join('.');
  const stock = stockFlavorOf(want, flavors);
  const instead =
    stock && stock.name !== flavor.name
      ? `${stock.name} models ${series}: --flavor ${stock.name}`
      : `no flavor models ${series}; the flavors are of ${[...new Set(flavors.map((f) => f.version))].join(', ')}`;
  if (!have) return `${flavor.name} declares no kernel version ("${flavor.version}"), so nothing says it is the report's kernel ${release} (${instead})`;
  const d = compareSeries(have, want);
  if (d > 0)
    return `${flavor.name} (version ${flavor.version}) is newer than the report's kernel ${release}, so it may hold fixes that kernel lacks (${instead})`;
  if (d < 0)
    return `${flavor.name} (version ${flavor.version}) is older than the report's kernel ${release}, so it lacks every change made since ${flavor.version} (${instead})`;
  if (flavor.name !== `linux-${flavor.version}`) {
    return `${flavor.name} is ${flavor.version} with changes of its own (the stock flavor is named linux-${flavor.version}), which the report's kernel ${release} may not carry${stock ? ` (${instead})` : ''}`;
  }
  return undefined;
}
