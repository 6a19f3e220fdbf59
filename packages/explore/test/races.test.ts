/**
 * The corpus of real races (fixtures/races/<fix>-<slug>/): the kernel just before each fix
 * (before.js, a flavor module) must break the rule the race breaks when the explorer runs
 * the scenario on it, unprompted; the kernel after it (the built-in flavor the scenario's
 * `expect:` names) must be clean with every interleaving explored. The violation's schedule
 * replays to the same rule. docs/races.md indexes the corpus.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, loadScenario, resolveFlavor } from '@kreplay/mm-model';
import { explore } from '../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RACES = path.join(root, 'fixtures/races');
const dirs = readdirSync(RACES)
  .filter((d) => /^[0-9a-f]{12}-[a-z0-9-]+$/.test(d))
  .sort();

describe('the race corpus', () => {
  it('has the four races issue 14 names and at least two more', () => {
    for (const id of ['7b7387650dcf', '74207de2ba10', '730633f0b7f9', '6f86d0534fdd']) {
      expect(dirs.some((d) => d.startsWith(id))).toBe(true);
    }
    expect(dirs.length).toBeGreaterThanOrEqual(6);
    expect(readdirSync(RACES).filter((d) => !dirs.includes(d))).toEqual([]);
  });
});

describe.each(dirs)('%s', (dir) => {
  const base = path.join(RACES, dir);
  const id = dir.slice(0, 12);

  it('has a README naming the fix, the interleaving and the rule, and a scenario with both verdicts', async () => {
    const readme = readFileSync(path.join(base, 'README.md'), 'utf8');
    expect(readme).toContain(id);
    expect(readme).toMatch(/## Interleaving/);
    expect(readme).toMatch(/## Rule/);
    expect(existsSync(path.join(base, 'before.js'))).toBe(true);
    const sc = await loadScenario(path.join(base, 'scenario.yaml'));
    expect(Object.keys(sc.expect ?? {}).sort()).toEqual(['before.js', sc.flavor].sort());
    expect(sc.expect![sc.flavor]).toBe('clean');
  });

  it('before the fix: the explorer finds the recorded violation, and its schedule replays to it', async () => {
    const sc = await loadScenario(path.join(base, 'scenario.yaml'));
    const m = createMachine(sc, await resolveFlavor(path.join(base, 'before.js')));
    const r = await explore(m);
    expect(r.verdict).toBe('violation');
    const rules = [...new Set(r.violations.map((v) => v.rule))].sort();
    expect(rules).toEqual([...(sc.expect!['before.js'] as string[])].sort());
    for (const v of r.violations) {
      let s = m.initial();
      const seen: string[] = [];
      for (const t of v.schedule) {
        const step = m.step(s, t);
        seen.push(...step.violations.map((x) => x.rule));
        s = step.state;
      }
      seen.push(...(m.final?.(s) ?? []).map((x) => x.rule));
      expect(seen).toContain(v.rule);
    }
    // The shortest schedules the README and docs/races.md quote are the ones the explorer finds
    // (session 42: four of six had drifted as the model gained and lost steps).
    const found = r.violations.map((v) => v.schedule.join(',')).sort();
    const readme = readFileSync(path.join(base, 'README.md'), 'utf8');
    const para = /Shortest schedules? [^]*?(?:\n\n|$)/.exec(readme)?.[0] ?? '';
    expect([...para.matchAll(/`(\d+(?:,\d+)+)`/g)].map((x) => x[1]).sort()).toEqual(found);
    const row = readFileSync(path.join(root, 'docs/races.md'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`| \`${dir}\``));
    const quoted = [...(row ?? '').matchAll(/`(\d+(?:,\d+)+)`/g)].map((x) => x[1]);
    expect(quoted.length).toBeGreaterThan(0);
    for (const q of quoted) expect(found).toContain(q);
  });

  it('after the fix: clean, every interleaving explored', async () => {
    const sc = await loadScenario(path.join(base, 'scenario.yaml'));
    const r = await explore(createMachine(sc, await resolveFlavor(sc.flavor)));
    expect(r).toMatchObject({ verdict: 'clean', exhaustive: true, violations: [] });
  });
});
