/**
 * The explorer-trace contract end to end (packages/core/src/contracts/explore-trace.ts): any
 * MmOp the explorer writes comes back from the trace reader and replay's explore adapter as
 * the same MmOp, and a trace of a format this kreplay does not know is refused before replay.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { encodeExploreTrace, encodeOpEvent, isInputError, type FileRef, type MmOp } from '@kreplay/core';
import { replay } from '@kreplay/replay';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
/** A page frame number: below 2^52 (a 64-bit physical address of 4 KiB pages); replay does not use a cache or PTE op naming another. */
const pfn = fc.bigInt({ min: 0n, max: (1n << 52n) - 1n });
const small = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const file: fc.Arbitrary<FileRef> = fc.record({
  dev: fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 1_048_575 })).map(([a, b]) => `${a}:${b}`),
  ino: u64,
});
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const ret = fc.integer({ min: -4095, max: 1 << 20 });
const fnName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,30}$/);
/** What a label may hold: any printable text, quotes, backslashes, line breaks included. */
const label = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'a b', 'x="y"', 'back\\slash', 'two\nlines', 'cr\rlf', 'tab\there'));

/** Every op the explorer's model can emit, in the shape the model emits it (pte_map without mapcount: format 1 does not carry it). */
const op: fc.Arbitrary<MmOp> = fc.oneof(
  // a folio of order k starts at an index and a pfn that are multiples of 2^k (6.12
  // mm/filemap.c:857 VM_BUG_ON_FOLIO(index & (folio_nr_pages(folio) - 1)); the buddy allocator
  // aligns the pfn): replay refuses any other folio as impossible, so the model never emits one
  fc
    .record({
      kind: fc.constantFrom('cache_add' as const, 'cache_delete' as const),
      file,
      index: fc.integer({ min: 0, max: 2 ** 40 }),
      pfn,
      order: fc.integer({ min: 0, max: 9 }),
    })
    .map((o) => ({ ...o, index: o.index - (o.index % 2 ** o.order), pfn: o.pfn - (o.pfn % (1n << BigInt(o.order))) })),
  fc.record({ kind: fc.constant('fault_begin' as const), file: opt(file), index: opt(small), address: opt(u64) }),
  fc.record({ kind: fc.constant('fault_end' as const), file: opt(file), index: opt(small), ret: opt(ret) }),
  fc.record({ kind: fc.constantFrom('pte_map' as const, 'pte_unmap' as const), pfn, file: opt(file), index: opt(small), address: opt(u64) }),
  fc.record({
    kind: fc.constant('invalidate_begin' as const),
    fn: fc.constantFrom('invalidate_inode_pages2_range' as const, 'invalidate_mapping_pages' as const),
    file: opt(file),
    start: opt(small),
    end: opt(small),
  }),
  fc.record({
    kind: fc.constant('invalidate_end' as const),
    fn: fc.constantFrom('invalidate_inode_pages2_range' as const, 'invalidate_mapping_pages' as const),
    file: opt(file),
    ret: opt(ret),
  }),
  fc.record({
    kind: fc.constant('truncate_begin' as const),
    fn: fc.constantFrom('truncate_pagecache' as const, 'truncate_inode_pages_range' as const, 'vmtruncate' as const),
    file: opt(file),
    size: opt(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n })),
    start: opt(small),
    end: opt(small),
  }),
  fc.record({
    kind: fc.constant('truncate_end' as const),
    fn: fc.constantFrom('truncate_pagecache' as const, 'truncate_inode_pages_range' as const, 'vmtruncate' as const),
    file: opt(file),
    ret: opt(ret),
  }),
  fc.record({ kind: fc.constant('unmap_range' as const), fn: fnName, file: opt(file), start: opt(small), end: opt(small) }),
  fc.record({ kind: fc.constant('isize_set' as const), file, size: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }) }),
  fc.record({ kind: fc.constantFrom('page_lock' as const, 'page_unlock' as const), pfn: u64 }),
  fc.record({ kind: fc.constant('marker' as const), text: label }),
);

const THREADS = ['fault', 'odirect', 'a-thread-name-longer-than-15'];
const HEADER = { scenario: 'round trip', flavor: 'linux-2.6.15', schedule: [0, 1], rule: 'orphan-page-mapped' };

/** The ops as text (the contract's encoder), then back through the trace reader and replay's explore adapter. */
async function roundTrip(ops: Array<{ op: MmOp; thread: number }>, header: typeof HEADER | string = HEADER): Promise<MmOp[]> {
  const events = ops.map(({ op, thread }, i) => ({ thread, step: i + 1, event: encodeOpEvent(op) }));
  let text = encodeExploreTrace(typeof header === 'string' ? HEADER : header, THREADS, events);
  if (typeof header === 'string') text = text.replace(/^# kreplay: explore .*$/m, header);
  const lifted: MmOp[] = [];
  const r = await replay(parseTraceString(text, { source: 'rt.trace' }), { source: 'rt.trace', onOp: (o) => lifted.push({ ...o }) }); // a copy: the engine later completes an end from its begin
  expect(r.trace.kernel).toBe('explore');
  expect(r.stats.unusableEvents).toEqual({});
  return lifted.map(({ event: _, ...o }) => o as MmOp);
}

describe('explorer trace round trip: MmOp → text → parsed → lifted', () => {
  it('gives back every op as it was written, whatever its values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ op, thread: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 12 }), async (ops) => {
        expect(await roundTrip(ops)).toEqual(ops.map((o) => o.op));
      }),
      { numRuns: Number(process.env.KREPLAY_PROP_RUNS ?? 100) },
    ); // each run is a whole replay (probe map loaded): 100 by default
  });

  it('reads a trace written before the format field (format 1)', async () => {
    const ops = [{ op: { kind: 'page_lock', pfn: 3n } as MmOp, thread: 0 }];
    expect(await roundTrip(ops, '# kreplay: explore scenario=s flavor=linux-2.6.15 schedule=0')).toEqual([ops[0]!.op]);
  });

  it('refuses a trace from a newer kreplay before replaying it', async () => {
    const e = await roundTrip(
      [{ op: { kind: 'page_lock', pfn: 3n }, thread: 0 }],
      '# kreplay: explore format=2 scenario=s flavor=linux-2.6.15 schedule=0',
    ).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    expect((e as Error).message).toBe('explorer trace format 2 is newer than this kreplay reads (format 1)');
    expect((e as { file?: string }).file).toBe('rt.trace');
  });
});

describe('explorer trace findings', () => {
  it('name the function the remover was in, as the trace marker gives it, not the marker event', async () => {
    // truncate removes the cached page while a fault that found it is still running: the
    // fault's PTE is an orphan, removed "during vmtruncate" (the marker's fn), not "during print"
    const f: FileRef = { dev: '8:1', ino: 0x2an };
    const steps: Array<{ op: MmOp; thread: number }> = [
      { thread: 1, op: { kind: 'cache_add', file: f, index: 0, pfn: 1n, order: 0 } },
      { thread: 0, op: { kind: 'fault_begin', file: f, index: 0, address: 0x10000n } },
      { thread: 1, op: { kind: 'truncate_begin', fn: 'vmtruncate', file: f, size: 0n, start: 0, end: 0 } },
      { thread: 1, op: { kind: 'cache_delete', file: f, index: 0, pfn: 1n, order: 0 } },
      { thread: 0, op: { kind: 'pte_map', pfn: 1n, file: f, index: 0, address: 0x10000n } },
    ];
    const text = encodeExploreTrace(
      HEADER,
      THREADS,
      steps.map(({ op, thread }, i) => ({ thread, step: i + 1, event: encodeOpEvent(op) })),
    );
    const r = await replay(parseTraceString(text, { source: 'rt.trace' }), { source: 'rt.trace' });
    const orphan = r.findings.find((x) => x.rule === 'orphan-page-mapped');
    expect(orphan?.explanation).toContain('had removed it from the page cache at line 18 during vmtruncate (entered at line 17)');
  });
});
