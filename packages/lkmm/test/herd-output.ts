/** Helpers shared by the golden and live herd7 comparisons. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const MODELS = ['linux-6.1', 'linux-6.12'] as const;
export const SETS = ['kernel-litmus-tests', 'paulmckrcu-litmus'] as const;

/**
 * herd7's output without what kreplay does not reproduce: the Time line, the Hash line,
 * blank lines, and the counter in the name of an undetermined value (S8 / S4 -> S).
 */
export function comparable(out: string): string {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('Time ') && !l.startsWith('Hash='))
    .join('\n')
    .replace(/=S\d+;/g, '=S;');
}

/** Every .litmus file below a fixture set, relative to it, sorted. */
export function litmusFiles(set: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.litmus')) out.push(path.relative(path.join(FIXTURES, set), p));
    }
  };
  walk(path.join(FIXTURES, set));
  return out.sort();
}
