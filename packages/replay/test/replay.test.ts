/**
 * Replay behaviour on small in-memory traces: adapters (probe names, pairing, conversions),
 * adoption, certainty, the explorer's traces, and the errors a user can cause.
 */
import { describe, expect, it } from '@jest/globals';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { isInputError, parseProbeMap, reachesFailOn, type Finding } from '@kreplay/core';
import { findingFromJson, formatJson, parseReplayJson, percentile, replay, replayFieldsWanted, type ReplayOptions } from '@kreplay/replay';

const VM = 0xffffea0000000000n;
const page = (pfn: number) => `0x${(VM + BigInt(pfn) * 64n).toString(16)}`;
const vmemmapBase = VM;

function line(task: string, cpu: number, ts: string, body: string): string {
  return `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${ts.padStart(12)}: ${body}`;
}
function text(lines: string[], header: string[] = []): string {
  return ['# tracer: nop', '#', ...header, '#', ...lines].join('\n') + '\n';
}
async function run(lines: string[], opts: ReplayOptions = {}, header: string[] = []) {
  // these traces stand for ones on a clock that orders CPUs: named here, as --trace-clock would
  return replay(parseTraceString(text(lines, header), { source: 't.txt' }), { source: 't.txt', vmemmapBase, traceClock: 'mono', ...opts });
}

const add = (pfn: number, idx = 0, ino = '2a') => `mm_filemap_add_to_page_cache: dev 8:16 ino ${ino} pfn=0x${pfn.toString(16)} ofs=${idx * 4096} order=0`;
const del = (pfn: number, idx = 0, ino = '2a') => `mm_filemap_delete_from_page_cache: dev 8:16 ino ${ino} pfn=0x${pfn.toString(16)} ofs=${idx * 4096} order=0`;
const rmapAdd = (pfn: number, name = 'p_page_add_file_rmap_0') => `${name}: (page_add_file_rmap+0x0/0x150) arg1=${page(pfn)} arg2=0xffff888003b00000 arg3=0x0`;
const rmapDel = (pfn: number) => `p_page_remove_rmap_0: (page_remove_rmap+0x0/0x1c0) arg1=${page(pfn)} arg2=0xffff888003b00000 arg3=0x0`;
const setPte = (pfn: number) => `p_do_set_pte_0: (do_set_pte+0x0/0x1a0) arg1=0xffffc900 arg2=${page(pfn)} arg3=0x7f0000000000`;

/** A page mapped by T1 on CPU 0, then removed by T2 on CPU 1: mapped-page-removed. */
const race = [line('reader-10', 0, '1.000001', add(0x10)), line('mapper-11', 0, '1.000002', rmapAdd(0x10)), line('dropper-12', 1, '1.000003', del(0x10))];
/** The race as `perf script` prints it. */
const perfLine = (comm: string, pid: number, cpu: number, ts: string, body: string) => `${comm.padStart(16)} ${pid} [00${cpu}] ${ts}: ${body}`;
const perfRace = [
  perfLine('reader', 10, 0, '1.000001', `filemap:${add(0x10)}`),
  perfLine('mapper', 11, 0, '1.000002', `probe:${rmapAdd(0x10)}`),
  perfLine('dropper', 12, 1, '1.000003', `filemap:${del(0x10)}`),
];
const sched = 'sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120';

describe('linux-6.1 adapter', () => {
  it("sees fadvise(DONTNEED)'s invalidate_mapping_pagevec, and merges it into one call when its wrapper invalidate_mapping_pages is probed too", async () => {
    const inv = (fn: string) => `p_${fn}_0: (${fn}+0x0/0x20) arg1=0xffff888003a1c0f8 arg2=0x0 arg3=0x0 ino=42 dev=8388624`;
    const ret = (fn: string, site: string) => `r_${fn}_0: (${site}+0x1c/0x20 <- ${fn}) arg1=0x1`;
    const r = await run([
      line('reader-212', 1, '1.000001', add(0x10)),
      line('fadvise-211', 1, '1.000002', inv('invalidate_mapping_pages')),
      line('fadvise-211', 1, '1.000003', inv('invalidate_mapping_pagevec')),
      line('fadvise-211', 1, '1.000004', del(0x10)),
      line('fadvise-211', 1, '1.000005', ret('invalidate_mapping_pagevec', 'invalidate_mapping_pages')),
      line('fadvise-211', 1, '1.000006', ret('invalidate_mapping_pages', 'generic_fadvise')),
    ]);
    expect(r.stats.byOp).toMatchObject({ invalidate_begin: 1, invalidate_end: 1 });
    expect(r.stats.returns).toEqual({ invalidate_mapping_pages: { 1: 1 } });
    expect(r.stats.adopted.calls).toBe(0);
    const alone = await run([
      line('fadvise-211', 1, '1.000003', inv('invalidate_mapping_pagevec')),
      line('fadvise-211', 1, '1.000005', ret('invalidate_mapping_pagevec', 'generic_fadvise')),
    ]);
    expect(alone.stats.byOp).toMatchObject({ invalidate_begin: 1, invalidate_end: 1 });
  });

  it('lifts kprobes by function whatever their names: auto-generated, user-chosen, or a bare auto name', async () => {
    for (const name of ['p_page_add_file_rmap_0', 'my_rmap_add']) {
      const r = await run([race[0]!, line('mapper-11', 0, '1.000002', rmapAdd(0x10, name)), race[2]!]);
      expect(r.findings.map((f) => f.rule)).toEqual(['mapped-page-removed']);
    }
    // perf/trace-cmd may print no probe site: the auto-generated name still says which function
    const bare = `p_page_add_file_rmap_0: arg1=${page(0x10)}`;
    const r = await run([race[0]!, line('mapper-11', 0, '1.000002', bare), race[2]!]);
    expect(r.findings.map((f) => f.rule)).toEqual(['mapped-page-removed']);
  });

  it('converts struct page * to a pfn with the vmemmap base, and says clearly when that base is unknown', async () => {
    const r = await run(race);
    expect(r.findings[0]!.message).toContain('pfn 0x10');
    const e = await run(race, { vmemmapBase: undefined }).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    const err = e as { message: string; line?: number; hint?: string };
    expect(err.message).toMatch(/vmemmap base .* unknown/);
    expect(err.line).toBe(5); // the first struct page * (line 5: the header is lines 1-3)
    expect(err.hint).toContain('--vmemmap-base');
  });

  it('pairs kretprobe returns with their entries by pid, keeps signed return values and latencies', async () => {
    const r = await run([
      line(
        'w-20',
        1,
        '1.000010',
        'p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x2b0) arg1=0xffff8880 arg2=0x0 arg3=0x3 ino=42 dev=8388624',
      ),
      line(
        'w-21',
        0,
        '1.000011',
        'r_invalidate_inode_pages2_range_0: (kiocb_invalidate_post_direct_write+0x3a/0x70 <- invalidate_inode_pages2_range) arg1=0x0',
      ),
      line(
        'w-20',
        1,
        '1.000030',
        'r_invalidate_inode_pages2_range_0: (kiocb_invalidate_post_direct_write+0x3a/0x70 <- invalidate_inode_pages2_range) arg1=0xfffffffffffffff0',
      ),
    ]);
    expect(r.stats.returns.invalidate_inode_pages2_range).toEqual({ '-16': 1, 0: 1 });
    expect(r.stats.adopted.calls).toBe(1); // w-21's entry predates the trace
    expect(r.stats.latency.invalidate.count).toBe(1);
    expect(percentile(r.stats.latency.invalidate, 50)).toBe(20000);
    expect(r.latencyNs.invalidate).toEqual([20000]);
  });

  it('counts nested probes of one mapping once (do_set_pte calls page_add_file_rmap)', async () => {
    const r = await run([
      race[0]!,
      line('mapper-11', 0, '1.000002', setPte(0x10)),
      line('mapper-11', 0, '1.000002', rmapAdd(0x10)),
      line('mapper-11', 0, '1.000003', rmapDel(0x10)),
      line('dropper-12', 1, '1.000004', del(0x10)),
    ]);
    expect(r.findings).toEqual([]);
    expect(r.stats.byOp.pte_map).toBe(1);
    expect(r.stats.nestedDuplicates).toBe(1);
  });

  it('merges each probe of a nested pair once: a second page_add_file_rmap after do_set_pte + page_add_file_rmap is another mapping', async () => {
    // do_set_pte calls page_add_file_rmap once (mm/memory.c:4423, 6.1.192): the task's next
    // page_add_file_rmap of the page, after another task zapped the first PTE, maps it again
    const r = await run([
      race[0]!,
      line('mapper-11', 0, '1.000002', setPte(0x10)),
      line('mapper-11', 0, '1.000003', rmapAdd(0x10)),
      line('zapper-13', 0, '1.000004', rmapDel(0x10)),
      line('mapper-11', 0, '1.000005', rmapAdd(0x10)),
      line('dropper-12', 1, '1.000006', del(0x10)),
    ]);
    expect(r.stats.byOp.pte_map).toBe(2);
    expect(r.stats.nestedDuplicates).toBe(1);
    expect(r.findings.map((f) => [f.rule, f.certainty, f.message])).toEqual([
      ['mapped-page-removed', 'certain', 'pfn 0x10 (ino 0x2a on 8:16, index 0) removed from the page cache while mapped by 1 PTE'],
    ]);
  });

  it("tells a private write fault's anonymous copy from the file's page at do_set_pte, and is not certain where the trace cannot tell", async () => {
    // do_set_pte maps a write fault's new anonymous copy in a private mapping (page_add_new_anon_rmap),
    // else the file's page (page_add_file_rmap): 6.1.192 mm/memory.c:4417-4424. The copy is a page just
    // allocated, here the pfn the truncate freed: without page_add_file_rmap after it, the trace alone
    // does not say it is an orphan file page.
    const cow = (pfn: number, extra = '') => `${setPte(pfn)} index=0 ino=42 dev=8388624${extra}`;
    const freed = [line('reader-10', 1, '1.000001', add(0x10)), line('truncate-12', 1, '1.000002', del(0x10))];
    const maybe = await run([...freed, line('mapper-11', 0, '1.000003', cow(0x10))]);
    expect(maybe.findings.map((f) => [f.rule, f.certainty])).toEqual([['orphan-page-mapped', 'uncertain']]);
    expect(maybe.findings[0]!.explanation).toMatch(/may have mapped a private write fault's new anonymous page.*no page_add_file_rmap of it followed/);
    expect(maybe.stats.maybeCopies).toBe(1);
    expect(maybe.warnings.join('\n')).toMatch(/1 PTE installed by do_set_pte\/set_pte_range may have mapped a private write fault's new anonymous page/);
    // the fault and VMA flags say: a write fault (FAULT_FLAG_WRITE, bit 0) in a private VMA (no VM_SHARED, 0x8) maps the copy
    const copy = await run([...freed, line('mapper-11', 0, '1.000003', cow(0x10, ' flags=0x1255 vm_flags=0x100073'))]);
    expect(copy.findings).toEqual([]);
    expect(copy.stats.anonCopies).toBe(1);
    expect(copy.stats.byOp.pte_map).toBeUndefined();
    // the PTE probe fired: the trace shows PTE changes, none of a file page
    expect(copy.verdict.unjudged?.map((u) => u.rule)).toEqual(['stale-after-invalidate']);
    // a read fault, a shared VMA, a page with a ->mapping, or the nested page_add_file_rmap: the file's page, an orphan for certain
    for (const said of [
      [line('mapper-11', 0, '1.000003', cow(0x10, ' flags=0x1254'))],
      [line('mapper-11', 0, '1.000003', cow(0x10, ' flags=0x1255 vm_flags=0x1000fb'))],
      [line('mapper-11', 0, '1.000003', cow(0x10, ' mapping=0xffff888003a1c0f8'))],
      [line('mapper-11', 0, '1.000003', cow(0x10)), line('mapper-11', 0, '1.000004', rmapAdd(0x10))],
    ]) {
      const r = await run([...freed, ...said]);
      expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['orphan-page-mapped', 'certain']]);
      expect(r.stats.maybeCopies).toBeUndefined();
    }
    // a copy whose pfn replay has not seen was adopted as the file's cached page: the page cache's
    // own page for that index then contradicted it, certainly
    const adopted = await run([line('mapper-11', 0, '1.000001', cow(0x20)), line('reader-10', 1, '1.000002', add(0x30))]);
    expect(adopted.findings.map((f) => [f.rule, f.certainty])).toEqual([['trace-inconsistent', 'uncertain']]);
    expect(adopted.findings[0]!.explanation).toMatch(/is not known since t.txt:4: p_do_set_pte_0 at line 4 may have mapped/);
  });

  it("merges a nested PTE probe only as its CPU's next op: a reused pid's mapping, or another action's, is not lost", async () => {
    // do_set_pte and its page_add_file_rmap run under the PTE lock with preemption off (6.1.192
    // finish_fault, mm/memory.c:4493-4509): one CPU, nothing in between. worker-300's do_set_pte
    // had no rmap after it (a probe's filter, say); the thread exits and a new one is given pid 300
    // (alloc_pid's idr_alloc_cyclic wraps, kernel/pid.c:233), whose mapping of the page is its own.
    const reused = (cpu: number, between: string[] = []) => [
      line('reader-10', 1, '1.000001', add(0x10)),
      line('worker-300', 0, '1.000002', setPte(0x10)),
      ...between,
      line('worker-300', cpu, '1.000004', rmapAdd(0x10)),
      line('zapper-13', 1, '1.000005', rmapDel(0x10)),
      line('dropper-12', 1, '1.000006', del(0x10)),
    ];
    for (const lines of [reused(1), reused(0, [line('reader-10', 0, '1.000003', add(0x20, 1))])]) {
      const r = await run(lines);
      expect(r.stats.nestedDuplicates).toBe(0);
      expect(r.stats.byOp.pte_map).toBe(2);
      expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    }
    // the nested pair itself, on one CPU with nothing between, is still one mapping
    const nested = await run(reused(0));
    expect(nested.stats.nestedDuplicates).toBe(1);
    expect(nested.findings).toEqual([]);
  });

  it('a pid the trace shows exit names another task after it: no address space, nested probe or open call carries over', async () => {
    // sched_process_exit fires in do_exit for the exiting task (6.1 kernel/exit.c:878); alloc_pid's
    // idr_alloc_cyclic (kernel/pid.c:233) may give its pid to a new task once pid_max wraps
    const exit = (comm: string, pid: number) => `sched_process_exit: comm=${comm} pid=${pid} prio=120`;
    const rules = (r: Awaited<ReturnType<typeof run>>) => r.findings.map((f) => [f.rule, f.certainty]);
    // worker-300, a thread, maps 0x10 at 0x7f0000000000 and exits; its process lives on and still
    // maps it (no page_remove_rmap of a page still cached). newproc-300, a new process given the
    // pid, maps 0x20 at that address in its own address space: that is no sign 0x10's PTE went
    const thread = (between: string[]) => [
      line('reader-10', 1, '1.000001', add(0x10)),
      line('worker-300', 0, '1.000002', setPte(0x10)),
      line('worker-300', 0, '1.000003', rmapAdd(0x10)),
      ...between,
      line('reader-10', 1, '1.000005', add(0x20, 1)),
      line('newproc-300', 1, '1.000006', setPte(0x20)),
      line('newproc-300', 1, '1.000007', rmapAdd(0x20)),
      line('dropper-12', 1, '1.000008', del(0x10)),
    ];
    const exited = await run(thread([line('worker-300', 0, '1.000004', exit('worker', 300))]));
    expect(rules(exited)).toEqual([['mapped-page-removed', 'certain']]);
    expect(exited.stats.adopted.unseenUnmaps).toBe(0);
    expect(exited.stats.byOp.task_exit).toBe(1);
    // without the exit the trace shows one task, whose new PTE there means the old one was zapped unseen
    const one = await run(thread([]));
    expect(rules(one)).toEqual([]);
    expect(one.stats.adopted.unseenUnmaps).toBe(1);

    // worker-300's do_set_pte had no page_add_file_rmap after it; it exits, and the new task 300 on
    // the same CPU maps the page: another mapping, not the pair's other half (session 29's case
    // with no op of the CPU in between, which the exit now is)
    const nested = await run([
      line('reader-10', 1, '1.000001', add(0x10)),
      line('worker-300', 0, '1.000002', setPte(0x10)),
      line('worker-300', 0, '1.000003', exit('worker', 300)),
      line('newproc-300', 0, '1.000004', rmapAdd(0x10)),
      line('zapper-13', 1, '1.000005', rmapDel(0x10)),
      line('dropper-12', 1, '1.000006', del(0x10)),
    ]);
    expect(nested.stats.nestedDuplicates).toBe(0);
    expect(rules(nested)).toEqual([['mapped-page-removed', 'certain']]);

    // an entry of a probed function still open at the exit lost its return (a task does not exit
    // inside filemap_fault): a gap then, and the new task's entry is its own call, not a second one
    const fault = 'p_filemap_fault_0: (filemap_fault+0x0/0x5a0) arg1=0xffffc90000abfd98';
    const faultRet = 'r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) arg1=0x204';
    const lost = await run([
      line('other-5', 1, '1.000001', fault),
      line('other-5', 1, '1.000002', faultRet),
      line('worker-300', 0, '1.000003', fault),
      line('worker-300', 0, '1.000004', exit('worker', 300)),
      line('newproc-300', 0, '1.000005', fault),
      line('newproc-300', 0, '1.000006', faultRet),
    ]);
    expect(lost.stats.missedReturns).toBe(1);
    expect(lost.verdict.gaps).toBe(1);
    expect(lost.warnings.join('\n')).toContain('a task entered the function again, or exited, before the trace showed it return (the first: t.txt:7)');
  });

  it("threads of one process: another pid's PTE at a mapped address is the same address space only where the trace says so", async () => {
    // kr-fault-301 maps 0x10 at 0x7f0000000000; kr-fault2-302 maps 0x20 (index 1) there; 0x10 leaves
    // the cache. As threads of one process (the shipped workloads are), 302's PTE went into the slot
    // 301's mapping held, so that one was zapped unseen; as two processes, 0x10 is still mapped.
    const rules = (r: Awaited<ReturnType<typeof run>>) => r.findings.map((f) => [f.rule, f.certainty]);
    const at = (task: string, tgid: number | undefined, cpu: number, ts: string, body: string) =>
      tgid === undefined ? line(task, cpu, ts, body) : line(`${task} (${String(tgid).padStart(7)})`, cpu, ts, body);
    const trace = (tgid301?: number, tgid302?: number) => [
      at('kr-read-303', tgid301, 1, '1.000001', add(0x10)),
      at('kr-fault-301', tgid301, 0, '1.000002', setPte(0x10)),
      at('kr-fault-301', tgid301, 0, '1.000003', rmapAdd(0x10)),
      at('kr-read-303', tgid301, 1, '1.000005', add(0x20, 1)),
      at('kr-fault2-302', tgid302, 1, '1.000006', setPte(0x20)),
      at('kr-fault2-302', tgid302, 1, '1.000007', rmapAdd(0x20)),
      at('kr-drop-304', tgid301, 1, '1.000008', del(0x10)),
    ];
    const threads = await run(trace(300, 300));
    expect(rules(threads)).toEqual([]);
    expect(threads.stats.adopted.unseenUnmaps).toBe(1);
    // two processes by the column, and a traced exit (another pid's) shows that sched_process_exit
    // was traced, so pid 301 was not given to a new task of another group (session 46)
    const exited = at('cat-305', 305, 1, '1.000004', 'sched_process_exit: comm=cat pid=305 prio=120');
    const processes = await run(trace(300, 400).toSpliced(3, 0, exited));
    expect(rules(processes)).toEqual([['mapped-page-removed', 'certain']]);
    // no (tgid) column (a capture before session 43, a trace.dat): either may hold, so no certain finding
    const unnamed = await run(trace());
    expect(rules(unnamed)).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(unnamed.findings[0]!.explanation).toContain(
      "how many PTEs mapped this page is not known since t.txt:8: kr-fault2-302 installed a PTE at 0x7f0000000000, where kr-fault-301 mapped this page, and the trace names no thread group for either (a text trace without the `(tgid)` column or with `(-------)`, a trace.dat without the kernel's saved_tgids beside it or its pid not listed there): if the two are threads of one process, that mapping was replaced unseen.",
    );
    // a column where the kernel had no tgid for one of the two (`(-------)`): as unknown
    const dashes = trace(300, 300).map((l) => l.replace(/^(\s*kr-fault2-302) \(\s*\d+\)/, '$1 (-------)'));
    expect(dashes.some((l) => l.includes('kr-fault2-302 (-------)'))).toBe(true);
    const oneUnknown = await run(dashes);
    expect(rules(oneUnknown)).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(oneUnknown.findings[0]!.explanation).toContain('the trace names no thread group for kr-fault2-302 (a text trace');
    // and the other way round: the earlier mapping's task is the one without
    const firstUnknown = await run(trace(undefined, 300).map((l, i) => (i === 1 || i === 2 ? l.replace(/^(\s*kr-fault-301)/, '$1 (-------)') : l)));
    expect(rules(firstUnknown)).toEqual([['mapped-page-removed', 'uncertain']]);
    // the two do_set_pte at one timestamp, 302's first in the file: in that order 301's PTE replaced
    // 302's, and 0x10 is mapped whatever the two are; in the other, it is in doubt. The tie search
    // must try both (one address, no thread group: one set).
    const tied = await run([
      at('kr-read-303', undefined, 1, '1.000001', add(0x10)),
      at('kr-read-303', undefined, 1, '1.000002', add(0x20, 1)),
      at('kr-fault2-302', undefined, 0, '1.000003', setPte(0x20)),
      at('kr-fault-301', undefined, 1, '1.000003', setPte(0x10)),
      at('kr-fault-301', undefined, 1, '1.000004', rmapAdd(0x10)),
      at('kr-fault2-302', undefined, 0, '1.000004', rmapAdd(0x20)),
      at('kr-drop-304', undefined, 1, '1.000008', del(0x10)),
    ]);
    expect(rules(tied)).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(tied.stats.ties.searched).toBe(1);
  });

  it("a pid the trace shows exit and then again: the thread group the trace gives it is the later task's, so PTE counts resting on its earlier PTEs are uncertain", async () => {
    // kr-fault-301, a thread of process 300, maps 0x10 at 0x7f0000000000 and exits; kr-fault2-302,
    // another thread of 300, maps 0x20 there: the same address space, so 0x10's PTE was replaced
    // unseen. Pid 301 is then given to newproc, a process of its own. The (tgid) column is the
    // kernel's pid → tgid table when the trace was read (trace_find_tgid), so every line of pid 301
    // says 301: read as they are, 301's PTE was in another address space and 0x10 still mapped
    // when it left the cache — a certain mapped-page-removed no kernel did.
    const exit = (comm: string, pid: number) => `sched_process_exit: comm=${comm} pid=${pid} prio=120`;
    const rules = (r: Awaited<ReturnType<typeof run>>) => r.findings.map((f) => [f.rule, f.certainty]);
    const at = (task: string, tgid: number, cpu: number, ts: string, body: string) => line(`${task} (${String(tgid).padStart(7)})`, cpu, ts, body);
    const head = [
      at('kr-read-303', 300, 1, '1.000001', add(0x10)),
      at('kr-fault-301', 301, 0, '1.000002', setPte(0x10)),
      at('kr-fault-301', 301, 0, '1.000003', rmapAdd(0x10)),
      at('kr-fault-301', 301, 0, '1.000004', exit('kr-fault', 301)),
      at('kr-read-303', 300, 1, '1.000005', add(0x20, 1)),
      at('kr-fault2-302', 300, 1, '1.000006', setPte(0x20)),
      at('kr-fault2-302', 300, 1, '1.000007', rmapAdd(0x20)),
    ];
    const again = at('newproc-301', 301, 0, '1.000008', add(0x30, 2));
    const drop = at('kr-drop-304', 300, 1, '1.000009', del(0x10));
    // the pid's reuse before the finding, and after it (the finding is judged before the trace shows it)
    for (const lines of [
      [...head, again, drop],
      [...head, drop.replace('1.000009', '1.000008'), again.replace('1.000008', '1.000009')],
    ]) {
      const r = await run(lines);
      expect(rules(r)).toEqual([['mapped-page-removed', 'uncertain']]);
      expect(r.findings[0]!.explanation).toContain(
        'Uncertain: how many PTEs mapped this page may be wrong: pid 301 exited (kr-fault, t.txt:7) and the trace shows it again (newproc, t.txt:',
      );
      expect(r.findings[0]!.explanation).toContain("the thread group the trace gives pid 301, 301, is the kernel's pid → tgid table when the trace was read");
      expect(r.warnings.join('\n')).toContain('pid 301 exited (t.txt:7) and the trace shows it again');
      expect(r.verdict.unjudged?.map((u) => u.rule)).toEqual(expect.arrayContaining(['mapped-page-removed', 'stale-after-invalidate']));
    }
    // no reuse (newproc-301 is another pid): as certain as before, and judged
    const other = await run([...head, again.replace(/newproc-301 \(\s*301\)/, 'newproc-305 (    305)'), drop]);
    expect(rules(other)).toEqual([['mapped-page-removed', 'certain']]);
    expect(other.warnings.join('\n')).not.toContain('exited');
    // the reused pid placed no PTE before its exit: its thread group moved nothing
    const noPte = await run([
      at('kr-read-303', 300, 1, '1.000001', add(0x10)),
      at('kr-fault-302', 400, 0, '1.000002', setPte(0x10)),
      at('kr-fault-302', 400, 0, '1.000003', rmapAdd(0x10)),
      at('kr-idle-301', 301, 0, '1.000004', exit('kr-idle', 301)),
      again,
      drop,
    ]);
    expect(rules(noPte)).toEqual([['mapped-page-removed', 'certain']]);
  });

  it('a trace that names thread groups and shows no task exit cannot rule out a reused pid: PTE counts resting on its groups are uncertain', async () => {
    // kr-fault-301 (process 301 by the column) maps 0x10 at 0x7f0000000000, kr-fault2-302 (process
    // 300) maps 0x20 there, 0x10 leaves the cache. Certain if 301 and 300 were two processes all
    // along; but the column is the kernel's pid → tgid table when the trace was read, and without
    // sched_process_exit the trace cannot show that 301 was a thread of 300 whose pid a new process got.
    const at = (task: string, tgid: number, cpu: number, ts: string, body: string) => line(`${task} (${String(tgid).padStart(7)})`, cpu, ts, body);
    const lines = [
      at('kr-read-303', 300, 1, '1.000001', add(0x10)),
      at('kr-fault-301', 301, 0, '1.000002', setPte(0x10)),
      at('kr-fault-301', 301, 0, '1.000003', rmapAdd(0x10)),
      at('kr-read-303', 300, 1, '1.000005', add(0x20, 1)),
      at('kr-fault2-302', 300, 1, '1.000006', setPte(0x20)),
      at('kr-fault2-302', 300, 1, '1.000007', rmapAdd(0x20)),
      at('kr-drop-304', 300, 1, '1.000009', del(0x10)),
    ];
    const r = await run(lines);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toContain(
      'Uncertain: how many PTEs mapped this page may be wrong: the trace shows no task exit (no sched_process_exit event) and names the thread groups of the tasks that changed PTEs (the first at t.txt:5)',
    );
    expect(r.verdict.unjudged?.map((u) => u.rule)).toEqual(expect.arrayContaining(['mapped-page-removed', 'stale-after-invalidate']));
    expect(r.warnings.join('\n')).toContain('trace sched:sched_process_exit with the rest');
    // an exit in the trace (another pid's) says the event was traced: no reuse of 301 was there to see
    const traced = await run([...lines.slice(0, 3), at('cat-305', 305, 1, '1.000004', 'sched_process_exit: comm=cat pid=305 prio=120'), ...lines.slice(3)]);
    expect(traced.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    // without the column each pid is its own address space, whatever its task: no group to be wrong
    const plain = await run(lines.map((l) => l.replace(/ \(\s*\d+\)/, '')));
    expect(plain.warnings.join('\n')).not.toContain('no task exit');
  });

  it("names an exited task by its exit event's comm field, not the trace's name for its pid (the newest task's)", async () => {
    // As tracefs prints it: every line of pid 301 carries the name saved_cmdlines held for 301
    // when the trace was read (trace_print_context → trace_find_cmdline), newproc, the pid's
    // newest task; the exit's own comm field says the task that exited was kr-fault.
    const exit = (comm: string) => `sched_process_exit: comm=${comm} pid=301 prio=120`;
    const at = (task: string, tgid: number, cpu: number, ts: string, body: string) => line(`${task} (${String(tgid).padStart(7)})`, cpu, ts, body);
    const named = "Named: pid 301's exit (t.txt:";
    // kr-fault-301, a thread of 300, maps 0x10 and exits; 0x10 leaves the cache while process 300 still maps it
    const before = await run([
      at('kr-read-303', 300, 1, '1.000001', add(0x10)),
      at('newproc-301', 300, 0, '1.000002', setPte(0x10)),
      at('newproc-301', 300, 0, '1.000003', rmapAdd(0x10)),
      at('newproc-301', 300, 0, '1.000004', exit('kr-fault')),
      at('kr-drop-304', 300, 1, '1.000005', del(0x10)),
    ]);
    expect(before.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    expect(before.findings[0]!.explanation).toContain(
      "Named: pid 301's exit (t.txt:7) says its task was kr-fault, which the trace names newproc (the kernel's saved_cmdlines when the trace was read): the events of pid 301 cited up to there are the task's that exited as kr-fault.",
    );
    expect(before.warnings).toContainEqual(expect.stringMatching(/^pid 301's exit \(t\.txt:7\) says its task was kr-fault, which the trace names newproc: /));
    // the task that exited placed nothing; the new task 301 maps 0x10 after the exit: its events are its own, named as the trace names them
    const after = await run([
      at('kr-read-303', 300, 1, '1.000001', add(0x10)),
      at('newproc-301', 301, 0, '1.000002', exit('kr-idle')),
      at('newproc-301', 301, 0, '1.000003', setPte(0x10)),
      at('newproc-301', 301, 0, '1.000004', rmapAdd(0x10)),
      at('kr-drop-304', 300, 1, '1.000005', del(0x10)),
    ]);
    expect(after.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    expect(after.findings[0]!.explanation).not.toContain(named);
    expect(after.warnings.join('\n')).toContain("pid 301's exit (t.txt:5) says its task was kr-idle, which the trace names newproc");
    // the exit's comm field and the trace's name agree: nothing to say
    const same = await run([
      at('kr-read-303', 300, 1, '1.000001', add(0x10)),
      at('kr-fault-301', 300, 0, '1.000002', setPte(0x10)),
      at('kr-fault-301', 300, 0, '1.000003', rmapAdd(0x10)),
      at('kr-fault-301', 300, 0, '1.000004', exit('kr-fault')),
      at('kr-drop-304', 300, 1, '1.000005', del(0x10)),
    ]);
    expect(same.findings[0]!.explanation).not.toContain('Named:');
    expect(same.warnings.join('\n')).not.toContain('says its task was');
  });

  it('a trace without PTE changes cannot judge stale-data, even when no page left the cache', async () => {
    // the page survives a successful invalidate_inode_pages2_range: a fault mapping it would be
    // stale-data, but no PTE probe fired, so no fault could have been seen
    const inv = 'p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x2b0) arg1=0xffff888003a1c0f8 arg2=0x0 arg3=0x0 ino=42 dev=8388624';
    const ret = 'r_invalidate_inode_pages2_range_0: (kiocb_invalidate_post_direct_write+0x3a/0x70 <- invalidate_inode_pages2_range) arg1=0x0';
    const lines = [race[0]!, line('writer-20', 1, '1.000002', inv), line('writer-20', 1, '1.000003', ret)];
    const r = await run(lines);
    expect(r.verdict.status).toBe('clean');
    expect(r.verdict.unjudged?.map((u) => [u.rule, u.reason])).toEqual([
      ['stale-data', 'the trace shows no PTE changes (kprobes on page_add_file_rmap/page_remove_rmap/do_set_pte)'],
      ['mapped-page-removed', 'no page left the page cache in the trace (no mm_filemap_delete_from_page_cache or other cache_delete event)'],
      ['orphan-page-mapped', 'no page left the page cache in the trace (no mm_filemap_delete_from_page_cache or other cache_delete event)'],
    ]);
    // with the fault's mapping in the trace the rule is judged, and fires
    const mapped = await run([...lines, line('mapper-11', 0, '1.000004', rmapAdd(0x10))]);
    expect(mapped.findings.map((f) => [f.rule, f.certainty])).toEqual([['stale-data', 'certain']]);
    expect(mapped.verdict.unjudged?.map((u) => u.rule)).toEqual(['mapped-page-removed', 'orphan-page-mapped']);
  });

  it('names each rule it could not judge once, with every reason, unexercised only when no reason is a shortfall', async () => {
    // stale-data: no PTE change in the trace, and a workload that counted mismatches the trace does not mark
    const inv = 'p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x2b0) arg1=0xffff888003a1c0f8 arg2=0x0 arg3=0x0 ino=42 dev=8388624';
    const ret = 'r_invalidate_inode_pages2_range_0: (kiocb_invalidate_post_direct_write+0x3a/0x70 <- invalidate_inode_pages2_range) arg1=0x0';
    const meta = { kernel: { release: '6.1.0-56-amd64' }, workload: { name: 'w', result: { mismatches: 2 } } };
    const r = await run([race[0]!, line('writer-20', 1, '1.000002', inv), line('writer-20', 1, '1.000003', ret)], { meta });
    expect(r.verdict.unjudged?.map((u) => u.rule)).toEqual(['stale-data', 'mapped-page-removed', 'orphan-page-mapped']);
    expect(r.verdict.unjudged![0]).toEqual({
      rule: 'stale-data',
      reason:
        'the trace shows no PTE changes (kprobes on page_add_file_rmap/page_remove_rmap/do_set_pte); the workload counted 2 mismatches (meta.json workload.result) and the trace marks none of them',
    });
    // orphan-page-mapped: no page left the cache (nothing to judge), and yet an order of two tied
    // events raises it (a PTE for index 1 of a page cached at index 0) where the order replayed does not
    const tied = await run([line('reader-10', 0, '1.000001', add(0x10)), line('mapper-11', 1, '1.000001', `${rmapAdd(0x10)} index=1 ino=42 dev=8388624`)]);
    const orphan = tied.verdict.unjudged?.filter((u) => u.rule === 'orphan-page-mapped');
    expect(orphan).toHaveLength(1);
    expect(orphan![0]!.unexercised).toBeUndefined();
    expect(orphan![0]!.reason).toMatch(
      /^no page left the page cache in the trace .*; 1 set of events on several CPUs with one timestamp .* raises orphan-page-mapped/,
    );
  });

  it('passes unknown events through and counts them; counts known events it cannot use', async () => {
    const r = await run([
      line('a-1', 0, '1.000001', 'sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120'),
      line('a-1', 0, '1.000002', 'p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=(fault)'),
      line('a-1', 0, '1.000003', 'irq_handler_entry: irq=1 name=x'),
    ]);
    expect(r.stats.unknownEvents).toBe(2);
    expect(r.stats.unknownByEvent).toEqual({ irq_handler_entry: 1, sched_switch: 1 });
    expect(Object.keys(r.stats.unusableEvents)).toEqual(['p_page_add_file_rmap_0: arg1=(fault) is not a page']);
    expect(r.warnings.join('\n')).toMatch(/unusable/);
  });

  it("gives a large folio's subpages their own pfns and indexes", async () => {
    const r = await run([
      line('r-1', 0, '1.000001', 'mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x100 ofs=0 order=2'),
      line('m-2', 0, '1.000002', rmapAdd(0x103)),
      line('d-3', 1, '1.000003', 'mm_filemap_delete_from_page_cache: dev 8:16 ino 2a pfn=0x100 ofs=0 order=2'),
    ]);
    expect(r.findings.map((f) => [f.rule, f.index])).toEqual([['mapped-page-removed', 3]]);
  });

  it('does not use an event whose pfn is 2^52 or more (no page frame number), where two such pfns once shared one page', async () => {
    // 2^53 and 2^53 + 1 are one JS number: keyed by number they were one page, added twice
    const huge = (pfn: bigint, idx: number) => `mm_filemap_add_to_page_cache: dev 8:16 ino 2a pfn=0x${pfn.toString(16)} ofs=${idx * 4096} order=0`;
    const r = await run([line('r-1', 0, '1.000001', huge(2n ** 53n, 0)), line('r-1', 0, '1.000002', huge(2n ** 53n + 1n, 1))]);
    expect(r.findings).toEqual([]);
    expect(r.stats.unusableEvents).toEqual({
      'mm_filemap_add_to_page_cache: pfn 0x20000000000000 is not a page frame number (pfns are below 2^52)': 1,
      'mm_filemap_add_to_page_cache: pfn 0x20000000000001 is not a page frame number (pfns are below 2^52)': 1,
    });
    expect(r.verdict.status).not.toBe('clean');
    // the largest pfn below 2^52 is one, and its neighbour is another page
    const top = 2 ** 52 - 1;
    const ok = await run([line('r-1', 0, '1.000001', add(top, 0)), line('r-1', 0, '1.000002', add(top - 1, 1)), line('d-2', 1, '1.000003', del(top, 0))]);
    expect(ok.stats.unusableEvents).toEqual({});
    expect(ok.stats.pages).toBe(2);
    expect(ok.findings).toEqual([]);
  });

  it("does not take a file read through a NULL page->mapping: a removed page mapped again is an orphan, not another cache's page", async () => {
    // the fetch through NULL fails and writes nothing: ino and dev print stale ring-buffer bytes
    const removed = [line('reader-10', 0, '1.000001', add(0x10)), line('dropper-12', 1, '1.000002', del(0x10))];
    const mapAt = (mapping: string, ino: string) => line('mapper-11', 0, '1.000003', `${rmapAdd(0x10)} mapping=${mapping} ino=${ino} dev=8388624 index=0`);
    const stale = await run([...removed, mapAt('0x0', '0x77')]);
    expect(stale.findings.map((f) => [f.rule, f.certainty, f.file])).toEqual([['orphan-page-mapped', 'certain', '8:16/2a']]);
    expect(stale.stats.adopted.reused).toBe(0);
    // a page with a mapping that names another file was freed and reused by a cache the trace does not show
    const reused = await run([...removed, mapAt('0xffff888003a1c0f8', '0x77')]);
    expect(reused.findings).toEqual([]);
    expect(reused.stats.adopted.reused).toBe(1);
  });

  it('takes probe meanings from a --probes map over the shipped defaults', async () => {
    const probes = parseProbeMap('probes:\n  zap: { op: pte_unmap, args: { pfn: { field: pg, as: page } } }\n', 'p.yaml');
    const r = await run([...race.slice(0, 2), line('mapper-11', 0, '1.0000025', `zap: pg=${page(0x10)}`), race[2]!], { probes, probesSource: 'p.yaml' });
    expect(r.findings).toEqual([]);
    expect(r.trace.probeSources[0]).toBe('p.yaml');
  });
});

describe('adoption', () => {
  it('adopts pages removed or mapped before the trace showed them added', async () => {
    const r = await run([
      line('m-1', 0, '1.000001', rmapDel(0x20)),
      line('d-2', 1, '1.000002', del(0x21)),
      line('m-1', 0, '1.000003', rmapAdd(0x22)),
      line('m-1', 0, '1.000004', rmapDel(0x22)),
      line('m-1', 0, '1.000005', rmapDel(0x22)),
    ]);
    expect(r.findings).toEqual([]);
    expect(r.stats.adopted).toEqual({ pages: 2, mappings: 2, calls: 0, reused: 0, unseenUnmaps: 0 });
  });

  it('a page that only a forgotten invalidate promise covered is not judged stale-after-invalidate, and says so', async () => {
    const inv = (ts: string, start: number) =>
      line(
        'w-20',
        1,
        ts,
        `p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x2b0) arg1=0x1 arg2=0x${start.toString(16)} arg3=0x${start.toString(16)} ino=42 dev=8388624`,
      );
    const ret = (ts: string) => line('w-20', 1, ts, 'r_invalidate_inode_pages2_range_0: (x+0x1/0x2 <- invalidate_inode_pages2_range) arg1=0x0');
    const orphan = [
      line('reader-10', 0, '1.000001', add(0x10)),
      inv('1.000002', 0),
      line('w-20', 1, '1.000003', del(0x10)),
      ret('1.000004'),
      line('mapper-11', 0, '1.000005', setPte(0x10)), // mapped after the invalidate of index 0 returned: stale at the end
    ];
    // then 256 invalidates of other single indexes of the file: index 0's promise is the 257th newest
    const more = Array.from({ length: 256 }, (_, k) => [
      inv(`2.${String(2 * k + 1).padStart(6, '0')}`, k + 1),
      ret(`2.${String(2 * k + 2).padStart(6, '0')}`),
    ]).flat();
    const kept = await run(orphan);
    expect(kept.findings.map((f) => f.rule)).toEqual(['orphan-page-mapped', 'stale-after-invalidate']);
    const r = await run([...orphan, ...more]);
    expect(r.stats.promisesForgotten).toBe(1);
    // it was "ok stale-after-invalidate" in KTAP: the promise that made the page stale was no longer kept
    expect(r.findings.map((f) => f.rule)).toEqual(['orphan-page-mapped']);
    expect(r.verdict.unjudged).toEqual([
      { rule: 'stale-after-invalidate', reason: expect.stringMatching(/^1 page still mapped at the end .* last 256 ranges per file\)$/) },
    ]);
    expect(r.warnings.join('\n')).toMatch(/stale-after-invalidate could not judge it/);
  });

  it("a removed page's PTEs that went away unseen are known gone when its pfn is reused or its address remapped", async () => {
    const orphan = [
      line('reader-10', 0, '1.000001', add(0x10)),
      line('w-20', 1, '1.000002', 'p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x2b0) arg1=0x1 arg2=0x0 arg3=0x0 ino=42 dev=8388624'),
      line('w-20', 1, '1.000003', del(0x10)),
      line('w-20', 1, '1.000004', 'r_invalidate_inode_pages2_range_0: (x+0x1/0x2 <- invalidate_inode_pages2_range) arg1=0x0'),
      line('mapper-11', 0, '1.000005', setPte(0x10)), // orphan, mapped after the invalidate returned
    ];
    // nothing says the orphan PTE went away: stale when the trace ends
    const kept = await run(orphan);
    expect(kept.findings.map((f) => f.rule)).toEqual(['orphan-page-mapped', 'stale-after-invalidate']);
    // its zap is not in the trace (the probe could not name a removed page's file), but the
    // same process installing another PTE at the same address shows the slot was emptied
    const remapped = await run([...orphan, line('reader-10', 0, '1.000006', add(0x11)), line('mapper-11', 0, '1.000007', setPte(0x11))]);
    expect(remapped.findings.map((f) => f.rule)).toEqual(['orphan-page-mapped']);
    expect(remapped.stats.adopted.unseenUnmaps).toBe(1);
    // and a mapped page cannot be freed: its pfn in the cache again means its PTEs are gone
    const reused = await run([...orphan, line('reader-10', 0, '1.000008', add(0x10, 3))]);
    expect(reused.findings.map((f) => f.rule)).toEqual(['orphan-page-mapped']);
    expect(reused.stats.adopted.unseenUnmaps).toBe(1);
  });

  it('but a page born in the trace cannot lose a mapping it never had', async () => {
    const r = await run([race[0]!, line('m-1', 0, '1.000004', rmapDel(0x10))]);
    expect(r.findings.map((f) => [f.rule, f.severity])).toEqual([['trace-inconsistent', 'warning']]);
  });
});

describe('certainty', () => {
  it('perf script output is said to show lost events only with --show-lost-events; ftrace text is not', async () => {
    const perf = '             fio   2231 [001]   612.403517: filemap:mm_filemap_add_to_page_cache: dev 254:1 ino 2a pfn=0x10a3c ofs=0 order=0';
    const ftrace = '             fio-2231    [001] .....   612.403517: mm_filemap_add_to_page_cache: dev 254:1 ino 2a pfn=0x10a3c ofs=0 order=0';
    const warned = (text: string) =>
      replay(parseTraceString(text, { source: 't.txt' }), { source: 't.txt' }).then((r) => r.warnings.some((w) => w.includes('--show-lost-events')));
    expect(await warned(perf)).toBe(true);
    expect(await warned(ftrace)).toBe(false);
  });

  it('a perf script trace may have lost events anywhere: one gap on every CPU, unless the user says it shows them', async () => {
    // perf script prints PERF_RECORD_LOST only with --show-lost-events: without it, the race below read as certain
    // and a trace with no finding as clean, whatever perf had lost
    const go = (lines: string[], o: ReplayOptions = {}) =>
      replay(parseTraceString(`${lines.join('\n')}\n`, { source: 't.txt' }), { source: 't.txt', vmemmapBase, traceClock: 'mono', ...o });
    const unsure = await go(perfRace);
    expect(unsure.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(unsure.findings[0]!.explanation).toMatch(
      /Uncertain: perf script shows the events perf lost only when printed with --show-lost-events, so this trace may have lost events anywhere \(t\.txt:1\)/,
    );
    expect(unsure.verdict).toMatchObject({ certain: 0, uncertain: 1, gaps: 1 });
    expect(unsure.warnings.join('\n')).toMatch(/pass --perf-lost-events-shown/);
    const shown = await go(perfRace, { perfLostEventsShown: true });
    expect(shown.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    expect(shown.verdict).toMatchObject({ certain: 1, uncertain: 0, gaps: 0 });
    expect(shown.warnings.join('\n')).not.toMatch(/show-lost-events/);
    // nothing found in a perf trace is a trace with a hole (not a clean run), not clean
    const quiet = await go(perfRace.slice(0, 2));
    expect(quiet.verdict).toMatchObject({ status: 'clean', gaps: 1 });
    expect((await go(perfRace.slice(0, 2), { perfLostEventsShown: true })).verdict).toMatchObject({ status: 'clean', gaps: 0 });
    // ftrace text carries its own losses: no gap of this kind
    expect((await run(race)).verdict).toMatchObject({ certain: 1, gaps: 0 });
  });

  it('a perf script trace that prints no CPU is not one CPU: each task is ordered alone, its ties searched, its clock heeded', async () => {
    // `perf record -p PID` / `perf record cmd` print no [cpu] column: the reader gives every line
    // CPU -1. Read as one CPU, the printed order of two tasks' tied events was the order they ran,
    // and on a clock that orders no CPUs a finding across two tasks was certain
    const noCpu = (comm: string, pid: number, ts: string, body: string) => `${comm.padStart(16)} ${pid} ${ts}: ${body}`;
    const mapped = [noCpu('reader', 10, '1.000001', `filemap:${add(0x10)}`), noCpu('mapper', 11, '1.000002', `probe:${rmapAdd(0x10)}`)];
    const unmap = noCpu('mapper', 11, '1.000003', `probe:${rmapDel(0x10)}`);
    const drop = (ts: string) => noCpu('dropper', 12, ts, `filemap:${del(0x10)}`);
    const go = (lines: string[], o: ReplayOptions = {}) =>
      replay(parseTraceString(`${lines.join('\n')}\n`, { source: 't.txt' }), {
        source: 't.txt',
        vmemmapBase,
        perfLostEventsShown: true,
        traceClock: 'mono',
        ...o,
      });
    // the removal printed before the unmap, at one time: the other order is clean, so not certain and not a pass
    const tied = await go([...mapped, drop('1.000003'), unmap]);
    expect(tied.findings).toEqual([]);
    expect(tied.verdict.unjudged.map((u) => u.rule)).toContain('mapped-page-removed');
    expect(tied.stats.ties.groups).toBe(1);
    // printed the other way round, the same: no certain finding from one printed order
    const other = await go([...mapped, unmap, drop('1.000003')]);
    expect(other.findings).toEqual([]);
    expect(other.verdict.unjudged.map((u) => u.rule)).toContain('mapped-page-removed');
    // on a clock that orders no CPUs, two tasks' ops are two CPUs' ops: uncertain, not judged
    const perCpu = await go([...mapped, drop('1.000004')], { traceClock: 'local' });
    expect(perCpu.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(perCpu.verdict.unjudged.map((u) => u.rule)).toContain('orphan-page-mapped');
    // one task's own events keep their order: its tied events are not searched; but on a clock kept
    // per CPU they may carry two CPUs' stamps (the task may have moved, which no CPU column shows)
    const one = await go(
      [
        noCpu('t', 10, '1.000001', `filemap:${add(0x10)}`),
        noCpu('t', 10, '1.000001', `probe:${rmapAdd(0x10)}`),
        noCpu('t', 10, '1.000001', `filemap:${del(0x10)}`),
      ],
      {
        traceClock: 'local',
      },
    );
    expect(one.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(one.findings[0]!.explanation).toContain('came from lines that print no CPU: their task may have moved between CPUs');
    expect(one.stats.ties.groups).toBe(0);
    // on a clock that orders every CPU, that task's finding is certain
    const oneMono = await go(
      [
        noCpu('t', 10, '1.000001', `filemap:${add(0x10)}`),
        noCpu('t', 10, '1.000001', `probe:${rmapAdd(0x10)}`),
        noCpu('t', 10, '1.000001', `filemap:${del(0x10)}`),
      ],
      { traceClock: 'mono' },
    );
    expect(oneMono.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
  });

  it('on a clock kept per CPU, an uncertain finding names every cause: lines that print no CPU and two printed CPUs', async () => {
    const noCpu = (comm: string, pid: number, ts: string, body: string) => `${comm.padStart(16)} ${pid} ${ts}: ${body}`;
    const go = (lines: string[]) =>
      replay(parseTraceString(`${lines.join('\n')}\n`, { source: 't.txt' }), { source: 't.txt', vmemmapBase, perfLostEventsShown: true, traceClock: 'local' });
    // one task's finding, all on lines without a CPU; other tasks' operations on CPUs 0 and 1
    const one = [noCpu('t', 10, '1.000001', `filemap:${add(0x10)}`), noCpu('t', 10, '1.000002', `probe:${rmapAdd(0x10)}`)];
    const drop = noCpu('t', 10, '1.000005', `filemap:${del(0x10)}`);
    const printed = [
      perfLine('other', 13, 0, '1.000003', `filemap:${add(0x20, 0, '2b')}`),
      perfLine('another', 14, 1, '1.000004', `filemap:${add(0x21, 1, '2b')}`),
    ];
    const both = await go([...one, ...printed, drop]);
    expect(both.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(both.findings[0]!.explanation).toContain(
      'page-cache operations came from more than one CPU, and from lines that print no CPU (their task may have moved between CPUs)',
    );
    // each cause alone is named alone
    const unprinted = await go([...one, drop]);
    expect(unprinted.findings[0]!.explanation).toContain('page-cache operations came from lines that print no CPU: their task may have moved');
    expect(unprinted.findings[0]!.explanation).not.toContain('more than one CPU');
    const cpus = await go([
      perfLine('t', 10, 0, '1.000001', `filemap:${add(0x10)}`),
      perfLine('t', 10, 0, '1.000002', `probe:${rmapAdd(0x10)}`),
      ...printed,
      perfLine('t', 10, 0, '1.000005', `filemap:${del(0x10)}`),
    ]);
    expect(cpus.findings[0]!.explanation).toContain('page-cache operations came from more than one CPU: one that another CPU printed');
    expect(cpus.findings[0]!.explanation).not.toContain('print no CPU');
    // a finding whose own events come from a CPU and from lines without one names them so, not "CPUs -1, 1"
    const mixed = await go([...one, perfLine('dropper', 12, 1, '1.000005', `filemap:${del(0x10)}`)]);
    expect(mixed.findings[0]!.explanation).toContain('so the events on CPU 1 and lines that print no CPU may have run in another order');
  });

  it("merges a nested PTE probe on a line that prints no CPU though another task's line comes between", async () => {
    // do_set_pte and its page_add_file_rmap run under the PTE lock with preemption off: another
    // task printed between them ran on another CPU. Not merged, the pair was two PTEs, and one unmap
    // left a certain mapped-page-removed a correct kernel could have produced
    const noCpu = (comm: string, pid: number, ts: string, body: string) => `${comm.padStart(16)} ${pid} ${ts}: ${body}`;
    const lines = [
      noCpu('mapper', 11, '1.000001', `filemap:${add(0x10)}`),
      noCpu('mapper', 11, '1.000002', `probe:${setPte(0x10)} flags=0x1255 vm_flags=0xfb`),
      noCpu('other', 13, '1.000003', `filemap:${add(0x20, 0, '2b')}`),
      noCpu('mapper', 11, '1.000004', `probe:${rmapAdd(0x10)}`),
      noCpu('mapper', 11, '1.000005', `probe:${rmapDel(0x10)}`),
      noCpu('dropper', 12, '1.000006', `filemap:${del(0x10)}`),
    ];
    const r = await replay(parseTraceString(`${lines.join('\n')}\n`, { source: 't.txt' }), {
      source: 't.txt',
      vmemmapBase,
      perfLostEventsShown: true,
      traceClock: 'mono',
    });
    expect(r.findings).toEqual([]);
    expect(r.verdict.status).toBe('clean');
  });

  it("perf's lost events printed after a finding may have run before it: uncertain, when they came after their CPU's previous event", async () => {
    // the kernel writes PERF_RECORD_LOST when the buffer has room again: CPU 0 lost 17 events after
    // its rmap at 1.000002 and before 1.000005, so the mapper's unmap may be among them, before the
    // removal at 1.000003. Read as a gap after the previous line (1.000003), the finding stayed certain
    const lost = perfLine('perf', 999, 0, '1.000005', 'PERF_RECORD_LOST lost 17');
    const go = (lines: string[]) =>
      replay(parseTraceString(`${lines.join('\n')}\n`, { source: 't.txt' }), { source: 't.txt', vmemmapBase, traceClock: 'mono', perfLostEventsShown: true });
    const r = await go([...perfRace, lost]);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toMatch(/perf lost 17 events on CPU 0 \(PERF_RECORD_LOST\) \(t\.txt:4\)/);
    expect(r.verdict).toMatchObject({ gaps: 1, lostEvents: 17 });
    // a line that prints no CPU names no buffer: the losses may be anywhere before it
    const noCpu = (comm: string, pid: number, ts: string, body: string) => `${comm.padStart(16)} ${pid} ${ts}: ${body}`;
    const far = await go([
      noCpu('reader', 10, '1.000001', `filemap:${add(0x10)}`),
      noCpu('mapper', 11, '1.000002', `probe:${rmapAdd(0x10)}`),
      noCpu('dropper', 12, '1.000003', `filemap:${del(0x10)}`),
      noCpu('x', 13, '1.000004', `filemap:${add(0x20, 0, '2b')}`),
      noCpu('perf', 999, '1.000005', 'PERF_RECORD_LOST lost 2'),
    ]);
    expect(far.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
  });

  it('a task that enters a probed function again before the trace shows it return lost that return: a gap between the two entries', async () => {
    // a kretprobe fires only where its entry got a free instance (maxactive, 6.1 kernel/kprobes.c
    // pre_handler_kretprobe), and a ring buffer that does not overwrite drops events without a mark:
    // the return, and what else its CPU recorded then (the mapper's unmap, say), are missing
    const fault = (ts: string) => line('mapper-11', 0, ts, 'p_filemap_fault_0: (filemap_fault+0x0/0x5a0) arg1=0xffffc90000abfd98');
    const faultRet = (ts: string) => line('mapper-11', 0, ts, 'r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) arg1=0x204');
    const mapped = [fault('1.000001'), line('reader-10', 0, '1.000002', add(0x10)), faultRet('1.000003'), line('mapper-11', 0, '1.000004', rmapAdd(0x10))];
    const drop = line('dropper-12', 1, '1.000020', del(0x10));
    const lost = await run([...mapped, fault('1.000010'), fault('1.000015'), drop]);
    expect(lost.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(lost.findings[0]!.explanation).toContain('mapper-11 entered filemap_fault again at line 9 while its call at line 8 had not returned');
    expect([lost.verdict.gaps, lost.verdict.lostEvents, lost.stats.missedReturns]).toEqual([1, 1, 1]);
    expect(lost.warnings.join('\n')).toContain('1 return of probed functions was lost');
    // each call returned: certain, no gap
    const paired = await run([...mapped, fault('1.000010'), faultRet('1.000012'), fault('1.000015'), drop]);
    expect(paired.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    expect([paired.verdict.gaps, paired.stats.missedReturns]).toEqual([0, undefined]);
    // two probes on the function's entry both fire on every call; a probe inside it may fire more than once a call
    const second = (ts: string) => line('mapper-11', 0, ts, 'myfault: (filemap_fault+0x0/0x5a0) arg1=0xffffc90000abfd98');
    const inside = (ts: string) => line('mapper-11', 0, ts, 'p_filemap_fault_1: (filemap_fault+0x1c4/0x5a0) arg1=0xffffc90000abfd98');
    const twoProbes = await run([...mapped, fault('1.000010'), second('1.000010'), faultRet('1.000012'), inside('1.000015'), inside('1.000016'), drop], {
      probes: parseProbeMap('probes:\n  myfault: { op: fault_begin }\n  p_filemap_fault_1: { op: fault_begin }\n', 'p.yaml'),
      probesSource: 'p.yaml',
    });
    expect(twoProbes.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    expect(twoProbes.verdict.gaps).toBe(0);
    // on x86 a probe on the entry of a function that starts with ENDBR64 sits at +4: still the entry
    const endbr = (ts: string) => line('mapper-11', 0, ts, 'p_filemap_fault_0: (filemap_fault+0x4/0x5a0) arg1=0xffffc90000abfd98');
    const ibt = await run([...mapped, endbr('1.000010'), endbr('1.000015'), drop]);
    expect([ibt.findings[0]!.certainty, ibt.verdict.gaps]).toEqual(['uncertain', 1]);
    // a trace that shows no return of the function probed its entries alone: nothing was lost
    const entries = await run([...mapped.filter((l) => !l.includes('r_filemap_fault')), fault('1.000010'), fault('1.000015'), drop]);
    expect(entries.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    expect(entries.verdict.gaps).toBe(0);
    // entered twice before the trace shows its first return: counted when that return comes. The
    // first invalidate's return 0 would have promised index 0 coherent, and the fault after it then
    // served the page it left cached (stale-data); without it, finding nothing is not a clean run
    const inv = (ts: string, start: number) =>
      line(
        'dio-13',
        1,
        ts,
        `p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x3a0) arg1=0xffff8880 arg2=0x${start} arg3=0x${start} ino=42 dev=8388624`,
      );
    const invRet = (ts: string) =>
      line('dio-13', 1, ts, 'r_invalidate_inode_pages2_range_0: (generic_file_direct_write+0x9c/0x1e0 <- invalidate_inode_pages2_range) arg1=0x0');
    const served = [line('mapper-11', 0, '1.000040', setPte(0x10)), line('mapper-11', 0, '1.000041', rmapAdd(0x10))];
    const whole = await run([
      line('reader-10', 0, '1.000001', add(0x10)),
      inv('1.000010', 0),
      invRet('1.000011'),
      inv('1.000020', 5),
      invRet('1.000021'),
      ...served,
    ]);
    expect(whole.findings.map((f) => [f.rule, f.certainty])).toEqual([['stale-data', 'certain']]);
    const missed = await run([line('reader-10', 0, '1.000001', add(0x10)), inv('1.000010', 0), inv('1.000020', 5), invRet('1.000021'), ...served]);
    expect(missed.findings).toEqual([]);
    expect([missed.verdict.gaps, missed.verdict.lostEvents, missed.stats.missedReturns]).toEqual([1, 1, 1]);
    expect(missed.warnings.join('\n')).toContain('(the first: t.txt:6)');
  });

  it("a gap on an involved CPU after the page's sync point makes a finding uncertain", async () => {
    const r = await run([race[0]!, race[1]!, 'CPU:1 [LOST 4 EVENTS]', race[2]!]);
    expect(r.findings[0]!.certainty).toBe('uncertain');
    expect(r.findings[0]!.explanation).toContain('t.txt:6');
  });

  it('a page touched on more CPUs than replay keeps: a gap on any CPU makes its finding uncertain', async () => {
    // mapped from CPUs 0..69: replay keeps the first 64 CPUs of a page's life and cites its last 4 maps,
    // so CPU 64 is neither kept (1, 0, 2..63) nor cited (66..69) — its lost events were ignored and the finding read certain
    const maps = Array.from({ length: 70 }, (_, c) => line(`m-${100 + c}`, c, `1.${String(100 + c).padStart(6, '0')}`, rmapAdd(0x10)));
    const r = await run([line('reader-10', 1, '1.000001', add(0x10)), ...maps, 'CPU:64 [LOST 4 EVENTS]', line('dropper-12', 1, '2.000000', del(0x10))]);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toMatch(/LOST|lost/);
    // the same without the gap: certain
    const sure = await run([line('reader-10', 1, '1.000001', add(0x10)), ...maps, line('dropper-12', 1, '2.000000', del(0x10))]);
    expect(sure.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
  });

  it('a gap on a CPU that never touched the page makes its finding uncertain too; one that ends before the sync point does not', async () => {
    // a task on CPU 3 may have unmapped the page in the lost events (munmap's zap_pte_range runs
    // on the caller's CPU): this read certain, as if only the CPUs the trace shows on the page could
    const r = await run([
      race[0]!,
      race[1]!,
      line('idle-0', 3, '1.000003', sched),
      'CPU:3 [LOST 4 EVENTS]',
      line('idle-0', 3, '1.000004', sched),
      line('dropper-12', 1, '1.000005', del(0x10)),
    ]);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toMatch(/lost 4 events on CPU 3 \(t\.txt:\d+\) after how many PTEs mapped this page was last known/);
    // CPU 0 lost events before its add: they ran before the page's state became known
    expect((await run(['CPU:0 [LOST 4 EVENTS]', ...race])).findings[0]!.certainty).toBe('certain');
    // CPU 3's lost events ran before its event at 1.000000, before the page was added at 1.000001
    const before = await run([line('idle-0', 3, '0.999999', sched), 'CPU:3 [LOST 4 EVENTS]', line('idle-0', 3, '1.000000', sched), ...race]);
    expect(before.findings.map((f) => f.certainty)).toEqual(['certain']);
    // ... but not when that event prints the add's microsecond: the lost events may have run after the add
    const tied = await run([line('idle-0', 3, '1.000000', sched), 'CPU:3 [LOST 4 EVENTS]', line('idle-0', 3, '1.000001', sched), ...race]);
    expect(tied.findings.map((f) => f.certainty)).toEqual(['uncertain']);
  });

  it("a gap is over for another CPU's events only past its CPU's next event's time, not at a tie with it", async () => {
    // CPU 2 lost events before its next event at 1.000003; CPU 1 removed the page in that same
    // microsecond, so the lost events (a re-add of the page, say) may have run after the removal,
    // and CPU 0's later mapping need not be of a removed page — it read certain
    const tied = [
      line('reader-10', 0, '1.000001', add(0x10)),
      'CPU:2 [LOST 4 EVENTS]',
      line('other-30', 2, '1.000003', add(0x20, 5)),
      line('dropper-12', 1, '1.000003', del(0x10)),
      line('mapper-11', 0, '1.000005', rmapAdd(0x10)),
    ];
    const r = await run(tied);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['orphan-page-mapped', 'uncertain']]);
    expect(r.findings[0]!.explanation).toMatch(/lost 4 events on CPU 2 .* after whether this page was in the page cache was last known/);
    // the removal a microsecond later: after every event CPU 2 lost
    const later = await run([...tied.slice(0, 3), line('dropper-12', 1, '1.000004', del(0x10)), tied[4]!]);
    expect(later.findings.map((f) => [f.rule, f.certainty])).toEqual([['orphan-page-mapped', 'certain']]);
    // and the removal by CPU 2 itself, in the same microsecond: its own ring buffer orders it after the lost events
    const own = await run([...tied.slice(0, 3), line('dropper-12', 2, '1.000003', del(0x10)), tied[4]!]);
    expect(own.findings.map((f) => [f.rule, f.certainty])).toEqual([['orphan-page-mapped', 'certain']]);
  });

  it('a gap on no CPU is over only past the time of its own event, or of the next event: not at a tie with it', async () => {
    // CPU 1 removed the page in the same microsecond as the first event after the gap; the event
    // the gap hides (a re-add of the page, say) may have run after the removal, so CPU 0's later
    // mapping need not be of a removed page — it read certain
    const around = (gap: string[], delTs = '1.000003') => [
      line('reader-10', 0, '1.000001', add(0x10)),
      ...gap,
      line('other-30', 2, '1.000003', add(0x20, 5)),
      line('dropper-12', 1, delTs, del(0x10)),
      line('mapper-11', 0, '1.000005', rmapAdd(0x10)),
    ];
    const certainty = async (lines: string[]) => (await run(lines)).findings.map((f) => [f.rule, f.certainty]);
    // a line no reader understood: its event ran on some CPU at or before 1.000003
    expect(await certainty(around(['this line is not a trace line']))).toEqual([['orphan-page-mapped', 'uncertain']]);
    expect(await certainty(around(['this line is not a trace line'], '1.000004'))).toEqual([['orphan-page-mapped', 'certain']]);
    // an add replay cannot use (no pfn): it names no page, so it may have been this one, at 1.000003
    const unusable = line('other-31', 3, '1.000003', 'mm_filemap_add_to_page_cache: dev 8:16 ino 2a ofs=0 order=0');
    const alone = [
      line('reader-10', 0, '1.000001', add(0x10)),
      unusable,
      line('dropper-12', 1, '1.000003', del(0x10)),
      line('mapper-11', 0, '1.000005', rmapAdd(0x10)),
    ];
    expect(await certainty(alone)).toEqual([['orphan-page-mapped', 'uncertain']]);
    // ... at 1.000002, before the removal: the mapping is of a removed page whatever it did
    expect(await certainty([alone[0]!, unusable.replace('1.000003', '1.000002'), ...alone.slice(2)])).toEqual([['orphan-page-mapped', 'certain']]);
  });

  it("a gap replayed ahead of a group of tied events is not ended by its own CPU's event before it in that group", async () => {
    // CPU 2 adds pfn 0x10, loses an event (its removal, say), and adds it again later; the
    // microsecond of the add ties with CPU 1's event, and the gap, replayed ahead of the group,
    // was ended by that very add: "added again without being removed" read certain
    const r = await run([
      line('a-12', 2, '1.000006', add(0x10)),
      'CPU:2 [LOST 1 EVENTS]',
      line('a-12', 2, '1.000006', add(0x11, 1)),
      line('b-11', 1, '1.000006', add(0x12, 2)),
      line('a-12', 2, '1.000014', add(0x10)),
    ]);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['trace-inconsistent', 'uncertain']]);
  });

  it("a gap printed after a finding hides events from its CPU's previous event on: the finding made in between becomes uncertain", async () => {
    // the kernel prints `CPU:N [LOST M EVENTS]` before CPU N's next event (trace.c print_trace_line):
    // CPU 0's lost events ran after its map at 1.000002 and may have unmapped the page before
    // CPU 1 removed it at 1.000003 — but the mark comes after the removal, which read certain
    const r = await run([...race, 'CPU:0 [LOST 4 EVENTS]', line('mapper-11', 0, '1.000005', sched)]);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toMatch(/lost 4 events on CPU 0 \(t\.txt:\d+\): the events it hides may have run before this was judged/);
    // CPU 0 showed an event after the removal before it lost events: they ran after the finding
    const after = await run([...race, line('mapper-11', 0, '1.000004', sched), 'CPU:0 [LOST 4 EVENTS]', line('mapper-11', 0, '1.000005', sched)]);
    expect(after.findings.map((f) => f.certainty)).toEqual(['certain']);
    // under --clock-skew the CPUs' times agree only within the skew: an event 1 µs after the removal on CPU 0 may have run before it
    const skewed = await run([...race, line('mapper-11', 0, '1.000004', sched), 'CPU:0 [LOST 4 EVENTS]', line('mapper-11', 0, '1.000005', sched)], {
      clockSkew: 1000n,
    });
    expect(skewed.findings.map((f) => f.certainty)).toEqual(['uncertain']);
  });

  it("a gap lasts until its CPU's next event: events lost before the trace's first line may still have run after the sync point", async () => {
    // CPU 1 shows nothing before its removal, so the lost events may lie anywhere before it:
    // after the map, say, unmapping the page (each CPU's ring buffer wraps on its own)
    const r = await run(['CPU:1 [LOST 4 EVENTS]', ...race]);
    expect(r.findings[0]!.certainty).toBe('uncertain');
  });

  it('per fact: a removal after the lost events re-establishes that the page left the cache, a mapcount does not', async () => {
    // CPU 1 lost events, then removed the page; CPU 0 maps it afterwards: orphan, certain
    const removedAfterGap = await run([
      line('reader-10', 0, '1.000001', add(0x10)),
      'CPU:1 [LOST 4 EVENTS]',
      line('w-20', 1, '1.000003', del(0x10)),
      line('mapper-11', 0, '1.000005', rmapAdd(0x10)),
    ]);
    expect(removedAfterGap.findings.map((f) => [f.rule, f.certainty])).toEqual([['orphan-page-mapped', 'certain']]);
    // CPU 0 lost events after the removal, then an event carries the page's mapcount: the
    // mapcount says nothing about whether the lost events re-added the pfn to the cache
    const mapcountAfterGap = await run([
      line('reader-10', 0, '1.000001', add(0x10)),
      line('w-20', 1, '1.000003', del(0x10)),
      'CPU:0 [LOST 4 EVENTS]',
      line('mapper-11', 0, '1.000005', `${rmapAdd(0x10)} mapcount=-1`),
    ]);
    expect(mapcountAfterGap.findings.map((f) => f.certainty)).toEqual(mapcountAfterGap.findings.map(() => 'uncertain'));
    expect(mapcountAfterGap.findings.some((f) => f.rule === 'orphan-page-mapped')).toBe(true);
  });

  it('an event later than the reorder window is replayed in arrival order, counted, and makes its CPU uncertain', async () => {
    const late = [
      race[0]!,
      race[1]!,
      line('x-1', 0, '1.000010', 'sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120'),
      line('r-9', 0, '1.000011', add(0x30, 1)),
      line('r-9', 0, '1.000012', add(0x31, 2)),
      line('dropper-12', 1, '1.000003', del(0x10)), // printed after CPU 0 moved on by more than the window
    ];
    const r = await run(late, { reorderWindow: 1 });
    expect(r.stats.lateEvents).toBe(1);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toContain('reorder window');
    expect(r.warnings.join('\n')).toContain('arrived after the reorder window');
    const wide = await run(late);
    expect(wide.stats.lateEvents).toBe(0);
    expect(wide.findings.map((f) => f.certainty)).toEqual(['certain']);
  });

  it('late events are counted as the gaps they are, so a run with no finding is not read as clean', async () => {
    // one corrupt timestamp (1e20 s) on the add: CPU 0's later events come "back in time" and are replayed
    // late. On fixtures/diff/race the race was then not found, and the verdict said clean with 0 gaps.
    const garbled = [line('reader-10', 0, '99999999999999999999.000000', add(0x10)), race[1]!, race[2]!];
    const r = await run(garbled);
    expect(r.stats.lateEvents).toBeGreaterThan(0);
    expect(r.verdict.gaps).toBe(r.stats.lateEvents);
    expect(r.stats.gaps).toBe(r.stats.lateEvents);
  });

  it("an unparseable line may hide any CPU's events", async () => {
    const r = await run([race[0]!, race[1]!, 'this is not a trace line', race[2]!]);
    expect(r.stats.gaps).toBe(1);
    expect(r.findings[0]!.certainty).toBe('uncertain');
  });
});

describe('explorer traces', () => {
  const header = ['# kreplay: explore scenario=odirect-vs-fault flavor=linux-2.6.15 schedule=0,1,1,0'];
  const ex = (t: number, name: string, k: number, body: string) =>
    `${name.padStart(16)}-${String(100 + t).padEnd(7)} [${String(t).padStart(3, '0')}] ..... ${(1 + k / 1e6).toFixed(6).padStart(11)}: ${body}`;
  const cex = [
    ex(0, 'fault', 1, 'tracing_mark_write: kreplay:fault_begin dev=0:5 ino=2a index=0 addr=0x10000'),
    ex(1, 'odirect', 2, 'tracing_mark_write: kreplay:invalidate_begin fn=invalidate_inode_pages2_range dev=0:5 ino=2a start=0 end=0'),
    ex(1, 'odirect', 3, 'tracing_mark_write: kreplay:step label="lock_page(page) \\"P0\\""'),
    ex(1, 'odirect', 4, 'mm_filemap_delete_from_page_cache: dev 0:5 ino 2a pfn=0x3 ofs=0 order=0'),
    ex(1, 'odirect', 5, 'tracing_mark_write: kreplay:invalidate_end fn=invalidate_inode_pages2_range dev=0:5 ino=2a ret=0'),
    ex(0, 'fault', 6, 'tracing_mark_write: kreplay:pte_map dev=0:5 ino=2a index=0 pfn=0x3 addr=0x10000'),
    ex(0, 'fault', 7, 'tracing_mark_write: kreplay:fault_end dev=0:5 ino=2a index=0 ret=0'),
  ];

  it('are recognised by their header and replay to the race they show', async () => {
    // no --trace-clock: the header says what its timestamps are (the schedule's steps, one count for all CPUs)
    const r = await run(cex, { vmemmapBase: undefined, traceClock: undefined }, header);
    expect(r.trace).toMatchObject({ kernel: 'explore', clock: 'counter', clockFrom: 'recorded' });
    expect(r.trace.kernelReason).toMatch(/header/);
    expect(r.findings.map((f) => [f.rule, f.file, f.index, f.certainty])).toEqual([
      ['orphan-page-mapped', '0:5/2a', 0, 'certain'],
      ['stale-after-invalidate', '0:5/2a', 0, 'certain'],
    ]);
    expect(r.stats.byOp.marker).toBe(1);
    expect(r.findings[0]!.explanation).toContain('fault-100 on CPU 0');
  });

  // A PTE probe may fetch a page's file and not its index (a user's probe map): the page was adopted
  // with its index unknown, and the next event naming the index read as another slot — a certain
  // orphan-page-mapped and a trace-inconsistent warning on a trace that shows neither
  it('a page first named by its file alone takes its index from the next event that names it, without a finding', async () => {
    const named = [
      ex(0, 'fault', 1, 'tracing_mark_write: kreplay:pte_map dev=0:5 ino=2a pfn=0x3 addr=0x10000'),
      ex(1, 'other', 2, 'tracing_mark_write: kreplay:pte_map dev=0:5 ino=2a index=0 pfn=0x3 addr=0x20000'),
      ex(1, 'other', 3, 'mm_filemap_delete_from_page_cache: dev 0:5 ino 2a pfn=0x3 ofs=0 order=0'),
    ];
    const rules = async (lines: string[]) =>
      (await run(lines, { vmemmapBase: undefined, traceClock: undefined }, header)).findings.map((f) => [f.rule, f.index, f.certainty]);
    // mapped twice (or once), then removed while mapped: that race only
    expect(await rules(named)).toEqual([['mapped-page-removed', 0, 'certain']]);
    expect(await rules([named[0]!, named[2]!])).toEqual([['mapped-page-removed', 0, 'certain']]);
    // control: when another page is the cache's page for that index, the PTE still maps an orphan
    const other = ex(0, 'reader', 0, 'mm_filemap_add_to_page_cache: dev 0:5 ino 2a pfn=0x4 ofs=0 order=0');
    expect((await rules([other, ...named.slice(0, 2)])).map(([rule]) => rule)).toEqual(['orphan-page-mapped']);
    const r = await run([other, ...named.slice(0, 2)], { vmemmapBase: undefined, traceClock: undefined }, header);
    expect(r.findings[0]!.message).toContain('pfn 0x3 (ino 0x2a on 0:5, index unknown)');
  });

  it('a line after a marker that does not parse is an unusable line: a gap that makes the findings uncertain, never part of the marker', async () => {
    // joined to the pte_map marker before, its index=1 replaced the marker's index=0: the page
    // was mapped at index 1, and both findings moved there, certain
    const stray = [...cex.slice(0, 6), 'index=1', ...cex.slice(6)];
    const r = await run(stray, { vmemmapBase: undefined, traceClock: undefined }, header);
    expect(r.findings.map((f) => [f.rule, f.file, f.index, f.certainty])).toEqual([
      ['orphan-page-mapped', '0:5/2a', 0, 'uncertain'],
      ['stale-after-invalidate', '0:5/2a', 0, 'uncertain'],
    ]);
    expect(r.stats.gaps).toBe(1);
    expect(r.findings[0]!.explanation).toMatch(/Uncertain: .*\(t\.txt:11\)/);
  });

  it('a marker whose text holds a line break (a trace.dat keeps one write whole) is unusable, not read past it', async () => {
    const r = await run(cex, { vmemmapBase: undefined, traceClock: undefined }, header);
    const events = parseTraceString(text(cex, header), { source: 't.txt' });
    const pte = events.find((e) => e.type === 'event' && String(e.fields.buf).startsWith('kreplay:pte_map'));
    (pte as { fields: { buf: string } }).fields.buf += '\nindex=1';
    const joined = await replay(events, { source: 't.txt' });
    expect(joined.findings.map((f) => f.index)).not.toContain(1);
    expect(r.stats.unusableEvents).toEqual({});
    expect(joined.stats.unusableEvents).toEqual({ 'print: a kreplay marker is one line, but this one holds a line break (its writer escapes them as \\n)': 1 });
    expect(joined.verdict.unusableEvents).toBe(1);
  });

  it('a marker that names a key twice is unusable: neither value is taken for the op', async () => {
    // the later index=1 replaced the earlier index=0: the page was mapped at index 1, and both
    // findings moved there, certain
    const twice = cex.map((l) => (l.includes('kreplay:pte_map') ? `${l} index=1` : l));
    const r = await run(twice, { vmemmapBase: undefined, traceClock: undefined }, header);
    expect(r.findings.map((f) => f.index)).not.toContain(1);
    expect(r.findings.every((f) => f.certainty === 'uncertain')).toBe(true);
    expect(r.stats.unusableEvents).toEqual({
      'print: a kreplay marker names each key once, but this one names index= twice (which value is meant cannot be told)': 1,
    });
  });

  it('--kernel linux-6.1 on an explorer trace does not know its markers', async () => {
    const r = await run(cex, { kernel: 'linux-6.1', traceClock: undefined }, header);
    expect(r.findings).toEqual([]);
    expect(r.stats.unknownByEvent.print).toBe(6);
  });
});

describe('a trace that does not name its clock', () => {
  // tracefs's trace_clock and trace-cmd record default to `local`, and perf record stamps with
  // perf_clock() = local_clock(): an unnamed clock is most likely one that orders no two CPUs' events
  const unnamed = (lines: string[], opts: ReplayOptions = {}, header: string[] = []) => run(lines, { traceClock: undefined, ...opts }, header);
  const PTE_RULES = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data'];

  it('is read as per CPU: a finding across CPUs is uncertain and the rules that judge across CPUs are not judged', async () => {
    const r = await unnamed(race);
    expect(r.trace).toMatchObject({ clock: undefined, clockFrom: 'unknown' });
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'uncertain']]);
    expect(r.findings[0]!.explanation).toMatch(
      /Uncertain: the trace does not name its trace clock; tracefs's, trace-cmd's and perf's default is per CPU .*\(t\.txt\)/,
    );
    expect((r.verdict.unjudged ?? []).map((u) => u.rule)).toEqual(expect.arrayContaining(PTE_RULES.filter((x) => x !== 'stale-after-invalidate')));
    expect(r.warnings.join('\n')).toMatch(/pass --trace-clock NAME/);
    // no finding on such a trace is not a pass: the rules are not judged
    const quiet = await unnamed(race.slice(0, 2).concat(line('dropper-12', 1, '1.000003', add(0x20, 1))));
    expect(quiet.verdict.status).toBe('clean');
    expect((quiet.verdict.unjudged ?? []).map((u) => u.rule)).toContain('orphan-page-mapped');
  });

  it('names no empty list of rules when every rule judged across CPUs is unjudged already', async () => {
    // fixtures/parser/nop-4col-tgid.trace: two CPUs, no PTE event: the warning read "finding none of  is not a pass"
    const { replayFile } = await import('@kreplay/replay');
    const r = await replayFile(new URL('../../../fixtures/parser/nop-4col-tgid.trace', import.meta.url).pathname);
    const w = r.warnings.find((x) => x.includes('does not name its trace clock'));
    expect(w).toMatch(/every finding is uncertain \(if you know the clock/);
    expect(r.warnings.join('\n')).not.toMatch(/none of {2}/);
  });

  it('on one CPU nothing depends on the clock', async () => {
    const r = await unnamed([race[0]!, race[1]!, line('dropper-12', 0, '1.000003', del(0x10))]);
    expect(r.findings.map((f) => [f.rule, f.certainty])).toEqual([['mapped-page-removed', 'certain']]);
    expect((r.verdict.unjudged ?? []).map((u) => u.reason).join('\n')).not.toMatch(/clock/);
  });

  it('--trace-clock names it: a clock that orders CPUs makes the finding certain, a per-CPU one does not', async () => {
    const mono = await unnamed(race, { traceClock: 'mono' });
    expect(mono.trace).toMatchObject({ clock: 'mono', clockFrom: 'flag' });
    expect(mono.findings.map((f) => f.certainty)).toEqual(['certain']);
    expect((mono.verdict.unjudged ?? []).map((u) => u.reason).join('\n')).not.toMatch(/clock/);
    const local = await unnamed(race, { traceClock: 'local' });
    expect(local.trace).toMatchObject({ clock: 'local', clockFrom: 'flag' });
    expect(local.findings.map((f) => f.certainty)).toEqual(['uncertain']);
    expect(local.findings[0]!.explanation).toMatch(/the trace clock `local` is kept per CPU/);
  });

  it('--clock-skew bounds it instead: events of different CPUs that close are searched', async () => {
    // 1 µs apart on different CPUs: within a 2 µs skew the removal may have run first
    const r = await unnamed(race, { clockSkew: 2000n });
    expect(r.trace.clockFrom).toBe('unknown');
    expect(r.stats.ties.searched).toBeGreaterThan(0);
    expect(r.verdict.unjudged?.map((u) => u.reason).join('\n') ?? '').not.toMatch(/does not name its trace clock/);
  });

  it("the trace's own record and meta.json come first; a --trace-clock that contradicts them is an input error", async () => {
    const meta = { buffer: { clock: 'global' } };
    const m = await unnamed(race, { meta });
    expect(m.trace).toMatchObject({ clock: 'global', clockFrom: 'meta' });
    expect(m.findings.map((f) => f.certainty)).toEqual(['certain']);
    expect((await unnamed(race, { meta, traceClock: 'global' })).trace).toMatchObject({ clock: 'global', clockFrom: 'meta' });
    const e = await unnamed(race, { meta, metaSource: 'm/meta.json', traceClock: 'local' }).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({
      file: 'm/meta.json',
      message: expect.stringMatching(/--trace-clock local contradicts the trace clock `global` meta\.json's buffer\.clock names/),
    });
    const bad = await unnamed(race, { traceClock: 'monotonic' }).catch((x: unknown) => x);
    expect(isInputError(bad)).toBe(true);
    expect((bad as { hint: string }).hint).toMatch(/local, global, counter, uptime, perf, mono, mono_raw, boot, tai, x86-tsc/);
  });

  it("perf script's header names the clock perf record -k chose; without it the clock is perf_clock(), unnamed", async () => {
    // tools/perf/util/header.c print_clock_data: `# clockid: %s (%u)` with clockid_name()'s name
    const headed = (clockLine: string) =>
      ['# ========', '# captured on    : Sat Dec  5 12:00:00 2026', clockLine, '# ========', '#', ...perfRace].join('\n') + '\n';
    const go = (t: string, o: ReplayOptions = {}) =>
      replay(parseTraceString(t, { source: 'p.txt' }), { source: 'p.txt', vmemmapBase, perfLostEventsShown: true, ...o });
    const mono = await go(headed('# clockid: monotonic (1)'));
    expect(mono.trace).toMatchObject({ clock: 'mono', clockFrom: 'recorded' });
    expect(mono.findings.map((f) => f.certainty)).toEqual(['certain']);
    const raw = await go(headed('# clockid: monotonic_raw (4)'));
    expect(raw.trace).toMatchObject({ clock: 'mono_raw', clockFrom: 'recorded' });
    // CLOCK_REALTIME can be set back: it orders nothing
    const real = await go(headed('# clockid: realtime (0)'));
    expect(real.findings.map((f) => f.certainty)).toEqual(['uncertain']);
    const disabled = await go(headed('# reference time disabled'));
    expect(disabled.trace.clockFrom).toBe('unknown');
    expect(disabled.findings.map((f) => f.certainty)).toEqual(['uncertain']);
    const e = await go(headed('# clockid: monotonic (1)'), { traceClock: 'local' }).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({ file: 'p.txt', line: 3 });
  });

  it('the JSON result says where the clock came from', async () => {
    const j = JSON.parse(formatJson(await unnamed(race), { timing: false })) as { trace: { clock?: string; clockFrom: string } };
    expect(j.trace).toMatchObject({ clockFrom: 'unknown' });
    expect(j.trace.clock).toBeUndefined();
    const k = JSON.parse(formatJson(await unnamed(race, { traceClock: 'boot' }), { timing: false })) as { trace: { clock?: string; clockFrom: string } };
    expect(k.trace).toMatchObject({ clock: 'boot', clockFrom: 'flag' });
  });
});

describe('input errors', () => {
  it('an unknown --kernel names the choices', async () => {
    const e = await run(race, { kernel: 'linux-9.9' }).catch((x: unknown) => x);
    expect(isInputError(e)).toBe(true);
    expect((e as { hint: string }).hint).toContain('linux-6.1');
  });

  it('a bad probe map names its file and line', () => {
    let e: unknown;
    try {
      parseProbeMap('probes:\n  x:\n    op: not_an_op\n', 'bad.yaml');
    } catch (x) {
      e = x;
    }
    expect(isInputError(e)).toBe(true);
    expect(e).toMatchObject({ file: 'bad.yaml', line: 3 });
  });

  it('meta.json naming a kernel without a probe map falls back to linux-6.1 and says so', async () => {
    const r = await run(race, { meta: { kernel: { release: '5.10.0-30-amd64' } } });
    expect(r.trace.kernel).toBe('linux-6.1');
    expect(r.warnings[0]).toContain('no probe map ships for kernel 5.10.0-30-amd64');
  });
});

describe('replayFile decodes only the payloads replay reads', () => {
  it('wants the events a probe map gives a meaning (by name, by probe site, by auto-generated name) and markers, not the rest', async () => {
    const want = await replayFieldsWanted({
      probes: parseProbeMap('probes:\n  my_rmap:\n    op: pte_map\n    args: { pfn: { field: p, as: page } }\n', 'p.yaml'),
    });
    expect(want).toBeDefined();
    const site = (kind: 'kprobe' | 'kretprobe', func: string) => ({ kind, func });
    expect(want!('mm_filemap_add_to_page_cache', undefined)).toBe(true);
    expect(want!('my_rmap', undefined)).toBe(true);
    expect(want!('rmap_add', site('kprobe', 'page_add_file_rmap'))).toBe(true);
    expect(want!('r_filemap_fault_0', undefined)).toBe(true);
    expect(want!('print', undefined)).toBe(true);
    expect(want!('sched_switch', undefined)).toBe(false);
    expect(want!('p_schedule_0', undefined)).toBe(false);
    expect(want!('rmap_add', site('kprobe', 'do_wp_page'))).toBe(false);
  });
});

describe('the replay-JSON contract', () => {
  it('what the writer writes, the reader reads back: findings, counters, span and meta', async () => {
    const r = await run(race, { meta: { kernel: { release: '6.1.0-56-amd64' }, workload: { name: 'w', result: { mismatches: 2 } } } });
    expect(r.findings.length).toBeGreaterThan(0);
    const j = parseReplayJson(formatJson(r, { timing: false }), 'r.json');
    expect(j.version).toBe(1);
    expect(j.findings.map((f) => findingFromJson(f, 't.txt'))).toEqual(r.findings);
    expect(j.stats.events).toBe(r.stats.events);
    expect(BigInt(j.trace!.firstTs!)).toBe(r.trace.firstTs);
    expect(j.meta).toEqual(r.meta);
  });

  it('refuses replay JSON of another contract version, with its line', () => {
    expect(() => parseReplayJson('{\n  "tool": "kreplay replay",\n  "version": 2,\n  "findings": [],\n  "stats": { "events": 0 }\n}\n', 'v2.json')).toThrow(
      expect.objectContaining({ line: 3, message: expect.stringContaining('another version of kreplay') }),
    );
  });
});

describe('findings beyond maxFindings', () => {
  // every rule the engine raises, several times over, on two CPUs and with a tie: removed
  // while mapped, mapped after removal, added twice, removed twice, unmapped more than mapped
  const many: string[] = [];
  for (let k = 0; k < 6; k++) {
    const pfn = 0x100 + k;
    const t = (n: number) => `2.${String(k * 100 + n).padStart(6, '0')}`;
    many.push(
      line('reader-10', 0, t(1), add(pfn, k)),
      line('mapper-11', 0, t(2), rmapAdd(pfn)),
      line('dropper-12', 1, t(3), del(pfn, k)),
      line('mapper-11', 0, t(4), rmapAdd(pfn)),
      line('dropper-12', 1, t(5), del(pfn, k)),
      line('reader-10', 0, t(6), add(pfn + 0x40, k + 20)),
      line('reader-10', 1, t(6), add(pfn + 0x40, k + 20)),
      line('mapper-11', 0, t(7), rmapDel(pfn + 0x40)),
    );
  }

  /** The findings a run keeping at most `max` of each rule keeps: the first `max` of each rule, in replay order. */
  const firstOfEachRule = (all: Finding[], max: number): Finding[] => {
    const seen = new Map<string, number>();
    return all.filter((f) => {
      const n = seen.get(f.rule) ?? 0;
      seen.set(f.rule, n + 1);
      return n < max;
    });
  };

  it('are counted, not written: the kept ones are the first of each rule of a run that keeps them all', async () => {
    const all = await run(many);
    expect(all.stats.findingsDropped).toBe(0);
    expect(all.stats.findingsDroppedByRule).toBeUndefined();
    expect(new Set(all.findings.map((f) => f.rule)).size).toBeGreaterThanOrEqual(3);
    for (const max of [1, 5, all.findings.length - 1]) {
      const r = await run(many, { maxFindings: max });
      expect(r.findings).toEqual(firstOfEachRule(all.findings, max));
      expect(r.stats.findingsDropped).toBe(all.findings.length - r.findings.length);
      expect(r.verdict).toEqual({
        ...all.verdict,
        certain: r.findings.filter((f) => f.certainty === 'certain').length,
        uncertain: r.findings.filter((f) => f.certainty === 'uncertain').length,
      });
      // per rule, what a diff needs to know that a finding of it may be among them
      const count = (fs: Finding[]) => {
        const by = new Map<string, number>();
        for (const f of fs) by.set(f.rule, (by.get(f.rule) ?? 0) + 1);
        return by;
      };
      const kept = count(r.findings);
      const dropped = [...count(all.findings)].filter(([rule, n]) => n > kept.get(rule)!).map(([rule, n]) => [rule, n - kept.get(rule)!]);
      expect(r.stats.findingsDroppedByRule).toEqual(dropped.length ? Object.fromEntries(dropped) : undefined);
      const { findingsDroppedByRule: _, ...rest } = r.stats;
      expect({ ...rest, ms: 0, eventsPerSec: 0, findingsDropped: 0 }).toEqual({ ...all.stats, ms: 0, eventsPerSec: 0 });
    }
  });

  it("of one rule cannot crowd out another rule's: warnings past the cap leave an error kept, and the run fails", async () => {
    // trace-inconsistent warnings (a page added twice, removed twice) first, then one page removed while mapped
    const noise: string[] = [];
    for (let k = 0; k < 8; k++) {
      const t = (n: number) => `1.${String(k * 10 + n).padStart(6, '0')}`;
      noise.push(
        line('reader-10', 0, t(1), add(0x500 + k, 40 + k)),
        line('reader-10', 0, t(2), add(0x500 + k, 40 + k)),
        line('dropper-12', 1, t(3), del(0x500 + k, 40 + k)),
        line('dropper-12', 1, t(4), del(0x500 + k, 40 + k)),
      );
    }
    const error = [
      line('reader-10', 0, '3.000001', add(0x900, 90)),
      line('mapper-11', 0, '3.000002', rmapAdd(0x900)),
      line('dropper-12', 1, '3.000003', del(0x900, 90)),
    ];
    const all = await run([...noise, ...error]);
    expect(all.findings.filter((f) => f.rule === 'trace-inconsistent').length).toBeGreaterThan(8);
    expect(all.findings.filter((f) => f.severity === 'error').map((f) => f.rule)).toEqual(['mapped-page-removed']);
    const r = await run([...noise, ...error], { maxFindings: 8 });
    expect(r.stats.findingsDropped).toBeGreaterThan(0);
    expect(r.findings.filter((f) => f.severity === 'error').map((f) => f.rule)).toEqual(['mapped-page-removed']);
    expect(r.findings.some((f) => reachesFailOn(f.severity, 'error'))).toBe(true); // what the exit code and KTAP read
  });
});
