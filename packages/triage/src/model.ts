/**
 * Report → schedule: for a splat whose rule and paths the model covers, choose the flavor
 * for its kernel, build the scenario, explore every interleaving, and keep the shortest
 * schedule that reaches the reported rule — or say plainly that the model cannot reach it
 * (every interleaving explored), or that the search was cut short (never "cannot").
 */
import { counterexample, explore, runSchedule, type ExploreResult, type FoundViolation } from '@kreplay/explore';
import type { RuleId } from '@kreplay/core';
import { bugChecks, createMachine, uncheckedBugs, type Flavor } from '@kreplay/mm-model';
import { baseName } from './frames.js';
import type { PathHit } from './paths.js';
import { buildScenario, type ThreadPlan } from './scenario.js';
import { chooseFlavor, compareSeries, notTheReportsKernel, releaseSeries } from './flavor-choice.js';
import { lockWaited, modelledFunctions, type LockWait, type SplatPaths } from './classify.js';
import type { Splat } from './splat.js';
import { earlierFailures } from './taint.js';
import type { Ordering, SplatArch } from './arch.js';

export type ModelStatus = 'schedule' | 'unreachable' | 'incomplete' | 'not-modelled';

export interface ScheduleStep {
  n: number;
  thread: string;
  label: string;
  effect?: string;
}

export interface ModelResult {
  status: ModelStatus;
  /** One sentence: what the model says, or why it was not asked. */
  because: string;
  flavor: { name: string; version: string; because: string } | null;
  scenario?: { name: string; threads: ThreadPlan[]; yaml: string; notes: string[] };
  explore?: {
    verdict: ExploreResult['verdict'];
    strategy: ExploreResult['strategy'];
    incomplete: ExploreResult['incomplete'];
    /** Every rule the exploration reached (the reported one or not). */
    reached: RuleId[];
    states: number;
    distinctStates: number;
    /** Wall-clock time of the search; left out under `kreplay triage --no-timing` (withoutTiming). */
    timeMs?: number;
  };
  schedule?: { rule: RuleId; message: string; steps: ScheduleStep[]; table: string };
  /**
   * What the search assumed of memory (present when it ran): the explorer is sequentially
   * consistent; `arch`/`ordering` are the splat's CPU and how it orders accesses (null: unknown).
   */
  memoryModel?: { searched: 'sequential-consistency'; arch: string | null; ordering: Ordering | null; archFrom: string | null };
}

export interface ModelRequest {
  splat: Splat;
  rule: RuleId | null;
  paths: SplatPaths;
  /** Other tasks of the report racing this one (the other hung tasks of a deadlock). */
  concurrent?: ReadonlyArray<PathHit & { task: string | null; why: string }>;
  logPaths: ReadonlyArray<PathHit & { task: string | null }>;
  source: string;
  /** Registry order. */
  flavors: readonly Flavor[];
  /** A flavor chosen by the user (overrides the release). */
  flavor?: Flavor;
  /** The report's release (the splat's, else the log's), or the user's. */
  release: string | null;
  /** Where `release` was read: `text` is prose around the splat (a guess: it may name another kernel). */
  releaseFrom?: string | null;
  /**
   * deadlock: every other task the report shows hung, with the function it waits in, the
   * modelled lock that is (null: none the model has) and whether kreplay has a program for its path.
   */
  otherHung?: ReadonlyArray<{ task: string | null; fn: string | null; lock: LockWait | null; modelled: boolean }>;
  /** The CPU architecture the splat shows (arch.ts), null when nothing says. */
  arch?: SplatArch | null;
  /** The first splat of the report printed before this one in the same boot, if any (1-based index). */
  earlier?: { index: number; title: string } | null;
  timeoutMs?: number;
  maxStates?: number;
  signal?: AbortSignal;
}

/** The kernel release that added `mapping->invalidate_lock` (filemap_invalidate_lock, 730633f0b7f9). */
const INVALIDATE_LOCK_SINCE = [5, 15];

/** What a model thread's `blockedOn` says when it waits for each lock (ctx.ts pageLockHeld, kernel/lib.ts invalidate_lock). */
const BLOCKED_ON: Record<LockWait, RegExp> = { 'page lock': /^PG_locked of /, 'invalidate lock': /\.invalidate_lock\b/ };

/**
 * What thread `t` waits for in a deadlock found by the explorer (ends.ts deadlockSighting:
 * `every live thread is blocked: NAME (Tt) at "LABEL" waits for WHAT; ...`), or undefined.
 */
function waitOf(v: FoundViolation, t: number): string | undefined {
  const parts = v.message.replace(/^every live thread is blocked: /, '').split(/; (?=[^;]*? \(T\d+\) at ")/);
  const mine = parts.find((p) => p.includes(` (T${t}) at "`));
  const m = mine ? / waits for (.*)$/.exec(mine) : null;
  return m ? m[1] : undefined;
}

const notModelled = (because: string, flavor: ModelResult['flavor'] = null): ModelResult => ({ status: 'not-modelled', because, flavor });

/** Does a found violation stand for the reported check? */
export function standsFor(v: FoundViolation, rule: RuleId, s: Splat): boolean {
  if (v.rule !== rule) return false;
  // deadlock: the report's task (thread 0) blocked on the lock it hung on, not any thread on any lock
  if (rule === 'deadlock') {
    const lock = lockWaited(s);
    const wait = waitOf(v, 0);
    return lock !== null && wait !== undefined && BLOCKED_ON[lock].test(wait);
  }
  // livelock: the report's task is the one that can no longer finish
  if (rule === 'livelock') return v.threads?.includes(0) ?? false;
  if (rule !== 'bug-on') return true;
  // bug-on: the model's BUG must be in the function the kernel's was (messages start with it).
  const fn = s.ip?.function ?? s.culprit?.function;
  return fn !== undefined && v.message.startsWith(`${baseName(fn)}:`);
}

export async function modelSplat(req: ModelRequest): Promise<ModelResult> {
  const { splat, rule, paths } = req;
  if (rule === null) return notModelled('the splat is not evidence of a kreplay rule');
  const reporter = paths.reporter;
  if (!reporter) return notModelled('no frame of the reporting task belongs to a path kreplay knows');
  if (reporter.program === null) return notModelled(`the reporting task is in ${reporter.label} (${reporter.because})`);
  // A page-cache removal no caller claimed, in a trace the paste cut: the callers that would say
  // whose removal it is (eviction, shmem, hugetlbfs and reclaim are not modelled) are missing,
  // so the program is a guess and no answer of the model would be about the report.
  if (reporter.callersDecide && splat.traceCut) {
    return notModelled(
      `the call trace stops at ${splat.traceCut} (nothing after it that follows a whole trace: no entry frame, </TASK>, registers or end of trace — the paste was cut), so nothing says whose page-cache removal ${reporter.frame} is — a truncate, an O_DIRECT write, inode eviction, shmem, hugetlbfs or reclaim; paste the whole trace`,
    );
  }
  const choice = req.flavor ? { flavor: req.flavor, because: `--flavor ${req.flavor.name}` } : chooseFlavor(req.release, req.flavors);
  if (!choice.flavor) return notModelled(choice.because);
  const flavor = choice.flavor;
  const guessed =
    !req.flavor && req.releaseFrom === 'text'
      ? '; that release was read from the prose around the splat, not from a kernel line (it may name another kernel: pass --release if so)'
      : '';
  const fl = { name: flavor.name, version: flavor.version, because: `${choice.because}${guessed}` };
  // bug-on is matched by the function the kernel's BUG was in. A flavor that checks no BUG in
  // that function (it lacks the function, or models it without that check) can never report
  // one there, so its "every interleaving explored" would be an empty proof: say that it cannot
  // judge, not that the BUG cannot happen.
  const bugFn = rule === 'bug-on' ? (splat.ip?.function ?? splat.culprit?.function) : undefined;
  if (bugFn !== undefined && !bugChecks(flavor).has(baseName(bugFn))) {
    const fn = baseName(bugFn);
    const others = req.flavors.filter((f) => f.name !== flavor.name && bugChecks(f).has(fn)).map((f) => `${f.name} (${bugChecks(f).get(fn)})`);
    const checks = [...bugChecks(flavor).keys()];
    const why = modelledFunctions([flavor]).has(fn)
      ? `${flavor.name} models ${fn} but none of its BUG checks (the BUGs it checks are in: ${checks.length ? checks.join(', ') : 'no function'})`
      : `${flavor.name} does not model ${fn}`;
    return notModelled(
      `${why}, so it cannot reach the BUG there${others.length ? ` (${others.join(', ')} check${others.length === 1 ? 's' : ''} one: --flavor chooses a flavor, at the price of a kernel version other than the report's)` : ''}`,
      fl,
    );
  }
  // the function's BUG the report names may be another check than the one the flavor models there
  const dumped = bugFn !== undefined ? splat.page?.reason : undefined;
  const declared = bugFn !== undefined ? bugChecks(flavor).get(baseName(bugFn)) : undefined;
  if (dumped && declared && !sameBugCheck(dumped, declared)) {
    return notModelled(
      `the report's BUG in ${baseName(bugFn!)} is ${dumped}, and ${flavor.name} models only ${declared} there, so it cannot reach the report's`,
      fl,
    );
  }
  // The kernel names the file of the BUG that fired (`kernel BUG at include/linux/mm.h:1234!`):
  // one in another file than the flavor's check is not that check — an inlined helper's BUG
  // (the instruction pointer is then in its caller), or a module's function of the same name.
  const atFile = sourceFile(splat.at ?? undefined);
  const checkFile = sourceFile(declared);
  if (atFile && checkFile && atFile !== checkFile) {
    return notModelled(
      `the report's BUG in ${baseName(bugFn!)} is at ${splat.at}, and ${flavor.name}'s check there is ${declared}: a BUG in ${atFile} is another check (an inlined helper's, or another function of that name), so it cannot reach the report's`,
      fl,
    );
  }
  // A report that does not say which of the function's BUG checks fired (no readable page dump
  // reason) may be one no step checks: a search that misses the modelled one proves nothing.
  const unchecked =
    bugFn !== undefined && declared !== undefined && (!dumped || bugCondition(dumped) === undefined) ? (uncheckedBugs(flavor).get(baseName(bugFn)) ?? []) : [];
  // A kernel built without CONFIG_DEBUG_BUGVERBOSE prints no file for its BUG (`Kernel BUG at fn+0x.. [verbose
  // debug info unavailable]`, lib/bug.c): an inlined helper's BUG (include/linux/mm.h) is then told from the
  // function's own by nothing but a page dump's condition.
  const noFile =
    bugFn !== undefined && declared !== undefined && splat.fields['verbose'] === 'no' && (!dumped || bugCondition(dumped) === undefined)
      ? `the kernel printed no file:line for its BUG in ${baseName(bugFn)} (built without CONFIG_DEBUG_BUGVERBOSE) and no BUG_ON condition, so nothing says it is ${flavor.name}'s check there, ${declared}, and not an inlined helper's`
      : '';
  const which = [
    unchecked.length > 0
      ? `the report does not say which BUG in ${baseName(bugFn!)} fired (${splat.at ? `kernel BUG at ${splat.at}, ` : ''}${dumped ? `page dumped because: ${dumped}, no BUG_ON condition` : 'no page dump reason'}), and ${flavor.name} checks only ${declared} there, not ${unchecked.join(', ')}`
      : '',
    noFile,
  ]
    .filter(Boolean)
    .join('; ');
  if (rule === 'deadlock') {
    const lock = lockWaited(splat);
    const series = releaseSeries(flavor.version);
    if (lock === 'invalidate lock' && series && compareSeries(series, INVALIDATE_LOCK_SINCE) < 0) {
      return notModelled(`the task hung on the invalidate lock (filemap_invalidate_lock, 5.15+), which ${flavor.name} does not have`, fl);
    }
  }
  const built = buildScenario({
    title: splat.title,
    source: req.source,
    flavor,
    rule,
    reporter: reporter as PathHit & { program: string },
    comm: splat.task?.comm ?? null,
    others: [...paths.others, ...(req.concurrent ?? [])].filter((p): p is PathHit & { program: string } => p.program !== null),
    logPaths: req.logPaths.filter((p): p is PathHit & { program: string; task: string | null } => p.program !== null),
    pageIndex: splat.page?.index ?? null,
    pageOrder: splat.page?.head?.order ?? null,
  });
  if ('cannot' in built) return notModelled(built.cannot, fl);
  const machine = createMachine(built.scenario, flavor);
  const result = await explore(machine, {
    strategy: 'exhaustive',
    maxStates: req.maxStates ?? 2_000_000,
    ...(req.timeoutMs ? { timeoutMs: req.timeoutMs } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
  });
  const scenario = { name: built.scenario.name, threads: built.threads, yaml: built.yaml, notes: built.notes };
  const reached = [...new Set(result.violations.map((v) => v.rule))];
  const ex: NonNullable<ModelResult['explore']> = {
    verdict: result.verdict,
    strategy: result.strategy,
    incomplete: result.incomplete,
    reached,
    states: result.stats.states,
    distinctStates: result.stats.distinctStates,
    timeMs: result.stats.timeMs,
  };
  const arch = req.arch ?? null;
  const memoryModel: NonNullable<ModelResult['memoryModel']> = {
    searched: 'sequential-consistency',
    arch: arch?.name ?? null,
    ordering: arch?.ordering ?? null,
    archFrom: arch?.from ?? null,
  };
  const threads = built.threads.map((t) => `${t.name} (${t.program})`).join(' vs ');
  /** Not modelled, after a search: the search is kept beside the reason. */
  const searchedNot = (because: string): ModelResult => ({ status: 'not-modelled', flavor: fl, scenario, explore: ex, memoryModel, because });
  const hit = result.violations.filter((v) => standsFor(v, rule, splat)).sort((a, b) => a.schedule.length - b.schedule.length)[0];
  if (hit) {
    const ce = counterexample(machine, hit, { scenario: built.scenario.name, flavor: flavor.name });
    const steps = runSchedule(machine, hit).map((s) => ({
      n: s.n,
      thread: machine.threads[s.thread]?.name ?? String(s.thread),
      label: s.label,
      ...(s.effect ? { effect: s.effect } : {}),
    }));
    return {
      status: 'schedule',
      flavor: fl,
      scenario,
      explore: ex,
      memoryModel,
      because: `on ${flavor.name}, ${threads} reaches ${rule} in ${hit.schedule.length} steps (the shortest schedule)${which ? `; ${which}: the report may be another of them` : ''}`,
      schedule: { rule, message: hit.message, steps, table: ce.table },
    };
  }
  const searched = result.exhaustive ? 'every interleaving explored' : `a search stopped early (${result.incomplete.join(', ')})`;
  const others = reached.length ? ` (it reaches ${reached.join(', ')} instead)` : '';
  // A deadlock the report shows through a task waiting on something the model has no lock for
  // (a filesystem's own lock, writeback) or in a path kreplay has no program for: the search
  // covered only the modelled part, so it proves nothing about the report's deadlock.
  const outside = (req.otherHung ?? []).filter((o) => o.lock === null || !o.modelled);
  if (rule === 'deadlock' && outside.length > 0) {
    const o = outside[0]!;
    const what = o.lock === null ? 'which is not a lock the model has' : 'on a path kreplay has no program for';
    return searchedNot(
      `the report's other hung task ${o.task ?? '?'} waits in ${o.fn ?? 'an unknown function'}, ${what}: a deadlock through it is outside the model` +
        ` (with ${threads}, ${searched}, the modelled part does not reach the report's${others})`,
    );
  }
  if (which) {
    return searchedNot(`${which}; with ${threads}, ${searched} does not reach the one it checks${others}, which proves nothing about the others`);
  }
  // The report's page is a large folio (a `head: order:N` line) and the model's pages are single
  // pages: a race that needs the folio's size (a PMD mapping, a split, a partial truncate) is
  // outside the model, so an exhaustive search that misses the rule proves nothing about the
  // report's page (a search cut short is `incomplete` already).
  const order = splat.page?.head?.order ?? 0;
  if (order > 0 && result.exhaustive) {
    return searchedNot(
      `the report's page is a large folio (order ${order}, ${2 ** Math.min(order, 20)} pages) and the model's pages are single pages; with ${threads}, every interleaving explored does not reach ${rule}${others}, which proves nothing about a large folio (a PMD mapping, a split)`,
    );
  }
  // A deadlock or livelock needs another party (the holder that never releases, the task that
  // keeps the loop going): with the report's task alone, the search only shows that this path
  // does not hang by itself, which says nothing about the report.
  if ((rule === 'deadlock' || rule === 'livelock') && built.threads.length < 2) {
    return searchedNot(
      `the report shows no other task in a path kreplay has (the ${rule === 'deadlock' ? "lock's holder" : "loop's other party"}), so the model has ${threads} alone: it does not ${rule === 'deadlock' ? 'deadlock' : 'livelock'} by itself${others}, which proves nothing about the report`,
    );
  }
  // "Cannot reach" is said of the report's kernel: only a flavor that stands for it (the stock
  // flavor of its release series) may say it. Another series' flavor — newer, which may hold fixes
  // that kernel lacks, or older, which lacks every change since (a 2.6.23 model chosen for a 5.12
  // report, or given by --flavor) — and a patched flavor are other kernels: their "every
  // interleaving explored" proves nothing about the report's.
  const other = result.exhaustive ? notTheReportsKernel(flavor, req.release, req.flavors) : undefined;
  if (other) {
    return searchedNot(
      `${other}: with ${threads}, every interleaving explored does not reach ${rule}${others}, which proves nothing about ${req.release && releaseSeries(req.release) ? `${req.release} (pass --release if that is not the crashing kernel's)` : "the report's kernel"}`,
    );
  }
  // A splat whose taint shows a failure earlier in its boot (a W, D, B, L or M flag, which the
  // kernel adds after the splat that causes it) came from a kernel that had already failed: a task
  // that died holding a page lock, a page a warning left mapped. The model starts from a kernel
  // that had not, so its "every interleaving explored" is not about the report's kernel then.
  const failed = result.exhaustive ? earlierFailures(splat.tainted) : [];
  if (failed.length > 0) {
    const first = req.earlier
      ? `splat ${req.earlier.index} (${req.earlier.title}) is the first failure the paste shows of that boot: triage it first`
      : 'the paste shows no earlier splat of that boot: the first failure was left out';
    return searchedNot(
      `the kernel was tainted ${failed.map((f) => f.flag).join('')} when this splat printed (Tainted: ${splat.tainted!.replace(/\s+/g, ' ')}: ${failed.map((f) => f.what).join('; ')}), so it had failed before — ${first} — and the model starts from a kernel that had not; with ${threads}, every interleaving explored does not reach ${rule}${others}, which proves nothing about a kernel in that state`,
    );
  }
  // A release read from a mail's prose ("I see this on 6.1 too") is a guess: it may name the kernel
  // someone upgraded from, or another they also tried. It may choose a flavor (the flavor line says
  // how it was chosen), but "cannot reach" is said of the crashing kernel, and only a line the kernel
  // printed (Not tainted/Tainted, the Linux version banner) or --release names that kernel.
  if (result.exhaustive && req.releaseFrom === 'text') {
    return searchedNot(
      `the report's kernel ${req.release} was read from the prose around the splat, not from a line the kernel printed (Not tainted/Tainted, Linux version): a mail may name a kernel it upgraded from or also tried; with ${threads} on ${flavor.name}, every interleaving explored does not reach ${rule}${others}, which proves nothing about the crashing kernel until its release is known (pass --release ${req.release} if it is that kernel's)`,
    );
  }
  // The search is sequentially consistent. A weakly ordered CPU (arm64, powerpc, riscv, ...) also
  // runs orders where a load or store is seen out of program order, as far as the kernel's barriers
  // and locks allow; the model's steps never are, so its "every interleaving" is not every execution
  // there — and a splat that does not show its CPU may be one of those.
  if (result.exhaustive && arch?.ordering !== 'tso') {
    const cpu = arch
      ? `the splat is from ${/^(?:arm|x86|s390)/.test(arch.name) ? 'an' : 'a'} ${arch.name} kernel (by ${arch.from}), a weakly ordered CPU: it reorders loads and stores wherever the kernel's barriers and locks allow`
      : "the splat does not show its CPU (no RIP:, EIP:, pc :, NIP: or epc : line, no architecture in its release), so it may be a weakly ordered one (arm64, powerpc, riscv), which reorders loads and stores wherever the kernel's barriers and locks allow";
    return searchedNot(
      `${cpu}, and the model's search is sequentially consistent; with ${threads} on ${flavor.name}, every interleaving explored does not reach ${rule}${others}, which proves nothing about those reorderings`,
    );
  }
  // The model leaves some interleavings of the kernel's code out (an I/O completion folded into the
  // step that submits it, readahead off: Machine.notSearched). "Cannot reach" is said of the model
  // (the model or the report is missing something), so it stays, but names them, as it names the
  // store buffer it does not try: the report's race may be one of them.
  const leftOut = machine.notSearched?.length ? `; the model leaves out ${machine.notSearched.join('; and ')}` : '';
  if (result.exhaustive) {
    return {
      status: 'unreachable',
      flavor: fl,
      scenario,
      explore: ex,
      memoryModel,
      because: `the model cannot reach ${rule} on ${flavor.name} with ${threads}: every interleaving explored, under sequential consistency${others} (the splat is from an ${arch!.name} kernel, by ${arch!.from}: a store there may still pass a later load where no barrier orders them, which the search does not try)${leftOut} — the model or the report is missing something`,
    };
  }
  return {
    status: 'incomplete',
    flavor: fl,
    scenario,
    explore: ex,
    memoryModel,
    because: `no ${rule} found on ${flavor.name} with ${threads}, but the search stopped early (${result.incomplete.join(', ')})${others}: this is not a proof that it cannot happen`,
  };
}

/**
 * A BUG check as `BUG_ON(condition)`, with what differs only in spelling between kernels and
 * between a page dump's reason and the source made alike: `VM_BUG_ON_FOLIO(folio_mapped(folio))`
 * and `BUG_ON(page_mapped(page)) (mm/truncate.c:438, 2.6.23.17)` are both
 * `BUG_ON(page_mapped(page))`. Undefined when the text is not a `BUG_ON` of a condition.
 */
export function bugCondition(text: string): string | undefined {
  const m = /^\s*(?:VM_)?BUG_ON(?:_[A-Z]+)?\(/.exec(text);
  if (!m) return undefined;
  let depth = 1;
  let i = m[0].length;
  let comma = -1;
  for (; i < text.length && depth > 0; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 1) comma = i;
  }
  if (depth !== 0) return undefined;
  // VM_BUG_ON_PAGE(cond, page) in the source: the second argument is the page to dump
  const cond = text.slice(m[0].length, comma >= 0 ? comma : i - 1);
  return `BUG_ON(${cond
    .replace(/\bfolio\b/g, 'page')
    .replace(/\bfolio_/g, 'page_')
    .replace(/\s+/g, '')})`;
}

/** The kernel source file a `kernel BUG at` or a declared check names (`mm/truncate.c`), if it names one. */
function sourceFile(text: string | undefined): string | undefined {
  return text ? /(?:^|[\s(])((?:arch|block|drivers|fs|include|kernel|lib|mm|net|virt)\/[\w./-]+\.[ch])\b/.exec(text)?.[1] : undefined;
}

/** Whether a page dump's reason may be the BUG check a flavor declares: only two readable, different conditions are not. */
function sameBugCheck(reason: string, declared: string): boolean {
  const a = bugCondition(reason);
  const b = bugCondition(declared);
  return a === undefined || b === undefined || a === b;
}
