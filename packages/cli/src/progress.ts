/**
 * Progress on stderr, for every long command. On a terminal: one status line, redrawn (and
 * redrawn every second so the clock moves during a long quiet phase). Anywhere else (a CI
 * log, a pipe, CI=true): plain lines — each `step` (a new phase) as it happens for the long
 * jobs (capture, ci, kernel build: `eager`), and for every command, at least every
 * KREPLAY_PROGRESS_SECONDS (default 15) of work, a line with the elapsed time and the current
 * status, so a CI log is never silent for minutes while a guest boots or a big trace replays.
 * A command that finishes quickly prints nothing.
 */

export interface ProgressOptions {
  /** Prefix of plain lines: `kreplay capture`. */
  label: string;
  /** Force terminal (true) or plain (false) mode; default: stderr is a TTY and CI is unset. */
  tty?: boolean;
  /** Seconds between plain heartbeat lines (default KREPLAY_PROGRESS_SECONDS or 15). */
  everySeconds?: number;
  /** Plain mode: print each step as it happens (long jobs), not only the heartbeat. */
  eager?: boolean;
  write?: (text: string) => void;
}

export function progressSeconds(): number {
  const v = Number(process.env.KREPLAY_PROGRESS_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : 15;
}

export class Progress {
  readonly tty: boolean;
  private readonly t0 = Date.now();
  private readonly write: (text: string) => void;
  private readonly everyMs: number;
  private status = '';
  private lastPlain = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: ProgressOptions) {
    this.tty = opts.tty ?? (process.stderr.isTTY === true && !process.env.CI);
    this.write =
      opts.write ??
      ((t) => {
        process.stderr.write(t);
      });
    this.everyMs = (opts.everySeconds ?? progressSeconds()) * 1000;
    this.timer = setInterval(() => this.tick(), this.tty ? 1000 : Math.min(this.everyMs, 1000));
    this.timer.unref();
  }

  private elapsed(): string {
    return `${((Date.now() - this.t0) / 1000).toFixed(1)}s`;
  }

  private draw(): void {
    const width = (process.stderr.columns || 120) - 12;
    const text = this.status.length > width ? `${this.status.slice(0, width - 3)}...` : this.status;
    this.write(`\r\x1b[K${this.elapsed().padStart(7)} ${text}`);
    this.drawn = true;
    this.lastDraw = Date.now();
  }

  private plain(text: string): void {
    this.write(`[${this.opts.label} ${this.elapsed().padStart(7)}] ${text}\n`);
    this.lastPlain = Date.now();
  }

  private tick(): void {
    if (!this.status) return;
    if (this.tty) this.draw();
    else if (Date.now() - this.lastPlain >= this.everyMs) this.plain(`${this.status} (still working)`);
  }

  /** A new phase: shown now in both modes. */
  step(text: string): void {
    this.status = text;
    if (this.tty) this.draw();
    else if (this.opts.eager) this.plain(text);
  }

  /** A frequent update within a phase (a count): redrawn on a terminal, in the next heartbeat otherwise. */
  update(text: string): void {
    this.status = text;
    if (this.tty && Date.now() - this.lastDraw >= 100) this.draw();
  }

  /** A lasting line (a finished item), above the status line on a terminal. */
  line(text: string): void {
    if (this.tty) {
      this.write(`\r\x1b[K${text}\n`);
      this.drawn = false;
      if (this.status) this.draw();
    } else {
      this.plain(text);
    }
  }

  /** Clear the status line and stop the clock. */
  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && this.drawn) this.write('\r\x1b[K');
    this.drawn = false;
    this.status = '';
  }
}
