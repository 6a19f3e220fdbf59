// Jest global setup: a fresh file where test-support/tools.ts records each group of tests
// it skips for a missing tool; test-support/skip-reporter.js prints them as one summary.
// Set here, in jest's main process, before any worker starts, so every worker inherits it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function globalSetup() {
  if (!process.env.KREPLAY_SKIP_LOG) {
    process.env.KREPLAY_SKIP_LOG = path.join(mkdtempSync(path.join(tmpdir(), 'kreplay-skips-')), 'skips.jsonl');
    process.env.KREPLAY_SKIP_LOG_MADE = '1';
  }
}
