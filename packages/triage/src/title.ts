/**
 * Titles in syzkaller's style (`kernel BUG in filemap_unaccount_folio`, `WARNING in
 * truncate_inode_partial_folio`, `KASAN: use-after-free Read in filemap_fault`, `INFO: task
 * hung in folio_wait_bit_common`), named after the culprit: the first frame that is not
 * reporting machinery (helpers.ts). Where syzkaller skips a page-cache frame, kreplay does
 * not, so the two titles differ there on purpose (docs/triage.md lists the cases).
 */
import { baseName, type Frame } from './frames.js';
import { isHelper, type HelperRole } from './helpers.js';
import type { Splat } from './splat.js';

type Culprit = NonNullable<Splat['culprit']>;

function firstOf(frames: readonly Frame[], roles: readonly HelperRole[], from: Culprit['from']): Culprit | null {
  for (const f of frames) {
    if (f.unreliable) continue;
    if (!isHelper(f.function, roles)) return { function: f.function, from, line: f.line };
  }
  return null;
}

const ALL: HelperRole[] = ['report', 'sanitizer', 'library'];

/** The culprit of a splat, by its kind. */
export function culpritOf(s: Splat): Culprit | null {
  const ip = s.ip && !isHelper(s.ip.function, ALL) ? { function: s.ip.function, from: 'ip' as const, line: s.ip.line } : null;
  const headerFn = s.fields['fn'];
  switch (s.kind) {
    case 'bad-page-cache':
    case 'bad-page-state': {
      const alloc = s.stacks.find((x) => x.label === 'page allocated');
      if (alloc) {
        const c = firstOf(alloc.frames, [...ALL, 'alloc'], 'page allocated');
        if (c) return c;
      }
      return firstOf(s.frames, [...ALL, 'free'], 'frames');
    }
    case 'kasan': {
      if (headerFn && !isHelper(headerFn, ALL)) return { function: headerFn, from: 'header', line: s.header.line };
      return firstOf(s.frames, ALL, 'frames');
    }
    case 'hung-task':
      return firstOf(s.frames, [...ALL, 'sched'], 'frames');
    case 'kcsan':
      return firstOf(s.frames, ALL, 'frames');
    case 'other':
      if (s.style === 'soft-lockup' || s.style === 'rcu-stall') {
        // A stall: the interrupted task's frames (after the timer interrupt's) are where it loops.
        const lastIrq = s.frames.map((f) => f.irq === true).lastIndexOf(true);
        const task = s.frames.slice(lastIrq + 1);
        return (s.style === 'soft-lockup' ? ip : null) ?? firstOf(task, [...ALL, 'alloc', 'sched'], 'frames');
      }
      if (s.style === 'with-frame' && headerFn && !isHelper(headerFn, ALL)) return { function: headerFn, from: 'header', line: s.header.line };
      // "scheduling while atomic", "sleeping function called": the scheduler frames are where it was caught.
      return ip ?? firstOf(s.frames, s.style === 'with-frame' ? [...ALL, 'sched'] : ALL, 'frames');
    case 'warning':
      return ip ?? firstOf(s.frames, ALL, 'frames') ?? (headerFn ? { function: headerFn, from: 'header', line: s.header.line } : null);
    default:
      return ip ?? firstOf(s.frames, ALL, 'frames');
  }
}

/** What is missing from a splat that its kind always prints. */
export function truncation(s: Splat, endedBy: string | null): string | null {
  const stackless = s.kind === 'kcsan' || (s.fields['title'] !== undefined && s.kind === 'other' && s.frames.length === 0 && !s.ip);
  if (s.frames.length === 0 && !s.ip && !stackless) {
    return endedBy === 'eof' ? 'the log ends before the call trace' : 'no call trace follows the header';
  }
  if (endedBy === 'eof' && s.frames.length === 0 && s.stacks.some((x) => x.label === 'call trace')) {
    return 'the log ends where the call trace starts (no frame of it)';
  }
  if ((s.kind === 'bad-page-cache' || s.kind === 'bad-page-state') && s.page === null) return 'the page dump is missing';
  return null;
}

/** System-call wrappers one architecture or version adds to the call's name (as syzkaller strips them). */
const SYSCALL_PREFIX =
  /^(?:__x64_sys_|__ia32_sys_|__arm64_sys_|__riscv_sys_|__se_sys_|__do_sys_|__se_|ksys_|SyS_|SYSC_|sys_|compat_SyS_|compat_SYSC_|____sys_|___sys_|__sys_)/;

/** The name a title uses for a function: compiler clone suffixes and syscall wrapper prefixes off. */
export function titleName(fn: string): string {
  const b = baseName(fn);
  const stripped = b.replace(SYSCALL_PREFIX, '');
  return stripped.length > 0 ? stripped : b;
}

/** The syzkaller-style title. */
export function titleOf(s: Splat): string {
  const fn = s.culprit ? titleName(s.culprit.function) : 'corrupted';
  const f = s.fields;
  switch (s.kind) {
    case 'bad-page-cache':
    case 'bad-page-state':
      return `BUG: Bad page ${f['what'] ?? 'state'} in ${fn}`;
    case 'bug':
      if (f['file'] === 'mm/usercopy.c') return `BUG: bad usercopy in ${fn}`;
      if (f['file'] === 'lib/list_debug.c') return `BUG: corrupted list in ${fn}`;
      return `kernel BUG in ${fn}`;
    case 'warning':
      if (/lib\/refcount\.c$/.test(f['file'] ?? '')) return `WARNING: refcount bug in ${fn}`;
      if (/lib\/debugobjects\.c$/.test(f['file'] ?? '')) return `WARNING: ODEBUG bug in ${fn}`;
      if (/lib\/kobject\.c$/.test(f['file'] ?? '')) return `WARNING: kobject bug in ${fn}`;
      if (/mm\/usercopy\.c$/.test(f['file'] ?? '')) return `WARNING: bad usercopy in ${fn}`;
      if (/kernel\/locking\/lockdep\.c$/.test(f['file'] ?? '')) return `WARNING: locking bug in ${fn}`;
      return `WARNING in ${fn}`;
    case 'kasan': {
      if (s.style === 'kasan-free') return `KASAN: invalid-free in ${fn}`;
      const type = f['type'] ?? 'unknown';
      return s.access ? `KASAN: ${type} ${s.access.type} in ${fn}` : `KASAN: ${type} in ${fn}`;
    }
    case 'gpf':
      return `general protection fault in ${fn}`;
    case 'kcsan':
      return `KCSAN: ${(f['what'] ?? 'data-race').replace(/\s+/g, ' ')}`;
    case 'hung-task':
      return `INFO: task hung in ${fn}`;
    default:
      return otherTitle(s, fn);
  }
}

function otherTitle(s: Splat, fn: string): string {
  const f = s.fields;
  switch (s.style) {
    case 'null-deref':
      return `BUG: unable to handle kernel NULL pointer dereference in ${fn}`;
    case 'paging-request':
      return `BUG: unable to handle kernel paging request in ${fn}`;
    case 'soft-lockup':
      return `BUG: soft lockup in ${fn}`;
    case 'rcu-stall':
      return `INFO: rcu detected stall in ${fn}`;
    case 'lockdep':
      return /inconsistent/.test(f['what'] ?? '') ? `inconsistent lock state in ${fn}` : `possible deadlock in ${fn}`;
    case 'with-frame':
      // no kernel frame at all (a Bad pagetable oops in user mode): the header's own title, if it has one
      return s.culprit === null && f['title'] !== undefined ? sanitize(f['title']) : `${f['prefix']} in ${fn}`;
    case 'panic':
      return `kernel panic: ${f['what'] ?? ''}`.trim();
    default:
      return sanitize(f['title'] ?? s.header.text);
  }
}

/** Printable, single-spaced, at most 120 characters (what syzkaller keeps of a header). */
export function sanitize(t: string): string {
  return t
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120);
}
