/**
 * replay's rules against a naive oracle written from their documentation only (docs/rules.md,
 * docs/replay.md "State", "Adoption", "Certainty", "Verdict", "Nested probes", "Entry/return
 * pairing"), not from the engine: small random Linux 6.1 traces as trace text (1–3 files, a
 * few pages and pfns, 1–2 CPUs, strictly increasing timestamps) mixing page-cache additions
 * and removals, faults, PTE maps (page_add_file_rmap, do_set_pte, both nested), zaps,
 * invalidate_inode_pages2_range and invalidate_mapping_pages calls, truncates, pfns freed and
 * reused, the capture workload's mismatch markers with its meta.json count, timestamp ties
 * only between operations that commute (so the answer is the untied one), and at a low rate
 * lost events, unreadable lines, unusable events, a CPU's events out of order and events that
 * contradict the trace. For each trace the oracle says the findings (rule, file, index, the
 * event that broke the rule, certainty), the rules not judged and the status, and `replay()`
 * must say the same; for a few seeds the CLI's JSON and exit code must say what the library says.
 *
 * Certainty: in a trace without holes every finding is certain; with holes (lost events,
 * unreadable lines, unusable events, late events), a finding is required to be uncertain when a
 * hole may hide an event between the last event that touched its page and the finding (the
 * lost-event oracle, gaps.test.ts, decides the rest), and on a per-CPU clock once operations
 * came from two CPUs.
 *
 * Where the documentation does not say what replay does (a trace that contradicts itself and
 * how replay "resynchronises on the trace's word") the oracle stops comparing findings at that
 * event and leaves the verdict alone; the count of such cases is asserted small.
 *
 * A fifth of the traces are written as an explorer counterexample is (docs/trace-format.md:
 * kreplay:pte_map markers naming the page's file and index, one per mapping, the clock a count).
 *
 * Search further: KREPLAY_RULES_SEEDS=a-b (KREPLAY_RULES_SUMMARY=1 lists the disagreements,
 * KREPLAY_RULES_SHOW=seed,... prints a case). Session 27 ran seeds 1-20000.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuleId } from '@kreplay/core';
import { parseTraceString } from '@kreplay/ftrace-parser';
import { replay, resolveReplayConfig, type ReplayOptions, type ReplayResult } from '@kreplay/replay';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const VM = 0xffffea0000000000n;
const ptr = (pfn: number) => `0x${(VM + BigInt(pfn) * 64n).toString(16)}`;

// ---------------------------------------------------------------------------------------------
// The trace: events as the generator makes them, and their lines.

/** Files: ino 0x2a, 0x2b, 0x2c on 8:16; `SHMEM` stands for a cache the trace does not show. */
const INOS = [0x2a, 0x2b, 0x2c];
const SHMEM = 0x99;
const fileOf = (f: number) => `8:16/${INOS[f]!.toString(16)}`;

type Kind =
  | 'add'
  | 'del'
  | 'rmap' // p_page_add_file_rmap_0
  | 'setpte' // p_do_set_pte_0 (address)
  | 'unmap' // p_page_remove_rmap_0
  | 'fault' // page_fault_user + p_filemap_fault_0
  | 'faultret'
  | 'inv2' // p_invalidate_inode_pages2_range_0
  | 'inv2ret'
  | 'imp' // p_invalidate_mapping_pages_0
  | 'impret'
  | 'trunc' // p_truncate_pagecache_0
  | 'truncret'
  | 'unmaprange'
  | 'noise' // sched_switch: unknown to the adapter
  | 'garbage' // a line cut short: unparseable
  | 'lost' // CPU:N [LOST M EVENTS] before this CPU's next line
  | 'unusable-nopage' // a page_add_file_rmap without its page: names no page
  | 'unusable-page' // a cache add of an order-1 folio at an odd pfn: names its page
  | 'mark'; // the workload's own mismatch marker (tracing_mark_write: kreplay: mismatch ...)

interface Ev {
  k: Kind;
  task: number;
  pfn?: number;
  file?: number; // index into INOS, or -1 for SHMEM
  index?: number;
  /** rmap/setpte: name the page's file and index (a probe that fetched them). */
  ident?: boolean;
  /** rmap/unmap: the page's _mapcount as read at entry (biased: -1 unmapped). */
  mapcount?: number;
  addr?: number;
  start?: number;
  end?: number;
  ret?: number;
  size?: number;
  /** The line's timestamp goes back from its CPU's previous one (a late event). */
  late?: boolean;
  /** The line prints the timestamp of the operation before it, on another CPU, when the two commute. */
  tie?: boolean;
  /** A map of a page that left the cache: where it was (an explorer trace names it: the model knows page->index). */
  was?: { f: number; i: number };
}

interface Task {
  comm: string;
  pid: number;
  cpu: number;
}

function tasksFor(cpus: number): Task[] {
  const t = (comm: string, pid: number, cpu: number): Task => ({ comm, pid, cpu: Math.min(cpu, cpus - 1) });
  return [t('mmapper', 210, 0), t('writer', 220, 1), t('truncate', 213, 1), t('fadvise', 211, 0), t('mapper2', 230, 1)];
}

const idArgs = (e: Ev) => (e.file === undefined || e.index === undefined ? '' : ` index=${e.index} ino=${e.file < 0 ? SHMEM : INOS[e.file]!} dev=8388624`);

function body(e: Ev): string {
  const ino = e.file === undefined ? '' : (e.file < 0 ? SHMEM : INOS[e.file]!).toString(16);
  const inoDec = e.file === undefined ? 0 : e.file < 0 ? SHMEM : INOS[e.file]!;
  const mc = e.mapcount === undefined ? '' : ` mapcount=${e.mapcount}`;
  const hex = (n: number) => (n < 0 ? `0x${(2n ** 64n + BigInt(n)).toString(16)}` : `0x${n.toString(16)}`);
  switch (e.k) {
    case 'add':
      return `mm_filemap_add_to_page_cache: dev 8:16 ino ${ino} pfn=0x${e.pfn!.toString(16)} ofs=${e.index! * 4096} order=0`;
    case 'del':
      return `mm_filemap_delete_from_page_cache: dev 8:16 ino ${ino} pfn=0x${e.pfn!.toString(16)} ofs=${e.index! * 4096} order=0`;
    case 'rmap':
      return `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg1=${ptr(e.pfn!)} arg2=0xffff888003b00000 arg3=0x0${e.ident ? idArgs(e) : ''}${mc}`;
    case 'setpte':
      return `p_do_set_pte_0: (do_set_pte+0x0/0x1a0) arg1=0xffffc90000abfd98 arg2=${ptr(e.pfn!)} arg3=${hex(e.addr!)}${e.ident ? idArgs(e) : ''}`;
    case 'unmap':
      return `p_page_remove_rmap_0: (page_remove_rmap+0x0/0x1c0) arg1=${ptr(e.pfn!)} arg2=0xffff888003b00000 arg3=0x0${mc}`;
    case 'fault':
      return `p_filemap_fault_0: (filemap_fault+0x0/0x5a0) arg1=0xffffc90000abfd98`;
    case 'faultret':
      return `r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) arg1=0x204`;
    case 'inv2':
      return `p_invalidate_inode_pages2_range_0: (invalidate_inode_pages2_range+0x0/0x2b0) arg1=0xffff888003a1c0f8 arg2=${hex(e.start!)} arg3=${hex(e.end!)} ino=${inoDec} dev=8388624`;
    case 'inv2ret':
      return `r_invalidate_inode_pages2_range_0: (kiocb_invalidate_post_direct_write+0x3a/0x70 <- invalidate_inode_pages2_range) arg1=${hex(e.ret!)}`;
    case 'imp':
      return `p_invalidate_mapping_pages_0: (invalidate_mapping_pages+0x0/0x20) arg1=0xffff888003a1c0f8 arg2=${hex(e.start!)} arg3=${hex(e.end!)} ino=${inoDec} dev=8388624`;
    case 'impret':
      return `r_invalidate_mapping_pages_0: (generic_fadvise+0x1c4/0x2a0 <- invalidate_mapping_pages) arg1=${hex(e.ret!)}`;
    case 'trunc':
      return `p_truncate_pagecache_0: (truncate_pagecache+0x0/0x60) arg1=0xffff888003a1c000 arg2=${hex(e.size!)} ino=${inoDec} dev=8388624`;
    case 'truncret':
      return `r_truncate_pagecache_0: (truncate_setsize+0x2b/0x40 <- truncate_pagecache) arg1=0x0`;
    case 'unmaprange':
      return `p_unmap_mapping_range_0: (unmap_mapping_range+0x0/0x150) arg1=0xffff888003a1c0f8 arg2=${hex(e.start! * 4096)} arg3=0x0 arg4=0x1 ino=${inoDec} dev=8388624`;
    case 'noise':
      return `sched_switch: prev_comm=x prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=y next_pid=2 next_prio=120`;
    case 'unusable-nopage':
      return `p_page_add_file_rmap_0: (page_add_file_rmap+0x0/0x150) arg2=0xffff888003b00000 arg3=0x0`;
    case 'unusable-page':
      return `mm_filemap_add_to_page_cache: dev 8:16 ino ${ino} pfn=0x${e.pfn!.toString(16)} ofs=${e.index! * 4096} order=1`;
    case 'mark':
      return `tracing_mark_write: kreplay: mismatch kind=map_stale index=${e.index} want=0x30000${e.index} got=0x20000${e.index}`;
    case 'garbage':
    case 'lost':
      return '';
  }
}

/** An event as an explorer trace writes it (docs/trace-format.md): markers, and the filemap tracepoints. */
function bodyExplore(e: Ev): string {
  const id = e.file === undefined ? '' : ` dev=8:16 ino=${(e.file < 0 ? SHMEM : INOS[e.file]!).toString(16)}`;
  const at = e.index === undefined ? '' : ` index=${e.index}`;
  const mark = (op: string, keys: string) => `tracing_mark_write: kreplay:${op}${keys}`;
  const end = (x: number | undefined) => (x === -1 ? 1000 : x);
  switch (e.k) {
    case 'rmap':
    case 'setpte':
      return mark('pte_map', `${e.ident ? id + at : ''} pfn=0x${e.pfn!.toString(16)}${e.addr === undefined ? '' : ` addr=0x${e.addr.toString(16)}`}`);
    case 'unmap':
      return mark('pte_unmap', ` pfn=0x${e.pfn!.toString(16)}`);
    case 'fault':
      return mark('fault_begin', '');
    case 'faultret':
      return mark('fault_end', ' ret=0');
    case 'inv2':
    case 'imp':
      return mark(
        'invalidate_begin',
        ` fn=${e.k === 'inv2' ? 'invalidate_inode_pages2_range' : 'invalidate_mapping_pages'}${id} start=${e.start} end=${end(e.end)}`,
      );
    case 'inv2ret':
      return mark('invalidate_end', ` fn=invalidate_inode_pages2_range ret=${e.ret}`);
    case 'impret':
      return mark('invalidate_end', ` fn=invalidate_mapping_pages ret=${e.ret}`);
    case 'trunc':
      return mark('truncate_begin', ` fn=truncate_pagecache${id} size=${e.size} start=${e.size! / 4096} end=1000`);
    case 'truncret':
      return mark('truncate_end', ' fn=truncate_pagecache ret=0');
    case 'unmaprange':
      return mark('unmap_range', ` fn=unmap_mapping_range${id} start=${e.start} end=1000`);
    case 'unusable-nopage':
      return mark('pte_map', ' dev=8:16 ino=2a index=0');
    default:
      return body(e);
  }
}

/** The trace text; `ts[i]` is event i's timestamp (µs after 1 s), or undefined for marks. */
function render(
  evs: Ev[],
  tasks: Task[],
  format: Case['format'] = 'ftrace',
): { text: string; ts: Array<number | undefined>; line: Array<number | undefined>; late: boolean[] } {
  const late: boolean[] = [];
  const out = ['# tracer: nop', '#', ...(format === 'explore' ? ['# kreplay: explore format=1 scenario=random flavor=linux-6.1 schedule=0', '#'] : [])];
  const ts: Array<number | undefined> = [];
  const lineNo: Array<number | undefined> = [];
  let t = 10;
  const lastOnCpu = new Map<number, number>();
  let lastCpu = -1;
  let lastOp: Ev | undefined;
  for (const e of evs) {
    const task = tasks[e.task]!;
    if (e.k === 'lost') {
      out.push(`CPU:${task.cpu} [LOST 2 EVENTS]`);
      late.push(false);
      ts.push(undefined);
      lineNo.push(undefined);
      continue;
    }
    const op = !['noise', 'garbage', 'unusable-nopage', 'unusable-page', 'mark'].includes(e.k);
    // a tie only where the answer is simple: two CPUs' operations that commute (one touches no page
    // and no file, or both are PTE changes of different pages that name no file)
    const quiet = (x: Ev) => ['fault', 'faultret'].includes(x.k);
    const pte = (x: Ev) => ['rmap', 'setpte', 'unmap'].includes(x.k) && !x.ident;
    const tied =
      op &&
      e.tie &&
      !e.late &&
      lastOp &&
      tasks[lastOp.task]!.cpu !== task.cpu &&
      (quiet(e) || quiet(lastOp) || (pte(e) && pte(lastOp) && e.pfn !== lastOp.pfn));
    if (!tied) t += 2;
    let at = t;
    // a late event: its timestamp goes back from its CPU's previous one (only when it has one)
    // and right after it, so that the merge of the CPUs' queues replays it where it is printed;
    // only page-cache operations count (the adapter drops other events before the sorter)
    if (op && e.late && lastCpu === task.cpu) at = lastOnCpu.get(task.cpu)! - 1;
    late.push(op && at < (lastOnCpu.get(task.cpu) ?? 0));
    if (op) {
      lastOp = e;
      lastCpu = task.cpu;
      lastOnCpu.set(task.cpu, Math.max(at, lastOnCpu.get(task.cpu) ?? 0));
    }
    const head = `${`${task.comm}-${task.pid}`.padStart(22)} [${String(task.cpu).padStart(3, '0')}] ..... ${`1.${String(at).padStart(6, '0')}`.padStart(12)}: `;
    if (e.k === 'garbage') out.push(head.slice(0, 30));
    else out.push(head + (format === 'explore' ? bodyExplore(e) : body(e)));
    ts.push(e.k === 'garbage' ? undefined : at);
    lineNo.push(out.length);
  }
  return { text: out.join('\n') + '\n', ts, line: lineNo, late };
}

// ---------------------------------------------------------------------------------------------
// The generator: a small world of pages, mostly consistent, with races and slips.

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  seed: number;
  cpus: number;
  clock: 'mono' | undefined;
  evs: Ev[];
  /** `explore`: written as `kreplay explore --trace-out` writes (its clock orders every CPU: `mono` here). */
  format: 'ftrace' | 'explore';
  /** meta.json's workload: its test file (ino 0x2a) and the mismatches it counted (the trace marks its first ones). */
  mismatches?: number;
}

function generate(seed: number): Case {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;
  const cpus = chance(0.5) ? 2 : 1;
  const files = 1 + Math.floor(r() * 3);
  const pfns = [0x10, 0x11, 0x12, 0x13, 0x14].slice(0, 2 + Math.floor(r() * 4));
  const n = 4 + Math.floor(r() * 16);
  const slips = chance(0.35); // holes and contradictions at a low rate
  const workload = chance(0.25); // a capture workload's meta.json, and its mismatch markers
  // the generator's own truth: pfn -> where it is cached, and PTE counts
  const cached = new Map<number, { f: number; i: number }>();
  const maps = new Map<number, number>();
  const removedAt = new Map<number, { f: number; i: number }>();
  const evs: Ev[] = [];
  const open = new Map<number, Kind>(); // task -> call open
  let lateNext = false;
  const slot = (f: number, i: number) => [...cached].find(([, c]) => c.f === f && c.i === i)?.[0];
  for (let s = 0; s < n; s++) {
    const before = evs.length;
    step();
    const first = evs[before];
    if (lateNext && first && first.k !== 'lost' && first.k !== 'garbage') {
      first.late = true;
      lateNext = false;
    }
  }
  function step(): void {
    const task = Math.floor(r() * 5);
    const f = Math.floor(r() * files);
    const i = Math.floor(r() * 3);
    const roll = r();
    if (open.has(task) && chance(0.5)) {
      const k = open.get(task)!;
      open.delete(task);
      if (k === 'inv2') evs.push({ k: 'inv2ret', task, ret: chance(0.8) ? 0 : -16 });
      else if (k === 'imp') evs.push({ k: 'impret', task, ret: Math.floor(r() * 2) });
      else if (k === 'trunc') evs.push({ k: 'truncret', task });
      else evs.push({ k: 'faultret', task });
      return;
    }
    if (roll < 0.2) {
      // add a page: a free pfn at an empty slot (or, slipping, anything)
      const free = pfns.filter((p) => !cached.has(p));
      const p = slips && chance(0.1) ? pick(pfns) : free.length ? pick(free) : undefined;
      if (p === undefined || (slot(f, i) !== undefined && !(slips && chance(0.2)))) return;
      evs.push({ k: 'add', task, pfn: p, file: f, index: i });
      if (!cached.has(p)) maps.set(p, 0);
      cached.set(p, { f, i });
      removedAt.delete(p);
    } else if (roll < 0.33) {
      // remove a cached page (mapped or not), or slipping, a page that is not
      if (!cached.size && !(slips && chance(0.3))) return;
      const p = slips && chance(0.1) ? pick(pfns) : pick([...cached.keys(), ...(cached.size ? [] : [pick(pfns)])]);
      const c = cached.get(p) ?? removedAt.get(p) ?? { f, i };
      evs.push({ k: 'del', task, pfn: p, file: c.f, index: c.i });
      cached.delete(p);
      removedAt.set(p, c);
    } else if (roll < 0.55) {
      // map a page: mostly a cached one; a removed one (a fault that found it before it left)
      const candidates = chance(0.75) ? [...cached.keys()] : [...removedAt.keys()];
      if (!candidates.length && !chance(0.2)) return;
      const p = candidates.length ? pick(candidates) : pick(pfns);
      const c = cached.get(p);
      const shmem = !c && removedAt.has(p) && chance(0.15);
      const ident = shmem || (c !== undefined && chance(0.5));
      const where = shmem ? { file: -1, index: 5 } : c ? { file: c.f, index: c.i } : {};
      const was = !c && !shmem ? removedAt.get(p) : undefined;
      const addr = 0x7f0000000000 + task * 0x100000000 + ((c?.f ?? 0) * 8 + (c?.i ?? 0)) * 4096;
      const mapcount = chance(0.15) ? (maps.get(p) ?? 0) - 1 + (chance(0.2) ? 1 : 0) : undefined;
      const style = r();
      if (style < 0.5) evs.push({ k: 'rmap', task, pfn: p, ident, ...where, mapcount, was });
      else if (style < 0.75) evs.push({ k: 'setpte', task, pfn: p, ident, ...where, addr, was });
      else evs.push({ k: 'setpte', task, pfn: p, ident, ...where, addr, was }, { k: 'rmap', task, pfn: p, ident, ...where, mapcount, was });
      maps.set(p, (maps.get(p) ?? 0) + 1);
      if (shmem) removedAt.delete(p);
    } else if (roll < 0.68) {
      const mapped = [...maps].filter(([, m]) => m > 0).map(([p]) => p);
      if (!mapped.length && !chance(0.2)) return;
      const p = mapped.length && !(slips && chance(0.15)) ? pick(mapped) : pick(pfns);
      const mapcount = chance(0.15) ? (maps.get(p) ?? 0) - 1 : undefined;
      evs.push({ k: 'unmap', task, pfn: p, mapcount });
      maps.set(p, Math.max(0, (maps.get(p) ?? 0) - 1));
    } else if (roll < 0.78) {
      if (open.has(task)) return;
      const whole = chance(0.3);
      const start = whole ? 0 : i;
      const end = whole ? -1 : i + Math.floor(r() * 2);
      if (chance(0.7)) {
        evs.push({ k: 'inv2', task, file: f, start, end });
        open.set(task, 'inv2');
      } else {
        evs.push({ k: 'imp', task, file: f, start, end });
        open.set(task, 'imp');
      }
    } else if (roll < 0.83) {
      if (open.has(task)) return;
      const size = Math.floor(r() * 3) * 4096;
      evs.push({ k: 'trunc', task, file: f, size }, { k: 'unmaprange', task, file: f, start: size / 4096 });
      open.set(task, 'trunc');
    } else if (roll < 0.88) {
      if (open.has(task)) return;
      evs.push({ k: 'fault', task });
      open.set(task, 'fault');
    } else if (roll < 0.89) {
      evs.push({ k: 'noise', task });
    } else if (roll < 0.9) {
      if (workload) evs.push({ k: 'mark', task, index: i });
    } else if (slips) {
      const what = pick(['lost', 'garbage', 'unusable-nopage', 'unusable-page', 'late'] as const);
      if (what === 'late') lateNext = true;
      else if (what === 'unusable-page') evs.push({ k: what, task, pfn: pick(pfns.filter((p) => p % 2 === 1)), file: f, index: 1 });
      else evs.push({ k: what, task });
    }
  }
  if (!slips) for (const e of evs) if (chance(0.4)) e.tie = true;
  const marks = evs.filter((e) => e.k === 'mark').length;
  const clock = chance(0.8) ? ('mono' as const) : undefined;
  const mismatches = workload ? { mismatches: marks + (chance(0.7) ? 0 : 1) } : {};
  // a fifth as the explorer writes its counterexamples (docs/trace-format.md): one pte_map marker per
  // mapping, naming the page's file and index (removed or not), its clock a count for every CPU
  if (chance(0.2)) return { seed, cpus, clock: 'mono', format: 'explore', evs: asExplorer(evs) };
  return { seed, cpus, clock, format: 'ftrace', evs, ...mismatches };
}

/** The same events as an explorer trace holds them: no probe pairs, no _mapcount, no workload markers. */
function asExplorer(evs: Ev[]): Ev[] {
  const out: Ev[] = [];
  for (const e of evs) {
    if (e.k === 'mark') continue;
    const prev = out[out.length - 1];
    // a line that does not parse right after a trace marker is read as the marker's next line
    // (multi-line markers, docs/replay.md session 27 "Left alone"): not a gap in an explorer trace,
    // whose operations are markers; such lines are left out here
    if (e.k === 'garbage' && prev && !['add', 'del', 'noise', 'unusable-page', 'lost', 'garbage'].includes(prev.k)) continue;
    if (e.k === 'rmap' && prev?.k === 'setpte' && prev.task === e.task && prev.pfn === e.pfn) continue;
    const x: Ev = { ...e, mapcount: undefined };
    if ((x.k === 'rmap' || x.k === 'setpte') && x.file === undefined && x.was) {
      x.file = x.was.f;
      x.index = x.was.i;
    }
    if (x.k === 'rmap' || x.k === 'setpte') x.ident = x.file !== undefined;
    out.push(x);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The oracle, from the documentation.

interface Expected {
  rule: RuleId;
  file: string | undefined;
  index: number | undefined;
  /** The event (position in evs) that broke the rule; `end` for end-of-trace judgements. */
  at: number | 'end';
  /** Must be uncertain (a hole may hide what it rests on); or must be certain (the trace has no hole at all). */
  certainty: 'certain' | 'uncertain' | 'either';
  why: string;
}
interface Oracle {
  findings: Expected[];
  /** Compare only findings judged before this event (the documentation is silent past it). */
  silentAt: number | undefined;
  silentWhy?: string;
  unjudged: Set<RuleId>;
  status: 'clean' | 'findings' | 'inconclusive';
  holes: boolean;
}

interface Life {
  id: number;
  /** The page-cache identity (file key, index); undefined when first seen through a probe that named none. */
  file?: string;
  index?: number;
  /** In the page cache; undefined when unknown (first seen through a PTE removal: anonymous, or a cache the trace does not show). */
  cached: boolean | undefined;
  /** Cached in a cache the trace does not show (shmem): it may leave it unseen. */
  unseen?: boolean;
  maps: number;
  /** The add of this life is in the trace (a page whose whole life is in the trace). */
  whole: boolean;
  /** Positions of the events that (re)established its cache / map facts, and every usable event on it. */
  touched: number[];
  /** PTE maps and removals the trace showed of this life, and whether a _mapcount set its count. */
  mapEvents?: number;
  unmapEvents?: number;
  mapcountKnown?: boolean;
  staleFrom?: number; // survived a successful invalidate_inode_pages2_range: the event that returned
  staleReported?: boolean;
  saiReported?: boolean;
}

function oracle(c: Case): Oracle {
  const tasks = tasksFor(c.cpus);
  const evs = c.evs;
  const rendered = render(evs, tasks, c.format);
  const out: Oracle = { findings: [], silentAt: undefined, unjudged: new Set(), status: 'clean', holes: false };
  const silent = (at: number, why: string) => {
    if (out.silentAt === undefined) {
      out.silentAt = at;
      out.silentWhy = why;
    }
  };
  let lifeIds = 0;
  const pages = new Map<number, Life>();
  const firstSeen = new Map<number, number>();
  const slots = new Map<string, number>(); // file key/index -> pfn cached there
  const slotKey = (file: string, index: number) => `${file}#${index}`;
  const promises: Array<{ file: string; start: number; end: number }> = [];
  const openCalls = new Map<number, { k: Kind; file?: string; start?: number; end?: number; at: number; cachedAtBegin: Map<number, number> }>();
  const lastAt = new Map<string, { pfn: number; life: number }>(); // pid/address -> the PTE installed there
  const lastNestable: Map<number, { k: 'map'; pfn: number; ev: Kind; pos: number }> = new Map();
  // holes: windows in which an event the trace does not show may have run (positions in evs)
  const windows: Array<{ from: number; to: number; why: string }> = [];
  const unusablePage: Array<{ pfn: number; at: number }> = [];
  const lateAt: number[] = [];
  const opCpus = new Set<number>();
  let ops = 0;
  let marks = 0;
  let deletes = 0;
  let pteChanges = 0;
  let promised = 0;
  let promisedUnknown = 0;
  const pointerPfns = new Set<number>();
  const printedPfns = new Set<number>();

  // positions of real events per CPU, for the windows of lost-event marks
  const cpuOf = (e: Ev) => tasks[e.task]!.cpu;
  const isEvent = (e: Ev) => e.k !== 'lost' && e.k !== 'garbage';
  for (let at = 0; at < evs.length; at++) {
    const e = evs[at]!;
    if (e.k === 'lost') {
      // printed right before CPU N's next event: lost events ran after its previous one
      const cpu = cpuOf(e);
      let prev = -1;
      for (let j = at - 1; j >= 0; j--)
        if (isEvent(evs[j]!) && cpuOf(evs[j]!) === cpu) {
          prev = j;
          break;
        }
      let next = evs.length;
      for (let j = at + 1; j < evs.length; j++)
        if (isEvent(evs[j]!) && cpuOf(evs[j]!) === cpu) {
          next = j;
          break;
        }
      windows.push({ from: prev, to: next, why: `lost events on CPU ${cpu}` });
      out.holes = true;
    } else if (e.k === 'garbage') {
      windows.push({ from: at - 1, to: at + 1, why: 'an unreadable line' });
      out.holes = true;
    } else if (rendered.late[at]) {
      // a late event is replayed in arrival order and "findings it touches are uncertain": it ran
      // after its CPU's previous event, at a time its timestamp does not tell
      out.holes = true;
    }
    if (isEvent(e) && !['noise', 'unusable-nopage', 'unusable-page', 'mark'].includes(e.k)) opCpus.add(cpuOf(e));
  }
  // On a per-CPU clock a gap never ends, and every finding judged before its mark is in doubt too
  // ("on a per-CPU clock without a skew, all of them"); once page-cache operations came from two
  // CPUs (anywhere in the trace) every finding is uncertain.
  const perCpu = c.clock === undefined;
  // (an unusable event that names its page is no gap: it puts that page's facts in doubt, nothing else)
  const anyHole = windows.length > 0 || evs.some((e) => e.k === 'unusable-nopage');
  if (perCpu && anyHole) windows.push({ from: -1, to: evs.length + 1, why: 'a hole on a per-CPU clock' });

  const lifeOf = (pfn: number, at: number, cached: boolean | undefined = true): Life => {
    let l = pages.get(pfn);
    if (!l) {
      // Adoption: a page first seen when it is removed or mapped was cached before tracing began;
      // one first seen when a PTE of it is removed may be anonymous: nothing is known of its cache
      l = { id: ++lifeIds, cached, maps: 0, whole: false, touched: [at] };
      pages.set(pfn, l);
    }
    if (!firstSeen.has(pfn)) firstSeen.set(pfn, at);
    return l;
  };
  /** A hole may hide an event after `from` (exclusive) and before `to` (exclusive) of the evs. */
  const holeBetween = (from: number, to: number): string | undefined => {
    for (const w of windows) if (w.from < to && from < w.to) return w.why;
    return undefined;
  };
  // A do_set_pte that may have mapped a private write fault's anonymous copy (*Nested probes*): its
  // probe here fetches no flags, its page is not one the trace showed cached (and not in doubt), and
  // its CPU's next operation is not its nested page_add_file_rmap. What it raises is uncertain, and
  // its page's facts are in doubt from it on, until re-established.
  const OPS: ReadonlySet<Kind> = new Set([
    'add',
    'del',
    'rmap',
    'setpte',
    'unmap',
    'fault',
    'faultret',
    'inv2',
    'inv2ret',
    'imp',
    'impret',
    'trunc',
    'truncret',
    'unmaprange',
  ]);
  const doubtAt = new Set<number>();
  const inDoubt: Array<{ pfn: number; at: number }> = [];
  const mayBeCopy = (at: number): boolean => {
    const e = evs[at]!;
    if (c.format !== 'ftrace' || e.k !== 'setpte') return false;
    const l = pages.get(e.pfn!);
    const since = l ? lastTouch(l) : -1;
    const unsure =
      unusablePage.some((u) => u.pfn === e.pfn && u.at > since && !lateAt.includes(u.at + 1)) || inDoubt.some((u) => u.pfn === e.pfn && u.at >= since);
    if (l?.cached === true && l.whole && !unsure) return false;
    // confirmed only by the nested rmap, which is its CPU's next operation
    for (let j = at + 1; j < evs.length; j++) {
      const n = evs[j]!;
      if (cpuOf(n) !== cpuOf(e) || !OPS.has(n.k)) continue;
      return !(n.task === e.task && n.k === 'rmap' && n.pfn === e.pfn);
    }
    return true;
  };
  const copyDoubt = (at: number): boolean => doubtAt.has(at);
  const certaintyFor = (pfn: number | undefined, since: number, at: number | 'end'): Expected['certainty'] => {
    const to = at === 'end' ? evs.length : at;
    if (perCpu && opCpus.size > 1) return 'uncertain';
    if (holeBetween(since, to)) return 'uncertain';
    if (pfn !== undefined && unusablePage.some((u) => u.pfn === pfn && u.at > since && u.at < to)) return 'uncertain';
    if (at !== 'end' && copyDoubt(at)) return 'uncertain';
    if (pfn !== undefined && inDoubt.some((u) => u.pfn === pfn && u.at >= since && u.at < to)) return 'uncertain';
    if (!out.holes && lateAt.length === 0 && unusablePage.length === 0 && !(c.clock === undefined && opCpus.size > 1)) return 'certain';
    return 'either';
  };
  const lastTouch = (l: Life) => l.touched[l.touched.length - 1] ?? -1;
  const find = (rule: RuleId, l: Life, pfn: number, at: number | 'end', since: number, why: string) =>
    out.findings.push({ rule, file: l.file, index: l.index, at, certainty: certaintyFor(pfn, since, at), why });

  const staleAfterInvalidate = (at: number | 'end', inRange: (file: string, index: number) => boolean) => {
    for (const [pfn, l] of pages) {
      if (l.cached || l.maps === 0 || l.saiReported || l.file === undefined || l.index === undefined) continue;
      if (!inRange(l.file, l.index)) continue;
      l.saiReported = true;
      find('stale-after-invalidate', l, pfn, at, lastTouch(l), 'a removed page still mapped in a promised range');
    }
  };

  for (let at = 0; at < evs.length; at++) {
    const e = evs[at]!;
    const task = tasks[e.task]!;
    if (e.k === 'lost' || e.k === 'garbage' || e.k === 'noise') continue;
    if (rendered.late[at]) {
      lateAt.push(at);
      if (e.pfn !== undefined) unusablePage.push({ pfn: e.pfn, at: at - 1 });
    }
    if (e.k === 'mark') {
      // the workload saw old bytes: a certain stale-data finding on its file and index, whatever the
      // kernel's events show (docs/rules.md stale-data, docs/replay.md Findings)
      out.findings.push({ rule: 'stale-data', file: fileOf(0), index: e.index, at, certainty: 'certain', why: "the workload's mismatch marker" });
      marks++;
      continue;
    }
    if (e.k === 'unusable-nopage') {
      // named no page it could read: it may have changed any page (a gap on no CPU at its own time)
      windows.push({ from: at - 1, to: at + 1, why: 'an unusable event naming no page' });
      out.holes = true;
      continue;
    }
    if (e.k === 'unusable-page') {
      unusablePage.push({ pfn: e.pfn!, at });
      out.holes = true;
      continue;
    }
    ops++;
    const file = e.file === undefined ? undefined : e.file < 0 ? `8:16/${SHMEM.toString(16)}` : fileOf(e.file);
    // Nested probes: a task's PTE op repeating its previous op's kind on the same pfn from another event is one op
    const prevOp = lastNestable.get(task.pid);
    if (e.k === 'rmap' || e.k === 'setpte') {
      // (in an explorer trace every marker is one event, tracing_mark_write: nothing nests)
      // ... as its CPU's next operation (the pair runs under the PTE lock, preemption off: *Nested probes*)
      const cpuNext = prevOp !== undefined && !evs.slice(prevOp.pos + 1, at).some((x) => cpuOf(x) === task.cpu && OPS.has(x.k));
      if (c.format === 'ftrace' && prevOp && prevOp.pfn === e.pfn && prevOp.ev !== e.k && cpuNext) {
        lastNestable.delete(task.pid);
        // merged: its extra fields fill the first's gaps (a mapcount here re-syncs the count)
        const l = pages.get(e.pfn!)!;
        if (e.mapcount !== undefined) {
          l.maps = e.mapcount + 2;
          l.touched.push(at);
        }
        continue;
      }
      lastNestable.set(task.pid, { k: 'map', pfn: e.pfn!, ev: e.k, pos: at });
    } else lastNestable.delete(task.pid);

    switch (e.k) {
      case 'add': {
        deletes += 0;
        printedPfns.add(e.pfn!);
        const key = slotKey(file!, e.index!);
        const old = pages.get(e.pfn!);
        if (!firstSeen.has(e.pfn!)) firstSeen.set(e.pfn!, at);
        if (old?.cached && old.file !== undefined && !old.unseen) {
          find('trace-inconsistent', old, e.pfn!, at, lastTouch(old), 'added again without a removal');
          silent(at, 'a page added again without a removal: how replay resynchronises is not documented');
        }
        const holder = slots.get(key);
        if (holder !== undefined && holder !== e.pfn && pages.get(holder)?.cached) {
          const h = pages.get(holder)!;
          out.findings.push({
            rule: 'trace-inconsistent',
            file,
            index: e.index,
            at,
            // it rests on the holder's cache fact: the page added is re-established by this very add
            certainty: certaintyFor(holder, lastTouch(h), at),
            why: 'added at an index that still holds another',
          });
          silent(at, 'a page added at an index that holds another: resynchronisation not documented');
        }
        // a new life: cached, mapped nowhere (a mapped page cannot be freed: its old PTEs are gone)
        const l: Life = { id: ++lifeIds, file, index: e.index, cached: true, maps: 0, whole: true, touched: [at] };
        if (old?.cached && old.file !== undefined && old.index !== undefined) slots.delete(slotKey(old.file, old.index));
        pages.set(e.pfn!, l);
        slots.set(key, e.pfn!);
        break;
      }
      case 'del': {
        deletes++;
        printedPfns.add(e.pfn!);
        const key = slotKey(file!, e.index!);
        const known = pages.get(e.pfn!);
        if (!known) {
          const holder = slots.get(key);
          if (holder !== undefined && pages.get(holder)?.cached) silent(at, 'an unknown page removed from a slot the trace filled with another');
          const l = lifeOf(e.pfn!, at);
          l.file = file;
          l.index = e.index;
          l.cached = false;
          l.touched.push(at);
          break;
        }
        if (known.cached === false) {
          find('trace-inconsistent', known, e.pfn!, at, lastTouch(known), 'removed twice');
          silent(at, 'a page removed twice: resynchronisation not documented');
          break;
        }
        if (known.file === undefined || known.cached === undefined) {
          // first seen through a PTE probe that fetched no file: gets its identity when it is removed
          known.file = file;
          known.index = e.index;
          const holder = slots.get(key);
          if (holder !== undefined && holder !== e.pfn && pages.get(holder)?.cached)
            silent(at, 'an adopted page removed from a slot the trace filled with another');
        } else if (known.file !== file || known.index !== e.index) {
          find('trace-inconsistent', known, e.pfn!, at, lastTouch(known), 'removed as another (file, index)');
          silent(at, 'a page removed as another (file, index): resynchronisation not documented');
          break;
        }
        if (known.maps > 0) find('mapped-page-removed', known, e.pfn!, at, lastTouch(known), 'removed while mapped');
        known.cached = false;
        if (slots.get(key) === e.pfn) slots.delete(key);
        known.touched.push(at);
        break;
      }
      case 'rmap':
      case 'setpte': {
        if (mayBeCopy(at)) doubtAt.add(at);
        pteChanges++;
        pointerPfns.add(e.pfn!);
        const pfn = e.pfn!;
        const seen = pages.get(pfn);
        const named = e.ident && file !== undefined ? { file, index: e.index! } : undefined;
        // unseen unmaps: the same process installing another PTE at the same address
        if (e.k === 'setpte') {
          const k = `${task.pid}/${e.addr}`;
          const before = lastAt.get(k);
          if (before) {
            const bl = pages.get(before.pfn);
            // "applied when it was the page's only mapping": the one mapping the trace showed of it,
            // made here (a page whose count came otherwise leaves it open which PTE is left)
            if (bl && bl.id === before.life && bl.maps === 1) {
              if (bl.mapEvents === 1 && bl.unmapEvents === 0 && bl.mapcountKnown !== true) bl.maps = 0;
              else silent(at, 'a PTE at an address that held one of a page whose one PTE left may be another');
            }
          }
        }
        let l: Life;
        if (!seen) {
          l = lifeOf(pfn, at);
          if (named) {
            l.file = named.file;
            l.index = named.index;
            const holder = slots.get(slotKey(named.file, named.index));
            if (holder !== undefined && holder !== pfn && pages.get(holder)?.cached) silent(at, 'an unknown page mapped at a slot that holds another');
            else slots.set(slotKey(named.file, named.index), pfn);
          }
        } else if (seen.cached === undefined) {
          l = seen;
          l.cached = true;
          if (named) {
            l.file = named.file;
            l.index = named.index;
          }
        } else if (!seen.cached && named && (named.file !== seen.file || named.index !== seen.index)) {
          // a removed pfn mapped again under another (file, index): freed and reused by a cache the trace does not show
          l = { id: ++lifeIds, file: named.file, index: named.index, cached: true, unseen: true, maps: 0, whole: false, touched: [at] };
          pages.set(pfn, l);
        } else {
          l = seen;
          if (named && l.cached && (named.file !== l.file || named.index !== l.index) && l.file !== undefined) {
            find('orphan-page-mapped', l, pfn, at, lastTouch(l), 'mapped as another (file, index) than it is cached as');
            silent(at, 'a cached page mapped under another identity');
          } else if (!l.cached) {
            find('orphan-page-mapped', l, pfn, at, lastTouch(l), 'a removed page mapped');
          }
          if (named && l.file === undefined) {
            l.file = named.file;
            l.index = named.index;
          }
        }
        if (l.staleFrom !== undefined && !l.staleReported && l.cached) {
          l.staleReported = true;
          find('stale-data', l, pfn, at, firstSeen.get(pfn)!, 'mapped a page that survived a successful invalidate');
        }
        l.maps++;
        l.mapEvents = (l.mapEvents ?? 0) + 1;
        if (e.mapcount !== undefined) {
          l.mapcountKnown = true;
          l.maps = e.mapcount + 2;
          l.touched.push(at);
        }
        if (e.k === 'setpte') lastAt.set(`${task.pid}/${e.addr}`, { pfn, life: l.id });
        if (copyDoubt(at)) inDoubt.push({ pfn, at });
        break;
      }
      case 'unmap': {
        pteChanges++;
        pointerPfns.add(e.pfn!);
        const seen = pages.get(e.pfn!);
        const l = lifeOf(e.pfn!, at, undefined);
        l.unmapEvents = (l.unmapEvents ?? 0) + 1;
        if (e.mapcount !== undefined) {
          // the kernel's own count: _mapcount + 1 PTEs before the removal
          if (e.mapcount + 1 <= 0) {
            if (seen && l.whole) find('trace-inconsistent', l, e.pfn!, at, lastTouch(l), 'a PTE removed from a page no PTE maps (its own _mapcount says so)');
            silent(at, 'a PTE removed from a page whose own _mapcount says no PTE maps it');
          }
          l.maps = Math.max(0, e.mapcount);
          l.touched.push(at);
          break;
        }
        if (l.maps > 0) l.maps--;
        else if (seen && l.whole) {
          find('trace-inconsistent', l, e.pfn!, at, lastTouch(l), 'a PTE removed from a page no PTE maps');
          silent(at, 'a PTE removed from a page no PTE maps: resynchronisation not documented');
        }
        // else: a mapping made before the trace, adopted
        break;
      }
      case 'inv2':
      case 'imp':
      case 'trunc':
      case 'fault': {
        const cachedAtBegin = new Map<number, number>();
        for (const [pfn, l] of pages) if (l.cached) cachedAtBegin.set(pfn, l.id);
        openCalls.set(task.pid, { k: e.k, file, start: e.start, end: e.end === -1 ? Infinity : e.end, at, cachedAtBegin });
        break;
      }
      case 'inv2ret': {
        const call = openCalls.get(task.pid);
        openCalls.delete(task.pid);
        if (e.ret !== 0) break;
        if (!call || call.k !== 'inv2' || call.file === undefined) {
          promisedUnknown++;
          break;
        }
        promised++;
        const { file: cf, start, end } = call;
        const inRange = (f: string, i: number) => f === cf && i >= start! && i <= end!;
        promises.push({ file: cf, start: start!, end: end! });
        staleAfterInvalidate(at, inRange);
        // stale-data: a page cached before it began and still cached when it returned
        for (const [pfn, l] of pages)
          if (l.cached && call.cachedAtBegin.get(pfn) === l.id && l.file !== undefined && inRange(l.file, l.index!) && l.staleFrom === undefined)
            l.staleFrom = at;
        break;
      }
      case 'impret':
      case 'truncret':
      case 'faultret':
        openCalls.delete(task.pid);
        break;
      case 'unmaprange':
        break;
    }
  }
  // at the end of the trace: mapped removed pages in any promised range
  staleAfterInvalidate('end', (f, i) => promises.some((p) => p.file === f && i >= p.start && i <= p.end));

  // the verdict
  if (ops === 0) out.status = 'inconclusive';
  else out.status = out.findings.length ? 'findings' : 'clean';
  if (ops > 0) {
    const four: RuleId[] = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data'];
    // docs/replay.md (session 15) named all four for a trace without PTE changes; session 27 corrected it: with
    // no page leaving the cache either, stale-after-invalidate cannot fire (no PTE can map a removed page), so a
    // successful invalidate's promise is judged kept — the oracle follows the corrected text (rule definition)
    if (pteChanges === 0) for (const r of deletes > 0 ? four : (['stale-data'] as const)) out.unjudged.add(r);
    if (deletes === 0) {
      out.unjudged.add('mapped-page-removed');
      out.unjudged.add('orphan-page-mapped');
    }
    if (promised === 0 || promisedUnknown > 0) out.unjudged.add('stale-after-invalidate');
    // pfns read from struct page pointers (a 6.1 capture's PTE probes; an explorer trace prints them)
    if (c.format === 'ftrace' && deletes > 0 && ![...pointerPfns].some((p) => printedPfns.has(p))) for (const r of four) out.unjudged.add(r);
    if (c.clock === undefined && opCpus.size > 1) for (const r of four) out.unjudged.add(r);
    // meta.json counts more mismatches than the trace marks, and no stale-data finding came of it
    if (c.mismatches !== undefined && c.mismatches > marks && !out.findings.some((f) => f.rule === 'stale-data')) out.unjudged.add('stale-data');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

interface Outcome {
  discrepancies: string[];
  silent: boolean;
}

const describeFinding = (f: { rule: string; file?: string; index?: number }, at: string, certainty: string) =>
  `${f.rule} ${f.file ?? '?'}#${f.index ?? '?'} at ${at} ${certainty}`;

async function check(
  c: Case,
  run: (text: string, c: Case) => Promise<ReplayResult>,
): Promise<Outcome & { text: string; result: ReplayResult; expected: Oracle }> {
  const tasks = tasksFor(c.cpus);
  const { text, ts } = render(c.evs, tasks, c.format);
  const expected = oracle(c);
  const d: string[] = [];
  let result: ReplayResult;
  try {
    result = await run(text, c);
  } catch (err) {
    // docs/replay.md: exit 2 for "a file with no line that is a trace event"
    const events = c.evs.filter((e) => e.k !== 'lost' && e.k !== 'garbage').length;
    if (events === 0 && /no line of it is a trace event/.test(String(err)))
      return { discrepancies: [], silent: true, text, result: { findings: [] } as unknown as ReplayResult, expected };
    throw err;
  }
  const tsOf = (at: number | 'end') => (at === 'end' ? 'end' : String(ts[at]));
  const cut = expected.silentAt === undefined ? undefined : ts[expected.silentAt];
  const inScope = (t: number | undefined, end: boolean) => (cut === undefined ? true : !end && t !== undefined && t <= cut);
  // findings: match each expected to an actual one (end-of-trace ones by rule and page only)
  const actual = result.findings.map((f) => ({ f, used: false, us: Number(f.ts - 1_000_000_000n) / 1000 }));
  for (const x of expected.findings) {
    const t = x.at === 'end' ? undefined : ts[x.at];
    if (!inScope(t, x.at === 'end')) continue;
    const m = actual.find((a) => !a.used && a.f.rule === x.rule && a.f.file === x.file && a.f.index === x.index && (x.at === 'end' ? true : a.us === t));
    if (!m) {
      d.push(`missing ${describeFinding(x, tsOf(x.at), x.certainty)} (${x.why})`);
      continue;
    }
    m.used = true;
    if (x.certainty !== 'either' && m.f.certainty !== x.certainty)
      d.push(`${describeFinding(x, tsOf(x.at), m.f.certainty)}: expected ${x.certainty} (${x.why})`);
  }
  for (const a of actual) {
    if (a.used) continue;
    if (cut !== undefined && !(a.us < cut)) continue; // past where the documentation is silent
    // an end-of-trace judgement cites the mapping, earlier than the event where the documentation fell silent
    if (cut !== undefined && a.f.rule === 'stale-after-invalidate') continue;
    d.push(`unexpected ${describeFinding(a.f, String(a.us), a.f.certainty)}: ${a.f.message}`);
  }
  if (expected.silentAt === undefined) {
    if (result.verdict.status !== expected.status) d.push(`status ${result.verdict.status}, expected ${expected.status}`);
    const rules: RuleId[] = ['mapped-page-removed', 'orphan-page-mapped', 'stale-after-invalidate', 'stale-data', 'trace-inconsistent'];
    const got = new Set((result.verdict.unjudged ?? []).map((u) => u.rule));
    for (const r of rules) {
      if (expected.status === 'inconclusive') break;
      if (got.has(r) && !expected.unjudged.has(r)) d.push(`${r} not judged: ${(result.verdict.unjudged ?? []).find((u) => u.rule === r)!.reason}`);
      if (!got.has(r) && expected.unjudged.has(r)) d.push(`${r} judged, expected not judged`);
    }
    const holes = result.verdict.gaps + result.verdict.unusableEvents > 0;
    if (expected.holes && !holes) d.push('the trace has holes but the verdict counts no gap and no unusable event');
  }
  return { discrepancies: d, silent: expected.silentAt !== undefined, text, result, expected };
}

/** meta.json of a capture whose workload ran on ino 0x2a and counted `mismatches`. */
const metaOf = (c: Case) =>
  c.mismatches === undefined
    ? undefined
    : { workload: { name: 'odirect-dropper', testFile: { path: '/mnt/disk/t', ino: INOS[0]!, dev: '8:16' }, result: { mismatches: c.mismatches } } };

async function runner(): Promise<(text: string, c: Case) => Promise<ReplayResult>> {
  const base: ReplayOptions = { vmemmapBase: VM, source: 't.txt', kernel: 'linux-6.1' };
  // a configuration per trace: its probe adapter keeps what it saw of one trace (the pfns' origins)
  return async (text, c) => {
    const meta = metaOf(c);
    // an explorer trace: the adapter its header picks, the clock it records (a count for every CPU)
    const opts: ReplayOptions =
      c.format === 'explore'
        ? { vmemmapBase: VM, source: 't.txt' }
        : { ...base, ...(c.clock ? { traceClock: c.clock } : {}), ...(meta ? { meta: meta as never } : {}) };
    return replay(parseTraceString(text, { source: 't.txt' }), opts, await resolveReplayConfig(opts));
  };
}

/** Seeds whose traces the CLI replays too (findings certain and uncertain, holes, a clock it does not name). */
const CLI_SEEDS = [2130, 2409, 16532];

/** Seeds: the committed ones, or `KREPLAY_RULES_SEEDS=a-b` to search further. */
function seeds(): number[] {
  const env = process.env.KREPLAY_RULES_SEEDS;
  const [a, b] = env ? env.split('-').map(Number) : [1, 600];
  const range = Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
  // beyond the range, seeds that fail on the code before session 27's fixes: a nested probe's second
  // page_add_file_rmap merged away (2130, 2908, 4440, 4512); a line after a workload's mismatch
  // marker joined to it, the mismatch lost (16054, 16532)
  return env ? range : [...range, 2130, 2908, 4440, 4512, 16054, 16532];
}

describe('replay rules against a naive oracle of their documentation', () => {
  if (process.env.KREPLAY_RULES_SHOW)
    it('shows one case', async () => {
      const run = await runner();
      for (const seed of process.env.KREPLAY_RULES_SHOW!.split(',').map(Number)) {
        const c = generate(seed);
        const o = await check(c, run);
        console.log(
          `seed ${seed} clock ${c.clock}\n${o.text}\nexpected ${JSON.stringify({ ...o.expected, unjudged: [...o.expected.unjudged] }, null, 1)}\ngot ${JSON.stringify({ verdict: o.result.verdict, findings: o.result.findings.map((f) => [f.rule, f.certainty, f.file, f.index, String(f.ts), f.message]) }, null, 1)}\n${o.discrepancies.join('\n')}`,
        );
      }
    });
  it('gives the findings, certainty, unjudged rules and status the documentation says, on seeded random traces', async () => {
    const run = await runner();
    const bad: string[] = [];
    let silent = 0;
    let withFindings = 0;
    let tied = 0;
    let holes = 0;
    let uncertain = 0;
    const list = seeds();
    for (const seed of list) {
      const c = generate(seed);
      const o = await check(c, run);
      if (o.silent) silent++;
      if (o.result.findings.length) withFindings++;
      if (o.result.verdict?.tiedGroups) tied++;
      if (o.expected.holes) holes++;
      if (o.result.findings.some((f) => f.certainty === 'uncertain')) uncertain++;
      if (o.discrepancies.length) bad.push(`seed ${seed} (${c.cpus} CPU, clock ${c.clock ?? 'unnamed'}):\n  ${o.discrepancies.join('\n  ')}\n${o.text}`);
    }
    if (process.env.KREPLAY_RULES_SUMMARY) console.log(bad.map((b) => b.split('\n# tracer')[0]).join('\n'));
    if (process.env.KREPLAY_RULES_VERBOSE)
      console.log(
        `cases ${list.length}, with findings ${withFindings} (uncertain ones ${uncertain}), holes ${holes}, ties ${tied}, silent ${silent}, bad ${bad.length}`,
      );
    expect(bad.slice(0, 3)).toEqual([]);
    // the property was asked of traces that raise findings, and few left the documentation
    expect(withFindings).toBeGreaterThan(list.length / 4);
    expect(Math.min(tied, holes, uncertain)).toBeGreaterThan(list.length / 50);
    expect(silent).toBeLessThan(list.length / 3);
  });

  it("the CLI's JSON says what the library says, for a few seeds", async () => {
    const run = await runner();
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-rules-'));
    try {
      for (const seed of CLI_SEEDS) {
        const c = generate(seed);
        const { text } = render(c.evs, tasksFor(c.cpus), c.format);
        const lib = await run(text, c);
        const file = path.join(dir, `t${seed}.txt`);
        writeFileSync(file, text);
        const meta = metaOf(c);
        if (meta) writeFileSync(path.join(dir, `t${seed}.txt.meta.json`), JSON.stringify(meta));
        const args = [path.join(root, 'packages/cli/bin/run.js'), 'replay', file, '--format', 'json', '--vmemmap-base', '0xffffea0000000000'];
        if (c.format === 'ftrace') args.push('--kernel', 'linux-6.1', ...(c.clock ? ['--trace-clock', c.clock] : []));
        const cli = spawnSync(process.execPath, args, { encoding: 'utf8' });
        const json = JSON.parse(cli.stdout) as {
          verdict: ReplayResult['verdict'];
          findings: Array<{ rule: string; certainty: string; file?: string; index?: number; ts: number }>;
        };
        const summary = (v: ReplayResult['verdict'], fs: Array<{ rule: string; certainty: string; file?: string; index?: number; ts: number | bigint }>) => ({
          status: v.status,
          unjudged: (v.unjudged ?? []).map((u) => u.rule),
          findings: fs.map((f) => `${f.rule} ${f.certainty} ${f.file}#${f.index} ${String(f.ts)}`),
        });
        expect({ seed, ...summary(json.verdict, json.findings) }).toEqual({ seed, ...summary(lib.verdict, lib.findings) });
        // exit codes (docs/replay.md): 2 inconclusive, 1 a finding at --fail-on error, else 0
        const errors = lib.findings.some((f) => f.severity === 'error');
        expect({ seed, exit: cli.status }).toEqual({ seed, exit: lib.verdict.status === 'inconclusive' ? 2 : errors ? 1 : 0 });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
