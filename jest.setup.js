// Property tests are deterministic: one explicit seed for every fast-check run, so a CI
// failure reproduces locally. Explore another part of the input space with
// KREPLAY_PROP_SEED=<n> npm test (a failure prints its seed and shrunk counterexample).
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.KREPLAY_PROP_SEED ?? 20261125) });
