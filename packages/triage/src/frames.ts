/**
 * Stack frames as every kernel since 2.6 prints them:
 *
 *   ` shmem_undo_range+0x6fd/0x18f0`                       x86-64 4.x+, arm64, riscv
 *   ` ? __pfx_kthread+0x10/0x10`                            an unreliable frame (`?`)
 *   ` [<ffffffff8112ab2c>] ? remove_from_page_cache+0x20/0x27`  x86 before 4.x
 *   ` [<c0103cfb>] dump_trace+0x215/0x21a`                  i386 2.6
 *   ` <c01408bf> __pagevec_free+0x1f/0x30  <c01431ad> ...`   2.6 two frames a line
 *   ` [filemap_flush+10/16] __remove_from_page_cache+0x1a/0x40`  2.6 symbolic eip
 *   ` iomap_releasepage+0x58/0xc0 [xfs]`                    a module's frame
 *   ` __filemap_remove_folio+0x210/0x330 mm/filemap.c:225`  syzbot, symbolized
 *   ` page_cache_delete mm/filemap.c:145 [inline]`          syzbot, an inlined frame
 *   ` [c0000000fd9d3b80] [c0000000003f5d1c] fn+0x1c/0x2a0 (unreliable)`  powerpc
 *
 * and the instruction pointer lines (`RIP: 0010:fn+0x../0x..`, `EIP is at fn+..`,
 * `pc : fn+..`, `NIP [..] fn+..`, `IP: [<..>] fn+..`).
 */

export interface Frame {
  /** As printed, suffixes kept (`xdp_test_run_batch.constprop.0`). */
  function: string;
  /** Offset into the function, when printed (`+0x..`). */
  offset: number | null;
  /** The function's size, when printed (`/0x..`). */
  size: number | null;
  /** Module the function is in (`[xfs]`), null for the kernel image. */
  module: string | null;
  /** `?` frames: a stale return address the unwinder found on the stack, maybe not a caller. */
  unreliable: boolean;
  /** A frame the symbolizer says was inlined into the next one (syzbot `[inline]`). */
  inline?: boolean;
  /** `file:line` when the report is symbolized. */
  source?: string;
  /** Printed inside an `<IRQ>`/`<NMI>` section of the stack (the interrupted task's frames follow it). */
  irq?: boolean;
  /** 1-based input line. */
  line: number;
}

const ADDRS = String.raw`(?:\[<?(?:0x)?[0-9a-f]{6,16}>?\]\s*|<[0-9a-f]{6,16}>\s*)*`;
const FN = String.raw`([A-Za-z_][\w.$]*)`;
const OFFSIZE = String.raw`\+0x([0-9a-f]+)\/0x([0-9a-f]+)`;
/** One `fn+0xoff/0xsize` frame with what may surround it (`:mod:fn+..` is 2.6 x86-64's module form). */
const ENTRY = new RegExp(
  String.raw`${ADDRS}(?<q>\?\s+)?(?:\[[\w.]+\+\d+\/\d+\]\s+)?(?::(?<premod>[\w-]+):)?(?<![\w.$])(?<fn>[A-Za-z_][\w.$]*)\+0x(?<off>[0-9a-f]+)\/0x(?<size>[0-9a-f]+)` +
    String.raw`(?:\s+\[(?<mod>[\w.-]+)(?:[ \t][^\]]*)?\])?(?:\s+(?<src>[\w./-]+\.[A-Za-z]+:\d+)(?::\d+)?)?(?<inl>\s+\[inline\])?`,
  'g',
);
const INLINE = new RegExp(String.raw`^${FN}\s+([\w./-]+\.[A-Za-z]+:\d+)(?::\d+)?\s+\[inline\]$`);
/** How a frame line begins (after leading space). */
const FRAME_START = new RegExp(
  String.raw`^(?:\[<?(?:0x)?[0-9a-f]{6,16}>?\]|<[0-9a-f]{6,16}>|\?\s|\[[\w.]+\+\d+\/\d+\]\s|:[\w-]+:${FN}${OFFSIZE}|${FN}${OFFSIZE}|[A-Za-z_][\w.$]*\s+[\w./-]+\.[A-Za-z]+:\d+(?::\d+)?\s+\[inline\]$)`,
);
/** `<IRQ>`, `<EOI>` ... printed at the start of a frame line (2.6–4.x). */
export const CONTEXT_MARK = /^(?:<\/?(?:IRQ|NMI|EOI|TASK|SOFTIRQ)>\s*)+/;
/** Lines that look like frames but are registers or code. */
const NOT_FRAME = /^(?:RIP|EIP|RSP|ESP|IP|NIP|LR|CTR|REGS|MSR|PC|pc|lr|sp|Code|Stack|Modules|Hardware|CPU|Pid|Process|Call|Backtrace)\b/;

function hex(s: string | undefined): number | null {
  if (s === undefined) return null;
  const v = Number.parseInt(s, 16);
  return Number.isSafeInteger(v) ? v : null;
}

/** The frames a line holds, or null when it is not a frame line. */
export function parseFrameLine(text: string, line: number): Frame[] | null {
  const t = text.trim().replace(CONTEXT_MARK, '');
  if (t.length === 0 || !FRAME_START.test(t) || NOT_FRAME.test(t)) return null;
  const inl = INLINE.exec(t);
  if (inl) return [{ function: inl[1]!, offset: null, size: null, module: null, unreliable: false, inline: true, source: inl[2]!, line }];
  const out: Frame[] = [];
  ENTRY.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ENTRY.exec(t)) !== null) {
    const g = m.groups!;
    const after = t.slice(ENTRY.lastIndex, ENTRY.lastIndex + 16);
    const f: Frame = {
      function: g['fn']!,
      offset: hex(g['off']),
      size: hex(g['size']),
      module: g['mod'] ?? g['premod'] ?? null,
      unreliable: g['q'] !== undefined || /^\s*\(unreliable\)/.test(after),
      line,
    };
    if (g['src']) f.source = g['src'];
    if (g['inl']) f.inline = true;
    out.push(f);
  }
  // An address alone (`[<001cf410>] 0x1cf410`, a user-space return) is a frame line with no kernel frame.
  if (out.length === 0 && !/^(?:\[<?(?:0x)?[0-9a-f]+>?\]\s*)+(?:0x[0-9a-f]+)?$/.test(t)) return null;
  return out;
}

const IP_LINE = new RegExp(
  String.raw`^(?:RIP|EIP|IP|NIP|pc|PC is at|EIP is at|IP is at|RIP is at)\s*:?\s*(?:[0-9a-f]{4}:)?(?:\[<?[0-9a-f]+>?\]\s*)*${FN}${OFFSIZE}(?:\s+\[([\w.-]+)\])?(?:\s+([\w./-]+\.[A-Za-z]+:\d+))?`,
);

/** The kernel function an instruction-pointer line names (`RIP: 0010:fn+0x1/0x2`), or null. */
export function parseIpLine(text: string, line: number): Frame | null {
  const m = IP_LINE.exec(text.trim());
  if (!m) return null;
  const f: Frame = { function: m[1]!, offset: hex(m[2]), size: hex(m[3]), module: m[4] ?? null, unreliable: false, line };
  if (m[5]) f.source = m[5];
  return f;
}

/** `xdp_test_run_batch` for `xdp_test_run_batch.constprop.0` (compiler clones share the name). */
export function baseName(fn: string): string {
  const i = fn.indexOf('.');
  return i > 0 ? fn.slice(0, i) : fn;
}
