/**
 * An independent count of a text trace, for checking the parser against it: which lines
 * are events (and on which CPU, under which event name), which are continuations of the
 * event before them (stack frames, callchains, a multi-line message), which are headers,
 * and which are none of these (the parser must make each of those a gap). Plain regular
 * expressions over the documented line shapes, one rule per shape; it shares no code with
 * the parser.
 */

export interface CountedEvent {
  cpu: number;
  name: string;
}

export interface Count {
  events: Map<number, CountedEvent>;
  /** Lines that belong to the event before them. */
  continuations: Set<number>;
  /** Lines that say events were lost (`CPU:1 [LOST 3 EVENTS]`, ...). */
  lossLines: Set<number>;
  /** Lines that are nothing a trace holds: the parser must report each as a gap. */
  other: Set<number>;
}

const FTRACE = /^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\s*\)\s+)?\[(\d+)\]\s+(?:[^\s[]+\s+)?\d+(?:\.\d+)?:\s+(.*)$/;
const LATENCY = /^\s*\S.{0,7}?-\d+\s+(\d+)\S{3,6}\s+\d+(?:us.|\.\d+)?\s*:\s+(.*)$/;
const PERF_CPU = /^\s*\S.*?\s(?:\d+\/)?\d+\s+\[(\d+)\]\s+(?:\d+\.\d+:\s+)?(?:\d+\s+)?([A-Za-z_][\w.:-]*):(?:\s|$)/;
const PERF_NO_CPU = /^\s*[^\s#].*?\s(?:\d+\/)?\d+\s+(?:\d+\.\d+:\s+)?(?:\d+\s+)?([A-Za-z_][\w.:-]*):\s*$/;
const PERF_NO_CPU_PAYLOAD = /^\s*[^\s#].*?\s(?:\d+\/)?\d+\s+\d+\.\d+:\s+(?:\d+\s+)?([A-Za-z_][\w.:-]*):\s/;
const GRAPH = /^\s*(?:\d+(?:\.\d+)?\s+(?:us\s+)?\|\s*)?(\d+)\)(.*)$/;
const LOSS = /^(?:CPU:\d+ \[(?:LOST \d+ EVENTS|LOST EVENTS|\d+ EVENTS DROPPED|EVENTS DROPPED)\]|\[\d+ EVENTS DROPPED\]|#{5} CPU \d+ buffer started #{4})\s*$/;
const PREAMBLE = /^(?:version = \S+|cpus=\d+|CPU\s*\d+ is empty|CPU\s*\d+ data recorded at offset=0x[0-9a-f]+.*|\s+\d+ bytes in size.*)\s*$/;
const PERF_MODIFIERS = /^[ukhIGHpPSDWebRr]+$/;

/** The kernel event a printed event body stands for, or undefined when it is not one. */
export function bodyName(body: string): string | undefined {
  if (body.startsWith('<stack trace>')) return 'kernel_stack';
  if (body.startsWith('<user stack trace>')) return 'user_stack';
  let m = /^sys_(\w+)\(.*\)\s*$/.exec(body);
  if (m) return `sys_enter_${m[1]}`;
  m = /^sys_(\w+) -> 0x[0-9a-f]+\s*$/.exec(body);
  if (m) return `sys_exit_${m[1]}`;
  m = /^\d+:\s*-?\d+:\S\s+(==>|\+)\s+\[\d+\]/.exec(body);
  if (m) return m[1] === '==>' ? 'context_switch' : 'wakeup';
  if (/^#\d+\s+inner\/outer\(us\):/.test(body)) return 'hwlat';
  m = /^([^\s:]+(?::[^\s:]+)*):(?:\s|$)/.exec(body);
  if (m) {
    const parts = m[1]!.split(':');
    let name = parts[parts.length - 1]!;
    if (parts.length > 1 && PERF_MODIFIERS.test(name)) name = `${parts[parts.length - 2]}:${name}`;
    if (name === 'tracing_mark_write') return 'print';
    if (name === 'func_repeats') return 'function';
    return name;
  }
  // the function tracer: `func <-parent`, or a bare `func`
  if (/^[A-Za-z_.$][\w.$]*(?:\s+<-+\s*\S+.*)?\s*$/.test(body)) return 'function';
  return undefined;
}

/** A function_graph line's event (after the `N)` cpu column). */
function graphName(rest: string): string | undefined {
  if (rest.includes('==========>') || rest.includes('<==========')) return 'funcgraph_irq';
  if (!rest.includes('|') && /\S+-\d+\s+=>\s+\S+-\d+/.test(rest)) return 'context_switch';
  const bar = rest.lastIndexOf('|');
  const code = rest.slice(bar + 1).trim();
  if (code.startsWith('}')) return 'funcgraph_exit';
  if (code.startsWith('/*')) {
    const inner = code.replace(/^\/\*\s*/, '').replace(/\s*\*\/$/, '');
    const n = bodyName(inner);
    return n === undefined || n === 'function' ? 'bputs' : n;
  }
  if (/^[^\s(]+\(.*(\{|\);)/.test(code)) return 'funcgraph_entry';
  return undefined;
}

/** Count the lines of a text trace. */
export function countText(text: string): Count {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const count: Count = { events: new Map(), continuations: new Set(), lossLines: new Set(), other: new Set() };
  /** The last event line and its kind, for continuations. */
  let last: { message: boolean; perf: boolean } | undefined;
  for (let k = 0; k < lines.length; k++) {
    const lineNo = k + 1;
    const line = lines[k]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.startsWith('#') && !LOSS.test(line)) continue;
    if (LOSS.test(line)) {
      count.lossLines.add(lineNo);
      continue;
    }
    if (PREAMBLE.test(line) || /^\s*-{10,}\s*$/.test(line)) continue;
    let m = FTRACE.exec(line);
    let cpu: number | undefined;
    let name: string | undefined;
    let perf = false;
    if (m && !/^\s*\d+\)/.test(line)) {
      cpu = Number(m[3]);
      name = bodyName(m[4]!);
    } else if ((m = PERF_CPU.exec(line))) {
      cpu = Number(m[1]);
      name = eventToken(m[2]!);
      perf = true;
    } else if ((m = LATENCY.exec(line))) {
      cpu = Number(m[1]);
      name = bodyName(m[2]!);
    } else if ((m = GRAPH.exec(line))) {
      cpu = Number(m[1]);
      name = graphName(m[2]!);
    } else if ((m = PERF_NO_CPU.exec(line) ?? PERF_NO_CPU_PAYLOAD.exec(line))) {
      cpu = -1;
      name = eventToken(m[1]!);
      perf = true;
    }
    if (cpu !== undefined && name !== undefined) {
      count.events.set(lineNo, { cpu, name });
      last = { message: name === 'print' || name === 'bprint' || name === 'bputs', perf };
      continue;
    }
    // continuations of the event before: kernel stack frames, perf callchains (tab- or
    // space-indented, or unindented `address symbol (object)`), more lines of a message
    if (last && /^\s+=>(\s|$)/.test(line)) {
      count.continuations.add(lineNo);
      continue;
    }
    if (
      last &&
      !last.message &&
      (line.startsWith('\t') || /^\s+[0-9a-fA-F]+\s+\S/.test(line) || (last.perf && /^[0-9a-fA-F]{4,16}\s+\S.*\(.*\)\s*$/.test(line)))
    ) {
      count.continuations.add(lineNo);
      continue;
    }
    if (last?.message) {
      count.continuations.add(lineNo);
      continue;
    }
    last = undefined;
    count.other.add(lineNo);
  }
  return count;
}

/** `cpu-clock`, `cycles:uppp`, `probe_libc:malloc` → the event's name (modifiers kept, system dropped). */
function eventToken(tok: string): string {
  const parts = tok.split(':');
  const name = parts[parts.length - 1]!;
  if (parts.length > 1 && PERF_MODIFIERS.test(name)) return `${parts[parts.length - 2]}:${name}`;
  return name;
}
