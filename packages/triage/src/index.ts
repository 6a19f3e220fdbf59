// @kreplay/triage: kernel bug reports (console splats) to titles, rules and model paths.
export * from './input.js';
export * from './frames.js';
export * from './page-dump.js';
export * from './headers.js';
export * from './helpers.js';
export * from './splat.js';
export * from './title.js';
export * from './report.js';
export * from './paths.js';
export * from './classify.js';
export * from './flavor-choice.js';
export * from './taint.js';
export * from './scenario.js';
export * from './model.js';
export * from './triage.js';
export * from './format.js';
export * from './reproduce.js';
