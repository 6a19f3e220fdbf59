/**
 * Dead locals (src/liveness.ts): a frame arriving at a pc drops what its procedure declares dead
 * there, so states that differ only in a value no step will read again are one state; a table
 * that is wrong shows as a ModelBug naming it, never as a different verdict.
 */
import { describe, expect, test } from '@jest/globals';
import { createMachine, extendFlavor, parseScenario, resolveFlavor, type Flavor, type MmState, type Proc } from '@kreplay/mm-model';
import { onePage } from './helpers/scenarios.js';

/** A loop: `pick` samples a page's refcount into `seen`, `use` reads it, `again` goes round while `n` counts down. */
function counter(dead?: Proc['dead'], readAfter = false): Proc {
  return {
    fn: 'toy',
    where: 'test',
    entry: 'pick',
    ...(dead ? { dead } : {}),
    steps: {
      pick: {
        label: 'seen = page_count(page)',
        run: (c) => {
          c.set('seen', c.page(7).refcount + c.num('n'));
          c.goto('use');
        },
      },
      use: {
        label: 'if (seen) ...',
        run: (c) => {
          c.num('seen');
          c.goto('again');
        },
      },
      again: {
        label: 'if (--n) goto pick',
        run: (c) => {
          if (readAfter) c.num('seen');
          const n = c.num('n') - 1;
          c.set('n', n);
          if (n > 0) c.goto('pick');
          else c.ret(0);
        },
      },
    },
  };
}

async function toy(proc: Proc, extra: Partial<Record<string, Proc>> = {}): Promise<Flavor> {
  const base = await resolveFlavor('linux-2.6.15');
  return extendFlavor(base, {
    name: 'toy',
    description: 'a loop with a dead local',
    procs: { toy: proc, ...extra } as Record<string, Proc>,
    programs: { toy: { proc: 'toy', description: 'the loop', start: () => ({ n: 3 }) } },
  });
}

const SCENARIO = parseScenario(onePage({ threads: '  - { name: t, program: toy, args: {} }' }), 'x.yaml');

function runAll(flavor: Flavor): MmState[] {
  const m = createMachine(SCENARIO, flavor);
  const out = [m.initial()];
  for (;;) {
    const s = out[out.length - 1]!;
    if (s.threads[0]!.status !== 'run') return out;
    out.push(m.advance(s, 0).state);
  }
}

describe('Proc.dead', () => {
  test('a frame arriving at a pc drops the locals dead there, and keeps them elsewhere', async () => {
    const states = runAll(await toy(counter({ again: ['seen'] })));
    const at = (pc: string) => states.filter((s) => s.threads[0]!.frames[0]?.pc === pc).map((s) => Object.keys(s.threads[0]!.frames[0]!.l));
    expect(at('use')).toEqual([
      ['n', 'seen'],
      ['n', 'seen'],
      ['n', 'seen'],
    ]);
    expect(at('again')).toEqual([['n'], ['n'], ['n']]);
  });

  test('without the table the same run keeps the stale value, so the states at `again` differ by it', async () => {
    const states = runAll(await toy(counter()));
    const seen = states.filter((s) => s.threads[0]!.frames[0]?.pc === 'again').map((s) => s.threads[0]!.frames[0]!.l.seen);
    expect(seen).toEqual([4, 3, 2]);
  });

  test('reading a dropped local is a ModelBug that names the table', async () => {
    const flavor = await toy(counter({ again: ['seen'] }, true));
    expect(() => runAll(flavor)).toThrow(
      /local seen is not a number in toy@again \(procedure toy declares it dead at again: its Proc.dead table is wrong, or a patched step reads it\)/,
    );
  });

  test('a callee frame drops at its entry what is dead there', async () => {
    const callee: Proc = {
      fn: 'callee',
      where: 'test',
      entry: 'go',
      dead: { go: ['junk'] },
      steps: {
        go: {
          label: 'return',
          run: (c) => {
            expect(Object.keys(c.l)).toEqual(['keep']);
            c.ret(1);
          },
        },
      },
    };
    const caller: Proc = {
      fn: 'toy',
      where: 'test',
      entry: 'call',
      steps: {
        call: { label: 'callee()', run: (c) => c.call('callee', 'go', { junk: 5, keep: 6 }, 'after') },
        after: {
          label: 'return',
          run: (c) => {
            expect(c.num('rv')).toBe(1);
            c.ret(0);
          },
        },
      },
    };
    const states = runAll(await toy(caller, { callee }));
    expect(states.at(-1)!.threads[0]!.status).toBe('done');
  });

  test('a name declared dead cannot be tested for presence: absent would read as never set', async () => {
    const proc = counter({ again: ['seen'] });
    const flavor = await toy({
      ...proc,
      steps: {
        ...proc.steps,
        use: {
          label: 'if (seen)',
          run: (c) => {
            c.opt('seen');
            c.goto('again');
          },
        },
      },
    });
    expect(() => runAll(flavor)).toThrow(/local seen is tested for presence in toy@use, but the flavor declares it dead/);
  });

  test('a table naming a pc the procedure lacks is refused when the machine is made', async () => {
    const flavor = await toy(counter({ nowhere: ['seen'] }));
    expect(() => createMachine(SCENARIO, flavor)).toThrow(/procedure toy declares dead locals at nowhere, which is not one of its steps/);
  });
});
