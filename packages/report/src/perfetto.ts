/**
 * `kreplay report --perfetto OUT.json`: the replayed trace as Chrome trace JSON, which
 * Perfetto UI (and chrome://tracing) open. One track per task (grouped by thread group),
 * slices for fault / invalidate / truncate spans, instants for page-cache events
 * (cache add/delete, PTE map/unmap, unmap_range, i_size writes), findings as global instants.
 *
 * Streaming: every op is written as it arrives; memory holds only the open spans and the
 * task names. Timestamps are written exactly (µs with three decimals from integer ns).
 */
import { stringifyJson, type Finding, type MmOp } from '@kreplay/core';

type Write = (chunk: string) => void;

/** Exact microseconds as a JSON number literal. */
function us(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1000n}.${(a % 1000n).toString().padStart(3, '0')}`;
}

const SPAN_OF: Partial<Record<MmOp['kind'], { span: string; edge: 'B' | 'E' }>> = {
  fault_begin: { span: 'fault', edge: 'B' },
  fault_end: { span: 'fault', edge: 'E' },
  invalidate_begin: { span: 'invalidate', edge: 'B' },
  invalidate_end: { span: 'invalidate', edge: 'E' },
  truncate_begin: { span: 'truncate', edge: 'B' },
  truncate_end: { span: 'truncate', edge: 'E' },
};

function fileArgs(op: MmOp): Record<string, string | number> {
  const a: Record<string, string | number> = {};
  const o = op as { file?: { dev: string; ino: bigint }; index?: number; pfn?: bigint; start?: number; end?: number; ret?: number; fn?: string; size?: bigint };
  if (o.file) a.file = `${o.file.dev}/${o.file.ino.toString(16)}`;
  if (o.index !== undefined) a.index = o.index;
  if (o.pfn !== undefined) a.pfn = `0x${o.pfn.toString(16)}`;
  if (o.start !== undefined) a.start = o.start;
  if (o.end !== undefined) a.end = o.end;
  if (o.ret !== undefined) a.ret = o.ret;
  if (o.fn !== undefined) a.fn = o.fn;
  if (o.size !== undefined) a.size = o.size.toString();
  if (op.event) a.line = `${op.event.source}:${op.event.line}`;
  return a;
}

export class PerfettoWriter {
  private first = true;
  private readonly tasks = new Map<number, { tgid: number; comm: string }>();
  /** Open spans per task: `pid/span` → depth. */
  private readonly open = new Map<string, number>();
  private lastTs = 0n;

  constructor(private readonly write: Write) {
    write('{"displayTimeUnit":"ns","traceEvents":[\n');
  }

  private emit(obj: Record<string, unknown>, ts?: bigint): void {
    let json = stringifyJson(obj);
    if (ts !== undefined) json = `${json.slice(0, -1)},"ts":${us(ts)}}`;
    this.write(`${this.first ? '' : ',\n'}${json}`);
    this.first = false;
  }

  private task(pid: number, tgid: number | undefined, comm: string): number {
    const t = this.tasks.get(pid);
    if (t) return t.tgid;
    const g = tgid ?? pid;
    this.tasks.set(pid, { tgid: g, comm });
    this.emit({ name: 'thread_name', ph: 'M', pid: g, tid: pid, args: { name: `${comm}-${pid}` } });
    return g;
  }

  /** One replayed op (in replay order). Ops without a source event (model steps) are skipped. */
  op(op: MmOp): void {
    const ev = op.event;
    if (!ev || op.kind === 'marker') return;
    const tgid = this.task(ev.pid, ev.tgid, ev.comm);
    if (ev.ts > this.lastTs) this.lastTs = ev.ts;
    const base = { pid: tgid, tid: ev.pid, cat: 'mm' };
    const span = SPAN_OF[op.kind];
    if (span) {
      const key = `${ev.pid}/${span.span}`;
      const depth = this.open.get(key) ?? 0;
      if (span.edge === 'B') {
        this.open.set(key, depth + 1);
        this.emit({ ...base, name: (op as { fn?: string }).fn ?? span.span, ph: 'B', args: fileArgs(op) }, ev.ts);
      } else if (depth > 0) {
        // A return whose entry predates the trace has no slice to close.
        this.open.set(key, depth - 1);
        this.emit({ ...base, ph: 'E', args: fileArgs(op) }, ev.ts);
      }
      return;
    }
    this.emit({ ...base, name: op.kind, ph: 'i', s: 't', args: fileArgs(op) }, ev.ts);
  }

  finding(f: Finding): void {
    this.emit(
      {
        name: `${f.severity}: ${f.rule}`,
        ph: 'i',
        s: 'g',
        pid: 0,
        tid: 0,
        cat: 'finding',
        args: { message: f.message, explanation: f.explanation, certainty: f.certainty, cited: f.events.map((e) => `${e.source}:${e.line}`).join(' ') },
      },
      f.ts,
    );
  }

  /** Close spans still open at the end of the trace, name the processes, and finish the JSON. */
  end(): void {
    for (const [key, depth] of [...this.open.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const pid = Number(key.split('/')[0]);
      const tgid = this.tasks.get(pid)?.tgid ?? pid;
      for (let i = 0; i < depth; i++) this.emit({ pid: tgid, tid: pid, cat: 'mm', ph: 'E', args: { note: 'still running when the trace ended' } }, this.lastTs);
    }
    const groups = new Map<number, string>();
    for (const [pid, t] of [...this.tasks.entries()].sort((a, b) => a[0] - b[0])) if (!groups.has(t.tgid) || pid === t.tgid) groups.set(t.tgid, t.comm);
    for (const [tgid, comm] of groups) this.emit({ name: 'process_name', ph: 'M', pid: tgid, args: { name: `${comm} (${tgid})` } });
    this.emit({ name: 'process_name', ph: 'M', pid: 0, args: { name: 'kreplay findings' } });
    this.write('\n]}\n');
  }
}
