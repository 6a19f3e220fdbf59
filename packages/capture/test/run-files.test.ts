/**
 * A guest cut short or with a damaged share: the files that say a run lost nothing (the
 * ring buffer's per-CPU stats, the kprobe profile), the boot's kernel.log and a trace.dat
 * whose extract failed. Missing or garbled, each used to read as "nothing lost", "no
 * warning" or a complete trace; each is now an environment error (or the file is not kept).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GuestShare } from '../src/guest-files.js';
import { parsePerCpuStats, perCpuStatsProblem } from '../src/console.js';
import { gzipTrace, readGuestFacts, readKernelLog, readRun, traceDatFailed, traceProblem } from '../src/outcome.js';
import type { BootOutcome } from '../src/qemu.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-run-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const boot = (lines: string[] = []): BootOutcome => ({
  ended: 'exit',
  exitCode: 0,
  lines: lines.map((text, ms) => ({ ms, text })),
  stderr: '',
  wallMs: 1,
  args: [],
});
const STATS = '== cpu0\nentries: 2\noverrun: 0\ncommit overrun: 0\nbytes: 100\ndropped events: 0\nread events: 0\n';

function run(files: Record<string, string>): { guest: GuestShare; out: string; rdir: string } {
  const root = mkdtempSync(path.join(tmp, 'share-'));
  const out = path.join(root, 'out');
  const rdir = path.join(out, 'run-1');
  mkdirSync(rdir, { recursive: true });
  writeFileSync(path.join(rdir, 'workload.out'), 'KREPLAY_RESULT workload=w n=1\n');
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(rdir, f), text);
  return { guest: new GuestShare(root), out, rdir };
}

describe('a run whose losses the guest did not report', () => {
  it('reads a complete run: stats and kprobe profile as the guest script writes them', async () => {
    const r = run({ 'stats.txt': STATS, 'kprobe_profile.txt': '  filemap_fault 10 0\n' });
    expect(await readRun(r.guest, r.rdir, 1, boot(), 'w', [], true, ['filemap_fault'])).toMatchObject({
      lost: 0,
      probeMisses: 0,
      kprobes: [{ event: 'filemap_fault', hits: 10 }],
    });
  });

  it.each([
    ['no stats.txt', {}, /run 1: the guest wrote no stats\.txt, so the events this run lost are unknown/],
    ['an empty stats.txt', { 'stats.txt': '' }, /no per-CPU block/],
    ['a stats.txt cut after its first lines', { 'stats.txt': '== cpu0\nentries: 2\n' }, /cpu0 block has no overrun, commit overrun, dropped events count/],
    ['a second CPU block cut short', { 'stats.txt': `${STATS}== cpu1\nentries: 9\noverrun: 0\n` }, /cpu1 block has no commit overrun, dropped events count/],
    [
      'per_cpu missing in the guest (the shell glob left unexpanded)',
      { 'stats.txt': '== cpu*\ncat: /sys/kernel/tracing/per_cpu/cpu*/stats: No such file\n' },
      /no per-CPU block/,
    ],
    // a counter no double holds exactly: 1e400 read as Infinity, 2^53 + 1 as 2^53
    [
      'an overrun count of 400 digits',
      { 'stats.txt': STATS.replace('overrun: 0', `overrun: ${'9'.repeat(400)}`) },
      /cpu0 block counts overrun 9{24}… \(400 digits\), more than a count kreplay holds exactly/,
    ],
    [
      'a dropped count above 2^53',
      { 'stats.txt': STATS.replace('dropped events: 0', 'dropped events: 9007199254740993') },
      /counts dropped events 9007199254740993/,
    ],
  ])('%s is an environment error, not "lost 0"', async (_what, files, message) => {
    const r = run({ ...files, 'kprobe_profile.txt': '  filemap_fault 10 0\n' });
    await expect(readRun(r.guest, r.rdir, 1, boot(), 'w', [], true, ['filemap_fault'])).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(message),
    });
  });

  it('a kprobe profile that is missing, leaves a probe out, or counts backwards is an environment error, not "0 misses"', async () => {
    let r = run({ 'stats.txt': STATS });
    await expect(readRun(r.guest, r.rdir, 1, boot(), 'w', [], true, ['filemap_fault'])).rejects.toMatchObject({
      message: expect.stringMatching(/no kprobe_profile\.txt/),
    });
    r = run({ 'stats.txt': STATS, 'kprobe_profile.txt': '  other_probe 3 0\n' });
    await expect(readRun(r.guest, r.rdir, 1, boot(), 'w', [], true, ['filemap_fault'])).rejects.toMatchObject({
      message: expect.stringMatching(/does not list filemap_fault/),
    });
    r = run({ 'stats.txt': STATS, 'kprobe_profile.txt': '  filemap_fault 5 0\n' });
    await expect(readRun(r.guest, r.rdir, 2, boot(), 'w', [{ event: 'filemap_fault', hits: 10, misses: 2 }], true, ['filemap_fault'])).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/fewer hits or misses for filemap_fault/),
    });
    // a miss just above 2^53 after 2^53 before: as doubles the difference was 0 misses
    r = run({ 'stats.txt': STATS, 'kprobe_profile.txt': '  filemap_fault 20 9007199254740993\n' });
    await expect(
      readRun(r.guest, r.rdir, 2, boot(), 'w', [{ event: 'filemap_fault', hits: 10, misses: 9007199254740992 }], true, ['filemap_fault']),
    ).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/run 2: kprobe_profile\.txt counts 9007199254740993 for filemap_fault, more than a count kreplay holds exactly/),
    });
    // a profile without kprobes needs no kprobe_profile.txt
    r = run({ 'stats.txt': STATS });
    expect(await readRun(r.guest, r.rdir, 1, boot(), 'w', [], true, [])).toMatchObject({ lost: 0, kprobes: [] });
  });

  it('perCpuStatsProblem accepts what per_cpu/cpuN/stats prints', () => {
    expect(perCpuStatsProblem(`${STATS}== cpu1\n${STATS.split('\n').slice(1).join('\n')}`)).toBeUndefined();
  });
});

describe('numbers the guest printed that no count is', () => {
  it("a workload result count or exit status beyond what kreplay holds is an environment error, not meta.json's schema error", async () => {
    const r = run({ 'stats.txt': STATS });
    writeFileSync(path.join(r.rdir, 'workload.out'), `KREPLAY_RESULT workload=w mismatches=${'9'.repeat(400)}\n`);
    await expect(readRun(r.guest, r.rdir, 1, boot(), 'w', [], true, [])).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/^workload w printed mismatches=9{24}… \(400 digits\) in its KREPLAY_RESULT line \(run 1\)/),
    });
    const ok = run({ 'stats.txt': STATS });
    await expect(readRun(ok.guest, ok.rdir, 1, boot([`KREPLAY_WORKLOAD_RC run=1 rc=${'9'.repeat(400)}`]), 'w', [], true, [])).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/exited with 9{24}… \(400 digits\), which no shell exit status is/),
    });
    expect(await readRun(ok.guest, ok.rdir, 1, boot(['KREPLAY_WORKLOAD_RC run=1 rc=255']), 'w', [], true, [])).toMatchObject({ rc: '255' });
  });

  it("the workload's exit code is the guest script's line, printed after the workload's output, not a line the workload printed", async () => {
    const r = run({ 'stats.txt': STATS });
    // what run.sh printed until session 37 (cat $D/workload.out; echo "KREPLAY_WORKLOAD_RC run=$i rc=$rc"), and
    // still the order when the kernel under test prints such a line before the guest script's
    const lines = ['KREPLAY_RESULT workload=w n=1', 'KREPLAY_WORKLOAD_RC run=1 rc=0', 'KREPLAY_WORKLOAD_RC run=1 rc=1', 'KREPLAY_PHASE dump run=1'];
    expect(await readRun(r.guest, r.rdir, 1, boot(lines), 'w', [], true, [])).toMatchObject({ rc: '1' });
  });

  it('readGuestFacts reads what the guest script writes, an empty file as unknown, and refuses anything else naming the file', async () => {
    const r = run({});
    const put = (f: string, text: string) => writeFileSync(path.join(r.out, f), text);
    put('vmemmap_base', '0xffffea0000000000\n');
    put('fault_around_bytes', '65536\n');
    put('testfile.txt', 'ino=12 dev=254:0 kdev=266338304\n');
    expect(await readGuestFacts(r.guest, r.out)).toEqual({ vmemmapBase: '0xffffea0000000000', faultAroundBytes: 65536, testFile: { ino: 12, dev: '254:0' } });
    // no vmemmap_base symbol, no debugfs file: the guest script leaves them empty; that is unknown, not 0
    put('vmemmap_base', '');
    put('fault_around_bytes', '');
    expect(await readGuestFacts(r.guest, r.out)).toMatchObject({ vmemmapBase: null, faultAroundBytes: null });
    for (const [f, text, want] of [
      ['vmemmap_base', 'base=0xzz\n', /^the guest wrote "base=0xzz" into vmemmap_base, not an address in 0x-hex$/],
      ['fault_around_bytes', '-5\n', /"-5" into fault_around_bytes, not a byte count/],
      ['fault_around_bytes', '4096.5\n', /"4096\.5" into fault_around_bytes/],
      ['testfile.txt', `ino=${'9'.repeat(400)} dev=254:0\n`, /into testfile\.txt, not ino=<inode number>/],
    ] as const) {
      put('vmemmap_base', '');
      put('fault_around_bytes', '');
      put('testfile.txt', 'ino=12 dev=254:0\n');
      put(f, text);
      await expect(readGuestFacts(r.guest, r.out)).rejects.toMatchObject({ name: 'EnvironmentError', message: expect.stringMatching(want) });
    }
  });
});

describe("a run's trace.txt against its header and stats.txt", () => {
  const HEAD = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 2/2   #P:2\n#\n';
  const EV = ' kr-write-5 [000] ..... 1.000001: tracing_mark_write: x\n';
  const counted = async (text: string) => {
    const r = run({ 'trace.txt': text });
    const gz = path.join(r.out, 'trace.txt.gz');
    return gzipTrace((await r.guest.stream(path.join(r.rdir, 'trace.txt')))!, gz);
  };
  const stats = (entries: number, overrun = 0) =>
    parsePerCpuStats(STATS.replace('entries: 2', `entries: ${entries}`).replace('overrun: 0', `overrun: ${overrun}`));

  it('accepts a trace whose event lines are the entries its header and stats.txt count (a marker of two lines counts as two)', async () => {
    let tr = await counted(HEAD + EV + EV);
    expect(traceProblem(tr.headers, tr.events, stats(2))).toBeUndefined();
    tr = await counted(HEAD.replace('2/2', '2/7') + EV + EV + 'second line of a marker\n');
    expect(traceProblem(tr.headers, tr.events, stats(2, 5))).toBeUndefined();
  });

  it.each([
    ['an empty trace.txt', '', 2, 0, /has no "# entries-in-buffer\/entries-written" header line/],
    ['events without the header', EV + EV, 2, 0, /has no "# entries-in-buffer/],
    ['a trace cut after its first event', HEAD + EV, 2, 0, /^trace\.txt holds 1 event lines but its header counts 2 entries in the ring buffer: it was cut$/],
    ['two traces joined', HEAD + EV + EV + HEAD + EV + EV, 4, 0, /holds 2 "# entries-in-buffer\/entries-written" header lines/],
    ['a header that counts other entries than stats.txt', HEAD + EV + EV, 3, 0, /header counts 2 entries and 0 overwritten, but stats\.txt 3 and 0/],
    [
      'a header that says nothing was overwritten where stats.txt counts overruns',
      HEAD + EV + EV,
      2,
      4,
      /header counts 2 entries and 0 overwritten, but stats\.txt 2 and 4/,
    ],
  ])('%s cannot be taken for the whole ring buffer', async (_what, text, entries, overrun, message) => {
    const tr = await counted(text);
    expect(traceProblem(tr.headers, tr.events, stats(entries, overrun))).toMatch(message);
  });
});

describe("the boot's kernel.log and a failed trace-cmd extract", () => {
  it('a missing or empty kernel.log is an environment error, not a log without warnings', async () => {
    const r = run({});
    await expect(readKernelLog(r.guest, r.out, '/work')).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/left no kernel\.log/),
    });
    writeFileSync(path.join(r.out, 'kernel.log'), '\n');
    await expect(readKernelLog(r.guest, r.out, '/work')).rejects.toMatchObject({ message: expect.stringMatching(/left an empty kernel\.log/) });
    writeFileSync(path.join(r.out, 'kernel.log'), '[ 0.0] Linux version 6.1.0\n');
    expect(await readKernelLog(r.guest, r.out, '/work')).toMatch(/Linux version/);
  });

  it("a kernel.log that lost its start (the log buffer wrapped) is an environment error: the first runs' warnings may be gone", async () => {
    const r = run({});
    // what dmesg prints once a kernel that warns on every fault has filled its buffer: no banner, a splat cut at the top
    writeFileSync(path.join(r.out, 'kernel.log'), '[  812.114020]  filemap_fault+0x1c/0x2a0\n[  812.114100] WARNING: CPU: 1 PID: 77 at mm/filemap.c:3212 x\n');
    await expect(readKernelLog(r.guest, r.out, '/work')).rejects.toMatchObject({
      name: 'EnvironmentError',
      message: expect.stringMatching(/does not begin at boot .*log buffer wrapped/),
    });
    // a shipped capture's log (Debian 6.1 under QEMU) begins as the check expects
    const shipped = readFileSync(path.join(import.meta.dirname, '../../../traces/odirect-race/kernel.log'), 'utf8');
    writeFileSync(path.join(r.out, 'kernel.log'), shipped);
    expect(await readKernelLog(r.guest, r.out, '/work')).toBe(shipped);
  });

  it('a run whose trace-cmd extract failed keeps no trace.dat (per run; the older line without run= covers every run)', () => {
    expect(traceDatFailed(boot(['KREPLAY_WARN trace-cmd extract failed run=2']), 2)).toBe(true);
    expect(traceDatFailed(boot(['KREPLAY_WARN trace-cmd extract failed run=2']), 1)).toBe(false);
    expect(traceDatFailed(boot(['KREPLAY_WARN trace-cmd extract failed']), 1)).toBe(true);
    expect(traceDatFailed(boot(['KREPLAY_PHASE trace-cmd run=1']), 1)).toBe(false);
  });
});
