/**
 * The exhaustive search answers what it answered before it was made faster (golden recorded
 * from the earlier engine): verdict, every violation's message and shortest schedule, and
 * every counter but the clock — on every shipped scenario × flavor (multipage: shipped.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { explore } from '../src/index.js';
import { golden, shippedCases, summary } from './shipped.js';

const cases = await shippedCases();

describe('the exhaustive search against its golden', () => {
  it('covers every shipped scenario', () => {
    expect(new Set(cases.map((c) => c.file)).size).toBeGreaterThanOrEqual(9);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(summary(await explore(c.machine, { strategy: 'exhaustive' }))).toEqual(golden[c.name]);
  });
});
