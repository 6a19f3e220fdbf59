/**
 * Base class for every kreplay command. Commands stay thin: they parse flags, call a
 * library function and print its result. Errors a user caused become one clear message
 * on stderr and exit code 2; everything else is a bug and says so.
 *
 * Exit codes (docs/exit-codes.md): 0 clean, 1 findings / violation / regression,
 * 2 usage or input error, 3 environment error (QEMU, kernel, tools missing), 70 internal bug.
 */
import { Command, Errors } from '@oclif/core';
import { isInputError } from '@kreplay/ftrace-parser';

export const EXIT = { clean: 0, findings: 1, input: 2, environment: 3, internal: 70 } as const;

/** An error caused by the machine rather than the input (no QEMU, no KVM, apt failed). */
export function isEnvironmentError(e: unknown): e is Error & { hint?: string } {
  return e instanceof Error && (e as { name?: string }).name === 'EnvironmentError';
}

export abstract class KreplayCommand extends Command {
  /** Write a line to stdout (results). */
  protected out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
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
