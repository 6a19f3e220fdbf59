import { describe, expect, it } from '@jest/globals';
import { findingsOfRun, lostEvents, parsePerCpuStats, parseResultLine, scanKernelLog } from '../src/console.js';
import { parseLdd } from '../src/tools.js';

describe('ldd output', () => {
  it('lists the libraries and the loader, not the vDSO', () => {
    expect(
      parseLdd(
        [
          '\tlinux-vdso.so.1 (0x00007fc4b5e2a000)',
          '\tlibtracefs.so.1 => /lib/x86_64-linux-gnu/libtracefs.so.1 (0x00007fc4b5d53000)',
          '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fc4b5ab5000)',
          '\t/lib64/ld-linux-x86-64.so.2 (0x00007fc4b5e2c000)',
        ].join('\n'),
      ),
    ).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libtracefs.so.1', '/lib64/ld-linux-x86-64.so.2']);
  });
});

describe('kernel log scanning', () => {
  const log = [
    '[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)',
    '[    3.101010] ------------[ cut here ]------------',
    '[    3.101011] WARNING: CPU: 1 PID: 150 at mm/filemap.c:1234 filemap_fault+0x5a/0x9b0',
    '[    3.200000] BUG: Bad page cache in process kr-fault  pfn:1a2b3',
    '[    3.300000] BUG: kernel NULL pointer dereference, address: 0000000000000008',
    '[    3.300001] Oops: 0000 [#1] PREEMPT SMP NOPTI',
    '[    3.400000] kernel BUG at mm/truncate.c:653!',
    '[    3.500000] Kernel panic - not syncing: Fatal exception',
    '[    3.600000] BUG: workqueue lockup - pool cpus=0',
    'ordinary line mentioning WARNINGS and BUGS in passing',
  ].join('\n');

  it('finds WARN, Bad page cache, oops, BUG and panic lines with their line numbers', () => {
    expect(scanKernelLog(log).map((f) => [f.kind, f.line])).toEqual([
      ['warn', 3],
      ['bad-page-cache', 4],
      ['oops', 5],
      ['oops', 6],
      ['oops', 7],
      ['panic', 8],
      ['bug', 9],
    ]);
    expect(scanKernelLog(log)[1].text).toBe('BUG: Bad page cache in process kr-fault  pfn:1a2b3');
  });

  it('finds nothing in a clean boot', () => {
    expect(scanKernelLog('[    0.1] Booting\n[    2.0] EXT4-fs (vda): mounted filesystem\n')).toEqual([]);
  });
});

describe('kernel log split by run', () => {
  const bad = (t: number) => `[ ${t}.0] BUG: Bad page cache in process a  pfn:01234`;
  const log = [
    '[ 0.0] Linux version 6.1.0',
    '[ 1.0] WARNING: CPU: 0 PID: 1 at mm/filemap.c:1 x',
    '[ 2.0] kreplay: run 1 begin',
    bad(3),
    bad(4),
    '[ 5.0] kreplay: run 2 begin',
    '[ 6.0] kreplay: run 3 begin',
    bad(7),
  ].join('\n');
  const all = scanKernelLog(log);

  it('gives each run the lines from its marker to the next run marker, and the boot lines to run 1: the runs add up to the boot', () => {
    const per = [1, 2, 3].map((r) => findingsOfRun(log, all, r, 3));
    expect(per.map((f) => f.map((x) => x.line))).toEqual([[2, 4, 5], [], [8]]);
    expect(per.flat()).toEqual(all);
  });

  it('gives every run the whole boot when the markers are missing or out of order (captures made before them)', () => {
    const old = log.replace(/.*kreplay: run \d begin\n/g, '');
    expect(findingsOfRun(old, scanKernelLog(old), 2, 3)).toEqual(scanKernelLog(old));
    const swapped = log.replace('run 2 begin', 'run 9 begin');
    expect(findingsOfRun(swapped, all, 3, 3)).toEqual(all);
    expect(findingsOfRun(log, all, 1, 1)).toEqual(all);
  });
});

describe('workload result line', () => {
  it('reads counters as numbers and names as strings', () => {
    const out = 'noise\nKREPLAY_RESULT workload=odirect-race duration_ms=2003 writes=304 mismatches=0 sigbus=0\n';
    expect(parseResultLine(out)).toEqual({ workload: 'odirect-race', duration_ms: 2003, writes: 304, mismatches: 0, sigbus: 0 });
    expect(parseResultLine('KREPLAY_ERROR open O_DIRECT: Invalid argument\n')).toBeUndefined();
  });
});

describe('per-CPU ring buffer stats', () => {
  it('sums overruns, commit overruns and dropped events over CPUs', () => {
    const stats = parsePerCpuStats(
      [
        '== cpu0',
        'entries: 9363',
        'overrun: 0',
        'commit overrun: 0',
        'bytes: 428540',
        'oldest event ts:     8.837817',
        'now ts:    12.017386',
        'dropped events: 0',
        'read events: 0',
        '== cpu1',
        'entries: 51594',
        'overrun: 17',
        'commit overrun: 2',
        'bytes: 2434924',
        'dropped events: 1',
        'read events: 0',
      ].join('\n'),
    );
    expect(stats).toEqual([
      { cpu: 0, entries: 9363, overrun: 0, commitOverrun: 0, dropped: 0, readEvents: 0, bytes: 428540 },
      { cpu: 1, entries: 51594, overrun: 17, commitOverrun: 2, dropped: 1, readEvents: 0, bytes: 2434924 },
    ]);
    expect(lostEvents(stats)).toBe(20);
  });
});

describe('trace line counter', () => {
  it('counts events and consecutive equal timestamps on different CPUs (unknown order)', async () => {
    const { TraceLineCounter } = await import('../src/outcome.js');
    const c = new TraceLineCounter();
    for (const l of [
      '# tracer: nop',
      '#',
      '        kr-fault-209     [001] ...1.    10.202794: page_add_file_rmap: (page_add_file_rmap+0x0/0x2f0) page=0xffffea00000a6cc0',
      '        kr-fault-209     [001] ...1.    10.202794: page_remove_rmap: (page_remove_rmap+0x0/0x520) page=0xffffea00000a6cc0',
      '        kr-write-208     [000] d..2.    10.202794: mm_filemap_delete_from_page_cache: dev 254:0 ino c pfn=0x29b3 ofs=12288 order=0',
      '        kr-fault-209     [001] ...1.    10.203107: page_remove_rmap: (page_remove_rmap+0x0/0x520) page=0xffffea00000a6cc0',
      '',
    ])
      c.line(l);
    expect([c.events, c.crossCpuTies]).toEqual([4, 1]);
  });
});
