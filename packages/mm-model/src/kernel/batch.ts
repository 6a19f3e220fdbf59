/**
 * 6.x folio_batch walking shared by truncate and invalidation: the batch lives in local
 * `batch` (pfns, each with a reference), the cursor in `j`, the next lookup index in `index`.
 */
import type { Ctx } from '../ctx.js';

/** The folio under the batch cursor. */
export function folio(c: Ctx): number {
  return c.list('batch')[c.num('j')]!;
}

/** Next folio of the batch at `nextPc`, or `donePc` once the batch is exhausted. */
export function nextFolio(c: Ctx, nextPc: string, donePc: string): void {
  const j = c.num('j') + 1;
  c.set('j', j);
  c.goto(j < c.list('batch').length ? nextPc : donePc);
}

/** find_get_entries() result: take a reference on each, start the cursor, move `index` past the last. */
export function takeBatch(c: Ctx, batch: number[], nextPc: string): void {
  for (const p of batch) c.ref(p, 1);
  c.set('batch', batch);
  c.set('j', 0);
  c.set('index', c.page(batch[batch.length - 1]!).index + 1);
  c.goto(nextPc);
}
