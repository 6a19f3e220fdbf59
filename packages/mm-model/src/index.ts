export * from './rules.js';
export * from './mmop.js';
export * from './machine.js';
export * from './probe-map.js';
