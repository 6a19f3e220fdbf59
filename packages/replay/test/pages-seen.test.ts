/**
 * Which pages a trace showed in the page cache (replay's `pagesSeen`): the ranges per file a
 * diff judges "fixed" by, its bound, and its JSON.
 */
import { describe, expect, it } from '@jest/globals';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { isInputError } from '@kreplay/core';
import { PAGES_SEEN_RANGES, PagesSeenSet, formatJson, pageSeen, parseReplayJson, replay } from '@kreplay/replay';

const VM = 0xffffea0000000000n;
const page = (pfn: number) => `0x${(VM + BigInt(pfn) * 64n).toString(16)}`;
const line = (task: string, cpu: number, ts: string, body: string) =>
  `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${ts.padStart(12)}: ${body}`;
const add = (pfn: number, idx: number, ino = '2a') => `mm_filemap_add_to_page_cache: dev 8:16 ino ${ino} pfn=0x${pfn.toString(16)} ofs=${idx * 4096} order=0`;
const del = (pfn: number, idx: number, ino = '2a') =>
  `mm_filemap_delete_from_page_cache: dev 8:16 ino ${ino} pfn=0x${pfn.toString(16)} ofs=${idx * 4096} order=0`;
const rmapAdd = (pfn: number) => `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${page(pfn)} arg2=0xffff888003b00000 arg3=0x0`;

async function run(lines: string[]) {
  const text = ['# tracer: nop', '#', '#', ...lines].join('\n') + '\n';
  return replay(parseTraceString(text, { source: 't.txt' }), { source: 't.txt', vmemmapBase: VM, traceClock: 'mono' });
}

describe('pagesSeen', () => {
  it('holds the (file, index) pages the trace showed in the cache, as ranges per file; a page only mapped, with no file, is none', async () => {
    const r = await run([
      line('reader-10', 0, '1.000001', add(0x10, 2)),
      line('reader-10', 0, '1.000002', add(0x11, 0)),
      line('reader-10', 0, '1.000003', add(0x12, 5)),
      line('reader-10', 0, '1.000004', add(0x13, 1)),
      // removed, never seen added: it was in the cache as index 9 of ino 2b until now
      line('dropper-12', 1, '1.000005', del(0x20, 9, '2b')),
      // a PTE of a page the trace never names (page_add_file_rmap fetches no file)
      line('mapper-11', 0, '1.000006', rmapAdd(0x30)),
    ]);
    expect(r.pagesSeen).toEqual({
      complete: true,
      files: {
        '8:16/2a': [
          [0, 2],
          [5, 5],
        ],
        '8:16/2b': [[9, 9]],
      },
    });
    // in the JSON, read back as written
    const j = parseReplayJson(formatJson(r, { timing: false }), 'r.json');
    expect(j.pagesSeen).toEqual(r.pagesSeen);
  });

  it('is bounded for any trace length: past PAGES_SEEN_RANGES ranges it says it is not complete', async () => {
    // every other index: each page is a range of its own
    const n = PAGES_SEEN_RANGES + 10;
    const lines = Array.from({ length: n }, (_, i) => line('reader-10', 0, `1.${String(i + 1).padStart(6, '0')}`, add(0x1000 + i, 2 * i)));
    const r = await run(lines);
    expect(r.pagesSeen.complete).toBe(false);
    const ranges = Object.values(r.pagesSeen.files).flat();
    expect(ranges).toHaveLength(PAGES_SEEN_RANGES);
    expect(ranges[0]).toEqual([0, 0]);
    // the same number of pages, contiguous, is one range: complete
    const dense = await run(lines.map((_, i) => line('reader-10', 0, `1.${String(i + 1).padStart(6, '0')}`, add(0x1000 + i, i))));
    expect(dense.pagesSeen).toEqual({ complete: true, files: { '8:16/2a': [[0, n - 1]] } });
  });

  it('merges ranges in any order of adds, as a plain set of indexes would', () => {
    // a fixed pseudo-random order of 200 adds over indexes 0..99 of two files (a small LCG: deterministic)
    let x = 12345;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
    const set = new PagesSeenSet();
    const naive = new Map<string, Set<number>>();
    for (let i = 0; i < 200; i++) {
      const file = next() % 2 ? '8:16/2a' : '8:16/2b';
      const index = next() % 100;
      set.add(file, index);
      if (!naive.has(file)) naive.set(file, new Set());
      naive.get(file)!.add(index);
    }
    const j = set.toJSON();
    for (const [file, indexes] of naive)
      for (let index = -1; index <= 101; index++) expect([file, index, pageSeen(j, file, index)]).toEqual([file, index, indexes.has(index)]);
    for (const ranges of Object.values(j.files)) for (let k = 1; k < ranges.length; k++) expect(ranges[k]![0]).toBeGreaterThan(ranges[k - 1]![1] + 1); // disjoint, not adjacent
    expect(pageSeen(j, '8:16/2c', 0)).toBe(false);
  });

  it('a replay JSON without pagesSeen (an older kreplay) reads, without it; a range backwards is an input error', () => {
    const old = '{\n  "tool": "kreplay replay",\n  "version": 1,\n  "findings": [],\n  "stats": { "events": 1 }\n}\n';
    expect(parseReplayJson(old, 'old.json').pagesSeen).toBeUndefined();
    const bad = '{\n  "findings": [],\n  "pagesSeen": { "complete": true, "files": { "8:16/2a": [[3, 1]] } },\n  "stats": { "events": 1 }\n}\n';
    let err: unknown;
    try {
      parseReplayJson(bad, 'bad.json');
    } catch (e) {
      err = e;
    }
    expect(isInputError(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/pagesSeen\.files\.8:16\/2a\.0: a range \[start, end\] needs start <= end/);
  });
});
