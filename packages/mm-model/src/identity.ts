/**
 * What a search explored, as one digest: the scenario's content and the flavor's code. The
 * shards of one exhaustive search carry it, so a merge refuses shards of an edited scenario or
 * of another version of a flavor module that keeps its name (docs/explore.md).
 */
import { createHash } from 'node:crypto';
import type { Flavor } from './flavor.js';
import type { Scenario } from './scenario.js';

/** Fields that say nothing about what is searched: where the file was read from, what the tests expect, prose. */
const NOT_MODEL = new Set(['source', 'expect', 'description']);

/**
 * A digest of the model a machine runs: the scenario as loaded (not its file's path or its
 * `expect`) and every procedure, step and program of the flavor, functions by their source
 * text. Two runs with one digest search the same state graph (a step's behaviour hidden in a
 * closure's captured value is the one thing it does not see).
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
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
