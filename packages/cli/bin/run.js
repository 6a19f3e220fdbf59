#!/usr/bin/env node
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config, Errors, flush, run } from '@oclif/core';

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

// Errors that reach here happened outside a command (commands report their own through
// KreplayCommand.catch): an unknown command is a usage error in the house format (exit 2);
// anything else is a bug and says so (exit 70). Never oclif's own "›   Error:" wording.
try {
  await run(process.argv.slice(2), import.meta.url);
  await flush();
} catch (err) {
  if (err instanceof Errors.ExitError) {
    await flush().catch(() => undefined);
    process.exit(err.oclif.exit);
  }
  const m = /^command (\S+) not found$/.exec(err?.message ?? '');
  if (m) {
    const { unknownCommand } = await import('../dist/usage.js');
    const config = await Config.load(import.meta.url);
    process.stderr.write(`${unknownCommand(m[1], config.commands.map((c) => c.id.replace(/:/g, ' ')))}\n`);
    process.exit(2);
  }
  process.stderr.write(`internal error (a bug in kreplay, please report it with the command line): ${err?.stack ?? err}\n`);
  process.exit(70);
}
