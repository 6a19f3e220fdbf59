/**
 * Schedule files (`kreplay explore --schedule FILE`, docs/explore.md): every form a run reports
 * a schedule in reads back as that schedule, and anything else is an input error with its place.
 */
import { describe, expect, it } from '@jest/globals';
import { isInputError } from '@kreplay/core';
import { parseScheduleFile } from '../src/index.js';

const trace = [
  '# tracer: nop',
  '#',
  '# kreplay: explore format=1 scenario=odirect-vs-fault flavor=linux-2.6.15 schedule=0,1,1 cycle=1,1 then=0 rule=livelock',
  '#',
  '           fault-101     [000] .....     1.000001: tracing_mark_write: kreplay:step label=x',
].join('\n');

const json = JSON.stringify({
  verdict: 'violation',
  scenario: 'odirect-vs-fault',
  flavor: 'linux-2.6.15',
  violations: [
    { rule: 'mapped-page-removed', message: 'm', schedule: [0, 1] },
    { rule: 'orphan-page-mapped', message: 'o', schedule: [1, 0, 0] },
  ],
});

function errorOf(f: () => unknown): { message: string; line?: number; file?: string } {
  try {
    f();
  } catch (e) {
    expect(isInputError(e)).toBe(true);
    return e as { message: string };
  }
  throw new Error('no error');
}

describe('a schedule file', () => {
  it("as an explorer trace: the header's schedule and cycle (then= is not part of it), scenario, flavor and rule", () => {
    expect(parseScheduleFile(trace, 'cex.trace')).toEqual({
      form: 'trace',
      schedule: [0, 1, 1],
      cycle: [1, 1],
      scenario: 'odirect-vs-fault',
      flavor: 'linux-2.6.15',
      rule: 'livelock',
    });
  });

  it('as the --json output: the first violation, or the one --rule names; or one violation, or a list', () => {
    expect(parseScheduleFile(json, 'run.json')).toEqual({
      form: 'json',
      schedule: [0, 1],
      rule: 'mapped-page-removed',
      scenario: 'odirect-vs-fault',
      flavor: 'linux-2.6.15',
    });
    expect(parseScheduleFile(json, 'run.json', { rule: 'orphan-page-mapped' }).schedule).toEqual([1, 0, 0]);
    expect(parseScheduleFile('{"rule":"livelock","schedule":[1],"cycle":[0,0]}', 'v.json')).toEqual({
      form: 'json',
      schedule: [1],
      cycle: [0, 0],
      rule: 'livelock',
    });
    expect(parseScheduleFile(' [0, 1, 1]\n', 'l.json')).toEqual({ form: 'json', schedule: [0, 1, 1] });
  });

  it("as text: thread ids by commas or spaces, a cycle after ↻, or the text output's schedule line as it is", () => {
    expect(parseScheduleFile('# comment\n\n0, 1 1\n', 's.txt')).toEqual({ form: 'text', schedule: [0, 1, 1] });
    expect(parseScheduleFile('schedule (3 steps, then a 2-step cycle): 0,1,1 ↻ 1,1\n', 's.txt')).toEqual({ form: 'text', schedule: [0, 1, 1], cycle: [1, 1] });
  });

  it('that is not one says why, where and what a schedule file is', () => {
    const e = errorOf(() => parseScheduleFile('# nothing\nfault-101 [000] 1.0: x\n', 'k.txt'));
    expect(e).toMatchObject({ file: 'k.txt', line: 2, message: '"fault-101 [000] 1.0: x" is not a list of thread ids' });
    // a binary file's first line: quoted in part, its bytes escaped
    expect(errorOf(() => parseScheduleFile(`\u03df\u0015${'x'.repeat(5000)}\n`, 'r.bin')).message).toBe(
      `"\\u{3df}\\u0015${'x'.repeat(38)}"… is not a list of thread ids`,
    );
    expect(errorOf(() => parseScheduleFile(json, 'run.json', { rule: 'deadlock' })).message).toBe(
      'the JSON output has no deadlock violation (it has: mapped-page-removed, orphan-page-mapped)',
    );
    expect(errorOf(() => parseScheduleFile('{"schedule":[0,-1]}', 'v.json')).message).toBe("the JSON's schedule is not a list of thread ids");
    expect(errorOf(() => parseScheduleFile('{', 'v.json')).message).toMatch(/^the schedule file is not valid JSON/);
    // a repeated key: JSON.parse ran the last schedule without a word
    expect(errorOf(() => parseScheduleFile('{"schedule": [0, 1],\n "schedule": [1]}', 'v.json'))).toMatchObject({
      file: 'v.json',
      line: 2,
      message: 'duplicate key in the schedule file',
    });
    expect(errorOf(() => parseScheduleFile('\n# only comments\n', 'e.txt')).message).toBe('the schedule file holds no schedule');
    expect(errorOf(() => parseScheduleFile(trace.replace('format=1', 'format=7'), 'new.trace'))).toMatchObject({
      line: 3,
      message: 'explorer trace format 7 is newer than this kreplay reads (format 1)',
    });
  });
});
