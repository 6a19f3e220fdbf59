/**
 * @kreplay/kernel-build — `kreplay kernel build`: build a kernel from Debian's or a user's
 * source, with config fragments verified and patches applied, cached by identity (see
 * kernel-build.ts). Its output folder's result.json is a file contract in @kreplay/core (contracts/kernel-build.ts),
 * which is how capture boots a build without depending on this package.
 */
export {
  buildKernel,
  localVersion,
  type BuildPhase,
  type BuildProgress,
  type KernelBuildFiles,
  type KernelBuildOptions,
  type KernelBuildResult,
} from './kernel-build.js';
export {
  parseConfigFragment,
  effectiveRequests,
  mergeConfig,
  parseDotConfig,
  findLostOptions,
  describeActual,
  formatAssignment,
  type ConfigFragment,
  type ConfigRequest,
  type KconfigValue,
  type LostOption,
} from './config.js';
export { scanKconfig, findDefinitions, explainLoss, unmetSymbols, type KconfigDefinition } from './kconfig.js';
export { readPatch, reconcilePatches, readApplied, patchFailureLines, type PatchFile, type AppliedPatch } from './patches.js';
export {
  buildKey,
  treeKey,
  buildMeta,
  canonicalJson,
  sha256,
  type BaseConfig,
  type BuildIdentity,
  type BuildMeta,
  type HashedInput,
  type SourceIdentity,
} from './identity.js';
export { PROBED_FIELDS, offsetsSource, parseOffsetsAsm, compileCommandFrom, deriveOffsets, type BuildOffsetsTable, type OffsetsMarkers } from './offsetof.js';
export { parseKbuildStep, isCompileStep, summarizeBuildFailure, type BuildFailure } from './kbuild-output.js';
export { cacheRoot, kernelVersionFromMakefile, fingerprintTree, parseDebianSource, resolveDebianSource, DEBIAN_SOURCE_PACKAGE } from './source.js';
export { KernelBuildError } from './errors.js';
