// Jest global setup, in jest's main process before any worker starts, so that every worker (and
// every CLI a test spawns) inherits what it sets:
// - TMPDIR: one fresh folder for the run. Tests make their scratch folders with
//   mkdtemp(os.tmpdir()), and the CLIs they spawn make theirs the same way; test-support/
//   global-teardown.js removes the whole folder when the run ends, so repeated runs do not fill
//   /tmp (before this, every run left its scratch folders behind: 3,761 of them, 1.1 GB, on one
//   build machine after some dozens of runs).
//   KREPLAY_KEEP_TEST_TMP=1 keeps it (its path is printed) to look at a failing test's files.
// - KREPLAY_SKIP_LOG: a file where test-support/tools.ts records each group of tests it skips for
//   a missing tool; test-support/skip-reporter.js prints them as one summary.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function globalSetup() {
  if (!process.env.KREPLAY_TEST_TMP) {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-test-'));
    process.env.KREPLAY_TEST_TMP = dir;
    process.env.TMPDIR = dir;
    // the teardown removes only the folder this run made: a jest a test runs (tool-skips.test.ts)
    // inherits KREPLAY_TEST_TMP and must leave it to the run around it
    globalThis.kreplayTestTmpMade = dir;
  }
  if (!process.env.KREPLAY_SKIP_LOG) {
    process.env.KREPLAY_SKIP_LOG = path.join(mkdtempSync(path.join(tmpdir(), 'kreplay-skips-')), 'skips.jsonl');
    process.env.KREPLAY_SKIP_LOG_MADE = '1';
  }
}
