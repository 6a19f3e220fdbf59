/**
 * SIGINT/SIGTERM during a long command (capture, ci, explore, kernel build): the first signal
 * aborts the command's AbortSignal, so the library stops its work, kills what it started
 * (QEMU) and removes what it half made (work folders, partial outputs); the command then
 * prints what was done and exits 130 (SIGINT) or 143 (SIGTERM), as a shell reports a command
 * a signal ended. A second signal while that cleanup runs exits at once.
 */

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The abort reason a library sees (`signal.reason`). */
export class Interrupted extends Error {
  constructor(readonly signalName: StopSignal) {
    super(`interrupted by ${signalName}`);
    this.name = 'Interrupted';
  }
}

export const INTERRUPT_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export class Interrupt {
  private readonly controller = new AbortController();
  private readonly handlers: Array<[StopSignal, () => void]> = [];
  received?: StopSignal;

  constructor(onFirst?: (sig: StopSignal) => void) {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const h = (): void => {
        if (this.received) {
          process.stderr.write(`\n${sig} again: exiting now, without cleaning up\n`);
          process.exit(INTERRUPT_EXIT[sig]);
        }
        this.received = sig;
        onFirst?.(sig);
        this.controller.abort(new Interrupted(sig));
      };
      process.on(sig, h);
      this.handlers.push([sig, h]);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stop listening (the command is done). */
  dispose(): void {
    for (const [sig, h] of this.handlers) process.removeListener(sig, h);
    this.handlers.length = 0;
  }
}

export function isInterrupted(e: unknown): e is Interrupted {
  return e instanceof Error && e.name === 'Interrupted';
}
