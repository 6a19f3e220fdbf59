/**
 * A trace.dat's timestamps as trace-cmd 3.1.6 reports them: the form it prints (`secs.nsecs`
 * or raw counts, by the trace clock), the TSC2NSEC conversion and the DATE/OFFSET offsets in
 * its 64-bit arithmetic. The expectations below were printed by `trace-cmd report -R -t`
 * 3.1.6 (libtraceevent 1.7.1) for these files; the last suite compares live when trace-cmd
 * is installed.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TraceEvent, TraceRecord } from '@kreplay/core';
import { readTraceDat, reportTraceDat } from '../src/dat/index.js';
import { mulU64U32Shr, strtoll, TimestampForm, traceCmdClock } from '../src/dat/time.js';
import { u32, u64, writeDatV6, type DatSpec } from './dat-writer.js';
import { markerSpec, syntheticSpec, tsc2nsecOption } from './dat-synthetic.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-dat-ts-'));
const opt = (text: string): Buffer => Buffer.from(`${text}\0`);
const DATE = 1,
  OFFSET = 7,
  TIME_SHIFT = 12,
  TSC2NSEC = 14;

/** A guest/host sample: time, offset, scaling and (when the option carries them) fraction bits. */
type Sample = [bigint, bigint, bigint, bigint?];

/** TIME_SHIFT option data: trace id, flags (1: interpolate), per CPU its samples, then (`fractions`) every CPU's fraction bits. */
function timeShift(flags: number, cpus: Sample[][], fractions = false): Buffer {
  const w = (v: bigint): Buffer => u64(BigInt.asUintN(64, v));
  const parts = [u64(0x1234n), u32(flags), u32(cpus.length)];
  for (const l of cpus) parts.push(u32(l.length), ...l.map((x) => w(x[0])), ...l.map((x) => w(x[1])), ...l.map((x) => w(x[2])));
  if (fractions) for (const l of cpus) parts.push(...l.map((x) => w(x[3] ?? 0n)));
  return Buffer.concat(parts);
}

/** Unsorted, one time twice, a scaling and fraction bits on one sample. */
const MANY: Sample[] = [
  [3_000_000_000n, 50n, 3n, 1n],
  [1_000_000_000n, -70n, 1n, 0n],
  [2_500_000_000n, 20n, 1n, 0n],
  [1_000_000_000n, 999n, 5n, 0n],
  [6_000_000_000n, 10_000n, 1n, 0n],
];
const TWO: Sample[] = [
  [0n, 100n, 1n],
  [4_000_000_000n, 300n, 1n],
];
const guest = (options: [number, Buffer][]): DatSpec => markerSpec([2_000_000_000n, 3_000_000_000n, 5_000_000_000n], { options });

/** Files whose timestamps trace-cmd prints or computes in some way of its own. */
const variants: Record<string, DatSpec> = {
  'clock-boot': { ...syntheticSpec({ corrupt: false }), clock: '[boot] local' },
  'clock-counter': { ...syntheticSpec({ corrupt: false }), clock: '[counter] local' },
  'clock-x86-tsc': { ...syntheticSpec({ corrupt: false }), clock: 'local [x86-tsc]' },
  'clock-mono_raw': { ...syntheticSpec({ corrupt: false }), clock: '[mono_raw] local' },
  'clock-unbracketed': { ...syntheticSpec({ corrupt: false }), clock: 'boot' },
  'small-ts-boot': markerSpec([5n, 999_999_999n, 1_000_000_000n], { clock: '[boot] local' }),
  'small-ts-local': markerSpec([5n, 999_999_999n, 1_000_000_000n, 1_000_000_001n]),
  'big-ts-boot': markerSpec([(1n << 53n) + 12345n, 1n << 62n], { clock: '[boot] local' }),
  'equal-ts': markerSpec([2_000_000_000n, 2_000_000_000n, 2_000_000_000n, 1_999_999_995n]),
  'tsc-x86': markerSpec([2_000_000_000n, 3_000_000_000n], { options: [[TSC2NSEC, tsc2nsecOption(3 << 21, 22, 500n)]], clock: '[x86-tsc] local' }),
  'tsc-wraps': markerSpec([0x1_2345_6789_abcdn, 0x2_0000_0000_0001n], { options: [[TSC2NSEC, tsc2nsecOption(0x9abcdef1, 31)]], clock: '[x86-tsc] local' }),
  'tsc-shift40': markerSpec([0x1_0000_0001n], { options: [[TSC2NSEC, tsc2nsecOption(1000, 40)]], clock: '[x86-tsc] local' }),
  'tsc-and-offset': markerSpec([2_000_000_000n], {
    options: [
      [TSC2NSEC, tsc2nsecOption(5, 2)],
      [OFFSET, opt('1000')],
    ],
    clock: '[x86-tsc] local',
  }),
  'tsc-short': markerSpec([2_000_000_000n], { options: [[TSC2NSEC, Buffer.concat([u32(5), u32(2)])]], clock: '[x86-tsc] local' }),
  'tsc-zero': markerSpec([2_000_000_000n], { options: [[TSC2NSEC, tsc2nsecOption(0, 0)]], clock: '[x86-tsc] local' }),
  'date-octal': markerSpec([2_000_000_000n], { options: [[DATE, opt('010')]] }),
  'date-negative-hex': markerSpec([2_000_000_000n], { options: [[DATE, opt('-0x10')]] }),
  'date-trailing-junk': markerSpec([2_000_000_000n], { options: [[DATE, opt('12abc')]] }),
  'offset-below-zero': markerSpec([2_000_000_000n], { options: [[OFFSET, opt('-3000000000')]] }),
  'offsets-added': markerSpec([2_000_000_000n], {
    options: [
      [OFFSET, opt('100')],
      [OFFSET, opt('0x20')],
      [DATE, opt('3')],
    ],
  }),
  'guest-one-sample': guest([[TIME_SHIFT, timeShift(0, [[[0n, 1000n, 1n]], [[0n, -500n, 1n]]])]]),
  'guest-interpolated': guest([[TIME_SHIFT, timeShift(1, [TWO, TWO])]]),
  'guest-many-samples': guest([[TIME_SHIFT, timeShift(1, [MANY, MANY, MANY], true)]]),
  'guest-wraps': guest([
    [
      TIME_SHIFT,
      timeShift(
        1,
        [
          [
            [0n, -3_000_000_000n, 1n],
            [1n << 62n, 5n, 1n],
          ],
          [
            [-5n, 7n, 2n, 70n],
            [10n, 9n, 1n],
          ],
          [[0n, 1n, 0n]],
        ],
        true,
      ),
    ],
  ]),
  'guest-then-tsc-and-offset': guest([
    [TIME_SHIFT, timeShift(0, [[[0n, 1000n, 1n]], [[0n, 1000n, 1n]], [[0n, 1000n, 1n]]])],
    [TSC2NSEC, tsc2nsecOption(3 << 21, 22)],
    [OFFSET, opt('77')],
  ]),
  'guest-fewer-cpus': guest([[TIME_SHIFT, timeShift(0, [[[0n, 1000n, 1n]]])]]),
  'guest-option-too-short': guest([[TIME_SHIFT, Buffer.alloc(15)]]),
};

function file(name: string): string {
  const p = path.join(tmp, `${name}.dat`);
  writeFileSync(p, writeDatV6(variants[name]!));
  return p;
}

async function report(p: string, rendered = false): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of reportTraceDat(p, { rendered })) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Each event line's timestamp column: what follows `[cpu]` up to the `:`. */
const stamps = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => /\[\d{3}\]/.test(l))
    .map((l) => l.slice(l.indexOf(']') + 1, l.indexOf(': ', l.indexOf(']'))));

async function records(p: string): Promise<{ events: TraceEvent[]; tsForm: unknown; rs: TraceRecord[] }> {
  let tsForm: unknown;
  const rs: TraceRecord[] = [];
  for await (const r of readTraceDat(p, { onDone: (t) => (tsForm = t.tsForm) })) rs.push(r);
  return { events: rs.filter((r): r is TraceEvent => r.type === 'event'), tsForm, rs };
}

describe('the timestamp form trace-cmd prints', () => {
  it('is raw counts, `%12llu:` right after the CPU, for a clock outside its nanosecond list (boot too)', async () => {
    const text = await report(file('clock-boot'));
    expect(text.split('\n')[1]).toBe(
      '           racer-1234  [000]1000000000100: p_filemap_fault_0:     __probe_ip=ffffffff81200000 ino=0x2a index=3 comm=racer delta=-16',
    );
    expect((await report(file('clock-boot'), true)).split('\n')[2]).toBe(
      '           racer-1234  [000]1000000000150: mm_filemap_add_to_page_cache: dev 254:3 ino 2a pfn=0x1234 ofs=4096 order=0',
    );
    expect(stamps(await report(file('small-ts-boot')))).toEqual([
      '           5',
      '          10',
      '          10',
      '   999999999',
      '  1000000000',
      '  1000000004',
      '  1000000004',
      '  1000000005',
      '  1000000005',
    ]);
    expect(stamps(await report(file('big-ts-boot')))[0]).toBe('9007199254753337');
    for (const name of ['clock-counter', 'clock-x86-tsc']) expect(stamps(await report(file(name)))[0]).toBe('1000000000100');
  });

  it('is `secs.nsecs` for its nanosecond clocks, a clock named without brackets and below one second', async () => {
    for (const name of ['clock-mono_raw', 'clock-unbracketed']) expect(stamps(await report(file(name)))[0]).toBe('  1000.000000100');
    expect(stamps(await report(file('small-ts-local'))).slice(0, 4)).toEqual(['     0.000000005', '     0.000000010', '     0.000000010', '     0.999999999']);
  });

  it("says so in the parse totals: 'counter' exactly when trace-cmd prints counts", async () => {
    expect((await records(file('clock-boot'))).tsForm).toBe('counter');
    expect((await records(file('clock-mono_raw'))).tsForm).toBe('nsec');
    expect((await records(file('tsc-x86'))).tsForm).toBe('nsec');
    expect((await records(file('tsc-zero'))).tsForm).toBe('counter');
  });

  it('follows trace-cmd’s reading of the clock text: the first word starting with `[`', () => {
    const raw = (...texts: string[]): boolean => {
      const f = new TimestampForm();
      for (const t of texts) f.clockText(t);
      return !f.nanoseconds;
    };
    for (const t of ['[boot] local', '[counter]', 'local [x86-tsc] boot', '[mon]']) expect([t, raw(t)]).toEqual([t, true]);
    for (const t of [
      '[local] global',
      '[global]',
      '[uptime]',
      '[perf]',
      '[mono]',
      '[mono_raw]',
      '[monotonic]',
      '[tsc2nsec]',
      '[tai]',
      'boot',
      'local\n[boot]',
      '',
      '[]',
      '[ boot ]',
      '[local]x [boot]',
    ])
      expect([t, raw(t)]).toEqual([t, false]);
    expect(traceCmdClock('local [x86-tsc]\n')).toBe('x86-tsc');
    expect(traceCmdClock('[] [boot]')).toBeNull();
    // a TSC2NSEC multiplier read before the clock keeps nanoseconds; one read after restores them
    const before = new TimestampForm();
    before.tsc2nsec(3, 1);
    before.clockText('[x86-tsc]');
    expect(before.nanoseconds).toBe(true);
    expect(raw('[x86-tsc]', '[local]')).toBe(true);
  });
});

describe('TSC2NSEC, DATE and OFFSET as trace-cmd applies them', () => {
  it('converts with mult and shift (its offset field unused), into the event ts and the line', async () => {
    const p = file('tsc-x86');
    expect(stamps(await report(p)).slice(0, 2)).toEqual(['     3.000000000', '     3.000000007']);
    const { events, rs } = await records(p);
    expect(events.map((e) => e.ts).slice(0, 3)).toEqual([3_000_000_000n, 3_000_000_007n, 3_000_000_007n]);
    expect(events.map((e) => e.ts).slice(3)).toEqual([4_500_000_000n, 4_500_000_007n, 4_500_000_007n]);
    expect(rs.find((r) => r.type === 'meta' && r.key === 'tsc2nsec')).toMatchObject({ value: 'mult=6291456 shift=22 offset=500' });
    expect(stamps(await report(file('tsc-and-offset')))).toEqual(['     2.500001000', '     2.500001006', '     2.500001006']);
  });

  it('in trace-cmd’s 64-bit arithmetic: a sign-extended multiplier, wrapping products, x86 shift counts', async () => {
    expect(stamps(await report(file('tsc-wraps')))).toEqual([
      ' 18446298726.332104703',
      ' 18446298726.332104699',
      ' 18446298726.332104699',
      ' 18446490724.238042508',
      ' 18446490724.238042504',
      ' 18446490724.238042504',
    ]);
    expect(stamps(await report(file('tsc-shift40')))[0]).toBe(' 16717361816.799281152');
    expect(mulU64U32Shr(2_000_000_000n, 3 << 21, 22)).toBe(3_000_000_000n);
    expect(mulU64U32Shr((1n << 64n) - 1n, 1, 0)).toBe((1n << 64n) - 1n);
  });

  it('skips a TSC2NSEC option shorter than 16 bytes and one whose multiplier is 0, as trace-cmd does', async () => {
    const short = await records(file('tsc-short'));
    expect(short.events.map((e) => e.ts)).toEqual([2_000_000_000n, 2_000_000_005n, 2_000_000_005n]);
    expect(short.rs.find((r) => r.type === 'meta' && r.key === 'tsc2nsec')).toMatchObject({ value: expect.stringMatching(/^ignored: 8 bytes/) });
    expect(stamps(await report(file('tsc-short')))[0]).toBe('  2000000000');
    expect(stamps(await report(file('tsc-zero')))[0]).toBe('  2000000000');
  });

  it('reads DATE and OFFSET as strtoll(…, 0) does, and wraps a time below 0 as an unsigned 64-bit one', async () => {
    expect(stamps(await report(file('date-octal')))[0]).toBe('     2.000008000');
    expect(stamps(await report(file('date-negative-hex')))[0]).toBe('     1.999984000');
    expect(stamps(await report(file('date-trailing-junk')))[0]).toBe('     2.000012000');
    expect(stamps(await report(file('offsets-added')))[0]).toBe('     2.000003132');
    expect(stamps(await report(file('offset-below-zero')))[0]).toBe(' 18446744072.709551616');
    expect((await records(file('offset-below-zero'))).events[0]!.ts).toBe((1n << 64n) - 1_000_000_000n);
    expect([strtoll(' 0x1f'), strtoll('0x'), strtoll('-077'), strtoll('99999999999999999999'), strtoll('x')]).toEqual([31n, 0n, -63n, (1n << 63n) - 1n, 0n]);
  });
});

describe("a guest's TIME_SHIFT samples as trace-cmd applies them", () => {
  /** Each event line as `stamp|marker text`. */
  const timeline = async (name: string): Promise<string[]> =>
    (await report(file(name)))
      .split('\n')
      .filter((l) => /\[\d{3}\]/.test(l))
      .map((l) => `${l.slice(l.indexOf(']') + 1, l.indexOf(': ', l.indexOf(']')))}|${l.split('buf=')[1]}`);
  const unchanged = ['     5.000000000|c2 a', '     5.000000005|c2 b', '     5.000000005|c2 c'];
  /** Each CPU's first line (the files hold three lines per CPU). */
  const firsts = async (name: string): Promise<string> => (await timeline(name)).filter((_, k) => k % 3 === 0).join(', ');

  it('moves each guest CPU onto the host time line by its own samples, before TSC2NSEC and OFFSET', async () => {
    expect(await timeline('guest-one-sample')).toEqual([
      '     2.000001000|c0 a',
      '     2.000001005|c0 b',
      '     2.000001005|c0 c',
      '     2.999999500|c1 a',
      '     2.999999505|c1 b',
      '     2.999999505|c1 c',
      ...unchanged,
    ]);
    expect(await timeline('guest-interpolated')).toEqual([
      '     2.000000200|c0 a',
      '     2.000000205|c0 b',
      '     2.000000205|c0 c',
      '     3.000000250|c1 a',
      '     3.000000255|c1 b',
      '     3.000000255|c1 c',
      ...unchanged,
    ]);
    expect(await timeline('guest-many-samples')).toEqual([
      '     1.999999990|c0 a',
      '     1.999999995|c0 b',
      '     1.999999995|c0 c',
      '     4.500000050|c1 a',
      '     4.500000057|c1 b',
      '     4.500000057|c1 c',
      '     7.500006683|c2 a',
      '     7.500006690|c2 b',
      '     7.500006690|c2 c',
    ]);
    expect(await firsts('guest-then-tsc-and-offset')).toBe('     3.000001577|c0 a,      4.500001577|c1 a,      7.500001577|c2 a');
  });

  it('in its 64-bit arithmetic: a time below zero wraps, fraction bits shift, times compare unsigned', async () => {
    expect(await timeline('guest-wraps')).toEqual([
      '     0.493750008|c1 a',
      '     0.493750008|c1 b',
      '     0.493750008|c1 c',
      '     5.000000001|c2 a',
      '     5.000000006|c2 b',
      '     5.000000006|c2 c',
      ' 18446744072.709551617|c0 a',
      ' 18446744072.709551622|c0 b',
      ' 18446744072.709551622|c0 c',
    ]);
    const { events, rs } = await records(file('guest-wraps'));
    expect(events[0]!.ts).toBe(493_750_008n);
    expect(rs.find((r) => r.type === 'meta' && r.key === 'time-shift')).toMatchObject({
      value: "guest timestamps moved to the host's: 3 CPUs, 5 samples, interpolated",
    });
  });

  it('leaves a CPU without samples, and every CPU under an option shorter than 16 bytes, as recorded', async () => {
    expect(await firsts('guest-fewer-cpus')).toBe('     2.000001000|c0 a,      3.000000000|c1 a,      5.000000000|c2 a');
    expect(await firsts('guest-option-too-short')).toBe('     2.000000000|c0 a,      3.000000000|c1 a,      5.000000000|c2 a');
  });

  it('says so when the samples run past the option, where trace-cmd refuses the file, and keeps the guest times', async () => {
    const p = path.join(tmp, 'guest-samples-cut.dat');
    writeFileSync(p, writeDatV6(guest([[TIME_SHIFT, timeShift(0, [[[0n, 1000n, 1n]]]).subarray(0, 30)]])));
    const { events, rs } = await records(p);
    expect(events[0]!.ts).toBe(2_000_000_000n);
    expect(rs.find((r) => r.type === 'meta' && r.key === 'time-shift')).toMatchObject({
      value: expect.stringMatching(/run past the option's 30 bytes: trace-cmd 3.1.6 refuses this file/),
    });
  });
});

describeWithTools([TOOLS.traceCmd], 'timestamps beside trace-cmd on this machine', () => {
  it('every variant reads exactly as `trace-cmd report -R -t` and `-N -t` print it', async () => {
    for (const name of Object.keys(variants)) {
      const p = file(name);
      for (const [flag, rendered] of [
        ['-R', false],
        ['-N', true],
      ] as const) {
        const theirs = execFileSync('trace-cmd', ['report', flag, '-t', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        expect([name, flag, await report(p, rendered)]).toEqual([name, flag, theirs]);
      }
    }
  });
});
