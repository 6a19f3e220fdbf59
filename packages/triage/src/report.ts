/**
 * A console log in, its splats out. `ReportScanner` reads numbered lines once, keeping a
 * few recent lines (a `VM_BUG_ON_FOLIO` dump and `cut here` come before `kernel BUG at`)
 * and the splat being read; splats are finished as they end, so a log of any length is
 * read with bounded memory. Call traces outside any splat (a SysRq-T or hung-task dump of
 * other tasks) are kept as loose stacks: evidence of who else was running.
 */
import { createReadStream } from 'node:fs';
import { InputError, isReadError, readErrorWhy } from '@kreplay/core';
import { LineSource, type ConsoleLine } from './input.js';
import { parseFrameLine, type Frame } from './frames.js';
import { isCutHere, isEndMarker, isFollowUp, matchHeader } from './headers.js';
import { startsPageDump } from './page-dump.js';
import { readSplat, SplatBuilder, type Splat } from './splat.js';
import { culpritOf, titleOf, truncation } from './title.js';

export interface LooseStack {
  task: { comm: string; pid: number | null; state: string | null } | null;
  frames: Frame[];
  line: number;
  /** The boot of the log it was printed in (0, 1, ...: see ParsedReport.boots). */
  boot?: number;
}

export interface ParsedReport {
  source: string;
  /** Lines and bytes read. */
  lines: number;
  bytes: number;
  splats: Splat[];
  /** Call traces outside any splat. */
  stacks: LooseStack[];
  /** A kernel release the log states outside the splats (`Linux version ...`, or prose: `Linux 2.6.19.1`). */
  release: { value: string; line: number; from: 'log' | 'text' } | null;
  /** Things the reader should know (splats cut by the line cap, more splats than kept). */
  warnings: string[];
  /**
   * Boots the log holds: a new one starts where printk timestamps go back by more than
   * NEW_BOOT_SECONDS or a `Linux version` banner follows kernel output (two logs pasted
   * together, a console log across a reboot). Tasks of different boots never ran together.
   */
  boots: number;
  /** The line each boot after the first starts at. */
  bootLines: number[];
  /** Each boot's own `Linux version` banner, when it printed one (index: boot). */
  bootReleases: Array<ParsedReport['release']>;
}

/** Lines a splat may span (a long lockdep or KASAN report fits). */
const SPLAT_CAP = 3000;
const RECENT = 24;
const MAX_SPLATS = 500;
const MAX_STACKS = 200;
/** Printk timestamps that go back by more than this are another boot (CPUs' clocks disagree by far less). */
const NEW_BOOT_SECONDS = 5;

/**
 * What makes a splat a repeat of another: the same title and call trace (a quoted copy, a WARN
 * printed again). A splat with no frames repeats nothing.
 */
export function repeatKey(s: Splat): string | null {
  return s.frames.length > 0 ? `${s.title}\n${s.frames.map((f) => f.function).join(',')}` : null;
}
/** A page dump's lines before a `kernel BUG at` (VM_BUG_ON_PAGE/FOLIO prints the page first). */
const DUMP_LINE =
  /^(?:page:|head:|raw:|flags:|page flags:|page_type:|memcg:|page->mem_cgroup:|aops:|anon |shmem |page dumped because:|compound_mapcount:|Eeek!|page->)/;

export class ReportScanner {
  private readonly recent: ConsoleLine[] = [];
  private open: SplatBuilder | null = null;
  private lastClosed: { splat: Splat; line: number } | null = null;
  private loose: LooseStack | null = null;
  private readonly splats: Splat[] = [];
  private readonly stacks: LooseStack[] = [];
  private readonly warnings: string[] = [];
  private release: ParsedReport['release'] = null;
  private dropped = 0;
  /** Splats past MAX_SPLATS that repeat a kept one: read, and counted as its repeats. */
  private repeated = 0;
  private readonly kept = new Set<string>();
  /** Kept splats that repeat none before them. */
  private distinct = 0;
  private droppedStacks = 0;
  private n = 0;
  /** The boot being read, the last printk timestamp, where each boot after the first starts. */
  private boot = 0;
  private lastTs: number | null = null;
  private sawOutput = false;
  private readonly bootLines: number[] = [];
  private readonly bootReleases: Array<ParsedReport['release']> = [null];

  constructor(private readonly source: string) {}

  push(lines: readonly ConsoleLine[]): void {
    for (const l of lines) this.line(l);
  }

  /** The report; `inputWarnings` (LineSource.warnings(): lines cut) go first. */
  finish(bytes: number, inputWarnings: readonly string[] = []): ParsedReport {
    this.closeLoose();
    if (this.open) this.close('eof');
    this.warnings.unshift(...inputWarnings);
    if (this.repeated > 0)
      this.warnings.push(`${this.repeated} more splat(s) were read but not listed: each repeats one listed (the same title and call trace)`);
    if (this.dropped > 0) this.warnings.push(`${this.dropped} more splat(s) after the first ${MAX_SPLATS} different ones were counted, not read`);
    // loose stacks are the other parties of a race: the model's threads come from them
    if (this.droppedStacks > 0)
      this.warnings.push(
        `${this.droppedStacks} more call trace(s) outside any splat after the first ${MAX_STACKS} were counted, not read (the model looks for other racing tasks in the first ${MAX_STACKS} only)`,
      );
    if (this.boot > 0)
      this.warnings.push(
        `the log holds ${this.boot + 1} boots (a new one at line ${this.bootLines.join(', ')}: the timestamps start again or a Linux version banner follows); a splat's other parties are taken from its own boot only`,
      );
    return {
      source: this.source,
      lines: this.n,
      bytes,
      splats: this.splats,
      stacks: this.stacks,
      release: this.release,
      warnings: this.warnings,
      boots: this.boot + 1,
      bootLines: this.bootLines,
      bootReleases: this.bootReleases,
    };
  }

  private line(l: ConsoleLine): void {
    this.n = l.n;
    const t = l.text.trim();
    this.noteBoot(l, t);
    this.noteRelease(l, t);
    const open = this.open;
    if (open) {
      const end = isEndMarker(t);
      if (end === 'end-trace') {
        open.add(l);
        this.close('end-trace');
      } else if (end === 'rule' && open.lines.length > 1 && open.accepts(l)) {
        this.close('rule');
      } else if (startsPageDump(t) && open.accepts(l) && !open.header.dumpFollows) {
        // A page dump after the splat is under way starts the next one (VM_BUG_ON prints the page first).
        this.close('next');
      } else if (isFollowUp(t) && open.accepts(l)) {
        open.add(l);
      } else {
        // A header starts the next splat (also one of another task: concurrent oopses are rare).
        const h = open.accepts(l) || l.caller !== undefined ? matchHeader(t) : undefined;
        if (h && !(h.kind === 'gpf' && l.n - open.headerLine.n < 12 && (open.header.kind === 'bug' || open.header.kind === 'other'))) {
          this.close('next');
          this.start(l);
        } else if (open.lines.length >= SPLAT_CAP) {
          this.close('cap');
          this.warnings.push(`the splat at line ${open.headerLine.n} runs over ${SPLAT_CAP} lines; read up to line ${open.last}`);
        } else {
          open.add(l);
        }
      }
    } else {
      this.start(l);
    }
    this.recent.push(l);
    if (this.recent.length > RECENT) this.recent.shift();
  }

  /** A line outside any splat: maybe a header, a panic line, or a loose stack. */
  private start(l: ConsoleLine): void {
    const t = l.text.trim();
    const h = matchHeader(t);
    if (h && h.style === 'panic' && this.lastClosed && l.n - this.lastClosed.line < 80) {
      this.lastClosed.splat.panicked = true;
      return;
    }
    if (h) {
      this.closeLoose();
      // every splat is read to its end, to tell a repeat of a kept one (a WARN flood) from a new
      // one; past the caps (close) it is counted, not kept
      this.open = new SplatBuilder(h, l, this.preamble(l));
      return;
    }
    this.looseLine(l, t);
  }

  /** `cut here` and a page dump printed right before the header belong to the splat (adjacent lines). */
  private preamble(header: ConsoleLine): ConsoleLine[] {
    const out: ConsoleLine[] = [];
    let i = this.recent.length - 1;
    const same = (l: ConsoleLine): boolean => l.caller === header.caller || l.caller === undefined || header.caller === undefined;
    if (i >= 0 && isCutHere(this.recent[i]!.text) && same(this.recent[i]!)) {
      out.unshift(this.recent[i]!);
      i--;
    }
    const dump: ConsoleLine[] = [];
    // In a quoted log, a reply written between quoted lines is not the log's: step over it.
    let replyLines = 0;
    while (i >= 0) {
      const l = this.recent[i]!;
      if (header.quoted && !l.quoted && replyLines < 8) {
        replyLines++;
        i--;
        continue;
      }
      if (!DUMP_LINE.test(l.text.trim()) || !same(l)) break;
      dump.unshift(l);
      replyLines = 0;
      i--;
    }
    const startAt = dump.findIndex((l) => startsPageDump(l.text));
    if (startAt >= 0) out.unshift(...dump.slice(startAt));
    return out;
  }

  private looseLine(l: ConsoleLine, t: string): void {
    if (/^(?:Call Trace|Call trace)\s*:?\s*$/.test(t)) {
      this.closeLoose();
      this.loose = { task: this.taskBefore(), frames: [], line: l.n, boot: this.boot };
      return;
    }
    if (!this.loose) return;
    const frames = parseFrameLine(t, l.n);
    if (frames) this.loose.frames.push(...frames);
    else if (!/^(?:<\/?(?:TASK|IRQ|NMI|EOI)>|\.\.\.)$/.test(t)) this.closeLoose();
  }

  /** The task line a SysRq-T / hung-task dump prints before its call trace. */
  private taskBefore(): LooseStack['task'] {
    for (let i = this.recent.length - 1; i >= Math.max(0, this.recent.length - 4); i--) {
      const t = this.recent[i]!.text.trim();
      let m = /^task:(\S+)\s+state:(\w)\b.*?\bpid:\s*(\d+)/.exec(t);
      if (m) return { comm: m[1]!, state: m[2]!, pid: Number(m[3]) };
      m = /^CPU: \d+ (?:UID: \d+ )?PID: (\d+) Comm: (.+?) (?:Not tainted|Tainted)/.exec(t);
      if (m) return { comm: m[2]!, state: null, pid: Number(m[1]) };
      m = /^(\S{1,16})\s+([RSDTtXZ])\s+(?:[0-9a-f]{8,16}|running)\s+\d+\s+(\d+)\s/i.exec(t);
      if (m) return { comm: m[1]!, state: m[2]!, pid: Number(m[3]) };
    }
    return null;
  }

  private closeLoose(): void {
    if (this.loose && this.loose.frames.length > 0) {
      if (this.stacks.length < MAX_STACKS) this.stacks.push(this.loose);
      else this.droppedStacks++;
    }
    this.loose = null;
  }

  private close(endedBy: NonNullable<SplatBuilder['endedBy']>): void {
    const b = this.open!;
    this.open = null;
    b.endedBy = endedBy;
    const s = readSplat(b);
    s.culprit = culpritOf(s);
    s.title = titleOf(s);
    s.truncated = truncation(s, endedBy);
    s.boot = this.boot;
    // MAX_SPLATS bounds the new splats kept and, apart, the repeats listed: a flood of one WARN
    // never keeps the splat after it unread (at most 2 x MAX_SPLATS splats are held)
    const key = repeatKey(s);
    const repeat = key !== null && this.kept.has(key);
    if (repeat ? this.splats.length < MAX_SPLATS : this.distinct < MAX_SPLATS) {
      this.splats.push(s);
      if (!repeat) this.distinct++;
      if (key !== null) this.kept.add(key);
    } else if (repeat) this.repeated++;
    else this.dropped++;
    this.lastClosed = { splat: s, line: b.last };
  }

  /** A new boot: the timestamps start again, or a `Linux version` banner after kernel output. */
  private noteBoot(l: ConsoleLine, t: string): void {
    const ts = l.ts !== undefined ? Number.parseFloat(l.ts) : NaN;
    const banner = /^Linux version \d/.test(t);
    const back = Number.isFinite(ts) && this.lastTs !== null && this.lastTs - ts > NEW_BOOT_SECONDS;
    if ((back || banner) && this.sawOutput) {
      // a splat or loose stack still open belongs to the boot before
      if (this.open) this.close('next');
      this.closeLoose();
      this.boot++;
      this.bootLines.push(l.n);
      this.bootReleases.push(null);
      this.sawOutput = false;
    }
    if (Number.isFinite(ts)) this.lastTs = ts;
    if (this.open || this.loose) this.sawOutput = true;
  }

  private noteRelease(l: ConsoleLine, t: string): void {
    let m = /^Linux version (\d+\.\d+(?:\.\d+){0,2}(?:[-+~][\w.+~-]*)?)/.exec(t);
    if (m) this.bootReleases[this.boot] ??= { value: m[1]!, line: l.n, from: 'log' };
    if (this.release?.from === 'log') return;
    if (m) {
      this.release = { value: m[1]!, line: l.n, from: 'log' };
      return;
    }
    if (this.release) return;
    m =
      /\b(?:Linux|kernel) (?:version )?(\d+\.\d+(?:\.\d+){1,2}(?:-[\w.+~-]+)?)\b/.exec(t) ??
      /\b(?:Linux|kernel) (?:version )?v?(\d\.\d+(?:-rc\d+)?)\b/.exec(t) ??
      // A bare version in prose only when it cannot be anything else: 2.6.x, or an -rc tag.
      /(?<![\w.])(2\.6\.\d+(?:\.\d+)?(?:-rc\d+)?(?:-(?:mm|git)\d+)?|\d\.\d+(?:\.\d+)?-rc\d+(?:-[\w.]+)?)(?![\w.])/.exec(t);
    if (m && !l.prefixed) this.release = { value: m[1]!, line: l.n, from: 'text' };
  }
}

/** Parse a whole text (a string already in memory). */
export function parseReport(text: string, source = '<text>'): ParsedReport {
  const src = new LineSource(source);
  const sc = new ReportScanner(source);
  sc.push(src.push(text));
  sc.push(src.end());
  return sc.finish(src.bytes, src.warnings());
}

/** Stream a file (or `-` for stdin) through the scanner. */
export async function scanReportFile(file: string, opts: { signal?: AbortSignal } = {}): Promise<ParsedReport> {
  const src = new LineSource(file);
  const sc = new ReportScanner(file);
  const stream = file === '-' ? process.stdin : createReadStream(file);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      sc.push(src.push(chunk));
    }
  } catch (e) {
    if ((e as InputError).name === 'InputError') throw e;
    if (isReadError(e)) {
      throw new InputError(`cannot read report: ${readErrorWhy(e)}`, { file, hint: 'pass a file with the kernel log (or - for stdin)', cause: e });
    }
    throw e;
  }
  sc.push(src.end());
  return sc.finish(src.bytes, src.warnings());
}
