import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { checkJsonDepth, isInputError, MAX_JSON_DEPTH, parseDocumentText, parseDocumentWith, repeatedJsonKey, type InputError } from '@kreplay/core';

const OPTS = { what: 'test document', hint: 'see the docs' };

function fails(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (isInputError(e)) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('the document loader', () => {
  const json = '{\n  "a": [\n    1,\n    { "b": "x" }\n  ],\n  "c": 2\n}\n';

  it('finds the line of a value by its path, in JSON and YAML alike', () => {
    for (const fastJson of [false, true]) {
      const doc = parseDocumentText(json, 'f.json', { ...OPTS, fastJson });
      expect(doc.data).toEqual({ a: [1, { b: 'x' }], c: 2 });
      expect(doc.lineOf(['a', 1, 'b'])).toBe(4);
      expect(doc.lineOf(['c'])).toBe(6);
      expect(doc.lineOf(['missing'])).toBe(1);
    }
    const yaml = parseDocumentText('a:\n  - 1\n  - b: x\nc: 2\n', 'f.yaml', OPTS);
    expect(yaml.lineOf(['a', 1, 'b'])).toBe(3);
    expect(yaml.lineOf(['c'])).toBe(4);
  });

  it('names the line of a syntax error, in JSON read either way', () => {
    for (const fastJson of [false, true]) {
      const e = fails(() => parseDocumentText('{\n  "a": 1,\n  "b": ]\n}\n', 'bad.json', { ...OPTS, fastJson }));
      expect(e.file).toBe('bad.json');
      expect(e.line).toBe(3);
      expect(e.hint).toBe('see the docs');
    }
  });

  it('refuses duplicate keys instead of keeping the last one', () => {
    const e = fails(() => parseDocumentText('a: 1\nb: 2\na: 3\n', 'dup.yaml', OPTS));
    expect(e.message).toBe('duplicate key in test document');
    expect(e.line).toBe(3);
    const j = fails(() => parseDocumentText('{\n "x": 1,\n "x": 2\n}', 'dup.json', OPTS));
    expect(j.line).toBe(3);
  });

  it('refuses duplicate keys on the JSON.parse path too (machine-written JSON, and any text over 4 MiB)', () => {
    // JSON.parse keeps the last of repeated keys: a second "threads" (or "verdict") replaced the first without a word
    for (const text of [
      '{\n "x": 1,\n "x": 2\n}',
      '{"a": {"k": [1, {"k": 1}], "s": "{\\"k\\": 1, \\"k\\": 2}",\n "k": 2}}',
      '[{"a": 1}, {"a": 2, "b": {}, "\\u0061": 3}]',
    ]) {
      const e = fails(() => parseDocumentText(text, 'dup.json', { ...OPTS, fastJson: true }));
      expect([text, e.message]).toEqual([text, 'duplicate key in test document']);
    }
    expect(fails(() => parseDocumentText('{\n "x": 1,\n "x": 2\n}', 'dup.json', { ...OPTS, fastJson: true })).line).toBe(3);
    // equal keys in different objects, keys that look alike inside strings, escaped quotes: not repeats
    const fine = '{"a": {"k": 1}, "b": {"k": 2}, "c": ["k", "k"], "d": "\\"k\\": \\"k\\"", "e\\\\": 1, "e": [{}, {"e": 1}]}';
    expect(repeatedJsonKey(fine)).toBe(-1);
    expect(parseDocumentText(fine, 'ok.json', { ...OPTS, fastJson: true }).data).toEqual(JSON.parse(fine));
    // over 4 MiB, any document takes that path
    const big = `{"pad": "${'x'.repeat(4 << 20)}", "threads": [], "threads": [1]}`;
    expect(fails(() => parseDocumentText(big, 'big.json', OPTS)).message).toBe('duplicate key in test document');
  });

  it('scans many keys in linear time when no backslash comes before them (a 28 MB ci summary.json took minutes)', () => {
    // 20,000 objects, 1.1 MB, no backslash: the scan looked back to the start of the text for one at every key
    const groups = Array.from({ length: 20_000 }, (_, i) => `{"name": "w${i}", "verdict": "no-regression", "files": ["w${i}/diff.json"]}`);
    const text = `{"groups": [\n${groups.join(',\n')}\n], "groups": []}`;
    const t0 = performance.now();
    const e = fails(() => parseDocumentText(text, 'summary.json', { ...OPTS, fastJson: true }));
    const ms = performance.now() - t0;
    expect([e.message, e.line]).toEqual(['duplicate key in test document', 20_002]);
    // about 30 ms here; before the fix 15 s on this machine
    expect(ms).toBeLessThan(3000);
    // a key with an escape is still read as JSON reads it
    expect(repeatedJsonKey(`{"pad": [${groups.slice(0, 1000).join(', ')}], "\\u0061": 1, "a": 2}`)).toBeGreaterThan(0);
  });

  it('refuses JSON nested deeper than any document has use for, on either path, at its line (a stack overflow later, exit 70, or a YAML parser error before)', () => {
    const deep = (d: number) => `{"ok": 1,\n "x": ${'['.repeat(d)}${']'.repeat(d)}}`;
    for (const fastJson of [false, true]) {
      const e = fails(() => parseDocumentText(deep(100_000), 'deep.json', { ...OPTS, fastJson }));
      expect([fastJson, e.message, e.line]).toEqual([fastJson, `test document nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, 2]);
      // as deep as allowed: read
      expect(parseDocumentText(deep(MAX_JSON_DEPTH - 1), 'ok.json', { ...OPTS, fastJson }).data).toMatchObject({ ok: 1 });
    }
    expect(() => checkJsonDepth('[{"a": "[[[[[[["}]', 'x.json', OPTS)).not.toThrow(); // brackets in strings do not count
    expect(() => checkJsonDepth(deep(MAX_JSON_DEPTH), 'x.json', OPTS)).toThrow(/more than 256 levels deep/);
  });

  it('refuses YAML nested deeper than MAX_JSON_DEPTH at its line, not as "not valid YAML/JSON: Maximum call stack size exceeded"', () => {
    const flow = (d: number) => `ok: 1\nx: ${'['.repeat(d)}${']'.repeat(d)}\n`;
    const block = (d: number) => `ok: 1\n${Array.from({ length: d }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`;
    const message = `test document nests sequences and mappings more than ${MAX_JSON_DEPTH} levels deep`;
    for (const [form, text] of [
      ['flow, past the parser', flow(5000)],
      ['block, past the parser', block(3000)],
      ['flow, within the parser', flow(MAX_JSON_DEPTH + 1)],
    ] as const) {
      const e = fails(() => parseDocumentText(text, 'deep.yaml', OPTS));
      expect([form, e.message, e.line! >= 2]).toEqual([form, message, true]);
    }
    // as deep as allowed: read
    expect(parseDocumentText(flow(MAX_JSON_DEPTH - 1), 'ok.yaml', OPTS).data).toMatchObject({ ok: 1 });
    expect(parseDocumentText(block(MAX_JSON_DEPTH - 1), 'ok.yaml', OPTS).data).toMatchObject({ ok: 1 });
  });

  it('finds a repeated JSON key exactly when the YAML parser (the slow path) refuses one', () => {
    const key = fc.constantFrom('a', 'b', '\\u0061', 'a\\"', '\\\\', '{\\"k\\": 1}', ',');
    const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('1', 'null', '"a"', '"\\"a\\": 1, \\"a\\": 2"', '"\\\\"'),
        fc.array(tie('v'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
        fc.array(fc.tuple(key, tie('v')), { maxLength: 4 }).map((kv) => `{${kv.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`),
      ),
    })).v;
    fc.assert(
      fc.property(value, (text) => {
        const slow = parseDocument(text, { uniqueKeys: true }).errors.some((e) => /Map keys must be unique/.test(e.message));
        expect([text, repeatedJsonKey(text) >= 0]).toEqual([text, slow]);
      }),
      { numRuns: 500, seed: 19 },
    );
  });

  it('puts a schema violation at the line of the offending value, and an unknown key at the key', () => {
    const schema = z.object({ name: z.string(), n: z.number().int() }).strict();
    const bad = fails(() => parseDocumentWith('name: x\nn: 1.5\n', 'v.yaml', schema, OPTS));
    expect(bad.message).toMatch(/^invalid test document: n: /);
    expect(bad.line).toBe(2);
    const extra = fails(() => parseDocumentWith('name: x\nn: 1\nbogus: 2\n', 'v.yaml', schema, OPTS));
    expect(extra.line).toBe(3);
    expect(parseDocumentWith('name: x\nn: 1\n', 'v.yaml', schema, OPTS).value).toEqual({ name: 'x', n: 1 });
  });

  it('refuses YAML aliases that expand too far (a "billion laughs") as an input error at the first alias', () => {
    const levels = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 6; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const e = fails(() => parseDocumentText(`name: x\n${levels.join('\n')}\n`, 'bomb.yaml', OPTS));
    expect(e.message).toMatch(/aliases that expand too far/);
    expect(e.file).toBe('bomb.yaml');
    expect(e.line).toBe(3);
    // a few aliases are fine
    expect(parseDocumentText('a: &a [1, 2]\nb: *a\n', 'ok.yaml', OPTS).data).toEqual({ a: [1, 2], b: [1, 2] });
  });
});
