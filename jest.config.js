// One jest run over every package. TypeScript is compiled by swc straight from src/,
// so tests never depend on a stale dist/; the CLI end-to-end tests spawn the built CLI.
// test-support/swc-transform.cjs wraps @swc/jest: it binds the built-in globals once per module,
// which jest's vm context would otherwise look up slowly on every use.
import { availableParallelism } from 'node:os';

export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/scripts'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '<rootDir>/test-support/swc-transform.cjs',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: {
    '^@kreplay/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@kreplay/([a-z-]+)/([a-z-]+)$': '<rootDir>/packages/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60000,
  // Two test files at a time on a 2-core machine, where jest's default (cores - 1) is one, in band.
  // In band the suite keeps 1.2 cores busy (a suite is one core's search or one CLI child at a time),
  // so a second worker uses the idle rest. Measured 2026-12-03 on 2 cores (DEVELOPERS.md, "Test suite
  // time"), four suites, least of 2: 77.2 s in band, 50.5 s with two workers on an otherwise idle
  // machine; 78.2 / 74.4 s beside another job's benchmarks. The whole suite passes with two
  // workers at load 6-7, the slowest test (derive.test.ts's multipage pin, 190 s there) within its
  // own 300 s timeout. Larger machines keep jest's default.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
  // Tests that need a system tool skip with one summary at the end, or fail under
  // KREPLAY_STRICT_TOOLS=1 (test-support/tools.ts).
  globalSetup: '<rootDir>/test-support/global-setup.js',
  globalTeardown: '<rootDir>/test-support/global-teardown.js',
  reporters: ['default', '<rootDir>/test-support/skip-reporter.js'],
};
