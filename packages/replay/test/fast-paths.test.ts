/**
 * The shortcuts replay's hot path takes (issue 16, "replay at parse speed") against the
 * straightforward code they replaced: each must give exactly what the plain version gave.
 * (Whole replays are compared end to end by the goldens, the fixtures and the tie search's
 * oracle test in ties.test.ts.)
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GapTracker, type GapMark } from '../src/certainty.js';
import { toBig } from '../src/fields.js';
import { LatencyRecorder } from '../src/latency-histogram.js';
import { cachedInRange, OpenCalls, promiseKey, type FileState, type OpenCall, type PageRec } from '../src/shadow.js';
import { FileRefs, rawReader } from '../src/adapters/probe-adapter.js';
import { OpCounts } from '../src/op-counts.js';
import type { FieldValue, Fields, MmOpKind } from '@kreplay/core';
import { InOrder, ReorderBuffer, ReorderNeeded } from '../src/order.js';
import { citeVerbatim, formatJson, replay, replayFile } from '../src/index.js';
import { openTraceBatches } from '@kreplay/ftrace-parser';
import { findTraceMeta, readTraceMeta } from '@kreplay/core';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The gap tracker as it was: every event looks its CPU's mark up. */
class PlainGapTracker {
  private readonly perCpu = new Map<number, GapMark>();
  private anyCpu: GapMark | undefined;
  record(mark: GapMark): void {
    if (mark.cpu === undefined) this.anyCpu = mark;
    else this.perCpu.set(mark.cpu, mark);
  }
  event(cpu: number, seq: number): void {
    const g = this.perCpu.get(cpu);
    if (g && g.end === undefined) this.perCpu.set(cpu, { ...g, end: seq });
    if (this.anyCpu && this.anyCpu.end === undefined) this.anyCpu = { ...this.anyCpu, end: seq };
  }
  since(cpus: Iterable<number>, since: number): GapMark | undefined {
    const after = (g: GapMark | undefined) => g !== undefined && (g.end ?? Infinity) > since;
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
  | { t: 'event'; cpu: number }
  | { t: 'query'; cpus: number[]; back: number }
  | { t: 'save' }
  | { t: 'restore' };

const cpu = fc.integer({ min: 0, max: 3 });
const gapStep: fc.Arbitrary<GapStep> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('gap' as const), cpu: fc.option(cpu, { nil: undefined }), ended: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('event' as const), cpu }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('query' as const), cpus: fc.uniqueArray(cpu, { maxLength: 4 }), back: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'save' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'restore' as const }) },
);

describe('replay fast paths give what the plain code gave', () => {
  it('GapTracker: skipping the per-event lookup while no gap is open changes no answer (with the tie search\'s save/restore)', () => {
    fc.assert(fc.property(fc.array(gapStep, { maxLength: 120 }), (steps) => {
      const fast = new GapTracker();
      const plain = new PlainGapTracker();
      let seq = 0;
      let saved: Array<() => void> | undefined;
      for (const s of steps) {
        if (s.t === 'gap') {
          const mark: GapMark = { seq: ++seq, line: seq, source: 't', reason: 'r', cpu: s.cpu, ...(s.ended ? { end: seq } : {}) };
          fast.record(mark);
          plain.record(mark);
        } else if (s.t === 'event') {
          ++seq;
          fast.event(s.cpu, seq);
          plain.event(s.cpu, seq);
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
    }));
  });

  it('cachedInRange visits exactly the cached pages whose index is in the range, narrow or wide', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: -5, max: 200 }), { maxLength: 60 }),
      fc.integer({ min: -10, max: 210 }),
      fc.oneof(fc.integer({ min: -10, max: 210 }), fc.constant(Number.MAX_SAFE_INTEGER)),
      (indexes, start, end) => {
        const cache = new Map<number, PageRec>();
        for (const i of indexes) cache.set(i, { index: i } as PageRec);
        const f = { cache } as FileState;
        const seen: number[] = [];
        cachedInRange(f, start, end, (rec) => seen.push(rec.index!));
        const plain = [...cache.keys()].filter((i) => i >= start && i <= end);
        expect(seen.sort((a, b) => a - b)).toEqual(plain.sort((a, b) => a - b));
      },
    ));
  });

  it('toBig: the cached bigint of a number is BigInt(number), whatever collides in its slot', () => {
    // numbers that share a slot (equal low 12 bits) come one after another
    const n = fc.oneof(fc.integer({ min: 0, max: 8192 }), fc.integer({ min: -8192, max: 0 }), fc.maxSafeNat(), fc.integer().map((x) => x * 4096));
    fc.assert(fc.property(fc.array(n, { maxLength: 200 }), (xs) => {
      for (const x of xs) {
        expect(toBig(x)).toBe(BigInt(x));
        expect(toBig(x + 4096)).toBe(BigInt(x + 4096));
        expect(toBig(x)).toBe(BigInt(x));
      }
    }));
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
    const value = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 2 ** 31 + 5 }), fc.integer({ min: 2 ** 31 - 40, max: 2 ** 31 + 40 }), fc.maxSafeNat());
    fc.assert(fc.property(fc.array(value, { minLength: 1, maxLength: 100 }), (vs) => {
      const r = new LatencyRecorder();
      const counts = new Map<number, number>();
      for (const v of vs) {
        r.add(BigInt(v));
        const b = plainBucket(v);
        counts.set(b, (counts.get(b) ?? 0) + 1);
      }
      const expected = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([b, k]) => [plainLower(b), k]);
      expect(r.toJSON().buckets).toEqual(expected);
    }));
  });

  it('LatencyRecorder.addSpan: the numbers\' difference where both timestamps are exact, the bigint one beyond — the same histogram and samples as add(end - begin)', () => {
    const ts = fc.oneof(fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) - 9n, max: BigInt(Number.MAX_SAFE_INTEGER) + 9n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: -5n, max: 5n }));
    fc.assert(fc.property(fc.array(fc.tuple(ts, ts), { minLength: 1, maxLength: 60 }), (spans) => {
      const fast = new LatencyRecorder();
      const plain = new LatencyRecorder();
      for (const [b, e] of spans) { fast.addSpan(b, e); plain.add(e - b); }
      expect(fast.toJSON()).toEqual(plain.toJSON());
      expect(fast.samples()).toEqual(plain.samples());
    }));
  });

  it('OpenCalls: the calls, their order and every answer a Map by key gave (set in place, delete, copies independent)', () => {
    const keys = ['fault', 'invalidate:invalidate_inode_pages2_range', 'invalidate:invalidate_mapping_pages', 'truncate:truncate_pagecache'];
    const family = (k: string): OpenCall['family'] => k.split(':')[0] as OpenCall['family'];
    const step = fc.tuple(fc.constantFrom('set', 'delete', 'copy'), fc.constantFrom(...keys), fc.integer({ min: 0, max: 50 }));
    fc.assert(fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      let calls = new OpenCalls();
      let plain = new Map<string, OpenCall>();
      for (const [what, key, seq] of steps) {
        if (what === 'set') {
          const c = { op: { kind: 'fault_begin' }, seq, nested: false, family: family(key), key } as OpenCall;
          calls.set(c); plain.set(key, c);
        } else if (what === 'delete') { calls.delete(key); plain.delete(key); }
        else { const old = calls; calls = calls.copy(); plain = new Map(plain); old.delete(key); } // the copy must not see the old one change
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
    }));
  });

  it('promiseKey: one key per range, and no two ranges share one (numbers while both ends fit 26 bits, `start:end` beyond)', () => {
    const end = fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 2 ** 26 - 3, max: 2 ** 26 + 3 }), fc.maxSafeNat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: -5, max: -1 }));
    fc.assert(fc.property(fc.array(fc.tuple(end, end), { maxLength: 60 }), (ranges) => {
      const byKey = new Map<number | string, string>();
      for (const [s, e] of ranges) {
        const k = promiseKey(s, e);
        expect(promiseKey(s, e)).toBe(k);
        const plain = `${s}:${e}`;
        expect(byKey.get(k) ?? plain).toBe(plain);
        byKey.set(k, plain);
      }
    }));
  });

  it('OpCounts: the counts, and the sorted record of kinds seen, a Map by kind gave (copies independent)', () => {
    const kinds: MmOpKind[] = ['fault_begin', 'fault_end', 'cache_add', 'cache_delete', 'pte_map', 'pte_unmap', 'invalidate_begin', 'invalidate_end',
      'truncate_begin', 'truncate_end', 'unmap_range', 'isize_set', 'page_lock', 'page_unlock', 'marker'];
    const step = fc.tuple(fc.constantFrom('add', 'add', 'add', 'copy'), fc.constantFrom(...kinds));
    fc.assert(fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      let counts = new OpCounts();
      let plain = new Map<MmOpKind, number>();
      for (const [what, kind] of steps) {
        if (what === 'add') { counts.add(kind); plain.set(kind, (plain.get(kind) ?? 0) + 1); }
        else { const old = counts; counts = new OpCounts(counts); plain = new Map(plain); old.add(kind); } // the copy must not see the old one change
        for (const k of kinds) expect(counts.get(k)).toBe(plain.get(k) ?? 0);
        const record: Record<string, number> = {};
        for (const k of [...plain.keys()].sort()) record[k] = plain.get(k)!;
        expect(JSON.stringify(counts.toRecord())).toBe(JSON.stringify(record)); // key order too
      }
    }));
  });

  it('rawReader: each compiled named load reads what the keyed load fields[name] read, whatever the name', () => {
    const names = ['dev', 'ino', 'a.b', 'x"y', 'back\\slash', '0', '12', '__proto__', 'toString', 'nope', 'ünï', 'a\nb', '$x', 'constructor'];
    const name = fc.constantFrom(...names);
    const value = fc.oneof(fc.integer(), fc.bigInt(), fc.string(), fc.constant(null)) as fc.Arbitrary<FieldValue>;
    fc.assert(fc.property(fc.array(name, { maxLength: 6 }), fc.dictionary(name, value), (wanted, obj) => {
      const fields = JSON.parse(JSON.stringify(obj, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as Fields;
      const out: Array<FieldValue | undefined> = new Array<FieldValue | undefined>(wanted.length).fill(undefined);
      rawReader(wanted)(fields, out);
      expect(out).toEqual(wanted.map((n) => fields[n]));
    }));
  });

  it('FileRefs: the last ref returned is the one the maps hold (one object per (dev, ino); a number and a bigint ino differ as Map keys do)', () => {
    const key = fc.tuple(fc.constantFrom('8:1', '254:0', '?'), fc.oneof(fc.integer({ min: 1, max: 4 }), fc.bigInt({ min: 1n, max: 4n })));
    fc.assert(fc.property(fc.array(key, { maxLength: 80 }), (keys) => {
      const refs = new FileRefs();
      const plain = new Map<string, { dev: string; ino: bigint }>();
      for (const [dev, ino] of keys) {
        const r = refs.get(dev, ino);
        const k = `${dev}|${typeof ino}|${ino}`;
        expect(plain.get(k) ?? r).toBe(r);
        plain.set(k, r);
        expect([r.dev, r.ino]).toEqual([dev, BigInt(ino)]);
      }
    }));
  });
});

describe('replaying in input order (InOrder) gives what the reorder window gave', () => {
  // records mostly in timestamp order, with steps back on their own CPU or another one
  const records = fc.array(fc.record({ cpu: fc.integer({ min: -1, max: 3 }), step: fc.integer({ min: -3, max: 4 }) }), { maxLength: 60 });

  it('on any input: the same records, late marks and order, or ReorderNeeded exactly where the window moves a record', () => {
    fc.assert(fc.property(records, fc.integer({ min: 1, max: 9 }), (rs, window) => {
      let ts = 100n;
      const input = rs.map((r, id) => ({ id, cpu: r.cpu, ts: (ts += BigInt(r.step)) }));
      const plain: unknown[] = [];
      const buffer = new ReorderBuffer<number>(window, (id, late, t) => plain.push([id, late, t]));
      for (const r of input) buffer.push(r.id, r.ts, r.cpu);
      buffer.drain();
      const fast: unknown[] = [];
      const inOrder = new InOrder<number>((id, late, t) => fast.push([id, late, t]));
      try {
        for (const r of input) inOrder.push(r.id, r.ts, r.cpu);
      } catch (e) {
        expect(e).toBeInstanceOf(ReorderNeeded);
        // the window replayed some record out of input order (replayFile starts again through it)
        expect(plain.map((p) => (p as number[])[0])).not.toEqual(input.map((r) => r.id));
        return;
      }
      expect(fast).toEqual(plain);
      expect(inOrder.late).toBe(buffer.late);
    }), { numRuns: 2000 });
  });

  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/replay');
  const traces = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(root, d.name, 'trace.txt'));
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
        const a = head(lines[i]!), b = head(lines[i + 1]!);
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
      await replay(openTraceBatches(out), { meta, inOrder: true }).catch((e: unknown) => { if (e instanceof ReorderNeeded) disordered++; else throw e; });
    }
    expect(disordered).toBeGreaterThan(3); // traces whose replay went back through the window
  });
});

