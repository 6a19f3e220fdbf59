/**
 * What a splat is evidence of in kreplay's terms: the rule (docs/rules.md) a kernel check
 * that fired stands for, and the model paths of its stacks. A rule is named only where the
 * kernel's own check tests what the rule judges; anything else is null, with the reason.
 *
 * The functions the model has come from the flavors themselves (their procedures and the
 * kernel functions their steps cite), so a new flavor widens what `bug-on` can match
 * without a change here.
 */
import type { RuleId } from '@kreplay/core';
import type { Flavor } from '@kreplay/mm-model';
import { compareSeries, releaseSeries } from './flavor-choice.js';
import { baseName, type Frame } from './frames.js';
import { pathOf, type PathHit } from './paths.js';
import type { ParsedReport } from './report.js';
import type { Splat, Stack } from './splat.js';

/** Removing a page from the page cache, 2.6 to 6.x (the kernel checks `page_mapped` here). */
const REMOVAL_FN =
  /^(?:filemap_unaccount_folio|unaccount_page_cache_page|__delete_from_page_cache|delete_from_page_cache|page_cache_delete|page_cache_tree_delete|__filemap_remove_folio|filemap_remove_folio|__remove_from_page_cache|remove_from_page_cache|delete_from_page_cache_batch)$/;
/** Callers of cancel_dirty_page that remove the page from the cache right after. */
const REMOVAL_CALLER = /^(?:truncate_complete_page|truncate_inode_page|truncate_cleanup_page|truncate_cleanup_folio|invalidate_complete_page2|remove_mapping)$/;
/** Waiting for a page (folio) lock, or for the invalidate lock. */
const LOCK_WAIT =
  /^(?:__lock_page|__lock_page_killable|__lock_page_or_retry|__folio_lock|__folio_lock_killable|__folio_lock_or_retry|folio_wait_bit_common|wait_on_page_bit\w*|sync_page|lock_page|folio_lock|filemap_invalidate_lock\w*|wait_on_page_locked\w*)$/;

/** The kernel locks a hung task's wait can be on that the model has (its `blockedOn` texts name them). */
export type LockWait = 'page lock' | 'invalidate lock';

/**
 * The modelled lock a hung task waits for: the page lock (PG_locked: `__folio_lock`,
 * `folio_wait_bit_common` under `folio_lock`, 2.6's `__lock_page`/`sync_page`, ...) or the
 * invalidate lock (`filemap_invalidate_lock*`, 5.15+); null when it waits for anything else
 * (writeback, a filesystem's own lock, a mutex the model does not have).
 */
export function lockWaited(s: Splat): LockWait | null {
  if (s.kind !== 'hung-task' || !s.culprit) return null;
  const fn = baseName(s.culprit.function);
  if (!LOCK_WAIT.test(fn) || writebackWait(s)) return null;
  return /^filemap_invalidate_lock/.test(fn) ? 'invalidate lock' : 'page lock';
}

/** Kernel functions the flavors model (procedure names and the functions their steps cite) → the flavors that do. */
export function modelledFunctions(flavors: readonly Flavor[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (fn: string, flavor: string): void => {
    const l = out.get(fn) ?? [];
    if (!l.includes(flavor)) l.push(flavor);
    out.set(fn, l);
  };
  for (const f of flavors) {
    for (const [name, p] of Object.entries(f.procs)) {
      add(name, f.name);
      add(p.fn, f.name);
      for (const step of Object.values(p.steps)) {
        if (typeof step.where === 'string') for (const m of step.where.matchAll(/(\w+)\(\)/g)) add(m[1]!, f.name);
      }
    }
  }
  return out;
}

export interface RuleEvidence {
  rule: RuleId | null;
  because: string;
}

function fnOf(s: Splat): string | null {
  return s.ip?.function ?? s.culprit?.function ?? null;
}

/** The rule a splat is evidence of, and why (or why none). */
export function ruleOf(s: Splat, modelled: ReadonlyMap<string, readonly string[]>): RuleEvidence {
  const reason = s.page?.reason ?? '';
  const fn = fnOf(s);
  const base = fn ? baseName(fn) : null;
  if (s.kind === 'bad-page-cache') {
    return {
      rule: 'mapped-page-removed',
      because:
        'BUG: Bad page cache: the kernel found the page still mapped while deleting it from the page cache (filemap_unaccount_folio, __delete_from_page_cache)',
    };
  }
  if (/still mapped when deleted/.test(reason)) {
    return { rule: 'mapped-page-removed', because: `the page dump says "${reason}"` };
  }
  if (/^VM_BUG_ON_(?:PAGE|FOLIO)\((?:page|folio)_mapped\((?:page|folio)\)\)/.test(reason) && base && REMOVAL_FN.test(base)) {
    return { rule: 'mapped-page-removed', because: `${reason} in ${base}: the page was still mapped when it was removed from the page cache` };
  }
  if (s.kind === 'bug' && base && !reason && /mm\/filemap\.c$/.test(s.fields['file'] ?? '')) {
    const mapped = mappedCheckWithoutDump(base, s.kernel);
    if (mapped) return { rule: 'mapped-page-removed', because: `kernel BUG in ${base} with no page dump: ${mapped}, the page was still mapped when removed` };
  }
  const warnFn = s.fields['fn'] ?? base;
  if (s.kind === 'warning' && warnFn && baseName(warnFn) === 'cancel_dirty_page' && /mm\/truncate\.c$/.test(s.fields['file'] ?? '')) {
    const caller = s.frames.find((f) => !f.unreliable && REMOVAL_CALLER.test(baseName(f.function)));
    if (caller) {
      return {
        rule: 'mapped-page-removed',
        because: `cancel_dirty_page warns when the page is still mapped ("it had better not be mapped any more", 2.6.20); its caller ${caller.function} removes the page from the cache next`,
      };
    }
    return {
      rule: null,
      because: 'cancel_dirty_page found the page still mapped, but not on a page-cache removal path (no truncate/invalidate caller in the stack)',
    };
  }
  if (s.kind === 'warning' && warnFn && /^__?remove_from_page_cache$/.test(baseName(warnFn))) {
    return { rule: 'mapped-page-removed', because: `WARN_ON(page_mapped(page)) in ${baseName(warnFn)} (the check the seed patch resurrected)` };
  }
  if (s.kind === 'bug' && base && modelled.has(base)) {
    return {
      rule: 'bug-on',
      because: `kernel BUG in ${base}, a function the model has (${modelled.get(base)!.join(', ')}): the model reports bug-on where it models that function's BUG_ON`,
    };
  }
  const waitsFor = s.kind === 'hung-task' && s.culprit ? writebackWait(s) : null;
  if (waitsFor) {
    return {
      rule: null,
      because: `the task waits in ${s.culprit!.function} for writeback to end (called from ${waitsFor}), not for a page lock or the invalidate lock; no kreplay rule judges writeback`,
    };
  }
  if (s.kind === 'hung-task' && s.culprit && LOCK_WAIT.test(baseName(s.culprit.function))) {
    return {
      rule: 'deadlock',
      because: `the task is blocked in ${s.culprit.function} (a page lock or the invalidate lock) past the hung-task timeout: what a deadlock or a lock never released looks like`,
    };
  }
  if (
    s.kind === 'other' &&
    (s.style === 'soft-lockup' || s.style === 'rcu-stall') &&
    s.culprit &&
    modelled.has(baseName(s.culprit.function)) &&
    !stuckElsewhere(s)
  ) {
    return {
      rule: 'livelock',
      because: `the CPU is stuck in ${s.culprit.function}, a function the model has (${modelled.get(baseName(s.culprit.function))!.join(', ')}): a retry loop that never ends is a livelock`,
    };
  }
  switch (s.kind) {
    case 'kasan':
      return { rule: null, because: 'KASAN reports a memory-safety bug; the model has no memory-safety rule' };
    case 'kcsan':
      return { rule: null, because: 'KCSAN reports a data race on one location; the model judges page-cache states, not plain accesses' };
    case 'gpf':
      return { rule: null, because: 'a general protection fault is a bad pointer; the model has no memory-safety rule' };
    case 'bad-page-state':
      return {
        rule: null,
        because: `Bad page state (${reason || 'no reason printed'}) is caught when a page is freed or allocated; no kreplay rule judges that state`,
      };
    case 'bug':
      return { rule: null, because: `kernel BUG in ${base ?? 'an unknown function'}: not a function the model has` };
    case 'warning':
      return { rule: null, because: `WARNING in ${warnFn ? baseName(warnFn) : 'an unknown function'}: not a check a kreplay rule stands for` };
    case 'hung-task':
      return { rule: null, because: `the task waits in ${s.culprit?.function ?? 'an unknown place'}, not on a page lock or the invalidate lock` };
    default:
      return { rule: null, because: `${s.title}: not a check a kreplay rule stands for` };
  }
}

/**
 * The BUG in a page-cache removal function that can only be the page-still-mapped check,
 * when no page dump says so: the function's only BUG_ON is that one. 2.6.24–4.4's
 * `__remove_from_page_cache`/`__delete_from_page_cache` have `BUG_ON(page_mapped(page))`
 * (4.5 turned it into VM_BUG_ON_PAGE, which dumps the page); 5.16+'s
 * `filemap_unaccount_folio` has only `VM_BUG_ON_FOLIO(folio_mapped(folio))` (the dump was
 * left out of the paste). Others (`delete_from_page_cache`, `page_cache_delete`) also check
 * the page lock, so without the dump the check is unknown.
 */
function mappedCheckWithoutDump(fn: string, kernel: string | null): string | null {
  if (fn === 'filemap_unaccount_folio') return 'its only check is VM_BUG_ON_FOLIO(folio_mapped(folio)) (the page dump is not in the report)';
  if (fn !== '__remove_from_page_cache' && fn !== '__delete_from_page_cache') return null;
  const v = kernel ? releaseSeries(kernel) : null;
  const inRange = v === null || (compareSeries(v, [2, 6, 24]) >= 0 && compareSeries(v, [4, 4]) <= 0);
  return inRange ? `its only check (2.6.24–4.4) is BUG_ON(page_mapped(page))${v === null ? ' (the report names no kernel; assumed in that range)' : ''}` : null;
}

/** Waiting for PG_writeback: folio_wait_bit_common waits for PG_locked or PG_writeback, and its caller says which. */
const WRITEBACK_WAIT =
  /^(?:folio_wait_writeback\w*|wait_on_page_writeback\w*|__wait_on_page_writeback|folio_wait_stable|wait_for_stable_page|__filemap_fdatawait_range|filemap_fdatawait\w*|wait_on_page_writeback_range)$/;

/** The page-bit wait machinery between a waiter and the scheduler, 2.6 (sync_page, __wait_on_bit) to 6.x. */
const BIT_WAIT =
  /^(?:__wait_on_bit(?:_lock)?|out_of_line_wait_on_bit(?:_lock)?|wait_on_page_bit\w*|folio_wait_bit\w*|sync_page\w*|io_schedule\w*|bit_wait_io|__lock_page\w*|__folio_lock\w*)$/;

/** The writeback wait that called a hung task's culprit (the first reliable frame out past the bit-wait machinery), or null. */
function writebackWait(s: Splat): string | null {
  const at = s.frames.findIndex((f) => f.line === s.culprit?.line && f.function === s.culprit.function);
  if (at < 0) return null;
  const caller = s.frames.slice(at + 1).find((f) => !f.unreliable && !BIT_WAIT.test(baseName(f.function)));
  return caller && WRITEBACK_WAIT.test(baseName(caller.function)) ? caller.function : null;
}

/** The frames above a stall's culprit show it waiting for something else (reclaim, the OOM killer, the console). */
function stuckElsewhere(s: Splat): boolean {
  const at = s.frames.findIndex((f) => f.line === s.culprit?.line && f.function === s.culprit.function);
  return s.frames
    .slice(0, Math.max(0, at))
    .some((f) => /^(?:out_of_memory|oom_kill_process|dump_header|__alloc_pages\w*|shrink_\w+|_?printk|vprintk\w*|console_unlock)$/.test(baseName(f.function)));
}

/** A stack's frames innermost first, with the instruction pointer in front when it is not there already. */
function withIp(s: Splat): Frame[] {
  if (s.ip && s.frames[0]?.function !== s.ip.function) return [s.ip, ...s.frames];
  return s.frames;
}

export interface SplatPaths {
  /** The reporting task's path (its main stack). */
  reporter: PathHit | null;
  /** Other stacks of the same splat that are concurrent threads (KCSAN's second access). */
  others: PathHit[];
}

export function pathsOf(s: Splat): SplatPaths {
  // Reporting machinery above the culprit (an OOM report, printk) is not the task's path.
  const frames = withIp(s);
  const c = s.culprit;
  const at = c && (c.from === 'frames' || c.from === 'ip') ? frames.findIndex((f) => f.line === c.line && f.function === c.function) : -1;
  const found = pathOf(at > 0 ? frames.slice(at) : frames);
  // a removal no caller claimed, in a trace the paste cut: the callers that decide are not shown
  const reporter =
    found?.callersDecide && s.traceCut ? { ...found, because: `${found.because}, read from that frame alone: the trace is cut at ${s.traceCut}` } : found;
  const concurrent: Stack[] = s.kind === 'kcsan' ? s.stacks.filter((x) => x.label === 'access').slice(1) : [];
  return { reporter, others: concurrent.map((x) => pathOf(x.frames)).filter((p): p is PathHit => p !== null) };
}

/** Paths of the call traces printed outside any splat (other tasks of a SysRq-T / hung-task dump), of one boot when given. */
export function logPaths(r: ParsedReport, boot?: number): Array<PathHit & { task: string | null }> {
  const out: Array<PathHit & { task: string | null }> = [];
  for (const st of r.stacks) {
    if (boot !== undefined && (st.boot ?? 0) !== boot) continue; // a task of another boot never ran beside the splat
    const p = pathOf(st.frames);
    if (p) out.push({ ...p, task: st.task?.comm ?? null });
  }
  return out;
}
