import { describe, expect, it } from '@jest/globals';
import { requireTools, run } from '../src/run.js';

describe('tools a kernel build needs', () => {
  it('names every missing tool and the package to install, as an environment error', async () => {
    const err = (await requireTools(['sh', 'kreplay-no-such-tool', 'bison-kreplay-missing'], 'to build a kernel').catch((e: unknown) => e)) as Error & {
      hint?: string;
    };
    expect(err.name).toBe('EnvironmentError');
    expect(err.message).toBe('missing kreplay-no-such-tool, bison-kreplay-missing (needed to build a kernel)');
    expect(err.hint).toMatch(/^install: apt-get install /);
    await expect(requireTools(['sh'], 'x')).resolves.toBeUndefined();
  });

  it('turns a command that is not installed into an environment error, niced or not', async () => {
    await expect(run('kreplay-no-such-tool', [])).rejects.toThrow(
      expect.objectContaining({ name: 'EnvironmentError', message: expect.stringMatching(/kreplay-no-such-tool is not installed/) }),
    );
    await expect(run('kreplay-no-such-tool', [], { nice: 5 })).rejects.toThrow(
      expect.objectContaining({ name: 'EnvironmentError', message: expect.stringMatching(/kreplay-no-such-tool is not installed/) }),
    );
  });

  it('streams output lines and reports the exit code without throwing', async () => {
    const seen: string[] = [];
    const r = await run('sh', ['-c', 'echo one; echo two >&2; exit 3'], { onLine: (l) => seen.push(l) });
    expect(r.exitCode).toBe(3);
    expect([...seen].sort()).toEqual(['one', 'two']);
  });
});
