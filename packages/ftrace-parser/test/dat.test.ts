/**
 * trace.dat: files recorded on a real kernel with trace-cmd 3.1.6 (fixtures/dat, made by
 * make-fixtures.sh) read exactly as `trace-cmd report -R -t` reads them, the same run read
 * as kernel text and as trace.dat gives the same events, and a synthetic file covers what
 * the host cannot record (kprobes) and what must never crash the reader.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTrace, parseTraceString, summarize } from '../src/index.js';
import { parseSavedTgids, stringifyJson } from '@kreplay/core';
import { readTraceDat, reportTraceDat } from '../src/dat/index.js';
import { readContainer } from '../src/dat/container.js';
import { FileSource } from '../src/dat/source.js';
import { PayloadReader } from '../src/dat/format.js';
import { s64From, u64From } from '../src/dat/bytes.js';
import { fieldsBuilder } from '../src/layout.js';
import type { FieldValue, Fields, Gap, TraceEvent, TraceMeta, TraceRecord } from '@kreplay/core';
import { ABSOLUTE, EXTEND, layoutSpec, markerSpec, syntheticDat, syntheticSpec, T0 } from './dat-synthetic.js';
import { parseCmdlines } from '../src/dat/metadata.js';
import { PageBuilder, writeDatV6 } from './dat-writer.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/dat');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.dat'))
  .sort();
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-dat-'));

async function collect(it: AsyncIterable<TraceRecord>): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

async function report(file: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of reportTraceDat(file)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const events = (rs: TraceRecord[]): TraceEvent[] => rs.filter((r): r is TraceEvent => r.type === 'event');
const gaps = (rs: TraceRecord[]): Gap[] => rs.filter((r): r is Gap => r.type === 'gap');
const meta = (rs: TraceRecord[], key: string): TraceMeta['value'] | undefined => rs.find((r): r is TraceMeta => r.type === 'meta' && r.key === key)?.value;

function writeTmp(name: string, bytes: Buffer): string {
  const p = path.join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

describe('trace.dat recorded by trace-cmd: golden reports', () => {
  it('covers v6, v7 uncompressed, v7 zlib, v7 zstd and missed events', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['mixed-v6.dat', 'mixed-v7-none.dat', 'mixed-v7-zlib.dat', 'mixed-v7-zstd.dat', 'missed-v7-zstd.dat']));
  });

  for (const name of fixtures) {
    it(`${name} renders exactly as trace-cmd report -R -t printed it`, async () => {
      const golden = readFileSync(path.join(dir, name.replace(/\.dat$/, '.report.txt')), 'utf8');
      expect(await report(path.join(dir, name))).toBe(golden);
    });
  }
});

describe('trace.dat records', () => {
  it('every container form of one capture holds the same records', async () => {
    const strip = (rs: TraceRecord[]): unknown[] => rs.filter((r) => r.type !== 'meta').map((r) => ({ ...r, source: '' }));
    const base = strip(await collect(readTraceDat(path.join(dir, 'mixed-v6.dat'))));
    expect(base.length).toBeGreaterThan(40);
    for (const f of ['mixed-v7-none.dat', 'mixed-v7-zstd.dat', 'mixed-v7-zlib.dat']) {
      expect(strip(await collect(readTraceDat(path.join(dir, f))))).toEqual(base);
    }
  });

  it('reports the container as metadata', async () => {
    const rs = await collect(readTraceDat(path.join(dir, 'mixed-v7-zstd.dat')));
    expect(meta(rs, 'trace.dat.version')).toBe(7);
    expect(meta(rs, 'compression')).toMatch(/^zstd /);
    expect(meta(rs, 'clock')).toBe('local');
    expect(meta(rs, 'cpus')).toBe(2);
    expect(String(meta(rs, 'uname'))).toMatch(/^Linux /);
    expect(meta(rs, 'trace-cmd.version')).toMatch(/^3\./);
  });

  it('decodes filemap events into the fields the text parser gives them', async () => {
    const ev = events(await collect(readTraceDat(path.join(dir, 'mixed-v6.dat')))).find((e) => e.event === 'mm_filemap_add_to_page_cache')!;
    expect(ev.system).toBe('filemap');
    expect(Object.keys(ev.fields)).toEqual(['dev', 'ino', 'pfn', 'ofs', 'index', 'order']);
    expect(ev.fields.dev).toMatch(/^\d+:\d+$/);
    expect(ev.fields.ofs).toBe((ev.fields.index as number) * 4096);
  });

  it('turns the page header missed-events bits into a lost-events gap before the first event kept', async () => {
    const rs = (await collect(readTraceDat(path.join(dir, 'missed-v7-zstd.dat')))).filter((r) => r.type !== 'meta');
    const g = rs[0] as Gap;
    expect(g).toMatchObject({ type: 'gap', kind: 'lost-events', lost: 185 });
    expect(g.ts).toBe((rs[1] as TraceEvent).ts);
    expect((rs[1] as TraceEvent).cpu).toBe(g.cpu);
    expect(gaps(rs)).toHaveLength(1);
  });

  it('a CPU table that names a CPU no kernel has is an input error at its byte, not a CPU', async () => {
    // mixed-v7-none.dat's buffer option: page size 4096, 2 CPUs, then {u32 cpu, u64 offset, u64 size} each
    const bytes = readFileSync(path.join(dir, 'mixed-v7-none.dat'));
    const table = bytes.indexOf(Buffer.from('local\0\x00\x10\0\0\x02\0\0\0', 'latin1')) + 14;
    expect(bytes.readUInt32LE(table + 20)).toBe(1);
    bytes.writeUInt32LE(2147483647, table + 20);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kreplay-dat-cpu-')), 'cpu.dat');
    writeFileSync(file, bytes);
    await expect(collect(readTraceDat(file))).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/^buffer "": CPU 2147483647 is not a CPU: no kernel has more than 8192 \(NR_CPUS\) \(at byte \d+\)$/),
    });
  });

  it('a consumer may stop early: the file is closed and nothing is left failing', async () => {
    let n = 0;
    for await (const r of readTraceDat(path.join(dir, 'missed-v7-zstd.dat'))) if (r.type === 'event' && ++n === 3) break;
    expect(n).toBe(3);
  });

  it('merges the CPUs by timestamp and numbers records in output order', async () => {
    const rs = await collect(readTraceDat(path.join(dir, 'mixed-v6.dat')));
    const evs = events(rs);
    expect(new Set(evs.map((e) => e.cpu))).toEqual(new Set([0, 1]));
    for (let i = 1; i < evs.length; i++) expect(evs[i]!.ts >= evs[i - 1]!.ts).toBe(true);
    expect(rs.map((r) => r.line)).toEqual(rs.map((_, i) => i + 1));
  });
});

describe("the payload reader's cache of u64 bigints", () => {
  it('gives every 8-byte field the value u64From / s64From gives, whatever shares its slot, in either byte order', () => {
    // kernel pointers (struct page *, probe addresses), values either side of 2^53, negatives; many share a slot
    const his = [0, 1, 0x1fffff, 0x200000, 0x7fffffff, 0x80000000, 0xffffea00, 0xffffffff];
    const los = [0, 64, 0x1000040, 0x1040040, 0x2000040, 0x40, 0xffffffc0, 0x81234567];
    for (const little of [true, false]) {
      const r = new PayloadReader(little);
      const buf = Buffer.alloc(8);
      for (let k = 0; k < 3 * his.length * los.length; k++) {
        const hi = his[(k * 5) % his.length]!,
          lo = los[(k * 3 + (k >> 3)) % los.length]!;
        if (little) {
          buf.writeUInt32LE(lo, 0);
          buf.writeUInt32LE(hi, 4);
        } else {
          buf.writeUInt32BE(hi, 0);
          buf.writeUInt32BE(lo, 4);
        }
        r.set(buf, 0, 8);
        expect(r.int(0, 8, false)).toBe(u64From(lo, hi));
        expect(r.int(0, 8, true)).toBe(s64From(lo, hi));
      }
    }
  });
});

describe('decoding a few pages at a time', () => {
  // records mode decodes each CPU's block DECODE_PAGES pages at a time (records die young);
  // the records, their order and their gaps must be those of decoding whole blocks
  const whole = { decodePages: 1 << 20 };
  const same = async (file: string): Promise<void> => {
    const ref = stringifyJson(await collect(readTraceDat(file, whole)));
    for (const decodePages of [1, 2, undefined]) expect(stringifyJson(await collect(readTraceDat(file, { decodePages })))).toBe(ref);
  };

  it('gives the records of whole blocks on every fixture and a real capture', async () => {
    for (const name of fixtures) await same(path.join(dir, name));
    await same(path.join(dir, 'qemu-6.1/trace.dat'));
  });

  it('gives the records of whole blocks across lost events, corrupt pages, a cut and timestamps that go back', async () => {
    // the synthetic pages (lost events, an overrunning page, extends, absolute stamps)
    // repeated into blocks of many pages: each copy starts earlier than the last one ended
    const spec = syntheticSpec();
    const big = syntheticDat({ ...spec, cpus: spec.cpus.map((pages, cpu) => Array.from({ length: cpu === 0 ? 150 : 50 }, () => pages).flat()) });
    await same(writeTmp('pages-many.dat', big));
    await same(writeTmp('pages-cut.dat', big.subarray(0, big.length - 7 * 4096 - 100)));
    let seed = 777;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 8; round++) {
      const bad = Buffer.from(big);
      for (let k = 0; k < 40; k++) bad[big.length - 280 * 4096 + (rand() % (280 * 4096))] = rand() & 0xff;
      await same(writeTmp('pages-fuzz.dat', bad));
    }
  });
});

describe('the same run as kernel text and as trace.dat', () => {
  it('decodes to the same events, field for field, the .dat exact to the nanosecond', async () => {
    const read = await collect(openTrace(path.join(dir, 'same-run.trace')));
    const text = events(read);
    const dat = events(await collect(readTraceDat(path.join(dir, 'same-run.dat'))));
    // one write held a newline: the kernel's text prints it on two lines, the .dat keeps it whole.
    // Its message starts `kreplay:`, which kreplay writes on one line only, so the text reader
    // joins nothing to it: the second line is a gap (and the .dat's whole message, read as an
    // explorer marker, is unusable: core contracts/explore-trace.ts decodeMarker)
    const two = text.findIndex((e) => e.fields.buf === 'kreplay:step label="two');
    expect(dat[two]!.fields.buf).toBe('kreplay:step label="two\nlines"');
    expect(gaps(read).map((g) => [g.kind, g.line, g.text])).toEqual([['unparseable', text[two]!.line + 1, 'lines"']]);
    text[two]!.fields.buf = dat[two]!.fields.buf;
    expect(dat.length).toBe(text.length);
    expect(dat.length).toBeGreaterThan(20);
    const exact = new Set(['mm_filemap_add_to_page_cache', 'mm_filemap_delete_from_page_cache', 'print', 'sched_process_exec']);
    dat.forEach((d, i) => {
      const t = text[i]!;
      // the kernel prints microseconds, rounded: ns2usecs() adds 500 before dividing
      expect(t.ts).toBe(((d.ts + 500n) / 1000n) * 1000n);
      expect({ cpu: d.cpu, pid: d.pid, comm: d.comm, flags: d.flags, event: d.event, system: d.system }).toEqual({
        cpu: t.cpu,
        pid: t.pid,
        comm: t.comm,
        flags: t.flags,
        event: t.event,
        system: t.system,
      });
      if (exact.has(d.event)) expect(d.fields).toEqual(t.fields);
    });
    expect(dat.filter((d) => d.event === 'print').map((d) => d.fields.buf)).toContain('kreplay:step label="two\nlines"');
  });
});

describe('a real capture: Debian 6.1 under QEMU, kreplay capture --trace-cmd (fixtures/dat/qemu-6.1)', () => {
  const qemu = path.join(dir, 'qemu-6.1');

  it('renders exactly as trace-cmd report -R -t printed it', async () => {
    expect(await report(path.join(qemu, 'trace.dat'))).toBe(gunzipSync(readFileSync(path.join(qemu, 'trace.report.txt.gz'))).toString('utf8'));
  });

  it('decodes to the same events as the text dumped from the same ring buffer, kprobes included', async () => {
    const text = events(await collect(openTrace(path.join(qemu, 'trace.txt.gz'))));
    const dat = events(await collect(readTraceDat(path.join(qemu, 'trace.dat'))));
    expect(dat.length).toBe(text.length);
    expect(dat.filter((e) => e.probe?.kind === 'kprobe').length).toBeGreaterThan(1000);
    expect(dat.filter((e) => e.probe?.kind === 'kretprobe').length).toBeGreaterThan(1000);
    // the text cannot show a probe's group: the parser says `kprobes`, the .dat knows it
    // (compared as JSON, field order included, so a --jsonl line reads the same from either parser)
    const key = (e: TraceEvent, ts: bigint, system = e.system): string =>
      stringifyJson([ts, e.cpu, e.pid, e.tgid ?? null, e.comm, e.flags ?? null, e.event, system ?? null, e.probe ?? null, e.fields, e.stack ?? null]);
    const differ = dat
      .map((d, i) => [key(d, ((d.ts + 500n) / 1000n) * 1000n, d.probe ? 'kprobes' : d.system), key(text[i]!, text[i]!.ts)])
      .filter(([a, b]) => a !== b);
    expect(differ).toEqual([]);
    expect(new Set(dat.filter((e) => e.probe).map((e) => e.system))).toEqual(new Set(['kreplay']));
  });
});

describe("a real capture with thread groups: its trace.dat and the kernel's saved_tgids (fixtures/dat/qemu-6.1-tgids)", () => {
  // kreplay capture --workload odirect-race --duration 1s --trace-cmd on Debian's 6.1.0-57 under TCG (session 44):
  // the text trace prints each line's `(tgid)` (record-tgid), the trace.dat holds none, saved_tgids is the table
  // the text's column is read from, saved beside the trace.dat
  const run = path.join(dir, 'qemu-6.1-tgids');
  const key = (e: TraceEvent, ts: bigint, system = e.system): string =>
    stringifyJson([ts, e.cpu, e.pid, e.tgid ?? null, e.comm, e.flags ?? null, e.event, system ?? null, e.probe ?? null, e.fields, e.stack ?? null]);
  const differ = (dat: TraceEvent[], text: TraceEvent[]) =>
    dat.map((d, i) => [key(d, ((d.ts + 500n) / 1000n) * 1000n, d.probe ? 'kprobes' : d.system), key(text[i]!, text[i]!.ts)]).filter(([a, b]) => a !== b);

  it("keeps every CPU's cpustat in the statistics' meta, joined in CPU order, not the first alone", async () => {
    const st = await summarize(readTraceDat(path.join(run, 'trace.dat')));
    const stat = st.meta.cpustat as string;
    expect(stat.match(/^CPU: \d+$/gm)).toEqual(['CPU: 0', 'CPU: 1']);
    expect(stat).toContain('read events: 765\nCPU: 1\n');
    expect(stat.endsWith('read events: 20115\n')).toBe(true);
  });

  it('gives every event the thread group the text trace prints for it, from saved_tgids, and none without it', async () => {
    const text = events(await collect(openTrace(path.join(run, 'trace.txt.gz'))));
    const tgids = parseSavedTgids(readFileSync(path.join(run, 'saved_tgids'), 'utf8'), 'saved_tgids');
    const dat = events(await collect(readTraceDat(path.join(run, 'trace.dat'), { tgids })));
    expect(dat.length).toBe(text.length);
    expect(dat.length).toBeGreaterThan(20000);
    expect(differ(dat, text)).toEqual([]);
    // the workload's threads are one process: kr-fault and kr-odirect are threads of kr-odirect-race
    const groups = new Map(text.map((e) => [`${e.comm}-${e.pid}`, e.tgid]));
    expect([...groups.values()].every((g) => g !== undefined)).toBe(true);
    expect(new Set([...groups].filter(([task]) => task.startsWith('kr-')).map(([, g]) => g)).size).toBe(1);
    expect(new Set([...groups.keys()].filter((task) => task.startsWith('kr-'))).size).toBeGreaterThan(1);
    const bare = events(await collect(readTraceDat(path.join(run, 'trace.dat'))));
    expect(bare.every((e) => e.tgid === undefined && !('tgid' in e))).toBe(true);
    expect(differ(bare, text).length).toBe(text.length);
  });
});

describe("a probe's fields built as one object literal (fieldsBuilder)", () => {
  it('gives the object the stores one by one gave, keys in the same order, and declines names a literal would reorder or misread', () => {
    const stored = (names: string[], values: FieldValue[]): Fields => {
      const f: Fields = {};
      names.forEach((n, i) => {
        f[n] = values[i]!;
      });
      return f;
    };
    const names = ['dev', 'ino', 'page', 'a.b', '_x9', 'constructor', 'toString'];
    const values: FieldValue[] = [254 << 20, 0x2a, 0xffffea0000001000n, 'str', -1, 0, null];
    const built = fieldsBuilder(names)!(values);
    expect(built).toEqual(stored(names, values));
    expect(Object.keys(built)).toEqual(names);
    expect(Object.getPrototypeOf(built)).toBe(Object.prototype);
    for (const odd of [['__proto__'], ['0'], ['x', '12'], ['a b'], ['a"b'], []]) expect(fieldsBuilder(odd)).toBeUndefined();
  });
});

describe('synthetic trace.dat (test writer)', () => {
  const file = writeTmp('synthetic.dat', syntheticDat());

  it('resolves kprobe and kretprobe sites from kallsyms and names arguments as the format does', async () => {
    const evs = events(await collect(readTraceDat(file)));
    const kp = evs.find((e) => e.event === 'p_filemap_fault_0')!;
    expect(kp).toMatchObject({ system: 'kprobes', pid: 1234, comm: 'racer', cpu: 0, ts: T0 + 100n, flags: 'd..1.' });
    expect(kp.probe).toEqual({ kind: 'kprobe', func: 'filemap_fault', offset: 0, size: 0x5a0 });
    expect(kp.fields).toEqual({ ino: 0x2a, index: 3, comm: 'racer', delta: -16 });
    expect(Object.keys(kp.fields)).toEqual(['ino', 'index', 'comm', 'delta']); // the format's order, as the text prints them
    const kr = evs.find((e) => e.event === 'r_filemap_fault_0')!;
    expect(kr.probe).toEqual({ kind: 'kretprobe', func: 'filemap_fault', caller: '__do_fault+0x3c/0x140' });
    expect(kr.fields).toEqual({ ret: 0x200 });
    expect(kr.ts).toBe(ABSOLUTE);
  });

  it('gives kprobe events the same site and fields the text parser reads from the kernel text', async () => {
    const dat = events(await collect(readTraceDat(file))).filter((e) => e.system === 'kprobes');
    // what the kernel's trace file prints for these two events (print fmt of the formats above)
    const text = events(
      parseTraceString(
        [
          '           racer-1234    [000] d..1.  1000.000000: p_filemap_fault_0: (filemap_fault+0x0/0x5a0) ino=0x2a index=3 comm="racer" delta=-16',
          '           racer-1234    [000] .....  1002.000000: r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) ret=0x200',
        ].join('\n'),
      ),
    );
    expect(dat.map((e) => ({ event: e.event, system: e.system, probe: e.probe, fields: e.fields, comm: e.comm, flags: e.flags }))).toEqual(
      text.map((e) => ({ event: e.event, system: e.system, probe: e.probe, fields: e.fields, comm: e.comm, flags: e.flags })),
    );
  });

  it('applies deltas, time extends, padding and absolute timestamps as the ring buffer does', async () => {
    const evs = events(await collect(readTraceDat(file))).filter((e) => e.cpu === 0);
    expect(evs.map((e) => e.ts)).toEqual([T0 + 100n, T0 + 150n, T0 + 150n + EXTEND, ABSOLUTE]);
    const fm = evs[1]!;
    expect(fm.fields).toEqual({ dev: '254:3', ino: 0x2a, pfn: 0x1234, ofs: 4096, index: 1, order: 0 });
    expect(fm.flags).toBe('dnh12');
    expect(evs[2]!.fields).toEqual({ ip: 'tracing_mark_write', buf: 'kreplay:step label="two\nlines"' });
  });

  it('keeps reading past a page whose commit overruns it, and says so in a gap', async () => {
    const rs = (await collect(readTraceDat(file))).filter((r) => r.type !== 'meta' && r.cpu === 1);
    expect(rs.map((r) => (r.type === 'gap' ? `gap:${r.kind}:${r.lost ?? ''}` : (r as TraceEvent).fields.buf))).toEqual([
      'gap:lost-events:7',
      'after the loss',
      'gap:unparseable:',
      'gap:lost-events:',
      'after the bad page',
    ]);
    const bad = gaps(rs).find((g) => g.kind === 'unparseable')!;
    expect(bad.reason).toMatch(/commit length 5000 overruns/);
    await expect(collect(readTraceDat(file, { strict: true }))).rejects.toMatchObject({ name: 'InputError' });
  });

  it('reads the top buffer, names the instances beside it, and reads one on request', async () => {
    const spec = syntheticSpec({ corrupt: false });
    const marker = spec.cpus[1]![0]!; // any page: the instance holds a copy of CPU 1's first page
    spec.instances = [{ name: 'kreplay-inst', cpus: [[], [Buffer.from(marker)]] }];
    const p = writeTmp('instances.dat', syntheticDat(spec));
    const top = await collect(readTraceDat(p));
    expect(meta(top, 'buffer-not-read')).toMatch(/^instance "kreplay-inst" \(2 CPUs\)/);
    expect(events(top)).toHaveLength(events(await collect(readTraceDat(writeTmp('no-instances.dat', syntheticDat(syntheticSpec({ corrupt: false })))))).length);
    const inst = await collect(readTraceDat(p, { buffer: 'kreplay-inst' }));
    expect(meta(inst, 'buffer')).toBe('kreplay-inst');
    expect(events(inst).map((e) => e.fields.buf)).toEqual(['after the loss']);
    await expect(collect(readTraceDat(p, { buffer: 'nope' }))).rejects.toMatchObject({ name: 'InputError', hint: expect.stringMatching(/"kreplay-inst"/) });
  });

  it('prints 4 flag columns for a kernel older than 5.13, as its trace file does', async () => {
    const spec = syntheticSpec({ corrupt: false });
    spec.options = [[5, Buffer.from('Linux box 5.10.0-28-amd64 x86_64\0')]];
    const evs = events(await collect(readTraceDat(writeTmp('old-kernel.dat', syntheticDat(spec)))));
    expect(evs.find((e) => e.event === 'p_filemap_fault_0')!.flags).toBe('d..1');
    expect(evs.find((e) => e.event === 'mm_filemap_add_to_page_cache')!.flags).toBe('dnh1');
  });

  it('reports every option it does not know as metadata, not silently', async () => {
    const spec = syntheticSpec();
    spec.options = [[77, Buffer.from('future\0')]];
    const rs = await collect(readTraceDat(writeTmp('unknown-option.dat', syntheticDat(spec))));
    expect(meta(rs, 'unknown-option')).toMatch(/^id 77 \(7 bytes\)/);
    expect(events(rs)).toHaveLength(events(await collect(readTraceDat(file))).length);
  });
});

describe("a v6 trace.dat's trace clock", () => {
  // trace-cmd keeps a v6 file's clock as "[clock]" after the top buffer's CPU data table
  // whenever it writes a TRACECLOCK option; trace-cmd 2.x wrote that option empty, so the
  // record is the only place such a file names its clock. Replay orders CPUs by it.
  const v6 = readFileSync(path.join(dir, 'mixed-v6.dat'));
  const optionAt = v6.indexOf('[local] global counter', 0, 'latin1');
  const recordAt = v6.indexOf('[local]', v6.indexOf('flyrecord\0', 0, 'latin1'), 'latin1');
  const edited = (name: string, edit: (b: Buffer) => void): string => {
    const b = Buffer.from(v6);
    edit(b);
    return writeTmp(name, b);
  };
  const clockOf = async (file: string): Promise<[unknown, unknown]> => {
    const rs = await collect(readTraceDat(file));
    return [meta(rs, 'clock'), meta(rs, 'clock-fallback')];
  };

  it('is read from the record after the CPU table when the option names none, as trace-cmd 2.x wrote it', async () => {
    expect(optionAt).toBeGreaterThan(0);
    expect(recordAt).toBeGreaterThan(optionAt);
    const corpus = writeTmp('labsisop-i686.dat', gunzipSync(readFileSync(path.join(dir, '../corpus/dat/labsisop-i686.dat.gz'))));
    expect(await clockOf(corpus)).toEqual(['local', undefined]);
    // the option's text blanked (its size kept) and the record naming another clock
    const onlyRecord = edited('clock-record-only.dat', (b) => {
      b.fill(0x20, optionAt, optionAt + 22);
      b.write('[boot] ', recordAt, 'latin1');
    });
    expect(await clockOf(onlyRecord)).toEqual(['boot', undefined]);
  });

  it('an empty record leaves the clock the option names', async () => {
    const emptyRecord = edited('clock-record-empty.dat', (b) => b.writeBigUInt64LE(0n, recordAt - 8));
    expect(await clockOf(emptyRecord)).toEqual(['local', undefined]);
    // an option listing clocks with none selected names none (not its first word), as trace-cmd reads it
    const neither = edited('clock-none-selected.dat', (b) => {
      b.fill(0x20, optionAt, optionAt + 22);
      b.writeBigUInt64LE(0n, recordAt - 8);
    });
    expect(await clockOf(neither)).toEqual([undefined, undefined]);
    const printFmt = await clockOf(path.join(dir, 'print-fmt.dat'));
    expect(printFmt).toEqual(['local', undefined]);
  });

  it('a record that cannot be read is taken as `local`, as trace-cmd takes it, and said', async () => {
    const huge = edited('clock-record-huge.dat', (b) => {
      b.fill(0x20, optionAt, optionAt + 22);
      b.writeBigUInt64LE(1n << 40n, recordAt - 8);
    });
    const [clock, note] = await clockOf(huge);
    expect(clock).toBe('local');
    expect(note).toContain('could not be read');
    expect(events(await collect(readTraceDat(huge)))).toHaveLength(events(await collect(readTraceDat(path.join(dir, 'mixed-v6.dat')))).length);
  });
});

/** The same markers written as four kinds of machine record them: LE/BE × 64/32-bit longs. */
const layouts = [false, true].flatMap((big) =>
  ([8, 4] as const).map((long) => writeTmp(`layout-${big ? 'be' : 'le'}${long * 8}.dat`, writeDatV6(layoutSpec({ big, long })))),
);

describe('files from big-endian and 32-bit machines', () => {
  it('read the same as trace-cmd report -R -t printed them (the page header, event headers and payloads swapped or narrowed)', async () => {
    // printed by trace-cmd 3.1.6 for each of the four files alike
    const expected = [
      'cpus=2',
      '           racer-1234  [000]  1000.000000100: print:                 ip=tracing_mark_write buf=first',
      'CPU:1 [7 EVENTS DROPPED]',
      '   marker-writer-77    [001]  1000.000000500: print:                 ip=tracing_mark_write buf=after the loss',
      '   marker-writer-77    [001]  1000.000000507: print:                 ip=tracing_mark_write buf=and one more',
      '           racer-1234  [000]  1000.268435559: print:                 ip=tracing_mark_write buf=after an extend',
      '           racer-1234  [000]  1002.000000000: print:                 ip=tracing_mark_write buf=at an absolute time',
      '',
    ].join('\n');
    for (const f of layouts) expect([path.basename(f), await report(f)]).toEqual([path.basename(f), expected]);
    const rs = await collect(readTraceDat(layouts[3]!));
    expect(events(rs).map((e) => [e.cpu, e.pid, e.flags, e.fields.buf])).toContainEqual([0, 1234, 'd..21', 'first']);
    expect(gaps(rs)).toMatchObject([{ kind: 'lost-events', cpu: 1, lost: 7 }]);
  });
});

/** Saved cmdlines that trace-cmd reads in its own way (every event is pid 77's). */
const cmdlineFiles = Object.entries({
  'duplicate': '77 first\n77 second\n',
  'no-space': '77x\n',
  'tab-and-indent': '  77\tx\n',
  'stops-at-a-bad-line': '12\n77 x\n',
  'hex-is-not-read': '0x4d x\n',
  'int-wraps': '4294967373 x\n',
}).map(([name, cmdlines]) => writeTmp(`cmdlines-${name}.dat`, writeDatV6(markerSpec([2_000_000_000n], { cmdlines }))));

describe('saved cmdlines as trace-cmd reads them', () => {
  it('each line as sscanf("%d %m[^\\n]") reads it, the first comm of a pid kept, up to the first line that does not read', () => {
    const into = new Map<number, string>();
    const meta: [string, string | number][] = [];
    parseCmdlines('77 first\n77 second\n\n12x y z \n  5\tfive\n0x4d hex\n-3 neg\n4294967373 wraps\n99\n100 never\n', into, meta);
    expect([...into]).toEqual([
      [77, 'first'],
      [12, 'x y z '],
      [5, 'five'],
      [0, 'x4d hex'],
      [-3, 'neg'],
    ]);
    expect(meta).toEqual([
      ['cmdlines-stopped', expect.stringMatching(/^saved cmdlines line 9 is not `pid comm` \("99"\): it and the 1 after it are not read/)],
    ]);
  });

  it('names the tasks trace-cmd names (printed by trace-cmd 3.1.6)', async () => {
    const comms = await Promise.all(cmdlineFiles.map(async (f) => (await report(f)).split('\n')[1]!.slice(0, 22)));
    expect(comms).toEqual([
      '           first-77   ',
      '               x-77   ',
      '               x-77   ',
      '           <...>-77   ',
      '           <...>-77   ',
      '               x-77   ',
    ]);
  });
});

/** CPU 1 opens with a page that lost 3 events and holds none; CPU 0's second page lost 2 and holds one. */
const emptyLossFile = ((): string => {
  const spec = markerSpec([1_000n, 1_000n]);
  spec.cpus[1]!.unshift(new PageBuilder(500n).build({ missed: 3 }));
  const next = markerSpec([2_000n]).cpus[0]![0]!;
  spec.cpus[0]!.push(Buffer.from(next));
  spec.cpus[0]![1]!.writeUInt32LE((spec.cpus[0]![1]!.readUInt32LE(8) | 0xc0000000) >>> 0, 8);
  spec.cpus[0]![1]!.writeBigUInt64LE(2n, 16 + (spec.cpus[0]![1]!.readUInt32LE(8) & 0x7ffffff));
  return writeTmp('lost-on-an-empty-page.dat', writeDatV6(spec));
})();

describe('events lost before a page that holds none', () => {
  it('--pretty prints no line for them, as trace-cmd (it says so with the first event read from the page); the records keep the gap', async () => {
    const lines = (await report(emptyLossFile)).split('\n');
    expect(lines.filter((l) => l.startsWith('CPU:'))).toEqual(['CPU:0 [2 EVENTS DROPPED]']);
    expect(lines.indexOf('CPU:0 [2 EVENTS DROPPED]')).toBe(7);
    expect(gaps(await collect(readTraceDat(emptyLossFile))).map((g) => [g.cpu, g.lost])).toEqual([
      [1, 3],
      [0, 2],
    ]);
  });
});

describe('broken trace.dat files', () => {
  const good = readFileSync(path.join(dir, 'mixed-v6.dat'));
  const zstd = readFileSync(path.join(dir, 'mixed-v7-zstd.dat'));

  it('a wrong magic is an input error that says what the file is not', async () => {
    const bad = Buffer.from(good);
    bad[1] = 0;
    await expect(collect(readTraceDat(writeTmp('magic.dat', bad)))).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/magic/) });
  });

  it('a file cut inside its metadata is an input error naming the section', async () => {
    for (const cut of [16, 200, 3000]) {
      const p = writeTmp(`cut-${cut}.dat`, good.subarray(0, cut));
      await expect(collect(readTraceDat(p))).rejects.toMatchObject({ name: 'InputError', hint: expect.stringMatching(/truncated/) });
    }
  });

  it('a file cut inside its CPU data keeps the events before the cut and ends with a truncated gap', async () => {
    const full = events(await collect(readTraceDat(path.join(dir, 'mixed-v6.dat'))));
    const p = writeTmp('cut-data.dat', good.subarray(0, good.length - 4096 - 100));
    const rs = await collect(readTraceDat(p));
    const t = gaps(rs).filter((g) => g.kind === 'truncated');
    expect(t.length).toBeGreaterThan(0);
    expect(t[0]!.reason).toMatch(/CPU \d/);
    expect(events(rs).length).toBeLessThan(full.length);
    await expect(collect(readTraceDat(p, { strict: true }))).rejects.toMatchObject({ name: 'InputError' });
  });

  it('an unsupported compression algorithm is an input error with a way out', async () => {
    const bad = Buffer.from(zstd);
    const at = bad.indexOf('zstd\0');
    bad.write('lz4x', at, 'latin1');
    await expect(collect(readTraceDat(writeTmp('lz4.dat', bad)))).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/"lz4x" is not supported/),
      hint: expect.stringMatching(/trace-cmd convert/),
    });
  });

  it('a compressed chunk claiming an absurd size is a truncated gap, not a 4 GB allocation', async () => {
    const src = await FileSource.open(path.join(dir, 'mixed-v7-zstd.dat'));
    const file = await readContainer(src, 'mixed-v7-zstd.dat');
    await src.close();
    const cd = file.buffers[0]!.cpus.find((c) => c.size > 0)!;
    const bad = Buffer.from(zstd);
    bad.writeUInt32LE(0xffffffff, cd.offset + 4 + 4); // chunk 1's uncompressed size
    const rs = await collect(readTraceDat(writeTmp('huge-chunk.dat', bad)));
    expect(gaps(rs).find((g) => g.kind === 'truncated' && g.cpu === cd.cpu)?.reason).toMatch(/claims 4294967295 bytes/);
  });

  it('a version it does not read is an input error', async () => {
    const bad = Buffer.from(good);
    bad.write('5', 10, 'latin1');
    await expect(collect(readTraceDat(writeTmp('v5.dat', bad)))).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/version "5"/) });
  });

  it('random corruption of the CPU data never throws: what cannot be decoded becomes gaps', async () => {
    const dataStart = good.length - 2 * 4096;
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 30; round++) {
      const bad = Buffer.from(good);
      for (let k = 0; k < 40; k++) bad[dataStart + (rand() % 8192)] = rand() & 0xff;
      const rs = await collect(readTraceDat(writeTmp('fuzz.dat', bad)));
      expect(rs.length).toBeGreaterThan(0);
    }
  });
});

describeWithTools([TOOLS.traceCmd], 'beside trace-cmd on this machine', () => {
  it('reads every fixture and the synthetic file exactly as the installed trace-cmd does', async () => {
    // (trace-cmd gives up on a CPU at a corrupt page, where kreplay reads on: that page is left out here)
    const synthetic = writeTmp('synthetic-live.dat', syntheticDat(syntheticSpec({ corrupt: false })));
    const files = [
      ...fixtures.filter((f) => !f.includes('zlib')).map((f) => path.join(dir, f)),
      path.join(dir, 'qemu-6.1/trace.dat'),
      synthetic,
      ...layouts,
      ...cmdlineFiles,
    ];
    for (const f of files) {
      const theirs = execFileSync('trace-cmd', ['report', '-R', '-t', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(await report(f)).toBe(theirs);
    }
  });
});
