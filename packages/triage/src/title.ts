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

const ALL: HelperRole[] = ['report', 'sanitizer'];

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
      return ip ?? firstOf(s.frames, ALL, 'frames');
    case 'warning':
      return ip ?? firstOf(s.frames, ALL, 'frames') ?? (headerFn ? { function: headerFn, from: 'header', line: s.header.line } : null);
    default:
      return ip ?? firstOf(s.frames, ALL, 'frames');
  }
}

/** What is missing from a splat that its kind always prints. */
export function truncation(s: Splat, endedBy: string | null): string | null {
  const stackless = s.kind === 'kcsan' || s.fields['title'] !== undefined && s.kind === 'other' && s.frames.length === 0 && !s.ip;
  if (s.frames.length === 0 && !s.ip && !stackless) {
    return endedBy === 'eof' ? 'the log ends before the call trace' : 'no call trace follows the header';
  }
  if ((s.kind === 'bad-page-cache' || s.kind === 'bad-page-state') && s.page === null) return 'the page dump is missing';
  return null;
}

/** The syzkaller-style title. */
export function titleOf(s: Splat): string {
  const fn = s.culprit ? baseName(s.culprit.function) : 'corrupted';
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
    case 'null-deref': return `BUG: unable to handle kernel NULL pointer dereference in ${fn}`;
    case 'paging-request': return `BUG: unable to handle kernel paging request in ${fn}`;
    case 'soft-lockup': return `BUG: soft lockup in ${fn}`;
    case 'rcu-stall': return `INFO: rcu detected stall in ${fn}`;
    case 'lockdep': return /inconsistent/.test(f['what'] ?? '') ? `inconsistent lock state in ${fn}` : `possible deadlock in ${fn}`;
    case 'with-frame': return `${f['prefix']} in ${fn}`;
    case 'panic': return `kernel panic: ${f['what'] ?? ''}`.trim();
    default: return sanitize(f['title'] ?? s.header.text);
  }
}

/** Printable, single-spaced, at most 120 characters (what syzkaller keeps of a header). */
export function sanitize(t: string): string {
  return t.replace(/[^\x20-\x7e]/g, '').replace(/\s+/g, ' ').trim().slice(0, 120);
}
