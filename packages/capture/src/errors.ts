/**
 * Errors the machine causes rather than the input: no QEMU, no kernel package, a guest
 * that hangs or panics. The CLI maps `name === 'EnvironmentError'` to exit code 3 and
 * prints `hint` as what to try. Input problems (a bad profile, a rejected probe) throw
 * `InputError` from @kreplay/ftrace-parser instead (exit 2).
 */
export class EnvironmentError extends Error {
  readonly hint?: string;
  readonly exitCode: number = 3;

  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnvironmentError';
    this.hint = hint;
  }
}
