/**
 * Litmus tests derived from a Machine (explore --memory-model lkmm), on small machines built
 * here from the core contract alone: each thread is a list of marked accesses on a shared
 * memory, run one access per step. The derivation must find the store-buffering outcome
 * without a fence and not with smp_mb(), the load-buffering one never (the guards are
 * control dependencies), refuse a pair whose shared accesses are not all marked, put
 * smp_mb() where a thread made unmarked accesses of its own, and write
 * tests herd7 reads unchanged (herd7's verdict: recorded golden, and live where installed).
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Access, LkmmAccess, Machine } from '@kreplay/core';
import { checkLitmus, deriveLitmus, formatHerd, judgeDerived, loadModel, loadScModel, MODELS_DIR, parseLitmus } from '../src/index.js';
import { comparable, FIXTURES, litmusFiles } from './herd-output.js';
import { describeWithTools, findTool, TOOLS } from '../../../test-support/tools.js';

/**
 * herd7 outputs recorded for the linux-6.1 derived tests (test x model pairs herd7 7.58 finished; the rest ran past 35
 * minutes, or were not run). They were recorded on the tests explore derived before session 19 (fixtures/derived/
 * linux-6.1-session18): the file_end read filemap_map_pages makes under the PTE lock (mm/filemap.c:3484 of 6.1.192)
 * is in every test derived since (fixtures/derived/linux-6.1), for which herd7 has not been run yet.
 */
const RECORDED_61 = 13;
/** Tests shipped in fixtures/derived/linux-6.12 (explore on every shipped scenario that runs on linux-6.12). */
const DERIVED_612 = 14;

/**
 * kreplay's output on each derived test of fixtures/derived/KERNEL, under the LKMM and under SC, against herd7's where
 * it was recorded (fixtures/herd7/MODEL/derived/KERNEL/TEST.out); every test parses. Returns how many were compared.
 */
function checkRecorded(kernel: string, files: string[]): number {
  let recorded = 0;
  for (const rel of files) {
    const file = path.join(FIXTURES, 'derived', kernel, rel);
    const test = parseLitmus(readFileSync(file, 'utf8'), file);
    for (const [m, mm] of [
      ['linux-6.12', model],
      ['sc', sc],
    ] as const) {
      const out = path.join(FIXTURES, 'herd7', m, 'derived', kernel, `${rel}.out`);
      if (!existsSync(out)) continue;
      recorded++;
      expect(`${rel} ${m}\n${comparable(formatHerd(checkLitmus(test, mm)))}`).toBe(`${rel} ${m}\n${comparable(readFileSync(out, 'utf8'))}`);
    }
  }
  return recorded;
}

interface Op {
  loc: string;
  op: LkmmAccess['op'];
  value?: number;
  after?: LkmmAccess['after'];
  unmarked?: boolean;
  under?: string;
  addr?: boolean;
  word?: string;
  mode?: Access['mode'];
}
interface S {
  mem: Record<string, number>;
  pc: number[];
}

/** A machine whose threads run `ops` in order; reads read `mem`, stores store `value`; `daemons` are ThreadInfo.daemon. */
function toyMachine(threads: Op[][], daemons: number[] = []): Machine<S> {
  const READ = new Set(['READ_ONCE', 'atomic_read', 'plain-read', 'smp_load_acquire', 'spin_is_locked']);
  return {
    flavor: 'toy',
    threads: threads.map((_, id) => ({ id, name: `T${id}`, program: 'toy', args: {}, ...(daemons.includes(id) ? { daemon: true } : {}) })),
    initial: () => ({ mem: {}, pc: threads.map(() => 0) }),
    next(s, t) {
      const o = threads[t]![s.pc[t]!];
      if (!o) return null;
      const read = READ.has(o.op);
      const a: Access = { loc: o.loc, mode: o.mode ?? (read ? 'read' : 'write') };
      const lkmm: LkmmAccess = {
        op: o.op,
        value: read ? (s.mem[o.loc] ?? 0) : (o.value ?? 0),
        cite: 'test',
        ...(o.after ? { after: o.after } : {}),
        ...(o.under ? { under: o.under } : {}),
        ...(o.addr ? { addr: true } : {}),
        ...(o.word ? { word: o.word } : {}),
      };
      return { label: `${o.op} ${o.loc}`, accesses: [o.unmarked ? a : { ...a, lkmm }], enabled: true };
    },
    step(s, t) {
      const o = threads[t]![s.pc[t]!]!;
      const mem = READ.has(o.op) || o.op === 'ghost' || o.op === 'alloc' ? s.mem : { ...s.mem, [o.loc]: o.value ?? 0 };
      const pc = [...s.pc];
      pc[t]!++;
      return { state: { mem, pc }, ops: [], violations: [], effect: '' };
    },
    key: (s) => JSON.stringify(s),
  };
}

const sb = (after?: LkmmAccess['after']): Op[][] => [
  [
    { loc: 'x', op: 'WRITE_ONCE', value: 1, ...(after ? { after } : {}) },
    { loc: 'y', op: 'READ_ONCE' },
  ],
  [
    { loc: 'y', op: 'WRITE_ONCE', value: 1, ...(after ? { after } : {}) },
    { loc: 'x', op: 'READ_ONCE' },
  ],
];
const lb: Op[][] = [
  [
    { loc: 'x', op: 'READ_ONCE' },
    { loc: 'y', op: 'WRITE_ONCE', value: 1 },
  ],
  [
    { loc: 'y', op: 'READ_ONCE' },
    { loc: 'x', op: 'WRITE_ONCE', value: 1 },
  ],
];

const model = loadModel();
const sc = loadScModel();
const verdicts = (threads: Op[][]): string[] =>
  deriveLitmus(toyMachine(threads), { scenario: 'toy', flavor: 'toy' }).tests.map((t) => `${t.shape}: ${judgeDerived(t, model, sc).verdict}`);

describe('litmus tests derived from a machine', () => {
  it('store buffering: both threads reading what they read alone is LKMM-only without a fence, forbidden with smp_mb()', () => {
    expect(verdicts(sb())).toEqual(['first: lkmm-only', 'after: both']);
    expect(verdicts(sb(['smp_mb']))).toEqual(['first: neither', 'after: both']);
  });

  it('load buffering: each read guards the rest of its thread, so the LKMM forbids it as the kernel code would', () => {
    expect(verdicts(lb)).toEqual(['first: both', 'after: neither']);
  });

  it("a daemon thread (mm-model's end_io, session 44) is in no test: its steps run at once in the serial run of the thread before it", () => {
    const d = deriveLitmus(toyMachine([...sb(), [{ loc: 'z', op: 'WRITE_ONCE', value: 1 }]], [2]), { scenario: 'toy', flavor: 'toy' });
    expect(d.tests.map((t) => [t.threads, t.shape])).toEqual([
      [[0, 1], 'first'],
      [[0, 1], 'after'],
    ]);
    expect(d.skipped).toEqual([]);
    // alone, each thread's run has the daemon's store first; after the other thread, that one's run had it
    expect(d.tests[0]!.text).toContain('\tWRITE_ONCE(*z, 1);\n\tWRITE_ONCE(*x, 1);');
    expect(d.tests[0]!.text).toContain('\tWRITE_ONCE(*z, 1);\n\tWRITE_ONCE(*y, 1);');
    expect(d.tests[1]!.text).not.toContain('*z, 1');
  });

  it('a location marked in one thread but accessed unmarked in the other gives no test, and says why', () => {
    const half = sb();
    half[1]![1] = { ...half[1]![1]!, unmarked: true };
    const d = deriveLitmus(toyMachine(half), { scenario: 'toy', flavor: 'toy' });
    expect(d.tests).toEqual([]);
    expect(d.skipped[0]).toBe('T0 + T1 (first): x shared but not marked in every access');
  });

  it("an unmarked access of a thread's own between marked ones becomes smp_mb() in the test: over-ordered, never under-ordered", () => {
    const own = sb();
    own[0]!.splice(1, 0, { loc: 'private0', op: 'plain-write', value: 1, unmarked: true });
    own[1]!.splice(1, 0, { loc: 'private1', op: 'plain-write', value: 1, unmarked: true });
    const [first] = deriveLitmus(toyMachine(own), { scenario: 'toy', flavor: 'toy' }).tests;
    expect(first!.text).toContain('\tWRITE_ONCE(*x, 1);\n\tsmp_mb(); /* unmarked accesses here */\n\tr0 = READ_ONCE(*y);');
    expect(first!.text).not.toContain('private');
    expect(judgeDerived(first!, model, sc).verdict).toBe('neither');
  });

  it('a lock the model folds into a step (under) becomes spin_lock/spin_unlock around the access: SB inside one lock is forbidden', () => {
    const locked = sb().map((t) => t.map((o) => ({ ...o, under: 'L' })));
    expect(verdicts(locked)).toEqual(['first: neither', 'after: both']);
    const [first] = deriveLitmus(toyMachine(locked), { scenario: 'toy', flavor: 'toy' }).tests;
    expect(first!.text).toContain('P0(spinlock_t *L, int *x, int *y)');
    expect(first!.text).toContain('\tspin_lock(L);\n\tWRITE_ONCE(*x, 1);\n\tspin_unlock(L);\n\tspin_lock(L);\n\tr0 = READ_ONCE(*y);');
  });

  it('an address dependency becomes smp_rmb() after the load (at least the ordering the dependency gives); a word names the memory word', () => {
    const dep = sb();
    dep[0]![1] = { ...dep[0]![1]!, addr: true, word: 'y.slot[0]' };
    dep[1]![0] = { ...dep[1]![0]!, word: 'y.slot[0]' };
    const [first] = deriveLitmus(toyMachine(dep), { scenario: 'toy', flavor: 'toy' }).tests;
    expect(first!.text).toContain('r0 = READ_ONCE(*y_slot_0_);\n\tif (r0 == 0) {\n\t\tsmp_rmb(); /* address dependency */');
  });

  it('ghost marks (no kernel memory) are left out and count as marked; set_bit is an unordered RMW no condition reads', () => {
    const g = sb();
    g[0]!.push({ loc: 'judged', op: 'ghost', mode: 'read' }, { loc: 'f', op: 'set_bit', value: 0 });
    g[1]!.push({ loc: 'judged', op: 'ghost', mode: 'write' });
    const d = deriveLitmus(toyMachine(g), { scenario: 'toy', flavor: 'toy' });
    expect(d.skipped).toEqual([]);
    expect(d.tests[0]!.text).not.toContain('judged');
    expect(d.tests[0]!.text).toContain('r1 = atomic_xchg_relaxed(f, 1);');
    expect(d.tests[0]!.text).not.toContain('0:r1=');
    expect(verdicts(g)).toEqual(['first: lkmm-only', 'after: both']);
  });

  it('spin_is_locked (folio_test_locked on a folio lock the marks make a spin lock) reads the lock itself: a spinlock_t, a register, a guard', () => {
    const t: Op[][] = [
      [
        { loc: 'L', op: 'spin_lock' },
        { loc: 'x', op: 'WRITE_ONCE', value: 1 },
        { loc: 'L', op: 'spin_unlock' },
        { loc: 'y', op: 'READ_ONCE' },
      ],
      [
        { loc: 'y', op: 'WRITE_ONCE', value: 1 },
        { loc: 'L', op: 'spin_is_locked', mode: 'read' },
        { loc: 'x', op: 'READ_ONCE' },
      ],
    ];
    const [first] = deriveLitmus(toyMachine(t), { scenario: 'toy', flavor: 'toy' }).tests;
    expect(first!.text).toContain('P1(spinlock_t *L, int *x, int *y)');
    expect(first!.text).toContain('\tr0 = spin_is_locked(L);\n\tif (r0 == 0) {');
    expect(first!.text).not.toMatch(/\bL=0;/); // a lock has no initial value
    // T1 alone: y stored, L free, x still 0; T0 alone: y still 0 — store buffering through the lock's release
    expect(judgeDerived(first!, model, sc).verdict).toBe('lkmm-only');
  });

  it("a thread that allocates a page gives no test (a new page's name depends on the serial run), and says so", () => {
    const a = sb();
    a[1]!.unshift({ loc: 'alloc', op: 'alloc' });
    const d = deriveLitmus(toyMachine(a), { scenario: 'toy', flavor: 'toy' });
    expect(d.tests).toEqual([]);
    expect(d.skipped[0]).toBe("T0 + T1 (first): T1 allocates a page (alloc alloc): a new page's name depends on the serial run, not derived");
  });

  it('writes the same test for the same machine (deterministic), as herd7 recorded it', () => {
    const [first] = deriveLitmus(toyMachine(sb()), { scenario: 'toy', flavor: 'toy' }).tests;
    expect(first!.text).toBe(deriveLitmus(toyMachine(sb()), { scenario: 'toy', flavor: 'toy' }).tests[0]!.text);
    expect(first!.text).toBe(readFileSync(path.join(FIXTURES, 'derived', `${first!.name}.litmus`), 'utf8'));
    for (const m of ['linux-6.12', 'sc'] as const) {
      const golden = readFileSync(path.join(FIXTURES, 'herd7', m, 'derived', `${first!.name}.litmus.out`), 'utf8');
      const r = judgeDerived(first!, model, sc);
      const ours = m === 'sc' ? r.sc : r.lkmm;
      expect(comparable(formatHerd(ours))).toBe(comparable(golden));
    }
  });

  it("the page-cache tests explore derives from the linux-6.1 scenarios (fixtures/derived/linux-6.1, and the session-18 ones herd7 ran on) give herd7's recorded output under the LKMM and under SC", () => {
    const files = litmusFiles('derived/linux-6.1');
    expect(files.length).toBe(10);
    const before = litmusFiles('derived/linux-6.1-session18');
    expect(before.length).toBe(10);
    // herd7 7.58 finished only some of these within 35 minutes (docs/memory-model.md): the recorded ones are checked
    const recorded = checkRecorded('linux-6.1', files) + checkRecorded('linux-6.1-session18', before);
    expect(recorded).toBeGreaterThanOrEqual(RECORDED_61);
  }, 120_000);

  it("the tests explore derives from the linux-6.12 scenarios (fixtures/derived/linux-6.12) parse, and give herd7's output where it was recorded", () => {
    const files = litmusFiles('derived/linux-6.12');
    expect(files.length).toBe(DERIVED_612);
    // herd7's outputs for these are recorded by scripts/record-derived-golden.mjs where herd7 is installed
    checkRecorded('linux-6.12', files);
  }, 120_000);

  it("the linux-6.12 odirect-vs-fault-multipage tests (explore-lkmm leaves their SC search out) keep kreplay's verdicts under the LKMM and under SC", () => {
    // no herd7 output is recorded for them (herd7 7.58 gave no answer in 600-1,500 s on smaller 6.12 tests); these pin
    // what kreplay's checker answers (docs/memory-model.md), so a change in the checker's pruning that moves them shows
    const observed: Record<string, [string, string]> = {
      'fault0-fault1-after': ['Never 0 1', 'Never 0 1'],
      'fault0-fault1-first': ['Never 0 24', 'Never 0 18'],
      'fault0-odirect-first': ['Never 0 18', 'Never 0 15'],
      'fault1-odirect-first': ['Never 0 18', 'Never 0 15'],
    };
    for (const [shape, [lkmm, scObs]] of Object.entries(observed)) {
      const name = `kreplay-odirect-vs-fault-multipage-${shape}`;
      const file = path.join(FIXTURES, 'derived/linux-6.12', `${name}.litmus`);
      const test = parseLitmus(readFileSync(file, 'utf8'), file);
      for (const [mm, want] of [
        [model, lkmm],
        [sc, scObs],
      ] as const) {
        expect(formatHerd(checkLitmus(test, mm))).toContain(`\nObservation ${name} ${want}\n`);
      }
    }
  }, 300_000);
});

describeWithTools([TOOLS.herd7], 'derived litmus tests beside herd7 (optional live comparison)', () => {
  it('herd7 runs each derived test unchanged and agrees under the LKMM and under the SC model', () => {
    const herd7 = findTool(TOOLS.herd7)!;
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-derived-'));
    try {
      const locked = sb().map((t) => t.map((o) => ({ ...o, under: 'L' })));
      const bits = sb();
      bits[0]![1] = { ...bits[0]![1]!, addr: true };
      bits[0]!.push({ loc: 'f', op: 'set_bit', value: 0 });
      bits[1]!.push({ loc: 'f', op: 'clear_bit', value: 0 });
      for (const threads of [sb(), sb(['smp_mb']), lb, locked, bits]) {
        for (const t of deriveLitmus(toyMachine(threads), { scenario: 'toy', flavor: 'toy' }).tests) {
          const file = path.join(dir, `${t.name}.litmus`);
          writeFileSync(file, t.text);
          const j = judgeDerived(t, model, sc);
          for (const [m, ours] of [
            ['linux-6.12', j.lkmm],
            ['sc', j.sc],
          ] as const) {
            const theirs = execFileSync(herd7, ['-conf', 'linux-kernel.cfg', file], { cwd: path.join(MODELS_DIR, m), encoding: 'utf8' });
            expect(comparable(formatHerd(ours))).toBe(comparable(theirs));
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
