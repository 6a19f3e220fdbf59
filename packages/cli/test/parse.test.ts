import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './run-cli.js';

const fixture = (name: string) => path.join(repoRoot, 'fixtures/parser', name);
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-parse-cli-'));

describe('kreplay parse', () => {
  it('--stats --json prints one object with counts per event and CPU, gaps and the time span', async () => {
    const r = await runCli(['parse', fixture('nop-5col.trace'), '--stats', '--json']);
    expect(r.exitCode).toBe(0);
    const st = JSON.parse(r.stdout);
    expect(st).toMatchObject({
      events: 12,
      // two lost-events lines, CPU 3's buffer started line, and the first events of CPUs 0, 2
      // and 3, which no buffer started line precedes although the header counts 118 overwritten
      gaps: 6,
      unparseable: 0,
      lines: 32,
      lostEvents: 118,
      byCpu: { 0: 4, 1: 4, 2: 1, 3: 3 },
      firstTs: 612403517000,
      lastTs: 612404200000,
      clock: 'usec',
      tracer: 'nop',
    });
    expect(st.byEvent['filemap:mm_filemap_add_to_page_cache']).toBe(2);
    expect(st.rate.eventsPerSec).toBeGreaterThan(0);
  });

  it('--no-timing leaves the parse rate out, so --stats --json is the same bytes run to run', async () => {
    // session 42: the rate (seconds, MB/s, events/s) changed every run, and parse had no --no-timing
    const args = ['parse', fixture('nop-5col.trace'), '--stats', '--json', '--no-timing'];
    const [a, b] = [await runCli(args), await runCli(args)];
    expect(a.exitCode).toBe(0);
    expect(JSON.parse(a.stdout).rate).toBeUndefined();
    expect(JSON.parse(a.stdout).events).toBe(12);
    expect(b.stdout).toBe(a.stdout);
    const text = await runCli(['parse', fixture('nop-5col.trace'), '--stats', '--no-timing']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).not.toMatch(/parsed in|events\/s/);
  });

  it('--jsonl prints every record as one JSON line, bigints exact', async () => {
    const r = await runCli(['parse', fixture('counter-clock.trace'), '--jsonl']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['meta', 'event', 'event', 'event', 'event']);
    expect(lines[4]).toContain('"ts":18446744073709551615,');
  });

  it('reads stdin given as -', async () => {
    const r = await runCli(['parse', '-', '--jsonl'], { input: readFileSync(fixture('perf-script.txt'), 'utf8') });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(9); // the layout record, then 8 events
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ type: 'meta', key: 'layout', value: 'perf script', source: '-' });
  });

  it('shows the first unparseable lines on stderr and still exits 0', async () => {
    const r = await runCli(['parse', fixture('bad-input.trace')]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('bad-input.trace:2: unparseable line: a stack frame with no event before it');
    expect(r.stderr).toMatch(/bad-input\.trace:11: the input ends in the middle of a record/);
    expect(r.stdout).toMatch(/5 events/);
  });

  it('--strict makes an unparseable line an input error (exit 2) naming file:line', async () => {
    const r = await runCli(['parse', fixture('bad-input.trace'), '--strict']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/error: .*bad-input\.trace:2: unparseable line/);
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an empty file has no events and exits 0', async () => {
    const r = await runCli(['parse', fixture('empty.trace'), '--stats', '--json']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: 0, gaps: 0, lines: 0, firstTs: null });
  });

  it('a binary file given by mistake is refused with a clear message (exit 2)', async () => {
    const f = path.join(tmp, 'a.out');
    writeFileSync(f, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(2048)]));
    const r = await runCli(['parse', f]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/looks like a binary file \(an ELF executable\), not a text trace/);
  });

  it('a missing file and a bad --format are input errors (exit 2)', async () => {
    expect((await runCli(['parse', path.join(tmp, 'missing')])).exitCode).toBe(2);
    expect((await runCli(['parse', fixture('empty.trace'), '--format', 'xml'])).exitCode).toBe(2);
  });
});

describe("kreplay parse: a trace.dat's thread groups from saved_tgids, as replay reads them (session 44)", () => {
  const dat = path.join(repoRoot, 'fixtures/dat/qemu-6.1-tgids/trace.dat');
  const tgidsOf = (stdout: string): Map<number, number | undefined> => {
    const out = new Map<number, number | undefined>();
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{"type":"event"')) continue;
      const e = JSON.parse(line) as { pid: number; tgid?: number };
      out.set(e.pid, e.tgid);
    }
    return out;
  };

  it('gives --jsonl events the tgid of the saved_tgids beside the trace.dat, or of --tgids; refuses a damaged one at its line', async () => {
    // the capture's folder holds saved_tgids: kr-fault (222) and kr-odirect (223) are threads of 221
    const beside = tgidsOf((await runCli(['parse', dat, '--jsonl'])).stdout);
    expect(beside.get(222)).toBe(221);
    expect(beside.get(223)).toBe(221);

    // the same trace.dat alone: no thread groups
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-parse-tgids-'));
    const alone = path.join(dir, 'trace.dat');
    writeFileSync(alone, readFileSync(dat));
    const none = tgidsOf((await runCli(['parse', alone, '--jsonl'])).stdout);
    expect(none.size).toBeGreaterThan(0);
    expect([...none.values()].every((t) => t === undefined)).toBe(true);

    // --tgids names one
    const table = path.join(dir, 'tgids');
    writeFileSync(table, '222 500\n');
    const named = tgidsOf((await runCli(['parse', alone, '--jsonl', '--tgids', table])).stdout);
    expect(named.get(222)).toBe(500);
    expect(named.get(223)).toBeUndefined();

    writeFileSync(table, '222 500\n222 501\n');
    const bad = await runCli(['parse', alone, '--jsonl', '--tgids', table]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`${table}:2: pid 222 is listed twice (tgid 500, then 501)`);
  });
});
