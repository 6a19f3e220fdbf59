/**
 * The rendered view's compiled plans (print-fmt-compile.ts) against the evaluator that walks
 * the parsed print fmt per record (print-fmt-eval.ts, what trace_printk records still use):
 * for every event format in real trace.dat files — thousands of kernel print fmts, 64-bit
 * and 32-bit, x86 and ARM, with the synthetic flag/symbol/conditional formats — random
 * payloads (short ones, string bytes, `__data_loc` words that point inside and outside the
 * record) print the same bytes both ways, or fail both ways.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ByteSink } from '../src/dat/byte-sink.js';
import { readContainer } from '../src/dat/container.js';
import { parseEventFormat, PayloadReader, type EventFormat } from '../src/dat/format.js';
import { EventPrinter } from '../src/dat/print-fmt.js';
import { FileSource } from '../src/dat/source.js';
import { PrintkFormats, TepSymbols } from '../src/dat/tep-symbols.js';
import { formatText, payload, u32 } from './dat-writer.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-compile-'));

/** A fixture as a plain file (the corpus stores them gzip-compressed). */
function plain(rel: string): string {
  const p = path.join(root, rel);
  if (!p.endsWith('.gz')) return p;
  const out = path.join(tmp, path.basename(p, '.gz'));
  writeFileSync(out, gunzipSync(readFileSync(p)));
  return out;
}

const FILES = [
  'fixtures/dat/print-fmt.dat', // synthetic: __print_flags, __print_symbolic, ?:, %pS, a failed print fmt
  'fixtures/dat/same-run.dat', // Debian 6.1, x86-64: every event format of the kernel (2,323)
  'fixtures/corpus/dat/trappy-arm64-idle.dat.gz', // arm64
  'fixtures/corpus/dat/trappy-arm-bprint.dat.gz', // 32-bit ARM: 4-byte longs
  'fixtures/corpus/dat/labsisop-i686.dat.gz', // 32-bit x86
];

/** How far the format's fields reach: the record size a real event of it has. */
function extent(fmt: EventFormat): number {
  let n = 8;
  for (const f of [...fmt.common, ...fmt.fields]) n = Math.max(n, f.offset + f.size);
  return n;
}

/** A record of `fmt`: random bytes (often text-like), some `__data_loc` words aimed inside it, maybe cut short. */
function record(fmt: EventFormat): fc.Arbitrary<{ bytes: Uint8Array; cut: number; locs: [number, number][] }> {
  const size = extent(fmt);
  const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 32, max: 126 }), fc.constant(0));
  const dynamic = fmt.fields.filter((f) => f.kind === 'dynamic').length;
  return fc.record({
    bytes: fc.array(byte, { minLength: size + 64, maxLength: size + 64 }).map((a) => Uint8Array.from(a)),
    cut: fc.oneof({ weight: 4, arbitrary: fc.constant(size + 48) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: size + 48 }) }),
    locs: fc.array(fc.tuple(fc.integer({ min: 0, max: size + 48 }), fc.integer({ min: 0, max: 40 })), { minLength: dynamic, maxLength: dynamic }),
  });
}

function outcome(f: () => string): string {
  try {
    return f();
  } catch (e) {
    return `THROWS ${(e as Error).name}`;
  }
}

describe('compiled print fmt plans print what the evaluator prints', () => {
  for (const rel of FILES) {
    it(`every event format of ${path.basename(rel)}`, async () => {
      const file = plain(rel);
      const src = await FileSource.open(file);
      const dat = await readContainer(src, file).finally(() => src.close());
      const ctx = { symbols: new TepSymbols(dat.kallsyms.data), printk: new PrintkFormats(dat.printk), longSize: dat.longSize, little: dat.littleEndian };
      let checked = 0;
      for (const id of dat.formats.ids()) {
        let fmt: EventFormat | undefined;
        try {
          fmt = dat.formats.get(id);
        } catch {
          continue; // a format the file's reader cannot read is a gap for its events, not a plan
        }
        if (!fmt) continue;
        const theFmt = fmt;
        const dyn = fmt.fields.filter((f) => f.kind === 'dynamic');
        fc.assert(
          fc.property(record(fmt), ({ bytes, cut, locs }) => {
            const page = Buffer.from(bytes);
            const little = ctx.little;
            dyn.forEach((f, k) => {
              const [at, len] = locs[k]!;
              const word = ((len << 16) | (f.relative ? Math.max(0, at - f.offset - f.size) : at)) >>> 0;
              if (f.offset + 12 <= page.length) {
                if (little) page.writeUInt32LE(word, f.offset + 8);
                else page.writeUInt32BE(word, f.offset + 8);
              }
            });
            // the record sits 8 bytes into the page, the page's bytes around it
            const r = new PayloadReader(little);
            r.set(page, 8, 8 + Math.min(cut, page.length - 8));
            const oracle = new EventPrinter(theFmt, ctx);
            const compiled = new EventPrinter(theFmt, ctx);
            const expected = outcome(() => oracle.renderPretty(r));
            const actual = outcome(() => {
              const sink = new ByteSink(16);
              compiled.writePretty(sink, r);
              return sink.buf.toString('latin1', 0, sink.len);
            });
            expect(actual).toBe(expected);
          }),
          { numRuns: 4 },
        );
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('a corrupt length in a record', () => {
  it('bounds a hex dump and an array print instead of hanging on 4 billion elements', () => {
    const fmt = parseEventFormat(
      formatText(
        'dump',
        900,
        [
          ['__data_loc u8[] buf', 8, 4, 0],
          ['u32 len', 12, 4, 0],
        ],
        '"hex=%s arr=%s", __print_hex(__get_dynamic_array(buf), REC->len), __print_array(__get_dynamic_array(buf), REC->len, 1)',
      ),
      'demo',
      8,
    );
    const rec = payload(900, 1, Buffer.concat([u32((4 << 16) | 16), u32(0xffffffff), Buffer.from([1, 2, 3, 4])]));
    const ctx = { symbols: new TepSymbols(Buffer.alloc(0)), printk: new PrintkFormats(''), longSize: 8, little: true };
    const r = new PayloadReader(true);
    r.set(rec, 0, rec.length);
    const sink = new ByteSink(16);
    new EventPrinter(fmt, ctx).writePretty(sink, r);
    const text = sink.buf.toString('latin1', 0, sink.len);
    expect(text.startsWith('hex=01 02 03 04 00 00 ')).toBe(true);
    expect(text).toContain(' arr=1 2 3 4 0 0 ');
    expect(text.length).toBeLessThan(5 * 65536 + 64); // 3 characters a byte, 2 an element
  });
});
