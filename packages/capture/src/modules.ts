/**
 * Which kernel modules the capture guest needs, in load order, resolved from the kernel's
 * own modules.dep (plus modules.softdep / modules.alias for `pre:` soft dependencies such
 * as ext4's `crypto-crc32c`, and modules.builtin for drivers compiled in).
 *
 * busybox `insmod` loads one file and knows no dependencies, so the order matters:
 * every module comes after everything it depends on (depth-first, modules.dep order).
 */
import { InputError } from '@kreplay/core';

/** What the guest needs: virtio PCI transport, the disk, ext4 and the 9p share. */
export const GUEST_MODULES = ['virtio_pci', 'virtio_blk', 'ext4', '9p', '9pnet_virtio'] as const;

export interface ModuleIndex {
  /** module name → path relative to /lib/modules/<release>/ */
  path: Map<string, string>;
  /** module name → direct and indirect dependencies as modules.dep lists them */
  deps: Map<string, string[]>;
  /** module name → names/aliases it wants loaded first (softdep pre:) */
  softPre: Map<string, string[]>;
  /** alias → module names */
  alias: Map<string, string[]>;
  /** modules compiled into the kernel */
  builtin: Set<string>;
}

export interface ModuleLoad {
  name: string;
  /** path relative to /lib/modules/<release>/ */
  path: string;
  /** a soft dependency: the guest tries it and carries on if it does not load */
  optional: boolean;
}

/** `kernel/fs/ext4/ext4.ko` → `ext4` (names use `_`, as the kernel does). */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.ko(\.(xz|gz|zst))?$/, '');
  return base.replace(/-/g, '_');
}

function lines(text: string): Array<[number, string]> {
  return text
    .split('\n')
    .map((l, i) => [i + 1, l.trim()] as [number, string])
    .filter(([, l]) => l && !l.startsWith('#'));
}

export interface ModuleFiles {
  dep: string;
  depFile?: string;
  softdep?: string;
  alias?: string;
  builtin?: string;
}

/** Parse the depmod output files of one kernel release. */
export function parseModuleIndex(files: ModuleFiles): ModuleIndex {
  const idx: ModuleIndex = { path: new Map(), deps: new Map(), softPre: new Map(), alias: new Map(), builtin: new Set() };
  for (const [n, l] of lines(files.dep)) {
    const colon = l.indexOf(':');
    if (colon < 0) {
      throw new InputError(`not a modules.dep line: ${JSON.stringify(l)}`, {
        file: files.depFile ?? 'modules.dep',
        line: n,
        hint: 'regenerate it with depmod',
      });
    }
    const path = l.slice(0, colon);
    // depmod writes paths below the release's modules folder; one that climbs out of it (or an
    // absolute one) would pack a host file into the guest's initramfs, where the guest can read it
    if (path.startsWith('/') || path.split('/').includes('..')) {
      throw new InputError(`modules.dep names ${JSON.stringify(path)}, which is not below the modules folder`, {
        file: files.depFile ?? 'modules.dep',
        line: n,
        hint: 'regenerate it with depmod (its paths are relative to /lib/modules/<release>)',
      });
    }
    const name = moduleName(path);
    idx.path.set(name, path);
    idx.deps.set(
      name,
      l
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(moduleName),
    );
  }
  for (const [, l] of lines(files.softdep ?? '')) {
    const m = /^softdep\s+(\S+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const pre = /pre:\s*([^:]*?)(?:\s+post:|$)/.exec(m[2]);
    if (pre) idx.softPre.set(m[1].replace(/-/g, '_'), pre[1].trim().split(/\s+/).filter(Boolean));
  }
  for (const [, l] of lines(files.alias ?? '')) {
    const m = /^alias\s+(\S+)\s+(\S+)$/.exec(l);
    if (!m) continue;
    const list = idx.alias.get(m[1]) ?? [];
    list.push(m[2].replace(/-/g, '_'));
    idx.alias.set(m[1], list);
  }
  for (const [, l] of lines(files.builtin ?? '')) idx.builtin.add(moduleName(l));
  return idx;
}

/** Modules an alias or name stands for; `*_generic` first (works on every CPU and under TCG). */
function resolveName(idx: ModuleIndex, nameOrAlias: string): string[] {
  const n = nameOrAlias.replace(/-/g, '_');
  if (idx.path.has(n) || idx.builtin.has(n)) return [n];
  const mods = idx.alias.get(nameOrAlias) ?? idx.alias.get(n) ?? [];
  return [...new Set(mods)].sort((a, b) => Number(b.endsWith('_generic')) - Number(a.endsWith('_generic')) || a.localeCompare(b));
}

/**
 * Load order for `wanted` (module names): dependencies first, each module once,
 * built-in modules skipped. A wanted module that is neither a module nor built in is an
 * error naming it; soft dependencies come first and are optional.
 */
export function resolveModuleOrder(idx: ModuleIndex, wanted: readonly string[]): ModuleLoad[] {
  const order: ModuleLoad[] = [];
  const seen = new Set<string>();
  const visit = (name: string, optional: boolean, stack: string[]): void => {
    if (seen.has(name) || idx.builtin.has(name)) return;
    if (stack.includes(name)) return; // modules.dep never has cycles; a softdep loop is broken here
    const path = idx.path.get(name);
    if (path === undefined) {
      if (optional) return;
      throw new InputError(`kernel module ${name} is neither in modules.dep nor built in`, {
        hint: `the kernel needs ${name} (as a module or built in) to run the capture guest`,
      });
    }
    const next = [...stack, name];
    for (const soft of idx.softPre.get(name) ?? []) {
      for (const m of resolveName(idx, soft)) visit(m, true, next);
    }
    // modules.dep lists dependencies so that the last one loads first.
    for (const dep of [...(idx.deps.get(name) ?? [])].reverse()) visit(dep, optional, next);
    if (seen.has(name)) return;
    seen.add(name);
    order.push({ name, path, optional });
  };
  for (const w of wanted) visit(w.replace(/-/g, '_'), false, []);
  return order;
}
