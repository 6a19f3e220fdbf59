/**
 * System tools the tests compare against. A test that needs one runs when it is installed;
 * without it, it is skipped with one clear summary — or fails when KREPLAY_STRICT_TOOLS=1
 * (the CI installs every tool and runs strict).
 */
import { execFileSync } from 'node:child_process';

/** Whether `trace-cmd` runs here (`--version` exits non-zero on some versions but still runs). */
export function hasTraceCmd(): boolean {
  try {
    execFileSync('trace-cmd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as { status?: number }).status !== undefined;
  }
}

export const strictTools = process.env.KREPLAY_STRICT_TOOLS === '1';

/** The title of the one test that stands for the skipped ones, and whether it must fail. */
export function missingTool(tool: string, pkg: string): { title: string; fail: boolean } {
  return strictTools
    ? { title: `${tool} is required (KREPLAY_STRICT_TOOLS=1) but not installed`, fail: true }
    : { title: `SKIPPED — ${tool} is not installed (Debian: apt-get install ${pkg})`, fail: false };
}
