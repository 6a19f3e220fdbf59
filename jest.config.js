// One jest run over every package. TypeScript is compiled by swc straight from src/,
// so tests never depend on a stale dist/; the CLI end-to-end tests spawn the built CLI.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/scripts'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    }],
  },
  moduleNameMapper: {
    '^@kreplay/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@kreplay/([a-z-]+)/([a-z-]+)$': '<rootDir>/packages/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60000,
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
  // Tests that need a system tool skip with one summary at the end, or fail under
  // KREPLAY_STRICT_TOOLS=1 (test-support/tools.ts).
  globalSetup: '<rootDir>/test-support/global-setup.js',
  reporters: ['default', '<rootDir>/test-support/skip-reporter.js'],
};
