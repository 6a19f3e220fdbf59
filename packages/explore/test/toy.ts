/**
 * Toy Machines for testing the explorer without the kernel model: threads run tiny
 * programs over shared variables and locks. Each instruction is one step that declares
 * exactly what it touches, as the real model's steps do.
 */
import type { Access, Machine, MmOp, ModelViolation, RuleId, StepInfo, StepResult, ThreadInfo } from '@kreplay/core';

type Regs = Readonly<Record<string, number>>;
type Vars = Readonly<Record<string, number>>;

export type Instr =
  | { op: 'load'; v: string; r: string }
  | { op: 'store'; v: string; val: number | ((regs: Regs) => number); emit?: MmOp }
  | { op: 'lock'; l: string }
  | { op: 'unlock'; l: string }
  | { op: 'jmpif'; cond: (regs: Regs) => boolean; to: number }
  | { op: 'check'; reads: string[]; cond: (vars: Vars, regs: Regs) => boolean; rule: RuleId; message: string };

export interface ToyState {
  pc: readonly number[];
  regs: readonly Regs[];
  vars: Vars;
  /** lock name → owning thread. */
  locks: Readonly<Record<string, number>>;
}

export interface ToySpec {
  threads: Instr[][];
  vars: Record<string, number>;
  names?: string[];
  /** Threads that are daemons (ThreadInfo.daemon): not waited for at the end. */
  daemons?: number[];
  final?: (vars: Vars) => ModelViolation[];
}

const sorted = (o: Readonly<Record<string, number>>): string =>
  Object.keys(o)
    .sort()
    .map((k) => `${k}=${o[k]}`)
    .join(',');

export function toyMachine(spec: ToySpec): Machine<ToyState> {
  const threads: ThreadInfo[] = spec.threads.map((_, i) => ({
    id: i,
    name: spec.names?.[i] ?? `t${i}`,
    program: 'toy',
    args: {},
    ...(spec.daemons?.includes(i) ? { daemon: true } : {}),
  }));
  const instr = (s: ToyState, t: number): Instr | null => spec.threads[t]![s.pc[t]!] ?? null;
  const advance = (s: ToyState, t: number, to = s.pc[t]! + 1): readonly number[] => s.pc.map((p, i) => (i === t ? to : p));

  return {
    flavor: 'toy',
    threads,
    initial: () => ({ pc: spec.threads.map(() => 0), regs: spec.threads.map(() => ({})), vars: { ...spec.vars }, locks: {} }),
    next(s, t): StepInfo | null {
      const i = instr(s, t);
      if (!i) return null;
      switch (i.op) {
        case 'load':
          return { label: `${i.r} = ${i.v}`, accesses: [{ loc: i.v, mode: 'read' }], enabled: true };
        case 'store':
          return { label: `${i.v} = …`, accesses: [{ loc: i.v, mode: 'write' }], enabled: true };
        case 'lock': {
          const owner = s.locks[i.l];
          const a: Access = { loc: `lock:${i.l}`, mode: 'write', lock: 'acquire' };
          return owner === undefined
            ? { label: `lock ${i.l}`, accesses: [a], enabled: true }
            : { label: `lock ${i.l}`, accesses: [a], enabled: false, blockedOn: `${i.l} held by t${owner}` };
        }
        case 'unlock':
          return { label: `unlock ${i.l}`, accesses: [{ loc: `lock:${i.l}`, mode: 'write', lock: 'release' }], enabled: true };
        case 'jmpif':
          return { label: `jmpif → ${i.to}`, accesses: [], enabled: true };
        case 'check':
          return { label: `check ${i.rule}`, accesses: i.reads.map((loc) => ({ loc, mode: 'read' as const })), enabled: true };
      }
    },
    step(s, t): StepResult<ToyState> {
      const i = instr(s, t)!;
      const regs = s.regs[t]!;
      const withRegs = (r: Regs): readonly Regs[] => s.regs.map((x, j) => (j === t ? r : x));
      switch (i.op) {
        case 'load': {
          const val = s.vars[i.v]!;
          return { state: { ...s, pc: advance(s, t), regs: withRegs({ ...regs, [i.r]: val }) }, ops: [], violations: [], effect: `${i.r}=${val}` };
        }
        case 'store': {
          const val = typeof i.val === 'number' ? i.val : i.val(regs);
          return {
            state: { ...s, pc: advance(s, t), vars: { ...s.vars, [i.v]: val } },
            ops: i.emit ? [i.emit] : [],
            violations: [],
            effect: `${i.v} ${s.vars[i.v]}→${val}`,
          };
        }
        case 'lock':
          return { state: { ...s, pc: advance(s, t), locks: { ...s.locks, [i.l]: t } }, ops: [], violations: [], effect: `${i.l} held` };
        case 'unlock': {
          const locks = { ...s.locks };
          delete locks[i.l];
          return { state: { ...s, pc: advance(s, t), locks }, ops: [], violations: [], effect: `${i.l} free` };
        }
        case 'jmpif': {
          const jump = i.cond(regs);
          return { state: { ...s, pc: advance(s, t, jump ? i.to : s.pc[t]! + 1) }, ops: [], violations: [], effect: jump ? 'taken' : '' };
        }
        case 'check': {
          const ok = i.cond(s.vars, regs);
          return { state: { ...s, pc: advance(s, t) }, ops: [], violations: ok ? [] : [{ rule: i.rule, message: i.message }], effect: '' };
        }
      }
    },
    key: (s) => `${s.pc.join(',')}|${s.regs.map(sorted).join(';')}|${sorted(s.vars)}|${sorted(s.locks)}`,
    final: spec.final ? (s) => spec.final!(s.vars) : undefined,
  };
}

/** Reference: every interleaving, no reduction, no caching (a path that repeats a state stops). */
export function naiveEnumerate(
  m: Machine<ToyState>,
  budget = Infinity,
): {
  rules: Set<string>;
  terminal: Set<string>;
  deadlock: Set<string>;
  executions: number;
  /** Per rule (livelock excepted), the length of the shortest schedule that breaks it. */
  shortest: Map<string, number>;
  /** False when the step budget ran out (the sets are then partial). */
  complete: boolean;
} {
  let steps = 0;
  const rules = new Set<string>();
  const shortest = new Map<string, number>();
  const saw = (rule: string, len: number): void => {
    rules.add(rule);
    if ((shortest.get(rule) ?? Infinity) > len) shortest.set(rule, len);
  };
  const terminal = new Set<string>();
  const deadlock = new Set<string>();
  let executions = 0;
  const T = m.threads.length;
  const walk = (s: ToyState, path: Set<string>, depth: number): void => {
    const next = Array.from({ length: T }, (_, t) => m.next(s, t));
    if (next.every((n) => n === null)) {
      for (const v of m.final?.(s) ?? []) saw(v.rule, depth);
      terminal.add(m.key(s));
      executions++;
      return;
    }
    if (!next.some((n) => n?.enabled)) {
      saw('deadlock', depth);
      deadlock.add(m.key(s));
      executions++;
      return;
    }
    next.forEach((n, t) => {
      if (!n?.enabled || steps > budget) return;
      steps++;
      const r = m.step(s, t);
      for (const v of r.violations) saw(v.rule, depth + 1);
      const k = m.key(r.state);
      if (path.has(k)) {
        executions++;
        return;
      }
      path.add(k);
      walk(r.state, path, depth + 1);
      path.delete(k);
    });
  };
  const s0 = m.initial();
  walk(s0, new Set([m.key(s0)]), 0);
  return { rules, terminal, deadlock, executions, shortest, complete: steps <= budget };
}

// ---- the scenarios of the tests ----

const inc = (v: string): Instr[] => [
  { op: 'load', v, r: 'r' },
  { op: 'store', v, val: (r) => r['r']! + 1 },
];

const expectCounter =
  (n: number) =>
  (vars: Vars): ModelViolation[] =>
    vars['c'] === n ? [] : [{ rule: 'bug-on', message: `lost update: c=${vars['c']}, expected ${n}` }];

/** Two threads increment c without a lock: the lost update. */
export const counterRace = (): ToySpec => ({ threads: [inc('c'), inc('c')], vars: { c: 0 }, final: expectCounter(2) });

/** The same under a lock: clean. */
export const lockedCounter = (): ToySpec => ({
  threads: [0, 1].map(() => [{ op: 'lock', l: 'L' } as Instr, ...inc('c'), { op: 'unlock', l: 'L' } as Instr]),
  vars: { c: 0 },
  final: expectCounter(2),
});

/** AB/BA lock order: a deadlock. */
export const abba = (): ToySpec => ({
  threads: [
    [
      { op: 'lock', l: 'A' },
      { op: 'lock', l: 'B' },
      { op: 'unlock', l: 'B' },
      { op: 'unlock', l: 'A' },
    ],
    [
      { op: 'lock', l: 'B' },
      { op: 'lock', l: 'A' },
      { op: 'unlock', l: 'A' },
      { op: 'unlock', l: 'B' },
    ],
  ],
  vars: {},
});

/** t0 spins while flag is 1; t1 clears it. t0 can always still finish: NOT a livelock. */
export const spinThenFinish = (): ToySpec => ({
  threads: [
    [
      { op: 'load', v: 'flag', r: 'f' },
      { op: 'jmpif', cond: (r) => r['f'] === 1, to: 0 },
    ],
    [{ op: 'store', v: 'flag', val: 0 }],
  ],
  vars: { flag: 1 },
});

/** t1 sets flag for good; t0 spins while it is set: once t1 ran first, t0 can never finish. */
export const trueLivelock = (): ToySpec => ({
  threads: [
    [
      { op: 'load', v: 'flag', r: 'f' },
      { op: 'jmpif', cond: (r) => r['f'] === 1, to: 0 },
    ],
    [{ op: 'store', v: 'flag', val: 1 }],
  ],
  vars: { flag: 0 },
});

/** The reader checks under the lock that the writer already wrote: fails only in one lock order. */
export const lockOrderCheck = (): ToySpec => ({
  threads: [
    [
      { op: 'lock', l: 'L' },
      { op: 'store', v: 'x', val: 1 },
      { op: 'unlock', l: 'L' },
    ],
    [
      { op: 'lock', l: 'L' },
      { op: 'check', reads: ['x'], cond: (v) => v['x'] === 1, rule: 'stale-after-invalidate', message: 'reader ran before the writer' },
      { op: 'unlock', l: 'L' },
    ],
  ],
  vars: { x: 0 },
});

/** Three threads on disjoint variables: one Mazurkiewicz trace. */
export const independent = (): ToySpec => ({
  threads: ['a', 'b', 'c'].map((v) => [0, 1, 2].map((k) => ({ op: 'store', v, val: k + 1 }) as Instr)),
  vars: { a: 0, b: 0, c: 0 },
});
