// Jest global teardown: removes the run's scratch folder (TMPDIR, made by global-setup.js) with
// everything the tests and the CLIs they spawned left in it, unless KREPLAY_KEEP_TEST_TMP=1.
import { rmSync } from 'node:fs';

export default function globalTeardown() {
  // made by this run's global setup (globalThis is shared by the two), not inherited from a run around it
  const dir = globalThis.kreplayTestTmpMade;
  if (!dir) return;
  if (process.env.KREPLAY_KEEP_TEST_TMP === '1') {
    process.stderr.write(`kreplay: the tests' scratch files are kept in ${dir}\n`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}
