import { describe, expect, it } from '@jest/globals';
import { InputError, inputExcerpt, isInputError, stringifyJson } from '@kreplay/core';

describe('stringifyJson', () => {
  it('writes bigints as exact bare integers', () => {
    const ts = 18446744073709551615n;
    expect(stringifyJson({ ts, n: 1 })).toBe('{"ts":18446744073709551615,"n":1}');
  });

  it('leaves strings that merely look like the marker alone', () => {
    expect(stringifyJson({ s: 'bigint:12' })).toBe('{"s":"bigint:12"}');
  });

  it('escapes DEL and the C1 controls (U+009B is CSI to a terminal) in keys and values, which read back the same', () => {
    const all = Array.from({ length: 0x21 }, (_, k) => String.fromCharCode(0x7f + k)).join('');
    const value = { [`k\u009b`]: `a\u009b[2Jb`, all, edge: '~\u00a0é', big: 2n ** 64n };
    const text = stringifyJson(value, 2);
    expect(text).not.toMatch(/[\u007f-\u009f]/);
    expect(text).toContain('"k\\u009b": "a\\u009b[2Jb"');
    expect(text).toContain(`"all": "${Array.from({ length: 0x21 }, (_, k) => `\\u00${(0x7f + k).toString(16)}`).join('')}"`);
    expect(text).toContain('"edge": "~\u00a0é"');
    expect(JSON.parse(text.replace('18446744073709551616', '0'))).toEqual({ ...value, big: 0 });
  });
});

describe('InputError', () => {
  it('says what, where and what to do', () => {
    const e = new InputError('unknown flavor "linux-9"', { file: 'a.yaml', line: 3, hint: 'run kreplay explore --list-flavors' });
    expect(isInputError(e)).toBe(true);
    expect(e.exitCode).toBe(2);
    expect(e.describe()).toBe('a.yaml:3: unknown flavor "linux-9"\n  hint: run kreplay explore --list-flavors');
  });
});

describe('inputExcerpt', () => {
  it('quotes a bounded, printable piece of the input', () => {
    expect(inputExcerpt('0,1,x')).toBe('"0,1,x"');
    expect(inputExcerpt('abcdef', 3)).toBe('"abc"…');
    // control characters as JSON escapes them, anything else outside printable ASCII by code point
    expect(inputExcerpt('a\u0007\u03df\u{1f600}"')).toBe('"a\\u0007\\u{3df}\\u{1f600}\\""');
    // cut by code points: an emoji is never split into half a surrogate pair
    expect(inputExcerpt('\u{1f600}\u{1f600}', 1)).toBe('"\\u{1f600}"…');
  });
});
