/**
 * @kreplay/lkmm: C litmus tests checked against the Linux-kernel memory model. The model
 * is the kernel's own tools/memory-model files (shipped as data, see models/), run by a
 * small interpreter of the cat language. See README.md and docs/memory-model.md.
 */
export { parseLitmus, findExpectation } from './litmus/parse.js';
export type { LitmusTest, Expectation } from './litmus/ast.js';
export { loadModel, listModels, describeModel, checkedNatives, DEFAULT_MODEL, GRACE_PERIODS, MODELS_DIR, type LoadedModel, type ModelInfo } from './model.js';
export { checkLitmus, CheckTimeout, type LitmusResult, type StateBinding, type Observation, type CheckOptions } from './check.js';
export { judge, type Judgement, type JudgeVerdict } from './judge.js';
export { formatHerd, ignoredWarning, resultJson, unknownWarning } from './format.js';
export { unknownInCondition } from './litmus/names.js';
export { expandLitmusPaths } from './files.js';
export { checkFile, checkFiles, type FileJob, type FileOutcome } from './run.js';
export { deriveLitmus, type DerivedLitmus, type DeriveOptions, type DeriveResult, type PathAccess, type Shape } from './derive.js';
export { judgeDerived, loadScModel, type WeakJudgement, type WeakVerdict } from './weak.js';
