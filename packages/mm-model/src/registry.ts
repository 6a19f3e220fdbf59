/**
 * The built-in flavors and `resolveFlavor`, which also loads a user's flavor module
 * (`--flavor ./my-flavor.js`): its default export is a Flavor, or a function that receives
 * the FlavorKit (built-in flavors, extendFlavor, step helpers) and returns one.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '@kreplay/core';
import { checkFlavor, extendFlavor, type Flavor } from './flavor.js';
import { noteFlavorModule } from './identity.js';
import * as programKit from './program.js';
import * as kernelLib from './kernel/lib.js';
import { NONE, PG } from './state.js';
import { linux2615 } from './flavors/linux-2.6.15/index.js';
import { linux2615Seqschedlock } from './flavors/linux-2.6.15-seqschedlock/index.js';
import { linux2623 } from './flavors/linux-2.6.23/index.js';
import { linux61 } from './flavors/linux-6.1/index.js';
import { LINUX_612_FIXES, buildLinux612, linux612 } from './flavors/linux-6.12/index.js';

const BUILTIN: readonly Flavor[] = [linux2615, linux2615Seqschedlock, linux2623, linux61, linux612];

export function builtinFlavors(): readonly Flavor[] {
  return BUILTIN;
}

export function listFlavors(): { name: string; description: string }[] {
  return BUILTIN.map((f) => ({ name: f.name, description: f.description }));
}

/** What a flavor module's default-exported function receives. */
export interface FlavorKit {
  flavors: Readonly<Record<string, Flavor>>;
  extendFlavor: typeof extendFlavor;
  r: typeof programKit.r;
  w: typeof programKit.w;
  acquire: typeof programKit.acquire;
  release: typeof programKit.release;
  /** Marks an access with its LKMM kind (explore --memory-model lkmm, docs/memory-model.md). */
  lk: typeof programKit.lk;
  lib: typeof kernelLib;
  NONE: typeof NONE;
  PG: typeof PG;
  /** Built-in kernels with their fixes as options: `builders.linux612({ name, description, fixes: { '74207de2ba10': false } })`. */
  builders: { linux612: typeof buildLinux612; linux612Fixes: typeof LINUX_612_FIXES };
}

export function flavorKit(): FlavorKit {
  return {
    flavors: Object.fromEntries(BUILTIN.map((f) => [f.name, f])),
    extendFlavor,
    r: programKit.r,
    w: programKit.w,
    acquire: programKit.acquire,
    release: programKit.release,
    lk: programKit.lk,
    lib: kernelLib,
    NONE,
    PG,
    builders: { linux612: buildLinux612, linux612Fixes: LINUX_612_FIXES },
  };
}

/** A built-in flavor by name, or a flavor module by path (.js/.mjs). */
export async function resolveFlavor(nameOrPath: string): Promise<Flavor> {
  const builtin = BUILTIN.find((f) => f.name === nameOrPath);
  if (builtin) return builtin;
  const looksLikePath = /[\\/]/.test(nameOrPath) || /\.(m?js)$/.test(nameOrPath);
  const names = BUILTIN.map((f) => f.name).join(', ');
  if (!looksLikePath) {
    throw new InputError(`unknown flavor ${nameOrPath}`, {
      hint: `built-in flavors: ${names}; or give the path of a flavor module (./my-flavor.js), see docs/flavors.md`,
    });
  }
  if (!/\.(m?js)$/.test(nameOrPath)) {
    throw new InputError(`flavor module ${nameOrPath} must be a .js or .mjs file`, {
      file: nameOrPath,
      hint: 'compile TypeScript flavors to JavaScript first; see docs/flavors.md',
    });
  }
  const abs = isAbsolute(nameOrPath) ? nameOrPath : resolve(process.cwd(), nameOrPath);
  try {
    await stat(abs);
  } catch {
    throw new InputError(`flavor module not found: ${nameOrPath}`, { file: nameOrPath, hint: 'check the path' });
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (e) {
    throw new InputError(`cannot load flavor module: ${(e as Error).message}`, {
      file: nameOrPath,
      hint: 'the module must be valid ESM JavaScript with a default export (docs/flavors.md)',
    });
  }
  let f = mod.default;
  if (typeof f === 'function') {
    try {
      f = await (f as (kit: FlavorKit) => unknown)(flavorKit());
    } catch (e) {
      throw new InputError(`flavor module failed to build its flavor: ${(e as Error).message}`, { file: nameOrPath });
    }
  }
  if (!f || typeof f !== 'object') {
    throw new InputError('flavor module has no default export (a Flavor, or a function returning one)', {
      file: nameOrPath,
      hint: 'export default (kit) => kit.extendFlavor(kit.flavors["linux-2.6.15"], {...}); see docs/flavors.md',
    });
  }
  const problems = checkFlavor(f as Partial<Flavor>);
  if (problems.length) {
    throw new InputError(`flavor module does not implement the Flavor interface: ${problems.join('; ')}`, {
      file: nameOrPath,
      hint: 'docs/flavors.md describes the interface',
    });
  }
  // the module's whole text is the flavor's identity too: a constant its steps capture lives there
  noteFlavorModule(f as Flavor, await readFile(abs, 'utf8'));
  return f as Flavor;
}
