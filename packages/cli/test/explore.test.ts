import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { noVerdict } from '../src/explore-verdict.js';
import { once, repoRoot, runCli } from './run-cli.js';

const sc = (name: string): string => `fixtures/scenarios/${name}.yaml`;
const mutation = 'fixtures/flavors/no-truncate-count-recheck.js';

/** The mutation's orphan-page-mapped counterexample: its trace and Perfetto JSON, and the table explore printed. */
const mutationCex = once(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-explore-'));
  const trace = path.join(dir, 'cex.trace');
  const perfetto = path.join(dir, 'cex.json');
  const run = await runCli([
    'explore',
    sc('truncate-vs-fault'),
    '--flavor',
    mutation,
    '--rule',
    'orphan-page-mapped',
    '--trace-out',
    trace,
    '--perfetto-out',
    perfetto,
  ]);
  return { run, trace, perfetto };
});

/** One seeded random search of odirect-vs-fault on 2.6.23, --json. */
const randomArgs = ['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.23', '--random', '--seed', '3', '--runs', '30', '--json'];
const randomRun = once(async () => JSON.parse((await runCli(randomArgs)).stdout));

/**
 * odirect-vs-fault on its own flavor (linux-2.6.15), --json --no-timing: the recorded schedules the --schedule
 * tests read, and the unsharded search the merged shards must print byte for byte.
 */
const odirectJsonArgs = ['explore', sc('odirect-vs-fault'), '--json', '--no-timing'];
const odirectJson = once(() => runCli(odirectJsonArgs));

/** 2.6.15 multipage (19,306 states, a violation) on one thread, --json --no-timing: what --workers 2 and --no-step-memo must print again. */
const multipageArgs = ['explore', sc('odirect-vs-fault-multipage'), '--flavor', 'linux-2.6.15', '--json', '--no-timing', '--workers', '1'];
const multipageOneThread = once(() => runCli(multipageArgs));

describe('kreplay explore', () => {
  it('finds the O_DIRECT vs fault race on linux-2.6.15 and exits 1, with the interleaving table', async () => {
    const r = await runCli(['explore', sc('odirect-vs-fault')]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^violation: odirect-vs-fault on linux-2\.6\.15: .*mapped-page-removed.*orphan-page-mapped/);
    expect(r.stdout).toMatch(/\nend states \d+ · states \d+ \(\d+ distinct\)/);
    expect(r.stdout).toContain('| fault (T0)');
    expect(r.stdout).toContain('| odirect (T1)');
  });

  it('finds a real race of the corpus on the kernel before its fix (exit 1) and none after it (exit 0)', async () => {
    const dir = 'fixtures/races/6f86d0534fdd-secretmem-fault-uaf';
    const before = await runCli(['explore', `${dir}/scenario.yaml`, '--flavor', `${dir}/before.js`]);
    expect(before.exitCode).toBe(1);
    expect(before.stdout).toMatch(/^violation: secretmem-fault-uaf on 6f86d0534fdd-before: freed-while-unmapped-direct/);
    expect(before.stdout).toContain('folio_put(folio)');
    const after = await runCli(['explore', `${dir}/scenario.yaml`]);
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toMatch(/^clean: secretmem-fault-uaf on linux-6\.12: every interleaving explored/);
  });

  it('calls the same scenario clean on linux-2.6.23 and exits 0', async () => {
    const r = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.23']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^clean: odirect-vs-fault on linux-2\.6\.23: every interleaving explored/);
  });

  it('prints {verdict, violations, stats} with --json', async () => {
    const r = await runCli(['explore', sc('truncate-vs-fault'), '--flavor', mutation, '--json']);
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.verdict).toBe('violation');
    expect(j.flavor).toBe('linux-2.6.15-no-truncate-count-recheck');
    expect(j.violations.map((v: { rule: string }) => v.rule)).toContain('orphan-page-mapped');
    for (const v of j.violations) {
      expect(v.schedule.length).toBeGreaterThan(0);
      expect(v.steps).toHaveLength(v.schedule.length);
      expect(typeof v.message).toBe('string');
    }
    expect(Object.keys(j.stats)).toEqual(expect.arrayContaining(['executions', 'states', 'distinctStates', 'timeMs', 'statesPerSec']));
  });

  it('writes a counterexample trace that kreplay replay accepts and flags, and a Perfetto JSON', async () => {
    const { run: r, trace, perfetto } = await mutationCex();
    expect(r.exitCode).toBe(1);
    const text = readFileSync(trace, 'utf8');
    expect(text).toMatch(
      /^# tracer: nop\n#\n# kreplay: explore format=1 scenario=truncate-vs-fault flavor=linux-2\.6\.15-no-truncate-count-recheck schedule=[\d,]+/,
    );
    expect(text).toContain('mm_filemap_delete_from_page_cache: dev 8:1 ino 2a pfn=0x');
    const replay = await runCli(['replay', trace]);
    expect(replay.exitCode).toBe(1);
    expect(replay.stdout).toContain('orphan-page-mapped');
    const p = JSON.parse(readFileSync(perfetto, 'utf8'));
    expect(p.traceEvents.some((e: { ph: string; name: string }) => e.ph === 'i' && e.name === 'orphan-page-mapped')).toBe(true);
  });

  // replay.test.ts leaves explorer traces to this test: replay names the explore header as the trace's source
  it.each(['mapped-page-removed', 'orphan-page-mapped'])(
    'renders the %s ordering of the O_DIRECT race as a trace replay flags with the same rule',
    async (rule) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-explore-'));
      const trace = path.join(dir, `${rule}.trace`);
      expect((await runCli(['explore', sc('odirect-vs-fault'), '--rule', rule, '--trace-out', trace])).exitCode).toBe(1);
      const replay = await runCli(['replay', trace]);
      expect(replay.exitCode).toBe(1);
      expect(replay.stdout).toContain('(explore: # kreplay: explore header)');
      expect(replay.stdout).toMatch(new RegExp(`error ${rule} \\(certain\\)`));
    },
  );

  it("says a flavor module whose patched step reads a local the base flavor drops (Proc.dead) is the module's error: exit 2, naming the module and the table", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-explore-'));
    const mod = path.join(dir, 'reads-dropped.mjs');
    writeFileSync(
      mod,
      `export default (kit) => {
  const base = kit.flavors['linux-2.6.15-seqschedlock'];
  const ptl = base.procs.do_no_page.steps.ptl;
  return kit.extendFlavor(base, { name: 'reads-dropped', description: 'reads a dropped local',
    steps: { do_no_page: { ptl: { ...ptl, run: (c) => { c.num('ssl_w'); ptl.run(c); } } } } });
};
`,
    );
    const r = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', mod]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `error: ${mod}: flavor module reads-dropped broke the model's rules: local ssl_w is not a number in do_no_page@ptl (procedure do_no_page declares it dead at`,
    );
    expect(r.stderr).not.toContain('internal error');
  });

  it('gives the same runs for the same seed in random mode, and never says clean', async () => {
    const a = structuredClone(await randomRun());
    const b = JSON.parse((await runCli(randomArgs)).stdout);
    for (const j of [a, b]) j.stats.timeMs = j.stats.statesPerSec = 0;
    expect(a).toEqual(b);
    expect(a.verdict).toBe('incomplete');
    expect(a.seed).toBe(3);
  });

  it('splits the random runs of one seed over 1-based shards i/n', async () => {
    const [all, one, two] = await Promise.all([
      randomRun(),
      ...[
        ['--shard', '1/2'],
        ['--shard', '2/2'],
      ].map(async (x) => JSON.parse((await runCli([...randomArgs, ...x])).stdout)),
    ]);
    expect(one.shard).toEqual({ index: 1, count: 2 });
    expect(one.stats.executions + two.stats.executions).toBe(all.stats.executions);
    expect(one.stats.states + two.stats.states).toBe(all.stats.states);
    const text = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.23', '--random', '--seed', '3', '--runs', '30', '--shard', '2/2']);
    expect(text.stdout).toContain('random: seed 3, 30 runs, shard 2/2 (same seed, same runs)');
  });

  it('says incomplete, not clean, when an execution cap cuts the search, and exits 2: no verdict, never the pass of exit 0', async () => {
    const r = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.23', '--strategy', 'dpor', '--max-executions', '1']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/^incomplete: .*max-executions/);
    expect(r.stderr).toContain('no verdict: the search stopped at max-executions before every interleaving was explored');
  });

  it("exits 2 when the state cap stops the search — kreplay's default or --max-states — and 0 for the partial search asked for", async () => {
    const capped = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.23', '--max-states', '50', '--json']);
    expect(capped.exitCode).toBe(2);
    expect(JSON.parse(capped.stdout)).toMatchObject({ verdict: 'incomplete', incomplete: ['max-states'] }); // the output is written first
    expect(capped.stderr).toMatch(/^no verdict: the search stopped at max-states .*\n {2}hint: a larger --max-states/m);
    // a preemption bound is a bounded question, answered: nothing within it
    const bounded = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.23', '--preemption-bound', '0']);
    expect(bounded.exitCode).toBe(0);
    expect(bounded.stdout).toMatch(/^incomplete: .*\(preemption-bound\)/);
    expect(bounded.stderr).not.toContain('no verdict');
  });

  it('names the cap that stopped the search: the default cap only when the search knew that many states, else the livelock check', () => {
    // a livelock candidate's check (explore.ts CONFIRM_MAX_STATES) stops at 200,000 states of its own: the note named the 8,000,000 of the search
    const check = noVerdict(['max-states', 'random'], true, false, 1_234);
    expect(check).toContain('the check of a possible livelock stopped at its cap of 200,000 states');
    expect(check).not.toContain('8,000,000');
    expect(noVerdict(['max-states'], true, false, 8_000_001)).toContain("kreplay's default cap of 8,000,000 states");
    // --max-states given: the user knows the cap
    expect(noVerdict(['max-states'], false, false, 51)).not.toMatch(/cap of/);
  });

  it('prints the search so far on SIGTERM and exits 143, not 0 (linux-6.1 multipage: a search of seconds, clean)', async () => {
    const child = execa(
      'node',
      [path.join(repoRoot, 'packages/cli/bin/run.js'), 'explore', sc('odirect-vs-fault-multipage'), '--flavor', 'linux-6.1', '--json', '--workers', '1'],
      {
        reject: false,
        cwd: repoRoot,
        env: { FORCE_COLOR: '0', KREPLAY_PROGRESS_SECONDS: '0.2' },
      },
    );
    // the first progress line: the search is under way
    await new Promise<void>((resolve) => child.stderr!.on('data', (d: Buffer) => String(d).includes('states') && resolve()));
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(143);
    expect(JSON.parse(String(r.stdout))).toMatchObject({ verdict: 'incomplete', incomplete: ['aborted'] });
    expect(String(r.stderr)).toContain('kreplay explore: interrupted; printed the search so far, which has no verdict (exit 143)');
  }, 60_000);

  it('lists the flavors and validates a scenario with --check', async () => {
    const l = await runCli(['explore', '--list-flavors']);
    expect(l.exitCode).toBe(0);
    for (const f of ['linux-2.6.15', 'linux-2.6.15-seqschedlock', 'linux-2.6.23', 'linux-6.1', 'linux-6.12']) expect(l.stdout).toContain(f);
    const c = await runCli(['explore', sc('fault-vs-fault'), '--check']);
    expect(c.exitCode).toBe(0);
    expect(c.stdout).toMatch(/^ok: .*fault-vs-fault/);
  });

  // a scenario meant for every kernel leaves `flavor:` out: --flavor says which; without either, exit 2
  it('runs a scenario without flavor: on the --flavor given, and says what is missing without one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-noflavor-'));
    const file = path.join(dir, 'any-kernel.yaml');
    writeFileSync(file, readFileSync(path.join(repoRoot, sc('odirect-vs-fault')), 'utf8').replace(/^flavor: .*\n/m, ''));
    const on61 = await runCli(['explore', file, '--flavor', 'linux-6.1']);
    expect(on61.exitCode).toBe(0);
    expect(on61.stdout).toMatch(/^clean: odirect-vs-fault on linux-6\.1/);
    const on2615 = await runCli(['explore', file, '--flavor', 'linux-2.6.15', '--check']);
    expect(on2615.stdout).toMatch(/^ok: .* on linux-2\.6\.15$/m);
    const none = await runCli(['explore', file]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain(`error: ${file}: the scenario names no flavor, and no --flavor was given`);
    expect(none.stderr).toMatch(/hint: give --flavor NAME \(linux-2\.6\.15, .*\), or add a flavor: line to the scenario/);
  });

  it.each([
    [['explore', 'no/such/scenario.yaml'], /cannot read scenario/],
    [['explore', sc('odirect-vs-fault'), '--flavor', 'linux-9.9'], /unknown flavor linux-9\.9/],
    [['explore', sc('odirect-vs-fault'), '--random'], /--random needs an explicit --seed/],
    [['explore', sc('odirect-vs-fault'), '--timeout', 'soon'], /--timeout "soon" is not a duration/],
    [['explore'], /no scenario given/],
    [['explore', sc('odirect-vs-fault'), '--random', '--seed', '1', '--preemption-bound', '2'], /--preemption-bound needs the dpor strategy/],
    [['explore', sc('odirect-vs-fault'), '--random', '--seed', '1', '--shard', '0/2'], /--shard "0\/2" is not a shard/],
    [['explore', sc('odirect-vs-fault'), '--random', '--seed', '1', '--shard', '3/2'], /--shard "3\/2" is not a shard/],
    [['explore', sc('odirect-vs-fault'), '--strategy', 'dpor', '--shard', '1/2'], /--shard splits the exhaustive search or random walks, not dpor/],
    [['explore', sc('odirect-vs-fault'), '--workers', '0'], /expected an integer greater than or equal to 1/i],
    [['merge', 'no/such/shard.json'], /cannot read shard result/],
    [['merge', sc('odirect-vs-fault')], /not JSON/],
    [['explore', sc('odirect-vs-fault'), '--schedule', 'no/such/file'], /cannot read schedule file/],
    [['explore', sc('odirect-vs-fault'), '--schedule', 'fixtures/scenarios/odirect-vs-fault.yaml'], /is not a list of thread ids/],
    [
      ['explore', sc('odirect-vs-fault'), '--schedule', 'fixtures/scenarios/odirect-vs-fault.yaml', '--strategy', 'dpor'],
      /--schedule runs one recorded schedule; --strategy chooses a search/,
    ],
  ])('exits 2 with a clear message on bad input: %j', async (args, message) => {
    const r = await runCli(args as string[]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a shard result, a schedule or a scenario that is not UTF-8, at its line, rather than reading U+FFFD', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-utf8-'));
    const latin1 = (file: string, text: string) => {
      const f = path.join(dir, file);
      writeFileSync(f, Buffer.from(text, 'latin1'));
      return f;
    };
    const cases: Array<[string[], RegExp]> = [
      [['merge', latin1('shard.json', '{\n  "scenario": "caf\u00e9"\n}\n')], /shard\.json:2: shard result is not UTF-8: byte 0xe9 at offset 20/],
      [['explore', sc('odirect-vs-fault'), '--schedule', latin1('s.txt', '# r\u00e9sum\u00e9\n0 1\n')], /s\.txt:1: schedule file is not UTF-8: byte 0xe9/],
      [['explore', latin1('s.yaml', 'name: x\nthreads:\n  # caf\u00e9\n')], /s\.yaml:3: scenario is not UTF-8: byte 0xe9 at offset 24/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('a text file in UTF-8');
    }
  });

  it("says beside the verdict what the scenario's programs leave out of the model, in text, JSON and KTAP, and nothing when they leave nothing out", async () => {
    const read = ['explore', sc('read-vs-truncate'), '--flavor', 'linux-6.12', '--no-timing'];
    const text = await runCli(read);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.split('\n').slice(0, 5)).toEqual([
      'clean: read-vs-truncate on linux-6.12: every interleaving explored (exhaustive), no violation',
      expect.stringMatching(
        /^not in the model: readahead I\/O completion order and errors: the bio's end_io \(the thread end_io\) completes the reads in flight one folio at a time, .*\(docs\/flavors\.md, session 44\)$/,
      ),
      // what the completion reads, and the per-folio submission (session 45)
      expect.stringMatching(
        /^not in the model: the data of readahead I\/O in flight: the end_io thread's step gives the folio what the disk holds for its index at that step .*\(docs\/flavors\.md, session 45\)$/,
      ),
      expect.stringMatching(
        /^not in the model: readahead's batch in one bio: read_pages submits each folio's read in a step of its own, .*only where the bio is split .*\(docs\/flavors\.md, session 45\)$/,
      ),
      expect.stringMatching(/^end states /),
    ]);
    const json = JSON.parse((await runCli([...read, '--json'])).stdout);
    expect(json.notSearched).toEqual([
      expect.stringMatching(/^readahead I\/O completion order and errors/),
      expect.stringMatching(/^the data of readahead I\/O in flight/),
      expect.stringMatching(/^readahead's batch in one bio/),
    ]);
    expect(Object.keys(json).indexOf('notSearched')).toBe(Object.keys(json).indexOf('threads') + 1);
    expect((await runCli([...read, '--format', 'ktap'])).stdout).toMatch(/^# not in the model: readahead I\/O completion order and errors/m);
    // a program that writes back (O_DIRECT's filemap_write_and_wait, session 44): its I/O never stays in flight
    const odirect = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.15', '--no-timing']);
    expect(odirect.stdout.split('\n').slice(1, 3)).toEqual([
      expect.stringMatching(/^not in the model: readahead and read I\/O in flight: the 2\.6 flavors read a missing page alone/),
      expect.stringMatching(
        /^not in the model: writeback in flight: filemap_write_and_wait's ->writepage I\/O completes in the locked step that submits it, .*wait_on_page_writeback.* is not searched \(docs\/flavors\.md, "Modelling choices"\)$/,
      ),
    ]);
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-not-searched-'));
    const none = path.join(dir, 'none.yaml');
    writeFileSync(
      none,
      'name: none\nflavor: linux-6.1\nfiles:\n  - { name: data, dev: "8:1", ino: 0x2a, size: 4096, pages: [{ index: 0, flags: [uptodate] }] }\nthreads:\n  - { name: t, program: truncate, args: { file: data, size: 0 } }\n  - { name: i, program: invalidate_mapping_pages, args: { file: data, start: 0, end: 0 } }\n',
    );
    const quiet = await runCli(['explore', none, '--json', '--no-timing']);
    expect(quiet.exitCode).toBe(0);
    expect(JSON.parse(quiet.stdout)).not.toHaveProperty('notSearched');
    expect((await runCli(['explore', none, '--no-timing'])).stdout).not.toMatch(/not in the model/);
  });

  describe('--schedule re-runs one recorded schedule', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-schedule-'));
    const mut = ['--flavor', mutation];

    it('from an explorer trace: the same violation, table and trace again', async () => {
      const { run: found, trace: first } = await mutationCex();
      const again = path.join(dir, 'again.trace');
      const r = await runCli([
        'explore',
        sc('truncate-vs-fault'),
        ...mut,
        '--schedule',
        first,
        '--trace-out',
        again,
        '--perfetto-out',
        path.join(dir, 'again.json'),
      ]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(
        /^violation: truncate-vs-fault on linux-2\.6\.15-no-truncate-count-recheck: .*orphan-page-mapped.* \(reached by the recorded schedule\)\n/,
      );
      const section = (out: string): string =>
        out.slice(out.indexOf('\norphan-page-mapped: '), out.indexOf('\n\n', out.indexOf('\n#  |', out.indexOf('\norphan-page-mapped: '))));
      expect(section(r.stdout)).toBe(section(found.stdout));
      expect(readFileSync(again, 'utf8')).toBe(readFileSync(first, 'utf8'));
    });

    it('from the --json output (--rule picks the violation), or a line of thread ids', async () => {
      const json = path.join(dir, 'run.json');
      const found = await odirectJson();
      writeFileSync(json, found.stdout);
      const recorded = JSON.parse(found.stdout).violations.find((v: { rule: string }) => v.rule === 'mapped-page-removed');
      const r = JSON.parse((await runCli(['explore', sc('odirect-vs-fault'), '--schedule', json, '--rule', 'mapped-page-removed', '--json'])).stdout);
      expect(r).toMatchObject({ verdict: 'violation', strategy: 'schedule', incomplete: ['schedule'], replayed: { schedule: recorded.schedule } });
      expect(r.violations.find((v: { rule: string }) => v.rule === 'mapped-page-removed')).toEqual(recorded);
      const list = path.join(dir, 'list.txt');
      writeFileSync(list, `# the mapped-page-removed ordering\n${recorded.schedule.join(',')}\n`);
      const t = await runCli(['explore', sc('odirect-vs-fault'), '--schedule', list]);
      expect(t.exitCode).toBe(1);
      expect(t.stdout).toContain(`mapped-page-removed: ${recorded.message}`);
    });

    it('says when the schedule does not reach the rule it was recorded for', async () => {
      // it used to print "violation: ... (reached by the recorded schedule)" for whatever it reached,
      // which reads as "the recorded counterexample still happens" when that one is gone
      const found = JSON.parse((await odirectJson()).stdout) as { violations: { rule: string; schedule: number[] }[] };
      const removed = found.violations.find((v) => v.rule === 'mapped-page-removed')!;
      const other = path.join(dir, 'other-rule.json');
      writeFileSync(other, JSON.stringify({ rule: 'stale-after-invalidate', schedule: removed.schedule }));
      const r = await runCli(['explore', sc('odirect-vs-fault'), '--schedule', other]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout.split('\n')[0]).toBe(
        'violation: odirect-vs-fault on linux-2.6.15: mapped-page-removed (reached by the recorded schedule; NOT stale-after-invalidate, which it was recorded for)',
      );
      writeFileSync(other, JSON.stringify({ rule: 'mapped-page-removed', schedule: removed.schedule.slice(0, 2) }));
      const none = await runCli(['explore', sc('odirect-vs-fault'), '--schedule', other]);
      expect(none.exitCode).toBe(0);
      expect(none.stdout).toMatch(
        /^incomplete: odirect-vs-fault on linux-2\.6\.15: the recorded schedule reaches no violation, NOT mapped-page-removed, which it was recorded for \(/,
      );
      // reached: as before
      writeFileSync(other, JSON.stringify({ rule: 'mapped-page-removed', schedule: removed.schedule }));
      expect((await runCli(['explore', sc('odirect-vs-fault'), '--schedule', other])).stdout).toMatch(
        /^violation: .*: mapped-page-removed \(reached by the recorded schedule\)\n/,
      );
    });

    it('says what it does not know: a schedule that reaches nothing is incomplete (exit 0), one that does not fit is exit 2', async () => {
      const short = path.join(dir, 'short.txt');
      writeFileSync(short, '0,1,1\n');
      const r = await runCli(['explore', sc('odirect-vs-fault'), '--schedule', short]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^incomplete: odirect-vs-fault on linux-2\.6\.15: the recorded schedule reaches no violation/);
      const long = path.join(dir, 'long.txt');
      writeFileSync(long, `${Array(200).fill(1).join(',')}\n`);
      const bad = await runCli(['explore', sc('odirect-vs-fault'), '--schedule', long]);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/^error: step \d+ of the schedule \(.*long\.txt\) runs odirect \(T1\), which is finished there/);
      writeFileSync(short, '0,5\n');
      expect((await runCli(['explore', sc('odirect-vs-fault'), '--schedule', short])).stderr).toMatch(
        /step 2 of the schedule .* runs thread 5, but the scenario has threads 0\.\.1/,
      );
    });
  });

  describe('the exhaustive search split over jobs, and on threads', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kreplay-shards-'));

    it('merges --shard i/n outputs into the unsharded --json --no-timing, byte for byte, exit 1 on the violation', async () => {
      const files: string[] = [];
      for (const i of [1, 2, 3]) {
        const r = await runCli([...odirectJsonArgs, '--shard', `${i}/3`]);
        expect(r.exitCode).toBe(1); // each shard found the race in its part
        expect(JSON.parse(r.stdout)).toMatchObject({ shard: { index: i, count: 3 }, incomplete: ['shard'] });
        files.push(path.join(dir, `shard-${i}.json`));
        writeFileSync(files[i - 1]!, r.stdout);
      }
      const whole = await odirectJson();
      const merged = await runCli(['merge', files[2]!, files[0]!, files[1]!]);
      expect(merged.exitCode).toBe(1);
      expect(merged.stdout).toBe(whole.stdout);
      expect(JSON.parse(whole.stdout).stats).not.toHaveProperty('timeMs');
      const missing = await runCli(['merge', files[0]!, files[1]!]);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toMatch(/shard 3\/3 missing/);
      // what the model leaves out travels with every shard and into the merge; shards that disagree on it are refused
      expect(JSON.parse(whole.stdout).notSearched).toEqual([
        expect.stringMatching(/^readahead and read I\/O in flight: the 2\.6 flavors read a missing page alone/),
        expect.stringMatching(/^writeback in flight: filemap_write_and_wait's ->writepage I\/O completes in the locked step that submits it/),
      ]);
      const edited = path.join(dir, 'shard-1-edited.json');
      writeFileSync(edited, JSON.stringify({ ...JSON.parse(readFileSync(files[0]!, 'utf8')), notSearched: [] }, null, 2));
      const foreign = await runCli(['merge', edited, files[1]!, files[2]!]);
      expect(foreign.exitCode).toBe(2);
      expect(foreign.stderr).toMatch(/shards of different models: they list different interleavings not searched/);
    });

    it('merges shards of which one was stopped by a cap into incomplete, exit 2 (no verdict), not the pass of exit 0', async () => {
      const args = ['explore', sc('odirect-vs-fault'), '--flavor', 'linux-2.6.23', '--json', '--no-timing'];
      const files = [1, 2].map((i) => path.join(dir, `clean-${i}.json`));
      for (const i of [1, 2]) {
        const r = await runCli([...args, '--shard', `${i}/2`]);
        expect(r.exitCode).toBe(0); // a shard is the partial search asked for
        writeFileSync(files[i - 1]!, r.stdout);
      }
      expect((await runCli(['merge', ...files])).exitCode).toBe(0); // clean: every shard ran to its end
      // shard 2 as a cap would have left it past the split: its own search stopped at max-states
      const stopped = JSON.parse(readFileSync(files[1]!, 'utf8'));
      stopped.incomplete = ['max-states', 'shard'];
      writeFileSync(files[1]!, JSON.stringify(stopped));
      const merged = await runCli(['merge', ...files]);
      expect(merged.exitCode).toBe(2);
      expect(JSON.parse(merged.stdout)).toMatchObject({ verdict: 'incomplete', incomplete: ['max-states'] });
      expect(merged.stderr).toContain('no verdict: the search stopped at max-states');
    });

    it('refuses shards of two versions of one flavor module (one name): mixed, they merged into a clean the patch does not have', async () => {
      // v1 of a patch changes nothing in linux-6.1 (clean); v2 drops the i_size recheck (mapped-beyond-eof).
      // In 3 shards of truncate-vs-store both split alike, and v2's shard 2 finds nothing in its part.
      const v1 = path.join(dir, 'my-patch-v1.js');
      writeFileSync(
        v1,
        "export default ({ flavors, extendFlavor }) => extendFlavor(flavors['linux-6.1'], { name: 'my-patch', description: 'v1', steps: {} });\n",
      );
      const v2 = path.join(dir, 'my-patch-v2.js');
      writeFileSync(
        v2,
        readFileSync(path.join(repoRoot, 'fixtures/flavors/linux-6.1-no-isize-recheck.js'), 'utf8').replace(/name: '[^']*'/, "name: 'my-patch'"),
      );
      const shard = async (flavor: string, i: number): Promise<string> => {
        const r = await runCli(['explore', sc('truncate-vs-store'), '--flavor', flavor, '--shard', `${i}/3`, '--json', '--no-timing', '--workers', '1']);
        const file = path.join(dir, `${path.basename(flavor, '.js')}-${i}.json`);
        writeFileSync(file, r.stdout);
        return file;
      };
      const mixed = [await shard(v1, 1), await shard(v2, 2), await shard(v1, 3)];
      expect(JSON.parse(readFileSync(mixed[1]!, 'utf8'))).toMatchObject({ verdict: 'incomplete', flavor: 'my-patch' });
      const r = await runCli(['merge', ...mixed]);
      expect(r.stdout).not.toMatch(/"verdict": "clean"/);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/my-patch-v2-2\.json: shards of different models/);
      expect((await runCli(['merge', await shard(v2, 1), mixed[1]!, await shard(v2, 3)])).exitCode).toBe(1);
    }, 60_000);

    it("merge --scenario runs the scenario's own flavor module only with --allow-scenario-code, as explore does", async () => {
      // two shards whose union is a 2-state cycle no shard rendered: the merge rebuilds the model from --scenario
      const rec = (a: number, b: number) => Buffer.from(Int32Array.from([a, a, 0, 0, 1, 0, b, b]).buffer);
      const records = Buffer.concat([rec(1, 2), rec(2, 1)]).toString('base64');
      const shardFiles = [1, 2].map((index) => {
        const file = path.join(dir, `livelock-${index}.json`);
        const threads = [
          { id: 0, name: 'fault', program: 'fault' },
          { id: 1, name: 'odirect', program: 'odirect_write' },
        ];
        const part = { version: 3, model: 'm', split: null, records };
        const shard = { verdict: 'incomplete', scenario: 'x', flavor: 'linux-2.6.15', strategy: 'exhaustive', exhaustive: false };
        writeFileSync(file, JSON.stringify({ ...shard, incomplete: ['shard'], threads, violations: [], stats: {}, shard: { index, count: 2 }, part }));
        return file;
      });
      const marker = path.join(dir, 'flavor-module-ran');
      writeFileSync(
        path.join(dir, 'evil.js'),
        `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default {};\n`,
      );
      const scenario = path.join(dir, 'evil.yaml');
      writeFileSync(scenario, readFileSync(path.join(repoRoot, sc('odirect-vs-fault')), 'utf8').replace(/^flavor: .*$/m, 'flavor: ./evil.js'));
      const r = await runCli(['merge', ...shardFiles, '--scenario', scenario]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/evil\.yaml:\d+: the scenario names a flavor module \(\.\/evil\.js\): a flavor module is code/);
      expect(() => readFileSync(marker)).toThrow(); // it did not run
      // by choice it runs, resolved relative to the scenario file (here it is no flavor: exit 2 after it ran)
      expect((await runCli(['merge', ...shardFiles, '--scenario', scenario, '--allow-scenario-code'])).exitCode).toBe(2);
      expect(readFileSync(marker, 'utf8')).toBe('ran');
    });

    it('a shard file nested thousands deep is an input error (JSON.stringify of the merged result overflowed: exit 70)', async () => {
      const file = path.join(dir, 'deep.json');
      writeFileSync(file, `{"violations": [{"rule": "x", "schedule": [0], "steps": ${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`);
      const r = await runCli(['merge', file, file]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/^error: .*deep\.json:1: the shard result nests arrays and objects more than 256 levels deep/);
    });

    it('a shard file that repeats a key is an input error at its line (JSON.parse kept the last "violations": a clean merge, exit 0)', async () => {
      // one shard 1/1 of a one-state search; its first "violations" holds the race, the repeat none
      const records = Buffer.from(Int32Array.from([1, 1, 0, 1, 0]).buffer).toString('base64');
      const head = { verdict: 'incomplete', scenario: 'x', flavor: 'linux-2.6.15', strategy: 'exhaustive', exhaustive: false, incomplete: ['shard'] };
      const rest = {
        threads: [{ id: 0, name: 'fault', program: 'fault' }],
        stats: {},
        shard: { index: 1, count: 1 },
        part: { version: 3, model: 'm', split: null, records },
      };
      const file = path.join(dir, 'repeated.json');
      const json = (o: object): string => JSON.stringify(o).slice(1, -1);
      writeFileSync(file, `{${json(head)},\n"violations": [{"rule": "mapped-page-removed", "schedule": [0]}],\n"violations": [],\n${json(rest)}}\n`);
      const r = await runCli(['merge', file]);
      expect(r.stdout).not.toMatch(/"verdict": "clean"/);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/^error: .*repeated\.json:3: duplicate key in the shard result/);
    });

    it('says a lone shard is not the whole search', async () => {
      const r = await runCli(['explore', sc('odirect-vs-fault'), '--flavor', 'linux-6.1', '--shard', '1/2']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^incomplete: .*\(shard\)/);
      expect(r.stdout).toContain('merge every shard');
    });

    it('gives the same --json --no-timing with --workers 2 as with --workers 1', async () => {
      // 2.6.15 multipage (19,306 states, a violation). Below the handover (400,000 states) --workers 2
      // is the one-thread search; the workers themselves are compared on every shipped case in
      // packages/explore/test/parallel.test.ts, handed over after the first level
      const one = await multipageOneThread();
      const two = await runCli([...multipageArgs.slice(0, -1), '2']);
      expect(one.exitCode).toBe(1);
      expect(JSON.parse(one.stdout).stats.distinctStates).toBeGreaterThan(10_000);
      expect(two.stdout).toBe(one.stdout);
    }, 300_000);

    it('gives the same --json --no-timing with --no-step-memo, which runs every step', async () => {
      const [memo, every] = [await multipageOneThread(), await runCli([...multipageArgs, '--no-step-memo'])];
      expect(memo.exitCode).toBe(1);
      expect(every.exitCode).toBe(1);
      expect(every.stdout).toBe(memo.stdout);
    }, 300_000);
  });
});
