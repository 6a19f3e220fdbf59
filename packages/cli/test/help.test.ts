import { describe, expect, it } from '@jest/globals';
import { repoRoot, runCli } from './run-cli.js';

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

describe('output to a pipe', () => {
  it('is not cut short, and a reader that leaves early (| head) is not an error', async () => {
    const { execa } = await import('execa');
    const bin = 'node packages/cli/bin/run.js parse traces/truncate-racer/trace.txt.gz --jsonl';
    const whole = await execa('bash', ['-c', `${bin} | wc -l; exit \${PIPESTATUS[0]}`], { cwd: repoRoot, reject: false });
    expect(whole.exitCode).toBe(0);
    expect(Number(String(whole.stdout).trim())).toBeGreaterThan(70000);
    const head = await execa('bash', ['-c', `${bin} | head -1 >/dev/null; exit \${PIPESTATUS[0]}`], { cwd: repoRoot, reject: false });
    expect(head.exitCode).toBe(0);
    expect(String(head.stderr)).not.toContain('internal error');
  });
});

describe('command discovery', () => {
  it('lists every command in src/commands (no stale manifest hides one)', async () => {
    const { readdirSync } = await import('node:fs');
    const path = await import('node:path');
    const dir = path.join(repoRoot, 'packages/cli/src/commands');
    const ids = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, '').split(path.sep).join(' '));
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) {
      const r = await runCli([...id.split(' '), '--help']);
      expect({ id, exitCode: r.exitCode }).toEqual({ id, exitCode: 0 });
      expect(r.stdout).toContain(`kreplay ${id}`);
    }
  });
});

describe('NODE_ENV', () => {
  // under NODE_ENV=development or test, oclif otherwise loads the TypeScript compiler to read the
  // package's tsconfig and tries to run src/*.ts through tsx (0.35 s more per command)
  it.each(['development', 'test'])('=%s: the compiled commands run, no TypeScript source is looked for', async (mode) => {
    const r = await runCli(['diff', '--help'], { env: { NODE_ENV: mode, DEBUG: 'oclif:config:ts-path' } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('enableAutoTranspile is explicitly set to false');
    expect(r.stderr).not.toContain('tsconfig');
  });
});
