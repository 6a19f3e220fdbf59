/**
 * bin/run.js as a command (sh reads its first two lines, then execs node on it): node starts with
 * glibc's malloc asking for transparent huge pages (docs/explore.md, session 37), a user's own
 * setting of that tunable wins, and what kreplay runs gets the user's GLIBC_TUNABLES back.
 */
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './run-cli.js';
import { ADDED_TUNABLE, userTunables } from '../src/tunables.js';

const bin = path.join(repoRoot, 'packages/cli/bin/run.js');

// a `node` that says what it was started with
const stubDir = mkdtempSync(path.join(tmpdir(), 'kreplay-launcher-'));
writeFileSync(
  path.join(stubDir, 'node'),
  '#!/bin/sh\nprintf "%s|%s|%s\\n" "${GLIBC_TUNABLES-(unset)}" "${KREPLAY_ADDED_TUNABLE-(unset)}" "$*"\nprintf "%s\\n" "$@"\n',
);
chmodSync(path.join(stubDir, 'node'), 0o755);

async function launch(tunables: string | undefined, args: string[]): Promise<string[]> {
  const env: Record<string, string | undefined> = { PATH: `${stubDir}:${process.env.PATH}`, GLIBC_TUNABLES: tunables, KREPLAY_ADDED_TUNABLE: undefined };
  const r = await execa(bin, args, { env, extendEnv: true, reject: false });
  expect(r.exitCode).toBe(0);
  return String(r.stdout).split('\n');
}

describe('the launcher (bin/run.js run as a command)', () => {
  it('starts node on itself with the huge-page tunable first, the arguments as given', async () => {
    const [line, ...argv] = await launch(undefined, ['explore', 'a b.yaml', '--flavor', "it's"]);
    expect(line).toBe(`${ADDED_TUNABLE}|1|${bin} explore a b.yaml --flavor it's`);
    expect(argv).toEqual([bin, 'explore', 'a b.yaml', '--flavor', "it's"]);
    const [kept] = await launch('glibc.malloc.arena_max=2', ['--version']);
    expect(kept).toBe(`${ADDED_TUNABLE}:glibc.malloc.arena_max=2|1|${bin} --version`);
  });

  it("leaves a GLIBC_TUNABLES that already sets glibc.malloc.hugetlb as the user's (=0 turns huge pages off)", async () => {
    for (const t of ['glibc.malloc.hugetlb=0', 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0', 'glibc.malloc.hugetlb=2']) {
      const [line] = await launch(t, ['--version']);
      expect(line).toBe(`${t}|(unset)|${bin} --version`);
    }
  });

  it('runs the real CLI through sh and node (the two lines are a comment to node)', async () => {
    const r = await execa(bin, ['--version'], { reject: false, env: { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' } });
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/^kreplay\/\d+\.\d+\.\d+ /);
  });
});

describe('userTunables: the GLIBC_TUNABLES the processes kreplay runs get', () => {
  it("is the user's value from before the launcher added its tunable", () => {
    expect(userTunables(ADDED_TUNABLE)).toBeUndefined();
    expect(userTunables(`${ADDED_TUNABLE}:glibc.malloc.arena_max=2`)).toBe('glibc.malloc.arena_max=2');
    expect(userTunables(`${ADDED_TUNABLE}:`)).toBe('');
    expect(userTunables(undefined)).toBeUndefined();
    expect(userTunables('glibc.malloc.arena_max=2')).toBe('glibc.malloc.arena_max=2');
  });
});
