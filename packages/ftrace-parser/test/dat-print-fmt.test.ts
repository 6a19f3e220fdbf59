/**
 * The text views of a trace.dat (`--pretty`: trace-cmd report -R -t; `--render`: -N -t)
 * and the decoded fields, on a synthetic file holding what issue 17 found wrong in public
 * files: an old `char buf;` (size 0) trace marker format that crashed the reader, user
 * addresses that an absolute kallsyms symbol (`__per_cpu_end`) must not name, trace_printk
 * records (bprint: a format by address and binary arguments; bputs: a string by address),
 * and print fmts with flag and symbol tables, a conditional, and a helper libtraceevent
 * does not know. The expected text is what trace-cmd 3.1.6 printed for this file
 * (fixtures/dat/print-fmt.*.txt); where trace-cmd is installed it is also run live.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTraceDat, reportTraceDat } from '../src/dat/index.js';
import type { TraceEvent, TraceRecord } from '@kreplay/core';
import { formatText, PageBuilder, payload, u32, u64, writeDatV6 } from './dat-writer.js';
import { itWithTools, TOOLS } from '../../../test-support/tools.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/dat');
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-printfmt-'));
const update = process.env.UPDATE_GOLDEN === '1';

const KALLSYMS = [
  '0000000000000000 A fixed_percpu_data',
  '000000000002c000 A __per_cpu_end',
  'ffffffff81000000 T _stext',
  'ffffffff81200000 T do_user_addr_fault',
  'ffffffff81300000 T my_driver_probe',
  'ffffffff81400000 T tracing_mark_write',
  'ffffffff81500000 t $x',
  '',
].join('\n');

const FMT_HELLO = 0xffffffff81a00000n;
const STR_PLAIN = 0xffffffff81a00100n;
const PRINTK = `0x${FMT_HELLO.toString(16)} : "hello %d %s from %ps\\n"\n0x${STR_PLAIN.toString(16)} : "a constant string\\n"\n`;

const PRINT_OLD = formatText(
  'print',
  5,
  [
    ['unsigned long ip', 8, 8, 0],
    ['char buf', 16, 0, 0],
  ],
  '"%ps: %s", (void *)REC->ip, REC->buf',
);

const BPRINT = formatText(
  'bprint',
  6,
  [
    ['unsigned long ip', 8, 8, 0],
    ['const char * fmt', 16, 8, 0],
    ['u32 buf[]', 24, 0, 0],
  ],
  '"%ps: %s", (void *)REC->ip, REC->fmt',
);

const BPUTS = formatText(
  'bputs',
  10,
  [
    ['unsigned long ip', 8, 8, 0],
    ['const char * str', 16, 8, 0],
  ],
  '"%ps: %s", (void *)REC->ip, REC->str',
);

const FAULT = formatText(
  'page_fault_user',
  700,
  [
    ['unsigned long address', 8, 8, 0],
    ['unsigned long ip', 16, 8, 0],
    ['unsigned long error_code', 24, 8, 0],
  ],
  '"address=%ps ip=%ps error_code=0x%lx", (void *)REC->address, (void *)REC->ip, REC->error_code',
);

const DEMO = formatText(
  'demo_state',
  800,
  [
    ['unsigned int flags', 8, 4, 0],
    ['int state', 12, 4, 1],
    ['unsigned char on', 16, 1, 0],
    ['unsigned long long delta', 24, 8, 0],
  ],
  '"flags=%s state=%s on=%s delta=%llu.%03llu fn=%pS", __print_flags(REC->flags, "|", { 0x1, "READ" }, { 0x2, "WRITE" }, { 0x10, "SYNC" }), __print_symbolic(REC->state, { 0, "IDLE" }, { 1, "BUSY" }), REC->on ? "yes" : "no", REC->delta / 1000, REC->delta % 1000, (void *)REC->delta',
);

const FAILED = formatText(
  'demo_array',
  801,
  [
    ['__data_loc u32[] load', 8, 4, 0],
    ['u32 n', 12, 4, 0],
  ],
  '"load={%s} n=%u", __print_u32_array(__get_dynamic_array(load), REC->n), REC->n',
);

function bprintArgs(n: number, s: string): Buffer {
  // vbin_printf: an int, then the string inline, then the %ps pointer 4-byte aligned
  const str = Buffer.from(`${s}\0`);
  const pad = Buffer.alloc((4 - ((4 + str.length) % 4)) % 4);
  return Buffer.concat([u32(n), str, pad, u64(0xffffffff81300010n)]);
}

function spec(): Parameters<typeof writeDatV6>[0] {
  const demo = (flags: number, state: number, on: number, delta: bigint): Buffer => {
    const b = Buffer.alloc(24);
    b.writeUInt32LE(flags, 0);
    b.writeInt32LE(state, 4);
    b.writeUInt8(on, 8);
    b.writeBigUInt64LE(delta, 16);
    return payload(800, 42, b);
  };
  const loads = Buffer.concat([u32((8 << 16) | 16), u32(2), u32(7), u32(9)]);
  const page = new PageBuilder(2_000_000_000_000n)
    .event(10, payload(5, 42, Buffer.concat([u64(0xffffffff81400000n), Buffer.from('old marker text\n\0')])))
    .event(10, payload(700, 42, Buffer.concat([u64(0x7f0012345678n), u64(0x55d0c0ffee00n), u64(6)])))
    .event(10, payload(700, 42, Buffer.concat([u64(0x1000n), u64(0xffffffff81200010n), u64(7)])))
    .event(10, payload(6, 42, Buffer.concat([u64(0xffffffff81300004n), u64(FMT_HELLO), bprintArgs(-5 >>> 0, 'world')])))
    .event(10, payload(6, 42, Buffer.concat([u64(0xffffffff81300004n), u64(0xffffffff81a0ff00n), u32(1)])))
    .event(10, payload(10, 42, Buffer.concat([u64(0xffffffff81300008n), u64(STR_PLAIN)])))
    .event(10, demo(0x13, 1, 1, 12345n))
    .event(10, demo(0x24, 7, 0, 0xffffffff81200020n))
    .event(10, payload(801, 42, loads))
    .build();
  return {
    ftrace: [PRINT_OLD, BPRINT, BPUTS],
    systems: { exceptions: [FAULT], demo: [DEMO, FAILED] },
    kallsyms: KALLSYMS,
    printk: PRINTK,
    cmdlines: '42 worker\n',
    cpus: [[page]],
  };
}

const file = path.join(tmp, 'print-fmt.dat');
writeFileSync(file, writeDatV6(spec()));
// the same file is committed (fixtures/dat/print-fmt.dat) for the CLI's end-to-end tests
if (update) writeFileSync(path.join(fixtures, 'print-fmt.dat'), readFileSync(file));

async function text(opts: { rendered?: boolean } = {}): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of reportTraceDat(file, opts)) parts.push(c);
  return Buffer.concat(parts).toString('latin1');
}

function golden(name: string, actual: string): string {
  const p = path.join(fixtures, name);
  if (update) writeFileSync(p, actual, 'latin1');
  return readFileSync(p, 'latin1');
}

describe('trace.dat text views and decoded fields (issue 17, points 1, 9, 10)', () => {
  it('--pretty prints what trace-cmd report -R -t prints', async () => {
    const raw = await text();
    expect(raw).toBe(golden('print-fmt.report.txt', raw));
    // the old marker format's text, not `buf=0`; a user address is not `__per_cpu_end`;
    // bprint has no print fmt parse in trace-cmd, so its ip is hex; a failed print fmt prints raw
    expect(raw).toContain('buf=old marker text');
    expect(raw).not.toContain('__per_cpu_end');
    expect(raw).toMatch(/bprint: +ip=0xffffffff81300004 fmt=0xffffffff81a00000 buf=ARRAY\[/);
  });

  it('--render prints what trace-cmd report -N -t prints: print fmts evaluated, trace_printk formatted', async () => {
    const rendered = await text({ rendered: true });
    expect(rendered).toBe(golden('print-fmt.render.txt', rendered));
    expect(rendered).toContain('my_driver_probe: hello -5 world from my_driver_probe\n');
    expect(rendered).toContain('flags=READ|WRITE|SYNC state=BUSY on=yes delta=12.345');
    expect(rendered).toContain('flags=0x24 state=0x7 on=no');
    expect(rendered).toContain('[FAILED TO PARSE]');
  });

  itWithTools([TOOLS.traceCmd], 'matches trace-cmd live', async () => {
    const run = (args: string[]): string => execFileSync('trace-cmd', ['report', ...args, file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('latin1');
    expect(await text()).toBe(run(['-R', '-t']));
    expect(await text({ rendered: true })).toBe(run(['-N', '-t']));
  });

  it('is the file committed as fixtures/dat/print-fmt.dat', () => {
    expect(readFileSync(path.join(fixtures, 'print-fmt.dat')).equals(readFileSync(file))).toBe(true);
  });

  it('decodes the old marker format and trace_printk records into fields, without crashing', async () => {
    const records: TraceRecord[] = [];
    for await (const r of readTraceDat(file)) records.push(r);
    expect(records.filter((r) => r.type === 'gap')).toEqual([]);
    const events = records.filter((r): r is TraceEvent => r.type === 'event');
    expect(events[0]).toMatchObject({ event: 'print', fields: { ip: 'tracing_mark_write', buf: 'old marker text' } });
    expect(events[3]).toMatchObject({
      event: 'bprint',
      fields: { ip: 'my_driver_probe', fmt: 'hello %d %s from %ps', buf: 'hello -5 world from my_driver_probe' },
    });
    expect(events[4]!.fields).toMatchObject({ fmt: null, buf: '(NO FORMAT FOUND at ffffffff81a0ff00)' });
    expect(events[5]).toMatchObject({ event: 'bputs', fields: { ip: 'my_driver_probe', str: 'a constant string' } });
  });
});
