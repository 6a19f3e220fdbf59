/**
 * trace.dat (trace-cmd binary) reader. Placeholder until the binary reader lands: it says
 * what the file is and how to turn it into text kreplay reads today.
 */
import { InputError } from '../errors.js';
import type { ParseOptions } from '../stream.js';
import type { TraceRecord } from '../types.js';

// eslint-disable-next-line require-yield
export async function* readTraceDat(path: string, opts?: ParseOptions): AsyncIterable<TraceRecord> {
  void opts;
  throw new InputError('this looks like a trace.dat (trace-cmd binary); reading it directly is not supported yet', {
    file: path,
    hint: `convert it with \`trace-cmd report -t -R -i ${path} > trace.txt\` and give kreplay trace.txt`,
  });
}
