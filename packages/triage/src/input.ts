/**
 * Kernel console output as people paste it, turned into kernel lines: bytes decoded, CRLF
 * and control characters dropped, mail quoting (`> `), syslog/journal prefixes, dmesg
 * timestamps (`[  123.456789]`, `[Fri Apr 15 15:56:10 2022]`), printk caller ids
 * (`[T1234]`, `[ C1]`) and log levels (`<4>`) taken off and kept beside the text.
 *
 * Streaming: `LineSource` takes chunks and hands out complete lines, so a console log of
 * any size is read with bounded memory. A file that is not text (binary data in its first
 * KiB) is an InputError; stray bytes later in a long log are dropped as noise.
 */
import { InputError } from '@kreplay/core';

export interface ConsoleLine {
  /** 1-based line number in the input. */
  n: number;
  /** The kernel's text, prefixes taken off (leading spaces that belong to the kernel kept). */
  text: string;
  /** printk timestamp as printed (`413.263409`), when the line had one. */
  ts?: string;
  /** printk caller id (`T16632` for a task, `C1` for a CPU in interrupt context). */
  caller?: string;
  /** The line carried a kernel-log prefix (timestamp, caller id, `kernel:`, log level). */
  prefixed: boolean;
  /** The line was quoted in a mail (`> `). */
  quoted: boolean;
}

/** Lines longer than this are cut (a console line is at most 1024 bytes; the rest is noise). */
export const MAX_LINE = 4096;
/** Bytes judged for "is this text at all". */
const SNIFF_BYTES = 4096;

const MAIL_QUOTE = /^(?:[ \t]{0,3}>)+ ?/;
const ISO_DATE = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+/;
const SYSLOG = /^[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d+)? (?:[\w.-]+ )?(?:kernel:|\[kernel\])\s?/;
const DMESG_T = /^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d \d{4}\]\s?/;
const LOGLEVEL = /^<\d>/;
const TIMESTAMP = /^\[\s*(\d+\.\d+)\]/;
const CALLER = /^\[\s*([TC]\d+)\]/;
const KERNEL_TAG = /^kernel:\s?/;
/** journalctl's host and `kernel:` after a date or timestamp (`-o short-iso`, `-o short-monotonic`). */
const HOST_KERNEL_TAG = /^[\w.-]+ kernel:\s?/;

/** Split one raw line (no newline) into its kernel text and what its prefixes said. */
export function normalizeLine(raw: string, n: number): ConsoleLine {
  let s = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
  // Control characters (other than tab; C1 included) are never kernel text, and escape
  // sequences must not reach the user's terminal: drop them.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(s)) s = s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
  let quoted = false;
  const q = MAIL_QUOTE.exec(s);
  if (q) {
    quoted = true;
    s = s.slice(q[0].length);
  }
  let prefixed = false;
  let ts: string | undefined;
  let caller: string | undefined;
  // Prefixes come in a few orders; take them off until none applies (bounded: each pass shortens s).
  for (let pass = 0; pass < 6; pass++) {
    let m: RegExpExecArray | null;
    if (
      (m = ISO_DATE.exec(s)) ||
      (m = SYSLOG.exec(s)) ||
      (m = DMESG_T.exec(s)) ||
      (m = LOGLEVEL.exec(s)) ||
      (m = KERNEL_TAG.exec(s)) ||
      (prefixed && (m = HOST_KERNEL_TAG.exec(s)))
    ) {
      prefixed = true;
      s = s.slice(m[0].length);
      continue;
    }
    if ((m = TIMESTAMP.exec(s))) {
      prefixed = true;
      ts = m[1];
      s = s.slice(m[0].length);
      const c = CALLER.exec(s.replace(/^ /, ''));
      if (c) {
        caller = c[1];
        s = s.replace(/^ /, '').slice(c[0].length);
      }
      if (s.startsWith(' ')) s = s.slice(1);
      continue;
    }
    if ((m = CALLER.exec(s))) {
      prefixed = true;
      caller = m[1];
      s = s.slice(m[0].length);
      if (s.startsWith(' ')) s = s.slice(1);
      continue;
    }
    break;
  }
  const line: ConsoleLine = { n, text: s.replace(/\s+$/, ''), prefixed, quoted };
  if (ts !== undefined) line.ts = ts;
  if (caller !== undefined) line.caller = caller;
  return line;
}

/** Why a first chunk of input is not text, or undefined when it is. */
export function notText(bytes: Uint8Array): string | undefined {
  const n = Math.min(bytes.length, SNIFF_BYTES);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return `it holds a NUL byte at offset ${i}`;
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) odd++;
  }
  if (n > 0) {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, n));
    const bad = (text.match(/\uFFFD/g) ?? []).length;
    if ((odd + bad) / n > 0.05) return `${odd + bad} of its first ${n} bytes are not text`;
  }
  return undefined;
}

/** A line that starts something of its own (a header, a frame, a section): never a wrapped tail. */
const OWN_LINE =
  /^(?:\s*(?:\[<|<[0-9a-f]{6}|\?\s|[A-Za-z_][\w.]*\+0x[0-9a-f]+\/)|(?:BUG|WARNING|INFO|Call Trace|Call trace|kernel BUG|Kernel panic|general protection|Oops|RIP|Code|Modules linked in|CPU|Hardware name|page|flags|raw|---|===|<\/?[A-Z]+>))/;

/**
 * Chunks in, numbered ConsoleLines out. `push` returns the lines a chunk completed; `end`
 * the last one. The first bytes are checked for binary data (InputError). Two mail
 * artefacts are undone on the way: quoted-printable (`=3D`, soft breaks `=` at the end of a
 * line), when the first KiB shows it; and lines a mailer wrapped — in a log whose lines
 * carry timestamps, a line without one that follows one with one is the tail of that line.
 */
export class LineSource {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private carry = '';
  private n = 0;
  private sniffed = false;
  private sniffBuf: Uint8Array[] = [];
  private sniffLen = 0;
  private qp = false;
  private qpSoft = '';
  private qpStart = 0;
  private held: ConsoleLine | null = null;
  private prefixedSeen = 0;
  /** Lines cut at MAX_LINE (or a runaway line's carry cut), and the first of them. */
  private cut = 0;
  private firstCut = 0;
  private carryCut = false;
  bytes = 0;

  constructor(private readonly file: string) {}

  push(chunk: Uint8Array | string): ConsoleLine[] {
    if (typeof chunk === 'string') chunk = new TextEncoder().encode(chunk);
    this.bytes += chunk.length;
    if (!this.sniffed) {
      this.sniffBuf.push(chunk);
      this.sniffLen += chunk.length;
      if (this.sniffLen < SNIFF_BYTES) return [];
      return this.releaseSniffed();
    }
    return this.lines(this.decoder.decode(chunk, { stream: true }));
  }

  end(): ConsoleLine[] {
    const out = this.sniffed ? [] : this.releaseSniffed();
    const rest = this.carry + this.decoder.decode();
    this.carry = '';
    // (no newline is left in the carry; a lone CR in it still ends a line)
    const parts = rest.split(/\r+/);
    if (parts[parts.length - 1] === '') parts.pop();
    for (const p of parts) this.raw(p, out);
    if (this.qpSoft) {
      this.emit(normalizeLine(decodeQp(this.qpSoft), this.qpStart), out);
      this.qpSoft = '';
    }
    if (this.held) out.push(this.held);
    this.held = null;
    return out;
  }

  /** Lines read so far. */
  get lineCount(): number {
    return this.n;
  }

  /** What the reader should know about the input itself (lines cut). */
  warnings(): string[] {
    return this.cut > 0
      ? [
          `${this.cut} line(s) longer than ${MAX_LINE} characters were cut to their first ${MAX_LINE} (the first at line ${this.firstCut}); what they held past that was not read`,
        ]
      : [];
  }

  private releaseSniffed(): ConsoleLine[] {
    this.sniffed = true;
    const all = new Uint8Array(this.sniffLen);
    let o = 0;
    for (const c of this.sniffBuf) {
      all.set(c, o);
      o += c.length;
    }
    this.sniffBuf = [];
    const why = notText(all);
    if (why) {
      throw new InputError(`not a kernel log: ${why}`, {
        file: this.file,
        hint: 'triage reads console text (dmesg, a serial log, a mail); pass the log, not a binary (a vmcore, trace.dat, an image)',
      });
    }
    const head = this.decoder.decode(all, { stream: true });
    this.qp = /=3D|=20\r?\n/.test(head) && /=\r?\n/.test(head);
    return this.lines(head);
  }

  private lines(text: string): ConsoleLine[] {
    // A line ends at LF, CR LF (CRs before it dropped) or a lone CR (a log saved with CR
    // line ends, a terminal capture): never read as one runaway line. A CR at the very end
    // of the text waits in the carry for the next chunk, which may start with LF.
    const parts = (this.carry + text).split(/\r*\n|\r+(?=[^\r\n])/);
    this.carry = parts.pop()!;
    const out: ConsoleLine[] = [];
    for (const p of parts) this.raw(p, out);
    // a runaway line: the carry is cut, and the line it ends up in is counted as cut
    if (this.carry.length > MAX_LINE * 4) {
      this.carry = this.carry.slice(0, MAX_LINE);
      this.carryCut = true;
    }
    return out;
  }

  /** One raw line: quoted-printable soft breaks joined, then normalized and maybe joined to the line before. */
  private raw(p: string, out: ConsoleLine[]): void {
    const n = ++this.n;
    if (p.length > MAX_LINE || this.carryCut) {
      if (this.cut++ === 0) this.firstCut = n;
      this.carryCut = false;
    }
    if (this.qp) {
      if (this.qpSoft === '') this.qpStart = n;
      if (p.endsWith('=') && this.qpSoft.length < MAX_LINE) {
        this.qpSoft += p.slice(0, -1);
        return;
      }
      p = decodeQp(this.qpSoft + p);
      this.qpSoft = '';
      this.emit(normalizeLine(p, this.qpStart), out);
      return;
    }
    this.emit(normalizeLine(p, n), out);
  }

  private emit(l: ConsoleLine, out: ConsoleLine[]): void {
    const h = this.held;
    if (
      h &&
      h.prefixed &&
      !l.prefixed &&
      this.prefixedSeen >= 3 &&
      l.text.trim() !== '' &&
      !OWN_LINE.test(l.text) &&
      h.text.length + l.text.length < MAX_LINE
    ) {
      h.text = `${h.text} ${l.text.trim()}`;
      return;
    }
    if (l.prefixed) this.prefixedSeen++;
    if (h) out.push(h);
    this.held = l;
  }
}

function decodeQp(s: string): string {
  return s.replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** All lines of a text (tests, `-` read whole). */
export function textLines(text: string, file = '<text>'): ConsoleLine[] {
  const src = new LineSource(file);
  return [...src.push(text), ...src.end()];
}
