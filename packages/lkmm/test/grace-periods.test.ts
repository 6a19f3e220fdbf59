/**
 * A model that never refers to a grace period (kreplay's models/sc, like herd7's sc.cat) lets
 * synchronize_rcu() wait for nothing: a result on a test with one must say so
 * (LitmusResult.ignoredByModel), and the LKMM models, which have RCU's axioms, must not.
 */
import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkedNatives, checkLitmus, ignoredWarning, loadModel, loadScModel, MODELS_DIR, parseLitmus, resultJson } from '../src/index.js';
import { FIXTURES } from './herd-output.js';

const fixture = (name: string): string => path.join(FIXTURES, 'sc-oracle', `${name}.litmus`);
const check = (name: string, model = loadScModel()) => checkLitmus(parseLitmus(readFileSync(fixture(name), 'utf8'), fixture(name)), model);

/** models/sc (and the linux-6.12 files it names) copied to a temporary folder, with `extra` appended to its sc.cat. */
function scWith(extra: string): string {
  const root = mkdtempSync(path.join(tmpdir(), 'kreplay-gp-'));
  for (const m of ['sc', 'linux-6.12']) cpSync(path.join(MODELS_DIR, m), path.join(root, m), { recursive: true });
  const cat = path.join(root, 'sc', 'sc.cat');
  writeFileSync(cat, `${readFileSync(cat, 'utf8')}\n${extra}\n`);
  return path.join(root, 'sc');
}

describe('grace periods a model ignores', () => {
  it('the LKMM models depend on both grace periods; models/sc on neither', () => {
    for (const m of ['linux-6.1', 'linux-6.12']) {
      const model = loadModel(m);
      expect(model.ignoredGracePeriods).toEqual([]);
      expect([...checkedNatives(model.compiled)]).toEqual(expect.arrayContaining(['Sync-rcu', 'Sync-srcu', 'Rcu-lock', 'Srcu-lock']));
    }
    expect(loadScModel().ignoredGracePeriods).toEqual(['Sync-rcu', 'Sync-srcu']);
  });

  it('follows the lets a check reads, and does not count a flag (it rejects nothing)', () => {
    const viaLets = loadModel(scWith('let gp = [Sync-rcu]\nlet gp-order = po ; gp ; po\nirreflexive gp-order as gp-check'));
    expect(viaLets.ignoredGracePeriods).toEqual(['Sync-srcu']);
    const flagOnly = loadModel(scWith('let gp = [Sync-rcu] ; po\nflag ~empty gp as saw-gp'));
    expect(flagOnly.ignoredGracePeriods).toEqual(['Sync-rcu', 'Sync-srcu']);
  });

  it('a result under models/sc on a test with synchronize_rcu() carries the warning, in JSON too', () => {
    const r = check('RCU-mid-gp');
    expect(r.observation).toBe('Sometimes');
    expect(r.ignoredByModel).toEqual(['Sync-rcu']);
    expect(ignoredWarning(r)).toMatch(/^RCU-mid-gp: no check of model sc refers to Sync-rcu, so synchronize_rcu\(\) waits for no reader/);
    expect(resultJson(r).ignoredByModel).toEqual(['Sync-rcu']);
    expect(check('SRCU-mid-gp').ignoredByModel).toEqual(['Sync-srcu']);
  });

  it('no warning under the LKMM, nor under models/sc on a test without a grace period', () => {
    const lkmm = check('RCU-mid-gp', loadModel('linux-6.12'));
    expect(lkmm.observation).toBe('Never');
    expect(lkmm.ignoredByModel).toEqual([]);
    expect(ignoredWarning(lkmm)).toBeNull();
    expect('ignoredByModel' in resultJson(lkmm)).toBe(false);
    expect(check('islocked-sb').ignoredByModel).toEqual([]);
  });
});
