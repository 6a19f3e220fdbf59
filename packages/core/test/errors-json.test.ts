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
