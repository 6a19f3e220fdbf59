import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeInputText, firstBadUtf8, isInputError, readDocumentFile, readInputText, type InputError } from '@kreplay/core';

const WHAT = { what: 'test file', hint: 'see the docs' };
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const decodes = (b: Uint8Array) => {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
};

async function rejects(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    if (isInputError(e)) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('input text is strict UTF-8', () => {
  // bytes near the edges of UTF-8's table: ASCII, continuation bytes, every lead byte's range ends
  const edgy = fc.uint8Array({ maxLength: 40 }).chain((a) =>
    fc
      .array(fc.constantFrom(0x0a, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff), {
        maxLength: 40,
      })
      .map((b) => Uint8Array.from([...a, ...b])),
  );

  it('finds a bad byte exactly when the WHATWG decoder refuses the bytes, and everything before it decodes', () => {
    fc.assert(
      fc.property(edgy, (bytes) => {
        const bad = firstBadUtf8(bytes);
        expect(bad === undefined).toBe(decodes(bytes));
        if (bad) {
          expect(decodes(bytes.subarray(0, bad.offset))).toBe(true);
          expect(bad.line).toBe(bytes.subarray(0, bad.offset).filter((b) => b === 0x0a).length + 1);
        }
      }),
      { numRuns: 1500, seed: 43 },
    );
  });

  it('names the file, the line and the byte, and keeps a text that is UTF-8 as it is (a BOM too)', () => {
    const e = (() => {
      try {
        decodeInputText(Buffer.from('a: 1\nb: caf\u00e9\n', 'latin1'), 'f.yaml', WHAT);
      } catch (x) {
        return x as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(isInputError(e)).toBe(true);
    expect(e.file).toBe('f.yaml');
    expect(e.line).toBe(2);
    expect(e.message).toBe('test file is not UTF-8: byte 0xe9 at offset 11');
    expect(e.hint).toContain('see the docs');
    expect(decodeInputText(Buffer.from('\ufeffcaf\u00e9 \u{1f600}\n', 'utf8'), 'f', WHAT)).toBe('\ufeffcaf\u00e9 \u{1f600}\n');
  });

  it('reads files strictly: documents, and any input text', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-text-'));
    const f = path.join(dir, 'bad.yaml');
    writeFileSync(f, Uint8Array.from([0x61, 0x3a, 0x20, 0xc3, 0x28, 0x0a]));
    expect((await rejects(readDocumentFile(f, WHAT))).message).toBe('test file is not UTF-8: byte 0xc3 at offset 3');
    expect((await rejects(readInputText(f, WHAT))).line).toBe(1);
    expect((await rejects(readInputText(path.join(dir, 'none'), WHAT))).message).toMatch(/^cannot read test file: /);
  });
});
