/**
 * Public traces nobody here wrote (fixtures/corpus/, origins in SOURCES.md) read exactly:
 *
 * - every trace.dat gives the same events per event name and per CPU, and the same lost
 *   pages, as `trace-cmd report` on the same file (live; skipped with one summary when
 *   trace-cmd is missing, a failure under KREPLAY_STRICT_TOOLS=1); and `--pretty` and
 *   `--render` print what `trace-cmd report -R -t` and `-N -t` print, byte for byte;
 * - every text trace gives the same events, line by line (CPU and event name), as an
 *   independent count (corpus-count.ts), every line that is neither an event nor a
 *   continuation nor a header is a gap, and the per-event and per-CPU counts agree.
 *
 * KREPLAY_CORPUS_DIR=/path runs the same checks over another directory (the working
 * corpus the sample was drawn from); KREPLAY_CORPUS_REPORT=file.json writes a summary.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { openTrace } from '../src/index.js';
import { readTraceDat, reportTraceDat } from '../src/dat/index.js';
import type { Gap, TraceEvent, TraceRecord } from '@kreplay/core';
import { countText } from './corpus-count.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

const sample = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/corpus');
const dir = process.env.KREPLAY_CORPUS_DIR ?? sample;
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-corpus-'));

function walk(d: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(d).sort()) {
    const p = path.join(d, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (!/\.(md|mjs|sh)$/.test(name)) out.push(p);
  }
  return out;
}

const files = walk(dir);
const isDat = (f: string): boolean => {
  const head = readFileSync(f).subarray(0, 16);
  const bytes = head[0] === 0x1f && head[1] === 0x8b ? gunzipSync(readFileSync(f)).subarray(0, 16) : head;
  return bytes.subarray(0, 10).equals(Buffer.from([0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67]));
};
const dats = files.filter(isDat);
const texts = files.filter((f) => !dats.includes(f));

/** A trace.dat as a plain file (samples are stored gzip-compressed). */
function plainDat(f: string): string {
  const bytes = readFileSync(f);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return f;
  const out = path.join(tmp, path.basename(f).replace(/\.gz$/, ''));
  writeFileSync(out, gunzipSync(bytes));
  return out;
}

/**
 * The file trace-cmd is given. trace-cmd 3.1.6 parses a v6 TRACECLOCK option's buffer as a
 * string with no NUL after it (lib/trace-cmd/trace-input.c:3768 `malloc(size)`, :3852
 * `tracecmd_parse_trace_clock`). trace-cmd 2.x wrote that option empty (the clock itself
 * follows the CPU data table), so on such a file it reads whatever the heap holds there:
 * valgrind reports the read, and a `[` in it turned its timestamps into raw counts in one
 * CI run. Its reading is made defined by renaming that empty option to TRACEID, which it
 * skips under 8 bytes. It then no longer reads the clock record either, and prints
 * nanoseconds, its default: right only where the record names a nanosecond clock, which the
 * caller checks against what kreplay read.
 */
function forTraceCmd(file: string): { file: string; renamedEmptyClock: boolean } {
  const b = readFileSync(file);
  if (b[10] !== 0x36 || b[11] !== 0) return { file, renamedEmptyClock: false }; // v6: "6\0" after the magic
  const little = b[12] === 0;
  const u16 = (at: number): number => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (at: number): number => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  let at = b.indexOf('options  \0', 0, 'latin1') + 10;
  let empty = -1;
  for (; at > 9 && at + 6 <= b.length;) {
    const id = u16(at);
    if (id === 0) break;
    if (id === 4 && u32(at + 2) === 0) empty = at;
    at += 6 + u32(at + 2);
  }
  if (empty < 0 || b.toString('latin1', at + 2, at + 12) !== 'flyrecord\0') return { file, renamedEmptyClock: false };
  const copy = Buffer.from(b);
  if (little) copy.writeUInt16LE(11, empty);
  else copy.writeUInt16BE(11, empty);
  const out = file.replace(/\.dat$/, '') + '.for-trace-cmd.dat';
  writeFileSync(out, copy);
  return { file: out, renamedEmptyClock: true };
}

function tally(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

async function collect(it: AsyncIterable<TraceRecord>): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

async function text(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts).toString('latin1');
}

/** Per-event and per-CPU counts of `trace-cmd report -R -t`, read off its lines. */
function traceCmdCounts(report: string): { byEvent: Map<string, number>; byCpu: Map<string, number>; dropped: number } {
  const byEvent = new Map<string, number>();
  const byCpu = new Map<string, number>();
  let dropped = 0;
  for (const line of report.split('\n')) {
    const m = /^\s*.+?-\d+\s+\[(\d+)\]\s+\d+\.\d+:\s+([^\s:]+):/.exec(line);
    if (m) {
      tally(byCpu, String(Number(m[1])));
      tally(byEvent, m[2]!);
    } else if (/^CPU:\d+ \[(\d+ )?EVENTS DROPPED\]$/.test(line)) dropped++;
  }
  return { byEvent, byCpu, dropped };
}

/** The clocks trace-cmd prints in nanoseconds (`extract_trace_clock`, trace-input.c:4284-4289). */
const NSEC_CLOCKS = ['local', 'global', 'uptime', 'perf', 'mono', 'mono_raw', 'tsc2nsec', 'tai'];

interface Summary {
  file: string;
  kind: 'dat' | 'text';
  agrees: boolean;
  events: number;
  notes: string[];
}
const summary: Summary[] = [];

afterAll(() => {
  if (process.env.KREPLAY_CORPUS_REPORT) writeFileSync(process.env.KREPLAY_CORPUS_REPORT, `${JSON.stringify(summary, null, 1)}\n`);
});

describe(`public traces (${path.relative(process.cwd(), dir) || dir}): ${dats.length} trace.dat, ${texts.length} text`, () => {
  it('holds trace.dat files and text traces', () => {
    expect(dats.length).toBeGreaterThan(0);
    expect(texts.length).toBeGreaterThan(0);
  });

  describeWithTools([TOOLS.traceCmd], `${dats.length} trace.dat files against trace-cmd`, () => {
    for (const f of dats) {
      const name = path.relative(dir, f);
      it(`${name}: the same events per name and per CPU as trace-cmd report, and the same text views`, async () => {
        const file = plainDat(f);
        const records = await collect(readTraceDat(file));
        const events = records.filter((r): r is TraceEvent => r.type === 'event');
        const gaps = records.filter((r): r is Gap => r.type === 'gap');
        const byEvent = new Map<string, number>();
        const byCpu = new Map<string, number>();
        for (const e of events) {
          tally(byEvent, e.event);
          tally(byCpu, String(e.cpu));
        }
        const tcIn = forTraceCmd(file);
        if (tcIn.renamedEmptyClock) {
          const clocks = records.filter((r) => r.type === 'meta' && r.key === 'clock').map((r) => (r as { value: unknown }).value);
          expect(clocks.filter((c) => !NSEC_CLOCKS.includes(String(c)))).toEqual([]);
        }
        const raw = execFileSync('trace-cmd', ['report', '-R', '-t', tcIn.file], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString(
          'latin1',
        );
        const tc = traceCmdCounts(raw);
        const notes: string[] = [];
        const ok = (what: string, a: unknown, b: unknown): boolean => {
          const same = JSON.stringify(a) === JSON.stringify(b);
          if (!same) notes.push(`${what} differ`);
          return same;
        };
        const pretty = await text(reportTraceDat(file));
        const rendered = await text(reportTraceDat(file, { rendered: true }));
        const renderedTc = execFileSync('trace-cmd', ['report', '-N', '-t', tcIn.file], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString(
          'latin1',
        );
        const agrees = [
          ok('events per name', sorted(byEvent), sorted(tc.byEvent)),
          ok('events per CPU', sorted(byCpu), sorted(tc.byCpu)),
          ok('lost pages', gaps.filter((g) => g.kind === 'lost-events').length, tc.dropped),
          ok(
            'gaps other than lost events',
            gaps.filter((g) => g.kind !== 'lost-events').map((g) => g.reason),
            [],
          ),
          ok('--pretty (trace-cmd report -R -t)', pretty === raw, true),
          ok('--render (trace-cmd report -N -t)', rendered === renderedTc, true),
        ].every(Boolean);
        summary.push({ file: name, kind: 'dat', agrees, events: events.length, notes });
        expect(sorted(byEvent)).toEqual(sorted(tc.byEvent));
        expect(sorted(byCpu)).toEqual(sorted(tc.byCpu));
        expect(gaps.filter((g) => g.kind !== 'lost-events').map((g) => g.reason)).toEqual([]);
        expect(gaps.filter((g) => g.kind === 'lost-events')).toHaveLength(tc.dropped);
        expect(pretty === raw).toBe(true);
        expect(rendered === renderedTc).toBe(true);
      });
    }
  });

  for (const f of texts) {
    const name = path.relative(dir, f);
    it(`${name}: every event line an event (same CPU, same name) as an independent count says, every other line a gap`, async () => {
      const bytes = readFileSync(f);
      const content = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
      const count = countText(content);
      const records = await collect(openTrace(f));
      const evByLine = new Map<number, TraceEvent>();
      const gapLines = new Set<number>();
      const metaLines = new Set<number>();
      for (const r of records) {
        if (r.type === 'event') evByLine.set(r.line, r);
        else if (r.type === 'gap' && (r.kind === 'unparseable' || r.kind === 'truncated')) gapLines.add(r.line);
        else if (r.type === 'meta') metaLines.add(r.line);
      }
      const mismatched: string[] = [];
      for (const [line, c] of count.events) {
        const e = evByLine.get(line);
        if (!e) mismatched.push(`line ${line}: counted ${c.name} on CPU ${c.cpu}, kreplay has ${gapLines.has(line) ? 'a gap' : 'nothing'}`);
        else if (e.cpu !== c.cpu || e.event !== c.name)
          mismatched.push(`line ${line}: counted ${c.name} on CPU ${c.cpu}, kreplay read ${e.event} on CPU ${e.cpu}`);
      }
      for (const line of evByLine.keys()) if (!count.events.has(line)) mismatched.push(`line ${line}: kreplay read an event the count does not see`);
      const silent = [...count.other].filter((l) => !gapLines.has(l) && !metaLines.has(l));
      const spurious = [...gapLines].filter((l) => !count.other.has(l));
      const byEvent = new Map<string, number>();
      const byCpu = new Map<string, number>();
      for (const c of count.events.values()) {
        tally(byEvent, c.name);
        tally(byCpu, String(c.cpu));
      }
      const kByEvent = new Map<string, number>();
      const kByCpu = new Map<string, number>();
      for (const e of evByLine.values()) {
        tally(kByEvent, e.event);
        tally(kByCpu, String(e.cpu));
      }
      const notes = [
        ...mismatched.slice(0, 5),
        ...(silent.length ? [`lines with neither event nor gap: ${silent.slice(0, 5).join(', ')}`] : []),
        ...(spurious.length ? [`gaps at lines the count takes for events or continuations: ${spurious.slice(0, 5).join(', ')}`] : []),
      ];
      const agrees = mismatched.length === 0 && silent.length === 0 && spurious.length === 0;
      summary.push({ file: name, kind: 'text', agrees, events: evByLine.size, notes });
      expect(mismatched.slice(0, 10)).toEqual([]);
      expect(silent.slice(0, 10)).toEqual([]);
      expect(spurious.slice(0, 10)).toEqual([]);
      expect(sorted(kByEvent)).toEqual(sorted(byEvent));
      expect(sorted(kByCpu)).toEqual(sorted(byCpu));
    });
  }
});
