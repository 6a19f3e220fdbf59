/**
 * The explorer-trace contract on its own: values quote and unquote exactly, markers and the
 * header read back what was written, and a trace from a newer kreplay is refused by name.
 * (The round trip through the real trace reader and replay's adapter is
 * packages/replay/test/explore-trace.test.ts.)
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  EXPLORE_TRACE_FORMAT,
  decodeExploreHeader,
  decodeMarker,
  decodePairs,
  encodeExploreHeader,
  encodeOpEvent,
  encodePair,
  exploreTraceFormat,
  isExploreHeader,
  isInputError,
} from '@kreplay/core';

describe('key=value pairs', () => {
  it('read back any value, quoted or not, in order', () => {
    const key = fc.stringMatching(/^[A-Za-z_]\w{0,8}$/);
    const value = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', ' ', '"', '\\', 'a=b', 'x\ny', '\r\n', '\\n', '\t'));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 5 }), (pairs) => {
        const text = pairs.map(([k, v]) => encodePair(k, v)).join(' ');
        expect(text).not.toMatch(/[\n\r]/);
        expect(decodePairs(text)).toEqual(pairs);
      }),
    );
  });

  it('quote only what needs it, as the explorer always wrote them', () => {
    expect(encodePair('scenario', 'odirect-vs-fault')).toBe('scenario=odirect-vs-fault');
    expect(encodePair('label', 'lock_page(page) "P0"')).toBe('label="lock_page(page) \\"P0\\""');
    expect(encodePair('label', '')).toBe('label=""');
  });
});

describe('markers', () => {
  it("carry each op's keys in the documented order and read back as printed", () => {
    const e = encodeOpEvent({ kind: 'truncate_begin', fn: 'vmtruncate', file: { dev: '8:1', ino: 0x2an }, size: 0n, start: 0, end: 7 });
    expect(e).toEqual({ name: 'tracing_mark_write', body: 'kreplay:truncate_begin fn=vmtruncate dev=8:1 ino=2a size=0 start=0 end=7' });
    expect(decodeMarker(e.body)).toEqual({
      op: 'truncate_begin',
      fn: 'vmtruncate',
      values: [
        { key: 'dev', target: 'dev', as: 'kdev', raw: '8:1' },
        { key: 'ino', target: 'ino', as: 'hex', raw: '2a' },
        { key: 'size', target: 'size', as: 'number', raw: '0' },
        { key: 'start', target: 'start', as: 'number', raw: '0' },
        { key: 'end', target: 'end', as: 'number', raw: '7' },
      ],
    });
  });

  it("write page-cache insertions as the kernel's own 6.1 tracepoint", () => {
    expect(encodeOpEvent({ kind: 'cache_add', file: { dev: '0:5', ino: 0x2an }, index: 1, pfn: 3n, order: 0 })).toEqual({
      name: 'mm_filemap_add_to_page_cache',
      body: 'dev 0:5 ino 2a pfn=0x3 ofs=4096 order=0',
    });
  });

  it('are told apart from other text, and an unknown op is named', () => {
    expect(decodeMarker('hello world')).toBeNull();
    expect(decodeMarker('kreplay:teleport pfn=0x1')).toBe('unknown kreplay op "teleport"');
    expect(decodeMarker('kreplay:step label="two\\nlines"')).toEqual({ op: 'step', label: 'two\nlines' });
  });

  it('name each key once: a key named twice makes the marker unusable, whichever value comes last', () => {
    expect(decodeMarker('kreplay:pte_map dev=0:5 ino=2a index=0 pfn=0x3 addr=0x10000 index=1')).toBe(
      'a kreplay marker names each key once, but this one names index= twice (which value is meant cannot be told)',
    );
    expect(decodeMarker('kreplay:page_remove_rmap fn=a fn=b pfn=0x3')).toMatch(/names fn= twice/);
    expect(decodeMarker('kreplay:step label=a label=b')).toMatch(/names label= twice/);
  });

  it('are one line: a raw line break (a trace.dat keeps a write whole) makes the marker unusable, its later text never read as its keys', () => {
    const one = 'kreplay:pte_map dev=0:5 ino=2a index=0 pfn=0x3 addr=0x10000';
    expect(decodeMarker(`${one}\n`)).toMatchObject({ op: 'pte_map' });
    for (const broken of [`${one}\nindex=1`, `${one}\rindex=1`, 'kreplay:step label="two\nlines"']) {
      expect(decodeMarker(broken)).toBe('a kreplay marker is one line, but this one holds a line break (its writer escapes them as \\n)');
    }
  });
});

describe('the header', () => {
  const h = { scenario: 'toy race', flavor: 'linux-2.6.15', schedule: [0, 1, 1], cycle: [1, 1], then: [0], rule: 'livelock' };

  it('names the format first and reads back what was written', () => {
    const line = encodeExploreHeader(h);
    expect(line).toBe('# kreplay: explore format=1 scenario="toy race" flavor=linux-2.6.15 schedule=0,1,1 cycle=1,1 then=0 rule=livelock');
    expect(isExploreHeader(line)).toBe(true);
    expect(decodeExploreHeader(line)).toEqual({ format: EXPLORE_TRACE_FORMAT, ...h });
  });

  it('without a format is format 1 (written before the field existed)', () => {
    expect(decodeExploreHeader('# kreplay: explore scenario=s flavor=f schedule=0,1 rule=bug-on')).toEqual({
      format: 1,
      scenario: 's',
      flavor: 'f',
      schedule: [0, 1],
      rule: 'bug-on',
    });
  });

  it('from a newer kreplay is refused with the file, line and what to do', () => {
    let e: unknown;
    try {
      decodeExploreHeader('# kreplay: explore format=2 scenario=s flavor=f schedule=0', { file: 'cex.trace', line: 3 });
    } catch (x) {
      e = x;
    }
    expect(isInputError(e)).toBe(true);
    expect((e as Error).message).toBe('explorer trace format 2 is newer than this kreplay reads (format 1)');
    expect(e).toMatchObject({ file: 'cex.trace', line: 3 });
    expect((e as { hint: string }).hint).toMatch(/newer kreplay/);
    expect(() => exploreTraceFormat('one')).toThrow(/format=one is not a format version/);
    expect(exploreTraceFormat(1)).toBe(1);
  });

  it('with a broken schedule says which key', () => {
    expect(() => decodeExploreHeader('# kreplay: explore format=1 scenario=s flavor=f schedule=0,x')).toThrow(/schedule "0,x" is not a comma-separated list/);
    expect(() => decodeExploreHeader('# kreplay: explore format=1 scenario=s flavor=f')).toThrow(/schedule is missing/);
  });

  it('that names a key twice is refused: which schedule or rule is meant cannot be told', () => {
    expect(() => decodeExploreHeader('# kreplay: explore format=1 scenario=s flavor=f schedule=0,1 schedule=1,0')).toThrow(/schedule is given twice/);
    expect(() => decodeExploreHeader('# kreplay: explore format=1 scenario=s flavor=f schedule=0 rule=a rule=b')).toThrow(/rule is given twice/);
  });
});
