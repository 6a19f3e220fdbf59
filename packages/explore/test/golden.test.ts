/**
 * The exhaustive search answers what it answered before it was made faster (golden recorded
 * from the earlier engine): verdict, every violation's message and shortest schedule, and
 * every counter but the clock — on every shipped scenario × flavor (multipage: shipped.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { explore } from '../src/index.js';
import { golden, shippedCases, summary } from './shipped.js';

// Flavors added after the golden was recorded (linux-6.12) have no "before": the worker and
// shard tests compare them with the one-core search instead.
const cases = (await shippedCases()).filter((c) => c.name in golden);

describe('the exhaustive search against its golden', () => {
  it('covers every shipped scenario, and every case the golden records still exists', () => {
    expect(new Set(cases.map((c) => c.file)).size).toBeGreaterThanOrEqual(9);
    const slow = Object.keys(golden).filter((k) => !cases.some((c) => c.name === k));
    expect(slow.every((k) => k.includes('multipage'))).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(summary(await explore(c.machine, { strategy: 'exhaustive' }))).toEqual(golden[c.name]);
  });
});
