/**
 * Data files a package ships beside its code: the probe maps, capture profiles, example
 * scenarios. In a clone they sit once at the repository root (kernel-configs/, fixtures/),
 * shared by the packages; in an installed package the release put them inside the package's
 * own folder, under the same relative path (each package names them in its package.json
 * `files`; docs/release.md). One lookup serves both, so neither layout is special-cased.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the package that holds `file`: the nearest one with a package.json. */
function packageRoot(file: string): string {
  let dir = path.dirname(file);
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return path.dirname(file);
    dir = up;
  }
  return dir;
}

/**
 * Where the shipped `relative` path (e.g. `kernel-configs/probes`) is for the module at
 * `moduleUrl` (pass `import.meta.url`): inside its package when the package has it (an
 * install), else at the root of the repository the package sits in (`<repo>/packages/<pkg>`,
 * a clone). When neither exists, the in-package path, so an error names where it should be.
 */
export function shippedPath(moduleUrl: string, relative: string): string {
  const pkg = packageRoot(fileURLToPath(moduleUrl));
  const inPackage = path.join(pkg, relative);
  if (existsSync(inPackage)) return inPackage;
  if (path.basename(path.dirname(pkg)) === 'packages') {
    const inRepo = path.join(pkg, '..', '..', relative);
    if (existsSync(inRepo)) return inRepo;
  }
  return inPackage;
}
