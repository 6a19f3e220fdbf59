export * from './state.js';
export * from './env.js';
export * from './program.js';
export { Ctx, ModelBug, staleMappings } from './ctx.js';
export * from './flavor.js';
export * from './scenario.js';
export { createMachine, describeState, type MmMachine } from './model.js';
export { listFlavors, resolveFlavor, builtinFlavors, flavorKit, type FlavorKit } from './registry.js';
export * as kernelLib from './kernel/lib.js';
