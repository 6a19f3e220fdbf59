/**
 * Debian 12's kernel series: which packages a `debian…` kernel or source spec names (capture
 * boots their images, kernel-build builds their sources).
 *
 * Debian 12 ("bookworm") ships two kernels: its own 6.1 (`linux-image-amd64` →
 * `linux-image-6.1.0-<abi>-amd64`, source `linux-source-6.1`) and, from bookworm-security,
 * 6.12 (`linux-image-6.12-amd64` → `linux-image-6.12.<n>+deb12-amd64`, source
 * `linux-source-6.12`). Specs:
 *
 *   debian                 the 6.1 series (what `debian` always meant)
 *   debian-6.1, debian-6.12 a series by name
 *   <series spec>:<pin>    capture: a kernel release (`6.1.0-56-amd64`, `6.12.107+deb12-amd64`);
 *                          build: a source package version (`6.1.192-2`, `6.12.117-1~deb12u1`)
 */
import { InputError } from './errors.js';

export interface DebianSeries {
  /** `6.1`, `6.12`. */
  name: string;
  /** The meta-package whose Depends names the current image package. */
  imageMeta: string;
  /** The source package `kreplay kernel build --source` unpacks. */
  sourcePackage: string;
  /** A kernel release (`uname -r`) of this series' amd64 flavour. */
  release: RegExp;
  /** A release of this series to show in hints. */
  exampleRelease: string;
}

export const DEBIAN_SERIES: readonly DebianSeries[] = [
  { name: '6.1', imageMeta: 'linux-image-amd64', sourcePackage: 'linux-source-6.1', release: /^6\.1\.0-\d+-amd64$/, exampleRelease: '6.1.0-56-amd64' },
  {
    name: '6.12',
    imageMeta: 'linux-image-6.12-amd64',
    sourcePackage: 'linux-source-6.12',
    release: /^6\.12\.\d+\+deb12-amd64$/,
    exampleRelease: '6.12.117+deb12-amd64',
  },
];

/** The series plain `debian` means. */
export const DEFAULT_DEBIAN_SERIES = DEBIAN_SERIES[0]!;

export interface DebianSpec {
  series: DebianSeries;
  /** What follows `:`, if anything (a release for capture, a package version for builds). */
  pin?: string;
}

const SPEC = /^debian(?:-(\d+\.\d+))?(?::(.*))?$/;

/** The series a spec names, or undefined when `spec` is not a `debian…` spec at all (a path). */
export function parseDebianSpec(spec: string): DebianSpec | undefined {
  const m = SPEC.exec(spec);
  if (!m) return undefined;
  const series = m[1] === undefined ? DEFAULT_DEBIAN_SERIES : DEBIAN_SERIES.find((s) => s.name === m[1]);
  if (!series) {
    throw new InputError(`unknown Debian kernel series "${m[1]}" in "${spec}"`, {
      hint: `Debian 12 ships ${DEBIAN_SERIES.map((s) => `debian-${s.name}`).join(' and ')} (plain "debian" is ${DEFAULT_DEBIAN_SERIES.name})`,
    });
  }
  if (m[2] === undefined) return { series };
  if (!/^[0-9][A-Za-z0-9.+~:-]*$/.test(m[2])) {
    throw new InputError(`"${spec}": the pin after ":" is empty or not a version`, {
      hint: `e.g. debian-${series.name}:${series.exampleRelease}`,
    });
  }
  return { series, pin: m[2] };
}

/** The image package of a pinned release, checked against its series. */
export function debianImageForRelease(series: DebianSeries, release: string): string {
  if (!series.release.test(release)) {
    throw new InputError(`${release} is not a release of Debian's ${series.name} amd64 kernel`, {
      hint: `pin a release of that series (uname -r), e.g. debian-${series.name}:${series.exampleRelease}${series === DEFAULT_DEBIAN_SERIES ? ` or debian:${series.exampleRelease}` : ''}`,
    });
  }
  return `linux-image-${release}`;
}

/** The release an image package installs (`linux-image-6.12.117+deb12-amd64[-unsigned]` → `6.12.117+deb12-amd64`). */
export function releaseOfImagePackage(pkg: string): string {
  return pkg.replace(/^linux-image-/, '').replace(/-unsigned$/, '');
}
