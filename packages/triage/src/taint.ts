/**
 * What a splat's taint says happened in its boot before it. The kernel adds a taint flag after
 * it printed the splat that causes it — `__warn` adds W after the warning (kernel/panic.c,
 * 6.1), `oops_end` adds D after the oops (arch/x86/kernel/dumpstack.c), `bad_page` adds B after
 * its dump (mm/page_alloc.c), the soft-lockup watchdog adds L after its report
 * (kernel/watchdog.c), `mce_panic`/`mce_log` M — so one of these letters in a splat's own
 * `Tainted:` line is a failure *earlier* in that boot: a task that died holding a lock, a page
 * left in a state no path of the kernel leaves it in. The letters are those of `taint_flags`
 * (kernel/panic.c, 2.6.23 to 6.12); the others (P/G, O, E: which modules were loaded) say
 * nothing failed.
 */

/** The taint flags that mean an earlier failure, with what each one was. */
const EARLIER_FAILURE: Record<string, string> = {
  D: 'an earlier oops or BUG: a task died, maybe holding locks',
  W: 'an earlier WARNING',
  B: 'an earlier bad page',
  L: 'an earlier soft lockup',
  M: 'an earlier machine check',
};

/**
 * The earlier failures a splat's taint (`G    B D`, as the reader keeps it) shows, in the
 * kernel's flag order; empty for `Not tainted`, for no taint, and for module-only taints.
 */
export function earlierFailures(tainted: string | null): { flag: string; what: string }[] {
  if (!tainted || /^Not tainted/i.test(tainted)) return [];
  // positional (`G    B D`, a space for each flag not set): every letter is a flag
  const flags = tainted.replace(/^Tainted:\s*/, '').match(/[A-Z]/g) ?? [];
  return flags.filter((f) => f in EARLIER_FAILURE).map((flag) => ({ flag, what: EARLIER_FAILURE[flag]! }));
}
