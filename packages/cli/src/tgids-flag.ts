import { isTraceDatFile } from '@kreplay/core/beside';
import { InputError } from '@kreplay/core/errors';
import { readSavedTgids } from '@kreplay/core/saved-tgids';

/**
 * `--tgids FILE` of `parse` and `replay`: a trace.dat's thread groups, which the file cannot hold. A text
 * trace's groups are its own `(tgid)` column and its decoder never reads the table, so naming one for a
 * text trace (or stdin) is refused rather than silently ignored.
 */
export async function readTgidsFlag(trace: string, tgids: string): Promise<ReadonlyMap<number, number>> {
  if (!(await isTraceDatFile(trace))) {
    throw new InputError(`--tgids ${tgids}: ${trace === '-' ? 'standard input' : trace} is not a trace.dat, so a saved_tgids does not apply`, {
      hint: "a text trace's thread groups are its (tgid) column (capture records it with record-tgid); --tgids is for a trace.dat only",
    });
  }
  return readSavedTgids(tgids);
}
