/**
 * The state's words (Machine.encode, src/encode.ts) against its key string (stateKey, the
 * oracle): two states encode alike exactly when their keys are equal — checked on the states
 * random walks reach on every shipped scenario × built-in flavor, where different interleavings
 * meet in equal states. And `readiness` says what `next` says, without building a StepInfo, and
 * `advance` what `step` says, without ops and effect text; `decode` gives back an equal state.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { THREAD_BLOCKED, THREAD_DONE, THREAD_ENABLED } from '@kreplay/core';
import { createMachine, listFlavors, loadScenario, parseScenario, resolveFlavor, stateKey, type MmMachine, type MmState } from '@kreplay/mm-model';
import { StateEncoder } from '../src/encode.js';
import { SCENARIOS } from './helpers/scenarios.js';

const files = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

async function machines(file: string): Promise<MmMachine[]> {
  const sc = await loadScenario(join(SCENARIOS, file));
  const out: MmMachine[] = [];
  for (const { name } of listFlavors()) {
    try {
      out.push(createMachine(sc, await resolveFlavor(name)));
    } catch {
      // the flavor lacks one of the scenario's programs
    }
  }
  return out;
}

const words = (m: MmMachine, s: MmState): string => {
  const out = new Int32Array(4096);
  const n = m.encode(s, out);
  expect(n).toBeLessThanOrEqual(out.length);
  return out.subarray(0, n).join(',');
};

/** The states of one walk: at each step the enabled thread `choice mod (number enabled)`. */
function walk(m: MmMachine, choices: readonly number[]): MmState[] {
  let s = m.initial();
  const seen = [s];
  for (const c of choices) {
    const ready: number[] = [];
    for (let t = 0; t < m.threads.length; t++) {
      const n = m.next(s, t);
      const r = m.readiness(s, t);
      expect(r).toBe(n === null ? THREAD_DONE : n.enabled ? THREAD_ENABLED : THREAD_BLOCKED);
      if (n?.enabled) ready.push(t);
    }
    if (ready.length === 0) break;
    const t = ready[c % ready.length]!;
    const r = m.step(s, t);
    // advance (no ops, no effect text) reaches the same state with the same violations
    const a = m.advance(s, t);
    expect(stateKey(a.state)).toBe(stateKey(r.state));
    expect(a.violations).toEqual(r.violations);
    s = r.state;
    seen.push(s);
  }
  return seen;
}

/** Along random walks of `m`: equal keys ↔ equal words, and decode gives back an equal state. */
function agreesWithKey(m: MmMachine, numRuns: number): void {
  fc.assert(
    fc.property(fc.array(fc.array(fc.nat(7), { maxLength: 80 }), { minLength: 2, maxLength: 6 }), (walks) => {
      const states = walks.flatMap((w) => walk(m, w));
      const byKey = new Map<string, string>();
      const byWords = new Map<string, string>();
      for (const s of states) {
        const k = stateKey(s);
        const w = words(m, s);
        // decode gives back an equal state (a search keeps its frontier as words)
        const out = new Int32Array(4096);
        expect(stateKey(m.decode(out, m.encode(s, out)))).toBe(k);
        // equal keys → equal words, and equal words → equal keys
        expect(byKey.get(k) ?? w).toBe(w);
        expect(byWords.get(w) ?? k).toBe(k);
        byKey.set(k, w);
        byWords.set(w, k);
      }
    }),
    { numRuns },
  );
}

/** Words of `a` renumbered into `b` (built alike, meeting the states in the other order) are `b`'s own words. */
function exchanges(a: MmMachine, b: MmMachine): void {
  fc.assert(
    fc.property(fc.array(fc.array(fc.nat(7), { maxLength: 60 }), { minLength: 1, maxLength: 4 }), (walks) => {
      const states = walks.flatMap((w) => walk(a, w));
      // b meets the states in the other order, so it numbers strings, shapes and parts otherwise
      const theirs = [...states].reverse().map((s) => words(b, s));
      theirs.reverse();
      const imp = b.exchange.importer();
      let sent = 0;
      const out = new Int32Array(4096);
      states.forEach((s, k) => {
        const n = a.encode(s, out);
        const hash = a.exchange.portableHash(out, n);
        imp.define(a.exchange.definitions(sent));
        sent = a.exchange.definitionsLength();
        imp.translate(out, 0, n);
        // the same words b gives the state (before and after the import), the same portable hash
        expect([...out.subarray(0, n)].join(',')).toBe(theirs[k]);
        expect(words(b, s)).toBe(theirs[k]);
        expect(b.exchange.portableHash(out, n)).toBe(hash);
        expect(stateKey(b.decode(out, n))).toBe(stateKey(s));
      });
    }),
    { numRuns: 4 },
  );
}

describe('encode agrees with key on random walks of every shipped scenario', () => {
  test.each(files)('%s', async (file) => {
    for (const m of await machines(file)) agreesWithKey(m, 8);
  });
});

describe('exchange: words of one machine renumbered into another built alike (explore --workers)', () => {
  test.each(files)('%s', async (file) => {
    const [as, bs] = [await machines(file), await machines(file)];
    as.forEach((a, i) => exchanges(a, bs[i]!));
  });
});

// A file of more than LONG pages (src/encode.ts): its per-page arrays, and the root's pages,
// are encoded in chunks, each a part; no shipped scenario is that large.
const LARGE = (flavor: string) => `
name: large-file
flavor: ${flavor}
files:
  - name: data
    dev: "8:1"
    ino: 0x2a
    size: ${100 * 4096}
    pages:
${Array.from({ length: 100 }, (_, i) => `      - { index: ${i}, flags: [uptodate${i === 70 ? ', dirty' : ''}] }`).join('\n')}
processes:
  - name: p
    vmas:
      - { file: data, start: 0x100000, pgoff: 0, pages: 100 }
threads:
  - { name: fault, program: fault, args: { mm: p, index: 70 } }
  - { name: odirect, program: odirect_write, args: { file: data, offset: ${64 * 4096}, length: ${36 * 4096} } }
`;

describe('a file of more than 64 pages (its arrays in chunks)', () => {
  test.each(['linux-2.6.15', 'linux-6.1'])('%s: encode agrees with key, decodes, and exchanges', async (flavor) => {
    const make = async () => createMachine(parseScenario(LARGE(flavor), 'large-file.yaml'), await resolveFlavor(flavor));
    const m = await make();
    const out = new Int32Array(4096);
    // the root's 100 pages are chunk numbers in the state's words, and no part holds the
    // mapping's 100 cache slots (or any other 100-long array) whole
    expect(m.encode(m.initial(), out)).toBeLessThan(100);
    const defs = m.exchange.definitions(0);
    let longest = 0;
    for (let i = 0; i < defs.length; i += 2 + defs[i + 1]!) longest = Math.max(longest, defs[i + 1]!);
    expect(longest).toBeLessThan(100);
    agreesWithKey(m, 6);
    exchanges(await make(), await make());
  });
});

type Tree = unknown;
/** Paths to every number in a state (the leaves a step can change). */
function leaves(v: Tree, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (typeof v === 'number') out.push(at);
  else if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) leaves((v as Record<string, Tree>)[k], [...at, k], out);
  return out;
}
/** A deep copy with the number at `path` set to `to` (every object's fields in reverse order with `reverse`). */
function changed(v: Tree, path: readonly (string | number)[], to: number | undefined, reverse = false): Tree {
  if (path.length === 0 && to !== undefined) return to;
  const down = (x: Tree, k: string | number) => changed(x, k === path[0] ? path.slice(1) : [], k === path[0] ? to : undefined, reverse);
  if (Array.isArray(v)) return v.map((x, i) => down(x, i));
  if (v && typeof v === 'object') {
    const o: Record<string, Tree> = {};
    const keys = Object.keys(v);
    for (const k of reverse ? keys.reverse() : keys) o[k] = down((v as Record<string, Tree>)[k], k);
    return o;
  }
  return v;
}

describe('encode against key on states one number away from reachable ones', () => {
  test.each(files)('%s', async (file) => {
    for (const m of await machines(file)) {
      fc.assert(
        fc.property(fc.array(fc.nat(7), { maxLength: 80 }), fc.nat(), fc.integer({ min: -1, max: 4 }), (choices, pick, to) => {
          const states = walk(m, choices);
          const s = states[pick % states.length]!;
          const paths = leaves(s);
          const path = paths[pick % paths.length]!;
          const t = changed(s, path, to) as MmState;
          const same = changed(s, [], undefined, true) as MmState; // the same data, every field order reversed
          expect(words(m, same)).toBe(words(m, s));
          // the direction that keeps a search sound: equal words only for equal keys
          // (the other may not hold here: stateKey leaves out what reachable states imply, e.g. a page's pfn)
          if (words(m, t) === words(m, s)) expect(stateKey(t)).toBe(stateKey(s));
          if (stateKey(t) !== stateKey(s)) expect(words(m, t)).not.toBe(words(m, s));
        }),
        { numRuns: 40 },
      );
    }
  });
});

describe('the encoding is generic over the state', () => {
  const enc = () => new StateEncoder<object>((s) => JSON.stringify(s));
  const w = (e: StateEncoder<object>, s: object) => {
    const out = new Int32Array(256);
    return [...out.subarray(0, e.encode(s, out))];
  };

  test('a field no encoder knows of is encoded (a field another change adds to the state)', () => {
    const e = enc();
    const a = { pages: [undefined, { pfn: 1, refcount: 1 }], maps: [] };
    const b = { pages: [undefined, { pfn: 1, refcount: 1, newField: 3 }], maps: [] };
    expect(w(e, a)).not.toEqual(w(e, b));
    expect(w(e, b)).not.toEqual(w(e, { pages: [undefined, { pfn: 1, refcount: 1, newField: 4 }], maps: [] }));
  });

  test('field order does not matter; undefined and false are an absent field, as stateKey prints them', () => {
    const e = enc();
    expect(w(e, { a: 1, b: [2, 3], c: 'x' })).toEqual(w(e, { c: 'x', b: [2, 3], a: 1 }));
    expect(w(e, { a: 1, settled: false, o: undefined })).toEqual(w(e, { a: 1 }));
    expect(w(e, { a: 1, settled: true })).not.toEqual(w(e, { a: 1 }));
  });

  test('different data never give the same words (self-delimiting)', () => {
    const e = enc();
    const values: object[] = [
      { a: [1, 2], b: [] },
      { a: [1], b: [2] },
      { a: [[1, 2]] },
      { a: [1, 2, undefined] },
      { a: [1, 2, null] },
      { a: 'x' },
      { b: 'x' },
      { a: 2 ** 40 },
      { a: 2 ** 40 + 1 },
      { a: -1 },
      { a: 0.5 },
      { a: [true] },
      { a: [false] },
      {},
      { a: { b: 1 } },
      { a: { c: 1 } },
      { a: [{ b: 1 }, { b: 1 }] },
      { a: [{ b: 1 }, { c: 1 }] },
    ];
    const seen = new Set(values.map((v) => w(e, v).join(',')));
    expect(seen.size).toBe(values.length);
  });

  test('parts (objects two levels down, and their frames) shared between states or rebuilt alike encode alike', () => {
    const e = enc();
    const page = { pfn: 1, refcount: 1 };
    const low = { proc: 'a', pc: 'x', l: { i: 0 } };
    const th = { frames: [low, { proc: 'b', pc: 'y', l: { j: 1 } }] };
    const s1 = { pages: [undefined, page], threads: [th] };
    const s2 = { pages: [undefined, page], threads: [{ frames: [low, { proc: 'b', pc: 'z', l: { j: 1 } }] }] };
    const s3 = { pages: [undefined, { pfn: 1, refcount: 2 }], threads: [th] };
    const copy = {
      pages: [undefined, { pfn: 1, refcount: 1 }],
      threads: [
        {
          frames: [
            { proc: 'a', pc: 'x', l: { i: 0 } },
            { proc: 'b', pc: 'y', l: { j: 1 } },
          ],
        },
      ],
    };
    const all = [s1, s2, s3, copy, s2, s1, s3].map((s) => w(e, s).join(','));
    expect(new Set(all).size).toBe(3);
    expect(all[3]).toBe(all[0]);
    expect(all[4]).toBe(all[1]);
    expect(all[5]).toBe(all[0]);
    expect(all[6]).toBe(all[2]);
    for (const st of [s1, s2, s3]) {
      const out = new Int32Array(64);
      expect(e.decode(out, e.encode(st, out))).toEqual(st);
    }
    const odd = { a: [1.5, -3, 2 ** 40, 'x', null, true, false, undefined, [{ b: 'y' }]], c: { d: [[-1]] }, e: -7 };
    const out = new Int32Array(64);
    expect(e.decode(out, e.encode(odd, out))).toEqual(odd);
  });

  test('a value it cannot encode generically makes the state fall back to its key, as words', () => {
    const e = new StateEncoder<{ m: Map<number, number> }>((s) => `m:${[...s.m].join(';')}`);
    const out = new Int32Array(64);
    const one = [...out.subarray(0, e.encode({ m: new Map([[1, 2]]) }, out))];
    expect(one).toEqual([...out.subarray(0, e.encode({ m: new Map([[1, 2]]) }, out))]);
    expect(one).not.toEqual([...out.subarray(0, e.encode({ m: new Map([[1, 3]]) }, out))]);
    expect(String.fromCharCode(...one.slice(1))).toBe('m:1,2');
    const back = e.decode(Int32Array.from(one), one.length);
    expect([...back.m]).toEqual([[1, 2]]);
  });

  test("lastPartsAt finds the root's last field when it is an array of parts, and nothing else (Machine.stepMemo)", () => {
    const e = new StateEncoder<Record<string, unknown>>(() => 'k');
    const out = new Int32Array(64);
    const threads = [
      { pc: 'a', l: { x: 1 } },
      { pc: 'b', l: { x: 2 } },
    ];
    const n = e.encode({ pages: [{ f: 1 }], threads }, out);
    expect(e.lastPartsAt(out, n, 'threads', 2)).toBe(n - 2);
    // equal threads are one part: one word each, equal where the threads are equal
    const m = e.encode({ pages: [{ f: 2 }], threads: [threads[1], threads[0]] }, out.subarray(32));
    expect([out[32 + m - 2], out[32 + m - 1]]).toEqual([out[n - 1], out[n - 2]]);
    expect(e.lastPartsAt(out, n, 'threads', 3)).toBe(-1);
    expect(e.lastPartsAt(out, n, 'zones', 2)).toBe(-1);
    // a root whose last field is another, a last array of numbers rather than parts, a state that fell back to its key
    expect(e.lastPartsAt(out, e.encode({ threads, zones: [1, 2] }, out), 'threads', 2)).toBe(-1);
    expect(e.lastPartsAt(out, e.encode({ threads: [1, 2] }, out), 'threads', 2)).toBe(-1);
    expect(e.lastPartsAt(out, e.encode({ threads: new Map() }, out), 'threads', 0)).toBe(-1);
  });

  test('a buffer too small gets nothing past its end and the count it needs', () => {
    const e = enc();
    const s = { a: [1, 2, 3, 4, 5, 6, 7, 8] };
    const small = new Int32Array(3);
    const n = e.encode(s, small);
    expect(n).toBeGreaterThan(3);
    const big = new Int32Array(n);
    expect(e.encode(s, big)).toBe(n);
    expect(w(e, s)).toEqual([...big]);
  });
});
