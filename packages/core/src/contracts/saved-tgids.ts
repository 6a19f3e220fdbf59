/**
 * The saved_tgids contract: the thread group of each pid, as the traced kernel's
 * /sys/kernel/tracing/saved_tgids listed it when the trace was taken. A trace.dat carries no
 * thread groups (trace-cmd 3.1.6's file format, trace-cmd.dat(5): no option holds them, and an
 * event's common fields are type, flags, preempt count and pid), while a text trace's `(tgid)`
 * column is the kernel's lookup of the same table at the time the trace is read
 * (trace_print_context → trace_find_tgid, kernel/trace/trace_output.c). `kreplay capture` saves
 * the table beside each trace.dat it keeps, read right after the trace, so replay gives a
 * trace.dat's events the tgid the text trace of the same run prints. docs/trace-format.md.
 *
 * The file is the kernel's (saved_tgids_show, kernel/trace/trace.c: `"%d %d\n"`, pid then tgid,
 * one line per pid recorded): untrusted input, read strictly.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { printable } from '../escape.js';
import { readInputText } from '../text.js';

/** The file's name, as tracefs names it: `kreplay capture` writes it in each run folder holding a trace.dat. */
export const SAVED_TGIDS_FILE = 'saved_tgids';

/** PID_MAX_LIMIT on 64-bit (include/linux/threads.h: 4 * 1024 * 1024): no pid or tgid is larger. */
export const PID_MAX_LIMIT = 4 * 1024 * 1024;

/** The largest file read: one line per possible pid, each `4194304 4194304\n` (16 bytes) at most. */
export const SAVED_TGIDS_MAX_BYTES = PID_MAX_LIMIT * 16;

const HINT =
  'saved_tgids is /sys/kernel/tracing/saved_tgids of the traced kernel (`pid tgid` lines; `kreplay capture` saves it beside each trace.dat): copy it again, or leave it out (a trace.dat then names no thread groups)';

/** Candidate saved_tgids paths for a trace, in the order they are tried: `T.saved_tgids`, then the folder's `saved_tgids`. */
export function savedTgidsCandidates(tracePath: string): string[] {
  return [`${tracePath}.${SAVED_TGIDS_FILE}`, path.join(path.dirname(tracePath), SAVED_TGIDS_FILE)];
}

/** The saved_tgids that belongs to a trace, if any. */
export function findSavedTgids(tracePath: string): string | undefined {
  if (tracePath === '-') return undefined;
  return savedTgidsCandidates(tracePath).find((p) => existsSync(p));
}

/** Parse saved_tgids text: pid → tgid. Every line `PID TGID`, both 1..PID_MAX_LIMIT, each pid once; errors name file:line. */
export function parseSavedTgids(text: string, file: string): Map<number, number> {
  const out = new Map<number, number>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  else if (lines.length > 0) throw new InputError('the last line has no newline: the file is cut short', { file, line: lines.length, hint: HINT });
  const id = (s: string): number | undefined => {
    const n = /^[1-9]\d{0,6}$/.test(s) ? Number(s) : NaN;
    return n <= PID_MAX_LIMIT ? n : undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\d+) (\d+)$/.exec(lines[i]!);
    const pid = m ? id(m[1]!) : undefined;
    const tgid = m ? id(m[2]!) : undefined;
    if (pid === undefined || tgid === undefined) {
      const shown = printable(lines[i]!.slice(0, 60)).replace(/\n/g, '\\n');
      throw new InputError(`not a \`pid tgid\` line (two numbers from 1 to ${PID_MAX_LIMIT}, one space): "${shown}"${lines[i]!.length > 60 ? '…' : ''}`, {
        file,
        line: i + 1,
        hint: HINT,
      });
    }
    const before = out.get(pid);
    if (before !== undefined) throw new InputError(`pid ${pid} is listed twice (tgid ${before}, then ${tgid})`, { file, line: i + 1, hint: HINT });
    out.set(pid, tgid);
  }
  return out;
}

/** Read and parse a saved_tgids file (at most SAVED_TGIDS_MAX_BYTES). */
export async function readSavedTgids(file: string): Promise<Map<number, number>> {
  const size = await stat(file).then(
    (s) => s.size,
    () => undefined,
  );
  if (size !== undefined && size > SAVED_TGIDS_MAX_BYTES)
    throw new InputError(`saved_tgids is ${size} bytes, more than the ${SAVED_TGIDS_MAX_BYTES} a kernel's table can print`, { file, hint: HINT });
  return parseSavedTgids(await readInputText(file, { what: 'saved_tgids', hint: HINT }), file);
}
