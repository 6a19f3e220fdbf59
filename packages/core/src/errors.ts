/**
 * Errors and exit codes: the one source every package and the CLI use (docs/exit-codes.md).
 *
 * Library packages throw these; only the CLI turns them into a message on stderr and an
 * exit code. What a user can fix (a bad file, a bad flag, a bad scenario) is an InputError
 * (exit 2); what the machine lacks or refuses (no QEMU, a guest that hangs, an output
 * folder that cannot be written) is an EnvironmentError (exit 3).
 */

/** Exit codes shared by every command. */
export const EXIT = {
  /** The job ran and found nothing at or above the threshold. */
  clean: 0,
  /** The job ran and found something (findings, a violation, a regression). */
  findings: 1,
  /** Usage or input error: fix the command line or the input file. */
  input: 2,
  /** Environment error: the machine lacks something the command needs, or refused a write. */
  environment: 3,
  /** A bug in kreplay. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface InputErrorOptions {
  /** File the problem is in. */
  file?: string;
  /** 1-based line in that file. */
  line?: number;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export class InputError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly hint?: string;
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number = EXIT.input;

  constructor(message: string, opts: InputErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'InputError';
    this.file = opts.file;
    this.line = opts.line;
    this.hint = opts.hint;
  }

  /** `file:line: message` followed by the hint on its own line. */
  describe(): string {
    const where = this.file ? `${this.file}${this.line ? `:${this.line}` : ''}: ` : '';
    return `${where}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

/** An error caused by the machine rather than the input: no QEMU, no kernel package, a guest that hangs. */
export class EnvironmentError extends Error {
  readonly hint?: string;
  readonly exitCode: number = EXIT.environment;

  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnvironmentError';
    this.hint = hint;
  }
}

// Recognised by name, not instanceof: a second copy of this module (two installs side by
// side) must still map to the right exit code.
export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && (e as { name?: string }).name === 'InputError';
}

export function isEnvironmentError(e: unknown): e is EnvironmentError {
  return e instanceof Error && (e as { name?: string }).name === 'EnvironmentError';
}
