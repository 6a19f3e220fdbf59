/**
 * Base class for every kreplay command. Commands stay thin: they parse flags, call a
 * library function and print its result. Errors a user caused become one clear message
 * on stderr and exit code 2; everything else is a bug and says so.
 *
 * Exit codes (docs/exit-codes.md): 0 clean, 1 findings / violation / regression,
 * 2 usage or input error, 3 environment error (QEMU, kernel, tools missing), 70 internal bug.
 */
import { Command, Errors } from '@oclif/core';
import { EXIT, isEnvironmentError, isInputError } from '@kreplay/core';

export { EXIT };

/**
 * Write to stdout and resolve once the text is handed to the OS. A pipe takes large writes
 * asynchronously, so this is what keeps output from being cut when the command exits.
 * A reader that went away (`| head`) is not an error.
 */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error | null): void => {
      process.stdout.off('error', done);
      if (e && (e as NodeJS.ErrnoException).code !== 'EPIPE') reject(e);
      else resolve();
    };
    process.stdout.on('error', done);
    process.stdout.write(text, done);
  });
}

/**
 * Streaming output: write a chunk, waiting for a full pipe to drain. Resolves false once the
 * reader has gone away (`| head`), so the caller can stop producing instead of hanging.
 */
export async function writeStdoutChunk(text: string | Uint8Array): Promise<boolean> {
  const out = process.stdout;
  if (out.destroyed) return false;
  if (out.write(text)) return true;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('error', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
    out.on('close', done);
  });
  return !out.destroyed;
}

export abstract class KreplayCommand extends Command {
  /** Write a line to stdout (results). Flushed before the command exits (see `finally`). */
  protected out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  override async init(): Promise<void> {
    // `kreplay ... | head`: the reader closing early is the reader's choice, not our error.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
    await super.init();
  }

  /** Runs after run()/catch(), before oclif exits the process: let queued stdout drain first. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    await writeStdout('');
    return super.finally(err);
  }

  /** Write a line to stderr (diagnostics, progress). */
  protected note(text: string): void {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  protected override async catch(error: unknown): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    if (isInputError(error)) {
      this.note(`error: ${error.describe()}`);
      return this.exit(EXIT.input);
    }
    if (isEnvironmentError(error)) {
      this.note(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`);
      return this.exit(EXIT.environment);
    }
    const err = error instanceof Error ? error : new Error(String(error));
    // oclif's own flag/argument errors are usage errors: exit 2.
    if (err instanceof Errors.CLIError || (err as { oclif?: unknown }).oclif) {
      this.note(`error: ${err.message}\n  see: kreplay ${this.id ?? ''} --help`);
      return this.exit(EXIT.input);
    }
    this.note(`internal error (a bug in kreplay, please report it): ${err.stack ?? err.message}`);
    return this.exit(EXIT.internal);
  }
}
