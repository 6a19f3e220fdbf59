#!/usr/bin/env node
/**
 * Writes a realistic 6.x ftrace text trace for benchmarks: nop-tracer header, 5-char flags,
 * a deterministic mix of filemap tracepoints, kprobes and kretprobes with fetch args,
 * function-tracer lines, trace markers, page faults, sched switches and the odd LOST line.
 *
 *   node bench/gen-trace.js OUT LINES [SEED]
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** mulberry32: small, fast, deterministic. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TASKS = [
  ['fio', 2231],
  ['kr-race', 2232],
  ['kr-race', 2233],
  ['kworker/u8:2', 97],
  ['<idle>', 0],
  ['Web Content', 31337],
  ['jbd2/vda-8', 201],
  ['systemd-journal', 300],
  ['<...>', 4242],
  ['kswapd0', 61],
];
const FUNCS = [
  'filemap_fault',
  'filemap_map_pages',
  '__filemap_add_folio',
  'filemap_get_entry',
  'page_add_file_rmap',
  'page_remove_rmap',
  'unmap_mapping_range',
  'invalidate_inode_pages2_range',
  '_raw_spin_lock',
  'folio_unlock',
];
/** The tracefs `trace` header (nop tracer, 5-char flags) for a trace of `cpus` CPUs. */
export const ftraceHeader = (cpus) => `# tracer: nop
#
# entries-in-buffer/entries-written: 0/0   #P:${cpus}
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;
const HEADER = ftraceHeader(4);

export async function generateTrace(out, lines, seed = 42) {
  const rand = rng(seed);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const hex = (n) => n.toString(16);
  const w = createWriteStream(out, { highWaterMark: 1 << 20 });
  w.write(HEADER);
  let usec = 612_000_000;
  let buf = [];
  let bytes = HEADER.length;
  for (let i = 0; i < lines; i++) {
    usec += 1 + Math.floor(rand() * 3);
    const [comm, pid] = pick(TASKS);
    const cpu = Math.floor(rand() * 4);
    const ts = `${Math.floor(usec / 1e6)}.${String(usec % 1e6).padStart(6, '0')}`;
    const flags = pick(['.....', 'd....', '...1.', 'd..1.', 'dNh2.', '.....']);
    const ino = 0x2a + Math.floor(rand() * 64);
    const index = Math.floor(rand() * 4096);
    const pfn = 0x10000 + Math.floor(rand() * 0x40000);
    const r = rand();
    let body;
    if (r < 0.2) body = `mm_filemap_add_to_page_cache: dev 254:1 ino ${hex(ino)} pfn=0x${hex(pfn)} ofs=${index * 4096} order=0`;
    else if (r < 0.3) body = `mm_filemap_delete_from_page_cache: dev 254:1 ino ${hex(ino)} pfn=0x${hex(pfn)} ofs=${index * 4096} order=0`;
    else if (r < 0.42)
      body = `p_filemap_fault_0: (filemap_fault+0x0/0x5a0) vmf=0xffffc90000${hex(0x100000 + Math.floor(rand() * 0xeffff))} ino=${ino} pgoff=0x${hex(index)}`;
    else if (r < 0.5) body = `rmap_add: (page_add_file_rmap+0x0/0x2b0) page=0xffffea000${hex(0x1000000 + pfn * 64)} mapcount=${Math.floor(rand() * 3) - 1}`;
    else if (r < 0.58) body = `r_filemap_fault_0: (__do_fault+0x3c/0x140 <- filemap_fault) arg1=0x${pick(['200', '204', '400', '404'])}`;
    else if (r < 0.76) body = `${pick(FUNCS)} <-${pick(FUNCS)}`;
    else if (r < 0.86) body = `tracing_mark_write: workload: pwrite round=${i} off=${index * 4096}`;
    else if (r < 0.94) body = `page_fault_user: address=0x7f3a1c${hex(0x100000 + index * 4096)} ip=0x401b2c error_code=0x${pick(['4', '6', '14'])}`;
    else if (r < 0.9999)
      body = `sched_switch: prev_comm=${comm} prev_pid=${pid} prev_prio=120 prev_state=S ==> next_comm=swapper/${cpu} next_pid=0 next_prio=120`;
    else {
      buf.push(`CPU:${cpu} [LOST ${1 + Math.floor(rand() * 500)} EVENTS]`);
      body = 'tracing_mark_write: after a loss';
    }
    buf.push(`${comm.padStart(16)}-${String(pid).padEnd(7)} [${String(cpu).padStart(3, '0')}] ${flags} ${ts.padStart(12)}: ${body}`);
    if (buf.length >= 4096) {
      const chunk = `${buf.join('\n')}\n`;
      bytes += chunk.length;
      if (!w.write(chunk)) await once(w, 'drain');
      buf = [];
    }
  }
  if (buf.length) {
    const chunk = `${buf.join('\n')}\n`;
    bytes += chunk.length;
    w.write(chunk);
  }
  w.end();
  await once(w, 'finish');
  return bytes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [out, lines, seed] = process.argv.slice(2);
  if (!out || !lines) {
    process.stderr.write('usage: node bench/gen-trace.js OUT LINES [SEED]\n');
    process.exit(2);
  }
  const bytes = await generateTrace(out, Number(lines), seed ? Number(seed) : 42);
  process.stdout.write(`${out}: ${lines} event lines, ${(bytes / 1e6).toFixed(1)} MB\n`);
}
