/**
 * The verdict on a derived litmus test (derive.ts): the same test under the kernel's model
 * and under sequential consistency (models/sc: the same .def, .bell and lock.cat, one total
 * order). Only an outcome the LKMM allows and SC forbids is reported as LKMM-only.
 */
import path from 'node:path';
import { checkLitmus, type LitmusResult } from './check.js';
import type { DerivedLitmus } from './derive.js';
import { parseLitmus } from './litmus/parse.js';
import { loadModel, MODELS_DIR, type LoadedModel } from './model.js';

/** lkmm-only: the LKMM allows the outcome, SC forbids it; both: SC allows it too; neither: the LKMM forbids it. */
export type WeakVerdict = 'lkmm-only' | 'both' | 'neither';

export interface WeakJudgement {
  test: DerivedLitmus;
  verdict: WeakVerdict;
  lkmm: LitmusResult;
  sc: LitmusResult;
}

/** The SC model kreplay ships (models/sc). */
export function loadScModel(): LoadedModel {
  return loadModel(path.join(MODELS_DIR, 'sc'));
}

/** Throws CheckTimeout when `timeoutMs` is given and checking either model takes longer. */
export function judgeDerived(
  test: DerivedLitmus,
  model: LoadedModel,
  sc: LoadedModel = loadScModel(),
  file = `${test.name}.litmus`,
  timeoutMs?: number,
): WeakJudgement {
  const parsed = parseLitmus(test.text, file);
  const opts = timeoutMs !== undefined ? { timeoutMs } : {};
  const lkmm = checkLitmus(parsed, model, opts);
  const scr = checkLitmus(parsed, sc, opts);
  const verdict: WeakVerdict = lkmm.pos === 0 ? 'neither' : scr.pos > 0 ? 'both' : 'lkmm-only';
  return { test, verdict, lkmm, sc: scr };
}
