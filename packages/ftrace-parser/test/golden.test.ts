/**
 * Golden tests: every fixture in fixtures/parser/ (one per input variant, written from the
 * kernel's documented output formats) parses to the records in the .jsonl beside it.
 * Regenerate deliberately with `UPDATE_GOLDEN=1` and review the diff.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTrace, parseTrace, parseTraceString } from '../src/index.js';
import { stringifyJson, type TraceRecord } from '@kreplay/core';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/parser');
const fixtures = readdirSync(dir)
  .filter((f) => !f.endsWith('.jsonl'))
  .sort();
const update = process.env.UPDATE_GOLDEN === '1';

async function collect(it: AsyncIterable<TraceRecord>): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

function jsonl(records: TraceRecord[]): string {
  return records.map((r) => `${stringifyJson(r)}\n`).join('');
}

/** The file's bytes in small chunks, so lines and UTF-8 sequences straddle chunk ends. */
async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('golden fixtures', () => {
  it('has one fixture per variant', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
  });

  for (const name of fixtures) {
    it(`${name} parses to ${name}.jsonl`, async () => {
      const file = path.join(dir, name);
      const records = await collect(openTrace(file, { source: name }));
      const text = jsonl(records);
      const golden = `${file}.jsonl`;
      if (update || !existsSync(golden)) writeFileSync(golden, text);
      expect(text).toBe(readFileSync(golden, 'utf8'));
    });

    it(`${name}: string, stream and 7-byte chunks agree`, async () => {
      const bytes = readFileSync(path.join(dir, name));
      const whole = parseTraceString(bytes.toString('utf8'), { source: name });
      const chunked = await collect(parseTrace(chunks(bytes, 7), { source: name }));
      expect(jsonl(chunked)).toBe(jsonl(whole));
    });
  }
});
