/**
 * The shortcuts replay's hot path takes (issue 16, "replay at parse speed") against the
 * straightforward code they replaced: each must give exactly what the plain version gave.
 * (Whole replays are compared end to end by the goldens, the fixtures and the tie search's
 * oracle test in ties.test.ts.)
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GapTracker, type GapMark } from '../src/certainty.js';
import { bigSlot, toBig } from '../src/fields.js';
import { flat, lastFlattened } from '../src/cite.js';
import { LatencyRecorder } from '../src/latency-histogram.js';
import { cachedInRange, OpenCalls, promiseKey, Shadow, type FileState, type OpenCall, type PageRec, type TaskState } from '../src/shadow.js';
import { ReturnCounts } from '../src/return-counts.js';
import { EventNames } from '../src/event-names.js';
import type { Adapter, Lifted } from '../src/adapters/adapter.js';
import { argsReader, FileRefs, makeOp, shapedOp, UNKNOWN_DEV, type Arg, type ReaderFactory, type Values } from '../src/adapters/probe-adapter.js';
import { OpCounts } from '../src/op-counts.js';
import type { FieldValue, FileRef, Fields, MmOp, MmOpKind, TraceEvent } from '@kreplay/core';
import { InOrder, ReorderBuffer, ReorderNeeded } from '../src/order.js';
import { citeVerbatim, formatJson, replay, replayFile } from '../src/index.js';
import { heldCopy } from '../src/replay.js';
import { openTraceBatches } from '@kreplay/ftrace-parser';
import { fileKey, findTraceMeta, readTraceMeta } from '@kreplay/core';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The gap tracker as it was: every event looks its CPU's mark up. A mark on no CPU ends at the
 * first event past the time of the first event after it.
 */
class PlainGapTracker {
  private readonly perCpu = new Map<number, GapMark>();
  private anyCpu: GapMark | undefined;
  record(mark: GapMark): void {
    if (mark.cpu === undefined) this.anyCpu = mark;
    else this.perCpu.set(mark.cpu, mark);
  }
  event(cpu: number, seq: number, ts: bigint): void {
    const g = this.perCpu.get(cpu);
    if (g && g.end === undefined) this.perCpu.set(cpu, { ...g, end: seq });
    const a = this.anyCpu;
    if (a && a.end === undefined && a.endAll === undefined) this.anyCpu = ts > (a.until ?? ts) ? { ...a, endAll: seq } : { ...a, until: a.until ?? ts };
  }
  since(cpus: Iterable<number>, since: number): GapMark | undefined {
    const after = (g: GapMark | undefined) => g !== undefined && ((g.until === undefined ? g.end : g.endAll) ?? Infinity) > since;
    let best = after(this.anyCpu) ? this.anyCpu : undefined;
    for (const c of cpus) {
      const g = this.perCpu.get(c);
      if (after(g) && (!best || g!.seq > best.seq)) best = g;
    }
    return best;
  }
  sinceAny(since: number): GapMark | undefined {
    return this.since(this.perCpu.keys(), since);
  }
  save(): () => void {
    const perCpu = new Map(this.perCpu);
    const anyCpu = this.anyCpu;
    return () => {
      this.perCpu.clear();
      for (const [c, g] of perCpu) this.perCpu.set(c, g);
      this.anyCpu = anyCpu;
    };
  }
}

type GapStep =
  | { t: 'gap'; cpu: number | undefined; ended: boolean }
  | { t: 'event'; cpu: number; later: boolean }
  | { t: 'query'; cpus: number[]; back: number }
  | { t: 'save' }
  | { t: 'restore' };

const cpu = fc.integer({ min: 0, max: 3 });
const gapStep: fc.Arbitrary<GapStep> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('gap' as const), cpu: fc.option(cpu, { nil: undefined }), ended: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('event' as const), cpu, later: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('query' as const), cpus: fc.uniqueArray(cpu, { maxLength: 4 }), back: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'save' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'restore' as const }) },
);

describe('replay fast paths give what the plain code gave', () => {
  it("GapTracker: skipping the per-event lookup while no gap is open changes no answer (with the tie search's save/restore)", () => {
    fc.assert(
      fc.property(fc.array(gapStep, { maxLength: 120 }), (steps) => {
        const fast = new GapTracker();
        const plain = new PlainGapTracker();
        let seq = 0;
        let ts = 0n;
        let saved: Array<() => void> | undefined;
        for (const s of steps) {
          if (s.t === 'gap') {
            const mark: GapMark = { seq: ++seq, line: seq, source: 't', reason: 'r', cpu: s.cpu, ...(s.ended ? { end: seq } : {}) };
            fast.record(mark);
            plain.record(mark);
          } else if (s.t === 'event') {
            ++seq;
            if (s.later) ts++;
            fast.event(s.cpu, seq, ts);
            plain.event(s.cpu, seq, ts);
          } else if (s.t === 'query') {
            expect(fast.since(s.cpus, seq - s.back)).toEqual(plain.since(s.cpus, seq - s.back));
            expect(fast.sinceAny(seq - s.back)).toEqual(plain.sinceAny(seq - s.back));
          } else if (s.t === 'save') {
            saved = [fast.save(), plain.save()];
          } else if (saved) {
            for (const r of saved) r();
          }
        }
        for (let c = 0; c < 4; c++) for (let since = 0; since <= seq; since++) expect(fast.since([c], since)).toEqual(plain.since([c], since));
      }),
    );
  });

  it('cachedInRange visits exactly the cached pages whose index is in the range, narrow or wide', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -5, max: 200 }), { maxLength: 60 }),
        fc.integer({ min: -10, max: 210 }),
        fc.oneof(fc.integer({ min: -10, max: 210 }), fc.constant(Number.MAX_SAFE_INTEGER)),
        (indexes, start, end) => {
          const cache = new Map<number, PageRec>();
          for (const i of indexes) cache.set(i, { index: i } as PageRec);
          const f = { cache } as FileState;
          const seen: number[] = [];
          cachedInRange(f, start, end, (rec, a, b) => seen.push(rec.index! + a + b), 0, 0);
          const plain = [...cache.keys()].filter((i) => i >= start && i <= end);
          expect(seen.sort((a, b) => a - b)).toEqual(plain.sort((a, b) => a - b));
        },
      ),
    );
  });

  it('toBig: the cached bigint of a number is BigInt(number), whatever collides in its slot', () => {
    // numbers that share a slot come one after another: x and x + 4096 often do; multiples of
    // 2^24 below 2^32 all fall in slot 0; page-aligned addresses (multiples of 4096) spread
    const n = fc.oneof(
      fc.integer({ min: 0, max: 8192 }),
      fc.integer({ min: -8192, max: 0 }),
      fc.maxSafeNat(),
      fc.integer().map((x) => x * 4096),
      fc.integer({ min: 0, max: 255 }).map((x) => x * 2 ** 24),
      fc.integer({ min: 0x7f0000000, max: 0x7ffffffff }).map((x) => x * 4096),
    );
    fc.assert(
      fc.property(fc.array(n, { maxLength: 200 }), (xs) => {
        for (const x of xs) {
          expect(toBig(x)).toBe(BigInt(x));
          expect(toBig(x + 4096)).toBe(BigInt(x + 4096));
          expect(toBig(x)).toBe(BigInt(x));
        }
      }),
    );
    for (const x of [0, 1, -1, 4095, 4096, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1, 0x7fa4c5794000]) {
      expect(bigSlot(x)).toBeGreaterThanOrEqual(0);
      expect(bigSlot(x)).toBeLessThan(4096);
    }
    // what the slot is for: a run of page-aligned addresses does not share one
    expect(new Set(Array.from({ length: 64 }, (_v, k) => bigSlot(0x7fa4c5794000 + k * 4096))).size).toBe(64);
    expect(toBig(-0)).toBe(0n);
    expect(toBig(5n)).toBe(5n);
    expect(toBig(undefined)).toBeUndefined();
  });

  it('LatencyRecorder: the shift for values below 2^31 puts every value in the bucket the division did', () => {
    const SUB_BITS = 4;
    const SUB = 16;
    const plainBucket = (v: number): number => {
      if (v < SUB) return v;
      let e: number;
      if (v < 0x80000000) e = 31 - Math.clz32(v);
      else {
        e = Math.floor(Math.log2(v));
        if (2 ** e > v) e--;
        else if (2 ** (e + 1) <= v) e++;
      }
      return (e - SUB_BITS + 1) * SUB + (Math.floor(v / 2 ** (e - SUB_BITS)) - SUB);
    };
    const plainLower = (b: number): number => {
      if (b < SUB) return b;
      const e = Math.floor(b / SUB) + SUB_BITS - 1;
      return (SUB + (b % SUB)) * 2 ** (e - SUB_BITS);
    };
    const value = fc.oneof(
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 2 ** 31 + 5 }),
      fc.integer({ min: 2 ** 31 - 40, max: 2 ** 31 + 40 }),
      fc.maxSafeNat(),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 100 }), (vs) => {
        const r = new LatencyRecorder();
        const counts = new Map<number, number>();
        for (const v of vs) {
          r.add(BigInt(v));
          const b = plainBucket(v);
          counts.set(b, (counts.get(b) ?? 0) + 1);
        }
        const expected = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([b, k]) => [plainLower(b), k]);
        expect(r.toJSON().buckets).toEqual(expected);
      }),
    );
  });

  it('OpenCalls: the calls, their order and every answer a Map by key gave (set in place, delete, copies independent)', () => {
    const keys = ['fault', 'invalidate:invalidate_inode_pages2_range', 'invalidate:invalidate_mapping_pages', 'truncate:truncate_pagecache'];
    const family = (k: string): OpenCall['family'] => k.split(':')[0] as OpenCall['family'];
    const step = fc.tuple(fc.constantFrom('set', 'delete', 'copy'), fc.constantFrom(...keys), fc.integer({ min: 0, max: 50 }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let calls = new OpenCalls();
        let plain = new Map<string, OpenCall>();
        for (const [what, key, seq] of steps) {
          if (what === 'set') {
            const c = { op: { kind: 'fault_begin' }, seq, nested: false, family: family(key), key } as OpenCall;
            calls.set(c);
            plain.set(key, c);
          } else if (what === 'delete') {
            calls.delete(key);
            plain.delete(key);
          } else {
            const old = calls;
            calls = calls.copy();
            plain = new Map(plain);
            old.delete(key);
          } // the copy must not see the old one change
          expect(calls.size).toBe(plain.size);
          expect(calls.entries()).toEqual([...plain.entries()]);
          expect(calls.keys()).toEqual([...plain.keys()]);
          expect(calls.get(key)).toBe(plain.get(key));
          for (const f of ['fault', 'invalidate', 'truncate'] as const) {
            expect(calls.otherOf(f, key)).toBe([...plain.values()].some((c) => c.family === f && c.key !== key));
            let oldest: OpenCall | undefined;
            for (const c of plain.values()) if (c.family === f && (!oldest || c.seq < oldest.seq)) oldest = c;
            expect(calls.oldestOf(f)).toBe(oldest);
          }
        }
      }),
    );
  });

  it('promiseKey: one key per range, and no two ranges share one (numbers while both ends fit 26 bits, `start:end` beyond)', () => {
    const end = fc.oneof(
      fc.integer({ min: 0, max: 70 }),
      fc.integer({ min: 2 ** 26 - 3, max: 2 ** 26 + 3 }),
      fc.maxSafeNat(),
      fc.constant(Number.MAX_SAFE_INTEGER),
      fc.integer({ min: -5, max: -1 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(end, end), { maxLength: 60 }), (ranges) => {
        const byKey = new Map<number | string, string>();
        for (const [s, e] of ranges) {
          const k = promiseKey(s, e);
          expect(promiseKey(s, e)).toBe(k);
          const plain = `${s}:${e}`;
          expect(byKey.get(k) ?? plain).toBe(plain);
          byKey.set(k, plain);
        }
      }),
    );
  });

  it('OpCounts: the counts, and the sorted record of kinds seen, a Map by kind gave (copies independent)', () => {
    const kinds: MmOpKind[] = [
      'fault_begin',
      'fault_end',
      'cache_add',
      'cache_delete',
      'pte_map',
      'pte_unmap',
      'invalidate_begin',
      'invalidate_end',
      'truncate_begin',
      'truncate_end',
      'unmap_range',
      'isize_set',
      'page_lock',
      'page_unlock',
      'marker',
      'task_exit',
    ];
    const step = fc.tuple(fc.constantFrom('add', 'add', 'add', 'copy'), fc.constantFrom(...kinds));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        let counts = new OpCounts();
        let plain = new Map<MmOpKind, number>();
        for (const [what, kind] of steps) {
          if (what === 'add') {
            counts.add(kind);
            plain.set(kind, (plain.get(kind) ?? 0) + 1);
          } else {
            const old = counts;
            counts = new OpCounts(counts);
            plain = new Map(plain);
            old.add(kind);
          } // the copy must not see the old one change
          for (const k of kinds) expect(counts.get(k)).toBe(plain.get(k) ?? 0);
          const record: Record<string, number> = {};
          for (const k of [...plain.keys()].sort()) record[k] = plain.get(k)!;
          expect(JSON.stringify(counts.toRecord())).toBe(JSON.stringify(record)); // key order too
        }
      }),
    );
  });

  it('argsReader: readers of one text (a factory shared by those with the same converters) each convert with their own converters and name their own fields', () => {
    // the same fields into the same targets, so one reader text: only the converters differ
    const ino: Arg['read'] = (raw) => (typeof raw === 'number' ? raw : undefined);
    const layout = (read: Arg['read'], as: Arg['as']): Arg[] => [
      { target: 'ret', field: 'ret', alt: ['arg1'], as, read },
      { target: 'ino', field: 'ino', alt: undefined, as: 'number', read: ino },
    ];
    const factories = new Map<string, ReaderFactory>();
    const toNumber: Arg['read'] = (raw) => (typeof raw === 'number' && raw >= 0 ? raw : undefined);
    const asNumber = argsReader(layout(toNumber, 'number'), factories);
    const asSigned = argsReader(
      layout((raw) => (typeof raw === 'number' ? -raw : undefined), 'signed'),
      factories,
    );
    const asText = argsReader(
      layout((raw) => (raw === null ? undefined : `t${String(raw)}`), 'string'),
      factories,
    );
    // the same converters: one factory; others: one each
    const asPfn = argsReader(layout(toNumber, 'pfn'), factories);
    expect(factories.size).toBe(3);
    expect(asNumber.toString()).toBe(asSigned.toString());
    const ev = { type: 'event', event: 'e' } as unknown as TraceEvent;
    const read = (r: typeof asNumber, fields: Fields) => {
      const v: Record<string, unknown> = {};
      const why = r(fields, v as Values, ev);
      return { why, v };
    };
    // interleaved, so that no reader sees another's converters or arguments
    for (let round = 0; round < 3; round++) {
      expect(read(asNumber, { ret: 5, ino: 7 })).toStrictEqual({ why: undefined, v: { ret: 5, ino: 7 } });
      expect(read(asSigned, { ret: 5, ino: 7 })).toStrictEqual({ why: undefined, v: { ret: -5, ino: 7 } });
      expect(read(asText, { arg1: 5, ino: 7 })).toStrictEqual({ why: undefined, v: { ret: 't5', ino: 7 } });
      expect(read(asNumber, { arg1: -1, ino: 7 })).toStrictEqual({ why: 'arg1=-1 is not an integer', v: {} });
      expect(read(asSigned, { ret: 'x', ino: 7 })).toStrictEqual({ why: 'ret=x is not a signed', v: {} });
      expect(read(asText, { ret: null, ino: 7 })).toStrictEqual({ why: 'ret=null is not a string', v: {} });
      expect(read(asSigned, { ino: 'y' })).toStrictEqual({ why: 'ino=y is not an integer', v: { ret: undefined } });
      expect(read(asPfn, { ret: 3, ino: 7 })).toStrictEqual({ why: undefined, v: { ret: 3, ino: 7 } });
      expect(read(asPfn, { ret: -3, ino: 7 })).toStrictEqual({ why: 'ret=-3 is not a pfn', v: {} });
    }
  });

  it('argsReader: the compiled reader stores, converts and refuses what the loop over the arguments did, whatever the names', () => {
    const names = ['dev', 'ino', 'a.b', 'x"y', 'back\\slash', '0', '12', '__proto__', 'toString', 'nope', 'ünï', 'a\nb', '$x', 'constructor'];
    const targets = ['dev', 'ino', 'index', 'pfn', 'address', 'ret', 'mapcount', 'order', 'unknown_target'] as const;
    const name = fc.constantFrom(...names);
    const value = fc.oneof(fc.integer({ min: -5, max: 50 }), fc.string({ maxLength: 3 }), fc.constant(null)) as fc.Arbitrary<FieldValue>;
    // converters as the adapter's are: undefined for what does not convert (here: negative numbers, strings that are not digits)
    const conversions: Array<[Arg['as'], Arg['read']]> = [
      ['number', (raw) => (typeof raw === 'number' && raw >= 0 ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined)],
      ['signed', (raw) => (typeof raw === 'number' ? raw : undefined)],
      ['string', (raw) => (raw === null ? undefined : String(raw))],
    ];
    const arg = fc
      .record({
        target: fc.constantFrom(...targets),
        field: name,
        alt: fc.option(fc.array(name, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        conv: fc.integer({ min: 0, max: 2 }),
      })
      .map(({ target, field, alt, conv }): Arg => ({ target: target as Arg['target'], field, alt, as: conversions[conv]![0], read: conversions[conv]![1] }));
    /** The loop it replaced (probe-adapter.ts before session 8), with its store's switch as a set of known targets. */
    const plain = (args: Arg[], fields: Fields, v: Record<string, unknown>, ev: TraceEvent): string | undefined => {
      for (const a of args) {
        let field = a.field;
        let raw = fields[a.field];
        if (raw === undefined && a.alt)
          for (const f of a.alt) {
            raw = fields[f];
            if (raw !== undefined) {
              field = f;
              break;
            }
          }
        const known = a.target !== ('unknown_target' as string);
        if (raw === undefined) {
          if (known) v[a.target] = undefined;
          continue;
        }
        const conv = a.read(raw, ev);
        if (conv === undefined) return `${field}=${String(raw)} is not ${a.as === 'number' ? 'an integer' : `a ${a.as}`}`;
        if (known) v[a.target] = conv;
      }
      return undefined;
    };
    const ev = { type: 'event', event: 'e' } as unknown as TraceEvent;
    fc.assert(
      fc.property(
        fc.array(arg, { maxLength: 6 }),
        fc.dictionary(name, value),
        fc.dictionary(fc.constantFrom(...targets), fc.integer()),
        (args, obj, before) => {
          const fields = JSON.parse(JSON.stringify(obj)) as Fields; // own properties, `__proto__` included
          const a: Record<string, unknown> = { ...before };
          const b: Record<string, unknown> = { ...before };
          expect(argsReader(args)(fields, a as Values, ev)).toBe(plain(args, fields, b, ev));
          expect(a).toStrictEqual(b);
          expect(Object.keys(a)).toEqual(Object.keys(b));
        },
      ),
    );
  });

  it("makeOp: every kind in one shape (ShapedOp's keys, in its order), holding only the fields its own object had before", () => {
    // the fields of each kind's object literal before session 8 (probe-adapter.ts), beside kind and event
    const hadFields: Record<string, string[]> = {
      cache_add: ['file', 'index', 'pfn', 'order'],
      cache_delete: ['file', 'index', 'pfn', 'order'],
      pte_map: ['pfn', 'nr', 'file', 'index', 'address', 'mapcount'],
      pte_unmap: ['pfn', 'nr', 'file', 'index', 'address', 'mapcount'],
      fault_begin: ['file', 'index', 'address'],
      fault_end: ['file', 'index', 'ret'],
      invalidate_begin: ['fn', 'file', 'start', 'end'],
      invalidate_end: ['fn', 'file', 'ret'],
      truncate_begin: ['fn', 'file', 'start', 'end', 'size'],
      truncate_end: ['fn', 'file', 'ret'],
      unmap_range: ['fn', 'file', 'start', 'end', 'pfn'],
      isize_set: ['file', 'size'],
      page_lock: ['pfn'],
      page_unlock: ['pfn'],
      task_exit: [],
    };
    const ev = { type: 'event', event: 'e' } as unknown as TraceEvent;
    const shape = Object.keys(shapedOp('marker', ev));
    const fns = {
      invalidate_begin: 'invalidate_inode_pages2_range',
      invalidate_end: 'invalidate_mapping_pages',
      truncate_begin: 'truncate_pagecache',
      truncate_end: 'vmtruncate',
    } as Record<string, string>;
    const n = fc.option(fc.integer({ min: 0, max: 4096 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(hadFields)),
        fc.record({
          dev: fc.constantFrom('8:1', undefined),
          ino: n,
          index: n,
          pfn: n,
          address: n,
          start: n,
          end: n,
          ret: n,
          size: n,
          mapcount: n,
          order: fc.constantFrom(0, undefined),
          nr: fc.constantFrom(1, 2, undefined),
        }),
        (kind, values) => {
          const made = makeOp(kind as Parameters<typeof makeOp>[0], fns[kind], values as Values, ev, new FileRefs());
          if (typeof made === 'string') return;
          expect(Object.keys(made)).toEqual(shape);
          const own = made as unknown as Record<string, unknown>;
          for (const k of shape) if (k !== 'kind' && k !== 'event' && !hadFields[kind]!.includes(k)) expect([k, own[k]]).toEqual([k, undefined]);
          expect([made.kind, made.event]).toEqual([kind, ev]);
        },
      ),
    );
  });

  it('Shadow: PTEs by address space and address answer as the `mm:address` string keys did (pteAt, restorePte, a replaced mapping)', () => {
    const big = 2n ** 60n;
    const step = fc.tuple(
      fc.constantFrom('map', 'unmap', 'restore'),
      fc.constantFrom(7, 8),
      fc.constantFrom(0x1000n, 0x2000n, big, big + 0x1000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n),
      fc.integer({ min: 0, max: 3 }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const sh = new Shadow();
        const plain = new Map<string, PageRec>();
        const recs = [0, 1, 2, 3].map((i) => sh.newPage(BigInt(0x100 + i), 0, true));
        for (const [what, pid, address, r] of steps) {
          const ev = { type: 'event', event: 'e', pid, cpu: 0, line: 1, ts: 0n } as unknown as TraceEvent;
          const key = sh.pteKey(ev, address);
          expect(key).toBe(`${pid}:${address}`);
          const rec = recs[r]!;
          if (what === 'map') {
            const prev = plain.get(key);
            const only = prev?.mapcount === 1 && prev.maps.length === 1 ? prev.maps[0]! : undefined;
            const replaced = prev && only && only.address === address && only.ev.pid === pid ? 1 : 0;
            expect(sh.mapped(rec, { ev, address })).toBe(replaced);
            plain.set(key, rec);
          } else if (what === 'unmap') {
            if (rec.mapcount === 0) continue;
            sh.unmapped(rec, address, ev);
            if (plain.get(key) === rec) plain.delete(key);
          } else {
            const back = r === 3 ? undefined : rec;
            sh.restorePte(key, back);
            if (back) plain.set(key, back);
            else plain.delete(key);
          }
          for (const p of [7, 8])
            for (const a of [0x1000n, 0x2000n, big, big + 0x1000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n])
              expect(sh.pteAt(`${p}:${a}`)).toBe(plain.get(`${p}:${a}`));
        }
      }),
    );
  });

  it("Shadow.unmapped: the cites left and their order are findIndex's and splice's (the first cite of the address goes, else the oldest past the count)", () => {
    // few addresses, mostly maps: a cite list often holds one address twice, apart (the first goes)
    const addr = fc.constantFrom<bigint | undefined>(undefined, 0x1000n, 0x2000n, 2n ** 60n);
    const step = fc.tuple(fc.constantFrom(true, true, false), addr);
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const sh = new Shadow();
        const rec = sh.newPage(0x100n, 0, true);
        const plain: Array<bigint | undefined> = [];
        let mapcount = 0;
        let pid = 100;
        for (const [map, address] of steps) {
          // each mapping from its own address space: none replaces another (mapped's own rule, tested above)
          const ev = { type: 'event', event: 'e', pid: pid++, cpu: 0, line: 1, ts: 0n } as unknown as TraceEvent;
          if (map) {
            sh.mapped(rec, { ev, address });
            mapcount++;
            plain.push(address);
            if (plain.length > 4) plain.shift();
          } else {
            if (rec.mapcount === 0) continue;
            sh.unmapped(rec, address, ev);
            mapcount--;
            // the code it replaced
            const i = address === undefined ? -1 : plain.findIndex((a) => a === address);
            if (i >= 0) plain.splice(i, 1);
            else if (plain.length > mapcount) plain.shift();
          }
          expect(rec.maps.map((m) => m.address)).toEqual(plain);
        }
      }),
    );
    // one address mapped twice, apart: its first cite goes
    const sh = new Shadow();
    const rec = sh.newPage(0x200n, 0, true);
    const ev = (pid: number) => ({ type: 'event', event: 'e', pid, cpu: 0, line: pid, ts: 0n }) as unknown as TraceEvent;
    for (const [pid, address] of [
      [1, 0x1000n],
      [2, 0x2000n],
      [3, 0x1000n],
    ] as const)
      sh.mapped(rec, { ev: ev(pid), address });
    sh.unmapped(rec, 0x1000n, ev(4));
    expect(rec.maps.map((m) => [m.ev.pid, m.address])).toEqual([
      [2, 0x2000n],
      [3, 0x1000n],
    ]);
  });

  it("Shadow.task: a task's comm is the last op's, whether the string is the same object or an equal copy", () => {
    const sh = new Shadow();
    const ev = (pid: number, comm: string) => ({ pid, comm }) as unknown as TraceEvent;
    const a = sh.task(ev(5, 'kr-fault'));
    expect(sh.task(ev(5, ['kr', 'fault'].join('-')))).toBe(a);
    expect(a.comm).toBe('kr-fault');
    sh.task(ev(6, 'other'));
    expect(sh.task(ev(5, 'renamed')).comm).toBe('renamed');
    expect(sh.task(ev(6, 'other2')).comm).toBe('other2');
  });

  it('ReturnCounts: the functions, values and counts a Map of Maps gave, in its order', () => {
    const ret = fc.tuple(fc.constantFrom('filemap_fault', 'fault', 'invalidate_inode_pages2_range'), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(fc.array(ret, { maxLength: 80 }), (rets) => {
        const counts = new ReturnCounts();
        const plain = new Map<string, Map<number, number>>();
        for (const [fn, r] of rets) {
          counts.add(fn, r);
          let m = plain.get(fn);
          if (!m) {
            m = new Map();
            plain.set(fn, m);
          }
          m.set(r, (m.get(r) ?? 0) + 1);
        }
        expect(counts.functions()).toEqual([...plain.keys()]);
        for (const fn of plain.keys()) expect(counts.counts(fn)).toEqual([...plain.get(fn)!.entries()]);
      }),
    );
  });

  it('EventNames: one entry per name gives the used and unknown counts, first probes and order two counters by name gave', () => {
    // an adapter whose `print` events are lifted one by one (the explore adapter's markers) and other names by name
    const lifted = (ev: TraceEvent): Lifted =>
      ev.event === 'print' ? (ev.line % 2 ? null : ({ kind: 'marker' } as MmOp)) : ev.event.startsWith('u') ? null : ({ kind: 'page_lock' } as MmOp);
    const adapter: Adapter = { name: 'test', lift: lifted, lifterFor: () => lifted };
    const event = fc.tuple(fc.constantFrom('print', 'u1', 'u2', 'k1', 'k2'), fc.integer({ min: 0, max: 9 }));
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (evs) => {
        const names = new EventNames(adapter);
        const used = new Map<string, number>();
        const unknown = new Map<string, { n: number; probe: unknown }>();
        for (const [name, line] of evs) {
          const ev = { type: 'event', event: name, line, probe: { kind: 'kprobe', func: `${name}${line}` } } as unknown as TraceEvent;
          const e = names.of(ev);
          const l = e.lift(ev);
          if (l === null) {
            names.unknown(e, ev);
            const c = unknown.get(name);
            if (c) c.n++;
            else unknown.set(name, { n: 1, probe: ev.probe });
          } else {
            e.used++;
            used.set(name, (used.get(name) ?? 0) + 1);
          }
        }
        const sorted = (m: Map<string, number>) => Object.fromEntries([...m.keys()].sort().map((k) => [k, m.get(k)]));
        expect(JSON.stringify(names.used())).toBe(JSON.stringify(sorted(used)));
        expect(JSON.stringify(names.unknownByEvent())).toBe(JSON.stringify(sorted(new Map([...unknown].map(([k, c]) => [k, c.n])))));
        expect(names.unknownEntries()).toEqual([...unknown].map(([k, c]) => [k, c.n, c.probe]));
      }),
    );
  });

  it('flat: the same string, whatever it was joined from (template literals, +, join, empty)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.integer(), fc.bigInt()), { maxLength: 12 }), (parts) => {
        const joined = parts.reduce<string>((acc, p) => `${acc} ${p}:`, '');
        const plain = parts.map((p) => ` ${p}:`).join('');
        expect(flat(joined)).toBe(joined);
        expect(joined).toBe(plain);
        if (joined.length) expect(lastFlattened()).toBe(plain.charCodeAt(0));
        expect(flat('')).toBe('');
      }),
    );
  });

  it("FileRefs: the last ref returned, and the last device's inodes, are what the maps hold (one object per (dev, ino); a number and a bigint ino differ as Map keys do)", () => {
    const key = fc.tuple(fc.constantFrom('8:1', '254:0', '?'), fc.oneof(fc.integer({ min: 1, max: 4 }), fc.bigInt({ min: 1n, max: 4n })));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 80 }), (keys) => {
        const refs = new FileRefs();
        const plain = new Map<string, { dev: string; ino: bigint }>();
        for (const [dev, ino] of keys) {
          const r = refs.get(dev, ino);
          const k = `${dev}|${typeof ino}|${ino}`;
          expect(plain.get(k) ?? r).toBe(r);
          plain.set(k, r);
          expect([r.dev, r.ino]).toEqual([dev, BigInt(ino)]);
        }
      }),
    );
  });

  it('Shadow.file: the last ref found answers as the lookups did (one file per ref, a `?` device matched by inode while one file has it)', () => {
    const refs = ['8:1', '254:0', UNKNOWN_DEV].flatMap((dev) => [1n, 2n].map((ino): FileRef => ({ dev, ino })));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: refs.length - 1 }), { maxLength: 80 }), (picks) => {
        const sh = new Shadow();
        // the lookups without the last ref: by ref, else a `?` device's one file with the inode, else by key
        const byRef = new Map<FileRef, FileState>();
        const byKey = new Map<string, FileState>();
        const plain = (ref: FileRef): FileState | undefined => {
          const known = byRef.get(ref);
          if (known) return known;
          if (ref.dev === UNKNOWN_DEV) {
            const same = [...byKey.values()].filter((f) => f.ref.dev !== UNKNOWN_DEV && f.ref.ino === ref.ino);
            if (same.length === 1) return same[0];
          }
          return byKey.get(fileKey(ref));
        };
        for (const k of picks) {
          const ref = refs[k]!;
          const want = plain(ref);
          const f = sh.file(ref);
          if (want) expect(f).toBe(want);
          else expect(f.key).toBe(fileKey(ref));
          byKey.set(f.key, f);
          if (ref.dev !== UNKNOWN_DEV) byRef.set(ref, f);
        }
      }),
      { examples: [[[0, 4, 2, 4]]] },
    ); // `?` ino 1 is 8:1's file, then, once 254:0 has an ino 1 too, a file of its own
  });

  it('page records and tasks have every field from the start, in one order (one hidden class whatever a life went through)', () => {
    const sh = new Shadow();
    const keys = [
      'pfn',
      'file',
      'index',
      'inCache',
      'mapcount',
      'born',
      'add',
      'del',
      'delCall',
      'delFn',
      'delSeq',
      'maps',
      'cacheSync',
      'mapSync',
      'cacheUnsure',
      'mapUnsure',
      'staleUnsure',
      'bornSeq',
      'survived',
      'cpus',
      'cpusAll',
    ];
    const f = sh.file({ dev: '8:1', ino: 5n });
    const recs = [sh.newPage(1n, 1, false), sh.addPage(2n, 2, f, 0), sh.newPage(2n, 3, false, f, 0), sh.newPage(3n, 4, true, f, 1, true)];
    for (const r of recs) expect(Object.keys(r)).toEqual(keys);
    // the fields PageRec declares are the ones a record has
    const declared: Record<keyof PageRec, true> = Object.fromEntries(keys.map((k) => [k, true])) as Record<keyof PageRec, true>;
    expect(Object.keys(declared)).toEqual(keys);
    const ev = { type: 'event', event: 'e', pid: 9, comm: 'x', cpu: 0, line: 1, ts: 0n } as unknown as TraceEvent;
    const task: Record<keyof TaskState, unknown> = sh.task(ev);
    // every field TaskState declares, those set only as a task's ops go on (lastSeq, merged, copy, exitSeq, exit, placedPte) too
    const taskKeys = ['comm', 'calls', 'last', 'lastSeq', 'merged', 'fault', 'copy', 'entered', 'exitSeq', 'exit', 'placedPte'];
    expect(Object.keys(task)).toEqual(taskKeys);
    const declaredTask: Record<keyof TaskState, true> = Object.fromEntries(taskKeys.map((k) => [k, true])) as Record<keyof TaskState, true>;
    expect(Object.keys(declaredTask)).toEqual(taskKeys);
  });
});

describe('what replay holds while the evidence chooses the kernel, and a page added where it was', () => {
  it('heldCopy: a new record and fields object with the same keys, in order, and values (a `__proto__` field, frozen fields kept as they are)', () => {
    const value = fc.oneof(fc.integer(), fc.bigInt(), fc.string());
    const name = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'ofs', 'index', '0', 'pfn'), fc.string({ maxLength: 4 }));
    const optional = fc.record(
      {
        tgid: fc.integer({ min: 1, max: 9 }),
        flags: fc.constant('d..1.'),
        system: fc.constant('kprobes'),
        probe: fc.constant({ kind: 'kprobe', func: 'f' }),
        stack: fc.constant(['=> a']),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), optional, fc.boolean(), (pairs, extra, frozen) => {
        const fields: Fields = {};
        // as the parser stores a field (values.ts): an own property even for `__proto__`
        for (const [k, v] of pairs) Object.defineProperty(fields, k, { value: v, enumerable: true, writable: true, configurable: true });
        if (frozen) Object.freeze(fields);
        const ev = { type: 'event', ts: 5n, cpu: 1, pid: 2, ...extra, comm: 'c', event: 'e', fields, line: 3, source: 's' } as TraceEvent;
        const copy = heldCopy(ev);
        expect(copy).not.toBe(ev);
        expect(Object.keys(copy)).toEqual(Object.keys(ev));
        for (const k of Object.keys(ev) as Array<keyof TraceEvent>) if (k !== 'fields') expect(copy[k]).toBe(ev[k]);
        if (frozen) expect(copy.fields).toBe(fields);
        else expect(copy.fields).not.toBe(fields);
        expect(Object.keys(copy.fields)).toEqual(Object.keys(fields));
        expect(Object.getPrototypeOf(copy.fields)).toBe(Object.getPrototypeOf(fields));
        for (const k of Object.keys(fields)) expect(Object.getOwnPropertyDescriptor(copy.fields, k)?.value).toBe(fields[k]);
      }),
    );
  });

  it("Shadow.addPage: the page lives and cache slots newPage + insert gave, whichever slot the pfn held before (only the Map's order differs)", () => {
    const step = fc.tuple(
      fc.constantFrom('add', 'add', 'adopt', 'remove'),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 1 }),
      fc.integer({ min: 0, max: 3 }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const [fast, plain] = [new Shadow(), new Shadow()];
        const files = [fast, plain].map((sh) => [1n, 2n].map((ino) => sh.file({ dev: '8:1', ino })));
        const state = (sh: Shadow, fs: FileState[]) => [
          [0, 1, 2, 3].map((p) => {
            const r = sh.page(BigInt(p));
            return r && [r.inCache, r.born, r.bornSeq, r.file?.key, r.index];
          }),
          fs.map((f) => [...f.cache.entries()].sort((a, b) => a[0] - b[0]).map(([i, r]) => [i, Number(r.pfn), r.bornSeq])),
        ];
        steps.forEach(([what, pfn, file, index], seq) => {
          if (what === 'add') {
            fast.addPage(BigInt(pfn), seq, files[0]![file]!, index);
            plain.insert(plain.newPage(BigInt(pfn), seq, true, files[1]![file]!, index));
          } else if (what === 'adopt') {
            fast.newPage(BigInt(pfn), seq, false, files[0]![file]!, index);
            plain.newPage(BigInt(pfn), seq, false, files[1]![file]!, index);
          } else {
            const [a, b] = [fast.page(BigInt(pfn)), plain.page(BigInt(pfn))];
            if (a) fast.remove(a, seq);
            if (b) plain.remove(b, seq);
          }
          expect(state(fast, files[0]!)).toEqual(state(plain, files[1]!));
        });
      }),
    );
  });
});

describe('replaying in input order (InOrder) gives what the reorder window gave', () => {
  // records mostly in timestamp order, with steps back on their own CPU or another one
  const records = fc.array(fc.record({ cpu: fc.integer({ min: -1, max: 3 }), step: fc.integer({ min: -3, max: 4 }) }), { maxLength: 60 });

  it('on any input: the same records, late marks and order, or ReorderNeeded exactly where the window moves a record', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 1, max: 9 }), fc.array(fc.nat(60), { maxLength: 20 }), (rs, window, fresh) => {
        let ts = 100n;
        const input = rs.map((r, id) => ({ id, cpu: r.cpu, ts: (ts += BigInt(r.step)) }));
        const plain: unknown[] = [];
        const buffer = new ReorderBuffer<number>(window, (id, late, t) => plain.push([id, late, t]));
        for (const r of input) buffer.push(r.id, r.ts, r.cpu);
        buffer.drain();
        const fast: unknown[] = [];
        const inOrder = new InOrder<number>((id, late, t) => fast.push([id, late, t]));
        try {
          // runs of records begin anywhere (replay calls fresh() per run): the box of timestamps is made again
          for (const r of input) {
            if (fresh.includes(r.id)) inOrder.fresh();
            inOrder.push(r.id, r.ts, r.cpu);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ReorderNeeded);
          // the window replayed some record out of input order (replayFile starts again through it)
          expect(plain.map((p) => (p as number[])[0])).not.toEqual(input.map((r) => r.id));
          return;
        }
        expect(fast).toEqual(plain);
        expect(inOrder.late).toBe(buffer.late);
      }),
      { numRuns: 2000 },
    );
  });

  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/replay');
  const traces = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join(root, d.name, 'trace.txt'));
  /** What replayFile did before InOrder: the records through the reorder window. */
  const plainReplay = async (file: string, source: string): Promise<string> => {
    const metaSource = findTraceMeta(file)!;
    const meta = await readTraceMeta(metaSource);
    const r = await replay(openTraceBatches(file, { source }), { source, meta, metaSource });
    await citeVerbatim(file, r.findings);
    return formatJson(r, { timing: false });
  };

  it('replayFile (in order, or again through the window when a record is out of order) gives the plain replay, byte for byte', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-inorder-'));
    let disordered = 0;
    for (const file of traces) {
      const fast = formatJson(await replayFile(file, { source: 'trace.txt' }), { timing: false });
      expect(fast).toBe(await plainReplay(file, 'trace.txt'));
      // the same trace with each pair of neighbouring events of two CPUs swapped where that puts an earlier timestamp second
      const lines = readFileSync(file, 'utf8').split('\n');
      const head = (l: string) => /\[(\d+)\]\s+\S+\s+([\d.]+):/.exec(l);
      let swapped = false;
      for (let i = 0; i + 1 < lines.length; i++) {
        const a = head(lines[i]!),
          b = head(lines[i + 1]!);
        if (a && b && a[1] !== b[1] && Number(a[2]) < Number(b[2])) {
          [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
          swapped = true;
          i++;
        }
      }
      if (!swapped) continue;
      const dir = mkdtempSync(path.join(tmp, 'd-'));
      const out = path.join(dir, 'trace.txt');
      writeFileSync(out, lines.join('\n'));
      copyFileSync(path.join(path.dirname(file), 'meta.json'), path.join(dir, 'meta.json'));
      expect(formatJson(await replayFile(out, { source: 'trace.txt' }), { timing: false })).toBe(await plainReplay(out, 'trace.txt'));
      const meta = await readTraceMeta(path.join(dir, 'meta.json'));
      await replay(openTraceBatches(out), { meta, inOrder: true }).catch((e: unknown) => {
        if (e instanceof ReorderNeeded) disordered++;
        else throw e;
      });
    }
    expect(disordered).toBeGreaterThan(3); // traces whose replay went back through the window
  });
});
