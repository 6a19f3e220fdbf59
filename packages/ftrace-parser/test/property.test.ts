/**
 * Property tests: a random event printed the way the kernel (or perf) prints it parses back
 * to the same record, and random bytes never make the parser throw anything but a clean
 * InputError.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseTrace, parseTraceString } from '../src/index.js';
import { isInputError, type Fields, type TraceEvent, type TraceRecord } from '@kreplay/core';

const U64 = (1n << 64n) - 1n;
const exact = (b: bigint): number | bigint => (b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);

/** comms as the kernel stores them: ≤ 15 bytes, spaces/dashes/colons/slashes/digits inside. */
const comm = fc.stringMatching(/^[A-Za-z0-9_<][A-Za-z0-9 _:/.<>-]{0,13}[A-Za-z0-9_>]$/).filter((c) => !/\[\d+\]/.test(c));
const flags = fc.oneof(
  fc.constant(undefined),
  fc.stringMatching(/^[.dDX][.nNpPbB][.hHsSzZ][.0-9a-f]$/),
  fc.stringMatching(/^[.dDX][.nNpPbBLl][.hHsSzZ][.0-9a-f][.0-9a-f]$/),
);
const ts = fc.tuple(fc.bigInt(0n, 99_999_999n), fc.integer({ min: 0, max: 999_999 }));

interface Printed {
  text: string;
  expect: Omit<TraceEvent, 'line' | 'source'>;
}

const filemap = fc
  .record({
    major: fc.integer({ min: 0, max: 4095 }),
    minor: fc.integer({ min: 0, max: 1048575 }),
    ino: fc.bigInt(0n, U64),
    pfn: fc.bigInt(0n, (1n << 52n) - 1n),
    index: fc.bigInt(0n, (1n << 52n) - 1n),
    order: fc.integer({ min: 0, max: 10 }),
    add: fc.boolean(),
  })
  .map((f) => {
    const ofs = f.index * 4096n;
    const event = f.add ? 'mm_filemap_add_to_page_cache' : 'mm_filemap_delete_from_page_cache';
    const fields: Fields = { dev: `${f.major}:${f.minor}`, ino: exact(f.ino), pfn: exact(f.pfn), ofs: exact(ofs), index: exact(f.index), order: f.order };
    return {
      body: `${event}: dev ${f.major}:${f.minor} ino ${f.ino.toString(16)} pfn=0x${f.pfn.toString(16)} ofs=${ofs} order=${f.order}`,
      event,
      system: 'filemap',
      fields,
      probe: undefined,
    };
  });

const argName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,9}$/);
// A 16-hex-digit word in a probe site is an address in perf's output, never a symbol
// (real kernel symbols are not all hex): the generator does not produce such symbols.
const symbol = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/).filter((s) => !/^[0-9a-f]{16,}$/.test(s));
const kprobe = fc
  .record({
    func: symbol,
    offset: fc.integer({ min: 0, max: 0xfff }),
    size: fc.integer({ min: 1, max: 0xffff }),
    ret: fc.boolean(),
    caller: symbol,
    args: fc.uniqueArray(fc.tuple(argName, fc.oneof(fc.bigInt(0n, U64), fc.bigInt(-(1n << 31n), 1n << 31n))), { selector: (a) => a[0], maxLength: 4 }),
    hex: fc.boolean(),
  })
  .map((k) => {
    const name = `${k.ret ? 'r' : 'p'}_${k.func}_0`;
    const site = k.ret
      ? `(${k.caller}+0x${k.offset.toString(16)}/0x${k.size.toString(16)} <- ${k.func})`
      : `(${k.func}+0x${k.offset.toString(16)}/0x${k.size.toString(16)})`;
    const fields: Fields = {};
    const printed = k.args.map(([n, v]) => {
      fields[n] = exact(v);
      return `${n}=${k.hex && v >= 0n ? `0x${v.toString(16)}` : v.toString()}`;
    });
    const probe = k.ret
      ? { kind: 'kretprobe' as const, func: k.func, caller: `${k.caller}+0x${k.offset.toString(16)}/0x${k.size.toString(16)}` }
      : { kind: 'kprobe' as const, func: k.func, offset: k.offset, size: k.size };
    return { body: `${name}: ${[site, ...printed].join(' ')}`, event: name, system: 'kprobes', fields, probe };
  });

const marker = fc.stringMatching(/^[ -~]{0,60}$/).map((m) => ({
  body: `tracing_mark_write: ${m}`,
  event: 'print',
  system: 'ftrace',
  fields: { ip: 'tracing_mark_write', buf: m } as Fields,
  probe: undefined,
}));

const func = fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_.]{0,20}$/), fc.stringMatching(/^[a-z_][a-z0-9_.]{0,20}$/)).map(([f, p]) => ({
  body: `${f} <-${p}`,
  event: 'function',
  system: 'ftrace',
  fields: { ip: f, parent_ip: p } as Fields,
  probe: undefined,
}));

// syscalls as tracefs prints them (print_syscall_enter: `%s: %lx` joined by `, `; exit: `%s -> 0x%lx`)
const syscall = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/),
    exit: fc.boolean(),
    ret: fc.oneof(fc.bigInt(0n, 1n << 40n), fc.bigInt(U64 - 4095n, U64)),
    args: fc.uniqueArray(fc.tuple(argName, fc.bigInt(0n, U64)), { selector: (a) => a[0], maxLength: 6 }),
  })
  .map((c) => {
    if (c.exit) {
      const ret = c.ret > 1n << 63n ? exact(c.ret - (1n << 64n)) : exact(c.ret);
      return { body: `sys_${c.name} -> 0x${c.ret.toString(16)}`, event: `sys_exit_${c.name}`, system: 'syscalls', fields: { ret } as Fields, probe: undefined };
    }
    const fields: Fields = {};
    for (const [n, v] of c.args) fields[n] = exact(v);
    return {
      body: `sys_${c.name}(${c.args.map(([n, v]) => `${n}: ${v.toString(16)}`).join(', ')})`,
      event: `sys_enter_${c.name}`,
      system: 'syscalls',
      fields,
      probe: undefined,
    };
  });

const event = fc
  .record({
    comm,
    pid: fc.integer({ min: 0, max: 99_999_999 }),
    tgid: fc.option(fc.integer({ min: 1, max: 4_194_304 }), { nil: undefined }),
    cpu: fc.integer({ min: 0, max: 4095 }),
    flags,
    ts,
    nsec: fc.boolean(),
    payload: fc.oneof(filemap, kprobe, marker, func, syscall),
  })
  .map((e): Printed => {
    const [sec, frac] = e.ts;
    const fracText = e.nsec ? String(frac * 1000 + 7).padStart(9, '0') : String(frac).padStart(6, '0');
    const tsNs = sec * 1_000_000_000n + BigInt(e.nsec ? frac * 1000 + 7 : frac * 1000);
    // trace_print_context: "%16s-%-7d " ["(%7d) "] "[%03d] " [flags] " %5lu.%06lu: "
    let text = `${e.comm.padStart(16)}-${String(e.pid).padEnd(7)} `;
    if (e.tgid !== undefined) text += `(${String(e.tgid).padStart(7)}) `;
    text += `[${String(e.cpu).padStart(3, '0')}] `;
    if (e.flags !== undefined) text += e.flags;
    text += ` ${String(sec).padStart(5)}.${fracText}: ${e.payload.body}`;
    return {
      text,
      expect: {
        type: 'event',
        ts: tsNs,
        cpu: e.cpu,
        pid: e.pid,
        tgid: e.tgid,
        comm: e.comm,
        flags: e.flags,
        event: e.payload.event,
        system: e.payload.system,
        fields: e.payload.fields,
        probe: e.payload.probe,
        stack: undefined,
      },
    };
  });

describe('printed events parse back to the same record', () => {
  it('ftrace layout (trace, trace_pipe, trace-cmd report)', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), (evs) => {
        const records = parseTraceString(evs.map((e) => e.text).join('\n'));
        expect(records).toEqual(evs.map((e, i) => ({ ...e.expect, line: i + 1, source: '<string>' })));
      }),
      { numRuns: 300 },
    );
  });

  it('perf script layout', () => {
    fc.assert(
      fc.property(event, (e) => {
        fc.pre(e.expect.event !== 'function' && e.expect.system !== 'syscalls'); // perf prints those with their print fmts
        const x = e.expect;
        const sec = x.ts / 1_000_000_000n;
        const ns = x.ts % 1_000_000_000n;
        const name = `${x.system}:${x.event === 'print' ? 'print' : x.event}`;
        const payload = e.text.slice(e.text.indexOf(': ', e.text.indexOf(']')) + 2).replace(/^[^:]+: /, '');
        const body = x.event === 'print' ? `tracing_mark_write: ${payload}` : payload;
        const text = `${x.comm.padStart(16)} ${String(x.pid).padStart(6)} [${String(x.cpu).padStart(3, '0')}] ${sec}.${String(ns).padStart(9, '0')}: ${name}: ${body}`;
        // a perf script trace starts with the record that says so (replay warns: lost events show only with --show-lost-events)
        const [m, r] = parseTraceString(text, { format: 'perf' });
        expect(m).toEqual({ type: 'meta', key: 'layout', value: 'perf script', line: 1, source: '<string>' });
        expect(r).toEqual({ ...x, flags: undefined, tgid: undefined, line: 1, source: '<string>' });
      }),
      { numRuns: 200 },
    );
  });
});

describe('function_graph lines parse back', () => {
  const call = fc.record({
    cpu: fc.integer({ min: 0, max: 63 }),
    depth: fc.integer({ min: 0, max: 12 }),
    func: fc.stringMatching(/^[a-z_][a-z0-9_.]{0,24}$/),
    kind: fc.constantFrom('entry', 'leaf', 'exit'),
    us: fc.integer({ min: 0, max: 9_999_999 }),
    frac: fc.integer({ min: 0, max: 999 }),
    abstime: fc.option(fc.tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 999_999 })), { nil: undefined }),
  });
  // print_graph_duration: the overhead mark, then the duration in µs with 3 decimals
  const mark = (ns: number) => (ns > 1e9 ? '$' : ns > 1e8 ? '@' : ns > 1e7 ? '*' : ns > 1e6 ? '#' : ns > 1e5 ? '!' : ns > 1e4 ? '+' : ' ');

  it('entries, leaves and exits with their depth and exact duration', () => {
    fc.assert(
      fc.property(call, (c) => {
        const ns = c.us * 1000 + c.frac;
        const dur = c.kind === 'entry' ? '               ' : `${mark(ns)} ${`${c.us}.${String(c.frac).padStart(3, '0')} us`.padEnd(13)}`;
        const body = c.kind === 'entry' ? `${c.func}() {` : c.kind === 'leaf' ? `${c.func}();` : `} /* ${c.func} */`;
        const time = c.abstime ? `${String(c.abstime[0]).padStart(5)}.${String(c.abstime[1]).padStart(6, '0')} |  ` : '';
        const text = `${time}${String(c.cpu).padStart(2)}) ${dur} |  ${'  '.repeat(c.depth)}${body}`;
        const [r] = parseTraceString(text) as TraceEvent[];
        expect(r).toMatchObject({
          type: 'event',
          cpu: c.cpu,
          system: 'ftrace',
          event: c.kind === 'exit' ? 'funcgraph_exit' : 'funcgraph_entry',
          ts: c.abstime ? BigInt(c.abstime[0]) * 1_000_000_000n + BigInt(c.abstime[1]) * 1000n : 0n,
        });
        const f: Fields = { func: c.func, depth: c.depth };
        if (c.kind !== 'entry') f.duration_ns = ns;
        if (c.kind === 'leaf') f.leaf = true;
        expect(r!.fields).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });
});

describe('garbage never crashes the parser', () => {
  const onlyInputErrors = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!isInputError(e)) throw e;
    }
  };

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        try {
          const out: TraceRecord[] = [];
          for await (const r of parseTrace([Buffer.from(bytes)])) out.push(r);
          for (const r of out) expect(['event', 'gap', 'meta']).toContain(r.type);
        } catch (e) {
          if (!isInputError(e)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('random text made of trace-like pieces', () => {
    const piece = fc.constantFrom(
      '[',
      ']',
      '(',
      ')',
      '-',
      ' ',
      ':',
      '.',
      '0',
      '12',
      '<-',
      '=>',
      '|',
      '}',
      '{',
      '"',
      '=',
      '0x',
      'CPU:',
      '#',
      '\t',
      '\n',
      '\r',
      'us',
      'a',
      'print',
      'tracing_mark_write:',
      ' 0) ',
      '[001] ',
      'fio-12 ',
      '1.000001: ',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (ps) => {
        onlyInputErrors(() => parseTraceString(ps.join('')));
      }),
      { numRuns: 1000 },
    );
  });
});
