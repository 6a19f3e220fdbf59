/**
 * A schedule file (`kreplay explore --schedule FILE`, docs/explore.md): the schedule a
 * previous run reported, read from any of the places a run reports it:
 *
 * - an explorer trace (`--trace-out`): its `# kreplay: explore … schedule=… [cycle=…]` header
 *   line (the explorer-trace contract in @kreplay/core; a newer format is refused);
 * - the `--json` output: `violations[i].schedule` (and `.cycle`) of the violation `--rule`
 *   names, else of the first; or one such violation object on its own (`jq '.violations[1]'`);
 * - a JSON list of thread ids (`[0,1,1,0]`);
 * - plain text: the first line that is not blank or a `#` comment holds the thread ids,
 *   separated by commas or spaces, optionally followed by `↻` and a livelock's cycle — the
 *   text output's `schedule (N steps): 0,1,1 ↻ 1,1` line pasted as it is works too.
 */
import { InputError, checkJsonText, decodeExploreHeader, inputExcerpt, isExploreHeader } from '@kreplay/core';
import type { RecordedSchedule } from './types.js';

export interface ScheduleFile extends RecordedSchedule {
  /** Which of the three forms the file was. */
  form: 'trace' | 'json' | 'text';
  /** What the file says the schedule was recorded for, where it says. */
  rule?: string;
  scenario?: string;
  flavor?: string;
}

const HINT = 'give --schedule an explorer trace (--trace-out), the --json output of kreplay explore, or a line of thread ids such as 0,1,1,0 (docs/explore.md)';

/**
 * Read a schedule file's text. `rule` picks the violation of a JSON output that holds several.
 * Throws InputError (with the file and line) for anything that is not a schedule.
 */
export function parseScheduleFile(text: string, file: string, opts: { rule?: string } = {}): ScheduleFile {
  const lines = text.split('\n');
  if (/^\s*[{[]/.test(text)) return fromJson(text, file, opts.rule);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (isExploreHeader(line)) {
      const h = decodeExploreHeader(line, { file, line: i + 1 });
      const out: ScheduleFile = { form: 'trace', schedule: h.schedule, scenario: h.scenario, flavor: h.flavor };
      if (h.cycle && h.cycle.length > 0) out.cycle = h.cycle;
      if (h.rule !== undefined) out.rule = h.rule;
      return out;
    }
    if (line.trim() === '' || line.startsWith('#')) continue;
    return fromText(line, file, i + 1);
  }
  throw new InputError('the schedule file holds no schedule', { file, hint: HINT });
}

function threadIds(text: string, file: string, line: number): number[] {
  const words = text
    .trim()
    .split(/[\s,]+/)
    .filter((w) => w !== '');
  if (!words.every((w) => /^\d+$/.test(w))) {
    throw new InputError(`${inputExcerpt(text.trim())} is not a list of thread ids`, { file, line, hint: HINT });
  }
  return words.map(Number);
}

function fromText(line: string, file: string, n: number): ScheduleFile {
  // `schedule (12 steps, then a 2-step cycle): 0,1 ↻ 1,1` as the text output prints it
  const body = line.replace(/^\s*schedule\b[^:]*:/, '');
  const [steps, cycle] = body.split('↻');
  const out: ScheduleFile = { form: 'text', schedule: threadIds(steps!, file, n) };
  if (cycle !== undefined) out.cycle = threadIds(cycle, file, n);
  return out;
}

function fromJson(text: string, file: string, rule: string | undefined): ScheduleFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`the schedule file is not valid JSON: ${(e as Error).message}`, { file, hint: HINT });
  }
  // JSON.parse keeps the last of two equal keys ("schedule", "rule") without a word: the one run would not be the one the file shows first
  checkJsonText(text, file, { what: 'the schedule file', hint: HINT });
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (Array.isArray(doc)) doc = { schedule: doc };
  if (!isObj(doc)) throw new InputError('the schedule file is JSON but neither an object nor a list', { file, hint: HINT });
  let v: Record<string, unknown>;
  const context: Pick<ScheduleFile, 'scenario' | 'flavor'> = {};
  if (Array.isArray(doc['violations'])) {
    const all = doc['violations'].filter(isObj);
    if (typeof doc['scenario'] === 'string') context.scenario = doc['scenario'];
    if (typeof doc['flavor'] === 'string') context.flavor = doc['flavor'];
    const chosen = rule === undefined ? all[0] : all.find((x) => x['rule'] === rule);
    if (!chosen) {
      throw new InputError(
        rule === undefined
          ? 'the JSON output names no violation, so it holds no schedule'
          : `the JSON output has no ${rule} violation (it has: ${all.map((x) => String(x['rule'])).join(', ') || 'none'})`,
        { file, hint: HINT },
      );
    }
    v = chosen;
  } else {
    v = doc;
  }
  const list = (key: string): number[] | undefined => {
    const x = v[key];
    if (x === undefined) return undefined;
    if (!Array.isArray(x) || !x.every((t) => Number.isInteger(t) && (t as number) >= 0)) {
      throw new InputError(`the JSON's ${key} is not a list of thread ids`, { file, hint: HINT });
    }
    return x as number[];
  };
  const schedule = list('schedule');
  if (!schedule) throw new InputError('the JSON has no schedule (nor violations with one)', { file, hint: HINT });
  const out: ScheduleFile = { form: 'json', schedule, ...context };
  const cycle = list('cycle');
  if (cycle) out.cycle = cycle;
  if (typeof v['rule'] === 'string') out.rule = v['rule'];
  return out;
}
