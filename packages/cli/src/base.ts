/**
 * Base class for every kreplay command. Commands stay thin: they parse flags, call a
 * library function and print its result. Errors a user caused become one clear message
 * on stderr and exit code 2; everything else is a bug and says so.
 *
 * Exit codes (docs/exit-codes.md): 0 clean, 1 findings / violation / regression,
 * 2 usage or input error, 3 environment error (QEMU, kernel, tools missing, an output that
 * cannot be written), 70 internal bug; 130/143 when SIGINT/SIGTERM stopped the command.
 */
import { Command, Errors } from '@oclif/core';
// leaf modules, not the index (which loads zod and yaml): every command starts through here
import { EnvironmentError, EXIT, isEnvironmentError, isInputError, isKernelFailure } from '@kreplay/core/errors';
import { stringifyJson } from '@kreplay/core/json';
import { printable } from '@kreplay/core/escape';
import { drainedOrGone, outputError, WRITE_ERROR_CODES, writeFileAtomic } from '@kreplay/core/output';
import { Interrupt, INTERRUPT_EXIT } from './interrupt.js';
import { Progress } from './progress.js';
import { formatUsage, usageProblem } from './usage.js';

export { EXIT };

/** A ci run's (or merged ci shards') exit code: 1 on a regression, else 2 when a workload is inconclusive, else 0 (docs/exit-codes.md). */
export function ciExitCode(result: { verdict: 'regression' | 'no-regression' | 'inconclusive' }): number {
  return result.verdict === 'regression' ? EXIT.findings : result.verdict === 'inconclusive' ? EXIT.input : EXIT.clean;
}

/** Set on `process` once a write to stdout failed (bin/run.js reads it: no flush then). */
export const STDOUT_FAILED = Symbol.for('kreplay.stdoutFailed');

function stdoutFailed(e: Error): void {
  (process as unknown as Record<symbol, Error>)[STDOUT_FAILED] ??= e;
}

/** A failed write to stdout (`> /dev/full`) is an environment error; a reader that left (EPIPE) is not an error. */
function stdoutError(e: NodeJS.ErrnoException): EnvironmentError {
  return outputError('standard output', e);
}

/**
 * Write to stdout and resolve once the text is handed to the OS. A pipe takes large writes
 * asynchronously, so this is what keeps output from being cut when the command exits.
 * A reader that went away (`| head`) is not an error.
 */
export function writeStdout(text: string): Promise<void> {
  // A stream that already failed buffers writes forever and never calls back: say so now.
  const failed =
    (process as unknown as Record<symbol, NodeJS.ErrnoException | undefined>)[STDOUT_FAILED] ?? (process.stdout.errored as NodeJS.ErrnoException | null);
  if (failed) return failed.code === 'EPIPE' ? Promise.resolve() : Promise.reject(stdoutError(failed));
  if (process.stdout.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (e?: Error | null): void => {
      process.stdout.off('error', done);
      if (e && (e as NodeJS.ErrnoException).code !== 'EPIPE') {
        // Nothing more can be written (and a stdio stream cannot be destroyed): later writes,
        // and bin/run.js's flush, which would wait for a 'drain' that never comes, skip it.
        stdoutFailed(e);
        reject(stdoutError(e));
      } else {
        resolve();
      }
    };
    process.stdout.on('error', done);
    try {
      process.stdout.write(text, done);
    } catch (e) {
      done(e as Error); // the write failed synchronously
    }
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
  await drainedOrGone(out);
  return !out.destroyed;
}

export abstract class KreplayCommand extends Command {
  /** A write to stdout that failed (not EPIPE): reported once the command has run. */
  private stdoutFailure?: NodeJS.ErrnoException;
  /** An error was reported (catch): finally() adds no second one. */
  private reported = false;
  private interruptHandler?: Interrupt;
  private progressShown?: Progress;

  /**
   * Write a line to stdout (results). Flushed before the command exits (see `finally`). Its
   * control characters (a file name's, a guest console's text) are shown as \xNN, not acted on;
   * JSON passes unchanged (stringifyJson escapes them).
   */
  protected out(text: string): void {
    const shown = printable(text);
    process.stdout.write(shown.endsWith('\n') ? shown : `${shown}\n`);
  }

  /**
   * The result of a command: written to `file` atomically (temp name + rename; a failure is
   * exit 3 naming the file), or to stdout when no file is given.
   */
  protected async emit(text: string, file: string | undefined): Promise<void> {
    if (file) await writeFileAtomic(file, text);
    else await writeStdout(text);
  }

  /**
   * SIGINT/SIGTERM abort the returned signal instead of killing the process: pass it to the
   * library, which stops and cleans up; the command then exits 130/143 (see catch()).
   */
  protected interruptible(): AbortSignal {
    this.interruptHandler ??= new Interrupt((sig) => {
      this.progressShown?.line(`${sig}: stopping, cleaning up ... (${sig} again exits at once)`);
    });
    return this.interruptHandler.signal;
  }

  /**
   * The exit code of a signal that stopped a command which prints what it did before it stops
   * (`explore` prints the search so far): 130 for SIGINT, 143 for SIGTERM; undefined when none came.
   */
  protected interruptedExit(): number | undefined {
    const sig = this.interruptHandler?.received;
    return sig ? INTERRUPT_EXIT[sig] : undefined;
  }

  /**
   * Progress on stderr: a redrawn line on a terminal, periodic plain lines in CI logs and
   * pipes (`eager`: every step too, for the long jobs).
   */
  protected progress(eager = false): Progress {
    this.progressShown ??= new Progress({ label: `kreplay ${this.id?.replace(/:/g, ' ') ?? ''}`.trim(), eager });
    return this.progressShown;
  }

  override async init(): Promise<void> {
    // `kreplay ... | head`: the reader closing early is the reader's choice, not our error.
    // Any other failure (`> /dev/full`) is reported once the command has run. oclif's own
    // listener rethrows such an error as an uncaught exception (a stack, exit 1): replaced.
    process.stdout.removeAllListeners('error');
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') {
        this.stdoutFailure ??= e;
        stdoutFailed(e);
      }
    });
    await super.init();
  }

  /** Runs after run()/catch(), before oclif exits the process: let queued stdout drain first. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.progressShown?.done();
    this.interruptHandler?.dispose();
    try {
      await writeStdout('');
    } catch (e) {
      this.stdoutFailure ??= (e as EnvironmentError).cause as NodeJS.ErrnoException;
    }
    if (this.stdoutFailure && !this.reported && !(err instanceof Errors.ExitError && err.oclif.exit !== EXIT.clean && err.oclif.exit !== EXIT.findings)) {
      const e = stdoutError(this.stdoutFailure);
      this.stdoutFailure = undefined;
      this.note(`error: ${e.message}\n  hint: ${e.hint}`);
      this.exit(EXIT.environment);
    }
    return super.finally(err);
  }

  /** Write a line to stderr (diagnostics, progress): warnings quote input, so its control characters are shown as \xNN. */
  protected note(text: string): void {
    const shown = printable(text);
    process.stderr.write(shown.endsWith('\n') ? shown : `${shown}\n`);
  }

  /**
   * Report an error and exit: the house format on stderr (what, where, `hint:`), and with
   * --json also one object on stdout, `{"error": {kind, exit, message, file?, line?, hint?}}`,
   * so that a script reading the JSON result reads an error as JSON too.
   */
  private fail(exit: number, kind: string, text: string, fields: { message: string; file?: string; line?: number; hint?: string }): never {
    this.reported = true;
    this.note(text);
    if (this.argv.includes('--json') && !this.stdoutFailure) {
      const error = {
        kind,
        exit,
        message: fields.message,
        ...(fields.file ? { file: fields.file } : {}),
        ...(fields.line ? { line: fields.line } : {}),
        ...(fields.hint ? { hint: fields.hint } : {}),
      };
      process.stdout.write(`${stringifyJson({ error }, 2)}\n`);
    }
    return this.exit(exit);
  }

  protected override async catch(error: unknown): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    this.progressShown?.done();
    const id = this.id?.replace(/:/g, ' ') ?? '';
    // A signal stopped the command: whatever the library threw on its way out, say so.
    const sig = this.interruptHandler?.received;
    if (sig) {
      const message = `kreplay ${id}: interrupted by ${sig}; stopped and cleaned up (exit ${INTERRUPT_EXIT[sig]})`;
      return this.fail(INTERRUPT_EXIT[sig], 'interrupted', message, { message });
    }
    if (isInputError(error)) {
      return this.fail(EXIT.input, 'input', `error: ${error.describe()}`, { message: error.message, file: error.file, line: error.line, hint: error.hint });
    }
    // the kernel under test failed the job: a finding about that kernel, not the machine's failure
    if (isKernelFailure(error)) {
      return this.fail(
        error.exitCode === EXIT.input ? EXIT.input : EXIT.findings,
        'kernel',
        `error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`,
        {
          message: error.message,
          hint: error.hint,
        },
      );
    }
    if (isEnvironmentError(error)) {
      return this.fail(EXIT.environment, 'environment', `error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`, {
        message: error.message,
        hint: error.hint,
      });
    }
    const err = error instanceof Error ? error : new Error(String(error));
    // oclif's own flag/argument errors are usage errors: exit 2, in the house format.
    if (err instanceof Errors.CLIError || (err as { oclif?: unknown }).oclif) {
      const p = usageProblem(err, id, this.ctor);
      return this.fail(EXIT.input, 'usage', formatUsage(p, id), { message: p.what, hint: p.hint });
    }
    // A write that failed on a full or read-only disk, from a path not routed through
    // core's output helpers: still the machine's doing, not a bug.
    const code = (err as NodeJS.ErrnoException).code;
    if (code && WRITE_ERROR_CODES.has(code)) {
      const e = outputError((err as NodeJS.ErrnoException).path ?? 'an output', err);
      return this.fail(EXIT.environment, 'environment', `error: ${e.message}\n  hint: ${e.hint}`, { message: e.message, hint: e.hint });
    }
    // A bug: say so, without a stack a user has to read (KREPLAY_DEBUG=1 prints it for the report).
    const message = `internal error in kreplay ${id}: ${err.message}`;
    const hint = process.env.KREPLAY_DEBUG
      ? `stack:\n${err.stack ?? ''}`
      : 'this is a bug in kreplay: please report it with the command line (KREPLAY_DEBUG=1 adds the stack to this message)';
    return this.fail(EXIT.internal, 'internal', `error: ${message}\n  hint: ${hint}`, { message, hint });
  }
}
