/**
 * What a search explored, as one digest: the scenario's content and the flavor's code. The
 * shards of one exhaustive search carry it, so a merge refuses shards of an edited scenario, of
 * another version of a flavor module that keeps its name, or of another build of kreplay's model
 * (docs/explore.md).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Flavor } from './flavor.js';
import type { Scenario } from './scenario.js';

/** Fields that say nothing about what is searched: where the file was read from, what the tests expect, prose. */
const NOT_MODEL = new Set(['source', 'expect', 'description']);

/** The text of the module file each flavor loaded from a file came from (registry.ts). */
const moduleTexts = new WeakMap<Flavor, string>();

/** Record the module file a flavor was built by: its whole text is part of the flavor's identity. */
export function noteFlavorModule(flavor: Flavor, text: string): void {
  moduleTexts.set(flavor, text);
}

let ownCode: string | undefined;

/**
 * A digest of this package's code as it runs (every .js/.ts file beside this one, by relative
 * path and content; read once per process): the kernel procedures a step calls, and the values
 * its closures capture, are in these files and nowhere in a step's own source text.
 */
function modelCode(): string {
  if (ownCode !== undefined) return ownCode;
  const root = path.dirname(fileURLToPath(import.meta.url));
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(path.relative(root, p).split(path.sep).join('/'));
    }
  };
  walk(root);
  const h = createHash('sha256');
  for (const f of files.sort())
    h.update(`${f}\0`)
      .update(readFileSync(path.join(root, f)))
      .update('\0');
  ownCode = h.digest('hex');
  return ownCode;
}

/**
 * A digest of the model a machine runs: the scenario as loaded (not its file's path or its
 * `expect`), every procedure, step and program of the flavor (functions by their source text),
 * the whole text of the module a flavor was loaded from, and the code of this package (the
 * kernel procedures steps call). Two runs with one digest search the same state graph.
 */
export function modelIdentity(scenario: Scenario, flavor: Flavor): string {
  const seen = new WeakSet<object>();
  const text = JSON.stringify({ scenario, flavor }, function (this: unknown, key, value: unknown) {
    if (this !== null && typeof this === 'object' && (this === scenario || this === flavor) && NOT_MODEL.has(key)) return undefined;
    if (typeof value === 'function') return `function ${String(value)}`;
    if (value !== null && typeof value === 'object') {
      if (seen.has(value)) return '[seen]';
      seen.add(value);
    }
    return value;
  });
  return createHash('sha256')
    .update(text)
    .update('\0')
    .update(moduleTexts.get(flavor) ?? '')
    .update('\0')
    .update(modelCode())
    .digest('hex')
    .slice(0, 32);
}
