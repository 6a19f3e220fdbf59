/**
 * Errors and exit codes: the one source every package and the CLI use (docs/exit-codes.md).
 *
 * Library packages throw these; only the CLI turns them into a message on stderr and an
 * exit code. What a user can fix (a bad file, a bad flag, a bad scenario) is an InputError
 * (exit 2); what the machine lacks or refuses (no QEMU, a guest that hangs, an output
 * folder that cannot be written) is an EnvironmentError (exit 3).
 */
import { oneLine } from './escape.js';

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

/**
 * A piece of the user's input, for an error message: quoted, cut to `max` characters (then
 * `…` after the quote), everything outside printable ASCII escaped (`\u{3df}`, JSON's `\u0007`)
 * — a binary file's first line neither floods the terminal nor reaches it as raw bytes.
 */
export function inputExcerpt(text: string, max = 40): string {
  const cut = [...text];
  const shown = cut.length > max ? cut.slice(0, max).join('') : text;
  return JSON.stringify(shown).replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`) + (shown === text ? '' : '…');
}

const READ_WHY: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

/**
 * Why an input file could not be read, in the words every command uses (`no such file`, `it is
 * a folder`, `permission denied`) rather than Node's (`ENOENT: no such file or directory, open
 * 'x'`); another error's own message.
 */
export function readErrorWhy(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined ? READ_WHY[code] : undefined) ?? (e instanceof Error ? e.message : String(e));
}

/** Whether `e` is a failure to open or read an input file that `readErrorWhy` names. */
export function isReadError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && code in READ_WHY;
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
    const where = this.file ? `${oneLine(this.file)}${this.line ? `:${this.line}` : ''}: ` : '';
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

/**
 * The kernel under test failed the job: it printed an oops, a BUG or a hung task while the
 * workload ran, and the workload never said how it ended. A finding about that kernel (exit 1),
 * never the machine's failure (exit 3): a capture on a patched kernel that kills its workload is
 * what the capture was for (packages/capture/README.md, session 41).
 */
export class KernelFailure extends Error {
  readonly hint?: string;
  /**
   * EXIT.findings: the kernel under test failed. EXIT.input ("no verdict could be reached"): the
   * kernel that failed is the one a patch is judged against (`ci`'s base side), which says nothing
   * of the patch.
   */
  readonly exitCode: number;
  /**
   * The guest's console log of the failed boot, when the capture kept it (capture's work folder):
   * `kreplay ci` copies it beside the workload's reports, where a CI job's artifacts keep it.
   */
  consoleLog?: string;

  constructor(message: string, hint?: string, exitCode: typeof EXIT.findings | typeof EXIT.input = EXIT.findings) {
    super(message);
    this.name = 'KernelFailure';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

export function isKernelFailure(e: unknown): e is KernelFailure {
  return e instanceof Error && (e as { name?: string }).name === 'KernelFailure';
}

// Recognised by name, not instanceof: a second copy of this module (two installs side by
// side) must still map to the right exit code.
export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && (e as { name?: string }).name === 'InputError';
}

export function isEnvironmentError(e: unknown): e is EnvironmentError {
  return e instanceof Error && (e as { name?: string }).name === 'EnvironmentError';
}

/**
 * An error as it crosses a thread boundary (a worker's postMessage keeps neither an error's
 * class nor an InputError's file, line and hint): its kind (`name`, by which the CLI tells
 * InputError, EnvironmentError, mm-model's ModelBug and the rest apart), message, stack and
 * those fields.
 */
export interface CarriedError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  line?: number;
  hint?: string;
}

/** `e` as plain data for postMessage (`reviveError` makes it an error again on the other side). */
export function carryError(e: unknown): CarriedError {
  // by shape, not instanceof Error: a worker's errors, or a jest vm context's, come from another realm
  if (typeof e !== 'object' || e === null || typeof (e as Error).message !== 'string') return { name: 'Error', message: String(e) };
  const err = e as Error & { file?: unknown; line?: unknown; hint?: unknown };
  const c: CarriedError = { name: typeof err.name === 'string' ? err.name : 'Error', message: err.message };
  if (typeof err.stack === 'string') c.stack = err.stack;
  if (typeof err.file === 'string') c.file = err.file;
  if (typeof err.line === 'number') c.line = err.line;
  if (typeof err.hint === 'string') c.hint = err.hint;
  return c;
}

const STANDARD_ERRORS: Record<string, new (message: string) => Error> = { TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError };

/**
 * The error `carryError` carried, of the same kind: an InputError or EnvironmentError again
 * (with its file, line and hint), a built-in error class by its name, any other (a ModelBug)
 * an Error with its name; the stack is the thread's where it was thrown.
 */
export function reviveError(c: CarriedError): Error {
  let e: Error;
  if (c.name === 'InputError') e = new InputError(c.message, { file: c.file, line: c.line, hint: c.hint });
  else if (c.name === 'EnvironmentError') e = new EnvironmentError(c.message, c.hint);
  else {
    const Std = Object.hasOwn(STANDARD_ERRORS, c.name) ? STANDARD_ERRORS[c.name]! : Error;
    e = new Std(c.message);
    if (e.name !== c.name) e.name = c.name;
  }
  if (c.stack !== undefined) e.stack = c.stack;
  return e;
}
