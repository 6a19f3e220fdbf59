/**
 * A trace.dat's thread groups from the kernel's saved_tgids (session 44), end to end through
 * replayFile: session 43's trace of two threads' PTEs at one address ("threads of one process" in
 * replay.test.ts) written as a trace.dat, which holds no tgids. Without saved_tgids beside it the
 * finding is uncertain (the two pids may be threads); with it, it is what the text trace with its
 * `(tgid)` column gives: none for threads of one process, certain for two processes.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayFile } from '@kreplay/replay';
import { formatText, PageBuilder, payload, u64, writeDatV6 } from '../../ftrace-parser/test/dat-writer.js';

const VM = 0xffffea0000000000n;
const page = (pfn: number) => VM + BigInt(pfn) * 64n;
const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-dat-tgids-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const filemap = (name: string, id: number) =>
  formatText(
    name,
    id,
    [
      ['unsigned long pfn', 8, 8, 0],
      ['unsigned long i_ino', 16, 8, 0],
      ['unsigned long index', 24, 8, 0],
      ['dev_t s_dev', 32, 4, 0],
      ['unsigned char order', 36, 1, 0],
    ],
    '"dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u", ((unsigned int) ((REC->s_dev) >> 20)), ((unsigned int) ((REC->s_dev) & ((1U << 20) - 1))), REC->i_ino, REC->pfn, REC->index << 12, REC->order',
  );
const kprobe = (name: string, id: number) =>
  formatText(
    name,
    id,
    [
      ['unsigned long __probe_ip', 8, 8, 0],
      ['u64 arg1', 16, 8, 0],
      ['u64 arg2', 24, 8, 0],
      ['u64 arg3', 32, 8, 0],
    ],
    '"(%lx) arg1=0x%Lx arg2=0x%Lx arg3=0x%Lx", REC->__probe_ip, REC->arg1, REC->arg2, REC->arg3',
  );

const DEV = (8 << 20) | 16; // 8:16
const pageEvent = (id: number, pid: number, pfn: number, index: number) => {
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(DEV, 0);
  return payload(id, pid, Buffer.concat([u64(pfn), u64(0x2a), u64(index), tail]));
};
const add = (pid: number, pfn: number, index = 0) => pageEvent(600, pid, pfn, index);
const del = (pid: number, pfn: number) => pageEvent(601, pid, pfn, 0);
const setPte = (pid: number, pfn: number) =>
  payload(2101, pid, Buffer.concat([u64(0xffffffff81300000n), u64(0xffffc900), u64(page(pfn)), u64(0x7f0000000000n)]));
const rmapAdd = (pid: number, pfn: number) => payload(2102, pid, Buffer.concat([u64(0xffffffff81310000n), u64(page(pfn)), u64(0xffff888003b00000n), u64(0)]));

/**
 * kr-fault-301 maps 0x10 at 0x7f0000000000, kr-fault2-302 maps 0x20 there, kr-drop-304 deletes 0x10
 * (replay.test.ts); cat-305 exits in between (`exits`): sched_process_exit was traced, so no pid
 * was given to a new task unseen.
 */
function raceDat(exits = true): Buffer {
  const t0 = 1_000_000_000n;
  const us = 1000;
  const b = new PageBuilder(t0)
    .event(1 * us, add(303, 0x10))
    .event(1 * us, setPte(301, 0x10))
    .event(1 * us, rmapAdd(301, 0x10));
  if (exits) b.event(1 * us, exitEvent(305, 'cat'));
  const cpu0 = b
    .event(exits ? 1 * us : 2 * us, add(303, 0x20, 1))
    .event(1 * us, setPte(302, 0x20))
    .event(1 * us, rmapAdd(302, 0x20))
    .event(1 * us, del(304, 0x10))
    .build();
  return datOf(cpu0, '301 kr-fault\n302 kr-fault2\n303 kr-read\n304 kr-drop\n305 cat\n');
}

/** A one-CPU trace.dat of `cpu0`'s page, with the events these tests use (and sched_process_exit), `cmdlines` naming the pids. */
function datOf(cpu0: Buffer, cmdlines: string): Buffer {
  return writeDatV6({
    systems: {
      filemap: [filemap('mm_filemap_add_to_page_cache', 600), filemap('mm_filemap_delete_from_page_cache', 601)],
      kprobes: [kprobe('p_do_set_pte_0', 2101), kprobe('p_page_add_file_rmap_0', 2102)],
      sched: [exitFormat],
    },
    kallsyms: 'ffffffff81300000 T do_set_pte\nffffffff81310000 T page_add_file_rmap\n',
    cmdlines,
    clock: 'mono',
    cpus: [[cpu0]],
  });
}

async function replayed(tgids: string | undefined, exits = true) {
  const dir = mkdtempSync(path.join(tmp, 'run-'));
  writeFileSync(path.join(dir, 'trace.dat'), raceDat(exits));
  if (tgids !== undefined) writeFileSync(path.join(dir, 'saved_tgids'), tgids);
  const r = await replayFile(path.join(dir, 'trace.dat'), { vmemmapBase: VM, kernel: 'linux-6.1' });
  return { rules: r.findings.map((f) => [f.rule, f.certainty]), r };
}

describe("a trace.dat replayed with the kernel's saved_tgids beside it", () => {
  it('reads two pids as threads of one process, or as two processes, where the table says so, and as either without it', async () => {
    const none = await replayed(undefined);
    expect(none.rules).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(none.r.findings[0]!.explanation).toContain('the trace names no thread group for either');
    // threads of one process (the shipped workloads are): 302's PTE replaced 301's unseen
    const threads = await replayed('301 300\n302 300\n303 300\n304 300\n');
    expect(threads.rules).toEqual([]);
    expect(threads.r.stats.adopted.unseenUnmaps).toBe(1);
    // two processes: 0x10 was still mapped when it left the cache
    const processes = await replayed('301 300\n302 400\n303 300\n304 300\n');
    expect(processes.rules).toEqual([['mapped-page-removed', 'certain']]);
    // the same without a traced exit: saved_tgids gives pid 301 its newest task's group, and a
    // thread 301 of process 400 that exited, its pid given to a process 300, cannot be told apart (session 46)
    const noExit = await replayed('301 300\n302 400\n303 300\n304 300\n', false);
    expect(noExit.rules).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(noExit.r.findings[0]!.explanation).toContain('the trace shows no task exit (no sched_process_exit event)');
    // a pid the table does not list names no thread group, as the text's `(-------)`
    const partial = await replayed('301 300\n303 300\n304 300\n');
    expect(partial.rules).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(partial.r.findings[0]!.explanation).toContain('the trace names no thread group for kr-fault2-302');
  });
});

const exitFormat = formatText(
  'sched_process_exit',
  300,
  [
    ['char comm[16]', 8, 16, 0],
    ['pid_t pid', 24, 4, 1],
    ['int prio', 28, 4, 1],
  ],
  '"comm=%s pid=%d prio=%d", REC->comm, REC->pid, REC->prio',
);
const exitEvent = (pid: number, comm: string) => {
  const body = Buffer.alloc(24);
  body.write(comm, 0, 'latin1');
  body.writeInt32LE(pid, 16);
  body.writeInt32LE(120, 20);
  return payload(300, pid, body);
};

/**
 * kr-fault-301, a thread of process 300, maps 0x10 at 0x7f0000000000 and exits; kr-fault2-302, of
 * 300 too, maps 0x20 there (replacing 301's PTE unseen); pid 301 is given to a new process, which
 * adds a page; 0x10 leaves the cache. saved_tgids, read after the trace, lists 301 as its own group.
 */
function reusedDat(exitComm = 'kr-fault', name301 = 'newproc'): Buffer {
  const us = 1000;
  const cpu0 = new PageBuilder(1_000_000_000n)
    .event(1 * us, add(303, 0x10))
    .event(1 * us, setPte(301, 0x10))
    .event(1 * us, rmapAdd(301, 0x10))
    .event(1 * us, exitEvent(301, exitComm))
    .event(1 * us, add(303, 0x20, 1))
    .event(1 * us, setPte(302, 0x20))
    .event(1 * us, rmapAdd(302, 0x20))
    .event(1 * us, add(301, 0x30, 2))
    .event(1 * us, del(304, 0x10))
    .build();
  // saved_cmdlines, like saved_tgids, holds each pid's newest task: the exit's comm field says kr-fault
  return datOf(cpu0, `301 ${name301}\n302 kr-fault2\n303 kr-read\n304 kr-drop\n`);
}

describe('a trace.dat whose pid exits and is given to a new task', () => {
  it("reads the earlier task's PTEs as in doubt: saved_tgids names the later task's group", async () => {
    const dir = mkdtempSync(path.join(tmp, 'reused-'));
    writeFileSync(path.join(dir, 'trace.dat'), reusedDat());
    writeFileSync(path.join(dir, 'saved_tgids'), '301 301\n302 300\n303 300\n304 300\n');
    const r = await replayFile(path.join(dir, 'trace.dat'), { vmemmapBase: VM, kernel: 'linux-6.1' });
    expect(r.stats.byOp.task_exit).toBe(1);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toMatch(
      /may be wrong: pid 301 exited \(kr-fault, \S+trace\.dat:7\) and the trace shows it again \(newproc, \S+trace\.dat:11\), a new task's unless/,
    );
    expect(r.warnings.join('\n')).toContain('pid 301 exited');
    // the finding cites 301's do_set_pte (line 5), which the trace names newproc-301: the task was kr-fault's
    expect(r.findings[0]!.events[0]).toMatchObject({ line: 5, comm: 'newproc', pid: 301 });
    expect(r.findings[0]!.explanation).toMatch(
      /Named: pid 301's exit \(\S+trace\.dat:7\) says its task was kr-fault, which the trace names newproc \(the kernel's saved_cmdlines when the trace was read\): the events of pid 301 cited up to there are the task's that exited as kr-fault\.$/,
    );
    expect(r.warnings).toContainEqual(
      expect.stringMatching(/^pid 301's exit \(\S+trace\.dat:7\) says its task was kr-fault, which the trace names newproc: the task names/),
    );
  });

  it("writes a line break in the exit's comm field (prctl PR_SET_NAME takes any byte but NUL) as \\x0a, on the reason's one line", async () => {
    const dir = mkdtempSync(path.join(tmp, 'reused-'));
    writeFileSync(path.join(dir, 'trace.dat'), reusedDat('kr\n::error::x'));
    writeFileSync(path.join(dir, 'saved_tgids'), '301 301\n302 300\n303 300\n304 300\n');
    const r = await replayFile(path.join(dir, 'trace.dat'), { vmemmapBase: VM, kernel: 'linux-6.1' });
    expect(r.findings[0]!.explanation).toContain('pid 301 exited (kr\\x0a::error::x, ');
    expect(r.findings[0]!.explanation).not.toContain('\n');
    expect(r.warnings.filter((w) => w.includes('\n'))).toEqual([]);
  });

  it('compares the names as they are: an exit whose comm field is the name the trace gives its pid is not misnamed, whatever bytes it holds', async () => {
    const dir = mkdtempSync(path.join(tmp, 'reused-'));
    writeFileSync(path.join(dir, 'trace.dat'), reusedDat('kr\tx', 'kr\tx'));
    writeFileSync(path.join(dir, 'saved_tgids'), '301 301\n302 300\n303 300\n304 300\n');
    const r = await replayFile(path.join(dir, 'trace.dat'), { vmemmapBase: VM, kernel: 'linux-6.1' });
    expect(r.findings[0]!.explanation).toContain('pid 301 exited (kr\\x09x, ');
    expect(r.findings[0]!.explanation).not.toContain('Named:');
    expect(r.warnings.join('\n')).not.toContain('says its task was');
  });
});

describe('a saved_tgids beside a text trace', () => {
  it('is not read: a text trace names its thread groups itself, so a damaged table beside it stops nothing', async () => {
    const dir = mkdtempSync(path.join(tmp, 'text-'));
    const trace = path.join(dir, 'trace.txt');
    writeFileSync(
      trace,
      '# tracer: nop\n#\n  kr-read-303 (    300) [001] .....     1.000001: mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x10 ofs=0 order=0\n',
    );
    writeFileSync(path.join(dir, 'saved_tgids'), 'garbage\n');
    const r = await replayFile(trace, { vmemmapBase: VM, kernel: 'linux-6.1' });
    expect(r.stats.events).toBe(1);
    // beside a trace.dat the same table is read, strictly
    writeFileSync(path.join(dir, 'trace.dat'), raceDat());
    await expect(replayFile(path.join(dir, 'trace.dat'), { vmemmapBase: VM, kernel: 'linux-6.1' })).rejects.toMatchObject({
      file: path.join(dir, 'saved_tgids'),
      line: 1,
    });
  });
});

describe("a trace.dat's header in the result", () => {
  it("keeps every CPU's cpustat (one option per CPU), joined in CPU order, not the last alone", async () => {
    const r = await replayFile(path.join(fileURLToPath(new URL('../../../fixtures/dat/qemu-6.1-tgids/trace.dat', import.meta.url))), { kernel: 'linux-6.1' });
    const stat = r.trace.header.cpustat as string;
    expect(stat.match(/^CPU: \d+$/gm)).toEqual(['CPU: 0', 'CPU: 1']);
    expect(stat).toContain('read events: 765\nCPU: 1\n');
  });
});
