/** Reading C litmus tests: what is accepted, and errors a user can act on (file:line, hint). */
import { describe, expect, it } from '@jest/globals';
import { checkLitmus, loadModel, parseLitmus, unknownWarning } from '../src/index.js';

const model = loadModel('linux-6.12');

function errorOf(text: string, file = 't.litmus'): { message: string; line?: number; hint?: string } {
  try {
    checkLitmus(parseLitmus(text, file), model);
  } catch (e) {
    const err = e as { name: string; message: string; line?: number; hint?: string };
    expect(err.name).toBe('InputError');
    return { message: err.message, line: err.line, hint: err.hint };
  }
  throw new Error('expected an input error');
}

const wrap = (body: string, cond = 'exists (x=1)'): string => `C t\n{}\nP0(int *x, int *y)\n{\n${body}\n}\n${cond}\n`;

describe('parseLitmus', () => {
  it('reads the header, the initial state, threads, locations, filter and the condition', () => {
    const t = parseLitmus(
      [
        'C MP+test.litmus',
        '(*',
        ' * Result: Sometimes DATARACE',
        ' *)',
        '{',
        '\tx=1; int *p = &y; 0:r1=2; atomic_t v = ATOMIC_INIT(3); spinlock_t s;',
        '}',
        'P0(int *x, int **p) // a comment',
        '{',
        '\tint r0 = READ_ONCE(*x);',
        '\t/* block */ if (r0 == 1) { WRITE_ONCE(*x, 2); } else *x = 3;',
        '}',
        'void P1(spinlock_t *s) { spin_lock(s); }',
        'locations [x; 0:r1;]',
        'filter (0:r0=1)',
        '~exists (0:r0=1 /\\ [x]=2)',
      ]
        .join('\n')
        .replace('[x]=2', 'x=2'),
      'mp.litmus',
    );
    expect(t.name).toBe('MP+test');
    expect(t.expectation).toEqual({ outcome: 'Sometimes', datarace: true, line: 3 });
    expect(t.init.map((i) => [i.thread, i.name, i.value])).toEqual([
      [null, 'x', { t: 'int', v: 1 }],
      [null, 'p', { t: 'addr', name: 'y' }],
      [0, 'r1', { t: 'int', v: 2 }],
      [null, 'v', { t: 'int', v: 3 }],
      [null, 's', null],
    ]);
    expect(t.threads.map((th) => [th.id, th.params.map((p) => p.name)])).toEqual([
      [0, ['x', 'p']],
      [1, ['s']],
    ]);
    expect(t.locations).toEqual([
      { thread: null, name: 'x' },
      { thread: 0, name: 'r1' },
    ]);
    expect(t.filter).not.toBeNull();
    expect(t.condition.kind).toBe('not exists');
  });

  it('takes forall (true) when there is no condition, as herd7 does', () => {
    const r = checkLitmus(parseLitmus('C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\n', 't'), model);
    expect(r.condition).toBe('forall (true)');
    expect(r.observation).toBe('Always');
  });

  it('names what the condition refers to and the test never mentions (a typo reads as "Never")', () => {
    const sb = (cond: string) =>
      checkLitmus(
        parseLitmus(
          `C t\n{ int *p = &z; 1:r9=0; }\nP0(int *x, int *y)\n{\n\tint r0;\n\tWRITE_ONCE(*x, 1);\n\tr0 = READ_ONCE(*y);\n}\nP1(int *x)\n{\n\tif (READ_ONCE(*x)) { int r1 = 1; }\n}\n${cond}\n`,
          't',
        ),
        model,
      );
    const typo = sb('exists (0:r0=1 /\\ yy=1 /\\ 0:r7=0 /\\ ~(1:r2=1))');
    expect(typo.unknownInCondition).toEqual(['yy', '0:r7', '1:r2']);
    expect(typo.observation).toBe('Never');
    expect(unknownWarning(typo)).toMatch(/^t: the condition names yy, 0:r7, 1:r2, which the test never mentions .* 0 in every execution/);
    // declared in the init block, by a parameter, through a pointer's initial value, in a nested block
    const fine = sb('exists (0:r0=1 /\\ x=1 /\\ z=0 /\\ p=z /\\ 1:r9=0 /\\ 1:r1=1)');
    expect(fine.unknownInCondition).toEqual([]);
    expect(unknownWarning(fine)).toBeNull();
  });

  it('refuses other architectures by name', () => {
    expect(() => parseLitmus('PPC t\n{}\n P0 ;\n', 'ppc.litmus')).toThrow(/this is a PPC litmus test; kreplay checks C tests/);
    // a file that is no litmus test at all (a binary, a YAML) is not called an architecture's test, and its bytes are escaped
    expect(() => parseLitmus('\u03df\u0007<x>\n', 'junk.litmus')).toThrow(/^not a litmus test: it starts with "\\u\{3df\}\\u0007<x>", not "C name"$/);
    expect(() => parseLitmus('name: x\n', 'bad.yaml')).toThrow('not a litmus test: it starts with "name:", not "C name"');
    expect(() => parseLitmus('C\n{}\n', 'anon.litmus')).toThrow('the test has no name');
  });

  it.each([
    [wrap('\tWRITE_ONCE(*x, 1)'), 6, /expected ";"/, /a statement ends with ;/],
    [wrap('\tint r0, r1;'), 5, /declare one variable per declaration/, /int r0; int r1;/],
    [wrap('\tint r0;\n\twhile (r0 == 0) r0 = READ_ONCE(*x);'), 6, /while loops are not supported/, /write the iterations out/],
    [wrap('\tsmp_memb();'), 5, /unknown primitive smp_memb: the linux-6.12 memory model does not define it/, /Unknown macro smp_memb/],
    [wrap('\tint r0 = READ_ONCE(x);'), 5, /a load needs a pointer dereference \(\*p\)/, /READ_ONCE\(\*x\)/],
    [wrap('\tint *r0 = &y;'), 5, /taking an address \(&\) in thread code is not supported/, /initialise pointers in the init block/],
    [
      wrap('\tint r0;\n\tif (READ_ONCE(*x) && READ_ONCE(*y)) r0 = 1;'),
      6,
      /&& with a memory access in an operand is not supported/,
      /read into a local variable first/,
    ],
    [wrap('\tWRITE_ONCE(*x, 1);', 'exists (2:r0=1)'), 7, /names P2, which this test does not have/, /P0..P0/],
    // `0x:r0` and `1u:r0` lex as numbers: read as NaN the thread passed the check above, and the checker failed (exit 70)
    [wrap('\tint r0 = READ_ONCE(*x);', 'exists (0x:r0=1)'), 7, /expected a thread number before ":" \(found "0x"\)/, /a thread number in decimal/],
    [wrap('\tint r0 = READ_ONCE(*x);', 'exists (0:r0=1 /\\ 0u:r0=1)'), 7, /expected a thread number before ":" \(found "0u"\)/, /0:r1/],
    [wrap('\tWRITE_ONCE(*x, 1);', 'exists (x[1]=1)'), 7, /array locations are not supported/, /one location per variable/],
    [wrap('\tWRITE_ONCE(*x, 1);', 'bogus (x=1)'), 7, /expected locations, filter, exists/, /ends with a condition/],
    ['C t\n{}\nP0(int x)\n{\n}\nexists (x=1)\n', 3, /parameter x is not a pointer/, /P0\(int \*x/],
    ['C t\n{}\nP1(int *x)\n{\n}\nexists (x=1)\n', 3, /threads must be P0, P1, ... in order; found P1/, /without gaps/],
    ['C t\n{ x=1; \nP0(int *x)\n{\n}\nexists (x=1)\n', 2, /missing } to close this block/, /every \{ needs its \}/],
    // crafted nesting overflowed the stack (internal error, exit 70); literals past 2^53 were rounded (1e+29 in the states)
    [wrap(`\tint r0 = ${'('.repeat(5000)}1${')'.repeat(5000)};`), 5, /nested more than 400 levels deep/, /write the expression or condition out flat/],
    [wrap(`\tint r0 = ${'-~!'.repeat(3000)}1;`), 5, /nested more than 400 levels deep/, /out flat/],
    [wrap(`\tif (1) `.repeat(3000) + '\tWRITE_ONCE(*x, 1);'), 5, /nested more than 400 levels deep/, /out flat/],
    [wrap('\tWRITE_ONCE(*x, 1);', `exists ${'('.repeat(5000)}x=1${')'.repeat(5000)}`), 7, /nested more than 400 levels deep/, /out flat/],
    [wrap('\tWRITE_ONCE(*x, 1);', `exists (${'~'.repeat(5000)}x=1)`), 7, /nested more than 400 levels deep/, /out flat/],
    [wrap('\tWRITE_ONCE(*x, 99999999999999999999999999999);'), 5, /the integer 99999999999999999999999999999 is too large to check exactly/, /smaller value/],
    [wrap('\tWRITE_ONCE(*x, 1);', 'exists (x=0x20000000000001)'), 7, /the integer 0x20000000000001 is too large/, /smaller value/],
    // a read through a name that is no parameter had no write to read: "Never 0 0", a ~exists test "Ok"
    [wrap('\tint r0 = READ_ONCE(*yy);', '~exists (0:r0=1)'), 5, /P0 accesses memory at 0, not at a location/, /must be a parameter/],
    [wrap('\tint r0 = READ_ONCE(*x);\n\tint r1 = smp_load_acquire(yy);'), 6, /P0 accesses memory at 0, not at a location/, /must be a parameter/],
  ])('an error names the line and gives a hint (%#)', (text, line, message, hint) => {
    const e = errorOf(text);
    expect(e.message).toMatch(message);
    expect(e.line).toBe(line);
    expect(e.hint).toMatch(hint);
  });
});
