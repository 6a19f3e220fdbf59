/**
 * Replay reads a trace.dat through a field plan (config.fieldPlan: the trace.dat decoder
 * decodes only the fields replay reads). What replay makes of a trace must not depend on
 * it: every shipped trace.dat replays to the same JSON as from records with every field,
 * the plan keeps what the probe maps and the markers read, and a cited event's summary
 * reads no field the plan leaves out.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTraceMeta, readTraceMeta, type FieldValue, type Fields, type TraceEvent } from '@kreplay/core';
import { openTraceBatches } from '@kreplay/ftrace-parser';
import { summarize, summaryFields } from '../src/cite.js';
import { resolveReplayConfig } from '../src/config.js';
import { citeVerbatim, formatJson, replay, replayFile } from '../src/index.js';
import type { ReplayOptions } from '../src/types.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/dat');
const dats = [
  ...readdirSync(fixtures)
    .filter((f) => f.endsWith('.dat'))
    .sort()
    .map((f) => path.join(fixtures, f)),
  path.join(fixtures, 'qemu-6.1/trace.dat'),
];

describe('replay through the field plan', () => {
  it.each(dats.map((f) => [path.relative(fixtures, f), f]))('%s replays as from records with every field', async (_name, file) => {
    const planned = formatJson(await replayFile(file), { timing: false });
    const metaSource = findTraceMeta(file);
    const o: ReplayOptions = { source: file, ...(metaSource ? { meta: await readTraceMeta(metaSource), metaSource } : {}) };
    const r = await replay(openTraceBatches(file, { source: file, fields: true }), o);
    await citeVerbatim(file, r.findings);
    expect(planned).toBe(formatJson(r, { timing: false }));
  });

  it('keeps the fields a probe map reads (alternatives too), buf, and what a summary prints, in their order', async () => {
    const config = await resolveReplayConfig({ kernel: 'linux-6.1' });
    // mm_filemap_add_to_page_cache: the map reads dev, ino, pfn, ofs, order; nothing reads index
    expect(config.fieldPlan('mm_filemap_add_to_page_cache', undefined, ['dev', 'ino', 'pfn', 'ofs', 'index', 'order'])).toEqual([
      'dev',
      'ino',
      'pfn',
      'ofs',
      'order',
    ]);
    // page_remove_rmap reads `page` or else `arg1`; a summary prints the first six fields
    const names = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'arg1', 'page', 'buf'];
    expect(config.fieldPlan('p_page_remove_rmap_0', { kind: 'kprobe', func: 'page_remove_rmap' }, names)).toEqual([
      'x1',
      'x2',
      'x3',
      'x4',
      'x5',
      'x6',
      'arg1',
      'page',
      'buf',
    ]);
    // an event no map knows (replay never asks: it declines them) keeps what a summary prints
    expect(config.fieldPlan('sched_switch', undefined, ['prev_comm', 'prev_pid', 'a', 'b', 'c', 'd', 'e'])).toEqual([
      'prev_comm',
      'prev_pid',
      'a',
      'b',
      'c',
      'd',
    ]);
  });

  it('summarize reads only the fields summaryFields names', () => {
    const name = fc.constantFrom('dev', 'ino', 'pfn', 'ofs', 'index', 'order', 'buf', 'page', 'a', 'b', 'c', 'd', 'e', 'f', 'g');
    const value: fc.Arbitrary<FieldValue> = fc.oneof(fc.integer(), fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.string(), fc.constant(null));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([k]) => k, maxLength: 12 }), fc.boolean(), (pairs, probe) => {
        const fields: Fields = Object.fromEntries(pairs);
        const keep = new Set(summaryFields(Object.keys(fields)));
        const ev = (f: Fields): TraceEvent => ({
          type: 'event',
          ts: 1n,
          cpu: 0,
          pid: 1,
          comm: 'x',
          flags: '....',
          event: 'e',
          system: 's',
          fields: f,
          line: 1,
          source: 't',
          ...(probe ? { probe: { kind: 'kprobe' as const, func: 'f' } } : {}),
        });
        expect(summarize(ev(Object.fromEntries(pairs.filter(([k]) => keep.has(k)))))).toBe(summarize(ev(fields)));
      }),
      { numRuns: 2000 },
    );
  });
});
