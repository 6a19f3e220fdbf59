#!/bin/sh
//usr/bin/env true; case ":$GLIBC_TUNABLES:" in *:glibc.malloc.hugetlb=*) ;; *) export KREPLAY_ADDED_TUNABLE=1 GLIBC_TUNABLES="glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}" ;; esac; exec node "$0" "$@"
// The two lines above are read by sh when kreplay runs as a command (`npx kreplay`, an installed
// `kreplay`, `packages/cli/bin/run.js`); node skips the first and reads the second as a comment.
// They start node with glibc's malloc told to ask the kernel for transparent huge pages
// (madvise(MADV_HUGEPAGE)) for the large blocks it maps: the explorer's visited set, step memo
// and word tables are typed arrays of tens to hundreds of MiB, probed at random, and on 4 KiB
// pages nearly every probe misses the TLB. Measured (docs/explore.md, session 37): no output
// changes; odirect-vs-fault-multipage on linux-6.1 ~11 % less wall time, half the page faults.
// And to keep the memory it frees for its next blocks (mmap_threshold: blocks up to 32 MiB come
// from its heap; trim_threshold: the heap is never given back): the tables grow by doubling, and
// memory the kernel maps afresh costs a page fault per page touched — on this project's build
// machines (Firecracker guests) much more than the copy itself. Measured (docs/explore.md, session
// 41): half the page faults again, no output change.
// A GLIBC_TUNABLES that already says glibc.malloc.hugetlb (`=0` turns this off) is left as it
// is; a user's own setting of the other two wins (it comes after them); `node bin/run.js` starts
// node directly, without any.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config, Errors, flush, run, settings } from '@oclif/core';
import { setFlagsFromString } from 'node:v8';

// kreplay runs its compiled commands (dist/), whatever NODE_ENV says. Under NODE_ENV=development
// or test oclif otherwise reads the package's tsconfig with the TypeScript compiler and tries to
// register tsx, to run src/*.ts instead: +0.35 s on every command (0.53 -> 0.88 s for a small
// `kreplay diff`), and jest sets NODE_ENV=test for every CLI a test spawns.
settings.enableAutoTranspile = false;

// The tunable is read once, as node starts: what kreplay runs (QEMU, trace-cmd, make, a compiler)
// gets the user's GLIBC_TUNABLES back as it was.
if (process.env.KREPLAY_ADDED_TUNABLE) {
  const { userTunables } = await import('../dist/tunables.js');
  const was = userTunables(process.env.GLIBC_TUNABLES);
  if (was === undefined) delete process.env.GLIBC_TUNABLES;
  else process.env.GLIBC_TUNABLES = was;
  delete process.env.KREPLAY_ADDED_TUNABLE;
}

// Replaying a trace.dat, V8 "pretenures" the .dat decoder's short-lived records (moves them
// straight into the old generation: --trace-pretenuring-statistics shows the decisions), and
// old-generation collections then cost about a fifth of the run. Measured on the replay
// bench's 1 M-event trace.dat (docs/replay.md): 6.0-6.3 CPU-s with the heuristic, 4.7-4.8
// without, byte-identical output; text replays and `parse --pretty` unchanged.
setFlagsFromString('--no-allocation-site-pretenuring');

// oclif trusts oclif.manifest.json blindly: a manifest older than a compiled command
// would hide that command or show stale flags. `npm run build` regenerates it; a
// stale one (e.g. after a bare `tsc -b`) is dropped and oclif scans the commands.
const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = join(root, 'oclif.manifest.json');
try {
  const made = statSync(manifest).mtimeMs;
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? newer(join(dir, e.name)) : e.name.endsWith('.js') && statSync(join(dir, e.name)).mtimeMs > made,
    );
  if (newer(join(root, 'dist', 'commands'))) rmSync(manifest, { force: true });
} catch {
  // no manifest (or no dist yet): oclif finds the commands itself
}

// Errors that reach here happened outside a command (commands report their own through
// KreplayCommand.catch): an unknown command is a usage error in the house format (exit 2);
// anything else is a bug and says so (exit 70). Never oclif's own "›   Error:" wording.
// oclif's flush waits for a 'drain' that a failed stdout (`> /dev/full`) never emits.
// oclif's own stdout 'error' listener rethrows (a stack, exit 1): a reader that left (EPIPE)
// is fine, any other failure (`kreplay --help > /dev/full`) is an environment error (exit 3).
const FAILED = Symbol.for('kreplay.stdoutFailed');
process.stdout.removeAllListeners('error');
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE') process[FAILED] ??= e;
});
const stdoutCheck = () => {
  // stdout a file: a write that threw (console.log swallows it: oclif's help) leaves it
  // holding the unwritten text, which a synchronous stream never does otherwise.
  if (!process[FAILED] && process.stdout.constructor.name === 'SyncWriteStream' && process.stdout.writableLength > 0) {
    process[FAILED] = Object.assign(new Error('the write failed'), { code: 'EIO' });
  }
  const e = process[FAILED];
  if (!e || e.code === 'EPIPE') return;
  process.stderr.write(
    `error: cannot write standard output: ${e.code === 'ENOSPC' ? 'the disk is full' : e.message}\n  hint: free some space or write elsewhere\n`,
  );
  process.exit(3);
};
const flushStdout = () =>
  process[Symbol.for('kreplay.stdoutFailed')] || process.stdout.destroyed || process.stdout.errored ? Promise.resolve() : flush().catch(() => undefined);
try {
  await run(process.argv.slice(2), import.meta.url);
  await flushStdout();
  stdoutCheck();
} catch (err) {
  if (err instanceof Errors.ExitError) {
    await flushStdout();
    process.exit(err.oclif.exit);
  }
  const m = /^command (\S+) not found$/.exec(err?.message ?? '');
  if (m) {
    const { unknownCommand } = await import('../dist/usage.js');
    const config = await Config.load(import.meta.url);
    // oclif joins the words after an unknown command into its id (`replya:trace.txt`): name
    // only what was typed as a command (a topic's word and the next: `kernel bild`).
    const ids = config.commands.map((c) => c.id.replace(/:/g, ' '));
    const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
    const typed = ids.some((id) => id.startsWith(`${words[0]} `)) ? words.slice(0, 2).join(' ') : (words[0] ?? m[1]);
    process.stderr.write(`${unknownCommand(typed, ids)}\n`);
    process.exit(2);
  }
  const hint = process.env.KREPLAY_DEBUG
    ? `stack:\n${err?.stack ?? err}`
    : 'this is a bug in kreplay: please report it with the command line (KREPLAY_DEBUG=1 adds the stack to this message)';
  process.stderr.write(`error: internal error in kreplay: ${err?.message ?? err}\n  hint: ${hint}\n`);
  process.exit(70);
}
