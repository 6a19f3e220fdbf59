/**
 * Text that must stay one line wherever an output prints it: a kernel release, a trace clock, a
 * workload's name and counters (meta.json), a cited trace line, a comm, a file key (replay JSON).
 * The text outputs escape control characters (core `printable`) but keep a newline, since their
 * lines are their own; a newline inside such a value would start a line of the file's choosing,
 * and on a CI runner's log `::error::…` or `::add-mask::…` at the start of a line is a workflow
 * command. One schema for every reader, so that meta.json and replay JSON cannot drift.
 *
 * A carriage return is not refused: no output prints it as one. `printable` writes it `\x0d`
 * (the text, diff, report, KTAP and ci summary formats), the GitHub annotations `%0D`
 * (report github.ts), JSON `\r`. And replay JSON holds it where the trace did: a comm is any
 * 15 bytes but NUL (prctl PR_SET_NAME, kernel/sys.c; a trace.dat keeps them as they are), so
 * refusing it would make `kreplay diff` refuse replay's own output (result-json-loose.test.ts
 * reads such a comm back).
 */
import { z } from 'zod';

/** Whether `s` holds a newline, the one line break the outputs print as one. */
export function hasLineBreak(s: string): boolean {
  return s.includes('\n');
}

/** The message of a value with a newline: `writer` names what writes such files (`kreplay capture`). */
export function oneLineMessage(writer: string): string {
  return `one line of text (a line break here was never written by ${writer})`;
}

/** A zod string of one line (no newline; see above for `\r`); `writer` as in oneLineMessage. */
export function oneLineText(writer: string): z.ZodString {
  return z.string().regex(/^[^\n]*$/, oneLineMessage(writer));
}
