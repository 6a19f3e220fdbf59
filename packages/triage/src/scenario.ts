/**
 * A scenario (docs/scenarios.md) built from a report: one file holding the reported page,
 * cached and uptodate and not yet mapped — the state before the race — and one thread per
 * racing path: the reporting task's, and the one its state implies (a page found mapped
 * while being removed was mapped by a fault). Thread names come from the report's task
 * names, reduced to what a scenario name may hold; nothing else of the report's text goes
 * into the scenario but its sanitized title in `description`.
 *
 * The YAML is what gets explored: it is parsed back with the scenario loader before the
 * machine is built, so `--scenario-out` writes exactly the scenario whose result is shown.
 */
import { stringify } from 'yaml';
import type { RuleId } from '@kreplay/core';
import { parseScenario, type Flavor, type Scenario } from '@kreplay/mm-model';
import type { PathHit } from './paths.js';
import { sanitize } from './title.js';

export interface ThreadPlan {
  name: string;
  program: string;
  /** `report`: the reporting task; `implied`: what the reported state needs; `log`: a stack elsewhere in the log. */
  from: 'report' | 'implied' | 'log';
  because: string;
}

export interface ScenarioPlan {
  scenario: Scenario;
  yaml: string;
  threads: ThreadPlan[];
  /** File page index used (the report's, when small enough). */
  index: number;
  notes: string[];
}

export interface ScenarioRequest {
  title: string;
  source: string;
  flavor: Flavor;
  rule: RuleId;
  reporter: PathHit & { program: string };
  /** The reporting task's name (comm). */
  comm: string | null;
  /** Concurrent paths the report shows for this splat (KCSAN's other access, the other hung tasks). */
  others: ReadonlyArray<PathHit & { program: string; task?: string | null; why?: string }>;
  /** Modelled paths of other stacks in the log, with their task names. */
  logPaths: ReadonlyArray<PathHit & { program: string; task: string | null }>;
  /** The reported page's index (hex as printed), when the report has a page dump. */
  pageIndex: string | null;
  /** The reported folio's order (a `head: order:N` line), when printed. */
  pageOrder?: number | null;
}

const REMOVERS = new Set(['truncate', 'invalidate_inode_pages2_range', 'invalidate_mapping_pages', 'odirect_write']);
const MAX_INDEX = 255;

/** The thread a rule implies beside the reporting one, or undefined when it implies none. */
function implied(rule: RuleId, reporter: string): { program: string; because: string } | undefined {
  if ((rule === 'mapped-page-removed' || rule === 'bug-on') && REMOVERS.has(reporter)) {
    return { program: 'fault', because: `the page was mapped while ${reporter} removed it: a fault mapped it` };
  }
  if ((rule === 'orphan-page-mapped' || rule === 'stale-after-invalidate') && reporter === 'fault') {
    return { program: 'odirect_write', because: 'a page removed under the fault: an invalidation raced it' };
  }
  return undefined;
}

/** Scenario names: letters, digits, `_ . -`; thread names at most 15 of them. */
export function safeName(text: string, max: number): string {
  const s = text
    .replace(/\+/g, 'p')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[_.-]+|[_.-]+$/g, '')
    .slice(0, max);
  return s.length > 0 ? s : 'task';
}

function argsFor(program: string, index: number): Record<string, number | string> {
  switch (program) {
    case 'fault':
    case 'fault_around':
      return { mm: 'mapper', index };
    case 'truncate':
      return { file: 'data', size: index * 4096 };
    case 'invalidate_inode_pages2_range':
    case 'invalidate_mapping_pages':
      return { file: 'data', start: index, end: index };
    case 'odirect_write':
      return { file: 'data', offset: index * 4096, length: 4096 };
    case 'read':
      return { file: 'data', index };
    default:
      return {};
  }
}

export function buildScenario(req: ScenarioRequest): ScenarioPlan | { cannot: string } {
  const notes: string[] = [];
  let index = 0;
  if (req.pageIndex !== null) {
    const v = /^(?:0x)?[0-9a-f]+$/i.test(req.pageIndex) ? Number.parseInt(req.pageIndex.replace(/^0x/i, ''), 16) : NaN;
    if (Number.isSafeInteger(v) && v <= MAX_INDEX) index = v;
    else notes.push(`the reported page's index ${req.pageIndex} is modelled as index 0 (the race does not depend on it; small indexes keep the state small)`);
  }
  if (req.pageOrder) {
    notes.push(
      `the reported page is a large folio (order ${req.pageOrder}, ${2 ** Math.min(req.pageOrder, 20)} pages); the model's pages are single pages, so races that need a large folio (a PMD mapping, a split) are not in it`,
    );
  }
  const threads: ThreadPlan[] = [];
  const used = new Set<string>();
  const add = (name: string, program: string, from: ThreadPlan['from'], because: string): void => {
    let n = safeName(name, 15);
    for (let k = 2; used.has(n); k++) n = `${safeName(name, 12)}-${k}`;
    used.add(n);
    threads.push({ name: n, program, from, because });
  };
  add(req.comm ?? req.reporter.program, req.reporter.program, 'report', `${req.reporter.label}: ${req.reporter.because}`);
  for (const o of req.others) add(o.task ?? o.program, o.program, 'report', `${o.why ?? "the splat's other access"}: ${o.because}`);
  const imp = implied(req.rule, req.reporter.program);
  if (imp && !threads.some((t) => t.program === imp.program)) {
    const seen = req.logPaths.find((p) => p.program === imp.program);
    if (seen) add(seen.task ?? imp.program, imp.program, 'log', `${imp.because}; the log shows one: ${seen.task ?? 'a task'} in ${seen.frame}`);
    else add(imp.program, imp.program, 'implied', imp.because);
  }
  for (const t of threads) {
    if (!req.flavor.programs[t.program]) {
      return { cannot: `${req.flavor.name} has no ${t.program} program (it has ${Object.keys(req.flavor.programs).sort().join(', ')})` };
    }
  }
  const needsMapping = threads.some((t) => t.program === 'fault' || t.program === 'fault_around');
  const body: Record<string, unknown> = {
    name: safeName(`triage-${req.title}`, 80),
    description: `from ${sanitize(req.source.replace(/^.*[\\/]/, ''))}: ${sanitize(req.title)}; rule ${req.rule}`,
    flavor: req.flavor.name,
    files: [{ name: 'data', dev: '8:1', ino: 42, size: (index + 1) * 4096, pages: [{ index, flags: ['uptodate'] }] }],
    ...(needsMapping ? { processes: [{ name: 'mapper', vmas: [{ file: 'data', start: 0x10000, pgoff: index, pages: 1 }] }] } : {}),
    threads: threads.map((t) => ({ name: t.name, program: t.program, args: argsFor(t.program, index) })),
  };
  const header = [
    `# Built by kreplay triage from ${sanitize(req.source.replace(/^.*[\\/]/, ''))}: ${sanitize(req.title)}`,
    ...threads.map((t) => `#   ${t.name}: ${t.program} (${t.from}) — ${sanitize(t.because)}`),
    '# The page starts cached, uptodate and unmapped: the state before the race. Edit and run',
    '# it again with `kreplay explore` (docs/scenarios.md).',
  ].join('\n');
  const yaml = `${header}\n${stringify(body, { lineWidth: 0 })}`;
  const scenario = parseScenario(yaml, 'triage-scenario.yaml');
  return { scenario, yaml, threads, index, notes };
}
