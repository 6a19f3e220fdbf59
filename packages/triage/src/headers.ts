/**
 * The first line of each kind of kernel splat, 2.6 to 6.x, and what it says. A header
 * either starts a splat, or (`follow`) continues the one just opened: `kernel BUG at` is
 * followed by `invalid opcode:` / `Oops:`, a page fault by `#PF:` and `Oops:`, any oops by
 * `Kernel panic - not syncing`.
 */

export const SPLAT_KINDS = ['bad-page-cache', 'bad-page-state', 'bug', 'warning', 'kasan', 'gpf', 'kcsan', 'hung-task', 'other'] as const;
export type SplatKind = (typeof SPLAT_KINDS)[number];

export interface Header {
  kind: SplatKind;
  /** How the title is made (title.ts). */
  style: TitleStyle;
  /** What the header line itself says (file, line, function, task, access type, ...). */
  fields: Record<string, string>;
  /**
   * The kernel prints the page dump after this header, inside the same splat (bad_page,
   * KASAN's "The buggy address belongs to the physical page", print_bad_pte's
   * `dump_page(page, "bad pte")`), not before it as VM_BUG_ON_PAGE does.
   */
  dumpFollows?: boolean;
}

export type TitleStyle =
  | 'bad-page'
  | 'kernel-bug'
  | 'warning'
  | 'kasan'
  | 'kasan-free'
  | 'gpf'
  | 'kcsan'
  | 'hung-task'
  | 'null-deref'
  | 'paging-request'
  | 'soft-lockup'
  | 'rcu-stall'
  | 'lockdep'
  | 'fixed'
  | 'with-frame'
  | 'panic';

interface Rule {
  re: RegExp;
  make(m: RegExpExecArray): Header;
}

const F = String.raw`[\w.$]+`;
const SRC = String.raw`[\w./-]+\.[A-Za-z]+`;

const RULES: Rule[] = [
  {
    re: /^BUG: Bad page (cache|state) in process (.+?)\s+pfn:([0-9a-f]+)/,
    make: (m) => ({
      kind: m[1] === 'cache' ? 'bad-page-cache' : 'bad-page-state',
      style: 'bad-page',
      fields: { what: m[1]!, comm: m[2]!, pfn: m[3]! },
      dumpFollows: true,
    }),
  },
  {
    re: /^Bad page state at (\w+) \(in process '([^']*)', page ([0-9a-f]+)\)/,
    make: (m) => ({
      kind: 'bad-page-state',
      style: 'bad-page',
      fields: { what: 'state', at: m[1]!, comm: m[2]!, page: m[3]! },
      dumpFollows: true,
    }),
  },
  {
    re: /^(?:BUG: )?Bad page state in process '?([^'\s]+)'?/,
    make: (m) => ({ kind: 'bad-page-state', style: 'bad-page', fields: { what: 'state', comm: m[1]! }, dumpFollows: true }),
  },
  // mm/memory.c print_bad_pte(): the header, dump_page(page, "bad pte"), addr:/file: lines, dump_stack().
  {
    re: /^BUG: Bad page map in process (\S+)/,
    make: (m) => ({ kind: 'other', style: 'fixed', fields: { title: 'BUG: Bad page map', comm: m[1]! }, dumpFollows: true }),
  },
  {
    re: new RegExp(String.raw`^(?:kernel BUG|Kernel BUG) at (${SRC}):(\d+)`),
    make: (m) => ({ kind: 'bug', style: 'kernel-bug', fields: { file: m[1]!, srcline: m[2]! } }),
  },
  // lib/bug.c report_bug() on a kernel without CONFIG_DEBUG_BUGVERBOSE: no file, the BUG's address as %pB.
  {
    re: new RegExp(
      String.raw`^Kernel BUG at (?:(${F})\+0x[0-9a-f]+\/0x[0-9a-f]+(?: \[[\w-]+\])?|0x[0-9a-f]+|[0-9a-f]{8,16}) \[verbose debug info unavailable\]`,
    ),
    make: (m) => ({ kind: 'bug', style: 'kernel-bug', fields: { verbose: 'no', ...(m[1] ? { fn: m[1] } : {}) } }),
  },
  {
    re: new RegExp(String.raw`^WARNING: CPU: (\d+) PID: (\d+) at (${SRC}):(\d+) (${F})(?:\+0x|\(\))`),
    make: (m) => ({
      kind: 'warning',
      style: 'warning',
      fields: { cpu: m[1]!, pid: m[2]!, file: m[3]!, srcline: m[4]!, fn: m[5]! },
    }),
  },
  {
    re: new RegExp(String.raw`^WARNING: (?:CPU: (\d+) PID: (\d+) )?at (${SRC}):(\d+) (${F})`),
    make: (m) => ({
      kind: 'warning',
      style: 'warning',
      fields: { ...(m[1] ? { cpu: m[1], pid: m[2]! } : {}), file: m[3]!, srcline: m[4]!, fn: m[5]! },
    }),
  },
  {
    re: new RegExp(String.raw`^WARNING: (${SRC}):(\d+) at (?:(${F})\+0x[0-9a-f]+\/0x[0-9a-f]+|0x[0-9a-f]+), CPU#(\d+): (.+)\/(\d+)`),
    make: (m) => ({
      kind: 'warning',
      style: 'warning',
      fields: { file: m[1]!, srcline: m[2]!, ...(m[3] ? { fn: m[3] } : {}), cpu: m[4]!, comm: m[5]!, pid: m[6]! },
    }),
  },
  // kernel/panic.c __warn() on a kernel without CONFIG_DEBUG_BUGVERBOSE (no file:line): `at %pS`.
  {
    re: new RegExp(String.raw`^WARNING: CPU: (\d+) PID: (\d+) at (?:(${F})\+0x[0-9a-f]+\/0x[0-9a-f]+|0x[0-9a-f]+)(?:\s|$)`),
    make: (m) => ({ kind: 'warning', style: 'warning', fields: { cpu: m[1]!, pid: m[2]!, ...(m[3] ? { fn: m[3] } : {}) } }),
  },
  {
    re: new RegExp(String.raw`^BUG: warning at (${SRC}):(\d+)\/(${F})\(\)`),
    make: (m) => ({ kind: 'warning', style: 'warning', fields: { file: m[1]!, srcline: m[2]!, fn: m[3]! } }),
  },
  {
    re: new RegExp(String.raw`^BUG: at (${SRC}):(\d+) (${F})\(\)`),
    make: (m) => ({ kind: 'warning', style: 'warning', fields: { file: m[1]!, srcline: m[2]!, fn: m[3]! } }),
  },
  {
    re: new RegExp(String.raw`^Badness in (${F}) at (${SRC}):(\d+)`),
    make: (m) => ({ kind: 'warning', style: 'warning', fields: { fn: m[1]!, file: m[2]!, srcline: m[3]! } }),
  },
  {
    re: /^WARNING: (possible circular locking dependency detected|possible recursive locking detected|inconsistent lock state|possible irq lock inversion dependency detected|.*-safe -> .*-unsafe lock order detected)/,
    make: (m) => ({
      kind: 'other',
      style: 'lockdep',
      fields: { what: m[1]! },
    }),
  },
  {
    re: /^(?:WARNING|INFO): (suspicious RCU usage|bad unlock balance detected!|held lock freed!|.*still has locks held!|lock held when returning to user space!?)/,
    make: (m) => ({
      kind: 'other',
      style: 'with-frame',
      fields: { prefix: `WARNING: ${m[1]!.replace(/ detected!$| held!$|!$/, '').replace(/^.*still has locks$/, 'still has locks held')}` },
    }),
  },
  {
    re: new RegExp(String.raw`^BUG: KASAN: (double-free or invalid-free|double-free|invalid-free) in (${F})`),
    make: (m) => ({ kind: 'kasan', style: 'kasan-free', fields: { type: m[1]!, fn: m[2]! }, dumpFollows: true }),
  },
  {
    re: new RegExp(String.raw`^BUG: KASAN: ([\w-]+) in (${F})`),
    make: (m) => ({ kind: 'kasan', style: 'kasan', fields: { type: m[1]!, fn: m[2]! }, dumpFollows: true }),
  },
  { re: /^BUG: KASAN: ([\w-]+)/, make: (m) => ({ kind: 'kasan', style: 'kasan', fields: { type: m[1]! }, dumpFollows: true }) },
  { re: /^BUG: KCSAN: (.+)$/, make: (m) => ({ kind: 'kcsan', style: 'kcsan', fields: { what: m[1]!.trim() } }) },
  { re: /^(?:Oops: )?general protection fault/, make: () => ({ kind: 'gpf', style: 'gpf', fields: {} }) },
  { re: /^INFO: task (.+?):(\d+) (?:blocked|can't die)/, make: (m) => ({ kind: 'hung-task', style: 'hung-task', fields: { comm: m[1]!, pid: m[2]! } }) },
  {
    re: /^(?:BUG: (?:unable to handle (?:kernel )?NULL pointer dereference|kernel NULL pointer dereference)|Unable to handle kernel NULL pointer dereference)/,
    make: () => ({
      kind: 'other',
      style: 'null-deref',
      fields: {},
    }),
  },
  {
    re: /^(?:BUG: (?:unable to handle (?:kernel )?paging request|unable to handle page fault for address|Unable to handle kernel data access)|Unable to handle kernel paging request)/,
    make: () => ({
      kind: 'other',
      style: 'paging-request',
      fields: {},
    }),
  },
  { re: /^BUG: soft lockup/, make: () => ({ kind: 'other', style: 'soft-lockup', fields: {} }) },
  {
    re: /^(?:INFO|rcu: INFO): rcu_(?:preempt|sched|bh|tasks)\w* (?:self-)?detected(?: expedited)? stalls?/,
    make: () => ({ kind: 'other', style: 'rcu-stall', fields: {} }),
  },
  {
    re: /^BUG: (scheduling while atomic|sleeping function called from invalid context|workqueue lockup|Bad rss-counter state|memory leak|stack guard page was hit|spinlock (?:lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU))/,
    make: (m) => ({
      kind: 'other',
      style: /workqueue lockup|rss-counter/.test(m[1]!) ? 'fixed' : 'with-frame',
      fields: { prefix: m[1] === 'memory leak' ? 'memory leak' : `BUG: ${m[1]!}`, title: `BUG: ${m[1]!}` },
    }),
  },
  {
    re: new RegExp(String.raw`^BUG: (KFENCE|KMSAN): ([\w -]+?) in (${F})`),
    make: (m) => ({ kind: 'other', style: 'with-frame', fields: { prefix: `${m[1]!}: ${m[2]!}`, fn: m[3]! } }),
  },
  { re: /^UBSAN: ([\w -]+?) in /, make: (m) => ({ kind: 'other', style: 'with-frame', fields: { prefix: `UBSAN: ${m[1]!}` } }) },
  {
    re: /^(divide error|divide_error|stack segment|int3): /,
    make: (m) => ({
      kind: 'other',
      style: 'with-frame',
      fields: { prefix: `${m[1]!.replace('divide_error', 'divide error')}${m[1] === 'stack segment' ? ' fault' : ''}` },
    }),
  },
  // arch/x86/mm/fault.c pgtable_bad(): `%s: Corrupted page table at address %lx`, the page table
  // walk (`PGD .. P4D .. PUD .. PMD .. PTE ..`), then __die("Bad pagetable"): `Bad pagetable: 000f [#1] ...`.
  {
    re: /^(\S+): Corrupted page table at address ([0-9a-f]+)/,
    make: (m) => ({ kind: 'other', style: 'with-frame', fields: { prefix: 'Bad pagetable', title: 'Bad pagetable', comm: m[1]!, address: m[2]! } }),
  },
  // arch/x86/kernel/dumpstack.c __die_header(): `STR: %04lx [#N]` for every die() of the x86 traps
  // (arch/x86/kernel/traps.c) that prints no header line of its own before it; 6.9+ prefix `Oops: `.
  {
    re: /^(?:Oops: )?(Bad pagetable|double fault|stack guard page|segment not present|invalid TSS|coprocessor segment overrun|overflow|bounds|alignment check|invalid opcode|unexpected #NM exception|Oops): [0-9a-f]{4} \[#\d+\]/,
    make: (m) => ({ kind: 'other', style: 'with-frame', fields: { prefix: m[1]!, title: m[1]! } }),
  },
  { re: /^Kernel panic - not syncing: (.*)$/, make: (m) => ({ kind: 'other', style: 'panic', fields: { what: m[1]!.trim() } }) },
  { re: /^BUG: (.+)$/, make: (m) => ({ kind: 'other', style: 'fixed', fields: { title: `BUG: ${m[1]!.trim()}` } }) },
];

const CORRUPTED = RULES.find((r) => r.re.source.includes('Corrupted page table'))!;
const CORRUPTED_PAGE_TABLE = CORRUPTED.re;

/** Lines that continue the splat just opened instead of starting one. */
const FOLLOW =
  /^(?:invalid opcode: |Oops: (?!general protection)|Internal error: |#PF: |PGD [0-9a-f]+ |Bad pagetable: |Kernel panic - not syncing|KASAN: (?:null-ptr-deref|maybe wild-memory-access|probably user-memory-access) in range|Code: )/;

/** The header a (prefix-free) kernel line starts, if any. */
export function matchHeader(text: string): Header | undefined {
  const t = text.trimStart();
  if (t.length < 5 || t.length > 600) return undefined;
  // pgtable_bad() starts its line with the task's name: any letter
  if (CORRUPTED_PAGE_TABLE.test(t)) return CORRUPTED.make(CORRUPTED_PAGE_TABLE.exec(t)!);
  const c = t.charCodeAt(0);
  // Every header starts with one of these letters: a cheap gate for the common line.
  if (
    c !== 66 &&
    c !== 75 &&
    c !== 107 &&
    c !== 87 &&
    c !== 73 &&
    c !== 103 &&
    c !== 79 &&
    c !== 85 &&
    c !== 100 &&
    c !== 115 &&
    c !== 114 &&
    c !== 105 &&
    c !== 97 &&
    c !== 98 &&
    c !== 99 &&
    c !== 111 &&
    c !== 117
  )
    return undefined;
  for (const r of RULES) {
    const m = r.re.exec(t);
    if (m) return r.make(m);
  }
  return undefined;
}

/** A line that belongs to an oops already under way (`invalid opcode:`, `Oops:`, `Kernel panic`). */
export function isFollowUp(text: string): boolean {
  return FOLLOW.test(text.trimStart());
}

/** `------------[ cut here ]------------` */
export function isCutHere(text: string): boolean {
  return /^-+\[ cut here \]-+$/.test(text.trim());
}

/** The end of a splat: `---[ end trace ... ]---`, or a separator rule (2.6 traces, KASAN, KCSAN). */
export function isEndMarker(text: string): 'end-trace' | 'rule' | undefined {
  const t = text.trim();
  if (/^-+\[ end (?:trace|Kernel panic)/.test(t)) return 'end-trace';
  if (/^={10,}$/.test(t)) return 'rule';
  return undefined;
}
