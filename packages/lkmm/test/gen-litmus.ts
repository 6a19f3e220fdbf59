/**
 * Random C litmus tests for differential testing against herd7: 2 to 4 threads over three
 * shared variables and a spinlock, built from the primitives the kernel's model knows
 * (marked and plain accesses, acquire/release, fences, the xchg/cmpxchg/atomic families,
 * spinlocks and trylock, RCU), with address-free data and control dependencies, and an
 * exists/~exists/forall condition (sometimes a filter and a locations clause).
 */
import fc from 'fast-check';

const LOCS = ['x', 'y', 'z'];

interface ThreadCtx {
  regs: string[];
  next: number;
}

type Op = (t: ThreadCtx, pick: (n: number) => number) => string[];

const val = (p: (n: number) => number): number => p(3);
const loc = (p: (n: number) => number): string => LOCS[p(LOCS.length)]!;
const reg = (t: ThreadCtx): string => {
  const r = `r${t.next++}`;
  t.regs.push(r);
  return r;
};
const someReg = (t: ThreadCtx, p: (n: number) => number): string | null => (t.regs.length ? t.regs[p(t.regs.length)]! : null);

const simpleOps: Op[] = [
  (_t, p) => [`WRITE_ONCE(*${loc(p)}, ${val(p)});`],
  (_t, p) => [`smp_store_release(${loc(p)}, ${val(p)});`],
  (_t, p) => [`*${loc(p)} = ${val(p)};`],
  (t, p) => [`${reg(t)} = READ_ONCE(*${loc(p)});`],
  (t, p) => [`${reg(t)} = smp_load_acquire(${loc(p)});`],
  (t, p) => [`${reg(t)} = *${loc(p)};`],
  () => ['smp_mb();'],
  () => ['smp_wmb();'],
  () => ['smp_rmb();'],
  () => ['barrier();'],
  (t, p) => [`${reg(t)} = ${['xchg', 'xchg_relaxed', 'xchg_acquire', 'xchg_release'][p(4)]}(${loc(p)}, ${val(p)});`],
  (t, p) => [`${reg(t)} = ${['cmpxchg', 'cmpxchg_relaxed', 'cmpxchg_acquire', 'cmpxchg_release'][p(4)]}(${loc(p)}, ${val(p)}, ${val(p)});`],
  (_t, p) => [`${['atomic_inc', 'atomic_dec'][p(2)]}(${loc(p)});`],
  (_t, p) => [`atomic_add(${val(p) + 1}, ${loc(p)});`],
  (t, p) => [
    `${reg(t)} = ${['atomic_add_return', 'atomic_add_return_relaxed', 'atomic_add_return_acquire', 'atomic_add_return_release', 'atomic_fetch_add', 'atomic_fetch_add_relaxed', 'atomic_fetch_add_acquire', 'atomic_fetch_add_release'][p(8)]}(1, ${loc(p)});`,
  ],
  (t, p) => [`${reg(t)} = atomic_inc_return(${loc(p)});`],
  (_t, p) => [['smp_mb__before_atomic();', 'smp_mb__after_atomic();'][p(2)]!, `atomic_inc(${loc(p)});`],
  (t, p) => {
    const r = someReg(t, p);
    return r ? [`WRITE_ONCE(*${loc(p)}, ${r}${p(2) ? ' + 1' : ''});`] : [`WRITE_ONCE(*${loc(p)}, 1);`];
  },
  (t, p) => {
    const r = someReg(t, p);
    if (!r) return ['smp_mb();'];
    const body = p(2) ? `WRITE_ONCE(*${loc(p)}, ${val(p)});` : `${reg(t)} = READ_ONCE(*${loc(p)});`;
    return p(3) === 0
      ? [`if (${r} == ${val(p)}) {`, `\t${body}`, '} else {', `\tWRITE_ONCE(*${loc(p)}, 2);`, '}']
      : [`if (${r} == ${val(p)}) {`, `\t${body}`, '}'];
  },
  (t, p) => ['spin_lock(l);', ...simpleOps[p(6)]!(t, p), 'spin_unlock(l);'],
  (t, p) => {
    const r = reg(t);
    return [`${r} = spin_trylock(l);`, `if (${r}) {`, `\tWRITE_ONCE(*${loc(p)}, 1);`, '\tspin_unlock(l);', '}'];
  },
  (t) => [`${reg(t)} = spin_is_locked(l);`],
  (t, p) => ['rcu_read_lock();', ...simpleOps[3 + p(2)]!(t, p), 'rcu_read_unlock();'],
  () => ['synchronize_rcu();'],
  // pointers: publish one of x, y through p; follow p (an address dependency)
  (_t, p) => [`${['rcu_assign_pointer(*p, ', 'WRITE_ONCE(*p, ', 'smp_store_release(p, '][p(3)]}${['x', 'y'][p(2)]});`],
  (t, p) => {
    const r = reg(t);
    return [
      `${r} = ${['rcu_dereference(*p)', 'READ_ONCE(*p)', 'smp_load_acquire(p)'][p(3)]};`,
      p(2) ? `${reg(t)} = READ_ONCE(*${r});` : `WRITE_ONCE(*${r}, ${val(p)});`,
    ];
  },
  // SRCU
  (t, p) => {
    const idx = reg(t);
    return [`${idx} = srcu_read_lock(s);`, ...simpleOps[p(6)]!(t, p), `srcu_read_unlock(s, ${idx});`];
  },
  () => ['synchronize_srcu(s);'],
  (_t, p) => [`smp_store_mb(*${loc(p)}, ${val(p)});`],
  (t, p) => [`${reg(t)} = atomic_add_unless(${loc(p)}, 1, ${val(p)});`],
  (t, p) => ['spin_lock(l);', ['smp_mb__after_spinlock();', 'smp_mb__after_unlock_lock();'][p(2)]!, ...simpleOps[p(6)]!(t, p), 'spin_unlock(l);'],
  (t) => ['spin_lock(l);', `${reg(t)} = spin_is_locked(l);`, 'spin_unlock(l);'],
  (t, p) => {
    const r = someReg(t, p);
    return r ? [`if (${r}) {`, '\tspin_lock(l);', `\tWRITE_ONCE(*${loc(p)}, 1);`, '\tspin_unlock(l);', '}'] : ['spin_lock(l);', 'spin_unlock(l);'];
  },
];

export interface GeneratedTest {
  name: string;
  text: string;
}

/** A test from a seed: the same seed gives the same text. */
export function generateLitmus(seed: number[], name: string): GeneratedTest {
  let k = 0;
  const pick = (n: number): number => {
    const v = seed[k % seed.length]! + Math.floor(k / seed.length);
    k++;
    return v % n;
  };
  const nThreads = 2 + pick(2);
  const threads: string[] = [];
  const allRegs: Array<[number, string]> = [];
  for (let t = 0; t < nThreads; t++) {
    const ctx: ThreadCtx = { regs: [], next: 0 };
    const lines: string[] = [];
    const nOps = 1 + pick(3);
    for (let i = 0; i < nOps; i++) lines.push(...simpleOps[pick(simpleOps.length)]!(ctx, pick));
    threads.push(
      [
        `P${t}(int *x, int *y, int *z, int **p, spinlock_t *l, struct srcu_struct *s)`,
        '{',
        ...ctx.regs.map((r) => `\tint ${r};`),
        ...(ctx.regs.length ? [''] : []),
        ...lines.map((l) => `\t${l}`),
        '}',
      ].join('\n'),
    );
    for (const r of ctx.regs) allRegs.push([t, r]);
  }
  const atom = (): string => {
    if (allRegs.length > 0 && pick(3) > 0) {
      const [t, r] = allRegs[pick(allRegs.length)]!;
      return `${t}:${r}=${pick(3)}`;
    }
    return `${LOCS[pick(3)]}=${pick(4)}`;
  };
  const nAtoms = 1 + pick(3);
  const atoms = Array.from({ length: nAtoms }, atom);
  const prop = atoms.join(pick(4) === 0 ? ' \\/ ' : ' /\\ ');
  const kind = ['exists', 'exists', '~exists', 'forall'][pick(4)]!;
  const extra: string[] = [];
  if (pick(5) === 0) extra.push(`locations [${LOCS[pick(3)]};]`);
  if (pick(6) === 0) extra.push(`filter (${atom()})`);
  const text = [`C ${name}`, '', '{', '\tint *p = &z;', '}', '', threads.join('\n\n'), '', ...extra, `${kind} (${prop})`, ''].join('\n');
  return { name, text };
}

export const seedArb = fc.array(fc.nat(1000), { minLength: 8, maxLength: 40 });
