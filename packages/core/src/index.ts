/**
 * @kreplay/core: the words every kreplay package speaks, and nothing else. It depends on no
 * other kreplay package; ftrace-parser, mm-model, explore and capture depend on it alone.
 * docs/ARCHITECTURE.md draws the whole map.
 */
export * from './errors.js';
export * from './json.js';
export * from './records.js';
export * from './rules.js';
export * from './mmop.js';
export * from './machine.js';
export * from './probe-map.js';
export * from './args.js';
export * from './document.js';
export * from './text.js';
export * from './output.js';
export * from './escape.js';
export * from './contracts/meta.js';
export * from './contracts/saved-tgids.js';
export * from './contracts/kernel-build.js';
export * from './contracts/explore-trace.js';
export * from './shipped.js';
export * from './debian.js';
export * from './word-table.js';
