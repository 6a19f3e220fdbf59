import { describe, expect, it } from '@jest/globals';
import { FAIL_ON, formatShard, inShard, parseDuration, parseShard } from '@kreplay/core';

describe('one --shard convention', () => {
  it('reads i/n counted from 1, as jest, Playwright and GitLab count', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1/1 ')).toEqual({ index: 1, count: 1 });
    expect(formatShard(parseShard('3/5'))).toBe('3/5');
  });

  it('refuses 0/n, i > n, n = 0 and other shapes, with the convention in the hint', () => {
    for (const bad of ['0/4', '5/4', '1/0', '1-2', '1/2/3', 'a/b', '']) {
      expect(() => parseShard(bad)).toThrow(expect.objectContaining({ name: 'InputError', hint: expect.stringContaining('1 <= i <= n') }));
    }
  });

  it('splits any list exactly: every item in exactly one shard, shards differ by at most one item', () => {
    for (const n of [1, 2, 3, 7]) {
      for (const len of [0, 1, 5, 20]) {
        const counts = Array.from(
          { length: n },
          (_, s) => Array.from({ length: len }, (_, k) => k).filter((k) => inShard(k, { index: s + 1, count: n })).length,
        );
        expect(counts.reduce((a, b) => a + b, 0)).toBe(len);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }
    }
    expect(inShard(5, undefined)).toBe(true);
  });
});

describe('durations and --fail-on', () => {
  it('reads 3s, 500ms, 2m and bare seconds; refuses the rest', () => {
    expect([parseDuration('3s'), parseDuration('500ms'), parseDuration('2m'), parseDuration('1.5')]).toEqual([3000, 500, 120000, 1500]);
    expect(() => parseDuration('3 weeks', '--timeout')).toThrow(/--timeout "3 weeks" is not a duration/);
  });

  it('has one value set for every command', () => {
    expect(FAIL_ON).toEqual(['error', 'warning', 'note', 'never']);
  });
});
