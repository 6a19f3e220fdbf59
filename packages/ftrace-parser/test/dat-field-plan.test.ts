/**
 * A trace.dat read with a field plan (ParseOptions.fieldPlan) and a FieldsWanted predicate
 * gives the records of a full read, field for field on what the plan keeps: every fixture
 * file and the synthetic one (kprobes, kretprobes, markers), plans and predicates drawn at
 * random per event name. And the filemap tracepoints' `ofs` by plain arithmetic is the
 * kernel's `(index << PAGE_SHIFT) & U64`.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringifyJson, type FieldValue, type TraceRecord } from '@kreplay/core';
import { openTraceBatches, type FieldPlan, type FieldsWanted } from '../src/index.js';
import { offsetOf } from '../src/dat/decode.js';
import { syntheticDat } from './dat-synthetic.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/dat');
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-dat-plan-'));
const synthetic = path.join(tmp, 'synthetic.dat');
writeFileSync(synthetic, syntheticDat());
const files = [
  ...readdirSync(dir)
    .filter((f) => f.endsWith('.dat'))
    .sort()
    .map((f) => path.join(dir, f)),
  path.join(dir, 'qemu-6.1/trace.dat'),
  synthetic,
];
const label = (f: string): string => (f === synthetic ? 'synthetic.dat (dat-synthetic.ts)' : path.relative(path.resolve(dir, '../..'), f));

async function read(file: string, opts: { fields?: boolean | FieldsWanted; fieldPlan?: FieldPlan } = {}): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const b of openTraceBatches(file, opts)) out.push(...b);
  return out;
}

/** A number in [0, 1) from a name and a seed (a plan must answer the same for a name every time). */
function hash(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x9e3779b1);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32;
}

const full = new Map<string, Promise<TraceRecord[]>>();
const fullRead = (file: string) => {
  if (!full.has(file)) full.set(file, read(file));
  return full.get(file)!;
};

describe('a trace.dat read with a field plan', () => {
  it.each(files.map((f) => [label(f), f]))(
    '%s: the same records, and of the fields exactly those the plan keeps',
    async (_name, file) => {
      const all = await fullRead(file);
      const share = fc.integer({ min: 0, max: 100 }).map((k) => k / 100);
      await fc.assert(
        fc.asyncProperty(fc.integer(), share, share, async (seed, declineShare, dropShare) => {
          const want: FieldsWanted = (event) => hash(event, seed) >= declineShare;
          const kept = (event: string, name: string) => hash(`${event}.${name}`, seed) >= dropShare;
          const plan: FieldPlan = (event, _probe, names) => names.filter((n) => kept(event, n));
          const got = await read(file, { fields: want, fieldPlan: plan });
          // the full read's records, each wanted event's fields cut to what the plan keeps (the
          // ftrace events — markers, trace_printk, the function tracer — keep all theirs), a
          // declined event's to none; compared as JSON text, key order included
          const expected = all.map((a) =>
            a.type !== 'event'
              ? a
              : {
                  ...a,
                  fields: !want(a.event, a.probe)
                    ? {}
                    : Object.fromEntries(Object.entries(a.fields).filter(([k]) => a.system === 'ftrace' || kept(a.event, k))),
                },
          );
          expect(stringifyJson(got)).toBe(stringifyJson(expected));
        }),
        { numRuns: 12 },
      );
    },
    240_000,
  ); // qemu-6.1: its kallsyms is parsed on every read

  it('with every field kept, or without a plan, gives every event every field', async () => {
    for (const file of files) {
      const all = await fullRead(file);
      const text = stringifyJson(all);
      expect(stringifyJson(await read(file, { fields: true, fieldPlan: (_e, _p, names) => names }))).toBe(text);
      expect(stringifyJson(await read(file, { fields: () => true }))).toBe(text);
    }
  });
});

describe('ofs of the filemap tracepoints', () => {
  const kernel = (index: FieldValue): number | bigint => {
    const U64 = (1n << 64n) - 1n;
    const b = ((typeof index === 'bigint' ? index : typeof index === 'number' ? BigInt(index) : 0n) << 12n) & U64;
    return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  };

  it('is (index << 12) & U64, narrowed, for any index', () => {
    for (const i of [0, 1, 2 ** 41 - 1, 2 ** 41, 2 ** 41 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40), null, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(offsetOf(i)).toStrictEqual(kernel(i));
    }
    fc.assert(
      fc.property(
        fc.oneof(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        (i) => {
          expect(offsetOf(i)).toStrictEqual(kernel(i));
        },
      ),
    );
  });
});
