import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openTrace } from '@kreplay/ftrace-parser';
import { type TraceEvent } from '@kreplay/core';
import { repoRoot, runCli } from './run-cli.js';
import { describeWithTools, TOOLS } from '../../../test-support/tools.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-capture-cli-'));

describe('kreplay capture: input errors (no QEMU needed)', () => {
  it('a bad profile is exit 2 with file:line', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nbufferSizeKb: 1\n');
    const r = await runCli(['capture', '--profile', bad, '--out', path.join(tmp, 'never')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${bad}:2: invalid capture profile: bufferSizeKb`);
  });

  it('an unknown workload and a malformed duration are usage errors', async () => {
    expect((await runCli(['capture', '--workload', 'nope'])).exitCode).toBe(2);
    const r = await runCli(['capture', '--duration', 'soon', '--out', path.join(tmp, 'never')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--duration "soon" is not a duration/);
  });

  it('a Debian pin of another series is exit 2, before anything is fetched', async () => {
    const r = await runCli(['capture', '--kernel', 'debian-6.12:6.1.0-56-amd64', '--out', path.join(tmp, 'never')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/6\.1\.0-56-amd64 is not a release of Debian's 6\.12 amd64 kernel/);
    expect(r.stderr).toMatch(/debian-6\.12:6\.12\.\d+\+deb12-amd64/);
  });

  it('a missing kernel image is exit 2 naming the file', async () => {
    const r = await runCli(['capture', '--kernel', path.join(tmp, 'no-bzImage'), '--out', path.join(tmp, 'never')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no-bzImage: cannot read kernel image/);
  });
});

describe('kreplay capture: declared offsets (no QEMU needed)', () => {
  it('refuses an offsets table read from another kernel release', async () => {
    // The smallest thing that passes for a bzImage: the setup header magic and a version string.
    const img = Buffer.alloc(0x400);
    img.write('HdrS', 0x202, 'latin1');
    img.writeUInt16LE(0x300 - 0x200, 0x20e);
    img.write('6.1.0-99-fake (someone@example) #1 SMP\0', 0x300, 'latin1');
    const bz = path.join(tmp, 'bzImage');
    writeFileSync(bz, img);
    const table = path.join(tmp, 'offsets.json');
    writeFileSync(table, JSON.stringify({ release: '6.1.0-56-amd64', source: 'BTF', offsets: { 'inode.i_ino': 64 }, sizes: {} }));
    const r = await runCli(['capture', '--kernel', bz, '--offsets', table, '--out', path.join(tmp, 'never')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/offsets table is for kernel 6\.1\.0-56-amd64, but the booted kernel is 6\.1\.0-99-fake/);
  });

  it('names a malformed offsets table entry with its line', async () => {
    const table = path.join(tmp, 'bad-offsets.json');
    writeFileSync(table, '{\n  "release": "x",\n  "source": "y",\n  "offsets": { "inode": -1 }\n}\n');
    const r = await runCli(['capture', '--offsets', table, '--out', path.join(tmp, 'never')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${table}:4: invalid offsets table: offsets`);
  });
});

describeWithTools([TOOLS.gcc, TOOLS.busybox, TOOLS.mkfsExt4], 'kreplay capture and triage --repro: progress in a CI log (a stand-in QEMU)', () => {
  // session 42: off a terminal, capture and triage --repro printed no progress at all, so a CI
  // log stayed silent for the minutes a TCG capture takes (docs/exit-codes.md, *Help*, promises
  // plain lines). The stand-in QEMU's kernel panics before init on both boots (exit 3).
  const dir = path.join(tmp, 'progress');
  const standIn = (): { flags: string[]; env: Record<string, string> } => {
    mkdirSync(path.join(dir, 'bin'), { recursive: true });
    const qemu = path.join(dir, 'bin', 'qemu-system-x86_64');
    writeFileSync(
      qemu,
      '#!/bin/sh\ncase "$*" in *--version*) echo "QEMU emulator version 0.0-fake"; exit 0;; esac\necho "Kernel panic - not syncing: fake"\nexit 0\n',
    );
    chmodSync(qemu, 0o755);
    const img = Buffer.alloc(0x400);
    img.write('HdrS', 0x202, 'latin1');
    img.writeUInt16LE(0x300 - 0x200, 0x20e);
    img.write('6.1.0-99-fake (someone@example) #1 SMP\0', 0x300, 'latin1');
    writeFileSync(path.join(dir, 'bzImage'), img);
    writeFileSync(path.join(dir, 'offsets.json'), JSON.stringify({ release: '6.1.0-99-fake', source: 'BTF', offsets: { 'inode.i_ino': 64 }, sizes: {} }));
    writeFileSync(path.join(dir, 'fake.yaml'), 'name: fake\nkprobes:\n  - function: filemap_fault\n    meaning: { op: fault_begin }\n');
    return {
      flags: ['--kernel', path.join(dir, 'bzImage'), '--offsets', path.join(dir, 'offsets.json'), '--profile', path.join(dir, 'fake.yaml'), '--accel', 'tcg'],
      env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}`, KREPLAY_CACHE: path.join(dir, 'cache') },
    };
  };

  it.each([
    ['capture', []],
    [
      'triage',
      [
        'fixtures/reports/lkml-2007-01-06-xfs-odirect-cancel-dirty-page/report.txt',
        '--repro',
        'fixtures/reports/lkml-2007-01-06-xfs-odirect-cancel-dirty-page/repro.c',
      ],
    ],
  ])(
    'kreplay %s prints each phase as a plain timestamped line when stderr is not a terminal, not nothing',
    async (cmd, args) => {
      const { flags, env } = standIn();
      const r = await runCli([cmd, ...args, ...flags, '--out', path.join(dir, `out-${cmd}`)], { env });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`^\\[kreplay ${cmd} +[\\d.]+s\\] booting 6\\.1\\.0-99-fake under tcg`, 'm'));
      expect(r.stderr).toMatch(/\] booting .*booted again\)$/m);
      expect(r.stderr).toContain('error: the guest kernel panicked before init, on both boots');
    },
    60_000,
  );
});

function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return BigInt(String(v));
}

describeWithTools(
  [TOOLS.qemu, TOOLS.gcc, TOOLS.busybox, TOOLS.mkfsExt4, TOOLS.pahole, TOOLS.xz],
  'kreplay capture: Debian 6.1 under QEMU (KREPLAY_SKIP_QEMU=1 skips it)',
  () => {
    it('boots the packaged kernel, traces odirect-race and writes a trace that parses, with its meaning', async () => {
      const out = path.join(tmp, 'odirect-race');
      // --timeout: a shared CI machine under TCG can take minutes; a hang still ends the run
      const r = await runCli(['capture', '--workload', 'odirect-race', '--duration', '1s', '--timeout', '480s', '--out', out, '--json']);
      if (r.exitCode !== 0) {
        throw new Error(
          `kreplay capture failed (exit ${r.exitCode}); QEMU, the Debian kernel or a tool is missing or broken:\n${r.stderr}\n(set KREPLAY_SKIP_QEMU=1 to skip this test where QEMU cannot run)`,
        );
      }
      const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
      expect(meta.kernel.release).toMatch(/^6\.1\./);
      expect(meta.kernel.source).toMatch(/^debian:linux-image-/);
      expect(meta.workload.result).toMatchObject({ workload: 'odirect-race', mismatches: 0 });
      expect(meta.workload.result.writes).toBeGreaterThan(0);
      expect(meta.buffer.lost).toBe(0);
      expect(meta.faultAroundBytes).toBe(4096);
      expect(meta.vmemmapBase).toBe('0xffffea0000000000');
      expect(meta.offsets.offsets['vm_fault.pgoff']).toBe(16);
      expect(meta.probes.probes['kprobe:page_add_file_rmap']).toMatchObject({ op: 'pte_map' });
      expect(meta.kernelLog.findings.filter((f: { kind: string }) => f.kind !== 'warn')).toEqual([]);
      expect(readFileSync(path.join(out, 'kernel.log'), 'utf8')).toContain('Linux version 6.1');

      // Every event of the profile is there, nothing is unparseable, and the page pointers
      // the rmap probes fetched convert (with the vmemmap base) to pfns the cache tracepoint saw.
      const counts = new Map<string, number>();
      const cached = new Set<bigint>();
      const rmapPfns: bigint[] = [];
      let gaps = 0;
      const base = big(meta.vmemmapBase);
      for await (const rec of openTrace(path.join(out, 'trace.txt.gz'))) {
        if (rec.type === 'gap') gaps++;
        if (rec.type !== 'event') continue;
        const ev = rec as TraceEvent;
        counts.set(ev.event, (counts.get(ev.event) ?? 0) + 1);
        if (ev.event === 'mm_filemap_add_to_page_cache') cached.add(big(ev.fields.pfn));
        if (ev.event === 'page_add_file_rmap') rmapPfns.push((big(ev.fields.page) - base) / 64n);
      }
      expect(gaps).toBe(0);
      for (const e of [
        'mm_filemap_add_to_page_cache',
        'mm_filemap_delete_from_page_cache',
        'filemap_fault',
        'filemap_fault_ret',
        'page_add_file_rmap',
        'page_remove_rmap',
        'invalidate_inode_pages2_range',
        'invalidate_inode_pages2_range_ret',
        'sched_process_exit', // the workload's threads exit while tracing (replay's task_exit; session 42)
      ]) {
        expect([e, counts.get(e) ?? 0]).toEqual([e, expect.any(Number)]);
        expect(counts.get(e) ?? 0).toBeGreaterThan(0);
      }
      expect(counts.get('print')).toBeGreaterThanOrEqual(3); // the workload's phase markers
      expect(rmapPfns.length).toBeGreaterThan(0);
      expect(rmapPfns.filter((p) => cached.has(p)).length).toBe(rmapPfns.length);
      expect(r.stdout).toContain('"runs"');

      // 6.1 is the fixed kernel: replay, reading the probe meanings from meta.json, finds nothing.
      const replay = await runCli(['replay', path.join(out, 'trace.txt.gz')]);
      expect([replay.exitCode, replay.stdout]).toEqual([0, expect.stringMatching(/0 gaps(, \d+ tied timestamps?)? — no findings/)]);
    }, 600_000);
  },
);

// Debian's 6.12 bzImage is zstd-compressed (its vmlinux is read for BTF offsets) and its modules are .ko.xz
describeWithTools(
  [TOOLS.qemu, TOOLS.gcc, TOOLS.busybox, TOOLS.mkfsExt4, TOOLS.pahole, TOOLS.xz, TOOLS.zstd],
  'kreplay capture: Debian 6.12 under QEMU (KREPLAY_SKIP_QEMU=1 skips it)',
  () => {
    it('boots linux-image-6.12, traces odirect-race with the 6.12 profile, and replays it clean with the 6.12 map', async () => {
      const out = path.join(tmp, 'odirect-race-6.12');
      const r = await runCli([
        'capture',
        '--kernel',
        'debian-6.12',
        '--workload',
        'odirect-race',
        '--duration',
        '1s',
        '--timeout',
        '480s',
        '--out',
        out,
        '--json',
      ]);
      if (r.exitCode !== 0) {
        throw new Error(
          `kreplay capture --kernel debian-6.12 failed (exit ${r.exitCode}); QEMU, Debian's 6.12 kernel (bookworm-security) or a tool is missing or broken:\n${r.stderr}\n(set KREPLAY_SKIP_QEMU=1 to skip this test where QEMU cannot run)`,
        );
      }
      const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
      expect(meta.kernel.release).toMatch(/^6\.12\.\d+\+deb12-amd64$/);
      expect(meta.kernel.source).toMatch(/^debian:linux-image-6\.12\./);
      // the default profile follows the kernel
      expect(meta.profile.file).toBe(path.join('kernel-configs', 'capture', 'linux-6.12', 'odirect-race.yaml'));
      expect(meta.workload.result).toMatchObject({ workload: 'odirect-race', mismatches: 0 });
      expect(meta.buffer.lost).toBe(0);
      expect(meta.vmemmapBase).toBe('0xffffea0000000000');
      expect(meta.probes.probes['kprobe:folio_add_file_rmap_ptes']).toMatchObject({ op: 'pte_map' });
      // the booted kernel's own tracepoint formats travel with the trace
      expect(meta.tracepointFormats['filemap:mm_filemap_fault']).toContain('print fmt: "dev=%d:%d ino=%lx ofs=%lld"');
      expect(meta.kernelLog.findings.filter((f: { kind: string }) => f.kind !== 'warn')).toEqual([]);

      const counts = new Map<string, number>();
      const cached = new Set<bigint>();
      const rmapPfns: bigint[] = [];
      const base = big(meta.vmemmapBase);
      for await (const rec of openTrace(path.join(out, 'trace.txt.gz'))) {
        if (rec.type !== 'event') continue;
        const ev = rec as TraceEvent;
        counts.set(ev.event, (counts.get(ev.event) ?? 0) + 1);
        if (ev.event === 'mm_filemap_add_to_page_cache') cached.add(big(ev.fields.pfn));
        if (ev.event === 'folio_add_file_rmap_ptes') rmapPfns.push((big(ev.fields.page) - base) / 64n);
      }
      for (const e of [
        'mm_filemap_add_to_page_cache',
        'mm_filemap_fault',
        'filemap_fault_ret',
        'folio_add_file_rmap_ptes',
        'folio_remove_rmap_ptes',
        'invalidate_inode_pages2_range',
        'invalidate_inode_pages2_range_ret',
        'sched_process_exit', // the workload's threads exit while tracing (replay's task_exit; session 42)
      ]) {
        expect([e, (counts.get(e) ?? 0) > 0]).toEqual([e, true]);
      }
      expect(rmapPfns.length).toBeGreaterThan(0);
      expect(rmapPfns.filter((p) => cached.has(p)).length).toBe(rmapPfns.length);

      const replay = await runCli(['replay', path.join(out, 'trace.txt.gz'), '--json', '--no-timing']);
      expect(replay.exitCode).toBe(0);
      const res = JSON.parse(replay.stdout);
      expect([res.trace.kernel, res.findings, res.stats.unusableEvents, res.stats.gaps]).toEqual(['linux-6.12', [], {}, 0]);
      expect(res.stats.byOp.pte_map).toBeGreaterThan(0);
    }, 600_000);
  },
);

describe('shipped traces', () => {
  it('each has a meta.json that names its workload and lost no events', () => {
    for (const t of ['odirect-race', 'odirect-dropper', 'truncate-racer', 'odirect-race-faultaround', 'read-invalidate']) {
      const meta = JSON.parse(readFileSync(path.join(repoRoot, 'traces', t, 'meta.json'), 'utf8'));
      expect([t, meta.buffer.lost, meta.kernel.release]).toEqual([t, 0, '6.1.0-56-amd64']);
      expect(meta.workload.result.workload).toBe(t === 'odirect-race-faultaround' ? 'odirect-race' : t);
    }
    for (const w of ['odirect-race', 'odirect-dropper', 'truncate-racer', 'odirect-race-faultaround', 'read-invalidate', 'remap-truncate']) {
      const meta = JSON.parse(readFileSync(path.join(repoRoot, 'traces', `${w}-6.12`, 'meta.json'), 'utf8'));
      expect([w, meta.buffer.lost, meta.kernel.release, meta.profile.file]).toEqual([
        w,
        0,
        '6.12.117+deb12-amd64',
        `kernel-configs/capture/linux-6.12/${w}.yaml`,
      ]);
      expect(meta.workload.result.workload).toBe(w === 'odirect-race-faultaround' ? 'odirect-race' : w);
    }
  });
});
