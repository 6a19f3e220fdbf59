#!/usr/bin/env node
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execute } from '@oclif/core';

// oclif trusts oclif.manifest.json blindly: a manifest older than a compiled command
// would hide that command or show stale flags. `npm run build` regenerates it; a
// stale one (e.g. after a bare `tsc -b`) is dropped and oclif scans the commands.
const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = join(root, 'oclif.manifest.json');
try {
  const made = statSync(manifest).mtimeMs;
  const newer = (dir) => readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? newer(join(dir, e.name)) : e.name.endsWith('.js') && statSync(join(dir, e.name)).mtimeMs > made);
  if (newer(join(root, 'dist', 'commands'))) rmSync(manifest, { force: true });
} catch {
  // no manifest (or no dist yet): oclif finds the commands itself
}

await execute({ dir: import.meta.url });
