/**
 * A counterexample as an ftrace text trace, exactly as docs/trace-format.md specifies (the
 * contract with `kreplay replay`): nop-tracer header, `# kreplay: explore key=value` metadata
 * (scenario, flavor, schedule; `cycle` for a livelock; `then` for the steps that finish the
 * run after the counterexample; `rule`), thread index t (from 0) as task `<name>-<101+t>` on
 * CPU t as in the doc's example (`fault-101 [000]`), step k at 1.000000 s + k µs, page-cache
 * insertions/removals in the real 6.1 tracepoint formats, everything else as
 * `tracing_mark_write: kreplay:<op> key=value` markers.
 */
import type { Machine, MmOp } from '@kreplay/core';
import type { ScheduledStep } from '../run-schedule.js';
import type { FoundViolation } from '../types.js';

export interface FtraceHeader {
  scenario: string;
  flavor: string;
}

const HEADER_TAIL = [
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
];

/** `key=value`, double-quoting values with spaces, quotes or `=` (and empty ones). */
function kv(key: string, value: string | number | bigint): string {
  const s = String(value);
  if (s === '' || /[\s"=\\]/.test(s)) return `${key}="${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `${key}=${s}`;
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;
const ino = (n: bigint): string => n.toString(16);

/** The event (name and body) a trace shows for one MmOp. */
export function opEvent(op: MmOp): { name: string; body: string } {
  const marker = (o: string, parts: (string | null)[]): { name: string; body: string } => ({
    name: 'tracing_mark_write',
    body: [`kreplay:${o}`, ...parts.filter((p): p is string => p !== null)].join(' '),
  });
  const opt = (key: string, v: string | number | bigint | undefined, f: (x: never) => string = String): string | null =>
    v === undefined ? null : kv(key, f(v as never));
  const file = (f: { dev: string; ino: bigint } | undefined): (string | null)[] => (f ? [kv('dev', f.dev), kv('ino', ino(f.ino))] : []);
  switch (op.kind) {
    case 'cache_add':
    case 'cache_delete':
      return {
        name: op.kind === 'cache_add' ? 'mm_filemap_add_to_page_cache' : 'mm_filemap_delete_from_page_cache',
        body: `dev ${op.file.dev} ino ${ino(op.file.ino)} pfn=${hex(op.pfn)} ofs=${op.index * 4096} order=${op.order}`,
      };
    case 'fault_begin':
      return marker('fault_begin', [...file(op.file), opt('index', op.index), opt('addr', op.address, hex)]);
    case 'fault_end':
      return marker('fault_end', [...file(op.file), opt('index', op.index), opt('ret', op.ret)]);
    case 'pte_map':
    case 'pte_unmap':
      return marker(op.kind, [...file(op.file), opt('index', op.index), kv('pfn', hex(op.pfn)), opt('addr', op.address, hex)]);
    case 'invalidate_begin':
      return marker('invalidate_begin', [kv('fn', op.fn), ...file(op.file), opt('start', op.start), opt('end', op.end)]);
    case 'invalidate_end':
      return marker('invalidate_end', [kv('fn', op.fn), ...file(op.file), opt('ret', op.ret)]);
    case 'truncate_begin':
      return marker('truncate_begin', [kv('fn', op.fn), ...file(op.file), opt('size', op.size), opt('start', op.start), opt('end', op.end)]);
    case 'truncate_end':
      return marker('truncate_end', [kv('fn', op.fn), ...file(op.file), opt('ret', op.ret)]);
    case 'unmap_range':
      return marker('unmap_range', [kv('fn', op.fn), ...file(op.file), opt('start', op.start), opt('end', op.end)]);
    case 'isize_set':
      return marker('isize_set', [...file(op.file), kv('size', op.size)]);
    case 'page_lock':
    case 'page_unlock':
      return marker(op.kind, [kv('pfn', hex(op.pfn))]);
    case 'marker':
      return marker('step', [kv('label', op.text)]);
  }
}

function timestamp(k: number): string {
  const us = 1_000_000 + k;
  return `${String(Math.floor(us / 1_000_000)).padStart(5)}.${String(us % 1_000_000).padStart(6, '0')}`;
}

export function renderFtrace<S>(machine: Machine<S>, v: FoundViolation, steps: readonly ScheduledStep[], h: FtraceHeader): string {
  const lines: string[] = [];
  const threads = machine.threads;
  const meta = [kv('scenario', h.scenario), kv('flavor', h.flavor), `schedule=${v.schedule.join(',')}`];
  if (v.cycle && v.cycle.length > 0) meta.push(`cycle=${v.cycle.join(',')}`);
  const after = steps.filter((st) => st.after).map((st) => st.thread);
  if (after.length > 0) meta.push(`then=${after.join(',')}`);
  meta.push(kv('rule', v.rule));
  const body: string[] = [];
  for (const st of steps) {
    const th = threads[st.thread]!;
    const comm = th.name.slice(0, 15);
    const prefix = `${comm.padStart(16)}-${String(101 + st.thread).padEnd(7)} [${String(st.thread).padStart(3, '0')}] ..... ${timestamp(st.n)}: `;
    const events = st.ops.length > 0 ? st.ops.map(opEvent) : [{ name: 'tracing_mark_write', body: `kreplay:step ${kv('label', st.label)}` }];
    for (const e of events) body.push(`${prefix}${e.name}: ${e.body}`);
  }
  lines.push('# tracer: nop', '#', `# kreplay: explore ${meta.join(' ')}`, '#');
  lines.push(`# entries-in-buffer/entries-written: ${body.length}/${body.length}   #P:${threads.length}`, '#');
  lines.push(...HEADER_TAIL, ...body);
  return `${lines.join('\n')}\n`;
}
