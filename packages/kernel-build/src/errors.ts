/**
 * Errors of `kreplay kernel build`. What the user can fix (a fragment that asks for an
 * option the kernel drops, a patch that does not apply, a tree that does not compile)
 * is an InputError (exit 2); what the machine lacks (a tool, apt, disk) is an
 * EnvironmentError (exit 3). The CLI maps both by `name`.
 */
import { EnvironmentError, InputError, type InputErrorOptions } from '@kreplay/core';

/** A kernel build (or another build step) failed; `quote` holds the lines that say why. */
export class KernelBuildError extends InputError {
  readonly quote: string[];
  readonly logFile?: string;
  constructor(message: string, quote: string[], opts: InputErrorOptions & { logFile?: string } = {}) {
    super(`${message}${quote.length ? `\n${quote.map((l) => `    ${l}`).join('\n')}` : ''}`, opts);
    this.quote = quote;
    this.logFile = opts.logFile;
  }
}

export { EnvironmentError, InputError };
