// A replay JSON's verdict is derived from its findings; a file where they disagree was edited or
// damaged and is refused (found by scripts/fuzz.mjs, session 42: findings taken out under a
// `findings` verdict made `kreplay diff` read that side as clean, "no regression", exit 0).
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { InputError } from '@kreplay/core';
import { formatJson, parseReplayJson, replayFile } from '@kreplay/replay';

const RACE = path.resolve(import.meta.dirname, '../../../fixtures/diff/race/trace.txt');

describe('replay JSON: the verdict must match the findings', () => {
  it('reads its own output, and refuses findings taken out, a count or a status edited', async () => {
    const text = formatJson(await replayFile(RACE), { timing: false });
    const good = JSON.parse(text) as { verdict: Record<string, unknown>; findings: unknown[] };
    expect(good.verdict['status']).toBe('findings');
    expect(good.findings.length).toBeGreaterThan(0);
    expect(parseReplayJson(text, 'race.json').findings).toHaveLength(good.findings.length);
    const edit = (f: (j: typeof good) => void): string => {
      const j = JSON.parse(text) as typeof good;
      f(j);
      return JSON.stringify(j, null, 2);
    };
    for (const damaged of [
      edit((j) => (j.findings = [])),
      edit((j) => j.findings.pop()),
      edit((j) => (j.verdict['certain'] = 0)),
      edit((j) => (j.verdict['status'] = 'clean')),
      edit((j) => (j.verdict['uncertain'] = 1)),
    ]) {
      let caught: unknown;
      try {
        parseReplayJson(damaged, 'race.json');
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as InputError).message).toMatch(/^the verdict \(\w+: \d+ certain, \d+ uncertain\) does not match the findings the file holds/);
      expect((caught as InputError).line).toBe(damaged.split('\n').findIndex((l) => l.includes('"verdict"')) + 1);
    }
    // a file without the counts (an older kreplay) is read as before
    expect(
      parseReplayJson(
        edit((j) => {
          delete j.verdict['certain'];
          j.findings = [];
        }),
        'old.json',
      ).findings,
    ).toEqual([]);
  });
});
