/**
 * One kernel splat read out of a console log: its header, its stacks (the main call trace
 * and the labelled ones: page_owner's allocation stack, KASAN's alloc/free stacks, KCSAN's
 * two accesses), the instruction pointer, the page dump, the task, CPU and kernel release.
 * `SplatBuilder` collects a splat's lines; `finish()` reads them.
 */
import type { ConsoleLine } from './input.js';
import { baseName, CONTEXT_MARK, parseFrameLine, parseIpLine, type Frame } from './frames.js';
import type { Header, SplatKind, TitleStyle } from './headers.js';
import { PageDumpReader, startsPageDump, type PageDump } from './page-dump.js';
import { archOfFrame, archOfLine, archOfRelease, archOfStackMark, archOfTraceLabel, type SplatArch } from './arch.js';

export type StackLabel = 'call trace' | 'page allocated' | 'page freed' | 'allocated' | 'freed' | 'aux' | 'access' | 'lock chain' | 'unlabelled';

export interface Stack {
  label: StackLabel;
  /** What the label line said (`read to 0xffff... of 8 bytes by task 17568 on cpu 0:`). */
  title?: string;
  /** Task the stack belongs to, when its label says (KCSAN, KASAN alloc/free, hung task). */
  task?: { comm?: string; pid?: number };
  frames: Frame[];
  line: number;
}

export interface Splat {
  kind: SplatKind;
  title: string;
  /** How the title was made (the header's kind of line). */
  style: TitleStyle;
  /** The header line (prefixes off) and its input line. */
  header: { text: string; line: number };
  /** First and last input line of the splat. */
  lines: { first: number; last: number };
  /** Kernel release (`6.1.0-13-amd64`, `2.6.19.1`) and where it was read. */
  kernel: string | null;
  kernelFrom: 'splat' | 'log' | 'text' | 'option' | null;
  tainted: string | null;
  task: { comm: string | null; pid: number | null } | null;
  cpu: number | null;
  hardware: string | null;
  /**
   * The CPU architecture its registers show (`RIP:` x86, `pc :` arm64, `NIP:` powerpc, ...), else
   * arm64's `Call trace:`, else its release's name for one (`-arm64`); null when nothing says (arch.ts).
   */
  arch?: SplatArch | null;
  /** `file:line` the header names (`mm/filemap.c:1498`). */
  at: string | null;
  /** The instruction pointer's function (`RIP:`, `EIP is at`, `pc :`). */
  ip: Frame | null;
  /** The main call trace. */
  frames: Frame[];
  /** Every stack, main one included, in order. */
  stacks: Stack[];
  /** The first frame that is not reporting machinery (title.ts). */
  culprit: { function: string; from: 'ip' | 'header' | 'frames' | 'page allocated'; line: number } | null;
  page: PageDump | null;
  /** KASAN: the access (`Read`/`Write`, size). */
  access: { type: 'Read' | 'Write'; size: number | null } | null;
  /**
   * The main call trace stops at this frame with nothing the kernel prints after a whole trace
   * (an entry frame, `</TASK>`, `Code:`, the registers, `---[ end trace`): the paste was cut
   * there, and the outer callers are not in the report. Null when the trace looks whole.
   */
  traceCut?: string | null;
  /** The boot of the log it was printed in (ParsedReport.boots): its other parties are of the same boot. */
  boot?: number;
  /** The splat ends before it says what it must (no stack, cut off): what is missing. */
  truncated: string | null;
  /** The oops was followed by `Kernel panic - not syncing`. */
  panicked: boolean;
  /** Lines inside the splat that belonged to other tasks or were not kernel output. */
  noise: number;
  /** Header fields (headers.ts), for rules and titles. */
  fields: Record<string, string>;
}

const LABELS: Array<{ re: RegExp; label: StackLabel; task?: (m: RegExpExecArray) => Stack['task'] }> = [
  { re: /^(?:Call Trace|Call trace|Backtrace|stack backtrace|Stack trace)\s*:?\s*$/, label: 'call trace' },
  {
    re: /^page last allocated via/,
    label: 'page allocated',
    task: (m) => {
      const p = / pid (\d+)/.exec(m.input);
      return p ? { pid: Number(p[1]) } : undefined;
    },
  },
  { re: /^page last free (?:pid (\d+) .*)?stack trace:/, label: 'page freed', task: (m) => (m[1] ? { pid: Number(m[1]) } : undefined) },
  { re: /^Allocated by task (\d+):/, label: 'allocated', task: (m) => ({ pid: Number(m[1]) }) },
  { re: /^Freed by task (\d+):/, label: 'freed', task: (m) => ({ pid: Number(m[1]) }) },
  { re: /^(?:Last|Second to last) potentially related work creation:|^(?:Allocated|Freed):$/, label: 'aux' },
  {
    re: /^(?:read|write|read-write)(?: \(marked\))? to 0x[0-9a-f]+ of \d+ bytes by (?:task (\d+)|interrupt) on cpu (\d+):/,
    label: 'access',
    task: (m) => (m[1] ? { pid: Number(m[1]) } : undefined),
  },
  { re: /^-> #\d+ \(/, label: 'lock chain' },
];

/** Lines inside a stack that are neither frames nor its end. */
const STACK_MARKERS =
  /^(?:<\/?(?:TASK|IRQ|NMI|SOFTIRQ|EOI)>|<EOI>|\.\.\.|-+ interrupt:|\[ END \]|Exception stack\(.*\)|irq event stamp|hardirqs|softirqs|DWARF2 unwinder stuck at)/;

/** Where a task's call trace starts: a system call's entry, a kernel thread's, an idle CPU's, or a user address (2.6). */
const ENTRY_FRAME =
  /^(?:entry_SYSCALL\w*|entry_SYSENTER\w*|entry_INT80\w*|do_syscall_\w+|do_fast_syscall_32|do_int80_syscall_32|system_call\w*|syscall_call|sysenter_past_esp|sysenter_do_call|syscall_exit\w*|ret_from_fork\w*|ret_from_kernel_thread|kernel_thread_helper|kthread|el0t?_\w+|ret_fast_syscall|ret_from_syscall|int_signal|ret_from_intr|error_entry|page_fault|async_page_fault|asm_exc_\w+|asm_sysvec_\w+|asm_common_interrupt|handle_exception|ret_from_exception|do_trap_ecall_u|_new_vmalloc_restore_context\w*|cpu_startup_entry|start_secondary|secondary_startup_\w+|start_kernel|rest_init|x86_64_start_\w+|0x[0-9a-f]+)$/;

/** What the kernel prints after a whole call trace (x86 from 2.6 to 6.x, arm64): a trace followed by one of these was not cut. */
const AFTER_TRACE = /^(?:<\/TASK>|Code: |Modules linked in|---\[ end |RIP: |EIP: |pc : |CR2: |Kernel panic|={5,}|Instruction dump:|Kernel Offset:)/;

const VERSION = String.raw`(\d+\.\d+(?:\.\d+){0,2}(?:[-+~][\w.+~-]*)?)`;
const RELEASE_RES = [
  new RegExp(String.raw`(?:Not tainted|Tainted: [A-Z ]*?)\s+${VERSION}\s+#`),
  new RegExp(String.raw`\(${VERSION} #\d+\)`),
  new RegExp(String.raw`^Linux version ${VERSION}`),
];

/** A kernel release a line states, if any. */
export function releaseIn(text: string): string | undefined {
  for (const re of RELEASE_RES) {
    const m = re.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

/** Collects one splat's lines while the scanner reads on. */
export class SplatBuilder {
  readonly lines: ConsoleLine[] = [];
  noise = 0;
  panicked = false;
  endedBy: 'end-trace' | 'rule' | 'next' | 'cap' | 'eof' | null = null;

  constructor(
    readonly header: Header,
    readonly headerLine: ConsoleLine,
    preamble: ConsoleLine[],
  ) {
    this.lines.push(...preamble, headerLine);
  }

  /** Does this line belong here (same task, kernel output)? Noise is counted, not kept. */
  accepts(l: ConsoleLine): boolean {
    const h = this.headerLine;
    if (h.caller !== undefined && l.caller !== undefined && l.caller !== h.caller) return false;
    if (h.prefixed && !l.prefixed && l.text.trim() !== '') return false;
    return true;
  }

  add(l: ConsoleLine): void {
    if (this.accepts(l)) this.lines.push(l);
    else this.noise++;
  }

  get last(): number {
    return this.lines[this.lines.length - 1]!.n;
  }
}

/** The first frame of any stack that only one architecture's entry code has. */
function archOfFrames(stacks: readonly Stack[]): SplatArch | undefined {
  for (const st of stacks) {
    for (const f of st.frames) {
      const a = archOfFrame(baseName(f.function));
      if (a) return a;
    }
  }
  return undefined;
}

/** Read a finished builder into a Splat (title and culprit are filled by title.ts). */
export function readSplat(b: SplatBuilder): Splat {
  const h = b.header;
  const stacks: Stack[] = [];
  let current: Stack | null = null;
  let sawHeader = false;
  let page: PageDump | null = null;
  let dump: PageDumpReader | null = null;
  let ip: Frame | null = null;
  let kernel: string | null = null;
  let tainted: string | null = null;
  let hardware: string | null = null;
  let arch: SplatArch | null = null;
  let archByLabel: SplatArch | null = null;
  let archByMark: SplatArch | null = null;
  let cpu: number | null = h.fields['cpu'] !== undefined ? Number(h.fields['cpu']) : null;
  let comm: string | null = h.fields['comm'] ?? null;
  let pid: number | null = h.fields['pid'] !== undefined ? Number(h.fields['pid']) : null;
  let access: Splat['access'] = null;
  let irq = false;
  let inexact = false;
  /** The main call trace, and whether the kernel printed something after it that follows only a whole trace. */
  let main: Stack | null = null;
  let afterMain = false;

  for (const l of b.lines) {
    const t = l.text.trim();
    if (l === b.headerLine) {
      sawHeader = true;
      continue;
    }
    if (dump) {
      if (dump.feed(t)) continue;
      if (!dump.active) {
        page ??= dump.dump;
        dump = null;
      }
    }
    if (startsPageDump(t) && page === null) {
      dump = new PageDumpReader(l.n);
      dump.feed(t);
      continue;
    }
    if (!sawHeader) continue;
    arch ??= archOfLine(t) ?? null;
    archByLabel ??= archOfTraceLabel(t) ?? null;
    archByMark ??= archOfStackMark(t) ?? null;
    if (/^Leftover inexact backtrace:/.test(t)) {
      inexact = true; // the unwinder gave up: what follows is a scan of the stack, not a chain of callers
      continue;
    }
    const label = LABELS.find((x) => x.re.test(t));
    if (label) {
      inexact = false;
      const m = label.re.exec(t)!;
      current = { label: label.label, frames: [], line: l.n };
      if (label.label !== 'call trace') current.title = t;
      const task = label.task?.(m);
      if (task) current.task = task;
      stacks.push(current);
      continue;
    }
    if (main !== null && main.frames.length > 0 && AFTER_TRACE.test(t)) afterMain = true;
    const mark = CONTEXT_MARK.exec(t);
    if (mark)
      irq = /<(?:IRQ|NMI|SOFTIRQ)>\s*$/.test(mark[0]) || (/<(?:IRQ|NMI|SOFTIRQ)>/.test(mark[0]) && !/<(?:\/IRQ|EOI|\/NMI|TASK|\/SOFTIRQ)>/.test(mark[0]));
    const frames = parseFrameLine(t, l.n);
    if (frames) {
      if (irq) for (const f of frames) f.irq = true;
      if (inexact) for (const f of frames) f.unreliable = true;
      if (!current) {
        current = { label: stacks.some((s) => s.label === 'call trace') ? 'unlabelled' : 'call trace', frames: [], line: l.n };
        stacks.push(current);
      }
      current.frames.push(...frames);
      if (current.label === 'call trace') main ??= current;
      continue;
    }
    if (STACK_MARKERS.test(t) || t === '') continue;
    current = null;
    if (ip === null) {
      const f = parseIpLine(t, l.n);
      if (f) {
        ip = f;
        continue;
      }
    }
    let m: RegExpExecArray | null;
    if ((m = /^CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (.+?) (?:Not tainted|Tainted)/.exec(t))) {
      cpu ??= Number(m[1]);
      pid ??= Number(m[2]);
      comm ??= m[3]!;
    } else if ((m = /^Pid: (\d+), comm: (.+?) (?:Not tainted|Tainted)/.exec(t))) {
      pid ??= Number(m[1]);
      comm ??= m[2]!;
    } else if ((m = /^Process (.+?) \(pid: (\d+)/.exec(t))) {
      comm ??= m[1]!;
      pid ??= Number(m[2]);
    } else if ((m = /^CPU:\s+(\d+)\s*$/.exec(t))) {
      cpu ??= Number(m[1]);
    } else if ((m = /^Hardware name: (.*)$/.exec(t))) {
      hardware ??= m[1]!;
    } else if ((m = /^(Read|Write) of size (\d+) (?:at addr [0-9a-f]+ )?by task (.+?)\/(\d+)/.exec(t))) {
      access ??= { type: m[1] as 'Read' | 'Write', size: Number(m[2]) };
      comm ??= m[3]!;
      pid ??= Number(m[4]);
    } else if (/^Kernel panic - not syncing/.test(t)) {
      b.panicked = true;
    }
    if (kernel === null) {
      const rel = releaseIn(t);
      if (rel) kernel = rel;
    }
    // the release after it may be a name (syzbot's `Tainted: G             L      syzkaller #0`)
    if (tainted === null && (m = /(Not tainted|Tainted: [A-Z ]*?)\s+(?:\d+\.\d+|\S+ #\d)/.exec(t))) tainted = m[1]!.replace(/^Tainted: /, '').trim() || null;
  }
  if (dump) page ??= dump.dump;

  // The task from the caller id when nothing else named it.
  const caller = b.headerLine.caller;
  if (pid === null && caller?.startsWith('T')) pid = Number(caller.slice(1));
  if (cpu === null && caller?.startsWith('C')) cpu = Number(caller.slice(1));

  const primary = stacks.find((s) => s.label === 'call trace') ?? stacks.find((s) => s.label === 'access') ?? stacks[0];
  const first = b.lines[0]!.n;
  const outermost = main?.frames[main.frames.length - 1];
  const whole = afterMain || b.endedBy === 'end-trace' || b.endedBy === 'rule' || (outermost !== undefined && ENTRY_FRAME.test(baseName(outermost.function)));
  return {
    kind: h.kind,
    title: '',
    style: h.style,
    header: { text: b.headerLine.text.trim(), line: b.headerLine.n },
    lines: { first, last: b.last },
    kernel,
    kernelFrom: kernel ? 'splat' : null,
    tainted,
    task: comm !== null || pid !== null ? { comm, pid } : null,
    cpu,
    hardware,
    arch: arch ?? archByMark ?? archOfFrames(stacks) ?? archByLabel ?? archOfRelease(kernel) ?? null,
    at: h.fields['file'] ? `${h.fields['file']}:${h.fields['srcline']}` : null,
    ip,
    frames: primary?.frames ?? [],
    stacks,
    culprit: null,
    page,
    access,
    truncated: null,
    traceCut: outermost !== undefined && !whole ? outermost.function : null,
    panicked: b.panicked,
    noise: b.noise,
    fields: h.fields,
  };
}
