/**
 * What a side's input names: a trace file, a replay result JSON, or a folder. A folder that
 * holds a trace (`trace.txt`, `trace.txt.gz`, `trace.dat`) is that run; otherwise every
 * trace in the folders below it (up to three levels: `pair/base/odirect-race/run-1/`, what
 * `kreplay capture --runs N` writes) is a run, in name order. A folder that holds a trace
 * *and* runs below it (`capture --out X` then `capture --runs 2 --out X` with an older
 * kreplay) is refused: which of them is the side is the user's call, not a guess.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '@kreplay/core';

const TRACE_NAMES = ['trace.txt', 'trace.txt.gz', 'trace.dat'];

function traceIn(dir: string): string | undefined {
  for (const n of TRACE_NAMES) {
    const p = path.join(dir, n);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Trace files in `dir` and the folders below it (up to `depth` levels), in name order. */
function tracesUnder(dir: string, depth: number): string[] {
  const own = traceIn(dir);
  const below =
    depth === 0
      ? []
      : readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort()
          .flatMap((n) => tracesUnder(path.join(dir, n), depth - 1));
  if (own && below.length) {
    throw new InputError(
      `folder holds a trace and runs below it: ${own} and ${below.length} more (${below.slice(0, 2).join(', ')}${below.length > 2 ? ', …' : ''})`,
      {
        file: dir,
        hint: 'one of them is left over from an earlier capture into the same folder: remove it, or name the runs you mean (--base/--patched per trace)',
      },
    );
  }
  return own ? [own] : below;
}

/** Expand one command-line input into the run inputs it stands for. */
export function expandInput(input: string): string[] {
  if (input === '-') throw new InputError('diff reads files, not stdin', { hint: 'save the trace or replay result to a file first' });
  if (!existsSync(input)) {
    throw new InputError('no such file or folder', { file: input, hint: 'give a trace, a replay result (.json) or a folder of runs' });
  }
  if (!statSync(input).isDirectory()) return [input];
  const runs = tracesUnder(input, 3);
  if (runs.length === 0) {
    throw new InputError('the folder holds no trace', {
      file: input,
      hint: `expected ${TRACE_NAMES.join(' / ')} in it or in the folders below it (one per run)`,
    });
  }
  return runs;
}

/**
 * Every input of one side, expanded. A run named twice (the same file, through two paths or a
 * folder and a file in it) is an input error: it would count as two runs, and two copies of one
 * run agree with each other — a latency shift "every run agrees" on, samples counted twice.
 */
export function expandInputs(inputs: readonly string[]): string[] {
  const runs = inputs.flatMap(expandInput);
  const seen = new Map<string, string>();
  for (const run of runs) {
    const real = realpathSync(run);
    const first = seen.get(real);
    if (first !== undefined) {
      throw new InputError(`one run given twice: ${first === run ? run : `${first} and ${run}`}`, {
        file: run,
        hint: 'a run counts once on a side; for more runs, capture more (kreplay capture --runs N)',
      });
    }
    seen.set(real, run);
  }
  return runs;
}
