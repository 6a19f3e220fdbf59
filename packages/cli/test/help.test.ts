import { describe, expect, it } from '@jest/globals';
import { runCli } from './run-cli.js';

describe('kreplay', () => {
  it('prints its usage and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('kreplay');
  });

  it('rejects an unknown command with a usage error', async () => {
    const r = await runCli(['no-such-command']);
    expect(r.exitCode).toBe(2);
  });
});
