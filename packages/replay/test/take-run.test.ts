/**
 * replay() takes records in runs (takeRun): from where it stands in a batch up to the next meta
 * record, with the input's timestamps (the last event's, the first and last in time) kept in
 * locals and stored once per run. Where batches and meta records cut the input must not change
 * anything: every fixture trace, with meta records put in among its events, replays the same
 * whatever its batches are, through the reorder window and in input order (InOrder); the state
 * each event changes (the sorter's previous timestamp, the tie group's first item and time, the
 * engine's time, each CPU's last timestamp) lives in boxes made afresh per run, so cutting the
 * runs anywhere exercises them. And Shadow.touch, which finds a page's CPUs by a loop and starts the
 * list as an array of one, keeps the CPUs `includes` and `push` kept.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTraceMeta, readTraceMeta, type TraceRecord } from '@kreplay/core';
import { openTraceBatches } from '@kreplay/ftrace-parser';
import { formatJson, replay } from '../src/index.js';
import { ReorderNeeded } from '../src/order.js';
import { Shadow, type PageRec } from '../src/shadow.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/replay');
const traces = readdirSync(root)
  .map((d) => path.join(root, d, 'trace.txt'))
  .filter((f) => statSync(path.dirname(f)).isDirectory());

async function* batches(records: readonly TraceRecord[], size: number): AsyncGenerator<TraceRecord[]> {
  for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size);
}

describe('records taken in runs between meta records', () => {
  it.each(traces.map((f) => [path.basename(path.dirname(f)), f]))('%s: the same result whatever the batches', async (_name, file) => {
    const metaSource = findTraceMeta(file)!;
    const meta = await readTraceMeta(metaSource);
    const records: TraceRecord[] = [];
    for await (const b of openTraceBatches(file, { source: 'trace.txt' })) records.push(...b);
    // meta records among the events: each ends a run, wherever it falls in a batch
    const mixed: TraceRecord[] = [];
    records.forEach((r, k) => {
      mixed.push(r);
      if (k % 5 === 3) mixed.push({ type: 'meta', key: `note-${k}`, value: k, line: 0, source: 'trace.txt' } as TraceRecord);
    });
    const run = async (size: number) => formatJson(await replay(batches(mixed, size), { source: 'trace.txt', meta, metaSource }), { timing: false });
    const whole = await run(mixed.length);
    for (const size of [1, 2, 3, 7]) expect(await run(size)).toBe(whole);
    // in input order (InOrder, as replayFile replays a file first): its per-run box too, cut anywhere
    const inOrder = async (size: number) => {
      try {
        return formatJson(await replay(batches(mixed, size), { source: 'trace.txt', meta, metaSource, inOrder: true }), { timing: false });
      } catch (e) {
        if (!(e instanceof ReorderNeeded)) throw e;
        return 'reorder needed';
      }
    };
    const ordered = await inOrder(mixed.length);
    if (ordered !== 'reorder needed') expect(ordered).toBe(whole);
    for (const size of [1, 2, 3, 7]) expect(await inOrder(size)).toBe(ordered);
  });
});

describe('Shadow.touch', () => {
  it('keeps the CPUs, in order, and the overflow mark that includes and push kept', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1, max: 80 }), { maxLength: 300 }), (cpus) => {
        const shadow = new Shadow();
        const rec = shadow.newPage(7n, 1, true) as PageRec;
        const want: number[] = [];
        let all = false;
        for (const c of cpus) {
          shadow.touch(rec, c);
          if (want.includes(c)) continue;
          if (want.length < 64) want.push(c);
          else all = true;
        }
        expect(rec.cpus).toEqual(want);
        expect(rec.cpusAll).toBe(all);
      }),
      { numRuns: 300 },
    );
  });
});
