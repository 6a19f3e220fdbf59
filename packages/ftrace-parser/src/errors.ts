/**
 * Errors a user can cause (a bad file, a bad flag, a bad scenario). Library packages throw
 * these; only the CLI turns them into messages and exit codes (2 for input errors).
 */
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
  readonly exitCode: number = 2;

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

export function isInputError(e: unknown): e is InputError {
  return e instanceof Error && (e as { name?: string }).name === 'InputError';
}
