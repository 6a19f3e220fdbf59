/**
 * A synthetic trace.dat with what the host's fixtures lack: kprobe and kretprobe events
 * (symbols from kallsyms), a 6.1 filemap event, a multi-line trace marker, a time extend,
 * a discarded event (padding), an absolute timestamp, a page with missed events and a
 * corrupt page whose commit overruns it.
 */
import { formatText, PageBuilder, payload, u32, u64, writeDatV6, type DatSpec, type Layout } from './dat-writer.js';

export const KALLSYMS = [
  'ffffffff81200000 T filemap_fault',
  'ffffffff812005a0 T filemap_map_pages',
  'ffffffff81300000 T __do_fault',
  'ffffffff81300140 T do_fault',
  'ffffffff81400000 T tracing_mark_write',
  'ffffffff81400100 t tracing_mark_raw_write',
  '',
].join('\n');

const KPROBE = formatText(
  'p_filemap_fault_0',
  2001,
  [
    ['unsigned long __probe_ip', 8, 8, 0],
    ['u64 ino', 16, 8, 0],
    ['u64 index', 24, 8, 0],
    ['__data_loc char[] comm', 32, 4, 1],
    ['s32 delta', 36, 4, 1],
  ],
  '"(%lx) ino=0x%Lx index=%Lu comm=\\"%s\\" delta=%d", REC->__probe_ip, REC->ino, REC->index, __get_str(comm), REC->delta',
);

const KRETPROBE = formatText(
  'r_filemap_fault_0',
  2002,
  [
    ['unsigned long __probe_func', 8, 8, 0],
    ['unsigned long __probe_ret_ip', 16, 8, 0],
    ['u64 ret', 24, 8, 0],
  ],
  '"(%lx <- %lx) ret=0x%Lx", REC->__probe_func, REC->__probe_ret_ip, REC->ret',
);

const FILEMAP_ADD = formatText(
  'mm_filemap_add_to_page_cache',
  600,
  [
    ['unsigned long pfn', 8, 8, 0],
    ['unsigned long i_ino', 16, 8, 0],
    ['unsigned long index', 24, 8, 0],
    ['dev_t s_dev', 32, 4, 0],
    ['unsigned char order', 36, 1, 0],
  ],
  '"dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u", ((unsigned int) ((REC->s_dev) >> 20)), ((unsigned int) ((REC->s_dev) & ((1U << 20) - 1))), REC->i_ino, REC->pfn, REC->index << 12, REC->order',
);

const PRINT = formatText(
  'print',
  5,
  [
    ['unsigned long ip', 8, 8, 0],
    ['char buf[]', 16, 0, 0],
  ],
  '"%ps: %s", (void *)REC->ip, REC->buf',
);

function kprobe(pid: number, ip: bigint, ino: number, index: number, comm: string, delta: number): Buffer {
  const str = Buffer.from(`${comm}\0`);
  const body = Buffer.concat([u64(ip), u64(ino), u64(index), u32((str.length << 16) | 40), u32(delta)]);
  return payload(2001, pid, Buffer.concat([body, str]), 0x01, 0x01);
}

function kretprobe(pid: number, func: bigint, retIp: bigint, ret: bigint): Buffer {
  return payload(2002, pid, Buffer.concat([u64(func), u64(retIp), u64(ret)]));
}

export function filemapAdd(pid: number, pfn: number, ino: number, index: number, dev: number, order: number): Buffer {
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(dev, 0);
  tail.writeUInt8(order, 4);
  return payload(600, pid, Buffer.concat([u64(pfn), u64(ino), u64(index), tail]), 0x0d, 0x21);
}

function marker(pid: number, text: string): Buffer {
  return payload(5, pid, Buffer.concat([u64(0xffffffff81400000n), Buffer.from(`${text}\0`)]), 0, 1);
}

/** Timestamps of the events, for the tests' expectations. */
export const T0 = 1_000_000_000_000n; // 1000 s
export const EXTEND = 1n << 28n;
export const ABSOLUTE = 1_002_000_000_000n;

/** `corrupt: false` leaves out the overrunning page (trace-cmd stops reading a CPU there). */
export function syntheticSpec(opts: { corrupt?: boolean } = {}): DatSpec {
  const cpu0 = new PageBuilder(T0)
    .event(100, kprobe(1234, 0xffffffff81200000n, 0x2a, 3, 'racer', -16))
    .event(50, filemapAdd(1234, 0x1234, 0x2a, 1, (254 << 20) | 3, 0))
    .extend(EXTEND)
    .event(0, marker(1234, 'kreplay:step label="two\nlines"\n'))
    .padding(10, 36)
    .absolute(ABSOLUTE)
    .event(0, kretprobe(1234, 0xffffffff81200000n, 0xffffffff8130003cn, 0x200n))
    .build();
  const cpu1a = new PageBuilder(T0 + 500n).event(0, marker(77, 'after the loss')).build({ missed: 7 });
  const cpu1b = new PageBuilder(T0 + 900n).event(0, marker(77, 'never read')).build({ commit: 5000 });
  const cpu1c = new PageBuilder(ABSOLUTE + 5n).event(0, marker(77, 'after the bad page')).build({ missed: true });
  return {
    ftrace: [PRINT],
    systems: { filemap: [FILEMAP_ADD], kprobes: [KPROBE, KRETPROBE] },
    kallsyms: KALLSYMS,
    cmdlines: '1234 racer\n77 marker-writer\n',
    cpus: [[cpu0], opts.corrupt === false ? [cpu1a, cpu1c] : [cpu1a, cpu1b, cpu1c]],
  };
}

export function syntheticDat(spec: DatSpec = syntheticSpec()): Buffer {
  return writeDatV6(spec);
}

/** TSC2NSEC option data: mult, shift, offset. */
export function tsc2nsecOption(mult: number, shift: number, offset = 0n): Buffer {
  return Buffer.concat([u32(mult), u32(shift), u64(offset)]);
}

/**
 * One page per CPU starting at `starts[cpu]`, each with three trace markers (`c<cpu> a`, then
 * `b` 5 ticks later and `c` at the same time as `b`): timestamps and their order, nothing else.
 */
export function markerSpec(starts: bigint[], extra: Partial<DatSpec> = {}): DatSpec {
  return {
    ftrace: [PRINT],
    systems: {},
    kallsyms: 'ffffffff81400000 T tracing_mark_write\n',
    cmdlines: '77 w\n',
    cpus: starts.map((t, c) => [
      new PageBuilder(t)
        .event(0, marker(77, `c${c} a`))
        .event(5, marker(77, `c${c} b`))
        .event(0, marker(77, `c${c} c`))
        .build(),
    ]),
    ...extra,
  };
}

/**
 * Trace markers recorded on another kind of machine (`layout`: big-endian, 32-bit): on CPU 0
 * a time extend, a discarded event and an absolute timestamp between markers, on CPU 1 a page
 * that lost 7 events — the page and event-header layouts that depend on byte order and long size.
 */
export function layoutSpec(layout: Layout): DatSpec {
  const long = layout.long;
  const print = formatText(
    'print',
    5,
    [
      ['unsigned long ip', 8, long, 0],
      ['char buf[]', 8 + long, 0, 0],
    ],
    '"%ps: %s", (void *)REC->ip, REC->buf',
  );
  const ip = long === 8 ? u64(0xffffffff81400000n, layout.big) : u32(0xc1400000, layout.big);
  const mark = (pid: number, text: string): Buffer => payload(5, pid, Buffer.concat([ip, Buffer.from(`${text}\0`)]), 0x01, 0x12, layout.big);
  const cpu0 = new PageBuilder(T0, layout)
    .event(100, mark(1234, 'first'))
    .extend(EXTEND)
    .event(3, mark(1234, 'after an extend'))
    .padding(10, 36)
    .absolute(ABSOLUTE)
    .event(0, mark(1234, 'at an absolute time'))
    .build();
  const cpu1 = new PageBuilder(T0 + 500n, layout).event(0, mark(77, 'after the loss')).event(7, mark(77, 'and one more')).build({ missed: 7 });
  return {
    ftrace: [print],
    systems: {},
    kallsyms: long === 8 ? 'ffffffff81400000 T tracing_mark_write\n' : 'c1400000 T tracing_mark_write\n',
    cmdlines: '1234 racer\n77 marker-writer\n',
    cpus: [[cpu0], [cpu1]],
    layout,
  };
}
